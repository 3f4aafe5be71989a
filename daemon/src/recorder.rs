//! The recorder: the one thread that owns the [`Store`] and writes captured events into it.
//!
//! Sources push [`WriterCommand`]s into a bounded queue; the writer takes them one by one, groups
//! events into a batch and commits the batch in **one transaction** as soon as it holds
//! `batch_events` (512) events or `commit_interval` (200 ms) after the capture of its first event,
//! whichever comes first. With nothing to commit the writer sleeps in a blocking receive: no
//! timer ticks while the keyboard is idle. `synchronous = FULL` makes every commit durable, so a
//! `SIGKILL` or power loss costs at most the batch not yet committed; on `Stop` (SIGTERM, SIGINT)
//! everything queued is committed before the writer returns.
//!
//! ## Sessions
//! A replay names its sessions ([`WriterCommand::Session`]) and keeps them. For live sources the
//! writer opens a session at the first event and starts a new one after a pause of capture, a
//! change of source, an idle gap longer than `session_gap`, or a clock step (below). Its label is
//! the RFC 3339 instant of its first event, its user the configured one.
//!
//! ## Timestamps: why a wall-clock step never makes a negative or absurd hold or flight time
//! Events are stamped by their source in wall-clock microseconds (kernel `input_event` times for
//! evdev, `SystemTime::now()` in the XRecord callback for X11), and every captured event also
//! carries the **monotonic** instant at which the daemon received it. Within a live session the
//! writer compares each event's step from the previous one on both clocks:
//! - if the wall-clock step and the monotonic step differ by more than 1 s, the wall clock was
//!   changed (NTP step, manual change) or the machine slept (the monotonic clock stops during
//!   suspend): the event starts a **new session**, so no hold or flight time is ever computed
//!   across the step;
//! - otherwise times are **clamped non-decreasing** (two keyboards read on two threads may be a
//!   few microseconds out of order): a hold or flight time is never negative, at worst zero;
//! - a gap longer than `session_gap` also starts a new session.
//!
//! So within a session every time difference agrees with the monotonic clock to within 1 s, and
//! the store, which refuses out-of-order events, never sees one.
//!
//! ## Privacy
//! The writer logs counts and sessions, never which keys.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tikker_core::KeyEvent;
use tikker_store::{NewSession, SessionId, Store, StoreError};

use crate::authenticator::CommittedSender;
use crate::metrics::LatencyHistogram;
use crate::pipeline::{Captured, CommittedChunk, WriterCommand};
use tikker_capture::clock::rfc3339;
use tikker_capture::counters::Counters;
use tikker_capture::pause::PAUSE_SETTING;

/// How the writer batches and splits sessions.
#[derive(Debug, Clone)]
pub struct WriterSettings {
    /// A batch is committed at most this long after its first event was captured.
    pub commit_interval: Duration,
    /// A batch is committed as soon as it holds this many events.
    pub batch_events: usize,
    /// A longer gap between two events starts a new live session.
    pub session_gap: Duration,
    /// Whose typing live sessions are.
    pub user: String,
}

/// Wall-clock and monotonic steps further apart than this mean the wall clock jumped.
const CLOCK_STEP_TOLERANCE_US: i64 = 1_000_000;

/// While commits fail, at most this many events are kept waiting; later ones are dropped.
const MAX_PENDING_EVENTS: usize = 200_000;

/// Commit attempts at shutdown before giving up.
const FINAL_COMMIT_ATTEMPTS: u32 = 3;

/// The session events currently go to.
#[derive(Debug)]
struct OpenSession {
    /// Its id once its first batch is committed.
    id: Option<SessionId>,
    /// What to create if it has no id yet.
    new: NewSession,
    /// Named by a replay: never split, only clamped.
    named: bool,
    /// The last event's (clamped) time and capture instant.
    last: Option<(i64, Instant)>,
}

/// Events of one session within a batch.
#[derive(Debug)]
struct Chunk {
    session: ChunkSession,
    events: Vec<KeyEvent>,
}

