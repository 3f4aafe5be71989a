//! What an alert does outside the database: a desktop notification a person can act on
//! (notify-rust, straight to `org.freedesktop.Notifications` on the session bus) and the
//! configured alert command.
//!
//! - **Words.** The notification says what happened in plain words: when, how unlike the
//!   owner's typing it was, and what tikker did; never the verifier's internal names (they stay
//!   in the stored reason, `tikker alerts`). Machine typing (`injection`) has its own wording.
//! - **Buttons**, on servers that offer actions (dunst does; `GetCapabilities`): **It was me**
//!   marks the alert false ([`OwnerLink::it_was_me`]: the monitor may then learn the typing it
//!   covered), **Lock screen** runs the alert command (`loginctl lock-session` when none is
//!   set), **Details** opens the dashboard at that alert when the daemon's HTTP API serves one,
//!   or else shows the alert's record in a second notification. Without actions the text says
//!   which command marks the alert false.
//! - **Never waiting on the server** (issue 13, item 8). Every D-Bus call runs on a thread of
//!   its own that the alert never joins: the alert command runs at once, whatever the
//!   notification server does, and the outcome waits at most [`NOTIFY_TIMEOUT`] for the server
//!   to take the notification (then it is recorded as not shown). A server that accepted a call
//!   and never answers holds only that detached thread, never the monitor nor the daemon's stop.
//! - **One notification per intrusion.** While the monitor's cooldown holds further alerts
//!   back, continued suspicious typing replaces the alert's notification (same id) with a count
//!   ([`AlertNotification::update`]); at most one update is in flight at a time.
//!
//! The command (off by default; for example `["loginctl", "lock-session"]`) runs without a shell,
//! with a 30 s limit. Failures of either are logged and recorded on the alert, never fatal.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use notify_rust::{Notification, Timeout, Urgency};
use tikker_core::threat::AlertKind;

use crate::owner_link::OwnerLink;

/// What the notification says.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertNotice {
    /// What raised it.
    pub kind: AlertKind,
    /// The stored alert's id (`None` if it could not be stored).
    pub alert_id: Option<i64>,
    /// The window's calibrated score in `[0, 1]` (0 for the detectors' alerts).
    pub score: f64,
    /// Its verdict.
    pub verdict: &'static str,
    /// Why, in the verifier's terms (stored and logged; not shown in the notification).
    pub reason: String,
    /// When the window ended (µs since the Unix epoch).
    pub at_us: i64,
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
    /// The daemon's HTTP API on TCP, where **Details** looks for the dashboard.
    pub api: Option<SocketAddr>,
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

/// The summary line of the notification that replaces it while the intrusion goes on.
pub const SUMMARY_CONTINUED: &str = "tikker: someone else may still be typing";

/// The summary line of the notification when the enrolment completes.
pub const SUMMARY_ENROLLED: &str = "tikker: protection is now on";

/// The action keys of the buttons (what `ActionInvoked` carries).
pub mod action {
    /// "It was me": the alert is marked false.
    pub const IT_WAS_ME: &str = "it-was-me";
    /// "Lock screen": the alert command, or `loginctl lock-session`.
    pub const LOCK_SCREEN: &str = "lock-screen";
    /// "Details": the dashboard at the alert, or its record.
    pub const DETAILS: &str = "details";
}

/// How long an alert waits for the notification server to take its notification; beyond, it
/// is recorded as not shown and the call is left to its thread.
pub const NOTIFY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the alert command (and the Lock screen command) may run.
const COMMAND_LIMIT: Duration = Duration::from_secs(30);

/// The command of **Lock screen** when no alert command is configured.
const LOCK_SESSION: [&str; 2] = ["loginctl", "lock-session"];

/// The summary line of the notification of an alert of `kind`.
pub fn summary(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::Impostor => SUMMARY,
        AlertKind::Injection => "tikker: a program is typing on this keyboard",
        AlertKind::Replay => "tikker: recorded typing is being played back",
        AlertKind::NewDevice => "tikker: a new keyboard was connected",
    }
}

