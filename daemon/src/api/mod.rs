//! tikker's local HTTP API: every endpoint of the original "ML analytics" and "predict-user"
//! services, and the daemon's own, over axum.
//!
//! `tikker daemon` serves it on its control socket (`$XDG_RUNTIME_DIR/tikker/control.sock`, the
//! socket of `tikker status` and the tray) and on TCP (`127.0.0.1:8003` by default, `[api]` in
//! the configuration, `--listen`); `tikker serve` serves it on TCP without capturing, on the same
//! database. The routes are thin: they parse and check requests ([`body`], `tikker_wire::api`), call
//! [`tikker_core::analytics`] (blocking work on tokio's blocking threads, [`state`]), and answer
//! JSON. Who may call what is in [`security`]; `GET /openapi.json` is generated from the
//! handlers and types by utoipa.
//!
//! | route | what | token over TCP |
//! |---|---|---|
//! | `GET /health` | status and version | no |
//! | `POST /patterns/detect` | typing patterns of the request | no |
//! | `POST /profile/build` | profile of the request, stored as its `user_id`'s baseline | yes |
//! | `POST /anomalies/detect` | speed and rhythm deviations from the baseline (stores the first one with the token only) | no |
//! | `POST /authenticity/check` | the verifier's score against the baseline | no |
//! | `POST /behavior/predict` | behaviour category by the trained model | no |
//! | `POST /predict_user`, `POST /` | user identification from the 8-number summary | no |
//! | `POST /temporal/analyze` | events per day stored, and their trend | yes |
//! | `POST /model/train` | trains the behaviour model on stored typing | yes |
//! | `GET /status`, `POST /pause`, `POST /resume` | the daemon's control | yes |
//! | `GET /scores`, `GET /alerts`, `GET /stats/daily` | what the daemon stored | yes |
//! | `POST /data/forget` | forgets a span of typing (raw events and rollups) | yes (or the dashboard's session) |
//! | `POST /alerts/{id}/false` | "It was me": the alert is marked false, its typing released | yes (or the dashboard's session) |
//! | `GET /activity`, `GET /profile/owner` | the dashboard's data: activity from the rollups, the stored profile | yes (or the dashboard's session) |
//! | `POST /dashboard/code` | a one-time code for the dashboard | yes (never the session) |
//! | `GET /dashboard/` and its assets | the dashboard ([`dashboard`]) | the one-time code, then its session |
//! | `GET /openapi.json` | this API's OpenAPI 3 description | no |
//!
//! Over TCP, [`admission`] caps the connections and the bodies in flight and times out slow
//! headers and bodies; nothing is stored for a caller without the token ([`security`]).

//! Every guarded route also accepts the dashboard's session cookie from the dashboard's own
//! origin ([`security`]).

pub mod activity;
pub mod admission;
pub mod analytics;
pub mod body;
pub mod cache;
pub mod config;
pub mod control;
pub mod dashboard;
pub mod data;
pub mod predict_user;
pub mod records;
pub mod security;
pub mod state;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Router};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::admission::{BodyBudget, read_body_within_limits};
use self::body::ApiError;
use self::security::{
    ApiToken, MayWrite, TcpPolicy, Transport, require_bearer, require_token, tcp_guard,
};
use self::state::{ApiState, Limits};
use self::store::ApiStore;
use crate::control::OwnerOnlyListener;
use crate::state::DaemonState;

/// The description of the API that `routes!` completes with every route.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "tikker",
        description = "tikker's local HTTP API: typing analytics on the request's key events \
                       (the original ML-analytics service), user identification from an 8-number \
                       timing summary (the original predict-user service), and the capture \
                       daemon's own routes. Routes marked with the bearer scheme need \
                       `Authorization: Bearer <token>` over TCP (`tikker token` prints it); the \
                       Unix socket needs none."
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "service", description = "The service itself"),
        (name = "analytics", description = "Computed on the request's events"),
        (name = "predict-user", description = "User identification"),
        (name = "stored", description = "Reads or changes what tikker stored"),
        (name = "daemon", description = "The capture daemon and its records"),
    )
)]
struct ApiDoc;

/// Adds the bearer scheme the guarded routes name.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
    }
}

/// The API of one process: its state and routes.
#[derive(Debug, Clone)]
pub struct Api {
    state: Arc<ApiState>,
    policy: Arc<TcpPolicy>,
    openapi: Arc<str>,
    budget: Arc<BodyBudget>,
}

