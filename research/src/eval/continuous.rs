//! The splice simulation of continuous authentication.
//!
//! For each participant: enrol a [`Monitor`] on their first units of typing, then stream the
//! rest of their typing (genuine) followed at once by all of another participant's typing
//! (impostor), time-shifted to start one second after the owner's last keystroke, as if someone
//! else sat down. The impostor is chosen deterministically (splitmix64 with a fixed seed).
//! Measured: false alerts per 10,000 genuine keystrokes, the share of genuine windows at or below
//! the alert threshold, how many impostor keystrokes pass before the first alert (undetected
//! impostors count as never detected; the median is over all participants), how many impostors
//! are caught within 250 and 500 of their keystrokes, and how many impostor keystrokes the
//! profile learned (the impostor's whole typing is streamed, also after an alert). Figures are
//! given for all participants and for each half (by position): constants are tuned on the first
//! half only, the second is the honest figure.

use serde::Serialize;

use crate::dataset::Participant;
use tikker_core::keystroke::Keystroke;
use tikker_core::monitor::{Monitor, MonitorConfig};
use tikker_core::sampling::SplitMix64;

/// Parameters of the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpliceConfig {
    /// Units (sentences or sessions) of each participant used for enrolment.
    pub enrol_units: usize,
    /// The monitor's configuration; its enrolment size is set per participant to the keystrokes
    /// of their enrolment units.
    pub monitor: MonitorConfig,
    /// Seed of the impostor choice.
    pub seed: u64,
    /// Worker threads.
    pub threads: usize,
}

impl Default for SpliceConfig {
    fn default() -> Self {
        SpliceConfig {
            enrol_units: 10,
            monitor: MonitorConfig::default(),
            seed: 0x7469_6b6b_6572,
            threads: 2,
        }
    }
}

/// What happened to one participant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpliceOutcome {
    /// Enrolment keystrokes.
    pub enrolment: usize,
    /// Genuine keystrokes streamed after enrolment.
    pub genuine_keystrokes: usize,
    /// Alerts raised on genuine typing.
    pub false_alerts: usize,
    /// Windows of genuine typing scored.
    pub genuine_windows: usize,
    /// Of which at or below the monitor's alert threshold (single-window false rejects).
    pub genuine_low_windows: usize,
    /// Impostor keystrokes streamed before the first alert, if one came.
    pub impostor_keystrokes_to_alert: Option<usize>,
    /// Impostor keystrokes the profile learned (the whole impostor typing is streamed, also
    /// after the first alert).
    pub impostor_keystrokes_learned: usize,
    /// Impostor keystrokes that would be learned if the impostor went on typing undetected
    /// long enough to confirm them (what no window and no alert held back).
    pub impostor_keystrokes_learned_if_confirmed: usize,
}

/// The figures of a set of participants.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpliceFigures {
    /// Participants simulated.
    pub participants: usize,
    /// Median enrolment size in keystrokes.
    pub median_enrolment: usize,
    /// Genuine keystrokes streamed after enrolment, in all.
    pub genuine_keystrokes: usize,
    /// False alerts, in all.
    pub false_alerts: usize,
    /// False alerts per 10,000 genuine keystrokes.
    pub false_alerts_per_10k: f64,
    /// Genuine windows scored.
    pub genuine_windows: usize,
    /// Share of genuine windows at or below the alert threshold (the single-window false-reject
    /// rate at the operating threshold).
    pub window_false_reject_rate: f64,
    /// Impostors detected before their typing ran out.
    pub impostors_detected: usize,
    /// Impostors detected within 250 of their keystrokes.
    pub detected_within_250: usize,
    /// Impostors detected within 500 of their keystrokes.
    pub detected_within_500: usize,
    /// Median impostor keystrokes to the first alert (`None` if most were never detected).
    pub median_impostor_keystrokes_to_alert: Option<usize>,
    /// Impostor keystrokes the profiles learned, in all (must be 0).
    pub impostor_keystrokes_learned: usize,
    /// The same if each impostor went on typing undetected long enough to confirm them.
    pub impostor_keystrokes_learned_if_confirmed: usize,
    /// Impostors of whom anything would then be learned.
    pub impostors_learned_if_confirmed: usize,
}

/// The simulation's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpliceReport {
    /// Participants skipped (too little typing to enrol and still have genuine typing left).
    pub skipped: usize,
    /// Every participant.
    pub all: SpliceFigures,
    /// The first half of the participants (by position; the half constants are tuned on).
    pub first_half: SpliceFigures,
    /// The second half (not used for tuning: the honest figure).
    pub second_half: SpliceFigures,
    /// Per participant, in input order (`None` when skipped).
    pub outcomes: Vec<Option<SpliceOutcome>>,
}

fn flatten(units: &[crate::dataset::Sentence]) -> Vec<Keystroke> {
    units
        .iter()
        .flat_map(|u| u.keystrokes.iter().copied())
        .collect()
}

