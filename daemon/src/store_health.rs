//! Whether the daemon's writes to `tikker.db` succeed, for the status and the log.
//!
//! The recorder (key events) and the authentication monitor (scores, alerts, profiles) each keep
//! what they could not write and try again; they tell this ledger when a write fails and when
//! one succeeds again. While any fails, `tikker status` says "not recording" and why (disk full,
//! locked, read-only, damaged), the systemd status line says so too, and the log has one error
//! when writes start failing and one line when they succeed again: no line per retry.
//!
//! It also keeps what the monitor could not read of the stored history at start (a damaged
//! page), with how to recover the file.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use tikker_capture::clock::{now_us, rfc3339};
use tikker_store::{Damage, Fault, StoreError};
use tikker_wire::status::{HistoryDamage, StorageCause, StorageProblem};

/// Who writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StoreWriter {
    /// The recorder: key events.
    KeyEvents,
    /// The authentication monitor: scores, alerts and profiles.
    Records,
}

impl StoreWriter {
    fn describe(self) -> &'static str {
        match self {
            StoreWriter::KeyEvents => "key events",
            StoreWriter::Records => "scores, alerts and profiles",
        }
    }
}

#[derive(Debug, Clone)]
struct Failing {
    fault: Fault,
    error: String,
    since_us: i64,
    pending: u64,
}

/// The ledger of failing writes (shared by the writers and the status).
#[derive(Debug, Default)]
pub struct StoreHealth {
    failing: Mutex<BTreeMap<StoreWriter, Failing>>,
    damage: Mutex<Option<HistoryDamage>>,
}

/// The status's name of a cause.
pub fn storage_cause(fault: Fault) -> StorageCause {
    match fault {
        Fault::DiskFull => StorageCause::DiskFull,
        Fault::Locked => StorageCause::Locked,
        Fault::ReadOnly => StorageCause::ReadOnly,
        Fault::Damaged => StorageCause::Damaged,
        Fault::Io => StorageCause::IoError,
        Fault::Other => StorageCause::Unknown,
    }
}

impl StoreHealth {
    /// `writer` failed to write (`pending` items wait in memory); logs when this starts.
    pub fn failed(&self, writer: StoreWriter, error: &StoreError, pending: u64) {
        let fault = error.fault();
        let Ok(mut failing) = self.failing.lock() else {
            return;
        };
        match failing.get_mut(&writer) {
            Some(known) => {
                if known.fault != fault {
                    tracing::error!(what = writer.describe(), cause = %fault, error = %error.detail(), pending, "not recording: {fault}; kept in memory and retried");
                }
                known.fault = fault;
                known.error = error.detail();
                known.pending = pending;
            }
            None => {
                tracing::error!(what = writer.describe(), cause = %fault, error = %error.detail(), pending, "not recording: {fault}; kept in memory and retried");
                failing.insert(
                    writer,
                    Failing {
                        fault,
                        error: error.detail(),
                        since_us: now_us(),
                        pending,
                    },
                );
            }
        }
    }

    /// `writer` wrote again; logs the recovery if it had been failing.
    pub fn succeeded(&self, writer: StoreWriter) {
        let Ok(mut failing) = self.failing.lock() else {
            return;
        };
        if let Some(was) = failing.remove(&writer) {
            let failed_for_s = (now_us() - was.since_us) as f64 / 1e6;
            tracing::info!(
                what = writer.describe(),
                failed_for_s,
                "recording again: the database accepts writes"
            );
        }
    }

    /// The failing writes, for the status (`None` while every write succeeds).
    pub fn problem(&self) -> Option<StorageProblem> {
        let failing = self.failing.lock().ok()?;
        // The oldest failure names the cause; every failing writer is listed.
        let first = failing.values().min_by_key(|f| f.since_us)?;
        Some(StorageProblem {
            cause: storage_cause(first.fault),
            failing: failing.keys().map(|w| w.describe().to_owned()).collect(),
            error: first.error.clone(),
            since: rfc3339(first.since_us),
            pending_events: failing
                .get(&StoreWriter::KeyEvents)
                .map_or(0, |f| f.pending),
            pending_records: failing.get(&StoreWriter::Records).map_or(0, |f| f.pending),
        })
    }

    /// The cause in a few words while writes fail (`disk full`).
    pub fn failing_cause(&self) -> Option<&'static str> {
        self.problem().map(|p| p.cause.describe())
    }

    /// Notes that the stored history of `database` could not all be read, logs how to recover
    /// the file, and reports it in the status from now on.
    pub fn history_damaged(&self, database: &Path, damage: &Damage) {
        let recovery = recovery_advice(database);
        tracing::error!(
            parts = damage.parts,
            error = %damage.first_error,
            recovery = %recovery,
            "stored typing is damaged: the parts that could be read were used; recording goes on"
        );
        if let Ok(mut noted) = self.damage.lock() {
            *noted = Some(HistoryDamage {
                parts: damage.parts,
                error: damage.first_error.clone(),
                recovery,
            });
        }
    }

    /// What could not be read of the stored history at start, if anything.
    pub fn damage(&self) -> Option<HistoryDamage> {
        self.damage.lock().ok().and_then(|d| d.clone())
    }
}

/// How to recover a damaged `database`, with the commands.
pub fn recovery_advice(database: &Path) -> String {
    let db = database.display();
    format!(
        "stop the daemon (systemctl --user stop tikker), keep a copy (cp {db} {db}.damaged), \
         recover what SQLite can read into a new file (sqlite3 {db}.damaged .recover | sqlite3 \
         {db}.recovered), check it (sqlite3 {db}.recovered 'PRAGMA integrity_check'), move it \
         into place (mv {db}.recovered {db}) and start the daemon again"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> StoreError {
        StoreError::Io {
            path: "tikker.db".into(),
            context: "writing",
            source: std::io::Error::from_raw_os_error(rustix::io::Errno::NOSPC.raw_os_error()),
        }
    }

    #[test]
    fn a_failing_writer_is_reported_until_it_writes_again() {
        let health = StoreHealth::default();
        assert_eq!(health.problem(), None);
        health.failed(StoreWriter::KeyEvents, &full(), 10);
        health.failed(StoreWriter::Records, &full(), 2);
        let problem = health.problem().unwrap();
        assert_eq!(problem.cause, StorageCause::DiskFull);
        assert_eq!((problem.pending_events, problem.pending_records), (10, 2));
        assert_eq!(problem.failing.len(), 2);
        assert_eq!(health.failing_cause(), Some("disk full"));
        health.succeeded(StoreWriter::KeyEvents);
        assert_eq!(
            health.problem().unwrap().failing,
            ["scores, alerts and profiles"]
        );
        health.succeeded(StoreWriter::Records);
        assert_eq!(health.problem(), None);
    }
}