#[derive(Debug)]
enum ChunkSession {
    Stored(SessionId),
    /// Created in the batch's transaction; starts at its first event.
    New(NewSession),
}

/// The events not yet committed.
#[derive(Debug, Default)]
struct Batch {
    chunks: Vec<Chunk>,
    /// Capture instants of the events, in order, for the latency measurement.
    captured_at: Vec<Instant>,
}

impl Batch {
    fn len(&self) -> usize {
        self.captured_at.len()
    }

    fn is_empty(&self) -> bool {
        self.captured_at.is_empty()
    }
}

/// The writer thread's state.
#[derive(Debug)]
pub struct Writer {
    store: Store,
    settings: WriterSettings,
    counters: Arc<Counters>,
    latency: Arc<Mutex<LatencyHistogram>>,
    live_source: Option<(&'static str, String)>,
    current: Option<OpenSession>,
    /// The chunk of `batch` that holds the current session's events, if any.
    current_chunk: Option<usize>,
    batch: Batch,
    /// After a failed commit: when to try again, and how long to wait after the next failure.
    retry: Option<(Instant, Duration)>,
    /// Where committed events go next (the authentication monitor), if anywhere.
    committed: Option<CommittedSender>,
}

impl Writer {
    /// A writer that owns `store`.
    pub fn new(
        store: Store,
        settings: WriterSettings,
        counters: Arc<Counters>,
        latency: Arc<Mutex<LatencyHistogram>>,
    ) -> Writer {
        Writer {
            store,
            settings,
            counters,
            latency,
            live_source: None,
            current: None,
            current_chunk: None,
            batch: Batch::default(),
            retry: None,
            committed: None,
        }
    }

    /// Hands every committed batch on to `committed` (the authentication monitor): only what is
    /// in the database is ever scored, so a pause stops scoring as it stops recording.
    pub fn with_committed_sink(mut self, committed: CommittedSender) -> Writer {
        self.committed = Some(committed);
        self
    }

    /// Takes commands until [`WriterCommand::Stop`] (or until every sender is gone), then commits
    /// what is left. Fails only if events could not be committed at the end.
    pub fn run(mut self, queue: Receiver<WriterCommand>) -> anyhow::Result<()> {
        loop {
            let next = match self.deadline() {
                // Nothing to commit: sleep until something arrives (no idle wake-ups).
                None => queue.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(deadline) => {
                    queue.recv_timeout(deadline.saturating_duration_since(Instant::now()))
                }
            };
            match next {
                Ok(WriterCommand::Stop) => {
                    // The gate was closed and quiesced before `Stop` was sent, so nothing should
                    // follow it; take anything that did anyway.
                    while let Ok(command) = queue.try_recv() {
                        self.handle(command);
                    }
                    return self.finish();
                }
                Ok(command) => self.handle(command),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return self.finish(),
            }
            if self.is_due() {
                self.commit();
            }
        }
    }

    /// When the pending batch must be committed (`None` when there is none).
    fn deadline(&self) -> Option<Instant> {
        if self.batch.is_empty() {
            return None;
        }
        if let Some((at, _)) = self.retry {
            return Some(at);
        }
        self.batch
            .captured_at
            .first()
            .map(|first| *first + self.settings.commit_interval)
    }

    fn is_due(&self) -> bool {
        let Some(deadline) = self.deadline() else {
            return false;
        };
        Instant::now() >= deadline
            || (self.retry.is_none() && self.batch.len() >= self.settings.batch_events)
    }

