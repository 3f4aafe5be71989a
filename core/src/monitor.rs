//! Continuous authentication: enrol the owner, then score sliding windows of typing, learn only
//! from windows judged the owner's, and decide when to alert.
//!
//! The daemon and `tikker eval continuous` run this same code, one keystroke at a time.
//!
//! - **Enrolment.** The first [`MonitorConfig::enrolment_keystrokes`] keystrokes build the
//!   owner's [`Profile`]. The score [`Calibration`] comes from the same keystrokes: each
//!   enrolment window is scored against a profile built from the rest of the enrolment without
//!   it, and those owner-only distances anchor the score curve. Until then every verdict is
//!   `unknown`.
//! - **Scoring.** A window of the last [`MonitorConfig::window_keystrokes`] keystrokes is scored
//!   every [`MonitorConfig::step_keystrokes`] keystrokes with the free-text verifier. A gap
//!   longer than [`MonitorConfig::idle_gap_us`] between presses starts a new window: typing after
//!   a break may be someone else's and is judged on its own.
//! - **Learning.** The keystrokes that entered the window since the last score are added to the
//!   profile only if the window was judged `authentic` or `likely_authentic`, so an impostor is
//!   never learned. Older behaviour fades: whenever the profile has grown past
//!   [`MonitorConfig::fade_after_keystrokes`], every statistic keeps
//!   [`MonitorConfig::fade_keep`] of its weight ([`Profile::fade`]): exponential forgetting in
//!   steps, so the last few tens of thousands of keystrokes dominate.
//! - **Alerts.** A window at or below [`MonitorConfig::alert_threshold`] (0.4, `suspicious`) is
//!   low. An alert needs [`MonitorConfig::consecutive_low`] low windows in a row (five: the first
//!   low window confirmed by the next 100 keystrokes), or a single window at or below
//!   [`MonitorConfig::severe_threshold`] (0.01: far beyond anything the owner typed in
//!   enrolment). After an alert no other is raised for [`MonitorConfig::cooldown_us`]
//!   (10 minutes). The rule was chosen with `tikker eval continuous` on `aalto-dev` (README):
//!   two in a row gave 2.25 false alerts per 10,000 genuine keystrokes, five gives 0.80.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::event::KeyEvent;
use crate::keystroke::{Keystroke, KeystrokeAssembler};
use crate::profile::Profile;
use crate::verify::calibration::{Calibration, Verdict, confidence};
use crate::verify::freetext::{COMPONENT_NAMES, Params, Score, Verifier};

/// How the monitor enrols, scores and alerts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MonitorConfig {
    /// Keystrokes of the owner the profile is first built from.
    pub enrolment_keystrokes: usize,
    /// Keystrokes in a scored window.
    pub window_keystrokes: usize,
    /// Keystrokes between two scores.
    pub step_keystrokes: usize,
    /// A gap between presses longer than this (µs) starts a new window.
    pub idle_gap_us: i64,
    /// Scores at or below this are low (`suspicious`).
    pub alert_threshold: f64,
    /// A single window at or below this alerts at once.
    pub severe_threshold: f64,
    /// Low windows in a row that alert.
    pub consecutive_low: usize,
    /// No alert within this long (µs) after the previous one.
    pub cooldown_us: i64,
    /// When the profile rests on more keystrokes than this, it fades.
    pub fade_after_keystrokes: u64,
    /// The share of its weight a profile keeps when it fades.
    pub fade_keep: f64,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            enrolment_keystrokes: 2_000,
            window_keystrokes: 150,
            step_keystrokes: 25,
            idle_gap_us: 3 * 60 * 1_000_000,
            alert_threshold: 0.4,
            severe_threshold: 0.01,
            consecutive_low: 5,
            cooldown_us: 10 * 60 * 1_000_000,
            fade_after_keystrokes: 40_000,
            fade_keep: 0.5,
        }
    }
}

/// What the monitor knows of its owner: the profile and the calibration of its scores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OwnerModel {
    /// The owner's profile.
    pub profile: Profile,
    /// Distances → scores, fitted on the owner's enrolment.
    pub calibration: Calibration,
}

