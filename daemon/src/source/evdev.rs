//! The evdev source: every keyboard under `/dev/input/event*`, read as raw `input_event` bytes.
//!
//! - **Keyboards only**: a device counts if it reports all 26 letter keys (mice, power buttons,
//!   lid switches and most macro pads do not); mouse buttons on a keyboard are ignored.
//! - **Decoding** ([`Decoder`]) works on byte streams, so the same code reads a device, a recorded
//!   stream in a replay, and the streams tests build: 24-byte `struct input_event`s (64-bit Linux)
//!   become [`evdev::InputEvent`]s, and key events are released per `SYN_REPORT` packet with the
//!   kernel's timestamp. Value 1 is a press, 0 a release, 2 an auto-repeat (kept as a repeat).
//! - **`SYN_DROPPED`** (the kernel's buffer for this reader overflowed): as the kernel documents,
//!   the incomplete packet before it and everything up to the next `SYN_REPORT` are discarded and
//!   counted. Key state is then unknown, so the decoder forgets which keys are down, and a release
//!   or repeat of a key whose press it has not seen since is discarded too: no hold time is ever
//!   made from a press and a release with lost events between them.
//! - **Hot-plug**: an inotify watch on `/dev/input` picks up keyboards plugged in later or
//!   re-created after a suspend (`IN_CREATE`, and `IN_ATTRIB` for when udev grants access a moment
//!   later). A device that goes away (`ENODEV` or any read error) is dropped with an info line,
//!   not an error.
//! - **Permissions**: reading `/dev/input` needs membership of the `input` group; without it the
//!   error says so and how to fix it.
//!
//! Each keyboard has a thread blocked in `read(2)`, and the watcher one blocked on inotify: no
//! polling, no wake-ups without input.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use evdev::{EventSummary, SynchronizationCode};
use tikker_core::{KeyAction, KeyCode, KeyEvent};

use super::{Running, Sink, Source, SourceEnd};

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

/// A keyboard found under `/dev/input`.
#[derive(Debug)]
pub struct Keyboard {
    /// Its device node.
    pub path: PathBuf,
    /// Its name as the kernel reports it.
    pub name: String,
    file: File,
}

/// What a look at `/dev/input` found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Readable keyboards.
    pub keyboards: Vec<Keyboard>,
    /// Event devices that could not be opened for lack of permission.
    pub denied: Vec<PathBuf>,
    /// Readable event devices that are not keyboards.
    pub other_devices: usize,
    /// The folder could not be listed (missing, or not readable); why.
    pub unreadable_dir: Option<String>,
}

impl Discovery {
    /// How many keyboards can be read.
    pub fn readable_keyboards(&self) -> usize {
        self.keyboards.len()
    }

    /// Why no keyboard can be read, and what to do about it.
    pub fn explain_no_keyboard(&self, dir: &Path) -> String {
        if let Some(why) = &self.unreadable_dir {
            return format!("{} cannot be read ({why})", dir.display());
        }
        if !self.denied.is_empty() {
            return permission_advice(dir, &self.denied);
        }
        format!(
            "no keyboard was found under {} ({} other input devices)",
            dir.display(),
            self.other_devices
        )
    }
}

/// The message for devices that exist but cannot be read.
fn permission_advice(dir: &Path, denied: &[PathBuf]) -> String {
    let names: Vec<String> = denied
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    format!(
        "permission to read the input devices under {} was denied ({}). To let tikker read \
         keyboards, join the input group: `sudo usermod -aG input $USER`, then log out and log \
         in again (group membership only takes effect in a new login session)",
        dir.display(),
        names.join(", ")
    )
}

/// Lists the event devices under `dir` and opens the keyboards among them.
pub fn discover(dir: &Path) -> Discovery {
    let mut discovery = Discovery::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            discovery.unreadable_dir = Some(e.to_string());
            return discovery;
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| is_event_node(path))
        .collect();
    paths.sort();
    for path in paths {
        match open_keyboard(&path) {
            Ok(Some(keyboard)) => discovery.keyboards.push(keyboard),
            Ok(None) => discovery.other_devices += 1,
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => discovery.denied.push(path),
            Err(e) => tracing::debug!(device = %path.display(), error = %e, "not an input device"),
        }
    }
    discovery
}

fn is_event_node(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("event"))
}

