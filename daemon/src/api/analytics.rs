//! The analytics routes (the original "ML analytics" service): a thin layer over
//! [`tikker_core::analytics`].

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use tikker_core::KeyEvent;
use tikker_core::analytics::authenticity::Authenticity;
use tikker_core::analytics::input::{self, RawEvent};
use tikker_core::analytics::metrics::measure;
use tikker_core::analytics::{anomalies, patterns, temporal, words};
use tikker_identify::behavior::{self, BehaviorCategory, BehaviorError};
use tikker_store::StoredModel;
use utoipa::IntoParams;

use super::body::{ApiError, ApiJson, ErrorBody, EventsBodyErrors};
use super::security::MayWrite;
use super::state::{ApiState, LoadedBaseline, blocking};
use tikker_wire::api::{
    AnomalyOut, AnomalyType, AuthenticityOut, BehaviorCategoryOut, BehaviorFeaturesOut,
    BehaviorOut, DayOut, EventsRequest, HealthOut, PatternOut, ProfileOut, TemporalOut,
    TemporalRequest, TrainOut, TrendOut,
};

/// The request's `user_id` and events, checked and sorted.
fn checked(state: &ApiState, request: &EventsRequest) -> Result<Vec<KeyEvent>, ApiError> {
    if request.events.len() > state.limits.max_events {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "events: {} events; at most {} are accepted in one request",
                request.events.len(),
                state.limits.max_events
            ),
        )
        .with_field("events"));
    }
    input::user_id(&request.user_id)?;
    let raw: Vec<RawEvent> = request.events.iter().map(|e| e.raw()).collect();
    Ok(input::events(&raw)?)
}

fn pattern_out(pattern: patterns::Pattern) -> PatternOut {
    PatternOut {
        name: pattern.name.to_owned(),
        confidence: pattern.confidence,
        frequency: pattern.frequency,
        description: pattern.description,
        features: pattern
            .features
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    }
}

/// Status and version.
#[utoipa::path(get, path = "/health", tag = "service",
    responses((status = 200, description = "The service is up", body = HealthOut)))]
pub async fn health() -> Json<HealthOut> {
    Json(HealthOut {
        status: "healthy".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// Typing patterns of the request's events: `fast_typist` (> 80 WPM), `slow_typist` (< 20 WPM),
/// `consistent_rhythm` (consistency > 0.85), `inconsistent_rhythm` (< 0.5).
#[utoipa::path(post, path = "/patterns/detect", tag = "analytics", request_body = EventsRequest,
    responses(
        (status = 200, description = "The patterns found (possibly none)", body = Vec<PatternOut>),
        EventsBodyErrors))]
pub async fn detect_patterns(
    State(state): State<Arc<ApiState>>,
    ApiJson(request): ApiJson<EventsRequest>,
) -> Result<Json<Vec<PatternOut>>, ApiError> {
    let events = checked(&state, &request)?;
    let found = patterns::detect(&measure(&events));
    Ok(Json(found.into_iter().map(pattern_out).collect()))
}

/// Builds the typing profile of the request's events and stores it as the baseline of its
/// `user_id` (apart from the owner's profile). Common words come from the request only and are
/// not stored. It stores, so over TCP it needs the token. Stored baselines are capped in number
/// and bytes: the least recently built are evicted.
#[utoipa::path(post, path = "/profile/build", tag = "analytics", request_body = EventsRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The profile; the baseline is stored", body = ProfileOut),
        EventsBodyErrors,
        (status = 401, description = "No token over TCP", body = ErrorBody),
        (status = 503, description = "The database is locked by another process: nothing was stored, try again after Retry-After", body = ErrorBody),
        (status = 507, description = "The disk is full: nothing was stored, try again after Retry-After", body = ErrorBody)))]
