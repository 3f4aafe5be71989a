//! `tikker eval`: the published evaluation protocols, run on the public data sets.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use tikker_core::verify::fixed_text::DetectorKind;
use tikker_research::dataset::cmu::read_cmu_csv;
use tikker_research::eval::cmu::{
    DetectorEvaluation, ProtocolConfig, evaluate_detector, split_subjects,
};

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
    /// Free-text verification (TypeNet's protocol): enrol on each participant's first G units
    /// (sentences or sessions), score their last 5 and one unit of each of K other participants.
    Freetext(FreetextArgs),
    /// Continuous authentication (splice simulation): enrol each participant on their first
    /// units, stream the rest of their typing and then another participant's through the
    /// daemon's monitor; count false alerts and impostor keystrokes to the first alert.
    Continuous(ContinuousArgs),
    /// User identification as the predict-user API does it, on DSL-StrongPasswordData.csv:
    /// train on repetitions 1-200 of every subject, test on 201-400, for the 8-number summary
    /// and for the full timing vector.
    Identify(IdentifyArgs),
    /// The threat detectors: injected keystrokes and replayed timings. False positives on human
    /// typing, and synthetic injections (xdotool, BadUSB, humanised typers) and ±1 ms replays
    /// spliced into it: the share detected and the keystrokes to detection.
    Injection(InjectionArgs),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum InjectionFormat {
    /// DSL-StrongPasswordData.csv; units are sessions of 50 repetitions
    Cmu,
    /// A folder of Aalto participant files (or its users/ folder); units are sentences
    Aalto,
    /// An events-csv file; participants are users, units are sessions
    EventsCsv,
}

