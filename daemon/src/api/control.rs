//! The daemon's control routes, unchanged for `tikker pause/resume/status` and the tray:
//!
//! - `GET /status`: the [`StatusReport`] (capture state, source, pause, event counts, latency);
//! - `POST /pause`: pause capture, for `{"duration_s": N}` seconds or, with no body (or no
//!   `duration_s`), until resumed; answers with the status;
//! - `POST /resume`: resume capture; answers with the status.
//!
//! Errors are JSON `{"error": "..."}`. In `tikker serve`, which captures nothing, they answer 409.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;

use super::body::{ApiError, ErrorBody};
use super::state::ApiState;
use tikker_capture::pause::Pause;
use tikker_wire::status::{PauseRequest, StatusReport};

/// The longest pause, in seconds: a century (longer is no longer a time).
pub const MAX_PAUSE_S: u64 = 100 * 365 * 86_400;

/// The capture daemon's status: `state` (`starting`, `capturing`, `paused`, `waiting`,
/// `stopping`), source, pause, event counts, capture-to-disk latency, database, pid, uptime.
#[utoipa::path(get, path = "/status", tag = "daemon", security(("bearer" = [])),
    responses(
        (status = 200, description = "The status report", body = StatusReport),
        (status = 401, description = "No token over TCP", body = ErrorBody),
        (status = 409, description = "No capture in this process (`tikker serve`)", body = ErrorBody)))]
pub async fn status(State(state): State<Arc<ApiState>>) -> Result<Json<StatusReport>, ApiError> {
    Ok(Json(state.daemon()?.report()))
}

/// Pauses capture for `duration_s` seconds, or with no body until resumed; answers with the
/// status.
#[utoipa::path(post, path = "/pause", tag = "daemon", security(("bearer" = [])),
    request_body(content = Option<PauseRequest>, description = "`{\"duration_s\": N}`, or no body"),
    responses(
        (status = 200, description = "Paused: the status report", body = StatusReport),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No token over TCP", body = ErrorBody),
        (status = 409, description = "No capture in this process (`tikker serve`)", body = ErrorBody),
        (status = 422, description = "duration_s is not a whole number of seconds from 1 to 3153600000, or the body is not an object (named in `field`)", body = ErrorBody)))]
pub async fn pause(
    State(state): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<Json<StatusReport>, ApiError> {
    // No body (or `null`): until resumed. Otherwise as every body: malformed JSON is 400, a
    // wrong type, a negative or a fraction 422 naming the field.
    let request: PauseRequest = if body.trim_ascii().is_empty() || body.trim_ascii() == b"null" {
        PauseRequest::default()
    } else {
        super::body::parse_json(&body)?
    };
    if let Some(seconds) = request.duration_s
        && !(1..=MAX_PAUSE_S).contains(&seconds)
    {
        return Err(ApiError::field(
            "duration_s",
            format!("duration_s must be 1 to {MAX_PAUSE_S} (a century), not {seconds}"),
        ));
    }
    let pause = Pause::starting_now(request.duration_s.map(Duration::from_secs));
    change_pause(&state, pause).await
}

/// Resumes capture; answers with the status.
#[utoipa::path(post, path = "/resume", tag = "daemon", security(("bearer" = [])),
    responses(
        (status = 200, description = "Resumed: the status report", body = StatusReport),
        (status = 401, description = "No token over TCP", body = ErrorBody),
        (status = 409, description = "No capture in this process (`tikker serve`)", body = ErrorBody)))]
pub async fn resume(State(state): State<Arc<ApiState>>) -> Result<Json<StatusReport>, ApiError> {
    change_pause(&state, Pause::Off).await
}

async fn change_pause(state: &ApiState, pause: Pause) -> Result<Json<StatusReport>, ApiError> {
    let daemon = state.daemon()?;
    daemon
        .set_pause(pause)
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("{e:#}")))?;
    Ok(Json(daemon.report()))
}
