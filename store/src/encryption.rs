//! Encryption at rest: `tikker.db` and its `-wal` are encrypted with SQLCipher (AES-256 in CBC
//! mode per 8 KiB page, with an HMAC-SHA512 per page; SQLCipher 4's defaults but for the page
//! size) under a raw 256-bit key, so no key derivation runs on open.
//!
//! The store only *uses* a key ([`Encryption`]); where it is kept (the desktop's Secret Service
//! or a key file) is the daemon's business. What the store decides:
//!
//! - whether a file is plaintext, encrypted or not there yet ([`file_kind`]), from its first 16
//!   bytes (a plaintext SQLite file starts with `SQLite format 3\0`; an encrypted one is random)
//!   and its size (whole pages); a folder or a file that is neither is refused untouched;
//! - that a plaintext database opened with a key is migrated once ([`encrypt_in_place`]): copied
//!   into an encrypted file beside it with `sqlcipher_export`, made durable, renamed over the
//!   original (atomically: a crash leaves either the plaintext or the encrypted file, never
//!   neither), after which the old file's blocks are overwritten with zeros through a descriptor
//!   still open on them;
//! - that a wrong or missing key is an error that says so ([`crate::StoreError::WrongKey`],
//!   [`crate::StoreError::NeedsKey`]); an encrypted database is never replaced by a new one.

use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use zeroize::Zeroizing;

use super::StoreError;

/// The page size of encrypted databases (bytes). Each page carries SQLCipher's 16-byte IV and
/// 64-byte HMAC, so 8 KiB pages halve that overhead per event against the default 4 KiB (and
/// halve the HMACs computed per byte). It is not written in the (encrypted) header: every open
/// sets it, and it may never change for existing databases.
const CIPHER_PAGE_SIZE: i64 = 8192;

/// The first 16 bytes of every plaintext SQLite database.
const PLAINTEXT_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// A 256-bit database key. Its bytes are wiped from memory when it is dropped and never shown
/// by `Debug`.
#[derive(Clone)]
pub struct DbKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for DbKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DbKey(<secret>)")
    }
}

/// A key that is not 64 hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a database key is 64 hexadecimal digits (256 bits); found {found} characters{detail}")]
pub struct KeyFormatError {
    found: usize,
    detail: &'static str,
}

impl DbKey {
    /// A new key of 256 random bits from the operating system (`getrandom(2)`).
    ///
    /// # Errors
    /// The system's random source failed.
    pub fn generate() -> std::io::Result<DbKey> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        let mut filled = 0;
        while filled < bytes.len() {
            filled += rustix::rand::getrandom(
                &mut bytes[filled..],
                rustix::rand::GetRandomFlags::empty(),
            )
            .map_err(std::io::Error::from)?;
        }
        Ok(DbKey(bytes))
    }

    /// A key from its 64 hexadecimal digits (upper or lower case; surrounding whitespace, such
    /// as a key file's line end, is ignored).
    ///
    /// # Errors
    /// [`KeyFormatError`] for anything else.
    pub fn from_hex(text: &str) -> Result<DbKey, KeyFormatError> {
        let text = text.trim();
        if text.len() != 64 {
            return Err(KeyFormatError {
                found: text.chars().count(),
                detail: "",
            });
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        for (i, pair) in text.as_bytes().chunks(2).enumerate() {
            let digit = |c: u8| (c as char).to_digit(16);
            match (digit(pair[0]), digit(pair[1])) {
                (Some(high), Some(low)) => bytes[i] = (high * 16 + low) as u8,
                _ => {
                    return Err(KeyFormatError {
                        found: 64,
                        detail: ", not all hexadecimal digits",
                    });
                }
            }
        }
        Ok(DbKey(bytes))
    }

    /// The key as 64 lower-case hexadecimal digits (wiped from memory when dropped).
    pub fn to_hex(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::with_capacity(64));
        for byte in self.0.iter() {
            text.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
            text.push(char::from_digit(u32::from(byte & 15), 16).unwrap_or('0'));
        }
        text
    }

    /// SQLCipher's raw-key literal, `x'<64 hex digits>'`.
    fn sql_literal(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("x'{}'", self.to_hex().as_str()))
    }
}

/// How a database is protected at rest.
#[derive(Debug, Clone)]
pub enum Encryption {
    /// Plain SQLite: anyone who can read the file reads every key event.
    Off,
    /// Encrypted with SQLCipher under this key.
    Key(DbKey),
}

impl Encryption {
    /// Whether a key is used.
    pub fn is_on(&self) -> bool {
        matches!(self, Encryption::Key(_))
    }
}

/// What a database file holds, judged from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// No file, or an empty one with no write-ahead log: a new database.
    New,
    /// A plaintext SQLite database.
    Plaintext,
    /// Not a plaintext SQLite database: encrypted (or damaged beyond recognition).
    Encrypted,
}

