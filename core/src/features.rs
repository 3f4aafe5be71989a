//! Timing features of a keystroke sequence.
//!
//! For each keystroke: the hold time `HT = release - press`. For each pair of *consecutive*
//! keystrokes `a, b` (in press order) that is not broken by a pause, a [`Digraph`] with
//! - `PPT = press(b) - press(a)` (press→press, never negative on sorted input),
//! - `RRT = release(b) - release(a)` (release→release, negative when `b` is released first),
//! - `RPT = press(b) - release(a)` (release→press, negative when the keys overlap, i.e. `b` was
//!   pressed before `a` was released — "rollover"),
//! - and the two hold times.
//!
//! A **pause** is a press→press gap strictly greater than [`PAUSE_US`] (2 s): no digraph (and no
//! trigraph) spans it, so a chain of digraphs restarts after it. Trigraphs are three consecutive
//! keystrokes whose two gaps are both not pauses.
//!
//! All times are in microseconds. The functions here take a slice that should be sorted by press
//! time; [`extract`] sorts a copy when it is not (the other functions assume sorted input, which
//! [`is_sorted_by_press`] checks).

use crate::keystroke::Keystroke;

/// Press→press gaps strictly above this (2 s, in microseconds) are pauses that break the chain.
pub const PAUSE_US: i64 = 2_000_000;

/// Timings of two consecutive keystrokes `first` then `second` (in press order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digraph {
    /// Key of the first keystroke.
    pub first: u16,
    /// Key of the second keystroke.
    pub second: u16,
    /// Hold time of the first keystroke (µs).
    pub ht1_us: i64,
    /// Hold time of the second keystroke (µs).
    pub ht2_us: i64,
    /// Press→press latency (µs).
    pub ppt_us: i64,
    /// Release→release latency (µs).
    pub rrt_us: i64,
    /// Release→press latency (µs); negative when the keys overlap.
    pub rpt_us: i64,
}

impl Digraph {
    /// Builds the digraph of two keystrokes (no pause check).
    pub fn of(a: &Keystroke, b: &Keystroke) -> Digraph {
        Digraph {
            first: a.key.0,
            second: b.key.0,
            ht1_us: a.release_us - a.press_us,
            ht2_us: b.release_us - b.press_us,
            ppt_us: b.press_us - a.press_us,
            rrt_us: b.release_us - a.release_us,
            rpt_us: b.press_us - a.release_us,
        }
    }

    /// The key pair packed into one `u32` (`first << 16 | second`).
    pub fn pair(&self) -> u32 {
        pair_id(self.first, self.second)
    }
}

/// Packs a key pair into one `u32` (`first << 16 | second`).
pub fn pair_id(first: u16, second: u16) -> u32 {
    (u32::from(first) << 16) | u32::from(second)
}

/// Timings of three consecutive keystrokes with no pause between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trigraph {
    /// The three keys in press order.
    pub keys: [u16; 3],
    /// Press of the first to press of the third (µs).
    pub span_us: i64,
}

/// Whether the slice is sorted by press time (non-decreasing).
pub fn is_sorted_by_press(keys: &[Keystroke]) -> bool {
    keys.windows(2).all(|w| w[0].press_us <= w[1].press_us)
}

/// Whether a press→press gap is a pause that breaks the chain.
pub fn is_pause(ppt_us: i64) -> bool {
    ppt_us > PAUSE_US
}

/// The digraphs of a press-sorted slice: consecutive pairs not separated by a pause.
pub fn digraphs(sorted: &[Keystroke]) -> impl Iterator<Item = Digraph> + '_ {
    sorted
        .windows(2)
        .map(|w| Digraph::of(&w[0], &w[1]))
        .filter(|d| !is_pause(d.ppt_us))
}

/// The trigraphs of a press-sorted slice: consecutive triples with neither gap a pause.
pub fn trigraphs(sorted: &[Keystroke]) -> impl Iterator<Item = Trigraph> + '_ {
    sorted.windows(3).filter_map(|w| {
        let g1 = w[1].press_us - w[0].press_us;
        let g2 = w[2].press_us - w[1].press_us;
        if is_pause(g1) || is_pause(g2) {
            None
        } else {
            Some(Trigraph {
                keys: [w[0].key.0, w[1].key.0, w[2].key.0],
                span_us: w[2].press_us - w[0].press_us,
            })
        }
    })
}

/// Number of pauses (press→press gaps above [`PAUSE_US`]) in a press-sorted slice.
pub fn pause_count(sorted: &[Keystroke]) -> usize {
    sorted
        .windows(2)
        .filter(|w| is_pause(w[1].press_us - w[0].press_us))
        .count()
}

