//! Injected keystrokes: machine typing recognised from its timing within a few keystrokes.
//!
//! Keystroke-injection tools give themselves away in three ways that no person's typing shows
//! over a run of [`InjectionConfig::window`] keystrokes (8: a finding comes at the 8th
//! injected keystroke at the latest, within the ≤ 10 the threat model asks for):
//!
//! - **speed** ([`InjectionRule::Speed`]): every press-to-press interval shorter than
//!   [`InjectionConfig::fast_interval_us`] (35 ms). A BadUSB stick types a key every 1-2 ms,
//!   `xdotool type` every 12 ms by default. In the first half of aalto-dev (873 participants,
//!   618,005 keystrokes without modifiers) no 8-keystroke run has all its intervals below 63 ms.
//! - **short, constant holds** ([`InjectionRule::ShortConstantHolds`]): every hold shorter than
//!   [`InjectionConfig::short_hold_us`] (20 ms) and all holds within
//!   [`InjectionConfig::short_hold_spread_us`] (5 ms) of each other, whatever the pace. Tools
//!   release a key right after pressing it (`xdotool` after half its delay, 6 ms by default;
//!   BadUSB in the next USB report, 1 ms; "humanised" typers that jitter only the intervals),
//!   while people hold keys for about 100 ms (aalto-dev median 103 ms). In the first half of
//!   aalto-dev no 8-keystroke run has its longest hold under 56 ms with its holds within 14 ms.
//! - **regularity** ([`InjectionRule::Regular`]): all holds within
//!   [`InjectionConfig::regular_hold_spread_us`] (3 ms) and all intervals within
//!   [`InjectionConfig::regular_interval_spread`] (6 %) of their median: a tool slowed down to
//!   a human pace (`xdotool type --delay 100`: a key every 100 ms held 50 ms) keeps a clockwork
//!   rhythm. In the first half of aalto-dev no 8-keystroke run has its holds within 8 ms and its
//!   intervals within 16 % of their median at once (each alone does occur: a browser clock
//!   rounded to 8 ms makes holds equal, and a person tapping BackSpace keeps an even beat).
//!
//! Peer tools use speed only: DuckHunt flags a mean of the last 25 press intervals under 30 ms,
//! Google's ukip 4 of 4 intervals of at most 50 ms in a 5-key window; both are evaded by slowing
//! down, which the hold and regularity rules still see. All three thresholds keep at least a
//! factor of 1.8 from the nearest human case of the tuning half.
//!
//! What the detector sees is a [`KeystrokeStream`]: modifiers are left out, auto-repeat is folded
//! into the keystroke that started it (a held key repeating 30 times a second is a person), and
//! overlapping keys (rollover) are paired press with release. A finding opens an *episode*: no
//! second finding comes until a whole window of keystrokes has passed that no rule flags.
//! The detector is independent of the owner's profile: it works from the first keystroke.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::KeystrokeStream;
use crate::event::KeyEvent;
use crate::keystroke::Keystroke;

/// The detector's thresholds (see the module documentation for their sources).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InjectionConfig {
    /// Keystrokes every rule looks at together (the last ones typed).
    pub window: usize,
    /// Speed: every press-to-press interval in the window below this (µs).
    pub fast_interval_us: i64,
    /// Short holds: every hold in the window below this (µs) ...
    pub short_hold_us: i64,
    /// ... and the longest hold at most this much longer than the shortest (µs).
    pub short_hold_spread_us: i64,
    /// Regularity: the longest hold at most this much longer than the shortest (µs) ...
    pub regular_hold_spread_us: i64,
    /// ... and the longest interval at most this fraction of the median interval longer than
    /// the shortest.
    pub regular_interval_spread: f64,
}

impl Default for InjectionConfig {
    fn default() -> Self {
        InjectionConfig {
            window: 8,
            fast_interval_us: 35_000,
            short_hold_us: 20_000,
            short_hold_spread_us: 5_000,
            regular_hold_spread_us: 3_000,
            regular_interval_spread: 0.06,
        }
    }
}

/// Which rule recognised machine typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InjectionRule {
    /// A sustained speed no person reaches.
    Speed,
    /// Holds too short and too alike for fingers.
    ShortConstantHolds,
    /// A clockwork rhythm: equal holds and equal intervals.
    Regular,
}

impl InjectionRule {
    /// The rule's name in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            InjectionRule::Speed => "speed",
            InjectionRule::ShortConstantHolds => "short_constant_holds",
            InjectionRule::Regular => "regular",
        }
    }
}

