//! `tikker forget`: delete a span of typing from the record (see [`crate::retention`]).

use anyhow::bail;
use clap::Args;
use tikker_capture::clock::now_us;
use tikker_capture::pause::parse_duration;

use super::{RunContext, time_range};

/// Arguments of `tikker forget`.
#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// Forget the last DURATION up to now (10m, 1h30m, 2d).
    #[arg(long, value_name = "DURATION", conflicts_with_all = ["from", "to"])]
    last: Option<String>,
    /// The span's start (a date, RFC 3339, `today`, `yesterday`, or `2h`/`7d` ago), with --to.
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// The span's end (as --from), with --from.
    #[arg(long, requires = "from")]
    to: Option<String>,
    /// Print what was removed as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(context: &RunContext, args: ForgetArgs) -> anyhow::Result<()> {
    let now = now_us();
    let (from_us, to_us) = match (&args.last, &args.from, &args.to) {
        (Some(last), None, None) => {
            let span = parse_duration(last)?;
            let span_us = i64::try_from(span.as_micros()).unwrap_or(i64::MAX);
            (now.saturating_sub(span_us), now.saturating_add(1))
        }
        (None, Some(from), Some(to)) => match time_range(Some(from), Some(to))? {
            (Some(from), Some(to)) if to > from => (from, to),
            _ => bail!("--to must come after --from"),
        },
        _ => bail!("say what to forget: --last DURATION, or --from TIME --to TIME"),
    };
    context.require_database()?;
    let reply = crate::retention::forget(&context.database()?, from_us, to_us)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&reply)?);
    } else {
        outln!("{}", reply.message);
        if !reply.log_truncated {
            outln!(
                "(another process was reading, so the write-ahead log is overwritten at its next checkpoint)"
            );
        }
    }
    Ok(())
}
