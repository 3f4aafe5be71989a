//! Streaming, mergeable typing profile of one person.
//!
//! A [`Profile`] is built in one pass over keystroke windows ([`Profile::update`]); two profiles
//! built on disjoint windows can be combined with [`Profile::merge`], giving the same statistics
//! (up to floating-point rounding) as one pass over all the windows. Nothing grows with the amount
//! of typing except the number of distinct keys and key pairs seen (bounded by the keyboard), so
//! a profile's size is bounded.
//!
//! What it keeps (all times are transformed first, see [`log_ms`] and [`signed_log_ms`]):
//! - per key: Welford moments of the log hold time;
//! - per digraph (ordered key pair of consecutive keystrokes, no pause in between): Welford
//!   moments of the log press→press latency (PPT) and of the release→press latency (RPT, in ms,
//!   signed because keys overlap);
//! - per first key and per second key of a digraph: Welford moments of the log PPT and RPT (the
//!   "out of" and "into" margins, used as a within-person prior for digraphs not yet seen);
//! - global: Welford moments of log hold, log PPT and RPT over all keystrokes/digraphs, the count
//!   of overlapping digraphs (RPT < 0, "rollover"), fixed log-spaced histograms of hold time and
//!   PPT (a bounded quantile sketch, [`LogHistogram`]), and Welford moments of the per-window mean
//!   log hold and mean log PPT (how much a person's level drifts from one window to the next);
//! - counts: keystrokes, digraphs, windows, pauses.
//!
//! Derived statistics that summarise many keys (the pooled within-key variance, the spread of
//! digraph means around their prior) are recomputed after every update or merge.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::features::{self, Digraph};
use serde::{Deserialize, Serialize};

use crate::keystroke::Keystroke;
use crate::typing::SpeedMeter;

/// A small, fast, deterministic hasher for integer keys (multiply-rotate, FxHash style).
#[derive(Clone, Copy, Debug, Default)]
pub struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u16(&mut self, i: u16) {
        self.write_u64(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// Hash map keyed by small integers, using [`IntHasher`].
pub type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

/// Lower clamp of hold times and latencies before taking logs (ms).
pub const MIN_MS: f64 = 5.0;
/// Upper clamp of hold times and latencies before taking logs (ms).
pub const MAX_MS: f64 = 2000.0;

/// `ln(ms)` of a duration in microseconds, clamped to `[MIN_MS, MAX_MS]` first.
pub fn log_ms(us: i64) -> f64 {
    ((us as f64) / 1000.0).clamp(MIN_MS, MAX_MS).ln()
}

/// Scale (ms) of the signed-log transform [`signed_log_ms`].
pub const SIGNED_SCALE_MS: f64 = 50.0;

/// `asinh(ms / SIGNED_SCALE_MS)` of a signed duration in microseconds (clamped to
/// `[-MAX_MS, MAX_MS]` ms first): linear near zero, logarithmic for long latencies, defined for
/// the negative release→press latencies of overlapping keys.
pub fn signed_log_ms(us: i64) -> f64 {
    ((us as f64) / 1000.0 / SIGNED_SCALE_MS)
        .clamp(-MAX_MS / SIGNED_SCALE_MS, MAX_MS / SIGNED_SCALE_MS)
        .asinh()
}

/// Running count, mean and sum of squared deviations (Welford), mergeable (Chan et al.).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Welford {
    /// Number of samples.
    pub n: u64,
    /// Mean of the samples (0 when empty).
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    pub m2: f64,
}

impl Welford {
    /// Adds one sample.
    pub fn push(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Keeps a share `keep` (0–1] of the weight of the samples seen so far, so that samples
    /// added later count for more (the mean stays; the count and spread shrink together).
    pub fn fade(&mut self, keep: f64) {
        if self.n == 0 {
            return;
        }
        let kept = ((self.n as f64 * keep).round() as u64).max(1);
        self.m2 *= kept as f64 / self.n as f64;
        self.n = kept;
    }

    /// Merges another accumulator into this one.
    pub fn merge(&mut self, o: &Welford) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        let (na, nb, nf) = (self.n as f64, o.n as f64, n as f64);
        self.mean += d * nb / nf;
        self.m2 += o.m2 + d * d * na * nb / nf;
        self.n = n;
    }

    /// Unbiased sample variance (`None` with fewer than two samples).
    pub fn var(&self) -> Option<f64> {
        (self.n >= 2).then(|| (self.m2 / (self.n - 1) as f64).max(0.0))
    }

    /// Mean, or `None` when empty.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }
}

/// Number of bins of a [`LogHistogram`].
pub const HIST_BINS: usize = 48;

/// Fixed histogram over `ln(ms)` in `[ln MIN_MS, ln MAX_MS]` with [`HIST_BINS`] equal bins
/// (a bounded, exactly mergeable quantile sketch; relative resolution about 13 % per bin).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogHistogram {
    /// Counts per bin.
    #[serde(with = "bin_counts")]
    pub counts: [u32; HIST_BINS],
    /// Total count.
    pub total: u64,
}

