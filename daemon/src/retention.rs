//! Keeping raw key events only as long as they serve: the daemon's retention prune, and
//! forgetting a span on demand (`tikker forget`, `POST /data/forget`, the tray).
//!
//! **Retention.** Once at start and then every [`PRUNE_INTERVAL`], a thread of the daemon deletes
//! the raw events older than `store.raw_retention_days` days on a connection of its own (in
//! transactions of a few segments, so the recorder never waits long; see
//! `tikker_store::Store::prune_raw_before`). With `0` it keeps only what the monitor still
//! needs: until the owner is enrolled, everything (the enrolment resumes from stored typing
//! after a restart); afterwards the last [`MONITOR_NEEDS`]. The quarter-hour rollups, scores,
//! alerts and profiles are kept, so statistics over any span still work.
//!
//! **Forgetting.** Deletes a span's raw events and its rollups at once, with secure delete and a
//! truncated log, and says what was removed and what stays (what the profile already learned).

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use tikker_capture::clock::now_us;
use tikker_store::Forgotten;
use tikker_wire::api::ForgetReply;

use crate::db_key::Database;
use crate::state::DaemonState;

/// How often the daemon prunes.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(3600);
/// With `raw_retention_days = 0`, raw typing this recent is kept once the owner is enrolled: more
/// than any scoring window spans.
pub const MONITOR_NEEDS: Duration = Duration::from_secs(3600);
/// The longest span `last_minutes` may name: ten years.
pub const MAX_FORGET_MINUTES: u64 = 10 * 365 * 24 * 60;

const DAY_US: i64 = 86_400_000_000;

/// The time before which raw events may be deleted, or `None` to keep everything for now.
///
/// `days` is `store.raw_retention_days`; `enrolled` whether the owner has a stored profile.
pub fn cutoff(now_us: i64, days: u32, enrolled: bool) -> Option<i64> {
    if days == 0 {
        return enrolled.then(|| now_us - MONITOR_NEEDS.as_micros() as i64);
    }
    Some(now_us.saturating_sub(i64::from(days) * DAY_US))
}

/// The retention thread of a running daemon.
#[derive(Debug)]
pub struct Retention {
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

impl Retention {
    /// Starts pruning `database` (now, then every [`PRUNE_INTERVAL`]) for `days` days of raw
    /// events, the owner being `owner`; reports to `state`.
    ///
    /// # Errors
    /// The thread cannot be started.
    pub fn start(
        database: Database,
        owner: String,
        days: u32,
        state: Arc<DaemonState>,
    ) -> anyhow::Result<Retention> {
        let (stop, stopped) = channel();
        let thread = std::thread::Builder::new()
            .name("retention".into())
            .spawn(move || prune_loop(&database, &owner, days, &state, &stopped))
            .context("starting the retention thread")?;
        Ok(Retention { stop, thread })
    }

