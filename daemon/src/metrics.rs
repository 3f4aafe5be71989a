//! What the daemon counts while it records: events captured, committed and dropped, and how
//! long an event waits between its capture and the commit that makes it durable.
//!
//! Counters are atomics shared by the sources, the writer and the control channel; they count
//! events, never say which keys.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Event counts since the daemon started.
#[derive(Debug, Default)]
pub struct Counters {
    /// Events a source handed to the writer's queue.
    captured: AtomicU64,
    /// Events committed to the database.
    recorded: AtomicU64,
    /// Events dropped because the writer's queue was full.
    dropped_queue_full: AtomicU64,
    /// Events the kernel dropped (evdev `SYN_DROPPED`) and that were discarded with their packet.
    dropped_by_kernel: AtomicU64,
    /// Events lost because the database refused them (see the log).
    lost_to_store_errors: AtomicU64,
    /// Sessions opened in the database.
    sessions: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountersSnapshot {
    /// Events a source handed to the writer's queue.
    pub captured: u64,
    /// Events committed to the database.
    pub recorded: u64,
    /// Events dropped for any reason (queue full, kernel overflow, database errors).
    pub dropped: u64,
    /// Of `dropped`: because the writer's queue was full.
    pub dropped_queue_full: u64,
    /// Of `dropped`: discarded after the kernel reported lost events.
    pub dropped_by_kernel: u64,
    /// Of `dropped`: refused by the database.
    pub lost_to_store_errors: u64,
    /// Sessions opened.
    pub sessions: u64,
}

impl Counters {
    /// One event entered the writer's queue.
    pub fn add_captured(&self) {
        self.captured.fetch_add(1, Ordering::Relaxed);
    }

    /// `n` events were committed.
    pub fn add_recorded(&self, n: u64) {
        self.recorded.fetch_add(n, Ordering::Relaxed);
    }

    /// One event was dropped because the queue was full; returns the new total of such drops.
    pub fn add_dropped_queue_full(&self) -> u64 {
        self.dropped_queue_full.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// `n` events were discarded after a kernel overflow.
    pub fn add_dropped_by_kernel(&self, n: u64) {
        self.dropped_by_kernel.fetch_add(n, Ordering::Relaxed);
    }

    /// `n` events could not be committed and were given up.
    pub fn add_lost_to_store_errors(&self, n: u64) {
        self.lost_to_store_errors.fetch_add(n, Ordering::Relaxed);
    }

    /// A session was opened.
    pub fn add_session(&self) {
        self.sessions.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts now.
    pub fn snapshot(&self) -> CountersSnapshot {
        let dropped_queue_full = self.dropped_queue_full.load(Ordering::Relaxed);
        let dropped_by_kernel = self.dropped_by_kernel.load(Ordering::Relaxed);
        let lost_to_store_errors = self.lost_to_store_errors.load(Ordering::Relaxed);
        CountersSnapshot {
            captured: self.captured.load(Ordering::Relaxed),
            recorded: self.recorded.load(Ordering::Relaxed),
            dropped: dropped_queue_full + dropped_by_kernel + lost_to_store_errors,
            dropped_queue_full,
            dropped_by_kernel,
            lost_to_store_errors,
            sessions: self.sessions.load(Ordering::Relaxed),
        }
    }
}

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

/// Percentiles of capture-to-commit latency, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// How many events were measured.
    pub samples: u64,
    /// Median (upper edge of its 1 ms bucket).
    pub p50_ms: f64,
    /// 99th percentile (upper edge of its 1 ms bucket).
    pub p99_ms: f64,
    /// The longest.
    pub max_ms: f64,
}

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

    #[test]
    fn dropped_sums_its_causes() {
        let counters = Counters::default();
        counters.add_dropped_queue_full();
        counters.add_dropped_by_kernel(3);
        counters.add_lost_to_store_errors(2);
        assert_eq!(counters.snapshot().dropped, 6);
    }
}