/// The version of the stored form of an [`OwnerModel`] this build writes.
pub const OWNER_MODEL_FORMAT: u32 = 1;

/// Why a stored owner model could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OwnerModelError {
    /// Not JSON of the expected shape.
    #[error("the stored owner model is not readable: {0}")]
    Json(#[from] serde_json::Error),
    /// Written by a newer tikker.
    #[error(
        "the stored owner model has format {found}; this tikker reads format {OWNER_MODEL_FORMAT}: upgrade tikker or run `tikker profile rebuild`"
    )]
    Format {
        /// The format found.
        found: u32,
    },
}

#[derive(Serialize)]
struct StoredOwnerModelRef<'a> {
    format: u32,
    calibration: &'a Calibration,
    profile: &'a Profile,
}

#[derive(Deserialize)]
struct StoredOwnerModel {
    format: u32,
    calibration: Calibration,
    profile: Profile,
}

impl OwnerModel {
    /// The model as JSON for the `profiles` table of `tikker.db`: a format number, the
    /// calibration and the profile.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&StoredOwnerModelRef {
            format: OWNER_MODEL_FORMAT,
            calibration: &self.calibration,
            profile: &self.profile,
        })
    }

    /// A model read back from [`OwnerModel::to_json`].
    pub fn from_json(json: &str) -> Result<OwnerModel, OwnerModelError> {
        let stored: StoredOwnerModel = serde_json::from_str(json)?;
        if stored.format != OWNER_MODEL_FORMAT {
            return Err(OwnerModelError::Format {
                found: stored.format,
            });
        }
        let mut profile = stored.profile;
        profile.refresh();
        Ok(OwnerModel {
            profile,
            calibration: stored.calibration,
        })
    }
}

/// What feeding stored typing through a monitor did ([`StoredTypingFeed`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StoredFeed {
    /// Events read.
    pub events: u64,
    /// Keystrokes fed.
    pub keystrokes: u64,
    /// Windows scored.
    pub windows: u64,
    /// Of which judged the owner's (and learned from).
    pub owner_windows: u64,
    /// Of which `suspicious`.
    pub suspicious_windows: u64,
    /// Alerts the rule would have raised.
    pub alerts: u64,
}

/// Feeds stored typing through a [`Monitor`], session by session (no keystroke pairs across
/// sessions): a daemon resuming an enrolment, or `tikker profile rebuild`. The store drives it
/// with the events it reads; nothing is written.
#[derive(Debug)]
pub struct StoredTypingFeed<'m> {
    monitor: &'m mut Monitor,
    until_enrolled: bool,
    assembler: KeystrokeAssembler,
    session: Option<i64>,
    pending: Vec<Keystroke>,
    feed: StoredFeed,
}

impl<'m> StoredTypingFeed<'m> {
    /// A feed into `monitor`. With `until_enrolled` it stops taking keystrokes as soon as the
    /// owner is enrolled (a daemon resuming an enrolment); otherwise it takes everything.
    pub fn new(monitor: &'m mut Monitor, until_enrolled: bool) -> StoredTypingFeed<'m> {
        StoredTypingFeed {
            monitor,
            until_enrolled,
            assembler: KeystrokeAssembler::new(),
            session: None,
            pending: Vec::new(),
            feed: StoredFeed::default(),
        }
    }

    /// Whether the feed is done early (enrolled, with `until_enrolled`): the caller may stop
    /// reading.
    pub fn is_done(&self) -> bool {
        self.until_enrolled && self.monitor.owner.is_some()
    }

    /// Feeds one event of session `session` (any id that tells sessions apart). Returns
    /// [`is_done`](Self::is_done) afterwards.
    ///
    /// # Errors
    /// [`EnrolmentTooShort`] when an enrolment completed here could not build a model.
    pub fn push(&mut self, session: i64, event: &KeyEvent) -> Result<bool, EnrolmentTooShort> {
        if self.is_done() {
            return Ok(true);
        }
        if self.session != Some(session) {
            self.assembler.finish(|k| self.pending.push(k));
            self.assembler = KeystrokeAssembler::new();
            self.session = Some(session);
        }
        self.feed.events += 1;
        self.assembler.push(event, |k| self.pending.push(k));
        self.drain()?;
        Ok(self.is_done())
    }

    fn drain(&mut self) -> Result<(), EnrolmentTooShort> {
        let pending = std::mem::take(&mut self.pending);
        for keystroke in pending {
            if self.is_done() {
                break;
            }
            self.monitor.feed_one(keystroke, &mut self.feed)?;
        }
        Ok(())
    }

    /// Ends the feed (the keys still down are dropped) and says what happened.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn finish(mut self) -> Result<StoredFeed, EnrolmentTooShort> {
        if !self.is_done() {
            self.assembler.finish(|k| self.pending.push(k));
            self.drain()?;
        }
        Ok(self.feed)
    }
}

