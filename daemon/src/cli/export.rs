//! `tikker export`: stored events to standard output.

use std::io::Write;

use clap::{Args, ValueEnum};
use tikker_formats::export::ExportFormat;
use tikker_store::export::export;

use super::{FilterArgs, RunContext};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// user,session,timestamp_ms,key,event (readable by tikker import)
    EventsCsv,
    /// one JSON object per event
    Jsonl,
}

/// Arguments of `tikker export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The output format.
    #[arg(long, value_enum, default_value = "events-csv")]
    format: Format,
    #[command(flatten)]
    filter: FilterArgs,
}

pub fn run(context: &RunContext, args: ExportArgs) -> anyhow::Result<()> {
    let filter = args.filter.to_filter()?;
    let store = context.open_existing_store()?;
    let format = match args.format {
        Format::EventsCsv => ExportFormat::EventsCsv,
        Format::Jsonl => ExportFormat::JsonLines,
    };
    let stdout = std::io::stdout().lock();
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, stdout);
    export(&store, &filter, format, &mut out)?;
    out.flush()?;
    Ok(())
}
