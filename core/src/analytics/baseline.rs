//! The per-`user_id` baselines of the HTTP API (`/profile/build`, and the first
//! `/anomalies/detect` of a `user_id`).
//!
//! A [`Baseline`] keeps what the anomaly and authenticity checks compare with: the speed and
//! rhythm of the typing it was built from ([`super::metrics`]), the [`Profile`] of its complete
//! keystrokes, and that profile's score calibration ([`super::authenticity::calibrate`]). It
//! keeps no text: the common words of `/profile/build` are computed for the answer only. It is
//! stored as JSON in the `api_baselines` table (see [`crate::store::StoredBaseline`]), apart from
//! the owner's profiles, which no API caller can read or change.

use serde::{Deserialize, Serialize};

use super::authenticity::{BaselineCalibration, calibrate};
use super::metrics::{TypingMetrics, measure};
use crate::event::KeyEvent;
use crate::keystroke::keystrokes;
use crate::profile::Profile;
use crate::verify::freetext::Params;

/// The version of the stored form.
pub const BASELINE_FORMAT: u32 = 1;

/// What a `user_id`'s typing was like when its baseline was built.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Baseline {
    /// The version of this form ([`BASELINE_FORMAT`]).
    pub format: u32,
    /// When it was built (µs since the Unix epoch).
    pub created_us: i64,
    /// Events it was built from.
    pub events: u64,
    /// Key presses among them.
    pub presses: u64,
    /// Press→press intervals (pauses excluded).
    pub intervals: u64,
    /// Speed, WPM.
    pub wpm: Option<f64>,
    /// Rhythm consistency in [0, 1].
    pub consistency: Option<f64>,
    /// Mean press→press interval, ms.
    pub interval_mean_ms: Option<f64>,
    /// Standard deviation of the press→press intervals, ms.
    pub interval_sd_ms: Option<f64>,
    /// Complete keystrokes (press and release) in the profile.
    pub keystrokes: u64,
    /// The profile of those keystrokes, for the verifier.
    pub profile: Profile,
    /// The calibration of its scores, if there was enough typing.
    pub calibration: Option<BaselineCalibration>,
}

/// A stored baseline that cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The JSON does not decode.
    #[error("the stored baseline does not decode: {0}")]
    Decode(#[from] serde_json::Error),
    /// A newer tikker wrote it.
    #[error("the stored baseline has format {0}, newer than this tikker's {BASELINE_FORMAT}")]
    NewerFormat(u32),
}

impl Baseline {
    /// Builds the baseline of `events` (sorted by time).
    pub fn build(events: &[KeyEvent], created_us: i64) -> Baseline {
        let metrics = measure(events);
        let keys = keystrokes(events);
        let calibration = calibrate(&keys, &Params::default());
        Baseline {
            format: BASELINE_FORMAT,
            created_us,
            events: metrics.events,
            presses: metrics.presses,
            intervals: metrics.intervals,
            wpm: metrics.wpm,
            consistency: metrics.consistency,
            interval_mean_ms: metrics.interval_mean_ms,
            interval_sd_ms: metrics.interval_sd_ms,
            keystrokes: keys.len() as u64,
            profile: Profile::from_windows([keys.as_slice()]),
            calibration,
        }
    }

    /// The speed and rhythm it was built with, as [`TypingMetrics`] (the counts and times it
    /// does not keep are 0 or absent).
    pub fn metrics(&self) -> TypingMetrics {
        TypingMetrics {
            events: self.events,
            presses: self.presses,
            intervals: self.intervals,
            wpm: self.wpm,
            consistency: self.consistency,
            interval_mean_ms: self.interval_mean_ms,
            interval_sd_ms: self.interval_sd_ms,
            ..TypingMetrics::default()
        }
    }

    /// The stored form.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// Reads the stored form back.
    pub fn from_json(json: &str) -> Result<Baseline, BaselineError> {
        let mut baseline: Baseline = serde_json::from_str(json)?;
        if baseline.format > BASELINE_FORMAT {
            return Err(BaselineError::NewerFormat(baseline.format));
        }
        baseline.profile.refresh();
        Ok(baseline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::authenticity::Checker;
    use crate::key::KeyCode;

    #[test]
    fn a_baseline_reads_back_and_scores_alike() {
        let mut events = Vec::new();
        for i in 0..400i64 {
            let key = KeyCode(16 + (i % 10) as u16);
            events.push(KeyEvent::press(i * 150_000, key));
            events.push(KeyEvent::release(
                i * 150_000 + 80_000 + (i % 7) * 3_000,
                key,
            ));
        }
        let baseline = Baseline::build(&events, 42);
        assert_eq!(baseline.keystrokes, 400);
        assert!(baseline.calibration.is_some());
        let read = Baseline::from_json(&baseline.to_json().unwrap()).unwrap();
        assert_eq!(read.created_us, 42);
        let check = &events[200..400];
        assert_eq!(
            Checker::new(&baseline).check("u", check),
            Checker::new(&read).check("u", check)
        );
    }

    #[test]
    fn a_newer_or_broken_baseline_is_refused() {
        let baseline = Baseline::build(&[], 1);
        assert_eq!(baseline.wpm, None);
        let newer = baseline
            .to_json()
            .unwrap()
            .replace("\"format\":1", "\"format\":9");
        assert!(matches!(
            Baseline::from_json(&newer),
            Err(BaselineError::NewerFormat(9))
        ));
        assert!(Baseline::from_json("{").is_err());
    }
}
