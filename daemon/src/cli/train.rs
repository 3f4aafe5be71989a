//! `tikker train identify PATH --format cmu|events-csv|aalto`: trains the three user
//! identification models of the predict-user API (RF, SVM, XGBoost) on the 8-number timing
//! summary of a data set, measures them on held-out rows, and stores them in tikker.db
//! (`identify-rf`, `identify-svm`, `identify-xgboost`), where `POST /predict_user` finds them.
//! The models stored are the ones measured: trained on the training rows only.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde::Serialize;
use tikker_core::summary::TimingSummary;
use tikker_identify::model_name;
use tikker_identify::{IdentifyModel, ModelKind, TrainOptions};
use tikker_research::dataset::cmu::read_cmu_csv;
use tikker_research::eval::identify::accuracy;
use tikker_research::training::{TrainingSets, cmu_sets, participant_sets};
use tikker_store::StoredModel;

use super::RunContext;
use super::eval::{FreetextFormat, load_participants, progress};

/// Arguments of `tikker train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Subcommand)]
enum What {
    /// The predict-user models (RF, SVM, XGBoost) on the 8-number timing summary of a data set;
    /// stored in the database and used by POST /predict_user.
    Identify(IdentifyArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DataFormat {
    /// DSL-StrongPasswordData.csv: repetitions 1-200 trained on, 201-400 held out
    Cmu,
    /// An events-csv file: each session is a row, the last quarter of each user's held out
    EventsCsv,
    /// A folder of Aalto participant files: each sentence is a row, the last quarter held out
    Aalto,
}

#[derive(Debug, Args)]
struct IdentifyArgs {
    /// The data set: a CMU csv file, an events-csv file, or a folder of Aalto files.
    path: PathBuf,
    #[arg(long, value_enum)]
    format: DataFormat,
    /// Only the first N users of the data set.
    #[arg(long, value_name = "N")]
    users: Option<usize>,
    /// Smaller models (40 trees, 100 SVM rows per user, 60 boosting rounds): quick, less exact.
    #[arg(long)]
    quick: bool,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Trained {
    model: &'static str,
    stored_as: &'static str,
    accuracy: f64,
    train_rows: usize,
    test_rows: usize,
    users: usize,
    train_seconds: f64,
}

pub fn run(context: &RunContext, args: TrainArgs) -> anyhow::Result<()> {
    match args.what {
        What::Identify(args) => identify(context, args),
    }
}

fn training_sets(args: &IdentifyArgs) -> anyhow::Result<TrainingSets> {
    Ok(match args.format {
        DataFormat::Cmu => {
            let file = File::open(&args.path)
                .with_context(|| format!("opening {}", args.path.display()))?;
            let data = read_cmu_csv(BufReader::new(file))
                .with_context(|| format!("reading {}", args.path.display()))?;
            cmu_sets(&data, args.users)?
        }
        DataFormat::EventsCsv | DataFormat::Aalto => {
            let format = if args.format == DataFormat::Aalto {
                FreetextFormat::Aalto
            } else {
                FreetextFormat::EventsCsv
            };
            let participants = load_participants(&args.path, format, args.threads.max(2))?;
            participant_sets(&participants, args.users)
        }
    })
}

fn identify(context: &RunContext, args: IdentifyArgs) -> anyhow::Result<()> {
    let sets = training_sets(&args)?;
    let distinct = |labels: &[String]| {
        labels
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    if distinct(&sets.train.labels) < 2 || sets.test.features.is_empty() {
        anyhow::bail!(
            "{}: {}; at least two users with two units each are needed",
            args.path.display(),
            sets.description
        );
    }
    let mut options = TrainOptions {
        threads: args.threads,
        ..TrainOptions::default()
    };
    if args.quick {
        options.forest.n_trees = 40;
        options.svm.max_rows_per_class = Some(100);
        options.boosting.rounds = 60;
        options.boosting.eta = 0.2;
    }
    let store = context.open_store()?;
    let bar = progress(ModelKind::ALL.len() as u64, "models");
    let mut results = Vec::new();
    for kind in ModelKind::ALL {
        let started = Instant::now();
        let model = IdentifyModel::train(kind, &sets.train.features, &sets.train.labels, &options)
            .with_context(|| format!("training {kind}"))?;
        let train_seconds = started.elapsed().as_secs_f64();
        let accuracy = accuracy(&model, &sets.test)?;
        let result = Trained {
            model: kind.name(),
            stored_as: model_name(kind),
            accuracy,
            train_rows: sets.train.features.len(),
            test_rows: sets.test.features.len(),
            users: sets.users,
            train_seconds,
        };
        let metrics = serde_json::json!({
            "accuracy": accuracy,
            "train_rows": result.train_rows,
            "test_rows": result.test_rows,
            "users": result.users,
            "features": TimingSummary::NAMES,
            "quick": args.quick,
        });
        store.save_model(&StoredModel {
            name: model_name(kind).into(),
            created_us: jiff::Timestamp::now().as_microsecond(),
            trained_on: format!(
                "{} ({:?} format): {}",
                args.path.display(),
                args.format,
                sets.description
            ),
            metrics: metrics.to_string(),
            data: model.to_bytes()?,
        })?;
        results.push(result);
        bar.inc(1);
    }
    bar.finish_and_clear();
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&results)?);
        return Ok(());
    }
    outln!("{}", sets.description);
    outln!(
        "{:<8} {:>18} {:>9} {:>9}",
        "model",
        "stored as",
        "accuracy",
        "train s"
    );
    for r in &results {
        outln!(
            "{:<8} {:>18} {:>9.4} {:>9.1}",
            r.model,
            r.stored_as,
            r.accuracy,
            r.train_seconds
        );
    }
    outln!(
        "held-out accuracy: share of the held-out rows whose user is predicted (chance: {:.3})",
        1.0 / sets.users.max(1) as f64
    );
    Ok(())
}
