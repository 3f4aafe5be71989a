//! One-class anomaly detectors for fixed-text keystroke dynamics, trained on
//! the genuine user's timing vectors only.
//!
//! The six classic detectors follow Killourhy & Maxion, DSN 2009 (and the R
//! code published with it): Euclidean, Manhattan, Manhattan (scaled),
//! Mahalanobis, Nearest neighbour (Mahalanobis) and Outlier count (z-score).
//! [`DetectorKind::Best`] is this project's own detector (see
//! [`BestDetector`]). A trained detector is plain data, so it can be stored and
//! reloaded; [`TrainedDetector::score`] returns an anomaly score (higher =
//! more anomalous).

use crate::linalg::{Whitening, column_mean_abs_dev, column_means, column_sds, covariance};

/// Relative eigenvalue tolerance of the pseudo-inverse, as R's `MASS::ginv`.
fn ginv_tolerance() -> f64 {
    f64::EPSILON.sqrt()
}

/// Smallest spread (in the feature's units: seconds, or log-seconds for the
/// best detector's log features) used as a divisor, so that a feature that never
/// varied in training cannot cause a division by zero.
pub const MIN_SPREAD: f64 = 1e-6;

/// The z-score beyond which a feature counts as an outlier (two-sided 95 %).
pub const OUTLIER_Z: f64 = 1.96;

/// The available detectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DetectorKind {
    /// Squared Euclidean distance to the training mean vector.
    Euclidean,
    /// Manhattan (L1) distance to the training mean vector.
    Manhattan,
    /// Manhattan distance with each feature's deviation divided by its mean
    /// absolute deviation in training.
    ManhattanScaled,
    /// Squared Mahalanobis distance to the mean, with the pseudo-inverse of
    /// the training covariance.
    Mahalanobis,
    /// Smallest squared Mahalanobis distance to any training vector, with the
    /// training covariance.
    NearestNeighborMahalanobis,
    /// Number of features whose |z-score| exceeds [`OUTLIER_Z`].
    OutlierCount,
    /// This project's best detector (see [`BestDetector`]).
    Best,
}

impl DetectorKind {
    /// Human-readable name, as in the paper's Table 2.
    pub fn name(self) -> &'static str {
        match self {
            DetectorKind::Euclidean => "Euclidean",
            DetectorKind::Manhattan => "Manhattan",
            DetectorKind::ManhattanScaled => "Manhattan (scaled)",
            DetectorKind::Mahalanobis => "Mahalanobis",
            DetectorKind::NearestNeighborMahalanobis => "Nearest Neighbor (Mahalanobis)",
            DetectorKind::OutlierCount => "Outlier Count (z-score)",
            DetectorKind::Best => "tikker (robust, recent, log)",
        }
    }

    /// The short name used on the command line (`manhattan-scaled`, `tikker`, …).
    pub fn slug(self) -> &'static str {
        match self {
            DetectorKind::Euclidean => "euclidean",
            DetectorKind::Manhattan => "manhattan",
            DetectorKind::ManhattanScaled => "manhattan-scaled",
            DetectorKind::Mahalanobis => "mahalanobis",
            DetectorKind::NearestNeighborMahalanobis => "nn-mahalanobis",
            DetectorKind::OutlierCount => "outlier-count",
            DetectorKind::Best => "tikker",
        }
    }

    /// The detector of a short name (see [`DetectorKind::slug`]).
    pub fn from_slug(slug: &str) -> Option<DetectorKind> {
        Self::all().iter().copied().find(|kind| kind.slug() == slug)
    }

    /// Every detector, classic ones first.
    pub fn all() -> &'static [DetectorKind] {
        &[
            DetectorKind::Euclidean,
            DetectorKind::Manhattan,
            DetectorKind::ManhattanScaled,
            DetectorKind::Mahalanobis,
            DetectorKind::NearestNeighborMahalanobis,
            DetectorKind::OutlierCount,
            DetectorKind::Best,
        ]
    }
}

