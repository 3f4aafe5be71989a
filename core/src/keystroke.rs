//! Keystrokes: a key's press paired with its release, the unit every timing feature is made of.
//!
//! [`KeystrokeAssembler`] turns a time-ordered stream of [`KeyEvent`]s into keystrokes in press
//! order, one event at a time:
//! - a press opens a keystroke and a release of the same key closes it; auto-repeats of a held key
//!   are not keystrokes and are ignored;
//! - keys overlap freely (Shift held over `A`, or rollover typing): keystrokes still come out in
//!   the order of their presses, each as soon as it and every earlier one are closed;
//! - a release without a press (the press happened before recording started) is ignored, and a
//!   second press of a key that is still down (its release was lost) drops the first one;
//! - a key held longer than [`MAX_HOLD_US`] is dropped rather than allowed to hold back every
//!   keystroke after it; [`KeystrokeAssembler::finish`] drops keys still down at the end.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::event::{KeyAction, KeyEvent};
use crate::key::KeyCode;

/// A key held longer than this (µs) is not a keystroke of typing: it is dropped.
pub const MAX_HOLD_US: i64 = 5_000_000;

/// One key pressed and released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Keystroke {
    /// The key.
    pub key: KeyCode,
    /// When it went down (µs).
    pub press_us: i64,
    /// When it came up (µs), never before `press_us`.
    pub release_us: i64,
}

impl Keystroke {
    /// A keystroke of evdev key `key` with times in milliseconds; for tests.
    #[cfg(test)]
    pub(crate) fn at_ms(key: u16, press_ms: i64, release_ms: i64) -> Keystroke {
        Keystroke {
            key: KeyCode(key),
            press_us: press_ms * 1000,
            release_us: release_ms * 1000,
        }
    }

    /// How long the key was held (µs).
    pub fn hold_us(&self) -> i64 {
        self.release_us - self.press_us
    }
}

/// What the assembler had to discard, for diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssemblyCounts {
    /// Releases whose press was never seen.
    pub orphan_releases: u64,
    /// Presses whose release was never seen (a second press came, or the stream ended).
    pub lost_releases: u64,
    /// Keys held longer than [`MAX_HOLD_US`].
    pub overlong_holds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyState {
    /// Still held.
    Down,
    /// Released at this time.
    Up(i64),
    /// Pressed again before any release: the release was lost.
    Lost,
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    key: KeyCode,
    press_us: i64,
    state: KeyState,
}

/// Pairs presses with releases, streaming (see the module documentation).
#[derive(Debug, Clone, Default)]
pub struct KeystrokeAssembler {
    queue: VecDeque<Pending>,
    counts: AssemblyCounts,
}

impl KeystrokeAssembler {
    /// An assembler with nothing pending.
    pub fn new() -> KeystrokeAssembler {
        KeystrokeAssembler::default()
    }

    /// Feeds one event (in time order) and hands every keystroke it completes to `emit`.
    pub fn push(&mut self, event: &KeyEvent, mut emit: impl FnMut(Keystroke)) {
        match event.action {
            KeyAction::Repeat => {}
            KeyAction::Press => {
                if let Some(open) = self.held(event.key) {
                    open.state = KeyState::Lost;
                    self.counts.lost_releases += 1;
                }
                self.queue.push_back(Pending {
                    key: event.key,
                    press_us: event.time_us,
                    state: KeyState::Down,
                });
            }
            KeyAction::Release => match self.held(event.key) {
                Some(open) => open.state = KeyState::Up(event.time_us.max(open.press_us)),
                None => self.counts.orphan_releases += 1,
            },
        }
        self.drain(Some(event.time_us), &mut emit);
    }

    fn held(&mut self, key: KeyCode) -> Option<&mut Pending> {
        self.queue
            .iter_mut()
            .find(|p| p.key == key && p.state == KeyState::Down)
    }

    /// Emits what is complete at the front; drops fronts held too long by `now_us` (or still
    /// held at all, when `now_us` is `None`: the end of the stream).
    fn drain(&mut self, now_us: Option<i64>, emit: &mut impl FnMut(Keystroke)) {
        while let Some(front) = self.queue.front().copied() {
            match front.state {
                KeyState::Lost => {}
                KeyState::Up(release_us) if release_us - front.press_us <= MAX_HOLD_US => {
                    emit(Keystroke {
                        key: front.key,
                        press_us: front.press_us,
                        release_us,
                    });
                }
                KeyState::Up(_) => self.counts.overlong_holds += 1,
                KeyState::Down => match now_us {
                    Some(now) if now - front.press_us <= MAX_HOLD_US => return,
                    Some(_) => self.counts.overlong_holds += 1,
                    None => self.counts.lost_releases += 1,
                },
            }
            self.queue.pop_front();
        }
    }