pub async fn build_profile(
    State(state): State<Arc<ApiState>>,
    ApiJson(request): ApiJson<EventsRequest>,
) -> Result<Json<ProfileOut>, ApiError> {
    let events = checked(&state, &request)?;
    let user_id = request.user_id;
    blocking(move || {
        let metrics = measure(&events);
        state.store_baseline(&user_id, &events)?;
        Ok(Json(ProfileOut {
            avg_typing_speed: metrics.wpm,
            peak_hours: temporal::peak_hours(&events, &state.tz),
            common_words: words::common_words(&events),
            consistency_score: metrics.consistency,
            patterns: patterns::detect(&metrics)
                .into_iter()
                .map(|p| p.name.to_owned())
                .collect(),
            user_id,
        }))
    })
    .await
}

/// Speed and rhythm deviations of the request from the baseline of its `user_id`. Without a
/// baseline the answer is `[]`, and the request's events become the baseline if the caller may
/// store (the token over TCP, or the control socket); without the token nothing is stored.
#[utoipa::path(post, path = "/anomalies/detect", tag = "analytics", request_body = EventsRequest,
    responses(
        (status = 200, description = "The anomalies (possibly none)", body = Vec<AnomalyOut>),
        EventsBodyErrors,
        (status = 503, description = "The database is locked by another process: the first baseline was not stored, try again after Retry-After", body = ErrorBody),
        (status = 507, description = "The disk is full: the first baseline was not stored, try again after Retry-After", body = ErrorBody)))]
pub async fn detect_anomalies(
    State(state): State<Arc<ApiState>>,
    Extension(MayWrite(may_write)): Extension<MayWrite>,
    ApiJson(request): ApiJson<EventsRequest>,
) -> Result<Json<Vec<AnomalyOut>>, ApiError> {
    let events = checked(&state, &request)?;
    let baseline = match state.fresh_baseline(&request.user_id) {
        Some(baseline) => baseline,
        None => {
            // Without a baseline, these events become it (on the blocking thread).
            let first_events = events.clone();
            let user_id = request.user_id;
            let stored = blocking(move || {
                Ok(match state.baseline(&user_id)? {
                    Some(baseline) => Some(baseline),
                    None => {
                        if may_write {
                            state.store_baseline(&user_id, &first_events)?;
                        }
                        None
                    }
                })
            })
            .await?;
            let Some(baseline) = stored else {
                return Ok(Json(Vec::new()));
            };
            baseline
        }
    };
    Ok(Json(anomalies_out(&baseline, &events)))
}

fn anomalies_out(baseline: &LoadedBaseline, events: &[KeyEvent]) -> Vec<AnomalyOut> {
    anomalies::detect(&baseline.metrics, &measure(events))
        .into_iter()
        .map(|a| AnomalyOut {
            timestamp: a.timestamp_ms,
            anomaly_type: match a.kind {
                anomalies::AnomalyKind::TypingSpeedDeviation => AnomalyType::TypingSpeedDeviation,
                anomalies::AnomalyKind::RhythmDeviation => AnomalyType::RhythmDeviation,
            },
            severity: a.severity,
            reason: a.reason,
            expected_value: a.expected_value,
            actual_value: a.actual_value,
        })
        .collect()
}

/// Whether the request's typing is its `user_id`'s: the free-text verifier's score against the
/// baseline, calibrated on the baseline's own typing.
#[utoipa::path(post, path = "/authenticity/check", tag = "analytics", request_body = EventsRequest,
    responses(
        (status = 200, description = "The score, its confidence, the verdict and why", body = AuthenticityOut),
        EventsBodyErrors))]
pub async fn check_authenticity(
    State(state): State<Arc<ApiState>>,
    ApiJson(request): ApiJson<EventsRequest>,
) -> Result<Json<AuthenticityOut>, ApiError> {
    let events = checked(&state, &request)?;
    let answer = |baseline: Option<&LoadedBaseline>| {
        let answer = match baseline {
            Some(baseline) => baseline.checker.check(&request.user_id, &events),
            None => Authenticity::unknown(format!(
                "there is no baseline for {:?}: build one with POST /profile/build",
                request.user_id
            )),
        };
        Json(AuthenticityOut {
            authenticity_score: answer.score,
            confidence: answer.confidence,
            verdict: answer.verdict,
            reason: answer.reason,
        })
    };
    if let Some(baseline) = state.fresh_baseline(&request.user_id) {
        return Ok(answer(Some(&baseline)));
    }
    let user_id = request.user_id.clone();
    let baseline = blocking(move || state.baseline(&user_id)).await?;
    Ok(answer(baseline.as_deref()))
}

