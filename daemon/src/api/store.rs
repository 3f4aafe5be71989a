//! The API's connections to `tikker.db`.
//!
//! The daemon's writer thread owns its own connection and is never shared. The API opens its
//! own: a few read connections, pooled (in WAL mode they never block the writer, nor it them),
//! and one write connection for the API's few writes (per-user baselines and trained models),
//! each a short transaction of its own that waits for the daemon's commits through the 5 s busy
//! timeout. Blocking calls run on tokio's blocking threads, never on the runtime's own.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use tikker_core::store::{Store, StoreError};

/// Read connections kept open between requests.
const POOLED_READERS: usize = 4;

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

    /// Runs `write` on the write connection (one at a time).
    pub fn write<R>(&self, write: impl FnOnce(&Store) -> R) -> Result<R, StoreError> {
        let mut slot = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let store = match slot.take() {
            Some(store) => store,
            None => Store::open(&self.path)?,
        };
        let result = write(&store);
        *slot = Some(store);
        Ok(result)
    }
}
