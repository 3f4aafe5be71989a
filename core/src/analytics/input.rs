//! The checks every request of the HTTP API passes, and its limits.
//!
//! An event is `{"timestamp": <ms>, "key_code": <int>, "event_type": "press"|"release"}`: the
//! timestamp is a number of milliseconds (fractions are kept to the microsecond), at least 0 and
//! at most the end of year 9999; the key code an evdev number from 0 to [`KeyCode::MAX`]. Events
//! may come in any order: [`events`] sorts them (a press before the release of the same key at
//! the same instant). A `user_id` has 1 to [`MAX_USER_ID_CHARS`] characters and no control
//! character. Every error names the field, as a path into the request (`events[3].timestamp`).

use crate::event::{KeyAction, KeyEvent, sort_events};
use crate::key::KeyCode;

/// The most events one request may carry.
pub const MAX_EVENTS: usize = 200_000;
/// The longest `user_id`, in characters.
pub const MAX_USER_ID_CHARS: usize = 128;
/// The latest timestamp accepted: 9999-12-31T23:59:59.999Z, in milliseconds (the last whole
/// millisecond of [`crate::event::MAX_TIME_US`], the bound every importer shares).
#[allow(clippy::cast_precision_loss)] // 2.5e14 is exact in an f64
pub const MAX_TIMESTAMP_MS: f64 = (crate::event::MAX_TIME_US / 1000) as f64;

/// A request field that is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InputError {
    /// The field, as a path into the request (`events[3].timestamp`, `user_id`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl InputError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> InputError {
        InputError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// One event as a request gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawEvent {
    /// Milliseconds.
    pub timestamp_ms: f64,
    /// Evdev key code.
    pub key_code: i64,
    /// Press or release.
    pub action: KeyAction,
}

/// Checks one event (the `index`-th of the request) and converts it.
pub fn event(index: usize, raw: &RawEvent) -> Result<KeyEvent, InputError> {
    let field = |name: &str| format!("events[{index}].{name}");
    let ms = raw.timestamp_ms;
    if !ms.is_finite() {
        return Err(InputError::new(
            field("timestamp"),
            "must be a finite number",
        ));
    }
    if ms < 0.0 {
        return Err(InputError::new(
            field("timestamp"),
            format!(
                "{ms} is negative: give milliseconds since the Unix epoch (or since any start), at least 0"
            ),
        ));
    }
    if ms > MAX_TIMESTAMP_MS {
        return Err(InputError::new(
            field("timestamp"),
            format!("{ms} is after the year 9999: give milliseconds, not micro- or nanoseconds"),
        ));
    }
    let key = u16::try_from(raw.key_code)
        .ok()
        .filter(|code| *code <= KeyCode::MAX)
        .ok_or_else(|| {
            InputError::new(
                field("key_code"),
                format!(
                    "{} is not a key code: give a Linux evdev code from 0 to {}",
                    raw.key_code,
                    KeyCode::MAX
                ),
            )
        })?;
    if raw.action == KeyAction::Repeat {
        return Err(InputError::new(
            field("event_type"),
            "\"repeat\" is not accepted: give \"press\" or \"release\"",
        ));
    }
    Ok(KeyEvent {
        time_us: (ms * 1000.0).round() as i64,
        key: KeyCode(key),
        action: raw.action,
    })
}

/// Checks every event and returns them sorted by time.
pub fn events(raw: &[RawEvent]) -> Result<Vec<KeyEvent>, InputError> {
    let mut events = raw
        .iter()
        .enumerate()
        .map(|(index, raw)| event(index, raw))
        .collect::<Result<Vec<_>, _>>()?;
    if !events.is_sorted_by_key(|e| e.time_us) {
        sort_events(&mut events);
    }
    Ok(events)
}

/// Checks a `user_id`.
pub fn user_id(user_id: &str) -> Result<(), InputError> {
    let chars = user_id.chars().count();
    if chars == 0 {
        return Err(InputError::new("user_id", "must not be empty"));
    }
    if chars > MAX_USER_ID_CHARS {
        return Err(InputError::new(
            "user_id",
            format!("has {chars} characters: at most {MAX_USER_ID_CHARS} are allowed"),
        ));
    }
    if let Some(c) = user_id.chars().find(|c| c.is_control()) {
        return Err(InputError::new(
            "user_id",
            format!("contains the control character U+{:04X}", u32::from(c)),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn raw(timestamp_ms: f64, key_code: i64, action: KeyAction) -> RawEvent {
        RawEvent {
            timestamp_ms,
            key_code,
            action,
        }
    }

    #[test]
    fn events_are_converted_to_microseconds_and_sorted() {
        let events = events(&[
            raw(190.0, 46, KeyAction::Press),
            raw(0.0, 30, KeyAction::Press),
            raw(95.5, 48, KeyAction::Press),
            raw(0.0, 30, KeyAction::Release),
        ])
        .unwrap();
        let times: Vec<i64> = events.iter().map(|e| e.time_us).collect();
        assert_eq!(times, [0, 0, 95_500, 190_000]);
        assert_eq!(events[0].action, KeyAction::Press);
        assert_eq!(events[1].action, KeyAction::Release);
    }

    #[rstest]
    #[case::nan(raw(f64::NAN, 30, KeyAction::Press), "events[0].timestamp")]
    #[case::negative(raw(-1.0, 30, KeyAction::Press), "events[0].timestamp")]
    #[case::nanoseconds(raw(1.7e18, 30, KeyAction::Press), "events[0].timestamp")]
    #[case::negative_key(raw(0.0, -1, KeyAction::Press), "events[0].key_code")]
    #[case::key_too_large(raw(0.0, 768, KeyAction::Press), "events[0].key_code")]
    #[case::repeat(raw(0.0, 30, KeyAction::Repeat), "events[0].event_type")]
    fn a_bad_event_is_named(#[case] bad: RawEvent, #[case] field: &str) {
        assert_eq!(event(0, &bad).unwrap_err().field, field);
    }

    #[rstest]
    #[case::empty("")]
    #[case::too_long(&"x".repeat(129))]
    #[case::newline("al\nice")]
    #[case::nul("al\u{0}ice")]
    fn a_bad_user_id_is_refused(#[case] id: &str) {
        assert_eq!(user_id(id).unwrap_err().field, "user_id");
    }

    #[test]
    fn a_long_unicode_user_id_counts_characters() {
        user_id(&"é".repeat(128)).unwrap();
        user_id("alice").unwrap();
    }
}