/// Errors while training or scoring.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DetectorError {
    /// Fewer training vectors than the detector needs.
    #[error("need at least {needed} training vectors, got {found}")]
    TooFewSamples {
        /// Minimum number of vectors.
        needed: usize,
        /// Number given.
        found: usize,
    },
    /// Training vectors have zero features.
    #[error("training vectors have no features")]
    NoFeatures,
    /// A vector does not have the expected number of features.
    #[error("vector {index} has {found} features, expected {expected}")]
    DimensionMismatch {
        /// Index of the offending vector (0 for a scored sample).
        index: usize,
        /// Expected number of features.
        expected: usize,
        /// Number found.
        found: usize,
    },
    /// A training vector (or, with index 0, a scored sample) contains a NaN
    /// or infinite value.
    #[error("vector {index} contains a non-finite value")]
    NonFinite {
        /// Index of the offending vector.
        index: usize,
    },
}

/// Parameters of the mean-based detectors.
#[derive(Debug, Clone, PartialEq)]
pub struct MeanModel {
    /// Training mean of each feature.
    pub mean: Vec<f64>,
    /// Per-feature spread used as divisor (mean absolute deviation or
    /// standard deviation, floored at [`MIN_SPREAD`]); empty when unused.
    pub spread: Vec<f64>,
}

/// Parameters of the Mahalanobis detector.
#[derive(Debug, Clone, PartialEq)]
pub struct MahalanobisModel {
    /// Training mean of each feature.
    pub mean: Vec<f64>,
    /// `W` with `Wᵀ W` = pseudo-inverse of the training covariance.
    pub whitening: Whitening,
}

/// Parameters of the nearest-neighbour Mahalanobis detector.
#[derive(Debug, Clone, PartialEq)]
pub struct NearestNeighborModel {
    /// `W` with `Wᵀ W` = pseudo-inverse of the training covariance.
    pub whitening: Whitening,
    /// The training vectors mapped by `W` (`rank` values each).
    pub whitened_training: Vec<Vec<f64>>,
}

/// A trained detector: plain data, scored with [`TrainedDetector::score`].
#[derive(Debug, Clone, PartialEq)]
pub enum TrainedDetector {
    /// See [`DetectorKind::Euclidean`].
    Euclidean(MeanModel),
    /// See [`DetectorKind::Manhattan`].
    Manhattan(MeanModel),
    /// See [`DetectorKind::ManhattanScaled`]; `spread` = mean absolute deviation.
    ManhattanScaled(MeanModel),
    /// See [`DetectorKind::Mahalanobis`].
    Mahalanobis(MahalanobisModel),
    /// See [`DetectorKind::NearestNeighborMahalanobis`].
    NearestNeighborMahalanobis(NearestNeighborModel),
    /// See [`DetectorKind::OutlierCount`]; `spread` = standard deviation.
    OutlierCount(MeanModel),
    /// See [`DetectorKind::Best`].
    Best(BestDetector),
}

/// Checks the training set and returns the number of features.
fn check_training(training: &[Vec<f64>], needed: usize) -> Result<usize, DetectorError> {
    if training.len() < needed {
        return Err(DetectorError::TooFewSamples {
            needed,
            found: training.len(),
        });
    }
    let dim = training[0].len();
    if dim == 0 {
        return Err(DetectorError::NoFeatures);
    }
    for (index, row) in training.iter().enumerate() {
        if row.len() != dim {
            return Err(DetectorError::DimensionMismatch {
                index,
                expected: dim,
                found: row.len(),
            });
        }
        if row.iter().any(|x| !x.is_finite()) {
            return Err(DetectorError::NonFinite { index });
        }
    }
    Ok(dim)
}

fn floored(spread: Vec<f64>) -> Vec<f64> {
    spread.into_iter().map(|s| s.max(MIN_SPREAD)).collect()
}

fn whitening_of(training: &[Vec<f64>], mean: &[f64]) -> Whitening {
    let cov = covariance(training, mean);
    Whitening::from_covariance(&cov, mean.len(), ginv_tolerance())
}

fn sq_norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum()
}

impl TrainedDetector {
    /// Trains a detector of the given kind on the genuine user's vectors.
    /// Every kind needs at least two vectors (a spread or covariance has to
    /// be estimated); all vectors must have the same, non-zero length and
    /// finite values.
    ///
    /// [`DetectorKind::Best`] trained this way knows nothing about the
    /// columns and uses every feature as it is; prefer
    /// [`TrainedDetector::train_with_columns`] when the column names are known.
    pub fn train(kind: DetectorKind, training: &[Vec<f64>]) -> Result<Self, DetectorError> {
        let dim = check_training(training, 2)?;
        let transforms = vec![FeatureTransform::Identity; dim];
        Self::train_inner(kind, &transforms, training)
    }

