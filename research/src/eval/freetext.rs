//! The reference free-text verification protocol on the Aalto data (TypeNet protocol, Acien et
//! al., IEEE T-BIOM 2022), and the scaled-Manhattan baseline.
//!
//! Protocol, for each participant `u` (participants in the order given, normally sorted by
//! numeric id):
//! - **enrolment**: the first `G` sentences of `u` (in typing order);
//! - **genuine queries**: the last 5 sentences of `u` (disjoint from the enrolment while
//!   `G + 5 <= 15`; a participant with fewer than `G + 5` sentences is skipped and counted);
//! - **impostor queries**: one sentence from each of `K` other participants (default 500),
//!   chosen deterministically by [`impostor_queries`]: a splitmix64 generator seeded with
//!   `seed ^ (index of u · 0x9E3779B97F4A7C15)` drives a partial Fisher–Yates shuffle of the other
//!   participants' indices (the first `K` of the shuffle are the impostors), and for each impostor
//!   in turn the next generator output modulo its number of sentences picks which of its
//!   sentences is used (so any of the 15, uniformly);
//! - every query is scored against the enrolment (a distance: larger = less like `u`);
//! - per participant, the equal-error rate from the ROC of its genuine vs impostor distances
//!   ([`eer`]); the mean and standard deviation over participants are reported, for all
//!   participants and separately for the first and second half (by position in the list).
//!
//! Work is split over `threads` threads with `std::thread::scope` (participants interleaved).
//! [`evaluate`] runs the protocol for any verifier; [`evaluate_freetext`] for
//! [`tikker_core::verify::freetext`] (profile = [`Profile`] of the enrolment sentences, compiled once into a
//! [`Verifier`]; every sentence's [`Window`] is prepared once); [`evaluate_baseline`] for the
//! scaled-Manhattan baselines ([`BaselineKind`]).

use std::time::{Duration, Instant};

use crate::dataset::{Participant, Sentence};
use crate::eval::mean_sd;
use tikker_core::features;
use tikker_core::profile::{IntMap, Profile};
use tikker_core::verify::freetext::{Params, Verifier, Window};

/// Number of genuine query sentences per participant (the last ones).
pub const GENUINE_QUERIES: usize = 5;

/// Configuration of one evaluation run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvalConfig {
    /// Number of enrolment sentences (the first ones).
    pub gallery: usize,
    /// Number of impostor participants per target (one sentence each).
    pub impostors: usize,
    /// Seed of the impostor selection.
    pub seed: u64,
    /// Worker threads.
    pub threads: usize,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            gallery: 5,
            impostors: 500,
            seed: 0x7469_6b6b_6572,
            threads: 2,
        }
    }
}

/// Outcome of one evaluation run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EvalResult {
    /// Per-participant EER (`None` for skipped participants), in input order.
    pub per_user: Vec<Option<f64>>,
    /// Mean and sd of the per-user EER over all evaluated participants.
    pub all: (f64, f64),
    /// Mean and sd over the first half of the participants (by position).
    pub first_half: (f64, f64),
    /// Mean and sd over the second half.
    pub second_half: (f64, f64),
    /// Participants skipped (too few sentences).
    pub skipped: usize,
    /// Queries scored.
    pub queries: u64,
    /// Wall-clock time of the run (excluding data loading).
    pub elapsed: Duration,
}

pub use tikker_core::sampling::SplitMix64;

