//! Drift: how far the owner's typing and scores have moved since enrolment.
//!
//! Two things are tracked, both from the owner's own data only:
//! - **The score distribution of the owner's windows.** [`ScoreDrift`] keeps the enrolment
//!   calibration as an anchor and an exponentially weighted mean of the distances of windows
//!   judged the owner's (and not contradicted by the windows around them). The location the
//!   monitor calibrates against is the anchor's median and that mean, each weighted by how much
//!   distinct typing it rests on: `m = (n₀·median₀ + n·mean) / (n₀ + n)`, with `n₀` the
//!   enrolment keystrokes and `n` the keystrokes of the tracked windows (each window adds
//!   `step` new keystrokes, since windows overlap), `n` capped at [`DRIFT_MEMORY_KEYSTROKES`]
//!   so that the enrolment never counts for less than `n₀ / (n₀ + cap)`. The spread stays the
//!   enrolment's: only the location adapts (the windows that adapt it are selected by their
//!   score, which would bias a tracked spread downwards).
//! - **The profile.** [`ProfileSnapshot`] records the enrolment profile's level of hold time and
//!   press→press (PPT) latency and each key's mean log hold time; [`Drift::measure`] compares
//!   the current profile with it.

use serde::{Deserialize, Serialize};

use crate::profile::Profile;
use crate::verify::calibration::Calibration;

/// The most keystrokes of owner-judged windows the tracked location rests on (the memory of
/// the exponentially weighted mean): 20,000, under a day of typing for most people.
pub const DRIFT_MEMORY_KEYSTROKES: f64 = 20_000.0;

/// The owner's window-distance location, adapted from owner-judged windows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreDrift {
    /// The calibration fitted at enrolment.
    pub enrolment: Calibration,
    /// Keystrokes the enrolment rests on (`n₀`).
    pub enrolment_keystrokes: f64,
    /// New keystrokes of the tracked owner windows (`n`, capped at the memory).
    pub tracked_keystrokes: f64,
    /// Owner windows tracked in all.
    pub windows: u64,
    /// Exponentially weighted mean distance of the tracked windows.
    pub mean: f64,
}

impl ScoreDrift {
    /// Starts tracking from an enrolment calibration fitted on `enrolment_keystrokes`.
    pub fn new(enrolment: Calibration, enrolment_keystrokes: usize) -> ScoreDrift {
        ScoreDrift {
            enrolment,
            enrolment_keystrokes: enrolment_keystrokes.max(1) as f64,
            tracked_keystrokes: 0.0,
            windows: 0,
            mean: enrolment.median,
        }
    }

    /// Adds the distance of an owner-judged window that brought `new_keystrokes` keystrokes.
    pub fn track(&mut self, distance: f64, new_keystrokes: usize) {
        if !distance.is_finite() {
            return;
        }
        let added = new_keystrokes.max(1) as f64;
        let n = (self.tracked_keystrokes + added).min(DRIFT_MEMORY_KEYSTROKES);
        self.mean += (distance - self.mean) * added / n;
        self.tracked_keystrokes = n;
        self.windows += 1;
    }

    /// The adapted location `m` (see the module documentation).
    pub fn location(&self) -> f64 {
        let (n0, n) = (self.enrolment_keystrokes, self.tracked_keystrokes);
        (n0 * self.enrolment.median + n * self.mean) / (n0 + n)
    }

    /// The enrolment calibration moved to the adapted location (median and 99th percentile
    /// shift together; the spread is the enrolment's).
    pub fn calibration(&self) -> Calibration {
        let shift = self.location() - self.enrolment.median;
        Calibration {
            median: self.enrolment.median + shift,
            tail: self.enrolment.tail + shift,
            spread: self.enrolment.spread,
        }
    }

    /// How far the location moved, in units of the owner's spread (positive: the owner's
    /// windows now lie further from the profile than at enrolment).
    pub fn shift(&self) -> f64 {
        (self.location() - self.enrolment.median) / self.enrolment.spread()
    }
}

/// What the enrolment profile looked like, for measuring profile drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ProfileSnapshot {
    /// Mean log hold time (ln ms).
    pub hold: f64,
    /// Mean log press→press latency (ln ms).
    pub ppt: f64,
    /// Per key: `(key code, mean log hold time, keystrokes)`.
    pub keys: Vec<(u16, f64, u64)>,
}

impl ProfileSnapshot {
    /// The snapshot of a profile.
    pub fn of(profile: &Profile) -> ProfileSnapshot {
        let mut keys: Vec<(u16, f64, u64)> = profile
            .keys
            .iter()
            .filter(|(_, w)| w.n > 0)
            .map(|(k, w)| (*k, w.mean, w.n))
            .collect();
        keys.sort_unstable_by_key(|k| k.0);
        ProfileSnapshot {
            hold: profile.hold.mean,
            ppt: profile.ppt.mean,
            keys,
        }
    }
}

/// Keys with fewer keystrokes than this (in the enrolment or now) are left out of the per-key
/// hold shift.
const MIN_KEY_SAMPLES: u64 = 5;

