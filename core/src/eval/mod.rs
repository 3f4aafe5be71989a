//! Evaluation protocols and their error rates, as published for the public data sets.

pub mod cmu;
pub mod roc;