/// The timing of the window that was flagged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InjectionEvidence {
    /// Keystrokes in the window.
    pub keystrokes: usize,
    /// Press of the window's first keystroke (µs since the Unix epoch).
    pub first_press_us: i64,
    /// Release of the keystroke that completed the window (µs since the Unix epoch).
    pub last_release_us: i64,
    /// Shortest press-to-press interval (µs).
    pub min_interval_us: i64,
    /// Median press-to-press interval (µs).
    pub median_interval_us: i64,
    /// Longest press-to-press interval (µs).
    pub max_interval_us: i64,
    /// Shortest hold (µs).
    pub min_hold_us: i64,
    /// Median hold (µs).
    pub median_hold_us: i64,
    /// Longest hold (µs).
    pub max_hold_us: i64,
}

impl InjectionEvidence {
    fn of(window: &VecDeque<Keystroke>) -> InjectionEvidence {
        let mut intervals: Vec<i64> = window
            .iter()
            .zip(window.iter().skip(1))
            .map(|(a, b)| b.press_us - a.press_us)
            .collect();
        let mut holds: Vec<i64> = window.iter().map(Keystroke::hold_us).collect();
        intervals.sort_unstable();
        holds.sort_unstable();
        let at = |v: &[i64], i: usize| v.get(i).copied().unwrap_or(0);
        InjectionEvidence {
            keystrokes: window.len(),
            first_press_us: window.front().map_or(0, |k| k.press_us),
            last_release_us: window.iter().map(|k| k.release_us).max().unwrap_or(0),
            min_interval_us: at(&intervals, 0),
            median_interval_us: at(&intervals, intervals.len() / 2),
            max_interval_us: at(&intervals, intervals.len().saturating_sub(1)),
            min_hold_us: at(&holds, 0),
            median_hold_us: at(&holds, holds.len() / 2),
            max_hold_us: at(&holds, holds.len().saturating_sub(1)),
        }
    }

    /// The rules this timing breaks under `config`, strongest first.
    pub fn rules(&self, config: &InjectionConfig) -> Vec<InjectionRule> {
        let mut rules = Vec::new();
        if self.keystrokes < config.window.max(2) {
            return rules;
        }
        let hold_spread = self.max_hold_us - self.min_hold_us;
        if self.max_interval_us < config.fast_interval_us {
            rules.push(InjectionRule::Speed);
        }
        if self.max_hold_us < config.short_hold_us && hold_spread <= config.short_hold_spread_us {
            rules.push(InjectionRule::ShortConstantHolds);
        }
        let interval_spread = (self.max_interval_us - self.min_interval_us) as f64;
        if hold_spread <= config.regular_hold_spread_us
            && self.median_interval_us > 0
            && interval_spread <= config.regular_interval_spread * self.median_interval_us as f64
        {
            rules.push(InjectionRule::Regular);
        }
        rules
    }

    /// The timing in plain words.
    pub fn describe(&self) -> String {
        format!(
            "{} keystrokes in {:.1} ms, a key every {:.1} to {:.1} ms (median {:.1}), held {:.1} \
             to {:.1} ms (median {:.1})",
            self.keystrokes,
            (self.last_release_us - self.first_press_us) as f64 / 1000.0,
            self.min_interval_us as f64 / 1000.0,
            self.max_interval_us as f64 / 1000.0,
            self.median_interval_us as f64 / 1000.0,
            self.min_hold_us as f64 / 1000.0,
            self.max_hold_us as f64 / 1000.0,
            self.median_hold_us as f64 / 1000.0,
        )
    }
}

/// Machine typing recognised on the live stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InjectionFinding {
    /// The strongest rule that fired.
    pub rule: InjectionRule,
    /// Every rule that fired, strongest first.
    pub rules: Vec<InjectionRule>,
    /// Why, in plain words (no key identities).
    pub reason: String,
    /// Keystrokes the detector had seen when it fired, this one included (1-based).
    pub keystrokes: u64,
    /// Time of the event that completed the window (µs since the Unix epoch).
    pub at_us: i64,
    /// The window's timing.
    pub evidence: InjectionEvidence,
}

/// The streaming injection detector (see the module documentation).
#[derive(Debug, Clone)]
pub struct InjectionDetector {
    config: InjectionConfig,
    stream: KeystrokeStream,
    window: VecDeque<Keystroke>,
    keystrokes: u64,
    /// Inside an episode: keystrokes since the last flagged window.
    episode: Option<usize>,
}

impl Default for InjectionDetector {
    fn default() -> Self {
        InjectionDetector::new(InjectionConfig::default())
    }
}

