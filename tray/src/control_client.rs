//! The tray's side of the daemon's control channel: HTTP/1 over the Unix socket
//! `$XDG_RUNTIME_DIR/tikker/control.sock` (or `/tmp/tikker-<uid>/control.sock` without
//! `XDG_RUNTIME_DIR`, as the daemon does), one short connection per request.
//!
//! The tray asks `GET /status` and sends `POST /pause` and `POST /resume`; nothing else. It never
//! opens the database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;

use crate::status::DaemonStatus;

/// How long one request may take before the daemon counts as not answering.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the daemon's status could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkError {
    /// Nothing listens on the socket: no daemon runs for this user.
    NotRunning,
    /// Something is there but the exchange failed (a timeout, a refused request, a bad answer).
    Failed(String),
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkError::NotRunning => f.write_str("the tikker daemon is not running"),
            LinkError::Failed(why) => f.write_str(why),
        }
    }
}

/// The daemon's control socket, located as the daemon locates it.
pub fn default_socket() -> PathBuf {
    let folder = match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        Some(base) => PathBuf::from(base).join("tikker"),
        None => std::env::temp_dir().join(format!("tikker-{}", rustix::process::getuid().as_raw())),
    };
    folder.join("control.sock")
}

/// A client of the daemon at one socket.
#[derive(Debug, Clone)]
pub struct ControlClient {
    socket: PathBuf,
}

impl ControlClient {
    /// A client of the daemon listening at `socket`.
    pub fn new(socket: PathBuf) -> ControlClient {
        ControlClient { socket }
    }

    /// The socket it talks to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// `GET /status`.
    pub async fn status(&self) -> Result<DaemonStatus, LinkError> {
        self.call(Method::GET, "/status", None).await
    }

    /// `POST /pause`, for `duration` or, with `None`, until resumed; answers the new status.
    pub async fn pause(&self, duration: Option<Duration>) -> Result<DaemonStatus, LinkError> {
        let body = match duration {
            Some(d) => format!("{{\"duration_s\": {}}}", d.as_secs().max(1)),
            None => String::new(),
        };
        self.call(Method::POST, "/pause", Some(body)).await
    }

    /// `POST /resume`; answers the new status.
    pub async fn resume(&self) -> Result<DaemonStatus, LinkError> {
        self.call(Method::POST, "/resume", None).await
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<DaemonStatus, LinkError> {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(method, path, body)).await {
            Ok(result) => result,
            Err(_) => Err(LinkError::Failed(format!(
                "the daemon did not answer within {} s",
                REQUEST_TIMEOUT.as_secs()
            ))),
        }
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<DaemonStatus, LinkError> {
        let stream = UnixStream::connect(&self.socket).await.map_err(|e| {
            use std::io::ErrorKind::{ConnectionRefused, NotFound};
            match e.kind() {
                NotFound | ConnectionRefused => LinkError::NotRunning,
                _ => LinkError::Failed(format!("connecting to {}: {e}", self.socket.display())),
            }
        })?;
        let failed =
            |what: &str, e: &dyn std::fmt::Display| LinkError::Failed(format!("{what}: {e}"));
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| failed("talking to the daemon", &e))?;
        let connection = tokio::spawn(connection);
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "tikker")
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| failed("building the request", &e))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| failed("talking to the daemon", &e))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| failed("reading the daemon's answer", &e))?
            .to_bytes();
        drop(sender);
        let _ = connection.await;
        if !status.is_success() {
            let message = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            return Err(LinkError::Failed(format!(
                "the daemon answered {status}: {message}"
            )));
        }
        serde_json::from_slice(&bytes).map_err(|e| failed("reading the daemon's status", &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_socket_means_no_daemon() {
        let dir = tempfile::tempdir().unwrap();
        let client = ControlClient::new(dir.path().join("control.sock"));
        assert_eq!(client.status().await, Err(LinkError::NotRunning));
    }

    #[tokio::test]
    async fn a_stale_socket_means_no_daemon() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("control.sock");
        // Bound then dropped: the file stays and nobody listens (what a killed daemon leaves).
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let client = ControlClient::new(path);
        assert_eq!(client.status().await, Err(LinkError::NotRunning));
    }

    #[tokio::test]
    async fn a_daemon_that_says_nothing_sensible_is_a_failure_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("control.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut stream, _) = listener.accept().unwrap();
            let mut buffer = [0u8; 1024];
            let _ = stream.read(&mut buffer).unwrap();
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nnot json!")
                .unwrap();
        });
        let client = ControlClient::new(path);
        match client.status().await {
            Err(LinkError::Failed(why)) => assert!(why.contains("status"), "{why}"),
            other => panic!("expected a failure, got {other:?}"),
        }
        server.join().unwrap();
    }
}
