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
//!
//! ## The dashboard's browser session
//! A browser cannot be given the token safely, so the dashboard ([`super::dashboard`]) works
//! with a session cookie instead, obtained like this:
//!
//! 1. a client that holds the token (`tikker dashboard`) or the control socket (the tray) asks
//!    `POST /dashboard/code` for a **one-time code**: 32 random bytes in hex, valid for
//!    [`CODE_LIFETIME`] and for one use ([`Sessions`]); a session cookie cannot ask for one;
//! 2. the browser opens `/dashboard/?code=…`; the code is spent, and the answer sets the
//!    session cookie (`HttpOnly`, `SameSite=Strict`, `Path=/`, named after the port, valid for
//!    [`SESSION_LIFETIME`]) and redirects to the clean URL `/dashboard/`;
//! 3. the guarded routes accept that cookie in place of the token ([`require_token`]), but only
//!    from the dashboard's own origin ([`browser_request_allowed`]): `Sec-Fetch-Site` must be
//!    sent and be `same-origin` (or `none`, a typed URL, for reads), and a request
//!    that changes something must carry an `Origin` equal to `http://<Host>`. Cookies are not
//!    kept apart by port, so a page served from another local port is "same-site" and would
//!    carry the cookie: these two checks are what stop it. Every TCP answer also carries
//!    `Cross-Origin-Resource-Policy: same-origin` and `X-Content-Type-Options: nosniff`
//!    ([`tcp_guard`]), so no other origin can even embed one.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
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
    let hex = random_hex().context("reading /dev/urandom for the API token")?;
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
/// [`TOKEN_BYTES`] random bytes from the kernel, in hex.
fn random_hex() -> std::io::Result<String> {
    let mut random = [0u8; TOKEN_BYTES];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut random))?;
    Ok(random.iter().map(|b| format!("{b:02x}")).collect())
}

/// How long a one-time code of the dashboard may wait to be used.
pub const CODE_LIFETIME: Duration = Duration::from_secs(60);
/// How long a dashboard session lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Codes not yet used, and sessions, kept at most (beyond, the oldest goes).
const MAX_OUTSTANDING: usize = 64;

/// The dashboard's one-time codes and browser sessions (in memory: a restart ends them).
#[derive(Default)]
pub struct Sessions {
    codes: Mutex<HashMap<String, Instant>>,
    sessions: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sessions(..)")
    }
}

/// Adds `secret`, valid until `now + lifetime`, dropping what expired and, when full, the
/// entry that expires first.
fn admit(table: &Mutex<HashMap<String, Instant>>, secret: &str, lifetime: Duration) {
    let now = Instant::now();
    let mut table = table
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    table.retain(|_, until| *until > now);
    if table.len() >= MAX_OUTSTANDING
        && let Some(first) = table
            .iter()
            .min_by_key(|(_, until)| **until)
            .map(|(k, _)| k.clone())
    {
        table.remove(&first);
    }
    table.insert(secret.to_owned(), now + lifetime);
}

/// Whether `offered` is an unexpired entry of `table` (compared in constant time), removing it
/// when `spend`.
fn holds(table: &Mutex<HashMap<String, Instant>>, offered: &str, spend: bool) -> bool {
    let now = Instant::now();
    let mut table = table
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    table.retain(|_, until| *until > now);
    let found = table
        .keys()
        .find(|secret| {
            secret.len() == offered.len() && bool::from(secret.as_bytes().ct_eq(offered.as_bytes()))
        })
        .cloned();
    match found {
        Some(secret) => {
            if spend {
                table.remove(&secret);
            }
            true
        }
        None => false,
    }
}

impl Sessions {
    /// A new one-time code, valid for [`CODE_LIFETIME`].
    pub fn issue_code(&self) -> anyhow::Result<String> {
        let code = random_hex().context("reading /dev/urandom for a dashboard code")?;
        admit(&self.codes, &code, CODE_LIFETIME);
        Ok(code)
    }

    /// Spends `code`: a new session's secret if the code was valid and unused, else `None`.
    pub fn redeem(&self, code: &str) -> anyhow::Result<Option<String>> {
        if !holds(&self.codes, code, true) {
            return Ok(None);
        }
        let session = random_hex().context("reading /dev/urandom for a dashboard session")?;
        admit(&self.sessions, &session, SESSION_LIFETIME);
        Ok(Some(session))
    }

