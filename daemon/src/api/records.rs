//! The daemon's records: `GET /scores`, `GET /alerts` (what the continuous-authentication
//! monitor stored), `POST /alerts/{id}/false` (the owner's "It was me") and `GET /stats/daily`
//! (the statistics of `tikker stats`).
//!
//! Time bounds (`from`, `to`) are RFC 3339 instants or `YYYY-MM-DD` days in local time; a day
//! as `to` includes the whole day.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use tikker_store::EventFilter;
use tikker_store::history::summarize;
use utoipa::IntoParams;

use super::body::{ApiError, ErrorBody};
use super::state::{ApiState, blocking};
use tikker_capture::clock::rfc3339;
use tikker_wire::api::{AlertOut, DailyStatsOut, DayStatsOut, ScoreOut};

/// The most rows one call returns.
pub const MAX_LIMIT: usize = 10_000;
/// Rows returned when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 1_000;

/// A time range and a row limit.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// From this instant (RFC 3339) or day (`YYYY-MM-DD`, local).
    pub from: Option<String>,
    /// Up to this instant, or through this day.
    pub to: Option<String>,
    /// At most this many rows (1 to 10,000; default 1,000), the newest.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 10000)]
    pub limit: Option<String>,
}

/// A time range and a user.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// From this instant (RFC 3339) or day (`YYYY-MM-DD`, local).
    pub from: Option<String>,
    /// Up to this instant, or through this day.
    pub to: Option<String>,
    /// Only this user's sessions.
    pub user: Option<String>,
}

fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query.map(|Query(q)| q).map_err(super::body::query_error)
}

/// A bound in µs: an instant, or the start of a day (of the next day for an end bound).
fn bound(name: &str, text: &str, end: bool, tz: &jiff::tz::TimeZone) -> Result<i64, ApiError> {
    let bad = |why: String| ApiError::field(name, format!("{name}: {text:?} {why}"));
    if let Ok(instant) = text.parse::<jiff::Timestamp>() {
        return Ok(instant.as_microsecond());
    }
    let date: jiff::civil::Date = text
        .parse()
        .map_err(|_| bad("is neither an RFC 3339 instant nor a day (YYYY-MM-DD)".into()))?;
    let date = if end {
        date.tomorrow().map_err(|e| bad(e.to_string()))?
    } else {
        date
    };
    date.to_zoned(tz.clone())
        .map(|z| z.timestamp().as_microsecond())
        .map_err(|e| bad(e.to_string()))
}

fn range(
    from: Option<&str>,
    to: Option<&str>,
    tz: &jiff::tz::TimeZone,
) -> Result<(Option<i64>, Option<i64>), ApiError> {
    let from_us = from.map(|t| bound("from", t, false, tz)).transpose()?;
    let to_us = to.map(|t| bound("to", t, true, tz)).transpose()?;
    if let (Some(from), Some(to)) = (from_us, to_us)
        && to <= from
    {
        return Err(ApiError::field("to", "to: must come after from"));
    }
    Ok((from_us, to_us))
}

fn limit(text: Option<&str>) -> Result<usize, ApiError> {
    match text {
        None => Ok(DEFAULT_LIMIT),
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::field(
                    "limit",
                    format!("limit: {text:?} is not a number from 1 to {MAX_LIMIT}"),
                )
            }),
    }
}

/// The windows the monitor scored whose end lies in the range, oldest first (the newest `limit`).
#[utoipa::path(get, path = "/scores", tag = "daemon", params(RangeQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "Scored windows", body = Vec<ScoreOut>),
        (status = 401, description = "No token over TCP", body = ErrorBody),
        (status = 422, description = "A bound or the limit is wrong, or a query parameter does not parse (named in `field`)", body = ErrorBody)))]
pub async fn scores(
    State(state): State<Arc<ApiState>>,
    q: Result<Query<RangeQuery>, QueryRejection>,
) -> Result<Json<Vec<ScoreOut>>, ApiError> {
    let q = query(q)?;
    let (from_us, to_us) = range(q.from.as_deref(), q.to.as_deref(), &state.tz)?;
    let limit = limit(q.limit.as_deref())?;
    blocking(move || {
        let scores = state
            .store
            .read(|store| store.scores_between(from_us, to_us, limit))
            .and_then(|r| r)
            .map_err(ApiError::internal)?;
        Ok(Json(scores.into_iter().map(score_out).collect()))
    })
    .await
}

/// The alerts the monitor raised in the range, newest first.
#[utoipa::path(get, path = "/alerts", tag = "daemon", params(RangeQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "Alerts", body = Vec<AlertOut>),
        (status = 401, description = "No token over TCP", body = ErrorBody),
        (status = 422, description = "A bound or the limit is wrong, or a query parameter does not parse (named in `field`)", body = ErrorBody)))]
