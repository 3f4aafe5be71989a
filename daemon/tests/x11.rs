//! The daemon capturing real X11 key events: an Xvfb server, `tikker daemon --source x11`, and
//! xdotool typing into it. These tests need Xvfb, xdotool and xdpyinfo (`scripts/setup --test`)
//! and fail, never skip, without them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::time::Duration;

use common::{TestHome, Xvfb, typed};
use tikker_core::{KeyAction, KeyCode, KeyEvent};

/// `xdotool type --delay D` (xdotool 3.20160805, Debian 12) sends each key event D/4 after the
/// previous one: a press, D/4 later its release, D/4 later the next press. So with D = 80 ms a
/// hold lasts 20 ms and a press follows the previous press after 40 ms.
const TYPE_DELAY_MS: i64 = 80;

/// Tolerance: the median of each kind of interval lies within ±5 ms of the expected value, and
/// every single interval within [expected − 10 ms, expected + 60 ms]. On an idle machine the
/// intervals are within ±1 ms; the margin is for a busy one, where xdotool's sleeps or the X
/// server's delivery can run late by tens of milliseconds (and the interval after a late event
/// correspondingly short).
const EARLY_US: i64 = 10_000;
const LATE_US: i64 = 60_000;
const MEDIAN_US: i64 = 5_000;

/// The two tests take turns, so that one's X server, xdotool and daemon do not disturb the
/// other's timing.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn median(values: &mut [i64]) -> i64 {
    values.sort_unstable();
    values[values.len() / 2]
}

/// Checks that `intervals` follow xdotool's pacing within the tolerance.
fn check_paced(name: &str, intervals: &mut [i64], expected_us: i64) -> Result<(), String> {
    if let Some(interval) = intervals
        .iter()
        .find(|i| !(expected_us - EARLY_US..=expected_us + LATE_US).contains(*i))
    {
        return Err(format!(
            "a {name} of {interval} µs is not within −{EARLY_US}/+{LATE_US} µs of {expected_us} µs: {intervals:?}"
        ));
    }
    let median = median(intervals);
    if (median - expected_us).abs() > MEDIAN_US {
        return Err(format!(
            "the median {name} {median} µs is not within {MEDIAN_US} µs of {expected_us} µs: {intervals:?}"
        ));
    }
    Ok(())
}

/// How many times the typing is tried before a timing miss fails the test. What is stored (each
/// key, press and release, in order) must be right every time; only the timing may miss, when
/// the machine was too busy to keep xdotool's pace.
const TIMING_ATTEMPTS: usize = 3;

#[test]
fn typing_under_xvfb_is_stored_as_one_press_and_one_release_per_key_in_order() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let x = Xvfb::start();
    let mut misses = Vec::new();
    for _ in 0..TIMING_ATTEMPTS {
        match type_and_check(&x) {
            Ok(()) => return,
            Err(miss) => misses.push(miss),
        }
    }
    panic!("the timing missed the tolerance {TIMING_ATTEMPTS} times: {misses:#?}");
}

