//! Where the key of `tikker.db` lives, and how every tikker process finds it.
//!
//! The key is 256 random bits made the first time a database is created (or a plaintext one is
//! encrypted). It is kept in the desktop's **Secret Service** (`org.freedesktop.secrets`: GNOME
//! Keyring, KWallet), as an item with the attributes `application = tikker`, `kind =
//! database-key`, so that it unlocks with the login. Where no Secret Service answers, it is kept
//! in a **key file** beside the configuration (`tikker.key`, 64 hexadecimal digits, mode
//! `0600`), and tikker says so in its log and in `tikker status`. `[store] encryption` chooses:
//!
//! | setting | where the key is looked for and kept |
//! |---|---|
//! | `auto` (default) | the Secret Service; the key file where none answers (or where the key already is) |
//! | `keyring` | only the Secret Service: an error if none answers |
//! | `keyfile` | only the key file |
//! | `off` | no encryption: anyone who can read the file reads the typing |
//!
//! A new key is made only when no database with typing exists yet, or the one there is
//! plaintext (it is then encrypted in place, see `tikker_store::encryption`). An encrypted
//! database whose key cannot be found is an error that says where tikker looked; tikker never
//! replaces it with a new one. Two processes that start at once agree on one key: making a key
//! holds a lock file beside the key file.
//!
//! The key never appears in a log line, an error message or a status report.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use tikker_store::{DbKey, Encryption, FileKind};

/// The attributes of the Secret Service item that holds the key.
const ITEM_ATTRIBUTES: [(&str, &str); 2] = [("application", "tikker"), ("kind", "database-key")];
/// The item's label, as keyring managers (Seahorse, KWalletManager) show it.
const ITEM_LABEL: &str = "tikker database key";
/// How long a Secret Service may take to answer before tikker treats it as absent.
const SECRET_SERVICE_TIMEOUT: Duration = Duration::from_secs(10);
/// The key file's name, in the configuration folder.
pub const KEY_FILE_NAME: &str = "tikker.key";

/// The `[store] encryption` setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncryptionSetting {
    /// The Secret Service, else a key file.
    #[default]
    Auto,
    /// Only the Secret Service.
    Keyring,
    /// Only a key file.
    Keyfile,
    /// No encryption.
    Off,
}

/// Where the key in use came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum KeySource {
    /// The desktop's Secret Service.
    Keyring,
    /// A key file.
    Keyfile {
        /// The file.
        path: PathBuf,
    },
    /// No encryption.
    Off,
}

impl KeySource {
    /// The setting's name for it: `keyring`, `keyfile` or `off`.
    pub fn name(&self) -> &'static str {
        match self {
            KeySource::Keyring => "keyring",
            KeySource::Keyfile { .. } => "keyfile",
            KeySource::Off => "off",
        }
    }
}

/// How to open the database: its encryption, where the key came from, and anything the user
/// should be told about it (once).
#[derive(Debug, Clone)]
pub struct StoreAccess {
    /// The key (or none) to open the database with.
    pub encryption: Encryption,
    /// Where the key came from.
    pub source: KeySource,
    /// A warning for the log and `tikker status`, e.g. that the key is in a file because no
    /// Secret Service answered.
    pub note: Option<String>,
    /// Whether the note was logged already (when the key was made).
    pub announced: bool,
}

impl StoreAccess {
    /// Unencrypted access, for databases the user asked to keep in plaintext.
    pub fn plaintext() -> StoreAccess {
        StoreAccess {
            encryption: Encryption::Off,
            source: KeySource::Off,
            note: None,
            announced: false,
        }
    }

    /// Opens the database at `path` with this access.
    ///
    /// # Errors
    /// What [`tikker_store::Store::open`] returns, with the key's source added to a wrong- or
    /// missing-key error.
    pub fn open(&self, path: &Path) -> anyhow::Result<tikker_store::Store> {
        tikker_store::Store::open(path, &self.encryption).map_err(|e| {
            let hint = match (&e, &self.source) {
                (tikker_store::StoreError::WrongKey { .. }, KeySource::Keyring) => {
                    " (the key came from the Secret Service item \"tikker database key\")"
                        .to_owned()
                }
                (tikker_store::StoreError::WrongKey { .. }, KeySource::Keyfile { path }) => {
                    format!(" (the key came from {})", path.display())
                }
                _ => String::new(),
            };
            anyhow::Error::new(e).context(format!("opening {}{hint}", path.display()))
        })
    }
}

