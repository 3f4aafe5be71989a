//! The systemd notify protocol (`Type=notify`): `READY=1` once capturing, `STATUS=` lines,
//! `WATCHDOG=1` pings when the unit sets `WatchdogSec=`, `STOPPING=1` on the way out.
//!
//! Outside systemd (`NOTIFY_SOCKET` unset) every call does nothing. A failed notification is
//! logged at debug level and otherwise ignored: it must never stop the recording.

use std::time::Duration;

use sd_notify::NotifyState;

fn notify(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "systemd notification failed");
    }
}

/// The daemon is up: capture runs (or, with `auto` and no source, it serves and waits).
pub fn ready(status: &str) {
    notify(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// A one-line status for `systemctl status`.
pub fn status(status: &str) {
    notify(&[NotifyState::Status(status)]);
}

/// The daemon is stopping.
pub fn stopping() {
    notify(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

/// Tells the watchdog the daemon is alive, with a fresh status line (one datagram).
pub fn watchdog_ping(status: &str) {
    notify(&[NotifyState::Watchdog, NotifyState::Status(status)]);
}

/// How often to ping the watchdog (half its timeout), if the unit set one for this process.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled()
        .filter(|timeout| !timeout.is_zero())
        .map(|timeout| timeout / 2)
}
