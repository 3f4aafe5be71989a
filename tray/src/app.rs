//! The tray's loop: ask the daemon for its status every few seconds, show it, and carry out what
//! the menu asks (pause, resume, open the data folder, quit).
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
use crate::view::view;
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
        let observed = tokio::select! {
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
                    Action::OpenDataFolder => {
                        if let Err(why) = open_folder(indicator.data_folder()) {
                            tracing::warn!("{why}");
                            notice.set(why, FAILURE_NOTICE_FOR);
                        }
                        None
                    }
                    Action::OpenDashboard => {
                        let opened = match client.dashboard_code().await {
                            Ok(code) => open_url(&code.url),
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
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        };
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

/// Opens `folder` in the desktop's file manager (`xdg-open`), without waiting for it.
fn open_folder(folder: &Path) -> Result<(), String> {
    if !folder.is_dir() {
        return Err(format!(
            "Could not open {}: it does not exist yet (the daemon creates it)",
            folder.display()
        ));
    }
    xdg_open(folder.as_os_str())
}

/// Opens the dashboard's one-time `url` in the default browser (`xdg-open`).
fn open_url(url: &str) -> Result<(), String> {
    xdg_open(std::ffi::OsStr::new(url))
}

/// Runs `xdg-open target` without waiting for it.
fn xdg_open(target: &std::ffi::OsStr) -> Result<(), String> {
    let shown = Path::new(target).display();
    let mut child = std::process::Command::new("xdg-open")
        .arg(target)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("Could not open {shown} with xdg-open ({e}): install xdg-utils"))?;
    // Reap it whenever it ends, so that no zombie is left behind.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
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
    fn opening_a_missing_folder_says_why() {
        let why = open_folder(Path::new("/nonexistent/tikker")).unwrap_err();
        assert!(why.contains("does not exist yet"), "{why}");
    }
}
