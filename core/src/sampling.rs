//! Deterministic pseudo-random numbers for sampling (impostor draws in the evaluations, synthetic
//! typing in benchmarks): reproducible from a seed, never used for anything secret.

/// A splitmix64 pseudo-random generator (Steele, Lea & Flood 2014).
#[derive(Clone, Copy, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// Next 64-bit output.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform-ish integer in `0..n` (`0` when `n == 0`); the modulo bias is below 2⁻⁵⁰ here.
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}
