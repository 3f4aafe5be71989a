//! Appending events: one transaction per batch, cached prepared statements, segment upkeep.
//!
//! Events of a session must arrive in time order (the recorder guarantees it, importers sort).
//! Each batch either extends the session's open segment, when that segment is still the last
//! thing written to `key_events` and the new events fit in its span, or starts a new one.

use rusqlite::{OptionalExtension, params};

use std::collections::HashMap;

use super::activity::{PendingActivity, SessionCursor};
use super::schema::MAX_SEGMENT_SPAN_US;
use super::{Store, StoreError};
use tikker_core::event::KeyEvent;

/// The id of a session in `tikker.db`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub i64);

/// A session about to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The kind of source: `x11`, `evdev`, `replay`, `import`.
    pub source_kind: String,
    /// The device, file or format of the source.
    pub source_detail: String,
    /// Whose typing it is.
    pub user: String,
    /// The session's name, unique per user (the data set's session id, or the start time).
    pub label: String,
}

/// The segment an append may extend.
#[derive(Debug, Clone, Copy)]
pub(super) struct TailSegment {
    id: i64,
    session: SessionId,
    base_us: i64,
    last_us: i64,
    last_event: i64,
}

/// A write transaction: create sessions and append events; nothing is visible until
/// [`WriteTx::commit`], and dropping it rolls everything back.
#[derive(Debug)]
pub struct WriteTx<'s> {
    tx: rusqlite::Transaction<'s>,
    tail: &'s mut Option<TailSegment>,
    /// The tail as it will be once committed.
    pending_tail: Option<TailSegment>,
    /// The sessions' rollup cursors as committed.
    cursors: &'s mut HashMap<SessionId, SessionCursor>,
    /// This transaction's rollup counts.
    activity: PendingActivity,
    /// Whether the schema has rollups to keep.
    rollups: bool,
    events: u64,
}

