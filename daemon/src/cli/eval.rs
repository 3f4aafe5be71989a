//! `tikker eval`: the published evaluation protocols, run on the public data sets.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use tikker_core::dataset::cmu::read_cmu_csv;
use tikker_core::eval::cmu::{
    DetectorEvaluation, ProtocolConfig, evaluate_detector, split_subjects,
};
use tikker_core::verify::fixed_text::DetectorKind;

/// Arguments of `tikker eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(subcommand)]
    protocol: Protocol,
}

#[derive(Debug, Subcommand)]
enum Protocol {
    /// Killourhy & Maxion (DSN 2009) on DSL-StrongPasswordData.csv: train on each subject's
    /// first 200 repetitions, test on its last 200 and on 5 of every other subject.
    Cmu(CmuArgs),
}

#[derive(Debug, Args)]
struct CmuArgs {
    /// DSL-StrongPasswordData.csv
    path: PathBuf,
    /// One detector (euclidean, manhattan, manhattan-scaled, mahalanobis, nn-mahalanobis,
    /// outlier-count, tikker) or all.
    #[arg(long, default_value = "all")]
    detector: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    match args.protocol {
        Protocol::Cmu(args) => cmu(args),
    }
}

/// A progress bar on standard error when it is a terminal, hidden otherwise.
pub fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

#[derive(Serialize)]
struct CmuReport {
    protocol: &'static str,
    data: String,
    config: ProtocolConfig,
    training: &'static str,
    seconds: f64,
    detectors: Vec<DetectorEvaluation>,
}

fn cmu(args: CmuArgs) -> anyhow::Result<()> {
    let kinds: Vec<DetectorKind> = if args.detector == "all" {
        DetectorKind::all().to_vec()
    } else {
        let kind = DetectorKind::from_slug(&args.detector).with_context(|| {
            let names: Vec<&str> = DetectorKind::all().iter().map(|k| k.slug()).collect();
            format!(
                "unknown detector {:?}: expected one of {} or all",
                args.detector,
                names.join(", ")
            )
        })?;
        vec![kind]
    };
    let started = Instant::now();
    let file =
        File::open(&args.path).with_context(|| format!("opening {}", args.path.display()))?;
    let data = read_cmu_csv(BufReader::new(file))
        .with_context(|| format!("reading {}", args.path.display()))?;
    let config = ProtocolConfig::default();
    let splits = split_subjects(&data, &config)?;
    let bar = progress(kinds.len() as u64, "detectors");
    let mut detectors = Vec::new();
    for kind in kinds {
        detectors.push(evaluate_detector(kind, &data.columns, &splits)?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let report = CmuReport {
        protocol: "Killourhy & Maxion (DSN 2009)",
        data: args.path.display().to_string(),
        config,
        training: "each detector is trained on the genuine subject's first 200 repetitions only",
        seconds: started.elapsed().as_secs_f64(),
        detectors,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{} on {} subjects ({}; {:.2} s)",
        report.protocol,
        splits.len(),
        report.training,
        report.seconds
    );
    println!(
        "{:<32} {:>16} {:>22}",
        "detector", "EER mean (sd)", "zero-miss FAR mean (sd)"
    );
    for d in &report.detectors {
        println!(
            "{:<32} {:>7.4} ({:.4}) {:>13.3} ({:.3})",
            d.name, d.eer_mean, d.eer_sd, d.zero_miss_far_mean, d.zero_miss_far_sd
        );
    }
    Ok(())
}
