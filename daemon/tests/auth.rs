//! Continuous authentication through the real daemon: an `aalto-dev` participant's typing, then
//! another participant's, replayed through `tikker daemon --source replay:…` at full speed. The
//! genuine part must raise no alert, the impostor part one within 250 keystrokes, exactly where
//! the engine's own splice simulation (`tikker eval continuous`) raises it; with a real
//! notification server (dunst on a private session bus, watched by dbus-monitor) the alert is a
//! Notify call and the cooldown holds the next one back; with none the daemon carries on and
//! stores the alert. Also: `tikker status` through enrolment, and `tikker profile show|rebuild`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::splice::{ENROL_SENTENCES, OWNER, Splice, participant, write_splice};
use common::{TestHome, Xvfb, require};
use rustix::process::{Pid, Signal, kill_process};
use tikker_core::keystroke::Keystroke;
use tikker_core::threat::AlertKind;
use tikker_core::verify::calibration::Verdict;
use tikker_research::eval::continuous::{SpliceConfig, simulate_one};
use tikker_store::{SessionId, StoredAlert, StoredScore};

fn write_config(home: &TestHome, monitor: &str) {
    let dir = home.path().join("config/tikker");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        // The replays are of typing recorded long ago: no retention while the test runs.
        format!(
            "[capture]\nuser = \"owner\"\n\n[store]\nraw_retention_days = 36500\n\n[monitor]\n{monitor}"
        ),
    )
    .unwrap();
}

fn replay_arg(path: &Path) -> String {
    format!("replay:{}", path.display())
}

fn scores(db: &Path) -> Vec<StoredScore> {
    common::open_store(db)
        .scores_between(None, None, usize::MAX)
        .unwrap()
}

/// Alerts, oldest first.
fn alerts(db: &Path) -> Vec<StoredAlert> {
    // Not before the daemon made it: opening it first would make a plaintext database (no key
    // file yet), which the starting daemon could then not encrypt while this test holds it.
    if !db.exists() {
        return Vec::new();
    }
    let mut alerts = common::open_store(db)
        .alerts_between(None, None, usize::MAX)
        .unwrap();
    alerts.reverse();
    alerts
}

/// Runs a replay to its end and returns the daemon's log.
fn replay_to_the_end(home: &TestHome, file: &Path, env: &[(&str, &str)]) -> String {
    let mut daemon = home.start_daemon(&["--source", &replay_arg(file), "--speed", "inf"], env);
    let exit = daemon.wait(Duration::from_secs(120));
    let log = daemon.log();
    assert!(exit.success(), "the daemon failed ({exit}):\n{log}");
    log
}

/// What the engine's splice simulation says for the same pair and enrolment.
fn simulated_keystrokes_to_alert(splice: &Splice) -> Option<usize> {
    let config = SpliceConfig {
        enrol_units: ENROL_SENTENCES,
        ..SpliceConfig::default()
    };
    let outcome = simulate_one(&splice.owner, &splice.impostor, &config).unwrap();
    assert_eq!(outcome.enrolment, splice.enrolment);
    assert_eq!(outcome.false_alerts, 0);
    outcome.impostor_keystrokes_to_alert
}

/// Checks the alerts against the splice: none on genuine typing, the first one within 250
/// impostor keystrokes and exactly where the simulation raises it. Returns that first alert.
fn check_alerts(home: &TestHome, splice: &Splice) -> StoredAlert {
    let alerts = alerts(&home.db());
    let false_alerts: Vec<_> = alerts
        .iter()
        .filter(|a| a.created_us <= splice.genuine_end_us)
        .collect();
    assert!(
        false_alerts.is_empty(),
        "alerts on genuine typing: {false_alerts:?}"
    );
    let first = alerts
        .first()
        .unwrap_or_else(|| panic!("no alert on the impostor's typing"))
        .clone();
    let keystrokes_to_alert = splice
        .intruding
        .iter()
        .filter(|k| k.release_us <= first.created_us)
        .count();
    eprintln!("the first alert came after {keystrokes_to_alert} impostor keystrokes");
    assert!(
        keystrokes_to_alert <= 250,
        "the first alert came after {keystrokes_to_alert} impostor keystrokes"
    );
    assert_eq!(
        Some(keystrokes_to_alert),
        simulated_keystrokes_to_alert(splice),
        "the daemon alerts where the engine's simulation does"
    );
    let scores = scores(&home.db());
    let alerting = scores
        .iter()
        .find(|s| Some(s.id) == first.score_id)
        .unwrap();
    assert_eq!(alerting.verdict, Verdict::Suspicious);
    assert_eq!(alerting.to_us, first.created_us);
    assert!(alerting.reason.contains("owner's median"), "{alerting:?}");
    assert!(alerting.profile_version.is_some());
    assert!(
        scores
            .iter()
            .filter(|s| s.to_us <= splice.genuine_end_us)
            .all(|s| s.verdict != Verdict::Unknown),
        "every genuine window after enrolment has a verdict"
    );
    first
}

#[test]
fn with_no_notification_server_the_alert_is_stored_and_the_daemon_carries_on() {
    let home = TestHome::new();
    let splice = write_splice(&home, 0);
    write_config(
        &home,
        &format!("enrolment_keystrokes = {}\n", splice.enrolment),
    );
    // No session bus at all (the test environment is cleared): notify-rust fails at once.
    let log = replay_to_the_end(&home, &splice.file, &[]);
    let first = check_alerts(&home, &splice);
    assert!(!first.notified);
    assert_eq!(first.action, None, "no alert action by default");
    assert!(
        log.contains("could not be shown"),
        "the failed notification is logged:\n{log}"
    );
    assert!(log.contains("someone else may be typing"), "{log}");
    let profile = common::open_store(&home.db())
        .latest_profile("owner")
        .unwrap()
        .unwrap();
    assert!(profile.version >= 1);
    assert!(profile.keystrokes as usize >= splice.enrolment);
    // The replay's events are all there: the monitor never slowed the recorder into dropping.
    assert!(log.contains("dropped=0"), "{log}");
}

