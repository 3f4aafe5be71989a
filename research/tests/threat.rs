//! The threat detectors on real typing: aalto-dev and the CMU password data.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::path::PathBuf;

use tikker_core::keystroke::{Keystroke, events_of as events};
use tikker_core::threat::injection::InjectionDetector;
use tikker_core::threat::replay::{ReplayConfig, ReplayDetector, ReplayHistory};
use tikker_research::eval::injection::{
    InjectionEvalConfig, Tool, evaluate, read_cmu_participants,
};

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

#[test]
fn cmu_figures_are_pinned() {
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
    let report = evaluate(&participants, &InjectionEvalConfig::default());
    let all = &report.all;
    assert!(report.flagged.is_empty(), "{:?}", report.flagged);
    for t in &all.tools {
        let expected = if t.in_target {
            (51, Some(8))
        } else {
            (0, None)
        };
        assert_eq!((t.detected, t.median_keystrokes), expected, "{}", t.name);
    }
    // The peer rules see only the fast tools (xdotool at 12 ms and BadUSB): 2 of 6.
    for peer in &all.peers {
        assert_eq!(peer.false_positives, 0, "{}", peer.name);
        let caught: Vec<usize> = peer.tools.iter().map(|t| t.detected).collect();
        assert_eq!(caught, vec![51, 0, 0, 51, 0, 0], "{}", peer.name);
    }
    assert_eq!((all.replays, all.replays_detected), (51, 51));
    assert_eq!(all.replay_median_keystrokes, Some(8));
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

#[test]
fn the_flagged_aalto_typing_is_software_inserted_text() {
    // The two injection findings on aalto-dev's human typing (both in the second half by id):
    // bursts of keys pressed 2-22 ms apart and released 0-20 ms later, which fingers do not
    // produce: text inserted by software (autocompletion or text replacement) into the browser.
    use tikker_research::dataset::aalto::read_participant;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/aalto-dev/users");
    for (id, unit, rule) in [(3242, 14, "speed"), (4916, 1, "speed")] {
        let person = read_participant(&dir.join(format!("{id}_keystrokes.txt.gz"))).unwrap();
        let mut detector = InjectionDetector::default();
        let mut found = Vec::new();
        for (u, sentence) in person.sentences.iter().enumerate() {
            for e in events(&sentence.keystrokes) {
                if let Some(f) = detector.push(&e) {
                    found.push((u, f.rule.as_str(), f.evidence.median_interval_us));
                }
            }
        }
        assert_eq!(found.len(), 1, "{id}: {found:?}");
        assert_eq!((found[0].0, found[0].1), (unit, rule), "{id}");
        assert!(found[0].2 <= 20_000, "{id}: {found:?}");
    }
}
