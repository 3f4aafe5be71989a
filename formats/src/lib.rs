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
    /// A bad row at `line` for `reason`, cut to [`MAX_REASON_CHARS`] characters.
    pub fn new(line: u64, reason: impl Into<String>) -> BadRow {
        let reason = reason.into();
        let reason = match cut(&reason, MAX_REASON_CHARS) {
            std::borrow::Cow::Borrowed(_) => reason,
            std::borrow::Cow::Owned(shorter) => shorter,
        };
        BadRow { line, reason }
    }

    /// The part of the reason before any detail (`"negative hold time: -3 ms"` →
    /// `"negative hold time"`), to count bad rows by kind.
    pub fn kind(&self) -> &str {
        self.reason.split(':').next().unwrap_or(&self.reason)
    }
}

/// The longest text of a file a message quotes, in characters; longer text is cut ([`cut`]).
pub const MAX_QUOTED_CHARS: usize = 80;
/// The longest reason a [`BadRow`] keeps, in characters.
pub const MAX_REASON_CHARS: usize = 240;

/// `text` cut to its first `max_chars` characters followed by `…` when it is longer, so that no
/// message echoes a huge field whole.
pub fn cut(text: &str, max_chars: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => std::borrow::Cow::Borrowed(text),
        Some((end, _)) => std::borrow::Cow::Owned(format!("{}…", &text[..end])),
    }
}

/// `text` as a message quotes it: in double quotes with escapes (`{:?}`), cut to
/// [`MAX_QUOTED_CHARS`] characters.
pub fn quoted(text: &str) -> String {
    format!("{:?}", cut(text, MAX_QUOTED_CHARS))
}

/// The bad rows of one or more files, in bounded memory whatever their number: how many there
/// were, how many of each kind ([`BadRow::kind`], at most [`BadRows::MAX_KINDS`] kinds, the rest
/// counted as [`BadRows::OTHER_KIND`]), and the first [`BadRows::MAX_EXAMPLES`] rows themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BadRows {
    count: usize,
    kinds: Vec<(String, usize)>,
    examples: Vec<BadRow>,
}

impl BadRows {
    /// How many bad rows are kept in full as examples.
    pub const MAX_EXAMPLES: usize = 5;
    /// How many distinct kinds are counted apart.
    pub const MAX_KINDS: usize = 32;
    /// The kind the rows beyond [`BadRows::MAX_KINDS`] kinds are counted under.
    pub const OTHER_KIND: &str = "other reasons";

    /// Counts `row`, keeping it if it is among the first [`BadRows::MAX_EXAMPLES`].
    pub fn push(&mut self, row: BadRow) {
        self.count_kind(row.kind(), 1);
        self.count += 1;
        if self.examples.len() < Self::MAX_EXAMPLES {
            self.examples.push(row);
        }
    }

    fn count_kind(&mut self, kind: &str, n: usize) {
        let kind =
            if self.kinds.len() < Self::MAX_KINDS || self.kinds.iter().any(|(k, _)| k == kind) {
                kind
            } else {
                Self::OTHER_KIND
            };
        match self.kinds.iter_mut().find(|(k, _)| k == kind) {
            Some(entry) => entry.1 += n,
            None => self.kinds.push((kind.to_owned(), n)),
        }
    }

    /// Adds the bad rows of another file.
    pub fn absorb(&mut self, other: BadRows) {
        for (kind, n) in &other.kinds {
            self.count_kind(kind, *n);
        }
        self.count += other.count;
        let room = Self::MAX_EXAMPLES.saturating_sub(self.examples.len());
        self.examples.extend(other.examples.into_iter().take(room));
    }

    /// How many bad rows there were.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there were none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The first bad row.
    pub fn first(&self) -> Option<&BadRow> {
        self.examples.first()
    }

    /// The first [`BadRows::MAX_EXAMPLES`] bad rows, in file order.
    pub fn examples(&self) -> &[BadRow] {
        &self.examples
    }

    /// The bad rows counted by kind, most frequent first.
    pub fn by_kind(&self) -> Vec<(String, usize)> {
        let mut counts = self.kinds.clone();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counts
    }
}

/// Sessions parsed from a file, in the order they first appear.
#[derive(Debug, Default)]
pub struct ParsedFile {
    /// The sessions and their events (not yet sorted).
    pub sessions: Vec<ParsedSession>,
    /// Rows that could not be parsed (counted; the first few kept).
    pub bad_rows: BadRows,
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

