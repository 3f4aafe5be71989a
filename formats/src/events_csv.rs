//! The `events-csv` interchange format.
//!
//! ```text
//! user,session,timestamp_ms,key,event
//! alice,morning,1700000000000.250,KEY_H,press
//! alice,morning,1700000000095,h,release
//! ```
//! `timestamp_ms` is a decimal number of milliseconds since the Unix epoch, read exactly to the
//! microsecond (more decimals are rounded to the nearest microsecond); `key` is any token
//! [`KeyCode::parse_token`] reads (a name, an evdev code, `js:N`, `x11:N`); `event` is `press`,
//! `release` or `repeat`. Rows of a session may come in any order: they are sorted by time.

use std::io::BufRead;

use super::{MAX_QUOTED_CHARS, ParseError, ParsedFile, cut, quoted};
use tikker_core::event::{KeyAction, KeyEvent, check_time_us};
use tikker_core::key::KeyCode;

/// The header every `events-csv` file starts with.
pub const HEADER: [&str; 5] = ["user", "session", "timestamp_ms", "key", "event"];

pub(super) fn parse(reader: impl BufRead) -> Result<ParsedFile, ParseError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut parsed = ParsedFile::default();
    let mut record = csv::ByteRecord::new();
    let mut line: u64 = 0;
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                line = e.position().map_or(line + 1, |p| p.line());
                if let csv::ErrorKind::Io(io) = e.into_kind() {
                    return Err(ParseError::Io(io));
                }
                parsed.bad(line, "not valid CSV");
                continue;
            }
        }
        line = record.position().map_or(line + 1, |p| p.line());
        if line == 1 {
            let found: Vec<String> = record
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            let matches = found.len() == HEADER.len()
                && found
                    .iter()
                    .zip(HEADER)
                    .all(|(f, h)| f.trim().eq_ignore_ascii_case(h));
            if !matches {
                return Err(ParseError::Header(format!(
                    "expected the header {:?}, found {:?}",
                    HEADER.join(","),
                    cut(&found.join(","), MAX_QUOTED_CHARS)
                )));
            }
            continue;
        }
        if let Err(reason) = parse_row(&record, &mut parsed) {
            parsed.bad(line, reason);
        }
    }
    if line == 0 {
        return Err(ParseError::Header(
            "the file is empty: expected the header user,session,timestamp_ms,key,event".into(),
        ));
    }
    Ok(parsed)
}

fn parse_row(record: &csv::ByteRecord, parsed: &mut ParsedFile) -> Result<(), String> {
    if record.len() != HEADER.len() {
        return Err(format!(
            "wrong number of columns: expected {}, found {}",
            HEADER.len(),
            record.len()
        ));
    }
    let text = |i: usize| {
        std::str::from_utf8(&record[i])
            .map(str::trim)
            .map_err(|_| format!("column {} is not UTF-8", HEADER[i]))
    };
    // No valid time, key or event is long: a huge field is refused without parsing or quoting it
    // whole.
    let short = |i: usize| {
        let field = text(i)?;
        if field.len() > MAX_QUOTED_CHARS && field.chars().count() > MAX_QUOTED_CHARS {
            return Err(format!(
                "{}: {} is too long ({} bytes)",
                HEADER[i],
                quoted(field),
                field.len()
            ));
        }
        Ok(field)
    };
    let user = text(0)?;
    let session = text(1)?;
    if user.is_empty() {
        return Err("empty user".into());
    }
    if session.is_empty() {
        return Err("empty session".into());
    }
    // The API's rules for a user_id (1 to 128 characters, no control characters), so that what
    // an import stores the API accepts; a session label has no control characters either (a
    // table printed to a terminal must not carry them).
    if let Err(e) = tikker_core::analytics::input::user_id(user) {
        return Err(format!("user {}: {}", quoted(user), e.message));
    }
    if let Some(c) = session.chars().find(|c| c.is_control()) {
        return Err(format!(
            "session {}: contains the control character U+{:04X}",
            quoted(session),
            u32::from(c)
        ));
    }
    let time_us = parse_timestamp_ms(short(2)?).map_err(|e| format!("timestamp_ms: {e}"))?;
    let key = KeyCode::parse_token(short(3)?).map_err(|e| format!("key: {e}"))?;
    let action: KeyAction = short(4)?.parse().map_err(|e| format!("event: {e}"))?;
    parsed.session(user, session).push(KeyEvent {
        time_us,
        key,
        action,
    });
    Ok(())
}