/// The score of one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowScore {
    /// Press time of the window's first keystroke (µs).
    pub from_us: i64,
    /// Release time of the window's last keystroke (µs).
    pub to_us: i64,
    /// Calibrated score in [0, 1], 1 = certainly the owner.
    pub score: f64,
    /// How much the window shared with the profile, in [0, 1).
    pub confidence: f64,
    /// The verdict of the score.
    pub verdict: Verdict,
    /// Why, in words.
    pub reason: String,
    /// Whether this window raised an alert.
    pub alert: bool,
}

/// Where the monitor stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MonitorState {
    /// Collecting the owner's first keystrokes.
    Enrolling {
        /// Keystrokes collected.
        have: usize,
        /// Keystrokes needed.
        need: usize,
    },
    /// Scoring typing against the owner's profile.
    Monitoring,
}

/// Why an owner model could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "enrolment of {have} keystrokes is too short for windows of {window}: at least {need} are needed"
)]
pub struct EnrolmentTooShort {
    /// Keystrokes given.
    pub have: usize,
    /// Keystrokes in a window.
    pub window: usize,
    /// Keystrokes needed.
    pub need: usize,
}

/// Score windows used to calibrate an enrolment (at least this many).
const CALIBRATION_WINDOWS: usize = 20;

impl OwnerModel {
    /// Builds the owner's profile and calibration from enrolment keystrokes (in press order).
    pub fn enrol(
        keystrokes: &[Keystroke],
        config: &MonitorConfig,
        params: &Params,
    ) -> Result<OwnerModel, EnrolmentTooShort> {
        let window = config.window_keystrokes.max(1);
        let need = window + CALIBRATION_WINDOWS;
        if keystrokes.len() < need {
            return Err(EnrolmentTooShort {
                have: keystrokes.len(),
                window,
                need,
            });
        }
        let step = ((keystrokes.len() - window) / CALIBRATION_WINDOWS).max(1);
        let mut distances = Vec::new();
        let mut start = 0;
        while start + window <= keystrokes.len() {
            let held_out = &keystrokes[start..start + window];
            let rest = [&keystrokes[..start], &keystrokes[start + window..]];
            let profile = Profile::from_windows(rest.into_iter().filter(|part| !part.is_empty()));
            distances.push(Verifier::new(&profile, params).score(held_out).distance);
            start += step;
        }
        let calibration =
            Calibration::from_owner_distances(&distances).ok_or(EnrolmentTooShort {
                have: keystrokes.len(),
                window,
                need,
            })?;
        Ok(OwnerModel {
            profile: Profile::from_windows([keystrokes]),
            calibration,
        })
    }
}

/// The continuous-authentication monitor (see the module documentation).
#[derive(Debug)]
pub struct Monitor {
    config: MonitorConfig,
    params: Params,
    enrolment: Vec<Keystroke>,
    owner: Option<(OwnerModel, Verifier)>,
    window: VecDeque<Keystroke>,
    since_scored: usize,
    unjudged: Vec<Keystroke>,
    low_streak: usize,
    last_alert_us: Option<i64>,
    last_press_us: Option<i64>,
}

impl Monitor {
    /// A monitor that starts by enrolling its owner.
    pub fn new(config: MonitorConfig) -> Monitor {
        Monitor {
            config,
            params: Params::default(),
            enrolment: Vec::new(),
            owner: None,
            window: VecDeque::with_capacity(config.window_keystrokes + 1),
            since_scored: 0,
            unjudged: Vec::new(),
            low_streak: 0,
            last_alert_us: None,
            last_press_us: None,
        }
    }

