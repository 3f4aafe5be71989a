//! Decoding raw `input_event` bytes ([`Decoder`]) from a device, a recorded stream in a replay,
//! or the streams tests build: 24-byte `struct input_event`s (64-bit Linux) become
//! [`evdev::InputEvent`]s, and key events are released per `SYN_REPORT` packet with the kernel's
//! timestamp. Value 1 is a press, 0 a release, 2 an auto-repeat (kept as a repeat). After a
//! `SYN_DROPPED` the broken packets are discarded and key state is forgotten (see the folder's
//! documentation). Always built: replays of raw recordings need it without the `evdev` feature.

use std::io::{self, Read};
use std::time::Instant;

use evdev::{EventSummary, SynchronizationCode};
use tikker_core::{KeyAction, KeyCode, KeyEvent};

/// The size of one `struct input_event` on 64-bit Linux: `timeval` (2 × 8), type, code (2 × 2),
/// value (4).
pub const INPUT_EVENT_SIZE: usize = 24;

// tikker reads the 64-bit layout; a 32-bit build would have to decode 16-byte events.
const _: () = assert!(std::mem::size_of::<libc::input_event>() == INPUT_EVENT_SIZE);

/// `EV_SYN`, the type of `SYN_REPORT` and `SYN_DROPPED`.
#[cfg(test)]
const EV_SYN: u16 = 0;
/// `EV_KEY`, the type of key events.
#[cfg(test)]
const EV_KEY: u16 = 1;

/// What the decoder discarded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// `SYN_DROPPED` reports seen.
    pub overflows: u64,
    /// Key events discarded with an overflowed packet.
    pub discarded: u64,
    /// Releases and repeats of keys not known to be down (after an overflow, or held since before
    /// the daemon started), discarded.
    pub unmatched: u64,
}

/// Turns raw `input_event` bytes into key events (see the module documentation).
#[derive(Debug, Default)]
pub struct Decoder {
    /// Bytes of an incomplete `input_event` from the previous read.
    partial: Vec<u8>,
    /// Key events of the packet being read (until its `SYN_REPORT`).
    packet: Vec<KeyEvent>,
    /// Keys down, as a bitset over evdev codes 0..=`KeyCode::MAX`.
    down: [u64; 12],
    /// Between a `SYN_DROPPED` and the next `SYN_REPORT`.
    dropping: bool,
    /// What was discarded so far.
    pub stats: DecodeStats,
}

impl Decoder {
    /// A decoder with no key down.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Decodes `bytes` (any split of the stream), appending complete packets' key events to
    /// `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<KeyEvent>) {
        let mut bytes = bytes;
        if !self.partial.is_empty() {
            let missing = INPUT_EVENT_SIZE - self.partial.len();
            let take = missing.min(bytes.len());
            self.partial.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.partial.len() < INPUT_EVENT_SIZE {
                return;
            }
            let whole = std::mem::take(&mut self.partial);
            if let Some(event) = parse_input_event(&whole) {
                self.handle(event, out);
            }
        }
        let mut chunks = bytes.chunks_exact(INPUT_EVENT_SIZE);
        for chunk in &mut chunks {
            if let Some(event) = parse_input_event(chunk) {
                self.handle(event, out);
            }
        }
        self.partial.extend_from_slice(chunks.remainder());
    }

    /// At the end of a recorded stream: releases a last packet that lacks its `SYN_REPORT`.
    pub fn finish(&mut self, out: &mut Vec<KeyEvent>) {
        if !self.dropping {
            self.release_packet(out);
        }
        self.partial.clear();
    }

    /// Forgets everything in progress and every key down (used while capture is paused, so that
    /// nothing typed during the pause is kept).
    pub fn reset(&mut self) {
        let stats = self.stats;
        *self = Decoder::default();
        self.stats = stats;
    }

    fn handle(&mut self, event: evdev::InputEvent, out: &mut Vec<KeyEvent>) {
        match event.destructure() {
            EventSummary::Synchronization(_, SynchronizationCode::SYN_REPORT, _) => {
                if self.dropping {
                    self.dropping = false;
                } else {
                    self.release_packet(out);
                }
            }
            EventSummary::Synchronization(_, SynchronizationCode::SYN_DROPPED, _) => {
                self.stats.overflows += 1;
                self.stats.discarded += self.packet.len() as u64;
                self.packet.clear();
                self.down = [0; 12];
                self.dropping = true;
            }
            EventSummary::Key(_, code, value) => {
                let code = code.code();
                if !is_keyboard_key(code) {
                    return;
                }
                let Some(action) = KeyAction::from_code(i64::from(value)) else {
                    return;
                };
                if self.dropping {
                    self.stats.discarded += 1;
                    return;
                }
                self.packet.push(KeyEvent {
                    time_us: timestamp_us(&event),
                    key: KeyCode(code),
                    action,
                });
            }
            _ => {}
        }
    }

    /// Emits the packet's events, keeping track of the keys down.
    fn release_packet(&mut self, out: &mut Vec<KeyEvent>) {
        for event in self.packet.drain(..) {
            let (word, bit) = (usize::from(event.key.0 / 64), event.key.0 % 64);
            let is_down = self.down[word] & (1 << bit) != 0;
            match event.action {
                KeyAction::Press => self.down[word] |= 1 << bit,
                KeyAction::Release if is_down => self.down[word] &= !(1 << bit),
                KeyAction::Repeat if is_down => {}
                KeyAction::Release | KeyAction::Repeat => {
                    self.stats.unmatched += 1;
                    continue;
                }
            }
            out.push(event);
        }
    }
}

