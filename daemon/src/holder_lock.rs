//! An exclusive `flock` on a small file that says who holds it: the one-daemon locks of
//! [`crate::runtime_dir`] (one daemon per user) and [`crate::db_lock`] (one per database).
//!
//! The file (`0600`, never followed through a symlink) holds the holder's pid on its first line
//! and one more line of the caller's choosing, so that a process refused the lock can say who
//! holds it. The kernel releases the lock when the holder ends, however it ends; the file stays
//! (removing it would let two processes lock two different files).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::Context;

/// A lock held until it is dropped or the process ends.
#[derive(Debug)]
pub struct HeldLock {
    _file: File,
}

/// What trying to take a lock gave.
#[derive(Debug)]
pub enum Attempt {
    /// Taken.
    Held(HeldLock),
    /// Another process holds it: its pid and second line as it wrote them (`?` when unreadable).
    Busy {
        /// The holder's pid.
        pid: String,
        /// The holder's second line.
        detail: String,
    },
}

/// Tries to take the lock of the file at `path` (made `0600` if missing) without waiting; once
/// taken, writes this process's pid and `detail` into it.
///
/// # Errors
/// The file cannot be opened (a symlink among them), locked for another reason than another
/// holder, protected or written; each error names the file.
pub fn try_hold(path: &Path, detail: &Path) -> anyhow::Result<Attempt> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .with_context(|| format!("opening the lock file {}", path.display()))?;
    if let Err(e) = file.try_lock() {
        if let std::fs::TryLockError::Error(e) = e {
            return Err(e).with_context(|| format!("locking {}", path.display()));
        }
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let mut lines = holder.lines();
        let pid = lines.next().filter(|p| !p.is_empty()).unwrap_or("?");
        let detail = lines.next().unwrap_or("?");
        return Ok(Attempt::Busy {
            pid: pid.to_owned(),
            detail: detail.to_owned(),
        });
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("protecting {}", path.display()))?;
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "{}\n{}", std::process::id(), detail.display()))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(Attempt::Held(HeldLock { _file: file }))
}
