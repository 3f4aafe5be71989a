//! `tikker eval injection`: the threat detectors on human typing and on synthetic attacks.
//!
//! For each participant (sorted by id; the first half is where the thresholds were tuned):
//!
//! - **human typing**: all of it, unit after unit, through one [`InjectionDetector`]; every
//!   finding is a false positive, listed with its reason;
//! - **injections**: for each [`Tool`], a fresh detector is fed the participant's first half
//!   of units, then a burst of [`InjectionEvalConfig::burst_keystrokes`] synthetic keystrokes
//!   starting 1 s after their last one; detected if a finding comes during the burst, after how
//!   many of its keystrokes;
//! - **replays**: a [`ReplayDetector`] learns the participant's typing unit after unit (every
//!   finding on it is a false positive), then one of their first-half units (chosen with
//!   splitmix64) is replayed with every event moved by up to ±1 ms (uniform), 1 s after their
//!   last keystroke; detected if a finding comes during the replay.
//!
//! The peer rules DuckHunt (mean of the last 25 press intervals under 30 ms) and ukip (4 of 4
//! intervals of at most 50 ms in a 5-key window) run on the same streams for comparison.

use std::path::Path;

use serde::Serialize;

use crate::dataset::{Participant, sentences_of};
use tikker_core::event::{KeyEvent, sort_events};
use tikker_core::key::KeyCode;
use tikker_core::keystroke::{Keystroke, events_of};
use tikker_core::sampling::SplitMix64;
use tikker_core::threat::KeystrokeStream;
use tikker_core::threat::injection::{InjectionConfig, InjectionDetector, InjectionFinding};
use tikker_core::threat::replay::{ReplayConfig, ReplayDetector, ReplayHistory};
use tikker_formats::{ImportFormat, ReadError, parse_file};

/// A keystroke-injection tool, as synthesised here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    /// `xdotool type` (default `--delay 12`): press, sleep 6 ms, release, sleep 6 ms (xdo.c
    /// sends a key's press and release each followed by half the delay), each sleep overshooting
    /// by 60-160 µs; Shift pressed and released 30 µs before the key it modifies.
    XdotoolDefault,
    /// `xdotool type --delay 60`: a key every 60 ms held 30 ms, just slower than ukip's 50 ms.
    XdotoolDelay60,
    /// `xdotool type --delay 100`: a key every 100 ms held 50 ms.
    XdotoolDelay100,
    /// A BadUSB stick: one HID report per 1 ms poll, press then release, so a key every 2 ms
    /// held 1 ms (±30 µs of USB jitter); Shift in the same report as its key.
    Badusb1ms,
    /// A "humanised" typer: intervals drawn uniformly from 60-200 ms, but each key released
    /// 0.5-1.5 ms after its press.
    HumanisedIntervals,
    /// Beyond the targets: intervals 60-200 ms and holds 40-120 ms, both drawn uniformly. Timing
    /// rules cannot tell this from a person; measured to show the limit.
    HumanisedFully,
}