    fn handle(&mut self, command: WriterCommand) {
        match command {
            WriterCommand::Event(captured) => self.add(captured),
            WriterCommand::Source { kind, detail } => {
                tracing::info!(source = kind, %detail, "recording");
                self.live_source = Some((kind, detail));
                self.end_session();
            }
            WriterCommand::Session(session) => {
                self.end_session();
                self.current = Some(OpenSession {
                    id: None,
                    new: NewSession {
                        source_kind: session.source_kind,
                        source_detail: session.source_detail,
                        user: session.user,
                        label: session.label,
                    },
                    named: true,
                    last: None,
                });
            }
            WriterCommand::SetPause { pause, done } => {
                // What was captured before the pause is committed now, and live typing after it
                // starts a new session (a replay keeps the sessions of its file).
                if !self.batch.is_empty() {
                    self.commit();
                }
                if self.current.as_ref().is_some_and(|s| !s.named) {
                    self.end_session();
                }
                let stored = self
                    .store
                    .set_setting(PAUSE_SETTING, pause.to_setting().as_deref())
                    .map_err(|e| format!("{e}"));
                if let Err(e) = &stored {
                    tracing::error!(error = %e, "the pause could not be stored; it holds until the daemon stops");
                }
                let _ = done.send(stored);
            }
            WriterCommand::Stop => {}
        }
    }

    fn end_session(&mut self) {
        self.current = None;
        self.current_chunk = None;
    }

    /// Places one event into the current session (opening one if needed) and the batch.
    fn add(&mut self, captured: Captured) {
        if self.batch.len() >= MAX_PENDING_EVENTS {
            self.counters.add_lost_to_store_errors(1);
            return;
        }
        let time_us = captured.event.time_us;
        if self.needs_new_session(&captured) {
            let (kind, detail) = self
                .live_source
                .clone()
                .unwrap_or(("unknown", String::new()));
            self.end_session();
            self.current = Some(OpenSession {
                id: None,
                new: NewSession {
                    source_kind: kind.into(),
                    source_detail: detail,
                    user: self.settings.user.clone(),
                    label: rfc3339(time_us),
                },
                named: false,
                last: None,
            });
        }
        let Some(session) = self.current.as_mut() else {
            // Invariant: `needs_new_session` is true when there is no session, and one was
            // opened just above.
            return;
        };
        let time_us = match session.last {
            Some((last_us, _)) => time_us.max(last_us),
            None => time_us,
        };
        session.last = Some((time_us, captured.captured_at));
        let event = KeyEvent {
            time_us,
            ..captured.event
        };
        let chunk = match self.current_chunk {
            Some(index) => index,
            None => {
                self.batch.chunks.push(Chunk {
                    session: match session.id {
                        Some(id) => ChunkSession::Stored(id),
                        None => ChunkSession::New(session.new.clone()),
                    },
                    events: Vec::new(),
                });
                let index = self.batch.chunks.len() - 1;
                self.current_chunk = Some(index);
                index
            }
        };
        self.batch.chunks[chunk].events.push(event);
        self.batch.captured_at.push(captured.captured_at);
    }

    /// Whether `captured` must start a new session: none is open, or in a live session the idle
    /// gap is too long or the wall clock stepped (see the module documentation).
    fn needs_new_session(&self, captured: &Captured) -> bool {
        let Some(session) = &self.current else {
            return true;
        };
        if session.named {
            return false;
        }
        let Some((last_us, last_at)) = session.last else {
            return false;
        };
        let wall_step = captured.event.time_us.saturating_sub(last_us);
        let monotonic_step = signed_micros(last_at, captured.captured_at);
        let gap_us = i64::try_from(self.settings.session_gap.as_micros()).unwrap_or(i64::MAX);
        if (wall_step - monotonic_step).abs() > CLOCK_STEP_TOLERANCE_US {
            tracing::info!(
                wall_step_s = wall_step as f64 / 1e6,
                monotonic_step_s = monotonic_step as f64 / 1e6,
                "the wall clock stepped (or the machine slept): starting a new session"
            );
            return true;
        }
        wall_step > gap_us
    }