/// Key codes of keys, not buttons: below `BTN_MISC` (0x100), or from `KEY_OK` (0x160) up to the
/// joystick "trigger happy" buttons (0x2c0).
fn is_keyboard_key(code: u16) -> bool {
    code < 0x100 || (0x160..0x2c0).contains(&code)
}

/// One `struct input_event` from its native-endian bytes (`None` if `bytes` is not 24 long).
fn parse_input_event(bytes: &[u8]) -> Option<evdev::InputEvent> {
    let field = |range: std::ops::Range<usize>| bytes.get(range);
    let tv_sec = i64::from_ne_bytes(field(0..8)?.try_into().ok()?);
    let tv_usec = i64::from_ne_bytes(field(8..16)?.try_into().ok()?);
    let type_ = u16::from_ne_bytes(field(16..18)?.try_into().ok()?);
    let code = u16::from_ne_bytes(field(18..20)?.try_into().ok()?);
    let value = i32::from_ne_bytes(field(20..24)?.try_into().ok()?);
    Some(evdev::InputEvent::from(libc::input_event {
        time: libc::timeval { tv_sec, tv_usec },
        type_,
        code,
        value,
    }))
}

/// The bytes of one `struct input_event` (for tests).
#[cfg(test)]
pub fn encode_input_event(time_us: i64, type_: u16, code: u16, value: i32) -> [u8; 24] {
    let mut bytes = [0; INPUT_EVENT_SIZE];
    bytes[0..8].copy_from_slice(&time_us.div_euclid(1_000_000).to_ne_bytes());
    bytes[8..16].copy_from_slice(&time_us.rem_euclid(1_000_000).to_ne_bytes());
    bytes[16..18].copy_from_slice(&type_.to_ne_bytes());
    bytes[18..20].copy_from_slice(&code.to_ne_bytes());
    bytes[20..24].copy_from_slice(&value.to_ne_bytes());
    bytes
}

/// The bytes of a key event followed by its `SYN_REPORT` (for tests).
#[cfg(test)]
pub fn encode_key_packet(time_us: i64, key: u16, value: i32) -> Vec<u8> {
    let mut bytes = encode_input_event(time_us, EV_KEY, key, value).to_vec();
    bytes.extend(encode_input_event(time_us, EV_SYN, 0, 0));
    bytes
}

/// The kernel's timestamp in microseconds since the Unix epoch (`CLOCK_REALTIME`).
fn timestamp_us(event: &evdev::InputEvent) -> i64 {
    let raw: libc::input_event = (*event).into();
    raw.time
        .tv_sec
        .saturating_mul(1_000_000)
        .saturating_add(raw.time.tv_usec)
}

