//! What the tray shows for what it knows about the daemon: the icon's colour and mark, the
//! tooltip, the menu's lines and which actions are offered. Pure functions, so every state is
//! unit-tested without a desktop.
//!
//! Colours: green for `authentic` and `likely_authentic`, amber for `uncertain`, red for
//! `suspicious`, blue while it learns the owner's typing (enrolling); grey whenever no verdict
//! stands: paused (with a pause mark), authentication off or unknown, no source, or no daemon
//! (with a dash). A score from before a pause is not shown once capture resumes
//! ([`forget_scores_before`]), nor while paused.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::tz::TimeZone;

use tikker_wire::client::LinkError;
use tikker_wire::status::{
    AuthPhase, AuthStatus, CaptureState, StatusReport as DaemonStatus, Verdict,
};

/// The icon's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shade {
    /// The typing is the owner's.
    Green,
    /// Not sure.
    Amber,
    /// Someone else is probably typing.
    Red,
    /// Learning the owner's typing (enrolling): protection is not on yet.
    Blue,
    /// No verdict: paused, unknown, no source or no daemon.
    Grey,
}

/// A mark drawn on the icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Nothing.
    Plain,
    /// Two bars: capture is paused.
    Pause,
    /// A dash: no daemon answers.
    Absent,
}

/// How the icon looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IconLook {
    /// Its colour.
    pub shade: Shade,
    /// Its mark.
    pub mark: Mark,
}

/// Everything the tray shows at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct TrayView {
    /// The icon.
    pub look: IconLook,
    /// The tooltip (several lines).
    pub tooltip: String,
    /// The menu's first line: what the daemon is doing.
    pub status_line: String,
    /// The score and verdict (or why there is none).
    pub score_line: String,
    /// Enrolment progress, only while enrolling.
    pub enrolment_line: Option<String>,
    /// Something worth saying once: the daemon restarted, an action failed.
    pub notice_line: Option<String>,
    /// Whether the pause actions are offered.
    pub can_pause: bool,
    /// Whether "Resume" is offered.
    pub can_resume: bool,
    /// Whether "Start tikker" is offered (no daemon runs).
    pub can_start: bool,
    /// The folder "Open data folder" opens.
    pub data_folder: PathBuf,
}

/// Menu lines longer than this are cut (the tooltip keeps the whole text).
const MENU_LINE_CHARS: usize = 72;

/// What the tray shows for the latest answer from the daemon (or the lack of one).
///
/// `notice` is a passing message (a restart, a failed action); `fallback_data_folder` is opened
/// when no daemon says where its database is; `zone` formats the end of a pause.
pub fn view(
    observed: &Result<DaemonStatus, LinkError>,
    notice: Option<&str>,
    fallback_data_folder: &Path,
    zone: &TimeZone,
) -> TrayView {
    match observed {
        Ok(status) => connected_view(status, notice, fallback_data_folder, zone),
        Err(error) => {
            let status_line = match error {
                LinkError::NotRunning(_) => "Daemon not running".to_owned(),
                LinkError::Failed(why) => format!("Daemon not answering: {why}"),
                refused @ LinkError::Refused { .. } => format!("Daemon not answering: {refused}"),
                LinkError::Untrusted(why) => format!("Not your daemon, ignored: {why}"),
            };
            let hint = match error {
                LinkError::Untrusted(_) => "Nothing was sent to it; remove what the message names",
                _ => "Start it: Start tikker, below (or systemctl --user start tikker)",
            };
            TrayView {
                look: IconLook {
                    shade: Shade::Grey,
                    mark: Mark::Absent,
                },
                tooltip: lines(&[
                    &format!("tikker: {}", lowercase_first(&status_line)),
                    hint,
                    notice.unwrap_or_default(),
                ]),
                status_line: menu_line(&status_line),
                score_line: hint.to_owned(),
                enrolment_line: None,
                notice_line: notice.map(menu_line),
                can_pause: false,
                can_resume: false,
                can_start: matches!(error, LinkError::NotRunning(_)),
                data_folder: fallback_data_folder.to_path_buf(),
            }
        }
    }
}