impl Default for LogHistogram {
    fn default() -> Self {
        LogHistogram {
            counts: [0; HIST_BINS],
            total: 0,
        }
    }
}

impl LogHistogram {
    fn lo() -> f64 {
        MIN_MS.ln()
    }
    fn width() -> f64 {
        (MAX_MS.ln() - MIN_MS.ln()) / HIST_BINS as f64
    }

    /// Adds one `ln(ms)` value (clamped into range).
    pub fn push(&mut self, log_ms: f64) {
        if !log_ms.is_finite() {
            return;
        }
        let b = ((log_ms - Self::lo()) / Self::width()).floor();
        let b = if b <= 0.0 {
            0
        } else {
            (b as usize).min(HIST_BINS - 1)
        };
        self.counts[b] = self.counts[b].saturating_add(1);
        self.total += 1;
    }

    /// Keeps a share `keep` (0–1] of every bin's count.
    pub fn fade(&mut self, keep: f64) {
        for count in &mut self.counts {
            *count = (f64::from(*count) * keep).round() as u32;
        }
        self.total = self.counts.iter().map(|&c| u64::from(c)).sum();
    }

    /// Adds the counts of another histogram.
    pub fn merge(&mut self, o: &LogHistogram) {
        for (a, b) in self.counts.iter_mut().zip(o.counts.iter()) {
            *a = a.saturating_add(*b);
        }
        self.total += o.total;
    }

    /// Approximate `q`-quantile in `ln(ms)` (linear within a bin); `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.total == 0 || !q.is_finite() {
            return None;
        }
        let target = q.clamp(0.0, 1.0) * self.total as f64;
        let mut acc = 0.0;
        for (i, &c) in self.counts.iter().enumerate() {
            let c = f64::from(c);
            if c > 0.0 && acc + c >= target {
                let frac = ((target - acc) / c).clamp(0.0, 1.0);
                return Some(Self::lo() + (i as f64 + frac) * Self::width());
            }
            acc += c;
        }
        Some(MAX_MS.ln())
    }
}

/// Statistics of one digraph (ordered key pair).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DigraphStats {
    /// Log press→press latency.
    pub ppt: Welford,
    /// Release→press latency, signed-log transformed ([`signed_log_ms`]).
    pub rpt: Welford,
    /// Log hold time of the first key when the second follows it (kept for the entries of
    /// [`Profile::digraphs`] only; empty in the margins and in profiles saved before it existed).
    #[serde(default)]
    pub hold_first: Welford,
    /// Log hold time of the second key after the first (as [`DigraphStats::hold_first`]).
    #[serde(default)]
    pub hold_second: Welford,
}

impl DigraphStats {
    fn fade(&mut self, keep: f64) {
        for w in [
            &mut self.ppt,
            &mut self.rpt,
            &mut self.hold_first,
            &mut self.hold_second,
        ] {
            w.fade(keep);
        }
    }

    fn merge(&mut self, o: &DigraphStats) {
        self.ppt.merge(&o.ppt);
        self.rpt.merge(&o.rpt);
        self.hold_first.merge(&o.hold_first);
        self.hold_second.merge(&o.hold_second);
    }
}

/// Keystrokes per window when a profile is built from the store.
pub const STORE_WINDOW: usize = 1024;

