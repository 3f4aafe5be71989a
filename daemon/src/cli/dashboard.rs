//! `tikker dashboard`: asks the running daemon (or `tikker serve`) for a one-time code and opens
//! the dashboard's URL in the default browser (`xdg-open`), or with `--url` only prints it.
//!
//! The code comes from `POST /dashboard/code`: over the control socket when a daemon runs,
//! otherwise over TCP at the configured `api.listen` with the token of `tikker token` (the
//! address of `tikker serve`). It works once, within a minute.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use tikker_wire::api::DashboardCodeOut;
use tikker_wire::client::{ControlClient, LinkError};

use super::RunContext;
use crate::api::security::ApiToken;

/// Arguments of `tikker dashboard`.
#[derive(Debug, Args)]
pub struct DashboardArgs {
    /// Only print the URL (it works once, within a minute) instead of opening a browser.
    #[arg(long)]
    url: bool,
    /// The HTTP API's address when no daemon runs (`tikker serve --listen`); default: api.listen.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,
}

/// How long the HTTP request over TCP may take.
const TCP_TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(context: &RunContext, args: DashboardArgs) -> anyhow::Result<()> {
    let code = fresh_code(context, args.listen)?;
    if args.url {
        outln!("{}", code.url);
        return Ok(());
    }
    open_in_browser(&code.url)?;
    outln!(
        "opened the dashboard in your browser (the link works once, within {} s)",
        code.expires_in_s
    );
    Ok(())
}

/// A one-time code: from the daemon over its control socket, else over TCP with the token.
fn fresh_code(
    context: &RunContext,
    listen: Option<SocketAddr>,
) -> anyhow::Result<DashboardCodeOut> {
    if listen.is_none() {
        let asked = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?
            .block_on(ControlClient::for_this_user().dashboard_code());
        match asked {
            Ok(code) => return Ok(code),
            Err(LinkError::NotRunning(_)) => {}
            Err(e) => return Err(e).context("asking the daemon for a dashboard code"),
        }
    }
    let address = context.config.api.effective_listen(listen)?;
    let token = ApiToken::load_or_create(&crate::paths::api_token_file()?)?;
    code_over_tcp(address, &token).with_context(|| {
        format!(
            "no daemon runs (no control socket), and the HTTP API at {address} did not give a \
             dashboard code: start `tikker daemon` or `tikker serve`"
        )
    })
}

/// `POST /dashboard/code` over TCP with the bearer token (HTTP/1.1, one request).
fn code_over_tcp(address: SocketAddr, token: &ApiToken) -> anyhow::Result<DashboardCodeOut> {
    let mut stream = TcpStream::connect_timeout(&address, TCP_TIMEOUT)
        .with_context(|| format!("connecting to {address}"))?;
    stream.set_read_timeout(Some(TCP_TIMEOUT))?;
    stream.set_write_timeout(Some(TCP_TIMEOUT))?;
    let host = if address.ip().is_unspecified() {
        format!("127.0.0.1:{}", address.port())
    } else {
        address.to_string()
    };
    write!(
        stream,
        "POST /dashboard/code HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n",
        token.as_str()
    )
    .with_context(|| format!("writing to {address}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .with_context(|| format!("reading from {address}"))?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .with_context(|| format!("{address} did not answer HTTP"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .with_context(|| format!("{address} did not answer HTTP"))?;
    if status != 200 {
        bail!("{address} answered {status}: {}", body.trim());
    }
    serde_json::from_str(body).with_context(|| format!("reading the answer of {address}"))
}

/// Opens `url` with `xdg-open`; a failure says so and names the URL to open by hand.
fn open_in_browser(url: &str) -> anyhow::Result<()> {
    let by_hand = || format!("open {url} in a browser yourself (it works once, within a minute)");
    let status = std::process::Command::new("xdg-open")
        .arg(url)
        .stdin(std::process::Stdio::null())
        .status()
        .with_context(|| format!("starting xdg-open (package xdg-utils): {}", by_hand()))?;
    if !status.success() {
        bail!("xdg-open failed ({status}): {}", by_hand());
    }
    Ok(())
}
