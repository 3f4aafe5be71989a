//! The dashboard: its page and assets (from `tikker-dashboard`), the exchange of a one-time
//! code for a session cookie, and the routes only it needs.
//!
//! | route | what | who |
//! |---|---|---|
//! | `POST /dashboard/code` | a one-time code and the URL that carries it | token or control socket |
//! | `GET /dashboard/?code=…` | spends the code, sets the session cookie, redirects to `/dashboard/` | the code |
//! | `GET /dashboard/` | the page | the session cookie |
//! | `GET /dashboard/app.js`, `app.css`, `licenses.txt` | the built assets (no data) | anyone on loopback |
//! | `GET /profile/owner` | the owner's stored profile: keys, key pairs, in words | token or cookie |
//!
//! Every answer of the page and its assets carries a strict Content-Security-Policy
//! ([`CONTENT_SECURITY_POLICY`]: scripts, styles and requests only from the page's own origin,
//! no inline script or style, no eval, no frames), `Referrer-Policy: no-referrer` and no
//! caching of the page. How the code and the cookie are checked is in [`super::security`].

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tikker_core::monitor::{MonitorConfig, OwnerModel, OwnerModelError};
use tikker_wire::api::{DashboardCodeOut, OwnerProfileOut};
use utoipa::IntoParams;

use super::body::{ApiError, ErrorBody};
use super::security::{self, CODE_LIFETIME, TcpPolicy};
use super::state::{ApiState, blocking};
use crate::profile_words;

/// The dashboard page's Content-Security-Policy.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The headers of every page and asset answer.
fn page_headers(
    content_type: &'static str,
    cache: &'static str,
) -> [(header::HeaderName, HeaderValue); 6] {
    [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
    ]
}

/// A short page in place of the dashboard, saying why and what to do.
fn refusal(status: StatusCode, why: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>tikker dashboard\
         </title></head><body><h1>tikker dashboard</h1><p>{why}</p><p>Open the dashboard with \
         <code>tikker dashboard</code>, or choose <em>Open dashboard</em> in the tray: each \
         opens a fresh link.</p></body></html>"
    );
    (
        status,
        page_headers("text/html; charset=utf-8", "no-store"),
        html,
    )
        .into_response()
}

/// The query of the page: the one-time code, if the URL carries one.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    code: Option<String>,
}

/// `GET /dashboard`: the page lives at `/dashboard/` (its assets are relative to it).
pub async fn page_without_slash(uri: axum::http::Uri) -> Redirect {
    match uri.query() {
        Some(query) => Redirect::permanent(&format!("/dashboard/?{query}")),
        None => Redirect::permanent("/dashboard/"),
    }
}

/// `GET /dashboard/`: spends a one-time code for a session cookie (then to the clean URL), or
/// serves the page to a live session.
pub async fn page(
    State(policy): State<Arc<TcpPolicy>>,
    headers: HeaderMap,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    if let Some(code) = query.ok().and_then(|Query(q)| q.code) {
        let port = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|host| host.rsplit_once(':'))
            .and_then(|(_, port)| port.parse::<u16>().ok())
            .unwrap_or(80);
        return match policy.sessions.redeem(&code) {
            Ok(Some(session)) => {
                let mut response = Redirect::to("/dashboard/").into_response();
                let cookie = security::session_cookie(port, &session);
                match HeaderValue::from_str(&cookie) {
                    Ok(value) => {
                        response.headers_mut().insert(header::SET_COOKIE, value);
                    }
                    Err(e) => {
                        return refusal(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
                    }
                }
                response.headers_mut().insert(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                );
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
            Ok(None) => refusal(
                StatusCode::UNAUTHORIZED,
                "This dashboard link has already been used or has expired: a link works once, \
                 within a minute.",
            ),
            Err(e) => refusal(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e:#}")),
        };
    }
    if !security::has_session(&headers, &policy) {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "This browser has no dashboard session (or it has ended).",
        );
    }
    asset_response(tikker_dashboard::INDEX, "no-store")
}

fn asset_response(name: &str, cache: &'static str) -> Response {
    match tikker_dashboard::asset(name) {
        Some(asset) => {
            let mut response = (page_headers("text/plain", cache), asset.bytes).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            );
            response
        }
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            format!("the dashboard has no file {name:?}"),
        )
        .into_response(),
    }
}

