//! ROC-based error rates for anomaly scores, computed exactly as in the
//! evaluation of Killourhy & Maxion (DSN 2009).
//!
//! Scores are *anomaly* scores: higher means more anomalous. A sample is
//! flagged (rejected) when its score is `>= t` for a threshold `t`. The
//! thresholds are the distinct observed scores (plus `+∞`, where nothing is
//! flagged), as the R package ROCR builds them, so tied scores always move
//! together. For each threshold:
//!
//! * false-alarm rate = genuine samples flagged / genuine samples,
//! * miss rate = impostor samples not flagged / impostor samples.
//!
//! The equal-error rate is found by linear interpolation between the two
//! adjacent ROC points that bracket `miss = false alarm` (the last point with
//! `miss - fa >= 0` and the first with `miss - fa < 0`). The zero-miss
//! false-alarm rate is the false-alarm rate at the highest threshold that
//! still flags every impostor, i.e. `t = min(impostor scores)`.
//!
//! NaN scores are ordered above `+∞` (they count as the most anomalous).
//! Functions return `f64::NAN` only when one of the two score sets is empty,
//! where the rates are undefined.

use std::cmp::Ordering;

/// One point of a ROC curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RocPoint {
    /// Samples with score `>= threshold` are flagged as impostors.
    pub threshold: f64,
    /// Share of impostor samples that are not flagged.
    pub miss: f64,
    /// Share of genuine samples that are flagged.
    pub false_alarm: f64,
}

/// Builds the ROC curve: the point at threshold `+∞` (miss 1, false alarm 0)
/// followed by one point per distinct score, in decreasing threshold order.
/// Returns an empty curve when either set is empty.
pub fn roc_curve(genuine: &[f64], impostor: &[f64]) -> Vec<RocPoint> {
    if genuine.is_empty() || impostor.is_empty() {
        return Vec::new();
    }
    let n_gen = genuine.len() as f64;
    let n_imp = impostor.len() as f64;
    // (score, is_impostor), sorted by decreasing score.
    let mut all: Vec<(f64, bool)> = genuine
        .iter()
        .map(|&s| (s, false))
        .chain(impostor.iter().map(|&s| (s, true)))
        .collect();
    all.sort_by(|a, b| b.0.total_cmp(&a.0));

    let mut curve = Vec::with_capacity(all.len() + 1);
    curve.push(RocPoint {
        threshold: f64::INFINITY,
        miss: 1.0,
        false_alarm: 0.0,
    });
    let (mut flagged_gen, mut flagged_imp) = (0usize, 0usize);
    let mut i = 0;
    while i < all.len() {
        let threshold = all[i].0;
        // Consume every sample tied with this score.
        while i < all.len() && all[i].0.total_cmp(&threshold) == Ordering::Equal {
            if all[i].1 {
                flagged_imp += 1;
            } else {
                flagged_gen += 1;
            }
            i += 1;
        }
        curve.push(RocPoint {
            threshold,
            miss: (impostor.len() - flagged_imp) as f64 / n_imp,
            false_alarm: flagged_gen as f64 / n_gen,
        });
    }
    curve
}

/// Equal-error rate: the rate where miss and false alarm are equal, by linear
/// interpolation between the two ROC points that bracket equality. Returns
/// `f64::NAN` if either set is empty.
pub fn equal_error_rate(genuine: &[f64], impostor: &[f64]) -> f64 {
    let curve = roc_curve(genuine, impostor);
    // The first point has miss - fa = 1 >= 0 and the last has miss - fa = -1
    // < 0 (everything flagged), and miss - fa strictly decreases along the
    // curve, so the bracketing pair exists and is unique.
    let Some(k) = curve.iter().position(|p| p.miss - p.false_alarm < 0.0) else {
        return f64::NAN; // empty curve
    };
    if k == 0 {
        return f64::NAN; // unreachable: the first point has miss - fa = 1
    }
    let (x, y) = (curve[k - 1], curve[k]);
    let d1 = x.miss - x.false_alarm; // >= 0
    let d2 = y.miss - y.false_alarm; // < 0
    // d1 - d2 > 0, so no division by zero.
    let a = d1 / (d1 - d2);
    x.miss + a * (y.miss - x.miss)
}

