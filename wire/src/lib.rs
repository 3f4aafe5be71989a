//! tikker-wire: the contract between the daemon and its clients (`tikker` commands, the tray,
//! the dashboard): the status report and pause bodies ([`status`]), every HTTP body of the local
//! API ([`api`]), where the daemon's socket is ([`socket`]) and the one client of it
//! ([`client`]). The OpenAPI description is generated from these types (utoipa).
//!
//! It depends on `tikker-core` for the domain types the API sends as they are (the verdict), on
//! serde and utoipa, and (feature `client`, on by default) on hyper and tokio for the client;
//! **it may not depend on** the store, the capture backends, the research harness or the daemon.
#![deny(missing_docs)]

pub mod api;
#[cfg(feature = "client")]
pub mod client;
pub mod socket;
pub mod status;
