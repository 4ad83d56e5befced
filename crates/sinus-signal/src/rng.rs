//! A small deterministic pseudo-random generator (SplitMix64), shared by the noise-stress
//! generator and by `sinus-ml`'s augmentation and SMOTE.
//!
//! Not cryptographic. Chosen because it is tiny, passes BigCrush for this kind of use and
//! gives the same stream on every platform, so a seed reproduces noisy records and training sets
//! exactly.

/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit state advanced by a fixed odd constant
/// and mixed on output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose stream is fully determined by `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// A generator for item `index` of a stream seeded by `seed`: independent of the order
    /// in which items are processed.
    pub fn for_item(seed: u64, index: u64) -> Self {
        // Mix the index through one SplitMix64 step so neighbouring items get unrelated states.
        let mut g = SplitMix64::new(seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let s = g.next_u64();
        SplitMix64::new(s)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi) (returns `lo` when `hi <= lo`).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        if hi <= lo {
            return lo;
        }
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in 0..n (0 when n is 0). Multiply-shift, bias below 2⁻³² for n < 2³².
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Standard normal deviate (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        // 1 − uniform is in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// True with probability `p` (clamped to [0, 1]; NaN counts as 0).
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.uniform() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_first_output() {
        // Reference value of SplitMix64 seeded with 0 (first output).
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn ranges_and_moments() {
        let mut g = SplitMix64::new(7);
        let n = 20_000;
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let u = g.uniform();
            assert!((0.0..1.0).contains(&u));
            assert!(g.below(5) < 5);
            let z = g.normal();
            s += z;
            s2 += z * z;
        }
        let mean = s / n as f64;
        let var = s2 / n as f64 - mean * mean;
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "var {var}");
        assert_eq!(g.below(0), 0);
        assert!(!g.chance(0.0) && !g.chance(f64::NAN) && g.chance(1.0));
    }

    #[test]
    fn items_differ_and_repeat() {
        let a = SplitMix64::for_item(1, 0).next_u64();
        let b = SplitMix64::for_item(1, 1).next_u64();
        assert_ne!(a, b);
        assert_eq!(a, SplitMix64::for_item(1, 0).next_u64());
    }
}
