//! The control routes, served on the local control socket:
//!
//! - `GET /status`: the [`StatusReport`] (capture state, source, pause, event counts, latency);
//! - `POST /pause`: pause capture, for `{"duration_s": N}` seconds or, with no body (or no
//!   `duration_s`), until resumed; answers with the status;
//! - `POST /resume`: resume capture; answers with the status.
//!
//! Errors are JSON `{"error": "..."}` with a 4xx or 5xx status. The HTTP API will add its routes
//! to this router.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use crate::pause::Pause;
use crate::state::{DaemonState, StatusReport};

/// The body of `POST /pause`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PauseRequest {
    /// How long to pause, in seconds; absent: until resumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<u64>,
}

/// The control router over the daemon's state.
pub fn router(state: Arc<DaemonState>) -> Router {
    Router::new()
        .route("/status", get(status))
        .route("/pause", post(pause))
        .route("/resume", post(resume))
        .with_state(state)
}

/// An error answer: status code and message.
#[derive(Debug)]
struct ApiError(StatusCode, String);

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorBody { error: &self.1 })).into_response()
    }
}

async fn status(State(state): State<Arc<DaemonState>>) -> Json<StatusReport> {
    Json(state.report())
}

async fn pause(
    State(state): State<Arc<DaemonState>>,
    body: Bytes,
) -> Result<Json<StatusReport>, ApiError> {
    let request: PauseRequest = if body.iter().all(u8::is_ascii_whitespace) {
        PauseRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError(
                StatusCode::BAD_REQUEST,
                format!("expected {{\"duration_s\": SECONDS}} or no body: {e}"),
            )
        })?
    };
    if request.duration_s == Some(0) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "duration_s must be at least 1".into(),
        ));
    }
    let pause = Pause::starting_now(request.duration_s.map(Duration::from_secs));
    change_pause(&state, pause).await
}

async fn resume(State(state): State<Arc<DaemonState>>) -> Result<Json<StatusReport>, ApiError> {
    change_pause(&state, Pause::Off).await
}

async fn change_pause(
    state: &Arc<DaemonState>,
    pause: Pause,
) -> Result<Json<StatusReport>, ApiError> {
    state
        .set_pause(pause)
        .await
        .map_err(|e| ApiError(StatusCode::SERVICE_UNAVAILABLE, format!("{e:#}")))?;
    Ok(Json(state.report()))
}