fn connected_view(
    status: &DaemonStatus,
    notice: Option<&str>,
    fallback_data_folder: &Path,
    zone: &TimeZone,
) -> TrayView {
    let paused = status.paused || status.state == CaptureState::Paused;
    let mut status_line = if paused {
        match &status.paused_until {
            Some(end) => format!("Paused until {}", local_time(end, zone)),
            None => "Paused until resumed".to_owned(),
        }
    } else {
        match status.state {
            CaptureState::Capturing => match &status.source {
                Some(source) => format!("Capturing from {source}"),
                None => "Capturing".to_owned(),
            },
            CaptureState::Waiting => match &status.waiting_reason {
                Some(reason) => format!("Not capturing: {reason}"),
                None => "Not capturing: no source".to_owned(),
            },
            CaptureState::Starting => "Starting".to_owned(),
            CaptureState::Stopping => "Stopping".to_owned(),
            CaptureState::Paused => "Paused".to_owned(),
            CaptureState::Unknown => "Daemon state unknown".to_owned(),
        }
    };
    if let Some(events) = status.events_today {
        status_line.push_str(&format!(" · {} key events today", thousands(events)));
    }

    let (verdict_shade, score_line, enrolment_line) = authentication(status.auth.as_ref());
    let score_line = if paused && enrolment_line.is_none() {
        "No score while paused".to_owned()
    } else {
        score_line
    };
    let capturing = status.state == CaptureState::Capturing && !paused;
    let look = IconLook {
        shade: if capturing {
            verdict_shade
        } else {
            Shade::Grey
        },
        mark: if paused { Mark::Pause } else { Mark::Plain },
    };

    let mut tooltip_lines = vec![format!("tikker: {}", lowercase_first(&status_line))];
    tooltip_lines.push(score_line.clone());
    if let Some(enrolment) = &enrolment_line {
        tooltip_lines.push(enrolment.clone());
    }
    if let Some(notice) = notice {
        tooltip_lines.push(notice.to_owned());
    }
    let tooltip_refs: Vec<&str> = tooltip_lines.iter().map(String::as_str).collect();

    TrayView {
        look,
        tooltip: lines(&tooltip_refs),
        status_line: menu_line(&status_line),
        score_line: menu_line(&score_line),
        enrolment_line: enrolment_line.as_deref().map(menu_line),
        notice_line: notice.map(menu_line),
        can_pause: !paused,
        can_resume: paused,
        can_start: false,
        data_folder: Path::new(&status.database)
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| fallback_data_folder.to_path_buf()),
    }
}

/// The colour a verdict earns, the score line, and the enrolment line while enrolling.
fn authentication(auth: Option<&AuthStatus>) -> (Shade, String, Option<String>) {
    let Some(auth) = auth else {
        return (Shade::Grey, "Verdict: unknown (no score)".to_owned(), None);
    };
    match auth.phase {
        AuthPhase::Off => (
            Shade::Grey,
            "Authentication is off (verdict unknown)".to_owned(),
            None,
        ),
        AuthPhase::Enrolling => {
            let needed = auth.enrolment_needed.max(1);
            let percent = (auth.enrolled_keystrokes.min(needed) * 100) / needed;
            (
                Shade::Blue,
                "Learning your typing: protection starts when enrolment is done".to_owned(),
                Some(format!(
                    "Enrolment: {} of {} keystrokes ({percent} %)",
                    thousands(auth.enrolled_keystrokes),
                    thousands(auth.enrolment_needed)
                )),
            )
        }
        AuthPhase::Monitoring | AuthPhase::Unknown => {
            let shade = match (auth.phase, auth.verdict) {
                (AuthPhase::Unknown, _) => Shade::Grey,
                (_, Verdict::Authentic | Verdict::LikelyAuthentic) => Shade::Green,
                (_, Verdict::Uncertain) => Shade::Amber,
                (_, Verdict::Suspicious) => Shade::Red,
                (_, Verdict::Unknown) => Shade::Grey,
            };
            let line = match auth.score {
                Some(score) => format!("Score {score:.2}: {}", auth.verdict.label()),
                None => format!("Score: none yet ({})", auth.verdict.label()),
            };
            (shade, line, None)
        }
    }
}

