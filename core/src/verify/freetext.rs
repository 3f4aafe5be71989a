//! Free-text verifier: how unlike a profile's owner is a window of typing?
//!
//! [`score`] (or [`Verifier::score`], which caches the per-profile work) compares a window of
//! keystrokes (e.g. one ~50-keystroke sentence or a 150-keystroke window, any text) with a
//! [`Profile`] built from the claimed person's enrolment only, and returns an anomaly
//! **distance** (larger = less like the owner; 0 is not special, only the order matters for a
//! given profile) together with how much the window shared with the profile.
//!
//! # What is computed
//!
//! **Features.** Every keystroke of the window gives a hold time, every digraph (consecutive
//! pair with no pause > 2 s, see [`crate::features`]) a press→press latency (PPT) and a
//! release→press latency (RPT). They are transformed as in the profile: `h = ln HT`,
//! `p = ln PPT` (ms, clamped to 5..2000 ms), `r = asinh(RPT / 50 ms)` (signed; clamped to ±2 s).
//! Three *families* are scored: hold (items = keys), PPT and RPT (items = ordered key pairs).
//!
//! **Per-item prediction** (a normal–normal model per item with shrunk variances). For a family
//! `f` with prior variances `v0_f`, `vb_f`:
//! - pooled within-item variance of the person: `V = (SS + v0_f·df_pool) / (DF + df_pool)`,
//!   where `SS`, `DF` sum the Welford `m2` and `n − 1` over the profile's items with `n ≥ 2`;
//! - the item's variance: `v = (m2 + V·df_item) / (n − 1 + df_item)`;
//! - the item's prior mean `m0`: for holds, the person's mean log hold `g`; for a digraph
//!   `a→b`, the additive "margin" prior `m0 = M_out(a) + M_in(b) − g` where `g` is the person's
//!   mean over all digraphs, and `M_out(a) = (n_a·mean_a + k·g) / (n_a + k)` is the person's
//!   mean over digraphs leaving `a` shrunk to `g` with `k = margin_k` (`M_in(b)` likewise over
//!   digraphs entering `b`);
//! - posterior of the item's mean from its `n` samples: precision `π = n/v + 1/vb_f`, mean
//!   `μ = (n·mean/v + m0/vb_f) / π`; predictive variance `s² = v + 1/π`. An item the profile
//!   never saw gets `μ = m0`, `s² = V + vb_f`.
//! - standardised residual `z = clamp((x − μ)/s, −zmax, zmax)` and residual `e = z·s`.
//!
//! **Shared-offset likelihood ratio** per family. Two Gaussian hypotheses for the residuals
//! `e_1..e_n` of the window, each with a level offset `δ` common to the whole window (a person is
//! faster or slower on a given day; an impostor's overall level differs more):
//! genuine `e_i = δ + ε_i`, `ε_i ~ N(0, s_i²)`, `δ ~ N(0, τ_g²)`; impostor `e_i = δ + ε_i`,
//! `ε_i ~ N(0, s_i² + ω²)`, `δ ~ N(0, τ_b²)`. With `u_i` the item variances, the marginal
//! log-likelihood is `ℓ(u, τ) = −½[Σe²/u − (Σe/u)² / (Σ1/u + 1/τ²)] − ½Σ ln u −
//! ½ ln(1 + τ²Σ1/u)` (+ a constant that cancels), and `LLR_f = ℓ_impostor − ℓ_genuine`.
//!
//! **Components** (all 0 for an empty family), fused linearly with fixed weights
//! ([`Params::w`]):
//!
//! | name | value |
//! |---|---|
//! | `hold_abs` | mean `|z|` over holds |
//! | `hold_mean2` | `(mean z)²` over holds (coherent level shift) |
//! | `hold_absmean` | `|mean z|` over holds |
//! | `ppt_mean2` | `(mean z)²` over PPT |
//! | `overlap_z2` | `z²` of the window's count `o` of overlapping digraphs (RPT < 0) among its `m`: with the profile's rate `q = (O + 1)/(D + 2)`, `z = (o − mq) / √(mq(1 − q) + c·m²)`, `c = overlap_extra` |
//! | `llr_hold`, `llr_ppt`, `llr_rpt` | `LLR_f` of each family |
//! | `llrm_hold`, `llrm_rpt` | `LLR_f / n_f` (per item) |
//! | `unmatched` | share of the window's keystrokes whose key the profile never saw |
//! | `hold_context` | mean over the holds of keys inside a digraph the profile has seen of `min(|x − c|/σ, zmax) − min(|x − k|/σ, zmax)`: how much better (negative) the hold is predicted by the key's hold *in that digraph*, `c = (n·mean_pair + κ·k)/(n + κ)` with `κ = context_k`, than by the key's mean hold `k` alone; `σ = √V` of holds |
//! | `rank_ppt` | rank disorder ([`rank_disorder`], the R measure of Gunetti & Picardi) between the window's mean log PPT per digraph and the profile's, over the digraphs both have |
//! | `rank_hold` | the same over keys and mean log hold |
//!
//! The last three are level-free: they ask whether the owner's order of slow and fast keys and
//! key pairs, and the way a key's hold depends on its neighbour, reappear, whatever the pace of
//! the day.
//!
//! `distance = Σ w_c · component_c`. [`Score`] also gives the number of the window's
//! keystrokes whose key the profile has seen (`matched_keys`) and of its digraphs the profile
//! has seen (`matched_digraphs`), from which a caller can derive a confidence.
//!
//! # Constants
//!
//! Nothing is learned from other people: the profile is the claimed person's enrolment only.
//! The 21 structural constants and 14 fusion weights of [`Params::default`] are global
//! hyperparameters, tuned by coordinate search on the first half (by id) of the Aalto
//! development participants as a closed set (impostors drawn from that half only) with 5
//! enrolment sentences, and checked on the second half. The weights (and `context_k`) were last
//! tuned with `cargo run --release -p tikker-research --example tune_freetext --
//! ../shared/data/aalto-dev`, which never looks at the second half while searching.
//!
//! # Cost
//!
//! [`Verifier::new`] tabulates the predictions of every key and digraph of the profile once;
//! [`Verifier::score`] then costs one or three hash look-ups and a few flops per keystroke and
//! digraph, no logarithm or square root. [`score`] does both (convenient, slower).

