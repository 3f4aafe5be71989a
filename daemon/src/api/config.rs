//! The `[api]` section of the configuration: where the HTTP API listens.
//!
//! ```toml
//! [api]
//! listen = "127.0.0.1:8003"  # TCP address of the API (`--listen` overrides it)
//! tcp = true                 # tikker daemon serves the API over TCP too (the control socket always)
//! allow_remote = false       # a listen address that is not loopback needs this; then every call
//!                            # needs the token, whatever its route
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
}

impl Default for ApiConfig {
    /// `127.0.0.1:8003`: the original service's port, on loopback.
    fn default() -> Self {
        ApiConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8003)),
            tcp: true,
            allow_remote: false,
        }
    }
}

impl ApiConfig {
    /// Checks the section.
    pub fn validate(&self) -> anyhow::Result<()> {
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
