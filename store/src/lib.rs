//! tikker-store: `tikker.db`, the local SQLite store of key events and of everything derived
//! from them (schema, migrations, reads, writes, file permissions), with [`import`] and
//! [`export`] of files and the scans of stored typing in [`history`].
//!
//! It depends on `tikker-core` (the domain types it stores) and `tikker-formats` (the files it
//! imports and exports); **it may not depend on** the wire types, the capture backends, the
//! research harness or any async runtime.
//!
//! A [`Store`] is one connection. The process that records keeps exactly one store for writing
//! (the single writer) and appends through [`Store::write`], which batches many events into one
//! transaction with cached prepared statements. Readers open their own store; thanks to WAL they
//! never block the writer, and [`Store::for_each_event`] streams events so that no read holds more
//! than one segment's worth of rows at a time.
//!
//! ## Durability
//! The database runs in WAL mode with `synchronous = FULL`: every commit is fsynced to the WAL
//! before it returns. The recorder commits at most every 250 ms, so a crash, `SIGKILL` or power
//! loss costs at most the uncommitted batch, and a committed batch survives all three. `NORMAL`
//! would skip that fsync and could lose every commit since the last checkpoint on power loss; the
//! cost of `FULL` is one fsync per batch, a few per second at most. A busy timeout of 5 s lets a
//! second process (an import while the daemon records) wait its turn instead of failing.
//!
//! ## Privacy
//! The file holds what a person typed: the order of key ids *is* the text. So the folder is
//! created `0700` and the database and its `-wal`/`-shm` files `0600` (looser modes are
//! tightened with a warning); with a key ([`Encryption`]) every page of the database and its log
//! is encrypted with SQLCipher ([`encryption`]); deletes overwrite what they free
//! (`secure_delete`); raw events can be pruned or forgotten ([`Store::prune_raw_before`],
//! [`Store::forget`]) while the quarter-hour activity rollups keep the statistics.

#![deny(missing_docs)]

mod activity;
mod baselines;
mod derived;
mod devices;
pub mod encryption;
pub mod export;
mod fault;
mod forget;
pub mod history;
pub mod import;
mod read;
mod replay_history;
pub mod schema;
mod verdicts;
mod write;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

pub use baselines::{BaselineCap, StoredBaseline};
pub use derived::{StoredModel, StoredProfile};
pub use devices::{DeviceSighting, StoredDevice};
pub use encryption::{DbKey, Encryption, FileKind};
pub use fault::Fault;
pub use forget::Forgotten;
pub use read::{Damage, EventFilter, Scan, SessionInfo};
pub use verdicts::{MarkedFalse, StoredAlert, StoredScore};
pub use write::{NewSession, SessionId, WriteTx};

/// What went wrong in the store. Every variant says what tikker was doing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("tikker.db: {context}")]
    Sqlite {
        /// What tikker was doing.
        context: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A file or folder could not be created, read or protected.
    #[error("{}: {context}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What tikker was doing.
        context: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The database was written by a newer tikker.
    #[error(
        "tikker.db has schema version {found} but this tikker knows only up to {supported}: upgrade tikker"
    )]
    NewerSchema {
        /// Version in the file.
        found: u32,
        /// Newest version this build knows.
        supported: u32,
    },
    /// Events of one session were appended out of time order.
    #[error(
        "session {session}: event at {time_us} µs comes before the previous one at {previous_us} µs; events must be appended in time order"
    )]
    OutOfOrder {
        /// The session.
        session: i64,
        /// The previous event's time.
        previous_us: i64,
        /// The offending event's time.
        time_us: i64,
    },
    /// A session with this user and label exists already.
    #[error("session {label:?} of user {user:?} is already in tikker.db (imported before?)")]
    DuplicateSession {
        /// The user.
        user: String,
        /// The label.
        label: String,
    },
    /// A stored row does not decode.
    #[error("tikker.db is damaged: {0}")]
    Corrupt(String),
    /// The key given does not open the database.
    #[error(
        "{}: the database key does not open this database (it was encrypted with another key). Restore the key it was encrypted with (README: \"Backing up the key\"); tikker will not replace an encrypted database with a new one",
        path.display()
    )]
    WrongKey {
        /// The database.
        path: PathBuf,
    },
    /// The database is encrypted (or damaged beyond recognition) but no key was given.
    #[error(
        "{}: the database is encrypted (or is not a SQLite database at all) and no key was given: set [store] encryption to where its key is (\"keyring\" or \"keyfile\"), or restore the key (README: \"Backing up the key\")",
        path.display()
    )]
    NeedsKey {
        /// The database.
        path: PathBuf,
    },
    /// Another process has the database open while it had to be open alone (to encrypt it).
    #[error(
        "{}: another process has the database open (a tikker daemon of an older version?), so it cannot be encrypted now: stop it (systemctl --user stop tikker) and run tikker again; the database stays unencrypted until then",
        path.display()
    )]
    InUse {
        /// The database.
        path: PathBuf,
    },
    /// The path is a folder, a device or a file that is not a database: refused before anything
    /// about it (its mode included) is changed.
    #[error("{}: {why}", path.display())]
    NotADatabase {
        /// The path.
        path: PathBuf,
        /// What it is and what to do.
        why: String,
    },
    /// A path tikker would write or protect is a symlink or belongs to another account: it is
    /// refused, since whoever made it could point tikker at a file of their choosing or at one of
    /// the user's own files.
    #[error("{}: {why}", path.display())]
    NotYours {
        /// The path.
        path: PathBuf,
        /// What is wrong and what to do.
        why: String,
    },
}