    /// Commits the batch in one transaction. On failure the batch is kept and retried later.
    fn commit(&mut self) {
        match self.try_commit() {
            Ok(ids) => {
                if let (Some(index), Some(session)) = (self.current_chunk, self.current.as_mut())
                    && session.id.is_none()
                {
                    session.id = ids.get(index).copied().flatten();
                }
                let committed_at = Instant::now();
                match self.latency.lock() {
                    Ok(mut histogram) => {
                        for captured_at in &self.batch.captured_at {
                            histogram.record(committed_at.saturating_duration_since(*captured_at));
                        }
                    }
                    Err(_) => tracing::debug!("latency histogram poisoned; not measured"),
                }
                self.counters.add_recorded(self.batch.len() as u64);
                let batch = std::mem::take(&mut self.batch);
                if let Some(committed) = &self.committed {
                    committed.send(
                        batch
                            .chunks
                            .into_iter()
                            .zip(ids)
                            .filter_map(|(chunk, id)| {
                                id.map(|session| CommittedChunk {
                                    session,
                                    events: chunk.events,
                                })
                            })
                            .collect(),
                    );
                }
                self.current_chunk = None;
                if self.retry.take().is_some() {
                    tracing::info!("the database accepts events again");
                }
            }
            Err(e) => {
                let wait = match self.retry {
                    None => Duration::from_secs(1),
                    Some((_, wait)) => (wait * 2).min(Duration::from_secs(30)),
                };
                tracing::error!(
                    error = %e,
                    pending_events = self.batch.len(),
                    retry_in_s = wait.as_secs(),
                    "committing key events failed; they are kept and retried"
                );
                self.retry = Some((Instant::now() + wait, wait));
            }
        }
    }

    /// One transaction for the whole batch; returns the id of each chunk's session.
    fn try_commit(&mut self) -> Result<Vec<Option<SessionId>>, StoreError> {
        let mut tx = self.store.write()?;
        let mut ids = Vec::with_capacity(self.batch.chunks.len());
        let mut created = 0;
        for chunk in &self.batch.chunks {
            let Some(first) = chunk.events.first() else {
                ids.push(None);
                continue;
            };
            let id = match &chunk.session {
                ChunkSession::Stored(id) => *id,
                ChunkSession::New(session) => {
                    created += 1;
                    begin_unique_session(&mut tx, session, first.time_us)?
                }
            };
            tx.append(id, &chunk.events)?;
            ids.push(Some(id));
        }
        tx.commit()?;
        for _ in 0..created {
            self.counters.add_session();
        }
        Ok(ids)
    }

