//! The tray's loop: ask the daemon for its status every few seconds, show it, and carry out what
//! the menu asks (pause, resume, open the data folder, start the daemon, quit).
//!
//! "Open data folder" and "Start tikker" report a failure in the menu: `xdg-open` that cannot
//! start or exits non-zero, a daemon that neither `systemctl --user start tikker` nor the
//! `tikker daemon` binary could start. After Pause then Resume, the verdict from before the pause
//! is not shown ([`forget_scores_before`]).
//!
//! Everything runs on one thread (the tray item is not `Send`); tray-icon's D-Bus side runs on
//! its own threads and hands menu clicks over through a channel. A missing, stopped or restarted
//! daemon is shown, logged once and retried at the next poll: nothing about the daemon ends the
//! tray.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use jiff::tz::TimeZone;
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::MissedTickBehavior;
use tray_icon::TrayIconEvent;
use tray_icon::menu::MenuEvent;

use crate::indicator::{Action, Indicator};
use crate::view::{forget_scores_before, view};
use tikker_wire::client::{ControlClient, LinkError};
use tikker_wire::status::StatusReport as DaemonStatus;

/// What the tray was asked to do.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The daemon's control socket.
    pub socket: PathBuf,
    /// How often to ask the daemon for its status.
    pub poll_interval: Duration,
    /// The data folder to open when no daemon says where its database is.
    pub fallback_data_folder: PathBuf,
}

/// How long a notice about the daemon (started, stopped, restarted) stays in the menu.
const DAEMON_NOTICE_FOR: Duration = Duration::from_secs(10 * 60);
/// How long a notice about a failed action stays in the menu.
const FAILURE_NOTICE_FOR: Duration = Duration::from_secs(60);

