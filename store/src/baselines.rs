//! The HTTP API's baselines: one per `user_id` of its callers, in a table of their own
//! (`api_baselines`, schema version 3).
//!
//! The owner's profiles live in `profiles` and are written only by tikker itself; nothing here
//! reads or writes them, so no `user_id` an API caller sends (the owner's own login name
//! included) can change or reveal the owner's profile. A baseline is replaced by every new one
//! of its `user_id`; [`Store::save_api_baseline_capped`] also keeps the table within a number
//! of baselines and of bytes, evicting the oldest.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// Inserts a baseline or replaces its `user_id`'s older one.
const UPSERT: &str = "INSERT INTO api_baselines (user_id, updated_us, keystrokes, data)
     VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (user_id) DO UPDATE SET updated_us = excluded.updated_us,
       keystrokes = excluded.keystrokes, data = excluded.data
     WHERE excluded.updated_us > api_baselines.updated_us";

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

/// How many API baselines are kept, and how many bytes of them at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BaselineCap {
    /// The most baselines (distinct `user_id`s).
    pub count: usize,
    /// The most bytes of serialised baselines, all together.
    pub bytes: u64,
}

impl Store {
    /// Saves `baseline` as [`Store::save_api_baseline`] does and, in the same transaction,
    /// evicts the least recently built others until at most `cap.count` baselines of at most
    /// `cap.bytes` together remain; returns how many were evicted. The one just saved is evicted
    /// only if it alone is larger than `cap.bytes` (callers refuse such a baseline first).
    pub fn save_api_baseline_capped(
        &self,
        baseline: &StoredBaseline,
        cap: BaselineCap,
    ) -> Result<usize, StoreError> {
        self.in_transaction("saving an API baseline", |conn| {
            conn.prepare_cached(UPSERT)?.execute(params![
                baseline.user_id,
                baseline.updated_us,
                baseline.keystrokes,
                baseline.data
            ])?;
            conn.prepare_cached(
                "DELETE FROM api_baselines WHERE user_id IN (
                   SELECT user_id FROM (
                     SELECT user_id, row_number() OVER newest AS n,
                            sum(octet_length(data)) OVER newest AS running
                     FROM api_baselines
                     WINDOW newest AS (ORDER BY user_id = ?1 DESC, updated_us DESC, user_id))
                   WHERE n > ?2 OR running > ?3)",
            )?
            .execute(params![
                baseline.user_id,
                i64::try_from(cap.count).unwrap_or(i64::MAX),
                i64::try_from(cap.bytes).unwrap_or(i64::MAX)
            ])
        })
    }

    /// How many API baselines are stored, and their bytes together.
    pub fn api_baseline_usage(&self) -> Result<(u64, u64), StoreError> {
        self.connection()
            .query_row(
                "SELECT count(*), coalesce(sum(octet_length(data)), 0) FROM api_baselines",
                [],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?.max(0) as u64,
                        row.get::<_, i64>(1)?.max(0) as u64,
                    ))
                },
            )
            .map_err(StoreError::sqlite("counting API baselines"))
    }

    /// Saves `baseline`, replacing the one of the same `user_id` unless that one is newer (a
    /// larger `updated_us`: two processes may save baselines of one `user_id` out of order).
    pub fn save_api_baseline(&self, baseline: &StoredBaseline) -> Result<(), StoreError> {
        self.connection()
            .prepare_cached(UPSERT)
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
    fn stored_baselines_are_capped_in_number_and_bytes_oldest_evicted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("tikker.db"), &crate::Encryption::Off).unwrap();
        let cap = BaselineCap {
            count: 3,
            bytes: 1000,
        };
        for (i, user) in ["a", "b", "c", "d"].iter().enumerate() {
            let evicted = store
                .save_api_baseline_capped(&baseline(user, i as i64 + 1, &"x".repeat(100)), cap)
                .unwrap();
            assert_eq!(evicted, usize::from(i == 3), "{user}");
        }
        assert_eq!(
            store.api_baseline_version("a").unwrap(),
            None,
            "the oldest went"
        );
        assert_eq!(store.api_baseline_usage().unwrap(), (3, 300));
        // A newer baseline of "b" makes it the newest: "c" is the oldest now.
        store
            .save_api_baseline_capped(&baseline("b", 10, &"y".repeat(100)), cap)
            .unwrap();
        // 850 bytes more leave room for one other baseline only (850 + 100 + 100 > 1000).
        let evicted = store
            .save_api_baseline_capped(&baseline("e", 11, &"z".repeat(850)), cap)
            .unwrap();
        assert_eq!(evicted, 2);
        assert_eq!(store.api_baseline_version("b").unwrap(), Some(10));
        assert_eq!(store.api_baseline_version("e").unwrap(), Some(11));
        assert_eq!(store.api_baseline_usage().unwrap(), (2, 950));
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