    /// Whether `secret` is a live session.
    pub fn is_session(&self, secret: &str) -> bool {
        holds(&self.sessions, secret, false)
    }
}

/// The name of the dashboard's session cookie on the listener at `port`: browsers send a
/// cookie to every port of a host, so each listener has its own name.
pub fn session_cookie_name(port: u16) -> String {
    format!("tikker_session_{port}")
}

/// The `Set-Cookie` value of a new session.
pub fn session_cookie(port: u16, secret: &str) -> String {
    format!(
        "{}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        session_cookie_name(port),
        SESSION_LIFETIME.as_secs()
    )
}

/// The session secret the request's cookies carry for the listener its `Host` names.
fn offered_session(headers: &HeaderMap) -> Option<String> {
    let port = host_port(headers)?;
    let name = session_cookie_name(port);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, secret)| secret.to_owned())
}

/// The port of the request's `Host` header (80 when it names none).
fn host_port(headers: &HeaderMap) -> Option<u16> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let after_name = match host.strip_prefix('[') {
        Some(rest) => rest.split_once(']')?.1,
        None => host.rsplit_once(':').map_or("", |(_, port)| port),
    };
    let port = after_name.strip_prefix(':').unwrap_or(after_name);
    if port.is_empty() {
        Some(80)
    } else {
        port.parse().ok()
    }
}

/// Whether a request authenticated by the session cookie comes from the dashboard's own
/// origin; otherwise why not. `Sec-Fetch-Site` must be there and be `same-origin`, or `none`
/// (a URL the user typed or a bookmark) for a read; a request that changes something must carry
/// `Origin: http://<Host>`.
///
/// Every current browser sends `Sec-Fetch-Site` to a loopback address (Chrome and Edge since
/// 2019, Firefox since 90, Safari since 16.4); a request without it is from an old browser,
/// which cannot tell us where it comes from, or from a program that took the cookie, which
/// should use the token instead: both are refused rather than trusted.
pub fn browser_request_allowed(method: &Method, headers: &HeaderMap) -> Result<(), String> {
    let reads = matches!(*method, Method::GET | Method::HEAD);
    let Some(site) = headers.get("sec-fetch-site") else {
        return Err(
            "a request with the dashboard's session must say where it comes from \
             (Sec-Fetch-Site, which every current browser sends): this one does not, so it \
             cannot use the session; a program should send `Authorization: Bearer <token>` \
             (`tikker token`) instead"
                .to_owned(),
        );
    };
    let site = site.to_str().unwrap_or("");
    if !(site == "same-origin" || (reads && site == "none")) {
        return Err(format!(
            "a request from another site or origin (Sec-Fetch-Site: {site}) cannot use the \
             dashboard's session"
        ));
    }
    if !reads {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let origin = headers
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .unwrap_or("");
        if origin.is_empty() || origin != format!("http://{host}") {
            return Err(format!(
                "a change through the dashboard's session must come from the dashboard's own \
                 origin (Origin {origin:?} is not http://{host})"
            ));
        }
    }
    Ok(())
}

/// How a request reached the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The owner-only Unix socket: trusted.
    Unix,
    /// TCP: the token decides.
    Tcp,
}

/// What the TCP guard needs.
#[derive(Debug)]
pub struct TcpPolicy {
    /// The token.
    pub token: ApiToken,
    /// Remote mode: every call needs the token and any Host is accepted.
    pub allow_remote: bool,
    /// The dashboard's codes and sessions (shared with [`super::state::ApiState`]).
    pub sessions: Arc<Sessions>,
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
        .and_then(|value| bearer_credentials(value.as_bytes()))
        .is_some_and(|offered| token.matches(offered))
}

