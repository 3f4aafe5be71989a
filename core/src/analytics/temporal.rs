//! Time: `/temporal/analyze` (events per day stored in `tikker.db`, and their trend) and the
//! peak hours of a request's typing.
//!
//! **Days** are calendar days in the time zone given (the system's in the daemon), the last of
//! them today; every day of the range is listed, days without events with 0.
//!
//! **Trend**: the least-squares line through the daily counts; its rise over the range, relative
//! to the mean count, above +[`TREND_THRESHOLD`] (20 %) is `increasing`, below −20 %
//! `decreasing`, otherwise `stable`. With events on fewer than two days it is
//! `insufficient_data`.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use super::input::InputError;
use crate::event::{KeyAction, KeyEvent};
use crate::stats::DayStats;

/// The longest range of `/temporal/analyze`, in days (ten years).
pub const MAX_RANGE_DAYS: u32 = 3650;
/// A relative rise (or fall) over the range beyond this is a trend.
pub const TREND_THRESHOLD: f64 = 0.2;
/// How many peak hours are reported.
pub const PEAK_HOURS: usize = 3;

/// The direction of the daily counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    /// Rising.
    Increasing,
    /// Falling.
    Decreasing,
    /// Neither.
    Stable,
    /// Events on fewer than two days.
    InsufficientData,
}

impl Trend {
    /// The name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Increasing => "increasing",
            Trend::Decreasing => "decreasing",
            Trend::Stable => "stable",
            Trend::InsufficientData => "insufficient_data",
        }
    }
}

/// The events of one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyCount {
    /// The calendar day.
    pub date: Date,
    /// Events stored for it (presses, releases, repeats).
    pub total_events: u64,
}

/// The answer of `/temporal/analyze`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemporalAnalysis {
    /// The trend of the daily counts.
    pub trend: Trend,
    /// Every day of the range, oldest first.
    pub days: Vec<DailyCount>,
}

/// The trend of daily counts (oldest first).
pub fn trend(counts: &[u64]) -> Trend {
    if counts.iter().filter(|c| **c > 0).count() < 2 {
        return Trend::InsufficientData;
    }
    let n = counts.len() as f64;
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = counts.iter().sum::<u64>() as f64 / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (x, y) in counts.iter().enumerate() {
        let dx = x as f64 - mean_x;
        sxy += dx * (*y as f64 - mean_y);
        sxx += dx * dx;
    }
    let rise = sxy / sxx * (n - 1.0) / mean_y;
    if rise > TREND_THRESHOLD {
        Trend::Increasing
    } else if rise < -TREND_THRESHOLD {
        Trend::Decreasing
    } else {
        Trend::Stable
    }
}

fn day_start(date: Date, tz: &TimeZone) -> Result<i64, InputError> {
    date.to_zoned(tz.clone())
        .map(|zoned| zoned.timestamp().as_microsecond())
        .map_err(|e| InputError::new("date_range_days", format!("no such day: {e}")))
}

/// The calendar days of a `/temporal/analyze` range, the last of them today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    /// The first day.
    pub first: Date,
    /// The last day: today.
    pub today: Date,
    /// The start of the first day (µs since the Unix epoch), the lower bound of the events read.
    pub from_us: i64,
    /// The start of tomorrow (µs), the exclusive upper bound of the events read.
    pub to_us: i64,
}

/// The last `days` days up to `now`, in `tz`.
///
/// # Errors
/// An [`InputError`] naming `date_range_days` when `days` is outside 1..=[`MAX_RANGE_DAYS`] or
/// the range leaves the calendar.
pub fn day_range(days: u32, now: Timestamp, tz: &TimeZone) -> Result<DayRange, InputError> {
    if !(1..=MAX_RANGE_DAYS).contains(&days) {
        return Err(InputError::new(
            "date_range_days",
            format!("{days} is out of range: give 1 to {MAX_RANGE_DAYS}"),
        ));
    }
    let today = now.to_zoned(tz.clone()).date();
    let out_of_range = |e: jiff::Error| InputError::new("date_range_days", e.to_string());
    let first = today
        .checked_sub((i64::from(days) - 1).days())
        .map_err(out_of_range)?;
    let tomorrow = today.tomorrow().map_err(out_of_range)?;
    Ok(DayRange {
        first,
        today,
        from_us: day_start(first, tz)?,
        to_us: day_start(tomorrow, tz)?,
    })
}

/// Events per day over `range`, from the per-day statistics of the stored events in it
/// (`stored`, oldest first, as [`crate::stats::Summary::days`] lists them), and their trend.
///
/// # Errors
/// An [`InputError`] naming `date_range_days` if the range leaves the calendar.
pub fn analyze(range: &DayRange, stored: &[DayStats]) -> Result<TemporalAnalysis, InputError> {
    let out_of_range = |e: jiff::Error| InputError::new("date_range_days", e.to_string());
    let mut stored = stored.iter().peekable();
    let mut list = Vec::new();
    let mut date = range.first;
    while date <= range.today {
        let mut total_events = 0;
        while let Some(day) = stored.next_if(|d| d.date <= date) {
            if day.date == date {
                total_events = day.events;
            }
        }
        list.push(DailyCount { date, total_events });
        date = date.tomorrow().map_err(out_of_range)?;
    }
    let counts: Vec<u64> = list.iter().map(|d| d.total_events).collect();
    Ok(TemporalAnalysis {
        trend: trend(&counts),
        days: list,
    })
}