/// Streaming, mergeable typing profile of one person (see the module doc).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Profile {
    /// Keystrokes the profile rests on.
    pub keystrokes: u64,
    /// Digraphs (consecutive pairs without a pause) the profile rests on.
    pub digraph_count: u64,
    /// Windows (sequences) given to [`Profile::update`].
    pub windows: u64,
    /// Pauses (press→press gaps above 2 s) seen.
    pub pauses: u64,
    /// Digraphs whose keys overlapped (RPT < 0).
    pub overlaps: u64,
    /// Log hold time over all keystrokes.
    pub hold: Welford,
    /// Log PPT over all digraphs.
    pub ppt: Welford,
    /// RPT (signed-log) over all digraphs.
    pub rpt: Welford,
    /// Histogram of log hold time.
    pub hold_hist: LogHistogram,
    /// Histogram of log PPT.
    pub ppt_hist: LogHistogram,
    /// Per-window mean log hold (one sample per window with at least one keystroke).
    pub window_hold: Welford,
    /// Per-window mean log PPT (one sample per window with at least one digraph).
    pub window_ppt: Welford,
    /// Per key: log hold time.
    pub keys: IntMap<u16, Welford>,
    /// Per digraph (see [`features::pair_id`]): log PPT and RPT.
    pub digraphs: IntMap<u32, DigraphStats>,
    /// PPT and RPT of digraphs grouped by their first key.
    pub out_of: IntMap<u16, DigraphStats>,
    /// PPT and RPT of digraphs grouped by their second key.
    pub into: IntMap<u16, DigraphStats>,
    /// Typing speed: characters and active typing time ([`crate::typing`]).
    #[serde(default)]
    pub speed: SpeedMeter,
    /// Press→press intervals in ms, pauses excluded (for rhythm consistency).
    #[serde(default)]
    pub intervals_ms: Welford,
    /// Recomputed from the maps after every change (and after loading).
    #[serde(skip)]
    derived: Derived,
}

/// Statistics derived from the maps, refreshed after each update/merge.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Derived {
    /// Pooled within-key variance of log hold: `(sum of per-key m2, degrees of freedom)`.
    pub hold_within: (f64, f64),
    /// Pooled within-digraph variance of log PPT: `(sum of m2, degrees of freedom)`.
    pub ppt_within: (f64, f64),
    /// Pooled within-digraph variance of signed-log RPT: `(sum of m2, degrees of freedom)`.
    pub rpt_within: (f64, f64),
}

impl Profile {
    /// An empty profile.
    pub fn new() -> Profile {
        Profile::default()
    }

    /// Builds a profile from windows (each a sequence of keystrokes sorted by press time;
    /// unsorted windows are sorted first).
    pub fn from_windows<'a, I: IntoIterator<Item = &'a [Keystroke]>>(windows: I) -> Profile {
        let mut p = Profile::new();
        for w in windows {
            p.update_no_refresh(w);
        }
        p.refresh();
        p
    }

    /// Adds one window of typing (one pass; digraphs do not span windows or pauses).
    pub fn update(&mut self, window: &[Keystroke]) {
        self.update_no_refresh(window);
        self.refresh();
    }

    /// Lets older typing fade: every statistic keeps a share `keep` (0–1] of its weight, so the
    /// typing learned after this counts for more. Applied whenever a profile that keeps learning
    /// passes a size, this is exponential forgetting in steps.
    pub fn fade(&mut self, keep: f64) {
        let keep = keep.clamp(f64::MIN_POSITIVE, 1.0);
        let scale = |n: &mut u64| *n = (*n as f64 * keep).round() as u64;
        scale(&mut self.keystrokes);
        scale(&mut self.digraph_count);
        scale(&mut self.windows);
        scale(&mut self.pauses);
        scale(&mut self.overlaps);
        for w in [
            &mut self.hold,
            &mut self.ppt,
            &mut self.rpt,
            &mut self.window_hold,
            &mut self.window_ppt,
            &mut self.intervals_ms,
        ] {
            w.fade(keep);
        }
        self.hold_hist.fade(keep);
        self.ppt_hist.fade(keep);
        for w in self.keys.values_mut() {
            w.fade(keep);
        }
        let margins = self.out_of.values_mut().chain(self.into.values_mut());
        for stats in self.digraphs.values_mut().chain(margins) {
            stats.fade(keep);
        }
        self.speed.active_us = (self.speed.active_us as f64 * keep).round() as i64;
        self.speed.characters = (self.speed.characters as f64 * keep).round() as u64;
        self.refresh();
    }

    /// Words per minute over the profile's active typing time ([`crate::typing`]).
    pub fn wpm(&self) -> Option<f64> {
        self.speed.wpm()
    }