/// How a device's stream ended.
#[derive(Debug)]
pub enum StreamEnd {
    /// End of file (a recording).
    Eof,
    /// The device went away (unplugged: `ENODEV`) or could not be read any more.
    Gone(io::Error),
}

/// Reads `reader` to its end through `decoder`, handing each read's key events to `deliver`
/// (with the instant of the read). Used for devices and recordings alike; a read error ends the
/// stream (a device that vanished), it is not an error of the caller.
pub fn pump(
    reader: &mut impl Read,
    decoder: &mut Decoder,
    mut deliver: impl FnMut(&mut Decoder, &[u8], Instant) -> bool,
) -> StreamEnd {
    let mut buffer = [0u8; INPUT_EVENT_SIZE * 64];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => return StreamEnd::Eof,
            Ok(n) => {
                if !deliver(decoder, &buffer[..n], Instant::now()) {
                    return StreamEnd::Eof;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return StreamEnd::Gone(e),
        }
    }
}

/// Decodes a whole recorded stream (a replay of raw bytes).
pub fn decode_recording(bytes: &[u8]) -> (Vec<KeyEvent>, DecodeStats) {
    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    decoder.feed(bytes, &mut events);
    decoder.finish(&mut events);
    (events, decoder.stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: u16 = 30;
    const KEY_B: u16 = 48;
    const KEY_LEFTSHIFT: u16 = 42;
    const BTN_LEFT: u16 = 0x110;
    const EV_MSC: u16 = 4;
    const MSC_SCAN: u16 = 4;
    const SYN_DROPPED: u16 = 3;

    fn decode_in_pieces(bytes: &[u8], piece: usize) -> (Vec<KeyEvent>, DecodeStats) {
        let mut decoder = Decoder::new();
        let mut out = Vec::new();
        for chunk in bytes.chunks(piece) {
            decoder.feed(chunk, &mut out);
        }
        (out, decoder.stats)
    }

    #[test]
    fn presses_releases_and_repeats_are_decoded_with_kernel_times() {
        let t = 1_700_000_000_123_456;
        let mut bytes = Vec::new();
        // A real keyboard sends MSC_SCAN before each key event.
        bytes.extend(encode_input_event(t, EV_MSC, MSC_SCAN, 0x1e));
        bytes.extend(encode_key_packet(t, KEY_A, 1));
        bytes.extend(encode_key_packet(t + 500_000, KEY_A, 2));
        bytes.extend(encode_key_packet(t + 533_000, KEY_A, 2));
        bytes.extend(encode_key_packet(t + 600_001, KEY_A, 0));
        // Mouse buttons on a keyboard device are not keys.
        bytes.extend(encode_key_packet(t + 700_000, BTN_LEFT, 1));
        let expected = vec![
            KeyEvent::press(t, KeyCode(KEY_A)),
            KeyEvent {
                time_us: t + 500_000,
                key: KeyCode(KEY_A),
                action: KeyAction::Repeat,
            },
            KeyEvent {
                time_us: t + 533_000,
                key: KeyCode(KEY_A),
                action: KeyAction::Repeat,
            },
            KeyEvent::release(t + 600_001, KeyCode(KEY_A)),
        ];
        // Whatever the read boundaries (one byte at a time, odd sizes, all at once).
        for piece in [1, 7, 24, 25, 1000] {
            let (events, stats) = decode_in_pieces(&bytes, piece);
            assert_eq!(events, expected, "pieces of {piece}");
            assert_eq!(stats, DecodeStats::default());
        }
    }

    #[test]
    fn a_packet_is_released_only_at_its_syn_report() {
        let mut decoder = Decoder::new();
        let mut out = Vec::new();
        // Shift and A in one packet (as a keyboard reports a chord).
        decoder.feed(
            &encode_input_event(1_000_000, EV_KEY, KEY_LEFTSHIFT, 1),
            &mut out,
        );
        decoder.feed(&encode_input_event(1_000_000, EV_KEY, KEY_A, 1), &mut out);
        assert!(out.is_empty());
        decoder.feed(&encode_input_event(1_000_000, EV_SYN, 0, 0), &mut out);
        assert_eq!(
            out,
            vec![
                KeyEvent::press(1_000_000, KeyCode(KEY_LEFTSHIFT)),
                KeyEvent::press(1_000_000, KeyCode(KEY_A)),
            ]
        );
    }

    #[test]
    fn syn_dropped_discards_the_broken_packets_and_resynchronises_key_state() {
        let mut bytes = Vec::new();
        bytes.extend(encode_key_packet(1_000_000, KEY_A, 1));
        // Pressed, then the buffer overflows: the incomplete packet (B press) is discarded...
        bytes.extend(encode_input_event(1_100_000, EV_KEY, KEY_B, 1));
        bytes.extend(encode_input_event(1_150_000, EV_SYN, SYN_DROPPED, 0));
        // ...and so is everything up to and including the next SYN_REPORT.
        bytes.extend(encode_input_event(1_200_000, EV_KEY, KEY_B, 0));
        bytes.extend(encode_input_event(1_200_000, EV_SYN, 0, 0));
        // A was down before the overflow; its release now might pair with a press from before
        // lost events, so it is discarded, as is B's repeat.
        bytes.extend(encode_key_packet(1_300_000, KEY_A, 0));
        bytes.extend(encode_key_packet(1_350_000, KEY_B, 2));
        // Typing goes on normally.
        bytes.extend(encode_key_packet(1_400_000, KEY_B, 1));
        bytes.extend(encode_key_packet(1_480_000, KEY_B, 0));
        let (events, stats) = decode_recording(&bytes);
        assert_eq!(
            events,
            vec![
                KeyEvent::press(1_000_000, KeyCode(KEY_A)),
                KeyEvent::press(1_400_000, KeyCode(KEY_B)),
                KeyEvent::release(1_480_000, KeyCode(KEY_B)),
            ]
        );
        assert_eq!(
            stats,
            DecodeStats {
                overflows: 1,
                discarded: 2,
                unmatched: 2
            }
        );
    }

    /// A device that delivers some bytes and then vanishes, as an unplugged keyboard does.
    struct VanishingDevice {
        bytes: Vec<u8>,
        read_size: usize,
    }

    impl Read for VanishingDevice {
        fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
            if self.bytes.is_empty() {
                return Err(io::Error::from_raw_os_error(libc::ENODEV));
            }
            let n = self.read_size.min(buffer.len()).min(self.bytes.len());
            buffer[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes.drain(..n);
            Ok(n)
        }
    }

    #[test]
    fn a_vanishing_device_ends_its_stream_without_error_after_its_events() {
        let mut bytes = Vec::new();
        bytes.extend(encode_key_packet(2_000_000, KEY_A, 1));
        bytes.extend(encode_key_packet(2_090_000, KEY_A, 0));
        // Unplugged in the middle of a packet: the incomplete packet is not released.
        bytes.extend(encode_input_event(2_200_000, EV_KEY, KEY_B, 1));
        let mut device = VanishingDevice {
            bytes,
            read_size: 48,
        };
        let mut decoder = Decoder::new();
        let mut events = Vec::new();
        let end = pump(&mut device, &mut decoder, |decoder, bytes, _| {
            decoder.feed(bytes, &mut events);
            true
        });
        assert!(
            matches!(&end, StreamEnd::Gone(e) if e.raw_os_error() == Some(libc::ENODEV)),
            "{end:?}"
        );
        assert_eq!(
            events,
            vec![
                KeyEvent::press(2_000_000, KeyCode(KEY_A)),
                KeyEvent::release(2_090_000, KeyCode(KEY_A)),
            ]
        );
    }

    #[test]
    fn reset_forgets_keys_down_but_keeps_the_counts() {
        let mut decoder = Decoder::new();
        let mut out = Vec::new();
        decoder.feed(&encode_key_packet(1, KEY_A, 1), &mut out);
        decoder.reset();
        decoder.feed(&encode_key_packet(2, KEY_A, 0), &mut out);
        assert_eq!(out, vec![KeyEvent::press(1, KeyCode(KEY_A))]);
        assert_eq!(decoder.stats.unmatched, 1);
    }
}
