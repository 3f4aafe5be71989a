//! The tray on a real desktop: Xvfb, a private D-Bus session bus, and xfce4-panel's systray
//! plugin as the StatusNotifierWatcher and host (see `common`). The tray and the daemon are the
//! real binaries; the menu is clicked with xdotool; screenshots of the panel are kept under
//! `target/tray-screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    AMBER, BLUE, Desktop, GREEN, GREY, RED, StandInDaemon, one_at_a_time, wait_for,
    write_slow_replay,
};
use serde_json::json;

#[test]
fn the_tray_shows_the_daemon_and_pauses_resumes_and_quits_from_its_menu() {
    let _turn = one_at_a_time();
    let desktop = Desktop::start();
    let replay = desktop.dir.path().join("typing.csv");
    write_slow_replay(&replay, 30);
    let mut daemon = desktop.start_daemon(&replay, "daemon");
    wait_for(
        "the daemon to capture",
        || desktop.logs(),
        || {
            desktop
                .tikker_status()
                .filter(|status| status["state"] == "capturing")
        },
    );

    // "Open data folder" runs xdg-open: a stand-in records what it was asked to open.
    let fake_bin = desktop.dir.path().join("fake-bin");
    let opened_log = desktop.dir.path().join("xdg-open.args");
    std::fs::create_dir_all(&fake_bin).unwrap();
    let script = fake_bin.join("xdg-open");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\n",
            opened_log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let mut tray = desktop.start_tray(Some(&fake_bin));
    let item = desktop.wait_for_item(tray.pid());
    desktop.wait_for_tooltip(&item, &["capturing from replay"]);
    // Today's daemon reports no verdict, and a replay this short would not finish enrolment:
    // blue (learning) without a mark, unlike the grey of no daemon.
    desktop.wait_for_icon("tray-capturing", BLUE, false);

    // "Pause for 15 minutes": the first entry that can be clicked while capturing.
    desktop.click_menu_entry(1, "tray-menu-capturing");
    let status = wait_for(
        "`tikker status` to report the pause",
        || desktop.logs(),
        || {
            desktop
                .tikker_status()
                .filter(|status| status["paused"] == true)
        },
    );
    assert_eq!(status["state"], "paused");
    let until: jiff::Timestamp = status["paused_until"].as_str().unwrap().parse().unwrap();
    let left = until.duration_since(jiff::Timestamp::now()).as_secs();
    assert!((800..=900).contains(&left), "paused for {left} s more");
    desktop.wait_for_tooltip(&item, &["paused until"]);
    desktop.wait_for_icon("tray-paused", GREY, true);

    // "Resume": the first entry that can be clicked while paused.
    desktop.click_menu_entry(1, "tray-menu-paused");
    wait_for(
        "`tikker status` to report capture again",
        || desktop.logs(),
        || {
            desktop
                .tikker_status()
                .filter(|status| status["paused"] == false && status["state"] == "capturing")
        },
    );
    desktop.wait_for_icon("tray-resumed", BLUE, false);

    // "Forget the last 5 minutes": the third while capturing (after the two pauses); the daemon
    // deletes that span of typing.
    desktop.click_menu_entry(3, "tray-menu-forget");
    wait_for(
        "the daemon to forget the last 5 minutes",
        || desktop.logs(),
        || {
            desktop
                .logs()
                .contains("forgot a span of typing")
                .then_some(())
        },
    );

    // "Open data folder": the fourth; the database's folder.
    desktop.click_menu_entry(4, "tray-menu-open-folder");
    let opened = wait_for(
        "xdg-open to be run",
        || desktop.logs(),
        || std::fs::read_to_string(&opened_log).ok(),
    );
    assert_eq!(
        opened.trim(),
        desktop.db().parent().unwrap().display().to_string()
    );

    // "Open dashboard": the fifth ("Start tikker" is disabled while the daemon runs); xdg-open
    // is given the dashboard's one-time URL.
    desktop.click_menu_entry(5, "tray-menu-open-dashboard");
    let opened = wait_for(
        "xdg-open to be run with the dashboard's URL",
        || desktop.logs(),
        || {
            std::fs::read_to_string(&opened_log)
                .ok()
                .filter(|text| text.lines().count() >= 2)
        },
    );
    let url = opened.lines().nth(1).unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.contains("/dashboard/?code="),
        "{url}"
    );

    // "Quit tray": the sixth. The tray leaves the panel; the daemon goes on.
    desktop.click_menu_entry(6, "tray-menu-quit");
    let exit = tray.wait();
    assert!(exit.success(), "the tray exited with {exit}");
    wait_for(
        "the item to leave the watcher",
        || desktop.logs(),
        || desktop.registered_items().is_empty().then_some(()),
    );
    assert_eq!(desktop.tikker_status().unwrap()["state"], "capturing");
    assert!(daemon.terminate().success());
    assert!(
        !desktop.logs().contains("panicked"),
        "a panic was logged:\n{}",
        desktop.logs()
    );
}

