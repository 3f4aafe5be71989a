//! What every handler shares: the store, the daemon (when the API runs inside it), the limits,
//! the time zone, and caches of compiled baselines and loaded models.
//!
//! The caches hold what is costly to rebuild on every request (a baseline's verifier, a decoded
//! model), each bounded in bytes ([`ByteBoundedCache`], [`Limits::cache_bytes`]). An entry
//! checked against the database (a cheap version query) less than [`FRESH_FOR`] ago is used as
//! it is, on the runtime's thread: no blocking call at all. Older, it is checked again first, so
//! that a baseline or model saved by another process (`tikker serve` beside `tikker daemon`, or
//! `tikker train`) is picked up within a second; what this process saves is in its caches once
//! it is committed.
//!
//! A baseline is answered only once it is stored: a write the database refuses (a lock held
//! beyond the busy timeout, a full disk) is an error the caller can retry (503 or 507 with
//! `Retry-After`), never a 200 for a baseline that is not there. Stored baselines are capped in
//! number and bytes ([`Limits::max_baselines`], [`Limits::max_baseline_bytes`]): the least
//! recently built are evicted, and a single baseline larger than the whole budget is refused.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::http::StatusCode;
use tikker_core::analytics::authenticity::Checker;
use tikker_core::analytics::baseline::Baseline;
use tikker_core::analytics::input::MAX_EVENTS;
use tikker_core::analytics::metrics::TypingMetrics;
use tikker_identify::IdentifyModel;
use tikker_store::{BaselineCap, StoredBaseline};

use super::body::ApiError;
use super::cache::ByteBoundedCache;
use super::security::Sessions;
use super::store::ApiStore;
use crate::state::DaemonState;

/// The largest body accepted: 8 MiB.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// How long a cache entry is used without asking the database whether it is still the newest.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// Request, connection and storage limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest body, bytes (beyond: 413).
    pub max_body_bytes: usize,
    /// The most events in one request (beyond: 413).
    pub max_events: usize,
    /// Bytes of request bodies read at once, all connections together (beyond: 503).
    pub bodies_in_flight_bytes: usize,
    /// TCP connections served at once (beyond: 503 and closed).
    pub max_connections: usize,
    /// How long a request's headers may take to arrive (then the connection closes).
    pub header_timeout: Duration,
    /// How long a request's body may take to arrive (then 408).
    pub body_timeout: Duration,
    /// API baselines stored at most (the least recently built are evicted).
    pub max_baselines: usize,
    /// Bytes of API baselines stored at most, all together.
    pub max_baseline_bytes: u64,
    /// Bytes of each in-memory cache (compiled baselines, loaded models).
    pub cache_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: MAX_BODY_BYTES,
            max_events: MAX_EVENTS,
            bodies_in_flight_bytes: 8 * MAX_BODY_BYTES,
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_baselines: 1000,
            max_baseline_bytes: 64 << 20,
            cache_bytes: 64 << 20,
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
    baselines: Mutex<ByteBoundedCache<Arc<LoadedBaseline>>>,
    last_version: AtomicI64,
    models: Mutex<ByteBoundedCache<CachedModel>>,
    sessions: Arc<Sessions>,
    tcp_address: OnceLock<SocketAddr>,
    owner: OnceLock<String>,
}

/// A decoded model: its row id, the model.
type CachedModel = (i64, Arc<IdentifyModel>);

impl ApiState {
    /// The state of an API on `store`.
    pub fn new(store: ApiStore, daemon: Option<Arc<DaemonState>>, limits: Limits) -> ApiState {
        ApiState {
            store,
            daemon,
            limits,
            tz: jiff::tz::TimeZone::system(),
            baselines: Mutex::new(ByteBoundedCache::new(limits.cache_bytes)),
            last_version: AtomicI64::new(i64::MIN),
            models: Mutex::new(ByteBoundedCache::new(limits.cache_bytes)),
            sessions: Arc::new(Sessions::default()),
            tcp_address: OnceLock::new(),
            owner: OnceLock::new(),
        }
    }

    /// The dashboard's one-time codes and sessions.
    pub fn sessions(&self) -> &Arc<Sessions> {
        &self.sessions
    }

    /// The TCP address the API listens on, once it is bound.
    pub fn tcp_address(&self) -> Option<SocketAddr> {
        self.tcp_address.get().copied()
    }

    /// Records the TCP address the API listens on (the dashboard's URLs name it); the first
    /// one recorded stays.
    pub fn set_tcp_address(&self, address: SocketAddr) {
        let _ = self.tcp_address.set(address);
    }

