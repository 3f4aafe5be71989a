//! The X11 source: every key of every X11 client through the X server's RECORD extension (rdev).
//!
//! rdev's `listen` blocks its thread for as long as it records and has no way to stop, so it
//! runs on a dedicated thread that lives as long as the process. Its callback does the least
//! possible: it ignores everything but key presses and releases, stamps the event (wall clock and
//! monotonic instant), maps rdev's key to tikker's evdev numbering with an exhaustive match, and
//! hands it to [`Sink::offer`], which never blocks the X server's hook. rdev also computes the
//! text a key produced (`Event::name`); tikker never reads that field.
//!
//! X reports an auto-repeat as another press of a key that is down; such a press is stored as a
//! [`KeyAction::Repeat`]. A release of a key not seen going down (held since before the daemon
//! started, or pressed during a pause) is not stored.
//!
//! Which device typed is not known: RECORD delivers core protocol events, which carry no
//! device, so X11 sessions name none and typing through XTEST (`xdotool`) is not told apart
//! from a physical keyboard here (the injection detector judges it by its timing). XInput2 raw
//! events (`XI_RawKeyPress`) carry the source device id and would tell the "Virtual core XTEST
//! keyboard" apart, but selecting them *beside* RECORD would read every key twice; it takes
//! replacing RECORD (and rdev) with an XInput2 listener.
//!
//! Known limit: if the X server goes away, Xlib's default I/O error handler ends the process (rdev
//! installs no other); under systemd the unit restarts with the next session.

use std::time::{Duration, Instant};

use anyhow::bail;
use rdev::{EventType, Key};
use tikker_core::{KeyAction, KeyCode, KeyEvent};

use crate::clock::now_us;
use crate::{Running, Sink, Source, SourceEnd};

/// How long `start` waits for rdev to report a failure to connect before it counts the
/// listener as running (rdev has no "started" signal; its errors come within milliseconds).
const START_GRACE: Duration = Duration::from_millis(500);

/// The X display named by `DISPLAY`.
#[derive(Debug)]
pub struct X11Source {
    display: String,
}

impl X11Source {
    /// The source for `$DISPLAY`; fails when it is not set.
    pub fn open() -> anyhow::Result<X11Source> {
        match std::env::var("DISPLAY") {
            Ok(display) if !display.is_empty() => Ok(X11Source::for_display(display)),
            _ => bail!(
                "cannot capture from X11: DISPLAY is not set (this is not an X11 session; on Wayland or a console use --source evdev)"
            ),
        }
    }
}

impl X11Source {
    /// The source for `display` (which rdev's Xlib reaches through `DISPLAY`).
    pub fn for_display(display: String) -> X11Source {
        X11Source { display }
    }
}

impl Source for X11Source {
    fn kind(&self) -> &'static str {
        "x11"
    }

    fn detail(&self) -> String {
        self.display.clone()
    }

    fn start(self: Box<Self>, sink: Sink) -> anyhow::Result<Running> {
        sink.announce_source("x11", self.display.clone())
            .map_err(|_| anyhow::anyhow!("the daemon is stopping"))?;
        let (early_tx, early_rx) = std::sync::mpsc::channel::<String>();
        let (ended_tx, ended) = tokio::sync::oneshot::channel();
        let display = self.display.clone();
        std::thread::Builder::new()
            .name("x11-record".into())
            .spawn(move || {
                let mut keys = KeysDown::default();
                let result =
                    rdev::listen(move |event| on_event(&event.event_type, &mut keys, &sink));
                let why = match result {
                    Ok(()) => "the X11 listener stopped".to_owned(),
                    Err(e) => explain(&e, &display),
                };
                // Whoever still listens hears it: `start` during its grace period, the daemon after.
                let _ = early_tx.send(why.clone());
                let _ = ended_tx.send(SourceEnd::Failed(why));
            })?;
        match early_rx.recv_timeout(START_GRACE) {
            Ok(why) => bail!("{why}"),
            Err(_) => Ok(Running { ended }),
        }
    }
}

