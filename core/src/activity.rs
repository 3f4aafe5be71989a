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
//!
//! **Rhythm.** The same gaps are the bucket's press-to-press intervals (digraph latencies, in
//! µs): a bucket keeps how many there were ([`ActivityTally::intervals`]) and the sum of their
//! squares ([`ActivityTally::interval_squares`]); their sum is the active time. Sums pool
//! across buckets, so the rhythm consistency of a day, a week or a month
//! ([`ActivityTally::rhythm_consistency`]) is computed from the summed buckets exactly as if
//! from every interval of the span.

use serde::Serialize;

use crate::event::{KeyAction, KeyEvent};
use crate::typing::SpeedMeter;

/// The length of a bucket: 15 minutes, in µs.
pub const BUCKET_US: i64 = 15 * 60 * 1_000_000;

/// The start of the bucket holding `time_us` (µs since the Unix epoch; times before 1970 round
/// down as well).
pub fn bucket_start(time_us: i64) -> i64 {
    // Saturates at the very bottom of the range (times no calendar day holds anyway).
    time_us.saturating_sub(time_us.rem_euclid(BUCKET_US))
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
    /// Press-to-press intervals counted as active time: the gaps of [`Self::active_us`] (so
    /// their sum, in µs, is `active_us`).
    pub intervals: u64,
    /// The sum of the squares of those intervals, in µs².
    pub interval_squares: u128,
}

