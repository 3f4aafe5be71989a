//! `tikker daemon`: the process that records.
//!
//! Start-up, in order: the runtime folder and the one-daemon-per-user lock, the database (and a
//! pause stored by an earlier run), the authentication monitor (its stored owner profile, or the
//! enrolment so far), the writer thread that owns the database, the control socket, then the
//! source. Once the source runs, systemd hears `READY=1`. With `--source auto` and nothing
//! to capture from, the daemon says why, keeps serving its control socket and tries again every
//! `retry_s` seconds.
//!
//! It runs until SIGTERM or SIGINT (or until a replay is done, unless `--keep-running`). Stopping closes the source gate,
//! waits for events already on their way into the writer's queue, and has the writer commit
//! everything: no captured event is lost. The authentication monitor then scores what was
//! committed last and saves the profile it learned. The last log line gives the counts.
//!
//! The supervisor is a single-threaded tokio runtime that sleeps unless a signal, a control
//! request, a source ending, the watchdog or the `auto` retry timer needs it.

use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tikker_store::Store;
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant as TokioInstant;

use crate::api::{ApiOptions, DaemonApi};
use crate::authenticator::Authenticator;
use crate::config::{CaptureConfig, MonitorSettings, SourceChoice};
use crate::control::OwnerOnlyListener;
use crate::db_key::Database;
use crate::db_lock::DatabaseLock;
use crate::metrics::LatencyHistogram;
use crate::pipeline::WriterCommand;
use crate::recorder::{Writer, WriterSettings};
use crate::runtime_dir::{DaemonLock, RuntimeDir};
use crate::state::{DaemonState, Phase};
use crate::store_health::StoreHealth;
use crate::systemd;
use tikker_capture::clock::now_us;
use tikker_capture::counters::Counters;
use tikker_capture::pause::{PAUSE_SETTING, Pause};
use tikker_capture::{self, Gate, Running, Sink, SourceEnd, SourceOptions, SourceSpec};
use tikker_wire::status::AuthStatus;

/// What `tikker daemon` was asked to do.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// The source.
    pub source: SourceSpec,
    /// Replay speed.
    pub speed: f64,
    /// After a replay, keep running until stopped.
    pub keep_running: bool,
    /// Continuous authentication.
    pub monitor: MonitorSettings,
    /// The HTTP API (served on the control socket, and on TCP if configured).
    pub api: ApiOptions,
    /// Raw key events older than this many days are deleted (see [`crate::retention`]).
    pub raw_retention_days: u32,
}

/// The source named in the configuration.
pub fn configured_source(capture: &CaptureConfig) -> SourceSpec {
    match capture.source {
        SourceChoice::Auto => SourceSpec::Auto,
        SourceChoice::X11 => SourceSpec::X11,
        SourceChoice::Evdev => SourceSpec::Evdev,
    }
}

