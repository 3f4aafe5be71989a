//! Calibrated authenticity scores and the verdicts tikker (and its API) report.
//!
//! A verifier gives a *distance*: how unlike its owner a sample of typing is, on a scale of its
//! own. [`Calibration`] turns it into a score in [0, 1] (1 = certainly the owner) using only the
//! owner's data: the distances of the owner's own held-out samples (for example each enrolment
//! window scored against a profile built without it). The score is a logistic curve through two
//! anchors on the owner's distance distribution:
//! - a distance at the owner's median scores [`MEDIAN_SCORE`] (0.95, `authentic`);
//! - a distance at the owner's 99th percentile scores [`TAIL_SCORE`] (0.40, the top of
//!   `suspicious`): the owner lands in `suspicious` about once in a hundred samples, and anything
//!   much further out than the owner ever goes scores near 0.
//!
//! [`Verdict`] maps scores to words with the thresholds of the API: `authentic` > 0.8,
//! `likely_authentic` > 0.6, `uncertain` > 0.4, `suspicious` ≤ 0.4, and `unknown` when there is
//! no profile to compare with. [`confidence`] grows with how much a sample shares with the
//! profile.

use serde::{Deserialize, Serialize};

/// The score of a distance at the owner's median.
pub const MEDIAN_SCORE: f64 = 0.95;
/// The score of a distance at the owner's 99th percentile.
pub const TAIL_SCORE: f64 = 0.40;
/// The 99th percentile of the standard normal distribution.
const Z99: f64 = 2.326;
/// The fewest owner distances a calibration is fitted from.
pub const MIN_CALIBRATION_SAMPLES: usize = 10;

/// A fitted mapping from distances to scores (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The owner's median distance.
    pub median: f64,
    /// The owner's 99th-percentile distance.
    pub tail: f64,
    /// The spread of the owner's distances (1.4826 × the median absolute deviation from the
    /// median, a robust standard deviation); 0 in models stored before it was kept, which then
    /// use `(tail − median) / 2.326` (the normal distribution's 99th percentile).
    #[serde(default)]
    pub spread: f64,
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// The `q` quantile (0–1) of sorted finite values, linearly interpolated.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let fraction = position - below as f64;
    Some(sorted[below] + (sorted[above] - sorted[below]) * fraction)
}

impl Calibration {
    /// Fits the calibration to distances of the owner's own held-out samples; `None` with fewer
    /// than [`MIN_CALIBRATION_SAMPLES`] finite distances.
    pub fn from_owner_distances(distances: &[f64]) -> Option<Calibration> {
        let mut sorted: Vec<f64> = distances
            .iter()
            .copied()
            .filter(|d| d.is_finite())
            .collect();
        if sorted.len() < MIN_CALIBRATION_SAMPLES {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let median = quantile(&sorted, 0.5)?;
        let tail = quantile(&sorted, 0.99)?;
        // A degenerate spread (all distances equal) still needs a slope.
        let tail = tail.max(median + median.abs().max(1e-9) * 0.05);
        let mut deviations: Vec<f64> = sorted.iter().map(|d| (d - median).abs()).collect();
        deviations.sort_by(f64::total_cmp);
        let spread = 1.4826 * quantile(&deviations, 0.5)?;
        Some(Calibration {
            median,
            tail,
            spread,
        })
    }

    /// The spread of the owner's distances used for evidence: [`Calibration::spread`], or for
    /// an older model `(tail − median) / 2.326`; never below 1 % of `tail − median`.
    pub fn spread(&self) -> f64 {
        let floor = (self.tail - self.median).abs().max(1e-9);
        if self.spread.is_finite() && self.spread > 0.0 {
            self.spread.max(0.01 * floor)
        } else {
            floor / Z99
        }
    }

    /// The evidence of a distance against the owner: how far above the owner's median it lies,
    /// in units of the owner's spread, `(distance − median) / spread`; NaN counts as far away
    /// (10 spreads).
    pub fn evidence(&self, distance: f64) -> f64 {
        if distance.is_nan() {
            return 10.0;
        }
        ((distance - self.median) / self.spread()).clamp(-10.0, 10.0)
    }

    /// The score of a distance: in [0, 1], 1 = certainly the owner; NaN distances score 0.
    pub fn score(&self, distance: f64) -> f64 {
        if distance.is_nan() {
            return 0.0;
        }
        let slope = (logit(MEDIAN_SCORE) - logit(TAIL_SCORE)) / (self.tail - self.median);
        let z = logit(MEDIAN_SCORE) - slope * (distance - self.median);
        (1.0 / (1.0 + (-z).exp())).clamp(0.0, 1.0)
    }
}

/// What tikker concludes about who is typing: the one verdict type of the engine, the store, the
/// HTTP API and the tray (a verdict a reader does not know reads as [`Verdict::Unknown`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Score above 0.8.
    Authentic,
    /// Score above 0.6.
    LikelyAuthentic,
    /// Score above 0.4.
    Uncertain,
    /// Score at most 0.4.
    Suspicious,
    /// No profile to compare with (yet), or a verdict this build does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

impl Verdict {
    /// The verdict of a score, or [`Verdict::Unknown`] without one.
    pub fn from_score(score: Option<f64>) -> Verdict {
        match score {
            None => Verdict::Unknown,
            Some(s) if s > 0.8 => Verdict::Authentic,
            Some(s) if s > 0.6 => Verdict::LikelyAuthentic,
            Some(s) if s > 0.4 => Verdict::Uncertain,
            Some(_) => Verdict::Suspicious,
        }
    }

    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Authentic => "authentic",
            Verdict::LikelyAuthentic => "likely_authentic",
            Verdict::Uncertain => "uncertain",
            Verdict::Suspicious => "suspicious",
            Verdict::Unknown => "unknown",
        }
    }

    /// The verdict named `name` ([`Verdict::as_str`]); a name this build does not know is
    /// [`Verdict::Unknown`].
    pub fn from_name(name: &str) -> Verdict {
        match name {
            "authentic" => Verdict::Authentic,
            "likely_authentic" => Verdict::LikelyAuthentic,
            "uncertain" => Verdict::Uncertain,
            "suspicious" => Verdict::Suspicious,
            _ => Verdict::Unknown,
        }
    }

    /// The verdict in words, for people (`likely authentic`).
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Authentic => "authentic",
            Verdict::LikelyAuthentic => "likely authentic",
            Verdict::Uncertain => "uncertain",
            Verdict::Suspicious => "suspicious",
            Verdict::Unknown => "unknown",
        }
    }

    /// Whether the verdict counts as the owner typing (and so may be learned from).
    pub fn is_owner(self) -> bool {
        matches!(self, Verdict::Authentic | Verdict::LikelyAuthentic)
    }
}