/// Simulates one participant against one impostor.
pub fn simulate_one(
    owner: &Participant,
    impostor: &Participant,
    config: &SpliceConfig,
) -> Option<SpliceOutcome> {
    let units = config.enrol_units.min(owner.sentences.len());
    let enrolment = flatten(&owner.sentences[..units]);
    let genuine = flatten(&owner.sentences[units..]);
    let intruding = flatten(&impostor.sentences);
    let (Some(last), Some(first)) = (genuine.last(), intruding.first()) else {
        return None;
    };
    let monitor_config = MonitorConfig {
        enrolment_keystrokes: enrolment.len(),
        ..config.monitor
    };
    let mut monitor = Monitor::new(monitor_config);
    for k in &enrolment {
        monitor.push(*k).ok()?;
    }
    let mut false_alerts = 0;
    let mut genuine_windows = 0;
    let mut genuine_low_windows = 0;
    for k in &genuine {
        if let Some(s) = monitor.push(*k).ok()? {
            genuine_windows += 1;
            genuine_low_windows += usize::from(s.score <= monitor_config.alert_threshold);
            false_alerts += usize::from(s.alert);
        }
    }
    let shift = last.press_us + 1_000_000 - first.press_us;
    monitor.watch_learning_from(first.press_us + shift);
    let mut to_alert = None;
    for (index, k) in intruding.iter().enumerate() {
        let shifted = Keystroke {
            key: k.key,
            press_us: k.press_us + shift,
            release_us: k.release_us + shift,
        };
        if monitor.push(shifted).ok()?.is_some_and(|s| s.alert) && to_alert.is_none() {
            to_alert = Some(index + 1);
        }
    }
    let learned = monitor.watched_learned() as usize;
    monitor.end_sitting();
    monitor.learn_waiting();
    Some(SpliceOutcome {
        enrolment: enrolment.len(),
        genuine_keystrokes: genuine.len(),
        false_alerts,
        genuine_windows,
        genuine_low_windows,
        impostor_keystrokes_to_alert: to_alert,
        impostor_keystrokes_learned: learned,
        impostor_keystrokes_learned_if_confirmed: monitor.watched_learned() as usize,
    })
}

/// Runs the simulation for every participant.
pub fn simulate(participants: &[Participant], config: &SpliceConfig) -> SpliceReport {
    let n = participants.len();
    let impostor_of = |u: usize| -> usize {
        let mut rng = SplitMix64(config.seed ^ (u as u64).wrapping_mul(0x9e37_79b9));
        let offset = 1 + (rng.next_u64() % (n.max(2) as u64 - 1)) as usize;
        (u + offset) % n
    };
    let users: Vec<usize> = (0..n).collect();
    let outcomes: Vec<Option<SpliceOutcome>> =
        super::map_in_threads(&users, config.threads, |_, &u| {
            (n > 1)
                .then(|| simulate_one(&participants[u], &participants[impostor_of(u)], config))
                .flatten()
        });
    report(outcomes)
}

fn figures(outcomes: &[Option<SpliceOutcome>]) -> SpliceFigures {
    let done: Vec<SpliceOutcome> = outcomes.iter().flatten().copied().collect();
    let genuine_keystrokes: usize = done.iter().map(|o| o.genuine_keystrokes).sum();
    let false_alerts: usize = done.iter().map(|o| o.false_alerts).sum();
    let genuine_windows: usize = done.iter().map(|o| o.genuine_windows).sum();
    let low_windows: usize = done.iter().map(|o| o.genuine_low_windows).sum();
    let mut to_alert: Vec<usize> = done
        .iter()
        .map(|o| o.impostor_keystrokes_to_alert.unwrap_or(usize::MAX))
        .collect();
    to_alert.sort_unstable();
    let median = to_alert
        .get(to_alert.len() / 2)
        .copied()
        .filter(|&m| m != usize::MAX);
    let mut enrolments: Vec<usize> = done.iter().map(|o| o.enrolment).collect();
    enrolments.sort_unstable();
    let within = |n: usize| to_alert.iter().filter(|&&k| k <= n).count();
    SpliceFigures {
        participants: done.len(),
        median_enrolment: enrolments.get(enrolments.len() / 2).copied().unwrap_or(0),
        genuine_keystrokes,
        false_alerts,
        false_alerts_per_10k: if genuine_keystrokes == 0 {
            0.0
        } else {
            false_alerts as f64 * 10_000.0 / genuine_keystrokes as f64
        },
        genuine_windows,
        window_false_reject_rate: if genuine_windows == 0 {
            0.0
        } else {
            low_windows as f64 / genuine_windows as f64
        },
        impostors_detected: done
            .iter()
            .filter(|o| o.impostor_keystrokes_to_alert.is_some())
            .count(),
        detected_within_250: within(250),
        detected_within_500: within(500),
        median_impostor_keystrokes_to_alert: median,
        impostor_keystrokes_learned: done.iter().map(|o| o.impostor_keystrokes_learned).sum(),
        impostor_keystrokes_learned_if_confirmed: done
            .iter()
            .map(|o| o.impostor_keystrokes_learned_if_confirmed)
            .sum(),
        impostors_learned_if_confirmed: done
            .iter()
            .filter(|o| o.impostor_keystrokes_learned_if_confirmed > 0)
            .count(),
    }
}

fn report(outcomes: Vec<Option<SpliceOutcome>>) -> SpliceReport {
    let half = outcomes.len() / 2;
    SpliceReport {
        skipped: outcomes.iter().filter(|o| o.is_none()).count(),
        all: figures(&outcomes),
        first_half: figures(&outcomes[..half]),
        second_half: figures(&outcomes[half..]),
        outcomes,
    }
}
