//! Who may call the API: the token, the Host check, and the guards of the TCP listener.
//!
//! - **The Unix socket** (the daemon's control socket) is trusted by its file mode and its peer
//!   check ([`crate::control::OwnerOnlyListener`]): every route answers there without a token.
//! - **Over TCP on loopback**, the routes that compute only on the request's events answer
//!   without a token, as the original service documents; the routes that read or change what
//!   tikker stored (building a baseline, temporal analysis, model training, the daemon's own
//!   routes) need `Authorization: Bearer <token>`. Nothing is stored for a caller without the
//!   token: `/anomalies/detect` without one compares with a stored baseline but never stores
//!   one ([`MayWrite`]), so another account on the machine cannot fill the owner's disk or
//!   memory through the API. The `Host` header must name loopback (`localhost`,
//!   `127.0.0.1`, `[::1]`, with any port), so that a web page cannot reach the API through DNS
//!   rebinding; the API sends no CORS headers, so browsers keep other origins from reading its
//!   answers.
//! - **Over TCP on another address** (`allow_remote`), every call needs the token.
//!
//! The token is 32 random bytes in hex, created at the first start in `api-token` (mode `0600`)
//! in the configuration folder, printed by `tikker token`, and compared in constant time.

use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::body::ApiError;
use crate::runtime_dir::current_uid;

/// The token file's name in the configuration folder.
pub const TOKEN_FILE: &str = "api-token";
/// Random bytes in a token.
const TOKEN_BYTES: usize = 32;

/// The API's bearer token.
#[derive(Clone)]
pub struct ApiToken(Arc<str>);

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(..)")
    }
}

impl ApiToken {
    /// A token of the given text (tests).
    pub fn new(text: &str) -> ApiToken {
        ApiToken(Arc::from(text))
    }

    /// The token's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `offered` is the token, compared in constant time (the length is not secret).
    pub fn matches(&self, offered: &[u8]) -> bool {
        let expected = self.0.as_bytes();
        !expected.is_empty()
            && expected.len() == offered.len()
            && bool::from(expected.ct_eq(offered))
    }

    /// Reads the token at `path`, creating it (and its folder) first if there is none.
    pub fn load_or_create(path: &Path) -> anyhow::Result<ApiToken> {
        if !path.exists() {
            create(path)?;
        }
        let metadata = std::fs::metadata(path)
            .with_context(|| format!("reading the API token {}", path.display()))?;
        if metadata.uid() != current_uid() {
            bail!(
                "the API token {} belongs to user {}, not to this user ({}): remove it",
                path.display(),
                metadata.uid(),
                current_uid()
            );
        }
        tikker_store::restrict_mode(path, 0o600)?;
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|mut file| file.read_to_string(&mut text))
            .with_context(|| format!("reading the API token {}", path.display()))?;
        let text = text.trim();
        if text.len() < 32 || !text.bytes().all(|b| b.is_ascii_graphic()) {
            bail!(
                "the API token {} is damaged: remove it and a new one is made at the next start",
                path.display()
            );
        }
        Ok(ApiToken(Arc::from(text)))
    }
}

/// Writes a new token to `path` atomically: a private temporary file linked into place, so that
/// two processes starting at once agree on one token and nobody ever reads half of one.
fn create(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tikker_store::ensure_private_dir(dir)?;
    }
    let mut random = [0u8; TOKEN_BYTES];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut random))
        .context("reading /dev/urandom for the API token")?;
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .and_then(|mut file| {
            use std::io::Write;
            writeln!(file, "{hex}")?;
            file.sync_all()
        });
    let linked = written.and_then(|()| match std::fs::hard_link(&temporary, path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    });
    let _ = std::fs::remove_file(&temporary);
    linked.with_context(|| format!("creating the API token {}", path.display()))?;
    tracing::info!(path = %path.display(), "created the HTTP API's token");
    Ok(())
}

/// Whether the request may store anything: it came over the owner-only Unix socket or carries
/// the token. Set on every request by [`tcp_guard`] and the Unix router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MayWrite(pub bool);