    /// Whose typing the dashboard shows by default: the capture user of the configuration,
    /// else the login name.
    pub fn owner(&self) -> &str {
        self.owner.get_or_init(|| {
            std::env::var("USER")
                .ok()
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| "me".into())
        })
    }

    /// Sets [`ApiState::owner`]; the first one set stays.
    pub fn set_owner(&self, user: String) {
        let _ = self.owner.set(user);
    }

    /// Caches a baseline just stored (or read) under its version; `bytes` is the size of its
    /// serialised form, its weight in the cache.
    pub fn remember_baseline(
        &self,
        user_id: &str,
        version: i64,
        baseline: &Baseline,
        bytes: usize,
    ) -> Arc<LoadedBaseline> {
        let loaded = Arc::new(LoadedBaseline {
            version,
            metrics: baseline.metrics(),
            checker: Checker::new(baseline),
        });
        if let Ok(mut cache) = self.baselines.lock() {
            cache.insert(user_id, loaded.clone(), bytes);
        }
        loaded
    }

    /// The cached baseline of `user_id` if it was checked less than [`FRESH_FOR`] ago (no
    /// blocking call).
    pub fn fresh_baseline(&self, user_id: &str) -> Option<Arc<LoadedBaseline>> {
        let mut cache = self.baselines.lock().ok()?;
        let (checked, loaded) = cache.get(user_id)?;
        (checked.elapsed() < FRESH_FOR).then_some(loaded)
    }

    /// The cached model `name` if it was checked less than [`FRESH_FOR`] ago (no blocking
    /// call).
    pub fn fresh_model(&self, name: &str) -> Option<Arc<IdentifyModel>> {
        let mut cache = self.models.lock().ok()?;
        let (checked, (_, model)) = cache.get(name)?;
        (checked.elapsed() < FRESH_FOR).then_some(model)
    }

    /// Bytes held by the caches of compiled baselines and of loaded models.
    pub fn cached_bytes(&self) -> (usize, usize) {
        let baselines = self.baselines.lock().map_or(0, |c| c.bytes());
        let models = self.models.lock().map_or(0, |c| c.bytes());
        (baselines, models)
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
        if let Ok(mut cache) = self.baselines.lock()
            && let Some((_, cached)) = cache.get(user_id)
            && cached.version >= version
        {
            cache.mark_checked(user_id);
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
            stored.data.len(),
        )))
    }

    /// Builds the baseline of `events` for `user_id`, stores it (evicting the least recently
    /// built beyond the caps) and uses it from now on. Costly: call it on a blocking thread.
    ///
    /// # Errors
    /// 413 for a baseline larger than all stored baselines may take; 503 (locked) or 507 (disk
    /// full) with `Retry-After` when the database refuses the write: nothing was stored.
    pub fn store_baseline(
        &self,
        user_id: &str,
        events: &[tikker_core::KeyEvent],
    ) -> Result<Arc<LoadedBaseline>, ApiError> {
        let now = jiff::Timestamp::now().as_microsecond();
        // A baseline's version is the time it was built, growing even within one microsecond.
        let version = self
            .last_version
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
                Some(now.max(last.saturating_add(1)))
            })
            .map_or(now, |last| now.max(last.saturating_add(1)));
        let baseline = Baseline::build(events, version);
        let data = baseline.to_json().map_err(ApiError::internal)?;
        if data.len() as u64 > self.limits.max_baseline_bytes {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "events: the baseline of these {} events takes {} bytes; the API stores at \
                     most {} bytes of baselines: send fewer events",
                    events.len(),
                    data.len(),
                    self.limits.max_baseline_bytes
                ),
            )
            .with_field("events"));
        }
        let stored = StoredBaseline {
            user_id: user_id.to_owned(),
            updated_us: version,
            keystrokes: i64::try_from(baseline.keystrokes).unwrap_or(i64::MAX),
            data,
        };
        let cap = BaselineCap {
            count: self.limits.max_baselines,
            bytes: self.limits.max_baseline_bytes,
        };
        let evicted = self
            .store
            .write(|store| store.save_api_baseline_capped(&stored, cap))
            .and_then(|r| r)
            .map_err(|e| ApiError::from_store(&e, "the baseline was not stored"))?;
        if evicted > 0 {
            tracing::info!(
                evicted,
                max_baselines = cap.count,
                max_bytes = cap.bytes,
                "the oldest API baselines were evicted to keep within the cap"
            );
        }
        Ok(self.remember_baseline(user_id, version, &baseline, stored.data.len()))
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
        if let Ok(mut cache) = self.models.lock()
            && let Some((_, (cached_id, model))) = cache.get(name)
            && cached_id == id
        {
            cache.mark_checked(name);
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
            cache.insert(name, (id, model.clone()), stored.data.len());
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
