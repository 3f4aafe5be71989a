//! Replayed timings: typing whose rhythm repeats stored history, whatever its score.
//!
//! A replay of the owner's recorded typing (from a stolen copy of the record, or a keylogger)
//! scores as the owner, because it *is* the owner's timing. It repeats that timing exactly, up
//! to the jitter the replaying tool adds (at most 1 ms per event, so at most 2 ms on a hold or a
//! press-to-press interval), whereas a person never types the same run of keystrokes twice to
//! within a couple of milliseconds: over [`ReplayConfig::ngram`] keystrokes (8: 8 holds and 7
//! intervals, 15 quantities) the chance is far below one in a million million even for the same
//! password typed 400 times (CMU: holds and intervals of one subject on one key spread by ~10 ms).
//!
//! **What is kept** ([`ReplayHistory`]): per keystroke, its hold and the interval from the press
//! before, in units of [`TICK_US`] (0.1 ms), in *runs* of typing (a pause longer than
//! [`ReplayConfig::pause_us`] starts a new run) with the time each run began and ended. Never a
//! key identity: a run is a sequence of numbers. Runs are pruned by age
//! ([`ReplayHistory::prune_before`]) to follow the retention setting, and serialise to bytes
//! ([`StoredRun::to_bytes`]) for the store.
//!
//! **Matching**: every run of [`ReplayConfig::ngram`] keystrokes (an *n-gram*) is indexed by
//! the coarse bins ([`ReplayConfig::bin_us`], 16 ms) of its first [`INDEX_QUANTITIES`]
//! quantities; a live n-gram probes every bin its values could have come from under
//! [`ReplayConfig::tolerance_us`] (at most 2⁴ = 16 probes), and each candidate is verified on
//! all 15 quantities: each within 5 ms ([`ReplayConfig::tolerance_us`]) and 2 ms on average
//! ([`ReplayConfig::mean_tolerance_us`]). Jitter of ±J per event moves a quantity by up to 2J
//! and by 2J/3 on average, so these bounds hold for J up to 2.5 ms, 2.5 times the 1 ms the
//! threat model names (the 0.05 ms storage rounding aside). Measured (`tikker eval injection`):
//! every ±1 and ±2 ms replay found at its 8th keystroke on aalto-dev and CMU, 98 % at ±3 ms,
//! and no human typing matched; wider bounds (7.5 ms, 3-4 ms on average) let 1-2 of the CMU
//! subjects' 400 repetitions of one password match each other. N-grams as even as machine typing or auto-repeat (holds
//! within 5 ms, intervals within 10 % of their median) are neither kept nor matched: they say
//! nothing about who typed them, and the injection detector covers them.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::KeystrokeStream;
use crate::event::KeyEvent;
use crate::keystroke::Keystroke;

/// The unit of stored timings: 100 µs.
pub const TICK_US: i64 = 100;

/// Quantities (hold, interval, hold, interval) of an n-gram that its index key is made of.
pub const INDEX_QUANTITIES: usize = 4;

/// The replay detector's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReplayConfig {
    /// Keystrokes an n-gram spans: the unit that is matched.
    pub ngram: usize,
    /// A replayed hold or interval may differ from the stored one by at most this much (µs) ...
    pub tolerance_us: i64,
    /// ... and all 2n − 1 of them by at most this much on average (µs).
    pub mean_tolerance_us: i64,
    /// Bin width of the index (µs); more than twice [`ReplayConfig::tolerance_us`], so that a
    /// value's tolerance spans at most two bins.
    pub bin_us: i64,
    /// A press more than this long after the previous one starts a new run (µs).
    pub pause_us: i64,
    /// N-grams whose holds are all within this (µs) ...
    pub min_hold_spread_us: i64,
    /// ... or whose intervals are all within this fraction of their median are not used.
    pub min_interval_spread: f64,
    /// Runs are cut at this many keystrokes, so that pruning by age is fine-grained.
    pub run_keystrokes: usize,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            ngram: 8,
            tolerance_us: 5_000,
            mean_tolerance_us: 2_000,
            bin_us: 16_000,
            pause_us: 2_000_000,
            min_hold_spread_us: 5_000,
            min_interval_spread: 0.10,
            run_keystrokes: 1_000,
        }
    }
}

