//! The owner's and an impostor's real typing (participants of `aalto-dev`) as one replay file,
//! for the tests that need an alert raised by the real monitor.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::Write;
use std::path::PathBuf;

use tikker_core::keystroke::Keystroke;
use tikker_research::dataset::Participant;
use tikker_research::dataset::aalto::read_participant;

use super::{TestHome, shared_data};

/// Participants 31 (the owner) and 32 (the impostor) of `aalto-dev`: a typical pair (the
/// simulation detects 32 after 36 keystrokes, the severe fast path; the data set's median is 98).
pub const OWNER: &str = "31";
pub const IMPOSTOR: &str = "32";
pub const ENROL_SENTENCES: usize = 10;

pub fn participant(id: &str) -> Participant {
    read_participant(
        &shared_data()
            .join("aalto-dev/users")
            .join(format!("{id}_keystrokes.txt.gz")),
    )
    .unwrap()
}

/// The owner's and the impostor's typing as one replay file (user `owner` throughout: it is
/// all typing at the owner's keyboard), the impostor starting 1 s after the owner's last press.
pub struct Splice {
    pub file: PathBuf,
    pub owner: Participant,
    pub impostor: Participant,
    pub enrolment: usize,
    /// Release of the owner's last keystroke (µs).
    pub genuine_end_us: i64,
    /// The impostor's keystrokes, shifted as replayed.
    pub intruding: Vec<Keystroke>,
}

/// Writes the splice; `shift_us` moves every time (0: the data set's own times).
pub fn write_splice(home: &TestHome, shift_us: i64) -> Splice {
    let owner = participant(OWNER);
    let impostor = participant(IMPOSTOR);
    let enrolment = owner.sentences[..ENROL_SENTENCES]
        .iter()
        .map(|s| s.keystrokes.len())
        .sum();
    let genuine: Vec<&Keystroke> = owner.sentences.iter().flat_map(|s| &s.keystrokes).collect();
    let last_press = genuine.iter().map(|k| k.press_us).max().unwrap();
    let genuine_end_us = genuine.iter().map(|k| k.release_us).max().unwrap() + shift_us;
    let first_intruding = impostor.sentences[0].keystrokes[0].press_us;
    let shift = last_press + 1_000_000 - first_intruding;
    let file = home.path().join("splice.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    writeln!(out, "user,session,timestamp_ms,key,event").unwrap();
    let mut intruding = Vec::new();
    for (who, participant, shift) in [("a", &owner, shift_us), ("b", &impostor, shift + shift_us)] {
        for sentence in &participant.sentences {
            let mut events: Vec<(i64, u16, &str)> = Vec::new();
            for k in &sentence.keystrokes {
                events.push((k.press_us + shift, k.key.0, "press"));
                events.push((k.release_us + shift, k.key.0, "release"));
                if who == "b" {
                    intruding.push(Keystroke {
                        key: k.key,
                        press_us: k.press_us + shift,
                        release_us: k.release_us + shift,
                    });
                }
            }
            events.sort();
            for (time_us, key, action) in events {
                writeln!(
                    out,
                    "owner,{who}-{},{}.{:03},{key},{action}",
                    sentence.section_id,
                    time_us / 1000,
                    time_us % 1000
                )
                .unwrap();
            }
        }
    }
    out.flush().unwrap();
    Splice {
        file,
        owner,
        impostor,
        enrolment,
        genuine_end_us,
        intruding,
    }
}
