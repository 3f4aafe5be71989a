//! What the daemon counts while it records: events captured, committed and dropped.
//!
//! Counters are atomics shared by the sources, the writer and the control channel; they count
//! events, never say which keys.

use std::sync::atomic::{AtomicU64, Ordering};

use tikker_wire::status::CountersSnapshot;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_sums_its_causes() {
        let counters = Counters::default();
        counters.add_dropped_queue_full();
        counters.add_dropped_by_kernel(3);
        counters.add_lost_to_store_errors(2);
        assert_eq!(counters.snapshot().dropped, 6);
    }
}
