//! tikker-identify: classifiers of typing. User identification, a multi-class classifier that
//! maps the timing features of one typed sequence to the user who most likely typed it (the
//! predict-user API), and the behaviour model of `/model/train` ([`behavior`]).
//!
//! It depends on `tikker-core` (key events, typing metrics) and the ML libraries (smartcore,
//! hessboost) only; **it may not depend on** the store, the file formats, the wire types or the
//! research harness. Models are byte strings the caller stores where it likes.
//!
//!
//! Three model kinds are offered, under the names the "predict-user" API
//! uses ([`ModelKind`]):
//!
//! - **`RF`**: a random forest of smartcore CART trees (Gini, bootstrap
//!   per class, `√d` candidate features per split). Each tree is trained
//!   as a one-tree smartcore `RandomForestClassifier` with its own seed, so
//!   the forest can report the share of trees voting for each user (smartcore's
//!   forest only returns the winning label) and trains on several threads.
//! - **`SVM`**: an RBF-kernel support vector machine, one-vs-one over every
//!   pair of users, each pair trained with smartcore's binary `SVC`
//!   (LaSVM solver) on standardised features, the same scheme as smartcore's
//!   `MultiClassSVC`. smartcore's `MultiClassSVC` cannot be stored (it is not
//!   serialisable and borrows its parameters, and a deserialised `SVC` has no
//!   kernel), so the trained support vectors, coefficients and biases are
//!   taken out of each `SVC` and evaluated here with the identical formula
//!   `b + Σ wᵢ·exp(−γ‖x − svᵢ‖²)`; support vectors shared by several pairs
//!   are stored and evaluated once.
//! - **`XGBoost`**: gradient-boosted trees (hessboost, `multi:softprob`,
//!   histogram tree method), giving a probability per user.
//!
//! Features are standardised with the training means and standard
//! deviations before every model (the SVM needs it; trees are unaffected).
//! [`IdentifyModel::to_bytes`] / [`IdentifyModel::from_bytes`] store the whole
//! model (labels, standardisation, trained model) in one byte string, e.g. a
//! database BLOB; a loaded model predicts bit for bit like the original.

#![deny(missing_docs)]

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub mod behavior;
mod boosting;
mod codec;
mod forest;
mod svm;

use codec::{Reader, Writer};

/// The three kinds of identification model, named as in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ModelKind {
    /// Random forest (`"RF"`).
    #[serde(rename = "RF")]
    RandomForest,
    /// Support vector machine with an RBF kernel (`"SVM"`).
    #[serde(rename = "SVM")]
    Svm,
    /// Gradient-boosted trees (`"XGBoost"`).
    #[serde(rename = "XGBoost")]
    GradientBoosting,
}

/// The name a model of `kind` is stored under (the store's `models` table), as the
/// predict-user API looks it up.
pub fn model_name(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::RandomForest => "identify-rf",
        ModelKind::Svm => "identify-svm",
        ModelKind::GradientBoosting => "identify-xgboost",
    }
}

impl ModelKind {
    /// All kinds, in the order RF, SVM, XGBoost.
    pub const ALL: [ModelKind; 3] = [Self::RandomForest, Self::Svm, Self::GradientBoosting];

