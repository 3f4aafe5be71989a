//! The daemon's runtime folder (`$XDG_RUNTIME_DIR/tikker`): its control socket and its lock.
//!
//! Where it is and what makes it trusted are `tikker_wire::socket`'s rules, shared with every
//! client: without `XDG_RUNTIME_DIR` it is `~/.cache/tikker/run-<host>`, which no other account
//! can create first. The folder is created `0700` and must be a real folder of the user running
//! tikker; a folder (or symlink) of someone else is refused, with a message naming it, its owner
//! and what to do, rather than used: whoever owns it could replace the socket and pose as the
//! daemon. Looser permissions of the user's own folder are tightened.
//!
//! One daemon runs per user: it holds an exclusive `flock` on `daemon.lock` for its lifetime, and
//! writes its pid and database into the file so that a second daemon can say who is running. The
//! kernel releases the lock when the process ends, however it ends, so a crash leaves no stale
//! lock behind.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::holder_lock::{Attempt, HeldLock};

/// The runtime folder.
#[derive(Debug, Clone)]
pub struct RuntimeDir {
    path: PathBuf,
}

impl RuntimeDir {
    /// Where the folder is (without creating it).
    pub fn locate() -> RuntimeDir {
        RuntimeDir {
            path: tikker_wire::socket::runtime_dir(),
        }
    }

    /// The folder's path.
    pub fn path(&self) -> &Path {
        &self.path
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
        tikker_wire::socket::check_runtime_dir(path)
            .with_context(|| format!("reading the runtime folder {}", path.display()))??;
        Ok(dir)
    }

    /// Refuses a folder (or symlink) that is not this user's own folder.
    fn check_owner(&self) -> anyhow::Result<()> {
        tikker_wire::socket::check_own_folder(&self.path)
            .with_context(|| format!("reading the runtime folder {}", self.path.display()))??;
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
    tikker_wire::socket::current_uid()
}

/// The lock that makes a daemon the only one of its user; released when dropped or when the
/// process ends.
#[derive(Debug)]
pub struct DaemonLock {
    _held: HeldLock,
}

impl DaemonLock {
    /// Takes the lock, or fails with a message that names the daemon holding it.
    pub fn acquire(dir: &RuntimeDir, database: &Path) -> anyhow::Result<DaemonLock> {
        let path = dir.lock_file();
        match crate::holder_lock::try_hold(&path, database)? {
            Attempt::Held(held) => Ok(DaemonLock { _held: held }),
            Attempt::Busy { pid, detail } => bail!(
                "another tikker daemon is already running for this user (pid {pid}, recording into {detail}); \
                 only one may run at a time: stop it first (`systemctl --user stop tikker`, or `kill {pid}`)"
            ),
        }
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