/// Events per day stored in `tikker.db` over the last `date_range_days` days, and their trend.
#[utoipa::path(post, path = "/temporal/analyze", tag = "stored", request_body = TemporalRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every day of the range", body = TemporalOut),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No token over TCP", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "date_range_days is missing or out of range", body = ErrorBody)))]
pub async fn analyze_temporal(
    State(state): State<Arc<ApiState>>,
    ApiJson(request): ApiJson<TemporalRequest>,
) -> Result<Json<TemporalOut>, ApiError> {
    let days = u32::try_from(request.date_range_days)
        .ok()
        .filter(|d| (1..=temporal::MAX_RANGE_DAYS).contains(d))
        .ok_or_else(|| {
            ApiError::field(
                "date_range_days",
                format!(
                    "date_range_days: {} is out of range: give 1 to {}",
                    request.date_range_days,
                    temporal::MAX_RANGE_DAYS
                ),
            )
        })?;
    blocking(move || {
        let range = temporal::day_range(days, jiff::Timestamp::now(), &state.tz)?;
        let filter = tikker_store::EventFilter {
            from_us: Some(range.from_us),
            to_us: Some(range.to_us),
            user: None,
        };
        let summary = state
            .store
            .read(|store| tikker_store::history::summarize(store, &filter, state.tz.clone()))
            .and_then(|r| r)
            .map_err(ApiError::internal)?;
        let analysis = temporal::analyze(&range, &summary.days)?;
        Ok(Json(TemporalOut {
            trend: match analysis.trend {
                temporal::Trend::Increasing => TrendOut::Increasing,
                temporal::Trend::Decreasing => TrendOut::Decreasing,
                temporal::Trend::Stable => TrendOut::Stable,
                temporal::Trend::InsufficientData => TrendOut::InsufficientData,
            },
            date_range_days: days,
            analysis: analysis
                .days
                .iter()
                .map(|d| DayOut {
                    date: d.date.to_string(),
                    total_events: d.total_events,
                })
                .collect(),
        }))
    })
    .await
}

/// The query of `/model/train`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrainQuery {
    /// Windows of 50 key presses of stored typing to use, the newest (10 to 10,000; default
    /// 100).
    #[param(value_type = Option<i64>, minimum = 10, maximum = 10000)]
    pub sample_size: Option<String>,
}

/// Trains the behaviour model on the newest windows of stored typing; every fifth window is held
/// out to measure the accuracy. The labels are the rule's categories of each window's own speed
/// and rhythm (README: the behaviour model).
#[utoipa::path(post, path = "/model/train", tag = "stored", params(TrainQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The model is trained and stored", body = TrainOut),
        (status = 401, description = "No token over TCP", body = ErrorBody),
        (status = 409, description = "Too little stored typing, or all of one category", body = ErrorBody),
        (status = 422, description = "sample_size out of range, or a query parameter that does not parse (named in `field`)", body = ErrorBody),
        (status = 503, description = "The database is locked by another process: nothing was stored, try again after Retry-After", body = ErrorBody),
        (status = 507, description = "The disk is full: nothing was stored, try again after Retry-After", body = ErrorBody)))]
