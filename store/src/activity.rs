//! The `activity` table: quarter-hour rollups of typing per user ([`tikker_core::activity`]),
//! kept up to date by every write transaction and read by statistics over any span.
//!
//! Each write transaction counts the events it appends into buckets, with one
//! [`ActivityMeter`] per session carried across transactions (so a gap between two batches
//! counts like any other), and adds its counts to the rows in the same transaction: the rollups
//! and the events they count are committed together or not at all. Events stored before the
//! table existed are counted once by [`Store::open`] (see [`Store::backfill_activity`]), and
//! so are the interval columns of rows written before schema 8.
//!
//! What the rollups hold are counts, never key identities or key order: they stay when raw
//! events are pruned, and [`crate::Store::forget`] recounts or removes the buckets of a
//! forgotten span.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{OptionalExtension, params};
use tikker_core::activity::{
    ActivityBucket, ActivityMeter, ActivityTally, BUCKET_US, bucket_start,
};
use tikker_core::event::KeyEvent;
use tikker_core::typing::PAUSE_US;

use super::write::SessionId;
use super::{EventFilter, Store, StoreError};

/// The settings key that says the rollups of events stored before schema 5 are still to be
/// counted.
const BACKFILL_SETTING: &str = "activity_backfill";

/// The settings key that says the interval columns of rows written before schema 8 are still
/// to be counted.
const INTERVALS_BACKFILL_SETTING: &str = "activity_intervals_backfill";

/// A session's place in the rollups: whose typing it is and its meter (the last press seen).
#[derive(Debug, Clone)]
pub(crate) struct SessionCursor {
    user: String,
    meter: ActivityMeter,
}

/// The rollup counts of one write transaction, not yet written.
#[derive(Debug, Default)]
pub(crate) struct PendingActivity {
    /// Per user, per bucket start.
    buckets: BTreeMap<(String, i64), ActivityTally>,
    /// The cursors of the sessions this transaction appended to, as they will be once committed.
    cursors: HashMap<SessionId, SessionCursor>,
    /// Whether the table has the interval columns (schema 8).
    intervals: bool,
}

impl PendingActivity {
    /// Nothing counted yet, for a table with the interval columns or (`intervals` false, in
    /// migration tests) without.
    pub(crate) fn new(intervals: bool) -> PendingActivity {
        PendingActivity {
            intervals,
            ..PendingActivity::default()
        }
    }

    /// Counts `events` of `session` (in time order), starting from the session's cursor as
    /// committed (`committed`) or as this transaction left it.
    pub(crate) fn count(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        committed: &HashMap<SessionId, SessionCursor>,
        session: SessionId,
        events: &[KeyEvent],
    ) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let cursor = match self.cursors.entry(session) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let cursor = match committed.get(&session) {
                    Some(cursor) => cursor.clone(),
                    None => SessionCursor {
                        user: session_user(tx, session)?,
                        meter: ActivityMeter::default(),
                    },
                };
                entry.insert(cursor)
            }
        };
        let mut current: Option<(i64, ActivityTally)> = None;
        for event in events {
            let (start, tally) = cursor.meter.observe(event);
            match current.as_mut() {
                Some((bucket, sum)) if *bucket == start => sum.add(&tally),
                _ => {
                    if let Some((bucket, sum)) = current.replace((start, tally)) {
                        self.buckets
                            .entry((cursor.user.clone(), bucket))
                            .or_default()
                            .add(&sum);
                    }
                }
            }
        }
        if let Some((bucket, sum)) = current {
            self.buckets
                .entry((cursor.user.clone(), bucket))
                .or_default()
                .add(&sum);
        }
        Ok(())
    }

    /// A cursor for a session created in this transaction.
    pub(crate) fn start_session(&mut self, session: SessionId, user: &str) {
        self.cursors.insert(
            session,
            SessionCursor {
                user: user.to_owned(),
                meter: ActivityMeter::default(),
            },
        );
    }

    /// Adds the counts to the `activity` table (inside the transaction) and hands back the
    /// cursors to keep once the transaction commits.
    pub(crate) fn write(
        self,
        tx: &rusqlite::Transaction<'_>,
    ) -> Result<HashMap<SessionId, SessionCursor>, StoreError> {
        add_buckets(
            tx,
            self.intervals,
            self.buckets.iter().map(|((u, s), t)| (u.as_str(), *s, t)),
        )?;
        Ok(self.cursors)
    }
}