    /// A monitor that already knows its owner (a stored model).
    pub fn with_owner(config: MonitorConfig, owner: OwnerModel) -> Monitor {
        let mut monitor = Monitor::new(config);
        let verifier = Verifier::new(&owner.profile, &monitor.params);
        monitor.owner = Some((owner, verifier));
        monitor
    }

    /// Enrolling (with progress) or monitoring.
    pub fn state(&self) -> MonitorState {
        match self.owner {
            Some(_) => MonitorState::Monitoring,
            None => MonitorState::Enrolling {
                have: self.enrolment.len(),
                need: self.config.enrolment_keystrokes,
            },
        }
    }

    /// The owner model, once enrolled.
    pub fn owner(&self) -> Option<&OwnerModel> {
        self.owner.as_ref().map(|(owner, _)| owner)
    }

    /// Holds alerts back until the cooldown after an alert raised at `at_us` (an alert stored by
    /// an earlier run of the daemon) has passed.
    pub fn note_alert(&mut self, at_us: i64) {
        self.last_alert_us = Some(self.last_alert_us.map_or(at_us, |last| last.max(at_us)));
    }

    /// Replaces the owner model (a newer stored version, after `tikker profile rebuild`); the
    /// current window and alert streak are kept.
    pub fn replace_owner(&mut self, owner: OwnerModel) {
        let verifier = Verifier::new(&owner.profile, &self.params);
        self.owner = Some((owner, verifier));
        self.enrolment = Vec::new();
    }

    fn feed_one(
        &mut self,
        keystroke: Keystroke,
        feed: &mut StoredFeed,
    ) -> Result<(), EnrolmentTooShort> {
        feed.keystrokes += 1;
        if let Some(score) = self.push(keystroke)? {
            feed.windows += 1;
            feed.owner_windows += u64::from(score.verdict.is_owner());
            feed.suspicious_windows += u64::from(score.verdict == Verdict::Suspicious);
            feed.alerts += u64::from(score.alert);
        }
        Ok(())
    }

    /// Feeds one keystroke (in press order); returns the window score when one is due. An
    /// enrolment that completes here builds the owner model, and the `Err` says why it could not.
    pub fn push(&mut self, keystroke: Keystroke) -> Result<Option<WindowScore>, EnrolmentTooShort> {
        let idle = self
            .last_press_us
            .is_some_and(|last| keystroke.press_us - last > self.config.idle_gap_us);
        self.last_press_us = Some(keystroke.press_us);
        if self.owner.is_none() {
            self.enrolment.push(keystroke);
            if self.enrolment.len() >= self.config.enrolment_keystrokes {
                let owner = OwnerModel::enrol(&self.enrolment, &self.config, &self.params)?;
                let verifier = Verifier::new(&owner.profile, &self.params);
                self.owner = Some((owner, verifier));
                self.enrolment = Vec::new();
            }
            return Ok(None);
        }
        if idle {
            self.window.clear();
            self.unjudged.clear();
            self.since_scored = 0;
            self.low_streak = 0;
        }
        self.window.push_back(keystroke);
        self.unjudged.push(keystroke);
        if self.window.len() > self.config.window_keystrokes {
            self.window.pop_front();
        }
        self.since_scored += 1;
        let due = self.window.len() == self.config.window_keystrokes
            && self.since_scored >= self.config.step_keystrokes;
        Ok(due.then(|| self.score_window()))
    }

