//! Gradient-boosted trees with hessboost: `multi:softprob` (one tree per
//! class per round), histogram tree method, stored in hessboost's native
//! binary format.

use hessboost::model::{BoostedModel, Iterations, ModelFormat};
use hessboost::objective::Multiclass;
use hessboost::prelude::{DMatrix, HessboostError, Objective, TrainingParams, TreeMethod};

use super::{BoostingOptions, IdentifyError, ModelKind};

/// Trains on standardised rows `x` with class indices `y` (`k` classes).
/// `threads` 0 uses hessboost's global thread pool.
pub(crate) fn train(
    x: &[Vec<f64>],
    y: &[usize],
    k: usize,
    opt: &BoostingOptions,
    threads: usize,
) -> Result<BoostedModel, IdentifyError> {
    let err = |e: HessboostError| IdentifyError::Training {
        model: ModelKind::GradientBoosting,
        reason: e.to_string(),
    };
    if opt.rounds == 0 {
        return Err(IdentifyError::InvalidOption {
            name: "boosting.rounds",
            reason: "must be at least 1".into(),
        });
    }
    let (n, d) = (x.len(), x[0].len());
    let flat: Vec<f32> = x.iter().flatten().map(|v| *v as f32).collect();
    let labels: Vec<f32> = y.iter().map(|c| *c as f32).collect();
    let dtrain = DMatrix::from_dense(&flat, n, d)
        .and_then(|m| m.with_labels(&labels))
        .map_err(err)?;
    let invalid = |e: HessboostError| IdentifyError::InvalidOption {
        name: "boosting",
        reason: e.to_string(),
    };
    let objective = Multiclass::new(k).map_err(invalid)?;
    let mut builder = TrainingParams::builder()
        .objective(Objective::Softprob(objective))
        .tree_method(TreeMethod::Hist)
        .max_depth(opt.max_depth)
        .eta(opt.eta)
        .subsample(opt.subsample)
        .colsample_bytree(opt.colsample_bytree)
        .min_child_weight(opt.min_child_weight)
        .lambda(opt.lambda)
        .max_bin(opt.max_bin)
        .seed(opt.seed);
    if threads > 0 {
        builder = builder.nthread(threads);
    }
    // hessboost refuses out-of-range values (max_depth 0, eta > 1, ...) here.
    let params = builder.build().map_err(invalid)?;
    hessboost::training::train(&params, &dtrain, opt.rounds).map_err(err)
}

/// Class probabilities for one standardised row.
pub(crate) fn probabilities(
    model: &BoostedModel,
    x: &[f64],
    k: usize,
) -> Result<Vec<f64>, IdentifyError> {
    let row: Vec<f32> = x.iter().map(|v| *v as f32).collect();
    let mut probs = vec![0f32; k];
    model
        .predict_row_into(&row, Iterations::Best, &mut probs)
        .map_err(|e| IdentifyError::Prediction {
            model: ModelKind::GradientBoosting,
            reason: e.to_string(),
        })?;
    Ok(probs.iter().map(|p| f64::from(*p)).collect())
}

/// hessboost's native binary form.
pub(crate) fn encode(model: &BoostedModel) -> Result<Vec<u8>, IdentifyError> {
    model
        .encode(ModelFormat::Binary)
        .map_err(|e| IdentifyError::Encode(e.to_string()))
}

/// Reads hessboost's native binary form and checks classes and features.
pub(crate) fn decode(bytes: &[u8], k: usize, d: usize) -> Result<BoostedModel, String> {
    let m = BoostedModel::decode(bytes, ModelFormat::Binary)
        .map_err(|e| format!("boosted model: {e}"))?;
    if m.num_class() != k || m.n_features() != d {
        return Err(format!(
            "boosted model has {} classes and {} features, expected {k} and {d}",
            m.num_class(),
            m.n_features()
        ));
    }
    Ok(m)
}