use crate::features;
use crate::keystroke::Keystroke;
use crate::profile::{IntMap, Profile, Welford, log_ms, signed_log_ms};

/// Number of distance components.
pub const N_COMPONENTS: usize = 14;

/// Names of the distance components, in the order of [`Score::components`] and [`Params::w`].
pub const COMPONENT_NAMES: [&str; N_COMPONENTS] = [
    "hold_abs",
    "hold_mean2",
    "hold_absmean",
    "ppt_mean2",
    "overlap_z2",
    "llr_hold",
    "llr_ppt",
    "llr_rpt",
    "llrm_hold",
    "llrm_rpt",
    "unmatched",
    "hold_context",
    "rank_ppt",
    "rank_hold",
];

/// Hyperparameters of the shared-offset likelihood ratio of one feature family.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LlrParams {
    /// Genuine level-offset sd `τ_g` (units of the transformed feature).
    pub tau_g: f64,
    /// Impostor level-offset sd `τ_b`.
    pub tau_b: f64,
    /// Impostor extra per-item sd `ω`.
    pub omega: f64,
}

/// Constants of the verifier (see the module doc for where each one enters).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// Prior within-key variance of log hold (`v0` of the hold family).
    pub v0_hold: f64,
    /// Prior within-digraph variance of log PPT.
    pub v0_ppt: f64,
    /// Prior within-digraph variance of signed-log RPT.
    pub v0_rpt: f64,
    /// Pseudo degrees of freedom of the pooled-variance prior.
    pub df_pool: f64,
    /// Pseudo degrees of freedom shrinking an item's variance to the pooled one.
    pub df_item: f64,
    /// Between-key variance of mean log hold around the person's mean (`vb` of holds).
    pub vb_hold: f64,
    /// Between-digraph variance of mean log PPT around the margin prior.
    pub vb_ppt: f64,
    /// Between-digraph variance of mean RPT around the margin prior.
    pub vb_rpt: f64,
    /// Pseudo count `k` shrinking the out-of/into margins to the person's mean.
    pub margin_k: f64,
    /// Clamp of `|z|`.
    pub zmax: f64,
    /// Over-dispersion `c` of the overlap count.
    pub overlap_extra: f64,
    /// Pseudo count shrinking a key's hold in the context of a digraph to the key's own mean
    /// hold (`hold_context`).
    pub context_k: f64,
    /// Likelihood-ratio constants of holds.
    pub llr_hold: LlrParams,
    /// Likelihood-ratio constants of PPT.
    pub llr_ppt: LlrParams,
    /// Likelihood-ratio constants of RPT.
    pub llr_rpt: LlrParams,
    /// Fusion weights of the components (see [`COMPONENT_NAMES`]).
    pub w: [f64; N_COMPONENTS],
}

