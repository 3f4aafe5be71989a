//! The API's connections to `tikker.db`.
//!
//! The daemon's writer thread owns its own connection and is never shared. The API opens its
//! own: a few read connections, pooled (in WAL mode they never block the writer, nor it them),
//! and one writer of its own, committing short transactions that wait for the daemon's commits
//! through the 5 s busy timeout, without an fsync ([`Store::relax_durability`]: a power loss may
//! cost the last baselines or models saved, which can be made again, but never the database's
//! soundness). Every write is made before the request is answered: an answer never says a
//! baseline or model is stored when its commit failed (`super::state`).
//!
//! Blocking calls run on tokio's blocking threads, never on the runtime's own.

use std::sync::Mutex;

use tikker_store::{Store, StoreError};

use crate::db_key::Database;

/// Read connections kept open between requests.
const POOLED_READERS: usize = 16;

/// The API's connections.
#[derive(Debug)]
pub struct ApiStore {
    database: Database,
    readers: Mutex<Vec<Store>>,
    writer: Mutex<Option<Store>>,
}

impl ApiStore {
    /// Opens `database` (creating and migrating it if needed).
    pub fn open(database: &Database) -> anyhow::Result<ApiStore> {
        let first = database.open()?;
        Ok(ApiStore {
            database: database.clone(),
            readers: Mutex::new(vec![first]),
            writer: Mutex::new(None),
        })
    }

    /// The database, for work that needs a connection of its own (forgetting a span, with full
    /// durability).
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Runs `read` on a pooled read connection.
    pub fn read<R>(&self, read: impl FnOnce(&Store) -> R) -> Result<R, StoreError> {
        let pooled = self.readers.lock().ok().and_then(|mut pool| pool.pop());
        let store = match pooled {
            Some(store) => store,
            None => self.database.open_store()?,
        };
        let result = read(&store);
        if let Ok(mut pool) = self.readers.lock()
            && pool.len() < POOLED_READERS
        {
            pool.push(store);
        }
        Ok(result)
    }

    /// Runs `write` on the API's write connection (one at a time), now.
    pub fn write<R>(&self, write: impl FnOnce(&Store) -> R) -> Result<R, StoreError> {
        let mut slot = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let store = match slot.take() {
            Some(store) => store,
            None => relaxed(&self.database)?,
        };
        let result = write(&store);
        *slot = Some(store);
        Ok(result)
    }
}

/// A write connection that commits without an fsync.
fn relaxed(database: &Database) -> Result<Store, StoreError> {
    let store = database.open_store()?;
    store.relax_durability()?;
    Ok(store)
}