    /// The API name: `"RF"`, `"SVM"` or `"XGBoost"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::RandomForest => "RF",
            Self::Svm => "SVM",
            Self::GradientBoosting => "XGBoost",
        }
    }

    /// Parses an API name, ignoring ASCII case and surrounding spaces.
    /// Besides `RF`, `SVM` and `XGBoost`, the aliases `random_forest`,
    /// `randomforest`, `gbt`, `gbm` and `gradient_boosting` are accepted.
    ///
    /// # Errors
    /// [`IdentifyError::UnknownModel`] with the name given.
    pub fn parse(name: &str) -> Result<Self, IdentifyError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "rf" | "random_forest" | "randomforest" => Ok(Self::RandomForest),
            "svm" => Ok(Self::Svm),
            "xgboost" | "gbt" | "gbm" | "gradient_boosting" => Ok(Self::GradientBoosting),
            _ => Err(IdentifyError::UnknownModel(name.to_string())),
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelKind {
    type Err = IdentifyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Everything that can go wrong while training, using or loading a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IdentifyError {
    /// The model name is not one of `RF`, `SVM`, `XGBoost`.
    #[error("unknown model '{0}' (expected RF, SVM or XGBoost)")]
    UnknownModel(String),
    /// No training rows were given.
    #[error("the training set is empty")]
    EmptyTrainingSet,
    /// The training rows have no features.
    #[error("the training rows have no features")]
    NoFeatures,
    /// The number of labels differs from the number of training rows.
    #[error("{rows} training rows but {labels} labels")]
    LabelCountMismatch {
        /// Number of feature rows.
        rows: usize,
        /// Number of labels.
        labels: usize,
    },
    /// A training row has a different length than the first one.
    #[error("training row {row} has {found} features, expected {expected}")]
    RaggedTrainingSet {
        /// 0-based row index.
        row: usize,
        /// Length of the first row.
        expected: usize,
        /// Length of this row.
        found: usize,
    },
    /// A training value is NaN or infinite.
    #[error("training row {row}, feature {column} is not finite")]
    NonFiniteTraining {
        /// 0-based row index.
        row: usize,
        /// 0-based feature index.
        column: usize,
    },
    /// Fewer than two distinct labels: there is nothing to tell apart.
    #[error("need at least two distinct labels to identify users, found {found}")]
    TooFewClasses {
        /// Number of distinct labels.
        found: usize,
    },
    /// A feature vector given for prediction has the wrong length.
    #[error("dimension mismatch: the model expects {expected} features, got {found}")]
    DimensionMismatch {
        /// Number of features the model was trained on.
        expected: usize,
        /// Number of features given.
        found: usize,
    },
    /// A feature given for prediction is NaN or infinite.
    #[error("feature {index} is not finite")]
    NonFiniteInput {
        /// 0-based feature index.
        index: usize,
    },
    /// A training option is out of range.
    #[error("invalid option {name}: {reason}")]
    InvalidOption {
        /// Option name, e.g. `svm.c`.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The underlying learner failed.
    #[error("{model} training failed: {reason}")]
    Training {
        /// The model being trained.
        model: ModelKind,
        /// The learner's message.
        reason: String,
    },
    /// The underlying model failed to predict.
    #[error("{model} prediction failed: {reason}")]
    Prediction {
        /// The model predicting.
        model: ModelKind,
        /// The learner's message.
        reason: String,
    },
    /// Encoding a model failed.
    #[error("cannot encode the model: {0}")]
    Encode(String),
    /// The bytes given to [`IdentifyModel::from_bytes`] are not a valid model.
    #[error("invalid model bytes: {0}")]
    Decode(String),
}

/// Random forest options.
#[derive(Debug, Clone, PartialEq)]
pub struct ForestOptions {
    /// Number of trees (≥ 1).
    pub n_trees: u16,
    /// Maximum tree depth; `None` grows trees until their leaves are pure.
    pub max_depth: Option<u16>,
    /// Fewest training rows in a leaf (≥ 1).
    pub min_samples_leaf: usize,
    /// Candidate features per split; `None` is `⌊√d⌋` for `d` features.
    pub features_per_split: Option<usize>,
    /// Seed of tree `i` is `seed + i`.
    pub seed: u64,
}

impl Default for ForestOptions {
    /// 150 fully grown trees (leaves of one row allowed), `⌊√d⌋` features
    /// per split. Chosen on the CMU data, training on repetitions 1–150 and
    /// validating on 151–200 of each subject: 200 trees gained < 0.5 %
    /// accuracy over 100 for twice the time, `2√d` features per split lost
    /// 2–5 %, larger leaves (3, 5) lost 1.5–2.5 % on the 31 timings (and
    /// were as good, up to 0.5 % better, on the 8-number summary, with half
    /// the model size).
    fn default() -> Self {
        Self {
            n_trees: 150,
            max_depth: None,
            min_samples_leaf: 1,
            features_per_split: None,
            seed: 42,
        }
    }
}

/// RBF support vector machine options.
#[derive(Debug, Clone, PartialEq)]
pub struct SvmOptions {
    /// Soft-margin penalty `C` (> 0).
    pub c: f64,
    /// RBF width: `K(x, y) = exp(−γ‖x − y‖²)` on standardised features.
    /// `None` is `1 / d` for `d` features (scikit-learn's `gamma="scale"`
    /// on standardised data).
    pub gamma: Option<f64>,
    /// Passes of the LaSVM solver over each pair's rows (≥ 1).
    pub epochs: usize,
    /// Solver tolerance (> 0).
    pub tol: f64,
    /// Seed of the solver's row shuffling.
    pub seed: u64,
    /// Most training rows of one user given to each pairwise machine
    /// (evenly spaced through that user's rows in training order); `None`
    /// uses all. smartcore's solver slows down faster than quadratically with
    /// the rows of a pair, so this bounds the training time.
    pub max_rows_per_class: Option<usize>,
}

impl Default for SvmOptions {
    /// `C = 100`, `γ = 1/d`, one epoch, at most 150 rows per user and
    /// pair. Chosen on the CMU data (train repetitions 1–150, validate
    /// 151–200) among (C, γ·d) ∈ {(1, 1), (10, 0.5), (10, 1), (10, 2),
    /// (100, 0.5), (100, 1), (100, 2), (100, 4), (1000, 1), (1000, 2)}:
    /// (100, 1) was within 1 % of the best on both feature sets (which
    /// disagree on γ). A second epoch gave identical accuracy for twice the
    /// time (15 subjects); the row cap keeps training time bounded (capping
    /// 150 rows to 120 cost 0.2–1 %).
    fn default() -> Self {
        Self {
            c: 100.0,
            gamma: None,
            epochs: 1,
            tol: 1e-3,
            seed: 42,
            max_rows_per_class: Some(150),
        }
    }
}

/// Gradient boosting options (hessboost, XGBoost-style names).
#[derive(Debug, Clone, PartialEq)]
pub struct BoostingOptions {
    /// Boosting rounds (one tree per user per round, ≥ 1).
    pub rounds: usize,
    /// Maximum tree depth (≥ 1).
    pub max_depth: usize,
    /// Learning rate (0 < eta ≤ 1).
    pub eta: f64,
    /// Row subsample ratio per tree (0 < subsample ≤ 1).
    pub subsample: f64,
    /// Column subsample ratio per tree (0 < ratio ≤ 1).
    pub colsample_bytree: f64,
    /// Minimum hessian weight in a child.
    pub min_child_weight: f64,
    /// L2 regularisation of leaf weights.
    pub lambda: f64,
    /// Histogram bins per feature.
    pub max_bin: usize,
    /// Seed of row and column sampling.
    pub seed: u64,
}

impl Default for BoostingOptions {
    /// 300 rounds of depth-4 trees, eta 0.1, 80 % of rows and columns per
    /// tree. Chosen on the CMU data (train repetitions 1–150, validate
    /// 151–200) among (rounds, depth, eta) ∈ {(100, 4, 0.2), (150, 4, 0.2),
    /// (300, 4, 0.1), (150, 3, 0.3), (150, 6, 0.2), (100, 6, 0.3),
    /// (500, 4, 0.05), (400, 3, 0.1), (300, 5, 0.1)} and subsample 0.6: within
    /// 1 % of the best on both feature sets (which disagree on the best) at
    /// moderate cost.
    fn default() -> Self {
        Self {
            rounds: 300,
            max_depth: 4,
            eta: 0.1,
            subsample: 0.8,
            colsample_bytree: 0.8,
            min_child_weight: 1.0,
            lambda: 1.0,
            max_bin: 256,
            seed: 42,
        }
    }
}

/// Options for [`IdentifyModel::train`]; only the part for the model kind
/// being trained is read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainOptions {
    /// Random forest options.
    pub forest: ForestOptions,
    /// SVM options.
    pub svm: SvmOptions,
    /// Gradient boosting options.
    pub boosting: BoostingOptions,
    /// Worker threads; 0 uses all available cores.
    pub threads: usize,
}

/// Per-feature standardisation `(x − mean) / sd` learned on training data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Training mean of each feature.
    pub means: Vec<f64>,
    /// Training population standard deviation of each feature (1 where the
    /// feature is constant, so it maps to 0).
    pub sds: Vec<f64>,
}

