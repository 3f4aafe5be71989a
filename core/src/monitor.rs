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
//! - **Learning (never an intruder).** A keystroke is learned only once every window that
//!   contained it was judged the owner's (an owner verdict, `authentic` or `likely_authentic`,
//!   with no evidence building up against the owner, see below) and
//!   [`MonitorConfig::confirm_keystrokes`] (2,000) keystrokes followed it without an alert: a
//!   learning lag of one window for the judgement, then a confirmation lag longer than any
//!   impostor the rule detects needs (99 % of `aalto-dev`'s detected impostors are caught within
//!   500 keystrokes). An alert withholds everything still waiting; the newest
//!   [`WITHHELD_KEYSTROKES`] withheld keystrokes are kept so that the owner's "It was me" can
//!   release them ([`Monitor::release`] with the alert's range, or [`Monitor::learn_confirmed`]
//!   with keystrokes read back from the store). Older behaviour fades: whenever the profile has
//!   grown past [`MonitorConfig::fade_after_keystrokes`], every statistic keeps
//!   [`MonitorConfig::fade_keep`] of its weight ([`Profile::fade`]).
//! - **Alerts** ([`AlertRule`]). Each window's evidence against the owner is its distance above
//!   the owner's median in units of the owner's spread (both from the owner's held-out
//!   enrolment windows, [`Calibration::evidence`]); a one-sided CUSUM (Page 1954)
//!   `S = max(0, S + e − k)` accumulates it over consecutive windows and alerts at `S ≥ h`
//!   (`k` = 2 and `h` = 15 owner spreads, [`MonitorConfig::cusum_reference`],
//!   [`MonitorConfig::cusum_alert`]): owner-like windows (`e < k`) drain it back to 0 (the
//!   reset rule), a window far out fills it in two. The fast path: one window at or below
//!   [`MonitorConfig::severe_threshold`] (score 10⁻⁴) alerts at once; a backstop:
//!   [`MonitorConfig::consecutive_low`] (8) windows in a row at or below
//!   [`MonitorConfig::alert_threshold`]. After it fires the rule starts afresh, and no other
//!   alert is raised for [`MonitorConfig::cooldown_us`] (10 minutes). `k`, `h`, the severe
//!   threshold and the backstop were tuned with `tikker eval continuous` on the first half of
//!   `aalto-dev` only (README).
//! - **Drift.** The calibration's location follows the owner: windows judged the owner's, once
//!   the windows overlapping them agreed, move it ([`ScoreDrift`]); [`OwnerModel::drift`] says
//!   how far the profile and the owner's scores moved since enrolment ([`Drift`]).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::event::KeyEvent;
use crate::keystroke::{Keystroke, KeystrokeAssembler};
use crate::profile::Profile;
use crate::verify::calibration::{Calibration, Verdict, confidence};
use crate::verify::drift::{Drift, ProfileSnapshot, ScoreDrift};
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
    /// Low windows in a row that alert (a backstop to the evidence rule).
    pub consecutive_low: usize,
    /// CUSUM reference `k`: the evidence of a window is its distance above the owner's median
    /// in units of the owner's spread ([`Calibration::spread`]), and each window adds
    /// `evidence − k` to the running sum (floored at 0).
    pub cusum_reference: f64,
    /// CUSUM alert level `h` (owner spread units): the running sum at or above this alerts.
    pub cusum_alert: f64,
    /// A keystroke every window judged the owner's is learned once this many keystrokes
    /// followed it without an alert (an alert withholds it, for [`Monitor::release`]).
    pub confirm_keystrokes: usize,
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
            severe_threshold: 1e-4,
            consecutive_low: 8,
            cusum_reference: 2.0,
            cusum_alert: 15.0,
            confirm_keystrokes: 2_000,
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
    /// Distances → scores: the enrolment's calibration moved to where the owner's judged
    /// windows now lie ([`ScoreDrift::calibration`]).
    pub calibration: Calibration,
    /// The tracking of the owner's window distances since enrolment (`None` in models stored
    /// before it was kept: tracking then starts from the stored calibration).
    pub scores: Option<ScoreDrift>,
    /// The enrolment profile's summary, for [`Drift`] (`None` in older stored models).
    pub enrolment: Option<ProfileSnapshot>,
}