/// A private session bus, dunst on an Xvfb display, and dbus-monitor logging every Notify call.
struct NotificationServer {
    // Dropped in this order: the monitor and dunst before their bus, the bus before the display.
    _monitor: tikker_testkit::ChildGuard,
    dunst: tikker_testkit::Dunst,
    bus: tikker_testkit::SessionBus,
    _xvfb: Xvfb,
    monitor_log: PathBuf,
}

impl NotificationServer {
    fn start(dir: &Path) -> NotificationServer {
        require("dbus-monitor");
        let xvfb = Xvfb::start();
        let bus = tikker_testkit::SessionBus::start();
        let monitor_log = dir.join("dbus-monitor.log");
        let monitor = Command::new("dbus-monitor")
            .args(["interface='org.freedesktop.Notifications'"])
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .stdout(std::fs::File::create(&monitor_log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let dunst = tikker_testkit::Dunst::start(&xvfb.display, &bus, dir, &dir.join("dunst.log"));
        NotificationServer {
            _monitor: tikker_testkit::ChildGuard(monitor),
            dunst,
            bus,
            _xvfb: xvfb,
            monitor_log,
        }
    }

    fn notify_calls(&self) -> Vec<String> {
        let log = std::fs::read_to_string(&self.monitor_log).unwrap();
        log.split("method call")
            .filter(|call| call.contains("member=Notify"))
            .map(str::to_owned)
            .collect()
    }
}

/// The first index from which `consecutive_low` suspicious windows in a row (or one severe
/// window) would raise an alert if no cooldown held it back.
fn would_alert(scores: &[&StoredScore], consecutive_low: usize, severe: f64) -> Option<usize> {
    let mut streak = 0;
    for (index, score) in scores.iter().enumerate() {
        streak = if score.score <= 0.4 { streak + 1 } else { 0 };
        if streak >= consecutive_low || score.score <= severe {
            return Some(index);
        }
    }
    None
}

#[test]
fn an_alert_is_a_critical_notification_and_the_cooldown_holds_the_next_back() {
    let home = TestHome::new();
    let server = NotificationServer::start(home.path());
    let splice = write_splice(&home, 0);
    let touched = home.path().join("alert-action-ran");
    write_config(
        &home,
        &format!(
            "enrolment_keystrokes = {}\nalert_command = [\"touch\", \"{}\"]\n",
            splice.enrolment,
            touched.display()
        ),
    );
    let log = replay_to_the_end(
        &home,
        &splice.file,
        &[("DBUS_SESSION_BUS_ADDRESS", &server.bus.address)],
    );
    let first = check_alerts(&home, &splice);
    assert!(first.notified, "dunst took the notification:\n{log}");
    assert_eq!(first.action.as_deref(), Some("touch: exit status: 0"));
    assert!(touched.exists(), "the alert command ran");

    let calls = server.notify_calls();
    let alerting: Vec<&String> = calls
        .iter()
        .filter(|c| c.contains("string \"tikker: someone else may be typing\""))
        .collect();
    assert_eq!(alerting.len(), 1, "one alert notification: {calls:#?}");
    let call = alerting[0];
    assert!(
        call.contains("string \"tikker\""),
        "app name and icon: {call}"
    );
    assert!(call.contains("resembled your typing"), "{call}");
    assert!(
        call.contains("\"urgency\"") && call.contains("byte 2"),
        "critical urgency: {call}"
    );

    // After the alert the impostor kept typing: the rule fired again within the 10-minute
    // cooldown, and only the cooldown kept that second alert (and its notification) back.
    assert_eq!(alerts(&home.db()).len(), 1);
    let scores = scores(&home.db());
    let after: Vec<&StoredScore> = scores
        .iter()
        .filter(|s| s.to_us > first.created_us && s.to_us < first.created_us + 600_000_000)
        .collect();
    assert!(
        would_alert(&after, 5, 0.01).is_some(),
        "the impostor's later windows would alert again without the cooldown: {:?}",
        after.iter().map(|s| s.score).collect::<Vec<_>>()
    );
}

#[test]
fn status_follows_enrolment_then_scores_and_the_profile_can_be_shown_and_rebuilt() {
    let home = TestHome::new();
    let splice = write_splice(&home, 0);
    // Owner windows are confirmed after 150 more keystrokes (not 2,000), so that the owner's
    // typing after the enrolment is learned and tracked, and the profile shows its drift.
    write_config(
        &home,
        &format!(
            "enrolment_keystrokes = {}\nconfirm_keystrokes = 150\n",
            splice.enrolment
        ),
    );
    // Replayed at 20× the typing pace: long enough to watch the enrolment from outside.
    let mut daemon = home.start_daemon(
        &["--source", &replay_arg(&splice.file), "--speed", "20"],
        &[],
    );
    let enrolling = home.wait_for_status(&mut daemon, "enrolment progress", |s| {
        s["auth"]["phase"] == "enrolling" && s["auth"]["enrolled_keystrokes"].as_u64() > Some(50)
    });
    assert_eq!(enrolling["auth"]["verdict"], "unknown");
    assert_eq!(
        enrolling["auth"]["enrolment_needed"],
        splice.enrolment as u64
    );
    assert!(enrolling["events_today"].as_u64().is_some());
    let text = home.run(&["status"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("authentication: enrolling") || text.contains("monitoring"),
        "{text}"
    );

    let scored = home.wait_for_status(&mut daemon, "a score", |s| {
        s["auth"]["phase"] == "monitoring" && s["auth"]["score"].is_number()
    });
    assert_eq!(scored["auth"]["profile_version"], 1);
    assert!(
        ["authentic", "likely_authentic", "uncertain", "suspicious"]
            .contains(&scored["auth"]["verdict"].as_str().unwrap()),
        "{scored}"
    );
    let text = home.run(&["status"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("last score: "), "{text}");
    assert!(text.contains("monitoring with profile version"), "{text}");
    let exit = daemon.wait(Duration::from_secs(120));
    assert!(exit.success(), "{}", daemon.log());

    let shown = home.run(&["profile", "show", "--user", "owner"]);
    assert!(shown.status.success(), "{shown:?}");
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("Profile of owner: version"), "{shown}");
    assert!(shown.contains("words per minute"), "{shown}");
    assert!(shown.contains("scores 0.95"), "{shown}");
    // Drift since enrolment, in words and in JSON: the owner's typing after the enrolment was
    // learned, so the profile moved a little from the enrolment's.
    assert!(
        shown.contains("Since your enrolment, your hold times are"),
        "{shown}"
    );
    let drift_json = home.run(&["profile", "show", "--user", "owner", "--json"]);
    let drift_json: serde_json::Value = serde_json::from_slice(&drift_json.stdout).unwrap();
    let drift = &drift_json["drift"];
    assert!(drift["keys_compared"].as_u64().unwrap() > 0, "{drift}");
    let hold_change = drift["hold_change"].as_f64().unwrap();
    let key_hold_shift = drift["key_hold_shift"].as_f64().unwrap();
    assert!(hold_change != 0.0 && hold_change.abs() < 0.5, "{drift}");
    assert!(key_hold_shift > 0.0 && key_hold_shift < 1.0, "{drift}");

    let before = common::open_store(&home.db())
        .latest_profile("owner")
        .unwrap()
        .unwrap();
    let rebuilt = home.run(&["profile", "rebuild", "--user", "owner"]);
    assert!(rebuilt.status.success(), "{rebuilt:?}");
    let rebuilt = String::from_utf8_lossy(&rebuilt.stdout);
    assert!(
        rebuilt.contains(&format!("enrolled on the first {}", splice.enrolment)),
        "{rebuilt}"
    );
    assert!(
        rebuilt.contains("suspicious (not learned from)"),
        "{rebuilt}"
    );
    let after = common::open_store(&home.db())
        .latest_profile("owner")
        .unwrap()
        .unwrap();
    assert_eq!(after.version, before.version + 1);
    // The rebuild learns what the daemon learned: the same keystrokes from the same windows.
    assert_eq!(after.keystrokes, before.keystrokes);

    let json = home.run(&["profile", "show", "--user", "owner", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["version"], after.version);

    // A model saved by an older tikker (whose distances its calibration was fitted to) is not
    // shown as if it were current.
    let outdated = after.data.replacen("\"format\":2", "\"format\":1", 1);
    assert_ne!(outdated, after.data);
    common::open_store(&home.db())
        .save_profile("owner", after.created_us + 1, after.keystrokes, &outdated)
        .unwrap();
    let old = home.run(&["profile", "show", "--user", "owner"]);
    assert!(!old.status.success());
    assert!(
        String::from_utf8_lossy(&old.stderr).contains("made by an older tikker"),
        "{old:?}"
    );

    let nobody = home.run(&["profile", "show", "--user", "nobody"]);
    assert!(!nobody.status.success());
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("no profile of \"nobody\""));
}

#[test]
fn an_interrupted_enrolment_resumes_from_the_stored_typing() {
    let home = TestHome::new();
    let splice = write_splice(&home, 0);
    write_config(
        &home,
        &format!("enrolment_keystrokes = {}\n", splice.enrolment),
    );
    // The first three sentences only: not enough to enrol.
    let text = std::fs::read_to_string(&splice.file).unwrap();
    let first_sessions: Vec<&str> = text
        .lines()
        .filter(|line| {
            let session = line.split(',').nth(1).unwrap_or("");
            line.starts_with("user,")
                || splice.owner.sentences[..3]
                    .iter()
                    .any(|s| session == format!("a-{}", s.section_id))
        })
        .collect();
    let partial = home.path().join("partial.csv");
    std::fs::write(&partial, first_sessions.join("\n") + "\n").unwrap();
    replay_to_the_end(&home, &partial, &[]);
    let stored = common::open_store(&home.db());
    assert_eq!(
        stored.latest_profile("owner").unwrap(),
        None,
        "not enrolled yet"
    );

    let mut daemon = home.start_daemon(&["--source", "auto"], &[]);
    let status = home.wait_for_status(&mut daemon, "the resumed enrolment", |s| {
        s["auth"]["phase"] == "enrolling"
    });
    let have: usize = splice.owner.sentences[..3]
        .iter()
        .map(|s| s.keystrokes.len())
        .sum();
    assert_eq!(
        status["auth"]["enrolled_keystrokes"].as_u64(),
        Some(have as u64),
        "{status}"
    );
    assert_eq!(
        status["events_today"].as_u64(),
        Some(0),
        "the replayed typing is from 2016, not today"
    );
    daemon.terminate();
}

/// The owner's typing, then a program typing 30 letters as `xdotool type` does by default (a key
/// every 12 ms, each held 6 ms), 1 s after the owner's last press: the injection detector raises
/// an `injection` alert by the burst's 10th keystroke, and none on the owner's typing. The
/// enrolment is not complete (participant 31 types fewer than 2,000 keystrokes): injection is
/// looked for whatever the monitor's phase.
#[test]
fn an_injected_burst_after_the_owners_typing_raises_an_injection_alert_within_ten_keystrokes() {
    let home = TestHome::new();
    write_config(&home, "");
    let owner = participant(OWNER);
    let genuine: Vec<&Keystroke> = owner.sentences.iter().flat_map(|s| &s.keystrokes).collect();
    let burst_start = genuine.iter().map(|k| k.press_us).max().unwrap() + 1_000_000;
    let file = home.path().join("injected.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    writeln!(out, "user,session,timestamp_ms,key,event").unwrap();
    let mut rows: Vec<(String, i64, u16, &str)> = Vec::new();
    for sentence in &owner.sentences {
        for k in &sentence.keystrokes {
            let session = format!("a-{}", sentence.section_id);
            rows.push((session.clone(), k.press_us, k.key.0, "press"));
            rows.push((session, k.release_us, k.key.0, "release"));
        }
    }
    // Letters a to z and on again (evdev KEY_Q.. row codes are fine: any non-modifier key).
    let letters: [u16; 10] = [30, 48, 46, 32, 18, 33, 34, 35, 23, 36];
    for i in 0..30i64 {
        let press = burst_start + i * 12_000;
        let key = letters[(i % 10) as usize];
        rows.push(("b".into(), press, key, "press"));
        rows.push(("b".into(), press + 6_000, key, "release"));
    }
    rows.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    for (session, time_us, key, action) in rows {
        writeln!(
            out,
            "owner,{session},{}.{:03},{key},{action}",
            time_us / 1000,
            time_us % 1000
        )
        .unwrap();
    }
    out.flush().unwrap();
    drop(out);

    let log = replay_to_the_end(&home, &file, &[]);
    let alerts = alerts(&home.db());
    let injections: Vec<&StoredAlert> = alerts
        .iter()
        .filter(|a| a.kind == AlertKind::Injection)
        .collect();
    assert_eq!(
        injections.len(),
        1,
        "one alert for one burst: {alerts:?}\n{log}"
    );
    let alert = injections[0];
    let tenth_release = burst_start + 9 * 12_000 + 6_000;
    assert!(
        (burst_start..=tenth_release).contains(&alert.created_us),
        "raised at {} µs, the burst ran from {burst_start} µs and its 10th key was released at {tenth_release} µs",
        alert.created_us
    );
    assert!(
        alert.reason.contains("ms"),
        "the reason gives the timing: {}",
        alert.reason
    );
    assert!(log.contains("machine typing"), "{log}");
}

/// The splice's typing as the recorder hands it to the monitor: one committed chunk per
/// sentence, in replay order.
fn splice_chunks(splice: &Splice) -> Vec<tikker::pipeline::CommittedChunk> {
    use tikker_core::KeyEvent;
    let shift = splice.intruding[0].press_us - splice.impostor.sentences[0].keystrokes[0].press_us;
    let mut chunks = Vec::new();
    for (who, participant, shift) in [(0, &splice.owner, 0), (1, &splice.impostor, shift)] {
        for (i, sentence) in participant.sentences.iter().enumerate() {
            let mut events: Vec<KeyEvent> = sentence
                .keystrokes
                .iter()
                .flat_map(|k| {
                    [
                        KeyEvent::press(k.press_us + shift, k.key),
                        KeyEvent::release(k.release_us + shift, k.key),
                    ]
                })
                .collect();
            events.sort_by_key(|e| e.time_us);
            chunks.push(tikker::pipeline::CommittedChunk {
                session: SessionId(who * 1000 + i as i64 + 1),
                events,
            });
        }
    }
    chunks
}

/// What the monitor stored over the splice on `db`.
struct MonitorRun {
    scores: usize,
    alerts: usize,
    /// The profile version the status reports last, and the newest stored.
    reported_version: Option<i64>,
    stored_version: Option<i64>,
    /// What the status said while the disk was full.
    problem: Option<tikker_wire::status::StorageProblem>,
}

/// Runs the authentication monitor (the daemon's own, through its library) over the splice on
/// `db`; with `disk`, fills it as soon as the owner is enrolled and gives the space back once
/// the monitor reports the failing writes.
fn monitor_over(
    db: &Path,
    splice: &Splice,
    disk: Option<&tikker_testkit::SmallDisk>,
) -> MonitorRun {
    use std::sync::{Arc, Mutex};
    use tikker::authenticator::Authenticator;
    use tikker::store_health::StoreHealth;
    use tikker_wire::status::{AuthPhase, AuthStatus};
    let settings = tikker::config::MonitorSettings {
        enrolment_keystrokes: splice.enrolment,
        notify: false,
        ..tikker::config::MonitorSettings::default()
    };
    let status = Arc::new(Mutex::new(AuthStatus::off()));
    let health = Arc::new(StoreHealth::default());
    let (running, sender) = Authenticator::open(
        &tikker::db_key::Database::plaintext(db.to_path_buf()),
        "owner",
        &settings,
        status.clone(),
        health.clone(),
    )
    .unwrap()
    .start()
    .unwrap();
    let mut chunks = splice_chunks(splice).into_iter();
    for chunk in chunks.by_ref().take(ENROL_SENTENCES) {
        sender.send(vec![chunk]);
    }
    tikker_testkit::wait_for("the enrolment", String::new, || {
        let status = status.lock().unwrap();
        (status.phase == AuthPhase::Monitoring && status.profile_version == Some(1)).then_some(())
    });
    if let Some(disk) = disk {
        assert!(disk.fill() > 0);
    }
    for chunk in chunks {
        sender.send(vec![chunk]);
    }
    let mut problem = None;
    if let Some(disk) = disk {
        problem = Some(tikker_testkit::wait_for(
            "the failing writes reported",
            String::new,
            || health.problem().filter(|p| p.pending_records > 0),
        ));
        std::thread::sleep(Duration::from_secs(2));
        disk.free();
        tikker_testkit::wait_for("the recovery", String::new, || {
            health.problem().is_none().then_some(())
        });
    }
    drop(sender);
    running.join();
    let store = common::open_store(db);
    MonitorRun {
        scores: store.scores_between(None, None, usize::MAX).unwrap().len(),
        alerts: store.alerts_between(None, None, usize::MAX).unwrap().len(),
        reported_version: status.lock().unwrap().profile_version,
        stored_version: store.latest_profile_version("owner").unwrap(),
        problem,
    }
}

/// Issue 13, item 5: with the disk full (a real small tmpfs) while the monitor scores, every
/// score and alert is kept and written once space returns: the same rows as on a disk with room
/// (rows lost: 0), the status names the full disk meanwhile, and the profile version the status
/// reports is the one stored. Before, each refused score was logged and dropped.
#[test]
fn scores_and_alerts_refused_by_a_full_disk_are_written_once_space_returns() {
    let Some(disk) = tikker_testkit::SmallDisk::mount(16 << 20) else {
        return;
    };
    let home = TestHome::new();
    let splice = write_splice(&home, 0);
    let reference = monitor_over(&home.path().join("reference.db"), &splice, None);
    assert!(
        reference.scores > 20 && reference.alerts > 0,
        "{} scores, {} alerts",
        reference.scores,
        reference.alerts
    );
    let full = monitor_over(&disk.path().join("tikker.db"), &splice, Some(&disk));
    let problem = full.problem.unwrap();
    assert_eq!(
        problem.cause,
        tikker_wire::status::StorageCause::DiskFull,
        "{problem:?}"
    );
    assert_eq!(problem.failing, ["scores, alerts and profiles"]);
    eprintln!(
        "full disk: {} records waited; afterwards {} scores and {} alerts stored (reference {} and {})",
        problem.pending_records, full.scores, full.alerts, reference.scores, reference.alerts
    );
    assert_eq!(full.scores, reference.scores, "score rows lost");
    assert_eq!(full.alerts, reference.alerts, "alert rows lost");
    assert_eq!(full.reported_version, full.stored_version);
}

/// Issue 13, item 5, through the daemon: with its database on a small tmpfs filled while it
/// records, `tikker status` says "not recording: disk full" while commits fail, recording resumes
/// by itself when space returns, and nothing logged as saved is missing: every replayed event,
/// every scored window and every saved profile version is in the database.
#[test]
fn a_full_disk_is_reported_by_tikker_status_and_recording_resumes_by_itself() {
    let Some(disk) = tikker_testkit::SmallDisk::mount(32 << 20) else {
        return;
    };
    let mut home = TestHome::new();
    home.database = Some(disk.path().join("tikker.db"));
    let splice = write_splice(&home, 0);
    write_config(
        &home,
        &format!("enrolment_keystrokes = {}\n", splice.enrolment),
    );
    let replayed = std::fs::read_to_string(&splice.file)
        .unwrap()
        .lines()
        .count() as u64
        - 1;
    let mut daemon = home.start_daemon(
        &["--source", &replay_arg(&splice.file), "--speed", "20"],
        &[("RUST_LOG", "info,tikker::authenticator=debug")],
    );
    home.wait_for_status(&mut daemon, "recording", |s| {
        s["events"]["recorded"].as_u64() > Some(0)
    });
    assert!(disk.fill() > 0);
    let full = home.wait_for_status(&mut daemon, "the full disk reported", |s| {
        s["storage"]["cause"] == "disk_full"
    });
    let text = String::from_utf8(home.run(&["status"]).stdout).unwrap();
    assert!(text.contains("not recording: disk full"), "{text}");
    eprintln!("while full: {}", full["storage"]);
    std::thread::sleep(Duration::from_secs(2));
    disk.free();
    home.wait_for_status(&mut daemon, "the recovery", |s| s["storage"].is_null());
    let exit = daemon.wait(Duration::from_secs(300));
    let log = daemon.log();
    assert!(exit.success(), "{log}");
    assert!(log.contains("not recording: disk full"), "{log}");
    assert!(log.contains("recording again"), "{log}");
    assert_eq!(daemon.final_count("dropped"), 0, "{log}");
    assert_eq!(daemon.final_count("recorded"), replayed, "{log}");
    assert_eq!(home.stored_events().len() as u64, replayed, "events lost");
    let scored = log.lines().filter(|l| l.contains("window scored")).count();
    let saved_versions = log
        .lines()
        .filter(|l| l.contains("owner profile saved"))
        .count();
    let store = common::open_store_in(home.path(), &home.db());
    assert_eq!(
        store.scores_between(None, None, usize::MAX).unwrap().len(),
        scored,
        "score rows lost"
    );
    assert_eq!(
        store.latest_profile_version("owner").unwrap().unwrap_or(0) as usize,
        saved_versions,
        "profile versions lost"
    );
}

/// Issue 13, item 7: one damaged page in the owner's old typing, no profile yet: the daemon does
/// not exit; it enrols from what it can read, records, logs and reports how to recover the file
/// (`tikker status` says so), and a replay after it is recorded in full and completes the
/// enrolment. Before, `tikker daemon` exited ("resuming the enrolment from stored typing: …
/// malformed") at every start.
#[test]
fn a_damaged_page_in_old_typing_does_not_stop_the_daemon_while_it_enrols() {
    let home = TestHome::new();
    let splice = write_splice(&home, 0);
    write_config(
        &home,
        &format!("enrolment_keystrokes = {}\n", splice.enrolment),
    );
    // The damage is made by finding a leaf page of `key_events` in the file's b-tree, which
    // only a plaintext database shows; an encrypted page damaged the same way fails its HMAC.
    let config = home.path().join("config/tikker/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("[store]\n", "[store]\nencryption = \"off\"\n"),
    )
    .unwrap();
    let text = std::fs::read_to_string(&splice.file).unwrap();
    let stored_sentences = 6;
    let in_first = |line: &str| {
        let session = line.split(',').nth(1).unwrap_or("");
        splice.owner.sentences[..stored_sentences]
            .iter()
            .any(|s| session == format!("a-{}", s.section_id))
    };
    let header = text.lines().next().unwrap();
    let first: Vec<&str> = text.lines().skip(1).filter(|l| in_first(l)).collect();
    let rest: Vec<&str> = text.lines().skip(1).filter(|l| !in_first(l)).collect();
    let old = home.path().join("old.csv");
    std::fs::write(&old, format!("{header}\n{}\n", first.join("\n"))).unwrap();
    let new = home.path().join("new.csv");
    std::fs::write(&new, format!("{header}\n{}\n", rest.join("\n"))).unwrap();
    replay_to_the_end(&home, &old, &[]);
    tikker_testkit::damage_leaf_page(&home.db(), "key_events", 0);

    let have: usize = splice.owner.sentences[..stored_sentences]
        .iter()
        .map(|s| s.keystrokes.len())
        .sum();
    let mut daemon = home.start_daemon(&["--source", "auto"], &[]);
    let status = home.wait_for_status(&mut daemon, "the enrolment from what is readable", |s| {
        s["auth"]["phase"] == "enrolling" && !s["history_damage"].is_null()
    });
    let enrolled = status["auth"]["enrolled_keystrokes"].as_u64().unwrap() as usize;
    assert!(
        enrolled > 0 && enrolled < have,
        "{enrolled} of {have}: {status}"
    );
    assert!(
        status["history_damage"]["error"]
            .as_str()
            .unwrap()
            .contains("malformed"),
        "{status}"
    );
    let text = String::from_utf8(home.run(&["status"]).stdout).unwrap();
    assert!(text.contains("stored typing damaged"), "{text}");
    assert!(text.contains(".recover"), "{text}");
    assert!(daemon.terminate().success(), "{}", daemon.log());
    assert!(
        daemon.log().contains("stored typing is damaged"),
        "{}",
        daemon.log()
    );

    // Recording goes on after the damage: the rest is recorded in full and enrols the owner.
    let mut daemon = home.start_daemon(&["--source", &replay_arg(&new), "--speed", "inf"], &[]);
    let exit = daemon.wait(Duration::from_secs(120));
    assert!(exit.success(), "{}", daemon.log());
    assert_eq!(
        daemon.final_count("recorded"),
        rest.len() as u64,
        "{}",
        daemon.log()
    );
    let store = common::open_store_in(home.path(), &home.db());
    assert!(
        store.latest_profile("owner").unwrap().is_some(),
        "enrolled:\n{}",
        daemon.log()
    );
}

/// Words of the verifier that mean nothing to a person, and must not reach a notification.
const INTERNAL_NAMES: [&str; 6] = [
    "distance",
    "hold_mean",
    "percentile",
    "median",
    "component",
    "calibrat",
];

/// The server's id of the alert notification, from the daemon's log.
fn notification_id(log: &str) -> Option<u32> {
    let line = log
        .lines()
        .find(|l| l.contains("alert notification shown"))?;
    let start = line.find("notification=")? + "notification=".len();
    line[start..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Emits `ActionInvoked(id, action)` on the bus, as the notification server does on a click.
fn invoke_action(bus: &tikker_testkit::SessionBus, id: u32, action: &str) {
    let status = Command::new("dbus-send")
        .args([
            "--session",
            "--type=signal",
            "/org/freedesktop/Notifications",
            "org.freedesktop.Notifications.ActionInvoked",
            &format!("uint32:{id}"),
            &format!("string:{action}"),
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .status()
        .unwrap();
    assert!(status.success(), "dbus-send failed");
}

fn lines_in(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|text| text.lines().count())
        .unwrap_or(0)
}

/// The whole alert experience on a real notification server: enrolment is announced once, the
/// alert is in plain words with its buttons, the impostor's further typing during the cooldown
/// replaces the same notification with a count, "Lock screen" runs the alert command, and "It was
/// me" (the server's `ActionInvoked` signal, as a click sends it) marks the alert false.
#[test]
fn the_alert_notification_speaks_plainly_offers_its_buttons_and_it_was_me_marks_it_false() {
    let home = TestHome::new();
    let server = NotificationServer::start(home.path());
    let splice = write_splice(&home, 0);
    let locked = home.path().join("locked");
    write_config(
        &home,
        &format!(
            "enrolment_keystrokes = {}\nalert_command = [\"sh\", \"-c\", \"echo locked >> {}\"]\n",
            splice.enrolment,
            locked.display()
        ),
    );
    let bus = [("DBUS_SESSION_BUS_ADDRESS", server.bus.address.as_str())];
    let mut daemon = home.start_daemon(
        &[
            "--source",
            &replay_arg(&splice.file),
            "--speed",
            "inf",
            "--keep-running",
        ],
        &bus,
    );
    let id = tikker_testkit::wait_for(
        "the alert notification",
        || daemon.log(),
        || notification_id(&daemon.log()),
    );
    let first = check_alerts(&home, &splice);
    assert!(
        first
            .evidence_from_us
            .is_some_and(|from| from <= first.created_us)
    );
    assert_eq!(first.evidence_to_us, Some(first.created_us));

    let calls = server.notify_calls();
    let enrolled: Vec<&String> = calls
        .iter()
        .filter(|c| c.contains("protection is now on"))
        .collect();
    assert_eq!(enrolled.len(), 1, "enrolment is told once: {calls:#?}");
    let alert = calls
        .iter()
        .find(|c| c.contains("string \"tikker: someone else may be typing\""))
        .unwrap_or_else(|| panic!("no alert notification: {calls:#?}"));
    for word in INTERNAL_NAMES {
        assert!(
            !alert.contains(word),
            "{word:?} in the notification: {alert}"
        );
    }
    assert!(alert.contains("resembled your typing"), "{alert}");
    assert!(alert.contains("ran your alert command (sh)"), "{alert}");
    for button in [
        "\"it-was-me\"",
        "\"It was me\"",
        "\"lock-screen\"",
        "\"Lock screen\"",
        "\"details\"",
        "\"Details\"",
    ] {
        assert!(alert.contains(button), "{button} not offered: {alert}");
    }
    assert!(
        alert.contains("\"urgency\"") && alert.contains("byte 2"),
        "critical urgency: {alert}"
    );

    // The impostor typed on during the cooldown: the same notification, replaced with a count.
    let update = tikker_testkit::wait_for(
        "the alert's notification to be updated",
        || format!("{:#?}\n{}", server.notify_calls(), daemon.log()),
        || {
            server
                .notify_calls()
                .into_iter()
                .find(|c| c.contains("someone else may still be typing"))
        },
    );
    assert!(
        update.contains(&format!("uint32 {id}")),
        "the update replaces notification {id}: {update}"
    );
    assert!(
        update.contains("once more") || update.contains("more times"),
        "with a count: {update}"
    );
    for word in INTERNAL_NAMES {
        assert!(!update.contains(word), "{word:?} in the update: {update}");
    }
    assert_eq!(
        alerts(&home.db()).len(),
        1,
        "no second alert in the cooldown"
    );
    assert!(daemon.log().contains("someone else may still be typing"));

    // "Lock screen": the alert command again (it ran once with the alert).
    tikker_testkit::wait_for("the alert command", String::new, || {
        (lines_in(&locked) == 1).then_some(())
    });
    invoke_action(&server.bus, id, "lock-screen");
    tikker_testkit::wait_for(
        "Lock screen to run the command",
        || daemon.log(),
        || (lines_in(&locked) == 2).then_some(()),
    );

    // "It was me": the alert is marked false, and the status counts it.
    let marked = tikker_testkit::wait_for(
        "It was me to mark the alert false",
        || daemon.log(),
        || {
            invoke_action(&server.bus, id, "it-was-me");
            std::thread::sleep(Duration::from_millis(300));
            alerts(&home.db())[0].marked_false_us
        },
    );
    assert!(marked >= first.created_us);
    let status = home.wait_for_status(&mut daemon, "the false alert counted", |s| {
        s["auth"]["alerts_marked_false"] == 1
    });
    assert_eq!(
        status["auth"]["last_alert"]["marked_false"], true,
        "{status}"
    );
    // The status counts it at once; the monitor's thread releases the typing a moment later.
    tikker_testkit::wait_for(
        "the monitor to hear It was me",
        || daemon.log(),
        || {
            daemon
                .log()
                .contains("\"It was me\": the alert is marked false")
                .then_some(())
        },
    );
    let listed = home.run(&["alerts"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("marked false (It was me)"), "{listed}");
    assert!(daemon.terminate().success(), "{}", daemon.log());

    // A restart with the stored profile does not announce the enrolment again.
    let mut again = home.start_daemon(
        &["--source", &replay_arg(&splice.file), "--speed", "inf"],
        &bus,
    );
    assert!(
        again.wait(Duration::from_secs(120)).success(),
        "{}",
        again.log()
    );
    let enrolled = server
        .notify_calls()
        .iter()
        .filter(|c| c.contains("protection is now on"))
        .count();
    assert_eq!(enrolled, 1, "enrolment is told once");
}

/// Issue 13, item 8: a notification server that takes the call and never answers (dunst
/// stopped with SIGSTOP) neither delays the alert command nor the daemon's stop.
#[test]
fn a_hung_notification_server_neither_delays_the_alert_command_nor_the_stop() {
    let home = TestHome::new();
    let server = NotificationServer::start(home.path());
    let splice = write_splice(&home, 0);
    let touched = home.path().join("alert-action-ran");
    write_config(
        &home,
        &format!(
            "enrolment_keystrokes = {}\nalert_command = [\"touch\", \"{}\"]\n",
            splice.enrolment,
            touched.display()
        ),
    );
    let dunst = Pid::from_raw(server.dunst.pid() as i32).unwrap();
    kill_process(dunst, Signal::STOP).unwrap();
    let mut daemon = home.start_daemon(
        &[
            "--source",
            &replay_arg(&splice.file),
            "--speed",
            "inf",
            "--keep-running",
        ],
        &[("DBUS_SESSION_BUS_ADDRESS", &server.bus.address)],
    );
    let stored = tikker_testkit::wait_for(
        "the alert",
        || daemon.log(),
        || alerts(&home.db()).first().map(|a| a.created_us),
    );
    let seen = std::time::Instant::now();
    tikker_testkit::wait_for_within(
        Duration::from_secs(2),
        "the alert command, while the notification hangs",
        || daemon.log(),
        || touched.exists().then_some(()),
    );
    let outcome = tikker_testkit::wait_for_within(
        Duration::from_secs(10),
        "the alert's outcome",
        || daemon.log(),
        || alerts(&home.db()).into_iter().find(|a| a.action.is_some()),
    );
    assert_eq!(outcome.created_us, stored);
    assert!(!outcome.notified, "the hung server never took it");
    assert_eq!(outcome.action.as_deref(), Some("touch: exit status: 0"));
    assert!(
        seen.elapsed() < Duration::from_secs(8),
        "{:?}",
        seen.elapsed()
    );
    assert!(
        daemon.log().contains("did not answer in time"),
        "{}",
        daemon.log()
    );

    // `tikker alerts --false ID` goes through the daemon, which releases the typing it covered.
    let said = home.run(&["alerts", "--false", &outcome.id.to_string()]);
    assert!(said.status.success(), "{said:?}");
    let said = String::from_utf8_lossy(&said.stdout);
    assert!(said.contains("is marked false"), "{said}");
    assert!(said.contains("tikker may learn from"), "{said}");
    // The status agrees at once (it lagged until the monitor's thread got to it).
    let status = home.status().unwrap();
    assert_eq!(status["auth"]["alerts_marked_false"], 1, "{status}");
    if status["auth"]["last_alert"]["id"] == outcome.id {
        assert_eq!(
            status["auth"]["last_alert"]["marked_false"], true,
            "{status}"
        );
    }
    tikker_testkit::wait_for(
        "the monitor to hear It was me",
        || daemon.log(),
        || {
            daemon
                .log()
                .contains("\"It was me\": the alert is marked false")
                .then_some(())
        },
    );
    let again = home.run(&["alerts", "--false", &outcome.id.to_string()]);
    assert!(again.status.success(), "idempotent: {again:?}");
    let unknown = home.run(&["alerts", "--false", "999"]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("no alert has id 999"),
        "{unknown:?}"
    );

    let stopping = std::time::Instant::now();
    daemon.signal(Signal::TERM);
    let exit = daemon.wait(Duration::from_secs(5));
    let took = stopping.elapsed();
    kill_process(dunst, Signal::CONT).unwrap();
    assert!(exit.success(), "{}", daemon.log());
    assert!(took < Duration::from_secs(4), "SIGTERM took {took:?}");
}

/// Writes keystrokes as an events-csv replay file: `(session, keystrokes)` in order.
fn write_keystrokes(file: &Path, sessions: &[(String, Vec<Keystroke>)]) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(file).unwrap());
    writeln!(out, "user,session,timestamp_ms,key,event").unwrap();
    for (session, keystrokes) in sessions {
        let mut rows: Vec<(i64, u16, &str)> = Vec::new();
        for k in keystrokes {
            rows.push((k.press_us, k.key.0, "press"));
            rows.push((k.release_us, k.key.0, "release"));
        }
        rows.sort();
        for (time_us, key, action) in rows {
            writeln!(
                out,
                "owner,{session},{}.{:03},{key},{action}",
                time_us / 1000,
                time_us % 1000
            )
            .unwrap();
        }
    }
    out.flush().unwrap();
}

/// The owner types 10 sentences (stored, and their timing kept as replay history); in a later
/// run of the daemon the owner types the other 5, then someone replays the owner's 4th
/// sentence from the stored record, a day later, with up to 1 ms of jitter on every event (what
/// a replaying tool adds): one `replay` alert, within the replayed sentence's first 8
/// keystrokes, none on the owner's new typing, and the alert names no key.
#[test]
fn a_replay_of_the_owners_stored_typing_raises_a_replay_alert() {
    let home = TestHome::new();
    write_config(&home, "");
    let owner = participant(OWNER);
    let sentence = |i: usize| -> (String, Vec<Keystroke>) {
        let s = &owner.sentences[i];
        (format!("s-{}", s.section_id), s.keystrokes.clone())
    };
    let first_run = home.path().join("first.csv");
    write_keystrokes(&first_run, &(0..10).map(sentence).collect::<Vec<_>>());
    let log = replay_to_the_end(&home, &first_run, &[]);
    assert!(
        alerts(&home.db())
            .iter()
            .all(|a| a.kind != AlertKind::Replay),
        "the owner's own typing repeats nothing: {:?}\n{log}",
        alerts(&home.db())
    );
    let stored = common::open_store(&home.db()).replay_runs().unwrap();
    let kept: usize = stored.iter().map(|r| r.timings.len()).sum();
    let typed: usize = (0..10).map(|i| owner.sentences[i].keystrokes.len()).sum();
    assert!(
        kept * 10 >= typed * 9,
        "the history keeps the typing's timing ({kept} of {typed} keystrokes; modifiers are left out)"
    );

    // A day later: new typing of the owner, then the replay.
    let day = 86_400_000_000;
    let mut second: Vec<(String, Vec<Keystroke>)> = (10..owner.sentences.len())
        .map(|i| {
            let (label, keystrokes) = sentence(i);
            let shifted = keystrokes
                .iter()
                .map(|k| Keystroke {
                    key: k.key,
                    press_us: k.press_us + day,
                    release_us: k.release_us + day,
                })
                .collect();
            (label, shifted)
        })
        .collect();
    let replay_start = second
        .iter()
        .flat_map(|(_, ks)| ks.iter().map(|k| k.release_us))
        .max()
        .unwrap()
        + 5_000_000;
    let (_, original) = sentence(3);
    let offset = replay_start - original[0].press_us;
    let mut state = 7u64;
    let mut jitter = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % 2001) as i64 - 1000
    };
    let replayed: Vec<Keystroke> = original
        .iter()
        .map(|k| Keystroke {
            key: k.key,
            press_us: k.press_us + offset + jitter(),
            release_us: k.release_us + offset + jitter(),
        })
        .collect();
    let eighth_release = replayed
        .iter()
        .filter(|k| !k.key.is_modifier())
        .take(8)
        .map(|k| k.release_us)
        .max()
        .unwrap();
    second.push(("replayed".into(), replayed));
    let second_run = home.path().join("second.csv");
    write_keystrokes(&second_run, &second);
    let log = replay_to_the_end(&home, &second_run, &[]);

    let replays: Vec<StoredAlert> = alerts(&home.db())
        .into_iter()
        .filter(|a| a.kind == AlertKind::Replay)
        .collect();
    assert_eq!(
        replays.len(),
        1,
        "one alert for one replay: {replays:?}\n{log}"
    );
    let alert = &replays[0];
    assert!(
        (replay_start..=eighth_release + 2_000).contains(&alert.created_us),
        "raised at {} µs; the replay began at {replay_start} µs and its 8th keystroke was released at {eighth_release} µs",
        alert.created_us
    );
    assert!(alert.reason.contains("replay"), "{}", alert.reason);
    assert_eq!(alert.score_id, None, "raised whatever the score");
    assert!(log.contains("typing repeats stored typing"), "{log}");
}