impl Tool {
    /// Every tool, in report order.
    pub const ALL: [Tool; 6] = [
        Tool::XdotoolDefault,
        Tool::XdotoolDelay60,
        Tool::XdotoolDelay100,
        Tool::Badusb1ms,
        Tool::HumanisedIntervals,
        Tool::HumanisedFully,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Tool::XdotoolDefault => "xdotool type (12 ms)",
            Tool::XdotoolDelay60 => "xdotool type --delay 60",
            Tool::XdotoolDelay100 => "xdotool type --delay 100",
            Tool::Badusb1ms => "BadUSB (1 ms reports)",
            Tool::HumanisedIntervals => "humanised intervals, near-zero holds",
            Tool::HumanisedFully => "humanised intervals and holds",
        }
    }

    /// Whether the targets (100 % detected, median ≤ 10 keystrokes) apply to it.
    pub fn in_target(self) -> bool {
        self != Tool::HumanisedFully
    }

    /// `keystrokes` keystrokes of this tool from `start_us`, with random letters, spaces and
    /// capitals (one in eight with Shift).
    pub fn synthesise(
        self,
        keystrokes: usize,
        start_us: i64,
        rng: &mut SplitMix64,
    ) -> Vec<KeyEvent> {
        const KEYS: [u16; 27] = [
            30, 48, 46, 32, 18, 33, 34, 35, 23, 36, 37, 38, 50, 49, 24, 25, 16, 19, 31, 20, 22, 47,
            17, 45, 21, 44, 57,
        ];
        let uniform = |rng: &mut SplitMix64, lo: i64, hi: i64| -> i64 {
            lo + rng.below((hi - lo + 1) as usize) as i64
        };
        let mut events = Vec::with_capacity(keystrokes * 3);
        let mut t = start_us;
        for _ in 0..keystrokes {
            let key = KeyCode(KEYS[rng.below(KEYS.len())]);
            let shifted = key != KeyCode::SPACE && rng.below(8) == 0;
            let (press, release, next) = match self {
                Tool::XdotoolDefault | Tool::XdotoolDelay60 | Tool::XdotoolDelay100 => {
                    let half = match self {
                        Tool::XdotoolDefault => 6_000,
                        Tool::XdotoolDelay60 => 30_000,
                        _ => 50_000,
                    };
                    let press = t + 30;
                    let release = press + half + uniform(rng, 60, 160);
                    (press, release, release + half + uniform(rng, 60, 160))
                }
                Tool::Badusb1ms => {
                    let press = t + uniform(rng, -30, 30);
                    (press, t + 1_000 + uniform(rng, -30, 30), t + 2_000)
                }
                Tool::HumanisedIntervals => {
                    let release = t + uniform(rng, 500, 1_500);
                    (t, release, t + uniform(rng, 60_000, 200_000))
                }
                Tool::HumanisedFully => {
                    let release = t + uniform(rng, 40_000, 120_000);
                    (t, release, t + uniform(rng, 60_000, 200_000))
                }
            };
            if shifted {
                let lead = if self == Tool::Badusb1ms { 0 } else { 30 };
                events.push(KeyEvent::press(press - lead, KeyCode::LEFT_SHIFT));
                events.push(KeyEvent::release(
                    release.max(press) - lead,
                    KeyCode::LEFT_SHIFT,
                ));
            }
            events.push(KeyEvent::press(press, key));
            events.push(KeyEvent::release(release.max(press), key));
            t = next;
        }
        sort_events(&mut events);
        events
    }
}

/// Parameters of the evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct InjectionEvalConfig {
    /// Keystrokes of each synthetic burst.
    pub burst_keystrokes: usize,
    /// Largest shift of a replayed event (µs), each drawn uniformly from ±this.
    pub replay_jitter_us: i64,
    /// The injection detector's thresholds.
    pub injection: InjectionConfig,
    /// The replay detector's parameters.
    pub replay: ReplayConfig,
    /// Seed of the synthetic keystrokes, jitter and replayed unit.
    pub seed: u64,
    /// Worker threads.
    pub threads: usize,
}

impl Default for InjectionEvalConfig {
    fn default() -> Self {
        InjectionEvalConfig {
            burst_keystrokes: 50,
            replay_jitter_us: 1_000,
            injection: InjectionConfig::default(),
            replay: ReplayConfig::default(),
            seed: 0x7469_6b6b_6572_0017,
            threads: 2,
        }
    }
}

/// A finding on human typing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlaggedCase {
    /// The participant.
    pub participant: String,
    /// Which detector: `injection` or `replay`.
    pub detector: &'static str,
    /// The unit (sentence or session) it came in, 0-based.
    pub unit: usize,
    /// Keystrokes of the participant's typing (modifiers and auto-repeat left out) up to it.
    pub keystroke: u64,
    /// The detector's reason.
    pub reason: String,
}

