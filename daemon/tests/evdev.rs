//! The evdev source for real: the daemon reads emulated kernel input devices (umockdev: its
//! preload library emulates `/dev/input/event*`, sysfs and the evdev ioctls; the testbed,
//! `tests/umockdev/testbed.py`, adds and removes devices while the daemon runs). The devices are
//! described in `tests/umockdev/` (`make-fixtures.py` writes them): an AT keyboard, a USB mouse,
//! a USB keyboard and a uinput keyboard (a virtual device, as `ydotool` creates), each with the
//! answers to the ioctls the evdev crate makes. Key events come from evemu files the tests write.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, ChildStdout};

use common::{Daemon, TestHome, require};
use tikker_core::threat::AlertKind;
use tikker_core::{KeyAction, KeyCode, KeyEvent};
use tikker_store::{EventFilter, SessionInfo};

const PYTHON: &str = "/usr/bin/python3";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/umockdev")
        .join(name)
}

/// `NAME=UMOCKDEV,IOCTL[,EVENTS]` for the testbed.
fn device(name: &str, fixture_name: &str, events: Option<&Path>) -> String {
    let mut spec = format!(
        "{name}={},{}",
        fixture(&format!("{fixture_name}.umockdev")).display(),
        fixture(&format!("{fixture_name}.ioctl")).display()
    );
    if let Some(events) = events {
        spec.push_str(&format!(",{}", events.display()));
    }
    spec
}

/// `count` keystrokes (press, then release 80-90 ms later; a press every 300 ms) from
/// `first_s` seconds after the Unix epoch, with times that umockdev's evemu reader reads
/// right (see `testbed.py`): microseconds from 100000 up, no seconds ending in byte 0x20.
fn typing(first_s: i64, count: usize) -> Vec<KeyEvent> {
    let keys = [20u16, 23, 37, 18, 19, 30, 31, 24, 25, 38, 36, 22];
    let mut events = Vec::new();
    for i in 0..count {
        let press = (first_s + (i / 3) as i64) * 1_000_000
            + 150_000
            + (i % 3) as i64 * 300_000
            + i as i64 * 37;
        let release = press + 80_000 + i as i64 * 701;
        let key = KeyCode(keys[i % keys.len()]);
        events.push(KeyEvent::press(press, key));
        events.push(KeyEvent::release(release, key));
    }
    events.sort_by_key(|e| e.time_us);
    events
}

/// Writes `events` as an evemu file (each key event followed by its SYN_REPORT).
fn write_evemu(path: &Path, events: &[KeyEvent]) {
    let mut text = String::from("# EVEMU 1.3\n");
    for event in events {
        let (s, us) = (event.time_us / 1_000_000, event.time_us % 1_000_000);
        assert!(us >= 100_000 && s % 256 != 0x20, "a time umockdev misreads");
        let value = match event.action {
            KeyAction::Press => 1,
            KeyAction::Release => 0,
            KeyAction::Repeat => 2,
        };
        text.push_str(&format!(
            "E: {s}.{us:06} 0001 {:04x} {value:04x}\n",
            event.key.0
        ));
        text.push_str(&format!("E: {s}.{us:06} 0000 0000 0000\n"));
    }
    std::fs::write(path, text).unwrap();
}

/// The daemon in an umockdev testbed, and the testbed's command pipe.
struct Testbed {
    daemon: Daemon,
    commands: ChildStdin,
    answers: BufReader<ChildStdout>,
}

impl Testbed {
    fn start(home: &TestHome, devices: &[String], env: &[(&str, &str)]) -> Testbed {
        require("umockdev-run");
        let script = fixture("testbed.py");
        let mut wrapper: Vec<&OsStr> = vec![OsStr::new(PYTHON), script.as_os_str()];
        wrapper.extend(devices.iter().map(OsStr::new));
        wrapper.push(OsStr::new("--"));
        let (daemon, commands, answers) =
            home.start_wrapped_daemon(&wrapper, &["--source", "evdev"], env);
        Testbed {
            daemon,
            commands,
            answers: BufReader::new(answers),
        }
    }

    /// Sends a testbed command and returns its answer (fails on an error).
    fn command(&mut self, line: &str) -> String {
        writeln!(self.commands, "{line}").unwrap();
        let mut answer = String::new();
        self.answers.read_line(&mut answer).unwrap();
        assert!(
            answer.starts_with("ok"),
            "testbed: {line}: {answer}\n{}",
            self.daemon.log()
        );
        answer
    }
}

fn sessions(db: &Path) -> Vec<SessionInfo> {
    common::open_store(db)
        .sessions(&EventFilter::default())
        .unwrap()
}