/// Types into a fresh daemon and checks what it stored: panics if the events are wrong, returns
/// `Err` if only their timing is off.
fn type_and_check(x: &Xvfb) -> Result<(), String> {
    let home = TestHome::new();
    let mut daemon = home.start_daemon(&["--source", "x11"], &[("DISPLAY", &x.display)]);
    home.wait_for_state(&mut daemon, "capturing");

    let text = "the quick brown fox";
    x.xdotool(&["type", "--delay", &TYPE_DELAY_MS.to_string(), text]);
    x.xdotool(&["key", "--delay", "100", "shift+a", "Return", "BackSpace"]);
    let expected_events = text.len() * 2 + 8;
    home.wait_for_recorded(&mut daemon, expected_events as u64);
    assert!(daemon.terminate().success(), "{}", daemon.log());

    let stored = home.stored_events();
    let sessions: std::collections::BTreeSet<&str> =
        stored.iter().map(|(_, label, _)| label.as_str()).collect();
    assert_eq!(sessions.len(), 1, "one session: {sessions:?}");
    assert!(stored.iter().all(|(user, _, _)| user == "tester"));
    let events: Vec<KeyEvent> = stored.into_iter().map(|(_, _, e)| e).collect();
    assert_eq!(events.len(), expected_events, "{events:#?}");
    assert!(events.is_sorted_by_key(|e| e.time_us));

    // The text: exactly one press and one release per character, in order.
    let (text_events, other) = events.split_at(text.len() * 2);
    let keys: Vec<(KeyCode, KeyAction)> = text_events.iter().map(|e| (e.key, e.action)).collect();
    assert_eq!(keys, typed(text));

    // Hold and flight times follow xdotool's pacing (checked last, below).
    let step_us = TYPE_DELAY_MS * 1000 / 4;
    let mut holds: Vec<i64> = text_events
        .chunks(2)
        .map(|pair| pair[1].time_us - pair[0].time_us)
        .collect();
    let mut press_to_press: Vec<i64> = text_events
        .chunks(2)
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| w[1][0].time_us - w[0][0].time_us)
        .collect();
    let mut release_to_press: Vec<i64> = text_events
        .chunks(2)
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| w[1][0].time_us - w[0][1].time_us)
        .collect();

    // shift+a: Shift goes down first and is held while A goes down; both come up.
    let shift = KeyCode::LEFT_SHIFT;
    let a = KeyCode::from_char('a').unwrap();
    let chord: Vec<(KeyCode, KeyAction)> = other[..4].iter().map(|e| (e.key, e.action)).collect();
    assert_eq!(chord[0], (shift, KeyAction::Press), "{chord:?}");
    assert_eq!(chord[1], (a, KeyAction::Press), "{chord:?}");
    let mut releases = chord[2..].to_vec();
    releases.sort();
    let mut expected_releases = vec![(shift, KeyAction::Release), (a, KeyAction::Release)];
    expected_releases.sort();
    assert_eq!(releases, expected_releases, "{chord:?}");
    // Return and BackSpace.
    let rest: Vec<(KeyCode, KeyAction)> = other[4..].iter().map(|e| (e.key, e.action)).collect();
    assert_eq!(
        rest,
        vec![
            (KeyCode::ENTER, KeyAction::Press),
            (KeyCode::ENTER, KeyAction::Release),
            (KeyCode::BACKSPACE, KeyAction::Press),
            (KeyCode::BACKSPACE, KeyAction::Release),
        ]
    );
    // `xdotool key --delay 100` waits 50 ms between events.
    let mut steps: Vec<i64> = other
        .windows(2)
        .map(|w| w[1].time_us - w[0].time_us)
        .collect();
    check_paced("hold", &mut holds, step_us)?;
    check_paced("press-to-press time", &mut press_to_press, 2 * step_us)?;
    check_paced("release-to-press time", &mut release_to_press, step_us)?;
    check_paced("key --delay 100 step", &mut steps, 50_000)
}

#[test]
fn pause_records_nothing_survives_a_restart_and_resume_brings_capture_back() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let x = Xvfb::start();
    let home = TestHome::new();
    let env = [("DISPLAY", x.display.as_str())];
    let mut daemon = home.start_daemon(&["--source", "x11"], &env);
    home.wait_for_state(&mut daemon, "capturing");

    let out = home.run(&["pause"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("paused until `tikker resume`"));
    x.xdotool(&["type", "--delay", "40", "abc"]);
    std::thread::sleep(Duration::from_millis(300));
    let status = home.status().unwrap();
    assert_eq!(status["state"], "paused", "{status}");
    assert_eq!(status["events"]["captured"], 0, "{status}");

    // The pause is stored: a restarted daemon is still paused.
    assert!(daemon.terminate().success(), "{}", daemon.log());
    let mut daemon = home.start_daemon(&["--source", "x11"], &env);
    home.wait_for_state(&mut daemon, "paused");
    x.xdotool(&["type", "--delay", "40", "def"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(home.status().unwrap()["events"]["captured"], 0);

    let out = home.run(&["resume"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("capture resumed"));
    x.xdotool(&["type", "--delay", "40", "gh"]);
    home.wait_for_recorded(&mut daemon, 4);

    // A timed pause ends by itself.
    let out = home.run(&["pause", "--for", "2s"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("capture paused until 20"));
    let status = home.status().unwrap();
    assert!(status["paused_until"].is_string(), "{status}");
    x.xdotool(&["type", "--delay", "40", "ij"]);
    home.wait_for_state(&mut daemon, "capturing");
    x.xdotool(&["type", "--delay", "40", "kl"]);
    home.wait_for_recorded(&mut daemon, 8);
    std::thread::sleep(Duration::from_millis(200));
    assert!(daemon.terminate().success(), "{}", daemon.log());
    assert_eq!(daemon.final_count("recorded"), 8);

    let keys: Vec<(KeyCode, KeyAction)> = home
        .stored_events()
        .into_iter()
        .map(|(_, _, e)| (e.key, e.action))
        .collect();
    let mut expected = typed("gh");
    expected.extend(typed("kl"));
    assert_eq!(keys, expected, "only what was typed outside the pauses");
    let store = common::open_store(&home.db());
    assert_eq!(
        store.setting("capture.paused_until").unwrap(),
        None,
        "an ended pause is removed"
    );
}
