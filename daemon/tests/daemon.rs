//! The daemon driven as a user (or systemd) would, without a display: replays through the whole
//! pipeline, durability under SIGTERM and SIGKILL, the single-daemon lock, the systemd notify
//! protocol, and `auto` with nothing to capture.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{TestHome, shared_data, stored_events, typing, write_events_csv};
use tikker_core::{KeyAction, KeyCode, KeyEvent};

fn export(home: &TestHome, db: &Path) -> String {
    let out = home
        .tikker()
        .arg("--db")
        .arg(db)
        .args(["export", "--format", "events-csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn replay_arg(path: &Path) -> String {
    format!("replay:{}", path.display())
}

#[test]
fn a_replayed_aalto_participant_gives_the_same_events_as_tikker_import() {
    let home = TestHome::new();
    let files: Vec<PathBuf> = ["1002", "1005", "1010"]
        .iter()
        .map(|p| shared_data().join(format!("aalto-dev/users/{p}_keystrokes.txt.gz")))
        .collect();
    for file in &files {
        let mut daemon =
            home.start_daemon(&["--source", &replay_arg(file), "--speed", "1000"], &[]);
        let exit = daemon.wait(Duration::from_secs(120));
        assert!(exit.success(), "{}", daemon.log());
        assert_eq!(daemon.final_count("dropped"), 0, "{}", daemon.log());
    }
    let imported = home.path().join("imported.db");
    let out = home
        .tikker()
        .arg("--db")
        .arg(&imported)
        .args(["import", "--format", "aalto", "--skip-bad"])
        .args(&files)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let replayed = export(&home, &home.db());
    assert!(replayed.lines().count() > 3 * 1000, "{replayed}");
    assert_eq!(replayed, export(&home, &imported));
}

#[test]
fn a_recorded_input_event_stream_is_decoded_through_the_daemon() {
    const EV_SYN: u16 = 0;
    const EV_KEY: u16 = 1;
    const EV_MSC: u16 = 4;
    const SYN_DROPPED: u16 = 3;
    let raw = |time_us: i64, type_: u16, code: u16, value: i32| {
        let mut bytes = Vec::with_capacity(24);
        bytes.extend((time_us / 1_000_000).to_ne_bytes());
        bytes.extend((time_us % 1_000_000).to_ne_bytes());
        bytes.extend(type_.to_ne_bytes());
        bytes.extend(code.to_ne_bytes());
        bytes.extend(value.to_ne_bytes());
        bytes
    };
    let (a, b, shift) = (30, 48, 42);
    let t = 1_750_000_000_000_000;
    let mut stream = Vec::new();
    for (time, key, value) in [
        (t, shift, 1),
        (t + 40_000, a, 1),
        (t + 540_000, a, 2), // auto-repeat
        (t + 573_000, a, 2),
        (t + 600_000, a, 0),
        (t + 650_000, shift, 0),
    ] {
        stream.extend(raw(time, EV_MSC, 4, i32::from(key)));
        stream.extend(raw(time, EV_KEY, key, value));
        stream.extend(raw(time, EV_SYN, 0, 0));
    }
    // The kernel's buffer overflows while B is typed: the broken packets are discarded.
    stream.extend(raw(t + 700_000, EV_KEY, b, 1));
    stream.extend(raw(t + 710_000, EV_SYN, SYN_DROPPED, 0));
    stream.extend(raw(t + 720_000, EV_KEY, b, 0));
    stream.extend(raw(t + 720_000, EV_SYN, 0, 0));
    for (time, key, value) in [(t + 800_000, b, 1), (t + 880_000, b, 0)] {
        stream.extend(raw(time, EV_KEY, key, value));
        stream.extend(raw(time, EV_SYN, 0, 0));
    }
    let home = TestHome::new();
    let file = home.path().join("keyboard.evdev");
    std::fs::write(&file, stream).unwrap();
    let mut daemon = home.start_daemon(&["--source", &replay_arg(&file), "--speed", "10"], &[]);
    assert!(
        daemon.wait(Duration::from_secs(30)).success(),
        "{}",
        daemon.log()
    );

    let stored = home.stored_events();
    let events: Vec<KeyEvent> = stored.iter().map(|(_, _, e)| *e).collect();
    let repeat = |time_us| KeyEvent {
        time_us,
        key: KeyCode(a),
        action: KeyAction::Repeat,
    };
    assert_eq!(
        events,
        vec![
            KeyEvent::press(t, KeyCode(shift)),
            KeyEvent::press(t + 40_000, KeyCode(a)),
            repeat(t + 540_000),
            repeat(t + 573_000),
            KeyEvent::release(t + 600_000, KeyCode(a)),
            KeyEvent::release(t + 650_000, KeyCode(shift)),
            KeyEvent::press(t + 800_000, KeyCode(b)),
            KeyEvent::release(t + 880_000, KeyCode(b)),
        ]
    );
    assert_eq!(
        stored[0].0, "tester",
        "a raw stream is the configured user's"
    );
}

#[test]
fn sigterm_during_a_fast_replay_loses_nothing() {
    let home = TestHome::new();
    let file = home.path().join("fast.csv");
    // 200,000 events 1 ms apart, replayed at 10× (10,000 events/s): 20 s if left alone.
    let events = typing(1_750_000_000_000_000, 200_000, 2_000);
    write_events_csv(&file, "ann", "fast", &events);
    let mut daemon = home.start_daemon(&["--source", &replay_arg(&file), "--speed", "10"], &[]);
    home.wait_for_recorded(&mut daemon, 15_000);
    assert!(daemon.terminate().success(), "{}", daemon.log());

    let captured = daemon.final_count("captured");
    let recorded = daemon.final_count("recorded");
    assert_eq!(recorded, captured, "{}", daemon.log());
    assert_eq!(daemon.final_count("dropped"), 0);
    assert!(
        (15_000..200_000).contains(&recorded),
        "the replay was still running: {recorded}"
    );
    let stored: Vec<KeyEvent> = home
        .stored_events()
        .into_iter()
        .map(|(_, _, e)| e)
        .collect();
    assert_eq!(stored.len() as u64, recorded);
    assert!(
        stored == events[..stored.len()],
        "the stored events are not exactly the first {} of the file",
        stored.len()
    );
}

#[test]
fn sigkill_during_a_replay_keeps_the_database_sound_and_loses_at_most_one_batch() {
    const BATCH: u64 = 512;
    let home = TestHome::new();
    let mut kept: Vec<(String, usize)> = Vec::new();
    for round in 0..5u64 {
        let session = format!("kill-{round}");
        let file = home.path().join(format!("{session}.csv"));
        // 250 events/s: a batch is committed every 200 ms, about 50 events, so even a writer
        // slowed down by a busy machine stays well within one batch (512).
        let events = typing(
            1_750_000_000_000_000 + round as i64 * 100_000_000,
            20_000,
            8_000,
        );
        write_events_csv(&file, "ann", &session, &events);
        let mut daemon = home.start_daemon(&["--source", &replay_arg(&file)], &[]);
        // Kill at a different point of the batch cycle each round.
        home.wait_for_recorded(&mut daemon, 100 + 37 * round);
        std::thread::sleep(Duration::from_millis(61 * round));
        let status = home.status().unwrap();
        daemon.kill();
        let captured_before = status["events"]["captured"].as_u64().unwrap();
        let recorded_before = status["events"]["recorded"].as_u64().unwrap();

        let store = common::open_store(&home.db());
        assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_owned()]);
        drop(store);
        let stored = stored_events(&home.db());
        let this_round: Vec<KeyEvent> = stored
            .iter()
            .filter(|(_, label, _)| *label == session)
            .map(|(_, _, e)| *e)
            .collect();
        let n = this_round.len() as u64;
        assert!(
            this_round == events[..this_round.len()],
            "round {round}: the stored events are not a prefix of the replay"
        );
        assert!(
            n >= recorded_before,
            "round {round}: committed events were lost ({n} < {recorded_before})"
        );
        assert!(
            n + BATCH >= captured_before,
            "round {round}: more than one batch lost ({n} stored, {captured_before} captured)"
        );
        // Earlier rounds' sessions are untouched.
        for (label, count) in &kept {
            let now = stored.iter().filter(|(_, l, _)| l == label).count();
            assert_eq!(now, *count, "round {round}: session {label} changed");
        }
        eprintln!(
            "round {round}: {recorded_before} recorded and {captured_before} captured at the status read; {n} stored after SIGKILL"
        );
        kept.push((session, this_round.len()));
    }
}

