//! The record's privacy, end to end through the daemon: the key in a real Secret Service
//! (gnome-keyring on a private D-Bus), the fallback key file, no readable trace of a typed secret
//! in any file of the data folder, forgetting a span while the daemon records, and retention.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::path::Path;
use std::time::Duration;

use common::{TestHome, open_store, stored_events, write_events_csv};
use tikker_core::{KeyCode, KeyEvent};
use tikker_testkit::{GnomeKeyring, SessionBus, require};

/// The secret typed in these tests; long enough that its key codes in order cannot turn up in
/// random bytes by chance.
const SECRET: &str = "correct horse battery staple";

/// The secret typed at a person's pace from `start_us`, `times` times, as key events.
fn secret_typing(start_us: i64, times: usize) -> Vec<KeyEvent> {
    let mut events = Vec::new();
    let mut t = start_us;
    for _ in 0..times {
        for (i, c) in SECRET.chars().enumerate() {
            let key = KeyCode::from_char(c).unwrap();
            events.push(KeyEvent::press(t, key));
            events.push(KeyEvent::release(t + 70_000 + (i as i64 % 5) * 9_000, key));
            t += 140_000 + (i as i64 % 7) * 23_000;
        }
        t += 1_500_000;
    }
    events
}

fn secret_codes() -> Vec<u8> {
    SECRET
        .chars()
        .map(|c| KeyCode::from_char(c).unwrap().0 as u8)
        .collect()
}

/// Whether `bytes` hold `codes` in order (forwards or backwards, as SQLite's pages store rows
/// from their end), each within 64 bytes of the one before: how a plaintext `key_events` table
/// holds a typed text.
fn holds_in_order(bytes: &[u8], codes: &[u8]) -> bool {
    let forwards = |bytes: &[u8]| {
        bytes.iter().enumerate().any(|(start, b)| {
            if *b != codes[0] {
                return false;
            }
            let mut at = start;
            codes[1..].iter().all(|code| {
                match bytes[at + 1..bytes.len().min(at + 65)]
                    .iter()
                    .position(|b| b == code)
                {
                    Some(n) => {
                        at += n + 1;
                        true
                    }
                    None => false,
                }
            })
        })
    };
    let reversed: Vec<u8> = bytes.iter().rev().copied().collect();
    forwards(bytes) || forwards(&reversed)
}

/// What in the data folder of `db` shows the record: files that open as SQLite, or hold the
/// secret's text or key codes in order.
fn readable_traces(db: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let dir = db.parent().unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("tikker.db") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        if bytes.windows(15).any(|w| w == b"SQLite format 3") {
            found.push(format!("{name}: a plaintext SQLite header"));
        }
        if bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()) {
            found.push(format!("{name}: the secret as text"));
        }
        if holds_in_order(&bytes, &secret_codes()) {
            found.push(format!("{name}: the secret's key codes in order"));
        }
        if name == "tikker.db" {
            require("sqlite3");
            let out = std::process::Command::new("sqlite3")
                .arg(&path)
                .arg("SELECT count(*) FROM key_events")
                .output()
                .unwrap();
            if out.status.success() {
                found.push(format!(
                    "{name}: sqlite3 reads it ({} events)",
                    String::from_utf8_lossy(&out.stdout).trim()
                ));
            }
        }
    }
    found
}

fn config(home: &TestHome, text: &str) {
    let dir = home.path().join("config").join("tikker");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), text).unwrap();
}

fn replay(home: &TestHome, file: &Path, speed: &str, env: &[(&str, &str)]) -> String {
    let mut daemon = home.start_daemon(
        &[
            "--source",
            &format!("replay:{}", file.display()),
            "--speed",
            speed,
        ],
        env,
    );
    let exit = daemon.wait(Duration::from_secs(120));
    assert!(exit.success(), "{exit}:\n{}", daemon.log());
    daemon.log()
}

const T0: i64 = 1_764_500_000_000_000; // 2025-11-30T10:53:20Z

#[test]
fn a_typed_secret_leaves_no_readable_trace_and_export_with_the_key_returns_every_event() {
    let home = TestHome::new();
    let events = secret_typing(T0, 30);
    let file = home.path().join("secret.csv");
    write_events_csv(&file, "tester", "s1", &events);
    let log = replay(&home, &file, "inf", &[]);
    // No Secret Service in this test: the key file, said clearly.
    assert!(log.contains("no Secret Service answered"), "{log}");
    let key_file = home.path().join("config/tikker/tikker.key");
    assert!(key_file.exists());
    assert_eq!(readable_traces(&home.db()), Vec::<String>::new());
    // With the key, everything is there.
    let exported = home.run(&["export", "--format", "events-csv"]);
    assert!(exported.status.success(), "{exported:?}");
    let lines = String::from_utf8_lossy(&exported.stdout).lines().count();
    assert_eq!(lines, events.len() + 1, "a header and every event");
    assert_eq!(stored_events(&home.db()).len(), events.len());

    // The same typing in a plaintext database shows the secret to the same checks, so they
    // would have seen it.
    let plain = TestHome::new();
    config(&plain, "[store]\nencryption = \"off\"\n");
    let log = replay(&plain, &file, "inf", &[]);
    assert!(log.contains("NOT encrypted"), "{log}");
    let traces = readable_traces(&plain.db());
    assert!(
        traces.iter().any(|t| t.contains("key codes in order")),
        "{traces:?}"
    );
    assert!(
        traces.iter().any(|t| t.contains("sqlite3 reads it")),
        "{traces:?}"
    );
}

