//! `tikker export`: streams stored events through a `tikker-formats` writer.

use std::io::Write;

use tikker_formats::export::{ExportFormat, ExportWriter};

use crate::{EventFilter, Store, StoreError};

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the output failed (for example a closed pipe).
    #[error("writing the export")]
    Io(#[from] std::io::Error),
}

/// Streams the events matching `filter` to `out` in `format`; returns how many were written.
///
/// # Errors
/// [`ExportError`]: the store could not be read, or `out` could not be written.
pub fn export(
    store: &Store,
    filter: &EventFilter,
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<u64, ExportError> {
    let mut writer = ExportWriter::new(out, format)?;
    store.for_each_event(filter, |session, event| -> Result<(), ExportError> {
        writer.write(session.id.0, &session.user, &session.label, &event)?;
        Ok(())
    })?;
    Ok(writer.finish()?)
}