impl ActivityTally {
    /// Adds another tally's counts to this one.
    pub fn add(&mut self, other: &ActivityTally) {
        self.events += other.events;
        self.keystrokes += other.keystrokes;
        self.active_us += other.active_us;
        self.characters += other.characters;
        self.intervals += other.intervals;
        self.interval_squares += other.interval_squares;
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

    /// The mean press-to-press interval during active typing, in ms, or `None` without
    /// intervals.
    pub fn mean_interval_ms(&self) -> Option<f64> {
        (self.intervals > 0).then(|| self.active_us as f64 / self.intervals as f64 / 1000.0)
    }

    /// Rhythm consistency of the stretch: `1 − std / mean` of its press-to-press intervals
    /// (pauses excluded), clamped to [0, 1], as [`crate::features::rhythm_consistency`] defines
    /// it for a profile. `std / mean` is the intervals' coefficient of variation, computed from
    /// the pooled sums: with `n` intervals summing to `S` µs (the active time) whose squares sum
    /// to `Q` µs², `mean = S / n` and `std² = (Q − S² / n) / (n − 1)` (the sample variance).
    ///
    /// Higher is steadier: 1 means every press came exactly as long after the one before as
    /// the others; 0.5 means the intervals typically stray from their mean by half of it; 0
    /// means they stray by as much as the mean or more. `None` with fewer than two intervals or
    /// a mean of zero.
    pub fn rhythm_consistency(&self) -> Option<f64> {
        if self.intervals < 2 {
            return None;
        }
        let n = self.intervals as f64;
        let mean = self.active_us as f64 / n;
        let spread = self.interval_squares as f64 - n * mean * mean;
        let std = (spread / (n - 1.0)).max(0.0).sqrt();
        crate::features::rhythm_consistency(mean, std)
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
        let interval = self.speed.observe(event);
        let tally = ActivityTally {
            events: 1,
            keystrokes: u64::from(event.action == KeyAction::Press),
            active_us: self.speed.active_us - before.active_us,
            characters: self.speed.characters - before.characters,
            intervals: u64::from(interval.is_some()),
            // An interval is never negative (see `SpeedMeter::observe_counted_press`).
            interval_squares: interval.map_or(0, |gap| u128::from(gap.unsigned_abs()).pow(2)),
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
    use crate::typing::PAUSE_US;

    const S: i64 = 1_000_000;

    #[test]
    fn bucket_starts_are_quarter_hours_even_before_1970() {
        assert_eq!(bucket_start(0), 0);
        assert_eq!(bucket_start(BUCKET_US - 1), 0);
        assert_eq!(bucket_start(BUCKET_US), BUCKET_US);
        assert_eq!(bucket_start(-1), -BUCKET_US);
        assert_eq!(bucket_start(i64::MAX) % BUCKET_US, 0);
        assert_eq!(
            bucket_start(i64::MIN),
            i64::MIN,
            "saturates instead of overflowing"
        );
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
                characters: 0,
                intervals: 0,
                interval_squares: 0
            }
        );
        assert_eq!(
            buckets[1].tally,
            ActivityTally {
                events: 1,
                keystrokes: 1,
                active_us: 3 * S / 2,
                characters: 1,
                intervals: 1,
                interval_squares: (3 * S as u128 / 2).pow(2)
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

    /// Presses of one session at the given times (ms), each released 50 ms later.
    fn typed(builder: &mut ActivityBuilder, session: i64, times_ms: &[i64]) {
        for t in times_ms {
            builder.push(session, &KeyEvent::press(t * 1000, KeyCode(30)));
            builder.push(session, &KeyEvent::release(t * 1000 + 50_000, KeyCode(30)));
        }
    }

    #[test]
    fn rhythm_consistency_is_one_minus_the_intervals_coefficient_of_variation() {
        // Steady: every interval 200 ms.
        let mut builder = ActivityBuilder::new();
        typed(&mut builder, 1, &[0, 200, 400, 600, 800]);
        let steady = builder.finish()[0].tally;
        assert_eq!(steady.intervals, 4);
        assert_eq!(steady.interval_squares, 4 * 200_000u128.pow(2));
        assert_eq!(steady.mean_interval_ms(), Some(200.0));
        assert_eq!(steady.rhythm_consistency(), Some(1.0));
        // Uneven: 100, 300, 100, 300 ms (mean 200, sample std √(4·100²/3) ≈ 115.5 ms), and a
        // pause that counts for nothing.
        let mut builder = ActivityBuilder::new();
        typed(&mut builder, 1, &[0, 100, 400, 500, 800, 5_000]);
        let uneven = builder.finish()[0].tally;
        assert_eq!(uneven.intervals, 4);
        let expected = 1.0 - (4.0f64 * 100.0 * 100.0 / 3.0).sqrt() / 200.0;
        let got = uneven.rhythm_consistency().unwrap();
        assert!((got - expected).abs() < 1e-12, "{got} != {expected}");
        // Wildly uneven typing is clamped at 0; one interval says nothing.
        let mut builder = ActivityBuilder::new();
        typed(&mut builder, 1, &[0, 10, 20, 30, 2_000]);
        assert_eq!(builder.finish()[0].tally.rhythm_consistency(), Some(0.0));
        let mut builder = ActivityBuilder::new();
        typed(&mut builder, 1, &[0, 150]);
        assert_eq!(builder.finish()[0].tally.rhythm_consistency(), None);
        assert_eq!(ActivityTally::default().mean_interval_ms(), None);
    }

    #[test]
    fn rhythm_consistency_from_summed_buckets_equals_that_of_all_their_intervals() {
        // Typing across three quarter hours, with irregular gaps.
        let times: Vec<i64> = (0..400i64)
            .scan(0, |t, i| {
                *t += 80 + (i * 37) % 230;
                Some(*t + if i > 200 { 900_000 } else { 0 })
            })
            .collect();
        let mut builder = ActivityBuilder::new();
        typed(&mut builder, 1, &times);
        let buckets = builder.finish();
        assert!(buckets.len() >= 2, "{}", buckets.len());
        let mut pooled = ActivityTally::default();
        for b in &buckets {
            pooled.add(&b.tally);
        }
        let gaps: Vec<f64> = times
            .windows(2)
            .map(|w| (w[1] - w[0]) as f64 * 1000.0)
            .filter(|g| *g <= PAUSE_US as f64)
            .collect();
        assert_eq!(pooled.intervals, gaps.len() as u64);
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (gaps.len() - 1) as f64;
        let direct = 1.0 - var.sqrt() / mean;
        let got = pooled.rhythm_consistency().unwrap();
        assert!((got - direct).abs() < 1e-9, "{got} != {direct}");
    }
}