/// A database and how to open it: what every part of the daemon that opens its own connection
/// (the writer, the monitor, the API's readers and writers) is given.
#[derive(Debug, Clone)]
pub struct Database {
    path: PathBuf,
    access: StoreAccess,
}

impl Database {
    /// The database at `path`, opened with `access`.
    pub fn new(path: PathBuf, access: StoreAccess) -> Database {
        Database { path, access }
    }

    /// A plaintext database at `path` (tests, and `[store] encryption = "off"`).
    pub fn plaintext(path: PathBuf) -> Database {
        Database::new(path, StoreAccess::plaintext())
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How it is opened.
    pub fn access(&self) -> &StoreAccess {
        &self.access
    }

    /// Opens a connection (see [`StoreAccess::open`]).
    ///
    /// # Errors
    /// As [`StoreAccess::open`].
    pub fn open(&self) -> anyhow::Result<tikker_store::Store> {
        self.access.open(&self.path)
    }

    /// Opens a connection, keeping the store's own error (for callers that sort errors).
    ///
    /// # Errors
    /// As [`tikker_store::Store::open`].
    pub fn open_store(&self) -> Result<tikker_store::Store, tikker_store::StoreError> {
        tikker_store::Store::open(&self.path, &self.access.encryption)
    }
}

/// Why the Secret Service could not be used.
#[derive(Debug, Clone)]
struct Unavailable(String);

/// Finds (or, for a database without typing yet, makes) the key of the database at `database`,
/// as `setting` says, with `key_file` as the key file.
///
/// # Errors
/// The key cannot be found for an encrypted database (the message says where tikker looked and
/// what to do), the Secret Service is required but does not answer, or the key file cannot be
/// read or written.
pub fn resolve(
    setting: EncryptionSetting,
    key_file: &Path,
    database: &Path,
) -> anyhow::Result<StoreAccess> {
    if setting == EncryptionSetting::Off {
        return Ok(StoreAccess::plaintext());
    }
    // A database path that is a symlink or another account's file is refused before anything
    // is read through it.
    tikker_store::check_own_path(database)?;
    // A folder, or a file that is not a database, is refused before any key is looked for or
    // made for it.
    tikker_store::encryption::file_kind(database)?;
    if let Ok(access) = find(setting, key_file)? {
        return Ok(access);
    }
    // No key anywhere: make one, unless the database holds typing it was encrypted with.
    let _lock = KeyLock::take(key_file)?;
    let keyring_state = match find(setting, key_file)? {
        Ok(access) => return Ok(access),
        Err(state) => state,
    };
    let kind = tikker_store::encryption::file_kind(database)
        .with_context(|| format!("reading {}", database.display()))?;
    if kind == FileKind::Encrypted {
        bail!(
            "{} is encrypted, but its key is neither in the Secret Service ({}) nor in {}: restore the key (README: \"Backing up the key\"), or, to start over, move the database away; tikker will not replace it with a new one",
            database.display(),
            keyring_state,
            key_file.display()
        );
    }
    let key = DbKey::generate().context("making a database key")?;
    if setting != EncryptionSetting::Keyfile {
        match store_in_keyring(&key) {
            Ok(()) => {
                tracing::info!("made a new database key and stored it in the Secret Service");
                return Ok(StoreAccess {
                    encryption: Encryption::Key(key),
                    source: KeySource::Keyring,
                    note: None,
                    announced: false,
                });
            }
            Err(why) if setting == EncryptionSetting::Keyring => bail!(
                "[store] encryption = \"keyring\", but the Secret Service could not store the database key: {}",
                why.0
            ),
            Err(why) => {
                write_key_file(key_file, &key)?;
                let note = format!(
                    "no Secret Service answered ({}), so the database key is kept in the file {} (mode 0600): anyone who can read that file as you can decrypt your typing record. Back it up (README: \"Backing up the key\")",
                    why.0,
                    key_file.display()
                );
                tracing::warn!("{note}");
                return Ok(StoreAccess {
                    encryption: Encryption::Key(key),
                    source: KeySource::Keyfile {
                        path: key_file.to_path_buf(),
                    },
                    note: Some(note),
                    announced: true,
                });
            }
        }
    }
    write_key_file(key_file, &key)?;
    tracing::info!(file = %key_file.display(), "made a new database key and stored it in the key file");
    Ok(StoreAccess {
        encryption: Encryption::Key(key),
        source: KeySource::Keyfile {
            path: key_file.to_path_buf(),
        },
        note: None,
        announced: false,
    })
}

/// An existing key, as `setting` allows; without one, what the Secret Service said (for the
/// message of a database whose key is missing).
fn find(
    setting: EncryptionSetting,
    key_file: &Path,
) -> anyhow::Result<Result<StoreAccess, String>> {
    let keyring = if setting == EncryptionSetting::Keyfile {
        None
    } else {
        Some(load_from_keyring())
    };
    if let Some(Ok(Some(key))) = keyring {
        return Ok(Ok(StoreAccess {
            encryption: Encryption::Key(key),
            source: KeySource::Keyring,
            note: None,
            announced: false,
        }));
    }
    let state = match &keyring {
        None => "not consulted: [store] encryption = \"keyfile\"".to_owned(),
        Some(Ok(_)) => "it answered, without a tikker key".to_owned(),
        Some(Err(why)) => format!("it did not answer: {}", why.0),
    };
    if setting == EncryptionSetting::Keyring {
        return match keyring {
            Some(Err(why)) => bail!(
                "[store] encryption = \"keyring\", but the Secret Service does not answer: {} (unlock your keyring, or set [store] encryption = \"auto\" to fall back to a key file)",
                why.0
            ),
            _ => Ok(Err(state)),
        };
    }
    if let Some(key) = read_key_file(key_file)? {
        let note = match keyring {
            Some(Err(why)) => Some(format!(
                "no Secret Service answered ({}), so the database key is read from the file {}: anyone who can read that file as you can decrypt your typing record",
                why.0,
                key_file.display()
            )),
            _ => None,
        };
        return Ok(Ok(StoreAccess {
            encryption: Encryption::Key(key),
            source: KeySource::Keyfile {
                path: key_file.to_path_buf(),
            },
            note,
            announced: false,
        }));
    }
    Ok(Err(state))
}

/// Reads the key file, if there is one; refuses a symlink, another account's file, or one that
/// others may read.
fn read_key_file(path: &Path) -> anyhow::Result<Option<DbKey>> {
    tikker_store::check_own_path(path)?;
    let text = match fs::read_to_string(path) {
        Ok(text) => zeroize::Zeroizing::new(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("reading the key file {}", path.display()));
        }
    };
    tikker_store::restrict_mode(path, 0o600)?;
    let key = DbKey::from_hex(&text).with_context(|| format!("the key file {}", path.display()))?;
    Ok(Some(key))
}

