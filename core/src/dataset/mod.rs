//! Readers of the public keystroke data sets used for evaluation.

pub mod cmu;