/// What happened to one participant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParticipantOutcome {
    /// The participant.
    pub id: String,
    /// Keystrokes of their typing (all keys).
    pub keystrokes: usize,
    /// Injection findings on their typing.
    pub injection_false_positives: Vec<FlaggedCase>,
    /// Per tool (in [`Tool::ALL`] order): burst keystrokes to the finding, if one came.
    pub injections: Vec<Option<usize>>,
    /// Per peer rule (DuckHunt, ukip): findings on their typing.
    pub peer_false_positives: [usize; 2],
    /// Per peer rule and tool: burst keystrokes to the finding, if one came.
    pub peer_injections: [Vec<Option<usize>>; 2],
    /// Replay findings on their typing.
    pub replay_false_positives: Vec<FlaggedCase>,
    /// Replayed keystrokes to the replay finding (`None`: missed; no replay when they have no
    /// first-half unit as long as an n-gram).
    pub replay: Option<Option<usize>>,
}

/// Detection of one tool over a set of participants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolFigures {
    /// The tool.
    pub tool: Tool,
    /// Its name.
    pub name: &'static str,
    /// Whether the targets apply to it.
    pub in_target: bool,
    /// Bursts injected.
    pub injected: usize,
    /// Bursts detected.
    pub detected: usize,
    /// `detected / injected`.
    pub share: f64,
    /// Median burst keystrokes to detection (over the detected ones).
    pub median_keystrokes: Option<usize>,
    /// Most burst keystrokes to a detection.
    pub max_keystrokes: Option<usize>,
}

/// A detector's figures over a set of participants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// Participants.
    pub participants: usize,
    /// Keystrokes of their typing (all keys).
    pub keystrokes: usize,
    /// Injection findings on human typing.
    pub injection_false_positives: usize,
    /// Participants with at least one.
    pub injection_participants_flagged: usize,
    /// Injection false positives per million keystrokes.
    pub injection_fp_per_million: f64,
    /// Per tool.
    pub tools: Vec<ToolFigures>,
    /// Peer rules: name, false positives on human typing, and per tool.
    pub peers: Vec<PeerFigures>,
    /// Replay findings on human typing.
    pub replay_false_positives: usize,
    /// Replays made.
    pub replays: usize,
    /// Replays detected.
    pub replays_detected: usize,
    /// Median replayed keystrokes to detection.
    pub replay_median_keystrokes: Option<usize>,
}

/// A peer rule's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeerFigures {
    /// The rule.
    pub name: &'static str,
    /// Its findings on human typing.
    pub false_positives: usize,
    /// Per tool.
    pub tools: Vec<ToolFigures>,
}

/// The evaluation's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InjectionEvalReport {
    /// All participants.
    pub all: Figures,
    /// The first half by id (where the thresholds were tuned).
    pub first_half: Figures,
    /// The second half by id.
    pub second_half: Figures,
    /// Every finding on human typing, with its reason.
    pub flagged: Vec<FlaggedCase>,
    /// Per participant, sorted by id.
    pub outcomes: Vec<ParticipantOutcome>,
}

/// The participants of `DSL-StrongPasswordData.csv`, one unit per session (`sessionIndex`, 50
/// repetitions a minute apart), in time order.
pub fn read_cmu_participants(path: &Path) -> Result<Vec<Participant>, ReadError> {
    let parsed = parse_file(path, ImportFormat::Cmu, &mut |_| {})?;
    let skipped = parsed.bad_rows.len();
    let mut sessions = parsed.into_sorted_sessions();
    sessions.sort_by(|a, b| {
        (&a.user, a.events.first().map(|e| e.time_us))
            .cmp(&(&b.user, b.events.first().map(|e| e.time_us)))
    });
    let mut out: Vec<Participant> = Vec::new();
    let mut group = Vec::new();
    for session in sessions {
        if group
            .last()
            .is_some_and(|s: &tikker_formats::ParsedSession| s.user != session.user)
        {
            let done = std::mem::take(&mut group);
            out.push(participant(done, skipped));
        }
        group.push(session);
    }
    if !group.is_empty() {
        out.push(participant(group, skipped));
    }
    Ok(out)
}

