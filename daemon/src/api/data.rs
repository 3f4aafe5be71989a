//! The routes that change the stored record itself: `POST /data/forget` deletes a span of
//! typing (its raw key events and activity rollups; see [`crate::retention`]). Token (or the
//! owner-only control socket) required, like every route that reads or changes stored data.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;

use super::body::{ApiError, ErrorBody};
use super::state::ApiState;
use tikker_capture::clock::now_us;
use tikker_wire::api::{ForgetReply, ForgetRequest};

/// Forgets a span of typing: `{"last_minutes": N}` (the last N minutes) or
/// `{"from_us": A, "to_us": B}`. Its raw key events are deleted (overwritten on disk, the
/// write-ahead log truncated), its quarter-hour activity rollups removed (the two at its edges
/// recounted); scores, alerts and what the profile already learned are kept.
#[utoipa::path(post, path = "/data/forget", tag = "daemon", security(("bearer" = [])),
    request_body(content = ForgetRequest, description = "`{\"last_minutes\": N}` or `{\"from_us\": A, \"to_us\": B}`"),
    responses(
        (status = 200, description = "What was removed", body = ForgetReply),
        (status = 400, description = "A malformed body", body = ErrorBody),
        (status = 401, description = "No token over TCP", body = ErrorBody),
        (status = 422, description = "A span that is wrong (the field is named)", body = ErrorBody),
        (status = 503, description = "The database could not be changed now (locked, full); nothing was deleted", body = ErrorBody)))]
pub async fn forget(
    State(state): State<Arc<ApiState>>,
    body: Bytes,
) -> Result<Json<ForgetReply>, ApiError> {
    // Malformed JSON is 400; a wrong type or a negative 422 naming the field, as every body.
    let request: ForgetRequest = super::body::parse_json(&body)?;
    let (from_us, to_us) = crate::retention::span_of(&request, now_us())
        .map_err(|(field, why)| ApiError::field(field, why))?;
    let database = state.store.database().clone();
    let reply =
        tokio::task::spawn_blocking(move || crate::retention::forget(&database, from_us, to_us))
            .await
            .map_err(ApiError::internal)?
            .map_err(|e| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("{e:#}; nothing was deleted"),
                )
            })?;
    Ok(Json(reply))
}