/// How far the owner has drifted since enrolment (for `tikker profile show` and the dashboard).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Drift {
    /// Relative change of the typical hold time, `exp(Δ mean ln HT) − 1` (0.05 = 5 % longer).
    pub hold_change: f64,
    /// Relative change of the typical press→press latency, `exp(Δ mean ln PPT) − 1`.
    pub ppt_change: f64,
    /// Root mean square of the per-key shift of mean log hold time in units of the key's
    /// within-key standard deviation, over keys with at least 5 keystrokes in both profiles,
    /// weighted by the smaller count (0 = no key moved; about 1 = a typical keystroke's own
    /// variability).
    pub key_hold_shift: f64,
    /// Keys compared for [`Drift::key_hold_shift`].
    pub keys_compared: usize,
    /// The owner's median window distance at enrolment.
    pub enrolment_median: f64,
    /// The adapted location of the owner's window distances.
    pub current_location: f64,
    /// Their shift in owner spreads ([`ScoreDrift::shift`]).
    pub score_shift: f64,
    /// Owner windows the adaptation rests on.
    pub owner_windows: u64,
}

impl Drift {
    /// Compares the current profile with the enrolment snapshot, and reads the score drift.
    pub fn measure(now: &Profile, enrolment: &ProfileSnapshot, scores: &ScoreDrift) -> Drift {
        let mut sum = 0.0;
        let mut weight = 0.0;
        let mut compared = 0;
        for &(key, mean, n) in &enrolment.keys {
            let Some(current) = now.keys.get(&key) else {
                continue;
            };
            let count = n.min(current.n);
            let Some(var) = current.var() else {
                continue;
            };
            if count < MIN_KEY_SAMPLES || var <= 0.0 {
                continue;
            }
            let z = (current.mean - mean) / var.sqrt();
            sum += count as f64 * z * z;
            weight += count as f64;
            compared += 1;
        }
        Drift {
            hold_change: (now.hold.mean - enrolment.hold).exp() - 1.0,
            ppt_change: (now.ppt.mean - enrolment.ppt).exp() - 1.0,
            key_hold_shift: if weight > 0.0 {
                (sum / weight).sqrt()
            } else {
                0.0
            },
            keys_compared: compared,
            enrolment_median: scores.enrolment.median,
            current_location: scores.location(),
            score_shift: scores.shift(),
            owner_windows: scores.windows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calibration() -> Calibration {
        Calibration {
            median: 1.0,
            tail: 3.0,
            spread: 0.5,
        }
    }

    #[test]
    fn the_location_starts_at_the_enrolment_median_and_follows_owner_windows() {
        let mut drift = ScoreDrift::new(calibration(), 500);
        assert_eq!(drift.location(), 1.0);
        assert_eq!(drift.shift(), 0.0);
        // A hand-made stream: the owner's windows now sit at 0.0 (closer than at enrolment).
        for _ in 0..20 {
            drift.track(0.0, 25);
        }
        // n = 500 new keystrokes against n0 = 500: halfway.
        assert!(
            (drift.location() - 0.5).abs() < 1e-9,
            "{}",
            drift.location()
        );
        assert!((drift.shift() + 1.0).abs() < 1e-9);
        let c = drift.calibration();
        assert!((c.median - 0.5).abs() < 1e-9 && (c.tail - 2.5).abs() < 1e-9);
        assert_eq!(c.spread, 0.5);
        // Much more typing: the enrolment keeps n0 / (n0 + memory) of the weight.
        for _ in 0..10_000 {
            drift.track(0.0, 25);
        }
        let floor = 500.0 / (500.0 + DRIFT_MEMORY_KEYSTROKES);
        assert!(
            (drift.location() - floor).abs() < 1e-6,
            "{}",
            drift.location()
        );
        drift.track(f64::NAN, 25);
        assert_eq!(drift.windows, 10_020);
    }

    #[test]
    fn profile_drift_is_zero_for_the_same_profile_and_grows_with_slower_holds() {
        use crate::key::KeyCode;
        use crate::keystroke::Keystroke;
        let typing = |hold_ms: i64| -> Vec<Keystroke> {
            (0..400)
                .map(|i| {
                    let t = i * 200_000;
                    let jitter = (i * 7919 % 23) * 1000;
                    Keystroke {
                        key: KeyCode(30 + (i % 6) as u16),
                        press_us: t,
                        release_us: t + hold_ms * 1000 + jitter,
                    }
                })
                .collect()
        };
        let enrolled = Profile::from_windows([typing(90).as_slice()]);
        let snapshot = ProfileSnapshot::of(&enrolled);
        let scores = ScoreDrift::new(calibration(), 400);
        let same = Drift::measure(&enrolled, &snapshot, &scores);
        assert!(same.hold_change.abs() < 1e-12 && same.key_hold_shift < 1e-12);
        assert_eq!(same.keys_compared, 6);
        let slower = Profile::from_windows([typing(120).as_slice()]);
        let moved = Drift::measure(&slower, &snapshot, &scores);
        assert!(moved.hold_change > 0.2, "{moved:?}");
        assert!(moved.key_hold_shift > 1.0, "{moved:?}");
        assert!(moved.ppt_change.abs() < 1e-9);
    }
}