fn stored_of(home: &TestHome, label: &str) -> Vec<KeyEvent> {
    home.stored_events()
        .into_iter()
        .filter(|(_, session, _)| session == label)
        .map(|(_, _, event)| event)
        .collect()
}

/// Discovery reads the keyboard and not the mouse beside it; the keyboard's typing is stored
/// with the kernel's timestamps to the microsecond, in a session that names the keyboard
/// (name, ids, bus, port, sysfs folder, physical); the first keyboard a database sees is taken
/// as the owner's (no alert).
#[test]
fn a_keyboard_among_other_devices_is_read_and_its_typing_stored_with_kernel_times() {
    let home = TestHome::new();
    let typed = typing(1_000, 12);
    let events = home.path().join("at.events");
    write_evemu(&events, &typed);
    let mut testbed = Testbed::start(
        &home,
        &[
            device("mouse", "usb-mouse", None),
            device("at", "at-keyboard", Some(&events)),
        ],
        &[],
    );
    home.wait_for_recorded(&mut testbed.daemon, typed.len() as u64);
    let log = testbed.daemon.log();
    assert_eq!(
        log.matches("reading keyboard").count(),
        1,
        "the keyboard and not the mouse:\n{log}"
    );
    assert!(log.contains("AT Translated Set 2 keyboard"), "{log}");
    assert!(
        testbed.daemon.terminate().success(),
        "{}",
        testbed.daemon.log()
    );

    let sessions = sessions(&home.db());
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let session = &sessions[0];
    assert_eq!(session.source_kind, "evdev");
    assert_eq!(stored_of(&home, &session.label), typed, "kernel times kept");
    let device = session
        .device
        .as_ref()
        .expect("the session names its keyboard");
    assert_eq!(device.info.name, "AT Translated Set 2 keyboard");
    assert_eq!(
        (device.info.bus, device.info.vendor_product()),
        (0x11, "0001:0001".to_owned())
    );
    assert_eq!(device.info.phys, "isa0060/serio0/input0");
    assert_eq!(
        device.info.sysfs_path,
        "/sys/devices/platform/i8042/serio0/input/input3"
    );
    assert!(!device.info.is_virtual);
    let alerts = common::open_store(&home.db())
        .alerts_between(None, None, 10)
        .unwrap();
    assert!(
        alerts.is_empty(),
        "the first keyboard is the owner's: {alerts:?}"
    );
}

/// A keyboard plugged in while the daemon runs is read (inotify on the testbed's /dev/input),
/// and, never seen before, raises a `new_device` alert that names it; its typing is its own
/// session. Unplugged, the daemon goes on.
#[test]
fn a_keyboard_plugged_in_while_the_daemon_runs_is_read_and_raises_a_new_device_alert() {
    let home = TestHome::new();
    let own = typing(1_000, 6);
    let own_events = home.path().join("at.events");
    write_evemu(&own_events, &own);
    let plugged = typing(2_000, 9);
    let plugged_events = home.path().join("usb.events");
    write_evemu(&plugged_events, &plugged);
    let mut testbed = Testbed::start(
        &home,
        &[device("at", "at-keyboard", Some(&own_events))],
        &[],
    );
    home.wait_for_recorded(&mut testbed.daemon, own.len() as u64);

    testbed.command(&format!(
        "add {}",
        device("usb", "usb-keyboard", Some(&plugged_events))
    ));
    let status = home.wait_for_recorded(&mut testbed.daemon, (own.len() + plugged.len()) as u64);
    assert_eq!(
        status["auth"]["last_alert"]["kind"],
        "new_device",
        "{status}\n{}",
        testbed.daemon.log()
    );
    let alerts = common::open_store(&home.db())
        .alerts_between(None, None, 10)
        .unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].kind, AlertKind::NewDevice);
    assert!(
        alerts[0].reason.contains("a new keyboard was connected")
            && alerts[0].reason.contains("Test USB Keyboard")
            && alerts[0].reason.contains("1234:5678"),
        "{}",
        alerts[0].reason
    );
    assert!(
        !alerts[0].reason.contains("virtual"),
        "{}",
        alerts[0].reason
    );

    // Unplugged: umockdev 0.17 removes the node and its sysfs folder but does not end a read
    // already blocked on it (a real kernel answers ENODEV, which the decoder's unit tests
    // cover): the daemon must simply go on.
    testbed.command("remove usb");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        testbed.daemon.try_exit().is_none(),
        "{}",
        testbed.daemon.log()
    );
    assert_eq!(home.status().unwrap()["state"], "capturing");
    assert!(
        testbed.daemon.terminate().success(),
        "{}",
        testbed.daemon.log()
    );

    let sessions = sessions(&home.db());
    let names: Vec<&str> = sessions
        .iter()
        .map(|s| s.device.as_ref().unwrap().info.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["AT Translated Set 2 keyboard", "Test USB Keyboard"],
        "one session per keyboard"
    );
    assert_eq!(stored_of(&home, &sessions[1].label), plugged);
}