/// What the file at `path` holds.
///
/// # Errors
/// [`StoreError::NotADatabase`] for a folder, a device, or a file whose size is not a whole
/// number of database pages; [`StoreError::Io`] when it exists but cannot be read.
pub fn file_kind(path: &Path) -> Result<FileKind, StoreError> {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileKind::New),
        Err(e) => return Err(StoreError::io(path, "reading the database header")(e)),
    };
    check_regular_file(path, &metadata)?;
    let mut file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileKind::New),
        Err(e) => return Err(StoreError::io(path, "reading the database header")(e)),
    };
    let mut header = [0u8; 16];
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(StoreError::io(path, "reading the database header")(e)),
        }
    }
    if read == 0 {
        // Empty: new, unless its log already holds the first commits (then judge the log: a
        // plaintext log's frames start with the database's plaintext first page).
        let wal = companion(path, "-wal");
        return match fs::metadata(&wal) {
            Ok(meta) if meta.len() > 0 => Ok(wal_kind(&wal)?),
            _ => Ok(FileKind::New),
        };
    }
    if read == 16 && &header == PLAINTEXT_HEADER {
        return Ok(FileKind::Plaintext);
    }
    // SQLite (and so SQLCipher) writes whole pages, of 512 bytes at least: a file of any other
    // size is something else (a text file given to --db by mistake), which tikker must neither
    // open nor change.
    let size = metadata.len();
    if size < MIN_PAGE_SIZE || size % MIN_PAGE_SIZE != 0 {
        return Err(StoreError::NotADatabase {
            path: path.to_path_buf(),
            why: format!(
                "is not a tikker database: it is neither a SQLite database nor an encrypted one ({size} bytes, not a whole number of database pages). tikker left it as it was: give the path of your database, or of a file that does not exist yet to start a new one"
            ),
        });
    }
    Ok(FileKind::Encrypted)
}

/// The smallest page size SQLite allows: every database file is a whole number of pages.
const MIN_PAGE_SIZE: u64 = 512;

/// Refuses a folder, device, socket or pipe where a database file (or its `-wal`) belongs.
pub(crate) fn check_regular_file(path: &Path, metadata: &fs::Metadata) -> Result<(), StoreError> {
    if metadata.is_dir() {
        return Err(StoreError::NotADatabase {
            path: path.to_path_buf(),
            why: format!(
                "is a folder, not a database file. tikker left it as it was: give the path of the database file (for example {})",
                path.join("tikker.db").display()
            ),
        });
    }
    if !metadata.is_file() {
        return Err(StoreError::NotADatabase {
            path: path.to_path_buf(),
            why: "is not a regular file (a device, socket or pipe), so not a tikker database. tikker left it as it was: give the path of the database file".to_owned(),
        });
    }
    Ok(())
}

/// A write-ahead log's first frame holds page 1: plaintext if it starts like a database.
fn wal_kind(wal: &Path) -> Result<FileKind, StoreError> {
    let bytes = fs::read(wal).map_err(StoreError::io(wal, "reading the write-ahead log"))?;
    // 32-byte log header, 24-byte frame header, then the page.
    let page = bytes.get(56..72);
    Ok(if page == Some(&PLAINTEXT_HEADER[..]) {
        FileKind::Plaintext
    } else {
        FileKind::Encrypted
    })
}

/// `path` with `suffix` appended (`tikker.db-wal`).
pub(crate) fn companion(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Gives a fresh connection its key (before anything else touches the file) and checks that
/// the key opens the database.
pub(crate) fn unlock(
    conn: &Connection,
    path: &Path,
    encryption: &Encryption,
) -> Result<(), StoreError> {
    quiet(conn)?;
    if let Encryption::Key(key) = encryption {
        conn.pragma_update(None, "key", key.sql_literal().as_str())
            .map_err(StoreError::sqlite("giving the database its key"))?;
        conn.pragma_update(None, "cipher_page_size", CIPHER_PAGE_SIZE)
            .map_err(StoreError::sqlite("setting the encrypted page size"))?;
    }
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
        row.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Err(match encryption {
                Encryption::Key(_) => StoreError::WrongKey {
                    path: path.to_path_buf(),
                },
                Encryption::Off => StoreError::NeedsKey {
                    path: path.to_path_buf(),
                },
            })
        }
        Err(source) => Err(StoreError::Sqlite {
            context: "reading the database",
            source,
        }),
    }
}

/// Stops SQLCipher's own log lines on standard error (a wrong key would print three lines of
/// `hmac check failed` before tikker's own message): tikker reports every failure itself.
fn quiet(conn: &Connection) -> Result<(), StoreError> {
    conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()))
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(()),
            other => Err(other),
        })
        .map_err(StoreError::sqlite("silencing SQLCipher's log"))
}

/// Encrypts the plaintext database at `path` in place under `key` (see the module
/// documentation). The database must not be open in any other process: that is checked, by
/// leaving WAL mode, which SQLite allows only to the one connection of a database.
///
/// # Errors
/// [`StoreError::InUse`] when another process has it open; [`StoreError::Sqlite`] or
/// [`StoreError::Io`] when a step fails, in which case the plaintext database is left as it was
/// and the partial copy removed.
pub(crate) fn encrypt_in_place(path: &Path, key: &DbKey) -> Result<(), StoreError> {
    let copy = companion(path, ".encrypting");
    super::check_own_path(&copy)?;
    if fs::symlink_metadata(&copy).is_ok() {
        // Left by an interrupted migration: the plaintext original is still whole.
        fs::remove_file(&copy).map_err(StoreError::io(&copy, "removing an unfinished copy"))?;
    }
    let result = export_encrypted(path, &copy, key);
    if result.is_err() {
        let _ = fs::remove_file(&copy);
    }
    result
}