#[test]
fn a_second_daemon_refuses_to_start_and_says_which_one_runs() {
    let home = TestHome::new();
    let file = home.path().join("slow.csv");
    write_events_csv(
        &file,
        "ann",
        "slow",
        &typing(1_750_000_000_000_000, 200, 500_000),
    );
    let mut first = home.start_daemon(&["--source", &replay_arg(&file)], &[]);
    home.wait_for_state(&mut first, "capturing");
    let out = home.run(&["daemon", "--source", &replay_arg(&file)]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("another tikker daemon is already running")
            && stderr.contains(&first.pid().as_raw_nonzero().to_string())
            && stderr.contains(&home.db().display().to_string()),
        "{stderr}"
    );
    assert!(first.terminate().success(), "{}", first.log());
    // With the first one gone, the database is free again; SIGINT (Ctrl-C) stops it as cleanly.
    let mut second = home.start_daemon(&["--source", &replay_arg(&file)], &[]);
    home.wait_for_recorded(&mut second, 2);
    second.signal(rustix::process::Signal::INT);
    assert!(
        second.wait(Duration::from_secs(30)).success(),
        "{}",
        second.log()
    );
    assert!(second.log().contains("SIGINT"), "{}", second.log());
    assert_eq!(
        second.final_count("recorded"),
        second.final_count("captured")
    );
}

