//! Where the daemon of this user listens, and the checks that make sure it is this user's daemon.
//!
//! The runtime folder is `$XDG_RUNTIME_DIR/tikker`. Without `XDG_RUNTIME_DIR` (no login session:
//! cron, `su`, a bare console) it is `~/.cache/tikker/run-<host>`, a folder under the user's own
//! home that no other account can create first (a shared `/tmp` is not used: anyone may create
//! `/tmp/tikker-<uid>` before its user does, and then either stop the daemon or pose as it). Only
//! without a usable home (`HOME` unset or not absolute) is it `/tmp/tikker-<uid>`. The daemon
//! creates the folder; every client finds it with the same rule.
//!
//! The daemon and every client apply the same checks ([`check_runtime_dir`], [`check_socket`],
//! [`check_peer`]): the folder must be a real folder (not a symlink) of this user that no other
//! account can write, the socket a socket of this user, and the process at its other end (its
//! `SO_PEERCRED`) a process of this user. Whatever fails is refused with a [`TrustError`] that
//! names the path, its owner and what to do.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// The runtime folder of this user's daemon (not created here).
pub fn runtime_dir() -> PathBuf {
    runtime_dir_from(
        std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

/// The rule of [`runtime_dir`] for the given `XDG_RUNTIME_DIR` and `HOME`.
fn runtime_dir_from(xdg_runtime_dir: Option<PathBuf>, home: Option<PathBuf>) -> PathBuf {
    if let Some(base) = xdg_runtime_dir.filter(|v| !v.as_os_str().is_empty()) {
        return base.join("tikker");
    }
    match home.filter(|h| h.is_absolute()) {
        Some(home) => home
            .join(".cache/tikker")
            .join(format!("run-{}", host_name())),
        None => std::env::temp_dir().join(format!("tikker-{}", current_uid())),
    }
}

/// This machine's name, for the runtime folder in a home that several machines may share (NFS);
/// only letters, digits, `-`, `_` and `.` are kept.
fn host_name() -> String {
    let name: String = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap_or_default()
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(64)
        .collect();
    if name.is_empty() || name.starts_with('.') {
        "local".to_owned()
    } else {
        name
    }
}

/// The control socket of this user's daemon.
pub fn control_socket() -> PathBuf {
    runtime_dir().join("control.sock")
}

/// This process's user id.
pub fn current_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// A user as messages name it: `alice (uid 1000)`, or `uid 1000` when `/etc/passwd` does not
/// know it.
pub fn describe_user(uid: u32) -> String {
    let name = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
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

/// Why a runtime folder, socket or peer is not this user's own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    /// The path is not a real folder (a symlink, a file, …).
    #[error(
        "{} is not a folder of yours (it is a {kind}): refusing to use it, since another account may have put it there; remove it, or set XDG_RUNTIME_DIR to a private folder",
        .path.display()
    )]
    NotAFolder {
        /// The path.
        path: PathBuf,
        /// What is there instead.
        kind: &'static str,
    },
    /// The folder or socket belongs to another account.
    #[error(
        "{} belongs to {} but tikker runs as {}: refusing to use it, since another account could pose as your daemon there; ask that account or an administrator to remove it, or set XDG_RUNTIME_DIR to a private folder",
        .path.display(), describe_user(*.owner), describe_user(*.expected)
    )]
    WrongOwner {
        /// The path.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The user running tikker.
        expected: u32,
    },
    /// The folder is writable by other accounts, which could replace the socket.
    #[error(
        "{} can be written by other accounts (mode {mode:o}): refusing to use it, since they could put their own socket there; run `chmod 700 {}` and start the daemon again",
        .path.display(), .path.display()
    )]
    WritableByOthers {
        /// The folder.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The control socket is not a socket.
    #[error(
        "{} is not a socket (it is a {kind}): refusing to use it; remove it and start the daemon again",
        .path.display()
    )]
    NotASocket {
        /// The path.
        path: PathBuf,
        /// What is there instead.
        kind: &'static str,
    },
    /// The process at the other end of the socket belongs to another account.
    #[error(
        "the process at the other end of {} runs as {}, not as {}: it is not one of your processes, so it is refused (if it listens there, find it with `ss -xlp | grep {}`)",
        .path.display(), describe_user(*.peer), describe_user(*.expected), .path.display()
    )]
    ForeignPeer {
        /// The socket.
        path: PathBuf,
        /// The peer's user id.
        peer: u32,
        /// The user running tikker.
        expected: u32,
    },
    /// The kernel gave no credentials for the peer.
    #[error(
        "could not learn who answers at {}: {reason}; refusing to talk to it",
        .path.display()
    )]
    NoCredentials {
        /// The socket.
        path: PathBuf,
        /// The system's error.
        reason: String,
    },
}

