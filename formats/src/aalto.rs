//! Participant files of the Aalto "136M Keystrokes" data set (Dhakal et al., CHI 2018).
//!
//! Tab-separated with a header: `PARTICIPANT_ID, TEST_SECTION_ID, SENTENCE, USER_INPUT,
//! KEYSTROKE_ID, PRESS_TIME, RELEASE_TIME, LETTER, KEYCODE`. One row is one key press with its
//! release, in epoch milliseconds. The user is the participant, a session is one test section
//! (one typed sentence), and the key is the JavaScript `KEYCODE`. The sentence, the typed input
//! and the letter are text and are never read into tikker. A row whose release comes before its
//! press, or that does not parse, is a bad row.

use std::io::BufRead;

use super::{ParseError, ParsedFile};
use tikker_core::event::{KeyEvent, check_time_us};
use tikker_core::key::KeyCode;

const COLUMNS: usize = 9;
const PARTICIPANT: usize = 0;
const SECTION: usize = 1;
const PRESS: usize = 5;
const RELEASE: usize = 6;
const KEYCODE: usize = 8;

pub(super) fn parse(reader: impl BufRead) -> Result<ParsedFile, ParseError> {
    let mut parsed = ParsedFile::default();
    let mut line_number: u64 = 0;
    let mut buffer = Vec::with_capacity(512);
    let mut reader = reader;
    loop {
        buffer.clear();
        if reader.read_until(b'\n', &mut buffer)? == 0 {
            break;
        }
        line_number += 1;
        let line = trim_line_end(&buffer);
        if line_number == 1 {
            let first = line.split(|b| *b == b'\t').next().unwrap_or_default();
            if first != b"PARTICIPANT_ID" {
                return Err(ParseError::Header(
                    "expected an Aalto header starting with PARTICIPANT_ID".into(),
                ));
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if let Err(reason) = parse_row(line, &mut parsed) {
            parsed.bad(line_number, reason);
        }
    }
    if line_number == 0 {
        return Err(ParseError::Header(
            "the file is empty: expected an Aalto header starting with PARTICIPANT_ID".into(),
        ));
    }
    Ok(parsed)
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn parse_row(line: &[u8], parsed: &mut ParsedFile) -> Result<(), String> {
    let fields: Vec<&[u8]> = line.split(|b| *b == b'\t').collect();
    if fields.len() != COLUMNS {
        return Err(format!(
            "wrong number of columns: expected {COLUMNS}, found {}",
            fields.len()
        ));
    }
    let number = |index: usize, name: &str| -> Result<i64, String> {
        std::str::from_utf8(fields[index])
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .ok_or_else(|| format!("{name} is not an integer"))
    };
    let participant = number(PARTICIPANT, "PARTICIPANT_ID")?;
    let section = number(SECTION, "TEST_SECTION_ID")?;
    let press_ms = number(PRESS, "PRESS_TIME")?;
    let release_ms = number(RELEASE, "RELEASE_TIME")?;
    let keycode = number(KEYCODE, "KEYCODE")?;
    if press_ms < 0 {
        return Err(format!("negative PRESS_TIME: {press_ms}"));
    }
    if release_ms < press_ms {
        return Err(format!(
            "negative hold time: release {} ms before press",
            press_ms.abs_diff(release_ms)
        ));
    }
    let key = u32::try_from(keycode)
        .map(KeyCode::from_js_keycode)
        .map_err(|_| format!("KEYCODE out of range: {keycode}"))?;
    let to_us = |ms: i64, name: &str| {
        ms.checked_mul(1000)
            .and_then(|us| check_time_us(us).ok())
            .ok_or_else(|| {
                format!("{name} out of range: {ms} ms is not within the years 1970 to 9999")
            })
    };
    let press_us = to_us(press_ms, "PRESS_TIME")?;
    let release_us = to_us(release_ms, "RELEASE_TIME")?;
    let events = parsed.session(&participant.to_string(), &section.to_string());
    events.push(KeyEvent::press(press_us, key));
    events.push(KeyEvent::release(release_us, key));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "PARTICIPANT_ID\tTEST_SECTION_ID\tSENTENCE\tUSER_INPUT\tKEYSTROKE_ID\tPRESS_TIME\tRELEASE_TIME\tLETTER\tKEYCODE\n";

    #[test]
    fn rows_become_press_release_pairs_per_sentence_without_text() {
        let data = format!(
            "{HEADER}7\t1\tHi.\tHi.\t3\t1000\t1100\tSHIFT\t16\n\
             7\t1\tHi.\tHi.\t4\t1050\t1150\tH\t72\n\
             7\t2\tOk\tOk\t9\t5000\t5080\to\t79\n"
        );
        let parsed = parse(data.as_bytes()).unwrap();
        assert!(parsed.bad_rows.is_empty());
        let sessions = parsed.into_sorted_sessions();
        assert_eq!(sessions.len(), 2);
        assert_eq!(
            (sessions[0].user.as_str(), sessions[0].label.as_str()),
            ("7", "1")
        );
        let shift = KeyCode::LEFT_SHIFT;
        let h = KeyCode(35);
        assert_eq!(
            sessions[0].events,
            vec![
                KeyEvent::press(1_000_000, shift),
                KeyEvent::press(1_050_000, h),
                KeyEvent::release(1_100_000, shift),
                KeyEvent::release(1_150_000, h),
            ]
        );
    }

    #[test]
    fn negative_holds_and_broken_rows_are_bad_rows_with_their_line() {
        let data = format!(
            "{HEADER}7\t1\ta\ta\t3\t1000\t900\ta\t65\n\
             7\t1\ta\ta\t3\t1000\n\
             7\t1\ta\ta\t3\tx\t1100\ta\t65\n\
             7\t1\ta\ta\t3\t1000\t1100\ta\t65\n"
        );
        let parsed = parse(data.as_bytes()).unwrap();
        let bad: Vec<(u64, &str)> = parsed
            .bad_rows
            .examples()
            .iter()
            .map(|b| (b.line, b.reason.as_str()))
            .collect();
        assert_eq!(bad.len(), 3);
        assert_eq!(bad[0].0, 2);
        assert!(bad[0].1.starts_with("negative hold time"));
        assert_eq!(bad[1].0, 3);
        assert!(bad[1].1.contains("columns"));
        assert_eq!(bad[2].0, 4);
        assert!(bad[2].1.contains("PRESS_TIME"));
        assert_eq!(parsed.sessions[0].events.len(), 2);
    }

    #[test]
    fn impossible_times_are_bad_rows() {
        let data = format!(
            "{HEADER}7\t1\ta\ta\t3\t9223372036854775807\t9223372036854775807\ta\t65\n\
             7\t1\ta\ta\t3\t253402300800000\t253402300800001\ta\t65\n\
             7\t1\ta\ta\t3\t1000\t253402300800000\ta\t65\n\
             7\t1\ta\ta\t3\t1000\t-9223372036854775808\ta\t65\n\
             7\t1\ta\ta\t3\t1000\t1100\ta\t65\n"
        );
        let parsed = parse(data.as_bytes()).unwrap();
        let bad: Vec<(u64, &str)> = parsed
            .bad_rows
            .examples()
            .iter()
            .map(|b| (b.line, b.reason.as_str()))
            .collect();
        assert_eq!(bad.len(), 4, "{bad:?}");
        assert!(bad[0].1.starts_with("PRESS_TIME out of range"), "{bad:?}");
        assert!(bad[1].1.starts_with("PRESS_TIME out of range"), "{bad:?}");
        assert!(bad[2].1.starts_with("RELEASE_TIME out of range"), "{bad:?}");
        assert!(bad[3].1.starts_with("negative hold time"), "{bad:?}");
        assert_eq!(parsed.sessions[0].events.len(), 2);
    }

    #[test]
    fn a_file_of_another_format_is_refused() {
        assert!(parse("user,session\n".as_bytes()).is_err());
        assert!(parse("".as_bytes()).is_err());
    }
}