    /// Rhythm consistency `1 − std/mean` of press→press intervals (pauses excluded), in [0, 1].
    pub fn rhythm_consistency(&self) -> Option<f64> {
        let std = self.intervals_ms.var()?.sqrt();
        crate::features::rhythm_consistency(self.intervals_ms.mean, std)
    }

    /// The profile as JSON, for `tikker.db`.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// A profile read back from [`Profile::to_json`], with its derived statistics recomputed.
    pub fn from_json(json: &str) -> Result<Profile, serde_json::Error> {
        let mut profile: Profile = serde_json::from_str(json)?;
        profile.refresh();
        Ok(profile)
    }

    fn update_no_refresh(&mut self, window: &[Keystroke]) {
        if window.is_empty() {
            return;
        }
        if !features::is_sorted_by_press(window) {
            let mut v = window.to_vec();
            v.sort_by_key(|k| k.press_us);
            self.update_sorted(&v);
        } else {
            self.update_sorted(window);
        }
    }

    fn update_sorted(&mut self, window: &[Keystroke]) {
        self.windows += 1;
        self.speed.break_stream();
        for k in window {
            self.speed.observe_press(k.press_us, k.key);
        }
        let mut wh = Welford::default();
        let mut wp = Welford::default();
        let mut prev: Option<&Keystroke> = None;
        for k in window {
            let ht = k.hold_us();
            if ht >= 0 {
                let h = log_ms(ht);
                self.keystrokes += 1;
                self.hold.push(h);
                self.hold_hist.push(h);
                self.keys.entry(k.key.0).or_default().push(h);
                wh.push(h);
            }
            if let Some(a) = prev {
                let d = Digraph::of(a, k);
                if features::is_pause(d.ppt_us) {
                    self.pauses += 1;
                } else if d.ht1_us >= 0 && d.ht2_us >= 0 {
                    self.intervals_ms.push(d.ppt_us as f64 / 1000.0);
                    self.add_digraph(&d);
                    wp.push(log_ms(d.ppt_us));
                }
            }
            prev = Some(k);
        }
        if wh.n > 0 {
            self.window_hold.push(wh.mean);
        }
        if wp.n > 0 {
            self.window_ppt.push(wp.mean);
        }
    }

    fn add_digraph(&mut self, d: &Digraph) {
        let p = log_ms(d.ppt_us);
        let r = signed_log_ms(d.rpt_us);
        self.digraph_count += 1;
        if d.rpt_us < 0 {
            self.overlaps += 1;
        }
        self.ppt.push(p);
        self.rpt.push(r);
        self.ppt_hist.push(p);
        let s = self.digraphs.entry(d.pair()).or_default();
        s.ppt.push(p);
        s.rpt.push(r);
        s.hold_first.push(log_ms(d.ht1_us));
        s.hold_second.push(log_ms(d.ht2_us));
        for m in [
            self.out_of.entry(d.first).or_default(),
            self.into.entry(d.second).or_default(),
        ] {
            m.ppt.push(p);
            m.rpt.push(r);
        }
    }

    /// Merges another profile (built on other windows) into this one.
    pub fn merge(&mut self, o: &Profile) {
        self.keystrokes += o.keystrokes;
        self.digraph_count += o.digraph_count;
        self.windows += o.windows;
        self.pauses += o.pauses;
        self.overlaps += o.overlaps;
        self.hold.merge(&o.hold);
        self.ppt.merge(&o.ppt);
        self.rpt.merge(&o.rpt);
        self.hold_hist.merge(&o.hold_hist);
        self.ppt_hist.merge(&o.ppt_hist);
        self.window_hold.merge(&o.window_hold);
        self.window_ppt.merge(&o.window_ppt);
        self.speed.merge(&o.speed);
        self.intervals_ms.merge(&o.intervals_ms);
        for (k, w) in &o.keys {
            self.keys.entry(*k).or_default().merge(w);
        }
        for (k, s) in &o.digraphs {
            self.digraphs.entry(*k).or_default().merge(s);
        }
        for (mine, theirs) in [(&mut self.out_of, &o.out_of), (&mut self.into, &o.into)] {
            for (k, s) in theirs {
                mine.entry(*k).or_default().merge(s);
            }
        }
        self.refresh();
    }