/// `GET /dashboard/{file}`: a built asset (code and styles, no data).
pub async fn asset(Path(name): Path<String>) -> Response {
    if name == tikker_dashboard::INDEX {
        return Redirect::permanent("/dashboard/").into_response();
    }
    asset_response(&name, "no-cache")
}

/// A one-time code for the dashboard, and the URL that carries it: open the URL in a browser
/// within a minute; it works once and leaves the browser with a session cookie.
#[utoipa::path(post, path = "/dashboard/code", tag = "daemon", security(("bearer" = [])),
    responses(
        (status = 200, description = "A code and its URL", body = DashboardCodeOut),
        (status = 401, description = "No token over TCP (a session cookie is not enough)", body = ErrorBody),
        (status = 409, description = "The API is not served on TCP", body = ErrorBody)))]
pub async fn code(State(state): State<Arc<ApiState>>) -> Result<Json<DashboardCodeOut>, ApiError> {
    let address = state.tcp_address().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "the HTTP API is not served on TCP (api.tcp = false, or its address could not be \
             bound): the dashboard needs it",
        )
    })?;
    let code = state
        .sessions()
        .issue_code()
        .map_err(|e| ApiError::internal(format!("{e:#}")))?;
    let host = if address.ip().is_unspecified() {
        std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), address.port())
    } else {
        address
    };
    Ok(Json(DashboardCodeOut {
        url: format!("http://{host}/dashboard/?code={code}"),
        expires_in_s: CODE_LIFETIME.as_secs(),
    }))
}

/// Whose profile.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OwnerQuery {
    /// The user (default: the daemon's capture user, i.e. the login name).
    pub user: Option<String>,
}

/// The owner's newest stored profile for the keyboard page: every key's use and median hold,
/// the slowest and most characteristic key pairs, and the profile in words. Read from the
/// stored profile (one row), never from the events.
#[utoipa::path(get, path = "/profile/owner", tag = "daemon", params(OwnerQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "The profile", body = OwnerProfileOut),
        (status = 401, description = "No token or session", body = ErrorBody),
        (status = 404, description = "No profile stored yet", body = ErrorBody)))]
pub async fn owner_profile(
    State(state): State<Arc<ApiState>>,
    query: Result<Query<OwnerQuery>, QueryRejection>,
) -> Result<Json<OwnerProfileOut>, ApiError> {
    let Query(query) = query.map_err(super::body::query_error)?;
    let user = query.user.unwrap_or_else(|| state.owner().to_owned());
    blocking(move || {
        let stored = state
            .store
            .read(|store| store.latest_profile(&user))
            .and_then(|r| r)
            .map_err(ApiError::internal)?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!(
                        "no profile of {user:?} is stored yet: the daemon builds it once it has \
                         enough of {user}'s typing (the Overview shows the enrolment)"
                    ),
                )
            })?;
        let model = OwnerModel::from_json(&stored.data).map_err(|e| match e {
            // Until the daemon has enrolled again with this version's scores, there is no
            // profile to show: not a server fault.
            OwnerModelError::Outdated { .. } => ApiError::new(
                StatusCode::NOT_FOUND,
                format!("profile version {} of {user:?}: {e}", stored.version),
            ),
            e => ApiError::internal(format!(
                "profile version {} of {user:?}: {e}",
                stored.version
            )),
        })?;
        let saved = jiff::Timestamp::from_microsecond(stored.created_us)
            .map(|t| {
                t.to_zoned(state.tz.clone())
                    .strftime("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_else(|_| stored.created_us.to_string());
        let profile = &model.profile;
        let (slowest, characteristic) = profile_words::digraphs(&model);
        Ok(Json(OwnerProfileOut {
            words: profile_words::describe(
                &user,
                stored.version,
                &saved,
                &model,
                &MonitorConfig::default(),
            ),
            drift: model.drift(),
            user,
            version: stored.version,
            saved_at: tikker_capture::clock::rfc3339(stored.created_us),
            keystrokes: profile.keystrokes,
            words_per_minute: profile.wpm(),
            rhythm_consistency: profile.rhythm_consistency(),
            median_hold_ms: profile_words::median_ms(&profile.hold_hist),
            median_press_to_press_ms: profile_words::median_ms(&profile.ppt_hist),
            keys: profile_words::keys(&model),
            slowest_digraphs: slowest,
            characteristic_digraphs: characteristic,
        }))
    })
    .await
}