fn participant(sessions: Vec<tikker_formats::ParsedSession>, skipped: usize) -> Participant {
    Participant {
        id: sessions.first().map(|s| s.user.clone()).unwrap_or_default(),
        sentences: sentences_of(sessions),
        skipped,
    }
}

/// The peer rules, on the same keystroke stream (modifiers and auto-repeat left out).
#[derive(Debug, Clone, Default)]
struct Peers {
    stream: KeystrokeStream,
    presses: std::collections::VecDeque<i64>,
    in_episode: [bool; 2],
}

impl Peers {
    const NAMES: [&'static str; 2] = [
        "DuckHunt (mean of 25 intervals < 30 ms)",
        "ukip (4 of 4 intervals ≤ 50 ms)",
    ];

    /// Which peer rules newly fire on `event`.
    fn push(&mut self, event: &KeyEvent) -> [bool; 2] {
        let mut done = Vec::new();
        self.stream.push(event, |k| done.push(k));
        let mut fired = [false; 2];
        for k in done {
            self.presses.push_back(k.press_us);
            while self.presses.len() > 26 {
                self.presses.pop_front();
            }
            let p: Vec<i64> = self.presses.iter().copied().collect();
            let duck = p.len() == 26 && (p[25] - p[0]) < 30_000 * 25;
            let ukip = p.len() >= 5 && p[p.len() - 5..].windows(2).all(|w| w[1] - w[0] <= 50_000);
            for (i, now) in [duck, ukip].into_iter().enumerate() {
                if now && !self.in_episode[i] {
                    fired[i] = true;
                }
                self.in_episode[i] = now;
            }
        }
        fired
    }
}