impl Standardizer {
    /// Learns means and standard deviations from rows of equal length
    /// (at least one row).
    fn fit(rows: &[Vec<f64>]) -> Self {
        let d = rows.first().map_or(0, Vec::len);
        let n = rows.len().max(1) as f64;
        let mut means = vec![0.0; d];
        for row in rows {
            for (m, v) in means.iter_mut().zip(row) {
                *m += v;
            }
        }
        for m in &mut means {
            *m /= n;
        }
        let mut sds = vec![0.0; d];
        for row in rows {
            for ((s, v), m) in sds.iter_mut().zip(row).zip(&means) {
                *s += (v - m) * (v - m);
            }
        }
        for s in &mut sds {
            *s = (*s / n).sqrt();
            if *s <= 1e-12 {
                *s = 1.0;
            }
        }
        Self { means, sds }
    }

    /// Standardises one row of the right length.
    pub fn apply(&self, row: &[f64]) -> Vec<f64> {
        row.iter()
            .zip(self.means.iter().zip(&self.sds))
            .map(|(v, (m, s))| (v - m) / s)
            .collect()
    }
}

/// A trained user-identification model: kind, user labels, feature
/// standardisation and the trained classifier.
#[derive(Debug)]
pub struct IdentifyModel {
    /// Which kind of model this is.
    kind: ModelKind,
    /// User labels; the class index is the position (sorted, unique).
    labels: Vec<String>,
    /// Standardisation learned on the training features.
    scaler: Standardizer,
    /// The trained classifier.
    trained: Trained,
}