/// The X11 listener's callback: key events only, never the text.
fn on_event(event_type: &EventType, keys: &mut KeysDown, sink: &Sink) {
    let (key, is_press) = match event_type {
        EventType::KeyPress(key) => (*key, true),
        EventType::KeyRelease(key) => (*key, false),
        EventType::ButtonPress(_)
        | EventType::ButtonRelease(_)
        | EventType::MouseMove { .. }
        | EventType::Wheel { .. } => return,
    };
    let captured_at = Instant::now();
    let time_us = now_us();
    if !sink.is_open() {
        // Paused: not even the key state is kept.
        keys.clear();
        return;
    }
    let code = key_code(key);
    let action = match (is_press, keys.set(code, is_press)) {
        (true, false) => KeyAction::Press,
        (true, true) => KeyAction::Repeat,
        (false, true) => KeyAction::Release,
        (false, false) => return,
    };
    sink.offer(
        KeyEvent {
            time_us,
            key: code,
            action,
        },
        captured_at,
    );
}

/// Keys down, as a bitset over evdev codes.
#[derive(Debug, Default)]
struct KeysDown([u64; 12]);

impl KeysDown {
    /// Marks `key` down or up; returns whether it was down before.
    fn set(&mut self, key: KeyCode, down: bool) -> bool {
        let Some(word) = self.0.get_mut(usize::from(key.0 / 64)) else {
            return down;
        };
        let bit = 1u64 << (key.0 % 64);
        let was_down = *word & bit != 0;
        if down {
            *word |= bit;
        } else {
            *word &= !bit;
        }
        was_down
    }

    fn clear(&mut self) {
        self.0 = [0; 12];
    }
}

/// What went wrong, in words a user can act on.
fn explain(error: &rdev::ListenError, display: &str) -> String {
    let why = match error {
        rdev::ListenError::MissingDisplayError | rdev::ListenError::KeyboardError => {
            format!(
                "cannot open the X display {display:?} (is the X server running, and is this user allowed to connect? check DISPLAY and XAUTHORITY)"
            )
        }
        rdev::ListenError::XRecordExtensionError => {
            format!("the X server on {display:?} has no RECORD extension")
        }
        rdev::ListenError::RecordContextError | rdev::ListenError::RecordContextEnablingError => {
            format!("the X server on {display:?} refused to record key events")
        }
        other => format!("the X11 listener failed: {other:?}"),
    };
    format!("cannot capture from X11: {why}")
}

