//! `tikker pause`, `tikker resume`, `tikker status`: talk to the running daemon over its
//! control socket.

use clap::Args;
use tikker_capture::pause::parse_duration;
use tikker_wire::client::ControlClient;
use tikker_wire::status::{AlertKind, AuthPhase, StatusReport};

/// Arguments of `tikker pause`.
#[derive(Debug, Args)]
pub struct PauseArgs {
    /// How long to pause (15m, 1h30m, 90s, 2d); without it, until `tikker resume`.
    #[arg(long = "for", value_name = "DURATION")]
    duration: Option<String>,
}

/// Arguments of `tikker status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the daemon's JSON status as it is.
    #[arg(long)]
    json: bool,
}

/// Runs one request of the control client to completion.
fn block_on<T>(
    request: impl std::future::Future<Output = Result<T, tikker_wire::client::LinkError>>,
) -> anyhow::Result<T> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(request)?)
}

pub fn pause(args: PauseArgs) -> anyhow::Result<()> {
    let duration = args.duration.as_deref().map(parse_duration).transpose()?;
    let report = block_on(ControlClient::for_this_user().pause(duration))?;
    match &report.paused_until {
        Some(end) => outln!("capture paused until {}", local_time(end)),
        None => outln!("capture paused until `tikker resume`"),
    }
    Ok(())
}

pub fn resume() -> anyhow::Result<()> {
    let client = ControlClient::for_this_user();
    // Whether there was a pause to end, so that the answer does not claim one (if the status
    // cannot be read, the resume below reports the daemon's error).
    let was_paused = block_on(client.status()).map_or(true, |report| report.paused);
    let report = block_on(client.resume())?;
    if was_paused {
        outln!("capture resumed ({})", report.state.as_str());
    } else {
        outln!(
            "capture was not paused: nothing to resume ({})",
            report.state.as_str()
        );
    }
    Ok(())
}

pub fn status(args: StatusArgs) -> anyhow::Result<()> {
    let report: StatusReport = match block_on(ControlClient::for_this_user().status()) {
        Ok(report) => report,
        Err(e) if args.json => {
            // Scripts read standard output: it says so in JSON, and the exit code is non-zero.
            outln!(
                "{}",
                serde_json::json!({"running": false, "error": format!("{e:#}")})
            );
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let source = match (&report.source, &report.source_detail) {
        (Some(source), Some(detail)) => format!(" from {source} ({detail})"),
        _ => String::new(),
    };
    outln!("{}{source}", report.state.as_str());
    if let Some(reason) = &report.waiting_reason {
        outln!("  not capturing: {reason}");
    }
    if let Some(storage) = &report.storage {
        outln!(
            "  not recording: {} (since {}): {} fail ({}); kept in memory and retried: {} events, {} records",
            storage.cause.describe(),
            local_time(&storage.since),
            storage.failing.join(", "),
            storage.error,
            storage.pending_events,
            storage.pending_records
        );
    }
    if let Some(damage) = &report.history_damage {
        outln!(
            "  stored typing damaged: {} parts could not be read ({}); recording goes on. To recover: {}",
            damage.parts,
            damage.error,
            damage.recovery
        );
    }
    if report.paused {
        match &report.paused_until {
            Some(end) => outln!("  paused until {}", local_time(end)),
            None => outln!("  paused until `tikker resume`"),
        }
    }
    let events = &report.events;
    outln!(
        "  key events (presses and releases): {} recorded, {} dropped, in {} sessions",
        events.recorded,
        events.dropped,
        events.sessions
    );
    outln!(
        "  capture to disk: p50 {:.0} ms, p99 {:.0} ms",
        report.latency.p50_ms,
        report.latency.p99_ms
    );
    if let Some(today) = report.events_today {
        outln!("  key events today: {today}");
    }
    let auth = report.auth.clone().unwrap_or_default();
    match auth.phase {
        AuthPhase::Off => outln!("  authentication: off (monitor.enabled = false)"),
        AuthPhase::Enrolling => outln!(
            "  authentication: enrolling, {} of {} keystrokes ({:.0} %); verdicts are unknown until then",
            auth.enrolled_keystrokes,
            auth.enrolment_needed,
            100.0 * auth.enrolled_keystrokes as f64 / auth.enrolment_needed.max(1) as f64
        ),
        _ => outln!(
            "  authentication: monitoring with profile version {} (learned from {} keystrokes)",
            auth.profile_version.map_or("?".into(), |v| v.to_string()),
            auth.profile_keystrokes.unwrap_or_default()
        ),
    }
    match (auth.score, &auth.scored_at) {
        (Some(score), Some(at)) => outln!(
            "  last score: {score:.2} ({}, confidence {:.2}) at {}",
            auth.verdict.as_str(),
            auth.confidence.unwrap_or_default(),
            local_time(at)
        ),
        _ => outln!("  last score: none yet ({})", auth.verdict.as_str()),
    }
    match &auth.last_alert {
        Some(alert) => outln!(
            "  last alert: {}, {} (notification {})",
            local_time(&alert.at),
            match alert.kind {
                AlertKind::Impostor =>
                    format!("someone else may be typing: score {:.2}", alert.score),
                AlertKind::Injection => "a program was typing (injection)".to_owned(),
                AlertKind::Replay => "recorded typing was played back (replay)".to_owned(),
                AlertKind::NewDevice => "a new keyboard was connected".to_owned(),
            },
            match (alert.marked_false, alert.id) {
                (true, _) => "shown; marked false: It was me".to_owned(),
                (false, Some(id)) if alert.notified =>
                    format!("shown; if it was you: tikker alerts --false {id}"),
                (false, Some(id)) =>
                    format!("not shown; if it was you: tikker alerts --false {id}"),
                (false, None) if alert.notified => "shown".to_owned(),
                (false, None) => "not shown".to_owned(),
            }
        ),
        None => outln!("  last alert: none"),
    }
    if auth.alerts_marked_false > 0 {
        outln!(
            "  alerts marked false (It was me): {}",
            auth.alerts_marked_false
        );
    }
    if auth.skipped_events > 0 {
        outln!(
            "  not scored (monitor behind): {} events",
            auth.skipped_events
        );
    }
    outln!("  database: {}  (pid {})", report.database, report.pid);
    if let Some(privacy) = &report.privacy {
        let encryption = match (privacy.encryption.as_str(), &privacy.key_file) {
            ("keyring", _) => "encrypted, key in the Secret Service".to_owned(),
            ("keyfile", Some(file)) => format!("encrypted, key in the file {file}"),
            ("keyfile", None) => "encrypted, key in a file".to_owned(),
            _ => "NOT encrypted ([store] encryption = \"off\")".to_owned(),
        };
        outln!("  record: {encryption}");
        let kept = match privacy.raw_retention_days {
            0 => "raw key events kept only while the monitor needs them".to_owned(),
            days => format!("raw key events kept {days} days"),
        };
        match &privacy.raw_kept_from {
            Some(from) => outln!("  {kept} (none before {})", local_time(from)),
            None => outln!("  {kept}"),
        }
        if let Some(note) = &privacy.note {
            outln!("  note: {note}");
        }
    }
    Ok(())
}

/// An RFC 3339 instant in local time, as people read it.
fn local_time(instant: &str) -> String {
    instant
        .parse::<jiff::Timestamp>()
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::system())
                .strftime("%Y-%m-%d %H:%M:%S %Z")
                .to_string()
        })
        .unwrap_or_else(|_| instant.to_owned())
}
