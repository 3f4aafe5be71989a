//! `DSL-StrongPasswordData.csv` of Killourhy & Maxion (DSN 2009): 51 subjects typing
//! `.tie5Roanl` + Return 400 times, given as timings only.
//!
//! The file holds no absolute times, so tikker synthesises events from them:
//! - the user is the subject (`s002`), a session is a `sessionIndex` (`session-1` … `session-8`);
//! - repetition *r* of session *s* of subject *sNNN* starts at
//!   2009-01-01T00:00:00Z + NNN days + (s − 1) hours + (r − 1) minutes
//!   ([`cmu_repetition_start_us`]), far enough apart that no two repetitions touch;
//! - within a repetition the first key is pressed at the start, each next key `DD` after the
//!   previous press, and each key released `H` after its own press. `UD` is `DD − H` and adds
//!   nothing. Keys: `.` `t` `i` `e` `5` `R` `o` `a` `n` `l` Return ([`CMU_KEYS`]); the Shift held
//!   for `R` has no timing in the file and is not synthesised.
//!
//! Timings are seconds with four decimals and become whole microseconds.

use std::io::BufRead;

use super::{ParseError, ParsedFile};
use crate::cmu_table::{CmuError, CmuRepetition, parse_cmu_header, parse_cmu_row};
use tikker_core::event::{KeyEvent, check_time_us};
use tikker_core::key::KeyCode;

/// The keys of the password in typing order, as the file's column names spell them, with the
/// key tikker records for each.
pub const CMU_KEYS: [(&str, KeyCode); 11] = [
    ("period", KeyCode(52)),
    ("t", KeyCode(20)),
    ("i", KeyCode(23)),
    ("e", KeyCode(18)),
    ("five", KeyCode(6)),
    ("Shift.r", KeyCode(19)),
    ("o", KeyCode(24)),
    ("a", KeyCode(30)),
    ("n", KeyCode(49)),
    ("l", KeyCode(38)),
    ("Return", KeyCode(28)),
];

/// 2009-01-01T00:00:00Z in Unix seconds.
const EPOCH_2009_S: i64 = 1_230_768_000;

/// When tikker lets repetition `rep` of session `session_index` of subject number `subject`
/// start (µs), see the module documentation; `None` when that is after the year 9999 (subject
/// `s4294967295`).
pub fn cmu_repetition_start_us(subject: u32, session_index: u32, rep: u32) -> Option<i64> {
    let seconds = EPOCH_2009_S
        .checked_add(i64::from(subject).checked_mul(86_400)?)?
        .checked_add(i64::from(session_index.saturating_sub(1)).checked_mul(3_600)?)?
        .checked_add(i64::from(rep.saturating_sub(1)).checked_mul(60)?)?;
    check_time_us(seconds.checked_mul(1_000_000)?).ok()
}

/// Where the timings of each key sit among the file's timing columns.
struct KeyColumns {
    hold: [usize; 11],
    down_down: [usize; 10],
}

fn key_columns(timing_columns: &[String]) -> Result<KeyColumns, String> {
    let find = |name: &str| {
        timing_columns
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("missing column {name:?}"))
    };
    let mut hold = [0; 11];
    for (slot, (key, _)) in hold.iter_mut().zip(CMU_KEYS) {
        *slot = find(&format!("H.{key}"))?;
    }
    let mut down_down = [0; 10];
    for (slot, pair) in down_down.iter_mut().zip(CMU_KEYS.windows(2)) {
        *slot = find(&format!("DD.{}.{}", pair[0].0, pair[1].0))?;
    }
    Ok(KeyColumns { hold, down_down })
}

pub(super) fn parse(reader: impl BufRead) -> Result<ParsedFile, ParseError> {
    let mut parsed = ParsedFile::default();
    let mut lines = reader.lines();
    let header = lines
        .next()
        .transpose()?
        .ok_or_else(|| ParseError::Header("the file is empty".into()))?;
    let header: Vec<&str> = header
        .trim_end_matches('\r')
        .split(',')
        .map(str::trim)
        .collect();
    let timing_columns =
        parse_cmu_header(&header, 1).map_err(|e| ParseError::Header(reason(&e)))?;
    let columns = key_columns(&timing_columns).map_err(ParseError::Header)?;
    for (index, line) in lines.enumerate() {
        let line = line?;
        let line_number = index + 2;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        match parse_cmu_row(&fields, &timing_columns, line_number)
            .map_err(|e| reason(&e))
            .and_then(|repetition| synthesise(repetition, &columns))
        {
            Ok((repetition, events)) => parsed
                .session(
                    &repetition.subject,
                    &format!("session-{}", repetition.session_index),
                )
                .extend(events),
            Err(why) => parsed.bad(line_number as u64, why),
        }
    }
    Ok(parsed)
}

/// The reason of a reader error without its `line N: ` prefix (the import names the line).
fn reason(error: &CmuError) -> String {
    let text = error.to_string();
    match text.split_once(": ") {
        Some((prefix, rest)) if prefix.starts_with("line ") => rest.to_owned(),
        _ => text,
    }
}

