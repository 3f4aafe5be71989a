//! Exporting stored events: `events-csv` (the format `tikker import` reads back) and JSON lines.

use std::io::Write;

use serde::Serialize;

use crate::store::{EventFilter, Store, StoreError};

/// The formats tikker exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// `user,session,timestamp_ms,key,event`, readable by `tikker import --format events-csv`.
    EventsCsv,
    /// One JSON object per event.
    JsonLines,
}

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

#[derive(Serialize)]
struct JsonEvent<'a> {
    user: &'a str,
    session: &'a str,
    timestamp_us: i64,
    key: String,
    key_code: u16,
    event: &'static str,
}

/// Streams the events matching `filter` to `out`; returns how many were written.
pub fn export(
    store: &Store,
    filter: &EventFilter,
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<u64, ExportError> {
    if format == ExportFormat::EventsCsv {
        writeln!(out, "user,session,timestamp_ms,key,event")?;
    }
    // `user,session,` of the session being written, quoted as CSV needs.
    let mut prefix = String::new();
    let mut prefix_of = None;
    // One JSON line, serialised here first so that write errors reach the caller unwrapped.
    let mut line = Vec::with_capacity(160);
    store.for_each_event(filter, |session, event| -> Result<(), ExportError> {
        match format {
            ExportFormat::EventsCsv => {
                if prefix_of != Some(session.id) {
                    prefix = csv_prefix(&session.user, &session.label)?;
                    prefix_of = Some(session.id);
                }
                let millis = event.time_us.div_euclid(1000);
                let micros = event.time_us.rem_euclid(1000);
                writeln!(
                    out,
                    "{prefix}{millis}.{micros:03},{},{}",
                    event.key, event.action
                )?;
            }
            ExportFormat::JsonLines => {
                line.clear();
                serde_json::to_writer(
                    &mut line,
                    &JsonEvent {
                        user: &session.user,
                        session: &session.label,
                        timestamp_us: event.time_us,
                        key: event.key.to_string(),
                        key_code: event.key.0,
                        event: event.action.as_str(),
                    },
                )
                .map_err(std::io::Error::other)?;
                line.push(b'\n');
                out.write_all(&line)?;
            }
        }
        Ok(())
    })
}

/// `user,session,` with the quoting CSV needs.
fn csv_prefix(user: &str, session: &str) -> Result<String, ExportError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([user, session, ""])
        .map_err(std::io::Error::other)?;
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes)
        .trim_end_matches(['\n', '\r'])
        .to_owned())
}