pub async fn train_model(
    State(state): State<Arc<ApiState>>,
    query: Result<Query<TrainQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<TrainOut>, ApiError> {
    let Query(query) = query.map_err(super::body::query_error)?;
    let sample_size = match query.sample_size.as_deref() {
        None => behavior::DEFAULT_SAMPLES,
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (behavior::MIN_WINDOWS..=behavior::MAX_SAMPLES).contains(n))
            .ok_or_else(|| {
                ApiError::field(
                    "sample_size",
                    format!(
                        "sample_size: {text:?} is not a number from {} to {}",
                        behavior::MIN_WINDOWS,
                        behavior::MAX_SAMPLES
                    ),
                )
            })?,
    };
    blocking(move || {
        let windows = state
            .store
            .read(|store| {
                let mut sampler = behavior::WindowSampler::new(sample_size);
                store
                    .for_each_event(&Default::default(), |info, event| {
                        sampler.push(info.id.0, &event);
                        Ok::<(), tikker_store::StoreError>(())
                    })
                    .map(|_| sampler.finish())
            })
            .and_then(|r| r)
            .map_err(ApiError::internal)?;
        let trained = behavior::train(&windows, 0).map_err(|e| match e {
            BehaviorError::TooFewWindows { .. } | BehaviorError::OneCategory { .. } => {
                ApiError::new(StatusCode::CONFLICT, e.to_string())
            }
            e => ApiError::internal(e),
        })?;
        let data = trained.model.to_bytes().map_err(ApiError::internal)?;
        let metrics = serde_json::json!({
            "accuracy": trained.accuracy,
            "samples": trained.samples,
            "trained_on": trained.trained_on,
            "held_out": trained.samples - trained.trained_on,
            "categories": trained.categories,
            "features": behavior::FEATURE_NAMES,
            "labels": "the rule's category of each window's own speed and rhythm",
        });
        let model = StoredModel {
            name: behavior::MODEL_NAME.into(),
            created_us: jiff::Timestamp::now().as_microsecond(),
            trained_on: format!(
                "the newest {} windows of {} key presses of stored typing; labels from the rule \
                 of tikker_identify::behavior",
                trained.samples,
                behavior::WINDOW_PRESSES
            ),
            metrics: metrics.to_string(),
            data,
        };
        state
            .store
            .write(|store| store.save_model(&model))
            .and_then(|r| r)
            .map_err(|e| ApiError::from_store(&e, "the model was not stored"))?;
        Ok(Json(TrainOut {
            status: "trained".into(),
            samples: trained.samples,
            features: behavior::FEATURE_NAMES.map(str::to_owned).to_vec(),
            accuracy: trained.accuracy,
        }))
    })
    .await
}

/// The behaviour category of the request's typing, by the trained model: `normal`,
/// `fast_focused` (> 80 WPM), `slow_deliberate` (< 30 WPM), `stressed_or_tired` (consistency <
/// 0.5).
#[utoipa::path(post, path = "/behavior/predict", tag = "analytics", request_body = EventsRequest,
    responses(
        (status = 200, description = "The predicted category", body = BehaviorOut),
        EventsBodyErrors,
        (status = 409, description = "No model is trained yet", body = ErrorBody),
        (status = 422, description = "A field is wrong, or too little typing", body = ErrorBody)))]
pub async fn predict_behavior(
    State(state): State<Arc<ApiState>>,
    ApiJson(request): ApiJson<EventsRequest>,
) -> Result<Json<BehaviorOut>, ApiError> {
    let events = checked(&state, &request)?;
    let model = match state.fresh_model(behavior::MODEL_NAME) {
        Some(model) => Some(model),
        None => blocking(move || state.model(behavior::MODEL_NAME)).await?,
    };
    let model = model.ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "no behaviour model is trained yet: train one with POST /model/train",
        )
    })?;
    let prediction = behavior::predict(&model, &measure(&events)).map_err(|e| match e {
        BehaviorError::TooLittleTyping => ApiError::field("events", format!("events: {e}")),
        e => ApiError::internal(e),
    })?;
    Ok(Json(BehaviorOut {
        status: "predicted".into(),
        behavior_category: match prediction.category {
            BehaviorCategory::Normal => BehaviorCategoryOut::Normal,
            BehaviorCategory::FastFocused => BehaviorCategoryOut::FastFocused,
            BehaviorCategory::SlowDeliberate => BehaviorCategoryOut::SlowDeliberate,
            BehaviorCategory::StressedOrTired => BehaviorCategoryOut::StressedOrTired,
        },
        confidence: prediction.confidence,
        features: BehaviorFeaturesOut {
            typing_speed: prediction.typing_speed,
            consistency: prediction.consistency,
        },
    }))
}