#[test]
fn the_tray_is_grey_without_a_daemon_follows_it_as_it_starts_crashes_and_restarts_and_survives_a_panel_restart()
 {
    let _turn = one_at_a_time();
    let mut desktop = Desktop::start();
    let mut tray = desktop.start_tray(None);
    let item = desktop.wait_for_item(tray.pid());
    desktop.wait_for_tooltip(
        &item,
        &["daemon not running", "systemctl --user start tikker"],
    );
    // Grey with a dash.
    desktop.wait_for_icon("tray-no-daemon", GREY, true);

    let replay = desktop.dir.path().join("typing.csv");
    write_slow_replay(&replay, 30);
    let mut daemon = desktop.start_daemon(&replay, "daemon-first");
    desktop.wait_for_tooltip(&item, &["capturing from replay", "The daemon started at"]);
    desktop.wait_for_icon("tray-daemon-started", BLUE, false);

    // A crash leaves the socket file behind with nobody listening.
    daemon.kill();
    desktop.wait_for_tooltip(&item, &["daemon not running", "The daemon stopped at"]);
    desktop.wait_for_icon("tray-daemon-crashed", GREY, true);

    let mut daemon = desktop.start_daemon(&replay, "daemon-second");
    desktop.wait_for_tooltip(&item, &["capturing from replay", "The daemon restarted at"]);
    assert!(tray.running(), "the tray ended:\n{}", desktop.logs());

    // The panel restarts (a desktop session's panel crashing, say): the item comes back.
    desktop.restart_panel();
    assert_eq!(desktop.wait_for_item(tray.pid()), item);
    desktop.wait_for_icon("tray-after-panel-restart", BLUE, false);

    assert!(daemon.terminate().success());
    assert!(tray.terminate().success(), "the tray did not stop cleanly");
    assert!(!desktop.logs().contains("panicked"), "{}", desktop.logs());
}

/// A status as the daemon reports it once it scores typing (the `auth` object).
fn scored(phase: &str, verdict: &str, score: Option<f64>) -> serde_json::Value {
    json!({
        "state": "capturing", "source": "x11", "source_detail": ":0", "waiting_reason": null,
        "paused": false, "paused_until": null,
        "database": "/home/tester/.local/share/tikker/tikker.db", "pid": 4242,
        "events_today": 5000,
        "auth": {
            "phase": phase, "enrolled_keystrokes": 1234, "enrolment_needed": 5000,
            "verdict": verdict, "score": score, "confidence": 0.8, "reason": null,
            "scored_at": null, "profile_version": 1, "last_alert": null
        }
    })
}

#[test]
fn verdicts_colour_the_icon_and_pausing_from_the_menu_turns_it_grey() {
    let _turn = one_at_a_time();
    let desktop = Desktop::start();
    // A stand-in answers on the daemon's socket, so that every verdict can be shown on demand
    // (daemon/tests/auth.rs drives the real daemon to its verdicts).
    let socket = desktop.runtime_dir().join("tikker/control.sock");
    let daemon = StandInDaemon::serve(&socket, scored("monitoring", "authentic", Some(0.93)));
    let tray = desktop.start_tray(None);
    let item = desktop.wait_for_item(tray.pid());
    desktop.wait_for_tooltip(&item, &["Score 0.93: authentic", "5,000 key events today"]);
    desktop.wait_for_icon("tray-authentic", GREEN, false);

    daemon.set_status(scored("monitoring", "uncertain", Some(0.52)));
    desktop.wait_for_tooltip(&item, &["Score 0.52: uncertain"]);
    desktop.wait_for_icon("tray-uncertain", AMBER, false);

    daemon.set_status(scored("monitoring", "suspicious", Some(0.12)));
    desktop.wait_for_tooltip(&item, &["Score 0.12: suspicious"]);
    desktop.wait_for_icon("tray-suspicious", RED, false);

    daemon.set_status(scored("enrolling", "unknown", None));
    desktop.wait_for_tooltip(&item, &["Enrolment: 1,234 of 5,000 keystrokes (24 %)"]);
    desktop.wait_for_icon("tray-enrolling", BLUE, false);

    daemon.set_status(scored("monitoring", "likely_authentic", Some(0.71)));
    desktop.wait_for_icon("tray-likely-authentic", GREEN, false);
    desktop.click_menu_entry(1, "tray-menu-scored");
    let (_, body) = wait_for(
        "the pause request",
        || format!("{:?}\n{}", daemon.requests(), desktop.logs()),
        || {
            daemon
                .requests()
                .into_iter()
                .find(|(line, _)| line.starts_with("POST /pause "))
        },
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"duration_s": 900}),
        "{body}"
    );
    desktop.wait_for_tooltip(&item, &["paused until"]);
    desktop.wait_for_icon("tray-paused-from-green", GREY, true);
}
