//! The CMU identification protocol: build a feature set for every
//! repetition, split each subject's repetitions by number (e.g. train on
//! 1–200 = sessions 1–4, test on 201–400 = sessions 5–8), and measure
//! accuracy (share of test rows whose subject is predicted correctly).

use std::ops::RangeInclusive;

use crate::dataset::cmu::CmuData;
use tikker_core::summary::{CmuLayout, SummaryError};
use tikker_identify::{IdentifyError, IdentifyModel};

/// Which features describe one repetition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureSet {
    /// The 8-number [`tikker_core::summary::TimingSummary`] (ms), what the API receives.
    Summary,
    /// All timing columns of the file, converted to milliseconds.
    Timings,
}

impl FeatureSet {
    /// Both feature sets, summary first.
    pub const ALL: [FeatureSet; 2] = [Self::Summary, Self::Timings];

    /// A short name for reports: `summary` or `timings`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Summary => "summary",
            Self::Timings => "timings",
        }
    }
}

/// The feature vector of every row of `data`, in file order.
///
/// # Errors
/// The errors of [`CmuLayout::new`] and [`CmuLayout::summarize`] for
/// [`FeatureSet::Summary`]; none for [`FeatureSet::Timings`].
pub fn features(data: &CmuData, set: FeatureSet) -> Result<Vec<Vec<f64>>, SummaryError> {
    match set {
        FeatureSet::Summary => {
            let layout = CmuLayout::new(&data.columns)?;
            data.rows
                .iter()
                .map(|r| layout.summarize(&r.timings).map(|s| s.to_vec()))
                .collect()
        }
        FeatureSet::Timings => Ok(data
            .rows
            .iter()
            .map(|r| r.timings.iter().map(|t| t * 1000.0).collect())
            .collect()),
    }
}

/// Rows and labels chosen by repetition number.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelledRows {
    /// Feature vectors.
    pub features: Vec<Vec<f64>>,
    /// Subject of each row.
    pub labels: Vec<String>,
}

/// Selects, for every subject in `subjects` (all subjects when empty), the
/// rows whose 1-based repetition number lies in `reps`. A row's repetition
/// number is its position among the subject's rows sorted by
/// `(session_index, rep)`: 1–50 session 1, 51–100 session 2, and so on.
/// `features` must hold one vector per row of `data`, in file order.
pub fn select(
    data: &CmuData,
    features: &[Vec<f64>],
    subjects: &[&str],
    reps: RangeInclusive<usize>,
) -> LabelledRows {
    let mut out = LabelledRows::default();
    let all = data.subjects();
    let chosen = if subjects.is_empty() { &all } else { subjects };
    for subject in chosen {
        let mut rows: Vec<usize> = (0..data.rows.len())
            .filter(|i| data.rows[*i].subject == *subject)
            .collect();
        rows.sort_by_key(|i| (data.rows[*i].session_index, data.rows[*i].rep));
        for (pos, i) in rows.iter().enumerate() {
            if let Some(f) = features.get(*i).filter(|_| reps.contains(&(pos + 1))) {
                out.features.push(f.clone());
                out.labels.push((*subject).to_string());
            }
        }
    }
    out
}

/// Share of `rows` whose label `model` predicts correctly (0 for no rows).
///
/// # Errors
/// The errors of [`IdentifyModel::predict`].
pub fn accuracy(model: &IdentifyModel, rows: &LabelledRows) -> Result<f64, IdentifyError> {
    if rows.features.is_empty() {
        return Ok(0.0);
    }
    let mut correct = 0usize;
    for (x, label) in rows.features.iter().zip(&rows.labels) {
        if model.predict(x)?.0 == *label {
            correct += 1;
        }
    }
    Ok(correct as f64 / rows.features.len() as f64)
}
