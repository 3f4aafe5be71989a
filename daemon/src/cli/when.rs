//! The times a person writes on the command line (`--from`, `--to`): `now`, `today`,
//! `yesterday`, a span back from now (`90s`, `15m`, `2h`, `7d`, `2w`), a calendar date
//! (`2026-11-30`, local time) or an RFC 3339 instant (`2026-11-30T09:00:00Z`).

use anyhow::{Context, bail};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Which end of a range a time bounds: a day as an end means the end of that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// `--from`: the start of a day.
    Start,
    /// `--to`: the end of a day (the start of the next one).
    Finish,
}

/// The instant (µs since the Unix epoch) that `text` names, `now` being `now` and days local
/// days of `tz`.
///
/// # Errors
/// Text that is none of the accepted forms, or a time outside the calendar; the message lists
/// the forms.
pub fn parse_bound(text: &str, end: End, now: Timestamp, tz: &TimeZone) -> anyhow::Result<i64> {
    let text = text.trim();
    let day = |date: Date| -> anyhow::Result<i64> {
        let date = match end {
            End::Start => date,
            End::Finish => date.tomorrow()?,
        };
        Ok(date.to_zoned(tz.clone())?.timestamp().as_microsecond())
    };
    let today = now.to_zoned(tz.clone()).date();
    match text {
        "now" => return Ok(now.as_microsecond()),
        "today" => return day(today),
        "yesterday" => return day(today.yesterday()?),
        _ => {}
    }
    if let Some(span) = span_back_us(text) {
        let span = span?;
        return now
            .as_microsecond()
            .checked_sub(span)
            .context("that is before any calendar");
    }
    if let Ok(instant) = text.parse::<Timestamp>() {
        return Ok(instant.as_microsecond());
    }
    if let Ok(date) = text.parse::<Date>() {
        return day(date);
    }
    bail!(
        "{text:?} is not a time: give now, today, yesterday, a span back from now (90s, 15m, 2h, 7d, 2w), a date (YYYY-MM-DD) or an RFC 3339 instant"
    )
}

/// `2h` → 2 hours in µs; `None` if `text` is not a number followed by s, m, h, d or w.
fn span_back_us(text: &str) -> Option<anyhow::Result<i64>> {
    let unit_at = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(unit_at);
    if number.is_empty() {
        return None;
    }
    let unit_us: i64 = match unit {
        "s" => 1_000_000,
        "m" | "min" => 60_000_000,
        "h" => 3_600_000_000,
        "d" => 86_400_000_000,
        "w" => 7 * 86_400_000_000,
        _ => return None,
    };
    Some(
        number
            .parse::<i64>()
            .ok()
            .and_then(|n| n.checked_mul(unit_us))
            .with_context(|| format!("{text:?} is too long a span")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, end: End) -> anyhow::Result<i64> {
        let now: Timestamp = "2026-11-30T15:00:00Z".parse().unwrap();
        parse_bound(text, end, now, &TimeZone::UTC)
    }

    fn us(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_microsecond()
    }

    #[test]
    fn words_spans_dates_and_instants_are_times() {
        assert_eq!(at("now", End::Start).unwrap(), us("2026-11-30T15:00:00Z"));
        assert_eq!(at("today", End::Start).unwrap(), us("2026-11-30T00:00:00Z"));
        assert_eq!(
            at("today", End::Finish).unwrap(),
            us("2026-12-01T00:00:00Z")
        );
        assert_eq!(
            at("yesterday", End::Start).unwrap(),
            us("2026-11-29T00:00:00Z")
        );
        assert_eq!(
            at("yesterday", End::Finish).unwrap(),
            us("2026-11-30T00:00:00Z")
        );
        assert_eq!(at("2h", End::Start).unwrap(), us("2026-11-30T13:00:00Z"));
        assert_eq!(at("90s", End::Start).unwrap(), us("2026-11-30T14:58:30Z"));
        assert_eq!(at("7d", End::Start).unwrap(), us("2026-11-23T15:00:00Z"));
        assert_eq!(at("2w", End::Start).unwrap(), us("2026-11-16T15:00:00Z"));
        assert_eq!(
            at("2026-11-01", End::Start).unwrap(),
            us("2026-11-01T00:00:00Z")
        );
        assert_eq!(
            at("2026-11-01", End::Finish).unwrap(),
            us("2026-11-02T00:00:00Z")
        );
        assert_eq!(
            at("2026-11-01T08:30:00+01:00", End::Start).unwrap(),
            us("2026-11-01T07:30:00Z")
        );
    }

    #[test]
    fn anything_else_says_which_forms_are_accepted() {
        for bad in [
            "tomorrowish",
            "2x",
            "h",
            "",
            "2026-13-01",
            "99999999999999999d",
        ] {
            let err = format!("{:#}", at(bad, End::Start).unwrap_err());
            assert!(
                err.contains("yesterday") || err.contains("too long"),
                "{bad:?}: {err}"
            );
        }
    }
}