/// The press and release events of one repetition (see the module documentation).
fn synthesise(
    repetition: CmuRepetition,
    columns: &KeyColumns,
) -> Result<(CmuRepetition, Vec<KeyEvent>), String> {
    let subject_number: u32 = repetition
        .subject
        .strip_prefix('s')
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            format!(
                "subject {} is not of the form s002",
                crate::quoted(&repetition.subject)
            )
        })?;
    let out_of_range = || {
        format!(
            "subject {} session {} repetition {}: its times would not lie within the years 1970 \
             to 9999",
            crate::cut(&repetition.subject, crate::MAX_QUOTED_CHARS),
            repetition.session_index,
            repetition.rep
        )
    };
    // The reader bounds every timing by the span of the years 1970 to 9999, so the conversion
    // neither saturates nor loses the sign; the sums are checked all the same.
    #[allow(clippy::cast_possible_truncation)]
    let micros = |seconds: f64| (seconds * 1e6).round() as i64;
    let mut press_us =
        cmu_repetition_start_us(subject_number, repetition.session_index, repetition.rep)
            .ok_or_else(out_of_range)?;
    let mut events = Vec::with_capacity(2 * CMU_KEYS.len());
    for (position, (_, key)) in CMU_KEYS.iter().enumerate() {
        if position > 0 {
            press_us = press_us
                .checked_add(micros(repetition.timings[columns.down_down[position - 1]]))
                .and_then(|t| check_time_us(t).ok())
                .ok_or_else(out_of_range)?;
        }
        let release_us = press_us
            .checked_add(micros(repetition.timings[columns.hold[position]]))
            .and_then(|t| check_time_us(t).ok())
            .ok_or_else(out_of_range)?;
        events.push(KeyEvent::press(press_us, *key));
        events.push(KeyEvent::release(release_us, *key));
    }
    Ok((repetition, events))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "subject,sessionIndex,rep,H.period,DD.period.t,UD.period.t,H.t,DD.t.i,UD.t.i,H.i,DD.i.e,UD.i.e,H.e,DD.e.five,UD.e.five,H.five,DD.five.Shift.r,UD.five.Shift.r,H.Shift.r,DD.Shift.r.o,UD.Shift.r.o,H.o,DD.o.a,UD.o.a,H.a,DD.a.n,UD.a.n,H.n,DD.n.l,UD.n.l,H.l,DD.l.Return,UD.l.Return,H.Return";
    const ROW: &str = "s002,1,1,0.1491,0.3979,0.2488,0.1069,0.1674,0.0605,0.1169,0.2212,0.1043,0.1417,1.1885,1.0468,0.1146,1.6055,1.4909,0.1067,0.7590,0.6523,0.1016,0.2136,0.1120,0.1349,0.1484,0.0135,0.0932,0.3515,0.2583,0.1338,0.3509,0.2171,0.0742";

    #[test]
    fn a_repetition_becomes_eleven_keystrokes_with_its_timings() {
        let parsed = parse(format!("{HEADER}\n{ROW}\n").as_bytes()).unwrap();
        assert!(parsed.bad_rows.is_empty());
        let sessions = parsed.into_sorted_sessions();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].user, "s002");
        assert_eq!(sessions[0].label, "session-1");
        let events = &sessions[0].events;
        assert_eq!(events.len(), 22);
        let start = cmu_repetition_start_us(2, 1, 1).unwrap();
        assert_eq!(events[0], KeyEvent::press(start, KeyCode(52)));
        // H.period = 0.1491 s, DD.period.t = 0.3979 s: t pressed after '.' was released.
        assert_eq!(events[1], KeyEvent::release(start + 149_100, KeyCode(52)));
        assert_eq!(events[2], KeyEvent::press(start + 397_900, KeyCode(20)));
        let last_press = events
            .iter()
            .rev()
            .find(|e| e.key == KeyCode::ENTER)
            .unwrap();
        assert_eq!(last_press.action, tikker_core::event::KeyAction::Release);
    }

    #[test]
    fn impossible_times_are_bad_rows() {
        let huge_hold = ROW.replacen("0.1491", "1e300", 1);
        let huge_subject = ROW.replacen("s002", "s4294967295", 1);
        let far_subject = ROW.replacen("s002", "s3000000", 1);
        let back_in_time = ROW.replacen("0.3979", "-1e10", 1);
        let parsed = parse(
            format!(
                "{HEADER}\n{huge_hold}\n{huge_subject}\n{far_subject}\n{back_in_time}\n{ROW}\n"
            )
            .as_bytes(),
        )
        .unwrap();
        let bad: Vec<(u64, &str)> = parsed
            .bad_rows
            .examples()
            .iter()
            .map(|b| (b.line, b.reason.as_str()))
            .collect();
        assert_eq!(
            bad.iter().map(|b| b.0).collect::<Vec<_>>(),
            [2, 3, 4, 5],
            "{bad:?}"
        );
        assert!(bad[0].1.contains("out of range"), "{bad:?}");
        assert!(bad[1].1.contains("years 1970 to 9999"), "{bad:?}");
        assert!(bad[2].1.contains("years 1970 to 9999"), "{bad:?}");
        assert!(bad[3].1.contains("years 1970 to 9999"), "{bad:?}");
        let sessions = parsed.into_sorted_sessions();
        assert_eq!(sessions.len(), 1);
        assert!(
            sessions[0]
                .events
                .iter()
                .all(|e| tikker_core::event::time_in_bounds(e.time_us))
        );
    }

    #[test]
    fn bad_numbers_are_bad_rows() {
        let bad = ROW.replace("0.1069", "NaN");
        let parsed = parse(format!("{HEADER}\n{ROW}\n{bad}\ns002,1\n").as_bytes()).unwrap();
        let lines: Vec<u64> = parsed.bad_rows.examples().iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![3, 4]);
        assert!(
            parsed.bad_rows.examples()[0].reason.contains("not finite"),
            "{:?}",
            parsed.bad_rows.examples()
        );
    }
}