    /// Like [`TrainedDetector::train`], but with the names of the columns
    /// (e.g. `H.period`, `DD.period.t`, `UD.period.t`), which
    /// [`DetectorKind::Best`] uses to choose its feature transforms
    /// ([`FeatureTransform::for_columns`]); the classic detectors ignore them.
    pub fn train_with_columns(
        kind: DetectorKind,
        columns: &[String],
        training: &[Vec<f64>],
    ) -> Result<Self, DetectorError> {
        let dim = check_training(training, 2)?;
        if columns.len() != dim {
            return Err(DetectorError::DimensionMismatch {
                index: 0,
                expected: dim,
                found: columns.len(),
            });
        }
        Self::train_inner(kind, &FeatureTransform::for_columns(columns), training)
    }

    fn train_inner(
        kind: DetectorKind,
        transforms: &[FeatureTransform],
        training: &[Vec<f64>],
    ) -> Result<Self, DetectorError> {
        let mean = column_means(training);
        Ok(match kind {
            DetectorKind::Euclidean => TrainedDetector::Euclidean(MeanModel {
                mean,
                spread: Vec::new(),
            }),
            DetectorKind::Manhattan => TrainedDetector::Manhattan(MeanModel {
                mean,
                spread: Vec::new(),
            }),
            DetectorKind::ManhattanScaled => {
                let spread = floored(column_mean_abs_dev(training, &mean));
                TrainedDetector::ManhattanScaled(MeanModel { mean, spread })
            }
            DetectorKind::OutlierCount => {
                let spread = floored(column_sds(training, &mean));
                TrainedDetector::OutlierCount(MeanModel { mean, spread })
            }
            DetectorKind::Mahalanobis => {
                let whitening = whitening_of(training, &mean);
                TrainedDetector::Mahalanobis(MahalanobisModel { mean, whitening })
            }
            DetectorKind::NearestNeighborMahalanobis => {
                let whitening = whitening_of(training, &mean);
                let whitened_training = training.iter().map(|t| whitening.apply(t)).collect();
                TrainedDetector::NearestNeighborMahalanobis(NearestNeighborModel {
                    whitening,
                    whitened_training,
                })
            }
            DetectorKind::Best => TrainedDetector::Best(BestDetector::train(
                training,
                transforms,
                &BestConfig::default(),
            )?),
        })
    }

    /// The kind of this detector.
    pub fn kind(&self) -> DetectorKind {
        match self {
            TrainedDetector::Euclidean(_) => DetectorKind::Euclidean,
            TrainedDetector::Manhattan(_) => DetectorKind::Manhattan,
            TrainedDetector::ManhattanScaled(_) => DetectorKind::ManhattanScaled,
            TrainedDetector::Mahalanobis(_) => DetectorKind::Mahalanobis,
            TrainedDetector::NearestNeighborMahalanobis(_) => {
                DetectorKind::NearestNeighborMahalanobis
            }
            TrainedDetector::OutlierCount(_) => DetectorKind::OutlierCount,
            TrainedDetector::Best(_) => DetectorKind::Best,
        }
    }

    /// Number of features a sample must have.
    pub fn dim(&self) -> usize {
        match self {
            TrainedDetector::Euclidean(m)
            | TrainedDetector::Manhattan(m)
            | TrainedDetector::ManhattanScaled(m)
            | TrainedDetector::OutlierCount(m) => m.mean.len(),
            TrainedDetector::Mahalanobis(m) => m.mean.len(),
            TrainedDetector::NearestNeighborMahalanobis(m) => m.whitening.dim,
            TrainedDetector::Best(b) => b.dim(),
        }
    }

    /// Anomaly score of a sample, or an error if its length is wrong or it
    /// contains a NaN or infinite value.
    pub fn try_score(&self, sample: &[f64]) -> Result<f64, DetectorError> {
        if sample.len() != self.dim() {
            return Err(DetectorError::DimensionMismatch {
                index: 0,
                expected: self.dim(),
                found: sample.len(),
            });
        }
        if sample.iter().any(|x| !x.is_finite()) {
            return Err(DetectorError::NonFinite { index: 0 });
        }
        Ok(self.score_unchecked(sample))
    }

