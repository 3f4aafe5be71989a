//! `/authenticity/check`: the free-text verifier's score of a request's typing against the
//! baseline of its `user_id`.
//!
//! The score is the engine's own ([`crate::verify::freetext`]): the request's complete
//! keystrokes are cut into windows of the baseline's calibration size, each window is scored
//! against the baseline's [`Profile`](crate::profile::Profile) by the [`Verifier`], and the mean distance becomes a score
//! in [0, 1] through the baseline's [`Calibration`](crate::verify::calibration::Calibration); the verdict follows
//! ([`Verdict::from_score`]) and the reason names every distance component with its weighted
//! value. Speed and rhythm alone decide nothing here.
//!
//! **Calibration**: see [`super::baseline::calibrate`]; a baseline without one answers `unknown`.

use super::baseline::{Baseline, BaselineCalibration, MIN_WINDOW_KEYSTROKES};
use crate::event::KeyEvent;
use crate::keystroke::keystrokes;
use crate::verify::calibration::{Verdict, confidence};
use crate::verify::freetext::{COMPONENT_NAMES, N_COMPONENTS, Params, Verifier};

/// Shared keys and digraphs at which a check's confidence reaches 63 %.
pub const CONFIDENCE_SCALE: f64 = 100.0;

/// The answer of `/authenticity/check`.
#[derive(Debug, Clone, PartialEq)]
pub struct Authenticity {
    /// Calibrated score in [0, 1], 1 = certainly the baseline's typist; 0 when `unknown`.
    pub score: f64,
    /// How much the request shared with the baseline, in [0, 1).
    pub confidence: f64,
    /// The verdict of the score.
    pub verdict: Verdict,
    /// Why, in words, with every distance component.
    pub reason: String,
}

impl Authenticity {
    /// An `unknown` answer.
    pub fn unknown(reason: impl Into<String>) -> Authenticity {
        Authenticity {
            score: 0.0,
            confidence: 0.0,
            verdict: Verdict::Unknown,
            reason: reason.into(),
        }
    }
}

/// A baseline compiled for checks: its verifier and calibration.
#[derive(Debug, Clone)]
pub struct Checker {
    verifier: Verifier,
    calibration: Option<BaselineCalibration>,
    baseline_keystrokes: u64,
    params: Params,
}

impl Checker {
    /// Compiles a baseline.
    pub fn new(baseline: &Baseline) -> Checker {
        let params = Params::default();
        Checker {
            verifier: Verifier::new(&baseline.profile, &params),
            calibration: baseline.calibration,
            baseline_keystrokes: baseline.keystrokes,
            params,
        }
    }

