//! What the daemon keeps to recognise replays of recorded typing (`replay_runs`): timing only.
//!
//! Each row is one run of typing as [`tikker_core::threat::replay`] keeps it: when it began and
//! ended and, per keystroke, its hold and the interval from the press before (0.1 ms units),
//! never which keys. A run grows while it is typed, so the daemon saves it again
//! ([`Store::save_replay_run`], keyed by its start) until it ends. Old runs go with the raw
//! events' retention: [`Store::prune_replay_history_before`] is called by the daily prune.

use rusqlite::params;
use tikker_core::threat::replay::StoredRun;

use super::{Store, StoreError};

impl Store {
    /// Saves `run`, replacing the stored run that began at the same time (a run saved again as
    /// it grows).
    pub fn save_replay_run(&self, run: &StoredRun) -> Result<(), StoreError> {
        self.connection()
            .prepare_cached(
                "INSERT INTO replay_runs (start_us, end_us, keystrokes, timings)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (start_us) DO UPDATE SET
                     end_us = excluded.end_us,
                     keystrokes = excluded.keystrokes,
                     timings = excluded.timings",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    run.start_us,
                    run.end_us,
                    i64::try_from(run.timings.len()).unwrap_or(i64::MAX),
                    run.to_bytes()
                ])
            })
            .map(drop)
            .map_err(StoreError::sqlite("saving replay history"))
    }

    /// Every stored run, oldest first.
    pub fn replay_runs(&self) -> Result<Vec<StoredRun>, StoreError> {
        let mut statement = self
            .connection()
            .prepare_cached("SELECT id, timings FROM replay_runs ORDER BY start_us")
            .map_err(StoreError::sqlite("reading replay history"))?;
        let rows = statement
            .query_map([], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .map_err(StoreError::sqlite("reading replay history"))?;
        let mut runs = Vec::new();
        for row in rows {
            let (id, bytes) = row.map_err(StoreError::sqlite("reading replay history"))?;
            let run = StoredRun::from_bytes(&bytes)
                .map_err(|e| StoreError::Corrupt(format!("replay_runs row {id}: {e}")))?;
            runs.push(run);
        }
        Ok(runs)
    }

    /// When the oldest stored run ended (µs), if any: a history held in memory forgets what
    /// ended before it, so that it follows a prune made by another connection.
    pub fn replay_history_oldest_end(&self) -> Result<Option<i64>, StoreError> {
        self.connection()
            .query_row("SELECT min(end_us) FROM replay_runs", [], |row| row.get(0))
            .map_err(StoreError::sqlite("reading replay history"))
    }

    /// Deletes the replay history of typing that ended before `cutoff_us` (the retention of raw
    /// events); returns how many runs went.
    pub fn prune_replay_history_before(&self, cutoff_us: i64) -> Result<usize, StoreError> {
        self.connection()
            .execute("DELETE FROM replay_runs WHERE end_us < ?1", [cutoff_us])
            .map_err(StoreError::sqlite("pruning replay history"))
    }
}