/// The version of the stored form of an [`OwnerModel`] this build writes. 2: the free-text
/// distance gained the hold-in-context and rank components (and the profile per-digraph holds),
/// so a calibration fitted to format 1's distances no longer applies.
pub const OWNER_MODEL_FORMAT: u32 = 2;

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
    /// Written by an older tikker, whose distances the stored calibration was fitted to.
    #[error(
        "the stored owner model has format {found}, made by an older tikker whose scores this one does not compute: the daemon enrols again from the stored typing when it starts, or run `tikker profile rebuild`"
    )]
    Outdated {
        /// The format found.
        found: u32,
    },
}

#[derive(Serialize)]
struct StoredOwnerModelRef<'a> {
    format: u32,
    calibration: &'a Calibration,
    profile: &'a Profile,
    scores: &'a Option<ScoreDrift>,
    enrolment: &'a Option<ProfileSnapshot>,
}

#[derive(Deserialize)]
struct StoredOwnerModel {
    format: u32,
    calibration: Calibration,
    profile: Profile,
    #[serde(default)]
    scores: Option<ScoreDrift>,
    #[serde(default)]
    enrolment: Option<ProfileSnapshot>,
}

impl OwnerModel {
    /// The model as JSON for the `profiles` table of `tikker.db`: a format number, the
    /// calibration and the profile.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&StoredOwnerModelRef {
            format: OWNER_MODEL_FORMAT,
            calibration: &self.calibration,
            profile: &self.profile,
            scores: &self.scores,
            enrolment: &self.enrolment,
        })
    }

    /// A model read back from [`OwnerModel::to_json`].
    pub fn from_json(json: &str) -> Result<OwnerModel, OwnerModelError> {
        let stored: StoredOwnerModel = serde_json::from_str(json)?;
        if stored.format < OWNER_MODEL_FORMAT {
            return Err(OwnerModelError::Outdated {
                found: stored.format,
            });
        }
        if stored.format > OWNER_MODEL_FORMAT {
            return Err(OwnerModelError::Format {
                found: stored.format,
            });
        }
        let mut profile = stored.profile;
        profile.refresh();
        Ok(OwnerModel {
            profile,
            calibration: stored.calibration,
            scores: stored.scores,
            enrolment: stored.enrolment,
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
    /// The verifier's distance (larger = less like the owner).
    pub distance: f64,
    /// How much the window shared with the profile, in [0, 1).
    pub confidence: f64,
    /// The verdict of the score.
    pub verdict: Verdict,
    /// Why, in words.
    pub reason: String,
    /// The evidence sum after this window (CUSUM in owner spread units; see
    /// [`MonitorConfig::cusum_alert`]), before any restart an alert causes.
    pub evidence: f64,
    /// Press time of the first keystroke the current evidence rests on (µs): the start of the
    /// window where the sum last rose from 0, or this window's own start. An alert covers
    /// `evidence_from_us..=to_us`; [`Monitor::release`] takes that range.
    pub evidence_from_us: i64,
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

/// The distances of the owner's own held-out enrolment windows: each window of
/// [`MonitorConfig::window_keystrokes`] keystrokes (at least [`CALIBRATION_WINDOWS`] of them,
/// evenly spaced) scored against a profile of the rest of the enrolment without it.
pub fn enrolment_distances(
    keystrokes: &[Keystroke],
    config: &MonitorConfig,
    params: &Params,
) -> Result<Vec<f64>, EnrolmentTooShort> {
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
    Ok(distances)
}

impl OwnerModel {
    /// Builds the owner's profile and calibration from enrolment keystrokes (in press order).
    pub fn enrol(
        keystrokes: &[Keystroke],
        config: &MonitorConfig,
        params: &Params,
    ) -> Result<OwnerModel, EnrolmentTooShort> {
        let distances = enrolment_distances(keystrokes, config, params)?;
        let window = config.window_keystrokes.max(1);
        let calibration =
            Calibration::from_owner_distances(&distances).ok_or(EnrolmentTooShort {
                have: keystrokes.len(),
                window,
                need: window + CALIBRATION_WINDOWS,
            })?;
        let profile = Profile::from_windows([keystrokes]);
        Ok(OwnerModel {
            enrolment: Some(ProfileSnapshot::of(&profile)),
            scores: Some(ScoreDrift::new(calibration, keystrokes.len())),
            profile,
            calibration,
        })
    }

    /// How far the owner has drifted since enrolment: the profile against the enrolment
    /// snapshot and the owner's window distances against the enrolment calibration (`None` for
    /// a model stored before drift was tracked).
    pub fn drift(&self) -> Option<Drift> {
        let snapshot = self.enrolment.as_ref()?;
        let scores = self.scores.as_ref()?;
        Some(Drift::measure(&self.profile, snapshot, scores))
    }
}

/// A keystroke in the current window, with what the windows that contained it concluded.
#[derive(Debug, Clone, Copy)]
struct Slot {
    keystroke: Keystroke,
    /// Position in the monitored stream (consecutive keystrokes have consecutive numbers).
    seq: u64,
    /// At least one scored window contained it.
    judged: bool,
    /// A window that contained it was not judged the owner's.
    withheld: bool,
}

/// The alert decision over the stream of window scores: a one-sided CUSUM (Page, 1954) of the
/// windows' evidence against the owner, `S = max(0, S + e − k)`, alerting at `S ≥ h`
/// ([`MonitorConfig::cusum_reference`], [`MonitorConfig::cusum_alert`]), where `e` is the
/// window's distance above the owner's median in owner spreads ([`Calibration::evidence`]); or
/// [`MonitorConfig::consecutive_low`] low windows in a row; or one window at or below
/// [`MonitorConfig::severe_threshold`] (the fast path). After it triggers it starts afresh.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AlertRule {
    /// The evidence sum `S` (owner spreads).
    pub sum: f64,
    /// Start (µs) of the window where `S` last rose from 0.
    pub from_us: Option<i64>,
    /// Low windows in a row.
    pub low_streak: usize,
}

/// What [`AlertRule::update`] concluded about one window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// The rule fired (an alert unless a cooldown holds it back).
    pub triggered: bool,
    /// The evidence sum after the window, before the restart a trigger causes.
    pub sum: f64,
    /// The start of the typing the evidence rests on (µs).
    pub from_us: i64,
}

impl AlertRule {
    /// Takes one window: its evidence `e`, calibrated score and start (µs).
    pub fn update(
        &mut self,
        evidence: f64,
        score: f64,
        from_us: i64,
        config: &MonitorConfig,
    ) -> Decision {
        let before = self.sum;
        self.sum = (self.sum + evidence - config.cusum_reference).max(0.0);
        if self.sum == 0.0 {
            self.from_us = None;
        } else if before == 0.0 || self.from_us.is_none() {
            self.from_us = Some(from_us);
        }
        let low = score <= config.alert_threshold;
        self.low_streak = if low { self.low_streak + 1 } else { 0 };
        let triggered = self.sum >= config.cusum_alert
            || (low
                && (self.low_streak >= config.consecutive_low || score <= config.severe_threshold));
        let decision = Decision {
            triggered,
            sum: self.sum,
            from_us: self.from_us.unwrap_or(from_us).min(from_us),
        };
        if triggered {
            self.reset();
        }
        decision
    }

    /// Starts afresh (a break in typing, an alert, or the owner's "It was me").
    pub fn reset(&mut self) {
        *self = AlertRule::default();
    }
}

/// Keystrokes withheld from learning kept for [`Monitor::release`] (the newest this many).
pub const WITHHELD_KEYSTROKES: usize = 4_000;

/// The continuous-authentication monitor (see the module documentation).
#[derive(Debug)]
pub struct Monitor {
    config: MonitorConfig,
    params: Params,
    enrolment: Vec<Keystroke>,
    owner: Option<(OwnerModel, Verifier)>,
    window: VecDeque<Slot>,
    seq: u64,
    since_scored: usize,
    /// Keystrokes that left the window with every window containing them judged the owner's,
    /// not yet added to the profile, as runs of consecutive keystrokes.
    ready: Vec<Vec<Slot>>,
    /// Keystrokes that left the window without being judged the owner's (newest last).
    withheld: VecDeque<Slot>,
    rule: AlertRule,
    last_alert_us: Option<i64>,
    last_press_us: Option<i64>,
    learned: u64,
    watch: Option<(i64, u64)>,
    /// Distances of the latest windows judged the owner's, waiting until the windows that
    /// overlap them agree before they adapt the calibration.
    adapting: VecDeque<f64>,
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
            seq: 0,
            since_scored: 0,
            ready: Vec::new(),
            withheld: VecDeque::new(),
            rule: AlertRule::default(),
            last_alert_us: None,
            last_press_us: None,
            learned: 0,
            watch: None,
            adapting: VecDeque::new(),
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

    /// The current evidence sum (CUSUM, in units of the owner's spread; 0 = nothing unusual).
    pub fn evidence(&self) -> f64 {
        self.rule.sum
    }

    /// Keystrokes added to the profile since enrolment (or since this monitor was made).
    pub fn learned_keystrokes(&self) -> u64 {
        self.learned
    }

    /// Starts counting the keystrokes pressed at or after `press_us` that are learned from now
    /// on ([`Monitor::watched_learned`]); for evaluations that must show an intruder is never
    /// learned.
    pub fn watch_learning_from(&mut self, press_us: i64) {
        self.watch = Some((press_us, 0));
    }

    /// Keystrokes learned that the watch of [`Monitor::watch_learning_from`] covers.
    pub fn watched_learned(&self) -> u64 {
        self.watch.map_or(0, |(_, n)| n)
    }

    /// Keystrokes withheld from learning and still kept for [`Monitor::release`].
    pub fn withheld_keystrokes(&self) -> usize {
        self.withheld.len()
    }

    /// Holds alerts back until the cooldown after an alert raised at `at_us` (an alert stored by
    /// an earlier run of the daemon) has passed.
    pub fn note_alert(&mut self, at_us: i64) {
        self.last_alert_us = Some(self.last_alert_us.map_or(at_us, |last| last.max(at_us)));
    }

    /// Ends the cooldown of the last alert: the next time the rule fires it alerts again (the
    /// daemon does this once typing has looked like the owner's again after an alert).
    pub fn end_cooldown(&mut self) {
        self.last_alert_us = None;
    }

    /// Replaces the owner model (a newer stored version, after `tikker profile rebuild`); the
    /// current window and alert evidence are kept.
    pub fn replace_owner(&mut self, owner: OwnerModel) {
        let verifier = Verifier::new(&owner.profile, &self.params);
        self.owner = Some((owner, verifier));
        self.enrolment = Vec::new();
    }

    /// The owner said "It was me" for an alert whose windows cover presses from `from_us` to
    /// `to_us` (µs, inclusive): the withheld keystrokes pressed in that range are learned now,
    /// those still in the window lose their mark (they are learned once they leave it, if the
    /// windows after agree), and the evidence sum restarts at 0. Returns the keystrokes learned.
    pub fn release(&mut self, from_us: i64, to_us: i64) -> usize {
        let in_range = |slot: &Slot| (from_us..=to_us).contains(&slot.keystroke.press_us);
        let (released, kept): (Vec<Slot>, Vec<Slot>) =
            self.withheld.drain(..).partition(|slot| in_range(slot));
        self.withheld = kept.into();
        for slot in self.window.iter_mut().filter(|slot| in_range(slot)) {
            slot.withheld = false;
        }
        self.rule.reset();
        let mut runs: Vec<Vec<Slot>> = Vec::new();
        let mut released = released;
        released.sort_by_key(|slot| slot.seq);
        for slot in released {
            match runs.last_mut() {
                Some(run) if run.last().is_some_and(|last| last.seq + 1 == slot.seq) => {
                    run.push(slot);
                }
                _ => runs.push(vec![slot]),
            }
        }
        self.learn_runs(&runs)
    }

    /// Learns keystrokes the owner confirmed as theirs that this monitor no longer holds (for
    /// example an alert from before a restart, read back from the store); in press order, one
    /// run of consecutive typing. Returns the keystrokes learned.
    pub fn learn_confirmed(&mut self, keystrokes: &[Keystroke]) -> usize {
        let run: Vec<Slot> = keystrokes
            .iter()
            .zip(0u64..)
            .map(|(k, seq)| Slot {
                keystroke: *k,
                seq,
                judged: true,
                withheld: false,
            })
            .collect();
        self.learn_runs(&[run])
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
            self.end_sitting();
        }
        self.window.push_back(Slot {
            keystroke,
            seq: self.seq,
            judged: false,
            withheld: false,
        });
        self.seq += 1;
        if self.window.len() > self.config.window_keystrokes
            && let Some(slot) = self.window.pop_front()
        {
            self.retire(slot);
        }
        self.since_scored += 1;
        let due = self.window.len() == self.config.window_keystrokes
            && self.since_scored >= self.config.step_keystrokes;
        Ok(due.then(|| self.score_window()))
    }

    /// Adapts the calibration to a window judged the owner's once the windows overlapping it
    /// were judged the owner's too (a window that is not discards those still waiting).
    fn adapt(&mut self, distance: f64, owners: bool) {
        if !owners {
            self.adapting.clear();
            return;
        }
        self.adapting.push_back(distance);
        let overlapping = self
            .config
            .window_keystrokes
            .div_ceil(self.config.step_keystrokes.max(1));
        self.settle_first(overlapping);
    }

    /// Adapts the calibration to the oldest waiting window if more than `overlapping` wait.
    fn settle_first(&mut self, overlapping: usize) {
        if self.adapting.len() <= overlapping {
            return;
        }
        let Some(settled) = self.adapting.pop_front() else {
            return;
        };
        let step = self.config.step_keystrokes;
        let Some((owner, _)) = self.owner.as_mut() else {
            return;
        };
        let calibration = owner.calibration;
        let scores = owner
            .scores
            .get_or_insert_with(|| ScoreDrift::new(calibration, owner.profile.keystrokes as usize));
        scores.track(settled, step);
        owner.calibration = scores.calibration();
    }

    /// A keystroke leaves the window: every window that will ever contain it has been scored.
    fn retire(&mut self, slot: Slot) {
        if slot.judged && !slot.withheld {
            match self.ready.last_mut() {
                Some(run) if run.last().is_some_and(|last| last.seq + 1 == slot.seq) => {
                    run.push(slot);
                }
                _ => self.ready.push(vec![slot]),
            }
        } else {
            self.withheld.push_back(slot);
            if self.withheld.len() > WITHHELD_KEYSTROKES {
                self.withheld.pop_front();
            }
        }
    }

    /// Learns the waiting keystrokes that are confirmed: all of them at the end of a sitting
    /// (`all`), otherwise those followed by [`MonitorConfig::confirm_keystrokes`] keystrokes
    /// without an alert. Returns how many were learned.
    fn learn_ready(&mut self, all: bool) -> usize {
        let runs = if all {
            std::mem::take(&mut self.ready)
        } else {
            let horizon = self
                .seq
                .saturating_sub(self.config.confirm_keystrokes as u64);
            let mut confirmed = Vec::new();
            while let Some(run) = self.ready.first_mut() {
                let take = run.iter().take_while(|slot| slot.seq < horizon).count();
                if take == 0 {
                    break;
                }
                if take == run.len() {
                    confirmed.push(self.ready.remove(0));
                } else {
                    confirmed.push(run.drain(..take).collect());
                    break;
                }
            }
            confirmed
        };
        self.learn_runs(&runs)
    }

    /// Adds runs of consecutive keystrokes to the profile (fading it when due) and recompiles
    /// the verifier; returns how many were learned.
    fn learn_runs(&mut self, runs: &[Vec<Slot>]) -> usize {
        let Some((owner, verifier)) = self.owner.as_mut() else {
            return 0;
        };
        let mut learned = 0;
        for run in runs.iter().filter(|run| !run.is_empty()) {
            let keystrokes: Vec<Keystroke> = run.iter().map(|slot| slot.keystroke).collect();
            owner.profile.update(&keystrokes);
            learned += keystrokes.len();
            if let Some((from_us, count)) = self.watch.as_mut() {
                *count += keystrokes.iter().filter(|k| k.press_us >= *from_us).count() as u64;
            }
        }
        if learned > 0 {
            if owner.profile.keystrokes > self.config.fade_after_keystrokes {
                owner.profile.fade(self.config.fade_keep);
            }
            *verifier = Verifier::new(&owner.profile, &self.params);
            self.learned += learned as u64;
        }
        learned
    }

    /// Ends the current sitting (a pause in typing longer than [`MonitorConfig::idle_gap_us`]
    /// does it by itself): the window is emptied, its keystrokes that every window judged the
    /// owner's join those waiting for confirmation, the evidence restarts, and the owner windows
    /// waiting to adapt the calibration settle. Returns the keystrokes learned (confirmed ones).
    pub fn end_sitting(&mut self) -> usize {
        while let Some(slot) = self.window.pop_front() {
            self.retire(slot);
        }
        self.since_scored = 0;
        self.rule.reset();
        // The windows before the break have all been scored: those still waiting settle.
        while !self.adapting.is_empty() {
            let overlapping = self.adapting.len() - 1;
            self.settle_first(overlapping);
        }
        self.learn_ready(false)
    }

    /// Learns every keystroke waiting for confirmation now, without waiting for
    /// [`MonitorConfig::confirm_keystrokes`] more (for a daemon that stops and cannot keep them;
    /// call [`Monitor::end_sitting`] first to include the window). Returns the keystrokes learned.
    pub fn learn_waiting(&mut self) -> usize {
        self.learn_ready(true)
    }

    /// An alert: nothing still waiting to be learned is learned; it is kept for
    /// [`Monitor::release`].
    fn withhold_waiting(&mut self) {
        for slot in &mut self.window {
            slot.withheld = true;
        }
        for run in std::mem::take(&mut self.ready) {
            for slot in run {
                self.withheld.push_back(slot);
            }
        }
        while self.withheld.len() > WITHHELD_KEYSTROKES {
            self.withheld.pop_front();
        }
    }

    fn score_window(&mut self) -> WindowScore {
        self.since_scored = 0;
        let window: Vec<Keystroke> = self.window.iter().map(|slot| slot.keystroke).collect();
        let from_us = window.first().map_or(0, |k| k.press_us);
        let to_us = window
            .iter()
            .map(|k| k.release_us)
            .max()
            .unwrap_or_default();
        let Some((owner, verifier)) = self.owner.as_mut() else {
            // Invariant: push only scores once the owner is known.
            return WindowScore {
                from_us,
                to_us,
                score: 0.0,
                distance: f64::NAN,
                confidence: 0.0,
                verdict: Verdict::Unknown,
                reason: "no profile yet".into(),
                evidence: 0.0,
                evidence_from_us: from_us,
                alert: false,
            };
        };
        let result = verifier.score(&window);
        let calibration = owner.calibration;
        let score = calibration.score(result.distance);
        let verdict = Verdict::from_score(Some(score));
        let shared = (result.matched_keys + result.matched_digraphs) as usize;
        let reason = describe(&result, &calibration, &self.params);
        // Sequential evidence: CUSUM of the window's distance in owner spread units.
        let evidence = calibration.evidence(result.distance);
        let decision = self.rule.update(evidence, score, from_us, &self.config);
        let owners = verdict.is_owner() && decision.sum == 0.0;
        self.adapt(result.distance, owners);
        for slot in &mut self.window {
            slot.judged = true;
            slot.withheld |= !owners;
        }
        self.learn_ready(false);
        let triggered = decision.triggered;
        let cooling = self
            .last_alert_us
            .is_some_and(|last| to_us - last < self.config.cooldown_us);
        let alert = triggered && !cooling;
        if alert {
            self.last_alert_us = Some(to_us);
        }
        if triggered {
            self.withhold_waiting();
        }
        WindowScore {
            from_us,
            to_us,
            score,
            distance: result.distance,
            confidence: confidence(shared, 100.0),
            verdict,
            reason,
            evidence: decision.sum,
            evidence_from_us: decision.from_us,
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
        jittered(start_us, n, hold_ms, gap_ms, seed, 30)
    }

    /// Someone else: a different hold time and rhythm, and less regular. (A typist far more
    /// regular than the owner, with every residual at the verifier's clamp, can score closer
    /// than the owner's own windows: see the report of issue 16.)
    fn impostor(start_us: i64, n: usize) -> Vec<Keystroke> {
        jittered(start_us, n, 140, 250, 2, 50)
    }

    fn jittered(
        start_us: i64,
        n: usize,
        hold_ms: i64,
        gap_ms: i64,
        seed: u64,
        jitter_ms: u64,
    ) -> Vec<Keystroke> {
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
                let jitter = ((state >> 33) % (2 * jitter_ms + 1)) as i64 - jitter_ms as i64;
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
        let enrolled = monitor.owner().unwrap().profile.keystrokes;
        assert_eq!(
            monitor.learned_keystrokes(),
            0,
            "nothing is learned before it is confirmed"
        );
        monitor.end_sitting();
        let learned = monitor.learn_waiting() as u64;
        assert!(
            learned > 600,
            "what every window passed is learned once confirmed"
        );
        assert_eq!(
            monitor.owner().unwrap().profile.keystrokes,
            enrolled + learned
        );
        let learned = monitor.owner().unwrap().profile.keystrokes;

        let start = owner.last().unwrap().press_us + 1_000_000;
        let impostor = impostor(start, 800);
        monitor.watch_learning_from(start);
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
        monitor.end_sitting();
        assert_eq!(
            monitor.watched_learned(),
            0,
            "no impostor keystroke is learned"
        );
        assert!(monitor.owner().unwrap().profile.keystrokes >= learned);
        assert!(monitor.withheld_keystrokes() > 0);
    }

    fn rule_config() -> MonitorConfig {
        MonitorConfig {
            cusum_reference: 2.0,
            cusum_alert: 15.0,
            consecutive_low: 8,
            severe_threshold: 1e-4,
            ..MonitorConfig::default()
        }
    }

    /// Feeds hand-made `(evidence, score)` windows; returns the indices that triggered.
    fn triggers(rule: &mut AlertRule, stream: &[(f64, f64)]) -> Vec<usize> {
        stream
            .iter()
            .enumerate()
            .filter(|(i, (e, s))| {
                rule.update(*e, *s, *i as i64 * 25, &rule_config())
                    .triggered
            })
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn the_alert_rule_accumulates_evidence_over_windows_and_starts_afresh() {
        let mut rule = AlertRule::default();
        // Below the reference k = 2 nothing accumulates, however long it goes on.
        assert_eq!(triggers(&mut rule, &[(1.9, 0.7); 100]), Vec::<usize>::new());
        assert_eq!(rule.sum, 0.0);
        // e = 5 adds 3 a window: 3, 6, 9, 12, 15 → the fifth window alerts, then it restarts.
        assert_eq!(triggers(&mut rule, &[(5.0, 0.5); 9]), vec![4]);
        assert_eq!(rule.sum, 12.0);
        // Owner-like windows bring the sum back to 0 (the reset rule), and the evidence's
        // start moves with it.
        let mut rule = AlertRule::default();
        let d = rule.update(6.0, 0.5, 100, &rule_config());
        assert_eq!((d.sum, d.from_us), (4.0, 100));
        let d = rule.update(6.0, 0.5, 125, &rule_config());
        assert_eq!((d.sum, d.from_us), (8.0, 100), "the evidence rests on both");
        assert_eq!(triggers(&mut rule, &[(-2.0, 0.9); 3]), Vec::<usize>::new());
        assert_eq!(rule.sum, 0.0);
        assert_eq!(rule.from_us, None);
        // One huge window alone: e is capped at 10 (8 a window), two are needed...
        assert_eq!(triggers(&mut rule, &[(10.0, 0.3); 2]), vec![1]);
        // ... unless its score is severe (the fast path).
        assert_eq!(triggers(&mut rule, &[(10.0, 1e-5)]), vec![0]);
        // The backstop: eight low windows in a row with modest evidence.
        assert_eq!(triggers(&mut rule, &[(2.5, 0.3); 8]), vec![7]);
        let mut broken = [(2.5, 0.3); 8];
        broken[4] = (2.5, 0.5);
        assert_eq!(triggers(&mut rule, &broken), Vec::<usize>::new());
    }

    #[test]
    fn a_keystroke_is_learned_only_after_every_window_containing_it_passed() {
        let mut monitor = Monitor::new(MonitorConfig {
            confirm_keystrokes: 300,
            ..config()
        });
        let owner = typing(0, 1_200, 90, 180, 1);
        feed(&mut monitor, &owner[..600]);
        // The first keystrokes leave the window after 150 more, then wait until 300 followed.
        feed(&mut monitor, &owner[600..900]);
        assert_eq!(monitor.learned_keystrokes(), 0);
        feed(&mut monitor, &owner[900..1_200]);
        let learned = monitor.learned_keystrokes();
        assert!(learned > 0 && learned <= 600 - 300, "{learned}");
        // An impostor right after: the alert withholds what was still waiting, including the
        // owner's last keystrokes that shared windows with the impostor.
        let start = owner.last().unwrap().press_us + 1_000_000;
        monitor.watch_learning_from(start);
        let scores = feed(&mut monitor, &impostor(start, 400));
        let alert = scores.iter().find(|s| s.alert).unwrap();
        assert!(alert.evidence_from_us <= alert.from_us);
        monitor.end_sitting();
        assert_eq!(monitor.watched_learned(), 0);
        let withheld = monitor.withheld_keystrokes();
        assert!(withheld >= 300, "{withheld}");
        // "It was me": the alert's keystrokes are released and learned.
        let before = monitor.learned_keystrokes();
        let released = monitor.release(alert.evidence_from_us, alert.to_us);
        assert!(released > 0);
        assert_eq!(monitor.withheld_keystrokes(), withheld - released);
        assert_eq!(
            monitor.learned_keystrokes(),
            before + released as u64,
            "only the release learned"
        );
        assert!(monitor.watched_learned() > 0);
        assert_eq!(monitor.evidence(), 0.0);
    }

    #[test]
    fn drift_starts_at_zero_and_the_calibration_follows_owner_windows() {
        let mut monitor = Monitor::new(config());
        let owner = typing(0, 2_000, 90, 180, 1);
        feed(&mut monitor, &owner[..600]);
        let enrolled = monitor.owner().unwrap().clone();
        let drift = enrolled.drift().unwrap();
        assert_eq!(drift.score_shift, 0.0);
        assert_eq!(drift.owner_windows, 0);
        assert!(drift.hold_change.abs() < 1e-12);
        feed(&mut monitor, &owner[600..]);
        monitor.end_sitting();
        monitor.learn_waiting();
        let now = monitor.owner().unwrap();
        let drift = now.drift().unwrap();
        assert!(drift.owner_windows > 10, "{drift:?}");
        assert_eq!(drift.current_location, now.calibration.median);
        assert!(drift.keys_compared > 5);
        // The same person: the profile barely moved.
        assert!(drift.hold_change.abs() < 0.05, "{drift:?}");
        let back = OwnerModel::from_json(&now.to_json().unwrap()).unwrap();
        assert_eq!(back.drift(), Some(drift));
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
        let json = model.to_json().unwrap();
        let current = format!("\"format\":{OWNER_MODEL_FORMAT}");
        assert!(json.contains(&current));
        let newer = json.replace(&current, &format!("\"format\":{}", OWNER_MODEL_FORMAT + 1));
        let err = OwnerModel::from_json(&newer).unwrap_err();
        assert!(
            matches!(err, OwnerModelError::Format { .. })
                && err.to_string().contains("upgrade tikker"),
            "{err}"
        );
        // A model whose calibration was fitted to an older scorer's distances is refused, so
        // the daemon enrols again from stored typing instead of alerting on stale thresholds.
        let older = json.replace(&current, "\"format\":1");
        let err = OwnerModel::from_json(&older).unwrap_err();
        assert!(
            matches!(err, OwnerModelError::Outdated { found: 1 })
                && err.to_string().contains("enrols again"),
            "{err}"
        );
        assert!(OwnerModel::from_json("{").is_err());
    }

    #[test]
    fn a_noted_alert_holds_the_next_back_for_the_cooldown() {
        let mut monitor = Monitor::new(config());
        let owner = typing(0, 600, 90, 180, 1);
        feed(&mut monitor, &owner);
        let start = owner.last().unwrap().press_us + 1_000_000;
        monitor.note_alert(start);
        let impostor = impostor(start, 400);
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
