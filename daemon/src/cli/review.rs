//! `tikker alerts` and `tikker scores`: the authentication timeline from the database, as a
//! table a person reads (local times) or as the HTTP API's JSON (`--json`).

use std::io::Write;

use clap::Args;
use tikker_core::threat::AlertKind;

use super::{RunContext, time_range};
use crate::api::records::{alert_out, score_out};

/// Arguments of `tikker alerts` and `tikker scores`.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// From then on: today, yesterday, 2h, 7d, a date (YYYY-MM-DD, local time) or an RFC 3339
    /// instant.
    #[arg(long, value_name = "WHEN")]
    from: Option<String>,
    /// Up to then (a date counts whole): same forms as --from.
    #[arg(long, value_name = "WHEN")]
    to: Option<String>,
    /// At most this many, newest first.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// The HTTP API's JSON (`GET /alerts`, `GET /scores`) instead of a table.
    #[arg(long)]
    json: bool,
}

impl ReviewArgs {
    fn range(&self) -> anyhow::Result<(Option<i64>, Option<i64>)> {
        let (from, to) = time_range(self.from.as_deref(), self.to.as_deref())?;
        if let (Some(from), Some(to)) = (from, to)
            && to <= from
        {
            anyhow::bail!("--to must come after --from");
        }
        Ok((from, to))
    }
}

/// `tikker alerts`.
pub fn alerts(context: &RunContext, args: ReviewArgs) -> anyhow::Result<()> {
    let (from, to) = args.range()?;
    let alerts = context.open_store()?.alerts_between(from, to, args.limit)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let alerts: Vec<_> = alerts.into_iter().map(alert_out).collect();
        serde_json::to_writer_pretty(&mut out, &alerts)?;
        writeln!(out)?;
        return Ok(());
    }
    if alerts.is_empty() {
        writeln!(out, "no alerts{}", range_words(&args))?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<19}  {:<10}  {:>5}  what was done / why",
        "time", "kind", "score"
    )?;
    for alert in alerts {
        let score = match alert.kind {
            AlertKind::Impostor => format!("{:.2}", alert.score),
            _ => "-".to_owned(),
        };
        let notified = if alert.notified {
            "notified"
        } else {
            "not notified"
        };
        let done = match &alert.action {
            Some(action) => format!("{notified}; alert command: {action}"),
            None => notified.to_owned(),
        };
        writeln!(
            out,
            "{:<19}  {:<10}  {:>5}  {done}",
            local_time(alert.created_us),
            alert.kind.as_str(),
            score
        )?;
        writeln!(
            out,
            "{:<19}  {:<10}  {:>5}  {}",
            "",
            "",
            "",
            one_line(&alert.reason)
        )?;
    }
    Ok(())
}

/// `tikker scores`.
pub fn scores(context: &RunContext, args: ReviewArgs) -> anyhow::Result<()> {
    let (from, to) = args.range()?;
    let scores = context.open_store()?.scores_between(from, to, args.limit)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let scores: Vec<_> = scores.into_iter().map(score_out).collect();
        serde_json::to_writer_pretty(&mut out, &scores)?;
        writeln!(out)?;
        return Ok(());
    }
    if scores.is_empty() {
        writeln!(out, "no scored windows{}", range_words(&args))?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<19}  {:>5}  {:<16}  {:>10}  reason",
        "window ended", "score", "verdict", "confidence"
    )?;
    for score in scores {
        writeln!(
            out,
            "{:<19}  {:>5.2}  {:<16}  {:>10.2}  {}",
            local_time(score.to_us),
            score.score,
            score.verdict.label(),
            score.confidence,
            one_line(&score.reason)
        )?;
    }
    Ok(())
}

fn range_words(args: &ReviewArgs) -> String {
    match (&args.from, &args.to) {
        (None, None) => String::new(),
        (Some(from), None) => format!(" since {from}"),
        (None, Some(to)) => format!(" up to {to}"),
        (Some(from), Some(to)) => format!(" from {from} to {to}"),
    }
}

/// A time in µs as a person reads it: local, to the second.
fn local_time(time_us: i64) -> String {
    jiff::Timestamp::from_microsecond(time_us)
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::system())
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| time_us.to_string())
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