/// A local time of day, `HH:MM:SS`.
fn clock(time_us: i64) -> String {
    jiff::Timestamp::from_microsecond(time_us)
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::system())
                .strftime("%H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| "an unknown time".to_owned())
}

/// How unlike the owner's typing a calibrated score is, in words and figures.
fn unlikeness(score: f64) -> String {
    let words = if score < 0.01 {
        "nothing like yours"
    } else if score < 0.1 {
        "very unlike yours"
    } else {
        "unlike yours"
    };
    format!(
        "{words}: it resembled your typing {:.0} in 100 (below 40 tikker treats as someone else)",
        (score * 100.0).clamp(0.0, 100.0)
    )
}

/// What tikker did, in words.
fn what_was_done(settings: &AlertSettings) -> String {
    match settings.command.first() {
        Some(program) => format!(
            "tikker keeps this typing out of what it learns about you and ran your alert command ({program})."
        ),
        None => "tikker keeps this typing out of what it learns about you; the screen was not locked (no alert command is set).".to_owned(),
    }
}

/// What the owner can do, in words: the buttons, or the command without them.
fn what_to_do(notice: &AlertNotice, buttons: bool) -> String {
    match (buttons, notice.alert_id) {
        (true, _) => "If it was you, choose It was me.".to_owned(),
        (false, Some(id)) => format!("If it was you, run: tikker alerts --false {id}"),
        (false, None) => "Review it with: tikker alerts".to_owned(),
    }
}

/// The notification's body: when, how unlike the owner's typing, what tikker did, and what the
/// owner can do (`buttons`: the server shows the actions).
pub fn body(notice: &AlertNotice, settings: &AlertSettings, buttons: bool) -> String {
    let when = clock(notice.at_us);
    let happened = match notice.kind {
        AlertKind::Impostor => format!(
            "At {when} the typing on this keyboard was {}.",
            unlikeness(notice.score)
        ),
        AlertKind::Injection => {
            // The detector's reason is "<the rule in words>: <figures>"; the words are plain.
            let rule = notice.reason.split(':').next().unwrap_or("").trim();
            format!(
                "At {when} keys were typed by a program, not by hand ({rule}). If you started a \
                 program that types (a password manager's auto-type, a macro tool), that was it."
            )
        }
        AlertKind::Replay => {
            format!("At {when} typing recorded earlier was played back on this keyboard.")
        }
        AlertKind::NewDevice => format!("At {when} a keyboard tikker had not seen was connected."),
    };
    format!(
        "{happened}\n{}\n{}",
        what_was_done(settings),
        what_to_do(notice, buttons)
    )
}

/// The body of the notification that replaces the alert's while the intrusion goes on.
pub fn continued_body(
    notice: &AlertNotice,
    settings: &AlertSettings,
    buttons: bool,
    more: u32,
    latest: &ContinuedTyping,
) -> String {
    let times = if more == 1 {
        "once more".to_owned()
    } else {
        format!("{more} more times")
    };
    format!(
        "Since {} the typing on this keyboard looked unlike yours {times}; the latest, at {}, was {}.\n{}\n{}",
        clock(notice.at_us),
        clock(latest.at_us),
        unlikeness(latest.score),
        what_was_done(settings),
        what_to_do(notice, buttons)
    )
}

/// The latest suspicious window during a cooldown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContinuedTyping {
    /// When it ended (µs).
    pub at_us: i64,
    /// Its calibrated score.
    pub score: f64,
}

/// What the buttons of a notification need: the owner's link to the monitor, the database (to
/// mark the alert) and the alert settings (the lock command, the dashboard).
#[derive(Debug, Clone)]
pub struct Responder {
    /// Passes "It was me" to the monitor.
    pub owner_link: OwnerLink,
    /// `tikker.db` (with its key).
    pub database: crate::db_key::Database,
}

