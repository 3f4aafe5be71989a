//! `tikker`: records key timings, keeps them in `tikker.db`, and tells its owner how they type.
//!
//! This library is the process: the command line ([`cli`]), configuration, the capture daemon
//! (the [`recorder`], the [`authenticator`] and its alerts, the control channel, the systemd
//! notifications) and the local HTTP API ([`api`]); `src/main.rs` is a thin binary over
//! [`cli::main`]. [`pipeline`] shows how data flows between the stages.
//!
//! It ties the other crates together: the domain (`tikker-core`), the store, the wire types,
//! the capture backends (cargo features `x11` and `evdev`, both on by default), the
//! identification models and, for `tikker eval` and `tikker train identify` only, the research
//! harness. Nothing depends on it but its binary and its tests.
#![deny(missing_docs)]

pub mod alert;
pub mod api;
pub mod authenticator;
pub mod cli;
pub mod config;
pub mod control;
pub mod daemon;
pub mod db_key;
pub mod db_lock;
pub mod holder_lock;
pub mod metrics;
pub mod owner_link;
pub mod paths;
pub mod pipeline;
pub mod profile_words;
pub mod recorder;
pub mod retention;
pub mod runtime_dir;
pub mod state;
pub mod store_health;
pub mod systemd;