fn write_key_file(path: &Path, key: &DbKey) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating the key file {}", path.display()))?;
    let mut text = key.to_hex();
    text.push('\n');
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing the key file {}", path.display()))?;
    Ok(())
}

/// Runs `call` against the Secret Service on a thread of its own, giving up after
/// [`SECRET_SERVICE_TIMEOUT`] (a hung or prompting service must not hang tikker).
fn with_secret_service<T: Send + 'static>(
    call: impl FnOnce(&secret_service::blocking::SecretService<'_>) -> Result<T, String>
    + Send
    + 'static,
) -> Result<T, Unavailable> {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
        && std::env::var_os("XDG_RUNTIME_DIR")
            .is_none_or(|dir| !Path::new(&dir).join("bus").exists())
    {
        return Err(Unavailable("no D-Bus session bus".into()));
    }
    let (sender, receiver) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("secret-service".into())
        .spawn(move || {
            let result = secret_service::blocking::SecretService::connect(
                secret_service::EncryptionType::Dh,
            )
            .map_err(|e| describe_secret_service_error(&e))
            .and_then(|service| call(&service));
            let _ = sender.send(result);
        });
    if let Err(e) = spawned {
        return Err(Unavailable(format!("cannot start a thread: {e}")));
    }
    match receiver.recv_timeout(SECRET_SERVICE_TIMEOUT) {
        Ok(result) => result.map_err(Unavailable),
        Err(_) => Err(Unavailable(format!(
            "it did not answer within {} s",
            SECRET_SERVICE_TIMEOUT.as_secs()
        ))),
    }
}