#[derive(Debug, Args)]
struct InjectionArgs {
    /// The data: DSL-StrongPasswordData.csv, a folder of Aalto files, or an events-csv file.
    path: PathBuf,
    #[arg(long, value_enum)]
    format: InjectionFormat,
    /// Keystrokes of each synthetic burst.
    #[arg(long, default_value_t = 50)]
    burst: usize,
    /// Largest shift of a replayed event, in ms (each drawn uniformly from ± this).
    #[arg(long, default_value_t = 1.0)]
    replay_jitter_ms: f64,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Print JSON instead of a summary (with every participant's outcome).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum IdentifyFormat {
    /// DSL-StrongPasswordData.csv
    Cmu,
}

#[derive(Debug, Args)]
struct IdentifyArgs {
    /// DSL-StrongPasswordData.csv
    path: PathBuf,
    #[arg(long, value_enum, default_value = "cmu")]
    format: IdentifyFormat,
    /// rf, svm, xgboost or all.
    #[arg(long, default_value = "all")]
    model: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ContinuousArgs {
    /// The data: a folder of Aalto files, or an events-csv file.
    path: PathBuf,
    #[arg(long, value_enum)]
    format: FreetextFormat,
    /// Units (sentences or sessions) of each participant to enrol on.
    #[arg(long, default_value_t = 10)]
    enrol_units: usize,
    /// Low windows in a row that alert (default: the daemon's).
    #[arg(long)]
    consecutive_low: Option<usize>,
    /// A single window at or below this score alerts (default: the daemon's).
    #[arg(long)]
    severe_threshold: Option<f64>,
    /// CUSUM reference k in owner spread units (default: the daemon's).
    #[arg(long)]
    cusum_reference: Option<f64>,
    /// CUSUM alert level h in owner spread units (default: the daemon's).
    #[arg(long)]
    cusum_alert: Option<f64>,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Print JSON instead of a summary.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(super) enum FreetextFormat {
    /// A folder of Aalto participant files (or its users/ folder); units are sentences
    Aalto,
    /// An events-csv file; participants are users, units are sessions
    EventsCsv,
}

#[derive(Debug, Args)]
struct FreetextArgs {
    /// The data: a folder of Aalto files, or an events-csv file.
    path: PathBuf,
    #[arg(long, value_enum)]
    format: FreetextFormat,
    /// Enrolment units per participant: a number, or `all` for 1, 2, 5, 7 and 10.
    #[arg(long, default_value = "5")]
    gallery: String,
    /// Impostor participants per genuine participant (one unit each).
    #[arg(long, default_value_t = 500)]
    impostors: usize,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Skip the statistical baseline (scaled Manhattan over per-unit median hold and
    /// press-to-press times).
    #[arg(long)]
    no_baseline: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
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
        Protocol::Freetext(args) => freetext(args),
        Protocol::Continuous(args) => continuous(args),
        Protocol::Identify(args) => identify(args),
        Protocol::Injection(args) => injection(args),
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
        outln!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    outln!(
        "{} on {} subjects ({}; {:.2} s)",
        report.protocol,
        splits.len(),
        report.training,
        report.seconds
    );
    outln!(
        "{:<32} {:>16} {:>22}",
        "detector",
        "EER mean (sd)",
        "zero-miss FAR mean (sd)"
    );
    for d in &report.detectors {
        outln!(
            "{:<32} {:>7.4} ({:.4}) {:>13.3} ({:.3})",
            d.name,
            d.eer_mean,
            d.eer_sd,
            d.zero_miss_far_mean,
            d.zero_miss_far_sd
        );
    }
    Ok(())
}

#[derive(Serialize)]
struct FreetextRow {
    gallery: usize,
    verifier: String,
    participants: usize,
    eer_mean: f64,
    eer_sd: f64,
    first_half_eer: f64,
    second_half_eer: f64,
    queries: u64,
    seconds: f64,
}

#[derive(Serialize)]
struct FreetextReport {
    protocol: &'static str,
    data: String,
    impostors: usize,
    training: &'static str,
    skipped_rows: usize,
    results: Vec<FreetextRow>,
}

fn freetext(args: FreetextArgs) -> anyhow::Result<()> {
    use tikker_core::verify::freetext::Params;
    use tikker_research::eval::freetext::{
        BaselineKind, EvalConfig, EvalResult, evaluate_baseline, evaluate_freetext,
        prepare_baseline, prepare_windows,
    };

    let galleries: Vec<usize> =
        if args.gallery == "all" {
            vec![1, 2, 5, 7, 10]
        } else {
            vec![args.gallery.parse().with_context(|| {
                format!("--gallery {:?}: expected a number or all", args.gallery)
            })?]
        };
    if galleries.contains(&0) {
        anyhow::bail!("--gallery must be at least 1");
    }
    let participants = load_participants(&args.path, args.format, args.threads)?;
    // Aalto participants are files of their own; the users of an events-csv file share one.
    let skipped_rows = match args.format {
        FreetextFormat::Aalto => participants.iter().map(|p| p.skipped).sum(),
        FreetextFormat::EventsCsv => participants.first().map_or(0, |p| p.skipped),
    };
    let windows = prepare_windows(&participants);
    let baseline =
        (!args.no_baseline).then(|| prepare_baseline(&participants, BaselineKind::Global));
    let params = Params::default();
    let bar = progress(galleries.len() as u64, "galleries");
    let mut results = Vec::new();
    let row = |gallery: usize, verifier: &str, r: &EvalResult| FreetextRow {
        gallery,
        verifier: verifier.to_owned(),
        participants: r.per_user.iter().filter(|e| e.is_some()).count(),
        eer_mean: r.all.0,
        eer_sd: r.all.1,
        first_half_eer: r.first_half.0,
        second_half_eer: r.second_half.0,
        queries: r.queries,
        seconds: r.elapsed.as_secs_f64(),
    };
    for &gallery in &galleries {
        let config = EvalConfig {
            gallery,
            impostors: args.impostors,
            threads: args.threads.max(1),
            ..EvalConfig::default()
        };
        let result = evaluate_freetext(&participants, &windows, &config, &params);
        results.push(row(gallery, "tikker free-text", &result));
        if let Some(features) = &baseline {
            let result = evaluate_baseline(&participants, features, &config);
            results.push(row(gallery, "baseline (scaled Manhattan)", &result));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let report = FreetextReport {
        protocol: "free text (TypeNet): enrol on the first G units, query with the last 5 and \
                   one unit of each of K other participants (splitmix64, fixed seed)",
        data: args.path.display().to_string(),
        impostors: args.impostors,
        training: "each profile is built from the genuine participant's first G units only; no \
                   model is trained on other participants (the verifier's 35 fixed constants \
                   were tuned on the first half of aalto-dev at G = 5)",
        skipped_rows,
        results,
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    outln!("{}", report.protocol);
    outln!("training: {}", report.training);
    outln!(
        "{} participants, K = {}, {} bad rows skipped",
        participants.len(),
        report.impostors,
        report.skipped_rows
    );
    outln!(
        "{:>3}  {:<28} {:>16} {:>10} {:>10} {:>9}",
        "G",
        "verifier",
        "EER mean (sd)",
        "1st half",
        "2nd half",
        "seconds"
    );
    for r in &report.results {
        outln!(
            "{:>3}  {:<28} {:>7.4} ({:.4}) {:>10.4} {:>10.4} {:>9.1}",
            r.gallery,
            r.verifier,
            r.eer_mean,
            r.eer_sd,
            r.first_half_eer,
            r.second_half_eer,
            r.seconds
        );
    }
    Ok(())
}

/// The participants of a data set: Aalto files (units are sentences) or an events-csv file
/// (units are sessions).
pub(super) fn load_participants(
    path: &std::path::Path,
    format: FreetextFormat,
    threads: usize,
) -> anyhow::Result<Vec<tikker_research::dataset::Participant>> {
    use tikker_research::dataset::{aalto, read_events_csv};
    Ok(match format {
        FreetextFormat::Aalto => {
            let files = aalto::participant_files(path)
                .with_context(|| format!("listing {}", path.display()))?;
            if files.is_empty() {
                anyhow::bail!("{}: no *_keystrokes.txt[.gz] files", path.display());
            }
            let bar = progress(1, "reading participants");
            let read = aalto::read_many(&files, threads)
                .into_iter()
                .collect::<Result<Vec<_>, _>>()?;
            bar.finish_and_clear();
            read
        }
        FreetextFormat::EventsCsv => read_events_csv(path)?,
    })
}

fn continuous(args: ContinuousArgs) -> anyhow::Result<()> {
    use tikker_research::eval::continuous::{SpliceConfig, simulate};
    let participants = load_participants(&args.path, args.format, args.threads)?;
    let mut config = SpliceConfig {
        enrol_units: args.enrol_units,
        threads: args.threads.max(1),
        ..SpliceConfig::default()
    };
    if let Some(n) = args.consecutive_low {
        config.monitor.consecutive_low = n.max(1);
    }
    if let Some(t) = args.severe_threshold {
        config.monitor.severe_threshold = t;
    }
    if let Some(k) = args.cusum_reference {
        config.monitor.cusum_reference = k;
    }
    if let Some(h) = args.cusum_alert {
        config.monitor.cusum_alert = h;
    }
    let started = Instant::now();
    let report = simulate(&participants, &config);
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        #[derive(Serialize)]
        struct Out<'a> {
            config: &'a SpliceConfig,
            seconds: f64,
            report: &'a tikker_research::eval::continuous::SpliceReport,
        }
        outln!(
            "{}",
            serde_json::to_string_pretty(&Out {
                config: &config,
                seconds,
                report: &report
            })?
        );
        return Ok(());
    }
    let m = &config.monitor;
    outln!(
        "splice simulation on {} participants ({} skipped): enrol on the first {} units \
         (median {} keystrokes), windows of {} keystrokes scored every {}; alert when the CUSUM \
         of the window evidence (k = {}, owner spread units) reaches {}, on {} low windows \
         (≤ {}) in a row, or on one at or below {}; {:.1} s",
        report.all.participants,
        report.skipped,
        config.enrol_units,
        report.all.median_enrolment,
        m.window_keystrokes,
        m.step_keystrokes,
        m.cusum_reference,
        m.cusum_alert,
        m.consecutive_low,
        m.alert_threshold,
        m.severe_threshold,
        seconds
    );
    outln!(
        "{:<12} {:>9} {:>16} {:>16} {:>16} {:>7} {:>8} {:>7}",
        "",
        "false/10k",
        "detected",
        "≤250",
        "≤500",
        "median",
        "learned",
        "FRR"
    );
    for (name, f) in [
        ("all", &report.all),
        ("first half", &report.first_half),
        ("second half", &report.second_half),
    ] {
        let share = |n: usize| 100.0 * n as f64 / f.participants.max(1) as f64;
        outln!(
            "{:<12} {:>9.2} {:>6} ({:>5.1} %) {:>6} ({:>5.1} %) {:>6} ({:>5.1} %) {:>7} {:>8} {:>7.4}",
            name,
            f.false_alerts_per_10k,
            f.impostors_detected,
            share(f.impostors_detected),
            f.detected_within_250,
            share(f.detected_within_250),
            f.detected_within_500,
            share(f.detected_within_500),
            f.median_impostor_keystrokes_to_alert
                .map_or_else(|| "never".to_owned(), |m| m.to_string()),
            f.impostor_keystrokes_learned,
            f.window_false_reject_rate,
        );
    }
    outln!(
        "false/10k: false alerts per 10,000 genuine keystrokes ({} in {}); detected: impostors \
         alerted before their typing ran out (≤250, ≤500: within that many of their keystrokes); \
         median: impostor keystrokes to the first alert; learned: impostor keystrokes the profile \
         learned; FRR: share of genuine windows at or below the alert threshold",
        report.all.false_alerts,
        report.all.genuine_keystrokes
    );
    outln!(
        "if every impostor went on typing undetected until the monitor confirmed their typing \
         ({} more keystrokes), {} keystrokes of {} impostors would be learned: those the verifier \
         cannot tell from the owner",
        m.confirm_keystrokes,
        report.all.impostor_keystrokes_learned_if_confirmed,
        report.all.impostors_learned_if_confirmed
    );
    Ok(())
}

#[derive(Serialize)]
struct IdentifyRow {
    features: &'static str,
    model: &'static str,
    accuracy: f64,
    train_seconds: f64,
    predict_us_per_sample: f64,
    model_bytes: usize,
}

fn identify(args: IdentifyArgs) -> anyhow::Result<()> {
    use tikker_identify::{IdentifyModel, ModelKind, TrainOptions};
    use tikker_research::eval::identify::{FeatureSet, accuracy, features, select};
    let IdentifyFormat::Cmu = args.format;
    let kinds: Vec<ModelKind> = if args.model == "all" {
        ModelKind::ALL.to_vec()
    } else {
        vec![ModelKind::parse(&args.model).with_context(|| {
            format!("--model {:?}: expected rf, svm, xgboost or all", args.model)
        })?]
    };
    let file =
        File::open(&args.path).with_context(|| format!("opening {}", args.path.display()))?;
    let data = read_cmu_csv(BufReader::new(file))
        .with_context(|| format!("reading {}", args.path.display()))?;
    let options = TrainOptions::default();
    let bar = progress((kinds.len() * FeatureSet::ALL.len()) as u64, "models");
    let mut rows = Vec::new();
    for set in FeatureSet::ALL {
        let x = features(&data, set)?;
        let train = select(&data, &x, &[], 1..=200);
        let test = select(&data, &x, &[], 201..=400);
        for &kind in &kinds {
            let started = Instant::now();
            let model = IdentifyModel::train(kind, &train.features, &train.labels, &options)?;
            let train_seconds = started.elapsed().as_secs_f64();
            let started = Instant::now();
            let accuracy = accuracy(&model, &test)?;
            let predict_us_per_sample =
                started.elapsed().as_secs_f64() * 1e6 / test.features.len().max(1) as f64;
            rows.push(IdentifyRow {
                features: set.name(),
                model: kind.name(),
                accuracy,
                train_seconds,
                predict_us_per_sample,
                model_bytes: model.to_bytes()?.len(),
            });
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    outln!(
        "user identification on {} subjects: train on repetitions 1-200, test on 201-400 ({} test rows)",
        data.subjects().len(),
        data.subjects().len() * 200
    );
    outln!(
        "{:<10} {:<8} {:>9} {:>10} {:>12} {:>12}",
        "features",
        "model",
        "accuracy",
        "train s",
        "predict µs",
        "model bytes"
    );
    for r in &rows {
        outln!(
            "{:<10} {:<8} {:>9.4} {:>10.1} {:>12.0} {:>12}",
            r.features,
            r.model,
            r.accuracy,
            r.train_seconds,
            r.predict_us_per_sample,
            r.model_bytes
        );
    }
    Ok(())
}

fn injection(args: InjectionArgs) -> anyhow::Result<()> {
    use tikker_research::eval::injection::{
        Figures, InjectionEvalConfig, evaluate, read_cmu_participants,
    };
    let participants = match args.format {
        InjectionFormat::Cmu => read_cmu_participants(&args.path)?,
        InjectionFormat::Aalto => {
            load_participants(&args.path, FreetextFormat::Aalto, args.threads)?
        }
        InjectionFormat::EventsCsv => {
            load_participants(&args.path, FreetextFormat::EventsCsv, args.threads)?
        }
    };
    let config = InjectionEvalConfig {
        burst_keystrokes: args.burst.max(1),
        replay_jitter_us: (args.replay_jitter_ms.max(0.0) * 1000.0).round() as i64,
        threads: args.threads.max(1),
        ..InjectionEvalConfig::default()
    };
    let started = Instant::now();
    let report = evaluate(&participants, &config);
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        #[derive(Serialize)]
        struct Out<'a> {
            data: String,
            config: &'a InjectionEvalConfig,
            seconds: f64,
            report: &'a tikker_research::eval::injection::InjectionEvalReport,
        }
        outln!(
            "{}",
            serde_json::to_string_pretty(&Out {
                data: args.path.display().to_string(),
                config: &config,
                seconds,
                report: &report
            })?
        );
        return Ok(());
    }
    let ks = |m: Option<usize>| m.map_or_else(|| "-".to_owned(), |m| m.to_string());
    let show = |title: &str, f: &Figures| {
        outln!(
            "{title}: {} participants, {} keystrokes",
            f.participants,
            f.keystrokes
        );
        outln!(
            "  injection detector on human typing: {} false positives ({} participants), {:.2} \
             per million keystrokes",
            f.injection_false_positives,
            f.injection_participants_flagged,
            f.injection_fp_per_million
        );
        outln!(
            "  {:<40} {:>9} {:>8} {:>16} {:>6}",
            "injected burst",
            "detected",
            "share",
            "median (max) ks",
            "target"
        );
        for t in &f.tools {
            outln!(
                "  {:<40} {:>4}/{:<4} {:>7.1}% {:>9} ({:>4}) {:>6}",
                t.name,
                t.detected,
                t.injected,
                t.share * 100.0,
                ks(t.median_keystrokes),
                ks(t.max_keystrokes),
                if t.in_target { "yes" } else { "no" }
            );
        }
        for p in &f.peers {
            let shares: Vec<String> = p
                .tools
                .iter()
                .map(|t| format!("{:.0}%", t.share * 100.0))
                .collect();
            outln!(
                "  peer {}: {} false positives; detected {}",
                p.name,
                p.false_positives,
                shares.join(" / ")
            );
        }
        outln!(
            "  replay detector: {} false positives on human typing; {} of {} replays (±{} ms) \
             detected, median {} keystrokes",
            f.replay_false_positives,
            f.replays_detected,
            f.replays,
            config.replay_jitter_us as f64 / 1000.0,
            ks(f.replay_median_keystrokes)
        );
    };
    outln!(
        "threat detectors on {} ({:.1} s); bursts of {} keystrokes 1 s after each participant's \
         first half of units",
        args.path.display(),
        seconds,
        config.burst_keystrokes
    );
    show("all", &report.all);
    // The thresholds were tuned on the first half of aalto-dev only.
    let tuned = if matches!(args.format, InjectionFormat::Aalto) {
        "first half by id (tuning)"
    } else {
        "first half by id"
    };
    show(tuned, &report.first_half);
    show("second half by id", &report.second_half);
    if !report.flagged.is_empty() {
        outln!("flagged human typing:");
        for c in &report.flagged {
            outln!(
                "  participant {} unit {} keystroke {} ({}): {}",
                c.participant,
                c.unit,
                c.keystroke,
                c.detector,
                c.reason
            );
        }
    }
    Ok(())
}
