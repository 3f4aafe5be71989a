//! Deleting raw key events: retention ([`Store::prune_raw_before`]) and forgetting a span on
//! demand ([`Store::forget`]).
//!
//! Both delete the events of a time range from `key_events` and keep the segments around them
//! sound: a segment wholly inside the range goes; one that straddles a bound keeps its outside
//! events, re-based so that their times read back unchanged (a segment whose middle is removed
//! becomes two). Every connection runs with `secure_delete`, so freed pages are overwritten;
//! afterwards the write-ahead log is checkpointed and truncated, so the deleted rows survive
//! neither in the database nor in its log (copies the file system or a backup made before
//! keep are out of tikker's reach).
//!
//! Retention keeps the activity rollups (they hold counts, not key order): statistics over a
//! pruned span still work. Forgetting removes a span entirely: its raw events, and its rollups
//! (buckets wholly inside the span are removed, the two at its edges recounted from what is
//! left). Scores and alerts hold no key identities and are kept; what was already learned into
//! a profile stays learned.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use tikker_core::activity::{BUCKET_US, bucket_start};
use tikker_core::event::KeyAction;

use super::{Store, StoreError};

/// The settings key holding the time before which raw events were pruned (µs, a bucket start).
const PRUNED_BEFORE_SETTING: &str = "raw_pruned_before_us";

/// Segments handled per transaction while pruning, so the daemon's writer is never kept waiting
/// long (a segment spans at most about 35 minutes of typing).
const SEGMENTS_PER_TRANSACTION: usize = 16;

/// What a prune or a forget removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Forgotten {
    /// The span's start (µs since the Unix epoch, inclusive); `None` for "from the beginning".
    pub from_us: Option<i64>,
    /// The span's end (µs, exclusive).
    pub to_us: i64,
    /// Raw events deleted (presses, releases and repeats).
    pub events: u64,
    /// Key presses among them.
    pub keystrokes: u64,
    /// Sessions that lost events.
    pub sessions: u64,
    /// Quarter-hour activity rollups removed (forget only; retention keeps them).
    pub rollups_removed: u64,
    /// Whether the write-ahead log was truncated afterwards (`false` when another connection
    /// was reading at that moment; SQLite truncates it at a later checkpoint).
    pub log_truncated: bool,
}

#[derive(Debug, Clone, Copy)]
struct SegmentRow {
    id: i64,
    session: i64,
    first: i64,
    last: i64,
    base_us: i64,
    last_us: i64,
}

impl Store {
    /// Deletes the raw events before `cutoff_us` (retention), in transactions of a few segments
    /// each, then truncates the write-ahead log. Rollups, scores, alerts and profiles are kept.
    /// The cutoff is rounded down to a quarter hour, so every rollup bucket is either wholly
    /// pruned or wholly kept.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails; what was deleted before stays deleted.
    pub fn prune_raw_before(&mut self, cutoff_us: i64) -> Result<Forgotten, StoreError> {
        let cutoff = bucket_start(cutoff_us);
        let mut total = Forgotten {
            from_us: None,
            to_us: cutoff,
            ..Forgotten::default()
        };
        let mut sessions = std::collections::BTreeSet::new();
        loop {
            let tx = rusqlite::Transaction::new(
                &mut self.conn,
                rusqlite::TransactionBehavior::Immediate,
            )
            .map_err(StoreError::sqlite("starting a prune"))?;
            let done = delete_range(
                &tx,
                i64::MIN,
                cutoff,
                Some(SEGMENTS_PER_TRANSACTION),
                &mut total,
                &mut sessions,
            )?;
            let previous: Option<i64> = tx
                .query_row(
                    "SELECT value FROM settings WHERE key = ?1",
                    [PRUNED_BEFORE_SETTING],
                    |row| row.get::<_, String>(0),
                )
                .optional()
                .map_err(StoreError::sqlite("reading the retention mark"))?
                .and_then(|v| v.parse().ok());
            if done && previous.is_none_or(|p| p < cutoff) {
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![PRUNED_BEFORE_SETTING, cutoff.to_string()],
                )
                .map_err(StoreError::sqlite("recording the retention mark"))?;
            }
            tx.commit()
                .map_err(StoreError::sqlite("committing a prune"))?;
            if done {
                break;
            }
        }
        total.sessions = sessions.len() as u64;
        self.after_delete(&mut total)?;
        Ok(total)
    }

    /// Forgets the span `[from_us, to_us)`: deletes its raw events, removes its activity
    /// rollups and recounts the two at its edges from the events left, all in one transaction;
    /// then truncates the write-ahead log.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails; then nothing was deleted.
    pub fn forget(&mut self, from_us: i64, to_us: i64) -> Result<Forgotten, StoreError> {
        let mut total = Forgotten {
            from_us: Some(from_us),
            to_us,
            ..Forgotten::default()
        };
        if to_us <= from_us {
            return Ok(total);
        }
        let mut sessions = std::collections::BTreeSet::new();
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(StoreError::sqlite("starting to forget"))?;
        let result = (|| {
            delete_range(&self.conn, from_us, to_us, None, &mut total, &mut sessions)?;
            total.rollups_removed = self.drop_buckets_within(from_us, to_us)? as u64;
            // Only buckets whose raw events were never pruned can be recounted from them.
            let raw_from: i64 = self
                .setting(PRUNED_BEFORE_SETTING)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(i64::MIN);
            let mut edges = vec![bucket_start(to_us)];
            if bucket_start(from_us) != from_us {
                edges.push(bucket_start(from_us));
            }
            for edge in edges {
                if edge >= raw_from {
                    self.recount_buckets(edge, edge.saturating_add(BUCKET_US))?;
                }
            }
            Ok::<(), StoreError>(())
        })();
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        self.conn
            .execute_batch(end)
            .map_err(StoreError::sqlite("ending a forget"))?;
        result?;
        total.sessions = sessions.len() as u64;
        self.after_delete(&mut total)?;
        Ok(total)
    }

    /// The time before which raw events were pruned (µs), if they ever were.
    pub fn raw_pruned_before(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .setting(PRUNED_BEFORE_SETTING)?
            .and_then(|v| v.parse().ok()))
    }

    fn after_delete(&mut self, total: &mut Forgotten) -> Result<(), StoreError> {
        self.tail = None;
        self.reset_activity_cursors();
        if total.events == 0 && total.rollups_removed == 0 {
            total.log_truncated = true;
            return Ok(());
        }
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
            .map_err(StoreError::sqlite("truncating the write-ahead log"))?;
        total.log_truncated = busy == 0;
        if busy != 0 {
            tracing::info!(
                "the write-ahead log could not be truncated at once (a reader was active); SQLite overwrites it at its next checkpoint"
            );
        }
        Ok(())
    }
}