    /// Records a bad row (its reason cut to [`MAX_REASON_CHARS`]).
    pub fn bad(&mut self, line: u64, reason: impl Into<String>) {
        self.bad_rows.push(BadRow::new(line, reason));
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

/// Parses a whole file in `format` from `reader` (already decompressed). Windows (CRLF) and
/// old Mac (CR) line ends read like LF, and a leading UTF-8 byte order mark is skipped
/// ([`UnixText`]), so line numbers are those an editor shows.
pub fn parse(format: ImportFormat, reader: impl BufRead) -> Result<ParsedFile, ParseError> {
    let reader = UnixText::new(reader);
    match format {
        ImportFormat::EventsCsv => events_csv::parse(reader),
        ImportFormat::Aalto => aalto::parse(reader),
        ImportFormat::Cmu => cmu::parse(reader),
    }
}

/// The UTF-8 byte order mark some editors (and Excel) write at the start of a text file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Text as the readers expect it: every line end (CRLF, CR or LF) becomes LF and a UTF-8 byte
/// order mark at the very start is dropped. Every other byte passes unchanged.
#[derive(Debug)]
pub struct UnixText<R> {
    inner: R,
    buffer: Vec<u8>,
    position: usize,
    at_start: bool,
    after_cr: bool,
}

impl<R: BufRead> UnixText<R> {
    /// Reads `inner` with its line ends made LF.
    pub fn new(inner: R) -> UnixText<R> {
        UnixText {
            inner,
            buffer: Vec::new(),
            position: 0,
            at_start: true,
            after_cr: false,
        }
    }
}

impl<R: BufRead> BufRead for UnixText<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.at_start {
            // The mark may come split over several reads (a decompressor's first bytes).
            self.at_start = false;
            let mut head = Vec::with_capacity(BOM.len());
            while head.len() < BOM.len() {
                let chunk = self.inner.fill_buf()?;
                if chunk.is_empty() {
                    break;
                }
                let take = chunk.len().min(BOM.len() - head.len());
                head.extend_from_slice(&chunk[..take]);
                self.inner.consume(take);
            }
            if head != BOM {
                unix_line_ends(&head, &mut self.buffer, &mut self.after_cr);
            }
        }
        while self.position >= self.buffer.len() {
            self.buffer.clear();
            self.position = 0;
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            let length = chunk.len();
            unix_line_ends(chunk, &mut self.buffer, &mut self.after_cr);
            self.inner.consume(length);
        }
        Ok(&self.buffer[self.position..])
    }

    fn consume(&mut self, amount: usize) {
        self.position = (self.position + amount).min(self.buffer.len());
    }
}

/// Appends `text` to `out` with CRLF and CR made LF; `after_cr` carries a CR at the end of one
/// piece of text over to the next.
fn unix_line_ends(text: &[u8], out: &mut Vec<u8>, after_cr: &mut bool) {
    if !*after_cr && !text.contains(&b'\r') {
        out.extend_from_slice(text);
        return;
    }
    for &byte in text {
        match byte {
            b'\r' => {
                out.push(b'\n');
                *after_cr = true;
            }
            b'\n' if *after_cr => *after_cr = false,
            _ => {
                out.push(byte);
                *after_cr = false;
            }
        }
    }
}

impl<R: BufRead> Read for UnixText<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
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

#[cfg(test)]
mod tests {
    use super::*;

    const CMU_HEADER: &str = "subject,sessionIndex,rep,H.period,DD.period.t,UD.period.t,H.t,DD.t.i,UD.t.i,H.i,DD.i.e,UD.i.e,H.e,DD.e.five,UD.e.five,H.five,DD.five.Shift.r,UD.five.Shift.r,H.Shift.r,DD.Shift.r.o,UD.Shift.r.o,H.o,DD.o.a,UD.o.a,H.a,DD.a.n,UD.a.n,H.n,DD.n.l,UD.n.l,H.l,DD.l.Return,UD.l.Return,H.Return";
    const CMU_ROW: &str = "s002,1,1,0.1491,0.3979,0.2488,0.1069,0.1674,0.0605,0.1169,0.2212,0.1043,0.1417,1.1885,1.0468,0.1146,1.6055,1.4909,0.1067,0.7590,0.6523,0.1016,0.2136,0.1120,0.1349,0.1484,0.0135,0.0932,0.3515,0.2583,0.1338,0.3509,0.2171,0.0742";

    /// A file in each format with a good row on line 2, a bad one on line 3 and a good one on
    /// line 4, LF line ends.
    fn samples() -> Vec<(ImportFormat, String)> {
        vec![
            (
                ImportFormat::EventsCsv,
                "user,session,timestamp_ms,key,event\nalice,s1,1000,KEY_H,press\n\
                 alice,s1,NaN,KEY_H,release\nalice,s1,1100,KEY_H,release\n"
                    .to_owned(),
            ),
            (
                ImportFormat::Aalto,
                "PARTICIPANT_ID\tTEST_SECTION_ID\tSENTENCE\tUSER_INPUT\tKEYSTROKE_ID\tPRESS_TIME\t\
                 RELEASE_TIME\tLETTER\tKEYCODE\n7\t1\tHi\tHi\t3\t1000\t1100\tH\t72\n\
                 7\t1\tHi\tHi\t4\tsoon\t1150\ti\t73\n7\t1\tHi\tHi\t5\t1200\t1250\ti\t73\n"
                    .to_owned(),
            ),
            (
                ImportFormat::Cmu,
                format!(
                    "{CMU_HEADER}\n{CMU_ROW}\n{}\n{}\n",
                    CMU_ROW.replace("0.1069", "NaN"),
                    CMU_ROW.replacen(",1,1,", ",1,2,", 1)
                ),
            ),
        ]
    }

