//! `tikker import`: files into tikker.db, one transaction per file.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tikker_formats::ImportFormat;
use tikker_store::import::{ImportOptions, ImportReport, import_file};

use super::RunContext;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// user,session,timestamp_ms,key,event
    EventsCsv,
    /// Aalto 136M keystrokes participant files (.txt or .txt.gz)
    Aalto,
    /// CMU DSL-StrongPasswordData.csv (events synthesised from the timings)
    Cmu,
}

impl From<Format> for ImportFormat {
    fn from(format: Format) -> Self {
        match format {
            Format::EventsCsv => ImportFormat::EventsCsv,
            Format::Aalto => ImportFormat::Aalto,
            Format::Cmu => ImportFormat::Cmu,
        }
    }
}

/// Arguments of `tikker import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The format of the files.
    #[arg(long, value_enum)]
    format: Format,
    /// Import the good rows of files with bad rows, and say how many were skipped and why.
    #[arg(long)]
    skip_bad: bool,
    /// The files to import.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

pub fn run(context: &RunContext, args: ImportArgs) -> anyhow::Result<()> {
    // Every file is checked before the database is opened (or made): a mistyped name is an
    // error that names it, and leaves nothing behind.
    let mut total_bytes: u64 = 0;
    for path in &args.paths {
        let metadata = std::fs::metadata(path).with_context(|| {
            if path.as_os_str() == "-" {
                "-: tikker import reads files, not standard input: save it to a file and give its path".to_owned()
            } else {
                format!("reading the file to import {}", path.display())
            }
        })?;
        if metadata.is_dir() {
            anyhow::bail!(
                "{}: is a folder: give the files to import (e.g. {}/*)",
                path.display(),
                path.display()
            );
        }
        total_bytes += metadata.len();
    }
    let mut store = context.open_store()?;
    let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let started = Instant::now();
    let mut report = ImportReport::default();
    let options = ImportOptions {
        skip_bad: args.skip_bad,
    };
    for (done, path) in args.paths.iter().enumerate() {
        bar.set_message(format!("{}/{}", done + 1, args.paths.len()));
        let mut progress = |bytes: u64| bar.inc(bytes);
        let file_report = import_file(&mut store, path, args.format.into(), options, &mut progress)
            .map_err(|e| {
                bar.abandon();
                if report.events > 0 {
                    eprintln!(
                        "tikker: the {done} file(s) before {} were imported ({} events)",
                        path.display(),
                        report.events
                    );
                }
                anyhow::Error::new(e)
            })?;
        report.absorb(file_report);
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    outln!(
        "imported {} events in {} sessions from {} file(s) in {seconds:.2} s ({:.0} events/s) into {}",
        report.events,
        report.sessions,
        args.paths.len(),
        report.events as f64 / seconds.max(1e-9),
        store.path().display()
    );
    if !report.skipped.is_empty() {
        outln!("skipped {} bad row(s):", report.skipped.len());
        for (reason, count) in report.skipped_by_reason() {
            outln!("  {count} × {reason}");
        }
        let examples = report.skipped.examples();
        if report.skipped.len() > examples.len() {
            outln!("the first {}:", examples.len());
        }
        for row in examples {
            outln!("  {row}");
        }
    }
    Ok(())
}
