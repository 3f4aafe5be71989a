//! The messages of the capture pipeline's first hop: what a source, through its [`Sink`], hands
//! to the daemon's single writer, in queue order. The daemon's `pipeline` module shows the whole
//! pipeline (source → writer → monitor → API, notifications, tray) and the later hops' messages.
//!
//! [`Sink`]: crate::Sink

use std::time::Instant;

use tikker_core::KeyEvent;
use tikker_core::device::DeviceInfo;

use crate::pause::Pause;

/// A session about to be written: where its events come from, whose typing they are, and its
/// name (unique per user). The writer stores it as a session of `tikker.db`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStart {
    /// The kind of source (`x11`, `evdev`, `replay`).
    pub source_kind: String,
    /// The source's display, devices or file.
    pub source_detail: String,
    /// Whose typing it is.
    pub user: String,
    /// Its name, unique per user.
    pub label: String,
}

/// A device a source reads, as numbered for this run of the daemon (announced with
/// [`WriterCommand::Device`] before its first event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceTag(pub u32);

/// One event as a source captured it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Captured {
    /// The event, stamped by the source (wall clock, microseconds).
    pub event: KeyEvent,
    /// When the daemon received it (monotonic).
    pub captured_at: Instant,
    /// The device it came from, where the source can tell (evdev).
    pub device: Option<DeviceTag>,
}

/// What the writer is told, in queue order.
#[derive(Debug)]
pub enum WriterCommand {
    /// A key event.
    Event(Captured),
    /// The events that follow come from this live source (ends the current session).
    Source {
        /// `x11`, `evdev` or `replay`.
        kind: &'static str,
        /// The display, devices or file.
        detail: String,
    },
    /// The events that follow belong to this session (replays).
    Session(SessionStart),
    /// A device was opened: events tagged `tag` come from it (sent by the device's reader
    /// before its first event).
    Device {
        /// Its number in this run.
        tag: DeviceTag,
        /// What the source knows of it.
        info: DeviceInfo,
    },
    /// Capture was paused or resumed: commit what came before, end the session, and store the
    /// pause so that it survives a restart.
    SetPause {
        /// The new pause.
        pause: Pause,
        /// Told when the pause is stored (or why it could not be).
        done: tokio::sync::oneshot::Sender<Result<(), String>>,
    },
    /// Commit everything and return.
    Stop,
}
