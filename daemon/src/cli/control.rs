//! `tikker pause`, `tikker resume`, `tikker status`: talk to the running daemon over its
//! control socket.

use clap::Args;
use hyper::Method;

use crate::api::control::PauseRequest;
use crate::control::client;
use crate::pause::parse_duration;
use crate::runtime_dir::RuntimeDir;
use crate::state::StatusReport;

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

fn call(method: Method, path: &str, body: Option<String>) -> anyhow::Result<StatusReport> {
    let socket = RuntimeDir::locate().control_socket();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(client::call(&socket, method, path, body))
}

pub fn pause(args: PauseArgs) -> anyhow::Result<()> {
    let request = PauseRequest {
        duration_s: args
            .duration
            .as_deref()
            .map(parse_duration)
            .transpose()?
            .map(|d| d.as_secs()),
    };
    let report = call(
        Method::POST,
        "/pause",
        Some(serde_json::to_string(&request)?),
    )?;
    match &report.paused_until {
        Some(end) => println!("capture paused until {}", local_time(end)),
        None => println!("capture paused until `tikker resume`"),
    }
    Ok(())
}

pub fn resume() -> anyhow::Result<()> {
    let report = call(Method::POST, "/resume", None)?;
    println!("capture resumed ({})", report.state);
    Ok(())
}

pub fn status(args: StatusArgs) -> anyhow::Result<()> {
    let report = call(Method::GET, "/status", None)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let source = match (&report.source, &report.source_detail) {
        (Some(source), Some(detail)) => format!(" from {source} ({detail})"),
        _ => String::new(),
    };
    println!("{}{source}", report.state);
    if let Some(reason) = &report.waiting_reason {
        println!("  not capturing: {reason}");
    }
    if report.paused {
        match &report.paused_until {
            Some(end) => println!("  paused until {}", local_time(end)),
            None => println!("  paused until `tikker resume`"),
        }
    }
    let events = &report.events;
    println!(
        "  events: {} recorded, {} dropped, in {} sessions",
        events.recorded, events.dropped, events.sessions
    );
    println!(
        "  capture to disk: p50 {:.0} ms, p99 {:.0} ms",
        report.latency.p50_ms, report.latency.p99_ms
    );
    println!("  events today: {}", report.events_today);
    let auth = &report.auth;
    match auth.phase.as_str() {
        "off" => println!("  authentication: off (monitor.enabled = false)"),
        "enrolling" => println!(
            "  authentication: enrolling, {} of {} keystrokes ({:.0} %); verdicts are unknown until then",
            auth.enrolled_keystrokes,
            auth.enrolment_needed,
            100.0 * auth.enrolled_keystrokes as f64 / auth.enrolment_needed.max(1) as f64
        ),
        _ => println!(
            "  authentication: monitoring with profile version {} ({} keystrokes)",
            auth.profile_version.map_or("?".into(), |v| v.to_string()),
            auth.profile_keystrokes.unwrap_or_default()
        ),
    }
    match (auth.score, &auth.scored_at) {
        (Some(score), Some(at)) => println!(
            "  last score: {score:.2} ({}, confidence {:.2}) at {}",
            auth.verdict,
            auth.confidence.unwrap_or_default(),
            local_time(at)
        ),
        _ => println!("  last score: none yet ({})", auth.verdict),
    }
    match &auth.last_alert {
        Some(alert) => println!(
            "  last alert: {} (score {:.2}; notification {})",
            local_time(&alert.at),
            alert.score,
            if alert.notified { "shown" } else { "not shown" }
        ),
        None => println!("  last alert: none"),
    }
    if auth.skipped_events > 0 {
        println!(
            "  not scored (monitor behind): {} events",
            auth.skipped_events
        );
    }
    println!("  database: {}  (pid {})", report.database, report.pid);
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
