//! The authentication monitor: the daemon's continuous authentication, on its own thread.
//!
//! Data flows one way: the recorder commits a batch of events, then hands the committed events
//! to this thread ([`CommittedSender`]); only what is in `tikker.db` is ever scored, so a pause
//! stops scoring as it stops recording. Everything the daemon captures is typing at this
//! keyboard, whoever's session it is stored under: an impostor is, by definition, typing at the
//! owner's keyboard.
//!
//! The thread pairs each session's events into keystrokes and feeds them to the engine's
//! [`Monitor`] (the same code `tikker eval continuous` measures):
//! - **Enrolment**: without a stored owner model it enrols from the owner's stored typing first
//!   (so an enrolment survives restarts), then from live typing; the model is saved as a new
//!   version of the owner's profile (`profiles` table) the moment enrolment completes.
//! - **Scores**: every window score is stored (`scores` table) with its time range, verdict,
//!   confidence, reason and the profile version that scored it.
//! - **Learning**: the monitor learns only from windows judged the owner's; the learning profile
//!   is saved as a new version every `save_interval_s` if it changed, and when the daemon stops.
//!   A version saved by someone else (`tikker profile rebuild`) is picked up within 30 s.
//! - **Alerts**: each alert is stored (`alerts` table) at once, with the span of typing its
//!   evidence rests on, then a helper thread shows the notification and runs the alert command
//!   ([`crate::alert`]) and records what became of them; the monitor never waits for a
//!   notification server, and stopping waits at most [`STOP_WAIT`] for the helpers.
//! - **During a cooldown** (the monitor holds further alerts back for `cooldown_us` after one),
//!   every further suspicious window is logged and replaces the alert's notification with a
//!   count; once [`OWNER_AGAIN_WINDOWS`] windows in a row looked like the owner's, the cooldown
//!   ends ([`Monitor::end_cooldown`]) and the next intrusion raises a fresh alert.
//! - **Enrolment complete**: the owner is told once, with a notification ("protection is now
//!   on"), when the first profile is built (from live or stored typing).
//!
//! - **"It was me"**: the owner marks an alert false (`POST /alerts/{id}/false`, `tikker alerts
//!   --false ID`, or the notification's button) through an [`OwnerLink`]: the mark is stored on
//!   the alert's row at once, then this thread releases the typing the alert's evidence covered
//!   to the monitor ([`Monitor::release`]), so that it may be learned, and counts the false alert
//!   in the status (`alerts_marked_false`).
//!
//! - **Threats**, independent of the profile and of enrolment: every committed event goes
//!   through the injection detector (machine typing) and the replay detector, which checks each
//!   n-gram of typing against the stored history of timings (`replay_runs`: holds and intervals,
//!   never key identities) and adds live typing to it; a match raises an alert of kind `replay`
//!   whatever the window's score. The history is saved as it grows and follows the retention
//!   prune: runs pruned from the database are forgotten in memory within 30 s. A keyboard the
//!   database never saw (told by the recorder) raises an alert of kind `new_device`, unless it
//!   is the first keyboard this database ever saw (the owner's own).
//!
//! It writes only derived records (profiles, scores, alerts, replay history) through its own
//! connection; the recorder stays the single writer of key events. Key identities are never
//! logged.
//!
//! ## When the database refuses a write
//! A score, alert or alert outcome that cannot be written (a full disk, a lock held too long) is
//! kept, in order, and written again every second until it succeeds (up to
//! `MAX_PENDING_RECORDS`, 100,000; beyond, the oldest is dropped with an error); a profile that
//! cannot be saved stays the one to save and is tried again the same way. While anything waits,
//! the status says so ([`crate::store_health`]); nothing is logged as saved before its commit
//! succeeded.
//!
//! ## When stored typing cannot be read
//! Capture never depends on reading history: resuming an enrolment reads past damaged pages
//! (`feed_monitor_past_damage`), enrols from what it could read, logs how to recover the file
//! and reports it in the status; any other failure to read history costs the resumed enrolment
//! (the monitor enrols from live typing), never the daemon.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use tikker_core::keystroke::{Keystroke, KeystrokeAssembler};
use tikker_core::monitor::{Monitor, MonitorState, OwnerModel, WindowScore};
use tikker_store::{Damage, EventFilter, SessionId, Store, StoreError, StoredAlert, StoredScore};

use tikker_core::device::DeviceInfo;
use tikker_core::threat::AlertKind;
use tikker_core::threat::injection::{InjectionConfig, InjectionDetector, InjectionFinding};
use tikker_core::threat::replay::{ReplayConfig, ReplayDetector, ReplayFinding, ReplayHistory};
use tikker_wire::status::{AuthPhase, AuthStatus, LastAlert};

use crate::alert::{AlertNotice, AlertNotification, AlertSettings, ContinuedTyping, Responder};
use crate::config::MonitorSettings;
pub use crate::owner_link::{ItWasMe, OwnerLink};
use crate::pipeline::CommittedChunk;
use crate::store_health::{StoreHealth, StoreWriter};
use tikker_capture::clock::{now_us, rfc3339};

/// Committed batches waiting for the monitor; beyond, batches are skipped (and counted) rather
/// than slowing the recorder down.
const QUEUE_BATCHES: usize = 1024;

/// How often the monitor looks for a profile version saved by someone else.
const RELOAD_CHECK: Duration = Duration::from_secs(30);

/// How many recent alerts are read at start to find the last of each kind.
const RECENT_ALERTS: usize = 64;

/// Records that wait for the database at most (beyond, the oldest is dropped and logged).
const MAX_PENDING_RECORDS: usize = 100_000;

/// How often waiting records (and a profile not yet saved) are tried again.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// Attempts to write what waits when the daemon stops.
const FINAL_ATTEMPTS: u32 = 3;

/// The row id of a record once it is written.
type RowSlot = Arc<OnceLock<i64>>;

