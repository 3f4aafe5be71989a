//! The schema of `tikker.db` and its forward migrations.
//!
//! The schema version lives in `PRAGMA user_version`. Migration *n* (1-based) takes a database
//! from version *n − 1* to *n*; [`migrate`] applies the missing ones in one transaction each, and
//! refuses a database written by a newer tikker instead of guessing at it.
//!
//! ## How events are laid out
//! Raw events are the bulk of the file (millions of rows), so their table holds three small
//! integers and nothing else: `key_events(id, dt_us, key, action)`. Events are grouped into
//! *segments*: a contiguous range of event ids written for one session, spanning at most
//! [`MAX_SEGMENT_SPAN_US`] (about 35 minutes). `dt_us` is the time since the previous event of
//! the segment (the first event's is measured from the segment's `base_us`), so an event's time
//! is `base_us` plus the running sum of `dt_us` over its segment. Typing gaps are well under
//! 8 s, so `dt_us` takes 3 bytes where an absolute microsecond time would take 8.
//!
//! Time-range queries find segments through `segments_by_time` / `segments_by_session` and then
//! read id ranges of `key_events`, which is stored in id order, so no per-event index is needed.
//! Together this keeps a raw event under 16 bytes on disk.

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::StoreError;

/// The longest time a segment may span, so that a time-range query never reads more than about
/// 35 minutes of typing outside its range.
pub const MAX_SEGMENT_SPAN_US: i64 = i32::MAX as i64;

/// The migrations in order; the schema version is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: raw key events, their sources, sessions and segments.
    r#"
    CREATE TABLE sources (
        id      INTEGER PRIMARY KEY,
        kind    TEXT NOT NULL,              -- x11, evdev, replay, import
        detail  TEXT NOT NULL DEFAULT '',   -- device, file or format
        UNIQUE (kind, detail)
    );
    CREATE TABLE sessions (
        id          INTEGER PRIMARY KEY,
        source_id   INTEGER NOT NULL REFERENCES sources (id),
        user        TEXT NOT NULL,
        label       TEXT NOT NULL,          -- the session's name in its source
        started_us  INTEGER NOT NULL,       -- time of its first event
        ended_us    INTEGER NOT NULL,       -- time of its last event so far
        events      INTEGER NOT NULL DEFAULT 0,
        UNIQUE (user, label)
    );
    CREATE INDEX sessions_by_time ON sessions (started_us);
    CREATE TABLE segments (
        id          INTEGER PRIMARY KEY,
        session_id  INTEGER NOT NULL REFERENCES sessions (id),
        first_event INTEGER NOT NULL,       -- key_events.id range, inclusive
        last_event  INTEGER NOT NULL,
        base_us     INTEGER NOT NULL,       -- the segment's first key_events.dt_us counts from here
        last_us     INTEGER NOT NULL        -- time of the segment's last event
    );
    CREATE INDEX segments_by_time ON segments (base_us);
    CREATE INDEX segments_by_session ON segments (session_id, base_us);
    CREATE TABLE key_events (
        id      INTEGER PRIMARY KEY,
        dt_us   INTEGER NOT NULL,           -- µs since the segment's previous event (or base_us)
        key     INTEGER NOT NULL,           -- Linux evdev key code
        action  INTEGER NOT NULL            -- 0 release, 1 press, 2 repeat
    );
    "#,
    // 2: what tikker derives from events: profiles, scores, alerts, trained models, settings.
    r#"
    CREATE TABLE profiles (
        id          INTEGER PRIMARY KEY,
        user        TEXT NOT NULL,
        version     INTEGER NOT NULL,
        created_us  INTEGER NOT NULL,
        keystrokes  INTEGER NOT NULL,
        data        TEXT NOT NULL,          -- the serialised profile (JSON)
        UNIQUE (user, version)
    );
    CREATE TABLE scores (
        id              INTEGER PRIMARY KEY,
        user            TEXT NOT NULL,
        from_us         INTEGER NOT NULL,
        to_us           INTEGER NOT NULL,
        score           REAL NOT NULL,
        confidence      REAL NOT NULL,
        verdict         TEXT NOT NULL,
        reason          TEXT NOT NULL,
        profile_version INTEGER
    );
    CREATE INDEX scores_by_time ON scores (to_us);
    CREATE TABLE alerts (
        id          INTEGER PRIMARY KEY,
        created_us  INTEGER NOT NULL,
        score_id    INTEGER REFERENCES scores (id),
        score       REAL NOT NULL,
        reason      TEXT NOT NULL,
        notified    INTEGER NOT NULL,       -- 1 if a notification server took it
        action      TEXT                    -- outcome of the configured action, if any
    );
    CREATE INDEX alerts_by_time ON alerts (created_us);
    CREATE TABLE models (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL,          -- e.g. identify-rf
        created_us  INTEGER NOT NULL,
        trained_on  TEXT NOT NULL,          -- what data, in words
        metrics     TEXT NOT NULL,          -- JSON
        data        BLOB NOT NULL
    );
    CREATE INDEX models_by_name ON models (name, created_us);
    CREATE TABLE settings (
        key     TEXT PRIMARY KEY,
        value   TEXT NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 3: the HTTP API's baselines, one per `user_id` of its callers: a table of their own, so
    // that no caller can ever read or change the owner's profiles.
    r#"
    CREATE TABLE api_baselines (
        id          INTEGER PRIMARY KEY,
        user_id     TEXT NOT NULL UNIQUE,
        updated_us  INTEGER NOT NULL,
        keystrokes  INTEGER NOT NULL,
        data        TEXT NOT NULL           -- the serialised baseline (JSON)
    );
    "#,
    // 4: what raised each alert (`impostor`, `injection`, `replay`, `new_device`); alerts from
    // before were all raised by the monitor.
    r#"
    ALTER TABLE alerts ADD COLUMN kind TEXT NOT NULL DEFAULT 'impostor';
    "#,
    // 5: typing activity per user and quarter hour (`tikker_core::activity`): counts without
    // key order or key identities, kept when raw events are pruned or forgotten, so statistics
    // over long spans read a few rows per day instead of every event. Rows for the events
    // already stored are computed once by `Store::open` (the `activity_backfill` setting).
    r#"
    CREATE TABLE activity (
        user        TEXT NOT NULL,
        start_us    INTEGER NOT NULL,       -- the bucket's start: a multiple of 15 minutes (µs)
        events      INTEGER NOT NULL,
        keystrokes  INTEGER NOT NULL,
        active_us   INTEGER NOT NULL,       -- active typing time (µs)
        characters  INTEGER NOT NULL,       -- characters typed during active time
        PRIMARY KEY (user, start_us)
    ) WITHOUT ROWID;
    CREATE INDEX activity_by_time ON activity (start_us);
    INSERT INTO settings (key, value) VALUES ('activity_backfill', 'pending')
        ON CONFLICT (key) DO UPDATE SET value = excluded.value;
    "#,
    // 6 (issue 15, "It was me"): the typing an alert's evidence rests on (presses from
    // `evidence_from_us` to `evidence_to_us`, µs; NULL for alerts from before and for the
    // detectors' alerts, which cover no windows), and when the owner marked it false (NULL: not).
    r#"
    ALTER TABLE alerts ADD COLUMN evidence_from_us INTEGER;
    ALTER TABLE alerts ADD COLUMN evidence_to_us INTEGER;
    ALTER TABLE alerts ADD COLUMN marked_false_us INTEGER;
    "#,
    // 7 (issue 17): what the daemon keeps to recognise replays of recorded typing, timing only
    // (per keystroke its hold and the interval from the press before, in runs of typing; never
    // a key identity), pruned with the raw events' retention; and the keyboards that sessions
    // came from, so that one never seen before raises an alert.
    r#"
    CREATE TABLE replay_runs (
        id          INTEGER PRIMARY KEY,
        start_us    INTEGER NOT NULL UNIQUE,    -- press of the run's first keystroke
        end_us      INTEGER NOT NULL,           -- release of its last keystroke
        keystrokes  INTEGER NOT NULL,
        timings     BLOB NOT NULL               -- tikker_core::threat::replay::StoredRun::to_bytes
    );
    CREATE INDEX replay_runs_by_end ON replay_runs (end_us);
    CREATE TABLE devices (
        id              INTEGER PRIMARY KEY,
        identity        TEXT NOT NULL UNIQUE,   -- bus:vendor:product:virtual|physical:name
        name            TEXT NOT NULL,
        bus             INTEGER NOT NULL,
        vendor          INTEGER NOT NULL,
        product         INTEGER NOT NULL,
        phys            TEXT NOT NULL,          -- where it was last seen
        sysfs_path      TEXT NOT NULL,
        is_virtual      INTEGER NOT NULL,
        first_seen_us   INTEGER NOT NULL,
        last_seen_us    INTEGER NOT NULL
    );
    ALTER TABLE sessions ADD COLUMN device_id INTEGER REFERENCES devices (id);
    "#,
    // 8: the rhythm of each activity bucket: how many press-to-press intervals its active time
    // holds (their sum is `active_us`) and the sum of their squares (µs²), so that a span's
    // rhythm consistency is computed from summed rows (`tikker_core::activity`). Rows of the
    // events already stored are counted once by `Store::open` (the
    // `activity_intervals_backfill` setting); rows whose raw events are gone keep 0: no rhythm.
    r#"
    ALTER TABLE activity ADD COLUMN intervals INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE activity ADD COLUMN interval_squares INTEGER NOT NULL DEFAULT 0;
    INSERT INTO settings (key, value) VALUES ('activity_intervals_backfill', 'pending')
        ON CONFLICT (key) DO UPDATE SET value = excluded.value;
    "#,
];