impl InjectionDetector {
    /// A detector with `config`.
    pub fn new(config: InjectionConfig) -> InjectionDetector {
        InjectionDetector {
            config,
            stream: KeystrokeStream::new(),
            window: VecDeque::with_capacity(config.window + 1),
            keystrokes: 0,
            episode: None,
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &InjectionConfig {
        &self.config
    }

    /// Keystrokes seen so far.
    pub fn keystrokes(&self) -> u64 {
        self.keystrokes
    }

    /// Feeds one event (in time order); returns a finding when the keystrokes it completes show
    /// machine typing and no episode is open.
    pub fn push(&mut self, event: &KeyEvent) -> Option<InjectionFinding> {
        let mut done = Vec::new();
        self.stream.push(event, |k| done.push(k));
        let mut finding = None;
        for keystroke in done {
            if let Some(f) = self.push_keystroke(keystroke, event.time_us) {
                finding.get_or_insert(f);
            }
        }
        finding
    }

    /// Feeds one completed keystroke (in press order; modifiers and auto-repeat already left
    /// out); `now_us` is when it became known.
    pub fn push_keystroke(
        &mut self,
        keystroke: Keystroke,
        now_us: i64,
    ) -> Option<InjectionFinding> {
        self.keystrokes += 1;
        self.window.push_back(keystroke);
        while self.window.len() > self.config.window.max(2) {
            self.window.pop_front();
        }
        if self.window.len() < self.config.window.max(2) {
            return None;
        }
        let evidence = InjectionEvidence::of(&self.window);
        let rules = evidence.rules(&self.config);
        let Some(&rule) = rules.first() else {
            if let Some(clean) = self.episode.as_mut() {
                *clean += 1;
                if *clean >= self.config.window {
                    self.episode = None;
                }
            }
            return None;
        };
        if self.episode.replace(0).is_some() {
            return None;
        }
        let reason = format!(
            "{}: {}",
            match rule {
                InjectionRule::Speed => "typing faster than any person sustains",
                InjectionRule::ShortConstantHolds =>
                    "keys released too soon and too evenly for fingers",
                InjectionRule::Regular => "a clockwork rhythm: equal holds and equal intervals",
            },
            evidence.describe()
        );
        Some(InjectionFinding {
            rule,
            rules,
            reason,
            keystrokes: self.keystrokes,
            at_us: now_us,
            evidence,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::KeyAction;
    use crate::key::KeyCode;

    const LETTERS: [u16; 10] = [30, 48, 46, 32, 18, 33, 34, 35, 23, 36];

    /// Presses at `intervals` apart (µs), each held `hold(i)` µs.
    fn typed(
        n: usize,
        interval: impl Fn(usize) -> i64,
        hold: impl Fn(usize) -> i64,
    ) -> Vec<KeyEvent> {
        let mut events = Vec::new();
        let mut t = 1_000_000_000_000;
        for i in 0..n {
            let key = KeyCode(LETTERS[i % LETTERS.len()]);
            events.push(KeyEvent::press(t, key));
            events.push(KeyEvent::release(t + hold(i), key));
            t += interval(i);
        }
        crate::event::sort_events(&mut events);
        events
    }

    fn first_finding(events: &[KeyEvent]) -> Option<InjectionFinding> {
        let mut detector = InjectionDetector::default();
        events.iter().find_map(|e| detector.push(e))
    }

    /// A person-like rhythm: intervals 120-260 ms, holds 70-130 ms, from a fixed pattern.
    fn human(n: usize) -> Vec<KeyEvent> {
        let iv = [180, 140, 230, 120, 260, 150, 200, 170, 240, 130, 210];
        let hd = [95, 110, 80, 125, 70, 100, 115, 90, 130, 85, 105, 75, 120];
        typed(n, |i| iv[i % iv.len()] * 1000, |i| hd[i % hd.len()] * 1000)
    }

    #[test]
    fn human_rhythm_is_not_flagged() {
        assert_eq!(first_finding(&human(400)), None);
    }

    #[test]
    fn badusb_at_one_ms_is_flagged_by_speed_at_the_eighth_keystroke() {
        let f = first_finding(&typed(40, |_| 2_000, |_| 1_000)).unwrap();
        assert_eq!(f.rule, InjectionRule::Speed);
        assert!(f.rules.contains(&InjectionRule::ShortConstantHolds));
        assert_eq!(f.keystrokes, 8);
        assert!(f.reason.contains("faster than any person"), "{}", f.reason);
    }

    #[test]
    fn xdotool_default_and_slowed_down_are_flagged() {
        // xdotool type: press, sleep delay/2, release, sleep delay/2 (plus ~0.1 ms overshoot).
        let default = typed(
            20,
            |i| 12_150 + (i as i64 % 3) * 40,
            |i| 6_080 + (i as i64 % 2) * 30,
        );
        assert_eq!(first_finding(&default).unwrap().keystrokes, 8);
        let slow = typed(
            20,
            |i| 100_120 + (i as i64 % 3) * 60,
            |i| 50_070 + (i as i64 % 2) * 40,
        );
        let f = first_finding(&slow).unwrap();
        assert_eq!(f.rule, InjectionRule::Regular);
        assert_eq!(f.keystrokes, 8);
    }

    #[test]
    fn humanised_intervals_with_near_zero_holds_are_flagged() {
        let iv = [63, 187, 95, 142, 71, 199, 120, 88, 160];
        let events = typed(
            30,
            |i| iv[i % iv.len()] * 1000,
            |i| 800 + (i as i64 % 4) * 150,
        );
        let f = first_finding(&events).unwrap();
        assert_eq!(f.rule, InjectionRule::ShortConstantHolds);
        assert_eq!(f.keystrokes, 8);
    }

    #[test]
    fn an_injection_after_human_typing_is_flagged_within_ten_keystrokes() {
        let mut events = human(50);
        let start = events.last().unwrap().time_us + 1_000_000;
        let burst = typed(30, |_| 2_000, |_| 1_000);
        let offset = start - burst[0].time_us;
        events.extend(burst.iter().map(|e| KeyEvent {
            time_us: e.time_us + offset,
            ..*e
        }));
        let f = first_finding(&events).unwrap();
        assert!(f.keystrokes > 50 && f.keystrokes <= 60, "{}", f.keystrokes);
    }

    #[test]
    fn one_finding_per_episode_and_a_new_one_after_a_clean_window() {
        let mut events = typed(30, |_| 2_000, |_| 1_000);
        let human_part = human(30);
        let offset = events.last().unwrap().time_us + 1_000_000 - human_part[0].time_us;
        events.extend(human_part.iter().map(|e| KeyEvent {
            time_us: e.time_us + offset,
            ..*e
        }));
        let again = typed(30, |_| 2_000, |_| 1_000);
        let offset = events.last().unwrap().time_us + 1_000_000 - again[0].time_us;
        events.extend(again.iter().map(|e| KeyEvent {
            time_us: e.time_us + offset,
            ..*e
        }));
        let mut detector = InjectionDetector::default();
        let found: Vec<u64> = events
            .iter()
            .filter_map(|e| detector.push(e))
            .map(|f| f.keystrokes)
            .collect();
        assert_eq!(found, vec![8, 68]);
    }

    #[test]
    fn auto_repeat_of_a_held_key_is_a_person() {
        let key = KeyCode(14); // BackSpace held: repeats every 33 ms
        let mut events = human(10);
        let mut t = events.last().unwrap().time_us + 300_000;
        events.push(KeyEvent::press(t, key));
        t += 500_000;
        for _ in 0..60 {
            events.push(KeyEvent {
                time_us: t,
                key,
                action: KeyAction::Repeat,
            });
            t += 33_333;
        }
        events.push(KeyEvent::release(t, key));
        // The same as X11 reports it without detectable auto-repeat: release and press at once.
        t += 400_000;
        events.push(KeyEvent::press(t, key));
        t += 500_000;
        for _ in 0..60 {
            events.push(KeyEvent::release(t, key));
            events.push(KeyEvent::press(t, key));
            t += 33_333;
        }
        events.push(KeyEvent::release(t, key));
        let tail = human(20);
        let offset = t + 300_000 - tail[0].time_us;
        events.extend(tail.iter().map(|e| KeyEvent {
            time_us: e.time_us + offset,
            ..*e
        }));
        let mut detector = InjectionDetector::default();
        assert_eq!(events.iter().find_map(|e| detector.push(e)), None);
        assert_eq!(detector.keystrokes(), 10 + 2 + 20);
    }

    #[test]
    fn modifiers_and_rollover_do_not_hide_or_fake_injection() {
        // xdotool typing capitals: Shift pressed just before the key and released just before it.
        let mut events = Vec::new();
        let mut t = 5_000_000_000;
        for i in 0..12 {
            let key = KeyCode(LETTERS[i % LETTERS.len()]);
            if i % 2 == 0 {
                events.push(KeyEvent::press(t, KeyCode::LEFT_SHIFT));
            }
            events.push(KeyEvent::press(t + 20, key));
            if i % 2 == 0 {
                events.push(KeyEvent::release(t + 50_000, KeyCode::LEFT_SHIFT));
            }
            events.push(KeyEvent::release(t + 50_030, key));
            t += 100_100;
        }
        assert_eq!(first_finding(&events).unwrap().rule, InjectionRule::Regular);
        // A person rolling over keys (each pressed before the previous is released), holding
        // Shift over several of them.
        let iv = [90, 60, 140, 75, 110, 55, 160];
        let mut events = typed(
            60,
            |i| iv[i % iv.len()] * 1000,
            |i| 120_000 + (i as i64 % 5) * 9_000,
        );
        events.push(KeyEvent::press(1_000_000_000_100, KeyCode::LEFT_SHIFT));
        events.push(KeyEvent::release(1_000_000_900_000, KeyCode::LEFT_SHIFT));
        crate::event::sort_events(&mut events);
        assert_eq!(first_finding(&events), None);
    }
}