    fn score_window(&mut self) -> WindowScore {
        self.since_scored = 0;
        let window: Vec<Keystroke> = self.window.iter().copied().collect();
        let Some((owner, verifier)) = self.owner.as_mut() else {
            // Invariant: push only scores once the owner is known.
            return WindowScore {
                from_us: 0,
                to_us: 0,
                score: 0.0,
                confidence: 0.0,
                verdict: Verdict::Unknown,
                reason: "no profile yet".into(),
                alert: false,
            };
        };
        let result = verifier.score(&window);
        let score = owner.calibration.score(result.distance);
        let verdict = Verdict::from_score(Some(score));
        let shared = (result.matched_keys + result.matched_digraphs) as usize;
        let reason = describe(&result, &owner.calibration, &self.params);
        if verdict.is_owner() {
            owner.profile.update(&self.unjudged);
            if owner.profile.keystrokes > self.config.fade_after_keystrokes {
                owner.profile.fade(self.config.fade_keep);
            }
            *verifier = Verifier::new(&owner.profile, &self.params);
        }
        self.unjudged.clear();
        let to_us = window
            .iter()
            .map(|k| k.release_us)
            .max()
            .unwrap_or_default();
        let low = score <= self.config.alert_threshold;
        self.low_streak = if low { self.low_streak + 1 } else { 0 };
        let triggered = low
            && (self.low_streak >= self.config.consecutive_low
                || score <= self.config.severe_threshold);
        let cooling = self
            .last_alert_us
            .is_some_and(|last| to_us - last < self.config.cooldown_us);
        let alert = triggered && !cooling;
        if alert {
            self.last_alert_us = Some(to_us);
        }
        WindowScore {
            from_us: window.first().map_or(0, |k| k.press_us),
            to_us,
            score,
            confidence: confidence(shared, 100.0),
            verdict,
            reason,
            alert,
        }
    }
}

