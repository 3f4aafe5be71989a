//! The threat detectors on real typing: aalto-dev and the CMU password data.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::path::PathBuf;

use tikker_core::eval::injection::{InjectionEvalConfig, Tool, evaluate, read_cmu_participants};
use tikker_core::keystroke::Keystroke;
use tikker_core::threat::injection::InjectionDetector;
use tikker_core::threat::replay::{ReplayConfig, ReplayDetector, ReplayHistory};
use tikker_core::{KeyEvent, event::sort_events};

fn cmu_path() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/cmu/DSL-StrongPasswordData.csv");
    assert!(
        path.is_file(),
        "the CMU data set is expected at {}",
        path.display()
    );
    path
}

fn events(keystrokes: &[Keystroke]) -> Vec<KeyEvent> {
    let mut events: Vec<KeyEvent> = keystrokes
        .iter()
        .flat_map(|k| {
            [
                KeyEvent::press(k.press_us, k.key),
                KeyEvent::release(k.release_us, k.key),
            ]
        })
        .collect();
    sort_events(&mut events);
    events
}

#[test]
fn no_injection_finding_on_cmu_typing_and_every_burst_caught() {
    let participants = read_cmu_participants(&cmu_path()).unwrap();
    assert_eq!(participants.len(), 51);
    let mut detector = InjectionDetector::default();
    let mut keystrokes = 0;
    for p in &participants {
        for unit in &p.sentences {
            keystrokes += unit.keystrokes.len();
            for e in events(&unit.keystrokes) {
                assert_eq!(detector.push(&e), None, "subject {}", p.id);
            }
        }
    }
    assert_eq!(keystrokes, 20_400 * 11);
}

#[test]
fn replays_of_cmu_repetitions_are_found_and_repetitions_are_not() {
    // The same password typed 400 times by each subject: the hardest case for false replays.
    let participants = read_cmu_participants(&cmu_path()).unwrap();
    for p in participants.iter().take(12) {
        let mut detector = ReplayDetector::new(ReplayHistory::new(ReplayConfig::default()), true);
        for unit in &p.sentences {
            for e in events(&unit.keystrokes) {
                assert_eq!(detector.push(&e), None, "subject {}", p.id);
            }
            detector.end_run();
        }
        // Repetition 1 of session 2 again, every event moved by 0.6 ms (within the ±1 ms a
        // replay adds).
        assert_eq!(p.sentences.len(), 8);
        let again: Vec<Keystroke> = p.sentences[1].keystrokes[..11]
            .iter()
            .enumerate()
            .map(|(i, k)| Keystroke {
                key: k.key,
                press_us: k.press_us + 500_000_000_000 + if i % 2 == 0 { 600 } else { -600 },
                release_us: k.release_us + 500_000_000_000 + 600,
            })
            .collect();
        let found = events(&again).iter().find_map(|e| detector.push(e));
        assert_eq!(found.map(|f| f.ngram), Some(8), "subject {}", p.id);
    }
}

#[test]
fn figures_on_the_first_60_aalto_participants_are_pinned() {
    let participants = common::aalto_participants(60);
    let report = evaluate(&participants, &InjectionEvalConfig::default());
    let all = &report.all;
    assert_eq!(all.participants, 60);
    assert_eq!(all.injection_false_positives, 0, "{:?}", report.flagged);
    assert_eq!(all.replay_false_positives, 0, "{:?}", report.flagged);
    for t in &all.tools {
        if t.in_target {
            assert_eq!(
                (t.detected, t.median_keystrokes),
                (60, Some(8)),
                "{}",
                t.name
            );
        }
    }
    let fully = all
        .tools
        .iter()
        .find(|t| t.tool == Tool::HumanisedFully)
        .unwrap();
    assert_eq!(fully.detected, 0);
    assert_eq!((all.replays, all.replays_detected), (60, 60));
    assert_eq!(all.replay_median_keystrokes, Some(8));
}