impl Default for Params {
    fn default() -> Self {
        Params {
            v0_hold: 0.02,
            v0_ppt: 0.03,
            v0_rpt: 0.075,
            df_pool: 80.0,
            df_item: 1.4,
            vb_hold: 0.48,
            vb_ppt: 0.025,
            vb_rpt: 8.0,
            margin_k: 0.525,
            zmax: 1.96,
            overlap_extra: 0.007,
            context_k: 0.5,
            llr_hold: LlrParams {
                tau_g: 0.1176,
                tau_b: 0.5,
                omega: 0.1,
            },
            llr_ppt: LlrParams {
                tau_g: 0.05,
                tau_b: 0.343,
                omega: 0.1,
            },
            llr_rpt: LlrParams {
                tau_g: 0.105,
                tau_b: 0.245,
                omega: 0.42,
            },
            w: [
                2.652, 2.738, 0.7283, 1.935, 0.1938, 0.1562, 0.1488, 0.09077, 6.118, 12.999, 4.097,
                6.082, 2.883, 5.406,
            ],
        }
    }
}

impl Params {
    /// Names of the structural (non-weight) constants, for tuning tools.
    pub const STRUCTURAL: [&str; 21] = [
        "v0_hold",
        "v0_ppt",
        "v0_rpt",
        "df_pool",
        "df_item",
        "vb_hold",
        "vb_ppt",
        "vb_rpt",
        "margin_k",
        "zmax",
        "overlap_extra",
        "context_k",
        "tau_g_hold",
        "tau_b_hold",
        "omega_hold",
        "tau_g_ppt",
        "tau_b_ppt",
        "omega_ppt",
        "tau_g_rpt",
        "tau_b_rpt",
        "omega_rpt",
    ];

    /// Sets a constant by name (a structural name, or `w_<component>`); false if unknown.
    pub fn set(&mut self, name: &str, v: f64) -> bool {
        match self.slot(name) {
            Some(s) => {
                *s = v;
                true
            }
            None => false,
        }
    }

    /// Reads a constant by name.
    pub fn get(&self, name: &str) -> Option<f64> {
        let mut c = *self;
        c.slot(name).map(|s| *s)
    }

    fn slot(&mut self, name: &str) -> Option<&mut f64> {
        Some(match name {
            "v0_hold" => &mut self.v0_hold,
            "v0_ppt" => &mut self.v0_ppt,
            "v0_rpt" => &mut self.v0_rpt,
            "df_pool" => &mut self.df_pool,
            "df_item" => &mut self.df_item,
            "vb_hold" => &mut self.vb_hold,
            "vb_ppt" => &mut self.vb_ppt,
            "vb_rpt" => &mut self.vb_rpt,
            "margin_k" => &mut self.margin_k,
            "zmax" => &mut self.zmax,
            "overlap_extra" => &mut self.overlap_extra,
            "context_k" => &mut self.context_k,
            "tau_g_hold" => &mut self.llr_hold.tau_g,
            "tau_b_hold" => &mut self.llr_hold.tau_b,
            "omega_hold" => &mut self.llr_hold.omega,
            "tau_g_ppt" => &mut self.llr_ppt.tau_g,
            "tau_b_ppt" => &mut self.llr_ppt.tau_b,
            "omega_ppt" => &mut self.llr_ppt.omega,
            "tau_g_rpt" => &mut self.llr_rpt.tau_g,
            "tau_b_rpt" => &mut self.llr_rpt.tau_b,
            "omega_rpt" => &mut self.llr_rpt.omega,
            _ => {
                let i = COMPONENT_NAMES
                    .iter()
                    .position(|c| name.strip_prefix("w_") == Some(c))?;
                &mut self.w[i]
            }
        })
    }
}

/// One digraph of a window, transformed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowDigraph {
    /// Key pair (see [`features::pair_id`]).
    pub pair: u32,
    /// First key.
    pub first: u16,
    /// Second key.
    pub second: u16,
    /// Log PPT ([`log_ms`]).
    pub ppt: f64,
    /// Signed-log RPT ([`signed_log_ms`]).
    pub rpt: f64,
    /// Log hold time of the first key ([`log_ms`]).
    pub hold_first: f64,
    /// Log hold time of the second key.
    pub hold_second: f64,
}

/// A window of typing, transformed for scoring (independent of any profile, so it can be
/// prepared once and scored against many profiles).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Window {
    /// `(key, log hold)` per keystroke with a non-negative hold, in press order.
    pub holds: Vec<(u16, f64)>,
    /// Digraphs (no pause inside, both holds non-negative), in press order.
    pub digraphs: Vec<WindowDigraph>,
    /// Digraphs whose keys overlap (RPT < 0).
    pub overlaps: u32,
    /// `(key, mean log hold)` per distinct key of [`Window::holds`], in key order (for
    /// `rank_hold`).
    pub key_means: Vec<(u16, f64)>,
    /// `(key pair, mean log PPT)` per distinct pair of [`Window::digraphs`], in pair order (for
    /// `rank_ppt`).
    pub pair_means: Vec<(u32, f64)>,
}