    /// Anomaly score of a sample (higher = more anomalous). A sample that
    /// [`TrainedDetector::try_score`] refuses (wrong length, NaN or infinite
    /// values) scores `+∞`, i.e. is always rejected.
    pub fn score(&self, sample: &[f64]) -> f64 {
        self.try_score(sample).unwrap_or(f64::INFINITY)
    }

    fn score_unchecked(&self, x: &[f64]) -> f64 {
        match self {
            TrainedDetector::Euclidean(m) => {
                x.iter().zip(&m.mean).map(|(a, b)| (a - b) * (a - b)).sum()
            }
            TrainedDetector::Manhattan(m) => {
                x.iter().zip(&m.mean).map(|(a, b)| (a - b).abs()).sum()
            }
            TrainedDetector::ManhattanScaled(m) => x
                .iter()
                .zip(&m.mean)
                .zip(&m.spread)
                .map(|((a, b), s)| (a - b).abs() / s)
                .sum(),
            TrainedDetector::OutlierCount(m) => x
                .iter()
                .zip(&m.mean)
                .zip(&m.spread)
                .filter(|((a, b), s)| (*a - *b).abs() / **s > OUTLIER_Z)
                .count() as f64,
            TrainedDetector::Mahalanobis(m) => {
                let d: Vec<f64> = x.iter().zip(&m.mean).map(|(a, b)| a - b).collect();
                sq_norm(&m.whitening.apply(&d))
            }
            TrainedDetector::NearestNeighborMahalanobis(m) => {
                let z = m.whitening.apply(x);
                m.whitened_training
                    .iter()
                    .map(|t| {
                        t.iter()
                            .zip(&z)
                            .map(|(a, b)| (a - b) * (a - b))
                            .sum::<f64>()
                    })
                    .fold(f64::INFINITY, f64::min)
            }
            TrainedDetector::Best(b) => b.score(x),
        }
    }
}

/// Smallest value (seconds) taken before a logarithm: the 0.1 ms resolution
/// of the benchmark's timings.
pub const LOG_FLOOR: f64 = 1e-4;

/// How the best detector transforms one input feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureTransform {
    /// Used as is (latencies that may be negative, e.g. `UD.*`).
    Identity,
    /// Natural logarithm of `max(x, LOG_FLOOR)` (hold times, positive
    /// latencies): timing noise is roughly multiplicative.
    Log,
    /// Ignored (a `DD.k1.k2` latency that equals `H.k1 + UD.k1.k2`).
    Drop,
}

impl FeatureTransform {
    /// Chooses a transform for every column from its name: `H.*` → log;
    /// `UD.*` → identity; `DD.k1.k2` → dropped when both `H.k1` and
    /// `UD.k1.k2` are present (it is their sum), else log; anything else →
    /// identity.
    pub fn for_columns(columns: &[String]) -> Vec<FeatureTransform> {
        columns
            .iter()
            .map(|name| {
                if name.starts_with("H.") {
                    FeatureTransform::Log
                } else if let Some(pair) = name.strip_prefix("DD.") {
                    let redundant = columns.iter().any(|c| c.strip_prefix("UD.") == Some(pair))
                        && columns.iter().any(|c| {
                            c.strip_prefix("H.").is_some_and(|k| {
                                pair.strip_prefix(k).is_some_and(|r| r.starts_with('.'))
                            })
                        });
                    if redundant {
                        FeatureTransform::Drop
                    } else {
                        FeatureTransform::Log
                    }
                } else {
                    FeatureTransform::Identity
                }
            })
            .collect()
    }
}

/// Settings of [`BestDetector`]; [`BestConfig::default`] is the tuned one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BestConfig {
    /// Share of the training vectors, counted from the most recent, whose
    /// per-feature median is the template (1.0 = all of them).
    pub center_fraction: f64,
    /// Share of the most recent training vectors whose per-feature median
    /// absolute deviation (around their own median) scales the deviations.
    pub spread_fraction: f64,
    /// Upper bound of one feature's scaled deviation in the sum.
    pub cap: f64,
}

impl Default for BestConfig {
    fn default() -> Self {
        BestConfig {
            center_fraction: 0.25,
            spread_fraction: 0.5,
            cap: 8.0,
        }
    }
}

