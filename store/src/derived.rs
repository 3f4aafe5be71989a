//! What tikker derives from events and keeps: versioned profiles and trained models.
//!
//! Both are stored as serialised blobs with enough metadata to list them; every save of a
//! profile is a new version, so a rebuild never destroys the profile it replaces.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// A stored profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProfile {
    /// Whose profile it is.
    pub user: String,
    /// Its version, counting from 1 for each user.
    pub version: i64,
    /// When it was saved (µs).
    pub created_us: i64,
    /// How many keystrokes it rests on.
    pub keystrokes: i64,
    /// The serialised profile (JSON).
    pub data: String,
}

/// A stored model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredModel {
    /// What it is, e.g. `identify-rf`.
    pub name: String,
    /// When it was saved (µs).
    pub created_us: i64,
    /// What data it was trained on, in words.
    pub trained_on: String,
    /// Its measured quality (JSON).
    pub metrics: String,
    /// The serialised model.
    pub data: Vec<u8>,
}

/// The columns [`model_from_row`] reads, in its order.
const MODEL_COLUMNS: &str = "name, created_us, trained_on, metrics, data";

/// A [`StoredModel`] from a row of [`MODEL_COLUMNS`].
fn model_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredModel> {
    Ok(StoredModel {
        name: row.get(0)?,
        created_us: row.get(1)?,
        trained_on: row.get(2)?,
        metrics: row.get(3)?,
        data: row.get(4)?,
    })
}

impl Store {
    /// Saves a new version of `user`'s profile and returns its version number.
    pub fn save_profile(
        &self,
        user: &str,
        created_us: i64,
        keystrokes: i64,
        data: &str,
    ) -> Result<i64, StoreError> {
        self.connection()
            .query_row(
                "INSERT INTO profiles (user, version, created_us, keystrokes, data)
                 VALUES (?1, (SELECT coalesce(max(version), 0) + 1 FROM profiles WHERE user = ?1),
                         ?2, ?3, ?4)
                 RETURNING version",
                params![user, created_us, keystrokes, data],
                |row| row.get(0),
            )
            .map_err(StoreError::sqlite("saving a profile"))
    }

    /// The newest profile of `user`, if any.
    pub fn latest_profile(&self, user: &str) -> Result<Option<StoredProfile>, StoreError> {
        self.connection()
            .query_row(
                "SELECT user, version, created_us, keystrokes, data FROM profiles
                 WHERE user = ?1 ORDER BY version DESC LIMIT 1",
                [user],
                |row| {
                    Ok(StoredProfile {
                        user: row.get(0)?,
                        version: row.get(1)?,
                        created_us: row.get(2)?,
                        keystrokes: row.get(3)?,
                        data: row.get(4)?,
                    })
                },
            )
            .optional()
            .map_err(StoreError::sqlite("reading a profile"))
    }

    /// The version of `user`'s newest profile, without reading the profile: a cheap check of
    /// whether a loaded profile is still the newest.
    pub fn latest_profile_version(&self, user: &str) -> Result<Option<i64>, StoreError> {
        self.connection()
            .prepare_cached("SELECT MAX(version) FROM profiles WHERE user = ?1")
            .and_then(|mut statement| statement.query_row([user], |row| row.get(0)))
            .map_err(StoreError::sqlite("reading a profile version"))
    }

    /// Saves a trained model.
    pub fn save_model(&self, model: &StoredModel) -> Result<(), StoreError> {
        self.connection()
            .execute(
                "INSERT INTO models (name, created_us, trained_on, metrics, data)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    model.name,
                    model.created_us,
                    model.trained_on,
                    model.metrics,
                    model.data
                ],
            )
            .map(drop)
            .map_err(StoreError::sqlite("saving a model"))
    }

    /// The row id of the newest model called `name` (a new save gives a larger one), without
    /// reading the model: a cheap check of whether a loaded model is still the newest.
    pub fn latest_model_id(&self, name: &str) -> Result<Option<i64>, StoreError> {
        self.connection()
            .prepare_cached(
                "SELECT id FROM models WHERE name = ?1 ORDER BY created_us DESC, id DESC LIMIT 1",
            )
            .and_then(|mut statement| statement.query_row([name], |row| row.get(0)).optional())
            .map_err(StoreError::sqlite("reading a model"))
    }

    /// The model stored with row id `id` (see [`Store::latest_model_id`]), if it exists.
    pub fn model_by_id(&self, id: i64) -> Result<Option<StoredModel>, StoreError> {
        self.connection()
            .query_row(
                &format!("SELECT {MODEL_COLUMNS} FROM models WHERE id = ?1"),
                [id],
                model_from_row,
            )
            .optional()
            .map_err(StoreError::sqlite("reading a model"))
    }

    /// The newest model called `name`, if any.
    pub fn latest_model(&self, name: &str) -> Result<Option<StoredModel>, StoreError> {
        self.connection()
            .query_row(
                &format!(
                    "SELECT {MODEL_COLUMNS} FROM models
                     WHERE name = ?1 ORDER BY created_us DESC, id DESC LIMIT 1"
                ),
                [name],
                model_from_row,
            )
            .optional()
            .map_err(StoreError::sqlite("reading a model"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_versioned_per_user() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("tikker.db"), &crate::Encryption::Off).unwrap();
        assert_eq!(store.latest_profile("me").unwrap(), None);
        assert_eq!(store.latest_profile_version("me").unwrap(), None);
        assert_eq!(store.save_profile("me", 1, 10, "{\"a\":1}").unwrap(), 1);
        assert_eq!(store.save_profile("you", 2, 20, "{}").unwrap(), 1);
        assert_eq!(store.save_profile("me", 3, 30, "{\"a\":2}").unwrap(), 2);
        let latest = store.latest_profile("me").unwrap().unwrap();
        assert_eq!((latest.version, latest.keystrokes), (2, 30));
        assert_eq!(latest.data, "{\"a\":2}");
        assert_eq!(store.latest_profile_version("me").unwrap(), Some(2));
        assert_eq!(store.latest_profile_version("you").unwrap(), Some(1));
    }

    #[test]
    fn the_newest_model_of_a_name_is_returned() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("tikker.db"), &crate::Encryption::Off).unwrap();
        let model = |created_us, data: &[u8]| StoredModel {
            name: "identify-rf".into(),
            created_us,
            trained_on: "test".into(),
            metrics: "{}".into(),
            data: data.to_vec(),
        };
        store.save_model(&model(1, b"old")).unwrap();
        store.save_model(&model(2, b"new")).unwrap();
        assert_eq!(
            store.latest_model("identify-rf").unwrap().unwrap().data,
            b"new"
        );
        assert_eq!(store.latest_model("identify-svm").unwrap(), None);
        let id = store.latest_model_id("identify-rf").unwrap().unwrap();
        assert_eq!(store.model_by_id(id).unwrap().unwrap().data, b"new");
        assert_eq!(store.latest_model_id("identify-svm").unwrap(), None);
        assert_eq!(store.model_by_id(id + 1).unwrap(), None);
    }
}
