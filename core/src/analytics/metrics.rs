//! Speed and rhythm of a list of key events, from the presses alone.
//!
//! - **Speed**: `WPM = (characters / 5) / active minutes` as in [`crate::typing`]: the active
//!   time is the sum of the gaps between consecutive presses that are not pauses (over 2 s), and
//!   a press that ends such a gap is a character unless its key is a modifier
//!   ([`KeyCode::is_modifier`](crate::key::KeyCode::is_modifier)).
//! - **Rhythm consistency**: `1 − sd/mean` of the same press→press intervals (the sample
//!   standard deviation), clamped to [0, 1] ([`crate::features::rhythm_consistency`]); it needs
//!   at least two intervals.
//!
//! A [`TypingMeter`] takes events one at a time (so that windows of stored typing can be
//! measured while they stream), [`measure`] a whole list.

use crate::event::{KeyAction, KeyEvent};
use crate::features::rhythm_consistency;
use crate::profile::Welford;
use crate::typing::{PAUSE_US, SpeedMeter};

/// Speed and rhythm of some events.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TypingMetrics {
    /// Events measured (presses, releases, repeats).
    pub events: u64,
    /// Key presses.
    pub presses: u64,
    /// Press→press intervals that are not pauses.
    pub intervals: u64,
    /// Press→press gaps over 2 s.
    pub pauses: u64,
    /// Presses counted as characters.
    pub characters: u64,
    /// Active typing time, ms.
    pub active_ms: f64,
    /// Words per minute, if there was active typing time.
    pub wpm: Option<f64>,
    /// Mean press→press interval (pauses excluded), ms.
    pub interval_mean_ms: Option<f64>,
    /// Sample standard deviation of those intervals, ms (at least two intervals).
    pub interval_sd_ms: Option<f64>,
    /// Rhythm consistency in [0, 1] (at least two intervals).
    pub consistency: Option<f64>,
    /// Time of the first event, µs.
    pub first_us: Option<i64>,
    /// Time of the last event, µs.
    pub last_us: Option<i64>,
}

/// Measures events one at a time, in time order.
#[derive(Debug, Clone, Default)]
pub struct TypingMeter {
    speed: SpeedMeter,
    intervals: Welford,
    last_press_us: Option<i64>,
    events: u64,
    presses: u64,
    pauses: u64,
    first_us: Option<i64>,
    last_us: Option<i64>,
}

impl TypingMeter {
    /// A meter that has seen nothing.
    pub fn new() -> TypingMeter {
        TypingMeter::default()
    }

    /// Feeds one event.
    pub fn push(&mut self, event: &KeyEvent) {
        self.events += 1;
        self.first_us.get_or_insert(event.time_us);
        self.last_us = Some(event.time_us);
        if event.action != KeyAction::Press {
            return;
        }
        self.presses += 1;
        if let Some(last) = self.last_press_us {
            let gap = event.time_us - last;
            if gap > PAUSE_US {
                self.pauses += 1;
            } else if gap >= 0 {
                self.intervals.push(gap as f64 / 1000.0);
            }
        }
        self.last_press_us = Some(event.time_us);
        self.speed
            .observe_counted_press(event.time_us, !event.key.is_modifier());
    }

    /// Presses fed so far.
    pub fn presses(&self) -> u64 {
        self.presses
    }

    /// The metrics of everything fed so far.
    pub fn metrics(&self) -> TypingMetrics {
        let mean = self.intervals.mean();
        let sd = self.intervals.var().map(f64::sqrt);
        TypingMetrics {
            events: self.events,
            presses: self.presses,
            intervals: self.intervals.n,
            pauses: self.pauses,
            characters: self.speed.characters,
            active_ms: self.speed.active_us as f64 / 1000.0,
            wpm: self.speed.wpm(),
            interval_mean_ms: mean,
            interval_sd_ms: sd,
            consistency: mean.zip(sd).and_then(|(m, s)| rhythm_consistency(m, s)),
            first_us: self.first_us,
            last_us: self.last_us,
        }
    }
}

/// The metrics of events sorted by time.
pub fn measure(events: &[KeyEvent]) -> TypingMetrics {
    let mut meter = TypingMeter::new();
    for event in events {
        meter.push(event);
    }
    meter.metrics()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::KeyCode;

    fn presses(times_ms: &[i64], key: KeyCode) -> Vec<KeyEvent> {
        times_ms
            .iter()
            .map(|t| KeyEvent::press(t * 1000, key))
            .collect()
    }

    #[test]
    fn the_documented_example_is_fast_and_regular() {
        // The original service's example: presses at 0, 95 and 190 ms of keys 65, 66, 67.
        let events: Vec<KeyEvent> = [(0, 65), (95, 66), (190, 67)]
            .iter()
            .map(|(t, k)| KeyEvent::press(t * 1000, KeyCode(*k)))
            .collect();
        let m = measure(&events);
        assert_eq!((m.presses, m.intervals, m.characters), (3, 2, 2));
        // 2 characters in 190 ms: (2 / 5) / (0.19 / 60) minutes.
        assert!((m.wpm.unwrap() - 0.4 / (0.19 / 60.0)).abs() < 1e-9, "{m:?}");
        assert_eq!(m.consistency, Some(1.0));
    }

    #[test]
    fn pauses_modifiers_and_releases_do_not_count() {
        let mut events = presses(&[0, 200, 400, 5_000, 5_200], KeyCode(30));
        events.push(KeyEvent::release(5_300_000, KeyCode(30)));
        events.push(KeyEvent::press(5_400_000, KeyCode::LEFT_SHIFT));
        let m = measure(&events);
        assert_eq!((m.presses, m.intervals, m.pauses), (6, 4, 1));
        assert_eq!(m.characters, 3);
        assert_eq!(m.active_ms, 800.0);
        assert_eq!(m.interval_mean_ms, Some(200.0));
        assert_eq!(m.consistency, Some(1.0));
        assert_eq!((m.first_us, m.last_us), (Some(0), Some(5_400_000)));
    }

    #[test]
    fn irregular_typing_is_less_consistent_and_one_interval_has_no_rhythm() {
        let m = measure(&presses(&[0, 50, 450, 500, 1_300], KeyCode(30)));
        let c = m.consistency.unwrap();
        assert!(c < 0.5, "{c}");
        let m = measure(&presses(&[0, 100], KeyCode(30)));
        assert_eq!(m.consistency, None);
        assert!(m.wpm.is_some());
        assert_eq!(measure(&[]), TypingMetrics::default());
    }
}
