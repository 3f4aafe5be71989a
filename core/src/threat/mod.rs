//! Threat detection on the live key stream, independent of the owner's profile.
//!
//! - [`injection`]: machine typing (`xdotool`, BadUSB sticks, scripted or "humanised" typers)
//!   recognised from timing alone within a few keystrokes;
//! - [`replay`]: typing whose timing repeats stored history (a replay of a stolen record),
//!   recognised from timing fingerprints that hold no key identities.
//!
//! Both depend only on [`crate::event`], [`crate::key`] and [`crate::keystroke`], and both see
//! the same keystrokes: [`KeystrokeStream`] pairs presses with releases, leaves modifiers out
//! and folds X11-style auto-repeat into the keystroke that started it.

pub mod injection;
pub mod replay;

use std::collections::{HashMap, HashSet};

use crate::event::{KeyAction, KeyEvent};
use crate::key::KeyCode;
use crate::keystroke::{Keystroke, KeystrokeAssembler};

/// What raised an alert: the monitor's verdict on the typist, or a detector of this module (or
/// the capture of a keyboard never seen before). Stored with every alert and sent as it is.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The typing does not match the owner's profile ([`crate::monitor`]).
    #[default]
    Impostor,
    /// Machine typing ([`injection`]).
    Injection,
    /// Typing whose timing repeats stored history ([`replay`]).
    Replay,
    /// A keyboard never seen before.
    NewDevice,
}

impl AlertKind {
    /// The name stored and sent (`impostor`, `injection`, `replay`, `new_device`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Impostor => "impostor",
            AlertKind::Injection => "injection",
            AlertKind::Replay => "replay",
            AlertKind::NewDevice => "new_device",
        }
    }

    /// The kind named `name`; an unknown name (a newer tikker's) reads as
    /// [`AlertKind::Impostor`], the kind of every alert before kinds existed.
    pub fn from_name(name: &str) -> AlertKind {
        match name {
            "injection" => AlertKind::Injection,
            "replay" => AlertKind::Replay,
            "new_device" => AlertKind::NewDevice,
            _ => AlertKind::Impostor,
        }
    }
}

/// A release followed by a press of the same key within this many µs is an auto-repeat, not a
/// new keystroke: X servers without detectable auto-repeat report each repeat as a release and a
/// press at the same instant (evdev and tikker's X11 source mark repeats as
/// [`KeyAction::Repeat`], which are ignored anyway). No finger releases and presses a key again
/// within 0.5 ms; the fastest human re-press of one key in aalto-dev is tens of ms.
pub const REPEAT_GAP_US: i64 = 500;

/// ... and only after a hold of at least this many µs: auto-repeat starts after a delay of
/// 150 ms or more and repeats at most every ~16 ms, whereas a BadUSB stick typing a double
/// letter releases and presses the key again after 1 ms holds.
pub const REPEAT_MIN_HOLD_US: i64 = 10_000;

/// The keystrokes of a live stream as the detectors see them, one event at a time.
///
/// - modifiers (Shift, Ctrl, Alt, Meta, AltGr, Caps Lock) are left out: a person holds them
///   for as long as suits them, and tools press them around the key they modify;
/// - [`KeyAction::Repeat`] events and X11-style repeats (a release and a press of the same key
///   within [`REPEAT_GAP_US`] of a hold of at least
///   [`REPEAT_MIN_HOLD_US`]) are folded into the keystroke that began them;
/// - keys overlap freely (rollover): keystrokes come out in the order of their presses, each once
///   it and every earlier one have been released (see [`KeystrokeAssembler`]).
#[derive(Debug, Clone, Default)]
pub struct KeystrokeStream {
    assembler: KeystrokeAssembler,
    /// Keys inside an X11-style repeat run: their next release ends the run and is dropped.
    repeating: HashSet<KeyCode>,
    /// The last press and release of each key (µs), to recognise X11-style repeats.
    last: HashMap<KeyCode, (i64, i64)>,
}

impl KeystrokeStream {
    /// A stream with nothing pending.
    pub fn new() -> KeystrokeStream {
        KeystrokeStream::default()
    }

    /// Feeds one event (in time order) and hands every keystroke it completes to `emit`.
    pub fn push(&mut self, event: &KeyEvent, mut emit: impl FnMut(Keystroke)) {
        if event.key.is_modifier() || event.action == KeyAction::Repeat {
            return;
        }
        match event.action {
            KeyAction::Press => {
                let repeat = self.last.get(&event.key).is_some_and(|&(press, release)| {
                    release >= press
                        && event.time_us - release <= REPEAT_GAP_US
                        && release - press >= REPEAT_MIN_HOLD_US
                });
                if repeat {
                    self.repeating.insert(event.key);
                    return;
                }
                self.last.insert(event.key, (event.time_us, i64::MIN));
            }
            KeyAction::Release => {
                if self.repeating.remove(&event.key) {
                    // The run goes on if the key is pressed again at once: keep the hold long.
                    if let Some(last) = self.last.get_mut(&event.key) {
                        last.1 = event.time_us;
                    }
                    return;
                }
                if let Some(last) = self.last.get_mut(&event.key) {
                    last.1 = event.time_us;
                }
            }
            KeyAction::Repeat => return,
        }
        self.assembler.push(event, &mut emit);
    }
}
