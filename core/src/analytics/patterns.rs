//! The typing patterns of `/patterns/detect`.
//!
//! | pattern | when |
//! |---|---|
//! | `fast_typist` | speed above [`FAST_TYPIST_WPM`] (80 WPM) |
//! | `slow_typist` | speed below [`SLOW_TYPIST_WPM`] (20 WPM) |
//! | `consistent_rhythm` | rhythm consistency above [`CONSISTENT_RHYTHM`] (0.85) |
//! | `inconsistent_rhythm` | rhythm consistency below [`INCONSISTENT_RHYTHM`] (0.5) |
//!
//! A pattern's **confidence** is its strength times its support. The strength is 0.5 at the
//! threshold and grows to 1 as the value moves away from it (by the threshold's own size for
//! speed, to the end of the scale for rhythm); the support is `1 − exp(−n / 10)` for `n`
//! press→press intervals, so that three presses (two intervals) give little confidence whatever
//! they show. Its **frequency** is that number of intervals, and its **features** the values it
//! was decided on.

use std::collections::BTreeMap;

use super::metrics::TypingMetrics;

/// Faster than this (WPM) is `fast_typist`.
pub const FAST_TYPIST_WPM: f64 = 80.0;
/// Slower than this (WPM) is `slow_typist`.
pub const SLOW_TYPIST_WPM: f64 = 20.0;
/// A rhythm consistency above this is `consistent_rhythm`.
pub const CONSISTENT_RHYTHM: f64 = 0.85;
/// A rhythm consistency below this is `inconsistent_rhythm`.
pub const INCONSISTENT_RHYTHM: f64 = 0.5;
/// Intervals at which the support of a pattern reaches 63 %.
pub const SUPPORT_SCALE: f64 = 10.0;

/// A detected pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// `fast_typist`, `slow_typist`, `consistent_rhythm` or `inconsistent_rhythm`.
    pub name: &'static str,
    /// Strength times support, in [0, 1].
    pub confidence: f64,
    /// Press→press intervals it rests on.
    pub frequency: u64,
    /// What it means, with the measured value.
    pub description: String,
    /// The values it was decided on.
    pub features: BTreeMap<&'static str, f64>,
}

/// How much `n` intervals support a pattern, in [0, 1).
pub fn support(intervals: u64) -> f64 {
    1.0 - (-(intervals as f64) / SUPPORT_SCALE).exp()
}

/// 0.5 at the threshold, rising linearly to 1 when `beyond` (how far past it, in units where 1
/// is "far") reaches 1.
fn strength(beyond: f64) -> f64 {
    0.5 + 0.5 * beyond.clamp(0.0, 1.0)
}

/// The patterns of some typing, speed first.
pub fn detect(m: &TypingMetrics) -> Vec<Pattern> {
    let support = support(m.intervals);
    let mut found = Vec::new();
    if let Some(wpm) = m.wpm {
        let speed_features = BTreeMap::from([
            ("avg_wpm", wpm),
            ("characters", m.characters as f64),
            ("active_seconds", m.active_ms / 1000.0),
        ]);
        if wpm > FAST_TYPIST_WPM {
            found.push(Pattern {
                name: "fast_typist",
                confidence: strength((wpm - FAST_TYPIST_WPM) / FAST_TYPIST_WPM) * support,
                frequency: m.intervals,
                description: format!("types at {wpm:.1} WPM, faster than {FAST_TYPIST_WPM} WPM"),
                features: speed_features,
            });
        } else if wpm < SLOW_TYPIST_WPM {
            found.push(Pattern {
                name: "slow_typist",
                confidence: strength((SLOW_TYPIST_WPM - wpm) / SLOW_TYPIST_WPM) * support,
                frequency: m.intervals,
                description: format!("types at {wpm:.1} WPM, slower than {SLOW_TYPIST_WPM} WPM"),
                features: speed_features,
            });
        }
    }
    if let (Some(c), Some(mean), Some(sd)) = (m.consistency, m.interval_mean_ms, m.interval_sd_ms) {
        let rhythm_features = BTreeMap::from([
            ("consistency", c),
            ("mean_interval_ms", mean),
            ("sd_interval_ms", sd),
        ]);
        if c > CONSISTENT_RHYTHM {
            found.push(Pattern {
                name: "consistent_rhythm",
                confidence: strength((c - CONSISTENT_RHYTHM) / (1.0 - CONSISTENT_RHYTHM)) * support,
                frequency: m.intervals,
                description: format!(
                    "very regular keystroke timing: consistency {c:.2} (above {CONSISTENT_RHYTHM})"
                ),
                features: rhythm_features,
            });
        } else if c < INCONSISTENT_RHYTHM {
            found.push(Pattern {
                name: "inconsistent_rhythm",
                confidence: strength((INCONSISTENT_RHYTHM - c) / INCONSISTENT_RHYTHM) * support,
                frequency: m.intervals,
                description: format!(
                    "irregular keystroke timing: consistency {c:.2} (below {INCONSISTENT_RHYTHM})"
                ),
                features: rhythm_features,
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::metrics::measure;
    use crate::event::KeyEvent;
    use crate::key::KeyCode;
    use proptest::prelude::*;
    use rstest::rstest;

    fn presses(gaps_ms: &[i64]) -> Vec<KeyEvent> {
        let mut t = 0;
        let mut events = vec![KeyEvent::press(0, KeyCode(30))];
        for gap in gaps_ms {
            t += gap * 1000;
            events.push(KeyEvent::press(t, KeyCode(30)));
        }
        events
    }

    fn names(gaps_ms: &[i64]) -> Vec<&'static str> {
        detect(&measure(&presses(gaps_ms)))
            .iter()
            .map(|p| p.name)
            .collect()
    }

    #[rstest]
    // 95 ms apart: 126 WPM, perfectly regular (the original service's example).
    #[case::fast_and_regular(&[95, 95], &["fast_typist", "consistent_rhythm"])]
    // 1 s apart: 12 WPM.
    #[case::slow_and_regular(&[1000; 20], &["slow_typist", "consistent_rhythm"])]
    // 200 ms apart (60 WPM), alternating 50 / 350 ms: consistency 1 − 164/200.
    #[case::irregular(&[50, 350, 50, 350, 50, 350], &["inconsistent_rhythm"])]
    #[case::ordinary(&[180, 220, 200, 190, 210, 150, 250], &[])]
    #[case::one_interval(&[100], &["fast_typist"])]
    #[case::nothing(&[], &[])]
    fn patterns_follow_the_thresholds(#[case] gaps: &[i64], #[case] expected: &[&str]) {
        assert_eq!(names(gaps), expected);
    }

    #[test]
    fn three_presses_give_little_confidence_and_many_give_more() {
        let few = detect(&measure(&presses(&[95, 95])));
        let many = detect(&measure(&presses(&[95; 60])));
        assert!(few[0].confidence < 0.2, "{few:?}");
        assert!(many[0].confidence > 0.7, "{many:?}");
        assert_eq!(few[0].frequency, 2);
        assert!(few[0].features["avg_wpm"] > 80.0);
        assert_eq!(few[1].features["consistency"], 1.0);
    }

    proptest! {
        #[test]
        fn confidence_is_a_probability(gaps in proptest::collection::vec(1i64..3000, 0..80)) {
            for p in detect(&measure(&presses(&gaps))) {
                prop_assert!((0.0..=1.0).contains(&p.confidence), "{p:?}");
                prop_assert!(p.features.values().all(|v| v.is_finite()));
            }
        }
    }
}