impl Window {
    /// Transforms a keystroke sequence (sorted by press time, or sorted here).
    pub fn new(keys: &[Keystroke]) -> Window {
        let t = features::extract(keys);
        let holds: Vec<(u16, f64)> = t
            .holds
            .iter()
            .filter(|(_, h)| *h >= 0)
            .map(|&(k, h)| (k, log_ms(h)))
            .collect();
        let mut overlaps = 0;
        let digraphs: Vec<WindowDigraph> = t
            .digraphs
            .iter()
            .filter(|d| d.ht1_us >= 0 && d.ht2_us >= 0)
            .map(|d| {
                overlaps += u32::from(d.rpt_us < 0);
                WindowDigraph {
                    pair: d.pair(),
                    first: d.first,
                    second: d.second,
                    ppt: log_ms(d.ppt_us),
                    rpt: signed_log_ms(d.rpt_us),
                    hold_first: log_ms(d.ht1_us),
                    hold_second: log_ms(d.ht2_us),
                }
            })
            .collect();
        Window {
            key_means: item_means(holds.clone()),
            pair_means: item_means(digraphs.iter().map(|d| (d.pair, d.ppt)).collect()),
            holds,
            digraphs,
            overlaps,
        }
    }
}

/// Result of scoring a window against a profile.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Score {
    /// Anomaly distance: larger means less like the profile's owner.
    pub distance: f64,
    /// Keystrokes of the window whose key the profile has seen.
    pub matched_keys: u32,
    /// Digraphs of the window whose key pair the profile has seen.
    pub matched_digraphs: u32,
    /// Keystrokes scored.
    pub holds: u32,
    /// Digraphs scored.
    pub digraphs: u32,
    /// The components (see [`COMPONENT_NAMES`]).
    pub components: [f64; N_COMPONENTS],
}

/// `(ss + prior·prior_df) / (df + prior_df)`, falling back to `prior` if not finite/positive.
fn shrunk_var(ss: f64, df: f64, prior: f64, prior_df: f64) -> f64 {
    let v = (ss.max(0.0) + prior * prior_df) / (df.max(0.0) + prior_df);
    if v.is_finite() && v > 1e-12 {
        v
    } else {
        prior.max(1e-12)
    }
}

/// Constants of one family in one profile.
#[derive(Clone, Copy, Debug)]
struct Family {
    /// Pooled within-item variance `V`.
    vw: f64,
    /// Between-item variance `vb`.
    vb: f64,
    /// `df_item`.
    df_item: f64,
    /// `ω²`.
    omega2: f64,
}

/// Predictive distribution of one item, with the constants the scorer needs.
#[derive(Clone, Copy, Debug, Default)]
struct Pred {
    mu: f64,
    sd: f64,
    inv_sd: f64,
    /// `1 / s²`.
    inv_var: f64,
    /// `1 / (s² + ω²)`.
    inv_u: f64,
    /// `ln s² − ln(s² + ω²)`.
    ln_ratio: f64,
}

impl Family {
    fn new(pool: (f64, f64), v0: f64, vb: f64, p: &Params, omega: f64) -> Family {
        Family {
            vw: shrunk_var(pool.0, pool.1, v0, p.df_pool),
            vb: vb.max(1e-12),
            df_item: p.df_item,
            omega2: omega * omega,
        }
    }

    fn pred_var(&self, var: f64, mu: f64) -> Pred {
        let var = var.max(1e-12);
        let sd = var.sqrt();
        let u = var + self.omega2;
        Pred {
            mu,
            sd,
            inv_sd: 1.0 / sd,
            inv_var: 1.0 / var,
            inv_u: 1.0 / u,
            ln_ratio: (var / u).ln(),
        }
    }

    /// Prediction of an item with statistics `w` and prior mean `m0`.
    fn predict(&self, w: &Welford, m0: f64) -> Pred {
        if w.n == 0 {
            return self.unseen(m0);
        }
        let n = w.n as f64;
        let vk = shrunk_var(w.m2, n - 1.0, self.vw, self.df_item);
        let prec = n / vk + 1.0 / self.vb;
        let mu = (n * w.mean / vk + m0 / self.vb) / prec;
        self.pred_var(vk + 1.0 / prec, mu)
    }

    /// Prediction of an item never seen.
    fn unseen(&self, m0: f64) -> Pred {
        self.pred_var(self.vw + self.vb, m0)
    }
}

/// Running sums of one family over a window.
#[derive(Clone, Copy, Debug, Default)]
struct Acc {
    n: f64,
    sum_z: f64,
    sum_abs_z: f64,
    // Genuine hypothesis: Σ1/s², Σe/s², Σe²/s² (= Σz²).
    ga: f64,
    gb: f64,
    gc: f64,
    // Impostor hypothesis: Σ1/u, Σe/u, Σe²/u.
    ia: f64,
    ib: f64,
    ic: f64,
    // Σ(ln s² − ln u).
    ln_ratio: f64,
}