/// The trained classifier of each kind.
#[derive(Debug)]
enum Trained {
    Forest(forest::Forest),
    Svm(svm::SvmModel),
    Boosting(Box<hessboost::model::BoostedModel>),
}

impl IdentifyModel {
    /// Trains a model of `kind` on `features` (one row per typed sequence,
    /// all rows of equal length) labelled with the user who typed each row.
    ///
    /// # Errors
    /// [`IdentifyError::EmptyTrainingSet`], [`IdentifyError::NoFeatures`],
    /// [`IdentifyError::LabelCountMismatch`],
    /// [`IdentifyError::RaggedTrainingSet`],
    /// [`IdentifyError::NonFiniteTraining`], [`IdentifyError::TooFewClasses`],
    /// [`IdentifyError::InvalidOption`], or [`IdentifyError::Training`] when
    /// the learner itself fails.
    pub fn train<S: AsRef<str>>(
        kind: ModelKind,
        features: &[Vec<f64>],
        labels: &[S],
        options: &TrainOptions,
    ) -> Result<Self, IdentifyError> {
        let Some(first) = features.first() else {
            return Err(IdentifyError::EmptyTrainingSet);
        };
        let d = first.len();
        if d == 0 {
            return Err(IdentifyError::NoFeatures);
        }
        if labels.len() != features.len() {
            return Err(IdentifyError::LabelCountMismatch {
                rows: features.len(),
                labels: labels.len(),
            });
        }
        for (row, values) in features.iter().enumerate() {
            if values.len() != d {
                return Err(IdentifyError::RaggedTrainingSet {
                    row,
                    expected: d,
                    found: values.len(),
                });
            }
            if let Some(column) = values.iter().position(|v| !v.is_finite()) {
                return Err(IdentifyError::NonFiniteTraining { row, column });
            }
        }
        let names: Vec<String> = labels
            .iter()
            .map(|l| l.as_ref().to_string())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if names.len() < 2 {
            return Err(IdentifyError::TooFewClasses { found: names.len() });
        }
        let index: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        // Every label is a key: `names` was built from the labels.
        let y: Vec<usize> = labels.iter().map(|l| index[l.as_ref()]).collect();

        let scaler = Standardizer::fit(features);
        let x: Vec<Vec<f64>> = features.iter().map(|r| scaler.apply(r)).collect();
        let k = names.len();
        let threads = thread_count(options.threads);
        let trained = match kind {
            ModelKind::RandomForest => {
                Trained::Forest(forest::train(&x, &y, k, &options.forest, threads)?)
            }
            ModelKind::Svm => Trained::Svm(svm::train(&x, &y, k, &options.svm, threads)?),
            ModelKind::GradientBoosting => Trained::Boosting(Box::new(boosting::train(
                &x,
                &y,
                k,
                &options.boosting,
                options.threads,
            )?)),
        };
        Ok(Self {
            kind,
            labels: names,
            scaler,
            trained,
        })
    }