impl StoreError {
    /// A mapper from SQLite errors to [`StoreError::Sqlite`] with the given context.
    pub(crate) fn sqlite(context: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
        move |source| StoreError::Sqlite { context, source }
    }

    pub(crate) fn io(
        path: &Path,
        context: &'static str,
    ) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = path.to_path_buf();
        move |source| StoreError::Io {
            path,
            context,
            source,
        }
    }
}

/// One connection to `tikker.db`.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The segment the next append of its session may extend (see [`write`]).
    tail: Option<write::TailSegment>,
    /// Each session's place in the activity rollups, as committed.
    cursors: std::collections::HashMap<SessionId, activity::SessionCursor>,
    /// Whether the database is encrypted.
    encrypted: bool,
    /// Whether the schema has the `activity` rollups (always, but in migration tests).
    rollups: bool,
    /// Whether the rollups have the interval columns (always, but in migration tests).
    rollup_intervals: bool,
}

/// How long a connection waits for another process's write transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

impl Store {
    /// Opens (creating if needed) the database at `path` with `encryption`: protects the folder
    /// and file, unlocks it, sets the durability settings, migrates the schema to the current
    /// version and counts the activity rollups of typing stored before they existed.
    ///
    /// With a key, a plaintext database is first encrypted in place, once (see [`encryption`]);
    /// without one, an encrypted database is refused.
    ///
    /// # Errors
    /// [`StoreError::WrongKey`], [`StoreError::NeedsKey`], [`StoreError::InUse`] (a plaintext
    /// database to encrypt is open elsewhere), [`StoreError::NotYours`] (a symlink or another
    /// account's file), [`StoreError::NotADatabase`] (a folder, or a file that is not a
    /// database: left untouched), [`StoreError::NewerSchema`], and SQLite or file errors.
    pub fn open(path: &Path, encryption: &Encryption) -> Result<Store, StoreError> {
        let mut store = Self::open_at_version(path, encryption, schema::SCHEMA_VERSION)?;
        store.backfill_activity()?;
        Ok(store)
    }

