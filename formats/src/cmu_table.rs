//! Reader for the CMU keystroke benchmark file `DSL-StrongPasswordData.csv`
//! (Killourhy & Maxion, DSN 2009).
//!
//! The file is a plain comma-separated table with a header line:
//! `subject, sessionIndex, rep`, then one column per timing feature in
//! seconds (`H.<key>` hold times, `DD.<k1>.<k2>` keydown→keydown and
//! `UD.<k1>.<k2>` keyup→keydown latencies). Every row is one typed repetition
//! of the password. The reader validates the whole file and reports the first
//! problem with its 1-based line number.

use std::io::BufRead;

/// One typed repetition of the password: who typed it, when, and its timings.
#[derive(Debug, Clone, PartialEq)]
pub struct CmuRepetition {
    /// Subject identifier, e.g. `s002`.
    pub subject: String,
    /// Session number (1–8 in the published file).
    pub session_index: u32,
    /// Repetition number within the session (1–50 in the published file).
    pub rep: u32,
    /// Timing features in seconds, in the order of [`CmuData::columns`].
    pub timings: Vec<f64>,
}

/// The parsed contents of a CMU benchmark file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CmuData {
    /// Names of the timing columns (the header without `subject`,
    /// `sessionIndex` and `rep`), e.g. `H.period`, `DD.period.t`.
    pub columns: Vec<String>,
    /// All repetitions in file order.
    pub rows: Vec<CmuRepetition>,
}

impl CmuData {
    /// Subject identifiers in order of first appearance in the file.
    pub fn subjects(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for row in &self.rows {
            if !seen.contains(&row.subject.as_str()) {
                seen.push(&row.subject);
            }
        }
        seen
    }

    /// Number of timing features per repetition.
    pub fn timing_count(&self) -> usize {
        self.columns.len()
    }

    /// The repetitions of one subject, sorted by `(session_index, rep)`.
    pub fn rows_of(&self, subject: &str) -> Vec<&CmuRepetition> {
        let mut rows: Vec<&CmuRepetition> =
            self.rows.iter().filter(|r| r.subject == subject).collect();
        rows.sort_by_key(|r| (r.session_index, r.rep));
        rows
    }
}

/// Everything that can go wrong while reading a CMU benchmark file. Every
/// variant that concerns a place in the file names its 1-based line number.
#[derive(Debug, thiserror::Error)]
pub enum CmuError {
    /// The underlying reader failed.
    #[error("line {line}: I/O error: {source}")]
    Io {
        /// Line being read when the error happened.
        line: usize,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The header line is missing or malformed.
    #[error("line {line}: bad header: {reason}")]
    BadHeader {
        /// Line of the header (1 unless the file starts with blank lines).
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A data line does not have as many columns as the header.
    #[error("line {line}: wrong column count: expected {expected}, found {found}")]
    ColumnCount {
        /// Offending line.
        line: usize,
        /// Number of columns in the header.
        expected: usize,
        /// Number of columns on this line.
        found: usize,
    },
    /// The subject field is empty.
    #[error("line {line}: empty subject")]
    EmptySubject {
        /// Offending line.
        line: usize,
    },
    /// `sessionIndex` or `rep` is not a non-negative integer.
    #[error("line {line}: column '{column}' is not a non-negative integer: '{value}'")]
    BadIndex {
        /// Offending line.
        line: usize,
        /// Column name (`sessionIndex` or `rep`).
        column: String,
        /// The text found.
        value: String,
    },
    /// A timing field does not parse as a number.
    #[error("line {line}: column '{column}' is not numeric: '{value}'")]
    NotNumeric {
        /// Offending line.
        line: usize,
        /// Column name.
        column: String,
        /// The text found.
        value: String,
    },
    /// A timing field parses but is NaN or infinite.
    #[error("line {line}: column '{column}' is not finite: '{value}'")]
    NonFinite {
        /// Offending line.
        line: usize,
        /// Column name.
        column: String,
        /// The text found.
        value: String,
    },
    /// A timing is larger than the years 1970 to 9999 span (`1e300` seconds).
    #[error(
        "line {line}: column '{column}' is out of range: '{value}' (more than the years 1970 to 9999 span)"
    )]
    OutOfRange {
        /// Offending line.
        line: usize,
        /// Column name.
        column: String,
        /// The text found.
        value: String,
    },
    /// A hold time (`H.*` column) is negative.
    #[error("line {line}: column '{column}' is a negative hold time: {value}")]
    NegativeHoldTime {
        /// Offending line.
        line: usize,
        /// Column name.
        column: String,
        /// The value found, in seconds.
        value: f64,
    },
}

