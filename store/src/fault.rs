//! Why a read or write of `tikker.db` failed, told apart as far as SQLite and the operating
//! system say: a full disk, a lock held by another process, a read-only file or file system, a
//! damaged file. Writers use it to decide whether to keep what they could not write and try again
//! ([`Fault::is_transient`]), and to say in the status what stops them.

use crate::StoreError;

/// The cause of a failed read or write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The disk (or the file system, or a quota) is full.
    DiskFull,
    /// Another process holds the database's write lock beyond the busy timeout.
    Locked,
    /// The file or its file system is read-only.
    ReadOnly,
    /// The file is damaged (a malformed page, not a database).
    Damaged,
    /// The operating system reported an input/output error.
    Io,
    /// Anything else (the error says more).
    Other,
}

impl Fault {
    /// The cause in a few words, as the status and the log say it (`disk full`).
    pub fn describe(self) -> &'static str {
        match self {
            Fault::DiskFull => "disk full",
            Fault::Locked => "database locked by another process",
            Fault::ReadOnly => "read-only",
            Fault::Damaged => "database damaged",
            Fault::Io => "input/output error",
            Fault::Other => "database error",
        }
    }

    /// Whether trying again later may succeed without anyone repairing anything (space comes
    /// back, the lock is released, the device recovers): writers keep what they could not write
    /// and retry. A read-only or damaged file needs a person; writers still retry, less often.
    pub fn is_transient(self) -> bool {
        matches!(self, Fault::DiskFull | Fault::Locked | Fault::Io)
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

impl StoreError {
    /// The error with its causes, as one line (`tikker.db: saving a score: database or disk is
    /// full`): what tikker was doing and what SQLite or the system said.
    pub fn detail(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let said = cause.to_string();
            if !text.ends_with(&said) {
                text.push_str(": ");
                text.push_str(&said);
            }
            source = cause.source();
        }
        text
    }

    /// What caused this error.
    pub fn fault(&self) -> Fault {
        match self {
            StoreError::Sqlite { source, .. } => sqlite_fault(source),
            StoreError::Io { source, .. } => io_fault(source),
            StoreError::Corrupt(_) => Fault::Damaged,
            _ => Fault::Other,
        }
    }
}

fn sqlite_fault(error: &rusqlite::Error) -> Fault {
    use rusqlite::ErrorCode;
    let rusqlite::Error::SqliteFailure(failure, _) = error else {
        return Fault::Other;
    };
    match failure.code {
        ErrorCode::DiskFull => Fault::DiskFull,
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Fault::Locked,
        ErrorCode::ReadOnly => Fault::ReadOnly,
        ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => Fault::Damaged,
        ErrorCode::SystemIoFailure => Fault::Io,
        _ => Fault::Other,
    }
}

fn io_fault(error: &std::io::Error) -> Fault {
    match error.raw_os_error() {
        Some(code) if code == rustix::io::Errno::NOSPC.raw_os_error() => Fault::DiskFull,
        Some(code) if code == rustix::io::Errno::DQUOT.raw_os_error() => Fault::DiskFull,
        Some(code) if code == rustix::io::Errno::ROFS.raw_os_error() => Fault::ReadOnly,
        Some(code) if code == rustix::io::Errno::IO.raw_os_error() => Fault::Io,
        _ => Fault::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_codes_name_their_cause() {
        let failure = |code: i32| StoreError::Sqlite {
            context: "test",
            source: rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None),
        };
        assert_eq!(failure(rusqlite::ffi::SQLITE_FULL).fault(), Fault::DiskFull);
        assert_eq!(failure(rusqlite::ffi::SQLITE_BUSY).fault(), Fault::Locked);
        assert_eq!(
            failure(rusqlite::ffi::SQLITE_READONLY).fault(),
            Fault::ReadOnly
        );
        assert_eq!(
            failure(rusqlite::ffi::SQLITE_CORRUPT).fault(),
            Fault::Damaged
        );
        assert_eq!(
            failure(rusqlite::ffi::SQLITE_NOTADB).fault(),
            Fault::Damaged
        );
        assert_eq!(failure(rusqlite::ffi::SQLITE_IOERR).fault(), Fault::Io);
        let enospc = StoreError::Io {
            path: "x".into(),
            context: "test",
            source: std::io::Error::from_raw_os_error(rustix::io::Errno::NOSPC.raw_os_error()),
        };
        assert_eq!(enospc.fault(), Fault::DiskFull);
        assert!(Fault::DiskFull.is_transient() && !Fault::Damaged.is_transient());
        let full = failure(rusqlite::ffi::SQLITE_FULL).detail();
        assert!(full.starts_with("tikker.db: test: "), "{full}");
        assert!(full.contains("full"), "{full}");
    }
}
