//! The statistics of `tikker stats`: events, keystrokes, active days, and per day keystrokes and
//! typing speed.
//!
//! Days are calendar days in the time zone given (the system's, for the CLI). A keystroke is a
//! press (auto-repeats are not keystrokes). Speed follows [`crate::typing`]: pauses over 2 s
//! are not typing time. A session's typing is measured on its own; a day is the sum of its
//! quarter-hour buckets ([`crate::activity`]), so typing that runs over midnight counts for the
//! day each press falls on (a gap, for the day of the press that ends it).

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;
use thiserror::Error;

use crate::activity::{ActivityBucket, ActivityBuilder, ActivityTally};
use crate::event::KeyEvent;

/// One day of typing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayStats {
    /// The calendar day.
    pub date: Date,
    /// Events of the day (presses, releases, repeats).
    pub events: u64,
    /// Key presses of the day.
    pub keystrokes: u64,
    /// Active typing time of the day in minutes.
    pub active_minutes: f64,
    /// Words per minute over the day's active typing time, if there was any.
    pub wpm: Option<f64>,
}

/// The statistics of a set of events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// All events.
    pub events: u64,
    /// All key presses.
    pub keystrokes: u64,
    /// Days with at least one keystroke.
    pub active_days: usize,
    /// Words per minute over all active typing time, if there was any.
    pub wpm: Option<f64>,
    /// Each day with events, oldest first.
    pub days: Vec<DayStats>,
    /// Events left out because no calendar day holds their time (a stored time outside the
    /// years 1970 to 9999); shown only when there were any.
    #[serde(skip_serializing_if = "is_zero")]
    pub skipped_events: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Maps microsecond timestamps to calendar days, remembering the current day's bounds so that
/// a stream of events costs one time-zone lookup per day, not per event.
#[derive(Debug)]
struct DayClock {
    tz: TimeZone,
    current: Option<(i64, i64, Date)>,
}

impl DayClock {
    fn date_of(&mut self, time_us: i64) -> Result<Date, TimeOutOfRange> {
        if let Some((start, end, date)) = self.current
            && (start..end).contains(&time_us)
        {
            return Ok(date);
        }
        let bad_time = || TimeOutOfRange(time_us);
        let timestamp = Timestamp::from_microsecond(time_us).map_err(|_| bad_time())?;
        let date = timestamp.to_zoned(self.tz.clone()).date();
        let start = date
            .to_zoned(self.tz.clone())
            .map_err(|_| bad_time())?
            .timestamp();
        let end = date
            .tomorrow()
            .and_then(|d| d.to_zoned(self.tz.clone()))
            .map_err(|_| bad_time())?
            .timestamp();
        self.current = Some((start.as_microsecond(), end.as_microsecond(), date));
        Ok(date)
    }
}

/// An event time that no calendar day holds (before year -9999 or after 9999), in µs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("event time {0} µs is out of range")]
pub struct TimeOutOfRange(pub i64);

/// Computes a [`Summary`] from a stream of events, streaming them once: feed each event with
/// [`StatsBuilder::push`] (events of one session in time order, sessions one after another),
/// then [`StatsBuilder::finish`]. It counts quarter-hour buckets exactly as the store's rollups
/// do ([`crate::activity`]) and sums them into days with [`Summary::from_buckets`], so a
/// summary of events equals the summary of their stored rollups.
#[derive(Debug)]
pub struct StatsBuilder {
    activity: ActivityBuilder,
    tz: TimeZone,
}

impl StatsBuilder {
    /// An empty builder whose days are calendar days in `tz`.
    pub fn new(tz: TimeZone) -> StatsBuilder {
        StatsBuilder {
            activity: ActivityBuilder::new(),
            tz,
        }
    }

    /// Counts one event of session `session` (any id that tells sessions apart).
    pub fn push(&mut self, session: i64, event: &KeyEvent) {
        self.activity.push(session, event);
    }

    /// The statistics of everything pushed; events whose time no calendar day holds are counted
    /// in [`Summary::skipped_events`].
    pub fn finish(self) -> Summary {
        Summary::from_buckets(self.activity.finish(), self.tz)
    }
}

impl Summary {
    /// Sums quarter-hour buckets (in any order, one user's or several users' with the same
    /// start) into calendar days in `tz`. A bucket whose start no calendar day holds (outside
    /// the years -9999 to 9999) is left out and its events counted in
    /// [`Summary::skipped_events`].
    pub fn from_buckets(
        buckets: impl IntoIterator<Item = ActivityBucket>,
        tz: TimeZone,
    ) -> Summary {
        let mut clock = DayClock { tz, current: None };
        let mut days: BTreeMap<Date, ActivityTally> = BTreeMap::new();
        let mut skipped_events = 0;
        for bucket in buckets {
            match clock.date_of(bucket.start_us) {
                Ok(date) => days.entry(date).or_default().add(&bucket.tally),
                Err(_) => skipped_events += bucket.tally.events,
            }
        }
        let mut total = ActivityTally::default();
        let days: Vec<DayStats> = days
            .into_iter()
            .map(|(date, tally)| {
                total.add(&tally);
                DayStats {
                    date,
                    events: tally.events,
                    keystrokes: tally.keystrokes,
                    active_minutes: tally.active_minutes(),
                    wpm: tally.wpm(),
                }
            })
            .collect();
        Summary {
            events: total.events,
            keystrokes: total.keystrokes,
            active_days: days.iter().filter(|d| d.keystrokes > 0).count(),
            wpm: total.wpm(),
            days,
            skipped_events,
        }
    }
}