impl CmuError {
    /// The 1-based line number the error refers to.
    pub fn line(&self) -> usize {
        match self {
            CmuError::Io { line, .. }
            | CmuError::BadHeader { line, .. }
            | CmuError::ColumnCount { line, .. }
            | CmuError::EmptySubject { line }
            | CmuError::BadIndex { line, .. }
            | CmuError::NotNumeric { line, .. }
            | CmuError::NonFinite { line, .. }
            | CmuError::OutOfRange { line, .. }
            | CmuError::NegativeHoldTime { line, .. } => *line,
        }
    }
}

/// The longest timing accepted, in seconds: the span of the years 1970 to 9999, the bound of every
/// event time ([`tikker_core::event::MAX_TIME_US`]).
#[allow(clippy::cast_precision_loss)] // a bound, not a time
const MAX_TIMING_S: f64 = tikker_core::event::MAX_TIME_US as f64 / 1e6;

/// Names of the three leading identification columns, in order.
const ID_COLUMNS: [&str; 3] = ["subject", "sessionIndex", "rep"];

/// Reads a CMU benchmark CSV (header plus data lines).
///
/// Blank lines are ignored; CRLF and CR line ends read like LF and a leading UTF-8 byte order
/// mark is skipped ([`crate::UnixText`]); fields
/// are trimmed of surrounding spaces. The header must start with
/// `subject,sessionIndex,rep` followed by at least one timing column whose
/// name starts with `H.`, `DD.` or `UD.`; column names must be unique.
/// Timings must be finite numbers, and hold times (`H.*`) must not be
/// negative (`UD.*` may be negative when keys overlap).
pub fn read_cmu_csv(reader: impl BufRead) -> Result<CmuData, CmuError> {
    let mut columns: Option<Vec<String>> = None;
    let mut rows = Vec::new();

    for (index, line) in crate::UnixText::new(reader).lines().enumerate() {
        let line_no = index + 1;
        let line = line.map_err(|source| CmuError::Io {
            line: line_no,
            source,
        })?;
        let line = line.strip_suffix('\r').unwrap_or(&line);
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();

        let Some(cols) = &columns else {
            let cols = parse_cmu_header(&fields, line_no)?;
            columns = Some(cols);
            continue;
        };

        rows.push(parse_cmu_row(&fields, cols, line_no)?);
    }

    match columns {
        Some(columns) => Ok(CmuData { columns, rows }),
        None => Err(CmuError::BadHeader {
            line: 1,
            reason: "the input is empty".to_string(),
        }),
    }
}

/// Parses one data line (split into trimmed fields) given the timing columns of the header.
pub fn parse_cmu_row(
    fields: &[&str],
    cols: &[String],
    line_no: usize,
) -> Result<CmuRepetition, CmuError> {
    let expected = cols.len() + ID_COLUMNS.len();
    if fields.len() != expected {
        return Err(CmuError::ColumnCount {
            line: line_no,
            expected,
            found: fields.len(),
        });
    }
    let subject = fields[0];
    if subject.is_empty() {
        return Err(CmuError::EmptySubject { line: line_no });
    }
    let session_index = parse_index(fields[1], ID_COLUMNS[1], line_no)?;
    let rep = parse_index(fields[2], ID_COLUMNS[2], line_no)?;
    let mut timings = Vec::with_capacity(cols.len());
    for (text, name) in fields[3..].iter().zip(cols) {
        let hold = name.starts_with("H.");
        let value: f64 = text.parse().map_err(|_| CmuError::NotNumeric {
            line: line_no,
            column: crate::cut(name, crate::MAX_QUOTED_CHARS).into_owned(),
            value: crate::cut(text, crate::MAX_QUOTED_CHARS).into_owned(),
        })?;
        if !value.is_finite() {
            return Err(CmuError::NonFinite {
                line: line_no,
                column: crate::cut(name, crate::MAX_QUOTED_CHARS).into_owned(),
                value: crate::cut(text, crate::MAX_QUOTED_CHARS).into_owned(),
            });
        }
        if value.abs() > MAX_TIMING_S {
            return Err(CmuError::OutOfRange {
                line: line_no,
                column: crate::cut(name, crate::MAX_QUOTED_CHARS).into_owned(),
                value: crate::cut(text, crate::MAX_QUOTED_CHARS).into_owned(),
            });
        }
        if hold && value < 0.0 {
            return Err(CmuError::NegativeHoldTime {
                line: line_no,
                column: crate::cut(name, crate::MAX_QUOTED_CHARS).into_owned(),
                value,
            });
        }
        timings.push(value);
    }
    Ok(CmuRepetition {
        subject: subject.to_string(),
        session_index,
        rep,
        timings,
    })
}