impl Store {
    /// Starts a write transaction (`BEGIN IMMEDIATE`, so a busy database is waited for up front).
    pub fn write(&mut self) -> Result<WriteTx<'_>, StoreError> {
        let tx =
            rusqlite::Transaction::new(&mut self.conn, rusqlite::TransactionBehavior::Immediate)
                .map_err(StoreError::sqlite("starting a write transaction"))?;
        // Another process may have appended since our last commit, or forgotten or pruned
        // events: then our tail segment is no longer the end of `key_events`, or no longer as we
        // left it, and must not be extended.
        let max_event: Option<i64> = tx
            .query_row("SELECT max(id) FROM key_events", [], |row| row.get(0))
            .map_err(StoreError::sqlite("reading the last event id"))?;
        let mut pending_tail = self.tail.filter(|t| Some(t.last_event) == max_event);
        if let Some(tail) = pending_tail {
            let stored: Option<(i64, i64, i64)> = tx
                .prepare_cached("SELECT base_us, last_us, last_event FROM segments WHERE id = ?1")
                .and_then(|mut stmt| {
                    stmt.query_row([tail.id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                        .optional()
                })
                .map_err(StoreError::sqlite("reading the open segment"))?;
            if stored != Some((tail.base_us, tail.last_us, tail.last_event)) {
                pending_tail = None;
            }
        }
        Ok(WriteTx {
            tx,
            tail: &mut self.tail,
            pending_tail,
            cursors: &mut self.cursors,
            activity: PendingActivity::new(self.rollup_intervals),
            rollups: self.rollups,
            events: 0,
        })
    }

    /// Appends `events` (in time order) to `session` in one transaction.
    pub fn append(&mut self, session: SessionId, events: &[KeyEvent]) -> Result<(), StoreError> {
        let mut tx = self.write()?;
        tx.append(session, events)?;
        tx.commit()
    }
}

impl WriteTx<'_> {
    /// Creates a session, or fails with [`StoreError::DuplicateSession`] if its user and label
    /// exist already.
    pub fn begin_session(
        &mut self,
        session: &NewSession,
        started_us: i64,
    ) -> Result<SessionId, StoreError> {
        let source_id = self.source_id(&session.source_kind, &session.source_detail)?;
        let exists: Option<i64> = self
            .tx
            .prepare_cached("SELECT id FROM sessions WHERE user = ?1 AND label = ?2")
            .and_then(|mut stmt| {
                stmt.query_row(params![session.user, session.label], |row| row.get(0))
                    .optional()
            })
            .map_err(StoreError::sqlite("looking up a session"))?;
        if exists.is_some() {
            return Err(StoreError::DuplicateSession {
                user: session.user.clone(),
                label: session.label.clone(),
            });
        }
        self.tx
            .prepare_cached(
                "INSERT INTO sessions (source_id, user, label, started_us, ended_us)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![source_id, session.user, session.label, started_us])
            })
            .map_err(StoreError::sqlite("creating a session"))?;
        let id = SessionId(self.tx.last_insert_rowid());
        self.activity.start_session(id, &session.user);
        Ok(id)
    }

    /// Says that `session`'s typing came from the keyboard `device_id` (a row of
    /// [`Store::note_device`]).
    pub fn set_session_device(
        &mut self,
        session: SessionId,
        device_id: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("UPDATE sessions SET device_id = ?2 WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute(params![session.0, device_id]))
            .map(drop)
            .map_err(StoreError::sqlite("recording a session's keyboard"))
    }

    fn source_id(&self, kind: &str, detail: &str) -> Result<i64, StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO sources (kind, detail) VALUES (?1, ?2)
                 ON CONFLICT (kind, detail) DO UPDATE SET kind = excluded.kind
                 RETURNING id",
            )
            .and_then(|mut stmt| stmt.query_row([kind, detail], |row| row.get(0)))
            .map_err(StoreError::sqlite("recording the source"))
    }

    /// The time of the last event stored for `session`, if any.
    pub fn last_event_time(&self, session: SessionId) -> Result<Option<i64>, StoreError> {
        if let Some(tail) = self.pending_tail.filter(|t| t.session == session) {
            return Ok(Some(tail.last_us));
        }
        self.tx
            .prepare_cached("SELECT max(last_us) FROM segments WHERE session_id = ?1")
            .and_then(|mut stmt| stmt.query_row([session.0], |row| row.get(0)))
            .map_err(StoreError::sqlite("reading a session's last event"))
    }

    /// Appends events of one session, which must be in time order and not before the session's
    /// last stored event.
    pub fn append(&mut self, session: SessionId, events: &[KeyEvent]) -> Result<(), StoreError> {
        let Some(first) = events.first() else {
            return Ok(());
        };
        let mut previous_us = match self.pending_tail.filter(|t| t.session == session) {
            Some(tail) => tail.last_us,
            None => self.last_event_time(session)?.unwrap_or(first.time_us),
        };
        let mut insert = self
            .tx
            .prepare_cached("INSERT INTO key_events (dt_us, key, action) VALUES (?1, ?2, ?3)")
            .map_err(StoreError::sqlite("preparing the event insert"))?;
        let mut segment = self.pending_tail.filter(|t| t.session == session);
        for event in events {
            if event.time_us < previous_us {
                return Err(StoreError::OutOfOrder {
                    session: session.0,
                    previous_us,
                    time_us: event.time_us,
                });
            }
            previous_us = event.time_us;
            let fits = segment.is_some_and(|s| event.time_us - s.base_us <= MAX_SEGMENT_SPAN_US);
            if !fits {
                if let Some(done) = segment.take() {
                    update_segment(&self.tx, &done)?;
                }
                segment = Some(new_segment(&self.tx, session, event.time_us)?);
            }
            let Some(current) = segment.as_mut() else {
                // Invariant: the branch above always leaves a segment in place.
                return Err(StoreError::Corrupt("no segment to append to".into()));
            };
            insert
                .execute(params![
                    event.time_us - current.last_us,
                    event.key.0,
                    event.action.to_code()
                ])
                .map_err(StoreError::sqlite("inserting an event"))?;
            let id = self.tx.last_insert_rowid();
            if current.last_event < 0 {
                self.tx
                    .prepare_cached("UPDATE segments SET first_event = ?2 WHERE id = ?1")
                    .and_then(|mut stmt| stmt.execute(params![current.id, id]))
                    .map_err(StoreError::sqlite("starting a segment"))?;
            }
            current.last_event = id;
            current.last_us = event.time_us;
        }
        drop(insert);
        if let Some(done) = segment {
            update_segment(&self.tx, &done)?;
            self.tx
                .prepare_cached(
                    "UPDATE sessions SET ended_us = max(ended_us, ?2), events = events + ?3
                     WHERE id = ?1",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![session.0, done.last_us, events.len() as i64])
                })
                .map_err(StoreError::sqlite("updating the session"))?;
        }
        self.pending_tail = segment;
        self.events += events.len() as u64;
        if self.rollups {
            self.activity
                .count(&self.tx, self.cursors, session, events)?;
        }
        Ok(())
    }

    /// How many events this transaction has appended so far.
    pub fn appended(&self) -> u64 {
        self.events
    }

    /// Makes everything written in this transaction durable.
    pub fn commit(self) -> Result<(), StoreError> {
        let cursors = if self.rollups {
            self.activity.write(&self.tx)?
        } else {
            HashMap::new()
        };
        self.tx
            .commit()
            .map_err(StoreError::sqlite("committing events"))?;
        *self.tail = self.pending_tail;
        self.cursors.extend(cursors);
        Ok(())
    }
}

fn new_segment(
    tx: &rusqlite::Transaction<'_>,
    session: SessionId,
    base_us: i64,
) -> Result<TailSegment, StoreError> {
    tx.prepare_cached(
        "INSERT INTO segments (session_id, first_event, last_event, base_us, last_us)
         VALUES (?1, -1, -1, ?2, ?2)",
    )
    .and_then(|mut stmt| stmt.execute(params![session.0, base_us]))
    .map_err(StoreError::sqlite("creating a segment"))?;
    Ok(TailSegment {
        id: tx.last_insert_rowid(),
        session,
        base_us,
        last_us: base_us,
        last_event: -1,
    })
}

fn update_segment(tx: &rusqlite::Transaction<'_>, segment: &TailSegment) -> Result<(), StoreError> {
    tx.prepare_cached("UPDATE segments SET last_event = ?2, last_us = ?3 WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute(params![segment.id, segment.last_event, segment.last_us]))
        .map_err(StoreError::sqlite("closing a segment"))?;
    Ok(())
}
