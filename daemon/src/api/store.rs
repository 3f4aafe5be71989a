//! The API's connections to `tikker.db`.
//!
//! The daemon's writer thread owns its own connection and is never shared. The API opens its
//! own: a few read connections, pooled (in WAL mode they never block the writer, nor it them),
//! and two writers of its own, each committing short transactions that wait for the daemon's
//! commits through the 5 s busy timeout, without an fsync ([`Store::relax_durability`]: a power
//! loss may cost the last baselines or models saved, which can be made again, but never the
//! database's soundness):
//!
//! - **trained models** are saved at once, on the request's blocking thread ([`ApiStore::write`]);
//! - **baselines** are saved behind the answer ([`ApiStore::write_behind`]): a thread of the
//!   API's own takes them from a queue, so that neither the commit nor SQLite's WAL
//!   checkpoints (which do fsync) ever lengthen a request. The process that built a baseline
//!   uses it from memory at once ([`super::state`]); another process sees it once it is
//!   written, a few milliseconds later. When the queue is full, the request saves its baseline
//!   itself. Dropping the store writes what is queued before it returns.
//!
//! Blocking calls run on tokio's blocking threads, never on the runtime's own.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use anyhow::Context;
use tikker_store::{Store, StoreError};

use crate::db_key::Database;

/// Read connections kept open between requests.
const POOLED_READERS: usize = 16;
/// Baselines that may wait for the write-behind thread.
const QUEUED_WRITES: usize = 1024;

/// A write to make behind the answer.
type WriteJob = Box<dyn FnOnce(&Store) + Send>;

/// The API's connections.
#[derive(Debug)]
pub struct ApiStore {
    database: Database,
    readers: Mutex<Vec<Store>>,
    writer: Mutex<Option<Store>>,
    behind: Mutex<Option<SyncSender<WriteJob>>>,
    behind_thread: Mutex<Option<JoinHandle<()>>>,
}

impl ApiStore {
    /// Opens `database` (creating and migrating it if needed).
    pub fn open(database: &Database) -> anyhow::Result<ApiStore> {
        let first = database.open()?;
        let (behind, queue) = sync_channel(QUEUED_WRITES);
        let owned = database.clone();
        let behind_thread = std::thread::Builder::new()
            .name("api-writer".into())
            .spawn(move || write_behind_loop(&owned, queue))
            .context("starting the API's writer thread")?;
        Ok(ApiStore {
            database: database.clone(),
            readers: Mutex::new(vec![first]),
            writer: Mutex::new(None),
            behind: Mutex::new(Some(behind)),
            behind_thread: Mutex::new(Some(behind_thread)),
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

    /// Has the write-behind thread run `write`; if its queue is full (or it is gone), runs it
    /// now on the write connection.
    pub fn write_behind(&self, write: impl FnOnce(&Store) + Send + 'static) {
        let job: WriteJob = Box::new(write);
        let job = match self.behind.lock().ok().and_then(|sender| sender.clone()) {
            Some(sender) => match sender.try_send(job) {
                Ok(()) => return,
                Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => job,
            },
            None => job,
        };
        if let Err(e) = self.write(job) {
            tracing::error!(error = %e, "the HTTP API could not write to the database");
        }
    }
}

impl Drop for ApiStore {
    /// Writes what is queued, then stops the write-behind thread.
    fn drop(&mut self) {
        if let Ok(mut sender) = self.behind.lock() {
            sender.take();
        }
        if let Some(thread) = self.behind_thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
    }
}

/// A write connection that commits without an fsync.
fn relaxed(database: &Database) -> Result<Store, StoreError> {
    let store = database.open_store()?;
    store.relax_durability()?;
    Ok(store)
}

fn write_behind_loop(database: &Database, queue: Receiver<WriteJob>) {
    let mut store: Option<Store> = None;
    for job in queue {
        if store.is_none() {
            match relaxed(database) {
                Ok(opened) => store = Some(opened),
                Err(e) => {
                    tracing::error!(error = %e, "the HTTP API's writer cannot open the database");
                    continue;
                }
            }
        }
        if let Some(store) = &store {
            job(store);
        }
    }
}