impl Acc {
    #[inline]
    fn push(&mut self, x: f64, q: &Pred, zmax: f64) {
        let z = ((x - q.mu) * q.inv_sd).clamp(-zmax, zmax);
        if !z.is_finite() {
            return;
        }
        let e = z * q.sd;
        self.n += 1.0;
        self.sum_z += z;
        self.sum_abs_z += z.abs();
        self.ga += q.inv_var;
        self.gb += e * q.inv_var;
        self.gc += z * z;
        self.ia += q.inv_u;
        self.ib += e * q.inv_u;
        self.ic += e * e * q.inv_u;
        self.ln_ratio += q.ln_ratio;
    }

    fn mean_z(&self) -> f64 {
        if self.n > 0.0 {
            self.sum_z / self.n
        } else {
            0.0
        }
    }

    fn mean_abs_z(&self) -> f64 {
        if self.n > 0.0 {
            self.sum_abs_z / self.n
        } else {
            0.0
        }
    }

    /// `ℓ_impostor − ℓ_genuine` (0 when empty).
    fn llr(&self, q: &LlrParams) -> f64 {
        if self.n == 0.0 {
            return 0.0;
        }
        let quad = |a: f64, b: f64, c: f64, tau: f64| {
            let t2 = (tau * tau).max(1e-12);
            -0.5 * (c - b * b / (a + 1.0 / t2)) - 0.5 * (1.0 + t2 * a).ln()
        };
        let v = quad(self.ia, self.ib, self.ic, q.tau_b) - quad(self.ga, self.gb, self.gc, q.tau_g)
            + 0.5 * self.ln_ratio;
        if v.is_finite() { v } else { 0.0 }
    }
}

/// What the verifier tabulates for a key the profile has seen.
#[derive(Clone, Copy, Debug)]
struct KeyPred {
    hold: Pred,
    /// The key's mean log hold in the profile.
    mean: f64,
}

/// What the verifier tabulates for a digraph the profile has seen.
#[derive(Clone, Copy, Debug)]
struct DigraphPred {
    ppt: Pred,
    rpt: Pred,
    /// The digraph's mean log PPT in the profile.
    ppt_mean: f64,
    /// For the first and the second key: `(hold expected in this digraph, the key's mean
    /// hold)`, or `None` when the profile has no hold of the key in this context.
    context: [Option<(f64, f64)>; 2],
}

/// The normalised rank disorder of paired values (the R measure of Gunetti and Picardi, "Keystroke
/// analysis of free text", ACM TISSEC 8(3), 2005): the values of each side are ranked (ties
/// share their mean rank) and `Σ |rank_query − rank_profile|` is divided by its largest
/// possible value, `⌊n²/2⌋`. 0 = the same order, about 2/3 for unrelated orders, 1 = reversed.
/// Fewer than 3 pairs carry no order: 0.5.
pub fn rank_disorder(pairs: &[(f64, f64)]) -> f64 {
    let n = pairs.len();
    if n < 3 {
        return 0.5;
    }
    let query = fractional_ranks(pairs.iter().map(|p| p.0));
    let profile = fractional_ranks(pairs.iter().map(|p| p.1));
    let disorder: f64 = query.iter().zip(&profile).map(|(a, b)| (a - b).abs()).sum();
    disorder / ((n * n) / 2) as f64
}

/// Ranks from 0 of `values`, ties given their mean rank.
fn fractional_ranks(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let values: Vec<f64> = values.collect();
    let n = values.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let mut ranks = vec![0.0; n];
    let mut start = 0;
    while start < n {
        let mut end = start;
        while end + 1 < n && values[order[end + 1]] == values[order[start]] {
            end += 1;
        }
        let mean = (start + end) as f64 / 2.0;
        for &i in &order[start..=end] {
            ranks[i] = mean;
        }
        start = end + 1;
    }
    ranks
}

/// The mean per item of `(item, value)` observations, in item order.
fn item_means<K: Copy + Ord>(mut observed: Vec<(K, f64)>) -> Vec<(K, f64)> {
    observed.sort_by_key(|o| o.0);
    let mut means = Vec::new();
    let mut rest = observed.as_slice();
    while let Some(&(item, _)) = rest.first() {
        let same = rest.iter().take_while(|o| o.0 == item).count();
        let (group, tail) = rest.split_at(same);
        rest = tail;
        means.push((item, group.iter().map(|o| o.1).sum::<f64>() / same as f64));
    }
    means
}

/// `(window mean, profile mean)` of the items of `means` that `profile_mean` knows, in item
/// order.
fn shared_means<K: Copy>(
    means: &[(K, f64)],
    profile_mean: impl Fn(K) -> Option<f64>,
) -> Vec<(f64, f64)> {
    means
        .iter()
        .filter_map(|&(item, mean)| profile_mean(item).map(|reference| (mean, reference)))
        .collect()
}

