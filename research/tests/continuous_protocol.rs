//! The splice simulation on a fixed subset of the real Aalto data: the daemon's monitor must
//! stay within its measured false alerts and detection delay, and never learn an impostor.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::aalto_participants;
use tikker_research::eval::continuous::{SpliceConfig, simulate};

#[test]
fn splice_simulation_keeps_its_measured_alert_rates_on_a_fixed_subset() {
    let participants = aalto_participants(300);
    let report = simulate(&participants, &SpliceConfig::default());
    let all = &report.all;
    eprintln!("{all:?}");
    assert_eq!(all.participants, 300);
    // Measured with the free-text verifier's hold-in-context and rank components: 1 false alert
    // in 72,552 genuine keystrokes (0.14 per 10,000), 295 of 300 detected (285 within 250
    // keystrokes), median 95 impostor keystrokes, no impostor keystroke learned, 7.52 % of the
    // owner's single windows at or below the alert threshold. (Before them: 2 false alerts,
    // 292 detected, 279 within 250, median 98, 6.9 % of single windows.)
    assert!(all.false_alerts <= 1, "{} false alerts", all.false_alerts);
    assert!(
        all.median_impostor_keystrokes_to_alert
            .is_some_and(|m| m <= 95)
    );
    assert!(all.impostors_detected >= 295);
    assert!(all.detected_within_250 >= 285);
    assert_eq!(all.impostor_keystrokes_learned, 0);
    assert!(all.window_false_reject_rate <= 0.0755);
}