/// The impostor queries of target `target`: `(participant index, sentence index)` pairs, one per
/// impostor, `min(k, n - 1)` of them. `sentences_of(j)` gives participant `j`'s sentence count.
pub fn impostor_queries(
    n: usize,
    target: usize,
    k: usize,
    seed: u64,
    sentences_of: impl Fn(usize) -> usize,
) -> Vec<(usize, usize)> {
    let mut rng = SplitMix64(seed ^ (target as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut others: Vec<usize> = (0..n).filter(|&j| j != target).collect();
    let k = k.min(others.len());
    for i in 0..k {
        let j = i + rng.below(others.len() - i);
        others.swap(i, j);
    }
    others.truncate(k);
    others
        .into_iter()
        .map(|j| (j, rng.below(sentences_of(j))))
        .collect()
}

/// Equal-error rate of distances (larger = more likely an impostor), as
/// [`crate::eval::roc::equal_error_rate`] computes it; NaN distances count as `+inf` (rejected);
/// `None` when either side is empty.
pub fn eer(genuine: &[f64], impostor: &[f64]) -> Option<f64> {
    if genuine.is_empty() || impostor.is_empty() {
        return None;
    }
    let clean = |xs: &[f64]| -> Vec<f64> {
        xs.iter()
            .map(|&x| if x.is_nan() { f64::INFINITY } else { x })
            .collect()
    };
    Some(crate::eval::roc::equal_error_rate(
        &clean(genuine),
        &clean(impostor),
    ))
}

/// Runs the protocol with any verifier: `enrol(u, enrolment sentences)` builds a model of
/// participant `u`, `score(model, participant, sentence)` returns a distance.
pub fn evaluate<M, E, S>(
    participants: &[Participant],
    cfg: &EvalConfig,
    enrol: E,
    score: S,
) -> EvalResult
where
    E: Fn(usize, &[Sentence]) -> M + Sync,
    S: Fn(&M, usize, usize) -> f64 + Sync,
{
    let start = Instant::now();
    let n = participants.len();
    let threads = cfg.threads.clamp(1, 64);
    let mut per_user: Vec<Option<f64>> = vec![None; n];
    let mut queries = 0u64;
    let sentences_of = |j: usize| participants[j].sentences.len();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let enrol = &enrol;
                let score = &score;
                scope.spawn(move || {
                    let mut res = Vec::new();
                    let mut q = 0u64;
                    for u in (t..n).step_by(threads) {
                        let p = &participants[u];
                        let ns = p.sentences.len();
                        if cfg.gallery == 0 || ns < cfg.gallery + GENUINE_QUERIES {
                            continue;
                        }
                        let model = enrol(u, &p.sentences[..cfg.gallery]);
                        let genuine: Vec<f64> = (ns - GENUINE_QUERIES..ns)
                            .map(|s| score(&model, u, s))
                            .collect();
                        let imp: Vec<f64> =
                            impostor_queries(n, u, cfg.impostors, cfg.seed, sentences_of)
                                .into_iter()
                                .map(|(j, s)| score(&model, j, s))
                                .collect();
                        q += (genuine.len() + imp.len()) as u64;
                        res.push((u, eer(&genuine, &imp)));
                    }
                    (res, q)
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok((res, q)) => {
                    queries += q;
                    for (u, e) in res {
                        per_user[u] = e;
                    }
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    let pick = |range: std::ops::Range<usize>| -> Vec<f64> {
        per_user[range].iter().filter_map(|e| *e).collect()
    };
    let half = n / 2;
    EvalResult {
        all: mean_sd(&pick(0..n)),
        first_half: mean_sd(&pick(0..half)),
        second_half: mean_sd(&pick(half..n)),
        skipped: per_user.iter().filter(|e| e.is_none()).count(),
        per_user,
        queries,
        elapsed: start.elapsed(),
    }
}

/// Pre-transformed windows of every sentence of every participant (`[participant][sentence]`).
pub fn prepare_windows(participants: &[Participant]) -> Vec<Vec<Window>> {
    participants
        .iter()
        .map(|p| {
            p.sentences
                .iter()
                .map(|s| Window::new(&s.keystrokes))
                .collect()
        })
        .collect()
}

/// Runs the protocol with the free-text verifier of [`tikker_core::verify::freetext`].
pub fn evaluate_freetext(
    participants: &[Participant],
    windows: &[Vec<Window>],
    cfg: &EvalConfig,
    params: &Params,
) -> EvalResult {
    evaluate(
        participants,
        cfg,
        |_, enrol| {
            let prof = Profile::from_windows(enrol.iter().map(|s| s.keystrokes.as_slice()));
            Verifier::new(&prof, params)
        },
        |v, j, s| v.score_window(&windows[j][s]).distance,
    )
}

/// Which features the scaled-Manhattan baseline uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaselineKind {
    /// Two features per sentence: the median hold time and the median press→press latency
    /// over the whole sentence (the reference baseline).
    Global,
    /// One feature per key (its median hold in the sentence) and per digraph (its median
    /// press→press latency); only the features a query shares with the template are compared.
    PerKey,
}

/// Per-sentence features of the baseline: `(feature id, median in ms)`, sorted by id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BaselineFeatures {
    /// `(feature id, median ms)`. [`BaselineKind::Global`]: id 0 = hold, 1 = PPT.
    /// [`BaselineKind::PerKey`]: hold features are the key, digraph features
    /// `0x1_0000_0000 | pair_id`.
    pub values: Vec<(u64, f64)>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

impl BaselineFeatures {
    /// Computes the features of one sentence.
    pub fn new(s: &Sentence, kind: BaselineKind) -> BaselineFeatures {
        let t = features::extract(&s.keystrokes);
        let holds = t.holds.iter().filter(|h| h.1 >= 0);
        let mut values: Vec<(u64, f64)> = match kind {
            BaselineKind::Global => {
                let mut h: Vec<f64> = holds.map(|x| x.1 as f64 / 1000.0).collect();
                let mut p: Vec<f64> = t
                    .digraphs
                    .iter()
                    .map(|d| d.ppt_us as f64 / 1000.0)
                    .collect();
                vec![(0, median(&mut h)), (1, median(&mut p))]
            }
            BaselineKind::PerKey => {
                let mut groups: IntMap<u64, Vec<f64>> = IntMap::default();
                for &(k, h) in holds {
                    groups
                        .entry(u64::from(k))
                        .or_default()
                        .push(h as f64 / 1000.0);
                }
                for d in &t.digraphs {
                    groups
                        .entry((1u64 << 32) | u64::from(d.pair()))
                        .or_default()
                        .push(d.ppt_us as f64 / 1000.0);
                }
                groups
                    .into_iter()
                    .map(|(k, mut v)| (k, median(&mut v)))
                    .collect()
            }
        };
        values.retain(|v| v.1.is_finite());
        values.sort_by_key(|x| x.0);
        BaselineFeatures { values }
    }
}

/// Template of the scaled-Manhattan baseline (Killourhy & Maxion's "Manhattan (scaled)"): per
/// feature, the mean of the enrolment sentences' values and their mean absolute deviation
/// from that mean, floored at 10 % of the mean (which also covers a single enrolment
/// sentence) and at 1 ms.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BaselineTemplate {
    /// Per feature id: `(mean, scale)`.
    pub features: IntMap<u64, (f64, f64)>,
}

impl BaselineTemplate {
    /// Builds the template from the enrolment sentences' features.
    pub fn new(enrol: &[&BaselineFeatures]) -> BaselineTemplate {
        let mut groups: IntMap<u64, Vec<f64>> = IntMap::default();
        for f in enrol {
            for &(k, v) in &f.values {
                groups.entry(k).or_default().push(v);
            }
        }
        let features = groups
            .into_iter()
            .map(|(k, v)| {
                let m = v.iter().sum::<f64>() / v.len() as f64;
                let a = v.iter().map(|x| (x - m).abs()).sum::<f64>() / v.len() as f64;
                (k, (m, a.max(0.1 * m).max(1.0)))
            })
            .collect();
        BaselineTemplate { features }
    }

    /// Mean scaled absolute deviation `|x − mean| / scale` over the features shared with the
    /// query (1e6 when none is shared).
    pub fn distance(&self, q: &BaselineFeatures) -> f64 {
        let (mut sum, mut n) = (0.0, 0usize);
        for (k, v) in &q.values {
            if let Some((m, a)) = self.features.get(k) {
                sum += (v - m).abs() / a;
                n += 1;
            }
        }
        if n == 0 { 1e6 } else { sum / n as f64 }
    }
}

/// Per-sentence baseline features of every participant (`[participant][sentence]`).
pub fn prepare_baseline(
    participants: &[Participant],
    kind: BaselineKind,
) -> Vec<Vec<BaselineFeatures>> {
    participants
        .iter()
        .map(|p| {
            p.sentences
                .iter()
                .map(|s| BaselineFeatures::new(s, kind))
                .collect()
        })
        .collect()
}

/// Runs the protocol with the scaled-Manhattan baseline on prepared features.
pub fn evaluate_baseline(
    participants: &[Participant],
    feats: &[Vec<BaselineFeatures>],
    cfg: &EvalConfig,
) -> EvalResult {
    evaluate(
        participants,
        cfg,
        |u, enrol| BaselineTemplate::new(&feats[u][..enrol.len()].iter().collect::<Vec<_>>()),
        |t, j, s| t.distance(&feats[j][s]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eer_perfect_and_reversed_and_tied() {
        assert_eq!(eer(&[0.0, 1.0], &[2.0, 3.0]), Some(0.0));
        assert_eq!(eer(&[2.0, 3.0], &[0.0, 1.0]), Some(1.0));
        let e = eer(&[1.0, 1.0], &[1.0, 1.0]).unwrap_or(-1.0);
        assert!((e - 0.5).abs() < 1e-12);
        assert_eq!(eer(&[], &[1.0]), None);
    }

    #[test]
    fn eer_interpolates() {
        // genuine 1, 3; impostor 2, 4: at t=1: fa 0, miss .5; t=2: fa .5, miss .5 -> 0.5? no:
        // t=1 -> (fa 0, miss 0.5); t=2 -> (fa 0.5, miss 0.5): crosses at d2 = 0 -> 0.5.
        let e = eer(&[1.0, 3.0], &[2.0, 4.0]).unwrap_or(-1.0);
        assert!((e - 0.5).abs() < 1e-12);
        // genuine 1,2,3,10 ; impostor 4..=9 -> one genuine above every impostor.
        let e = eer(&[1.0, 2.0, 3.0, 10.0], &[4.0, 5.0, 6.0, 7.0, 8.0, 9.0]).unwrap_or(-1.0);
        // after t=3: fa 0, miss .25; t=4: fa 1/6, miss .25; t=5: fa 2/6 > .25 ->
        // interpolate between (1/6, .25) and (2/6, .25): d1 = .25-1/6, d2 = .25-2/6.
        let (d1, d2) = (0.25 - 1.0 / 6.0, 0.25 - 2.0 / 6.0);
        let want = 1.0 / 6.0 + d1 / (d1 - d2) * (1.0 / 6.0);
        assert!((e - want).abs() < 1e-12, "{e} vs {want}");
    }

    #[test]
    fn impostors_are_deterministic_distinct_and_exclude_target() {
        let a = impostor_queries(100, 7, 50, 1, |_| 15);
        let b = impostor_queries(100, 7, 50, 1, |_| 15);
        assert_eq!(a, b);
        assert_eq!(a.len(), 50);
        let mut ids: Vec<usize> = a.iter().map(|x| x.0).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 50);
        assert!(!ids.contains(&7));
        assert!(a.iter().all(|x| x.1 < 15));
        assert_eq!(impostor_queries(3, 0, 500, 1, |_| 15).len(), 2);
    }

    #[test]
    fn real_participants_genuine_closer_than_impostors() {
        let users = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data/aalto-dev/users");
        assert!(
            users.is_dir(),
            "the Aalto data set is expected at {} (the project's ../shared/data)",
            users.display()
        );
        let read = |id: &str| {
            crate::dataset::aalto::read_participant(&users.join(format!("{id}_keystrokes.txt.gz")))
                .unwrap()
        };
        let ps: Vec<Participant> = ["1002", "202", "2917", "1005"]
            .iter()
            .map(|i| read(i))
            .collect();
        let windows = prepare_windows(&ps);
        for (u, p) in ps.iter().enumerate() {
            let prof =
                Profile::from_windows(p.sentences[..5].iter().map(|s| s.keystrokes.as_slice()));
            let v = Verifier::new(&prof, &Params::default());
            let genuine: Vec<f64> = (10..15)
                .map(|s| v.score_window(&windows[u][s]).distance)
                .collect();
            let impostor: Vec<f64> = (0..ps.len())
                .filter(|&j| j != u)
                .flat_map(|j| windows[j].iter().map(|w| v.score_window(w).distance))
                .collect();
            let (g, i) = (mean_sd(&genuine).0, mean_sd(&impostor).0);
            assert!(g < i, "participant {}: genuine {g} vs impostor {i}", p.id);
            let e = eer(&genuine, &impostor).unwrap_or(1.0);
            assert!(e < 0.3, "participant {}: EER {e}", p.id);
        }
    }
}