/// Zero-miss false-alarm rate: the share of genuine samples flagged when the
/// threshold is the lowest impostor score, so that no impostor is admitted.
/// Genuine scores tied with that impostor score count as flagged. Returns
/// `f64::NAN` if either set is empty.
pub fn zero_miss_false_alarm_rate(genuine: &[f64], impostor: &[f64]) -> f64 {
    if genuine.is_empty() || impostor.is_empty() {
        return f64::NAN;
    }
    let Some(threshold) = impostor.iter().copied().min_by(f64::total_cmp) else {
        return f64::NAN; // unreachable: impostor is not empty
    };
    let flagged = genuine
        .iter()
        .filter(|g| g.total_cmp(&threshold) != Ordering::Less)
        .count();
    flagged as f64 / genuine.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn perfect_separation() {
        let g = [0.1, 0.2, 0.3];
        let i = [0.5, 0.6];
        assert!(close(equal_error_rate(&g, &i), 0.0));
        assert!(close(zero_miss_false_alarm_rate(&g, &i), 0.0));
    }

    #[test]
    fn complete_inversion() {
        let g = [5.0, 6.0];
        let i = [1.0, 2.0];
        assert!(close(equal_error_rate(&g, &i), 1.0));
        assert!(close(zero_miss_false_alarm_rate(&g, &i), 1.0));
    }

    #[test]
    fn hand_computed_interpolation() {
        // genuine 1,2,3,4 ; impostor 2.5, 5
        // thresholds: inf (m=1, f=0), 5 (m=.5, f=0), 4 (m=.5, f=.25),
        // 3 (m=.5, f=.5) -> miss - fa = 0 exactly, EER = 0.5.
        let g = [1.0, 2.0, 3.0, 4.0];
        let i = [2.5, 5.0];
        assert!(close(equal_error_rate(&g, &i), 0.5));
        // threshold 2.5 flags genuine 3 and 4.
        assert!(close(zero_miss_false_alarm_rate(&g, &i), 0.5));
    }

    #[test]
    fn hand_computed_bracket() {
        // genuine 1,2,3 ; impostor 2.5, 4
        // inf: (1, 0); 4: (0.5, 0); 3: (0.5, 1/3) d=1/6; 2.5: (0, 1/3) d=-1/3
        // between (0.5, 1/3) and (0, 1/3): a = (1/6)/(1/6+1/3) = 1/3,
        // EER = 0.5 + 1/3 * (0 - 0.5) = 1/3.
        let g = [1.0, 2.0, 3.0];
        let i = [2.5, 4.0];
        assert!(close(equal_error_rate(&g, &i), 1.0 / 3.0));
        assert!(close(zero_miss_false_alarm_rate(&g, &i), 1.0 / 3.0));
    }

    #[test]
    fn hand_computed_diagonal_segment() {
        // genuine 1, 3 ; impostor 2, 4 with a tie step giving a diagonal:
        // inf: (1,0) d=1; 4: (0.5,0) d=.5; 3: (0.5,0.5) d=0 -> EER 0.5
        let g = [1.0, 3.0];
        let i = [2.0, 4.0];
        assert!(close(equal_error_rate(&g, &i), 0.5));
        // now make the bracket a diagonal caused by a tie:
        // genuine 1, 3, 3, 0 ; impostor 3, 4
        // inf (1,0) d=1; 4: (.5, 0) d=.5; 3: (0, .5) d=-.5
        // a = .5/1 = .5 -> EER = .5 + .5*(0-.5) = 0.25
        let g = [1.0, 3.0, 3.0, 0.0];
        let i = [3.0, 4.0];
        assert!(close(equal_error_rate(&g, &i), 0.25));
        // zero-miss threshold 3 flags both tied genuine samples.
        assert!(close(zero_miss_false_alarm_rate(&g, &i), 0.5));
    }

    #[test]
    fn all_tied() {
        // One threshold: inf (1,0) then everything flagged (0,1); EER 0.5.
        let g = [2.0; 3];
        let i = [2.0; 5];
        assert!(close(equal_error_rate(&g, &i), 0.5));
        assert!(close(zero_miss_false_alarm_rate(&g, &i), 1.0));
    }

    #[test]
    fn integer_scores_with_ties() {
        // Outlier-count-like integer scores.
        // genuine: 0,0,1,1,2 ; impostor: 1,2,2,3
        // inf (1,0) d=1; 3: (.75,0) d=.75; 2: (.25,.2) d=.05;
        // 1: (0,.6) d=-.6; a = .05/.65 ; EER = .25 + a*(-.25)
        let g = [0.0, 0.0, 1.0, 1.0, 2.0];
        let i = [1.0, 2.0, 2.0, 3.0];
        let a = 0.05 / 0.65;
        assert!(close(equal_error_rate(&g, &i), 0.25 - 0.25 * a));
        assert!(close(zero_miss_false_alarm_rate(&g, &i), 0.6));
    }

    #[test]
    fn curve_shape() {
        let c = roc_curve(&[1.0, 2.0, 2.0], &[2.0, 3.0]);
        let pts: Vec<(f64, f64, f64)> = c
            .iter()
            .map(|p| (p.threshold, p.miss, p.false_alarm))
            .collect();
        assert_eq!(
            pts,
            [
                (f64::INFINITY, 1.0, 0.0),
                (3.0, 0.5, 0.0),
                (2.0, 0.0, 2.0 / 3.0),
                (1.0, 0.0, 1.0)
            ]
        );
    }

    #[test]
    fn empty_inputs_are_nan() {
        assert!(equal_error_rate(&[], &[1.0]).is_nan());
        assert!(equal_error_rate(&[1.0], &[]).is_nan());
        assert!(zero_miss_false_alarm_rate(&[], &[1.0]).is_nan());
        assert!(roc_curve(&[], &[]).is_empty());
    }

    #[test]
    fn nan_scores_count_as_most_anomalous() {
        let g = [0.1, f64::NAN];
        let i = [0.5, 0.6];
        // thresholds: NaN (1, .5) d=.5; .6 (.5,.5) d=0 -> EER .5
        assert!(close(equal_error_rate(&g, &i), 0.5));
        assert!(close(zero_miss_false_alarm_rate(&g, &i), 0.5));
    }
}