/// This project's best fixed-text detector: a robust, recency-weighted,
/// capped scaled-Manhattan distance on log-transformed timings.
///
/// 1. Features are transformed per [`FeatureTransform`] (with column names:
///    log hold times, raw keyup→keydown latencies, redundant keydown→keydown
///    latencies dropped; without names: all features as they are).
/// 2. The template is the per-feature **median** of the most recent
///    `center_fraction` of the training vectors (typing drifts as the user
///    practises, so the newest enrolment samples describe future attempts
///    best). The training vectors must be given in chronological order.
/// 3. Each feature's deviation is divided by the **median absolute
///    deviation** of the most recent `spread_fraction` of the training vectors
///    (floored at [`MIN_SPREAD`]).
/// 4. The score is the sum over features of `min(|x - center| / spread, cap)`,
///    so a single hesitation cannot dominate the score.
#[derive(Debug, Clone, PartialEq)]
pub struct BestDetector {
    /// Transform of every input feature (its length is the input dimension).
    pub transforms: Vec<FeatureTransform>,
    /// Template (median) of every kept, transformed feature.
    pub center: Vec<f64>,
    /// Median absolute deviation of every kept, transformed feature.
    pub spread: Vec<f64>,
    /// Per-feature cap of the scaled deviation.
    pub cap: f64,
}

/// Median of a slice (sorted in place); 0 for an empty slice.
fn median_in_place(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Number of most recent rows covered by `fraction` of `n` (at least 1).
fn window(n: usize, fraction: f64) -> usize {
    let f = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        1.0
    };
    ((n as f64 * f).round() as usize).clamp(1, n.max(1))
}

impl BestDetector {
    /// Minimum number of training vectors.
    pub const MIN_TRAINING: usize = 2;

    /// Trains with the given per-feature transforms and settings. The
    /// training vectors must be in chronological order (oldest first).
    pub fn train(
        training: &[Vec<f64>],
        transforms: &[FeatureTransform],
        config: &BestConfig,
    ) -> Result<Self, DetectorError> {
        let dim = check_training(training, Self::MIN_TRAINING)?;
        if transforms.len() != dim {
            return Err(DetectorError::DimensionMismatch {
                index: 0,
                expected: dim,
                found: transforms.len(),
            });
        }
        let kept: Vec<Vec<f64>> = training.iter().map(|x| transform(transforms, x)).collect();
        if kept.first().is_none_or(|k| k.is_empty()) {
            return Err(DetectorError::NoFeatures);
        }
        let n = kept.len();
        let center_rows = &kept[n - window(n, config.center_fraction)..];
        let spread_rows = &kept[n - window(n, config.spread_fraction)..];
        let p = kept[0].len();
        let mut column = Vec::with_capacity(n);
        let mut center = Vec::with_capacity(p);
        let mut spread = Vec::with_capacity(p);
        for j in 0..p {
            column.clear();
            column.extend(center_rows.iter().map(|r| r[j]));
            center.push(median_in_place(&mut column));
            column.clear();
            column.extend(spread_rows.iter().map(|r| r[j]));
            let med = median_in_place(&mut column);
            for v in column.iter_mut() {
                *v = (*v - med).abs();
            }
            spread.push(median_in_place(&mut column).max(MIN_SPREAD));
        }
        let cap = if config.cap > 0.0 && !config.cap.is_nan() {
            config.cap
        } else {
            f64::INFINITY
        };
        Ok(BestDetector {
            transforms: transforms.to_vec(),
            center,
            spread,
            cap,
        })
    }

    /// Number of input features.
    pub fn dim(&self) -> usize {
        self.transforms.len()
    }

    /// Anomaly score of a sample of the right length (see the type's doc).
    pub fn score(&self, x: &[f64]) -> f64 {
        x.iter()
            .zip(&self.transforms)
            .filter_map(|(&v, t)| apply_transform(*t, v))
            .zip(self.center.iter().zip(&self.spread))
            .map(|(v, (c, s))| ((v - c).abs() / s).min(self.cap))
            .sum()
    }
}

/// Applies one transform; `None` for a dropped feature.
fn apply_transform(t: FeatureTransform, v: f64) -> Option<f64> {
    match t {
        FeatureTransform::Identity => Some(v),
        FeatureTransform::Log => Some(v.max(LOG_FLOOR).ln()),
        FeatureTransform::Drop => None,
    }
}

