//! The predict-user endpoint (`POST /predict_user`, and `POST /` for clients of the original
//! service): which user typed a sequence whose 8-number timing summary
//! ([`TimingSummary`]: mean and standard deviation of HT, PPT, RRT and RPT, in ms) is given.
//!
//! The models are [`IdentifyModel`]s of the three kinds, trained by `tikker train identify` and
//! stored under [`model_name`]. This module checks the request's numbers ([`features`]) and
//! builds the training and held-out sets from a data set:
//!
//! - **cmu** (`DSL-StrongPasswordData.csv`): every repetition is one row; repetitions 1–200 of
//!   each subject are trained on and 201–400 held out (the protocol of `tikker eval identify`);
//! - **events-csv** and **aalto**: every session (or sentence) of a user is one row, summarised
//!   by [`TimingSummary::from_keystrokes`]; the last quarter of each user's rows (at least one)
//!   is held out. Users with fewer than two rows are left out.

use crate::dataset::Participant;
use crate::dataset::cmu::CmuData;
use crate::eval::identify::{FeatureSet, LabelledRows, features as cmu_features, select};
use crate::identify::ModelKind;
use crate::summary::{SummaryError, TimingSummary};

use super::input::InputError;

/// The name a model of `kind` is stored under.
pub fn model_name(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::RandomForest => "identify-rf",
        ModelKind::Svm => "identify-svm",
        ModelKind::GradientBoosting => "identify-xgboost",
    }
}

/// The mean and standard deviation of one series, in ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Series {
    /// Mean, ms.
    pub mean: f64,
    /// Standard deviation, ms.
    pub std: f64,
}

/// Checks the four series (named `HT`, `PPT`, `RRT`, `RPT`) and gives the feature vector in the
/// order of [`TimingSummary::NAMES`]. Means may be negative (RPT and RRT are, when keys
/// overlap); standard deviations may not.
pub fn features(series: [(&str, Series); 4]) -> Result<Vec<f64>, InputError> {
    let mut out = Vec::with_capacity(TimingSummary::LEN);
    for (name, Series { mean, std }) in series {
        if !mean.is_finite() || mean.abs() > 1e9 {
            return Err(InputError::new(
                format!("{name}.Mean"),
                "must be a finite number of milliseconds",
            ));
        }
        if !std.is_finite() || !(0.0..=1e9).contains(&std) {
            return Err(InputError::new(
                format!("{name}.STD"),
                "must be a finite, non-negative number of milliseconds",
            ));
        }
        out.extend([mean, std]);
    }
    Ok(out)
}

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
    use crate::key::KeyCode;
    use crate::keystroke::Keystroke;

    fn series(mean: f64, std: f64) -> Series {
        Series { mean, std }
    }

    #[test]
    fn the_documented_body_maps_in_the_summary_order() {
        let x = features([
            ("HT", series(48.43, 23.34)),
            ("PPT", series(120.43, 37.41)),
            ("RRT", series(124.43, 45.34)),
            ("RPT", series(132.56, 47.12)),
        ])
        .unwrap();
        assert_eq!(
            x,
            [48.43, 23.34, 120.43, 37.41, 124.43, 45.34, 132.56, 47.12]
        );
        let err = features([
            ("HT", series(48.0, 1.0)),
            ("PPT", series(1.0, -1.0)),
            ("RRT", series(1.0, 1.0)),
            ("RPT", series(-5.0, 1.0)),
        ])
        .unwrap_err();
        assert_eq!(err.field, "PPT.STD");
        let err = features([
            ("HT", series(f64::NAN, 1.0)),
            ("PPT", series(1.0, 1.0)),
            ("RRT", series(1.0, 1.0)),
            ("RPT", series(1.0, 1.0)),
        ])
        .unwrap_err();
        assert_eq!(err.field, "HT.Mean");
    }

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
