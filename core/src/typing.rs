//! Typing quantities shared by statistics, profiles and verification: pauses and speed.
//!
//! **Pauses.** A gap of more than [`PAUSE_US`] (2 s) between two key presses is a pause: the
//! person stopped typing. Everywhere in tikker a pause ends a burst of typing: the gap counts
//! neither as typing time nor as an inter-key interval, and no digraph spans it.
//!
//! **Speed.** `WPM = (characters / 5) / minutes`, where the minutes are the active typing time
//! (the sum of press-to-press gaps that are not pauses) and the characters are the presses of
//! text keys ([`KeyCode::is_text_key`]) that end such a gap. The first press after a pause opens
//! a burst and counts for neither, so the ratio compares like with like: a burst of *n* presses
//! contributes *n − 1* gaps and at most *n − 1* characters.

use crate::event::{KeyAction, KeyEvent};
use crate::key::KeyCode;

/// A gap between presses longer than this (µs) is a pause.
pub const PAUSE_US: i64 = 2_000_000;

/// Words per minute of `characters` typed in `active_us` µs of active typing time: the one
/// definition of speed in tikker, `(characters / 5) / minutes`; `None` without active time.
pub fn wpm(characters: u64, active_us: i64) -> Option<f64> {
    (active_us > 0).then(|| (characters as f64 / 5.0) / (active_us as f64 / 60_000_000.0))
}

/// Accumulates typing speed over presses of one stream, in time order.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpeedMeter {
    #[serde(skip)]
    last_press_us: Option<i64>,
    /// Active typing time so far (µs).
    pub active_us: i64,
    /// Characters typed during active time.
    pub characters: u64,
}

impl SpeedMeter {
    /// Feeds one event; only presses matter. Returns the press-to-press interval (µs) the
    /// event ended, if it counted as active typing time (see [`SpeedMeter::observe_counted_press`]).
    pub fn observe(&mut self, event: &KeyEvent) -> Option<i64> {
        if event.action != KeyAction::Press {
            return None;
        }
        self.observe_press(event.time_us, event.key)
    }

    /// Feeds one key press; it counts as a character if it is a text key
    /// ([`KeyCode::is_text_key`]). Returns the interval it ended, as
    /// [`SpeedMeter::observe_counted_press`].
    pub fn observe_press(&mut self, time_us: i64, key: KeyCode) -> Option<i64> {
        self.observe_counted_press(time_us, key.is_text_key())
    }

    /// Feeds one key press whose caller decides whether it counts as a character (the HTTP API
    /// counts every press but modifiers, because its clients number keys in several ways).
    /// Returns the press-to-press interval (µs) since the previous press when it is not a pause
    /// (0 to [`PAUSE_US`] inclusive): the gap just added to the active time; `None` for the
    /// first press of a burst.
    pub fn observe_counted_press(&mut self, time_us: i64, is_character: bool) -> Option<i64> {
        let mut interval = None;
        if let Some(last) = self.last_press_us {
            let gap = time_us - last;
            if (0..=PAUSE_US).contains(&gap) {
                self.active_us += gap;
                if is_character {
                    self.characters += 1;
                }
                interval = Some(gap);
            }
        }
        self.last_press_us = Some(time_us);
        interval
    }

    /// Forgets the last press, so that the next one opens a new burst (a new session).
    pub fn break_stream(&mut self) {
        self.last_press_us = None;
    }

    /// Adds another meter's totals (of another stream) to this one.
    pub fn merge(&mut self, other: &SpeedMeter) {
        self.active_us += other.active_us;
        self.characters += other.characters;
    }

    /// Words per minute, or `None` before any active typing time.
    pub fn wpm(&self) -> Option<f64> {
        wpm(self.characters, self.active_us)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presses(meter: &mut SpeedMeter, times_ms: &[i64]) {
        for t in times_ms {
            meter.observe(&KeyEvent::press(t * 1000, KeyCode(30)));
            meter.observe(&KeyEvent::release(t * 1000 + 50_000, KeyCode(30)));
        }
    }

    #[test]
    fn sixty_wpm_is_five_characters_a_second() {
        let mut meter = SpeedMeter::default();
        // 11 presses 200 ms apart: 10 gaps, 10 characters in 2 s → 5 chars/s → 60 WPM.
        presses(&mut meter, &(0..11).map(|i| i * 200).collect::<Vec<_>>());
        assert_eq!(meter.characters, 10);
        assert_eq!(meter.active_us, 2_000_000);
        assert!((meter.wpm().unwrap() - 60.0).abs() < 1e-9);
    }

    #[test]
    fn pauses_count_neither_time_nor_characters() {
        let mut meter = SpeedMeter::default();
        presses(&mut meter, &[0, 200, 400, 10_000, 10_200]);
        assert_eq!(meter.active_us, 600_000);
        assert_eq!(meter.characters, 3);
    }

    #[test]
    fn a_single_key_has_no_speed_and_modifiers_are_not_characters() {
        let mut meter = SpeedMeter::default();
        presses(&mut meter, &[0]);
        assert_eq!(meter.wpm(), None);
        meter.observe(&KeyEvent::press(100_000, KeyCode::LEFT_SHIFT));
        assert_eq!(meter.characters, 0);
        assert_eq!(meter.active_us, 100_000);
    }
}
