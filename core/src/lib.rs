//! tikker-core: the domain of tikker, with no OS, GUI or async dependency.
//!
//! - [`key`] and [`event`]: key identities and key events, the same for every capture source;
//! - [`store`]: `tikker.db`, the SQLite store, with its single writer and streaming reads;
//! - [`import`] and [`export`]: the file formats tikker reads and writes;
//! - [`typing`]: timing quantities shared by statistics and verification (pauses, speed);
//! - [`stats`]: the daily statistics of `tikker stats`.
#![deny(missing_docs)]

pub mod event;
pub mod export;
pub mod import;
pub mod key;
pub mod stats;
pub mod store;
pub mod typing;

pub use event::{KeyAction, KeyEvent};
pub use key::KeyCode;
