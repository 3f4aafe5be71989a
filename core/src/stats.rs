//! The statistics of `tikker stats`: events, keystrokes, active days, and per day keystrokes and
//! typing speed.
//!
//! Days are calendar days in the time zone given (the system's, for the CLI). A keystroke is a
//! press (auto-repeats are not keystrokes). Speed follows [`crate::typing`]: pauses over 2 s
//! are not typing time. A session's typing is measured on its own; typing that runs over
//! midnight counts for the day each press falls on.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;
use thiserror::Error;

use crate::event::{KeyAction, KeyEvent};
use crate::typing::SpeedMeter;

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

#[derive(Debug, Default)]
struct DayTally {
    events: u64,
    keystrokes: u64,
    speed: SpeedMeter,
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
/// then [`StatsBuilder::finish`].
#[derive(Debug)]
pub struct StatsBuilder {
    days: BTreeMap<Date, DayTally>,
    clock: DayClock,
    session: Option<i64>,
    total: SpeedMeter,
    last_day: Option<Date>,
    events: u64,
}

impl StatsBuilder {
    /// An empty builder whose days are calendar days in `tz`.
    pub fn new(tz: TimeZone) -> StatsBuilder {
        StatsBuilder {
            days: BTreeMap::new(),
            clock: DayClock { tz, current: None },
            session: None,
            total: SpeedMeter::default(),
            last_day: None,
            events: 0,
        }
    }

    /// Counts one event of session `session` (any id that tells sessions apart).
    ///
    /// # Errors
    /// [`TimeOutOfRange`] for a time no calendar day holds; nothing is counted then.
    pub fn push(&mut self, session: i64, event: &KeyEvent) -> Result<(), TimeOutOfRange> {
        let date = self.clock.date_of(event.time_us)?;
        let tally = self.days.entry(date).or_default();
        if self.session != Some(session) || self.last_day != Some(date) {
            // A new session, or midnight: each day's meter measures only its own presses.
            tally.speed.break_stream();
            if self.session != Some(session) {
                self.total.break_stream();
            }
            self.session = Some(session);
            self.last_day = Some(date);
        }
        self.events += 1;
        tally.events += 1;
        if event.action == KeyAction::Press {
            tally.keystrokes += 1;
        }
        tally.speed.observe(event);
        self.total.observe(event);
        Ok(())
    }

    /// The statistics of everything pushed.
    pub fn finish(self) -> Summary {
        let StatsBuilder {
            days,
            total,
            events,
            ..
        } = self;
        let days: Vec<DayStats> = days
            .into_iter()
            .map(|(date, tally)| DayStats {
                date,
                events: tally.events,
                keystrokes: tally.keystrokes,
                active_minutes: tally.speed.active_us as f64 / 60_000_000.0,
                wpm: tally.speed.wpm(),
            })
            .collect();
        Summary {
            events,
            keystrokes: days.iter().map(|d| d.keystrokes).sum(),
            active_days: days.iter().filter(|d| d.keystrokes > 0).count(),
            wpm: total.wpm(),
            days,
            skipped_events: 0,
        }
    }
}
