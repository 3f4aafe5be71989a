//! How long an event waits between its capture and the commit that makes it durable (the event
//! counts themselves are `tikker_capture::counters`).

use std::time::Duration;

use tikker_wire::status::LatencySummary;

/// Capture-to-commit latencies in 1 ms buckets up to 10 s (longer ones share the last bucket;
/// the maximum is kept exactly). 80 KB, no allocation per sample.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    buckets: Vec<u64>,
    samples: u64,
    max: Duration,
}

/// Buckets of one millisecond, the last one open-ended.
const LATENCY_BUCKETS: usize = 10_001;

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            buckets: vec![0; LATENCY_BUCKETS],
            samples: 0,
            max: Duration::ZERO,
        }
    }
}

impl LatencyHistogram {
    /// Adds one measurement.
    pub fn record(&mut self, latency: Duration) {
        let bucket = usize::try_from(latency.as_millis())
            .unwrap_or(usize::MAX)
            .min(LATENCY_BUCKETS - 1);
        self.buckets[bucket] += 1;
        self.samples += 1;
        self.max = self.max.max(latency);
    }

    /// The smallest latency (bucket's upper edge) at or below which `quantile` of samples lie.
    fn quantile_ms(&self, quantile: f64) -> f64 {
        if self.samples == 0 {
            return 0.0;
        }
        let rank = ((self.samples as f64) * quantile).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (ms, count) in self.buckets.iter().enumerate() {
            seen += count;
            if seen >= rank {
                // A sample in bucket `ms` lies in [ms, ms + 1): report the upper edge, but never
                // more than the true maximum.
                return ((ms + 1) as f64).min(self.max.as_secs_f64() * 1e3);
            }
        }
        self.max.as_secs_f64() * 1e3
    }

    /// Median, 99th percentile and maximum.
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            samples: self.samples,
            p50_ms: self.quantile_ms(0.50),
            p99_ms: self.quantile_ms(0.99),
            max_ms: self.max.as_secs_f64() * 1e3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_millisecond_buckets() {
        let mut histogram = LatencyHistogram::default();
        for ms in 1..=100 {
            histogram.record(Duration::from_micros(ms * 1000 - 500));
        }
        let summary = histogram.summary();
        assert_eq!(summary.samples, 100);
        assert_eq!(summary.p50_ms, 50.0);
        assert_eq!(summary.p99_ms, 99.0);
        assert!((summary.max_ms - 99.5).abs() < 1e-9);
        histogram.record(Duration::from_secs(60));
        assert_eq!(histogram.summary().max_ms, 60_000.0);
        assert_eq!(LatencyHistogram::default().summary().p99_ms, 0.0);
    }
}