/// Validates the header (split into trimmed fields) and returns the timing column names.
pub fn parse_cmu_header(fields: &[&str], line: usize) -> Result<Vec<String>, CmuError> {
    let bad = |reason: String| CmuError::BadHeader { line, reason };
    if fields.len() < ID_COLUMNS.len() + 1 {
        return Err(bad(format!(
            "expected at least {} columns, found {}",
            ID_COLUMNS.len() + 1,
            fields.len()
        )));
    }
    for (i, (found, want)) in fields.iter().zip(ID_COLUMNS).enumerate() {
        if *found != want {
            return Err(bad(format!(
                "column {} should be '{want}', found '{}'",
                i + 1,
                crate::cut(found, crate::MAX_QUOTED_CHARS)
            )));
        }
    }
    let timing = &fields[ID_COLUMNS.len()..];
    for (i, name) in timing.iter().enumerate() {
        let known = ["H.", "DD.", "UD."].iter().any(|p| name.starts_with(p));
        if !known || name.len() < 3 {
            return Err(bad(format!(
                "column {} '{}' is not a timing column (H.*, DD.* or UD.*)",
                i + 1 + ID_COLUMNS.len(),
                crate::cut(name, crate::MAX_QUOTED_CHARS)
            )));
        }
        if timing[..i].contains(name) {
            return Err(bad(format!(
                "duplicate column '{}'",
                crate::cut(name, crate::MAX_QUOTED_CHARS)
            )));
        }
    }
    Ok(timing.iter().map(|s| (*s).to_string()).collect())
}