    /// Commits what is left, retrying a few times.
    fn finish(mut self) -> anyhow::Result<()> {
        let mut attempts = 0;
        while !self.batch.is_empty() {
            attempts += 1;
            self.retry = None;
            self.commit();
            if self.batch.is_empty() {
                break;
            }
            if attempts >= FINAL_COMMIT_ATTEMPTS {
                let lost = self.batch.len();
                self.counters.add_lost_to_store_errors(lost as u64);
                anyhow::bail!(
                    "{lost} key events could not be written to {} (see the errors above)",
                    self.store.path().display()
                );
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        Ok(())
    }
}

/// Creates `session`, adding ` (2)`, ` (3)`, … to its label if the label is taken.
fn begin_unique_session(
    tx: &mut tikker_store::WriteTx<'_>,
    session: &NewSession,
    started_us: i64,
) -> Result<SessionId, StoreError> {
    let mut candidate = session.clone();
    let mut suffix = 1;
    loop {
        match tx.begin_session(&candidate, started_us) {
            Err(StoreError::DuplicateSession { .. }) if suffix < 10_000 => {
                suffix += 1;
                candidate.label = format!("{} ({suffix})", session.label);
            }
            result => return result,
        }
    }
}

/// `later - earlier` in microseconds, negative if `later` is earlier.
fn signed_micros(earlier: Instant, later: Instant) -> i64 {
    let micros = |d: Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
    match later.checked_duration_since(earlier) {
        Some(forward) => micros(forward),
        None => -micros(earlier.duration_since(later)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::SessionStart;
    use tikker_capture::pause::Pause;
    use tikker_core::KeyCode;
    use tikker_store::EventFilter;

    fn settings() -> WriterSettings {
        WriterSettings {
            commit_interval: Duration::from_millis(50),
            batch_events: 4,
            session_gap: Duration::from_secs(60),
            user: "ann".into(),
        }
    }

    fn writer(dir: &tempfile::TempDir) -> Writer {
        let store = Store::open(&dir.path().join("t.db"), &tikker_store::Encryption::Off).unwrap();
        Writer::new(
            store,
            settings(),
            Arc::new(Counters::default()),
            Arc::new(Mutex::new(LatencyHistogram::default())),
        )
    }

    /// The stored sessions with their events' times.
    fn stored(dir: &tempfile::TempDir) -> Vec<(String, Vec<i64>)> {
        let store = Store::open(&dir.path().join("t.db"), &tikker_store::Encryption::Off).unwrap();
        let mut sessions: Vec<(String, Vec<i64>)> = Vec::new();
        let mut ids = Vec::new();
        store
            .for_each_event(&EventFilter::default(), |session, event| {
                if ids.last() != Some(&session.id) {
                    ids.push(session.id);
                    sessions.push((session.label.clone(), Vec::new()));
                }
                sessions.last_mut().unwrap().1.push(event.time_us);
                Ok::<(), StoreError>(())
            })
            .unwrap();
        sessions
    }

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    fn event(time_ms: i64, captured_at: Instant) -> WriterCommand {
        WriterCommand::Event(Captured {
            event: KeyEvent::press(time_ms * 1000, KeyCode(30)),
            captured_at,
        })
    }

    fn run(writer: Writer, commands: Vec<WriterCommand>) {
        let (tx, rx) = std::sync::mpsc::sync_channel(commands.len() + 1);
        for command in commands {
            tx.send(command).unwrap();
        }
        tx.send(WriterCommand::Stop).unwrap();
        writer.run(rx).unwrap();
    }

    #[test]
    fn a_wall_clock_step_starts_a_new_session_and_small_reorderings_are_clamped() {
        let dir = tempfile::tempdir().unwrap();
        let base = Instant::now();
        let t0 = 1_700_000_000_000;
        run(
            writer(&dir),
            vec![
                WriterCommand::Source {
                    kind: "x11",
                    detail: ":0".into(),
                },
                event(t0, at(base, 0)),
                event(t0 + 100, at(base, 100)),
                // 2 µs earlier than the previous one (another keyboard's thread): clamped.
                WriterCommand::Event(Captured {
                    event: KeyEvent::release(t0 * 1000 + 99_998, KeyCode(30)),
                    captured_at: at(base, 101),
                }),
                // The wall clock steps back an hour: new session, no negative time.
                event(t0 - 3_600_000, at(base, 300)),
                event(t0 - 3_600_000 + 80, at(base, 380)),
                // The wall clock steps forward 20 s while 100 ms pass: new session again.
                event(t0 - 3_600_000 + 20_180, at(base, 480)),
            ],
        );
        // Sessions are listed in time order: the two after the backward step come first.
        let sessions = stored(&dir);
        let t0 = t0 * 1000;
        assert_eq!(
            sessions,
            vec![
                (
                    "2023-11-14T21:13:20Z".to_owned(),
                    vec![t0 - 3_600_000_000, t0 - 3_599_920_000]
                ),
                (
                    "2023-11-14T21:13:40.18Z".to_owned(),
                    vec![t0 - 3_600_000_000 + 20_180_000]
                ),
                (
                    "2023-11-14T22:13:20Z".to_owned(),
                    vec![t0, t0 + 100_000, t0 + 100_000]
                ),
            ]
        );
    }

    #[test]
    fn an_idle_gap_starts_a_new_session_but_named_sessions_are_kept_whole() {
        let dir = tempfile::tempdir().unwrap();
        let base = Instant::now();
        let session = |label: &str| {
            WriterCommand::Session(SessionStart {
                source_kind: "replay".into(),
                source_detail: "f.csv".into(),
                user: "bob".into(),
                label: label.into(),
            })
        };
        run(
            writer(&dir),
            vec![
                WriterCommand::Source {
                    kind: "evdev",
                    detail: "kbd".into(),
                },
                event(1_000_000, at(base, 0)),
                // Two minutes later on both clocks: longer than the 60 s gap.
                event(1_120_000, at(base, 120_000)),
                session("s1"),
                event(5_000_000, at(base, 0)),
                // A replay at high speed: the clocks disagree, but the session is named.
                event(9_000_000, at(base, 1)),
                session("s1"),
                event(9_000_001, at(base, 2)),
            ],
        );
        let labels: Vec<String> = stored(&dir).into_iter().map(|(l, _)| l).collect();
        assert_eq!(labels.len(), 4, "{labels:?}");
        assert_eq!(labels[2], "s1");
        assert_eq!(labels[3], "s1 (2)", "a taken label gets a suffix");
    }

    #[test]
    fn batches_commit_by_size_and_time_and_the_pause_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let writer = writer(&dir);
        let counters = writer.counters.clone();
        let (tx, rx) = std::sync::mpsc::sync_channel(64);
        let thread = std::thread::spawn(move || writer.run(rx));
        tx.send(WriterCommand::Source {
            kind: "x11",
            detail: String::new(),
        })
        .unwrap();
        let now = Instant::now();
        for i in 0..5 {
            tx.send(event(1_700_000_000_000 + i, now)).unwrap();
        }
        // Four make a full batch at once; the fifth waits for the 50 ms timer.
        let wait_for = |n: u64| {
            let start = Instant::now();
            while counters.snapshot().recorded < n {
                assert!(start.elapsed() < Duration::from_secs(5), "not committed");
                std::thread::sleep(Duration::from_millis(5));
            }
        };
        wait_for(5);
        let (done, answer) = tokio::sync::oneshot::channel();
        tx.send(WriterCommand::SetPause {
            pause: Pause::Indefinite,
            done,
        })
        .unwrap();
        answer.blocking_recv().unwrap().unwrap();
        tx.send(WriterCommand::Stop).unwrap();
        thread.join().unwrap().unwrap();
        let store = Store::open(&dir.path().join("t.db"), &tikker_store::Encryption::Off).unwrap();
        assert_eq!(
            store.setting(PAUSE_SETTING).unwrap().as_deref(),
            Some("indefinite")
        );
        assert_eq!(counters.snapshot().sessions, 1);
    }

    #[test]
    fn a_pause_ends_a_live_session_but_not_a_replayed_one() {
        let base = Instant::now();
        let pause = |pause| {
            let (done, _answer) = tokio::sync::oneshot::channel();
            WriterCommand::SetPause { pause, done }
        };
        let dir = tempfile::tempdir().unwrap();
        run(
            writer(&dir),
            vec![
                WriterCommand::Source {
                    kind: "x11",
                    detail: String::new(),
                },
                event(1_000_000, at(base, 0)),
                pause(Pause::Indefinite),
                pause(Pause::Off),
                event(1_000_100, at(base, 100)),
            ],
        );
        assert_eq!(stored(&dir).len(), 2);
        let dir = tempfile::tempdir().unwrap();
        run(
            writer(&dir),
            vec![
                WriterCommand::Session(SessionStart {
                    source_kind: "replay".into(),
                    source_detail: "f.csv".into(),
                    user: "bob".into(),
                    label: "s1".into(),
                }),
                event(1_000_000, at(base, 0)),
                pause(Pause::Indefinite),
                pause(Pause::Off),
                event(1_000_100, at(base, 100)),
            ],
        );
        assert_eq!(
            stored(&dir),
            vec![("s1".to_owned(), vec![1_000_000_000, 1_000_100_000])]
        );
    }

    #[test]
    fn signed_micros_goes_both_ways() {
        let base = Instant::now();
        assert_eq!(signed_micros(base, at(base, 2)), 2000);
        assert_eq!(signed_micros(at(base, 2), base), -2000);
    }
}