/// The one-daemon lock of the runtime folder does not cover a second daemon started with
/// another runtime folder: the database's own lock (`tikker.db.lock`) refuses it, naming the
/// database and the pid, and nothing of the replay is stored twice.
#[test]
fn a_second_daemon_with_another_runtime_folder_refuses_the_same_database() {
    let home = TestHome::new();
    let file = home.path().join("slow.csv");
    write_events_csv(
        &file,
        "ann",
        "slow",
        &typing(1_750_000_000_000_000, 200, 500_000),
    );
    let mut first = home.start_daemon(&["--source", &replay_arg(&file)], &[]);
    home.wait_for_state(&mut first, "capturing");
    let other_runtime = home.path().join("other-run");
    std::fs::create_dir(&other_runtime).unwrap();
    std::fs::set_permissions(
        &other_runtime,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    // At full speed: were it not refused, it would store the whole replay again at once.
    let out = home
        .tikker()
        .env("XDG_RUNTIME_DIR", &other_runtime)
        .arg("--db")
        .arg(home.db())
        .args(["daemon", "--source", &replay_arg(&file), "--speed", "inf"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("is already recording into")
            && stderr.contains(&first.pid().as_raw_nonzero().to_string())
            && stderr.contains(&home.db().display().to_string()),
        "{stderr}"
    );
    assert!(first.terminate().success(), "{}", first.log());
    let sessions: std::collections::BTreeSet<String> = home
        .stored_events()
        .into_iter()
        .map(|(_, session, _)| session)
        .collect();
    assert_eq!(
        sessions.into_iter().collect::<Vec<_>>(),
        vec!["slow".to_owned()]
    );
    // With the first one gone, a daemon of the other runtime folder may record into it.
    let mut second = home.start_daemon(
        &["--source", &replay_arg(&file), "--speed", "1000"],
        &[("XDG_RUNTIME_DIR", other_runtime.to_str().unwrap())],
    );
    assert!(
        second.wait(Duration::from_secs(60)).success(),
        "{}",
        second.log()
    );
}

#[test]
fn systemd_hears_ready_status_watchdog_pings_and_stopping() {
    let home = TestHome::new();
    let socket_path = home.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let file = home.path().join("short.csv");
    // 1.5 s of typing at the recorded pace.
    write_events_csv(
        &file,
        "ann",
        "short",
        &typing(1_750_000_000_000_000, 150, 20_000),
    );
    let mut daemon = home.start_daemon(
        &["--source", &replay_arg(&file)],
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "200000"),
        ],
    );
    let mut messages = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        if let Ok(n) = socket.recv(&mut buffer) {
            messages.push(String::from_utf8_lossy(&buffer[..n]).into_owned());
        } else if daemon.try_exit().is_some() {
            break;
        }
    }
    while let Ok(n) = socket.recv(&mut buffer) {
        messages.push(String::from_utf8_lossy(&buffer[..n]).into_owned());
    }
    let ready = messages
        .iter()
        .position(|m| m.contains("READY=1"))
        .unwrap_or_else(|| panic!("no READY=1: {messages:?}"));
    assert!(
        messages[ready].contains("STATUS=capturing from replay short.csv"),
        "{messages:?}"
    );
    let pings = messages.iter().filter(|m| m.contains("WATCHDOG=1")).count();
    assert!(
        pings >= 4,
        "{pings} watchdog pings in 1.5 s at 100 ms: {messages:?}"
    );
    assert!(
        messages.last().unwrap().contains("STOPPING=1"),
        "{messages:?}"
    );
}