    /// Ends the stream: emits what is complete and drops keys still down.
    pub fn finish(&mut self, mut emit: impl FnMut(Keystroke)) {
        self.drain(None, &mut emit);
    }

    /// What had to be discarded so far.
    pub fn counts(&self) -> AssemblyCounts {
        self.counts
    }
}

/// The key events of `keystrokes` (a press and a release each), in time order: the inverse of
/// [`keystrokes`].
pub fn events_of(keystrokes: &[Keystroke]) -> Vec<KeyEvent> {
    let mut events: Vec<KeyEvent> = keystrokes
        .iter()
        .flat_map(|k| {
            [
                KeyEvent::press(k.press_us, k.key),
                KeyEvent::release(k.release_us, k.key),
            ]
        })
        .collect();
    crate::event::sort_events(&mut events);
    events
}

/// The keystrokes of a whole stream of events (sorted by time first if they are not).
pub fn keystrokes(events: &[KeyEvent]) -> Vec<Keystroke> {
    let mut sorted;
    let events = if events.is_sorted_by_key(|e| e.time_us) {
        events
    } else {
        sorted = events.to_vec();
        crate::event::sort_events(&mut sorted);
        &sorted
    };
    let mut out = Vec::with_capacity(events.len() / 2);
    let mut assembler = KeystrokeAssembler::new();
    for event in events {
        assembler.push(event, |k| out.push(k));
    }
    assembler.finish(|k| out.push(k));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: KeyCode = KeyCode(30);
    const B: KeyCode = KeyCode(48);
    const SHIFT: KeyCode = KeyCode::LEFT_SHIFT;

    fn ks(key: KeyCode, press_us: i64, release_us: i64) -> Keystroke {
        Keystroke {
            key,
            press_us,
            release_us,
        }
    }

    #[test]
    fn overlapping_keys_come_out_in_press_order() {
        let events = [
            KeyEvent::press(0, SHIFT),
            KeyEvent::press(50, A),
            KeyEvent::release(120, A),
            KeyEvent::press(130, B),
            KeyEvent::release(150, SHIFT),
            KeyEvent::release(200, B),
        ];
        assert_eq!(
            keystrokes(&events),
            vec![ks(SHIFT, 0, 150), ks(A, 50, 120), ks(B, 130, 200)]
        );
    }

    #[test]
    fn repeats_orphans_and_lost_releases_are_handled() {
        let events = [
            KeyEvent::release(0, B), // pressed before recording began
            KeyEvent::press(10, A),
            KeyEvent {
                time_us: 500,
                key: A,
                action: KeyAction::Repeat,
            },
            KeyEvent::release(600, A),
            KeyEvent::press(700, B),
            KeyEvent::press(800, B), // the release of the first B was lost
            KeyEvent::release(900, B),
            KeyEvent::press(1000, A), // still down at the end
        ];
        let mut assembler = KeystrokeAssembler::new();
        let mut out = Vec::new();
        for e in &events {
            assembler.push(e, |k| out.push(k));
        }
        assembler.finish(|k| out.push(k));
        assert_eq!(out, vec![ks(A, 10, 600), ks(B, 800, 900)]);
        let counts = assembler.counts();
        assert_eq!(counts.orphan_releases, 1);
        assert_eq!(counts.lost_releases, 2);
    }

    #[test]
    fn a_stuck_key_does_not_hold_back_the_rest() {
        let mut events = vec![KeyEvent::press(0, SHIFT)];
        for i in 0..100 {
            let t = 100_000 + i * 100_000;
            events.push(KeyEvent::press(t, A));
            events.push(KeyEvent::release(t + 50_000, A));
        }
        let mut assembler = KeystrokeAssembler::new();
        let mut emitted_by = Vec::new();
        for e in &events {
            assembler.push(e, |k| emitted_by.push((k, e.time_us)));
        }
        assert_eq!(assembler.counts().overlong_holds, 1);
        // Everything after the stuck Shift came out within MAX_HOLD_US of its release.
        assert!(emitted_by.len() >= 90);
        assert!(
            emitted_by
                .iter()
                .all(|(k, at)| at - k.release_us <= MAX_HOLD_US)
        );
        assert!(emitted_by.iter().all(|(k, _)| k.key == A));
    }

    #[test]
    fn unsorted_input_is_sorted_first() {
        let events = [KeyEvent::release(100, A), KeyEvent::press(0, A)];
        assert_eq!(keystrokes(&events), vec![ks(A, 0, 100)]);
    }

    #[test]
    fn a_single_key_is_one_keystroke() {
        assert_eq!(
            keystrokes(&[KeyEvent::press(5, A), KeyEvent::release(5, A)]),
            vec![ks(A, 5, 5)]
        );
    }
}