/// The credentials of an `Authorization: Bearer <credentials>` value. The scheme's name is
/// case-insensitive (RFC 7235, 2.1: `bearer` and `BEARER` are `Bearer`), and one or more spaces
/// separate it from the credentials.
fn bearer_credentials(value: &[u8]) -> Option<&[u8]> {
    let value = value.trim_ascii();
    let space = value.iter().position(|b| *b == b' ')?;
    let (scheme, credentials) = value.split_at(space);
    scheme
        .eq_ignore_ascii_case(b"bearer")
        .then(|| credentials.trim_ascii())
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
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// The guard of the routes that read or change what tikker stored: over TCP the token, or the
/// dashboard's session cookie from the dashboard's own origin ([`browser_request_allowed`]);
/// nothing on the Unix socket.
pub async fn require_token(
    State(policy): State<Arc<TcpPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    let trusted = request.extensions().get::<Transport>() == Some(&Transport::Unix);
    if trusted || has_token(request.headers(), &policy.token) {
        return next.run(request).await;
    }
    match offered_session(request.headers()) {
        Some(secret) if policy.sessions.is_session(&secret) => {
            match browser_request_allowed(request.method(), request.headers()) {
                Ok(()) => next.run(request).await,
                Err(why) => ApiError::new(StatusCode::FORBIDDEN, why).into_response(),
            }
        }
        _ => unauthorized(),
    }
}

/// The guard of `POST /dashboard/code`: the token over TCP (never a session cookie), nothing on
/// the Unix socket.
pub async fn require_bearer(
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

/// The dashboard session the request's cookie carries, if it is live (for the dashboard's page).
pub fn has_session(headers: &HeaderMap, policy: &TcpPolicy) -> bool {
    offered_session(headers).is_some_and(|secret| policy.sessions.is_session(&secret))
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
    fn a_dashboard_code_works_once_and_makes_a_session() {
        let sessions = Sessions::default();
        let code = sessions.issue_code().unwrap();
        assert_eq!(code.len(), 64);
        let session = sessions
            .redeem(&code)
            .unwrap()
            .expect("a fresh code is valid");
        assert!(sessions.is_session(&session));
        assert_eq!(sessions.redeem(&code).unwrap(), None, "a code works once");
        assert!(!sessions.is_session(&code), "a code is not a session");
        assert_eq!(sessions.redeem("").unwrap(), None);
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_session_cookie_is_read_for_the_port_the_host_names() {
        let h = headers(&[
            ("host", "127.0.0.1:8003"),
            (
                "cookie",
                "a=b; tikker_session_9000=x; tikker_session_8003=yes",
            ),
        ]);
        assert_eq!(offered_session(&h).as_deref(), Some("yes"));
        let h = headers(&[("host", "[::1]:9000"), ("cookie", "tikker_session_9000=v6")]);
        assert_eq!(offered_session(&h).as_deref(), Some("v6"));
        let h = headers(&[("host", "localhost"), ("cookie", "tikker_session_8003=no")]);
        assert_eq!(offered_session(&h), None);
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for value in ["Bearer t0k", "bearer t0k", "BEARER  t0k ", " bEaReR t0k"] {
            assert_eq!(
                bearer_credentials(value.as_bytes()),
                Some(&b"t0k"[..]),
                "{value}"
            );
        }
        for value in ["Bearert0k", "Basic t0k", "t0k", "Bearer"] {
            assert_eq!(bearer_credentials(value.as_bytes()), None, "{value}");
        }
    }

    #[test]
    fn other_origins_cannot_use_the_session() {
        let own = [
            ("host", "127.0.0.1:8003"),
            ("origin", "http://127.0.0.1:8003"),
            ("sec-fetch-site", "same-origin"),
        ];
        assert!(browser_request_allowed(&Method::POST, &headers(&own)).is_ok());
        assert!(browser_request_allowed(&Method::GET, &headers(&own)).is_ok());
        // Without Sec-Fetch-Site (curl, an old browser): not trusted with the session.
        assert!(browser_request_allowed(&Method::GET, &headers(&own[..1])).is_err());
        assert!(browser_request_allowed(&Method::POST, &headers(&own[..2])).is_err());
        let typed = [("host", "127.0.0.1:8003"), ("sec-fetch-site", "none")];
        assert!(browser_request_allowed(&Method::GET, &headers(&typed)).is_ok());
        assert!(browser_request_allowed(&Method::POST, &headers(&typed)).is_err());
        let other_port = [
            ("host", "127.0.0.1:8003"),
            ("origin", "http://127.0.0.1:9999"),
            ("sec-fetch-site", "same-site"),
        ];
        assert!(browser_request_allowed(&Method::GET, &headers(&other_port)).is_err());
        assert!(browser_request_allowed(&Method::POST, &headers(&other_port)).is_err());
        let no_origin = [("host", "127.0.0.1:8003")];
        assert!(browser_request_allowed(&Method::POST, &headers(&no_origin)).is_err());
        let forged = [
            ("host", "127.0.0.1:8003"),
            ("origin", "http://127.0.0.1:9999"),
        ];
        assert!(browser_request_allowed(&Method::POST, &headers(&forged)).is_err());
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