/// A run of stored typing: when it began and ended, and per keystroke its hold and the interval
/// from the previous press, in [`TICK_US`] (the first keystroke's interval is 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRun {
    /// Press of its first keystroke (µs since the Unix epoch).
    pub start_us: i64,
    /// Release of its last keystroke (µs since the Unix epoch).
    pub end_us: i64,
    /// Hold then interval of each keystroke, in ticks of [`TICK_US`] (saturated at 6.5 s).
    pub timings: Vec<[u16; 2]>,
}

/// Why stored run bytes could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("replay history: {0}")]
pub struct RunBytesError(&'static str);

impl StoredRun {
    /// The run as bytes: start and end (i64, little-endian), the keystroke count (u32), then
    /// hold and interval ticks (u16 each) per keystroke.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(20 + self.timings.len() * 4);
        out.extend_from_slice(&self.start_us.to_le_bytes());
        out.extend_from_slice(&self.end_us.to_le_bytes());
        out.extend_from_slice(&(self.timings.len() as u32).to_le_bytes());
        for [hold, interval] in &self.timings {
            out.extend_from_slice(&hold.to_le_bytes());
            out.extend_from_slice(&interval.to_le_bytes());
        }
        out
    }

    /// A run from [`StoredRun::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<StoredRun, RunBytesError> {
        let i64_at = |at: usize| -> Result<i64, RunBytesError> {
            let b: [u8; 8] = bytes
                .get(at..at + 8)
                .and_then(|s| s.try_into().ok())
                .ok_or(RunBytesError("truncated header"))?;
            Ok(i64::from_le_bytes(b))
        };
        let count: [u8; 4] = bytes
            .get(16..20)
            .and_then(|s| s.try_into().ok())
            .ok_or(RunBytesError("truncated header"))?;
        let count = u32::from_le_bytes(count) as usize;
        let body = &bytes[20..];
        if body.len() != count * 4 {
            return Err(RunBytesError("length does not match the keystroke count"));
        }
        let timings = body
            .chunks_exact(4)
            .map(|c| {
                [
                    u16::from_le_bytes([c[0], c[1]]),
                    u16::from_le_bytes([c[2], c[3]]),
                ]
            })
            .collect();
        Ok(StoredRun {
            start_us: i64_at(0)?,
            end_us: i64_at(8)?,
            timings,
        })
    }
}

fn ticks(us: i64) -> u16 {
    ((us.max(0) + TICK_US / 2) / TICK_US).min(u16::MAX as i64) as u16
}

/// The 2n − 1 quantities of an n-gram (hold, interval, hold, …, hold), in µs.
fn quantities(timings: &[[u16; 2]]) -> Vec<i64> {
    let mut out = Vec::with_capacity(timings.len() * 2);
    for (i, [hold, interval]) in timings.iter().enumerate() {
        if i > 0 {
            out.push(*interval as i64 * TICK_US);
        }
        out.push(*hold as i64 * TICK_US);
    }
    out
}