/// A derived record that the database refused: kept, in order, and written again.
#[derive(Debug)]
enum PendingRecord {
    /// A scored window; `row` gets its id.
    Score { score: StoredScore, row: RowSlot },
    /// An alert; its `score_id` is the id `score_row` gets; `row` gets its own id.
    Alert {
        alert: StoredAlert,
        score_row: Option<RowSlot>,
        row: RowSlot,
    },
    /// What became of an alert (written once the alert has its id).
    Outcome {
        alert_row: RowSlot,
        notified: bool,
        action: Option<String>,
    },
}

impl PendingRecord {
    /// Writes the record.
    fn write(&self, store: &Store) -> Result<(), StoreError> {
        match self {
            PendingRecord::Score { score, row } => {
                let id = store.save_score(score)?;
                let _ = row.set(id);
            }
            PendingRecord::Alert {
                alert,
                score_row,
                row,
            } => {
                let alert = StoredAlert {
                    score_id: score_row.as_ref().and_then(|r| r.get().copied()),
                    ..alert.clone()
                };
                let id = store.save_alert(&alert)?;
                let _ = row.set(id);
            }
            PendingRecord::Outcome {
                alert_row,
                notified,
                action,
            } => {
                // An alert dropped while waiting has no row to record its outcome on.
                if let Some(id) = alert_row.get() {
                    store.update_alert_outcome(*id, *notified, action.as_deref())?;
                }
            }
        }
        Ok(())
    }
}

/// How long the thread sleeps at most before it looks at the owner's word ([`OwnerLink`]).
const OWNER_POLL: Duration = Duration::from_secs(1);

/// How long stopping waits for alert helpers (a command still running, a notification server
/// that does not answer) before it leaves them.
pub const STOP_WAIT: Duration = Duration::from_secs(2);

/// Windows in a row judged the owner's (with no evidence against the owner) that end an alert's
/// cooldown: a whole window's worth of fresh typing (150 keystrokes at the default 25 a step).
pub const OWNER_AGAIN_WINDOWS: u32 = 6;

/// The impostor alert whose cooldown is running, and what followed it.
#[derive(Debug)]
struct Intrusion {
    notice: AlertNotice,
    settings: AlertSettings,
    notification: Arc<AlertNotification>,
    /// Suspicious windows since the alert.
    more: u32,
    /// Owner-like windows in a row since the last suspicious one.
    owner_streak: u32,
}

/// What the recorder hands the monitor, in order.
#[derive(Debug)]
pub enum MonitorInput {
    /// A committed batch.
    Committed(Vec<CommittedChunk>),
    /// A keyboard that `tikker.db` had never seen was opened.
    NewDevice {
        /// The keyboard.
        device: DeviceInfo,
        /// When it was opened (µs).
        seen_us: i64,
    },
}

/// The recorder's end of the queue into the monitor; never blocks.
#[derive(Debug, Clone)]
pub struct CommittedSender {
    queue: SyncSender<MonitorInput>,
    status: Arc<Mutex<AuthStatus>>,
}

