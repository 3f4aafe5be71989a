//! The per-`user_id` baselines of the HTTP API (`/profile/build`, and the first
//! `/anomalies/detect` of a `user_id`).
//!
//! A [`Baseline`] keeps what the anomaly and authenticity checks compare with: the speed and
//! rhythm of the typing it was built from ([`super::metrics`]), the [`Profile`] of its complete
//! keystrokes, and that profile's score calibration ([`calibrate`]). It
//! keeps no text: the common words of `/profile/build` are computed for the answer only. It is
//! stored as JSON in the `api_baselines` table (the store's `StoredBaseline`), apart from
//! the owner's profiles, which no API caller can read or change.
//!
//! **Calibration** ([`calibrate`]) uses only the baseline's own typing, as
//! [`OwnerModel::enrol`](crate::monitor::OwnerModel::enrol) does: [`CALIBRATION_WINDOWS`]
//! windows spread over the keystrokes the baseline was built from are each scored against a
//! profile of the *other* keystrokes, and those distances anchor the score curve (median →
//! 0.95, 99th percentile → 0.40). A window is a third of the baseline's keystrokes, at most
//! [`MAX_WINDOW_KEYSTROKES`] and at least [`MIN_WINDOW_KEYSTROKES`]: a baseline of fewer than
//! 30 complete keystrokes has no calibration, and its checks are `unknown`. The profile of the
//! other keystrokes is a profile of what comes before the window merged with one of what comes
//! after it, both built in one pass each, so calibrating costs about three profile builds.

use serde::{Deserialize, Serialize};

use super::metrics::{TypingMetrics, measure};
use crate::event::KeyEvent;
use crate::keystroke::Keystroke;
use crate::keystroke::keystrokes;
use crate::profile::Profile;
use crate::verify::calibration::Calibration;
use crate::verify::freetext::Params;
use crate::verify::freetext::Verifier;

/// The version of the stored form.
pub const BASELINE_FORMAT: u32 = 1;

/// The largest window of a calibration (and of a check), in keystrokes.
pub const MAX_WINDOW_KEYSTROKES: usize = 50;
/// The smallest window of a calibration, in keystrokes.
pub const MIN_WINDOW_KEYSTROKES: usize = 10;
/// Windows scored to calibrate a baseline.
pub const CALIBRATION_WINDOWS: usize = 12;
/// A baseline's score calibration and the window size it holds for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BaselineCalibration {
    /// Distances → scores.
    pub calibration: Calibration,
    /// Keystrokes per scored window.
    pub window_keystrokes: usize,
}

/// Calibrates the scores of a baseline built from `keys` (in press order); `None` if there are
/// too few keystrokes (see the module documentation).
pub fn calibrate(keys: &[Keystroke], params: &Params) -> Option<BaselineCalibration> {
    let n = keys.len();
    let window = (n / 3).min(MAX_WINDOW_KEYSTROKES);
    if window < MIN_WINDOW_KEYSTROKES {
        return None;
    }
    let last_start = n - window;
    let starts: Vec<usize> = (0..CALIBRATION_WINDOWS)
        .map(|i| i * last_start / (CALIBRATION_WINDOWS - 1))
        .collect();
    // What comes before each window...
    let mut before = Vec::with_capacity(starts.len());
    let mut running = Profile::new();
    let mut done = 0;
    for &start in &starts {
        if start > done {
            running.update(&keys[done..start]);
            done = start;
        }
        before.push(running.clone());
    }
    // ... merged with what comes after it.
    let mut running = Profile::new();
    let mut from = n;
    let mut distances = vec![0.0; starts.len()];
    for (i, rest) in before.iter_mut().enumerate().rev() {
        let end = starts[i] + window;
        if end < from {
            running.update(&keys[end..from]);
            from = end;
        }
        rest.merge(&running);
        distances[i] = Verifier::new(rest, params)
            .score(&keys[starts[i]..end])
            .distance;
    }
    Calibration::from_owner_distances(&distances).map(|calibration| BaselineCalibration {
        calibration,
        window_keystrokes: window,
    })
}

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