fn describe_secret_service_error(error: &secret_service::Error) -> String {
    match error {
        secret_service::Error::Unavailable => {
            "no Secret Service is running on the session bus".to_owned()
        }
        secret_service::Error::Locked => "the keyring is locked".to_owned(),
        secret_service::Error::Prompt => "the unlock prompt was dismissed".to_owned(),
        other => other.to_string(),
    }
}

fn attributes() -> HashMap<&'static str, &'static str> {
    ITEM_ATTRIBUTES.into_iter().collect()
}

/// The key in the Secret Service: `Ok(None)` when it answers without one.
fn load_from_keyring() -> Result<Option<DbKey>, Unavailable> {
    with_secret_service(|service| {
        let found = service
            .search_items(attributes())
            .map_err(|e| describe_secret_service_error(&e))?;
        let item = match (found.unlocked.first(), found.locked.first()) {
            (Some(item), _) => item,
            (None, Some(item)) => {
                item.unlock()
                    .map_err(|e| describe_secret_service_error(&e))?;
                item
            }
            (None, None) => return Ok(None),
        };
        let secret = zeroize::Zeroizing::new(
            item.get_secret()
                .map_err(|e| describe_secret_service_error(&e))?,
        );
        let text = std::str::from_utf8(&secret)
            .map_err(|_| "the stored tikker key is not text".to_owned())?;
        DbKey::from_hex(text)
            .map(Some)
            .map_err(|e| format!("the stored tikker key is damaged: {e}"))
    })
}

fn store_in_keyring(key: &DbKey) -> Result<(), Unavailable> {
    let secret = key.to_hex();
    with_secret_service(move |service| {
        let collection = service
            .get_default_collection()
            .map_err(|e| describe_secret_service_error(&e))?;
        collection
            .ensure_unlocked()
            .map_err(|e| describe_secret_service_error(&e))?;
        collection
            .create_item(
                ITEM_LABEL,
                attributes(),
                secret.as_bytes(),
                true,
                "text/plain",
            )
            .map_err(|e| describe_secret_service_error(&e))?;
        Ok(())
    })
}

/// An exclusive lock held while a key is made, so two processes starting at once make one.
struct KeyLock(#[allow(dead_code)] fs::File);

impl KeyLock {
    fn take(key_file: &Path) -> anyhow::Result<KeyLock> {
        let mut name = key_file.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let mut builder = fs::DirBuilder::new();
            builder.recursive(true);
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder
                .create(dir)
                .with_context(|| format!("creating {}", dir.display()))?;
        }
        tikker_store::check_own_path(&path)?;
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(false);
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&path)
            .with_context(|| format!("opening the lock file {}", path.display()))?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
            .with_context(|| format!("locking {}", path.display()))?;
        Ok(KeyLock(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_is_made_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("tikker.key");
        let db = dir.path().join("tikker.db");
        let first = resolve(EncryptionSetting::Keyfile, &key_file, &db).unwrap();
        let second = resolve(EncryptionSetting::Keyfile, &key_file, &db).unwrap();
        let hex = |a: &StoreAccess| match &a.encryption {
            Encryption::Key(k) => k.to_hex().to_string(),
            Encryption::Off => String::new(),
        };
        assert_eq!(hex(&first), hex(&second));
        assert_eq!(hex(&first).len(), 64);
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn an_encrypted_database_without_its_key_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("tikker.key");
        let db = dir.path().join("tikker.db");
        let access = resolve(EncryptionSetting::Keyfile, &key_file, &db).unwrap();
        drop(access.open(&db).unwrap());
        fs::remove_file(&key_file).unwrap();
        let err = resolve(EncryptionSetting::Keyfile, &key_file, &db)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("is encrypted") && err.contains("Backing up the key"),
            "{err}"
        );
        assert!(!key_file.exists(), "no new key may be made");
    }
}
