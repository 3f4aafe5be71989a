//! Errors and request bodies: every error is JSON and names what is wrong.
//!
//! - A body that is not JSON (or not `Content-Type: application/json`) is refused with 400
//!   (415 for the content type); one over the size limit with 413.
//! - A body that is JSON but does not fit the request (a missing field, a wrong type, an unknown
//!   `event_type`) gets 422 and the path of the field (`events[3].event_type`); the checks of
//!   [`tikker_core::analytics::input`] answer 422 the same way.
//! - A query string that does not fit the route ([`query_error`]) gets 422 and the parameter's
//!   name as the field.
//! - The predict-user routes answer every error with 400 and the original service's shape
//!   `{"statuscode": 400, "status": "error", "message": "..."}`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tikker_core::analytics::input::InputError;
use utoipa::ToSchema;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    field: Option<String>,
    predict_user: bool,
    /// Seconds after which the caller may try again (`Retry-After`), if it may.
    retry_after: Option<u64>,
}

/// The JSON of an error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: String,
    /// The field at fault, as a path into the request (`events[3].timestamp`), if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The error answers of every route whose body is a list of events (400, 413, 415 and 422, each
/// an [`ErrorBody`]), named once for the `responses(…)` of those routes' descriptions.
#[derive(Debug)]
pub struct EventsBodyErrors;

impl utoipa::IntoResponses for EventsBodyErrors {
    fn responses() -> std::collections::BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        [
            ("400", "Malformed JSON"),
            ("413", "Over 8 MiB or 200,000 events"),
            ("415", "Not JSON"),
            ("422", "A field is missing or wrong (named)"),
        ]
        .into_iter()
        .map(|(status, description)| {
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build();
            let response = ResponseBuilder::new()
                .description(description)
                .content("application/json", content)
                .build();
            (status.to_owned(), RefOr::T(response))
        })
        .collect()
    }
}

/// The JSON of a predict-user error (the original service's shape).
#[derive(Debug, Serialize, ToSchema)]
pub struct PredictUserErrorBody {
    /// Always 400.
    pub statuscode: u16,
    /// Always `error`.
    pub status: String,
    /// What went wrong.
    pub message: String,
}

impl ApiError {
    /// An error with a status and a message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            field: None,
            predict_user: false,
            retry_after: None,
        }
    }

    /// The same error, telling the caller to try again after `seconds` (`Retry-After`).
    pub fn retry_after(self, seconds: u64) -> ApiError {
        ApiError {
            retry_after: Some(seconds),
            ..self
        }
    }

    /// A write or read the database refused, by its cause: a lock held beyond the busy timeout
    /// is 503 and a full disk 507, both with `Retry-After` (nothing was done: the caller may
    /// try again); a read-only or damaged database, or anything else, is 500. `what` says what
    /// did not happen.
    pub fn from_store(error: &tikker_store::StoreError, what: &str) -> ApiError {
        use tikker_store::Fault;
        let fault = error.fault();
        let message = format!("{what}: {fault} ({})", error.detail());
        match fault {
            Fault::Locked => {
                tracing::warn!(error = %error, "{what}: the database is locked; the caller is told to retry");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message).retry_after(5)
            }
            Fault::DiskFull => {
                tracing::error!(error = %error, "{what}: the disk is full");
                ApiError::new(StatusCode::INSUFFICIENT_STORAGE, message).retry_after(60)
            }
            _ => ApiError::internal(message),
        }
    }

    /// A 422 about one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.into()),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
        }
    }

    /// The same error, naming `field`.
    pub fn with_field(self, field: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.into()),
            ..self
        }
    }

    /// The same error in the predict-user shape (always 400).
    pub fn for_predict_user(self) -> ApiError {
        ApiError {
            predict_user: true,
            ..self
        }
    }

    /// A failure of tikker itself (the database, a damaged stored model): 500, logged.
    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %error, "the HTTP API failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
    }
}

impl From<InputError> for ApiError {
    fn from(e: InputError) -> ApiError {
        let message = format!("{}: {}", e.field, e.message);
        ApiError::field(e.field, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after;
        let mut response = self.answer();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}

impl ApiError {
    fn answer(self) -> Response {
        if self.predict_user {
            let message = match &self.field {
                Some(field) if !self.message.contains(field.as_str()) => {
                    format!("{field}: {}", self.message)
                }
                _ => self.message,
            };
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(PredictUserErrorBody {
                    statuscode: 400,
                    status: "error".into(),
                    message,
                }),
            )
                .into_response();
        }
        (
            self.status,
            axum::Json(ErrorBody {
                error: self.message,
                field: self.field,
            }),
        )
            .into_response()
    }
}

/// Whether the request says its body is JSON (`application/json`, `application/*+json`, with
/// any parameters).
fn is_json(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| {
            v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
        })
}