/// rdev's key as an evdev key code. rdev names keys by their X11 keycode on Linux (evdev + 8),
/// so each arm gives that keycode; keys rdev has no name for arrive as `Unknown(keycode)`.
pub fn key_code(key: Key) -> KeyCode {
    let x11 = KeyCode::from_x11_keycode;
    match key {
        Key::Alt => x11(64),
        Key::AltGr => x11(108),
        Key::Backspace => x11(22),
        Key::CapsLock => x11(66),
        Key::ControlLeft => x11(37),
        Key::ControlRight => x11(105),
        Key::Delete => x11(119),
        Key::DownArrow => x11(116),
        Key::End => x11(115),
        Key::Escape => x11(9),
        Key::F1 => x11(67),
        Key::F2 => x11(68),
        Key::F3 => x11(69),
        Key::F4 => x11(70),
        Key::F5 => x11(71),
        Key::F6 => x11(72),
        Key::F7 => x11(73),
        Key::F8 => x11(74),
        Key::F9 => x11(75),
        Key::F10 => x11(76),
        Key::F11 => x11(95),
        Key::F12 => x11(96),
        Key::Home => x11(110),
        Key::LeftArrow => x11(113),
        Key::MetaLeft => x11(133),
        // Not in rdev's Linux table (it arrives as Unknown(134)); named for completeness.
        Key::MetaRight => x11(134),
        Key::PageDown => x11(117),
        Key::PageUp => x11(112),
        Key::Return => x11(36),
        Key::RightArrow => x11(114),
        Key::ShiftLeft => x11(50),
        Key::ShiftRight => x11(62),
        Key::Space => x11(65),
        Key::Tab => x11(23),
        Key::UpArrow => x11(111),
        Key::PrintScreen => x11(107),
        Key::ScrollLock => x11(78),
        Key::Pause => x11(127),
        Key::NumLock => x11(77),
        Key::BackQuote => x11(49),
        Key::Num1 => x11(10),
        Key::Num2 => x11(11),
        Key::Num3 => x11(12),
        Key::Num4 => x11(13),
        Key::Num5 => x11(14),
        Key::Num6 => x11(15),
        Key::Num7 => x11(16),
        Key::Num8 => x11(17),
        Key::Num9 => x11(18),
        Key::Num0 => x11(19),
        Key::Minus => x11(20),
        Key::Equal => x11(21),
        Key::KeyQ => x11(24),
        Key::KeyW => x11(25),
        Key::KeyE => x11(26),
        Key::KeyR => x11(27),
        Key::KeyT => x11(28),
        Key::KeyY => x11(29),
        Key::KeyU => x11(30),
        Key::KeyI => x11(31),
        Key::KeyO => x11(32),
        Key::KeyP => x11(33),
        Key::LeftBracket => x11(34),
        Key::RightBracket => x11(35),
        Key::KeyA => x11(38),
        Key::KeyS => x11(39),
        Key::KeyD => x11(40),
        Key::KeyF => x11(41),
        Key::KeyG => x11(42),
        Key::KeyH => x11(43),
        Key::KeyJ => x11(44),
        Key::KeyK => x11(45),
        Key::KeyL => x11(46),
        Key::SemiColon => x11(47),
        Key::Quote => x11(48),
        Key::BackSlash => x11(51),
        Key::IntlBackslash => x11(94),
        Key::KeyZ => x11(52),
        Key::KeyX => x11(53),
        Key::KeyC => x11(54),
        Key::KeyV => x11(55),
        Key::KeyB => x11(56),
        Key::KeyN => x11(57),
        Key::KeyM => x11(58),
        Key::Comma => x11(59),
        Key::Dot => x11(60),
        Key::Slash => x11(61),
        Key::Insert => x11(118),
        Key::KpReturn => x11(104),
        Key::KpMinus => x11(82),
        Key::KpPlus => x11(86),
        Key::KpMultiply => x11(63),
        Key::KpDivide => x11(106),
        Key::Kp0 => x11(90),
        Key::Kp1 => x11(87),
        Key::Kp2 => x11(88),
        Key::Kp3 => x11(89),
        Key::Kp4 => x11(83),
        Key::Kp5 => x11(84),
        Key::Kp6 => x11(85),
        Key::Kp7 => x11(79),
        Key::Kp8 => x11(80),
        Key::Kp9 => x11(81),
        Key::KpDelete => x11(91),
        // KEY_FN: laptops' Fn key, which X usually never sees.
        Key::Function => KeyCode(0x1d0),
        Key::Unknown(keycode) => x11(keycode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every named rdev key.
    const ALL_KEYS: [Key; 106] = [
        Key::Alt,
        Key::AltGr,
        Key::Backspace,
        Key::CapsLock,
        Key::ControlLeft,
        Key::ControlRight,
        Key::Delete,
        Key::DownArrow,
        Key::End,
        Key::Escape,
        Key::F1,
        Key::F10,
        Key::F11,
        Key::F12,
        Key::F2,
        Key::F3,
        Key::F4,
        Key::F5,
        Key::F6,
        Key::F7,
        Key::F8,
        Key::F9,
        Key::Home,
        Key::LeftArrow,
        Key::MetaLeft,
        Key::MetaRight,
        Key::PageDown,
        Key::PageUp,
        Key::Return,
        Key::RightArrow,
        Key::ShiftLeft,
        Key::ShiftRight,
        Key::Space,
        Key::Tab,
        Key::UpArrow,
        Key::PrintScreen,
        Key::ScrollLock,
        Key::Pause,
        Key::NumLock,
        Key::BackQuote,
        Key::Num1,
        Key::Num2,
        Key::Num3,
        Key::Num4,
        Key::Num5,
        Key::Num6,
        Key::Num7,
        Key::Num8,
        Key::Num9,
        Key::Num0,
        Key::Minus,
        Key::Equal,
        Key::KeyQ,
        Key::KeyW,
        Key::KeyE,
        Key::KeyR,
        Key::KeyT,
        Key::KeyY,
        Key::KeyU,
        Key::KeyI,
        Key::KeyO,
        Key::KeyP,
        Key::LeftBracket,
        Key::RightBracket,
        Key::KeyA,
        Key::KeyS,
        Key::KeyD,
        Key::KeyF,
        Key::KeyG,
        Key::KeyH,
        Key::KeyJ,
        Key::KeyK,
        Key::KeyL,
        Key::SemiColon,
        Key::Quote,
        Key::BackSlash,
        Key::IntlBackslash,
        Key::KeyZ,
        Key::KeyX,
        Key::KeyC,
        Key::KeyV,
        Key::KeyB,
        Key::KeyN,
        Key::KeyM,
        Key::Comma,
        Key::Dot,
        Key::Slash,
        Key::Insert,
        Key::KpReturn,
        Key::KpMinus,
        Key::KpPlus,
        Key::KpMultiply,
        Key::KpDivide,
        Key::Kp0,
        Key::Kp1,
        Key::Kp2,
        Key::Kp3,
        Key::Kp4,
        Key::Kp5,
        Key::Kp6,
        Key::Kp7,
        Key::Kp8,
        Key::Kp9,
        Key::KpDelete,
        Key::Function,
        Key::Unknown(135),
    ];

    #[test]
    fn rdev_keys_map_like_their_names_and_distinctly() {
        let mut seen = std::collections::HashMap::new();
        for key in ALL_KEYS {
            let code = key_code(key);
            assert_ne!(code, KeyCode::UNKNOWN, "{key:?}");
            if let Some(previous) = seen.insert(code, key) {
                panic!("{key:?} and {previous:?} both map to {code}");
            }
            // Where tikker's key-name table knows rdev's spelling, both must agree.
            if let Some(by_name) = KeyCode::from_name(&format!("{key:?}")) {
                assert_eq!(code, by_name, "{key:?}");
            }
        }
        assert_eq!(key_code(Key::KeyA), KeyCode(30));
        assert_eq!(key_code(Key::Return), KeyCode::ENTER);
        assert_eq!(key_code(Key::Backspace), KeyCode::BACKSPACE);
        assert_eq!(key_code(Key::ShiftLeft), KeyCode::LEFT_SHIFT);
        assert_eq!(key_code(Key::Unknown(121)), KeyCode(113), "XF86AudioMute");
        assert_eq!(key_code(Key::Unknown(3)), KeyCode::UNKNOWN);
    }

    #[test]
    fn a_second_press_of_a_held_key_is_a_repeat_and_stray_releases_are_skipped() {
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        let gate = std::sync::Arc::new(crate::Gate::default());
        let sink = Sink::new(tx, gate.clone(), std::sync::Arc::default());
        let mut keys = KeysDown::default();
        for event in [
            EventType::KeyRelease(Key::Return),
            EventType::KeyPress(Key::KeyA),
            EventType::KeyPress(Key::KeyA),
            EventType::MouseMove { x: 1.0, y: 2.0 },
            EventType::KeyRelease(Key::KeyA),
        ] {
            on_event(&event, &mut keys, &sink);
        }
        let actions: Vec<KeyAction> = rx
            .try_iter()
            .map(|command| match command {
                crate::pipeline::WriterCommand::Event(c) => c.event.action,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            actions,
            vec![KeyAction::Press, KeyAction::Repeat, KeyAction::Release]
        );
        // While paused nothing is queued and the key state is forgotten.
        gate.set_pause(crate::pause::Pause::Indefinite);
        on_event(&EventType::KeyPress(Key::KeyB), &mut keys, &sink);
        gate.set_pause(crate::pause::Pause::Off);
        on_event(&EventType::KeyRelease(Key::KeyB), &mut keys, &sink);
        assert_eq!(rx.try_iter().count(), 0);
    }
}
