//! The running daemon's shared state: what it captures from, its counts, and pausing.
//!
//! The control channel reads it for `GET /status` and changes it with `POST /pause` and
//! `POST /resume`; the supervisor updates the capture phase as sources start and stop.

use std::path::PathBuf;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::metrics::LatencyHistogram;
use crate::owner_link::OwnerLink;
use crate::pipeline::WriterCommand;
use crate::store_health::StoreHealth;
use crate::systemd;
use tikker_capture::Gate;
use tikker_capture::clock::now_us;
use tikker_capture::counters::Counters;
use tikker_capture::pause::Pause;
use tikker_wire::status::CountersSnapshot;
use tikker_wire::status::{AuthStatus, CaptureState, PrivacyStatus, StatusReport};

/// What the daemon is doing about capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Opening its source.
    Starting,
    /// A source runs.
    Capturing {
        /// `x11`, `evdev`, `replay`.
        source: String,
        /// Display, devices or file.
        detail: String,
    },
    /// No usable source (with `auto`): serving and trying again later.
    Waiting {
        /// Why nothing can be captured.
        reason: String,
    },
    /// Shutting down.
    Stopping,
}

/// The daemon's shared state.
#[derive(Debug)]
pub struct DaemonState {
    database: PathBuf,
    started: Instant,
    gate: Arc<Gate>,
    counters: Arc<Counters>,
    latency: Arc<Mutex<LatencyHistogram>>,
    writer: SyncSender<WriterCommand>,
    auth: Arc<Mutex<AuthStatus>>,
    health: Arc<StoreHealth>,
    owner_link: OwnerLink,
    phase: Mutex<Phase>,
    /// The task that ends a timed pause.
    pause_timer: Mutex<Option<tokio::task::AbortHandle>>,
    /// Encryption and retention, as `tikker status` shows them.
    privacy: Mutex<PrivacyStatus>,
}