/// Reads a non-negative decimal number of milliseconds as whole microseconds, exactly; the
/// time must lie in the years 1970 to 9999 ([`check_time_us`]).
pub fn parse_timestamp_ms(text: &str) -> Result<i64, String> {
    // Quoted (and cut) only for an error: this runs for every row of an import.
    let shown = || quoted(text);
    let invalid = || {
        format!(
            "{} is not a non-negative decimal number of milliseconds",
            shown()
        )
    };
    if text.starts_with('-') {
        return Err(format!("{} is negative", shown()));
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(invalid());
    }
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits_only(whole) || !digits_only(fraction) {
        return Err(invalid());
    }
    let whole_ms: i64 = if whole.is_empty() {
        0
    } else {
        whole
            .parse()
            .map_err(|_| format!("{} is too large", shown()))?
    };
    // The first three decimals are microseconds; the fourth rounds.
    let mut micros: i64 = 0;
    for position in 0..3 {
        let digit = fraction
            .as_bytes()
            .get(position)
            .map_or(0, |b| i64::from(b - b'0'));
        micros = micros * 10 + digit;
    }
    if fraction.as_bytes().get(3).is_some_and(|b| *b >= b'5') {
        micros += 1;
    }
    let time_us = whole_ms
        .checked_mul(1000)
        .and_then(|us| us.checked_add(micros))
        .ok_or_else(|| format!("{} is too large", shown()))?;
    check_time_us(time_us).map_err(|_| {
        format!(
            "{} is after the year 9999: give milliseconds, not micro- or nanoseconds",
            shown()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("0", 0)]
    #[case("1700000000000", 1_700_000_000_000_000)]
    #[case("1700000000000.250", 1_700_000_000_000_250)]
    #[case("1.5", 1500)]
    #[case("1.0004", 1000)]
    #[case("1.0005", 1001)]
    #[case(".25", 250)]
    #[case("12.", 12_000)]
    #[case("253402300799999.999", 253_402_300_799_999_999)]
    fn timestamps_are_read_exactly(#[case] text: &str, #[case] micros: i64) {
        assert_eq!(parse_timestamp_ms(text), Ok(micros));
    }

    #[rstest]
    #[case("", "not a non-negative")]
    #[case(".", "not a non-negative")]
    #[case("NaN", "not a non-negative")]
    #[case("inf", "not a non-negative")]
    #[case("-5", "negative")]
    #[case("1e3", "not a non-negative")]
    #[case("99999999999999999999", "too large")]
    #[case("9223372036854775", "after the year 9999")]
    #[case("253402300800000", "after the year 9999")]
    fn bad_timestamps_say_what_is_wrong(#[case] text: &str, #[case] expected: &str) {
        let err = parse_timestamp_ms(text).unwrap_err();
        assert!(err.contains(expected), "{err}");
    }

    #[test]
    fn rows_of_a_session_are_grouped_and_sorted_and_bad_rows_named_by_line() {
        let csv = "user,session,timestamp_ms,key,event\n\
                   alice,s1,100.5,KEY_H,release\n\
                   alice,s1,0,h,press\n\
                   bob,s1,5,js:65,press\n\
                   alice,s1,NaN,a,press\n\
                   alice,s1,7,a,hold\n\
                   alice,s1,7,not-a-key,press\n\
                   alice,s1,9\n";
        let parsed = parse(csv.as_bytes()).unwrap();
        let lines: Vec<u64> = parsed.bad_rows.examples().iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![5, 6, 7, 8]);
        assert!(
            parsed.bad_rows.examples()[0]
                .reason
                .starts_with("timestamp_ms")
        );
        assert!(parsed.bad_rows.examples()[1].reason.starts_with("event"));
        assert!(parsed.bad_rows.examples()[2].reason.starts_with("key"));
        assert!(parsed.bad_rows.examples()[3].reason.contains("columns"));
        let sessions = parsed.into_sorted_sessions();
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions[0].user, "alice");
        assert_eq!(
            sessions[0].events,
            vec![
                KeyEvent::press(0, KeyCode(35)),
                KeyEvent::release(100_500, KeyCode(35))
            ]
        );
        assert_eq!(sessions[1].events, vec![KeyEvent::press(5000, KeyCode(30))]);
    }

    #[test]
    fn an_empty_file_is_refused() {
        let err = parse("".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }

    #[test]
    fn a_wrong_header_is_refused() {
        let err = parse("a,b,c\n1,2,3\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("expected the header"), "{err}");
    }
}
