//! The evdev source: every keyboard under `/dev/input/event*`, read as raw `input_event` bytes.
//!
//! - **Keyboards only**: a device counts if it reports all 26 letter keys (mice, power buttons,
//!   lid switches and most macro pads do not); mouse buttons on a keyboard are ignored.
//! - **Decoding** ([`decode::Decoder`]) works on byte streams, so the same code reads a device, a recorded
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
//! - **Devices**: each keyboard is described ([`tikker_core::device::DeviceInfo`]: name,
//!   vendor:product and bus from `EVIOCGID`, physical path, its sysfs folder found through the
//!   node's device number, and *virtual* when that folder is under `/devices/virtual/`, as for
//!   a `uinput` device, or its bus is `BUS_VIRTUAL`), announced to the writer and its events
//!   tagged with it, so that every session names its keyboard and a new one raises an alert.
//!
//! Each keyboard has a thread blocked in `read(2)`, and the watcher one blocked on inotify: no
//! polling, no wake-ups without input.

//!
//! The folder's parts: [`decode`] (always built: replays read raw recordings with it), and with
//! the `evdev` feature [`discover`], `permission` (the advice), `hotplug` and the source itself
//! ([`EvdevSource`]).

pub mod decode;
#[cfg(feature = "evdev")]
pub mod discover;
#[cfg(feature = "evdev")]
mod hotplug;
#[cfg(feature = "evdev")]
mod permission;
#[cfg(feature = "evdev")]
pub use source::*;

#[cfg(feature = "evdev")]
pub(super) mod source {
    //! The device source: one reader thread per keyboard, and the hot-plug watcher.
    use std::collections::HashSet;
    use std::io::Read;
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, Mutex};

    use anyhow::Context;

    use super::decode::{Decoder, StreamEnd, pump};
    use super::discover::{Discovery, Keyboard, discover};
    use super::hotplug::watch_hotplug;
    use super::permission::permission_advice;
    use crate::pipeline::DeviceTag;
    use crate::{Running, Sink, Source, SourceEnd};

    /// The next device's number in this run of the daemon.
    static NEXT_DEVICE: AtomicU32 = AtomicU32::new(1);

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
    pub(super) type ActiveDevices = Arc<Mutex<HashSet<PathBuf>>>;

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
    pub(super) fn spawn_reader(
        keyboard: Keyboard,
        sink: Sink,
        active: ActiveDevices,
    ) -> anyhow::Result<()> {
        let Keyboard {
            path,
            name,
            info,
            file,
            device,
        } = keyboard;
        match active.lock() {
            Ok(mut active) => {
                if !active.insert(path.clone()) {
                    return Ok(());
                }
            }
            Err(_) => anyhow::bail!("the list of keyboards is poisoned"),
        }
        tracing::info!(
            device = %path.display(),
            %name,
            ids = %info.vendor_product(),
            bus = info.bus,
            phys = %info.phys,
            sysfs = %info.sysfs_path,
            is_virtual = info.is_virtual,
            "reading keyboard"
        );
        let tag = DeviceTag(NEXT_DEVICE.fetch_add(1, Ordering::Relaxed));
        let sink = match sink.for_device(tag, info) {
            Ok(sink) => sink,
            Err(_) => {
                if let Ok(mut active) = active.lock() {
                    active.remove(&path);
                }
                return Ok(());
            }
        };
        let thread_path = path.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("evdev {}", path.display()))
            .spawn(move || {
                // Open for as long as the keyboard is read (see `Keyboard::device`).
                let _device = device;
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

    #[cfg(test)]
    mod tests {
        use super::*;

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
}
