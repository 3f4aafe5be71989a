//! The one client of the daemon's control channel, for `tikker status|pause|resume`, the tray and
//! the dashboard's launcher: HTTP/1 over the daemon's Unix socket ([`crate::socket`]), one short
//! connection per request, each bounded by [`REQUEST_TIMEOUT`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;

use serde::de::DeserializeOwned;

use crate::status::{PauseRequest, StatusReport};

/// How long one request may take before the daemon counts as not answering.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a request to the daemon failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Nothing listens on the socket: no daemon runs for this user.
    #[error(
        "no tikker daemon is running for this user (nothing answers at {}): start it with `tikker daemon` (or `systemctl --user start tikker`)",
        .0.display()
    )]
    NotRunning(PathBuf),
    /// The daemon answered with an error status; the text is the daemon's message.
    #[error("the daemon answered {status}: {message}")]
    Refused {
        /// The HTTP status code.
        status: u16,
        /// The daemon's message.
        message: String,
    },
    /// The folder, the socket or the process answering on it is not this user's own: nothing
    /// was sent (it could be another account posing as the daemon).
    #[error("{0}; nothing was sent to it")]
    Untrusted(crate::socket::TrustError),
    /// Something is there but the exchange failed (a timeout, a broken connection, a bad
    /// answer).
    #[error("{0}")]
    Failed(String),
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

    /// A client of the daemon of this user, at the socket [`crate::socket::control_socket`]
    /// names.
    pub fn for_this_user() -> ControlClient {
        ControlClient::new(crate::socket::control_socket())
    }

    /// `GET /status`.
    pub async fn status(&self) -> Result<StatusReport, LinkError> {
        self.call(Method::GET, "/status", None).await
    }

    /// `POST /pause`, for `duration` (at least a second) or, with `None`, until resumed;
    /// answers the new status.
    pub async fn pause(&self, duration: Option<Duration>) -> Result<StatusReport, LinkError> {
        let body = PauseRequest {
            duration_s: duration.map(|d| d.as_secs().max(1)),
        };
        let body = serde_json::to_string(&body).map_err(|e| LinkError::Failed(e.to_string()))?;
        self.call(Method::POST, "/pause", Some(body)).await
    }

    /// `POST /data/forget` for the last `minutes` minutes; answers what was removed.
    pub async fn forget_last(&self, minutes: u64) -> Result<crate::api::ForgetReply, LinkError> {
        let body = crate::api::ForgetRequest {
            last_minutes: Some(minutes),
            ..crate::api::ForgetRequest::default()
        };
        let body = serde_json::to_string(&body).map_err(|e| LinkError::Failed(e.to_string()))?;
        self.call(Method::POST, "/data/forget", Some(body)).await
    }

    /// `POST /resume`; answers the new status.
    pub async fn resume(&self) -> Result<StatusReport, LinkError> {
        self.call(Method::POST, "/resume", None).await
    }

    /// `POST /dashboard/code`: a one-time code for the dashboard and the URL that carries it.
    pub async fn dashboard_code(&self) -> Result<crate::api::DashboardCodeOut, LinkError> {
        self.call(Method::POST, "/dashboard/code", None).await
    }

    /// Sends `method path` with a JSON `body` and reads the JSON answer as `T`.
    ///
    /// # Errors
    /// [`LinkError`]: no daemon, an error answer (with the daemon's message), a timeout or an
    /// answer that is not a `T`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<T, LinkError> {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(method, path, body)).await {
            Ok(result) => result,
            Err(_) => Err(LinkError::Failed(format!(
                "the daemon did not answer within {} s",
                REQUEST_TIMEOUT.as_secs()
            ))),
        }
    }

    /// Connects to the socket after the checks the daemon makes too ([`crate::socket`]): the
    /// folder is this user's and private, the socket is this user's, and the process listening
    /// on it runs as this user.
    async fn connect(&self) -> Result<UnixStream, LinkError> {
        use std::io::ErrorKind::{ConnectionRefused, NotFound};
        let not_running = || LinkError::NotRunning(self.socket.clone());
        let unreadable = |path: &Path, e: std::io::Error| {
            if e.kind() == NotFound {
                not_running()
            } else {
                LinkError::Failed(format!("reading {}: {e}", path.display()))
            }
        };
        if let Some(folder) = self.socket.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::socket::check_runtime_dir(folder)
                .map_err(|e| unreadable(folder, e))?
                .map_err(LinkError::Untrusted)?;
        }
        crate::socket::check_socket(&self.socket)
            .map_err(|e| unreadable(&self.socket, e))?
            .map_err(LinkError::Untrusted)?;
        let stream = UnixStream::connect(&self.socket)
            .await
            .map_err(|e| match e.kind() {
                NotFound | ConnectionRefused => not_running(),
                _ => LinkError::Failed(format!("connecting to {}: {e}", self.socket.display())),
            })?;
        crate::socket::check_peer(&self.socket, stream.peer_cred().map(|c| c.uid()))
            .map_err(LinkError::Untrusted)?;
        Ok(stream)
    }

    async fn exchange<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<T, LinkError> {
        let stream = self.connect().await?;
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
            return Err(LinkError::Refused {
                status: status.as_u16(),
                message,
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| failed("reading the daemon's answer", &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_socket_means_no_daemon() {
        let dir = tempfile::tempdir().unwrap();
        let client = ControlClient::new(dir.path().join("control.sock"));
        assert!(matches!(
            client.status().await,
            Err(LinkError::NotRunning(_))
        ));
    }

    #[tokio::test]
    async fn a_stale_socket_means_no_daemon() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("control.sock");
        // Bound then dropped: the file stays and nobody listens (what a killed daemon leaves).
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let client = ControlClient::new(path);
        assert!(matches!(
            client.status().await,
            Err(LinkError::NotRunning(_))
        ));
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
            Err(LinkError::Failed(why)) => assert!(why.contains("answer"), "{why}"),
            other => panic!("expected a failure, got {other:?}"),
        }
        server.join().unwrap();
    }
}