/// Runs the tray until "Quit tray", SIGTERM or SIGINT.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let (clicks, mut clicked) = tokio::sync::mpsc::unbounded_channel();
    MenuEvent::set_event_handler(Some(move |event: MenuEvent| {
        let _ = clicks.send(event.id);
    }));
    // Left clicks on the icon (SNI `Activate`) mean nothing here; drop them rather than let
    // them pile up in tray-icon's channel.
    TrayIconEvent::set_event_handler(Some(|_event: TrayIconEvent| {}));

    let zone = TimeZone::system();
    let client = ControlClient::new(settings.socket.clone());
    let mut tracker = DaemonTracker::default();
    let mut notice = Notice::default();
    let mut resumes = ResumeTracker::default();
    // Failures of helpers that end after the click (xdg-open, the daemon's start).
    let (failures, mut failed) = tokio::sync::mpsc::unbounded_channel::<String>();

    let observed = client.status().await;
    tracker.observe(&observed, &zone);
    let mut indicator =
        Indicator::new(view(&observed, None, &settings.fallback_data_folder, &zone))?;
    tracing::info!(socket = %client.socket().display(), "tray ready");

    let mut poll = tokio::time::interval(settings.poll_interval);
    poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
    poll.tick().await; // The first tick is immediate: the status was just read.
    let mut terminate = signal(SignalKind::terminate()).context("handling SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("handling SIGINT")?;

    loop {
        let mut observed = tokio::select! {
            _ = poll.tick() => client.status().await,
            Some(id) = clicked.recv() => {
                let Some(action) = Action::from_menu_id(&id) else { continue };
                tracing::info!(?action, "menu");
                let done = match action {
                    Action::Quit => break,
                    Action::PauseQuarterHour => Some((
                        "pause",
                        client.pause(Some(Duration::from_secs(15 * 60))).await,
                    )),
                    Action::PauseUntilResumed => Some(("pause", client.pause(None).await)),
                    Action::Resume => Some(("resume", client.resume().await)),
                    Action::ForgetLastFiveMinutes => {
                        match client.forget_last(5).await {
                            Ok(reply) => {
                                tracing::info!(events = reply.events, "forgot the last 5 minutes");
                                notice.set(
                                    format!(
                                        "Forgot the last 5 minutes: {} keystrokes",
                                        reply.keystrokes
                                    ),
                                    FAILURE_NOTICE_FOR,
                                );
                            }
                            Err(e) => {
                                let why = format!("Could not forget the last 5 minutes: {e}");
                                tracing::warn!("{why}");
                                notice.set(why, FAILURE_NOTICE_FOR);
                            }
                        }
                        None
                    }
                    Action::OpenDataFolder => {
                        if let Err(why) = open_folder(indicator.data_folder(), failures.clone()) {
                            tracing::warn!("{why}");
                            notice.set(why, FAILURE_NOTICE_FOR);
                        }
                        None
                    }
                    Action::StartDaemon => {
                        let failures = failures.clone();
                        tokio::task::spawn_blocking(move || {
                            if let Err(why) = start_daemon() {
                                let _ = failures.send(why);
                            }
                        });
                        None
                    }
                    Action::OpenDashboard => {
                        let opened = match client.dashboard_code().await {
                            Ok(code) => open_url(&code.url, failures.clone()),
                            Err(e) => Err(format!("Could not open the dashboard: {e}")),
                        };
                        if let Err(why) = opened {
                            tracing::warn!("{why}");
                            notice.set(why, FAILURE_NOTICE_FOR);
                        }
                        None
                    }
                };
                poll.reset();
                match done {
                    Some((_, Ok(status))) => Ok(status),
                    Some((verb, Err(e))) => {
                        let why = format!("Could not {verb}: {e}");
                        tracing::warn!("{why}");
                        notice.set(why, FAILURE_NOTICE_FOR);
                        // The action failed, not necessarily the daemon (it may have refused):
                        // whether the daemon is there is read afresh.
                        client.status().await
                    }
                    None => client.status().await,
                }
            }
            Some(why) = failed.recv() => {
                tracing::warn!("{why}");
                notice.set(why, FAILURE_NOTICE_FOR);
                client.status().await
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        };
        if let Ok(status) = observed.as_mut() {
            let resumed_at = resumes.observe(status.paused);
            forget_scores_before(status, resumed_at);
        }
        if let Some(change) = tracker.observe(&observed, &zone) {
            notice.set(change, DAEMON_NOTICE_FOR);
        }
        let shown = view(
            &observed,
            notice.current(),
            &settings.fallback_data_folder,
            &zone,
        );
        if let Err(e) = indicator.show(shown) {
            // The item lives on the bus; a failed update is shown again at the next poll.
            tracing::warn!(error = %format!("{e:#}"), "updating the tray failed");
        }
    }
    tracing::info!("tray stopped");
    Ok(())
}

/// Opens `folder` in the desktop's file manager (`xdg-open`), without waiting for it; if it ends
/// with a failure, `failures` hears why.
fn open_folder(
    folder: &Path,
    failures: tokio::sync::mpsc::UnboundedSender<String>,
) -> Result<(), String> {
    open_folder_with(Path::new("xdg-open"), folder, failures)
}

/// [`open_folder`] with `opener` in the place of `xdg-open`.
fn open_folder_with(
    opener: &Path,
    folder: &Path,
    failures: tokio::sync::mpsc::UnboundedSender<String>,
) -> Result<(), String> {
    if !folder.is_dir() {
        return Err(format!(
            "Could not open {}: it does not exist yet (the daemon creates it)",
            folder.display()
        ));
    }
    let mut child = std::process::Command::new(opener)
        .arg(folder)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| {
            format!(
                "Could not open {} with xdg-open ({e}): install xdg-utils",
                folder.display()
            )
        })?;
    // Reap it whenever it ends (no zombie is left behind), and say if it failed.
    let shown = folder.display().to_string();
    std::thread::spawn(move || match child.wait() {
        Ok(status) if status.success() => {}
        Ok(status) => {
            let _ = failures.send(format!(
                "Could not open {shown}: xdg-open {status} (is a file manager installed?)"
            ));
        }
        Err(e) => {
            let _ = failures.send(format!("Could not open {shown}: xdg-open: {e}"));
        }
    });
    Ok(())
}

/// Opens the dashboard's one-time `url` in the default browser (`xdg-open`), without waiting
/// for it; a failure of xdg-open is sent to `failures`.
fn open_url(url: &str, failures: tokio::sync::mpsc::UnboundedSender<String>) -> Result<(), String> {
    let mut child = std::process::Command::new("xdg-open")
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| {
            format!("Could not open the dashboard with xdg-open ({e}): install xdg-utils")
        })?;
    std::thread::spawn(move || match child.wait() {
        Ok(status) if status.success() => {}
        Ok(status) => {
            let _ = failures.send(format!(
                "Could not open the dashboard: xdg-open {status} (is a browser installed?)"
            ));
        }
        Err(e) => {
            let _ = failures.send(format!("Could not open the dashboard: xdg-open: {e}"));
        }
    });
    Ok(())
}

