//! The predict-user endpoint (`POST /predict_user`, and `POST /` for clients of the original
//! service): which user typed a sequence whose 8-number timing summary
//! ([`TimingSummary`]: mean and standard deviation of HT, PPT, RRT and RPT, in ms) is given.
//!
//! This module checks the request's numbers ([`features`]); the models are trained by
//! `tikker train identify` (the training sets come from `tikker-research`) and evaluated by
//! `tikker-identify`.

use crate::summary::TimingSummary;

use super::input::InputError;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
