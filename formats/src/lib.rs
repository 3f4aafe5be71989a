//! tikker-formats: the file formats tikker reads and writes. Reading: the `events-csv`
//! interchange format, the Aalto 136M keystrokes files and the CMU (Killourhy & Maxion) password
//! timings ([`cmu_table`] reads the CMU table itself); writing: `events-csv` and JSON lines
//! ([`export`]).
//!
//! A file is parsed completely into sessions sorted by time; bad rows are collected with their
//! line and reason (the caller decides whether a file with bad rows is refused or imported
//! without them). The store writes a parsed file in one transaction (`tikker_store::import`).
//!
//! It depends on `tikker-core` only; **it may not depend on** the store, the wire types, the
//! capture backends or the research harness.
#![deny(missing_docs)]

mod aalto;
mod cmu;
pub mod cmu_table;
mod events_csv;
pub mod export;

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

pub use cmu::{CMU_KEYS, cmu_repetition_start_us};
pub use events_csv::parse_timestamp_ms;

use tikker_core::event::{KeyEvent, sort_events};

/// The file formats tikker imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportFormat {
    /// `user,session,timestamp_ms,key,event`, one row per press or release.
    EventsCsv,
    /// One participant file of the Aalto 136M keystrokes data set (gzipped or not).
    Aalto,
    /// `DSL-StrongPasswordData.csv` of Killourhy & Maxion (2009).
    Cmu,
}

impl ImportFormat {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ImportFormat::EventsCsv => "events-csv",
            ImportFormat::Aalto => "aalto",
            ImportFormat::Cmu => "cmu",
        }
    }
}

/// A row that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// Its 1-based line number in the file.
    pub line: u64,
    /// What was wrong with it.
    pub reason: String,
}

impl fmt::Display for BadRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be read.
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The file has bad rows and they were not to be skipped; nothing of it was imported.
    #[error("{}:{}: {} ({} bad row(s) in all; nothing of this file was imported; --skip-bad imports the rest)", path.display(), first.line, first.reason, count)]
    BadRows {
        /// The file.
        path: PathBuf,
        /// The first bad row.
        first: BadRow,
        /// How many rows were bad.
        count: usize,
    },
    /// The file has no usable header or is not of the format it was said to be.
    #[error("{}: {reason}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
}

impl BadRow {
    /// The part of the reason before any detail (`"negative hold time: -3 ms"` →
    /// `"negative hold time"`), to count bad rows by kind.
    pub fn kind(&self) -> &str {
        self.reason.split(':').next().unwrap_or(&self.reason)
    }
}

/// Sessions parsed from a file, in the order they first appear.
#[derive(Debug, Default)]
pub struct ParsedFile {
    /// The sessions and their events (not yet sorted).
    pub sessions: Vec<ParsedSession>,
    /// Rows that could not be parsed.
    pub bad_rows: Vec<BadRow>,
    index: HashMap<(String, String), usize>,
    last: Option<usize>,
}

/// One session parsed from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSession {
    /// Whose typing it is.
    pub user: String,
    /// The session's name in the file.
    pub label: String,
    /// Its events.
    pub events: Vec<KeyEvent>,
}

impl ParsedFile {
    /// The events of session (`user`, `label`), created on first use.
    pub fn session(&mut self, user: &str, label: &str) -> &mut Vec<KeyEvent> {
        let hit = self
            .last
            .filter(|&i| self.sessions[i].user == user && self.sessions[i].label == label);
        let index = match hit {
            Some(index) => index,
            None => {
                let key = (user.to_owned(), label.to_owned());
                let next = self.sessions.len();
                let index = *self.index.entry(key).or_insert(next);
                if index == next {
                    self.sessions.push(ParsedSession {
                        user: user.to_owned(),
                        label: label.to_owned(),
                        events: Vec::new(),
                    });
                }
                index
            }
        };
        self.last = Some(index);
        &mut self.sessions[index].events
    }

    /// Records a bad row.
    pub fn bad(&mut self, line: u64, reason: impl Into<String>) {
        self.bad_rows.push(BadRow {
            line,
            reason: reason.into(),
        });
    }

    /// All events, session by session and sorted in time within each session.
    pub fn into_sorted_sessions(mut self) -> Vec<ParsedSession> {
        for session in &mut self.sessions {
            if !session.events.is_sorted_by_key(|e| e.time_us) {
                sort_events(&mut session.events);
            }
        }
        self.sessions
    }
}

/// Parses a whole file in `format` from `reader` (already decompressed).
pub fn parse(format: ImportFormat, reader: impl BufRead) -> Result<ParsedFile, ParseError> {
    match format {
        ImportFormat::EventsCsv => events_csv::parse(reader),
        ImportFormat::Aalto => aalto::parse(reader),
        ImportFormat::Cmu => cmu::parse(reader),
    }
}

/// A failure that stops parsing a file altogether (as opposed to a [`BadRow`]).
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Reading failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The header is not the format's.
    #[error("line 1: {0}")]
    Header(String),
}

/// Opens `path` for reading, transparently decompressing gzip, and reports bytes read (of the
/// file as stored) to `progress`.
pub fn open_input<'a>(
    path: &Path,
    progress: &'a mut dyn FnMut(u64),
) -> Result<Box<dyn BufRead + 'a>, ReadError> {
    let io_error = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let mut counted = BufReader::with_capacity(
        256 * 1024,
        CountingReader {
            inner: file,
            progress,
        },
    );
    let is_gzip = counted
        .fill_buf()
        .map_err(io_error)?
        .starts_with(&[0x1f, 0x8b]);
    Ok(if is_gzip {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::bufread::MultiGzDecoder::new(counted),
        ))
    } else {
        Box::new(counted)
    })
}

struct CountingReader<'a, R> {
    inner: R,
    progress: &'a mut dyn FnMut(u64),
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.progress)(n as u64);
        Ok(n)
    }
}

/// Opens and parses a whole file in `format` (gzipped or not), naming the file in errors.
pub fn parse_file(
    path: &Path,
    format: ImportFormat,
    progress: &mut dyn FnMut(u64),
) -> Result<ParsedFile, ReadError> {
    let reader = open_input(path, progress)?;
    parse(format, reader).map_err(|e| match e {
        ParseError::Io(source) => ReadError::Io {
            path: path.to_path_buf(),
            source,
        },
        ParseError::Header(reason) => ReadError::Format {
            path: path.to_path_buf(),
            reason: format!("line 1: {reason} (is this a {} file?)", format.name()),
        },
    })
}