/// The first schema version with the `activity` rollups; stores opened at an older version (in
/// migration tests) write no rollups.
pub const ACTIVITY_SINCE: u32 = 5;

/// The first schema version whose `activity` rollups keep the press-to-press intervals
/// (`intervals`, `interval_squares`).
pub const INTERVALS_SINCE: u32 = 8;

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The schema version of an open database.
pub fn version(conn: &Connection) -> Result<u32, StoreError> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(StoreError::sqlite("reading the schema version"))
}

/// Brings the database up to `target` (at most [`SCHEMA_VERSION`]), one transaction per step.
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<(), StoreError> {
    let found = version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for step in found..target.min(SCHEMA_VERSION) {
        // IMMEDIATE takes the write lock first, so that of two processes opening the database
        // at once (the daemon and `tikker serve`) one migrates and the other sees it done.
        let tx: Transaction<'_> = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::sqlite("starting a migration"))?;
        if version(&tx)? > step {
            continue;
        }
        tx.execute_batch(MIGRATIONS[step as usize])
            .map_err(StoreError::sqlite("applying a schema migration"))?;
        tx.pragma_update(None, "user_version", step + 1)
            .map_err(StoreError::sqlite("recording the schema version"))?;
        tx.commit()
            .map_err(StoreError::sqlite("committing a migration"))?;
        tracing::debug!(version = step + 1, "migrated tikker.db");
    }
    Ok(())
}

/// Brings the database up to the current schema.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    migrate_to(conn, SCHEMA_VERSION)
}
