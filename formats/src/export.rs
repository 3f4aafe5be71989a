//! Writing key events for export: `events-csv` (the format `tikker import` reads back) and JSON lines.

use std::io::Write;

use serde::Serialize;

use tikker_core::event::KeyEvent;

/// The formats tikker exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// `user,session,timestamp_ms,key,event`, readable by `tikker import --format events-csv`.
    EventsCsv,
    /// One JSON object per event.
    JsonLines,
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

/// Writes events in an [`ExportFormat`], one at a time (the store streams them in).
#[derive(Debug)]
pub struct ExportWriter<W: Write> {
    out: W,
    format: ExportFormat,
    /// `user,session,` of the session being written, quoted as CSV needs.
    prefix: String,
    prefix_of: Option<i64>,
    /// One JSON line, serialised here first so that write errors reach the caller unwrapped.
    line: Vec<u8>,
    written: u64,
}

impl<W: Write> ExportWriter<W> {
    /// A writer to `out`; an `events-csv` export starts with its header line.
    ///
    /// # Errors
    /// Writing to `out` failed (for example a closed pipe).
    pub fn new(mut out: W, format: ExportFormat) -> std::io::Result<ExportWriter<W>> {
        if format == ExportFormat::EventsCsv {
            writeln!(out, "user,session,timestamp_ms,key,event")?;
        }
        Ok(ExportWriter {
            out,
            format,
            prefix: String::new(),
            prefix_of: None,
            line: Vec::with_capacity(160),
            written: 0,
        })
    }

    /// Writes one event of the session with id `session` (any id that tells sessions apart),
    /// user `user` and label `label`.
    ///
    /// # Errors
    /// Writing to `out` failed.
    pub fn write(
        &mut self,
        session: i64,
        user: &str,
        label: &str,
        event: &KeyEvent,
    ) -> std::io::Result<()> {
        match self.format {
            ExportFormat::EventsCsv => {
                if self.prefix_of != Some(session) {
                    self.prefix = csv_prefix(user, label)?;
                    self.prefix_of = Some(session);
                }
                let millis = event.time_us.div_euclid(1000);
                let micros = event.time_us.rem_euclid(1000);
                writeln!(
                    self.out,
                    "{}{millis}.{micros:03},{},{}",
                    self.prefix, event.key, event.action
                )?;
            }
            ExportFormat::JsonLines => {
                self.line.clear();
                serde_json::to_writer(
                    &mut self.line,
                    &JsonEvent {
                        user,
                        session: label,
                        timestamp_us: event.time_us,
                        key: event.key.to_string(),
                        key_code: event.key.0,
                        event: event.action.as_str(),
                    },
                )
                .map_err(std::io::Error::other)?;
                self.line.push(b'\n');
                self.out.write_all(&self.line)?;
            }
        }
        self.written += 1;
        Ok(())
    }

    /// Flushes the output and says how many events were written.
    ///
    /// # Errors
    /// Flushing `out` failed.
    pub fn finish(mut self) -> std::io::Result<u64> {
        self.out.flush()?;
        Ok(self.written)
    }
}

/// `user,session,` with the quoting CSV needs.
fn csv_prefix(user: &str, session: &str) -> std::io::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([user, session, ""])
        .map_err(std::io::Error::other)?;
    let bytes = writer
        .into_inner()
        .map_err(|e| std::io::Error::other(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes)
        .trim_end_matches(['\n', '\r'])
        .to_owned())
}