/// Transforms a whole vector, leaving out dropped features.
fn transform(transforms: &[FeatureTransform], x: &[f64]) -> Vec<f64> {
    x.iter()
        .zip(transforms)
        .filter_map(|(&v, t)| apply_transform(*t, v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn toy() -> Vec<Vec<f64>> {
        vec![
            vec![1.0, 2.0],
            vec![3.0, 2.0],
            vec![2.0, 5.0],
            vec![2.0, 3.0],
        ]
    }

    #[test]
    fn mean_based_detectors_by_hand() {
        // mean = (2, 3); MAD = (0.5, 1.0); sd = (sqrt(2/3), sqrt(2))
        let t = toy();
        let x = [4.0, 1.0];
        let e = TrainedDetector::train(DetectorKind::Euclidean, &t).unwrap();
        assert!(close(e.score(&x), 4.0 + 4.0));
        let m = TrainedDetector::train(DetectorKind::Manhattan, &t).unwrap();
        assert!(close(m.score(&x), 2.0 + 2.0));
        let s = TrainedDetector::train(DetectorKind::ManhattanScaled, &t).unwrap();
        assert!(close(s.score(&x), 2.0 / 0.5 + 2.0 / 1.0));
        let o = TrainedDetector::train(DetectorKind::OutlierCount, &t).unwrap();
        // z = 2/0.816 = 2.45 (> 1.96) and 2/1.414 = 1.41 (not)
        assert_eq!(o.score(&x), 1.0);
        assert_eq!(o.score(&[2.0, 3.0]), 0.0);
        assert_eq!(o.score(&[9.0, 9.0]), 2.0);
    }

    #[test]
    fn mahalanobis_matches_closed_form() {
        let t = toy();
        // cov = [[2/3, 0], [0, 2]] (n - 1 = 3): var x = 2/3, var y = 6/3,
        // cov xy = (-1*-1 + 1*-1 + 0 + 0)/3 = 0.
        let d = TrainedDetector::train(DetectorKind::Mahalanobis, &t).unwrap();
        let x = [4.0, 1.0];
        assert!(close(d.score(&x), 4.0 / (2.0 / 3.0) + 4.0 / 2.0));
        assert!(close(d.score(&[2.0, 3.0]), 0.0));
    }

    #[test]
    fn mahalanobis_with_singular_covariance_uses_pseudo_inverse() {
        // Third feature = sum of the first two (like DD = H + UD).
        let t: Vec<Vec<f64>> = toy()
            .into_iter()
            .map(|r| vec![r[0], r[1], r[0] + r[1]])
            .collect();
        let d = TrainedDetector::train(DetectorKind::Mahalanobis, &t).unwrap();
        let s = d.score(&[4.0, 1.0, 5.0]);
        assert!(close(s, 4.0 / (2.0 / 3.0) + 4.0 / 2.0), "{s}");
        assert!(s.is_finite());
    }

    #[test]
    fn nearest_neighbor_mahalanobis() {
        let t = toy();
        let d = TrainedDetector::train(DetectorKind::NearestNeighborMahalanobis, &t).unwrap();
        for row in &t {
            assert!(close(d.score(row), 0.0));
        }
        // nearest to (3, 3) is (3, 2): 0/(2/3) + 1/2 = 0.5; (2,3): 1.5
        assert!(close(d.score(&[3.0, 3.0]), 0.5));
    }

    #[test]
    fn constant_feature_does_not_produce_nan() {
        let t = vec![vec![1.0, 0.2], vec![1.0, 0.3], vec![1.0, 0.4]];
        for &kind in DetectorKind::all() {
            let d = TrainedDetector::train(kind, &t).unwrap();
            for x in [[1.0, 0.3], [1.5, 0.3], [0.0, 9.0]] {
                let s = d.score(&x);
                assert!(!s.is_nan(), "{}: {s}", kind.name());
            }
            // The pseudo-inverse ignores a direction without variance, so the
            // Mahalanobis detectors only guarantee >= there.
            let (far, near) = (d.score(&[1.5, 0.3]), d.score(&[1.0, 0.3]));
            match kind {
                DetectorKind::Mahalanobis | DetectorKind::NearestNeighborMahalanobis => {
                    assert!(far >= near)
                }
                _ => assert!(far > near, "{}", kind.name()),
            }
        }
    }

    #[test]
    fn training_errors() {
        assert!(matches!(
            TrainedDetector::train(DetectorKind::Euclidean, &[]),
            Err(DetectorError::TooFewSamples { .. })
        ));
        assert!(matches!(
            TrainedDetector::train(DetectorKind::Euclidean, &[vec![1.0]]),
            Err(DetectorError::TooFewSamples { .. })
        ));
        assert!(matches!(
            TrainedDetector::train(DetectorKind::Manhattan, &[vec![], vec![]]),
            Err(DetectorError::NoFeatures)
        ));
        assert_eq!(
            TrainedDetector::train(DetectorKind::Manhattan, &[vec![1.0, 2.0], vec![1.0]]),
            Err(DetectorError::DimensionMismatch {
                index: 1,
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            TrainedDetector::train(DetectorKind::Best, &[vec![1.0], vec![f64::NAN]]),
            Err(DetectorError::NonFinite { index: 1 })
        );
        let cols = vec!["H.a".to_string()];
        assert!(matches!(
            TrainedDetector::train_with_columns(DetectorKind::Best, &cols, &toy()),
            Err(DetectorError::DimensionMismatch { .. })
        ));
    }

    #[test]
    fn bad_samples_score_infinity() {
        for &kind in DetectorKind::all() {
            let d = TrainedDetector::train(kind, &toy()).unwrap();
            assert_eq!(d.kind(), kind);
            assert_eq!(d.dim(), 2);
            assert_eq!(d.score(&[1.0]), f64::INFINITY);
            assert_eq!(d.score(&[1.0, f64::NAN]), f64::INFINITY);
            assert!(d.try_score(&[1.0, 2.0, 3.0]).is_err());
            assert!(d.try_score(&[1.0, 2.0]).is_ok());
        }
    }

    #[test]
    fn transforms_from_column_names() {
        let cols: Vec<String> = ["H.a", "DD.a.b", "UD.a.b", "H.b", "DD.b.c", "XX"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        use FeatureTransform::*;
        assert_eq!(
            FeatureTransform::for_columns(&cols),
            // DD.b.c has no UD.b.c, so it is kept (as a log latency).
            [Log, Drop, Identity, Log, Log, Identity]
        );
        // A hold-time key that is a prefix of another must not match.
        let cols: Vec<String> = ["H.ab", "DD.a.b", "UD.a.b"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(FeatureTransform::for_columns(&cols), [Log, Log, Identity]);
    }

    #[test]
    fn best_detector_uses_recent_median_mad_and_cap() {
        // 8 vectors of one feature; the last quarter (2 vectors) is 10, 12;
        // the last half (4 vectors) is 9, 11, 10, 12 with median 10.5 and
        // MAD median(1.5, 0.5, 0.5, 1.5) = 1.
        let t: Vec<Vec<f64>> = [1.0, 2.0, 3.0, 4.0, 9.0, 11.0, 10.0, 12.0]
            .iter()
            .map(|&v| vec![v])
            .collect();
        let config = BestConfig::default();
        let d = BestDetector::train(&t, &[FeatureTransform::Identity], &config).unwrap();
        assert_eq!(d.center, [11.0]);
        assert_eq!(d.spread, [1.0]);
        assert!(close(d.score(&[13.0]), 2.0));
        assert!(close(d.score(&[1000.0]), config.cap));
        // Dropped features are ignored; log features use log values.
        let t2: Vec<Vec<f64>> = t.iter().map(|r| vec![r[0], 5.0]).collect();
        let d2 = BestDetector::train(
            &t2,
            &[FeatureTransform::Identity, FeatureTransform::Drop],
            &config,
        )
        .unwrap();
        assert_eq!(d2.dim(), 2);
        assert!(close(d2.score(&[13.0, -7.0]), 2.0));
        let d3 = BestDetector::train(&t, &[FeatureTransform::Log], &config).unwrap();
        assert!(close(d3.center[0], (10f64.ln() + 12f64.ln()) / 2.0));
        // Non-positive values are floored before the log: no NaN.
        assert!(d3.score(&[-1.0]).is_finite());
        // Everything dropped is an error.
        assert_eq!(
            BestDetector::train(&t, &[FeatureTransform::Drop], &config),
            Err(DetectorError::NoFeatures)
        );
    }

    #[test]
    fn names_are_unique() {
        let names: Vec<&str> = DetectorKind::all().iter().map(|k| k.name()).collect();
        for (i, n) in names.iter().enumerate() {
            assert!(!names[..i].contains(n));
        }
    }
}