/// Reads a request's JSON body as `T`, with errors that name the field.
pub async fn read_json<T: DeserializeOwned, S: Send + Sync>(
    request: Request,
    state: &S,
) -> Result<T, ApiError> {
    if !is_json(&request) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be JSON, sent with `Content-Type: application/json`",
        ));
    }
    let bytes = Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the body is larger than the API accepts (8 MiB)",
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, rejection.body_text())
            }
        })?;
    parse_json(&bytes)
}

/// A query string that does not fit the route (`?bucket=year`, `?limit=abc`): 422 naming the
/// parameter as `field`, like a body's bad field, in tikker's words rather than the web
/// framework's.
pub fn query_error(rejection: axum::extract::rejection::QueryRejection) -> ApiError {
    let text = rejection.body_text();
    let detail = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(&text);
    match detail.split_once(": ") {
        Some((name, reason))
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            ApiError::field(name, format!("the query parameter {name}: {reason}"))
        }
        _ => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the query string: {detail}"),
        ),
    }
}

/// Parses a JSON object as `T`, with errors that name the field. (serde would also read a
/// struct from an array of its fields; the API's bodies are objects only.)
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        Some(b'[' | b'"' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9') => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the body must be a JSON object",
            ));
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed JSON: expected an object",
            ));
        }
    }
    // The fast path: plain serde_json. Only a body that fails is read again, with the path
    // tracking that names the field (it costs about as much as the parse itself).
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(json_error)?;
    deserializer
        .end()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}")))?;
    Ok(value)
}

fn json_error(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    use serde_json::error::Category;
    let path = error.path().to_string();
    let inner = error.into_inner();
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {inner}"))
        }
        Category::Data => {
            let message = inner.to_string();
            // serde names a missing field in its message, at the path of its parent (an
            // unknown field's path is its own).
            let named = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next());
            let field = match named {
                Some(name) if path == "." => name.to_owned(),
                Some(name) => format!("{path}.{name}"),
                None => path,
            };
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            ApiError::field(field.clone(), format!("{field}: {message}"))
        }
    }
}

/// A JSON body of the analytics routes.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_json(request, state).await.map(ApiJson)
    }
}

/// A JSON body of the predict-user routes: errors in the original service's shape.
#[derive(Debug)]
pub struct PredictUserJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PredictUserJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_json(request, state)
            .await
            .map(PredictUserJson)
            .map_err(ApiError::for_predict_user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        timestamp: f64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        events: Vec<Inner>,
        user_id: String,
    }

    fn error_of(json: &str) -> ApiError {
        parse_json::<Outer>(json.as_bytes()).unwrap_err()
    }

    #[test]
    fn errors_name_the_field() {
        let e = error_of(r#"{"events": [{"timestamp": 1}, {}], "user_id": "a"}"#);
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.field.as_deref(), Some("events[1].timestamp"));
        let e = error_of(r#"{"events": []}"#);
        assert_eq!(e.field.as_deref(), Some("user_id"));
        let e = error_of(r#"{"events": [{"timestamp": "x"}], "user_id": "a"}"#);
        assert_eq!(e.field.as_deref(), Some("events[0].timestamp"));
        assert!(!e.message.contains("line"), "{}", e.message);
        let e = error_of(r#"{"events": [], "user_id": "a", "extra": 1}"#);
        assert_eq!(e.field.as_deref(), Some("extra"));
    }

    #[test]
    fn only_objects_are_bodies() {
        for not_an_object in ["[[], \"alice\"]", "null", "3", "\"x\""] {
            let e = error_of(not_an_object);
            assert_eq!(
                e.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{not_an_object}"
            );
        }
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        for bad in [
            "{",
            "{\"events\": [NaN]}",
            "",
            "{\"events\": [], \"user_id\": \"a\"} {}",
            "{\"events\": [,]}",
            "<xml/>",
        ] {
            assert_eq!(error_of(bad).status, StatusCode::BAD_REQUEST, "{bad}");
        }
    }
}
