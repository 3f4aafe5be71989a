//! The evaluation protocol of Killourhy & Maxion (DSN 2009) on the CMU
//! fixed-text benchmark.
//!
//! For each subject: train on its first 200 repetitions (sessions 1–4);
//! genuine samples are its remaining 200 repetitions; impostor samples are the
//! first 5 repetitions of session 1 of every other subject (250 for the
//! published file). Per subject the equal-error rate and the zero-miss
//! false-alarm rate are computed ([`crate::eval::roc`]); the report gives their mean
//! and sample standard deviation (`n - 1`) over subjects.

use crate::dataset::cmu::CmuData;
pub use crate::eval::mean_sd;
use crate::eval::roc::{equal_error_rate, zero_miss_false_alarm_rate};
use tikker_core::verify::fixed_text::{
    BestConfig, BestDetector, DetectorError, DetectorKind, FeatureTransform, TrainedDetector,
};

/// Parameters of the protocol; [`ProtocolConfig::default`] is the paper's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ProtocolConfig {
    /// Number of a subject's first repetitions (ordered by session, then
    /// rep) used for training; the rest of its repetitions are genuine tests.
    pub train_count: usize,
    /// Session from which impostor repetitions are taken.
    pub impostor_session: u32,
    /// Repetitions `1..=impostor_reps` of that session are used as impostors.
    pub impostor_reps: u32,
}

impl Default for ProtocolConfig {
    fn default() -> Self {
        ProtocolConfig {
            train_count: 200,
            impostor_session: 1,
            impostor_reps: 5,
        }
    }
}

/// Result for one subject.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SubjectResult {
    /// Subject identifier.
    pub subject: String,
    /// Equal-error rate.
    pub eer: f64,
    /// Zero-miss false-alarm rate.
    pub zero_miss_far: f64,
}

/// Result of one detector over all subjects.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DetectorEvaluation {
    /// Detector name.
    pub name: String,
    /// Per-subject results, in the order of [`CmuData::subjects`].
    pub subjects: Vec<SubjectResult>,
    /// Mean equal-error rate over subjects.
    pub eer_mean: f64,
    /// Sample standard deviation of the equal-error rate.
    pub eer_sd: f64,
    /// Mean zero-miss false-alarm rate over subjects.
    pub zero_miss_far_mean: f64,
    /// Sample standard deviation of the zero-miss false-alarm rate.
    pub zero_miss_far_sd: f64,
}

/// The samples of one subject under the protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectSplit {
    /// Subject identifier.
    pub subject: String,
    /// Training vectors (the subject's first `train_count` repetitions).
    pub training: Vec<Vec<f64>>,
    /// Genuine test vectors (the subject's remaining repetitions).
    pub genuine: Vec<Vec<f64>>,
    /// Impostor test vectors (other subjects' chosen repetitions).
    pub impostor: Vec<Vec<f64>>,
}

/// Errors of the evaluation.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The data set has no subjects.
    #[error("the data set has no rows")]
    NoData,
    /// A subject has too few repetitions for the training/test split.
    #[error("subject {subject} has {found} repetitions, needs more than {needed}")]
    TooFewRepetitions {
        /// Subject identifier.
        subject: String,
        /// Repetitions found.
        found: usize,
        /// Training repetitions required (at least one more is needed).
        needed: usize,
    },
    /// No impostor samples were found for a subject.
    #[error("no impostor repetitions for subject {subject}")]
    NoImpostors {
        /// Subject identifier.
        subject: String,
    },
    /// Training a detector failed.
    #[error("training {detector} for subject {subject}: {source}")]
    Training {
        /// Detector name.
        detector: String,
        /// Subject identifier.
        subject: String,
        /// Underlying error.
        #[source]
        source: DetectorError,
    },
}

/// Splits the data into per-subject training, genuine and impostor sets.
pub fn split_subjects(
    data: &CmuData,
    config: &ProtocolConfig,
) -> Result<Vec<SubjectSplit>, EvalError> {
    let subjects = data.subjects();
    if subjects.is_empty() {
        return Err(EvalError::NoData);
    }
    let per_subject: Vec<_> = subjects.iter().map(|s| data.rows_of(s)).collect();
    let mut splits = Vec::with_capacity(subjects.len());
    for (i, (subject, rows)) in subjects.iter().zip(&per_subject).enumerate() {
        if rows.len() <= config.train_count {
            return Err(EvalError::TooFewRepetitions {
                subject: (*subject).to_string(),
                found: rows.len(),
                needed: config.train_count,
            });
        }
        let training = rows[..config.train_count]
            .iter()
            .map(|r| r.timings.clone())
            .collect();
        let genuine = rows[config.train_count..]
            .iter()
            .map(|r| r.timings.clone())
            .collect();
        let impostor: Vec<Vec<f64>> = per_subject
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .flat_map(|(_, other)| other.iter())
            .filter(|r| {
                r.session_index == config.impostor_session
                    && (1..=config.impostor_reps).contains(&r.rep)
            })
            .map(|r| r.timings.clone())
            .collect();
        if impostor.is_empty() {
            return Err(EvalError::NoImpostors {
                subject: (*subject).to_string(),
            });
        }
        splits.push(SubjectSplit {
            subject: (*subject).to_string(),
            training,
            genuine,
            impostor,
        });
    }
    Ok(splits)
}