    /// The kind of this model.
    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    /// The user labels; a class index is a position in this list.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Number of features the model expects.
    pub fn feature_count(&self) -> usize {
        self.scaler.means.len()
    }

    /// The standardisation learned on the training features.
    pub fn standardizer(&self) -> &Standardizer {
        &self.scaler
    }

    /// Predicts the user who typed a sequence with these `features`, with a
    /// confidence in [0, 1]: for `RF` the share of trees voting for that user,
    /// for `SVM` the share of its pairwise duels the user won, for `XGBoost`
    /// the predicted probability. Ties go to the user with the larger summed
    /// SVM margin (SVM) or to the first label (RF, XGBoost).
    ///
    /// # Errors
    /// [`IdentifyError::DimensionMismatch`], [`IdentifyError::NonFiniteInput`],
    /// or [`IdentifyError::Prediction`] if the underlying model fails.
    pub fn predict(&self, features: &[f64]) -> Result<(String, f64), IdentifyError> {
        let (scores, tiebreak) = self.scores(features)?;
        let mut best = 0;
        for c in 1..scores.len() {
            let better = scores[c] > scores[best]
                || (scores[c] == scores[best] && tiebreak.as_ref().is_some_and(|t| t[c] > t[best]));
            if better {
                best = c;
            }
        }
        Ok((self.labels[best].clone(), scores[best]))
    }

    /// A score in [0, 1] for every user, in the order of [`Self::labels`]:
    /// tree vote shares (`RF`, sum 1), shares of pairwise duels won (`SVM`,
    /// sum `k/2` for `k` users) or probabilities (`XGBoost`, sum 1).
    ///
    /// # Errors
    /// As [`Self::predict`].
    pub fn class_scores(&self, features: &[f64]) -> Result<Vec<f64>, IdentifyError> {
        Ok(self.scores(features)?.0)
    }

    /// Scores per class and, for the SVM, summed margins to break ties.
    fn scores(&self, features: &[f64]) -> Result<(Vec<f64>, Option<Vec<f64>>), IdentifyError> {
        let d = self.feature_count();
        if features.len() != d {
            return Err(IdentifyError::DimensionMismatch {
                expected: d,
                found: features.len(),
            });
        }
        if let Some(index) = features.iter().position(|v| !v.is_finite()) {
            return Err(IdentifyError::NonFiniteInput { index });
        }
        let x = self.scaler.apply(features);
        let k = self.labels.len();
        match &self.trained {
            Trained::Forest(forest) => Ok((forest.vote_shares(&x, k), None)),
            Trained::Svm(svm) => {
                let (scores, margins) = svm.duel_scores(&x, k);
                Ok((scores, Some(margins)))
            }
            Trained::Boosting(model) => Ok((boosting::probabilities(model, &x, k)?, None)),
        }
    }

