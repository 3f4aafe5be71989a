//! tikker-capture: where key events come from, and the boundary they cross into the daemon.
//!
//! It depends on `tikker-core` (key events), `tikker-formats` (the files a replay reads) and
//! `tikker-wire` (the counts it reports, types only); **it may not depend on** the store, the
//! research harness or the daemon. Backends are chosen at start, behind cargo features: `x11`
//! (rdev, links Xlib) and `evdev` (device discovery and hot-plug); replays are always there.
//!
//! A [`Source`] is one backend, chosen when the daemon starts:
//! - [`x11`]: the X server's RECORD extension through rdev, for every X11 client, no privileges;
//! - [`evdev`]: the kernel's keyboards under `/dev/input` (Wayland, console, or X11 when readable);
//! - [`replay`]: a recorded file (`events-csv`, Aalto, or raw `input_event` bytes) at its pace
//!   or faster, for tests and demos.
//!
//! Every source hands its events to a [`Sink`]: the boundary. The sink drops events while capture
//! is paused or the daemon is stopping (so a paused keystroke never reaches the writer, not even
//! its queue), and forwards the others into the writer's bounded queue. OS hooks forward with
//! [`Sink::offer`], which never blocks: when the queue is full the event is dropped, counted and
//! (at most every 10 s) logged. Replays use [`Sink::deliver`], which waits for room instead.

#![deny(missing_docs)]

pub mod clock;
pub mod counters;
pub mod evdev;
pub mod pause;
pub mod pipeline;
pub mod replay;
#[cfg(feature = "x11")]
pub mod x11;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::{Duration, Instant};

use anyhow::bail;
use tikker_core::KeyEvent;
use tikker_core::device::DeviceInfo;

use crate::clock::now_us;
use crate::counters::Counters;
use crate::pause::Pause;
use crate::pipeline::{Captured, DeviceTag, SessionStart, WriterCommand};

/// A backend that captures key events.
pub trait Source: Send {
    /// The kind of source stored with its sessions: `x11`, `evdev` or `replay`.
    fn kind(&self) -> &'static str;

    /// The display, devices or file it reads (stored with its sessions, shown in the status).
    fn detail(&self) -> String;

    /// Starts capturing into `sink` on the source's own threads, and returns once it runs, or
    /// with an error that says why it cannot.
    fn start(self: Box<Self>, sink: Sink) -> anyhow::Result<Running>;
}

/// A started source.
#[derive(Debug)]
pub struct Running {
    /// Fires when the source ends by itself (a replay that is done, a listener that failed).
    pub ended: tokio::sync::oneshot::Receiver<SourceEnd>,
}

/// Why a source stopped on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceEnd {
    /// It delivered everything it had (a replay).
    Finished,
    /// It failed; the text says why.
    Failed(String),
}

/// The source asked for with `--source` (or the configuration).
#[derive(Debug, Clone, PartialEq)]
pub enum SourceSpec {
    /// Choose from the session: see [`choose_automatically`].
    Auto,
    /// The X server (rdev, XRecord).
    X11,
    /// The kernel's keyboards.
    Evdev,
    /// A recorded file.
    Replay(PathBuf),
}

impl FromStr for SourceSpec {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<SourceSpec> {
        Ok(match text {
            "auto" => SourceSpec::Auto,
            "x11" => SourceSpec::X11,
            "evdev" => SourceSpec::Evdev,
            _ => match text.strip_prefix("replay:") {
                Some(path) if !path.is_empty() => SourceSpec::Replay(PathBuf::from(path)),
                _ => bail!("unknown source {text:?}: expected auto, x11, evdev or replay:PATH"),
            },
        })
    }
}

/// What sources need to know besides their kind.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Replay speed factor (1 = the recorded pace).
    pub speed: f64,
    /// Whose typing a replayed raw evdev stream is.
    pub user: String,
    /// Where the kernel's input devices are (`/dev/input`).
    pub input_dir: PathBuf,
}

/// Opens the source `spec` names. For [`SourceSpec::Auto`], see [`choose_automatically`].
pub fn open(spec: &SourceSpec, options: &SourceOptions) -> anyhow::Result<Box<dyn Source>> {
    Ok(match spec {
        SourceSpec::Auto => choose_automatically(&SessionEnv::from_process(), options)?,
        #[cfg(feature = "x11")]
        SourceSpec::X11 => Box::new(x11::X11Source::open()?),
        #[cfg(not(feature = "x11"))]
        SourceSpec::X11 => {
            bail!("this tikker was built without the x11 source (cargo feature `x11`)")
        }
        #[cfg(feature = "evdev")]
        SourceSpec::Evdev => Box::new(evdev::EvdevSource::open(&options.input_dir)?),
        #[cfg(not(feature = "evdev"))]
        SourceSpec::Evdev => {
            bail!("this tikker was built without the evdev source (cargo feature `evdev`)")
        }
        SourceSpec::Replay(path) => Box::new(replay::ReplaySource::open(
            path,
            options.speed,
            &options.user,
        )?),
    })
}