impl DaemonState {
    /// The state of a daemon recording into `database`.
    // Each argument is one shared part of the running daemon, made by `daemon::run` before the
    // state that joins them.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        database: PathBuf,
        gate: Arc<Gate>,
        counters: Arc<Counters>,
        latency: Arc<Mutex<LatencyHistogram>>,
        writer: SyncSender<WriterCommand>,
        auth: Arc<Mutex<AuthStatus>>,
        health: Arc<StoreHealth>,
        owner_link: OwnerLink,
    ) -> DaemonState {
        DaemonState {
            database,
            started: Instant::now(),
            gate,
            counters,
            latency,
            writer,
            auth,
            health,
            owner_link,
            phase: Mutex::new(Phase::Starting),
            pause_timer: Mutex::new(None),
            privacy: Mutex::new(PrivacyStatus::default()),
        }
    }

    /// Sets what the status says about encryption and retention.
    pub fn set_privacy(&self, privacy: PrivacyStatus) {
        if let Ok(mut current) = self.privacy.lock() {
            *current = privacy;
        }
    }

    /// Records that raw events before `before_us` have been pruned.
    pub fn set_raw_kept_from(&self, before_us: i64) {
        if let Ok(mut current) = self.privacy.lock() {
            current.raw_kept_from = jiff::Timestamp::from_microsecond(before_us)
                .ok()
                .map(|t| t.to_string());
        }
    }

    /// How the owner's "It was me" reaches the authentication monitor.
    pub fn owner_link(&self) -> &OwnerLink {
        &self.owner_link
    }

    /// Sets the capture phase.
    pub fn set_phase(&self, phase: Phase) {
        if let Ok(mut current) = self.phase.lock() {
            *current = phase;
        }
    }

    /// The capture phase.
    pub fn phase(&self) -> Phase {
        self.phase
            .lock()
            .map(|p| p.clone())
            .unwrap_or(Phase::Starting)
    }

    /// The event counts now.
    pub fn counts(&self) -> CountersSnapshot {
        self.counters.snapshot()
    }

    /// The status as the control channel reports it.
    pub fn report(&self) -> StatusReport {
        let auth = self
            .auth
            .lock()
            .map(|a| a.clone())
            .unwrap_or_else(|_| AuthStatus::off());
        let phase = self.phase();
        let pause = self.gate.pause();
        let paused = self.gate.is_paused();
        let (state, source, source_detail, waiting_reason) = match phase {
            Phase::Starting => (CaptureState::Starting, None, None, None),
            Phase::Stopping => (CaptureState::Stopping, None, None, None),
            Phase::Waiting { reason } => (CaptureState::Waiting, None, None, Some(reason)),
            Phase::Capturing { source, detail } => (
                if paused {
                    CaptureState::Paused
                } else {
                    CaptureState::Capturing
                },
                Some(source),
                Some(detail),
                None,
            ),
        };
        StatusReport {
            state,
            source,
            source_detail,
            waiting_reason,
            paused,
            paused_until: if paused { pause.end_rfc3339() } else { None },
            events: self.counters.snapshot(),
            latency: self
                .latency
                .lock()
                .map(|h| h.summary())
                .unwrap_or_else(|_| LatencyHistogram::default().summary()),
            database: self.database.display().to_string(),
            pid: std::process::id(),
            uptime_s: self.started.elapsed().as_secs_f64(),
            events_today: Some(auth.events_today),
            auth: Some(auth),
            privacy: self.privacy.lock().ok().map(|p| p.clone()),
            storage: self.health.problem(),
            history_damage: self.health.damage(),
        }
    }

    /// One line for `systemctl status`.
    pub fn status_line(&self) -> String {
        let counts = self.counters.snapshot();
        let what = match self.phase() {
            Phase::Starting => "starting".to_owned(),
            Phase::Stopping => "stopping".to_owned(),
            Phase::Waiting { reason } => format!("not capturing: {reason}"),
            Phase::Capturing { source, detail } if self.gate.is_paused() => {
                format!("paused ({source} {detail})")
            }
            Phase::Capturing { source, detail } => format!("capturing from {source} {detail}"),
        };
        let writing = match self.health.failing_cause() {
            Some(cause) => format!("; not recording: {cause}"),
            None => String::new(),
        };
        format!(
            "{what}{writing}; {} events recorded, {} dropped",
            counts.recorded, counts.dropped
        )
    }

    /// Pauses (or with [`Pause::Off`], resumes) capture: closes the gate, has the writer commit
    /// what came before and store the pause, and arranges for a timed pause to end by itself.
    pub async fn set_pause(self: &Arc<Self>, pause: Pause) -> anyhow::Result<()> {
        let (done, stored) = tokio::sync::oneshot::channel();
        let gate = self.gate.clone();
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            gate.set_pause(pause);
            writer.send(WriterCommand::SetPause { pause, done })
        })
        .await
        .context("pausing")?
        .map_err(|_| anyhow::anyhow!("the daemon is stopping"))?;
        stored
            .await
            .map_err(|_| anyhow::anyhow!("the daemon is stopping"))?
            .map_err(|e| anyhow::anyhow!("the pause could not be stored: {e}"))?;
        match pause {
            Pause::Off => tracing::info!("capture resumed"),
            Pause::Indefinite => tracing::info!("capture paused until resumed"),
            Pause::Until(_) => {
                tracing::info!(
                    until = pause.end_rfc3339().unwrap_or_default(),
                    "capture paused"
                )
            }
        }
        self.schedule_pause_end(pause);
        systemd::status(&self.status_line());
        Ok(())
    }

    /// For a timed pause, starts the task that ends it (replacing any earlier one).
    pub fn schedule_pause_end(self: &Arc<Self>, pause: Pause) {
        let Ok(mut timer) = self.pause_timer.lock() else {
            return;
        };
        if let Some(previous) = timer.take() {
            previous.abort();
        }
        let Pause::Until(end_us) = pause else {
            return;
        };
        let wait = Duration::from_micros(end_us.saturating_sub(now_us()).max(0) as u64);
        let state = Arc::clone(self);
        let task = tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            // The gate already lets events through once the end has passed (it compares with the
            // wall clock); this clears the stored pause and the status.
            if state.gate.end_pause_if(pause)
                && let Err(e) = state.store_pause_end().await
            {
                tracing::warn!(error = %e, "the end of the pause could not be stored");
            }
        });
        *timer = Some(task.abort_handle());
    }

    async fn store_pause_end(&self) -> anyhow::Result<()> {
        let (done, stored) = tokio::sync::oneshot::channel();
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            writer.send(WriterCommand::SetPause {
                pause: Pause::Off,
                done,
            })
        })
        .await?
        .map_err(|_| anyhow::anyhow!("the daemon is stopping"))?;
        stored
            .await
            .map_err(|_| anyhow::anyhow!("the daemon is stopping"))?
            .map_err(|e| anyhow::anyhow!(e))?;
        tracing::info!("the pause is over: capture resumed");
        systemd::status(&self.status_line());
        Ok(())
    }
}
