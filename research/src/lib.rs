//! tikker-research: the research harness. The published evaluation protocols ([`eval`]: the CMU
//! benchmark, free-text verification, identification, the continuous-authentication splice
//! simulation), the readers of the public data sets they run on ([`dataset`]), and the training
//! sets `tikker train identify` builds from them ([`training`]). `tikker eval …` and
//! `tikker train identify` drive it.
//!
//! It depends on `tikker-core` (the verifiers and the monitor it measures), `tikker-formats`
//! (the data sets' files) and `tikker-identify` (the models it trains); **it may not depend on**
//! the store, the wire types or the capture backends, and **the product may not depend on it**
//! for anything but those two commands: nothing trained or tabulated from the data sets ships.
#![deny(missing_docs)]

pub mod dataset;
pub mod eval;
pub mod training;
