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

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use tikker_store::{Store, StoreError};

/// Read connections kept open between requests.
const POOLED_READERS: usize = 16;

/// The API's connections.
#[derive(Debug)]
pub struct ApiStore {
    path: PathBuf,
    readers: Mutex<Vec<Store>>,
    writer: Mutex<Option<Store>>,
}

impl ApiStore {
    /// Opens the database at `path` (creating and migrating it if needed).
    pub fn open(path: &Path) -> anyhow::Result<ApiStore> {
        let first = Store::open(path).with_context(|| format!("opening {}", path.display()))?;
        Ok(ApiStore {
            path: path.to_path_buf(),
            readers: Mutex::new(vec![first]),
            writer: Mutex::new(None),
        })
    }

    /// Runs `read` on a pooled read connection.
    pub fn read<R>(&self, read: impl FnOnce(&Store) -> R) -> Result<R, StoreError> {
        let pooled = self.readers.lock().ok().and_then(|mut pool| pool.pop());
        let store = match pooled {
            Some(store) => store,
            None => Store::open(&self.path)?,
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
            None => relaxed(&self.path)?,
        };
        let result = write(&store);
        *slot = Some(store);
        Ok(result)
    }
}

/// A write connection that commits without an fsync.
fn relaxed(path: &Path) -> Result<Store, StoreError> {
    let store = Store::open(path)?;
    store.relax_durability()?;
    Ok(store)
}