/// A uinput keyboard (its sysfs folder under /devices/virtual/) beside the owner's keyboard:
/// its session is flagged virtual and its `new_device` alert says it is a virtual device.
#[test]
fn a_virtual_keyboard_is_flagged_and_its_alert_says_so() {
    let home = TestHome::new();
    let injected = typing(3_000, 3);
    let events = home.path().join("uinput.events");
    write_evemu(&events, &injected);
    let mut testbed = Testbed::start(
        &home,
        &[
            device("at", "at-keyboard", None),
            device("uinput", "uinput-keyboard", Some(&events)),
        ],
        &[],
    );
    home.wait_for_recorded(&mut testbed.daemon, injected.len() as u64);
    assert!(
        testbed.daemon.terminate().success(),
        "{}",
        testbed.daemon.log()
    );

    let store = common::open_store(&home.db());
    let devices = store.devices().unwrap();
    assert_eq!(devices.len(), 2, "{devices:?}");
    assert!(!devices[0].info.is_virtual, "the AT keyboard, seen first");
    assert!(devices[1].info.is_virtual);
    assert_eq!(
        devices[1].info.sysfs_path,
        "/sys/devices/virtual/input/input9"
    );
    let sessions = sessions(&home.db());
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].device.as_ref().unwrap().info.is_virtual);
    let alerts = store.alerts_between(None, None, 10).unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].kind, AlertKind::NewDevice);
    assert!(
        alerts[0].reason.contains("ydotoold virtual device")
            && alerts[0]
                .reason
                .contains("virtual device created by a program"),
        "{}",
        alerts[0].reason
    );
}

/// An account that may not read the input devices (not in the `input` group; the node is
/// root's, mode 0600) is told to join the group: the daemon refuses to start and says how,
/// naming the device. Needs root (to run the daemon as a second account). Not in a umockdev
/// testbed: umockdev cannot emulate an unreadable node (its preload library ends the program
/// when it cannot reach the ioctl socket of a node under the testbed's /dev, before the node's
/// own permission is checked), so the node is a root-only file in a folder named by
/// `[capture] input_dir`.
#[test]
fn a_keyboard_without_read_permission_gets_the_input_group_advice() {
    if rustix::process::getuid().as_raw() != 0 {
        eprintln!("not root: the permission test needs a second account and is skipped");
        return;
    }
    let account = "tikker-noinput";
    let id = |flag: &str| -> Option<u32> {
        let out = std::process::Command::new("id")
            .args([flag, account])
            .output()
            .ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    if id("-u").is_none() {
        let status = std::process::Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                account,
            ])
            .status()
            .unwrap();
        assert!(status.success() || id("-u").is_some(), "useradd failed");
    }
    let (uid, gid) = (id("-u").unwrap(), id("-g").unwrap());
    let home = TestHome::new();
    let input = home.path().join("input");
    let config = home.path().join("config/tikker");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.toml"),
        format!("[capture]\ninput_dir = \"{}\"\n", input.display()),
    )
    .unwrap();
    std::fs::create_dir_all(&input).unwrap();
    for entry in walk(home.path()) {
        std::os::unix::fs::chown(&entry, Some(uid), Some(gid)).unwrap();
    }
    // The keyboard's node: root's, readable by root only (as /dev/input/event* are, but for the
    // `input` group).
    let node = input.join("event4");
    std::fs::write(&node, b"").unwrap();
    std::fs::set_permissions(&node, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let (reuid, regid) = (format!("--reuid={uid}"), format!("--regid={gid}"));
    let wrapper: Vec<&OsStr> = vec![
        OsStr::new("setpriv"),
        OsStr::new(&reuid),
        OsStr::new(&regid),
        OsStr::new("--clear-groups"),
    ];
    let (mut daemon, _stdin, _stdout) =
        home.start_wrapped_daemon(&wrapper, &["--source", "evdev"], &[]);
    let exit = daemon.wait(std::time::Duration::from_secs(60));
    let log = daemon.log();
    assert!(!exit.success(), "{log}");
    assert!(
        log.contains("permission to read the input devices"),
        "{log}"
    );
    assert!(log.contains("event4"), "{log}");
    assert!(log.contains("usermod -aG input"), "{log}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