/// A profile compiled for fast repeated scoring with given constants: the predictions of
/// every key and digraph it has seen, and its margins, are tabulated once.
#[derive(Clone, Debug)]
pub struct Verifier {
    params: Params,
    ppt: Family,
    rpt: Family,
    /// Person's mean log PPT and signed-log RPT.
    g_ppt: f64,
    g_rpt: f64,
    /// `√V` of holds: the person's pooled within-key sd of log hold.
    hold_sd: f64,
    keys: IntMap<u16, KeyPred>,
    unseen_key: Pred,
    digraphs: IntMap<u32, DigraphPred>,
    /// Per key: shrunk out-of margins `(PPT, RPT)`.
    out_of: IntMap<u16, (f64, f64)>,
    /// Per key: shrunk into margins `(PPT, RPT)`.
    into: IntMap<u16, (f64, f64)>,
    overlap_rate: f64,
}

/// Typical values used only for an empty profile (no data at all): 100 ms holds, 200 ms PPT,
/// 100 ms RPT.
const EMPTY_HOLD: f64 = 4.605;
const EMPTY_PPT: f64 = 5.298;
const EMPTY_RPT: f64 = 1.444;

impl Verifier {
    /// Compiles a profile with the given constants.
    pub fn new(profile: &Profile, params: &Params) -> Verifier {
        let p = params;
        let d = profile.derived();
        let hold = Family::new(d.hold_within, p.v0_hold, p.vb_hold, p, p.llr_hold.omega);
        let ppt = Family::new(d.ppt_within, p.v0_ppt, p.vb_ppt, p, p.llr_ppt.omega);
        let rpt = Family::new(d.rpt_within, p.v0_rpt, p.vb_rpt, p, p.llr_rpt.omega);
        let g_hold = profile.hold.mean().unwrap_or(EMPTY_HOLD);
        let g_ppt = profile.ppt.mean().unwrap_or(EMPTY_PPT);
        let g_rpt = profile.rpt.mean().unwrap_or(EMPTY_RPT);
        let shrink = |w: &Welford, g: f64| {
            let n = w.n as f64;
            let v = (n * w.mean + p.margin_k * g) / (n + p.margin_k);
            if v.is_finite() { v } else { g }
        };
        let margins = |m: &IntMap<u16, crate::profile::DigraphStats>| -> IntMap<u16, (f64, f64)> {
            m.iter()
                .map(|(k, s)| (*k, (shrink(&s.ppt, g_ppt), shrink(&s.rpt, g_rpt))))
                .collect()
        };
        let out_of = margins(&profile.out_of);
        let into = margins(&profile.into);
        let keys = profile
            .keys
            .iter()
            .map(|(k, w)| {
                let pred = KeyPred {
                    hold: hold.predict(w, g_hold),
                    mean: w.mean().unwrap_or(g_hold),
                };
                (*k, pred)
            })
            .collect();
        let mut v = Verifier {
            params: *p,
            ppt,
            rpt,
            g_ppt,
            g_rpt,
            hold_sd: hold.vw.sqrt(),
            keys,
            unseen_key: hold.unseen(g_hold),
            digraphs: IntMap::default(),
            out_of,
            into,
            overlap_rate: (profile.overlaps as f64 + 1.0) / (profile.digraph_count as f64 + 2.0),
        };
        let context = |in_pair: &Welford, key: u16| -> Option<(f64, f64)> {
            let key_mean = profile.keys.get(&key)?.mean()?;
            let n = in_pair.n as f64;
            let expected = (n * in_pair.mean()? + p.context_k * key_mean) / (n + p.context_k);
            expected.is_finite().then_some((expected, key_mean))
        };
        let digraphs = profile
            .digraphs
            .iter()
            .map(|(pair, s)| {
                let (first, second) = ((pair >> 16) as u16, (pair & 0xffff) as u16);
                let (mp, mr) = v.margin_prior(first, second);
                let pred = DigraphPred {
                    ppt: v.ppt.predict(&s.ppt, mp),
                    rpt: v.rpt.predict(&s.rpt, mr),
                    ppt_mean: s.ppt.mean().unwrap_or(mp),
                    context: [
                        context(&s.hold_first, first),
                        context(&s.hold_second, second),
                    ],
                };
                (*pair, pred)
            })
            .collect();
        v.digraphs = digraphs;
        v
    }

    /// The constants in use.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Additive margin prior `(PPT, RPT)` of digraph `first → second`.
    #[inline]
    fn margin_prior(&self, first: u16, second: u16) -> (f64, f64) {
        let (op, or) = self
            .out_of
            .get(&first)
            .copied()
            .unwrap_or((self.g_ppt, self.g_rpt));
        let (ip, ir) = self
            .into
            .get(&second)
            .copied()
            .unwrap_or((self.g_ppt, self.g_rpt));
        (op + ip - self.g_ppt, or + ir - self.g_rpt)
    }

