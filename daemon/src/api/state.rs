//! What every handler shares: the store, the daemon (when the API runs inside it), the limits,
//! the time zone, and caches of compiled baselines and loaded models.
//!
//! The caches hold what is costly to rebuild on every request (a baseline's verifier, a decoded
//! model) and are checked against the database on every use by a cheap version query, so that a
//! baseline or model saved by another process (`tikker serve` beside `tikker daemon`, or
//! `tikker train`) is picked up at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use tikker_core::analytics::authenticity::Checker;
use tikker_core::analytics::baseline::Baseline;
use tikker_core::analytics::input::MAX_EVENTS;
use tikker_core::analytics::metrics::TypingMetrics;
use tikker_core::identify::IdentifyModel;
use tikker_core::store::StoredBaseline;

use super::body::ApiError;
use super::store::ApiStore;
use crate::state::DaemonState;

/// The largest body accepted: 8 MiB.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Baselines kept compiled in memory (beyond, the cache starts again).
const CACHED_BASELINES: usize = 1024;

/// Request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest body, bytes (beyond: 413).
    pub max_body_bytes: usize,
    /// The most events in one request (beyond: 413).
    pub max_events: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: MAX_BODY_BYTES,
            max_events: MAX_EVENTS,
        }
    }
}

/// A baseline ready for checks.
#[derive(Debug)]
pub struct LoadedBaseline {
    /// Its version (when it was built, µs).
    pub version: i64,
    /// Its speed and rhythm.
    pub metrics: TypingMetrics,
    /// Its verifier and calibration.
    pub checker: Checker,
}

/// The handlers' shared state.
#[derive(Debug)]
pub struct ApiState {
    /// The database.
    pub store: ApiStore,
    /// The daemon, when the API runs inside `tikker daemon`.
    pub daemon: Option<Arc<DaemonState>>,
    /// Request limits.
    pub limits: Limits,
    /// The time zone of days and hours.
    pub tz: jiff::tz::TimeZone,
    baselines: Mutex<HashMap<String, Arc<LoadedBaseline>>>,
    models: Mutex<HashMap<String, (i64, Arc<IdentifyModel>)>>,
}

impl ApiState {
    /// The state of an API on `store`.
    pub fn new(store: ApiStore, daemon: Option<Arc<DaemonState>>, limits: Limits) -> ApiState {
        ApiState {
            store,
            daemon,
            limits,
            tz: jiff::tz::TimeZone::system(),
            baselines: Mutex::new(HashMap::new()),
            models: Mutex::new(HashMap::new()),
        }
    }

    /// Caches a baseline just built (or read) under its version.
    pub fn remember_baseline(
        &self,
        user_id: &str,
        version: i64,
        baseline: &Baseline,
    ) -> Arc<LoadedBaseline> {
        let loaded = Arc::new(LoadedBaseline {
            version,
            metrics: baseline.metrics(),
            checker: Checker::new(baseline),
        });
        if let Ok(mut cache) = self.baselines.lock() {
            if cache.len() >= CACHED_BASELINES {
                cache.clear();
            }
            cache.insert(user_id.to_owned(), loaded.clone());
        }
        loaded
    }

    /// The stored baseline of `user_id`, if any (blocking: call it on a blocking thread).
    pub fn baseline(&self, user_id: &str) -> Result<Option<Arc<LoadedBaseline>>, ApiError> {
        let Some(version) = self
            .store
            .read(|store| store.api_baseline_version(user_id))
            .and_then(|r| r)
            .map_err(ApiError::internal)?
        else {
            return Ok(None);
        };
        if let Some(cached) = self
            .baselines
            .lock()
            .ok()
            .and_then(|cache| cache.get(user_id).cloned())
            .filter(|cached| cached.version == version)
        {
            return Ok(Some(cached));
        }
        let Some(stored) = self
            .store
            .read(|store| store.api_baseline(user_id))
            .and_then(|r| r)
            .map_err(ApiError::internal)?
        else {
            return Ok(None);
        };
        let baseline = Baseline::from_json(&stored.data).map_err(ApiError::internal)?;
        Ok(Some(self.remember_baseline(
            user_id,
            stored.updated_us,
            &baseline,
        )))
    }

    /// Builds and stores the baseline of `events` for `user_id` (blocking).
    pub fn store_baseline(
        &self,
        user_id: &str,
        events: &[tikker_core::KeyEvent],
    ) -> Result<Arc<LoadedBaseline>, ApiError> {
        let now = jiff::Timestamp::now().as_microsecond();
        let baseline = Baseline::build(events, now);
        let data = baseline.to_json().map_err(ApiError::internal)?;
        // The version must grow even if two builds fall within one microsecond.
        let version = self
            .store
            .write(|store| -> Result<i64, tikker_core::store::StoreError> {
                let previous = store.api_baseline_version(user_id)?.unwrap_or(i64::MIN);
                let version = now.max(previous.saturating_add(1));
                store.save_api_baseline(&StoredBaseline {
                    user_id: user_id.to_owned(),
                    updated_us: version,
                    keystrokes: i64::try_from(baseline.keystrokes).unwrap_or(i64::MAX),
                    data,
                })?;
                Ok(version)
            })
            .and_then(|r| r)
            .map_err(ApiError::internal)?;
        Ok(self.remember_baseline(user_id, version, &baseline))
    }

    /// The newest stored model called `name`, decoded (blocking).
    pub fn model(&self, name: &str) -> Result<Option<Arc<IdentifyModel>>, ApiError> {
        let Some(id) = self
            .store
            .read(|store| store.latest_model_id(name))
            .and_then(|r| r)
            .map_err(ApiError::internal)?
        else {
            return Ok(None);
        };
        if let Some((cached_id, model)) = self
            .models
            .lock()
            .ok()
            .and_then(|cache| cache.get(name).cloned())
            && cached_id == id
        {
            return Ok(Some(model));
        }
        let Some(stored) = self
            .store
            .read(|store| store.model_by_id(id))
            .and_then(|r| r)
            .map_err(ApiError::internal)?
        else {
            return Ok(None);
        };
        let model = Arc::new(IdentifyModel::from_bytes(&stored.data).map_err(|e| {
            ApiError::internal(format!("the stored model {name:?} cannot be read: {e}"))
        })?);
        if let Ok(mut cache) = self.models.lock() {
            cache.insert(name.to_owned(), (id, model.clone()));
        }
        Ok(Some(model))
    }

    /// The daemon, or the error of an API without one (`tikker serve`).
    pub fn daemon(&self) -> Result<&Arc<DaemonState>, ApiError> {
        self.daemon.as_ref().ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "nothing is captured in this process (`tikker serve` is the API without \
                 capture): pause, resume and status are answered by `tikker daemon`",
            )
        })
    }
}

/// Runs blocking work (the database, a model) on tokio's blocking threads.
pub async fn blocking<R: Send + 'static>(
    work: impl FnOnce() -> Result<R, ApiError> + Send + 'static,
) -> Result<R, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("a worker thread failed: {e}")))?
}