/// How long "Start tikker" waits for `systemctl --user start tikker`.
const SYSTEMCTL_LIMIT: Duration = Duration::from_secs(15);

/// "Start tikker": the user unit (`systemctl --user start tikker`), or, where there is no such
/// unit or no user systemd, the `tikker daemon` binary (beside this one, else on `PATH`) as a
/// process of its own. Blocks for at most [`SYSTEMCTL_LIMIT`]; says why when neither worked.
fn start_daemon() -> Result<(), String> {
    use std::process::{Command, Stdio};
    let unit = Command::new("systemctl")
        .args(["--user", "start", "tikker"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let unit_error = match unit {
        Ok(mut child) => {
            let started = Instant::now();
            loop {
                match child.try_wait() {
                    Ok(Some(status)) if status.success() => {
                        tracing::info!("started the daemon: systemctl --user start tikker");
                        return Ok(());
                    }
                    Ok(Some(status)) => break format!("systemctl --user start tikker: {status}"),
                    Ok(None) if started.elapsed() < SYSTEMCTL_LIMIT => {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    Ok(None) => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break "systemctl --user start tikker did not finish in 15 s".to_owned();
                    }
                    Err(e) => break format!("systemctl --user start tikker: {e}"),
                }
            }
        }
        Err(e) => format!("systemctl: {e}"),
    };
    let binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("tikker")))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("tikker"));
    let mut daemon = Command::new(&binary);
    daemon
        .arg("daemon")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // Its own session: it outlives the tray.
    std::os::unix::process::CommandExt::process_group(&mut daemon, 0);
    match daemon.spawn() {
        Ok(mut child) => {
            tracing::info!(binary = %binary.display(), reason = %unit_error, "started the daemon without systemd");
            // A daemon that fails at once (another one starting, a bad configuration) is said.
            std::thread::sleep(Duration::from_secs(2));
            match child.try_wait() {
                Ok(Some(status)) if !status.success() => Err(format!(
                    "Could not start tikker: {unit_error}; {} daemon: {status} (see journalctl or run `tikker daemon` in a terminal)",
                    binary.display()
                )),
                _ => {
                    std::thread::spawn(move || {
                        let _ = child.wait();
                    });
                    Ok(())
                }
            }
        }
        Err(e) => Err(format!(
            "Could not start tikker: {unit_error}; {}: {e}",
            binary.display()
        )),
    }
}

/// Notices capture resuming, from successive answers: the moment the tray first saw it.
#[derive(Debug, Default)]
struct ResumeTracker {
    was_paused: bool,
    resumed_at: Option<jiff::Timestamp>,
}

impl ResumeTracker {
    /// Takes whether capture is paused now; returns when it was last seen resuming.
    fn observe(&mut self, paused: bool) -> Option<jiff::Timestamp> {
        if self.was_paused && !paused {
            self.resumed_at = Some(jiff::Timestamp::now());
        }
        self.was_paused = paused;
        self.resumed_at
    }
}

/// A passing message shown in the menu and tooltip until it expires.
#[derive(Debug, Default)]
struct Notice {
    text: Option<(String, Instant)>,
}

impl Notice {
    fn set(&mut self, text: String, lasting: Duration) {
        self.text = Some((text, Instant::now() + lasting));
    }

    fn current(&mut self) -> Option<&str> {
        if self
            .text
            .as_ref()
            .is_some_and(|(_, until)| Instant::now() >= *until)
        {
            self.text = None;
        }
        self.text.as_ref().map(|(text, _)| text.as_str())
    }
}

/// Notices the daemon coming, going and restarting, from successive answers.
#[derive(Debug, Default)]
struct DaemonTracker {
    /// The pid of the last daemon that answered.
    last_pid: Option<u32>,
    /// Whether the last poll reached a daemon (`None` before the first poll).
    reachable: Option<bool>,
}

