//! One daemon per database: `tikker daemon` holds an exclusive `flock` on `<database>.lock`
//! (`tikker.db.lock`, beside the database, `0600`) for its lifetime, whatever its runtime folder.
//!
//! The one-daemon lock of [`crate::runtime_dir`] lives in `$XDG_RUNTIME_DIR`, so a second daemon
//! started with another runtime folder (as `scripts/run` and tests do) passes it; without this
//! lock it would record into the same database too, storing every replayed session twice and
//! contending with the first for every write. The lock is a file of its own, not the database:
//! SQLite locks the database with `fcntl` locks, which `flock` on NFS would collide with, and
//! encrypting a plaintext database replaces its file. The file holds the holder's pid and runtime
//! folder, so that the second daemon can say who records. The kernel releases the lock when the
//! process ends, however it ends; the file stays (removing it would let two daemons lock two
//! different files).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::holder_lock::{Attempt, HeldLock};

/// The lock that makes a daemon the only one recording into its database; released when dropped
/// or when the process ends.
#[derive(Debug)]
pub struct DatabaseLock {
    _held: HeldLock,
}

impl DatabaseLock {
    /// The lock file of `database`: `<database>.lock`.
    pub fn path_for(database: &Path) -> PathBuf {
        let mut name = database.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Takes the lock of `database` for a daemon whose runtime folder is `runtime`, or fails with
    /// a message that names the database and the daemon holding it.
    ///
    /// # Errors
    /// Another daemon holds it; the database path is a folder, a symlink, another account's or
    /// not a database; the lock file cannot be made.
    pub fn acquire(database: &Path, runtime: &Path) -> anyhow::Result<DatabaseLock> {
        // Nothing is made beside a path that is not a database (nor a symlink to follow).
        tikker_store::check_own_path(database)?;
        tikker_store::encryption::file_kind(database)?;
        if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            // The folder the database will be made in, as the store makes it.
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder
                .create(dir)
                .with_context(|| format!("creating {}", dir.display()))?;
        }
        let path = Self::path_for(database);
        tikker_store::check_own_path(&path)?;
        match crate::holder_lock::try_hold(&path, runtime)? {
            Attempt::Held(held) => Ok(DatabaseLock { _held: held }),
            Attempt::Busy { pid, detail } => bail!(
                "another tikker daemon (pid {pid}, runtime folder {detail}) is already recording into {}; \
                 only one daemon may record into a database (a second would store every session again): \
                 stop it first (`systemctl --user stop tikker`, or `kill {pid}`), or give this one another --db",
                database.display()
            ),
        }
    }
}
