//! `tikker alerts` and `tikker scores`: the authentication timeline from the database, as a
//! table a person reads (local times) or as the HTTP API's JSON (`--json`); `tikker alerts
//! --false ID` is the owner's "It was me", through the daemon (`POST /alerts/{id}/false`).

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
    /// At most this many, newest first (at least 1).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    limit: u32,
    /// The HTTP API's JSON (`GET /alerts`, `GET /scores`) instead of a table.
    #[arg(long)]
    json: bool,
}

/// Arguments of `tikker alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    #[command(flatten)]
    range: ReviewArgs,
    /// "It was me": mark alert ID (the first column) false; the daemon may then learn the
    /// typing it covered.
    #[arg(long = "false", visible_alias = "it-was-me", value_name = "ID")]
    mark_false: Option<i64>,
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

/// `tikker alerts --false ID`: through the daemon, or, when none runs, in the database only.
fn mark_false(context: &RunContext, id: i64, json: bool) -> anyhow::Result<()> {
    use tikker_wire::client::{ControlClient, LinkError};
    let answer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(
            ControlClient::for_this_user().call::<tikker_wire::api::AlertOut>(
                hyper::Method::POST,
                &format!("/alerts/{id}/false"),
                None,
            ),
        );
    let (alert, released) = match answer {
        Ok(alert) => (alert, true),
        Err(LinkError::NotRunning(_)) => {
            let marked = context
                .open_existing_store()?
                .mark_alert_false(id, tikker_capture::clock::now_us())?
                .ok_or_else(|| {
                    anyhow::anyhow!("no alert has id {id} (`tikker alerts` lists them)")
                })?;
            (alert_out(marked.alert), false)
        }
        Err(LinkError::Refused { status: 404, .. }) => {
            anyhow::bail!("no alert has id {id} (`tikker alerts` lists them)")
        }
        Err(e) => return Err(e.into()),
    };
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &alert)?;
        writeln!(out)?;
        return Ok(());
    }
    let when = alert
        .created
        .parse::<jiff::Timestamp>()
        .map(|t| local_time(t.as_microsecond()))
        .unwrap_or(alert.created);
    writeln!(out, "alert {id} of {when} is marked false (\"It was me\")")?;
    if released && alert.evidence_from.is_none() {
        // The detectors' alerts (injection, replay, a new keyboard) cover no scored typing.
        writeln!(
            out,
            "it covered no scored typing, so there is nothing to learn from; it no longer counts against you"
        )?;
    } else if released {
        writeln!(
            out,
            "the typing it covered is yours again: tikker may learn from what of it the running daemon still holds (typing from before its start is not learned again)"
        )?;
    } else {
        writeln!(
            out,
            "no daemon runs: the mark is stored, and the typing it covered stays unlearned"
        )?;
    }
    Ok(())
}

/// `tikker alerts`.
pub fn alerts(context: &RunContext, args: AlertsArgs) -> anyhow::Result<()> {
    if let Some(id) = args.mark_false {
        return mark_false(context, id, args.range.json);
    }
    let args = args.range;
    let (from, to) = args.range()?;
    let alerts = context.open_existing_store()?.alerts_between(
        from,
        to,
        usize::try_from(args.limit).unwrap_or(usize::MAX),
    )?;
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
        "{:>5}  {:<19}  {:<10}  {:>5}  what was done / why",
        "id", "time", "kind", "score"
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
        let mut done = match &alert.action {
            Some(action) => format!("{notified}; alert command: {action}"),
            None => notified.to_owned(),
        };
        if let Some(marked) = alert.marked_false_us {
            done.push_str(&format!(
                "; marked false (It was me) {}",
                local_time(marked)
            ));
        }
        writeln!(
            out,
            "{:>5}  {:<19}  {:<10}  {:>5}  {done}",
            alert.id,
            local_time(alert.created_us),
            alert.kind.as_str(),
            score
        )?;
        writeln!(
            out,
            "{:>5}  {:<19}  {:<10}  {:>5}  {}",
            "",
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
    let scores = context.open_existing_store()?.scores_between(
        from,
        to,
        usize::try_from(args.limit).unwrap_or(usize::MAX),
    )?;
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
