//! Key events: one press, release or auto-repeat of one key, stamped in Unix microseconds.
//!
//! An event carries the key's identity and the time only. The text a key produced is never part
//! of an event, so it can be neither stored nor logged.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::key::KeyCode;

/// What happened to the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyAction {
    /// The key went down.
    Press,
    /// The key came up.
    Release,
    /// The key is held and the system generated an auto-repeat (not a new keystroke).
    Repeat,
}

impl KeyAction {
    /// The integer stored in `tikker.db` (and used by evdev): release 0, press 1, repeat 2.
    pub fn to_code(self) -> i64 {
        match self {
            KeyAction::Release => 0,
            KeyAction::Press => 1,
            KeyAction::Repeat => 2,
        }
    }

    /// The action of a stored (or evdev) value.
    pub fn from_code(code: i64) -> Option<KeyAction> {
        match code {
            0 => Some(KeyAction::Release),
            1 => Some(KeyAction::Press),
            2 => Some(KeyAction::Repeat),
            _ => None,
        }
    }

    /// The lower-case name used in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAction::Press => "press",
            KeyAction::Release => "release",
            KeyAction::Repeat => "repeat",
        }
    }
}

impl fmt::Display for KeyAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an event action name was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event {0:?}: expected press, release or repeat")]
pub struct UnknownAction(pub String);

impl FromStr for KeyAction {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "press" | "down" | "keydown" => Ok(KeyAction::Press),
            "release" | "up" | "keyup" => Ok(KeyAction::Release),
            "repeat" => Ok(KeyAction::Repeat),
            _ => Err(UnknownAction(s.to_owned())),
        }
    }
}

/// One key event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KeyEvent {
    /// When it happened, in microseconds since the Unix epoch.
    pub time_us: i64,
    /// Which key.
    pub key: KeyCode,
    /// Press, release or repeat.
    pub action: KeyAction,
}

impl KeyEvent {
    /// A press of `key` at `time_us`.
    pub fn press(time_us: i64, key: KeyCode) -> KeyEvent {
        KeyEvent {
            time_us,
            key,
            action: KeyAction::Press,
        }
    }

    /// A release of `key` at `time_us`.
    pub fn release(time_us: i64, key: KeyCode) -> KeyEvent {
        KeyEvent {
            time_us,
            key,
            action: KeyAction::Release,
        }
    }
}

/// The earliest time an event may have: the Unix epoch, 1970-01-01T00:00:00Z (µs).
pub const MIN_TIME_US: i64 = 0;
/// The latest time an event may have: 9999-12-31T23:59:59.999999Z, in µs since the Unix epoch.
pub const MAX_TIME_US: i64 = 253_402_300_799_999_999;

/// Whether `time_us` lies in the years 1970 to 9999 ([`MIN_TIME_US`] to [`MAX_TIME_US`]): the
/// times the HTTP API, every importer and the replay source accept, and the only ones the
/// whole-database readers count.
pub fn time_in_bounds(time_us: i64) -> bool {
    (MIN_TIME_US..=MAX_TIME_US).contains(&time_us)
}

/// `time_us` if it lies in the years 1970 to 9999 ([`time_in_bounds`]).
///
/// # Errors
/// [`TimeOutOfBounds`] naming the time otherwise.
pub fn check_time_us(time_us: i64) -> Result<i64, TimeOutOfBounds> {
    if time_in_bounds(time_us) {
        Ok(time_us)
    } else {
        Err(TimeOutOfBounds(time_us))
    }
}

/// An event time outside the years 1970 to 9999, in µs since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{} µs is {} (times must lie in the years 1970 to 9999)", .0, if *.0 < MIN_TIME_US { "before 1970" } else { "after the year 9999" })]
pub struct TimeOutOfBounds(pub i64);

/// Sorts events by time, keeping the given order of events at the same microsecond, except that
/// a press comes before the release of the same key at the same instant (a zero hold time).
pub fn sort_events(events: &mut [KeyEvent]) {
    events.sort_by_key(|e| (e.time_us, e.action != KeyAction::Press));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_bounds_are_the_years_1970_to_9999() {
        let days = jiff::civil::date(1970, 1, 1)
            .until(jiff::civil::date(9999, 12, 31))
            .unwrap()
            .get_days();
        assert_eq!(MAX_TIME_US, (i64::from(days) + 1) * 86_400 * 1_000_000 - 1);
        assert!(time_in_bounds(0) && time_in_bounds(MAX_TIME_US));
        assert!(!time_in_bounds(-1) && !time_in_bounds(MAX_TIME_US + 1));
        assert!(
            check_time_us(i64::MIN)
                .unwrap_err()
                .to_string()
                .contains("before 1970")
        );
        assert!(
            check_time_us(i64::MAX)
                .unwrap_err()
                .to_string()
                .contains("after the year 9999")
        );
    }

    #[test]
    fn actions_round_trip_through_codes_and_names() {
        for action in [KeyAction::Press, KeyAction::Release, KeyAction::Repeat] {
            assert_eq!(KeyAction::from_code(action.to_code()), Some(action));
            assert_eq!(action.as_str().parse::<KeyAction>(), Ok(action));
        }
        assert_eq!(KeyAction::from_code(7), None);
        assert!("hold".parse::<KeyAction>().is_err());
    }

    #[test]
    fn sorting_puts_a_press_before_its_release_at_the_same_instant() {
        let a = KeyCode(30);
        let mut events = vec![
            KeyEvent::release(10, a),
            KeyEvent::press(10, a),
            KeyEvent::press(5, KeyCode(31)),
        ];
        sort_events(&mut events);
        assert_eq!(
            events,
            vec![
                KeyEvent::press(5, KeyCode(31)),
                KeyEvent::press(10, a),
                KeyEvent::release(10, a)
            ]
        );
    }
}
