//! `/anomalies/detect`: how a request's typing departs from its `user_id`'s baseline.
//!
//! | anomaly | flagged when | severity |
//! |---|---|---|
//! | `typing_speed_deviation` | the speed differs from the baseline's by more than [`SPEED_TOLERANCE`] (30 %) of it | `min(1, relative deviation / 0.6)` |
//! | `rhythm_deviation` | the rhythm consistency differs from the baseline's by more than [`RHYTHM_TOLERANCE`] (0.2) | `min(1, deviation / 0.4)` |
//!
//! A flagged deviation therefore has a severity above 0.5, reaching 1 at twice the tolerance.
//! A quantity the request or the baseline does not have (fewer than two presses, fewer than
//! three for rhythm) is not compared. The anomaly's timestamp is the request's last event, in
//! milliseconds.

use super::metrics::TypingMetrics;

/// A speed deviation beyond this share of the baseline's speed is an anomaly.
pub const SPEED_TOLERANCE: f64 = 0.30;
/// A rhythm consistency deviation beyond this is an anomaly.
pub const RHYTHM_TOLERANCE: f64 = 0.20;

/// What departed from the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnomalyKind {
    /// Typing speed.
    TypingSpeedDeviation,
    /// Rhythm consistency.
    RhythmDeviation,
}

impl AnomalyKind {
    /// The name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::TypingSpeedDeviation => "typing_speed_deviation",
            AnomalyKind::RhythmDeviation => "rhythm_deviation",
        }
    }
}

/// One departure from the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Anomaly {
    /// The request's last event, ms.
    pub timestamp_ms: f64,
    /// What departed.
    pub kind: AnomalyKind,
    /// In (0.5, 1]: how far beyond the tolerance.
    pub severity: f64,
    /// In words.
    pub reason: String,
    /// The baseline's value.
    pub expected_value: f64,
    /// The request's value.
    pub actual_value: f64,
}

/// The anomalies of `current` against `baseline`, speed first.
pub fn detect(baseline: &TypingMetrics, current: &TypingMetrics) -> Vec<Anomaly> {
    let timestamp_ms = current.last_us.unwrap_or_default() as f64 / 1000.0;
    let mut found = Vec::new();
    if let (Some(expected), Some(actual)) = (baseline.wpm, current.wpm)
        && expected > 0.0
    {
        let relative = (actual - expected).abs() / expected;
        if relative > SPEED_TOLERANCE {
            found.push(Anomaly {
                timestamp_ms,
                kind: AnomalyKind::TypingSpeedDeviation,
                severity: (relative / (2.0 * SPEED_TOLERANCE)).min(1.0),
                reason: format!(
                    "typing speed {actual:.1} WPM is {:.0} % {} the baseline's {expected:.1} WPM \
                     (tolerance {:.0} %)",
                    relative * 100.0,
                    if actual > expected { "above" } else { "below" },
                    SPEED_TOLERANCE * 100.0
                ),
                expected_value: expected,
                actual_value: actual,
            });
        }
    }
    if let (Some(expected), Some(actual)) = (baseline.consistency, current.consistency) {
        let deviation = (actual - expected).abs();
        if deviation > RHYTHM_TOLERANCE {
            found.push(Anomaly {
                timestamp_ms,
                kind: AnomalyKind::RhythmDeviation,
                severity: (deviation / (2.0 * RHYTHM_TOLERANCE)).min(1.0),
                reason: format!(
                    "rhythm consistency {actual:.2} is {} than the baseline's {expected:.2} \
                     (tolerance {RHYTHM_TOLERANCE})",
                    if actual > expected {
                        "more regular"
                    } else {
                        "less regular"
                    }
                ),
                expected_value: expected,
                actual_value: actual,
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn metrics(wpm: Option<f64>, consistency: Option<f64>) -> TypingMetrics {
        TypingMetrics {
            wpm,
            consistency,
            last_us: Some(5_000_000),
            ..TypingMetrics::default()
        }
    }

    #[rstest]
    #[case::same(metrics(Some(60.0), Some(0.8)), &[])]
    #[case::within_tolerance(metrics(Some(75.0), Some(0.65)), &[])]
    #[case::faster(metrics(Some(90.0), Some(0.8)), &["typing_speed_deviation"])]
    #[case::irregular(metrics(Some(60.0), Some(0.3)), &["rhythm_deviation"])]
    #[case::both(metrics(Some(20.0), Some(0.2)), &["typing_speed_deviation", "rhythm_deviation"])]
    #[case::nothing_to_compare(metrics(None, None), &[])]
    fn deviations_beyond_the_tolerance_are_anomalies(
        #[case] current: TypingMetrics,
        #[case] expected: &[&str],
    ) {
        let baseline = metrics(Some(60.0), Some(0.8));
        let found = detect(&baseline, &current);
        let kinds: Vec<&str> = found.iter().map(|a| a.kind.as_str()).collect();
        assert_eq!(kinds, expected);
        for anomaly in &found {
            assert!(
                anomaly.severity > 0.5 && anomaly.severity <= 1.0,
                "{anomaly:?}"
            );
            assert_eq!(anomaly.timestamp_ms, 5000.0);
        }
    }

    #[test]
    fn the_reason_gives_both_values() {
        let found = detect(&metrics(Some(60.0), None), &metrics(Some(30.0), None));
        assert_eq!(found[0].severity, 0.5 / 0.6);
        assert_eq!(
            (found[0].expected_value, found[0].actual_value),
            (60.0, 30.0)
        );
        assert!(
            found[0].reason.contains("50 % below"),
            "{}",
            found[0].reason
        );
    }
}