    fn outcome(format: ImportFormat, text: &[u8]) -> (Vec<ParsedSession>, Vec<BadRow>) {
        let mut parsed = parse(format, text).unwrap();
        let bad = std::mem::take(&mut parsed.bad_rows).examples().to_vec();
        (parsed.into_sorted_sessions(), bad)
    }

    #[test]
    fn crlf_cr_and_a_bom_read_like_lf_in_every_format() {
        for (format, lf) in samples() {
            let expected = outcome(format, lf.as_bytes());
            assert!(!expected.0.is_empty(), "{format:?}");
            assert_eq!(
                expected.1.iter().map(|b| b.line).collect::<Vec<_>>(),
                [3],
                "{format:?}"
            );
            let crlf = lf.replace('\n', "\r\n");
            let cr = lf.replace('\n', "\r");
            let variants = [
                crlf.clone().into_bytes(),
                cr.clone().into_bytes(),
                [BOM, lf.as_bytes()].concat(),
                [BOM, crlf.as_bytes()].concat(),
                [BOM, cr.as_bytes()].concat(),
            ];
            for (i, variant) in variants.iter().enumerate() {
                assert_eq!(outcome(format, variant), expected, "{format:?} variant {i}");
            }
        }
    }

    #[test]
    fn a_wrong_events_csv_header_is_quoted_unaltered_from_its_own_line() {
        let text = "User,Session,Time\r\nalice,s1,1000,KEY_H,press\r\n";
        let err = parse(ImportFormat::EventsCsv, text.as_bytes()).unwrap_err();
        assert!(
            err.to_string().ends_with("found \"User,Session,Time\""),
            "{err}"
        );
    }

    #[test]
    fn bad_rows_keep_counts_per_reason_and_the_first_five_whatever_their_number() {
        let mut rows = BadRows::default();
        for i in 0..1_000_000_u64 {
            let kind = i % 40; // more kinds than are counted apart
            rows.push(BadRow::new(i + 2, format!("kind {kind}: row {i}")));
        }
        assert_eq!(rows.len(), 1_000_000);
        let lines: Vec<u64> = rows.examples().iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6]);
        let kinds = rows.by_kind();
        assert_eq!(kinds.len(), BadRows::MAX_KINDS + 1);
        assert_eq!(kinds[0], (BadRows::OTHER_KIND.to_owned(), 8 * 25_000));
        assert_eq!(kinds.iter().map(|k| k.1).sum::<usize>(), 1_000_000);
        let mut all = BadRows::default();
        all.absorb(rows.clone());
        all.absorb(rows);
        assert_eq!((all.len(), all.examples().len()), (2_000_000, 5));
    }

    #[test]
    fn a_huge_field_is_quoted_cut_in_every_format() {
        let huge = "9".repeat(1_000_000);
        let files = [
            (
                ImportFormat::EventsCsv,
                format!(
                    "user,session,timestamp_ms,key,event\nann,s1,{huge},a,press\nann,s1,5,{huge},press\nann,s1,5,a,{huge}\n"
                ),
            ),
            (
                ImportFormat::Cmu,
                format!(
                    "{CMU_HEADER}\n{}\n{}\n",
                    CMU_ROW
                        .replacen("0.1491", &huge, 1)
                        .replacen("0.1069", &format!("x{huge}"), 1),
                    CMU_ROW.replacen("s002", &format!("s{huge}x"), 1)
                ),
            ),
        ];
        for (format, text) in files {
            let parsed = parse(format, text.as_bytes()).unwrap();
            assert!(!parsed.bad_rows.is_empty(), "{format:?}");
            for row in parsed.bad_rows.examples() {
                assert!(
                    row.reason.chars().count() < 200,
                    "{format:?}: {}",
                    row.reason
                );
                assert!(row.reason.contains("99999…"), "{format:?}: {}", row.reason);
            }
        }
        let err = parse(ImportFormat::EventsCsv, format!("{huge}\n").as_bytes()).unwrap_err();
        assert!(err.to_string().len() < 300, "{err}");
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcd", 3), "abc…");
        assert_eq!(cut("ééé", 2), "éé…");
    }

    #[test]
    fn unix_text_reads_a_bom_and_crlf_split_across_reads() {
        let inner = std::io::BufReader::with_capacity(1, "\u{feff}a\r\nb\rc\n\r\nd".as_bytes());
        let mut out = String::new();
        UnixText::new(inner).read_to_string(&mut out).unwrap();
        assert_eq!(out, "a\nb\nc\n\nd");
        let mut out = String::new();
        UnixText::new("\u{feff}a\r\nb\rc\n\r\nd".as_bytes())
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "a\nb\nc\n\nd");
    }
}