impl Api {
    /// The API on the database at `path`; `daemon` is the capture daemon's state when the API
    /// runs inside it.
    pub fn new(
        database: &crate::db_key::Database,
        daemon: Option<Arc<DaemonState>>,
        token: ApiToken,
        allow_remote: bool,
        limits: Limits,
    ) -> anyhow::Result<Api> {
        let store = ApiStore::open(database)?;
        let state = Arc::new(ApiState::new(store, daemon, limits));
        let policy = Arc::new(TcpPolicy {
            token,
            allow_remote,
            sessions: state.sessions().clone(),
        });
        let (_, openapi) = routes(&policy);
        let openapi = openapi
            .to_json()
            .context("writing the OpenAPI description")?;
        Ok(Api {
            budget: Arc::new(BodyBudget::new(limits)),
            state,
            policy,
            openapi: Arc::from(openapi),
        })
    }

    /// The handlers' shared state.
    pub fn state(&self) -> &Arc<ApiState> {
        &self.state
    }

    fn router(&self) -> Router {
        let (router, _) = routes(&self.policy);
        let openapi = self.openapi.clone();
        router
            .with_state(self.state.clone())
            .route("/dashboard", get(dashboard::page_without_slash))
            .route(
                "/dashboard/",
                get(dashboard::page).with_state(self.policy.clone()),
            )
            .route("/dashboard/{file}", get(dashboard::asset))
            .route(
                "/openapi.json",
                get(move || async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        openapi.to_string(),
                    )
                }),
            )
            .fallback(
                |method: axum::http::Method, uri: axum::http::Uri| async move {
                    ApiError::new(
                        StatusCode::NOT_FOUND,
                        format!(
                            "no route {method} {}: GET /openapi.json lists the routes",
                            uri.path()
                        ),
                    )
                    .into_response()
                },
            )
            // After every route: a route asked with another method gets a JSON body too (axum
            // still adds the `Allow` header).
            .method_not_allowed_fallback(|method: axum::http::Method, uri: axum::http::Uri| async move {
                ApiError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!(
                        "{} does not answer {method}: its methods are in the Allow header, and in GET /openapi.json",
                        uri.path()
                    ),
                )
                .into_response()
            })
            .layer(DefaultBodyLimit::max(self.state.limits.max_body_bytes))
            .layer(from_fn_with_state(
                self.budget.clone(),
                read_body_within_limits,
            ))
    }

    /// The routes as TCP serves them: the Host check, and the token where needed.
    pub fn tcp_router(&self) -> Router {
        self.router()
            .layer(from_fn_with_state(self.policy.clone(), tcp_guard))
    }

    /// The routes as the owner-only Unix socket serves them: all trusted.
    pub fn unix_router(&self) -> Router {
        self.router()
            .layer(Extension(Transport::Unix))
            .layer(Extension(MayWrite(true)))
    }
}

/// Every route, and the OpenAPI description made from them.
fn routes(policy: &Arc<TcpPolicy>) -> (Router<Arc<ApiState>>, utoipa::openapi::OpenApi) {
    let open = OpenApiRouter::new()
        .routes(routes!(analytics::health))
        .routes(routes!(analytics::detect_patterns))
        .routes(routes!(analytics::detect_anomalies))
        .routes(routes!(analytics::check_authenticity))
        .routes(routes!(analytics::predict_behavior))
        .routes(routes!(predict_user::predict_user))
        .routes(routes!(predict_user::predict_user_at_root));
    let guarded = OpenApiRouter::new()
        .routes(routes!(analytics::build_profile))
        .routes(routes!(analytics::analyze_temporal))
        .routes(routes!(analytics::train_model))
        .routes(routes!(control::status))
        .routes(routes!(control::pause))
        .routes(routes!(control::resume))
        .routes(routes!(records::scores))
        .routes(routes!(records::alerts))
        .routes(routes!(records::mark_alert_false))
        .routes(routes!(records::daily_stats))
        .routes(routes!(dashboard::owner_profile))
        .routes(routes!(activity::activity))
        .routes(routes!(data::forget))
        .route_layer(from_fn_with_state(policy.clone(), require_token));
    let bearer_only = OpenApiRouter::new()
        .routes(routes!(dashboard::code))
        .route_layer(from_fn_with_state(policy.clone(), require_bearer));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(open)
        .merge(guarded)
        .merge(bearer_only)
        .split_for_parts()
}