/// The reason of a score in words: the distance against the owner's own range, what the window
/// shared with the profile, and the component that weighed most.
fn describe(result: &Score, calibration: &Calibration, params: &Params) -> String {
    let strongest = result
        .components
        .iter()
        .zip(params.w.iter())
        .map(|(value, weight)| value * weight)
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or("none", |(index, _)| COMPONENT_NAMES[index]);
    format!(
        "distance {:.2} (owner's median {:.2}, 99th percentile {:.2}); {} of {} keys and {} of {} digraphs known to the profile; largest component: {}",
        result.distance,
        calibration.median,
        calibration.tail,
        result.matched_keys,
        result.holds,
        result.matched_digraphs,
        result.digraphs,
        strongest
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::KeyCode;

    /// Synthetic typing of one "person": keys from a fixed set with a personal hold time and
    /// rhythm, jittered deterministically.
    fn typing(start_us: i64, n: usize, hold_ms: i64, gap_ms: i64, seed: u64) -> Vec<Keystroke> {
        let keys: Vec<KeyCode> = "etaoinshrdlu"
            .chars()
            .filter_map(KeyCode::from_char)
            .collect();
        let mut state = seed;
        let mut t = start_us;
        (0..n)
            .map(|i| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let jitter = ((state >> 33) % 21) as i64 - 10;
                let key = keys[(i * 7 + (state >> 40) as usize) % keys.len()];
                let k = Keystroke {
                    key,
                    press_us: t,
                    release_us: t + (hold_ms + jitter) * 1000,
                };
                t += (gap_ms + 2 * jitter) * 1000;
                k
            })
            .collect()
    }

    fn config() -> MonitorConfig {
        MonitorConfig {
            enrolment_keystrokes: 600,
            ..MonitorConfig::default()
        }
    }

    fn feed(monitor: &mut Monitor, keystrokes: &[Keystroke]) -> Vec<WindowScore> {
        keystrokes
            .iter()
            .filter_map(|k| monitor.push(*k).unwrap())
            .collect()
    }

    #[test]
    fn verdicts_are_unknown_until_enrolment_completes() {
        let mut monitor = Monitor::new(config());
        let owner = typing(0, 700, 90, 180, 1);
        assert_eq!(feed(&mut monitor, &owner[..599]), vec![]);
        assert_eq!(
            monitor.state(),
            MonitorState::Enrolling {
                have: 599,
                need: 600
            }
        );
        assert!(monitor.owner().is_none());
        feed(&mut monitor, &owner[599..600]);
        assert_eq!(monitor.state(), MonitorState::Monitoring);
        assert!(monitor.owner().is_some());
    }

    #[test]
    fn the_owner_passes_and_an_impostor_is_alerted_once_then_cooled_down() {
        let mut monitor = Monitor::new(config());
        let owner = typing(0, 1_400, 90, 180, 1);
        feed(&mut monitor, &owner[..600]);
        let genuine = feed(&mut monitor, &owner[600..]);
        assert!(!genuine.is_empty());
        assert!(genuine.iter().all(|s| !s.alert), "no false alert");
        assert!(genuine.iter().filter(|s| s.verdict.is_owner()).count() * 10 >= genuine.len() * 9);
        let learned = monitor.owner().unwrap().profile.keystrokes;
        assert!(learned > 600, "authentic windows are learned from");

        let start = owner.last().unwrap().press_us + 1_000_000;
        let impostor = typing(start, 800, 190, 420, 2);
        let scores = feed(&mut monitor, &impostor);
        let alerts: Vec<usize> = scores
            .iter()
            .enumerate()
            .filter(|(_, s)| s.alert)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            alerts.len(),
            1,
            "one alert, then the cooldown holds the rest back"
        );
        assert!(
            scores
                .iter()
                .filter(|s| s.verdict == Verdict::Suspicious)
                .count()
                > 5
        );
        assert!(scores[alerts[0]].reason.contains("owner's median"));
        assert_eq!(
            monitor.owner().unwrap().profile.keystrokes,
            learned + scores.iter().filter(|s| s.verdict.is_owner()).count() as u64 * 25,
            "only windows judged the owner's are learned from, 25 new keystrokes each"
        );
    }

    #[test]
    fn a_long_break_starts_a_new_window() {
        let mut monitor = Monitor::new(config());
        let owner = typing(0, 800, 90, 180, 1);
        feed(&mut monitor, &owner[..600]);
        assert_eq!(feed(&mut monitor, &owner[600..749]), vec![]);
        let later = owner.last().unwrap().press_us + 10 * 60 * 1_000_000;
        let after_break = typing(later, 160, 90, 180, 3);
        let scores = feed(&mut monitor, &after_break);
        // The window restarts: the first score needs 150 keystrokes typed after the break.
        assert_eq!(scores.len(), 1);
        assert!(scores[0].from_us >= later);
    }

    #[test]
    fn an_owner_model_round_trips_through_json_and_refuses_other_formats() {
        let owner = typing(0, 700, 90, 180, 1);
        let model = OwnerModel::enrol(&owner, &config(), &Params::default()).unwrap();
        let back = OwnerModel::from_json(&model.to_json().unwrap()).unwrap();
        assert_eq!(back.calibration, model.calibration);
        assert_eq!(back.profile.keystrokes, model.profile.keystrokes);
        let window = &owner[100..250];
        let params = Params::default();
        assert_eq!(
            Verifier::new(&back.profile, &params).score(window).distance,
            Verifier::new(&model.profile, &params)
                .score(window)
                .distance
        );
        let newer = model
            .to_json()
            .unwrap()
            .replace("\"format\":1", "\"format\":2");
        let err = OwnerModel::from_json(&newer).unwrap_err();
        assert!(err.to_string().contains("format 2"), "{err}");
        assert!(OwnerModel::from_json("{").is_err());
    }

    #[test]
    fn a_noted_alert_holds_the_next_back_for_the_cooldown() {
        let mut monitor = Monitor::new(config());
        let owner = typing(0, 600, 90, 180, 1);
        feed(&mut monitor, &owner);
        let start = owner.last().unwrap().press_us + 1_000_000;
        monitor.note_alert(start);
        let impostor = typing(start, 400, 190, 420, 2);
        let scores = feed(&mut monitor, &impostor);
        assert!(scores.iter().any(|s| s.verdict == Verdict::Suspicious));
        assert!(
            scores.iter().all(|s| !s.alert),
            "within the cooldown of the noted alert"
        );
    }

    #[test]
    fn a_too_short_enrolment_says_so() {
        let short = typing(0, 100, 90, 180, 1);
        let err =
            OwnerModel::enrol(&short, &MonitorConfig::default(), &Params::default()).unwrap_err();
        assert_eq!(err.need, 170);
        assert!(err.to_string().contains("too short"));
    }
}
