//! The training and held-out sets `tikker train identify` builds for the predict-user models
//! from a data set:
//!
//! - **cmu** (`DSL-StrongPasswordData.csv`): every repetition is one row; repetitions 1–200 of
//!   each subject are trained on and 201–400 held out (the protocol of `tikker eval identify`);
//! - **events-csv** and **aalto**: every session (or sentence) of a user is one row, summarised
//!   by [`TimingSummary::from_keystrokes`]; the last quarter of each user's rows (at least one)
//!   is held out. Users with fewer than two rows are left out.

use tikker_core::summary::{SummaryError, TimingSummary};
use tikker_formats::cmu_table::CmuData;

use crate::dataset::Participant;
use crate::eval::identify::{FeatureSet, LabelledRows, features as cmu_features, select};

/// Rows to train on and rows held out, with what they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainingSets {
    /// Trained on.
    pub train: LabelledRows,
    /// Held out, to measure accuracy.
    pub test: LabelledRows,
    /// Users in the sets.
    pub users: usize,
    /// Units (sessions or sentences) without a summary (no digraph) or of users left out.
    pub skipped: usize,
    /// How the sets were made, in words.
    pub description: String,
}

/// The sets of the CMU benchmark (see the module documentation); `users` keeps only the first
/// subjects.
pub fn cmu_sets(data: &CmuData, users: Option<usize>) -> Result<TrainingSets, SummaryError> {
    let x = cmu_features(data, FeatureSet::Summary)?;
    let subjects: Vec<&str> = data
        .subjects()
        .into_iter()
        .take(users.unwrap_or(usize::MAX))
        .collect();
    let train = select(data, &x, &subjects, 1..=200);
    let test = select(data, &x, &subjects, 201..=400);
    Ok(TrainingSets {
        description: format!(
            "{} subjects of the CMU benchmark: repetitions 1-200 trained on ({} rows), \
             201-400 held out ({} rows)",
            subjects.len(),
            train.features.len(),
            test.features.len()
        ),
        users: subjects.len(),
        skipped: 0,
        train,
        test,
    })
}

/// The sets of participants of an events-csv or Aalto data set (see the module documentation);
/// `users` keeps only the first participants.
pub fn participant_sets(participants: &[Participant], users: Option<usize>) -> TrainingSets {
    let mut sets = TrainingSets::default();
    for participant in participants.iter().take(users.unwrap_or(usize::MAX)) {
        let rows: Vec<Vec<f64>> = participant
            .sentences
            .iter()
            .filter_map(|unit| TimingSummary::from_keystrokes(&unit.keystrokes).ok())
            .map(|summary| summary.to_vec())
            .collect();
        sets.skipped += participant.sentences.len() - rows.len();
        if rows.len() < 2 {
            sets.skipped += rows.len();
            continue;
        }
        let held_out = (rows.len() / 4).max(1);
        let split = rows.len() - held_out;
        for (i, row) in rows.into_iter().enumerate() {
            let set = if i < split {
                &mut sets.train
            } else {
                &mut sets.test
            };
            set.features.push(row);
            set.labels.push(participant.id.clone());
        }
        sets.users += 1;
    }
    sets.description = format!(
        "{} users: the first three quarters of each user's units trained on ({} rows), the \
         last quarter held out ({} rows); {} units skipped",
        sets.users,
        sets.train.features.len(),
        sets.test.features.len(),
        sets.skipped
    );
    sets
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Sentence;
    use tikker_core::key::KeyCode;
    use tikker_core::keystroke::Keystroke;

    #[test]
    fn participants_hold_out_their_last_quarter() {
        let unit = |id: u64| Sentence {
            section_id: id,
            keystrokes: (0..5)
                .map(|i| Keystroke {
                    key: KeyCode(30 + i as u16),
                    press_us: i * 150_000,
                    release_us: i * 150_000 + 90_000 + id as i64 * 1000,
                })
                .collect(),
        };
        let participant = |id: &str, units: u64| Participant {
            id: id.into(),
            sentences: (0..units).map(unit).collect(),
            skipped: 0,
        };
        let sets = participant_sets(
            &[
                participant("a", 8),
                participant("b", 1),
                participant("c", 4),
            ],
            None,
        );
        assert_eq!(sets.users, 2);
        assert_eq!(sets.train.features.len(), 6 + 3);
        assert_eq!(sets.test.labels, ["a", "a", "c"]);
        assert_eq!(sets.skipped, 1);
        assert_eq!(participant_sets(&[participant("a", 8)], Some(0)).users, 0);
    }
}