/// How much to trust a score, in [0, 1): `1 − exp(−shared / scale)`, where `shared` counts the
/// comparisons a sample could make with the profile (keys and digraphs it shares) and `scale` is
/// the count at which confidence reaches 63 %.
pub fn confidence(shared: usize, scale: f64) -> f64 {
    if scale <= 0.0 {
        return 0.0;
    }
    1.0 - (-(shared as f64) / scale).exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn the_anchors_score_as_documented() {
        let distances: Vec<f64> = (0..=100).map(f64::from).collect();
        let calibration = Calibration::from_owner_distances(&distances).unwrap();
        assert_eq!(calibration.median, 50.0);
        assert!((calibration.tail - 99.0).abs() < 1e-9);
        assert!((calibration.score(50.0) - MEDIAN_SCORE).abs() < 1e-9);
        assert!((calibration.score(99.0) - TAIL_SCORE).abs() < 1e-9);
        assert!(calibration.score(0.0) > 0.95);
        assert!(calibration.score(300.0) < 0.01);
        assert_eq!(calibration.score(f64::NAN), 0.0);
    }

    #[test]
    fn scores_fall_as_distances_grow() {
        let distances: Vec<f64> = (0..50).map(|i| 1.0 + f64::from(i) * 0.1).collect();
        let calibration = Calibration::from_owner_distances(&distances).unwrap();
        let scores: Vec<f64> = (0..100)
            .map(|i| calibration.score(f64::from(i) * 0.2))
            .collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]));
        assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
    }

    #[test]
    fn too_few_or_degenerate_distances() {
        assert_eq!(Calibration::from_owner_distances(&[1.0; 5]), None);
        assert_eq!(Calibration::from_owner_distances(&[f64::NAN; 20]), None);
        let flat = Calibration::from_owner_distances(&[2.0; 20]).unwrap();
        assert!(flat.tail > flat.median);
        assert!(flat.score(2.0) > 0.9);
    }

    #[rstest]
    #[case(Some(0.81), Verdict::Authentic)]
    #[case(Some(0.8), Verdict::LikelyAuthentic)]
    #[case(Some(0.61), Verdict::LikelyAuthentic)]
    #[case(Some(0.6), Verdict::Uncertain)]
    #[case(Some(0.41), Verdict::Uncertain)]
    #[case(Some(0.4), Verdict::Suspicious)]
    #[case(Some(0.0), Verdict::Suspicious)]
    #[case(None, Verdict::Unknown)]
    fn verdict_thresholds(#[case] score: Option<f64>, #[case] verdict: Verdict) {
        assert_eq!(Verdict::from_score(score), verdict);
    }

    #[test]
    fn confidence_grows_with_what_is_shared() {
        assert_eq!(confidence(0, 50.0), 0.0);
        assert!(confidence(50, 50.0) > 0.6 && confidence(50, 50.0) < 0.65);
        assert!(confidence(500, 50.0) > 0.99);
        assert_eq!(confidence(10, 0.0), 0.0);
    }
}