impl CommittedSender {
    /// Hands a committed batch on; if the monitor is behind by `QUEUE_BATCHES` (1,024) batches the
    /// batch is skipped (and counted in the status): recording never waits for scoring.
    pub fn send(&self, chunks: Vec<CommittedChunk>) {
        if chunks.is_empty() {
            return;
        }
        let events: usize = chunks.iter().map(|c| c.events.len()).sum();
        match self.queue.try_send(MonitorInput::Committed(chunks)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                if let Ok(mut status) = self.status.lock() {
                    status.skipped_events += events as u64;
                }
                tracing::warn!(
                    events,
                    "the authentication monitor is behind: a batch of typing was not scored"
                );
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Tells the monitor that a keyboard never seen before was opened (it raises a `new_device`
    /// alert); if the monitor is behind, the alert is logged instead.
    pub fn new_device(&self, device: DeviceInfo, seen_us: i64) {
        if let Err(TrySendError::Full(MonitorInput::NewDevice { device, .. })) = self
            .queue
            .try_send(MonitorInput::NewDevice { device, seen_us })
        {
            tracing::warn!(device = %device.describe(), "a new keyboard was connected, but the monitor is behind: no alert raised");
        }
    }
}

/// The monitor thread's state.
#[derive(Debug)]
pub struct Authenticator {
    store: Store,
    /// The database, for the connections of the notifications' buttons.
    database: crate::db_key::Database,
    owner: String,
    settings: MonitorSettings,
    monitor: Option<Monitor>,
    status: Arc<Mutex<AuthStatus>>,
    assembler: KeystrokeAssembler,
    session: Option<SessionId>,
    /// The stored version of the model in use, and the profile size when it was saved.
    saved: Option<(i64, u64)>,
    /// The newest stored version seen (an unreadable one included): only newer ones reload.
    seen_version: Option<i64>,
    last_save: Instant,
    last_reload_check: Instant,
    /// The local day `events_today` counts.
    today: jiff::civil::Date,
    alert_threads: Vec<JoinHandle<()>>,
    /// Machine typing on the committed stream (independent of the owner's profile).
    injection: InjectionDetector,
    /// Records the database refused, oldest first.
    pending: VecDeque<PendingRecord>,
    /// Saving the profile failed: it is tried again every [`RETRY_EVERY`].
    profile_failing: bool,
    /// The alert threads' outcomes, written by this thread.
    outcomes: (Sender<PendingRecord>, Receiver<PendingRecord>),
    /// Where failing writes are reported.
    health: Arc<StoreHealth>,
    /// The owner's word on alerts, from the API and the notifications.
    owner_words: Receiver<ItWasMe>,
    owner_link: OwnerLink,
    /// The impostor alert of this run whose cooldown runs, if any.
    intrusion: Option<Intrusion>,
    /// The HTTP API's TCP address, where "Details" looks for the dashboard.
    api: Option<std::net::SocketAddr>,
    /// Replays of stored typing on the committed stream (independent of the owner's profile);
    /// learns live typing into its history.
    replay: ReplayDetector,
    /// The session the replay detector's current run belongs to.
    replay_session: Option<SessionId>,
    /// Runs of the replay history that began at or after this time may have grown since they
    /// were saved (the live run).
    replay_unsaved_from: i64,
}

/// A handle on the running monitor thread.
#[derive(Debug)]
pub struct RunningAuthenticator {
    thread: JoinHandle<()>,
}

impl RunningAuthenticator {
    /// Waits for the thread (the recorder must have stopped: then its queue closes).
    pub fn join(self) {
        if self.thread.join().is_err() {
            tracing::error!("the authentication monitor panicked");
        }
    }
}

impl Authenticator {
    /// Opens the monitor over `database` for `owner`: loads the stored owner model, or resumes
    /// the enrolment from the owner's stored typing, and counts today's events. Runs before the
    /// recorder starts, so nothing stored is fed twice. Only a database that cannot be opened
    /// fails it: history that cannot be read is logged and reported in `health` (see the module
    /// documentation).
    pub fn open(
        database: &crate::db_key::Database,
        owner: &str,
        settings: &MonitorSettings,
        status: Arc<Mutex<AuthStatus>>,
        health: Arc<StoreHealth>,
    ) -> anyhow::Result<Authenticator> {
        let store = database
            .open()
            .context("opening the database for the authentication monitor")?;
        let (commands, owner_words) = std::sync::mpsc::channel();
        let owner_link = OwnerLink::new(commands, status.clone());
        let mut authenticator = Authenticator {
            store,
            database: database.clone(),
            owner: owner.to_owned(),
            settings: settings.clone(),
            monitor: None,
            status,
            assembler: KeystrokeAssembler::new(),
            session: None,
            saved: None,
            seen_version: None,
            last_save: Instant::now(),
            last_reload_check: Instant::now(),
            today: local_today(),
            alert_threads: Vec::new(),
            injection: InjectionDetector::new(InjectionConfig::default()),
            pending: VecDeque::new(),
            profile_failing: false,
            outcomes: std::sync::mpsc::channel(),
            health,
            owner_words,
            owner_link,
            intrusion: None,
            api: None,
            replay: ReplayDetector::new(ReplayHistory::new(ReplayConfig::default()), true),
            replay_session: None,
            replay_unsaved_from: i64::MIN,
        };
        authenticator.load_replay_history();
        match authenticator.store.count_false_alerts() {
            Ok(false_alerts) => {
                authenticator.update_status(|s| s.alerts_marked_false = false_alerts);
            }
            Err(e) => {
                tracing::warn!(error = %e.detail(), "the alerts marked false could not be counted");
            }
        }
        match authenticator.count_events_today() {
            Ok(events_today) => authenticator.update_status(|s| s.events_today = events_today),
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "today's stored events could not be counted; counting from now")
            }
        }
        if settings.enabled {
            authenticator.load_owner();
        }
        Ok(authenticator)
    }

    /// Where the daemon serves its HTTP API on TCP (the notification's "Details" opens the
    /// dashboard there when it serves one).
    pub fn set_api_address(&mut self, api: Option<std::net::SocketAddr>) {
        self.api = api;
    }

    /// The link that passes the owner's "It was me" to this monitor.
    pub fn owner_link(&self) -> OwnerLink {
        self.owner_link.clone()
    }

    /// Starts the thread; it runs until every [`CommittedSender`] is gone.
    pub fn start(self) -> anyhow::Result<(RunningAuthenticator, CommittedSender)> {
        let (queue, inbox) = std::sync::mpsc::sync_channel(QUEUE_BATCHES);
        let sender = CommittedSender {
            queue,
            status: self.status.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("authenticator".into())
            .spawn(move || self.run(inbox))
            .context("starting the authentication monitor")?;
        Ok((RunningAuthenticator { thread }, sender))
    }

    /// Loads the stored replay history (an unreadable one is left in the database and the
    /// detector starts from what is typed now).
    fn load_replay_history(&mut self) {
        match self.store.replay_runs() {
            Ok(runs) => {
                let history = ReplayHistory::from_runs(ReplayConfig::default(), runs);
                tracing::info!(keystrokes = history.keystrokes(), "replay history loaded");
                self.replay_unsaved_from = history.runs().last().map_or(i64::MIN, |r| r.start_us);
                self.replay = ReplayDetector::new(history, true);
            }
            Err(e) => {
                tracing::error!(error = %e, "the replay history could not be read: replays of typing stored before now are not recognised");
            }
        }
    }

    /// Loads the stored owner model or resumes the enrolment from stored typing. Nothing it
    /// reads is needed to record: each failure is logged and costs only what it would have
    /// given (see the module documentation).
    fn load_owner(&mut self) {
        let config = self.settings.monitor_config();
        let stored = match self.store.latest_profile(&self.owner) {
            Ok(stored) => stored,
            Err(e) => {
                tracing::error!(error = %e.detail(), "the stored owner profile cannot be read: enrolling anew");
                self.note_unreadable(&e);
                None
            }
        };
        self.seen_version = stored.as_ref().map(|s| s.version);
        let mut monitor = match stored {
            Some(stored) => match OwnerModel::from_json(&stored.data) {
                Ok(model) => {
                    tracing::info!(
                        version = stored.version,
                        keystrokes = model.profile.keystrokes,
                        "monitoring with the stored owner profile"
                    );
                    self.saved = Some((stored.version, model.profile.keystrokes));
                    Monitor::with_owner(config, model)
                }
                Err(e @ tikker_core::monitor::OwnerModelError::Outdated { .. }) => {
                    tracing::info!(version = stored.version, reason = %e, "the stored owner profile was made by an older tikker: enrolling again from the stored typing (the stored versions are kept)");
                    Monitor::new(config)
                }
                Err(e) => {
                    tracing::warn!(version = stored.version, error = %e, "the stored owner profile is unreadable: enrolling anew (the stored versions are kept)");
                    Monitor::new(config)
                }
            },
            None => Monitor::new(config),
        };
        if monitor.owner().is_none() {
            let filter = EventFilter {
                user: Some(self.owner.clone()),
                ..EventFilter::default()
            };
            match tikker_store::history::feed_monitor_past_damage(
                &self.store,
                &filter,
                &mut monitor,
                true,
            ) {
                Ok((fed, damage)) => {
                    if let Some(damage) = damage {
                        self.health.history_damaged(self.store.path(), &damage);
                    }
                    if fed.keystrokes > 0 {
                        tracing::info!(
                            keystrokes = fed.keystrokes,
                            "enrolment resumed from stored typing"
                        );
                    }
                }
                Err(e) => {
                    let detail = match &e {
                        tikker_store::history::FeedError::Store(e) => e.detail(),
                        other => other.to_string(),
                    };
                    tracing::error!(error = %detail, "the enrolment could not be resumed from stored typing: enrolling from live typing; recording goes on");
                    if let tikker_store::history::FeedError::Store(e) = &e {
                        self.note_unreadable(e);
                    }
                    monitor = Monitor::new(config);
                }
            }
        }
        match self.store.alerts_between(None, None, RECENT_ALERTS) {
            Ok(recent_alerts) => {
                // The impostor cooldown follows the monitor's own alerts only.
                if let Some(alert) = recent_alerts.iter().find(|a| a.kind == AlertKind::Impostor) {
                    monitor.note_alert(alert.created_us);
                }
                if let Some(alert) = recent_alerts.first() {
                    self.update_status(|s| {
                        s.last_alert = Some(LastAlert {
                            at: rfc3339(alert.created_us),
                            score: alert.score,
                            reason: alert.reason.clone(),
                            notified: alert.notified,
                            kind: alert.kind,
                            id: Some(alert.id),
                            marked_false: alert.marked_false_us.is_some(),
                        })
                    });
                }
            }
            Err(e) => {
                tracing::warn!(error = %e.detail(), "the stored alerts cannot be read: no cooldown from before the start");
                self.note_unreadable(&e);
            }
        }
        match self.store.latest_score() {
            Ok(Some(score)) => self.update_status(|s| set_score(s, &score)),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e.detail(), "the latest stored score cannot be read");
                self.note_unreadable(&e);
            }
        }
        self.monitor = Some(monitor);
        if self.saved.is_none() && self.has_owner() {
            self.save_model_or_retry("enrolled from stored typing");
            self.tell_enrolled();
        }
        self.refresh_phase();
    }

