//! Readers of the public keystroke data sets used for evaluation, and the participants and
//! units of typing (sentences or sessions) their protocols work on.

pub mod aalto;
pub use tikker_formats::cmu_table as cmu;

use std::collections::HashMap;
use std::path::Path;

use tikker_core::keystroke::{Keystroke, keystrokes};
use tikker_formats::{ImportFormat, ParsedSession, ReadError, parse_file};

/// The keystrokes of one unit of typing: a sentence of the Aalto set (one
/// `TEST_SECTION_ID`) or a session of an `events-csv` file, in press order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sentence {
    /// The data set's `TEST_SECTION_ID` (or the position of the session in its file).
    pub section_id: u64,
    /// Keystrokes in press order.
    pub keystrokes: Vec<Keystroke>,
}

/// One participant: id and sentences in the order they first appear in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Participant {
    /// The `PARTICIPANT_ID`.
    pub id: String,
    /// Sentences in file order.
    pub sentences: Vec<Sentence>,
    /// Rows skipped as bad input.
    pub skipped: usize,
}

impl Participant {
    /// Total number of keystrokes over all sentences.
    pub fn keystroke_count(&self) -> usize {
        self.sentences.iter().map(|s| s.keystrokes.len()).sum()
    }
}

/// Sentences of sessions, in the order given (labels that are not numbers are numbered by
/// position).
pub(crate) fn sentences_of(sessions: Vec<ParsedSession>) -> Vec<Sentence> {
    sessions
        .into_iter()
        .enumerate()
        .map(|(position, session)| Sentence {
            section_id: session.label.parse().unwrap_or(position as u64),
            keystrokes: keystrokes(&session.events),
        })
        .collect()
}

/// The participants of an `events-csv` file: one per user, each session a unit of typing,
/// sessions in time order. Bad rows are skipped and counted.
pub fn read_events_csv(path: &Path) -> Result<Vec<Participant>, ReadError> {
    let parsed = parse_file(path, ImportFormat::EventsCsv, &mut |_| {})?;
    let skipped = parsed.bad_rows.len();
    let mut by_user: Vec<(String, Vec<ParsedSession>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for session in parsed.into_sorted_sessions() {
        let next = by_user.len();
        let slot = *index.entry(session.user.clone()).or_insert(next);
        if slot == next {
            by_user.push((session.user.clone(), Vec::new()));
        }
        by_user[slot].1.push(session);
    }
    Ok(by_user
        .into_iter()
        .map(|(id, mut sessions)| {
            sessions.sort_by_key(|s| s.events.first().map(|e| e.time_us));
            Participant {
                id,
                sentences: sentences_of(sessions),
                skipped,
            }
        })
        .collect())
}