pub async fn alerts(
    State(state): State<Arc<ApiState>>,
    q: Result<Query<RangeQuery>, QueryRejection>,
) -> Result<Json<Vec<AlertOut>>, ApiError> {
    let q = query(q)?;
    let (from_us, to_us) = range(q.from.as_deref(), q.to.as_deref(), &state.tz)?;
    let limit = limit(q.limit.as_deref())?;
    blocking(move || {
        let alerts = state
            .store
            .read(|store| store.alerts_between(from_us, to_us, limit))
            .and_then(|r| r)
            .map_err(ApiError::internal)?;
        Ok(Json(alerts.into_iter().map(alert_out).collect()))
    })
    .await
}

/// "It was me": marks the alert false (idempotent: a second call changes nothing and answers the
/// same) and, in `tikker daemon`, releases the typing it covered to the monitor for learning;
/// answers the alert as stored. `tikker serve` stores the mark only.
#[utoipa::path(post, path = "/alerts/{id}/false", tag = "daemon", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The alert's id (`GET /alerts`, `tikker alerts`)")),
    responses(
        (status = 200, description = "The alert, marked false", body = AlertOut),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 401, description = "No token over TCP", body = ErrorBody),
        (status = 404, description = "No alert has that id", body = ErrorBody)))]
pub async fn mark_alert_false(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Result<Json<AlertOut>, ApiError> {
    let id: i64 = id.trim().parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("alert id {id:?} is not a number (`GET /alerts` lists them)"),
        )
    })?;
    blocking(move || {
        let marked = state
            .store
            .write(|store| match &state.daemon {
                Some(daemon) => daemon.owner_link().it_was_me(store, id),
                None => store.mark_alert_false(id, tikker_capture::clock::now_us()),
            })
            .and_then(|r| r)
            .map_err(ApiError::internal)?;
        match marked {
            Some(marked) => Ok(Json(alert_out(marked.alert))),
            None => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no alert has id {id} (`GET /alerts` lists them)"),
            )),
        }
    })
    .await
}

/// Events, keystrokes and words per minute per day (local days), as `tikker stats` gives them.
#[utoipa::path(get, path = "/stats/daily", tag = "daemon", params(StatsQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "Statistics per day", body = DailyStatsOut),
        (status = 401, description = "No token over TCP", body = ErrorBody),
        (status = 422, description = "A bound is wrong, or a query parameter does not parse (named in `field`)", body = ErrorBody)))]
pub async fn daily_stats(
    State(state): State<Arc<ApiState>>,
    q: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Json<DailyStatsOut>, ApiError> {
    let q = query(q)?;
    let (from_us, to_us) = range(q.from.as_deref(), q.to.as_deref(), &state.tz)?;
    let filter = EventFilter {
        from_us,
        to_us,
        user: q.user,
    };
    blocking(move || {
        let summary = state
            .store
            .read(|store| summarize(store, &filter, state.tz.clone()))
            .and_then(|r| r)
            .map_err(ApiError::internal)?;
        Ok(Json(DailyStatsOut {
            events: summary.events,
            keystrokes: summary.keystrokes,
            active_days: summary.active_days,
            wpm: summary.wpm,
            days: summary
                .days
                .into_iter()
                .map(|d| DayStatsOut {
                    date: d.date.to_string(),
                    events: d.events,
                    keystrokes: d.keystrokes,
                    active_minutes: d.active_minutes,
                    wpm: d.wpm,
                })
                .collect(),
        }))
    })
    .await
}

/// A stored score as the API (and `tikker scores --json`) writes it.
pub fn score_out(s: tikker_store::StoredScore) -> ScoreOut {
    ScoreOut {
        id: s.id,
        user: s.user,
        from: rfc3339(s.from_us),
        to: rfc3339(s.to_us),
        score: s.score,
        confidence: s.confidence,
        verdict: s.verdict,
        reason: s.reason,
        profile_version: s.profile_version,
    }
}

/// A stored alert as the API (and `tikker alerts --json`) writes it.
pub fn alert_out(a: tikker_store::StoredAlert) -> AlertOut {
    AlertOut {
        id: a.id,
        created: rfc3339(a.created_us),
        score_id: a.score_id,
        score: a.score,
        reason: a.reason,
        notified: a.notified,
        action: a.action,
        kind: a.kind,
        evidence_from: a.evidence_from_us.map(rfc3339),
        evidence_to: a.evidence_to_us.map(rfc3339),
        marked_false: a.marked_false_us.map(rfc3339),
    }
}