/// The notification of one alert: its server id once shown, and at most one update in flight.
#[derive(Debug, Default)]
pub struct AlertNotification {
    state: Mutex<NotificationState>,
}

#[derive(Debug, Default)]
struct NotificationState {
    /// The server's id of the notification, once shown.
    id: Option<u32>,
    /// Whether the server offered actions.
    buttons: bool,
    /// An update is on its way to the server.
    updating: bool,
    /// The newest count not sent yet (the notification was not shown yet, or an update was on
    /// its way): sent as soon as possible.
    pending: Option<(u32, ContinuedTyping)>,
}

impl AlertNotification {
    fn lock(&self) -> std::sync::MutexGuard<'_, NotificationState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The server's id of the notification, once shown.
    pub fn id(&self) -> Option<u32> {
        self.lock().id
    }

    /// Records the server's id once the notification is shown, and sends a count that came in
    /// meanwhile.
    fn shown(
        self: &Arc<Self>,
        id: u32,
        buttons: bool,
        notice: &AlertNotice,
        settings: &AlertSettings,
    ) {
        let pending = {
            let mut state = self.lock();
            state.id = Some(id);
            state.buttons = buttons;
            state.pending.take()
        };
        if let Some((more, latest)) = pending {
            self.update(notice, settings, more, latest);
        }
    }

