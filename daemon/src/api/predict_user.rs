//! The predict-user routes (the original "predict-user" service): `POST /predict_user`, and
//! `POST /` for its clients, which posted to the root.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tikker_core::analytics::predict_user::{Series, features};
use tikker_identify::ModelKind;
use tikker_identify::model_name;

use super::body::{ApiError, PredictUserErrorBody, PredictUserJson};
use super::state::{ApiState, blocking};
use tikker_wire::api::{PredictUserOut, PredictUserRequest, SeriesIn};

fn series(name: &'static str, s: SeriesIn) -> (&'static str, Series) {
    (
        name,
        Series {
            mean: s.mean,
            std: s.std,
        },
    )
}

async fn predict(
    state: Arc<ApiState>,
    request: PredictUserRequest,
) -> Result<Json<PredictUserOut>, ApiError> {
    let error = |e: ApiError| e.for_predict_user();
    let kind = ModelKind::parse(&request.model)
        .map_err(|e| ApiError::field("Model", format!("Model: {e}")).for_predict_user())?;
    let x = features([
        series("HT", request.ht),
        series("PPT", request.ppt),
        series("RRT", request.rrt),
        series("RPT", request.rpt),
    ])
    .map_err(|e| ApiError::from(e).for_predict_user())?;
    let name = model_name(kind);
    let model = match state.fresh_model(name) {
        Some(model) => Some(model),
        None => blocking(move || state.model(name)).await.map_err(error)?,
    };
    let model = model.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "no {} model is trained: train them with `tikker train identify PATH --format \
                 cmu|events-csv|aalto`",
                kind.name()
            ),
        )
        .for_predict_user()
    })?;
    let (user, _) = model.predict(&x).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "the stored {} model cannot use these features: {e}",
                kind.name()
            ),
        )
        .for_predict_user()
    })?;
    Ok(Json(PredictUserOut {
        statuscode: 200,
        status: "success".into(),
        predicted_user: user,
    }))
}

/// Which user typed a sequence with this 8-number timing summary (ms), by the stored model of
/// the kind asked for (`tikker train identify` trains all three).
#[utoipa::path(post, path = "/predict_user", tag = "predict-user", request_body = PredictUserRequest,
    responses(
        (status = 200, description = "The predicted user", body = PredictUserOut),
        (status = 400, description = "Any error: unknown model, missing or extra field, no trained model", body = PredictUserErrorBody)))]
pub async fn predict_user(
    State(state): State<Arc<ApiState>>,
    PredictUserJson(request): PredictUserJson<PredictUserRequest>,
) -> Result<Json<PredictUserOut>, ApiError> {
    predict(state, request).await
}

/// The same as `POST /predict_user`, at the root where the original service answered.
#[utoipa::path(post, path = "/", tag = "predict-user", request_body = PredictUserRequest,
    responses(
        (status = 200, description = "The predicted user", body = PredictUserOut),
        (status = 400, description = "Any error: unknown model, missing or extra field, no trained model", body = PredictUserErrorBody)))]
pub async fn predict_user_at_root(
    State(state): State<Arc<ApiState>>,
    PredictUserJson(request): PredictUserJson<PredictUserRequest>,
) -> Result<Json<PredictUserOut>, ApiError> {
    predict(state, request).await
}
