//! The analytics of tikker's local HTTP API (the endpoints of the original "ML analytics" and
//! "predict-user" services), as library code: the daemon's API module only parses requests,
//! calls these functions and writes their answers.
//!
//! Everything here computes on the data it is given: the request's events, or what the caller
//! read from the store (daily statistics, stored baselines). Nothing here reads a file or a
//! database.
//!
//! - [`input`]: the checks every request's events and `user_id` pass (with errors that name the
//!   field), and the limits;
//! - [`metrics`]: speed (WPM) and rhythm consistency of a list of key events, from presses only;
//! - [`patterns`]: `fast_typist`, `slow_typist`, `consistent_rhythm`, `inconsistent_rhythm`;
//! - [`words`]: the most common words typed in a request (never stored);
//! - [`baseline`]: the per-`user_id` baselines of `/profile/build` (speed, rhythm, and a
//!   [`Profile`](crate::profile::Profile) with its score calibration), kept apart from the
//!   owner's profile;
//! - [`anomalies`]: speed and rhythm deviations from a baseline;
//! - [`authenticity`]: the free-text verifier's calibrated score of a request against a
//!   baseline;
//! - [`temporal`]: events per day (from the stored days' statistics), their trend, and peak
//!   hours;
//! - [`predict_user`]: the checks of the 8-number timing summary the predict-user endpoint
//!   receives.
//!
//! The behaviour model and the identification models live in `tikker-identify`.
//!
//! **Key codes** are Linux evdev numbers, as tikker stores them. Speed and rhythm use press times
//! only, and every press but a modifier's counts as a character: the original service's clients
//! number keys in more than one way (its examples send ASCII codes), and a press is a press in
//! any numbering. Hold times, digraphs and the verifier need complete keystrokes (a press and
//! the release of the same key).

pub mod anomalies;
pub mod authenticity;
pub mod baseline;
pub mod input;
pub mod metrics;
pub mod patterns;
pub mod predict_user;
pub mod temporal;
pub mod words;