impl DaemonTracker {
    /// Takes in one answer; returns what changed, in words, when something worth saying did.
    fn observe(
        &mut self,
        observed: &Result<DaemonStatus, LinkError>,
        zone: &TimeZone,
    ) -> Option<String> {
        let now = || {
            jiff::Timestamp::now()
                .to_zoned(zone.clone())
                .strftime("%H:%M:%S")
                .to_string()
        };
        let was_reachable = self.reachable;
        match observed {
            Ok(status) => {
                self.reachable = Some(true);
                // A daemon too old to say its pid reports 0: unknown.
                let pid = Some(status.pid).filter(|pid| *pid != 0);
                let previous_pid = std::mem::replace(&mut self.last_pid, pid);
                match (was_reachable, previous_pid, pid) {
                    (_, Some(before), Some(now_pid)) if before != now_pid => {
                        tracing::info!(pid = now_pid, "the daemon restarted");
                        Some(format!("The daemon restarted at {}", now()))
                    }
                    (Some(false), _, _) => {
                        tracing::info!(pid = status.pid, "the daemon is running");
                        Some(format!("The daemon started at {}", now()))
                    }
                    (None, _, _) => {
                        tracing::info!(pid = status.pid, "connected to the daemon");
                        None
                    }
                    _ => None,
                }
            }
            Err(error) => {
                self.reachable = Some(false);
                match was_reachable {
                    Some(true) => {
                        tracing::warn!(%error, "lost the daemon");
                        Some(format!("The daemon stopped at {}", now()))
                    }
                    None => {
                        tracing::warn!(%error, "no daemon yet; trying again at every poll");
                        None
                    }
                    Some(false) => None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(pid: u32) -> Result<DaemonStatus, LinkError> {
        Ok(DaemonStatus {
            pid,
            ..DaemonStatus::default()
        })
    }

    #[test]
    fn the_tracker_says_when_the_daemon_comes_goes_and_restarts() {
        let zone = TimeZone::UTC;
        let mut tracker = DaemonTracker::default();
        assert_eq!(tracker.observe(&running(1), &zone), None);
        assert_eq!(tracker.observe(&running(1), &zone), None);
        let stopped = tracker.observe(
            &Err(LinkError::NotRunning(std::path::PathBuf::new())),
            &zone,
        );
        assert!(stopped.unwrap().starts_with("The daemon stopped at "));
        assert_eq!(
            tracker.observe(
                &Err(LinkError::NotRunning(std::path::PathBuf::new())),
                &zone
            ),
            None
        );
        let restarted = tracker.observe(&running(2), &zone);
        assert!(restarted.unwrap().starts_with("The daemon restarted at "));
        // A restart seen between two polls (a new pid, no gap).
        let restarted = tracker.observe(&running(3), &zone);
        assert!(restarted.unwrap().starts_with("The daemon restarted at "));
    }

    #[test]
    fn a_daemon_that_appears_after_the_tray_is_announced() {
        let zone = TimeZone::UTC;
        let mut tracker = DaemonTracker::default();
        assert_eq!(
            tracker.observe(
                &Err(LinkError::NotRunning(std::path::PathBuf::new())),
                &zone
            ),
            None
        );
        let started = tracker.observe(&running(7), &zone);
        assert!(started.unwrap().starts_with("The daemon started at "));
    }

    #[test]
    fn notices_expire() {
        let mut notice = Notice::default();
        assert_eq!(notice.current(), None);
        notice.set("hello".into(), Duration::from_secs(60));
        assert_eq!(notice.current(), Some("hello"));
        notice.set("gone".into(), Duration::ZERO);
        assert_eq!(notice.current(), None);
    }

    #[test]
    fn a_failing_xdg_open_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("xdg-open");
        std::fs::write(&script, "#!/bin/sh\nexit 4\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let (failures, mut failed) = tokio::sync::mpsc::unbounded_channel();
        open_folder_with(&script, dir.path(), failures).unwrap();
        let why = failed.blocking_recv().unwrap();
        assert!(why.contains("exit status: 4"), "{why}");
        assert!(why.contains(&dir.path().display().to_string()), "{why}");
    }

    #[test]
    fn resuming_is_noticed_once_per_resume() {
        let mut resumes = ResumeTracker::default();
        assert_eq!(resumes.observe(false), None);
        assert_eq!(resumes.observe(true), None);
        let first = resumes.observe(false).unwrap();
        assert_eq!(resumes.observe(false), Some(first), "the moment is kept");
    }

    #[test]
    fn opening_a_missing_folder_says_why() {
        let (failures, _failed) = tokio::sync::mpsc::unbounded_channel();
        let why = open_folder(Path::new("/nonexistent/tikker"), failures).unwrap_err();
        assert!(why.contains("does not exist yet"), "{why}");
    }
}
