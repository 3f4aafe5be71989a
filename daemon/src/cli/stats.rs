//! `tikker stats`: how much and how fast its owner types.

use clap::Args;
use tikker_store::history::summarize;

use super::{FilterArgs, RunContext};

/// Arguments of `tikker stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    filter: FilterArgs,
}

pub fn run(context: &RunContext, args: StatsArgs) -> anyhow::Result<()> {
    let filter = args.filter.to_filter()?;
    let store = context.open_existing_store()?;
    let summary = summarize(&store, &filter, jiff::tz::TimeZone::system())?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    let wpm = |w: Option<f64>| w.map_or_else(|| "-".to_owned(), |w| format!("{w:.1}"));
    outln!("events       {}", summary.events);
    outln!("keystrokes   {}", summary.keystrokes);
    outln!("active days  {}", summary.active_days);
    outln!("WPM          {}", wpm(summary.wpm));
    if summary.skipped_events > 0 {
        outln!(
            "skipped      {} stored event(s) with a time outside the years 1970 to 9999",
            summary.skipped_events
        );
    }
    if !summary.days.is_empty() {
        outln!();
        outln!(
            "{:<12} {:>12} {:>10} {:>8}",
            "day",
            "keystrokes",
            "active min",
            "WPM"
        );
        for day in &summary.days {
            outln!(
                "{:<12} {:>12} {:>10.1} {:>8}",
                day.date.to_string(),
                day.keystrokes,
                day.active_minutes,
                wpm(day.wpm)
            );
        }
    }
    Ok(())
}