    /// Encodes the whole model (kind, labels, standardisation, trained
    /// classifier) as bytes for storage, e.g. in a database BLOB.
    ///
    /// Layout: the 8-byte magic `TKIDMDL1`; a little-endian `u32` length and
    /// a JSON header `{"kind", "labels", "features"}`; then, little-endian
    /// binary, the standardisation means and standard deviations (`f64`
    /// each) and the classifier: the forest's nodes (`RF`), the support
    /// vectors and pairwise coefficients (`SVM`), or hessboost's native
    /// binary model behind a `u64` length (`XGBoost`). Floating-point values
    /// are stored bit for bit, so a decoded model predicts identically.
    ///
    /// # Errors
    /// [`IdentifyError::Encode`] if the model cannot be serialised.
    pub fn to_bytes(&self) -> Result<Vec<u8>, IdentifyError> {
        let header = Header {
            kind: self.kind,
            labels: self.labels.clone(),
            features: self.feature_count(),
        };
        let header =
            serde_json::to_vec(&header).map_err(|e| IdentifyError::Encode(e.to_string()))?;
        let header_len = u32::try_from(header.len())
            .map_err(|_| IdentifyError::Encode("header too large".into()))?;
        let mut w = Writer::default();
        w.buf.extend_from_slice(MAGIC);
        w.u32(header_len);
        w.buf.extend_from_slice(&header);
        for v in self.scaler.means.iter().chain(&self.scaler.sds) {
            w.f64(*v);
        }
        match &self.trained {
            Trained::Forest(f) => f.encode(&mut w),
            Trained::Svm(s) => s.encode(&mut w),
            Trained::Boosting(m) => w.bytes(&boosting::encode(m)?),
        }
        Ok(w.buf)
    }

    /// Decodes a model written by [`Self::to_bytes`] and checks that its
    /// parts agree (classes, features, indices inside the trees and
    /// machines).
    ///
    /// # Errors
    /// [`IdentifyError::Decode`] naming what is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IdentifyError> {
        Self::decode(bytes).map_err(IdentifyError::Decode)
    }

    fn decode(bytes: &[u8]) -> Result<Self, String> {
        let rest = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or("missing magic 'TKIDMDL1'")?;
        let mut r = Reader::new(rest);
        let header = r.bytes_u32("header")?;
        let header: Header = serde_json::from_slice(header).map_err(|e| format!("header: {e}"))?;
        let k = header.labels.len();
        let d = header.features;
        if k < 2 || header.labels.windows(2).any(|w| w[0] >= w[1]) {
            return Err("labels must be at least two, sorted and unique".into());
        }
        if d == 0 || d.saturating_mul(16) > r.remaining() {
            return Err(format!("invalid feature count {d}"));
        }
        let mut values = Vec::with_capacity(2 * d);
        for _ in 0..2 * d {
            values.push(r.f64("standardisation")?);
        }
        let sds = values.split_off(d);
        if values.iter().chain(&sds).any(|v| !v.is_finite()) || sds.iter().any(|s| *s <= 0.0) {
            return Err("standardisation values must be finite, deviations positive".into());
        }
        let scaler = Standardizer { means: values, sds };
        let trained = match header.kind {
            ModelKind::RandomForest => Trained::Forest(forest::Forest::decode(&mut r, k, d)?),
            ModelKind::Svm => Trained::Svm(svm::SvmModel::decode(&mut r, k, d)?),
            ModelKind::GradientBoosting => {
                Trained::Boosting(Box::new(boosting::decode(r.bytes("boosted model")?, k, d)?))
            }
        };
        r.finish()?;
        Ok(Self {
            kind: header.kind,
            labels: header.labels,
            scaler,
            trained,
        })
    }
}

/// First bytes of [`IdentifyModel::to_bytes`].
const MAGIC: &[u8; 8] = b"TKIDMDL1";

/// The JSON header of the stored form.
#[derive(Serialize, Deserialize)]
struct Header {
    kind: ModelKind,
    labels: Vec<String>,
    features: usize,
}

/// `requested`, or all available cores for 0.
fn thread_count(requested: usize) -> usize {
    if requested > 0 {
        requested
    } else {
        std::thread::available_parallelism().map_or(1, usize::from)
    }
}