#[test]
fn auto_with_nothing_to_capture_says_why_and_keeps_serving() {
    let home = TestHome::new();
    let no_keyboards = home.path().join("input");
    std::fs::create_dir(&no_keyboards).unwrap();
    let config = home.path().join("config/tikker/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        format!(
            "[capture]\nsource = \"auto\"\ninput_dir = \"{}\"\nretry_s = 1\n",
            no_keyboards.display()
        ),
    )
    .unwrap();
    let mut daemon = home.start_daemon(&[], &[]);
    let status = home.wait_for_state(&mut daemon, "waiting");
    let reason = status["waiting_reason"].as_str().unwrap();
    assert!(
        reason.contains("neither DISPLAY nor WAYLAND_DISPLAY") && reason.contains("no keyboard"),
        "{reason}"
    );
    // It still answers, looks again every second, and stops cleanly.
    assert!(home.run(&["pause", "--for", "1m"]).status.success());
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(home.status().unwrap()["state"], "waiting");
    assert!(home.run(&["resume"]).status.success());
    assert!(daemon.terminate().success(), "{}", daemon.log());
    assert!(daemon.log().contains("not capturing"), "{}", daemon.log());

    // Asked for X11 explicitly without a display, it fails at once and says why.
    let out = home.run(&["daemon", "--source", "x11"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("DISPLAY is not set"),
        "{out:?}"
    );
    let out = home.run(&["daemon", "--speed", "10"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--speed applies to replays only"));
    // And the client says clearly that no daemon runs.
    let out = home.run(&["status"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no tikker daemon is running"),
        "{out:?}"
    );
}

/// Runs `tikker --db DB ARGS…` with standard output a pipe whose reader is already gone (as in
/// `tikker status | grep -q capturing` once grep has matched) and returns its exit status and
/// standard error.
fn run_with_closed_stdout(home: &TestHome, args: &[&str]) -> (std::process::ExitStatus, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = home
        .tikker()
        .arg("--db")
        .arg(home.db())
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(writer)
        .output()
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_command_ends_quietly_when_its_reader_goes_away() {
    let home = TestHome::new();
    let csv = home.path().join("typing.csv");
    write_events_csv(
        &csv,
        "alice",
        "s1",
        &typing(1_700_000_000_000_000, 400, 120_000),
    );
    assert!(
        home.run(&["import", "--format", "events-csv", csv.to_str().unwrap()])
            .status
            .success()
    );
    let no_keyboards = home.path().join("input");
    std::fs::create_dir(&no_keyboards).unwrap();
    let config = home.path().join("config/tikker/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        format!(
            "[capture]\nsource = \"auto\"\ninput_dir = \"{}\"\nretry_s = 1\n",
            no_keyboards.display()
        ),
    )
    .unwrap();
    let mut daemon = home.start_daemon(&[], &[]);
    home.wait_for_state(&mut daemon, "waiting");
    let commands: &[&[&str]] = &[
        &["status"],
        &["status", "--json"],
        &["stats"],
        &["stats", "--json"],
        &["config"],
        &["export", "--format", "events-csv"],
        &["import", "--format", "events-csv", csv.to_str().unwrap()],
        &["profile", "show"],
        &["token"],
        &["--version"],
        &["--help"],
    ];
    for args in commands {
        let (status, stderr) = run_with_closed_stdout(&home, args);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "tikker {args:?}: {stderr}"
        );
        assert_ne!(status.code(), Some(101), "tikker {args:?}: {stderr}");
        // Either it succeeded quietly or it failed for its own reason (say so on stderr).
        assert!(
            status.success() || !stderr.is_empty(),
            "tikker {args:?}: {status:?}"
        );
    }
    assert!(daemon.terminate().success(), "{}", daemon.log());
}