/// All timing features of a keystroke sequence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timings {
    /// `(key, hold time µs)` per keystroke, in press order.
    pub holds: Vec<(u16, i64)>,
    /// Digraphs of consecutive keystrokes not separated by a pause, in press order.
    pub digraphs: Vec<Digraph>,
    /// Number of pauses that broke the chain.
    pub pauses: usize,
}

/// Extracts hold times and digraphs; sorts a copy by press time first if the input is unsorted.
pub fn extract(keys: &[Keystroke]) -> Timings {
    if is_sorted_by_press(keys) {
        extract_sorted(keys)
    } else {
        let mut v = keys.to_vec();
        v.sort_by_key(|k| k.press_us);
        extract_sorted(&v)
    }
}

fn extract_sorted(sorted: &[Keystroke]) -> Timings {
    Timings {
        holds: sorted.iter().map(|k| (k.key.0, k.hold_us())).collect(),
        digraphs: digraphs(sorted).collect(),
        pauses: pause_count(sorted),
    }
}

/// Rhythm consistency `1 − std/mean` of inter-key intervals, clamped to [0, 1]; `None` when the
/// mean is not positive.
pub fn rhythm_consistency(mean: f64, std: f64) -> Option<f64> {
    (mean > 0.0 && mean.is_finite() && std.is_finite()).then(|| (1.0 - std / mean).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ks(key: u16, press_ms: i64, release_ms: i64) -> Keystroke {
        Keystroke::at_ms(key, press_ms, release_ms)
    }

    #[test]
    fn single_key_has_a_hold_and_no_digraph() {
        let t = extract(&[ks(65, 100, 180)]);
        assert_eq!(t.holds, vec![(65, 80_000)]);
        assert!(t.digraphs.is_empty());
        assert_eq!(t.pauses, 0);
        assert!(extract(&[]).holds.is_empty());
    }

    #[test]
    fn sequential_keys() {
        // a: 0..100, b: 150..230
        let t = extract(&[ks(65, 0, 100), ks(66, 150, 230)]);
        let d = t.digraphs[0];
        assert_eq!((d.first, d.second), (65, 66));
        assert_eq!(d.ht1_us, 100_000);
        assert_eq!(d.ht2_us, 80_000);
        assert_eq!(d.ppt_us, 150_000);
        assert_eq!(d.rrt_us, 130_000);
        assert_eq!(d.rpt_us, 50_000);
        assert_eq!(d.pair(), (65 << 16) | 66);
    }

    #[test]
    fn overlapping_keys_give_negative_rpt_and_rrt() {
        // shift 0..300 held while T 100..200: T pressed before shift released, released first.
        let t = extract(&[ks(16, 0, 300), ks(84, 100, 200)]);
        let d = t.digraphs[0];
        assert_eq!(d.ppt_us, 100_000);
        assert_eq!(d.rpt_us, -200_000);
        assert_eq!(d.rrt_us, -100_000);
        assert_eq!(d.ht1_us, 300_000);
        assert_eq!(d.ht2_us, 100_000);
    }

    #[test]
    fn pause_breaks_the_chain() {
        // gaps: 500 ms, 2500 ms (pause), exactly 2000 ms (not a pause), 100 ms
        let seq = [
            ks(1, 0, 50),
            ks(2, 500, 550),
            ks(3, 3000, 3050),
            ks(4, 5000, 5050),
            ks(5, 5100, 5150),
        ];
        let t = extract(&seq);
        let pairs: Vec<(u16, u16)> = t.digraphs.iter().map(|d| (d.first, d.second)).collect();
        assert_eq!(pairs, vec![(1, 2), (3, 4), (4, 5)]);
        assert_eq!(t.pauses, 1);
        let tri: Vec<[u16; 3]> = trigraphs(&seq).map(|t| t.keys).collect();
        assert_eq!(tri, vec![[3, 4, 5]]);
        assert_eq!(trigraphs(&seq).last().map(|t| t.span_us), Some(2_100_000));
    }

    #[test]
    fn unsorted_input_is_sorted_first() {
        let seq = [ks(66, 150, 230), ks(65, 0, 100)];
        assert!(!is_sorted_by_press(&seq));
        let t = extract(&seq);
        assert_eq!(t.holds, vec![(65, 100_000), (66, 80_000)]);
        assert_eq!(t.digraphs.len(), 1);
        assert_eq!(t.digraphs[0].first, 65);
        assert_eq!(t.digraphs[0].ppt_us, 150_000);
    }
}