    /// Reports a read that failed on a damaged file, with how to recover it.
    fn note_unreadable(&self, error: &StoreError) {
        if error.fault() == tikker_store::Fault::Damaged {
            self.health.history_damaged(
                self.store.path(),
                &Damage {
                    parts: 1,
                    first_error: error.detail(),
                },
            );
        }
    }

    fn has_owner(&self) -> bool {
        self.monitor.as_ref().is_some_and(|m| m.owner().is_some())
    }

    fn run(mut self, inbox: Receiver<MonitorInput>) {
        let save_interval = Duration::from_secs(self.settings.save_interval_s);
        loop {
            let wait = if self.has_unwritten() {
                RETRY_EVERY
            } else {
                OWNER_POLL.min(save_interval)
            };
            match inbox.recv_timeout(wait) {
                Ok(MonitorInput::Committed(chunks)) => {
                    for chunk in chunks {
                        self.take(chunk);
                    }
                    self.save_replay_history();
                }
                Ok(MonitorInput::NewDevice { device, seen_us }) => {
                    self.alert_new_device(&device, seen_us);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            while let Ok(word) = self.owner_words.try_recv() {
                self.it_was_me(word);
            }
            self.maintain(save_interval);
        }
        self.finish();
    }

    /// Whether anything waits to be written, or may soon (an alert's outcome).
    fn has_unwritten(&self) -> bool {
        !self.pending.is_empty() || self.profile_failing || !self.alert_threads.is_empty()
    }

    /// Writes `record`, or keeps it (after any that wait already) for later.
    fn write_record(&mut self, record: PendingRecord) {
        if self.pending.len() >= MAX_PENDING_RECORDS
            && let Some(dropped) = self.pending.pop_front()
        {
            tracing::error!(
                waiting = self.pending.len(),
                record = ?dropped,
                "too many records wait for the database: the oldest is dropped"
            );
        }
        self.pending.push_back(record);
        self.write_pending();
    }

    /// Writes what waits, oldest first, until the database refuses one.
    fn write_pending(&mut self) {
        while let Some(record) = self.pending.front() {
            if let Err(e) = record.write(&self.store) {
                self.health
                    .failed(StoreWriter::Records, &e, self.pending.len() as u64);
                return;
            }
            self.pending.pop_front();
        }
        if !self.profile_failing {
            self.health.succeeded(StoreWriter::Records);
        }
    }

    /// Takes the outcomes the alert threads finished with, and writes them.
    fn take_outcomes(&mut self) {
        self.alert_threads.retain(|t| !t.is_finished());
        while let Ok(outcome) = self.outcomes.1.try_recv() {
            self.pending.push_back(outcome);
        }
        self.write_pending();
    }

    /// Saves the profile; a failure is reported and the save tried again every
    /// [`RETRY_EVERY`].
    fn save_model_or_retry(&mut self, why: &str) {
        match self.save_model(why) {
            Ok(()) => {
                if self.profile_failing {
                    self.profile_failing = false;
                    if self.pending.is_empty() {
                        self.health.succeeded(StoreWriter::Records);
                    }
                }
            }
            Err(e) => {
                tracing::debug!(error = %format!("{e:#}"), "saving the owner profile failed; it is kept in memory and saved later");
                self.profile_failing = true;
                match e.downcast_ref::<StoreError>() {
                    Some(store_error) => self.health.failed(
                        StoreWriter::Records,
                        store_error,
                        self.pending.len() as u64 + 1,
                    ),
                    None => {
                        tracing::error!(error = %format!("{e:#}"), "saving the owner profile failed")
                    }
                }
            }
        }
    }

    /// Saves a profile that learned, picks up a rebuilt one, and rolls `events_today` over.
    fn maintain(&mut self, save_interval: Duration) {
        self.take_outcomes();
        let today = local_today();
        if today != self.today {
            self.today = today;
            match self.count_events_today() {
                Ok(n) => self.update_status(|s| s.events_today = n),
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "counting today's events"),
            }
        }
        if self.last_reload_check.elapsed() >= RELOAD_CHECK {
            self.last_reload_check = Instant::now();
            self.follow_replay_prune();
            if let Err(e) = self.reload_if_rebuilt() {
                tracing::warn!(error = %format!("{e:#}"), "looking for a rebuilt profile");
            }
        }
        if (self.profile_failing || self.last_save.elapsed() >= save_interval)
            && self.learned_since_save()
        {
            self.save_model_or_retry("learned from typing judged the owner's");
        }
    }

    /// The owner said "It was me": the typing the alert covered is released for learning (the
    /// [`OwnerLink`] stored the mark and counted it in the status already).
    fn it_was_me(&mut self, word: ItWasMe) {
        let released = self
            .monitor
            .as_mut()
            .filter(|_| word.from_us <= word.to_us)
            .map_or(0, |monitor| monitor.release(word.from_us, word.to_us));
        tracing::info!(
            alert = word.alert_id,
            released_keystrokes = released,
            "\"It was me\": the alert is marked false; the typing it covered may be learned"
        );
    }

    fn finish(&mut self) {
        // Keys still down when the recorder stopped have no release: nothing to emit but the
        // keystrokes already complete.
        let mut rest = Vec::new();
        self.assembler.finish(|k| rest.push(k));
        for keystroke in rest {
            self.push(keystroke);
        }
        // Alert helpers are joined while they finish within STOP_WAIT; one still running a
        // command, or waiting on a notification server that does not answer, is left behind
        // (the process ends without it).
        let deadline = Instant::now() + STOP_WAIT;
        while self.alert_threads.iter().any(|t| !t.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let (done, running): (Vec<_>, Vec<_>) =
            self.alert_threads.drain(..).partition(|t| t.is_finished());
        for thread in done {
            let _ = thread.join();
        }
        if !running.is_empty() {
            tracing::warn!(
                helpers = running.len(),
                "stopping without waiting longer for alert helpers (a command or the notification server has not finished)"
            );
        }
        // What waits gets a few more attempts, a second apart.
        for attempt in 1..=FINAL_ATTEMPTS {
            self.take_outcomes();
            if self.learned_since_save() {
                self.save_model_or_retry("learned from typing judged the owner's");
            }
            if self.pending.is_empty() && !self.profile_failing {
                return;
            }
            if attempt < FINAL_ATTEMPTS {
                std::thread::sleep(RETRY_EVERY);
            }
        }
        tracing::error!(
            records = self.pending.len(),
            profile = self.profile_failing,
            "the database still refuses writes at stop: these records are lost"
        );
    }

    fn take(&mut self, chunk: CommittedChunk) {
        self.update_status(|s| s.events_today += chunk.events.len() as u64);
        // Machine typing is looked for in everything typed, enrolled or not, independently of
        // the profile; its alerts share no cooldown with the monitor's.
        for event in &chunk.events {
            if let Some(finding) = self.injection.push(event) {
                self.alert_injection(&finding);
            }
        }
        // Replays too, whatever the windows' scores; a new session starts a new run.
        if self.replay_session != Some(chunk.session) {
            self.replay.end_run();
            self.replay_session = Some(chunk.session);
        }
        for event in &chunk.events {
            if let Some(finding) = self.replay.push(event) {
                self.alert_replay(&finding);
            }
        }
        if self.monitor.is_none() {
            return;
        }
        let mut keystrokes: Vec<Keystroke> = Vec::new();
        if self.session != Some(chunk.session) {
            self.assembler.finish(|k| keystrokes.push(k));
            self.assembler = KeystrokeAssembler::new();
            self.session = Some(chunk.session);
        }
        for event in &chunk.events {
            self.assembler.push(event, |k| keystrokes.push(k));
        }
        for keystroke in keystrokes {
            self.push(keystroke);
        }
    }

    fn push(&mut self, keystroke: Keystroke) {
        let Some(monitor) = self.monitor.as_mut() else {
            return;
        };
        let was_enrolled = monitor.owner().is_some();
        let score = match monitor.push(keystroke) {
            Ok(score) => score,
            Err(e) => {
                // The configuration guarantees enough enrolment keystrokes; an enrolment that
                // still cannot be calibrated starts over.
                tracing::warn!(error = %e, "the enrolment could not build a profile; enrolling again");
                self.monitor = Some(Monitor::new(self.settings.monitor_config()));
                None
            }
        };
        if !was_enrolled && self.has_owner() {
            tracing::info!("enrolment complete: monitoring");
            self.save_model_or_retry("enrolled from the owner's first typing");
            self.tell_enrolled();
        }
        self.refresh_phase();
        if let Some(score) = score {
            self.record(score);
        }
    }

    /// Tells the owner, once per enrolment, that protection is on.
    fn tell_enrolled(&self) {
        if !self.settings.notify {
            return;
        }
        let keystrokes = self
            .monitor
            .as_ref()
            .and_then(Monitor::owner)
            .map_or(0, |o| o.profile.keystrokes);
        crate::alert::notify_enrolled(keystrokes);
    }

    /// A window during an alert's cooldown: a suspicious one updates the alert's notification
    /// and is logged; enough owner-like ones in a row end the cooldown.
    fn follow_intrusion(&mut self, window: &WindowScore) {
        let cooldown_us = self.settings.monitor_config().cooldown_us;
        let Some(intrusion) = self.intrusion.as_mut() else {
            return;
        };
        if window.to_us - intrusion.notice.at_us >= cooldown_us {
            self.intrusion = None;
            return;
        }
        if window.verdict == tikker_core::verify::calibration::Verdict::Suspicious {
            intrusion.more += 1;
            intrusion.owner_streak = 0;
            tracing::warn!(
                alert = intrusion.notice.alert_id,
                score = window.score,
                windows_since_alert = intrusion.more,
                "someone else may still be typing (the alert's cooldown holds a new alert back; its notification is updated)"
            );
            intrusion.notification.update(
                &intrusion.notice,
                &intrusion.settings,
                intrusion.more,
                ContinuedTyping {
                    at_us: window.to_us,
                    score: window.score,
                },
            );
        } else if window.verdict.is_owner() && window.evidence == 0.0 {
            intrusion.owner_streak += 1;
            if intrusion.owner_streak >= OWNER_AGAIN_WINDOWS {
                tracing::info!(
                    alert = intrusion.notice.alert_id,
                    "the typing looks like the owner's again: the alert's cooldown ends, a new intrusion alerts afresh"
                );
                self.intrusion = None;
                if let Some(monitor) = self.monitor.as_mut() {
                    monitor.end_cooldown();
                }
            }
        } else {
            intrusion.owner_streak = 0;
        }
    }

    fn record(&mut self, window: WindowScore) {
        let stored = StoredScore {
            id: 0,
            user: self.owner.clone(),
            from_us: window.from_us,
            to_us: window.to_us,
            score: window.score,
            confidence: window.confidence,
            verdict: window.verdict,
            reason: window.reason.clone(),
            profile_version: self.saved.map(|(version, _)| version),
        };
        let score_row = RowSlot::default();
        self.write_record(PendingRecord::Score {
            score: stored.clone(),
            row: score_row.clone(),
        });
        tracing::debug!(
            score = window.score,
            verdict = window.verdict.as_str(),
            "window scored"
        );
        self.update_status(|s| set_score(s, &stored));
        if window.alert {
            self.alert(&window, score_row);
        } else {
            self.follow_intrusion(&window);
        }
    }

    fn alert(&mut self, window: &WindowScore, score_row: RowSlot) {
        tracing::warn!(
            score = window.score,
            verdict = window.verdict.as_str(),
            reason = %window.reason,
            "someone else may be typing: alert"
        );
        let (notice, settings, notification) = self.raise(
            StoredAlert {
                id: 0,
                created_us: window.to_us,
                score_id: None,
                score: window.score,
                reason: window.reason.clone(),
                notified: false,
                action: None,
                kind: AlertKind::Impostor,
                evidence_from_us: Some(window.evidence_from_us),
                evidence_to_us: Some(window.to_us),
                marked_false_us: None,
            },
            Some(score_row),
            window.verdict.as_str(),
        );
        self.intrusion = Some(Intrusion {
            notice,
            settings,
            notification,
            more: 0,
            owner_streak: 0,
        });
    }

    fn alert_injection(&mut self, finding: &InjectionFinding) {
        tracing::warn!(
            rule = finding.rule.as_str(),
            keystrokes = finding.keystrokes,
            reason = %finding.reason,
            "machine typing on the keyboard: alert"
        );
        self.raise_detector_alert(AlertKind::Injection, finding.at_us, finding.reason.clone());
    }

    fn alert_replay(&mut self, finding: &ReplayFinding) {
        tracing::warn!(
            keystrokes = finding.keystrokes,
            max_deviation_us = finding.max_deviation_us,
            reason = %finding.reason,
            "typing repeats stored typing: alert"
        );
        self.raise_detector_alert(AlertKind::Replay, finding.at_us, finding.reason.clone());
    }

    fn alert_new_device(&mut self, device: &DeviceInfo, seen_us: i64) {
        let reason = format!(
            "a new keyboard was connected: {}. If you did not connect it, unplug it.",
            device.describe()
        );
        tracing::warn!(device = %device.describe(), "a keyboard never seen before: alert");
        self.raise_detector_alert(AlertKind::NewDevice, seen_us, reason);
    }

    /// Raises an alert of a detector (injection, replay, new keyboard): no score and no windows
    /// of evidence, so nothing for "It was me" to release.
    fn raise_detector_alert(&mut self, kind: AlertKind, at_us: i64, reason: String) {
        let _ = self.raise(
            StoredAlert {
                id: 0,
                created_us: at_us,
                score_id: None,
                score: 0.0,
                reason,
                notified: false,
                action: None,
                kind,
                evidence_from_us: None,
                evidence_to_us: None,
                marked_false_us: None,
            },
            None,
            kind.as_str(),
        );
    }

    /// Saves the runs of the replay history that grew since they were last saved.
    fn save_replay_history(&mut self) {
        let Some(last_start) = self.replay.history().runs().last().map(|r| r.start_us) else {
            return;
        };
        let unsaved: Vec<_> = self
            .replay
            .history()
            .runs()
            .rev()
            .take_while(|run| run.start_us >= self.replay_unsaved_from)
            .collect();
        for run in unsaved {
            if let Err(e) = self.store.save_replay_run(run) {
                tracing::warn!(error = %e, "saving the replay history failed; it is saved with the next batch");
                return;
            }
        }
        self.replay_unsaved_from = last_start;
    }

    /// Forgets in memory the replay history that the retention prune deleted from the database.
    fn follow_replay_prune(&mut self) {
        let oldest_in_memory = self.replay.history().runs().next().map(|r| r.end_us);
        let Some(oldest_in_memory) = oldest_in_memory else {
            return;
        };
        let cutoff = match self.store.replay_history_oldest_end() {
            Ok(Some(oldest_stored)) => oldest_stored,
            // Everything saved was pruned.
            Ok(None) => self.replay_unsaved_from,
            Err(e) => {
                tracing::warn!(error = %e, "reading the replay history's oldest run");
                return;
            }
        };
        if cutoff > oldest_in_memory {
            let pruned = self.replay.history_mut().prune_before(cutoff);
            tracing::info!(
                runs = pruned,
                "replay history pruned with the raw events' retention"
            );
        }
    }

    /// Stores an alert, shows it in the status, and has a helper thread notify and run the
    /// alert action (recording both outcomes on the alert's row).
    fn raise(
        &mut self,
        stored: StoredAlert,
        score_row: Option<RowSlot>,
        verdict: &'static str,
    ) -> (AlertNotice, AlertSettings, Arc<AlertNotification>) {
        let alert_row = RowSlot::default();
        self.write_record(PendingRecord::Alert {
            alert: stored.clone(),
            score_row,
            row: alert_row.clone(),
        });
        // Known at once unless the database refused the alert (then it is written later and
        // the notification's buttons have no alert to refer to).
        let alert_id = alert_row.get().copied();
        let notice = AlertNotice {
            kind: stored.kind,
            alert_id,
            score: stored.score,
            verdict,
            reason: stored.reason.clone(),
            at_us: stored.created_us,
            at: rfc3339(stored.created_us),
        };
        self.update_status(|s| {
            s.last_alert = Some(LastAlert {
                at: notice.at.clone(),
                score: notice.score,
                reason: notice.reason.clone(),
                notified: false,
                kind: notice.kind,
                id: alert_id,
                marked_false: false,
            })
        });
        let settings = AlertSettings {
            notify: self.settings.notify,
            command: self.settings.alert_command.clone(),
            api: self.api,
        };
        let outcomes = self.outcomes.0.clone();
        let notification = Arc::new(AlertNotification::default());
        let database = self.database.clone();
        let status = self.status.clone();
        let responder = Responder {
            owner_link: self.owner_link.clone(),
            database: database.clone(),
        };
        let raised = (notice.clone(), settings.clone(), Arc::clone(&notification));
        let spawned = std::thread::Builder::new()
            .name("alert".into())
            .spawn(move || {
                let outcome =
                    crate::alert::deliver(&notice, &settings, Some(responder), &notification);
                if outcome.notified
                    && let Ok(mut status) = status.lock()
                    && let Some(last) = status.last_alert.as_mut()
                    && last.at == notice.at
                {
                    last.notified = true;
                }
                // The monitor's thread writes it (and keeps it while the database refuses).
                let _ = outcomes.send(PendingRecord::Outcome {
                    alert_row,
                    notified: outcome.notified,
                    action: outcome.action,
                });
            });
        match spawned {
            Ok(thread) => self.alert_threads.push(thread),
            Err(e) => tracing::error!(error = %e, "the alert could not be delivered (no thread)"),
        }
        self.alert_threads.retain(|t| !t.is_finished());
        raised
    }

    fn learned_since_save(&self) -> bool {
        let Some(owner) = self.monitor.as_ref().and_then(Monitor::owner) else {
            return false;
        };
        self.saved
            .is_none_or(|(_, keystrokes)| keystrokes != owner.profile.keystrokes)
    }

    fn save_model(&mut self, why: &str) -> anyhow::Result<()> {
        // A version saved by someone else since ours (a rebuild) wins over what we learned.
        if self.reload_if_rebuilt()? {
            return Ok(());
        }
        let Some(owner) = self.monitor.as_ref().and_then(Monitor::owner) else {
            return Ok(());
        };
        let json = owner.to_json().context("serialising the owner profile")?;
        let keystrokes = owner.profile.keystrokes;
        let version = self.store.save_profile(
            &self.owner,
            now_us(),
            i64::try_from(keystrokes).unwrap_or(i64::MAX),
            &json,
        )?;
        tracing::info!(version, keystrokes, why, "owner profile saved");
        self.saved = Some((version, keystrokes));
        self.seen_version = Some(version);
        self.last_save = Instant::now();
        self.update_status(|s| {
            s.profile_version = Some(version);
            s.profile_keystrokes = Some(keystrokes);
        });
        Ok(())
    }

    /// Switches to a stored version newer than the one in use (saved by `tikker profile
    /// rebuild`); says whether it did.
    fn reload_if_rebuilt(&mut self) -> anyhow::Result<bool> {
        let Some(monitor) = self.monitor.as_mut() else {
            return Ok(false);
        };
        let Some(newest) = self.store.latest_profile_version(&self.owner)? else {
            return Ok(false);
        };
        if self.seen_version.is_some_and(|version| version >= newest) {
            return Ok(false);
        }
        let Some(stored) = self.store.latest_profile(&self.owner)? else {
            return Ok(false);
        };
        self.seen_version = Some(stored.version);
        let model = OwnerModel::from_json(&stored.data)
            .with_context(|| format!("reading owner profile version {}", stored.version))?;
        tracing::info!(
            version = stored.version,
            "switching to a rebuilt owner profile"
        );
        self.saved = Some((stored.version, model.profile.keystrokes));
        monitor.replace_owner(model);
        self.last_save = Instant::now();
        self.refresh_phase();
        Ok(true)
    }

    fn refresh_phase(&self) {
        let Some(monitor) = self.monitor.as_ref() else {
            return;
        };
        let state = monitor.state();
        let profile_keystrokes = monitor.owner().map(|o| o.profile.keystrokes);
        let version = self.saved.map(|(v, _)| v);
        self.update_status(|s| {
            s.enrolment_needed = self.settings.enrolment_keystrokes as u64;
            s.profile_keystrokes = profile_keystrokes;
            s.profile_version = version;
            match state {
                MonitorState::Enrolling { have, .. } => {
                    s.phase = AuthPhase::Enrolling;
                    s.enrolled_keystrokes = have as u64;
                }
                MonitorState::Monitoring => {
                    s.phase = AuthPhase::Monitoring;
                    s.enrolled_keystrokes = s.enrolment_needed;
                }
            }
        });
    }

    fn update_status(&self, change: impl FnOnce(&mut AuthStatus)) {
        if let Ok(mut status) = self.status.lock() {
            change(&mut status);
        }
    }

    fn count_events_today(&self) -> anyhow::Result<u64> {
        let midnight = jiff::Zoned::now()
            .start_of_day()
            .context("finding today's start")?
            .timestamp()
            .as_microsecond();
        Ok(self.store.count_events(&EventFilter {
            from_us: Some(midnight),
            ..EventFilter::default()
        })?)
    }
}

fn set_score(status: &mut AuthStatus, score: &StoredScore) {
    status.verdict = score.verdict;
    status.score = Some(score.score);
    status.confidence = Some(score.confidence);
    status.reason = Some(score.reason.clone());
    status.scored_at = Some(rfc3339(score.to_us));
}

fn local_today() -> jiff::civil::Date {
    jiff::Zoned::now().date()
}

#[cfg(test)]
mod tests {
    use tikker_core::KeyCode;
    use tikker_core::verify::freetext::Params;

    use super::*;

    /// An owner model enrolled on `count` keystrokes of steady typing with some jitter.
    fn owner_model(settings: &MonitorSettings, count: usize, seed: u64) -> OwnerModel {
        let keys: Vec<KeyCode> = "etaoinshrdlu"
            .chars()
            .filter_map(KeyCode::from_char)
            .collect();
        let mut state = seed;
        let mut t = 0;
        let keystrokes: Vec<Keystroke> = (0..count)
            .map(|i| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let jitter = ((state >> 33) % 21) as i64 - 10;
                let keystroke = Keystroke {
                    key: keys[(i * 7 + (state >> 40) as usize) % keys.len()],
                    press_us: t,
                    release_us: t + (90 + jitter) * 1000,
                };
                t += (180 + 2 * jitter) * 1000;
                keystroke
            })
            .collect();
        OwnerModel::enrol(&keystrokes, &settings.monitor_config(), &Params::default()).unwrap()
    }

    fn save(store: &Store, model: &OwnerModel) -> i64 {
        let keystrokes = i64::try_from(model.profile.keystrokes).unwrap();
        store
            .save_profile("owner", now_us(), keystrokes, &model.to_json().unwrap())
            .unwrap()
    }

    /// `count` keystrokes from `start_us`, intervals 150-400 ms and holds 60-140 ms.
    fn typing_events(start_us: i64, count: usize, seed: u64) -> Vec<tikker_core::KeyEvent> {
        let mut state = seed;
        let mut t = start_us;
        let mut events = Vec::new();
        for i in 0..count {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let key = KeyCode(30 + (i % 9) as u16);
            let hold = 60_000 + ((state >> 33) % 80_000) as i64;
            events.push(tikker_core::KeyEvent::press(t, key));
            events.push(tikker_core::KeyEvent::release(t + hold, key));
            t += 150_000 + ((state >> 40) % 250_000) as i64;
        }
        events.sort_by_key(|e| e.time_us);
        events
    }

    /// The owner's authenticator on the plaintext database at `db`, with default settings.
    fn open_plaintext(db: &std::path::Path) -> Authenticator {
        Authenticator::open(
            &crate::db_key::Database::plaintext(db.to_path_buf()),
            "owner",
            &MonitorSettings::default(),
            Arc::new(Mutex::new(AuthStatus::off())),
            Arc::default(),
        )
        .unwrap()
    }

    #[test]
    fn the_replay_history_is_saved_as_it_grows_and_follows_the_retention_prune() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("tikker.db");
        let mut authenticator = open_plaintext(&db);
        // Two runs of typing 10 s apart; the second is saved again as it grows.
        let first = typing_events(1_000_000_000, 30, 1);
        let second = typing_events(1_020_000_000, 40, 2);
        let chunk = |events: &[tikker_core::KeyEvent]| CommittedChunk {
            session: SessionId(1),
            events: events.to_vec(),
        };
        authenticator.take(chunk(&first));
        authenticator.take(chunk(&second[..40]));
        authenticator.save_replay_history();
        authenticator.take(chunk(&second[40..]));
        authenticator.save_replay_history();
        let store = Store::open(&db, &tikker_store::Encryption::Off).unwrap();
        let stored = store.replay_runs().unwrap();
        let kept: Vec<usize> = stored.iter().map(|r| r.timings.len()).collect();
        // The last keystroke of each run waits for the next press to be paired in order.
        assert!(
            kept.len() == 2 && kept[0] >= 29 && kept[1] >= 39,
            "two runs, all their keystrokes: {kept:?}"
        );
        assert_eq!(
            authenticator
                .replay
                .history()
                .runs()
                .cloned()
                .collect::<Vec<_>>(),
            stored
        );

        // The retention prune deletes the first run; the monitor forgets it too.
        assert_eq!(
            store
                .prune_replay_history_before(stored[0].end_us + 1)
                .unwrap(),
            1
        );
        authenticator.follow_replay_prune();
        assert_eq!(
            authenticator
                .replay
                .history()
                .runs()
                .cloned()
                .collect::<Vec<_>>(),
            store.replay_runs().unwrap()
        );
        // A restart loads what is stored.
        drop(authenticator);
        let reopened = open_plaintext(&db);
        assert_eq!(reopened.replay.history().runs().count(), 1);
    }