/// Deletes the events with a time in `[from_us, to_us)` from the segments that overlap it, at
/// most `limit` segments (all with `None`); returns whether no overlapping segment is left.
fn delete_range(
    conn: &rusqlite::Connection,
    from_us: i64,
    to_us: i64,
    limit: Option<usize>,
    total: &mut Forgotten,
    sessions: &mut std::collections::BTreeSet<i64>,
) -> Result<bool, StoreError> {
    let limit = limit.map_or(-1, |l| l as i64);
    let segments: Vec<SegmentRow> = conn
        .prepare_cached(
            "SELECT id, session_id, first_event, last_event, base_us, last_us FROM segments
             WHERE first_event >= 0 AND last_us >= ?1 AND base_us < ?2
             ORDER BY id LIMIT ?3",
        )
        .and_then(|mut stmt| {
            stmt.query_map(params![from_us, to_us, limit], |row| {
                Ok(SegmentRow {
                    id: row.get(0)?,
                    session: row.get(1)?,
                    first: row.get(2)?,
                    last: row.get(3)?,
                    base_us: row.get(4)?,
                    last_us: row.get(5)?,
                })
            })?
            .collect()
        })
        .map_err(StoreError::sqlite("finding the segments to delete from"))?;
    let done = limit < 0 || segments.len() < limit as usize;
    for segment in segments {
        let removed = if segment.base_us >= from_us && segment.last_us < to_us {
            delete_whole(conn, &segment)?
        } else {
            delete_part(conn, &segment, from_us, to_us)?
        };
        if removed.0 > 0 {
            sessions.insert(segment.session);
            conn.prepare_cached("UPDATE sessions SET events = max(0, events - ?2) WHERE id = ?1")
                .and_then(|mut stmt| stmt.execute(params![segment.session, removed.0 as i64]))
                .map_err(StoreError::sqlite("updating a session's event count"))?;
        }
        total.events += removed.0;
        total.keystrokes += removed.1;
    }
    Ok(done)
}

