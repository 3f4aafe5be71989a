//! Pausing capture: what a pause is, how long it lasts, and how it is kept across restarts.
//!
//! A pause has an end (`tikker pause --for 15m`) or lasts until `tikker resume`. While it lasts the
//! sources drop every event at the boundary (see [`crate::Gate`]): nothing reaches the
//! writer, nothing is counted, nothing is held in memory. The pause is written to the database
//! (setting [`PAUSE_SETTING`]) so that a daemon restarted during the pause keeps pausing until it
//! ends.

use std::time::Duration;

use anyhow::{Context, bail};

use crate::clock::{now_us, rfc3339};

/// The `settings` key that keeps the pause across restarts: `indefinite` or an RFC 3339 instant.
pub const PAUSE_SETTING: &str = "capture.paused_until";

/// Whether capture is paused, and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pause {
    /// Not paused.
    Off,
    /// Paused until this instant (microseconds since the Unix epoch).
    Until(i64),
    /// Paused until `tikker resume`.
    Indefinite,
}

impl Pause {
    /// A pause of `duration` from now, or until resumed when `None`.
    pub fn starting_now(duration: Option<Duration>) -> Pause {
        match duration {
            None => Pause::Indefinite,
            Some(duration) => {
                let micros = i64::try_from(duration.as_micros()).unwrap_or(i64::MAX);
                Pause::Until(now_us().saturating_add(micros))
            }
        }
    }

    /// Whether this pause still holds at `now_us`.
    pub fn is_active_at(self, now_us: i64) -> bool {
        match self {
            Pause::Off => false,
            Pause::Indefinite => true,
            Pause::Until(end) => now_us < end,
        }
    }

    /// The pause as stored in the database (`None` removes the setting).
    pub fn to_setting(self) -> Option<String> {
        match self {
            Pause::Off => None,
            Pause::Indefinite => Some("indefinite".into()),
            Pause::Until(end) => Some(rfc3339(end)),
        }
    }

    /// Reads a stored pause.
    pub fn from_setting(text: &str) -> anyhow::Result<Pause> {
        if text == "indefinite" {
            return Ok(Pause::Indefinite);
        }
        let instant: jiff::Timestamp = text
            .parse()
            .with_context(|| format!("{PAUSE_SETTING} = {text:?} is not an instant"))?;
        Ok(Pause::Until(instant.as_microsecond()))
    }

    /// The end of the pause as an RFC 3339 instant, if it has one.
    pub fn end_rfc3339(self) -> Option<String> {
        match self {
            Pause::Until(end) => Some(rfc3339(end)),
            Pause::Off | Pause::Indefinite => None,
        }
    }

    /// The pause packed into one integer for an atomic (0 = off, `i64::MAX` = indefinite).
    pub fn to_packed(self) -> i64 {
        match self {
            Pause::Off => 0,
            Pause::Indefinite => i64::MAX,
            Pause::Until(end) => end.clamp(1, i64::MAX - 1),
        }
    }

    /// The inverse of [`Pause::to_packed`].
    pub fn from_packed(packed: i64) -> Pause {
        match packed {
            0 => Pause::Off,
            i64::MAX => Pause::Indefinite,
            end => Pause::Until(end),
        }
    }
}

/// Reads a duration such as `15m`, `1h30m`, `90s`, `2d` or `1h 5m` (units s, m, h, d, also
/// spelled out).
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let usage = || format!("{text:?} is not a duration: write e.g. 15m, 1h30m, 90s or 2d");
    let mut total: u64 = 0;
    let mut rest = text.trim();
    if rest.is_empty() {
        bail!(usage());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            bail!(usage());
        }
        let number: u64 = rest[..digits].parse().with_context(usage)?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            _ => bail!(usage()),
        };
        total = number
            .checked_mul(seconds_per_unit)
            .and_then(|s| total.checked_add(s))
            .with_context(usage)?;
        rest = rest[unit_len..].trim_start();
    }
    if total == 0 {
        // Shared by `tikker pause --for` and `tikker forget --last`: worded for both.
        bail!("{text:?} is no time at all: give at least one second (e.g. 90s, 15m, 1h30m)");
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_in_common_spellings() {
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(
            parse_duration("1h 5min").unwrap(),
            Duration::from_secs(3900)
        );
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(
            parse_duration("2 days").unwrap(),
            Duration::from_secs(172_800)
        );
        for bad in ["", "15", "m", "-5m", "1w", "0s", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pauses_round_trip_through_settings_and_atomics() {
        for pause in [
            Pause::Off,
            Pause::Indefinite,
            Pause::Until(1_700_000_000_123_456),
        ] {
            assert_eq!(Pause::from_packed(pause.to_packed()), pause);
            match pause.to_setting() {
                Some(text) => assert_eq!(Pause::from_setting(&text).unwrap(), pause),
                None => assert_eq!(pause, Pause::Off),
            }
        }
        assert!(Pause::from_setting("tomorrow").is_err());
    }

    #[test]
    fn a_pause_holds_until_its_end() {
        let pause = Pause::Until(1000);
        assert!(pause.is_active_at(999));
        assert!(!pause.is_active_at(1000));
        assert!(Pause::Indefinite.is_active_at(i64::MAX - 1));
        assert!(!Pause::Off.is_active_at(0));
        let soon = Pause::starting_now(Some(Duration::from_secs(60)));
        assert!(soon.is_active_at(now_us()));
    }
}