/// Evaluates any detector given as a training function returning a scoring
/// function, on pre-split subjects.
pub fn evaluate_with<S, F>(
    name: &str,
    splits: &[SubjectSplit],
    train: F,
) -> Result<DetectorEvaluation, EvalError>
where
    F: Fn(&[Vec<f64>]) -> Result<S, DetectorError>,
    S: Fn(&[f64]) -> f64,
{
    let mut subjects = Vec::with_capacity(splits.len());
    for split in splits {
        let scorer = train(&split.training).map_err(|source| EvalError::Training {
            detector: name.to_string(),
            subject: split.subject.clone(),
            source,
        })?;
        let genuine: Vec<f64> = split.genuine.iter().map(|x| scorer(x)).collect();
        let impostor: Vec<f64> = split.impostor.iter().map(|x| scorer(x)).collect();
        subjects.push(SubjectResult {
            subject: split.subject.clone(),
            eer: equal_error_rate(&genuine, &impostor),
            zero_miss_far: zero_miss_false_alarm_rate(&genuine, &impostor),
        });
    }
    let eers: Vec<f64> = subjects.iter().map(|s| s.eer).collect();
    let zms: Vec<f64> = subjects.iter().map(|s| s.zero_miss_far).collect();
    let (eer_mean, eer_sd) = mean_sd(&eers);
    let (zero_miss_far_mean, zero_miss_far_sd) = mean_sd(&zms);
    Ok(DetectorEvaluation {
        name: name.to_string(),
        subjects,
        eer_mean,
        eer_sd,
        zero_miss_far_mean,
        zero_miss_far_sd,
    })
}

/// Evaluates one built-in detector on pre-split subjects; `columns` are the
/// timing column names ([`CmuData::columns`]), used by
/// [`DetectorKind::Best`] to choose its feature transforms.
pub fn evaluate_detector(
    kind: DetectorKind,
    columns: &[String],
    splits: &[SubjectSplit],
) -> Result<DetectorEvaluation, EvalError> {
    evaluate_with(kind.name(), splits, |training| {
        let detector = TrainedDetector::train_with_columns(kind, columns, training)?;
        Ok(move |x: &[f64]| detector.score(x))
    })
}

/// Evaluates a [`BestDetector`] with explicit feature transforms and
/// settings (for ablations of the best detector).
pub fn evaluate_best_variant(
    name: &str,
    transforms: &[FeatureTransform],
    config: &BestConfig,
    splits: &[SubjectSplit],
) -> Result<DetectorEvaluation, EvalError> {
    evaluate_with(name, splits, |training| {
        let detector = BestDetector::train(training, transforms, config)?;
        Ok(move |x: &[f64]| detector.score(x))
    })
}

/// Runs the protocol for every built-in detector ([`DetectorKind::all`]).
pub fn evaluate_all(
    data: &CmuData,
    config: &ProtocolConfig,
) -> Result<Vec<DetectorEvaluation>, EvalError> {
    let splits = split_subjects(data, config)?;
    DetectorKind::all()
        .iter()
        .map(|&kind| evaluate_detector(kind, &data.columns, &splits))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::cmu::CmuRepetition;

    fn toy_data() -> CmuData {
        let mut rows = Vec::new();
        for (s, base) in [("a", 0.1), ("b", 0.3), ("c", 0.5)] {
            for session in 1..=2 {
                for rep in 1..=4 {
                    // Same pattern in every session, so genuine tests look
                    // like training; subjects are far apart.
                    let jitter = (rep * rep) as f64 * 1e-3 + session as f64 * 1e-5;
                    rows.push(CmuRepetition {
                        subject: s.to_string(),
                        session_index: session,
                        rep,
                        timings: vec![base + jitter, base * 2.0 - jitter],
                    });
                }
            }
        }
        CmuData {
            columns: vec!["H.a".into(), "DD.a.b".into()],
            rows,
        }
    }

    #[test]
    fn split_follows_protocol() {
        let config = ProtocolConfig {
            train_count: 4,
            impostor_session: 1,
            impostor_reps: 2,
        };
        let splits = split_subjects(&toy_data(), &config).unwrap();
        assert_eq!(splits.len(), 3);
        assert_eq!(splits[0].training.len(), 4);
        assert_eq!(splits[0].genuine.len(), 4);
        assert_eq!(splits[0].impostor.len(), 4);
        // impostors of "a" are b and c session 1 reps 1-2
        assert!((splits[0].impostor[0][0] - 0.30101).abs() < 1e-12);
        assert!((splits[0].impostor[3][0] - 0.50401).abs() < 1e-12);
    }

    #[test]
    fn separable_toy_data_has_zero_error() {
        let config = ProtocolConfig {
            train_count: 4,
            impostor_session: 1,
            impostor_reps: 2,
        };
        let splits = split_subjects(&toy_data(), &config).unwrap();
        let data = toy_data();
        for &kind in DetectorKind::all() {
            let eval = evaluate_detector(kind, &data.columns, &splits).unwrap();
            assert_eq!(eval.eer_mean, 0.0, "{}", kind.name());
        }
        let eval = evaluate_detector(DetectorKind::Manhattan, &data.columns, &splits).unwrap();
        assert_eq!(eval.eer_mean, 0.0);
        assert_eq!(eval.zero_miss_far_mean, 0.0);
    }

    #[test]
    fn too_few_repetitions_is_an_error() {
        let err = split_subjects(&toy_data(), &ProtocolConfig::default()).unwrap_err();
        assert!(matches!(err, EvalError::TooFewRepetitions { .. }));
        let err = split_subjects(&CmuData::default(), &ProtocolConfig::default()).unwrap_err();
        assert!(matches!(err, EvalError::NoData));
    }

    #[test]
    fn mean_sd_uses_n_minus_one() {
        let (m, s) = mean_sd(&[1.0, 2.0, 3.0, 4.0]);
        assert!((m - 2.5).abs() < 1e-12);
        assert!((s - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        let (m, s) = mean_sd(&[]);
        assert!(m.is_nan() && s.is_nan(), "an empty set has no mean");
        assert_eq!(mean_sd(&[7.0]), (7.0, 0.0));
    }
}
