//! `tikker import`: a file is parsed completely (`tikker-formats`), its sessions are sorted by
//! time, and then written in **one transaction**: a file with a bad row imports nothing and the
//! error names the file, the line and what was wrong, unless bad rows are to be skipped, in which
//! case the rest is imported and the skipped rows are reported with their reasons.

use std::path::{Path, PathBuf};

use tikker_formats::{BadRows, ImportFormat, ReadError, parse_file};

use crate::{NewSession, Store, StoreError};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Sessions written.
    pub sessions: usize,
    /// Events written.
    pub events: u64,
    /// Rows skipped (only when skipping was asked for): counted by reason, the first few kept.
    pub skipped: BadRows,
}

impl ImportReport {
    /// Adds another file's report to this one.
    pub fn absorb(&mut self, other: ImportReport) {
        self.sessions += other.sessions;
        self.events += other.events;
        self.skipped.absorb(other.skipped);
    }

    /// The skipped rows counted by reason, most frequent first.
    pub fn skipped_by_reason(&self) -> Vec<(String, usize)> {
        self.skipped.by_kind()
    }
}

/// Options of an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Import the good rows of a file with bad rows, reporting the bad ones.
    pub skip_bad: bool,
}

/// Why a file could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read, or has bad rows that were not to be skipped; nothing of it
    /// was imported.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Writing to the store failed; nothing of this file was imported.
    #[error("{}", path.display())]
    Store {
        /// The file.
        path: PathBuf,
        /// The store's error.
        source: StoreError,
    },
}

/// Imports one file into `store` in one transaction.
pub fn import_file(
    store: &mut Store,
    path: &Path,
    format: ImportFormat,
    options: ImportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportReport, ImportError> {
    let parsed = parse_file(path, format, progress)?;
    if let Some(first) = parsed.bad_rows.first().cloned()
        && !options.skip_bad
    {
        return Err(ImportError::Read(ReadError::BadRows {
            path: path.to_path_buf(),
            first,
            count: parsed.bad_rows.len(),
        }));
    }
    let mut parsed = parsed;
    let skipped = std::mem::take(&mut parsed.bad_rows);
    let detail = format!(
        "{}:{}",
        format.name(),
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    let store_error = |source| ImportError::Store {
        path: path.to_path_buf(),
        source,
    };
    let sessions = parsed.into_sorted_sessions();
    let mut report = ImportReport {
        skipped,
        ..ImportReport::default()
    };
    let mut tx = store.write().map_err(store_error)?;
    for session in sessions {
        let Some(first) = session.events.first() else {
            continue;
        };
        let id = tx
            .begin_session(
                &NewSession {
                    source_kind: "import".into(),
                    source_detail: detail.clone(),
                    user: session.user,
                    label: session.label,
                },
                first.time_us,
            )
            .map_err(store_error)?;
        tx.append(id, &session.events).map_err(store_error)?;
        report.sessions += 1;
        report.events += session.events.len() as u64;
    }
    tx.commit().map_err(store_error)?;
    Ok(report)
}