/// What a file type is, for messages.
fn kind_of(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_symlink() {
        "symlink"
    } else if file_type.is_dir() {
        "folder"
    } else if file_type.is_file() {
        "file"
    } else if file_type.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

/// Checks that `metadata` (of `path`, not following a symlink) is owned by this user.
fn check_owner(path: &Path, metadata: &std::fs::Metadata) -> Result<(), TrustError> {
    let expected = current_uid();
    if metadata.uid() != expected {
        return Err(TrustError::WrongOwner {
            path: path.to_path_buf(),
            owner: metadata.uid(),
            expected,
        });
    }
    Ok(())
}

/// Checks that `path` is a real folder (not a symlink) owned by this user, whatever its mode;
/// what the daemon checks before it tightens the mode of its own folder.
///
/// # Errors
/// The outer error is the I/O error of reading `path` (e.g. not found); the inner one is
/// [`TrustError::NotAFolder`] or [`TrustError::WrongOwner`].
pub fn check_own_folder(path: &Path) -> std::io::Result<Result<(), TrustError>> {
    let metadata = std::fs::symlink_metadata(path)?;
    if !metadata.is_dir() {
        return Ok(Err(TrustError::NotAFolder {
            path: path.to_path_buf(),
            kind: kind_of(metadata.file_type()),
        }));
    }
    Ok(check_owner(path, &metadata))
}

/// Checks the runtime folder at `path`: a real folder of this user that other accounts cannot
/// write.
///
/// # Errors
/// The outer error is the I/O error of reading `path` (e.g. not found); the inner one says why
/// the folder is not trusted.
pub fn check_runtime_dir(path: &Path) -> std::io::Result<Result<(), TrustError>> {
    if let Err(e) = check_own_folder(path)? {
        return Ok(Err(e));
    }
    let mode = std::fs::symlink_metadata(path)?.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Ok(Err(TrustError::WritableByOthers {
            path: path.to_path_buf(),
            mode,
        }));
    }
    Ok(Ok(()))
}

/// Checks the control socket at `path`: a socket (not a symlink) owned by this user.
///
/// # Errors
/// The outer error is the I/O error of reading `path`; the inner one says why it is not trusted.
pub fn check_socket(path: &Path) -> std::io::Result<Result<(), TrustError>> {
    let metadata = std::fs::symlink_metadata(path)?;
    if !metadata.file_type().is_socket() {
        return Ok(Err(TrustError::NotASocket {
            path: path.to_path_buf(),
            kind: kind_of(metadata.file_type()),
        }));
    }
    Ok(check_owner(path, &metadata))
}

/// Checks the credentials of the process at the other end of `socket`: `peer_uid` (from
/// `SO_PEERCRED`) must be this user's.
///
/// # Errors
/// [`TrustError::ForeignPeer`] for another account's process, [`TrustError::NoCredentials`]
/// when the kernel gave none (`peer_uid` is that error).
pub fn check_peer(socket: &Path, peer_uid: std::io::Result<u32>) -> Result<(), TrustError> {
    let expected = current_uid();
    match peer_uid {
        Ok(peer) if peer == expected => Ok(()),
        Ok(peer) => Err(TrustError::ForeignPeer {
            path: socket.to_path_buf(),
            peer,
            expected,
        }),
        Err(e) => Err(TrustError::NoCredentials {
            path: socket.to_path_buf(),
            reason: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_runtime_folder_is_never_in_a_shared_tmp_when_there_is_a_home() {
        let dir = runtime_dir_from(None, Some(PathBuf::from("/home/alice")));
        assert!(dir.starts_with("/home/alice/.cache/tikker"), "{dir:?}");
        let dir = runtime_dir_from(Some(PathBuf::from("/run/user/7")), None);
        assert_eq!(dir, Path::new("/run/user/7/tikker"));
        let dir = runtime_dir_from(Some(PathBuf::new()), Some(PathBuf::from("relative")));
        assert!(
            dir.ends_with(format!("tikker-{}", current_uid())),
            "{dir:?}"
        );
    }

    #[test]
    fn a_folder_others_can_write_or_a_symlink_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        std::fs::create_dir(&run).unwrap();
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(check_runtime_dir(&run).unwrap(), Ok(()));
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o777)).unwrap();
        let message = check_runtime_dir(&run).unwrap().unwrap_err().to_string();
        assert!(message.contains("chmod 700"), "{message}");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&run, &link).unwrap();
        let message = check_runtime_dir(&link).unwrap().unwrap_err().to_string();
        assert!(message.contains("symlink"), "{message}");
        let file = dir.path().join("control.sock");
        std::fs::write(&file, b"").unwrap();
        let message = check_socket(&file).unwrap().unwrap_err().to_string();
        assert!(message.contains("not a socket"), "{message}");
    }
}