    #[test]
    fn a_profile_version_saved_by_a_rebuild_replaces_the_one_in_use_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db_key::Database::plaintext(dir.path().join("tikker.db"));
        let settings = MonitorSettings::default();
        let store = db.open().unwrap();
        assert_eq!(save(&store, &owner_model(&settings, 2_000, 1)), 1);
        let status = Arc::new(Mutex::new(AuthStatus::off()));
        let mut authenticator =
            Authenticator::open(&db, "owner", &settings, status.clone(), Arc::default()).unwrap();
        assert_eq!(status.lock().unwrap().phase, AuthPhase::Monitoring);
        assert_eq!(status.lock().unwrap().profile_version, Some(1));
        assert!(!authenticator.reload_if_rebuilt().unwrap(), "nothing newer");

        let rebuilt = owner_model(&settings, 3_000, 2);
        assert_eq!(save(&store, &rebuilt), 2);
        assert!(authenticator.reload_if_rebuilt().unwrap());
        let shown = status.lock().unwrap().clone();
        assert_eq!(shown.profile_version, Some(2));
        assert_eq!(shown.profile_keystrokes, Some(rebuilt.profile.keystrokes));
        assert!(
            !authenticator.reload_if_rebuilt().unwrap(),
            "a version is switched to once"
        );
    }
}
