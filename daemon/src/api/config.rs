//! The `[api]` section of the configuration: where the HTTP API listens.
//!
//! ```toml
//! [api]
//! listen = "127.0.0.1:8003"  # TCP address of the API (`--listen` overrides it)
//! tcp = true                 # tikker daemon serves the API over TCP too (the control socket always)
//! allow_remote = false       # a listen address that is not loopback needs this; then every call
//!                            # needs the token, whatever its route
//! max_connections = 256      # TCP connections served at once; beyond, 503 and closed (also kept
//!                            # 128 below the open-file limit, for the control socket and files)
//! header_timeout_s = 10      # a request's headers (or the next request on a kept-alive
//!                            # connection) must arrive within this; else the connection closes
//! body_timeout_s = 30        # a request's body must arrive within this; else 408
//! ```

use std::net::SocketAddr;

use anyhow::bail;
use serde::{Deserialize, Serialize};

/// The `[api]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// The TCP address (`IP:PORT`) the API listens on.
    pub listen: SocketAddr,
    /// Whether `tikker daemon` serves the API over TCP as well as on its control socket.
    pub tcp: bool,
    /// Whether a listen address that is not loopback is allowed; with it, every call over TCP
    /// needs the token.
    pub allow_remote: bool,
    /// TCP connections served at once (1 to 65,536); beyond, a connection is answered 503 and
    /// closed.
    pub max_connections: usize,
    /// Seconds a request's headers may take to arrive, counted from the connection's start or
    /// from the previous answer on a kept-alive connection (1 to 3,600).
    pub header_timeout_s: u64,
    /// Seconds a request's body may take to arrive (1 to 3,600).
    pub body_timeout_s: u64,
}

impl Default for ApiConfig {
    /// `127.0.0.1:8003`: the original service's port, on loopback.
    fn default() -> Self {
        ApiConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8003)),
            tcp: true,
            allow_remote: false,
            max_connections: 256,
            header_timeout_s: 10,
            body_timeout_s: 30,
        }
    }
}

impl ApiConfig {
    /// Checks the section.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(1..=65_536).contains(&self.max_connections) {
            bail!(
                "api.max_connections = {} is out of range: give 1 to 65536",
                self.max_connections
            );
        }
        for (name, value) in [
            ("api.header_timeout_s", self.header_timeout_s),
            ("api.body_timeout_s", self.body_timeout_s),
        ] {
            if !(1..=3600).contains(&value) {
                bail!("{name} = {value} is out of range: give 1 to 3600 seconds");
            }
        }
        self.check_listen(self.listen, "api.listen")
    }

    /// The address to listen on: `--listen` if given, else `api.listen`; checked against
    /// `allow_remote`.
    pub fn effective_listen(&self, flag: Option<SocketAddr>) -> anyhow::Result<SocketAddr> {
        match flag {
            Some(address) => {
                self.check_listen(address, "--listen")?;
                Ok(address)
            }
            None => Ok(self.listen),
        }
    }

    fn check_listen(&self, address: SocketAddr, name: &str) -> anyhow::Result<()> {
        if !address.ip().is_loopback() && !self.allow_remote {
            bail!(
                "{name} = {address} is not a loopback address: the API answers other machines \
                 only with `allow_remote = true` in the [api] section of the configuration (every \
                 call then needs the token of `tikker token`)"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_address_needs_the_switch() {
        let config = ApiConfig::default();
        config.validate().unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8003");
        let remote: SocketAddr = "0.0.0.0:8003".parse().unwrap();
        let message = config
            .effective_listen(Some(remote))
            .unwrap_err()
            .to_string();
        assert!(message.contains("allow_remote"), "{message}");
        let allowed = ApiConfig {
            allow_remote: true,
            ..ApiConfig::default()
        };
        assert_eq!(allowed.effective_listen(Some(remote)).unwrap(), remote);
        let local: SocketAddr = "[::1]:9000".parse().unwrap();
        assert_eq!(config.effective_listen(Some(local)).unwrap(), local);
    }
}
