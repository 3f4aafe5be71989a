//! `tikker daemon`: capture key events into tikker.db until stopped.

use clap::Args;

use super::RunContext;
use crate::daemon::{DaemonOptions, configured_source};
use tikker_capture::SourceSpec;

/// Arguments of `tikker daemon`.
#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Where key events come from: auto, x11, evdev, or replay:PATH (a recorded events-csv,
    /// Aalto or raw input_event file; the daemon stops when it is done). Default: the
    /// configuration's capture.source (auto).
    #[arg(long, value_name = "SOURCE")]
    source: Option<SourceSpec>,
    /// Replay speed (replay only): 1 = the recorded pace, 1000 = a thousand times faster,
    /// inf = without waiting.
    #[arg(long, value_name = "N")]
    speed: Option<f64>,
    /// After a replay, keep running (the control socket, the HTTP API, the notifications'
    /// buttons) until stopped, instead of stopping when it is done.
    #[arg(long)]
    keep_running: bool,
    /// The HTTP API's TCP address (IP:PORT); default: the configuration's api.listen
    /// (127.0.0.1:8003).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<std::net::SocketAddr>,
}

pub fn run(context: &RunContext, args: DaemonArgs) -> anyhow::Result<()> {
    let capture = &context.config.capture;
    let source = args.source.unwrap_or_else(|| configured_source(capture));
    if args.speed.is_some() && !matches!(source, SourceSpec::Replay(_)) {
        anyhow::bail!("--speed applies to replays only (--source replay:PATH)");
    }
    if args.keep_running && !matches!(source, SourceSpec::Replay(_)) {
        anyhow::bail!("--keep-running applies to replays only (--source replay:PATH)");
    }
    crate::daemon::run(
        &context.database()?,
        capture,
        DaemonOptions {
            source,
            speed: args.speed.unwrap_or(1.0),
            keep_running: args.keep_running,
            monitor: context.config.monitor.clone(),
            api: crate::api::ApiOptions::from_config(
                &context.config.api,
                context.config.capture.effective_user(),
                args.listen,
            )?,
            raw_retention_days: context.config.store.raw_retention_days,
        },
    )
}