/// The environment that tells which kind of desktop session the daemon runs in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionEnv {
    /// `WAYLAND_DISPLAY`.
    pub wayland_display: Option<String>,
    /// `XDG_SESSION_TYPE`.
    pub session_type: Option<String>,
    /// `DISPLAY`.
    pub display: Option<String>,
}

impl SessionEnv {
    /// Reads the variables (empty values count as unset).
    pub fn from_process() -> SessionEnv {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        SessionEnv {
            wayland_display: var("WAYLAND_DISPLAY"),
            session_type: var("XDG_SESSION_TYPE"),
            display: var("DISPLAY"),
        }
    }

    fn is_wayland(&self) -> bool {
        self.wayland_display.is_some() || self.session_type.as_deref() == Some("wayland")
    }
}

/// `auto`: in a Wayland session, evdev (XRecord would only see XWayland clients); in an X11
/// session, evdev when at least one keyboard is readable (kernel timestamps, physical keys only),
/// else X11, never both (that would count every key twice); with neither, evdev if readable (a
/// console session). When nothing is usable the error says what is missing, and the daemon keeps
/// serving and tries again later.
pub fn choose_automatically(
    env: &SessionEnv,
    options: &SourceOptions,
) -> anyhow::Result<Box<dyn Source>> {
    #[cfg(feature = "evdev")]
    let discovery = evdev::discover::discover(&options.input_dir);
    #[cfg(feature = "evdev")]
    if discovery.readable_keyboards() > 0 {
        return Ok(Box::new(evdev::EvdevSource::from_discovery(
            &options.input_dir,
            discovery,
        )));
    }
    #[cfg(feature = "evdev")]
    let no_keyboard = discovery.explain_no_keyboard(&options.input_dir);
    #[cfg(not(feature = "evdev"))]
    let no_keyboard = {
        let _ = options;
        "this tikker was built without the evdev source (cargo feature `evdev`)".to_owned()
    };
    if env.is_wayland() {
        bail!("this is a Wayland session, where only evdev sees every key, and {no_keyboard}");
    }
    #[cfg(feature = "x11")]
    if let Some(display) = &env.display {
        return Ok(Box::new(x11::X11Source::for_display(display.clone())));
    }
    #[cfg(not(feature = "x11"))]
    if env.display.is_some() {
        bail!(
            "this is an X11 session, but this tikker was built without the x11 source (cargo feature `x11`), and {no_keyboard}"
        );
    }
    bail!("no desktop session (neither DISPLAY nor WAYLAND_DISPLAY is set) and {no_keyboard}")
}

/// The boundary between sources and the writer: pause, stop, and the bounded queue.
///
/// Entering it is one atomic increment and two loads; leaving it one decrement. Pausing and
/// stopping flip a flag and then wait until every event that entered before has left, so once
/// [`Gate::set_pause`] or [`Gate::stop`] returns, no event from before the flip is still on its
/// way into the queue (the writer sees them all before the command that follows).
#[derive(Debug, Default)]
pub struct Gate {
    /// The pause, packed (see [`Pause::to_packed`]).
    pause: AtomicI64,
    stopping: AtomicBool,
    in_flight: AtomicUsize,
}

