//! Typing activity in quarter-hour buckets: the rollups that statistics, the temporal analysis
//! and the dashboard read instead of raw key events.
//!
//! A bucket is the quarter hour `[start_us, start_us + BUCKET_US)` of UTC time (every time
//! zone in use today is offset from UTC by a whole number of quarter hours, so a calendar day
//! in any of them is a whole number of buckets). A bucket holds counts without key order or
//! key identities: events, keystrokes (presses), active typing time and characters. The store
//! keeps one row per user and bucket, updated as events are written, so these aggregates
//! outlive the raw events that retention deletes.
//!
//! **Attribution.** An event counts for the bucket its time falls in. Active typing time and
//! characters follow [`crate::typing`]: the gap between two presses of one session, when it is
//! not a pause, counts (with the character of the press ending it, if a text key) for the
//! bucket of the press that *ends* it. This is the one definition of typing time and speed in
//! tikker: days, hours and the whole range are sums of buckets.

use serde::Serialize;

use crate::event::{KeyAction, KeyEvent};
use crate::typing::SpeedMeter;

/// The length of a bucket: 15 minutes, in µs.
pub const BUCKET_US: i64 = 15 * 60 * 1_000_000;

/// The start of the bucket holding `time_us` (µs since the Unix epoch; times before 1970 round
/// down as well).
pub fn bucket_start(time_us: i64) -> i64 {
    time_us.div_euclid(BUCKET_US) * BUCKET_US
}

/// The counts of a stretch of typing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ActivityTally {
    /// Events (presses, releases and auto-repeats).
    pub events: u64,
    /// Key presses (auto-repeats are not keystrokes).
    pub keystrokes: u64,
    /// Active typing time in µs (see [`crate::typing`]).
    pub active_us: i64,
    /// Characters typed during active time.
    pub characters: u64,
}

impl ActivityTally {
    /// Adds another tally's counts to this one.
    pub fn add(&mut self, other: &ActivityTally) {
        self.events += other.events;
        self.keystrokes += other.keystrokes;
        self.active_us += other.active_us;
        self.characters += other.characters;
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        *self == ActivityTally::default()
    }

    /// Active typing time in minutes.
    pub fn active_minutes(&self) -> f64 {
        self.active_us as f64 / 60_000_000.0
    }

    /// Words per minute, `(characters / 5) / active minutes`, or `None` without active time.
    pub fn wpm(&self) -> Option<f64> {
        crate::typing::wpm(self.characters, self.active_us)
    }
}

/// One bucket's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ActivityBucket {
    /// The bucket's start, µs since the Unix epoch, a multiple of [`BUCKET_US`].
    pub start_us: i64,
    /// What was counted in it.
    pub tally: ActivityTally,
}

/// Attributes the events of one session, fed in time order, to buckets.
#[derive(Debug, Clone, Copy, Default)]
pub struct ActivityMeter {
    speed: SpeedMeter,
}

impl ActivityMeter {
    /// Counts one event: returns its bucket's start and what it adds to that bucket.
    pub fn observe(&mut self, event: &KeyEvent) -> (i64, ActivityTally) {
        let before = self.speed;
        self.speed.observe(event);
        let tally = ActivityTally {
            events: 1,
            keystrokes: u64::from(event.action == KeyAction::Press),
            active_us: self.speed.active_us - before.active_us,
            characters: self.speed.characters - before.characters,
        };
        (bucket_start(event.time_us), tally)
    }
}

/// Accumulates buckets from a stream of events, session by session: the reference that the
/// store's incremental rollups must equal (and the way to compute them for events outside a
/// store).
#[derive(Debug, Default)]
pub struct ActivityBuilder {
    buckets: std::collections::BTreeMap<i64, ActivityTally>,
    session: Option<i64>,
    meter: ActivityMeter,
}

impl ActivityBuilder {
    /// An empty builder.
    pub fn new() -> ActivityBuilder {
        ActivityBuilder::default()
    }

    /// Counts one event of session `session` (any id that tells sessions apart); each session's
    /// events must come in time order, sessions one after another.
    pub fn push(&mut self, session: i64, event: &KeyEvent) {
        if self.session != Some(session) {
            self.session = Some(session);
            self.meter = ActivityMeter::default();
        }
        let (start, tally) = self.meter.observe(event);
        self.buckets.entry(start).or_default().add(&tally);
    }

    /// The buckets counted, oldest first.
    pub fn finish(self) -> Vec<ActivityBucket> {
        self.buckets
            .into_iter()
            .map(|(start_us, tally)| ActivityBucket { start_us, tally })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::KeyCode;

    const S: i64 = 1_000_000;

    #[test]
    fn bucket_starts_are_quarter_hours_even_before_1970() {
        assert_eq!(bucket_start(0), 0);
        assert_eq!(bucket_start(BUCKET_US - 1), 0);
        assert_eq!(bucket_start(BUCKET_US), BUCKET_US);
        assert_eq!(bucket_start(-1), -BUCKET_US);
    }

    #[test]
    fn a_gap_counts_for_the_bucket_of_the_press_that_ends_it() {
        let edge = 10 * BUCKET_US;
        let mut builder = ActivityBuilder::new();
        builder.push(1, &KeyEvent::press(edge - S, KeyCode(30)));
        builder.push(1, &KeyEvent::release(edge - S / 2, KeyCode(30)));
        builder.push(1, &KeyEvent::press(edge + S / 2, KeyCode(31)));
        let buckets = builder.finish();
        assert_eq!(buckets.len(), 2);
        assert_eq!(
            buckets[0].tally,
            ActivityTally {
                events: 2,
                keystrokes: 1,
                active_us: 0,
                characters: 0
            }
        );
        assert_eq!(
            buckets[1].tally,
            ActivityTally {
                events: 1,
                keystrokes: 1,
                active_us: 3 * S / 2,
                characters: 1
            }
        );
    }

    #[test]
    fn pauses_and_new_sessions_open_a_new_burst() {
        let mut builder = ActivityBuilder::new();
        builder.push(1, &KeyEvent::press(0, KeyCode(30)));
        builder.push(1, &KeyEvent::press(3 * S, KeyCode(30)));
        builder.push(2, &KeyEvent::press(3 * S + 100, KeyCode(30)));
        builder.push(2, &KeyEvent::press(4 * S, KeyCode(30)));
        let tally = builder.finish()[0].tally;
        assert_eq!(tally.keystrokes, 4);
        assert_eq!(tally.active_us, S - 100);
        assert_eq!(tally.characters, 1);
        let wpm = tally.wpm().unwrap();
        assert!((wpm - 0.2 / ((S - 100) as f64 / 60e6)).abs() < 1e-9);
    }
}