/// Drops a verdict scored before `resumed_at` (the moment the tray saw capture resume): after
/// Pause then Resume, the verdict of the typing before the pause no longer stands.
pub fn forget_scores_before(status: &mut DaemonStatus, resumed_at: Option<Timestamp>) {
    let (Some(auth), Some(resumed_at)) = (status.auth.as_mut(), resumed_at) else {
        return;
    };
    let scored_at = auth
        .scored_at
        .as_deref()
        .and_then(|at| at.parse::<Timestamp>().ok());
    if scored_at.is_none_or(|at| at <= resumed_at) {
        auth.verdict = Verdict::Unknown;
        auth.score = None;
        auth.confidence = None;
        auth.scored_at = None;
    }
}

/// An RFC 3339 instant as a local time of day (with the date when it is not today).
fn local_time(instant: &str, zone: &TimeZone) -> String {
    let Ok(timestamp) = instant.parse::<Timestamp>() else {
        return instant.to_owned();
    };
    let then = timestamp.to_zoned(zone.clone());
    let today = Timestamp::now().to_zoned(zone.clone()).date();
    if then.date() == today {
        then.strftime("%H:%M").to_string()
    } else {
        then.strftime("%Y-%m-%d %H:%M").to_string()
    }
}

/// A count with thin groups of three digits: 12,345.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A menu label: `&` is shown as itself (menus would take it for a mnemonic), long text is cut.
fn menu_line(text: &str) -> String {
    let cut: String = if text.chars().count() > MENU_LINE_CHARS {
        let mut cut: String = text.chars().take(MENU_LINE_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        text.to_owned()
    };
    cut.replace('&', "&&")
}

/// The non-empty parts, one per line.
fn lines(parts: &[&str]) -> String {
    let kept: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
    kept.join("\n")
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capturing() -> DaemonStatus {
        DaemonStatus {
            state: CaptureState::Capturing,
            source: Some("x11".into()),
            database: "/home/me/.local/share/tikker/tikker.db".into(),
            pid: 10,
            ..DaemonStatus::default()
        }
    }

    fn monitoring(verdict: Verdict, score: Option<f64>) -> Option<AuthStatus> {
        Some(AuthStatus {
            phase: AuthPhase::Monitoring,
            verdict,
            score,
            ..AuthStatus::default()
        })
    }

    fn show(status: DaemonStatus) -> TrayView {
        view(&Ok(status), None, Path::new("/fallback"), &TimeZone::UTC)
    }

    #[test]
    fn verdicts_colour_the_icon_while_capturing() {
        for (verdict, shade) in [
            (Verdict::Authentic, Shade::Green),
            (Verdict::LikelyAuthentic, Shade::Green),
            (Verdict::Uncertain, Shade::Amber),
            (Verdict::Suspicious, Shade::Red),
            (Verdict::Unknown, Shade::Grey),
        ] {
            let shown = show(DaemonStatus {
                auth: monitoring(verdict, Some(0.5)),
                ..capturing()
            });
            assert_eq!(shown.look.shade, shade, "{verdict:?}");
            assert_eq!(shown.look.mark, Mark::Plain);
        }
        let shown = show(DaemonStatus {
            auth: monitoring(Verdict::Authentic, Some(0.934)),
            ..capturing()
        });
        assert_eq!(shown.score_line, "Score 0.93: authentic");
        assert_eq!(shown.status_line, "Capturing from x11");
        assert_eq!(
            shown.tooltip,
            "tikker: capturing from x11\nScore 0.93: authentic"
        );
        assert!(shown.can_pause && !shown.can_resume);
    }

    #[test]
    fn paused_is_grey_with_a_pause_mark_whatever_the_verdict() {
        let shown = show(DaemonStatus {
            state: CaptureState::Paused,
            paused: true,
            paused_until: Some("2001-02-03T04:05:06Z".into()),
            auth: monitoring(Verdict::Authentic, Some(0.99)),
            ..capturing()
        });
        assert_eq!(
            shown.look,
            IconLook {
                shade: Shade::Grey,
                mark: Mark::Pause
            }
        );
        assert_eq!(shown.status_line, "Paused until 2001-02-03 04:05");
        assert!(shown.tooltip.starts_with("tikker: paused until"));
        assert!(!shown.can_pause && shown.can_resume);

        let indefinite = show(DaemonStatus {
            state: CaptureState::Paused,
            paused: true,
            ..capturing()
        });
        assert_eq!(indefinite.status_line, "Paused until resumed");
    }

    #[test]
    fn a_pause_ending_today_shows_the_time_only() {
        let today = Timestamp::now().to_zoned(TimeZone::UTC).date();
        let paused_until = |day: jiff::civil::Date| {
            let end = day.at(12, 0, 0, 0).to_zoned(TimeZone::UTC).unwrap();
            show(DaemonStatus {
                state: CaptureState::Paused,
                paused: true,
                paused_until: Some(end.timestamp().to_string()),
                ..capturing()
            })
            .status_line
        };
        assert_eq!(paused_until(today), "Paused until 12:00");
        let tomorrow = today.tomorrow().unwrap();
        assert_eq!(
            paused_until(tomorrow),
            format!("Paused until {tomorrow} 12:00"),
            "another day shows its date"
        );
    }

    #[test]
    fn no_auth_or_off_is_grey_and_enrolling_blue() {
        let without = show(capturing());
        assert_eq!(without.look.shade, Shade::Grey);
        assert_eq!(without.score_line, "Verdict: unknown (no score)");
        assert_eq!(without.enrolment_line, None);

        let enrolling = show(DaemonStatus {
            auth: Some(AuthStatus {
                phase: AuthPhase::Enrolling,
                enrolled_keystrokes: 1234,
                enrolment_needed: 5000,
                ..AuthStatus::default()
            }),
            ..capturing()
        });
        assert_eq!(
            enrolling.look.shade,
            Shade::Blue,
            "learning looks different from no daemon"
        );
        assert_eq!(
            enrolling.enrolment_line.as_deref(),
            Some("Enrolment: 1,234 of 5,000 keystrokes (24 %)")
        );
        assert!(enrolling.tooltip.contains("Enrolment: 1,234"));

        let off = show(DaemonStatus {
            auth: Some(AuthStatus {
                phase: AuthPhase::Off,
                verdict: Verdict::Authentic,
                ..AuthStatus::default()
            }),
            ..capturing()
        });
        assert_eq!(off.look.shade, Shade::Grey);
    }

    #[test]
    fn not_capturing_is_grey_even_with_a_verdict() {
        for state in [
            CaptureState::Waiting,
            CaptureState::Starting,
            CaptureState::Stopping,
        ] {
            let shown = show(DaemonStatus {
                state,
                source: None,
                waiting_reason: Some("no keyboard & no display".into()),
                auth: monitoring(Verdict::Authentic, Some(0.9)),
                ..capturing()
            });
            assert_eq!(shown.look.shade, Shade::Grey, "{state:?}");
        }
        let waiting = show(DaemonStatus {
            state: CaptureState::Waiting,
            waiting_reason: Some("no keyboard & no display".into()),
            ..capturing()
        });
        // `&` would be a mnemonic in a menu.
        assert_eq!(
            waiting.status_line,
            "Not capturing: no keyboard && no display"
        );
    }

    #[test]
    fn no_daemon_is_grey_with_a_dash_and_says_how_to_start_it() {
        let shown = view(
            &Err(LinkError::NotRunning(std::path::PathBuf::new())),
            Some("The daemon stopped at 10:00:00"),
            Path::new("/home/me/.local/share/tikker"),
            &TimeZone::UTC,
        );
        assert_eq!(
            shown.look,
            IconLook {
                shade: Shade::Grey,
                mark: Mark::Absent
            }
        );
        assert_eq!(shown.status_line, "Daemon not running");
        assert!(shown.tooltip.contains("not running"), "{}", shown.tooltip);
        assert!(shown.tooltip.contains("systemctl --user start tikker"));
        assert_eq!(
            shown.notice_line.as_deref(),
            Some("The daemon stopped at 10:00:00")
        );
        assert!(!shown.can_pause && !shown.can_resume);
        assert!(shown.can_start, "Start tikker is offered");
        assert!(shown.tooltip.contains("Start tikker"), "{}", shown.tooltip);
        assert_eq!(shown.data_folder, Path::new("/home/me/.local/share/tikker"));

        let stuck = view(
            &Err(LinkError::Failed(
                "the daemon did not answer within 5 s".into(),
            )),
            None,
            Path::new("/x"),
            &TimeZone::UTC,
        );
        assert_eq!(
            stuck.status_line,
            "Daemon not answering: the daemon did not answer within 5 s"
        );
    }

    #[test]
    fn a_socket_of_another_account_is_shown_as_not_your_daemon_and_offers_no_pause() {
        let shown = view(
            &Err(LinkError::Untrusted(
                tikker_wire::socket::TrustError::WrongOwner {
                    path: "/tmp/tikker-1000".into(),
                    owner: 4242,
                    expected: 1000,
                },
            )),
            None,
            Path::new("/x"),
            &TimeZone::UTC,
        );
        assert!(
            shown.tooltip.contains("not your daemon")
                && shown.tooltip.contains("/tmp/tikker-1000")
                && shown.tooltip.contains("uid 4242"),
            "{}",
            shown.tooltip
        );
        assert_eq!(shown.look.mark, Mark::Absent);
        assert!(!shown.can_pause && !shown.can_resume);
    }

    #[test]
    fn the_data_folder_is_the_databases_folder() {
        assert_eq!(
            show(capturing()).data_folder,
            Path::new("/home/me/.local/share/tikker")
        );
        let bare = show(DaemonStatus {
            database: "tikker.db".into(),
            ..capturing()
        });
        assert_eq!(bare.data_folder, Path::new("/fallback"));
    }

    #[test]
    fn events_today_join_the_status_line_and_long_lines_are_cut() {
        let shown = show(DaemonStatus {
            events_today: Some(1_234_567),
            ..capturing()
        });
        assert_eq!(
            shown.status_line,
            "Capturing from x11 · 1,234,567 key events today"
        );
        let long = show(DaemonStatus {
            state: CaptureState::Waiting,
            waiting_reason: Some("x".repeat(200)),
            ..capturing()
        });
        assert_eq!(long.status_line.chars().count(), MENU_LINE_CHARS);
        assert!(long.status_line.ends_with('…'));
        assert!(long.tooltip.contains(&"x".repeat(200)));
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
    }

    #[test]
    fn after_pause_and_resume_the_verdict_from_before_the_pause_is_not_shown() {
        let scored = |at: &str| DaemonStatus {
            auth: Some(AuthStatus {
                scored_at: Some(at.into()),
                ..monitoring(Verdict::Suspicious, Some(0.01)).unwrap()
            }),
            ..capturing()
        };
        let paused = show(DaemonStatus {
            paused: true,
            state: CaptureState::Paused,
            ..scored("2026-11-30T10:00:00Z")
        });
        assert_eq!(paused.score_line, "No score while paused");
        assert_eq!(paused.look.shade, Shade::Grey);

        let resumed_at = "2026-11-30T10:05:00Z".parse::<Timestamp>().ok();
        let mut stale = scored("2026-11-30T10:00:00Z");
        forget_scores_before(&mut stale, resumed_at);
        let shown = show(stale);
        assert_eq!(shown.look.shade, Shade::Grey, "no stale red");
        assert!(
            shown.score_line.starts_with("Score: none yet"),
            "{}",
            shown.score_line
        );

        let mut fresh = scored("2026-11-30T10:06:00Z");
        forget_scores_before(&mut fresh, resumed_at);
        assert_eq!(show(fresh).look.shade, Shade::Red, "a new verdict stands");
    }
}