/// Deletes a segment and all its events; returns (events, presses) removed.
fn delete_whole(
    conn: &rusqlite::Connection,
    segment: &SegmentRow,
) -> Result<(u64, u64), StoreError> {
    let (events, presses): (i64, i64) = conn
        .prepare_cached(
            "SELECT count(*), coalesce(sum(action = ?3), 0) FROM key_events
             WHERE id BETWEEN ?1 AND ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_row(
                params![segment.first, segment.last, KeyAction::Press.to_code()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
        })
        .map_err(StoreError::sqlite("counting the events to delete"))?;
    conn.prepare_cached("DELETE FROM key_events WHERE id BETWEEN ?1 AND ?2")
        .and_then(|mut stmt| stmt.execute(params![segment.first, segment.last]))
        .map_err(StoreError::sqlite("deleting events"))?;
    conn.prepare_cached("DELETE FROM segments WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute([segment.id]))
        .map_err(StoreError::sqlite("deleting a segment"))?;
    Ok((events.max(0) as u64, presses.max(0) as u64))
}

/// Deletes the events of `segment` inside `[from_us, to_us)` and re-bases what is left: the
/// last run of kept events keeps the segment's row (so a writer extending it finds it changed
/// and starts a new one), an earlier run gets a row of its own; each run's first event gets
/// `dt_us = 0` from its new `base_us`. Returns (events, presses) removed.
fn delete_part(
    conn: &rusqlite::Connection,
    segment: &SegmentRow,
    from_us: i64,
    to_us: i64,
) -> Result<(u64, u64), StoreError> {
    // (id, time, is press) of every event of the segment.
    let mut events: Vec<(i64, i64, bool)> = Vec::new();
    {
        let mut stmt = conn
            .prepare_cached("SELECT id, dt_us, action FROM key_events WHERE id BETWEEN ?1 AND ?2")
            .map_err(StoreError::sqlite("reading a segment's events"))?;
        let mut rows = stmt
            .query(params![segment.first, segment.last])
            .map_err(StoreError::sqlite("reading a segment's events"))?;
        let mut time = segment.base_us;
        while let Some(row) = rows
            .next()
            .map_err(StoreError::sqlite("reading a segment's events"))?
        {
            let id: i64 = row.get(0).map_err(StoreError::sqlite("reading an event"))?;
            let dt: i64 = row.get(1).map_err(StoreError::sqlite("reading an event"))?;
            let action: i64 = row.get(2).map_err(StoreError::sqlite("reading an event"))?;
            time = time.saturating_add(dt.max(0));
            events.push((id, time, action == KeyAction::Press.to_code()));
        }
    }
    let inside = |t: i64| t >= from_us && t < to_us;
    let Some(start) = events.iter().position(|e| inside(e.1)) else {
        return Ok((0, 0));
    };
    let end = events[start..]
        .iter()
        .position(|e| !inside(e.1))
        .map_or(events.len(), |n| start + n);
    let removed = &events[start..end];
    let presses = removed.iter().filter(|e| e.2).count() as u64;
    conn.prepare_cached("DELETE FROM key_events WHERE id BETWEEN ?1 AND ?2")
        .and_then(|mut stmt| stmt.execute(params![removed[0].0, removed[removed.len() - 1].0]))
        .map_err(StoreError::sqlite("deleting events"))?;
    let before = &events[..start];
    let after = &events[end..];
    let rebase = |first: &(i64, i64, bool)| {
        conn.prepare_cached("UPDATE key_events SET dt_us = 0 WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute([first.0]))
            .map_err(StoreError::sqlite("re-basing a segment"))
    };
    match (before.first(), before.last(), after.first(), after.last()) {
        (_, _, Some(a_first), Some(a_last)) => {
            // The run after the span keeps the row.
            rebase(a_first)?;
            conn.prepare_cached(
                "UPDATE segments SET first_event = ?2, last_event = ?3, base_us = ?4, last_us = ?5
                 WHERE id = ?1",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    segment.id, a_first.0, a_last.0, a_first.1, a_last.1
                ])
            })
            .map_err(StoreError::sqlite("re-basing a segment"))?;
            if let (Some(b_first), Some(b_last)) = (before.first(), before.last()) {
                conn.prepare_cached(
                    "INSERT INTO segments (session_id, first_event, last_event, base_us, last_us)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        segment.session,
                        b_first.0,
                        b_last.0,
                        segment.base_us,
                        b_last.1
                    ])
                })
                .map_err(StoreError::sqlite("splitting a segment"))?;
            }
        }
        (Some(_), Some(b_last), _, _) => {
            conn.prepare_cached("UPDATE segments SET last_event = ?2, last_us = ?3 WHERE id = ?1")
                .and_then(|mut stmt| stmt.execute(params![segment.id, b_last.0, b_last.1]))
                .map_err(StoreError::sqlite("shortening a segment"))?;
        }
        _ => {
            conn.prepare_cached("DELETE FROM segments WHERE id = ?1")
                .and_then(|mut stmt| stmt.execute([segment.id]))
                .map_err(StoreError::sqlite("deleting a segment"))?;
        }
    }
    Ok((removed.len() as u64, presses))
}