/// How a request reached the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The owner-only Unix socket: trusted.
    Unix,
    /// TCP: the token decides.
    Tcp,
}

/// What the TCP guard needs.
#[derive(Debug, Clone)]
pub struct TcpPolicy {
    /// The token.
    pub token: ApiToken,
    /// Remote mode: every call needs the token and any Host is accepted.
    pub allow_remote: bool,
}

/// Whether a `Host` header value names loopback.
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((inside, after)) if after.is_empty() || is_port_suffix(after) => inside,
            _ => return false,
        },
        None => match host.rsplit_once(':') {
            Some((name, port)) if is_port_suffix(&format!(":{port}")) => name,
            Some(_) => return false,
            None => host,
        },
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn is_port_suffix(text: &str) -> bool {
    text.strip_prefix(':').is_some_and(|port| {
        !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Whether the request carries the token.
fn has_token(headers: &HeaderMap, token: &ApiToken) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.as_bytes().strip_prefix(b"Bearer "))
        .is_some_and(|offered| token.matches(offered.trim_ascii()))
}

fn unauthorized() -> Response {
    let mut response = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "this route needs `Authorization: Bearer <token>` over TCP: the token is printed by \
         `tikker token`",
    )
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

/// The outer guard of the TCP listener: the Host check (loopback mode) or the token on every
/// call (remote mode); marks the request as TCP for [`require_token`].
pub async fn tcp_guard(
    State(policy): State<Arc<TcpPolicy>>,
    mut request: Request,
    next: Next,
) -> Response {
    if policy.allow_remote {
        if !has_token(request.headers(), &policy.token) {
            return unauthorized();
        }
    } else {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| request.uri().authority().map(|a| a.to_string()));
        match host {
            Some(host) if is_loopback_host(&host) => {}
            Some(host) => {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "Host {host:?} is not a loopback name: the API answers only to localhost, \
                         127.0.0.1 and [::1] (protection against DNS rebinding)"
                    ),
                )
                .into_response();
            }
            None => {
                return ApiError::new(StatusCode::BAD_REQUEST, "the Host header is missing")
                    .into_response();
            }
        }
    }
    let may_write = has_token(request.headers(), &policy.token);
    request.extensions_mut().insert(Transport::Tcp);
    request.extensions_mut().insert(MayWrite(may_write));
    next.run(request).await
}

/// The guard of the routes that read or change what tikker stored: the token over TCP, nothing
/// on the Unix socket.
pub async fn require_token(
    State(policy): State<Arc<TcpPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    let trusted = request.extensions().get::<Transport>() == Some(&Transport::Unix);
    if trusted || has_token(request.headers(), &policy.token) {
        next.run(request).await
    } else {
        unauthorized()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("localhost", true)]
    #[case("localhost:8003", true)]
    #[case("LOCALHOST.", true)]
    #[case("api.localhost:1", true)]
    #[case("127.0.0.1:8003", true)]
    #[case("127.1.2.3", true)]
    #[case("[::1]:8003", true)]
    #[case("[::1]", true)]
    #[case("evil.example:8003", false)]
    #[case("localhost.evil.example", false)]
    #[case("192.168.1.5:8003", false)]
    #[case("127.0.0.1:80:80", false)]
    #[case("[::1]x", false)]
    #[case("", false)]
    fn loopback_hosts(#[case] host: &str, #[case] expected: bool) {
        assert_eq!(is_loopback_host(host), expected, "{host}");
    }

    #[test]
    fn the_token_is_created_once_private_and_compared_exactly() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config").join(TOKEN_FILE);
        let first = ApiToken::load_or_create(&path).unwrap();
        let again = ApiToken::load_or_create(&path).unwrap();
        assert_eq!(first.as_str(), again.as_str());
        assert_eq!(first.as_str().len(), 64);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(first.matches(first.as_str().as_bytes()));
        assert!(!first.matches(b"wrong"));
        assert!(!first.matches(&first.as_str().as_bytes()[1..]));
        std::fs::write(&path, "short\n").unwrap();
        let message = ApiToken::load_or_create(&path).unwrap_err().to_string();
        assert!(message.contains("damaged"), "{message}");
    }
}