    /// Recomputes the derived statistics from the maps. Every change does it; call it only after
    /// deserialising a profile that is part of another structure ([`Profile::from_json`] does it
    /// for a profile of its own).
    pub fn refresh(&mut self) {
        let pool = |it: &mut dyn Iterator<Item = &Welford>| {
            let (mut ss, mut df) = (0.0, 0.0);
            for w in it {
                if w.n >= 2 {
                    ss += w.m2;
                    df += (w.n - 1) as f64;
                }
            }
            (ss, df)
        };
        self.derived = Derived {
            hold_within: pool(&mut self.keys.values()),
            ppt_within: pool(&mut self.digraphs.values().map(|d| &d.ppt)),
            rpt_within: pool(&mut self.digraphs.values().map(|d| &d.rpt)),
        };
    }

    /// Statistics derived from the per-key and per-digraph maps.
    pub fn derived(&self) -> &Derived {
        &self.derived
    }

    /// Share of digraphs whose keys overlapped (0 when there is no digraph).
    pub fn overlap_rate(&self) -> f64 {
        if self.digraph_count == 0 {
            0.0
        } else {
            self.overlaps as f64 / self.digraph_count as f64
        }
    }
}

/// Builds a [`Profile`] from a time-ordered stream of key events, session by session, with
/// bounded memory: each session's events are paired into keystrokes
/// ([`KeystrokeAssembler`](crate::keystroke::KeystrokeAssembler)) and fed in windows of
/// [`STORE_WINDOW`] keystrokes. The store drives it over stored typing; the result equals
/// [`Profile::from_windows`] over the same keystrokes.
#[derive(Debug)]
pub struct ProfileBuilder {
    profile: Profile,
    window: Vec<Keystroke>,
    assembler: crate::keystroke::KeystrokeAssembler,
    session: Option<i64>,
}

impl Default for ProfileBuilder {
    fn default() -> Self {
        ProfileBuilder::new()
    }
}

impl ProfileBuilder {
    /// An empty builder.
    pub fn new() -> ProfileBuilder {
        ProfileBuilder {
            profile: Profile::new(),
            window: Vec::with_capacity(STORE_WINDOW),
            assembler: crate::keystroke::KeystrokeAssembler::new(),
            session: None,
        }
    }

    /// Feeds one event of session `session` (any id that tells sessions apart; events of one
    /// session in time order, sessions one after another).
    pub fn push(&mut self, session: i64, event: &crate::event::KeyEvent) {
        if self.session != Some(session) {
            self.assembler.finish(|k| self.window.push(k));
            self.profile.update_no_refresh(&self.window);
            self.window.clear();
            self.assembler = crate::keystroke::KeystrokeAssembler::new();
            self.session = Some(session);
        }
        self.assembler.push(event, |k| self.window.push(k));
        if self.window.len() >= STORE_WINDOW {
            self.profile.update_no_refresh(&self.window);
            self.window.clear();
        }
    }