/// The hours of the day (0–23, in `tz`) with the most key presses in `events`, busiest first
/// (ties: the earlier hour), at most [`PEAK_HOURS`].
pub fn peak_hours(events: &[KeyEvent], tz: &TimeZone) -> Vec<u8> {
    let mut per_hour = [0u64; 24];
    // The bounds of the hour of the previous press, so that a stream costs one time-zone look-up
    // per hour of typing, not per event.
    let mut current: Option<(i64, i64, u8)> = None;
    for event in events.iter().filter(|e| e.action == KeyAction::Press) {
        let hour = match current {
            Some((start, end, hour)) if (start..end).contains(&event.time_us) => hour,
            _ => {
                let Ok(at) = Timestamp::from_microsecond(event.time_us) else {
                    continue;
                };
                let zoned = at.to_zoned(tz.clone());
                let hour = zoned.hour().clamp(0, 23) as u8;
                let start = zoned
                    .start_of_day()
                    .ok()
                    .and_then(|day| day.checked_add(i64::from(hour).hours()).ok())
                    .map(|z| z.timestamp().as_microsecond());
                if let Some(start) = start {
                    current = Some((start, start + 3_600_000_000, hour));
                }
                hour
            }
        };
        per_hour[usize::from(hour)] += 1;
    }
    let mut hours: Vec<u8> = (0..24u8)
        .filter(|h| per_hour[usize::from(*h)] > 0)
        .collect();
    hours.sort_by_key(|h| std::cmp::Reverse(per_hour[usize::from(*h)]));
    hours.truncate(PEAK_HOURS);
    hours
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::KeyCode;
    use rstest::rstest;

    #[rstest]
    #[case::rising(&[10, 20, 30, 40], Trend::Increasing)]
    #[case::falling(&[40, 30, 20, 10], Trend::Decreasing)]
    #[case::flat(&[30, 28, 31, 30], Trend::Stable)]
    #[case::one_day(&[0, 0, 50, 0], Trend::InsufficientData)]
    #[case::nothing(&[0, 0], Trend::InsufficientData)]
    fn trends(#[case] counts: &[u64], #[case] expected: Trend) {
        assert_eq!(trend(counts), expected);
    }

    #[test]
    fn every_day_of_the_range_is_listed_with_its_stored_events() {
        let tz = TimeZone::UTC;
        let now: Timestamp = "2026-03-10T12:00:00Z".parse().unwrap();
        let day_us = 86_400_000_000i64;
        let mut stats = crate::stats::StatsBuilder::new(tz.clone());
        for (days_ago, count) in [(9i64, 100), (2, 4), (0, 6)] {
            let start = now.as_microsecond() - days_ago * day_us;
            for i in 0..count {
                stats.push(days_ago, &KeyEvent::press(start + i * 1000, KeyCode(30)));
            }
        }
        let stored = stats.finish().days;
        let range = day_range(3, now, &tz).unwrap();
        let in_range: Vec<DayStats> = stored
            .iter()
            .filter(|d| d.date >= range.first)
            .cloned()
            .collect();
        let analysis = analyze(&range, &in_range).unwrap();
        let days: Vec<(String, u64)> = analysis
            .days
            .iter()
            .map(|d| (d.date.to_string(), d.total_events))
            .collect();
        assert_eq!(
            days,
            [
                ("2026-03-08".to_owned(), 4),
                ("2026-03-09".to_owned(), 0),
                ("2026-03-10".to_owned(), 6)
            ]
        );
        assert_eq!(analysis.trend, Trend::Increasing);
        let err = day_range(0, now, &tz).unwrap_err();
        assert!(err.to_string().contains("date_range_days"), "{err}");
        let decade = day_range(3650, now, &tz).unwrap();
        assert_eq!(analyze(&decade, &stored).unwrap().days.len(), 3650);
    }

    #[test]
    fn peak_hours_are_the_busiest_hours() {
        let hour = 3_600_000_000i64;
        let mut events = Vec::new();
        for (h, n) in [(9i64, 5), (14, 9), (22, 1), (23, 5)] {
            for i in 0..n {
                events.push(KeyEvent::press(h * hour + i * 1_000_000, KeyCode(30)));
            }
        }
        events.push(KeyEvent::release(15 * hour, KeyCode(30)));
        assert_eq!(peak_hours(&events, &TimeZone::UTC), [14, 9, 23]);
        assert!(peak_hours(&[], &TimeZone::UTC).is_empty());
        let offset = TimeZone::fixed(jiff::tz::offset(2));
        assert_eq!(peak_hours(&events[..5], &offset), [11]);
    }
}