    /// Scores a keystroke window (sorted by press time, or sorted here).
    pub fn score(&self, window: &[Keystroke]) -> Score {
        self.score_window(&Window::new(window))
    }

    /// Scores a transformed window.
    pub fn score_window(&self, w: &Window) -> Score {
        let p = &self.params;
        let mut out = Score::default();
        let mut ah = Acc::default();
        for &(k, x) in &w.holds {
            let q = match self.keys.get(&k) {
                Some(q) => {
                    out.matched_keys += 1;
                    &q.hold
                }
                None => &self.unseen_key,
            };
            ah.push(x, q, p.zmax);
        }
        let mut ap = Acc::default();
        let mut ar = Acc::default();
        // Σ (|z| of a hold expected in its digraph − |z| of it expected from its key alone).
        let (mut context_gain, mut context_n) = (0.0, 0.0);
        let scaled = |x: f64, mean: f64| ((x - mean) / self.hold_sd).abs().min(p.zmax);
        for dg in &w.digraphs {
            let (qp, qr) = match self.digraphs.get(&dg.pair) {
                Some(q) => {
                    out.matched_digraphs += 1;
                    for (x, context) in [dg.hold_first, dg.hold_second].into_iter().zip(q.context) {
                        if let Some((expected, key_mean)) = context {
                            let gain = scaled(x, expected) - scaled(x, key_mean);
                            if gain.is_finite() {
                                context_gain += gain;
                                context_n += 1.0;
                            }
                        }
                    }
                    (q.ppt, q.rpt)
                }
                None => {
                    let (mp, mr) = self.margin_prior(dg.first, dg.second);
                    (self.ppt.unseen(mp), self.rpt.unseen(mr))
                }
            };
            ap.push(dg.ppt, &qp, p.zmax);
            ar.push(dg.rpt, &qr, p.zmax);
        }
        let rank_ppt = rank_disorder(&shared_means(&w.pair_means, |pair| {
            self.digraphs.get(&pair).map(|q| q.ppt_mean)
        }));
        let rank_hold = rank_disorder(&shared_means(&w.key_means, |key| {
            self.keys.get(&key).map(|q| q.mean)
        }));
        out.holds = ah.n as u32;
        out.digraphs = ap.n as u32;
        let m = w.digraphs.len() as f64;
        let overlap_z = if m > 0.0 {
            let q = self.overlap_rate;
            let var = m * q * (1.0 - q) + p.overlap_extra * m * m;
            (f64::from(w.overlaps) - m * q) / var.max(1e-9).sqrt()
        } else {
            0.0
        };
        let (hm, pm) = (ah.mean_z(), ap.mean_z());
        let (lh, lp, lr) = (ah.llr(&p.llr_hold), ap.llr(&p.llr_ppt), ar.llr(&p.llr_rpt));
        out.components = [
            ah.mean_abs_z(),
            hm * hm,
            hm.abs(),
            pm * pm,
            overlap_z * overlap_z,
            lh,
            lp,
            lr,
            lh / ah.n.max(1.0),
            lr / ar.n.max(1.0),
            if ah.n > 0.0 {
                1.0 - f64::from(out.matched_keys) / ah.n
            } else {
                0.0
            },
            if context_n > 0.0 {
                context_gain / context_n
            } else {
                0.0
            },
            rank_ppt,
            rank_hold,
        ];
        let d: f64 = out
            .components
            .iter()
            .zip(p.w.iter())
            .map(|(c, w)| c * w)
            .sum();
        out.distance = if d.is_finite() { d } else { f64::MAX };
        out
    }
}

