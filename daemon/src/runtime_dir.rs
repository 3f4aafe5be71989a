//! The daemon's runtime folder (`$XDG_RUNTIME_DIR/tikker`): its control socket and its lock.
//!
//! The folder is created `0700` and must belong to the user running tikker; a folder owned by
//! someone else is refused rather than used (it could be a trap set in a shared `/tmp`). Without
//! `XDG_RUNTIME_DIR` (no login session) the folder is `/tmp/tikker-<uid>`, under the same rules.
//!
//! One daemon runs per user: it holds an exclusive `flock` on `daemon.lock` for its lifetime, and
//! writes its pid and database into the file so that a second daemon can say who is running. The
//! kernel releases the lock when the process ends, however it ends, so a crash leaves no stale
//! lock behind.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The runtime folder.
#[derive(Debug, Clone)]
pub struct RuntimeDir {
    path: PathBuf,
}

impl RuntimeDir {
    /// Where the folder is (without creating it).
    pub fn locate() -> RuntimeDir {
        let path = match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
            Some(base) => PathBuf::from(base).join("tikker"),
            None => std::env::temp_dir().join(format!("tikker-{}", current_uid())),
        };
        RuntimeDir { path }
    }

    /// Creates the folder (0700) or checks the one there: it must be a folder of this user;
    /// looser permissions are tightened.
    pub fn prepare() -> anyhow::Result<RuntimeDir> {
        let dir = RuntimeDir::locate();
        let path = &dir.path;
        match std::fs::symlink_metadata(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut builder = std::fs::DirBuilder::new();
                builder.recursive(true);
                std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
                builder
                    .create(path)
                    .with_context(|| format!("creating the runtime folder {}", path.display()))?;
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("reading the runtime folder {}", path.display()));
            }
        }
        dir.check_owner()?;
        tikker_store::restrict_mode(path, 0o700)?;
        Ok(dir)
    }

    /// Refuses a folder (or symlink) that is not this user's own folder.
    fn check_owner(&self) -> anyhow::Result<()> {
        let metadata = std::fs::symlink_metadata(&self.path)
            .with_context(|| format!("reading {}", self.path.display()))?;
        if !metadata.is_dir() {
            bail!(
                "{} is not a folder: remove it (tikker keeps its control socket there)",
                self.path.display()
            );
        }
        let uid = current_uid();
        if metadata.uid() != uid {
            bail!(
                "{} belongs to user {} but tikker runs as user {uid}: refusing to use it (remove it, or set XDG_RUNTIME_DIR)",
                self.path.display(),
                metadata.uid()
            );
        }
        Ok(())
    }

    /// The daemon's control socket.
    pub fn control_socket(&self) -> PathBuf {
        self.path.join("control.sock")
    }

    /// The daemon's lock file.
    pub fn lock_file(&self) -> PathBuf {
        self.path.join("daemon.lock")
    }
}

/// This process's user id.
pub fn current_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// The lock that makes a daemon the only one of its user; released when dropped or when the
/// process ends.
#[derive(Debug)]
pub struct DaemonLock {
    _file: File,
}

impl DaemonLock {
    /// Takes the lock, or fails with a message that names the daemon holding it.
    pub fn acquire(dir: &RuntimeDir, database: &Path) -> anyhow::Result<DaemonLock> {
        let path = dir.lock_file();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("opening the lock file {}", path.display()))?;
        if let Err(e) = file.try_lock() {
            if let std::fs::TryLockError::Error(e) = e {
                return Err(e).with_context(|| format!("locking {}", path.display()));
            }
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let mut lines = holder.lines();
            let pid = lines.next().unwrap_or("?");
            let holder_db = lines.next().unwrap_or("?");
            bail!(
                "another tikker daemon is already running for this user (pid {pid}, recording into {holder_db}); \
                 only one may run at a time: stop it first (`systemctl --user stop tikker`, or `kill {pid}`)"
            );
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("protecting {}", path.display()))?;
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}\n{}", std::process::id(), database.display()))
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(DaemonLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_first_holder() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = RuntimeDir {
            path: dir.path().to_path_buf(),
        };
        let first = DaemonLock::acquire(&runtime, Path::new("/data/one.db")).unwrap();
        let message = DaemonLock::acquire(&runtime, Path::new("/data/two.db"))
            .unwrap_err()
            .to_string();
        assert!(message.contains("already running"), "{message}");
        assert!(message.contains("/data/one.db"), "{message}");
        assert!(
            message.contains(&std::process::id().to_string()),
            "{message}"
        );
        drop(first);
        DaemonLock::acquire(&runtime, Path::new("/data/two.db")).unwrap();
    }
}