fn export_encrypted(path: &Path, copy: &Path, key: &DbKey) -> Result<(), StoreError> {
    // The copy is created 0600 before SQLite writes into it.
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(copy)
        .map_err(StoreError::io(copy, "creating the encrypted copy"))?;

    let conn =
        Connection::open(path).map_err(StoreError::sqlite("opening the plaintext database"))?;
    quiet(&conn)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(StoreError::sqlite("setting the busy timeout"))?;
    // Leaving WAL checkpoints everything into the main file and removes the log; SQLite refuses
    // it while another connection has the database open.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = DELETE", [], |row| row.get(0))
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy => {
                StoreError::InUse {
                    path: path.to_path_buf(),
                }
            }
            source => StoreError::Sqlite {
                context: "leaving WAL mode before encrypting",
                source,
            },
        })?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(StoreError::InUse {
            path: path.to_path_buf(),
        });
    }
    // Exclusive locking mode keeps the lock after the commit below, until this connection closes
    // after the rename: no other process can write to the plaintext file meanwhile.
    conn.query_row("PRAGMA locking_mode = EXCLUSIVE", [], |_| Ok(()))
        .map_err(StoreError::sqlite("locking the database"))?;
    conn.execute_batch("BEGIN EXCLUSIVE")
        .map_err(|_| StoreError::InUse {
            path: path.to_path_buf(),
        })?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(StoreError::sqlite("reading the schema version"))?;
    let copy_text = copy.to_str().ok_or_else(|| StoreError::NotYours {
        path: copy.to_path_buf(),
        why: "is not valid UTF-8, which SQLite's ATTACH needs: choose a database path in UTF-8"
            .into(),
    })?;
    conn.execute(
        "ATTACH DATABASE ?1 AS encrypted KEY ?2",
        rusqlite::params![copy_text, key.sql_literal().as_str()],
    )
    .map_err(StoreError::sqlite("attaching the encrypted copy"))?;
    conn.pragma_update(Some("encrypted"), "cipher_page_size", CIPHER_PAGE_SIZE)
        .map_err(StoreError::sqlite("setting the encrypted copy's page size"))?;
    conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))
        .map_err(StoreError::sqlite(
            "copying the database into its encrypted form",
        ))?;
    conn.pragma_update(Some("encrypted"), "user_version", version)
        .map_err(StoreError::sqlite(
            "recording the schema version in the copy",
        ))?;
    conn.execute_batch("COMMIT")
        .map_err(StoreError::sqlite("finishing the encrypted copy"))?;
    conn.execute_batch("DETACH DATABASE encrypted")
        .map_err(StoreError::sqlite("detaching the encrypted copy"))?;
    fs::File::open(copy)
        .and_then(|f| f.sync_all())
        .map_err(StoreError::io(copy, "making the encrypted copy durable"))?;
    // Opened before the rename: after it, this is the only way to the plaintext blocks.
    let mut plaintext = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(StoreError::io(
            path,
            "opening the plaintext file to wipe it",
        ))?;
    let length = plaintext
        .metadata()
        .map_err(StoreError::io(path, "reading the plaintext file's size"))?
        .len();
    fs::rename(copy, path).map_err(StoreError::io(path, "replacing the plaintext database"))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(StoreError::io(dir, "making the replacement durable"))?;
    }
    // The exclusive lock ends with this connection; the file it locked is the old one.
    drop(conn);
    let zeros = vec![0u8; 1 << 16];
    let mut left = length;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        plaintext
            .write_all(&zeros[..n])
            .map_err(StoreError::io(path, "wiping the plaintext copy"))?;
        left -= n as u64;
    }
    plaintext
        .sync_all()
        .map_err(StoreError::io(path, "wiping the plaintext copy"))?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let _ = fs::remove_file(companion(path, suffix));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_hex_and_never_show_in_debug() {
        let key = DbKey::generate().unwrap();
        let hex = key.to_hex();
        assert_eq!(hex.len(), 64);
        let again = DbKey::from_hex(&format!("  {}\r\n", hex.to_uppercase())).unwrap();
        assert_eq!(again.to_hex().as_str(), hex.as_str());
        assert_eq!(format!("{key:?}"), "DbKey(<secret>)");
        assert_ne!(
            DbKey::generate().unwrap().to_hex().as_str(),
            hex.as_str(),
            "two keys must differ"
        );
    }

    #[test]
    fn malformed_keys_are_refused_with_what_is_wrong() {
        let short = DbKey::from_hex("abcd").unwrap_err().to_string();
        assert!(
            short.contains("64 hexadecimal digits") && short.contains("found 4"),
            "{short}"
        );
        let bad = DbKey::from_hex(&"zz".repeat(32)).unwrap_err().to_string();
        assert!(bad.contains("not all hexadecimal"), "{bad}");
    }
}
