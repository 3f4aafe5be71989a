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