fn session_user(conn: &rusqlite::Connection, session: SessionId) -> Result<String, StoreError> {
    conn.prepare_cached("SELECT user FROM sessions WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([session.0], |row| row.get(0)).optional())
        .map_err(StoreError::sqlite("reading a session's user"))?
        .ok_or_else(|| StoreError::Corrupt(format!("session {} does not exist", session.0)))
}

/// Adds counts to rows of `activity`, creating them as needed; with `intervals` false (a
/// table from before schema 8, in migration tests) without the interval columns.
fn add_buckets<'a>(
    conn: &rusqlite::Connection,
    intervals: bool,
    buckets: impl Iterator<Item = (&'a str, i64, &'a ActivityTally)>,
) -> Result<(), StoreError> {
    let mut upsert = conn
        .prepare_cached(if intervals {
            "INSERT INTO activity (user, start_us, events, keystrokes, active_us, characters,
                                   intervals, interval_squares)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (user, start_us) DO UPDATE SET
                 events = events + excluded.events,
                 keystrokes = keystrokes + excluded.keystrokes,
                 active_us = active_us + excluded.active_us,
                 characters = characters + excluded.characters,
                 intervals = intervals + excluded.intervals,
                 interval_squares = interval_squares + excluded.interval_squares"
        } else {
            "INSERT INTO activity (user, start_us, events, keystrokes, active_us, characters)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (user, start_us) DO UPDATE SET
                 events = events + excluded.events,
                 keystrokes = keystrokes + excluded.keystrokes,
                 active_us = active_us + excluded.active_us,
                 characters = characters + excluded.characters"
        })
        .map_err(StoreError::sqlite("preparing the activity update"))?;
    for (user, start, tally) in buckets {
        let counts = [
            saturating_i64(tally.events),
            saturating_i64(tally.keystrokes),
            tally.active_us,
            saturating_i64(tally.characters),
        ];
        let done = if intervals {
            upsert.execute(params![
                user,
                start,
                counts[0],
                counts[1],
                counts[2],
                counts[3],
                saturating_i64(tally.intervals),
                squares_i64(tally.interval_squares)
            ])
        } else {
            upsert.execute(params![
                user, start, counts[0], counts[1], counts[2], counts[3]
            ])
        };
        done.map_err(StoreError::sqlite("updating the activity rollups"))?;
    }
    Ok(())
}

fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A bucket's sum of squared intervals as SQLite stores it. One session's intervals in a
/// quarter hour sum to at most about 17 minutes, each at most 2 s, so their squares sum to
/// under 2·10¹⁵ µs²: far from the limit, which only a corrupt stream could reach.
fn squares_i64(n: u128) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn tally_of(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<ActivityTally> {
    Ok(ActivityTally {
        events: row.get::<_, i64>(first)?.max(0) as u64,
        keystrokes: row.get::<_, i64>(first + 1)?.max(0) as u64,
        active_us: row.get::<_, i64>(first + 2)?.max(0),
        characters: row.get::<_, i64>(first + 3)?.max(0) as u64,
        intervals: row.get::<_, i64>(first + 4)?.max(0) as u64,
        interval_squares: row.get::<_, i64>(first + 5)?.max(0) as u128,
    })
}

impl Store {
    /// The rollup buckets whose start lies in `[from_us, to_us)` (either bound optional), of
    /// `user` or, with `None`, of all users summed per bucket; oldest first. Reads one row per
    /// quarter hour with typing (through the `activity` primary key or `activity_by_time`), never
    /// the raw events.
    pub fn activity(
        &self,
        from_us: Option<i64>,
        to_us: Option<i64>,
        user: Option<&str>,
    ) -> Result<Vec<ActivityBucket>, StoreError> {
        let reading = StoreError::sqlite("reading the activity rollups");
        let mut stmt = self
            .connection()
            .prepare_cached(if self.rollup_intervals {
                "SELECT start_us, sum(events), sum(keystrokes), sum(active_us), sum(characters),
                        sum(intervals), sum(interval_squares)
                 FROM activity
                 WHERE (?1 IS NULL OR start_us >= ?1) AND (?2 IS NULL OR start_us < ?2)
                   AND (?3 IS NULL OR user = ?3)
                 GROUP BY start_us ORDER BY start_us"
            } else {
                "SELECT start_us, sum(events), sum(keystrokes), sum(active_us), sum(characters),
                        0, 0
                 FROM activity
                 WHERE (?1 IS NULL OR start_us >= ?1) AND (?2 IS NULL OR start_us < ?2)
                   AND (?3 IS NULL OR user = ?3)
                 GROUP BY start_us ORDER BY start_us"
            })
            .map_err(&reading)?;
        let rows = stmt
            .query_map(params![from_us, to_us, user], |row| {
                Ok(ActivityBucket {
                    start_us: row.get(0)?,
                    tally: tally_of(row, 1)?,
                })
            })
            .map_err(&reading)?;
        rows.collect::<Result<_, _>>().map_err(reading)
    }

    /// Counts the rollups of the events stored before the `activity` table existed, once (a
    /// database migrated from schema 4 or older), or only the interval columns of the rows
    /// written before schema 8 (a database migrated from schema 5 to 7); afterwards every
    /// write keeps them. Runs in one write transaction, so two processes opening the database
    /// at once count once.
    ///
    /// The interval columns are filled from the raw events still stored, for the rows whose
    /// other counts a recount of those events gives exactly: rows whose raw events retention
    /// pruned (or pruned in part) keep 0 intervals, so no rhythm is shown for them rather than
    /// one read from a part of their typing.
    pub fn backfill_activity(&mut self) -> Result<(), StoreError> {
        if self.setting(BACKFILL_SETTING)?.is_none()
            && self.setting(INTERVALS_BACKFILL_SETTING)?.is_none()
        {
            return Ok(());
        }
        let started = std::time::Instant::now();
        self.connection()
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(StoreError::sqlite("starting the activity backfill"))?;
        let result = self.backfill_in_transaction();
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        self.connection()
            .execute_batch(end)
            .map_err(StoreError::sqlite("ending the activity backfill"))?;
        let buckets = result?;
        if buckets > 0 {
            tracing::info!(
                buckets,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "counted the activity rollups of the typing stored before"
            );
        }
        Ok(())
    }

    fn backfill_in_transaction(&self) -> Result<usize, StoreError> {
        let whole = self.setting(BACKFILL_SETTING)?.is_some();
        let intervals = self.setting(INTERVALS_BACKFILL_SETTING)?.is_some();
        if !whole && !intervals {
            return Ok(0);
        }
        let tally = recount(self, &EventFilter::default())?;
        let count = if whole {
            self.connection()
                .execute("DELETE FROM activity", [])
                .map_err(StoreError::sqlite("clearing the activity rollups"))?;
            add_buckets(
                self.connection(),
                self.rollup_intervals,
                tally.iter().map(|((u, s), t)| (u.as_str(), *s, t)),
            )?;
            tally.len()
        } else {
            self.fill_intervals(&tally)?
        };
        self.set_setting(BACKFILL_SETTING, None)?;
        self.set_setting(INTERVALS_BACKFILL_SETTING, None)?;
        Ok(count)
    }

    /// Sets the interval columns of the rows whose other counts equal `tally`'s (a recount of
    /// the raw events still stored); returns how many rows were set.
    fn fill_intervals(
        &self,
        tally: &BTreeMap<(String, i64), ActivityTally>,
    ) -> Result<usize, StoreError> {
        let mut update = self
            .connection()
            .prepare_cached(
                "UPDATE activity SET intervals = ?3, interval_squares = ?4
                 WHERE user = ?1 AND start_us = ?2 AND events = ?5 AND keystrokes = ?6
                   AND active_us = ?7 AND characters = ?8",
            )
            .map_err(StoreError::sqlite("preparing the interval backfill"))?;
        let mut filled = 0;
        for ((user, start), t) in tally {
            filled += update
                .execute(params![
                    user,
                    start,
                    saturating_i64(t.intervals),
                    squares_i64(t.interval_squares),
                    saturating_i64(t.events),
                    saturating_i64(t.keystrokes),
                    t.active_us,
                    saturating_i64(t.characters)
                ])
                .map_err(StoreError::sqlite("filling the activity intervals"))?;
        }
        if filled < tally.len() {
            tracing::info!(
                filled,
                recounted = tally.len(),
                "some quarter hours' stored events differ from their rollups (pruned in part): no rhythm is kept for them"
            );
        }
        Ok(filled)
    }

    /// Recounts the buckets `[from_bucket, to_bucket)` (bucket starts) from the raw events still
    /// stored, replacing their rows: the rollups of a span after some of its events were
    /// forgotten. Presses up to [`PAUSE_US`] before the first bucket are read for the gaps
    /// they open, as the writer saw them. Runs inside the caller's transaction.
    pub(crate) fn recount_buckets(
        &self,
        from_bucket: i64,
        to_bucket: i64,
    ) -> Result<(), StoreError> {
        let filter = EventFilter {
            from_us: Some(from_bucket.saturating_sub(PAUSE_US)),
            to_us: Some(to_bucket),
            user: None,
        };
        let tally = recount(self, &filter)?;
        self.connection()
            .execute(
                "DELETE FROM activity WHERE start_us >= ?1 AND start_us < ?2",
                params![from_bucket, to_bucket],
            )
            .map_err(StoreError::sqlite("replacing activity rollups"))?;
        add_buckets(
            self.connection(),
            self.rollup_intervals,
            tally
                .iter()
                .filter(|((_, s), _)| (from_bucket..to_bucket).contains(s))
                .map(|((u, s), t)| (u.as_str(), *s, t)),
        )
    }

    /// Removes the rollup buckets that lie wholly in `[from_us, to_us)`; returns how many.
    pub(crate) fn drop_buckets_within(
        &self,
        from_us: i64,
        to_us: i64,
    ) -> Result<usize, StoreError> {
        let first = bucket_start(from_us.saturating_add(BUCKET_US - 1));
        let end = bucket_start(to_us);
        if end <= first {
            return Ok(0);
        }
        self.connection()
            .execute(
                "DELETE FROM activity WHERE start_us >= ?1 AND start_us < ?2",
                params![first, end],
            )
            .map_err(StoreError::sqlite("removing activity rollups"))
    }

    /// Forgets the committed cursors (after events were deleted under them), so that the next
    /// press of each session starts a new burst.
    pub(crate) fn reset_activity_cursors(&mut self) {
        self.cursors.clear();
    }
}

/// Counts the stored events matching `filter` into buckets per user, exactly as the writer does.
fn recount(
    store: &Store,
    filter: &EventFilter,
) -> Result<BTreeMap<(String, i64), ActivityTally>, StoreError> {
    let mut buckets: BTreeMap<(String, i64), ActivityTally> = BTreeMap::new();
    let mut session = None;
    let mut meter = ActivityMeter::default();
    store.for_each_event(filter, |info, event| {
        if session != Some(info.id) {
            session = Some(info.id);
            meter = ActivityMeter::default();
        }
        let (start, tally) = meter.observe(&event);
        buckets
            .entry((info.user.clone(), start))
            .or_default()
            .add(&tally);
        Ok::<(), StoreError>(())
    })?;
    Ok(buckets)
}