/// Permission to forward one event or command; leaving the gate when dropped.
#[derive(Debug)]
struct Pass<'g>(&'g Gate);

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Gate {
    /// A gate paused as `pause` says.
    pub fn new(pause: Pause) -> Gate {
        Gate {
            pause: AtomicI64::new(pause.to_packed()),
            ..Gate::default()
        }
    }

    /// Enters unless stopping (or, for events, paused).
    fn enter(&self, honour_pause: bool) -> Option<Pass<'_>> {
        // SeqCst on both sides (Dekker): a pass that saw "open" is counted before the flag that
        // closes the gate is visible, so `quiesce` cannot miss it.
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let pass = Pass(self);
        if self.stopping.load(Ordering::SeqCst) || (honour_pause && self.is_paused()) {
            return None;
        }
        Some(pass)
    }

    /// Whether capture is paused right now.
    pub fn is_paused(&self) -> bool {
        match self.pause.load(Ordering::SeqCst) {
            0 => false,
            packed => Pause::from_packed(packed).is_active_at(now_us()),
        }
    }

    /// Whether events are let through right now.
    pub fn is_open(&self) -> bool {
        !self.stopping.load(Ordering::SeqCst) && !self.is_paused()
    }

    /// Whether the daemon is stopping.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// The pause as set (it may have expired already).
    pub fn pause(&self) -> Pause {
        Pause::from_packed(self.pause.load(Ordering::SeqCst))
    }

    /// Sets the pause and waits for events that entered before to reach the queue.
    pub fn set_pause(&self, pause: Pause) {
        self.pause.store(pause.to_packed(), Ordering::SeqCst);
        self.quiesce();
    }

    /// Ends `expected` if it is still the pause in force (a timed pause that ran out); returns
    /// whether it did.
    pub fn end_pause_if(&self, expected: Pause) -> bool {
        self.pause
            .compare_exchange(
                expected.to_packed(),
                Pause::Off.to_packed(),
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
    }

    /// Closes the gate for good and waits for events that entered before to reach the queue.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.quiesce();
    }

    fn quiesce(&self) {
        // Passes are held for one non-blocking send (or, for replays, a send the writer is
        // draining), so this waits microseconds, rarely milliseconds.
        while self.in_flight.load(Ordering::SeqCst) != 0 {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

/// How a source forwards events: through the [`Gate`] into the writer's queue.
#[derive(Debug, Clone)]
pub struct Sink {
    queue: SyncSender<WriterCommand>,
    gate: Arc<Gate>,
    counters: Arc<Counters>,
    last_drop_log_us: Arc<AtomicI64>,
    /// The device every event of this sink comes from (see [`Sink::for_device`]).
    device: Option<DeviceTag>,
}

/// The daemon is stopping (or its writer is gone): the source should end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

/// How often at most a full queue is logged.
const DROP_LOG_INTERVAL_US: i64 = 10_000_000;

impl Sink {
    /// A sink into `queue`.
    pub fn new(queue: SyncSender<WriterCommand>, gate: Arc<Gate>, counters: Arc<Counters>) -> Sink {
        Sink {
            queue,
            gate,
            counters,
            last_drop_log_us: Arc::new(AtomicI64::new(i64::MIN)),
            device: None,
        }
    }

    /// A sink whose events are marked as coming from the device `tag`; the device is
    /// announced to the writer first (`Err(Stopped)` if the daemon is stopping).
    pub fn for_device(&self, tag: DeviceTag, info: DeviceInfo) -> Result<Sink, Stopped> {
        self.command(WriterCommand::Device { tag, info })?;
        Ok(Sink {
            device: Some(tag),
            ..self.clone()
        })
    }

    /// Forwards an event without ever blocking (for OS hooks). While paused or stopping the
    /// event is dropped silently; when the queue is full it is dropped and counted. Returns
    /// whether it was queued.
    pub fn offer(&self, event: KeyEvent, captured_at: Instant) -> bool {
        let Some(_pass) = self.gate.enter(true) else {
            return false;
        };
        match self.queue.try_send(WriterCommand::Event(Captured {
            event,
            captured_at,
            device: self.device,
        })) {
            Ok(()) => {
                self.counters.add_captured();
                true
            }
            Err(TrySendError::Full(_)) => {
                let total = self.counters.add_dropped_queue_full();
                self.log_drops(total);
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Forwards an event, waiting for room in the queue (for replays). While paused the event
    /// is dropped; `Err(Stopped)` once the daemon stops.
    pub fn deliver(&self, event: KeyEvent, captured_at: Instant) -> Result<(), Stopped> {
        let Some(_pass) = self.gate.enter(true) else {
            return if self.gate.is_stopping() {
                Err(Stopped)
            } else {
                Ok(())
            };
        };
        self.queue
            .send(WriterCommand::Event(Captured {
                event,
                captured_at,
                device: self.device,
            }))
            .map_err(|_| Stopped)?;
        self.counters.add_captured();
        Ok(())
    }

    /// Tells the writer that the events that follow come from this source (ending the session
    /// of any previous one).
    pub fn announce_source(&self, kind: &'static str, detail: String) -> Result<(), Stopped> {
        self.command(WriterCommand::Source { kind, detail })
    }

    /// Tells the writer that the events that follow belong to `session` (replays, which keep the
    /// sessions of their file).
    pub fn begin_session(&self, session: SessionStart) -> Result<(), Stopped> {
        self.command(WriterCommand::Session(session))
    }

    fn command(&self, command: WriterCommand) -> Result<(), Stopped> {
        let _pass = self.gate.enter(false).ok_or(Stopped)?;
        self.queue.send(command).map_err(|_| Stopped)
    }

    /// Whether events are let through now (sources reset their key state while they are not).
    pub fn is_open(&self) -> bool {
        self.gate.is_open()
    }

    /// Whether the daemon is stopping.
    pub fn is_stopping(&self) -> bool {
        self.gate.is_stopping()
    }

    /// Counts events discarded because the kernel lost events (evdev `SYN_DROPPED`).
    pub fn count_kernel_drops(&self, events: u64) {
        self.counters.add_dropped_by_kernel(events);
    }

    fn log_drops(&self, total: u64) {
        let now = now_us();
        let last = self.last_drop_log_us.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= DROP_LOG_INTERVAL_US
            && self
                .last_drop_log_us
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                dropped_so_far = total,
                "the writer's queue is full: key events are being dropped (is the disk stalled?)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tikker_core::KeyCode;

    fn sink(capacity: usize) -> (Sink, std::sync::mpsc::Receiver<WriterCommand>, Arc<Gate>) {
        let (tx, rx) = std::sync::mpsc::sync_channel(capacity);
        let gate = Arc::new(Gate::default());
        let sink = Sink::new(tx, gate.clone(), Arc::new(Counters::default()));
        (sink, rx, gate)
    }

    #[test]
    fn specs_are_parsed() {
        assert_eq!("auto".parse::<SourceSpec>().unwrap(), SourceSpec::Auto);
        assert_eq!("x11".parse::<SourceSpec>().unwrap(), SourceSpec::X11);
        assert_eq!("evdev".parse::<SourceSpec>().unwrap(), SourceSpec::Evdev);
        assert_eq!(
            "replay:/tmp/a.csv".parse::<SourceSpec>().unwrap(),
            SourceSpec::Replay(PathBuf::from("/tmp/a.csv"))
        );
        for bad in ["replay:", "wayland", ""] {
            assert!(bad.parse::<SourceSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    #[cfg(all(feature = "x11", feature = "evdev"))]
    fn auto_picks_the_source_from_the_session_and_says_why_when_none_fits() {
        let empty = tempfile::tempdir().unwrap();
        let options = SourceOptions {
            speed: 1.0,
            user: "me".into(),
            input_dir: empty.path().to_path_buf(),
        };
        let x11_session = SessionEnv {
            display: Some(":7".into()),
            ..SessionEnv::default()
        };
        let source = choose_automatically(&x11_session, &options).unwrap();
        assert_eq!((source.kind(), source.detail()), ("x11", ":7".to_owned()));
        // Wayland wins over a DISPLAY (XWayland) and needs readable keyboards.
        let wayland_session = SessionEnv {
            wayland_display: Some("wayland-0".into()),
            ..x11_session.clone()
        };
        let message = choose_automatically(&wayland_session, &options)
            .err()
            .unwrap()
            .to_string();
        assert!(message.contains("Wayland session"), "{message}");
        assert!(message.contains("no keyboard"), "{message}");
        let wayland_by_type = SessionEnv {
            session_type: Some("wayland".into()),
            ..SessionEnv::default()
        };
        assert!(choose_automatically(&wayland_by_type, &options).is_err());
        let message = choose_automatically(&SessionEnv::default(), &options)
            .err()
            .unwrap()
            .to_string();
        assert!(
            message.contains("neither DISPLAY nor WAYLAND_DISPLAY"),
            "{message}"
        );
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_blocking() {
        let (sink, rx, _gate) = sink(2);
        let event = KeyEvent::press(1, KeyCode(30));
        assert!(sink.offer(event, Instant::now()));
        assert!(sink.offer(event, Instant::now()));
        assert!(!sink.offer(event, Instant::now()));
        let counts = sink.counters.snapshot();
        assert_eq!((counts.captured, counts.dropped_queue_full), (2, 1));
        drop(rx);
    }

    #[test]
    fn nothing_passes_while_paused_or_stopping() {
        let (sink, rx, gate) = sink(8);
        let event = KeyEvent::press(1, KeyCode(30));
        gate.set_pause(Pause::Indefinite);
        assert!(!sink.offer(event, Instant::now()));
        assert_eq!(sink.deliver(event, Instant::now()), Ok(()));
        assert!(rx.try_recv().is_err(), "a paused event reached the queue");
        assert_eq!(sink.counters.snapshot().captured, 0);
        // A pause that has run out lets events through again even before anyone ends it.
        gate.set_pause(Pause::Until(now_us() - 1));
        assert!(sink.offer(event, Instant::now()));
        assert!(gate.end_pause_if(Pause::Until(gate.pause().to_packed())));
        gate.stop();
        assert!(!sink.offer(event, Instant::now()));
        assert_eq!(sink.deliver(event, Instant::now()), Err(Stopped));
        assert_eq!(
            sink.announce_source("x11", String::new()),
            Err(Stopped),
            "commands after the stop would be lost"
        );
    }
}