/// Whether an n-gram says something about who typed it (see the module documentation).
fn informative(q: &[i64], config: &ReplayConfig) -> bool {
    let holds = q.iter().step_by(2);
    let intervals = q.iter().skip(1).step_by(2);
    let (hmin, hmax) = holds.fold((i64::MAX, i64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let mut iv: Vec<i64> = intervals.copied().collect();
    iv.sort_unstable();
    let (Some(&imin), Some(&imax)) = (iv.first(), iv.last()) else {
        return false;
    };
    let median = iv[iv.len() / 2];
    hmax - hmin > config.min_hold_spread_us
        && (imax - imin) as f64 > config.min_interval_spread * median as f64
}

fn bin_key(bins: &[i64]) -> u64 {
    // FNV-1a over the bins.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bins {
        for byte in b.to_le_bytes() {
            h ^= byte as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Stored typing rhythm, indexed for tolerant matching (see the module documentation).
#[derive(Debug, Clone)]
pub struct ReplayHistory {
    config: ReplayConfig,
    /// Runs by id; ids grow by one per run; pruned runs leave the front.
    runs: VecDeque<StoredRun>,
    first_id: u64,
    /// Index key → (run id, position of the n-gram's first keystroke).
    index: HashMap<u64, Vec<(u64, u32)>>,
    /// Per run, how many of its n-grams are indexed (the live run's last ones wait).
    indexed: HashMap<u64, usize>,
}

/// A stored n-gram that a live one matched.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Match {
    start_us: i64,
    max_deviation_us: i64,
}

impl ReplayHistory {
    /// An empty history.
    pub fn new(config: ReplayConfig) -> ReplayHistory {
        ReplayHistory {
            config,
            runs: VecDeque::new(),
            first_id: 0,
            index: HashMap::new(),
            indexed: HashMap::new(),
        }
    }

    /// A history of stored runs (oldest first), indexed.
    pub fn from_runs(config: ReplayConfig, runs: impl IntoIterator<Item = StoredRun>) -> Self {
        let mut history = ReplayHistory::new(config);
        for run in runs {
            history.runs.push_back(run);
            let id = history.first_id + history.runs.len() as u64 - 1;
            history.index_run(id);
        }
        history
    }

    /// The stored runs, oldest first.
    pub fn runs(&self) -> impl DoubleEndedIterator<Item = &StoredRun> {
        self.runs.iter()
    }

    /// Keystrokes stored.
    pub fn keystrokes(&self) -> usize {
        self.runs.iter().map(|r| r.timings.len()).sum()
    }

    /// N-grams indexed.
    pub fn indexed_ngrams(&self) -> usize {
        self.index.values().map(Vec::len).sum()
    }

    /// Forgets every run that ended before `cutoff_us` (the retention setting); returns how many
    /// runs went.
    pub fn prune_before(&mut self, cutoff_us: i64) -> usize {
        let before = self.runs.len();
        let keep: VecDeque<StoredRun> = self
            .runs
            .drain(..)
            .filter(|r| r.end_us >= cutoff_us)
            .collect();
        let gone = before - keep.len();
        if gone > 0 {
            *self = ReplayHistory::from_runs(self.config, keep);
        } else {
            self.runs = keep;
        }
        gone
    }

    fn run(&self, id: u64) -> Option<&StoredRun> {
        id.checked_sub(self.first_id)
            .and_then(|i| self.runs.get(i as usize))
    }

    /// The index key bins of an n-gram's quantities.
    fn bins(&self, q: &[i64]) -> Vec<i64> {
        q.iter()
            .take(INDEX_QUANTITIES)
            .map(|v| v.div_euclid(self.config.bin_us.max(1)))
            .collect()
    }

    /// Indexes the n-grams of run `id` not yet indexed.
    fn index_run(&mut self, id: u64) {
        let n = self.config.ngram.max(2);
        let Some(run) = self.run(id) else { return };
        let total = run.timings.len().saturating_sub(n - 1);
        let from = self.indexed.get(&id).copied().unwrap_or(0);
        let mut keys = Vec::new();
        for pos in from..total {
            let q = quantities(&run.timings[pos..pos + n]);
            if informative(&q, &self.config) {
                keys.push((bin_key(&self.bins(&q)), pos as u32));
            }
        }
        for (key, pos) in keys {
            self.index.entry(key).or_default().push((id, pos));
        }
        self.indexed.insert(id, total.max(from));
    }

    /// The stored n-gram that `q` (a live n-gram's quantities, µs) repeats, if any; candidates in
    /// run `skip.0` overlapping position `skip.1` are not considered.
    fn find(&self, q: &[i64], skip: Option<(u64, usize)>) -> Option<Match> {
        let n = self.config.ngram.max(2);
        let b = self.config.bin_us.max(1);
        // A value's tolerance must span at most two bins (see `ReplayConfig::bin_us`).
        let t = self.config.tolerance_us.min((b - 1) / 2);
        let ranges: Vec<(i64, i64)> = q
            .iter()
            .take(INDEX_QUANTITIES)
            .map(|v| ((v - t).div_euclid(b), (v + t).div_euclid(b)))
            .collect();
        let mut probe = vec![0i64; ranges.len()];
        let combos = 1usize << ranges.len();
        for mask in 0..combos {
            let mut valid = true;
            for (i, (lo, hi)) in ranges.iter().enumerate() {
                let use_hi = mask >> i & 1 == 1;
                if use_hi && hi == lo {
                    valid = false;
                    break;
                }
                probe[i] = if use_hi { *hi } else { *lo };
            }
            if !valid {
                continue;
            }
            let Some(candidates) = self.index.get(&bin_key(&probe)) else {
                continue;
            };
            for &(id, pos) in candidates {
                let pos = pos as usize;
                if let Some((skip_id, skip_pos)) = skip
                    && skip_id == id
                    && pos.abs_diff(skip_pos) < n
                {
                    continue;
                }
                let Some(run) = self.run(id) else { continue };
                let Some(stored) = run.timings.get(pos..pos + n) else {
                    continue;
                };
                let stored = quantities(stored);
                let deviations = stored.iter().zip(q).map(|(s, l)| (s - l).abs());
                let deviation = deviations.clone().max().unwrap_or(i64::MAX);
                let mean = deviations.sum::<i64>() / q.len().max(1) as i64;
                if deviation <= t && mean <= self.config.mean_tolerance_us {
                    let start_us = run.start_us
                        + run.timings[1..=pos]
                            .iter()
                            .map(|[_, i]| *i as i64 * TICK_US)
                            .sum::<i64>();
                    return Some(Match {
                        start_us,
                        max_deviation_us: deviation,
                    });
                }
            }
        }
        None
    }
}

/// Typing recognised as a replay of stored history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayFinding {
    /// Why, in plain words (no key identities).
    pub reason: String,
    /// Keystrokes the detector had seen when it fired, this one included (1-based).
    pub keystrokes: u64,
    /// Time of the keystroke that completed the matching n-gram (its release, µs).
    pub at_us: i64,
    /// When the repeated history was first typed (press of its first keystroke, µs; the sum of
    /// stored intervals since its run began, each rounded to [`TICK_US`]).
    pub original_us: i64,
    /// Keystrokes that matched.
    pub ngram: usize,
    /// The largest difference between a live and a stored hold or interval (µs).
    pub max_deviation_us: i64,
}

/// The streaming replay detector: checks each n-gram of live typing against the history, then
/// (when learning) adds it.
#[derive(Debug, Clone)]
pub struct ReplayDetector {
    history: ReplayHistory,
    stream: KeystrokeStream,
    /// Whether live typing is added to the history.
    learn: bool,
    /// The live run: its id in the history and the previous press.
    live: Option<(u64, i64)>,
    /// Live keystrokes not yet in the history when not learning (last n).
    scratch: VecDeque<[u16; 2]>,
    keystrokes: u64,
    episode: Option<usize>,
}

impl ReplayDetector {
    /// A detector over `history`; with `learn`, live typing is added to it as it is checked.
    pub fn new(history: ReplayHistory, learn: bool) -> ReplayDetector {
        ReplayDetector {
            history,
            stream: KeystrokeStream::new(),
            learn,
            live: None,
            scratch: VecDeque::new(),
            keystrokes: 0,
            episode: None,
        }
    }

    /// The history (to store, prune or inspect).
    pub fn history(&self) -> &ReplayHistory {
        &self.history
    }

    /// The history, mutable (to prune it).
    pub fn history_mut(&mut self) -> &mut ReplayHistory {
        self.live = None;
        &mut self.history
    }

    /// Keystrokes seen so far.
    pub fn keystrokes(&self) -> u64 {
        self.keystrokes
    }

    /// Ends the live run: the next keystroke starts a new one (a new session or unit).
    pub fn end_run(&mut self) {
        if let Some((id, _)) = self.live.take() {
            self.history.index_run(id);
        }
        self.scratch.clear();
    }

    /// Feeds one event (in time order); returns a finding when a completed n-gram repeats
    /// stored history and no episode is open.
    pub fn push(&mut self, event: &KeyEvent) -> Option<ReplayFinding> {
        let mut done = Vec::new();
        self.stream.push(event, |k| done.push(k));
        let mut finding = None;
        for keystroke in done {
            if let Some(f) = self.push_keystroke(keystroke) {
                finding.get_or_insert(f);
            }
        }
        finding
    }

    /// Feeds one completed keystroke (in press order; modifiers and auto-repeat left out).
    pub fn push_keystroke(&mut self, keystroke: Keystroke) -> Option<ReplayFinding> {
        self.keystrokes += 1;
        let n = self.history.config.ngram.max(2);
        let pause = self.history.config.pause_us;
        let max_run = self.history.config.run_keystrokes.max(n);
        let continues = self.live.and_then(|(id, prev)| {
            let interval = keystroke.press_us - prev;
            let run = self.history.run(id);
            let room = run.is_none_or(|r| r.timings.len() < max_run);
            (interval <= pause && room).then_some((id, interval))
        });
        if continues.is_none() {
            self.end_run();
        }
        let timing = [
            ticks(keystroke.hold_us()),
            ticks(continues.map_or(0, |(_, i)| i)),
        ];
        // The live n-gram and where it sits.
        let (gram, skip): (Vec<[u16; 2]>, Option<(u64, usize)>) = if self.learn {
            let id = match continues {
                Some((id, _)) => id,
                None => {
                    self.history.runs.push_back(StoredRun {
                        start_us: keystroke.press_us,
                        end_us: keystroke.release_us,
                        timings: Vec::new(),
                    });
                    self.history.first_id + self.history.runs.len() as u64 - 1
                }
            };
            self.live = Some((id, keystroke.press_us));
            let i = (id - self.history.first_id) as usize;
            let run = self.history.runs.get_mut(i)?;
            run.timings.push(timing);
            run.end_us = run.end_us.max(keystroke.release_us);
            let len = run.timings.len();
            if len < n {
                return None;
            }
            (run.timings[len - n..].to_vec(), Some((id, len - n)))
        } else {
            let id = continues.map_or(u64::MAX, |(id, _)| id);
            self.live = Some((id, keystroke.press_us));
            self.scratch.push_back(timing);
            while self.scratch.len() > n {
                self.scratch.pop_front();
            }
            if self.scratch.len() < n {
                return None;
            }
            (self.scratch.iter().copied().collect(), None)
        };
        // Live quantities in µs as measured, not as stored.
        let q = quantities(&gram);
        let found = if informative(&q, &self.history.config) {
            self.history.find(&q, skip)
        } else {
            None
        };
        if let Some((id, _)) = skip {
            // Index the n-gram just checked (and any before it), after the check.
            self.history.index_run(id);
        }
        let Some(m) = found else {
            if let Some(clean) = self.episode.as_mut() {
                *clean += 1;
                if *clean >= n {
                    self.episode = None;
                }
            }
            return None;
        };
        if self.episode.replace(0).is_some() {
            return None;
        }
        Some(ReplayFinding {
            reason: format!(
                "the last {n} keystrokes repeat the timing of typing stored at {} to within \
                 {:.1} ms on every hold and interval: a replay of recorded typing",
                crate_time(m.start_us),
                m.max_deviation_us as f64 / 1000.0
            ),
            keystrokes: self.keystrokes,
            at_us: keystroke.release_us,
            original_us: m.start_us,
            ngram: n,
            max_deviation_us: m.max_deviation_us,
        })
    }
}

/// A time for a reason, as a person reads it: local date and time to the second, with the zone
/// (`2026-11-30 21:16:01 UTC`); the reason is stored, so it names its zone.
fn crate_time(us: i64) -> String {
    jiff::Timestamp::from_microsecond(us)
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::system())
                .strftime("%Y-%m-%d %H:%M:%S %Z")
                .to_string()
        })
        .unwrap_or_else(|_| format!("{us} µs after 1970-01-01 UTC"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::KeyCode;

    /// A person-like rhythm from a pseudo-random sequence: intervals 80-400 ms, holds 60-160 ms.
    fn human(n: usize, seed: u64, start_us: i64) -> Vec<Keystroke> {
        let mut x = seed;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as i64
        };
        let mut t = start_us;
        (0..n)
            .map(|i| {
                let k = Keystroke {
                    key: KeyCode(30 + (i % 10) as u16),
                    press_us: t,
                    release_us: t + 60_000 + next() % 100_000,
                };
                t += 80_000 + next() % 320_000;
                k
            })
            .collect()
    }

    fn jittered(keys: &[Keystroke], shift_us: i64, seed: u64) -> Vec<Keystroke> {
        let mut x = seed;
        let mut jitter = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as i64 % 2_001 - 1_000
        };
        keys.iter()
            .map(|k| {
                let press_us = k.press_us + shift_us + jitter();
                Keystroke {
                    key: k.key,
                    press_us,
                    release_us: (k.release_us + shift_us + jitter()).max(press_us),
                }
            })
            .collect()
    }

    #[test]
    fn a_jittered_replay_of_history_is_found_and_fresh_typing_is_not() {
        let mut detector = ReplayDetector::new(ReplayHistory::new(ReplayConfig::default()), true);
        let stored = human(300, 1, 1_000_000_000_000);
        for k in &stored {
            assert_eq!(detector.push_keystroke(*k), None);
        }
        detector.end_run();
        for k in human(300, 2, 2_000_000_000_000) {
            assert_eq!(detector.push_keystroke(k), None);
        }
        detector.end_run();
        let replay = jittered(&stored[100..140], 1_000_000_000_000, 3);
        let found: Vec<ReplayFinding> = replay
            .iter()
            .filter_map(|k| detector.push_keystroke(*k))
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].keystrokes, 600 + 8);
        assert!(found[0].max_deviation_us <= 2_050);
        // 100 intervals each rounded to 0.1 ms.
        assert!((found[0].original_us - stored[100].press_us).abs() <= 2_000);
        assert!(found[0].reason.contains("replay"));
        // The original's time in plain words (a date and time), not seconds since the epoch.
        assert!(
            found[0].reason.contains("stored at 1970-01-1")
                && !found[0].reason.contains("Unix epoch"),
            "{}",
            found[0].reason
        );
    }

    #[test]
    fn history_survives_bytes_and_pruning_forgets_old_runs() {
        let mut detector = ReplayDetector::new(ReplayHistory::new(ReplayConfig::default()), true);
        let old = human(100, 5, 1_000_000_000_000);
        let newer = human(100, 6, 1_100_000_000_000);
        for k in old.iter().chain(&newer) {
            detector.push_keystroke(*k);
        }
        detector.end_run();
        let bytes: Vec<Vec<u8>> = detector.history().runs().map(StoredRun::to_bytes).collect();
        assert_eq!(bytes.len(), 2);
        let runs: Vec<StoredRun> = bytes
            .iter()
            .map(|b| StoredRun::from_bytes(b).unwrap())
            .collect();
        assert!(StoredRun::from_bytes(&bytes[0][..30]).is_err());
        let mut history = ReplayHistory::from_runs(ReplayConfig::default(), runs);
        assert_eq!(history.keystrokes(), 200);
        let probe = |history: ReplayHistory, keys: &[Keystroke]| {
            let mut d = ReplayDetector::new(history, false);
            jittered(keys, 10_000_000_000, 9)
                .iter()
                .filter_map(|k| d.push_keystroke(*k))
                .count()
        };
        assert_eq!(probe(history.clone(), &old[..30]), 1);
        assert_eq!(history.prune_before(1_050_000_000_000), 1);
        assert_eq!(history.keystrokes(), 100);
        assert_eq!(probe(history.clone(), &old[..30]), 0);
        assert_eq!(probe(history, &newer[50..80]), 1);
    }

    #[test]
    fn even_typing_is_not_kept_or_matched() {
        let mut detector = ReplayDetector::new(ReplayHistory::new(ReplayConfig::default()), true);
        let even: Vec<Keystroke> = (0..50)
            .map(|i| Keystroke {
                key: KeyCode(30),
                press_us: i * 100_000,
                release_us: i * 100_000 + 50_000,
            })
            .collect();
        for k in &even {
            assert_eq!(detector.push_keystroke(*k), None);
        }
        assert_eq!(detector.history().indexed_ngrams(), 0);
    }
}