/// Evaluates one participant.
pub fn evaluate_participant(
    index: usize,
    person: &Participant,
    config: &InjectionEvalConfig,
) -> ParticipantOutcome {
    let units: Vec<Vec<KeyEvent>> = person
        .sentences
        .iter()
        .map(|s| events_of(&s.keystrokes))
        .collect();
    let flag = |detector: &'static str, unit: usize, keystroke: u64, reason: String| FlaggedCase {
        participant: person.id.clone(),
        detector,
        unit,
        keystroke,
        reason,
    };
    // Human typing through the injection detector and the peers.
    let mut detector = InjectionDetector::new(config.injection);
    let mut peers = Peers::default();
    let mut injection_false_positives = Vec::new();
    let mut peer_false_positives = [0usize; 2];
    for (u, events) in units.iter().enumerate() {
        for e in events {
            if let Some(f) = detector.push(e) {
                injection_false_positives.push(flag("injection", u, f.keystrokes, f.reason));
            }
            for (i, fired) in peers.push(e).into_iter().enumerate() {
                peer_false_positives[i] += fired as usize;
            }
        }
    }
    // Injections after the first half of the units.
    let half = units.len().div_ceil(2).max(1).min(units.len());
    let prefix: Vec<&KeyEvent> = units[..half].iter().flatten().collect();
    let last_us = prefix.last().map_or(0, |e| e.time_us);
    let mut injections = Vec::new();
    let mut peer_injections: [Vec<Option<usize>>; 2] = [Vec::new(), Vec::new()];
    for (t, tool) in Tool::ALL.iter().enumerate() {
        let mut rng =
            SplitMix64(config.seed ^ (index as u64).wrapping_mul(0x9e37_79b9) ^ (t as u64) << 56);
        let burst = tool.synthesise(config.burst_keystrokes, last_us + 1_000_000, &mut rng);
        let mut detector = InjectionDetector::new(config.injection);
        let mut peers = Peers::default();
        for e in &prefix {
            detector.push(e);
            peers.push(e);
        }
        let base = detector.keystrokes();
        let mut found = None;
        let mut peer_found = [None, None];
        let mut counter = KeystrokeStream::new();
        let mut injected = 0usize;
        for e in &burst {
            counter.push(e, |_| injected += 1);
            if found.is_none()
                && let Some(f) = detector.push(e)
            {
                found = Some((f.keystrokes - base) as usize);
            }
            for (i, fired) in peers.push(e).into_iter().enumerate() {
                if fired && peer_found[i].is_none() {
                    peer_found[i] = Some(injected);
                }
            }
        }
        injections.push(found);
        for i in 0..2 {
            peer_injections[i].push(peer_found[i]);
        }
    }
    // Replays.
    let mut replay = ReplayDetector::new(ReplayHistory::new(config.replay), true);
    let mut replay_false_positives = Vec::new();
    for (u, events) in units.iter().enumerate() {
        for e in events {
            if let Some(f) = replay.push(e) {
                replay_false_positives.push(flag("replay", u, f.keystrokes, f.reason));
            }
        }
        replay.end_run();
    }
    let n = config.replay.ngram;
    let long_enough: Vec<usize> = (0..half)
        .filter(|&u| {
            person.sentences[u]
                .keystrokes
                .iter()
                .filter(|k| !k.key.is_modifier())
                .count()
                >= n
        })
        .collect();
    let replay_outcome = (!long_enough.is_empty()).then(|| {
        let mut rng = SplitMix64(config.seed ^ 0x5e91a7 ^ (index as u64).wrapping_mul(0x9e37_79b9));
        let unit = long_enough[rng.below(long_enough.len())];
        let original = &person.sentences[unit].keystrokes;
        let last = units.iter().flatten().map(|e| e.time_us).max().unwrap_or(0);
        let shift = last + 1_000_000 - original.first().map_or(0, |k| k.press_us);
        let j = config.replay_jitter_us;
        let mut jitter = || rng.below((2 * j + 1) as usize) as i64 - j;
        let replayed: Vec<Keystroke> = original
            .iter()
            .map(|k| {
                let press_us = k.press_us + shift + jitter();
                Keystroke {
                    key: k.key,
                    press_us,
                    release_us: (k.release_us + shift + jitter()).max(press_us),
                }
            })
            .collect();
        let base = replay.keystrokes();
        events_of(&replayed)
            .iter()
            .find_map(|e| replay.push(e))
            .map(|f| (f.keystrokes - base) as usize)
    });
    ParticipantOutcome {
        id: person.id.clone(),
        keystrokes: person.keystroke_count(),
        injection_false_positives,
        injections,
        peer_false_positives,
        peer_injections,
        replay_false_positives,
        replay: replay_outcome,
    }
}

fn median(mut v: Vec<usize>) -> Option<usize> {
    v.sort_unstable();
    v.get(v.len().saturating_sub(1) / 2).copied()
}

fn tool_figures(tool: Tool, found: Vec<Option<usize>>) -> ToolFigures {
    let detected: Vec<usize> = found.iter().flatten().copied().collect();
    ToolFigures {
        tool,
        name: tool.name(),
        in_target: tool.in_target(),
        injected: found.len(),
        detected: detected.len(),
        share: if found.is_empty() {
            0.0
        } else {
            detected.len() as f64 / found.len() as f64
        },
        max_keystrokes: detected.iter().max().copied(),
        median_keystrokes: median(detected),
    }
}

