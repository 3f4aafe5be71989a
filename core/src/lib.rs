//! tikker-core: the domain of tikker, with no OS, GUI or async dependency.
//!
//! - [`key`], [`event`] and [`keystroke`]: key identities, key events (the same for every
//!   capture source) and keystrokes (a press paired with its release);
//! - [`store`]: `tikker.db`, the SQLite store, with its single writer and streaming reads;
//! - [`import`] and [`export`]: the file formats tikker reads and writes;
//! - [`typing`] and [`features`]: timing quantities (pauses, speed, hold and flight times);
//! - [`profile`]: a person's typing profile, built in one streaming pass, mergeable;
//! - [`stats`]: the daily statistics of `tikker stats`;
//! - [`verify`]: verifiers that score typing against what is known of its owner;
//! - [`eval`] and [`dataset`]: the published evaluation protocols and the data sets they run on;
//! - [`identify`] and [`summary`]: user identification (RF, SVM, gradient-boosted trees) from
//!   timing features such as the 8-number summary of the predict-user API;
//! - [`monitor`]: continuous authentication: enrolment, sliding-window scores, alerts;
//! - [`threat`]: injected keystrokes and replayed timings, recognised on the live stream;
//! - [`analytics`]: what the local HTTP API computes (patterns, baselines, anomalies,
//!   authenticity, temporal analysis, the behaviour model, the predict-user features);
//! - [`linalg`]: the little linear algebra the verifiers need.
#![deny(missing_docs)]

pub mod analytics;
pub mod dataset;
pub mod eval;
pub mod event;
pub mod export;
pub mod features;
pub mod identify;
pub mod import;
pub mod key;
pub mod keystroke;
pub mod linalg;
pub mod monitor;
pub mod profile;
pub mod stats;
pub mod store;
pub mod summary;
pub mod threat;
pub mod typing;
pub mod verify;

pub use event::{KeyAction, KeyEvent};
pub use key::KeyCode;