    /// The profile of everything fed.
    pub fn finish(mut self) -> Profile {
        self.assembler.finish(|k| self.window.push(k));
        self.profile.update_no_refresh(&self.window);
        self.profile.refresh();
        self.profile
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ks(key: u16, press_ms: i64, release_ms: i64) -> Keystroke {
        Keystroke::at_ms(key, press_ms, release_ms)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
    }

    fn same_welford(a: &Welford, b: &Welford) -> bool {
        a.n == b.n && close(a.mean, b.mean) && close(a.m2, b.m2)
    }

    fn window(seed: u64, n: usize) -> Vec<Keystroke> {
        let mut s = seed;
        let mut next = || {
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let mut t = 0i64;
        (0..n)
            .map(|_| {
                let key = 65 + (next() % 6) as u16;
                t += 40 + (next() % 400) as i64;
                if next() % 20 == 0 {
                    t += 2500; // a pause
                }
                let hold = 50 + (next() % 150) as i64;
                ks(key, t, t + hold)
            })
            .collect()
    }

    #[test]
    fn welford_matches_two_pass() {
        let xs = [1.0, 2.0, 4.0, 7.0, 11.0];
        let mut w = Welford::default();
        xs.iter().for_each(|&x| w.push(x));
        let mean = xs.iter().sum::<f64>() / 5.0;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4.0;
        assert!(close(w.mean, mean));
        assert!(close(w.var().unwrap_or(f64::NAN), var));
        let mut a = Welford::default();
        let mut b = Welford::default();
        xs[..2].iter().for_each(|&x| a.push(x));
        xs[2..].iter().for_each(|&x| b.push(x));
        a.merge(&b);
        assert!(same_welford(&a, &w));
        w.push(f64::NAN);
        assert_eq!(w.n, 5);
    }

    #[test]
    fn merge_of_two_halves_equals_one_pass() {
        let windows: Vec<Vec<Keystroke>> = (0..6).map(|i| window(i, 60)).collect();
        let all = Profile::from_windows(windows.iter().map(|w| w.as_slice()));
        let mut a = Profile::from_windows(windows[..3].iter().map(|w| w.as_slice()));
        let mut b = Profile::new();
        for w in &windows[3..] {
            b.update(w);
        }
        a.merge(&b);
        assert_eq!(a.keystrokes, all.keystrokes);
        assert_eq!(a.keystrokes, 360);
        assert_eq!(a.digraph_count, all.digraph_count);
        assert_eq!(a.pauses, all.pauses);
        assert!(all.pauses > 0);
        assert_eq!(a.overlaps, all.overlaps);
        assert_eq!(a.windows, 6);
        assert!(same_welford(&a.hold, &all.hold));
        assert!(same_welford(&a.ppt, &all.ppt));
        assert!(same_welford(&a.rpt, &all.rpt));
        assert!(same_welford(&a.window_hold, &all.window_hold));
        assert!(same_welford(&a.window_ppt, &all.window_ppt));
        assert_eq!(a.hold_hist, all.hold_hist);
        assert_eq!(a.ppt_hist, all.ppt_hist);
        assert_eq!(a.keys.len(), all.keys.len());
        for (k, w) in &all.keys {
            assert!(same_welford(w, &a.keys[k]));
        }
        assert_eq!(a.digraphs.len(), all.digraphs.len());
        for (k, d) in &all.digraphs {
            assert!(same_welford(&d.ppt, &a.digraphs[k].ppt));
            assert!(same_welford(&d.rpt, &a.digraphs[k].rpt));
            assert!(same_welford(&d.hold_first, &a.digraphs[k].hold_first));
            assert!(same_welford(&d.hold_second, &a.digraphs[k].hold_second));
            assert_eq!(d.hold_first.n, d.ppt.n);
        }
        for (k, w) in &all.out_of {
            assert!(same_welford(&w.ppt, &a.out_of[k].ppt));
            assert!(same_welford(&w.rpt, &a.out_of[k].rpt));
        }
        for (k, w) in &all.into {
            assert!(same_welford(&w.ppt, &a.into[k].ppt));
            assert!(same_welford(&w.rpt, &a.into[k].rpt));
        }
        let (da, dall) = (a.derived(), all.derived());
        assert!(close(da.hold_within.0, dall.hold_within.0));
        assert!(close(da.ppt_within.1, dall.ppt_within.1));
    }

    #[test]
    fn a_digraph_keeps_the_holds_of_its_keys_in_that_context() {
        // "a" is held 80 ms before "b" and 140 ms before "c".
        let typing = [
            ks(65, 0, 80),
            ks(66, 200, 300),
            ks(65, 600, 740),
            ks(67, 800, 860),
        ];
        let p = Profile::from_windows([typing.as_slice()]);
        let ab = &p.digraphs[&((65 << 16) | 66)];
        let ac = &p.digraphs[&((65 << 16) | 67)];
        assert!(close(ab.hold_first.mean, 80f64.ln()));
        assert!(close(ab.hold_second.mean, 100f64.ln()));
        assert!(close(ac.hold_first.mean, 140f64.ln()));
        assert!(close(ac.hold_second.mean, 60f64.ln()));
        // The margins keep no holds.
        assert_eq!(p.out_of[&65].hold_first.n, 0);
    }

    #[test]
    fn a_profile_saved_before_digraph_holds_existed_still_loads() {
        let windows: Vec<Vec<Keystroke>> = (0..2).map(|i| window(i, 40)).collect();
        let profile = Profile::from_windows(windows.iter().map(Vec::as_slice));
        let mut value: serde_json::Value =
            serde_json::from_str(&profile.to_json().unwrap()).unwrap();
        let mut removed = 0;
        for map in ["digraphs", "out_of", "into"] {
            for stats in value[map].as_object_mut().unwrap().values_mut() {
                let stats = stats.as_object_mut().unwrap();
                removed += usize::from(stats.remove("hold_first").is_some());
                stats.remove("hold_second");
            }
        }
        assert!(removed > 0);
        let back = Profile::from_json(&value.to_string()).unwrap();
        assert_eq!(back.digraphs.len(), profile.digraphs.len());
        assert!(
            back.digraphs
                .values()
                .all(|d| d.hold_first.n == 0 && d.ppt.n > 0)
        );
    }

    #[test]
    fn histogram_quantiles() {
        let mut h = LogHistogram::default();
        assert_eq!(h.quantile(0.5), None);
        for ms in [50.0f64, 100.0, 100.0, 200.0] {
            h.push(ms.ln());
        }
        let med = h.quantile(0.5).unwrap_or(0.0).exp();
        assert!((med / 100.0 - 1.0).abs() < 0.15, "median {med}");
        h.push(f64::NAN);
        assert_eq!(h.total, 4);
    }

    #[test]
    fn negative_holds_are_ignored_and_empty_is_safe() {
        let mut p = Profile::new();
        p.update(&[]);
        assert_eq!(p.windows, 0);
        assert_eq!(p.overlap_rate(), 0.0);
        p.update(&[ks(65, 0, 100), ks(66, 200, 150)]);
        assert_eq!(p.keystrokes, 1);
        assert_eq!(p.digraph_count, 0);
    }

    #[test]
    fn fading_keeps_means_and_shrinks_weights() {
        let windows: Vec<Vec<Keystroke>> = (0..4).map(|i| window(i, 80)).collect();
        let mut profile = Profile::from_windows(windows.iter().map(Vec::as_slice));
        let (mean, n) = (profile.hold.mean, profile.hold.n);
        let var = profile.hold.var().unwrap();
        profile.fade(0.5);
        assert_eq!(profile.hold.mean, mean);
        assert_eq!(profile.hold.n, n / 2);
        assert!((profile.hold.var().unwrap() - var).abs() < var * 0.02);
        assert_eq!(profile.keystrokes, 160);
        // New typing now weighs twice as much as it would have.
        let before = profile.hold.n;
        profile.update(&window(9, 80));
        assert_eq!(profile.hold.n, before + 80);
    }

    #[test]
    fn a_profile_round_trips_through_json() {
        let windows: Vec<Vec<Keystroke>> = (0..4).map(|i| window(i, 80)).collect();
        let profile = Profile::from_windows(windows.iter().map(Vec::as_slice));
        let json = profile.to_json().unwrap();
        let back = Profile::from_json(&json).unwrap();
        let value = |j: &str| serde_json::from_str::<serde_json::Value>(j).unwrap();
        assert_eq!(value(&back.to_json().unwrap()), value(&json));
        assert_eq!(back.derived(), profile.derived());
        assert_eq!(back.keystrokes, profile.keystrokes);
        assert!(profile.wpm().is_some());
        let consistency = profile.rhythm_consistency().unwrap();
        assert!((0.0..=1.0).contains(&consistency));
        let bad = json.replacen("\"counts\":[", "\"counts\":[1,", 1);
        let err = Profile::from_json(&bad).unwrap_err().to_string();
        assert!(err.contains("histogram bins"), "{err}");
    }

    #[test]
    fn a_profile_built_from_an_event_stream_matches_one_built_from_keystrokes() {
        let typed = window(7, 300);
        let events = crate::keystroke::events_of(&typed);
        let mut builder = ProfileBuilder::new();
        for event in &events {
            builder.push(1, event);
        }
        let streamed = builder.finish();
        let direct = Profile::from_windows([crate::keystroke::keystrokes(&events).as_slice()]);
        assert_eq!(streamed.keystrokes, direct.keystrokes);
        assert_eq!(streamed.digraph_count, direct.digraph_count);
        assert_eq!(streamed.hold, direct.hold);
        assert_eq!(streamed.intervals_ms, direct.intervals_ms);
    }
}

/// Serialises the fixed-size bin array of a [`LogHistogram`] as a list (serde derives arrays of
/// at most 32 elements only), and refuses a list of the wrong length.
mod bin_counts {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::HIST_BINS;

    pub fn serialize<S: Serializer>(counts: &[u32; HIST_BINS], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(counts.iter())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u32; HIST_BINS], D::Error> {
        let counts = Vec::<u32>::deserialize(d)?;
        let found = counts.len();
        counts.try_into().map_err(|_| {
            serde::de::Error::custom(format!(
                "expected {HIST_BINS} histogram bins, found {found}"
            ))
        })
    }
}
