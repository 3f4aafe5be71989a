//! The daemon's pipeline, in one place. Data flows one way:
//!
//! ```text
//! source (x11 | evdev | replay, tikker-capture)
//!   └─ Sink ── WriterCommand ──▶ recorder (the single writer; owns tikker.db for writing)
//!                                  └─ MonitorInput (committed chunks, new keyboards) ──▶ authenticator
//!                                       (the monitor, the injection and replay detectors)
//!                                                              ├─ scores and alerts ─▶ tikker.db
//!                                                              └─ alerts ─▶ notifications, alert action
//! tikker.db ──▶ API (control socket and loopback TCP) ──▶ CLI, tray, dashboard
//! ```
//!
//! The messages of each hop: [`WriterCommand`] (with [`Captured`] events and [`SessionStart`]s,
//! defined by `tikker-capture`, whose sink sends them) and [`CommittedChunk`] (in the authenticator's `MonitorInput`). Only committed
//! events go on to the monitor, so a pause or a failed commit stops scoring too. Each stage owns
//! its settings (`WriterSettings` in the recorder, `AuthSettings` in the authenticator); the
//! configuration file is read into them by `config`.

use tikker_core::KeyEvent;
use tikker_store::SessionId;

pub use tikker_capture::pipeline::{Captured, DeviceTag, SessionStart, WriterCommand};

/// The events of one session in one committed batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedChunk {
    /// The session they were stored in.
    pub session: SessionId,
    /// The events, in time order.
    pub events: Vec<KeyEvent>,
}
