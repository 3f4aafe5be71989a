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
use crate::event::KeyEvent;
use crate::key::KeyCode;

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
/// start (µs), see the module documentation.
pub fn cmu_repetition_start_us(subject: u32, session_index: u32, rep: u32) -> i64 {
    let seconds = EPOCH_2009_S
        + i64::from(subject) * 86_400
        + i64::from(session_index.saturating_sub(1)) * 3_600
        + i64::from(rep.saturating_sub(1)) * 60;
    seconds * 1_000_000
}

struct Columns {
    subject: usize,
    session: usize,
    rep: usize,
    hold: [usize; 11],
    down_down: [usize; 10],
    names: Vec<String>,
}

fn columns(header: &[&str]) -> Result<Columns, String> {
    let find = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
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
    Ok(Columns {
        subject: find("subject")?,
        session: find("sessionIndex")?,
        rep: find("rep")?,
        hold,
        down_down,
        names: header.iter().map(|h| h.trim().to_owned()).collect(),
    })
}

pub(super) fn parse(reader: impl BufRead) -> Result<ParsedFile, ParseError> {
    let mut parsed = ParsedFile::default();
    let mut lines = reader.lines();
    let header = lines
        .next()
        .transpose()?
        .ok_or_else(|| ParseError::Header("the file is empty".into()))?;
    let header: Vec<&str> = header.split(',').collect();
    let columns = columns(&header).map_err(ParseError::Header)?;
    for (index, line) in lines.enumerate() {
        let line = line?;
        let line_number = index as u64 + 2;
        if line.trim().is_empty() {
            continue;
        }
        if let Err(reason) = parse_row(&line, &columns, &mut parsed) {
            parsed.bad(line_number, reason);
        }
    }
    Ok(parsed)
}

fn parse_row(line: &str, columns: &Columns, parsed: &mut ParsedFile) -> Result<(), String> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if fields.len() != columns.names.len() {
        return Err(format!(
            "wrong number of columns: expected {}, found {}",
            columns.names.len(),
            fields.len()
        ));
    }
    let subject = fields[columns.subject];
    let subject_number: u32 = subject
        .strip_prefix('s')
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("subject {subject:?} is not of the form s002"))?;
    let integer = |index: usize, name: &str| {
        fields[index]
            .parse::<u32>()
            .map_err(|_| format!("{name} {:?} is not a positive integer", fields[index]))
    };
    let session_index = integer(columns.session, "sessionIndex")?;
    let rep = integer(columns.rep, "rep")?;
    let seconds = |index: usize| -> Result<i64, String> {
        let value: f64 = fields[index].parse().map_err(|_| {
            format!(
                "{} is not a number: {:?}",
                columns.names[index], fields[index]
            )
        })?;
        if !value.is_finite() {
            return Err(format!("{} is not finite", columns.names[index]));
        }
        Ok((value * 1e6).round() as i64)
    };
    let mut press_us = cmu_repetition_start_us(subject_number, session_index, rep);
    let mut events = Vec::with_capacity(2 * CMU_KEYS.len());
    for (position, (name, key)) in CMU_KEYS.iter().enumerate() {
        if position > 0 {
            press_us += seconds(columns.down_down[position - 1])?;
        }
        let hold_us = seconds(columns.hold[position])?;
        if hold_us < 0 {
            return Err(format!("negative hold time of {name}"));
        }
        events.push(KeyEvent::press(press_us, *key));
        events.push(KeyEvent::release(press_us + hold_us, *key));
    }
    parsed
        .session(subject, &format!("session-{session_index}"))
        .extend(events);
    Ok(())
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
        let start = cmu_repetition_start_us(2, 1, 1);
        assert_eq!(events[0], KeyEvent::press(start, KeyCode(52)));
        // H.period = 0.1491 s, DD.period.t = 0.3979 s: t pressed after '.' was released.
        assert_eq!(events[1], KeyEvent::release(start + 149_100, KeyCode(52)));
        assert_eq!(events[2], KeyEvent::press(start + 397_900, KeyCode(20)));
        let last_press = events
            .iter()
            .rev()
            .find(|e| e.key == KeyCode::ENTER)
            .unwrap();
        assert_eq!(last_press.action, crate::event::KeyAction::Release);
    }

    #[test]
    fn bad_numbers_are_bad_rows() {
        let bad = ROW.replace("0.1069", "NaN");
        let parsed = parse(format!("{HEADER}\n{ROW}\n{bad}\ns002,1\n").as_bytes()).unwrap();
        let lines: Vec<u64> = parsed.bad_rows.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![3, 4]);
        assert!(
            parsed.bad_rows[0].reason.contains("not finite"),
            "{:?}",
            parsed.bad_rows
        );
    }
}