    /// Like [`Store::open`] but migrates only up to `version` and counts no rollups; for
    /// migration tests.
    #[doc(hidden)]
    pub fn open_at_version(
        path: &Path,
        encryption: &Encryption,
        version: u32,
    ) -> Result<Store, StoreError> {
        prepare_private_file(path)?;
        let kind = encryption::file_kind(path)?;
        match (encryption, kind) {
            (Encryption::Key(key), FileKind::Plaintext) => {
                tracing::info!(
                    path = %path.display(),
                    "encrypting the plaintext database in place (once)"
                );
                encryption::encrypt_in_place(path, key)?;
                prepare_private_file(path)?;
                tracing::info!(path = %path.display(), "the database is now encrypted");
            }
            (Encryption::Off, FileKind::Encrypted) => {
                return Err(StoreError::NeedsKey {
                    path: path.to_path_buf(),
                });
            }
            _ => {}
        }
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(StoreError::sqlite("opening the database"))?;
        encryption::unlock(&conn, path, encryption)?;
        configure(&conn)?;
        schema::migrate_to(&mut conn, version)?;
        for suffix in ["-wal", "-shm"] {
            restrict_mode(&encryption::companion(path, suffix), 0o600)?;
        }
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            tail: None,
            cursors: std::collections::HashMap::new(),
            encrypted: encryption.is_on(),
            rollups: version >= schema::ACTIVITY_SINCE,
            rollup_intervals: version >= schema::INTERVALS_SINCE,
        })
    }

    /// Whether this database is encrypted at rest.
    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// Commits of this connection skip the fsync: with WAL the database stays sound through a
    /// crash or power loss, but the last commits before a power loss may be lost. For writes that
    /// can be made again (the HTTP API's baselines and trained models), never for key events.
    pub fn relax_durability(&self) -> Result<(), StoreError> {
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(StoreError::sqlite("setting synchronous = NORMAL"))
    }

    /// The file this store is on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying connection, for the modules of this crate that keep their own tables.
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Runs `write` in a transaction of its own (`BEGIN IMMEDIATE`) and commits it, so that a
    /// commit that fails (a full disk) is an error. Without it, a statement that returns rows
    /// (`INSERT … RETURNING` read through `query_row`) commits only when the statement is reset,
    /// and that error is lost: the caller would get a row id for a row that was never stored.
    pub(crate) fn in_transaction<R>(
        &self,
        context: &'static str,
        write: impl FnOnce(&Connection) -> rusqlite::Result<R>,
    ) -> Result<R, StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )
        .map_err(StoreError::sqlite(context))?;
        let result = write(&tx).map_err(StoreError::sqlite(context))?;
        tx.commit().map_err(StoreError::sqlite(context))?;
        Ok(result)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        schema::version(&self.conn)
    }

    /// Runs `PRAGMA integrity_check` and returns its findings (`["ok"]` when healthy).
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("PRAGMA integrity_check")
            .map_err(StoreError::sqlite("checking integrity"))?;
        let rows = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(StoreError::sqlite("checking integrity"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::sqlite("checking integrity"))
    }

    /// Reads a setting (a small key/value pair tikker keeps across restarts).
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()
            .map_err(StoreError::sqlite("reading a setting"))
    }

    /// Writes (or with `None`, removes) a setting.
    pub fn set_setting(&self, key: &str, value: Option<&str>) -> Result<(), StoreError> {
        match value {
            Some(value) => self.conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            ),
            None => self
                .conn
                .execute("DELETE FROM settings WHERE key = ?1", [key]),
        }
        .map(drop)
        .map_err(StoreError::sqlite("writing a setting"))
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(StoreError::sqlite("setting the busy timeout"))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(StoreError::sqlite("switching to WAL mode"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(journal_mode = %mode, "tikker.db could not switch to WAL mode");
    }
    // See the module documentation for why FULL.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(StoreError::sqlite("setting synchronous = FULL"))?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(StoreError::sqlite("enabling foreign keys"))?;
    // Deleted rows (retention, `tikker forget`) are overwritten, not left in free pages.
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(StoreError::sqlite("enabling secure delete"))?;
    Ok(())
}

/// Creates the folder (0700) and an empty file (0600) before SQLite opens it, so the database is
/// never readable by others, not even for an instant; tightens existing looser modes. The file
/// and its `-wal`, `-shm` and `-journal` companions must not be symlinks nor another account's
/// ([`check_own_path`]).
fn prepare_private_file(path: &Path) -> Result<(), StoreError> {
    check_own_path(path)?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut companion = path.as_os_str().to_owned();
        companion.push(suffix);
        check_own_path(Path::new(&companion))?;
        match fs::metadata(&companion) {
            Ok(metadata) => encryption::check_regular_file(Path::new(&companion), &metadata)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io(Path::new(&companion), "reading its type")(e)),
        }
    }
    // A folder, device or a file that is not a database is refused before any mode changes.
    encryption::file_kind(path)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.exists() {
            create_private_dir(parent)?;
        } else if is_tikker_folder(parent) {
            restrict_mode(parent, 0o700)?;
        } else {
            warn_if_others_may_replace(parent);
        }
    }
    if fs::symlink_metadata(path).is_err() {
        // create_new (O_EXCL) fails on anything there, a symlink included, so no link made
        // after the check above is followed.
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(_) => {}
            // Another tikker made it meanwhile: checked below like any existing file.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(StoreError::io(path, "creating the database file")(e)),
        }
    }
    check_own_path(path)?;
    restrict_mode(path, 0o600)
}