/// Opens `path` and keeps it if it is a keyboard (`Ok(None)` if it is another device).
fn open_keyboard(path: &Path) -> io::Result<Option<Keyboard>> {
    let file = File::open(path)?;
    let device = evdev::raw_stream::RawDevice::from_fd(file.try_clone()?.into())?;
    let letters = [
        evdev::KeyCode::KEY_A,
        evdev::KeyCode::KEY_B,
        evdev::KeyCode::KEY_C,
        evdev::KeyCode::KEY_D,
        evdev::KeyCode::KEY_E,
        evdev::KeyCode::KEY_F,
        evdev::KeyCode::KEY_G,
        evdev::KeyCode::KEY_H,
        evdev::KeyCode::KEY_I,
        evdev::KeyCode::KEY_J,
        evdev::KeyCode::KEY_K,
        evdev::KeyCode::KEY_L,
        evdev::KeyCode::KEY_M,
        evdev::KeyCode::KEY_N,
        evdev::KeyCode::KEY_O,
        evdev::KeyCode::KEY_P,
        evdev::KeyCode::KEY_Q,
        evdev::KeyCode::KEY_R,
        evdev::KeyCode::KEY_S,
        evdev::KeyCode::KEY_T,
        evdev::KeyCode::KEY_U,
        evdev::KeyCode::KEY_V,
        evdev::KeyCode::KEY_W,
        evdev::KeyCode::KEY_X,
        evdev::KeyCode::KEY_Y,
        evdev::KeyCode::KEY_Z,
    ];
    let is_keyboard = device
        .supported_keys()
        .is_some_and(|keys| letters.iter().all(|key| keys.contains(*key)));
    if !is_keyboard {
        return Ok(None);
    }
    Ok(Some(Keyboard {
        path: path.to_path_buf(),
        name: device.name().unwrap_or("unnamed keyboard").to_owned(),
        file,
    }))
}

/// Every keyboard under a folder (`/dev/input`), now and as they come.
#[derive(Debug)]
pub struct EvdevSource {
    dir: PathBuf,
    keyboards: Vec<Keyboard>,
}

impl EvdevSource {
    /// Looks for keyboards under `dir`. Fails when `dir` cannot be read or access to its devices
    /// is denied; finding no keyboard is fine (one may be plugged in later).
    pub fn open(dir: &Path) -> anyhow::Result<EvdevSource> {
        let discovery = discover(dir);
        if discovery.keyboards.is_empty()
            && (discovery.unreadable_dir.is_some() || !discovery.denied.is_empty())
        {
            anyhow::bail!(
                "cannot capture from evdev: {}",
                discovery.explain_no_keyboard(dir)
            );
        }
        Ok(EvdevSource::from_discovery(dir, discovery))
    }

    /// The source over keyboards already found.
    pub fn from_discovery(dir: &Path, discovery: Discovery) -> EvdevSource {
        if !discovery.denied.is_empty() {
            tracing::warn!(
                "{}; reading the other keyboards",
                permission_advice(dir, &discovery.denied)
            );
        }
        EvdevSource {
            dir: dir.to_path_buf(),
            keyboards: discovery.keyboards,
        }
    }
}

/// Device nodes being read, so a hot-plug event never opens one twice.
type ActiveDevices = Arc<Mutex<HashSet<PathBuf>>>;

impl Source for EvdevSource {
    fn kind(&self) -> &'static str {
        "evdev"
    }

    fn detail(&self) -> String {
        self.dir.display().to_string()
    }

    fn start(self: Box<Self>, sink: Sink) -> anyhow::Result<Running> {
        let (ended_tx, ended) = tokio::sync::oneshot::channel();
        let mut inotify = inotify::Inotify::init().context("starting inotify")?;
        inotify
            .watches()
            .add(
                &self.dir,
                inotify::WatchMask::CREATE | inotify::WatchMask::ATTRIB,
            )
            .with_context(|| format!("watching {} for new keyboards", self.dir.display()))?;
        sink.announce_source("evdev", self.detail())
            .map_err(|_| anyhow::anyhow!("the daemon is stopping"))?;
        let active: ActiveDevices = Arc::default();
        if self.keyboards.is_empty() {
            tracing::info!(dir = %self.dir.display(), "no keyboard yet; waiting for one to be plugged in");
        }
        for keyboard in self.keyboards {
            spawn_reader(keyboard, sink.clone(), active.clone())?;
        }
        let dir = self.dir.clone();
        std::thread::Builder::new()
            .name("evdev-hotplug".into())
            .spawn(move || {
                let why = watch_hotplug(&mut inotify, &dir, &sink, &active);
                let _ = ended_tx.send(SourceEnd::Failed(why));
            })
            .context("starting the hot-plug thread")?;
        Ok(Running { ended })
    }
}

