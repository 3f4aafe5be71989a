//! The HTTP API's baselines: one per `user_id` of its callers, in a table of their own
//! (`api_baselines`, schema version 3).
//!
//! The owner's profiles live in `profiles` and are written only by tikker itself; nothing here
//! reads or writes them, so no `user_id` an API caller sends (the owner's own login name
//! included) can change or reveal the owner's profile. A baseline is replaced by every new one
//! of its `user_id`.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// A stored API baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBaseline {
    /// The caller's `user_id`.
    pub user_id: String,
    /// When it was built (µs since the Unix epoch); also its version.
    pub updated_us: i64,
    /// How many complete keystrokes it rests on.
    pub keystrokes: i64,
    /// The serialised baseline (JSON).
    pub data: String,
}

impl Store {
    /// Saves `baseline`, replacing the one of the same `user_id` unless that one is newer (a
    /// larger `updated_us`: two processes may save baselines of one `user_id` out of order).
    pub fn save_api_baseline(&self, baseline: &StoredBaseline) -> Result<(), StoreError> {
        self.connection()
            .prepare_cached(
                "INSERT INTO api_baselines (user_id, updated_us, keystrokes, data)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user_id) DO UPDATE SET updated_us = excluded.updated_us,
                   keystrokes = excluded.keystrokes, data = excluded.data
                 WHERE excluded.updated_us > api_baselines.updated_us",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    baseline.user_id,
                    baseline.updated_us,
                    baseline.keystrokes,
                    baseline.data
                ])
            })
            .map(drop)
            .map_err(StoreError::sqlite("saving an API baseline"))
    }

    /// The baseline of `user_id`, if there is one.
    pub fn api_baseline(&self, user_id: &str) -> Result<Option<StoredBaseline>, StoreError> {
        self.connection()
            .prepare_cached(
                "SELECT user_id, updated_us, keystrokes, data FROM api_baselines
                 WHERE user_id = ?1",
            )
            .and_then(|mut statement| {
                statement
                    .query_row([user_id], |row| {
                        Ok(StoredBaseline {
                            user_id: row.get(0)?,
                            updated_us: row.get(1)?,
                            keystrokes: row.get(2)?,
                            data: row.get(3)?,
                        })
                    })
                    .optional()
            })
            .map_err(StoreError::sqlite("reading an API baseline"))
    }

    /// When the baseline of `user_id` was built (its version), without reading it.
    pub fn api_baseline_version(&self, user_id: &str) -> Result<Option<i64>, StoreError> {
        self.connection()
            .prepare_cached("SELECT updated_us FROM api_baselines WHERE user_id = ?1")
            .and_then(|mut statement| statement.query_row([user_id], |row| row.get(0)).optional())
            .map_err(StoreError::sqlite("reading an API baseline"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baseline(user_id: &str, updated_us: i64, data: &str) -> StoredBaseline {
        StoredBaseline {
            user_id: user_id.into(),
            updated_us,
            keystrokes: 10,
            data: data.into(),
        }
    }

    #[test]
    fn a_baseline_is_replaced_by_the_next_one_of_its_user() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("tikker.db"), &crate::Encryption::Off).unwrap();
        assert_eq!(store.api_baseline("alice").unwrap(), None);
        store
            .save_api_baseline(&baseline("alice", 1, "{}"))
            .unwrap();
        store.save_api_baseline(&baseline("bob", 2, "{}")).unwrap();
        store
            .save_api_baseline(&baseline("alice", 3, "{\"v\":2}"))
            .unwrap();
        let alice = store.api_baseline("alice").unwrap().unwrap();
        assert_eq!((alice.updated_us, alice.data.as_str()), (3, "{\"v\":2}"));
        // An older one saved late does not replace it.
        store
            .save_api_baseline(&baseline("alice", 2, "{\"v\":1}"))
            .unwrap();
        assert_eq!(store.api_baseline_version("alice").unwrap(), Some(3));
        assert_eq!(store.api_baseline_version("bob").unwrap(), Some(2));
        assert_eq!(store.api_baseline_version("carol").unwrap(), None);
    }

    #[test]
    fn baselines_never_touch_the_owners_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("tikker.db"), &crate::Encryption::Off).unwrap();
        store
            .save_profile("me", 1, 100, "{\"owner\":true}")
            .unwrap();
        store.save_api_baseline(&baseline("me", 2, "{}")).unwrap();
        let owner = store.latest_profile("me").unwrap().unwrap();
        assert_eq!(
            (owner.version, owner.data.as_str()),
            (1, "{\"owner\":true}")
        );
    }
}
