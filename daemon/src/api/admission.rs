//! What the API admits over TCP, so that no local process can exhaust the daemon by holding
//! connections or sending bodies slowly:
//!
//! - **Connections**: at most [`Limits::max_connections`] are served at once, and never more
//!   than the open-file limit less [`RESERVED_FILES`] (kept for the control socket that `tikker
//!   status`, pause and the tray use, the database and the keyboards). A connection beyond is
//!   answered `503` with `Retry-After` and closed at once.
//! - **Headers**: a request's headers must arrive within [`Limits::header_timeout`], counted from
//!   the connection's start or, on a kept-alive connection, from the previous answer; else the
//!   connection is closed. An idle connection therefore holds its place for that long at most.
//! - **Bodies**: a body declared larger than [`Limits::max_body_bytes`] is answered `413` at once
//!   from its `Content-Length`, unread, and the connection closed; every other body is read here,
//!   before any handler, and must arrive within [`Limits::body_timeout`] (else `408`), and the bodies
//!   being read, all connections together, may take at most [`Limits::bodies_in_flight_bytes`]
//!   (each reserves its `Content-Length`, or the largest body when it is sent chunked); a request
//!   whose body does not fit is answered `503` with `Retry-After` without being read.
//!
//! [`raise_open_file_limit`] lifts the soft open-file limit to the hard one at start (the unit
//! sets `LimitNOFILE=`).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::body::ApiError;
use super::state::Limits;

/// Open files kept free of TCP connections: the control socket and its clients, the database
/// and its companions, the keyboards, the log.
pub const RESERVED_FILES: u64 = 128;

/// The answer to a connection beyond the cap, written without reading its request.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
Retry-After: 1\r\nConnection: close\r\nContent-Length: 77\r\n\r\n\
{\"error\":\"too many connections to the tikker API at once: try again shortly\"}";

/// Raises the soft open-file limit to the hard one, and returns the soft limit in force.
pub fn raise_open_file_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if let (Some(current), Some(maximum)) = (limit.current, limit.maximum)
        && current < maximum
    {
        let raised = rustix::process::Rlimit {
            current: Some(maximum),
            maximum: Some(maximum),
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return Some(maximum);
        }
    }
    limit.current
}

/// The connections served at once: the configured cap, kept [`RESERVED_FILES`] below the
/// open-file limit `open_files` (if known).
pub fn connection_cap(configured: usize, open_files: Option<u64>) -> usize {
    let room = open_files.map_or(usize::MAX, |limit| {
        usize::try_from(limit.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX)
    });
    configured.min(room).max(1)
}

/// Serves `router` on `listener` within `limits` until `stop` changes; then lets the
/// connections finish their requests.
pub async fn serve_tcp(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: Limits,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let open_files = raise_open_file_limit();
    let cap = connection_cap(limits.max_connections, open_files);
    if cap < limits.max_connections {
        tracing::warn!(
            configured = limits.max_connections,
            cap,
            open_files,
            "fewer TCP connections than configured: the open-file limit is low (LimitNOFILE=)"
        );
    }
    let slots = Arc::new(Semaphore::new(cap));
    let mut connections = tokio::task::JoinSet::new();
    let mut refused: u64 = 0;
    let mut last_accept_error: Option<std::time::Instant> = None;
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => accepted,
        };
        while connections.try_join_next().is_some() {}
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of files (or another passing error): the control socket keeps its reserve;
                // try again shortly, logging at most once a minute.
                if last_accept_error.is_none_or(|at| at.elapsed() > Duration::from_secs(60)) {
                    tracing::warn!(error = %e, "the HTTP API could not accept a connection");
                    last_accept_error = Some(std::time::Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // A fresh socket's send buffer takes the short answer at once; the socket closes
            // when dropped.
            let _ = stream.try_write(BUSY);
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(
                    refused,
                    cap,
                    "the HTTP API refused connections beyond its cap (503)"
                );
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let header_timeout = limits.header_timeout;
        let mut stopping = stop.clone();
        connections.spawn(async move {
            let _slot = slot;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout);
            let connection =
                builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(e) = served {
                        tracing::debug!(error = %e, "an HTTP API connection ended with an error");
                    }
                }
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    while connections.join_next().await.is_some() {}
}

/// The reservations of bodies in flight, in KiB.
#[derive(Debug)]
pub struct BodyBudget {
    kib: Arc<Semaphore>,
    limits: Limits,
}

impl BodyBudget {
    /// The budget of `limits`.
    pub fn new(limits: Limits) -> BodyBudget {
        BodyBudget {
            kib: Arc::new(Semaphore::new(limits.bodies_in_flight_bytes.div_ceil(1024))),
            limits,
        }
    }
}

/// The middleware that reads a request's body within the budget and the body timeout before
/// the handler sees it.
pub async fn read_body_within_limits(
    State(budget): State<Arc<BodyBudget>>,
    request: Request,
    next: Next,
) -> Response {
    let limits = budget.limits;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = request.headers().contains_key(header::TRANSFER_ENCODING);
    let reserve = match declared {
        // Too large: refused from its Content-Length alone, at once and unread, and the
        // connection closed (the body is never read, so no timer needs to run for it: a client
        // that declares 9 MiB and sends nothing holds no connection).
        Some(length) if length > limits.max_body_bytes => return too_large_response(limits),
        Some(0) | None if !chunked => return next.run(request).await,
        Some(length) => length,
        None => limits.max_body_bytes,
    };
    let kib = u32::try_from(reserve.div_ceil(1024)).unwrap_or(u32::MAX);
    let Ok(permit) = budget.kib.clone().try_acquire_many_owned(kib) else {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "too many request bodies are being read at once (at most {} MiB together): try \
                 again shortly",
                limits.bodies_in_flight_bytes >> 20
            ),
        )
        .retry_after(1)
        .into_response();
    };
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(
        limits.body_timeout,
        axum::body::to_bytes(body, limits.max_body_bytes),
    )
    .await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            return if too_large {
                too_large_response(limits)
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("the body could not be read: {e}"),
                )
                .into_response()
            };
        }
        Err(_) => {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the body did not arrive within {} s",
                    limits.body_timeout.as_secs()
                ),
            )
            .into_response();
        }
    };
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    drop(permit);
    response
}

/// `413`: the body is over [`Limits::max_body_bytes`]; the connection is closed after the answer
/// (what is left of the body is never read).
fn too_large_response(limits: Limits) -> Response {
    let mut response = ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the body is larger than the API accepts ({} MiB)",
            limits.max_body_bytes >> 20
        ),
    )
    .into_response();
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_keeps_files_for_the_control_socket() {
        assert_eq!(connection_cap(256, Some(1024)), 256);
        assert_eq!(connection_cap(2048, Some(1024)), 1024 - 128);
        assert_eq!(connection_cap(256, Some(100)), 1);
        assert_eq!(connection_cap(256, None), 256);
    }

    #[test]
    fn the_busy_answer_is_well_formed() {
        let text = std::str::from_utf8(BUSY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("Content-Length: {}", body.len())),
            "{head}"
        );
        serde_json::from_str::<serde_json::Value>(body).unwrap();
    }
}