#[test]
fn the_key_lives_in_a_real_gnome_keyring_and_the_daemon_reads_its_history_back() {
    require("gnome-keyring-daemon");
    let home = TestHome::new();
    let bus = SessionBus::start();
    let keyring = GnomeKeyring::start(&bus, home.path());
    let env = [("DBUS_SESSION_BUS_ADDRESS", bus.address.as_str())];
    let first = secret_typing(T0, 5);
    let file = home.path().join("first.csv");
    write_events_csv(&file, "tester", "s1", &first);
    let log = replay(&home, &file, "inf", &env);
    assert!(!log.contains("no Secret Service answered"), "{log}");
    let stored = keyring
        .lookup(&["application", "tikker", "kind", "database-key"])
        .expect("the key is in the keyring");
    assert_eq!(stored.trim().len(), 64, "256 bits in hex");
    assert!(
        !home.path().join("config/tikker/tikker.key").exists(),
        "no key file when the keyring answers"
    );
    assert_eq!(readable_traces(&home.db()), Vec::<String>::new());

    // A restart records more, with the same key from the keyring, and reads it all back.
    let second = secret_typing(T0 + 3_600_000_000, 5);
    let file = home.path().join("second.csv");
    write_events_csv(&file, "tester", "s2", &second);
    replay(&home, &file, "inf", &env);
    let stats = home
        .tikker()
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .args(["--db"])
        .arg(home.db())
        .args(["stats", "--json"])
        .output()
        .unwrap();
    assert!(stats.status.success(), "{stats:?}");
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(
        stats["events"].as_u64().unwrap(),
        (first.len() + second.len()) as u64
    );

    // Without the keyring, the database is not replaced: the error says where tikker looked.
    let without = home.run(&["stats"]);
    assert!(!without.status.success());
    let err = String::from_utf8_lossy(&without.stderr);
    assert!(
        err.contains("is encrypted") && err.contains("Backing up the key"),
        "{err}"
    );
    let again = home
        .tikker()
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .arg("--db")
        .arg(home.db())
        .args(["stats", "--json"])
        .output()
        .unwrap();
    assert!(again.status.success(), "the record is intact: {again:?}");
}

#[test]
fn forgetting_the_middle_of_a_session_while_the_daemon_records_loses_nothing_else() {
    let home = TestHome::new();
    // 60 s of typing replayed at 6x: 10 s of recording.
    let events = secret_typing(T0, 40);
    assert!(events.last().unwrap().time_us - T0 > 55_000_000);
    let file = home.path().join("typing.csv");
    write_events_csv(&file, "tester", "s1", &events);
    let mut daemon = home.start_daemon(
        &[
            "--source",
            &format!("replay:{}", file.display()),
            "--speed",
            "6",
        ],
        &[],
    );
    let (from, to) = (T0 + 10_000_000, T0 + 20_000_000);
    let before_to = events.iter().filter(|e| e.time_us < to + 5_000_000).count() as u64;
    home.wait_for_recorded(&mut daemon, before_to);
    let rfc = |us: i64| jiff::Timestamp::from_microsecond(us).unwrap().to_string();
    let forgot = home.run(&["forget", "--from", &rfc(from), "--to", &rfc(to), "--json"]);
    assert!(forgot.status.success(), "{forgot:?}");
    let reply: serde_json::Value = serde_json::from_slice(&forgot.stdout).unwrap();
    let inside = events
        .iter()
        .filter(|e| e.time_us >= from && e.time_us < to)
        .count() as u64;
    assert_eq!(reply["events"].as_u64().unwrap(), inside, "{reply}");
    let exit = daemon.wait(Duration::from_secs(60));
    assert!(exit.success(), "{exit}:\n{}", daemon.log());
    assert!(daemon.log().contains("dropped=0"), "{}", daemon.log());
    let expected: Vec<KeyEvent> = events
        .iter()
        .copied()
        .filter(|e| e.time_us < from || e.time_us >= to)
        .collect();
    let stored: Vec<KeyEvent> = stored_events(&home.db())
        .into_iter()
        .map(|(_, _, e)| e)
        .collect();
    assert_eq!(
        stored, expected,
        "everything outside the span, times intact"
    );
    let store = open_store(&home.db());
    assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_owned()]);
}

#[test]
fn retention_prunes_raw_events_of_past_days_and_keeps_their_statistics() {
    let home = TestHome::new();
    config(&home, "[store]\nraw_retention_days = 1\n");
    let now = tikker_capture::clock::now_us();
    let old = secret_typing(now - 3 * 86_400_000_000, 5);
    // Recent typing replayed slowly enough that the daemon is still running when it prunes
    // (5 s after its start).
    let recent = secret_typing(now - 60_000_000, 12);
    let file = home.path().join("typing.csv");
    {
        use std::io::Write;
        write_events_csv(&file, "tester", "old", &old);
        let recent_file = home.path().join("recent.csv");
        write_events_csv(&recent_file, "tester", "recent", &recent);
        let body = std::fs::read_to_string(&recent_file).unwrap();
        let mut out = std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .unwrap();
        out.write_all(
            body.lines()
                .skip(1)
                .collect::<Vec<_>>()
                .join("\n")
                .as_bytes(),
        )
        .unwrap();
        out.write_all(b"\n").unwrap();
    }
    let log = replay(&home, &file, "2", &[]);
    assert!(
        log.contains("deleted raw key events past the retention"),
        "{log}"
    );
    let stored = stored_events(&home.db());
    assert_eq!(
        stored.len(),
        recent.len(),
        "only the recent session's events are kept"
    );
    assert!(stored.iter().all(|(_, label, _)| label == "recent"));
    let stats = home.run(&["stats", "--json"]);
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(
        stats["events"].as_u64().unwrap(),
        (old.len() + recent.len()) as u64,
        "the statistics keep the pruned days: {stats}"
    );
}