/// The figures of a set of outcomes.
pub fn figures(outcomes: &[ParticipantOutcome]) -> Figures {
    let keystrokes: usize = outcomes.iter().map(|o| o.keystrokes).sum();
    let fps: usize = outcomes
        .iter()
        .map(|o| o.injection_false_positives.len())
        .sum();
    let per_tool = |pick: &dyn Fn(&ParticipantOutcome) -> &Vec<Option<usize>>| -> Vec<ToolFigures> {
        Tool::ALL
            .iter()
            .enumerate()
            .map(|(t, &tool)| {
                tool_figures(
                    tool,
                    outcomes
                        .iter()
                        .map(|o| pick(o).get(t).copied().flatten())
                        .collect(),
                )
            })
            .collect()
    };
    let replays: Vec<Option<usize>> = outcomes.iter().filter_map(|o| o.replay).collect();
    Figures {
        participants: outcomes.len(),
        keystrokes,
        injection_false_positives: fps,
        injection_participants_flagged: outcomes
            .iter()
            .filter(|o| !o.injection_false_positives.is_empty())
            .count(),
        injection_fp_per_million: if keystrokes == 0 {
            0.0
        } else {
            fps as f64 * 1e6 / keystrokes as f64
        },
        tools: per_tool(&|o| &o.injections),
        peers: (0..2)
            .map(|i| PeerFigures {
                name: Peers::NAMES[i],
                false_positives: outcomes.iter().map(|o| o.peer_false_positives[i]).sum(),
                tools: per_tool(&|o| &o.peer_injections[i]),
            })
            .collect(),
        replay_false_positives: outcomes
            .iter()
            .map(|o| o.replay_false_positives.len())
            .sum(),
        replays: replays.len(),
        replays_detected: replays.iter().flatten().count(),
        replay_median_keystrokes: median(replays.iter().flatten().copied().collect()),
    }
}

/// A participant id's sort key: numeric ids in numeric order, before the others.
fn id_key(id: &str) -> (u64, String) {
    let digits: String = id.chars().filter(|c| c.is_ascii_digit()).collect();
    (digits.parse().unwrap_or(u64::MAX), id.to_owned())
}

/// Runs the evaluation on every participant (sorted by id first).
pub fn evaluate(participants: &[Participant], config: &InjectionEvalConfig) -> InjectionEvalReport {
    let mut order: Vec<usize> = (0..participants.len()).collect();
    order.sort_by_key(|&i| id_key(&participants[i].id));
    let outcomes: Vec<ParticipantOutcome> =
        super::map_in_threads(&order, config.threads, |rank, &p| {
            evaluate_participant(rank, &participants[p], config)
        });
    let half = outcomes.len() / 2;
    let flagged = outcomes
        .iter()
        .flat_map(|o| {
            o.injection_false_positives
                .iter()
                .chain(&o.replay_false_positives)
        })
        .cloned()
        .collect();
    InjectionEvalReport {
        all: figures(&outcomes),
        first_half: figures(&outcomes[..half]),
        second_half: figures(&outcomes[half..]),
        flagged,
        outcomes,
    }
}

/// The first injection finding on `events` with a fresh detector; for tests and examples.
pub fn first_injection(events: &[KeyEvent], config: InjectionConfig) -> Option<InjectionFinding> {
    let mut detector = InjectionDetector::new(config);
    events.iter().find_map(|e| detector.push(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_tool_is_caught_at_the_eighth_keystroke_alone() {
        for tool in Tool::ALL {
            let mut rng = SplitMix64(7);
            let events = tool.synthesise(40, 1_000_000_000_000, &mut rng);
            let found = first_injection(&events, InjectionConfig::default());
            if tool.in_target() {
                assert_eq!(found.map(|f| f.keystrokes), Some(8), "{tool:?}");
            } else {
                assert_eq!(found, None, "{tool:?}");
            }
        }
    }

    #[test]
    fn xdotool_synthesis_follows_xdo() {
        let mut rng = SplitMix64(1);
        let events = Tool::XdotoolDefault.synthesise(3, 0, &mut rng);
        let presses: Vec<i64> = events
            .iter()
            .filter(|e| e.action == tikker_core::event::KeyAction::Press && !e.key.is_modifier())
            .map(|e| e.time_us)
            .collect();
        for w in presses.windows(2) {
            assert!((12_150..=12_350).contains(&(w[1] - w[0])), "{presses:?}");
        }
    }
}