/// Applies `f` to every item on up to `threads` threads, keeping order;
/// returns the first error.
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> Result<R, IdentifyError> + Sync,
) -> Result<Vec<R>, IdentifyError> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    // Interleaved assignment balances uneven item costs.
    let results: Vec<Vec<(usize, Result<R, IdentifyError>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let f = &f;
                s.spawn(move || {
                    items
                        .iter()
                        .enumerate()
                        .skip(t)
                        .step_by(threads)
                        .map(|(i, item)| (i, f(item)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    // Every index appears exactly once across the threads' results.
    let mut indexed: Vec<(usize, Result<R, IdentifyError>)> =
        results.into_iter().flatten().collect();
    indexed.sort_by_key(|(i, _)| *i);
    indexed.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three well separated users in 4 features, 30 rows each, plus a
    /// deterministic jitter.
    fn toy(rows_per_user: usize) -> (Vec<Vec<f64>>, Vec<String>) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        let mut state = 12345u64;
        let mut noise = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f64 / (1u64 << 31) as f64) - 0.5
        };
        for (u, centre) in [
            [100.0, 200.0, 50.0, 10.0],
            [130.0, 150.0, 80.0, 30.0],
            [90.0, 260.0, 20.0, -5.0],
        ]
        .iter()
        .enumerate()
        {
            for _ in 0..rows_per_user {
                x.push(centre.iter().map(|c| c + 20.0 * noise()).collect());
                y.push(format!("user{u}"));
            }
        }
        (x, y)
    }

    fn fast_options() -> TrainOptions {
        TrainOptions {
            forest: ForestOptions {
                n_trees: 25,
                ..ForestOptions::default()
            },
            boosting: BoostingOptions {
                rounds: 20,
                ..BoostingOptions::default()
            },
            ..TrainOptions::default()
        }
    }

    #[test]
    fn model_names_parse_and_print() {
        for kind in ModelKind::ALL {
            assert_eq!(ModelKind::parse(kind.name()).unwrap(), kind);
            assert_eq!(kind.to_string().parse::<ModelKind>().unwrap(), kind);
        }
        assert_eq!(
            ModelKind::parse(" xgboost ").unwrap(),
            ModelKind::GradientBoosting
        );
        assert_eq!(ModelKind::parse("rf").unwrap(), ModelKind::RandomForest);
        let e = ModelKind::parse("KNN").unwrap_err();
        assert_eq!(e, IdentifyError::UnknownModel("KNN".into()));
        assert!(e.to_string().contains("KNN"));
    }

    #[test]
    fn every_model_learns_toy_users_and_round_trips() {
        let (x, y) = toy(30);
        let (tx, ty) = toy(5);
        for kind in ModelKind::ALL {
            let model = IdentifyModel::train(kind, &x, &y, &fast_options()).unwrap();
            assert_eq!(model.labels(), ["user0", "user1", "user2"]);
            assert_eq!(model.feature_count(), 4);
            let correct = tx
                .iter()
                .zip(&ty)
                .filter(|(row, label)| model.predict(row).unwrap().0 == **label)
                .count();
            assert!(correct >= 13, "{kind}: {correct}/15");

            let bytes = model.to_bytes().unwrap();
            let loaded = IdentifyModel::from_bytes(&bytes).unwrap();
            assert_eq!(loaded.kind(), kind);
            assert_eq!(loaded.labels(), model.labels());
            assert_eq!(
                loaded.to_bytes().unwrap(),
                bytes,
                "{kind}: re-encoding differs"
            );
            for row in tx.iter().chain(&x) {
                let a = model.predict(row).unwrap();
                let b = loaded.predict(row).unwrap();
                assert_eq!(a, b, "{kind}");
                assert!((0.0..=1.0).contains(&a.1), "{kind}: {a:?}");
                assert_eq!(
                    model.class_scores(row).unwrap(),
                    loaded.class_scores(row).unwrap()
                );
            }
        }
    }

    #[test]
    fn svm_handles_more_features_than_pair_rows() {
        // 2 rows per user, 10 features: each pair has 4 rows < 10 features.
        let x: Vec<Vec<f64>> = (0..6)
            .map(|i| {
                (0..10)
                    .map(|j| ((i / 2) * 10 + j) as f64 + 0.1 * i as f64)
                    .collect()
            })
            .collect();
        let y = ["a", "a", "b", "b", "c", "c"];
        let model = IdentifyModel::train(ModelKind::Svm, &x, &y, &TrainOptions::default()).unwrap();
        for (row, label) in x.iter().zip(y) {
            assert_eq!(model.predict(row).unwrap().0, label);
        }
    }

    #[test]
    fn training_input_errors_are_named() {
        let opts = fast_options();
        let kind = ModelKind::RandomForest;
        let empty: Vec<Vec<f64>> = Vec::new();
        let no_labels: [&str; 0] = [];
        assert_eq!(
            IdentifyModel::train(kind, &empty, &no_labels, &opts).unwrap_err(),
            IdentifyError::EmptyTrainingSet
        );
        let x = vec![vec![1.0, 2.0], vec![2.0, 1.0]];
        assert_eq!(
            IdentifyModel::train(kind, &x, &["a"], &opts).unwrap_err(),
            IdentifyError::LabelCountMismatch { rows: 2, labels: 1 }
        );
        assert_eq!(
            IdentifyModel::train(kind, &x, &["a", "a"], &opts).unwrap_err(),
            IdentifyError::TooFewClasses { found: 1 }
        );
        let ragged = vec![vec![1.0, 2.0], vec![2.0]];
        assert_eq!(
            IdentifyModel::train(kind, &ragged, &["a", "b"], &opts).unwrap_err(),
            IdentifyError::RaggedTrainingSet {
                row: 1,
                expected: 2,
                found: 1
            }
        );
        let nan = vec![vec![1.0, 2.0], vec![2.0, f64::NAN]];
        assert_eq!(
            IdentifyModel::train(kind, &nan, &["a", "b"], &opts).unwrap_err(),
            IdentifyError::NonFiniteTraining { row: 1, column: 1 }
        );
        let zero = vec![Vec::new(), Vec::new()];
        assert_eq!(
            IdentifyModel::train(kind, &zero, &["a", "b"], &opts).unwrap_err(),
            IdentifyError::NoFeatures
        );
        let mut bad = opts.clone();
        bad.svm.c = 0.0;
        let e = IdentifyModel::train(ModelKind::Svm, &x, &["a", "b"], &bad).unwrap_err();
        assert!(
            matches!(e, IdentifyError::InvalidOption { name: "svm.c", .. }),
            "{e}"
        );
        let mut bad = opts;
        bad.boosting.max_depth = 0;
        let e =
            IdentifyModel::train(ModelKind::GradientBoosting, &x, &["a", "b"], &bad).unwrap_err();
        assert!(matches!(e, IdentifyError::InvalidOption { .. }), "{e}");
    }

    #[test]
    fn prediction_input_errors_are_named() {
        let (x, y) = toy(10);
        let model = IdentifyModel::train(ModelKind::RandomForest, &x, &y, &fast_options()).unwrap();
        assert_eq!(
            model.predict(&[1.0, 2.0]).unwrap_err(),
            IdentifyError::DimensionMismatch {
                expected: 4,
                found: 2
            }
        );
        assert_eq!(
            model.predict(&[1.0, f64::INFINITY, 0.0, 0.0]).unwrap_err(),
            IdentifyError::NonFiniteInput { index: 1 }
        );
    }

    #[test]
    fn corrupt_bytes_are_rejected() {
        let (x, y) = toy(10);
        let model = IdentifyModel::train(ModelKind::Svm, &x, &y, &fast_options()).unwrap();
        let bytes = model.to_bytes().unwrap();
        assert!(matches!(
            IdentifyModel::from_bytes(b"nonsense").unwrap_err(),
            IdentifyError::Decode(_)
        ));
        for cut in [9, 20, bytes.len() / 2, bytes.len() - 1] {
            let e = IdentifyModel::from_bytes(&bytes[..cut]).unwrap_err();
            assert!(matches!(e, IdentifyError::Decode(_)), "{cut}: {e}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        let e = IdentifyModel::from_bytes(&longer).unwrap_err();
        assert!(e.to_string().contains("trailing"), "{e}");
        // A forest whose first split points at a node that does not exist.
        let forest =
            IdentifyModel::train(ModelKind::RandomForest, &x, &y, &fast_options()).unwrap();
        let mut bytes = forest.to_bytes().unwrap();
        let header_len = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
        let body = 12 + header_len + 2 * 4 * 8;
        // tree count (4), node count (4), then node 0: tag, feature, threshold, yes, no.
        let yes = body + 8 + 1 + 2 + 8;
        assert_eq!(bytes[body + 8], 1, "root is a split");
        bytes[yes..yes + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = IdentifyModel::from_bytes(&bytes).unwrap_err();
        assert!(e.to_string().contains("malformed"), "{e}");
    }
}
