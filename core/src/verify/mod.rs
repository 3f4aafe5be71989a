//! Verifiers: given what is known of the owner, how anomalous is a sample of typing?

pub mod calibration;
pub mod drift;
pub mod fixed_text;
pub mod freetext;
