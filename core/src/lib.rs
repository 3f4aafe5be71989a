//! tikker-core: the domain of tikker, with no OS, GUI, database or async dependency.
//!
//! - [`key`], [`event`] and [`keystroke`]: key identities, key events (the same for every
//!   capture source) and keystrokes (a press paired with its release);
//! - [`typing`] and [`features`]: timing quantities (pauses, speed, hold and flight times);
//! - [`profile`]: a person's typing profile, built in one streaming pass, mergeable;
//! - [`activity`]: quarter-hour rollups of typing (counts without key order);
//! - [`stats`]: the daily statistics of `tikker stats`, summed from those rollups;
//! - [`verify`]: verifiers that score typing against what is known of its owner;
//! - [`summary`]: the 8-number timing summary of the predict-user API;
//! - [`monitor`]: continuous authentication: enrolment, sliding-window scores, alerts;
//! - [`threat`]: injected keystrokes and replayed timings, recognised on the live stream;
//! - [`analytics`]: what the local HTTP API computes from the data it is given (patterns,
//!   baselines, anomalies, authenticity, temporal analysis, the predict-user features);
//! - [`linalg`]: the little linear algebra the verifiers need; [`sampling`]: a seeded
//!   pseudo-random generator.
//!
//! **May not depend on** the store, the file formats, the wire types, the capture backends,
//! the research harness or any OS, GUI, database or async crate: everything here takes data and
//! returns data. The crates that read files, databases or devices drive these types (for example
//! [`profile::ProfileBuilder`] and [`stats::StatsBuilder`] are fed by the store).
#![deny(missing_docs)]

pub mod activity;
pub mod analytics;
pub mod event;
pub mod features;
pub mod key;
pub mod keystroke;
pub mod linalg;
pub mod monitor;
pub mod profile;
pub mod sampling;
pub mod stats;
pub mod summary;
pub mod threat;
pub mod typing;
pub mod verify;

pub use event::{KeyAction, KeyEvent};
pub use key::KeyCode;
