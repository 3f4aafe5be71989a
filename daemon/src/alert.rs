//! What an alert does outside the database: a desktop notification (notify-rust, straight to
//! `org.freedesktop.Notifications` on the session bus) and the configured alert command.
//!
//! Both run on a helper thread of the authentication monitor and may fail without consequence
//! for the daemon: with no session bus or no notification server the failure is logged and the
//! stored alert says it was not shown. The command (off by default; for example
//! `["loginctl", "lock-session"]`) runs without a shell, with a 30 s limit.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tikker_core::threat::AlertKind;

use notify_rust::{Notification, Timeout, Urgency};

/// What the notification says.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertNotice {
    /// What raised it.
    pub kind: AlertKind,
    /// The window's score (0 for the detectors' alerts).
    pub score: f64,
    /// Its verdict.
    pub verdict: &'static str,
    /// Why, in words.
    pub reason: String,
    /// When the window ended (RFC 3339).
    pub at: String,
}

/// What an alert should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSettings {
    /// Show a desktop notification.
    pub notify: bool,
    /// Run this command (program and arguments); empty: nothing.
    pub command: Vec<String>,
}

/// What became of an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertOutcome {
    /// A notification server took the notification.
    pub notified: bool,
    /// What the command did, if one is configured.
    pub action: Option<String>,
}

/// The summary line of the notification of an impostor alert.
pub const SUMMARY: &str = "tikker: someone else may be typing";

/// The summary line of the notification of an alert of `kind`.
pub fn summary(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::Impostor => SUMMARY,
        AlertKind::Injection => "tikker: a program is typing on this keyboard",
        AlertKind::Replay => "tikker: recorded typing is being played back",
        AlertKind::NewDevice => "tikker: a new keyboard was connected",
    }
}

/// How long the alert command may run.
const COMMAND_LIMIT: Duration = Duration::from_secs(30);

/// Shows the notification and runs the command.
pub fn deliver(notice: &AlertNotice, settings: &AlertSettings) -> AlertOutcome {
    let notified = settings.notify && notify(notice);
    let action = (!settings.command.is_empty()).then(|| run_command(&settings.command));
    AlertOutcome { notified, action }
}

/// The notification's body.
pub fn body(notice: &AlertNotice) -> String {
    match notice.kind {
        AlertKind::Impostor => format!(
            "The typing at this keyboard scored {:.2} ({}) against your profile.\n{}",
            notice.score, notice.verdict, notice.reason
        ),
        _ => notice.reason.clone(),
    }
}

fn notify(notice: &AlertNotice) -> bool {
    let result = Notification::new()
        .appname("tikker")
        .summary(summary(notice.kind))
        .body(&body(notice))
        .icon("tikker")
        .urgency(Urgency::Critical)
        .timeout(Timeout::Never)
        .show();
    match result {
        Ok(_) => {
            tracing::info!("alert notification shown");
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "the alert notification could not be shown (no notification server?); the alert is stored");
            false
        }
    }
}

fn run_command(command: &[String]) -> String {
    let Some((program, args)) = command.split_first() else {
        return "no command".into();
    };
    let spawned = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            tracing::warn!(program = %program, error = %e, "the alert command could not be started");
            return format!("{program}: could not be started: {e}");
        }
    };
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let outcome = format!("{program}: {status}");
                if status.success() {
                    tracing::info!(outcome = %outcome, "alert command ran");
                } else {
                    tracing::warn!(outcome = %outcome, "alert command failed");
                }
                return outcome;
            }
            Ok(None) if started.elapsed() < COMMAND_LIMIT => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                tracing::warn!(program = %program, "the alert command ran over 30 s and was killed");
                return format!("{program}: killed after 30 s");
            }
            Err(e) => return format!("{program}: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> AlertNotice {
        AlertNotice {
            kind: AlertKind::Impostor,
            score: 0.031,
            verdict: "suspicious",
            reason: "distance 3.10 (owner's median 1.00, 99th percentile 1.60)".into(),
            at: "2026-11-22T10:00:00Z".into(),
        }
    }

    #[test]
    fn the_body_gives_the_score_verdict_and_reason() {
        let text = body(&notice());
        assert!(text.contains("0.03 (suspicious)"), "{text}");
        assert!(text.contains("owner's median"), "{text}");
    }

    #[test]
    fn the_alert_command_outcome_is_reported() {
        let settings = |command: &[&str]| AlertSettings {
            notify: false,
            command: command.iter().map(|s| s.to_string()).collect(),
        };
        let ok = deliver(&notice(), &settings(&["true"]));
        assert!(!ok.notified);
        assert_eq!(ok.action.as_deref(), Some("true: exit status: 0"));
        let failed = deliver(&notice(), &settings(&["false"]));
        assert_eq!(failed.action.as_deref(), Some("false: exit status: 1"));
        let missing = deliver(&notice(), &settings(&["/nonexistent/tikker-lock"]));
        assert!(
            missing.action.unwrap().contains("could not be started"),
            "a missing program is reported, not fatal"
        );
        assert_eq!(
            deliver(&notice(), &settings(&[])).action,
            None,
            "off by default"
        );
    }
}