/// How a process serves the API.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// The TCP address, or `None` for the control socket only.
    pub tcp: Option<SocketAddr>,
    /// Remote mode ([`config::ApiConfig::allow_remote`]).
    pub allow_remote: bool,
    /// Where the token lives.
    pub token_file: PathBuf,
    /// Connection and request limits.
    pub limits: Limits,
    /// Whose typing the dashboard shows (the capture user).
    pub owner: String,
}

impl ApiOptions {
    /// The options of the configuration's `[api]` section, with `--listen` if given.
    pub fn from_config(
        api: &config::ApiConfig,
        owner: String,
        listen: Option<SocketAddr>,
    ) -> anyhow::Result<ApiOptions> {
        let address = api.effective_listen(listen)?;
        Ok(ApiOptions {
            tcp: (api.tcp || listen.is_some()).then_some(address),
            allow_remote: api.allow_remote,
            token_file: crate::paths::api_token_file()?,
            limits: Limits {
                max_connections: api.max_connections,
                header_timeout: std::time::Duration::from_secs(api.header_timeout_s),
                body_timeout: std::time::Duration::from_secs(api.body_timeout_s),
                ..Limits::default()
            },
            owner,
        })
    }
}

/// Binds a TCP listener for the API.
pub async fn bind_tcp(address: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("the HTTP API cannot listen on {address}"))
}

/// The API servers of a running daemon: its control socket and, if configured, TCP.
#[derive(Debug)]
pub struct DaemonApi {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl DaemonApi {
    /// Starts serving (inside the daemon's runtime). A TCP address that cannot be bound, or a
    /// token that cannot be made, costs the TCP listener only, with a warning: capture goes on.
    pub async fn start(
        control: OwnerOnlyListener,
        options: &ApiOptions,
        database: &crate::db_key::Database,
        daemon: Arc<DaemonState>,
    ) -> anyhow::Result<DaemonApi> {
        let token = match ApiToken::load_or_create(&options.token_file) {
            Ok(token) => Some(token),
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "no API token: the HTTP API is served on the control socket only");
                None
            }
        };
        let api = Api::new(
            database,
            Some(daemon),
            token.clone().unwrap_or_else(|| ApiToken::new("")),
            options.allow_remote,
            options.limits,
        )?;
        api.state().set_owner(options.owner.clone());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        let mut unix_stop = stopped.clone();
        let unix = axum::serve(control, api.unix_router()).with_graceful_shutdown(async move {
            let _ = unix_stop.changed().await;
        });
        tasks.push(tokio::spawn(async move {
            if let Err(e) = unix.await {
                tracing::warn!(error = %e, "the control socket stopped serving");
            }
        }));
        if let (Some(address), Some(_)) = (options.tcp, token) {
            match bind_tcp(address).await {
                Ok(listener) => {
                    let local = listener.local_addr().unwrap_or(address);
                    api.state().set_tcp_address(local);
                    tracing::info!(address = %local, "HTTP API listening");
                    tasks.push(tokio::spawn(admission::serve_tcp(
                        listener,
                        api.tcp_router(),
                        options.limits,
                        stopped,
                    )));
                }
                Err(e) => tracing::warn!(
                    error = %format!("{e:#}"),
                    "the HTTP API is served on the control socket only"
                ),
            }
        }
        Ok(DaemonApi { stop, tasks })
    }

    /// Stops serving and waits for the servers to finish their requests.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// `tikker serve`: the API on TCP without capture, until SIGTERM or SIGINT.
pub fn serve(database: &crate::db_key::Database, options: &ApiOptions) -> anyhow::Result<()> {
    let address = options
        .tcp
        .context("`tikker serve` needs a TCP address (api.listen or --listen)")?;
    let token = ApiToken::load_or_create(&options.token_file)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let api = Api::new(database, None, token, options.allow_remote, options.limits)?;
        api.state().set_owner(options.owner.clone());
        let listener = bind_tcp(address).await?;
        let local = listener.local_addr().unwrap_or(address);
        api.state().set_tcp_address(local);
        let mut sigterm = signal(SignalKind::terminate()).context("handling signals")?;
        let mut sigint = signal(SignalKind::interrupt()).context("handling signals")?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tracing::info!(address = %local, database = %database.path().display(), "HTTP API listening");
        let server = tokio::spawn(admission::serve_tcp(
            listener,
            api.tcp_router(),
            options.limits,
            stopped,
        ));
        tokio::select! {
            _ = sigterm.recv() => tracing::info!(signal = "SIGTERM", "stopping"),
            _ = sigint.recv() => tracing::info!(signal = "SIGINT", "stopping"),
        }
        let _ = stop.send(true);
        let _ = server.await;
        Ok(())
    })
}