/// Scores a keystroke window against a profile with the default constants (compiles the
/// profile each call; use [`Verifier`] to score many windows against one profile).
pub fn score(profile: &Profile, window: &[Keystroke]) -> Score {
    Verifier::new(profile, &Params::default()).score(window)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typing(seed: u64, n: usize, hold_ms: i64, gap_ms: i64) -> Vec<Keystroke> {
        let mut s = seed;
        let mut t = 0;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let key = 65 + ((s >> 33) % 8) as u16;
                let jitter = ((s >> 45) % 30) as i64;
                t += gap_ms + jitter;
                Keystroke {
                    key: crate::key::KeyCode(key),
                    press_us: t * 1000,
                    release_us: (t + hold_ms + jitter / 2) * 1000,
                }
            })
            .collect()
    }

    #[test]
    fn own_typing_scores_closer_than_different_typing() {
        let enrol: Vec<Vec<Keystroke>> = (0..5).map(|i| typing(i, 60, 90, 150)).collect();
        let prof = Profile::from_windows(enrol.iter().map(|w| w.as_slice()));
        let v = Verifier::new(&prof, &Params::default());
        let own = v.score(&typing(99, 60, 90, 150));
        let other = v.score(&typing(99, 60, 140, 260));
        assert!(own.distance < other.distance, "{own:?} vs {other:?}");
        assert_eq!(own.holds, 60);
        assert_eq!(own.matched_keys, 60);
        assert!(own.matched_digraphs > 0);
        // The convenience function gives the same result.
        assert_eq!(score(&prof, &typing(99, 60, 90, 150)), own);
    }

    #[test]
    fn empty_inputs_are_finite() {
        let empty = Profile::new();
        let s = score(&empty, &typing(1, 20, 90, 150));
        assert!(s.distance.is_finite());
        assert_eq!(s.matched_keys, 0);
        let prof = Profile::from_windows([typing(1, 30, 90, 150).as_slice()]);
        let s = score(&prof, &[]);
        assert_eq!(s.holds, 0);
        // An empty window carries no evidence: every component is 0 but the two rank
        // disorders, which say "no order" (0.5).
        for (name, value) in COMPONENT_NAMES.iter().zip(s.components) {
            let neutral = if name.starts_with("rank_") { 0.5 } else { 0.0 };
            assert_eq!(value, neutral, "{name}");
        }
        assert!(s.distance.is_finite());
    }

    #[test]
    fn rank_disorder_is_zero_for_the_same_order_one_for_the_reverse_and_shares_ties() {
        let same = [(1.0, 10.0), (2.0, 20.0), (3.0, 30.0), (4.0, 40.0)];
        assert_eq!(rank_disorder(&same), 0.0);
        let reversed = [(4.0, 10.0), (3.0, 20.0), (2.0, 30.0), (1.0, 40.0)];
        // Σ|Δrank| = 3 + 1 + 1 + 3 = 8 = ⌊4²/2⌋.
        assert_eq!(rank_disorder(&reversed), 1.0);
        // Odd n: ranks 0..4 reversed give 4 + 2 + 0 + 2 + 4 = 12 = ⌊25/2⌋.
        let five: Vec<(f64, f64)> = (0..5).map(|i| (f64::from(4 - i), f64::from(i))).collect();
        assert_eq!(rank_disorder(&five), 1.0);
        // Ties share their mean rank: query ranks 0.5, 0.5, 2 against 0, 1, 2.
        let tied = [(1.0, 1.0), (1.0, 2.0), (2.0, 3.0)];
        assert_eq!(rank_disorder(&tied), 1.0 / 4.0);
        // Too few pairs carry no order.
        assert_eq!(rank_disorder(&same[..2]), 0.5);
        assert_eq!(rank_disorder(&[]), 0.5);
    }

    #[test]
    fn a_hold_that_depends_on_the_previous_key_is_predicted_in_context() {
        // Key 30 is held 60 ms after key 31 and 150 ms after key 32 (the owner's habit).
        let habit = |owners: bool, seed: i64| -> Vec<Keystroke> {
            let mut t = 0;
            let mut keys = Vec::new();
            for i in 0..40 {
                let previous = if i % 2 == 0 { 31 } else { 32 };
                let hold = if (previous == 31) == owners { 60 } else { 150 };
                let jitter = (i * 7 + seed) % 5;
                keys.push(Keystroke::at_ms(previous, t, t + 90));
                keys.push(Keystroke::at_ms(30, t + 200, t + 200 + hold + jitter));
                // The same key always follows, so only the previous key tells the holds apart.
                keys.push(Keystroke::at_ms(33, t + 450, t + 530));
                t += 700;
            }
            keys
        };
        let profile = Profile::from_windows([habit(true, 0).as_slice(), habit(true, 3).as_slice()]);
        let v = Verifier::new(&profile, &Params::default());
        let context = COMPONENT_NAMES
            .iter()
            .position(|c| *c == "hold_context")
            .unwrap();
        let own = v.score(&habit(true, 1)).components[context];
        // The same keys and holds, but each hold after the other neighbour.
        let swapped = v.score(&habit(false, 1)).components[context];
        assert!(
            own < 0.0,
            "the owner's habit is predicted better in context: {own}"
        );
        assert!(
            swapped > 0.0,
            "the opposite habit is predicted worse: {swapped}"
        );
    }

    #[test]
    fn params_by_name() {
        let mut p = Params::default();
        assert!(p.set("zmax", 3.0));
        assert_eq!(p.get("zmax"), Some(3.0));
        assert!(p.set("w_unmatched", 1.5));
        assert_eq!(p.w[10], 1.5);
        assert!(!p.set("nope", 1.0));
        for n in Params::STRUCTURAL {
            assert!(p.get(n).is_some(), "{n}");
        }
    }
}
