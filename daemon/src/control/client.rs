//! The client side of the control channel, for `tikker pause`, `resume` and `status`: HTTP/1 over
//! the daemon's Unix socket with hyper.

use std::path::Path;

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;

use crate::state::StatusReport;

/// Sends one request to the daemon at `socket` and returns its status report; an error answer
/// becomes an error with the daemon's message.
pub async fn call(
    socket: &Path,
    method: Method,
    path: &str,
    body: Option<String>,
) -> anyhow::Result<StatusReport> {
    let stream = UnixStream::connect(socket).await.map_err(|e| {
        use std::io::ErrorKind::{ConnectionRefused, NotFound};
        match e.kind() {
            NotFound | ConnectionRefused => anyhow::anyhow!(
                "no tikker daemon is running for this user (nothing answers at {}): start it with `tikker daemon` (or `systemctl --user start tikker`)",
                socket.display()
            ),
            _ => anyhow::Error::new(e).context(format!("connecting to {}", socket.display())),
        }
    })?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("talking to the daemon")?;
    let connection = tokio::spawn(connection);
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, "tikker")
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .context("building the request")?;
    let response = sender
        .send_request(request)
        .await
        .context("talking to the daemon")?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .context("reading the daemon's answer")?
        .to_bytes();
    drop(sender);
    let _ = connection.await;
    if !status.is_success() {
        let message = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        bail!("the daemon answered {status}: {message}");
    }
    serde_json::from_slice(&bytes).context("reading the daemon's status")
}