/// Runs the daemon until it is told to stop.
pub fn run(
    database: &Database,
    capture: &CaptureConfig,
    options: DaemonOptions,
) -> anyhow::Result<()> {
    let runtime_dir = RuntimeDir::prepare()?;
    let _lock = DaemonLock::acquire(&runtime_dir, database.path())?;
    // One daemon per database too, whatever its runtime folder.
    let _database_lock = DatabaseLock::acquire(database.path(), runtime_dir.path())?;
    if let Some(note) = &database.access().note
        && !database.access().announced
    {
        tracing::warn!("{note}");
    }
    let store = database.open()?;
    let pause = load_pause(&store)?;
    let pruned_before = store.raw_pruned_before()?;

    let counters = Arc::new(Counters::default());
    let latency = Arc::new(Mutex::new(LatencyHistogram::default()));
    let gate = Arc::new(Gate::new(pause));
    let (queue, queue_rx) = sync_channel(capture.queue_events);
    let auth_status = Arc::new(Mutex::new(AuthStatus::off()));
    let health = Arc::new(StoreHealth::default());
    let mut authenticator = Authenticator::open(
        database,
        &capture.effective_user(),
        &options.monitor,
        auth_status.clone(),
        health.clone(),
    )?;
    authenticator.set_api_address(options.api.tcp);
    let owner_link = authenticator.owner_link();
    let (authenticator, committed) = authenticator.start()?;
    let writer = Writer::new(
        store,
        WriterSettings {
            commit_interval: Duration::from_millis(capture.commit_interval_ms),
            batch_events: capture.batch_events,
            session_gap: Duration::from_secs(capture.session_gap_s),
            user: capture.effective_user(),
        },
        counters.clone(),
        latency.clone(),
    )
    .with_committed_sink(committed)
    .with_health(health.clone());
    let (writer_done_tx, writer_done) = tokio::sync::oneshot::channel();
    let writer_thread = std::thread::Builder::new()
        .name("writer".into())
        .spawn(move || {
            let result = writer.run(queue_rx);
            let _ = writer_done_tx.send(result);
        })
        .context("starting the writer thread")?;

    let sink = Sink::new(queue.clone(), gate.clone(), counters.clone());
    let state = Arc::new(DaemonState::new(
        database.path().to_path_buf(),
        gate.clone(),
        counters,
        latency,
        queue.clone(),
        auth_status,
        health,
        owner_link,
    ));
    let access = database.access();
    state.set_privacy(tikker_wire::status::PrivacyStatus {
        encryption: access.source.name().to_owned(),
        key_file: match &access.source {
            crate::db_key::KeySource::Keyfile { path } => Some(path.display().to_string()),
            _ => None,
        },
        note: access.note.clone(),
        raw_retention_days: options.raw_retention_days,
        raw_kept_from: None,
    });
    if let Some(before) = pruned_before {
        state.set_raw_kept_from(before);
    }
    if !database.access().encryption.is_on() {
        tracing::warn!(
            "tikker.db is NOT encrypted ([store] encryption = \"off\"): anyone who can read the file can read what was typed"
        );
    }
    let retention = crate::retention::Retention::start(
        database.clone(),
        capture.effective_user(),
        options.raw_retention_days,
        state.clone(),
    )?;
    let supervisor = Supervisor {
        state: state.clone(),
        sink,
        gate,
        queue,
        spec: options.source.clone(),
        source_options: SourceOptions {
            speed: options.speed,
            user: capture.effective_user(),
            input_dir: capture.input_dir.clone(),
        },
        retry: Duration::from_secs(capture.retry_s),
        keep_running: options.keep_running,
        api: options.api.clone(),
        database: database.clone(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let exit_gate = supervisor.gate.clone();
    let exit_queue = supervisor.queue.clone();
    let result = runtime.block_on(supervisor.run(&runtime_dir, pause, writer_done));
    // Normally the supervisor has stopped the writer already; if it failed before it could (the
    // control socket could not be bound, say), stop it here so that nothing captured is lost and
    // the join below cannot wait forever. A second `Stop` finds the queue closed.
    exit_gate.stop();
    let _ = exit_queue.send(WriterCommand::Stop);
    drop(exit_queue);
    let _ = writer_thread.join();
    // The writer is gone, so is its end of the monitor's queue: the monitor scores the rest,
    // saves what it learned and returns.
    authenticator.join();
    retention.stop();
    let counts = state.counts();
    let latency = state.report().latency;
    tracing::info!(
        captured = counts.captured,
        recorded = counts.recorded,
        dropped = counts.dropped,
        dropped_queue_full = counts.dropped_queue_full,
        dropped_by_kernel = counts.dropped_by_kernel,
        sessions = counts.sessions,
        latency_p50_ms = latency.p50_ms,
        latency_p99_ms = latency.p99_ms,
        latency_max_ms = latency.max_ms,
        "stopped"
    );
    result
}

/// Reads a pause stored by an earlier run; one that has ended is removed.
fn load_pause(store: &Store) -> anyhow::Result<Pause> {
    let Some(text) = store.setting(PAUSE_SETTING)? else {
        return Ok(Pause::Off);
    };
    let pause = match Pause::from_setting(&text) {
        Ok(pause) => pause,
        Err(e) => {
            tracing::warn!(error = %e, "ignoring an unreadable stored pause");
            Pause::Off
        }
    };
    if pause.is_active_at(now_us()) {
        match pause.end_rfc3339() {
            Some(end) => tracing::info!(until = end, "capture is paused (from before the restart)"),
            None => {
                tracing::info!("capture is paused until `tikker resume` (from before the restart)")
            }
        }
        Ok(pause)
    } else {
        store.set_setting(PAUSE_SETTING, None)?;
        Ok(Pause::Off)
    }
}

/// The async part of the daemon: control socket, source, signals, watchdog.
struct Supervisor {
    state: Arc<DaemonState>,
    sink: Sink,
    gate: Arc<Gate>,
    queue: SyncSender<WriterCommand>,
    spec: SourceSpec,
    source_options: SourceOptions,
    retry: Duration,
    keep_running: bool,
    api: ApiOptions,
    database: Database,
}

/// Why the daemon stops.
enum StopReason {
    Signal(&'static str),
    ReplayDone,
    Failed(anyhow::Error),
}

impl Supervisor {
    async fn run(
        self,
        runtime_dir: &RuntimeDir,
        pause: Pause,
        writer_done: tokio::sync::oneshot::Receiver<anyhow::Result<()>>,
    ) -> anyhow::Result<()> {
        let mut writer_done = Some(writer_done);
        let listener = OwnerOnlyListener::bind(&runtime_dir.control_socket())?;
        let socket_path = listener.path().to_path_buf();
        let api = DaemonApi::start(listener, &self.api, &self.database, self.state.clone()).await?;
        tracing::info!(socket = %socket_path.display(), "control socket ready");
        self.state.schedule_pause_end(pause);

        let reason = self.supervise(&mut writer_done).await;

        systemd::stopping();
        self.state.set_phase(Phase::Stopping);
        match &reason {
            StopReason::Signal(name) => {
                tracing::info!(signal = name, "stopping: committing what was captured")
            }
            StopReason::ReplayDone => tracing::info!("the replay is done: stopping"),
            StopReason::Failed(e) => tracing::error!(error = %format!("{e:#}"), "stopping"),
        }
        let gate = self.gate.clone();
        let queue = self.queue.clone();
        // Close the gate, wait for events already past it, then tell the writer to finish: the
        // writer sees every captured event before `Stop`.
        let _ = tokio::task::spawn_blocking(move || {
            gate.stop();
            let _ = queue.send(WriterCommand::Stop);
        })
        .await;
        let writer_result = match writer_done.take() {
            Some(done) => done
                .await
                .unwrap_or_else(|_| Err(anyhow::anyhow!("the writer thread panicked"))),
            None => Ok(()),
        };
        api.stop().await;
        let _ = std::fs::remove_file(&socket_path);
        match reason {
            StopReason::Failed(e) => Err(e),
            StopReason::Signal(_) | StopReason::ReplayDone => writer_result,
        }
    }

    /// Starts the source and waits for a reason to stop.
    async fn supervise(
        &self,
        writer_done: &mut Option<tokio::sync::oneshot::Receiver<anyhow::Result<()>>>,
    ) -> StopReason {
        let (mut sigterm, mut sigint) = match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(term), Ok(int)) => (term, int),
            (Err(e), _) | (_, Err(e)) => {
                return StopReason::Failed(anyhow::Error::new(e).context("handling signals"));
            }
        };
        let mut watchdog = systemd::watchdog_interval().map(|period| {
            let mut interval = tokio::time::interval_at(TokioInstant::now() + period, period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval
        });
        let mut told_ready = false;
        let mut running: Option<Running> = None;
        let mut retry_at: Option<TokioInstant> = Some(TokioInstant::now());
        loop {
            tokio::select! {
                _ = sigterm.recv() => return StopReason::Signal("SIGTERM"),
                _ = sigint.recv() => return StopReason::Signal("SIGINT"),
                result = wait_writer(writer_done) => {
                    *writer_done = None;
                    let e = match result {
                        Ok(()) => anyhow::anyhow!("the writer stopped unexpectedly"),
                        Err(e) => e.context("the writer failed"),
                    };
                    return StopReason::Failed(e);
                }
                end = wait_source(&mut running) => {
                    running = None;
                    match end {
                        SourceEnd::Finished if self.keep_running => {
                            tracing::info!("the replay is done: running on until stopped (--keep-running)");
                            self.state.set_phase(Phase::Waiting { reason: "the replay is done".into() });
                            systemd::status(&self.state.status_line());
                        }
                        SourceEnd::Finished => return StopReason::ReplayDone,
                        SourceEnd::Failed(why) if self.spec == SourceSpec::Auto => {
                            tracing::warn!(reason = %why, retry_in_s = self.retry.as_secs(), "the source stopped; looking for another later");
                            self.state.set_phase(Phase::Waiting { reason: why });
                            systemd::status(&self.state.status_line());
                            retry_at = Some(TokioInstant::now() + self.retry);
                        }
                        SourceEnd::Failed(why) => return StopReason::Failed(anyhow::anyhow!(why)),
                    }
                }
                _ = sleep_until(retry_at) => {
                    retry_at = None;
                    match self.start_source().await {
                        Ok(started) => running = Some(started),
                        Err(e) if self.spec == SourceSpec::Auto => {
                            let reason = format!("{e:#}");
                            tracing::warn!(reason = %reason, retry_in_s = self.retry.as_secs(), "not capturing: no usable source; the daemon keeps serving and looks again later");
                            self.state.set_phase(Phase::Waiting { reason });
                            retry_at = Some(TokioInstant::now() + self.retry);
                        }
                        Err(e) => return StopReason::Failed(e),
                    }
                    let line = self.state.status_line();
                    if told_ready {
                        systemd::status(&line);
                    } else {
                        systemd::ready(&line);
                        told_ready = true;
                    }
                }
                _ = tick(&mut watchdog) => {
                    systemd::watchdog_ping(&self.state.status_line());
                }
            }
        }
    }

    /// Opens and starts the source (on a blocking thread: opening may take a moment).
    async fn start_source(&self) -> anyhow::Result<Running> {
        let spec = self.spec.clone();
        let options = self.source_options.clone();
        let sink = self.sink.clone();
        let state = self.state.clone();
        tokio::task::spawn_blocking(move || {
            let source = tikker_capture::open(&spec, &options)?;
            let (kind, detail) = (source.kind(), source.detail());
            let running = source.start(sink)?;
            tracing::info!(source = kind, %detail, "capturing");
            state.set_phase(Phase::Capturing {
                source: kind.into(),
                detail,
            });
            Ok(running)
        })
        .await
        .context("starting the source")?
    }
}

async fn wait_writer(
    done: &mut Option<tokio::sync::oneshot::Receiver<anyhow::Result<()>>>,
) -> anyhow::Result<()> {
    match done {
        Some(done) => done
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the writer thread panicked"))),
        None => std::future::pending().await,
    }
}

async fn wait_source(running: &mut Option<Running>) -> SourceEnd {
    match running {
        Some(running) => (&mut running.ended)
            .await
            .unwrap_or_else(|_| SourceEnd::Failed("the source's thread ended".into())),
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<TokioInstant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}