/// Parses `sessionIndex` / `rep`.
fn parse_index(text: &str, column: &str, line: usize) -> Result<u32, CmuError> {
    text.parse().map_err(|_| CmuError::BadIndex {
        line,
        column: column.to_string(),
        value: crate::cut(text, crate::MAX_QUOTED_CHARS).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "subject,sessionIndex,rep,H.period,DD.period.t,UD.period.t,H.t\n";

    fn read(text: &str) -> Result<CmuData, CmuError> {
        read_cmu_csv(text.as_bytes())
    }

    #[test]
    fn reads_valid_file() {
        let text = format!(
            "{HEADER}s002,1,1,0.1491,0.3979,0.2488,0.1069\r\n\ns003,2,7,0.1,0.2,-0.01,0.05\n"
        );
        let data = read(&text).unwrap();
        assert_eq!(
            data.columns,
            ["H.period", "DD.period.t", "UD.period.t", "H.t"]
        );
        assert_eq!(data.rows.len(), 2);
        assert_eq!(data.rows[0].subject, "s002");
        assert_eq!(data.rows[1].session_index, 2);
        assert_eq!(data.rows[1].rep, 7);
        assert_eq!(data.rows[1].timings, [0.1, 0.2, -0.01, 0.05]);
        assert_eq!(data.subjects(), ["s002", "s003"]);
        assert_eq!(data.timing_count(), 4);
    }

    #[test]
    fn header_only_is_empty_data() {
        let data = read(HEADER).unwrap();
        assert!(data.rows.is_empty());
    }

    #[test]
    fn empty_input_is_bad_header() {
        let err = read("").unwrap_err();
        assert!(matches!(err, CmuError::BadHeader { line: 1, .. }), "{err}");
    }

    #[test]
    fn wrong_id_column_is_bad_header() {
        let err = read("user,sessionIndex,rep,H.a\n").unwrap_err();
        assert!(matches!(err, CmuError::BadHeader { line: 1, .. }));
        assert!(err.to_string().contains("'subject'"), "{err}");
    }

    #[test]
    fn unknown_timing_column_is_bad_header() {
        let err = read("subject,sessionIndex,rep,H.a,XX.a\n").unwrap_err();
        assert!(err.to_string().contains("XX.a"), "{err}");
        let err = read("subject,sessionIndex,rep\n").unwrap_err();
        assert!(matches!(err, CmuError::BadHeader { .. }));
        let err = read("subject,sessionIndex,rep,H.a,H.a\n").unwrap_err();
        assert!(err.to_string().contains("duplicate"), "{err}");
    }

    #[test]
    fn wrong_column_count_names_line() {
        let text = format!("{HEADER}s002,1,1,0.1,0.2,0.1,0.1\ns002,1,2,0.1,0.2,0.1\n");
        let err = read(&text).unwrap_err();
        assert!(matches!(
            err,
            CmuError::ColumnCount {
                line: 3,
                expected: 7,
                found: 6
            }
        ));
        assert_eq!(err.line(), 3);
        assert!(err.to_string().starts_with("line 3:"), "{err}");
    }

    #[test]
    fn non_numeric_names_line_and_column() {
        let text = format!("{HEADER}s002,1,1,0.1,abc,0.1,0.1\n");
        let err = read(&text).unwrap_err();
        match &err {
            CmuError::NotNumeric {
                line,
                column,
                value,
            } => {
                assert_eq!(*line, 2);
                assert_eq!(column, "DD.period.t");
                assert_eq!(value, "abc");
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn nan_and_inf_are_rejected() {
        for bad in ["NaN", "inf", "-inf"] {
            let text = format!("{HEADER}s002,1,1,0.1,0.2,{bad},0.1\n");
            let err = read(&text).unwrap_err();
            assert!(
                matches!(err, CmuError::NonFinite { line: 2, .. }),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn timings_beyond_the_years_1970_to_9999_are_rejected() {
        let text = format!("{HEADER}s002,1,1,1e300,0.2,0.1,0.1\n");
        let err = read(&text).unwrap_err();
        assert!(
            matches!(&err, CmuError::OutOfRange { line: 2, column, .. } if column == "H.period"),
            "{err}"
        );
        let text = format!("{HEADER}s002,1,1,0.1,0.2,-1e12,0.1\n");
        assert!(matches!(
            read(&text).unwrap_err(),
            CmuError::OutOfRange { .. }
        ));
    }

    #[test]
    fn negative_hold_time_is_rejected_but_negative_ud_is_not() {
        let text = format!("{HEADER}s002,1,1,0.1,0.2,-0.1,0.1\ns002,1,2,0.1,0.2,0.1,-0.001\n");
        let err = read(&text).unwrap_err();
        assert!(
            matches!(err, CmuError::NegativeHoldTime { line: 3, ref column, .. } if column == "H.t"),
            "{err}"
        );
    }

    #[test]
    fn bad_indices_and_empty_subject() {
        let text = format!("{HEADER}s002,x,1,0.1,0.2,0.1,0.1\n");
        assert!(matches!(
            read(&text).unwrap_err(),
            CmuError::BadIndex { line: 2, .. }
        ));
        let text = format!("{HEADER}s002,1,-3,0.1,0.2,0.1,0.1\n");
        assert!(matches!(
            read(&text).unwrap_err(),
            CmuError::BadIndex { line: 2, .. }
        ));
        let text = format!("{HEADER}\n,1,1,0.1,0.2,0.1,0.1\n");
        assert!(matches!(
            read(&text).unwrap_err(),
            CmuError::EmptySubject { line: 3 }
        ));
    }

    #[test]
    fn rows_of_sorts_by_session_and_rep() {
        let text = format!(
            "{HEADER}s002,2,1,0.1,0.2,0.1,0.1\ns003,1,1,0.1,0.2,0.1,0.1\ns002,1,2,0.1,0.2,0.1,0.1\ns002,1,1,0.1,0.2,0.1,0.1\n"
        );
        let data = read(&text).unwrap();
        let order: Vec<(u32, u32)> = data
            .rows_of("s002")
            .iter()
            .map(|r| (r.session_index, r.rep))
            .collect();
        assert_eq!(order, [(1, 1), (1, 2), (2, 1)]);
    }
}