    /// Scores `events` (sorted by time) against the baseline of `user_id`.
    pub fn check(&self, user_id: &str, events: &[KeyEvent]) -> Authenticity {
        let Some(calibration) = self.calibration else {
            return Authenticity::unknown(format!(
                "the baseline of {user_id:?} rests on {} complete keystrokes: at least {} are needed \
                 to calibrate scores; build it again (POST /profile/build) from more typing",
                self.baseline_keystrokes,
                3 * MIN_WINDOW_KEYSTROKES
            ));
        };
        let keys = keystrokes(events);
        let window = calibration.window_keystrokes;
        let need = (window / 2).max(MIN_WINDOW_KEYSTROKES / 2);
        if keys.len() < need {
            return Authenticity::unknown(format!(
                "the request has {} complete keystrokes (a press and the release of the same key): \
                 at least {need} are needed to compare with the baseline of {user_id:?}",
                keys.len()
            ));
        }
        let chunks = ((keys.len() as f64 / window as f64).round() as usize).max(1);
        let mut distance = 0.0;
        let mut components = [0.0; N_COMPONENTS];
        let (mut holds, mut matched_keys, mut digraphs, mut matched_digraphs) = (0, 0, 0, 0);
        for i in 0..chunks {
            let chunk = &keys[i * keys.len() / chunks..(i + 1) * keys.len() / chunks];
            let score = self.verifier.score(chunk);
            distance += score.distance / chunks as f64;
            for (sum, value) in components.iter_mut().zip(score.components) {
                *sum += value / chunks as f64;
            }
            holds += score.holds;
            matched_keys += score.matched_keys;
            digraphs += score.digraphs;
            matched_digraphs += score.matched_digraphs;
        }
        let score = calibration.calibration.score(distance);
        let mut weighted: Vec<(&str, f64)> = COMPONENT_NAMES
            .iter()
            .zip(components.iter().zip(self.params.w.iter()))
            .map(|(name, (value, weight))| (*name, value * weight))
            .collect();
        weighted.sort_by(|a, b| b.1.total_cmp(&a.1));
        let listed: Vec<String> = weighted
            .iter()
            .map(|(name, value)| format!("{name} {value:.2}"))
            .collect();
        Authenticity {
            score,
            confidence: confidence((matched_keys + matched_digraphs) as usize, CONFIDENCE_SCALE),
            verdict: Verdict::from_score(Some(score)),
            reason: format!(
                "free-text verifier distance {distance:.2} over {chunks} window(s) of about {window} \
                 keystrokes, against {user_id:?}'s own median {:.2} and 99th percentile {:.2}; \
                 weighted components: {}; {matched_keys} of {holds} keys and {matched_digraphs} of \
                 {digraphs} digraphs known to the baseline",
                calibration.calibration.median,
                calibration.calibration.tail,
                listed.join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::baseline::{MAX_WINDOW_KEYSTROKES, calibrate};
    use crate::key::KeyCode;

    /// Synthetic typing of one "person": a hold time and a rhythm of their own, jittered.
    pub(crate) fn typing(n: usize, hold_ms: i64, gap_ms: i64, seed: u64) -> Vec<KeyEvent> {
        let keys: Vec<KeyCode> = "etaoinshrdlu"
            .chars()
            .filter_map(KeyCode::from_char)
            .collect();
        let mut state = seed;
        let mut t = 1_000_000;
        let mut events = Vec::new();
        for i in 0..n {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let jitter = ((state >> 33) % 21) as i64 - 10;
            let key = keys[(i * 7 + (state >> 40) as usize) % keys.len()];
            events.push(KeyEvent::press(t, key));
            events.push(KeyEvent::release(t + (hold_ms + jitter) * 1000, key));
            t += (gap_ms + 2 * jitter) * 1000;
        }
        crate::event::sort_events(&mut events);
        events
    }

    #[test]
    fn the_same_typist_is_authentic_and_another_is_suspicious() {
        let baseline = Baseline::build(&typing(500, 90, 180, 1), 0);
        let calibration = baseline.calibration.unwrap();
        assert_eq!(calibration.window_keystrokes, MAX_WINDOW_KEYSTROKES);
        let checker = Checker::new(&baseline);
        let same = checker.check("alice", &typing(200, 90, 180, 2));
        assert!(same.verdict.is_owner(), "{same:?}");
        assert!(same.confidence > 0.9, "{same:?}");
        let other = checker.check("alice", &typing(200, 150, 320, 3));
        assert_eq!(other.verdict, Verdict::Suspicious, "{other:?}");
        for name in COMPONENT_NAMES {
            assert!(other.reason.contains(name), "{}", other.reason);
        }
    }

    #[test]
    fn too_little_typing_is_unknown() {
        let small = Baseline::build(&typing(20, 90, 180, 1), 0);
        assert!(small.calibration.is_none());
        let answer = Checker::new(&small).check("alice", &typing(200, 90, 180, 2));
        assert_eq!((answer.verdict, answer.score), (Verdict::Unknown, 0.0));
        assert!(answer.reason.contains("at least 30"), "{}", answer.reason);

        let baseline = Baseline::build(&typing(300, 90, 180, 1), 0);
        let presses_only: Vec<KeyEvent> = typing(100, 90, 180, 2)
            .into_iter()
            .filter(|e| e.action == crate::KeyAction::Press)
            .collect();
        let answer = Checker::new(&baseline).check("alice", &presses_only);
        assert_eq!(answer.verdict, Verdict::Unknown);
        assert!(
            answer.reason.contains("complete keystrokes"),
            "{}",
            answer.reason
        );
    }

    #[test]
    fn calibration_windows_are_a_third_of_a_small_baseline() {
        let keys = keystrokes(&typing(60, 90, 180, 1));
        let calibration = calibrate(&keys, &Params::default()).unwrap();
        assert_eq!(calibration.window_keystrokes, 20);
        assert!(calibration.calibration.tail > calibration.calibration.median);
        assert!(calibrate(&keys[..29], &Params::default()).is_none());
    }
}