/// Reads one keyboard on its own thread until it goes away.
fn spawn_reader(keyboard: Keyboard, sink: Sink, active: ActiveDevices) -> anyhow::Result<()> {
    let Keyboard { path, name, file } = keyboard;
    match active.lock() {
        Ok(mut active) => {
            if !active.insert(path.clone()) {
                return Ok(());
            }
        }
        Err(_) => anyhow::bail!("the list of keyboards is poisoned"),
    }
    tracing::info!(device = %path.display(), %name, "reading keyboard");
    let thread_path = path.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("evdev {}", path.display()))
        .spawn(move || {
            let mut file = file;
            let device = thread_path.display().to_string();
            let end = read_keyboard(&mut file, &sink, &device);
            match end {
                StreamEnd::Gone(e) if e.raw_os_error() == Some(libc::ENODEV) => {
                    tracing::info!(device, %name, "keyboard removed");
                }
                StreamEnd::Gone(e) => {
                    tracing::info!(device, %name, error = %e, "keyboard can no longer be read; dropped");
                }
                StreamEnd::Eof => tracing::info!(device, %name, "keyboard closed"),
            }
            if let Ok(mut active) = active.lock() {
                active.remove(&thread_path);
            }
        });
    if let Err(e) = spawned {
        return Err(e).context("starting a keyboard thread");
    }
    Ok(())
}

/// The body of a keyboard's thread: decode, drop while paused, forward.
fn read_keyboard(reader: &mut impl Read, sink: &Sink, device: &str) -> StreamEnd {
    let mut decoder = Decoder::new();
    let mut events = Vec::with_capacity(64);
    pump(reader, &mut decoder, |decoder, bytes, read_at| {
        if !sink.is_open() {
            // Paused (or stopping): what was typed is not even decoded, and the key state is
            // forgotten so that nothing from the pause carries over.
            decoder.reset();
            return !sink.is_stopping();
        }
        let before = decoder.stats;
        decoder.feed(bytes, &mut events);
        if decoder.stats.overflows > before.overflows {
            tracing::warn!(
                device,
                "the kernel's event buffer overflowed (SYN_DROPPED): the broken packets are discarded and key state resynchronised"
            );
        }
        if decoder.stats.discarded > before.discarded {
            sink.count_kernel_drops(decoder.stats.discarded - before.discarded);
        }
        for event in events.drain(..) {
            sink.offer(event, read_at);
        }
        true
    })
}

/// Waits for new devices under `dir` and reads the keyboards among them; returns only if the
/// watch fails.
fn watch_hotplug(
    inotify: &mut inotify::Inotify,
    dir: &Path,
    sink: &Sink,
    active: &ActiveDevices,
) -> String {
    let mut buffer = [0u8; 4096];
    loop {
        let events = match inotify.read_events_blocking(&mut buffer) {
            Ok(events) => events,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return format!("watching {} for keyboards failed: {e}", dir.display()),
        };
        let names: Vec<PathBuf> = events
            .filter_map(|event| event.name.map(|name| dir.join(name)))
            .filter(|path| is_event_node(path))
            .collect();
        for path in names {
            let known = active.lock().map(|a| a.contains(&path)).unwrap_or(true);
            if known || sink.is_stopping() {
                continue;
            }
            match open_keyboard(&path) {
                Ok(Some(keyboard)) => {
                    if let Err(e) = spawn_reader(keyboard, sink.clone(), active.clone()) {
                        tracing::warn!(device = %path.display(), error = %e, "new keyboard not read");
                    }
                }
                Ok(None) => {}
                // udev sets the permissions a moment after the node appears: IN_ATTRIB follows.
                Err(e) => {
                    tracing::debug!(device = %path.display(), error = %e, "new device not opened (yet)")
                }
            }
        }
    }
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

    #[test]
    fn discovery_explains_a_missing_folder_and_denied_devices() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("input");
        let discovery = discover(&missing);
        assert_eq!(discovery.readable_keyboards(), 0);
        assert!(
            discovery
                .explain_no_keyboard(&missing)
                .contains("cannot be read")
        );
        let message = permission_advice(
            Path::new("/dev/input"),
            &[PathBuf::from("/dev/input/event3")],
        );
        assert!(message.contains("event3"), "{message}");
        assert!(message.contains("usermod -aG input"), "{message}");
        assert!(message.contains("log in again"), "{message}");
        // Regular files are not input devices: they are skipped, not errors.
        std::fs::create_dir(&missing).unwrap();
        std::fs::write(missing.join("event0"), b"not a device").unwrap();
        let discovery = discover(&missing);
        assert_eq!(discovery.readable_keyboards(), 0);
        assert!(discovery.denied.is_empty());
        assert!(
            EvdevSource::open(&missing).is_ok(),
            "no keyboard yet is fine"
        );
    }
}