    /// Replaces the notification (same id, same buttons) with the count of suspicious windows
    /// since the alert, on a thread of its own. While the notification is not shown yet, or an
    /// earlier update is still on its way, the count waits and the newest one is sent after.
    pub fn update(
        self: &Arc<Self>,
        notice: &AlertNotice,
        settings: &AlertSettings,
        more: u32,
        latest: ContinuedTyping,
    ) {
        let (id, buttons) = {
            let mut state = self.lock();
            match state.id {
                Some(id) if !state.updating => {
                    state.updating = true;
                    (id, state.buttons)
                }
                _ => {
                    state.pending = Some((more, latest));
                    return;
                }
            }
        };
        let mut notification = alert_notification(notice.kind);
        notification
            .id(id)
            .summary(SUMMARY_CONTINUED)
            .body(&continued_body(notice, settings, buttons, more, &latest));
        if buttons {
            add_buttons(&mut notification);
        }
        let this = Arc::clone(self);
        let (notice, settings) = (notice.clone(), settings.clone());
        let spawned = std::thread::Builder::new()
            .name("notify-update".into())
            .spawn(move || {
                if let Err(e) = notification.show() {
                    tracing::warn!(error = %e, "the alert notification could not be updated");
                }
                let pending = {
                    let mut state = this.lock();
                    state.updating = false;
                    state.pending.take()
                };
                if let Some((more, latest)) = pending {
                    this.update(&notice, &settings, more, latest);
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "the alert notification could not be updated (no thread)");
            self.lock().updating = false;
        }
    }
}

fn alert_notification(kind: AlertKind) -> Notification {
    let mut notification = Notification::new();
    notification
        .appname("tikker")
        .summary(summary(kind))
        .icon("tikker")
        .urgency(Urgency::Critical)
        .timeout(Timeout::Never);
    notification
}

fn add_buttons(notification: &mut Notification) {
    notification
        .action(action::IT_WAS_ME, "It was me")
        .action(action::LOCK_SCREEN, "Lock screen")
        .action(action::DETAILS, "Details");
}

/// Whether the notification server offers actions (buttons).
fn server_offers_actions() -> bool {
    notify_rust::get_capabilities()
        .map(|caps| caps.iter().any(|c| c == "actions"))
        .unwrap_or(false)
}

/// Shows the notification (on a thread of its own) and runs the command (on this one, at once);
/// waits at most [`NOTIFY_TIMEOUT`] for the server to take the notification. The notification's
/// thread then serves its buttons until it is closed.
pub fn deliver(
    notice: &AlertNotice,
    settings: &AlertSettings,
    responder: Option<Responder>,
    notification: &Arc<AlertNotification>,
) -> AlertOutcome {
    let started = Instant::now();
    let shown = settings
        .notify
        .then(|| show_in_background(notice, settings, responder, notification));
    let action = (!settings.command.is_empty()).then(|| run_command(&settings.command));
    let notified = match shown {
        None => false,
        Some(shown) => match shown.recv_timeout(NOTIFY_TIMEOUT.saturating_sub(started.elapsed())) {
            Ok(Ok(id)) => {
                tracing::info!(notification = id, "alert notification shown");
                true
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the alert notification could not be shown (no notification server?); the alert is stored");
                false
            }
            Err(_) => {
                tracing::warn!(
                    timeout_s = NOTIFY_TIMEOUT.as_secs(),
                    "the notification server did not answer in time: the alert is stored, its notification counted as not shown"
                );
                false
            }
        },
    };
    AlertOutcome { notified, action }
}

/// Starts the thread that shows the notification and then serves its buttons; the receiver
/// gets the server's id (or why it failed) once the server answers.
fn show_in_background(
    notice: &AlertNotice,
    settings: &AlertSettings,
    responder: Option<Responder>,
    notification: &Arc<AlertNotification>,
) -> mpsc::Receiver<Result<u32, String>> {
    let (answer, shown) = mpsc::sync_channel(1);
    let notice = notice.clone();
    let settings = settings.clone();
    let state = Arc::clone(notification);
    let spawned = std::thread::Builder::new()
        .name("notify".into())
        .spawn(move || {
            let buttons = server_offers_actions();
            let mut message = alert_notification(notice.kind);
            message.body(&body(&notice, &settings, buttons));
            if buttons {
                add_buttons(&mut message);
            }
            let handle = match message.show() {
                Ok(handle) => handle,
                Err(e) => {
                    let _ = answer.send(Err(e.to_string()));
                    return;
                }
            };
            let id = handle.id();
            let _ = answer.send(Ok(id));
            state.shown(id, buttons, &notice, &settings);
            if let (true, Some(responder)) = (buttons, responder) {
                serve_buttons(handle, &notice, &settings, &responder);
            }
        });
    if let Err(e) = spawned {
        let (failed, shown) = mpsc::sync_channel(1);
        let _ = failed.send(Err(format!("no thread for the notification: {e}")));
        return shown;
    }
    shown
}

/// Waits for the owner's choice on the notification, and acts on it; "Lock screen" and
/// "Details" leave the notification's other buttons in service, "It was me" and closing it end.
fn serve_buttons(
    handle: notify_rust::NotificationHandle,
    notice: &AlertNotice,
    settings: &AlertSettings,
    responder: &Responder,
) {
    let id = handle.id();
    let mut chosen = String::new();
    handle.wait_for_action(|action| chosen = action.to_owned());
    loop {
        if !respond(&chosen, notice, settings, responder) {
            return;
        }
        chosen.clear();
        let listened = notify_rust::handle_action(id, |response| {
            chosen = match response {
                notify_rust::ActionResponse::Custom(action) => (*action).to_owned(),
                notify_rust::ActionResponse::Closed(_) => "__closed".to_owned(),
            }
        });
        if listened.is_err() || chosen.is_empty() {
            return;
        }
    }
}

/// Acts on one button; says whether the notification's buttons stay in service.
fn respond(
    chosen: &str,
    notice: &AlertNotice,
    settings: &AlertSettings,
    responder: &Responder,
) -> bool {
    match chosen {
        action::IT_WAS_ME => {
            let Some(alert_id) = notice.alert_id else {
                tracing::warn!("\"It was me\" on an alert that could not be stored");
                return false;
            };
            let marked = responder
                .database
                .open_store()
                .and_then(|store| responder.owner_link.it_was_me(&store, alert_id));
            match marked {
                Ok(_) => {
                    tracing::info!(alert = alert_id, "\"It was me\" chosen on the notification")
                }
                Err(e) => {
                    tracing::error!(alert = alert_id, error = %e, "\"It was me\" could not be stored")
                }
            }
            false
        }
        action::LOCK_SCREEN => {
            let command: Vec<String> = if settings.command.is_empty() {
                LOCK_SESSION.iter().map(|s| s.to_string()).collect()
            } else {
                settings.command.clone()
            };
            let outcome = run_command(&command);
            tracing::info!(outcome = %outcome, "\"Lock screen\" chosen on the notification");
            true
        }
        action::DETAILS | "default" => {
            show_details(notice, settings);
            true
        }
        _ => false,
    }
}

/// "Details": the dashboard at the alert when the daemon's API serves one, else the alert's
/// record in a notification of its own.
fn show_details(notice: &AlertNotice, settings: &AlertSettings) {
    if let Some(url) = settings
        .api
        .and_then(|api| dashboard_url(api, notice.alert_id))
    {
        let outcome = run_command(&["xdg-open".to_owned(), url.clone()]);
        if outcome.ends_with("exit status: 0") {
            tracing::info!(url = %url, "\"Details\": the dashboard was opened");
            return;
        }
        tracing::warn!(outcome = %outcome, "\"Details\": the dashboard could not be opened; showing the alert's record instead");
    }
    let what = match notice.kind {
        AlertKind::Impostor => format!("typing {}", unlikeness(notice.score)),
        AlertKind::Injection => "keys typed by a program".to_owned(),
        AlertKind::Replay => "recorded typing played back".to_owned(),
        AlertKind::NewDevice => "a new keyboard".to_owned(),
    };
    let id = notice
        .alert_id
        .map_or_else(String::new, |id| format!(" {id}"));
    let text = format!(
        "Alert{id} at {}: {what}.\nEvery alert, with what was done: tikker alerts\nEvery scored stretch of typing: tikker scores",
        clock(notice.at_us)
    );
    let shown = Notification::new()
        .appname("tikker")
        .summary(&format!("tikker: alert{id}"))
        .body(&text)
        .icon("tikker")
        .show();
    if let Err(e) = shown {
        tracing::warn!(error = %e, "\"Details\": the alert's record could not be shown");
    }
}

/// The dashboard's address for alert `id` if the API at `api` serves `/dashboard` (asked with
/// a 1 s limit; no dashboard, no answer or an error: `None`).
fn dashboard_url(api: SocketAddr, id: Option<i64>) -> Option<String> {
    use std::io::{Read, Write};
    let limit = Duration::from_secs(1);
    let mut stream = std::net::TcpStream::connect_timeout(&api, limit).ok()?;
    stream.set_read_timeout(Some(limit)).ok()?;
    stream.set_write_timeout(Some(limit)).ok()?;
    write!(
        stream,
        "HEAD /dashboard HTTP/1.1\r\nHost: {api}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    let status = String::from_utf8_lossy(&head[9..12]).into_owned();
    (status != "404" && !status.starts_with('5')).then(|| match id {
        Some(id) => format!("http://{api}/dashboard#alert-{id}"),
        None => format!("http://{api}/dashboard"),
    })
}

/// Tells the owner, once, that the enrolment is complete and monitoring has begun; on a thread
/// of its own that nothing waits for.
pub fn notify_enrolled(keystrokes: u64) {
    let text = format!(
        "tikker has learned how you type from {keystrokes} keystrokes. From now on it checks, \
         as you type, that the typing on this keyboard is yours, and tells you when it is not."
    );
    let spawned = std::thread::Builder::new()
        .name("notify-enrolled".into())
        .spawn(move || {
            let shown = Notification::new()
                .appname("tikker")
                .summary(SUMMARY_ENROLLED)
                .body(&text)
                .icon("tikker")
                .urgency(Urgency::Normal)
                .show();
            match shown {
                Ok(_) => tracing::info!("enrolment notification shown"),
                Err(e) => {
                    tracing::info!(error = %e, "the enrolment notification could not be shown")
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "the enrolment notification could not be shown (no thread)");
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

    fn notice(kind: AlertKind, reason: &str) -> AlertNotice {
        AlertNotice {
            kind,
            alert_id: Some(7),
            score: 0.031,
            verdict: "suspicious",
            reason: reason.into(),
            at_us: 1_795_000_000_000_000,
            at: "2026-11-19T10:13:20Z".into(),
        }
    }

    fn settings(command: &[&str]) -> AlertSettings {
        AlertSettings {
            notify: false,
            command: command.iter().map(|s| s.to_string()).collect(),
            api: None,
        }
    }

    /// Words of the verifier that mean nothing to a person.
    const INTERNAL: [&str; 6] = [
        "distance",
        "hold_mean",
        "percentile",
        "median",
        "component",
        "calibrat",
    ];

    #[test]
    fn the_body_says_when_how_unlike_and_what_was_done_without_internal_names() {
        let reason = "distance 3.10 (owner's median 1.00, 99th percentile 1.60); largest component: hold_mean2";
        let text = body(
            &notice(AlertKind::Impostor, reason),
            &settings(&["loginctl", "lock-session"]),
            true,
        );
        assert!(text.contains("very unlike yours"), "{text}");
        assert!(text.contains("3 in 100"), "{text}");
        assert!(text.contains("ran your alert command (loginctl)"), "{text}");
        assert!(text.contains("choose It was me"), "{text}");
        for word in INTERNAL {
            assert!(!text.contains(word), "{word:?} in {text}");
        }
        let without_buttons = body(&notice(AlertKind::Impostor, reason), &settings(&[]), false);
        assert!(
            without_buttons.contains("tikker alerts --false 7"),
            "{without_buttons}"
        );
        assert!(
            without_buttons.contains("the screen was not locked"),
            "{without_buttons}"
        );
    }

    #[test]
    fn machine_typing_has_its_own_plain_wording() {
        let text = body(
            &notice(
                AlertKind::Injection,
                "typing faster than any person sustains: 83.3 keys/s over 10 keystrokes, median hold 6.0 ms",
            ),
            &settings(&[]),
            true,
        );
        assert!(text.contains("typed by a program"), "{text}");
        assert!(
            text.contains("typing faster than any person sustains"),
            "{text}"
        );
        assert!(
            !text.contains("keys/s") && !text.contains("median"),
            "{text}"
        );
    }

    #[test]
    fn the_update_during_a_cooldown_counts_the_windows() {
        let text = continued_body(
            &notice(AlertKind::Impostor, ""),
            &settings(&[]),
            true,
            3,
            &ContinuedTyping {
                at_us: 1_795_000_090_000_000,
                score: 0.0,
            },
        );
        assert!(text.contains("3 more times"), "{text}");
        assert!(text.contains("nothing like yours"), "{text}");
    }

    #[test]
    fn the_alert_command_outcome_is_reported() {
        let none = Arc::new(AlertNotification::default());
        let run = |command: &[&str]| {
            deliver(
                &notice(AlertKind::Impostor, ""),
                &settings(command),
                None,
                &none,
            )
        };
        let ok = run(&["true"]);
        assert!(!ok.notified);
        assert_eq!(ok.action.as_deref(), Some("true: exit status: 0"));
        let failed = run(&["false"]);
        assert_eq!(failed.action.as_deref(), Some("false: exit status: 1"));
        let missing = run(&["/nonexistent/tikker-lock"]);
        assert!(
            missing.action.unwrap().contains("could not be started"),
            "a missing program is reported, not fatal"
        );
        assert_eq!(run(&[]).action, None, "off by default");
    }

    #[test]
    fn details_finds_no_dashboard_where_nothing_listens() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        assert_eq!(dashboard_url(address, Some(3)), None);
    }
}