/// Warns when every account may write `dir` and it lacks the sticky bit (`chmod 777`, unlike
/// `/tmp`): any of them can then delete or replace the database and its log there. Not
/// tightened (the folder is not tikker's), and not refused (the file itself stays private).
fn warn_if_others_may_replace(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(metadata) = fs::metadata(dir) {
            let mode = metadata.permissions().mode();
            // Once per process: the daemon opens several connections.
            static WARNED: std::sync::atomic::AtomicBool =
                std::sync::atomic::AtomicBool::new(false);
            if mode & 0o002 != 0
                && mode & 0o1000 == 0
                && !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed)
            {
                tracing::warn!(
                    folder = %dir.display(),
                    mode = format_args!("{:o}", mode & 0o7777),
                    "the database's folder may be written by every account and has no sticky bit: any of them can delete or replace the database there; keep it in a folder of your own (or chmod o-w it)"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Only a folder tikker owns (named `tikker`, or one it created) is tightened: a database put by
/// `--db` into a shared folder such as `/tmp` must not change that folder's mode.
fn is_tikker_folder(dir: &Path) -> bool {
    dir.file_name().is_some_and(|name| name == "tikker")
}

fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(StoreError::io(dir, "creating the data folder"))?;
    restrict_mode(dir, 0o700)
}

/// Refuses `path` (if it exists) when it is a symlink or belongs to another account: tikker
/// never follows a symlink to a file it writes or protects, nor changes another account's file.
///
/// # Errors
/// [`StoreError::NotYours`] naming the link's target or the owner and what to do;
/// [`StoreError::Io`] when `path` cannot be read.
pub fn check_own_path(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let metadata = match fs::symlink_metadata(path) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io(path, "reading its owner")(e)),
        };
        let me = rustix::process::getuid().as_raw();
        if metadata.file_type().is_symlink() {
            let target = fs::read_link(path)
                .map(|t| t.display().to_string())
                .unwrap_or_else(|_| "?".to_owned());
            return Err(StoreError::NotYours {
                path: path.to_path_buf(),
                why: format!(
                    "is a symlink (to {target}, made by {}): tikker does not follow symlinks for the files it writes, since one made by another account could point it at a file of their choosing or at one of yours; give the real path instead",
                    describe_user(metadata.uid())
                ),
            });
        }
        if metadata.uid() != me {
            return Err(StoreError::NotYours {
                path: path.to_path_buf(),
                why: format!(
                    "belongs to {}, not to {}: tikker writes and protects only files of its own user; choose a path of your own (or have that account remove it)",
                    describe_user(metadata.uid()),
                    describe_user(me)
                ),
            });
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// A user as messages name it: `alice (uid 1000)`, or `uid 1000` when `/etc/passwd` does not
/// know it.
pub fn describe_user(uid: u32) -> String {
    let name = fs::read_to_string("/etc/passwd").ok().and_then(|passwd| {
        passwd.lines().find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let listed: u32 = fields.nth(1)?.parse().ok()?;
            (listed == uid).then(|| name.to_owned())
        })
    });
    match name {
        Some(name) => format!("{name} (uid {uid})"),
        None => format!("uid {uid}"),
    }
}

/// Removes any permission beyond `allowed` from `path` (if it exists), warning when it does.
///
/// It never changes another account's file: a symlink made by another account, or a path
/// (or symlink target) owned by another account, is refused with [`StoreError::NotYours`]. A
/// symlink of the user's own to a file or folder of the user's own (a data folder moved to
/// another disk) is followed.
pub fn restrict_mode(path: &Path, allowed: u32) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        match fs::symlink_metadata(path) {
            Ok(link) if link.file_type().is_symlink() => {
                if link.uid() != rustix::process::getuid().as_raw() {
                    // Names the link's maker and target.
                    return check_own_path(path);
                }
            }
            Ok(_) => check_own_path(path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io(path, "reading permissions")(e)),
        }
        let metadata = match fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io(path, "reading permissions")(e)),
        };
        if metadata.uid() != rustix::process::getuid().as_raw() {
            return Err(StoreError::NotYours {
                path: path.to_path_buf(),
                why: format!(
                    "leads to a file of {}, not of {}: tikker changes only its own user's files; choose a path of your own",
                    describe_user(metadata.uid()),
                    describe_user(rustix::process::getuid().as_raw())
                ),
            });
        }
        let mode = metadata.permissions().mode() & 0o777;
        if mode & !allowed != 0 {
            let tightened = mode & allowed;
            tracing::warn!(
                path = %path.display(),
                was = format_args!("{mode:o}"),
                now = format_args!("{tightened:o}"),
                "permissions were looser than tikker allows; tightened"
            );
            fs::set_permissions(path, fs::Permissions::from_mode(tightened))
                .map_err(StoreError::io(path, "tightening permissions"))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (path, allowed);
    Ok(())
}

/// Creates `dir` (and its parents) with mode 0700, or tightens it if it exists; for the
/// folders tikker owns (data, config, runtime).
pub fn ensure_private_dir(dir: &Path) -> Result<(), StoreError> {
    if dir.exists() {
        restrict_mode(dir, 0o700)
    } else {
        create_private_dir(dir)
    }
}