    /// Stops the thread (between two transactions) and waits for it.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

fn prune_loop(
    database: &Database,
    owner: &str,
    days: u32,
    state: &DaemonState,
    stopped: &Receiver<()>,
) {
    // A moment after start, so the daemon's own start-up (enrolment resume) goes first.
    let mut wait = Duration::from_secs(5);
    loop {
        match stopped.recv_timeout(wait) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
        wait = PRUNE_INTERVAL;
        match prune_once(database, owner, days) {
            Ok(Some(pruned)) => {
                state.set_raw_kept_from(pruned.to_us);
                if pruned.events > 0 {
                    tracing::info!(
                        events = pruned.events,
                        before = %rfc3339(pruned.to_us),
                        "deleted raw key events past the retention (store.raw_retention_days)"
                    );
                }
            }
            Ok(None) => {}
            Err(e) => tracing::error!(
                error = %format!("{e:#}"),
                "pruning raw key events failed; trying again in an hour"
            ),
        }
    }
}

/// Prunes once; `None` when nothing may be pruned yet.
fn prune_once(database: &Database, owner: &str, days: u32) -> anyhow::Result<Option<Forgotten>> {
    let mut store = database.open()?;
    let enrolled = store
        .latest_profile(owner)
        .context("reading whether the owner is enrolled")?
        .is_some();
    let Some(before) = cutoff(now_us(), days, enrolled) else {
        return Ok(None);
    };
    Ok(Some(
        store
            .prune_raw_before(before)
            .context("deleting raw key events past the retention")?,
    ))
}

/// The span a [`tikker_wire::api::ForgetRequest`] names, as `(from_us, to_us)`.
///
/// # Errors
/// A message naming the field: neither or both forms given, a span that ends before it starts,
/// or a number of minutes out of range.
pub fn span_of(
    request: &tikker_wire::api::ForgetRequest,
    now_us: i64,
) -> Result<(i64, i64), (&'static str, String)> {
    match (request.last_minutes, request.from_us, request.to_us) {
        (Some(minutes), None, None) => {
            if !(1..=MAX_FORGET_MINUTES).contains(&minutes) {
                return Err((
                    "last_minutes",
                    format!(
                        "last_minutes must be 1 to {MAX_FORGET_MINUTES} (ten years), not {minutes}"
                    ),
                ));
            }
            Ok((
                now_us - minutes as i64 * 60_000_000,
                now_us.saturating_add(1),
            ))
        }
        (None, Some(from), Some(to)) => {
            if to <= from {
                return Err((
                    "to_us",
                    format!("to_us ({to}) must come after from_us ({from})"),
                ));
            }
            if !tikker_core::event::time_in_bounds(from) && from != i64::MIN {
                return Err((
                    "from_us",
                    format!("from_us ({from}) is not within the years 1970 to 9999"),
                ));
            }
            Ok((from, to))
        }
        _ => Err((
            "last_minutes",
            "give either {\"last_minutes\": N} or both from_us and to_us".to_owned(),
        )),
    }
}

/// Forgets `[from_us, to_us)` in `database` (see [`tikker_store::Store::forget`]).
///
/// # Errors
/// The database cannot be opened or the deletion fails (then nothing was deleted).
pub fn forget(database: &Database, from_us: i64, to_us: i64) -> anyhow::Result<ForgetReply> {
    let mut store = database.open()?;
    let forgotten = store
        .forget(from_us, to_us)
        .context("forgetting the span")?;
    tracing::info!(
        events = forgotten.events,
        from = %rfc3339(from_us),
        to = %rfc3339(to_us),
        "forgot a span of typing"
    );
    Ok(reply(&forgotten, from_us, to_us))
}

fn reply(forgotten: &Forgotten, from_us: i64, to_us: i64) -> ForgetReply {
    let (from, to) = (rfc3339(from_us), rfc3339(to_us));
    let message = if forgotten.events == 0 && forgotten.rollups_removed == 0 {
        format!("nothing was stored from {from} to {to}")
    } else {
        format!(
            "forgot {} keystrokes ({} key events) from {from} to {to}, and their activity counts; \
             scores and alerts of that span are kept (they hold no keys), and what the profile \
             had already learned from it stays learned",
            forgotten.keystrokes, forgotten.events
        )
    };
    ForgetReply {
        from,
        to,
        events: forgotten.events,
        keystrokes: forgotten.keystrokes,
        sessions: forgotten.sessions,
        rollups_removed: forgotten.rollups_removed,
        log_truncated: forgotten.log_truncated,
        message,
    }
}

fn rfc3339(time_us: i64) -> String {
    jiff::Timestamp::from_microsecond(time_us)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| format!("{time_us} µs"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_days_keep_everything_until_enrolled_then_the_last_hour() {
        let now = 1_800_000_000_000_000;
        assert_eq!(cutoff(now, 0, false), None);
        assert_eq!(cutoff(now, 0, true), Some(now - 3_600_000_000));
        assert_eq!(cutoff(now, 28, false), Some(now - 28 * DAY_US));
    }

    #[test]
    fn forget_requests_name_one_span_or_the_field_that_is_wrong() {
        use tikker_wire::api::ForgetRequest;
        let now = 1_800_000_000_000_000;
        let last = ForgetRequest {
            last_minutes: Some(5),
            ..ForgetRequest::default()
        };
        assert_eq!(span_of(&last, now), Ok((now - 300_000_000, now + 1)));
        let both = ForgetRequest {
            last_minutes: Some(5),
            from_us: Some(1),
            to_us: Some(2),
        };
        assert_eq!(span_of(&both, now).unwrap_err().0, "last_minutes");
        let backwards = ForgetRequest {
            from_us: Some(now),
            to_us: Some(now - 1),
            ..ForgetRequest::default()
        };
        assert_eq!(span_of(&backwards, now).unwrap_err().0, "to_us");
        let zero = ForgetRequest {
            last_minutes: Some(0),
            ..ForgetRequest::default()
        };
        assert!(span_of(&zero, now).unwrap_err().1.contains("1 to"));
    }
}
