//! Signal quality, streaming, on ADC codes: where the ECG cannot be trusted. The same three
//! tests as the offline analysis (`sinus_analyze::quality`), judged on the same windows:
//!
//! - **leads off**: more than half of a 1 s window's samples are missing (the front end's
//!   leads-off pins, or gaps), or at least 95 % of its sample-to-sample steps are below
//!   0.1 µV — a living heart's ECG is never flat for a second;
//! - **noisy**: the kurtosis of the ~10 ms slope over a 5 s window is below 4.5 — the QRS is
//!   the only sharp, sparse event of a clean ECG (heavy tails), noise spreads its energy evenly
//!   (Gaussian: 3). Li, Mark & Clifford 2008 (kSQI), on the slope so that wander does not
//!   count.
//!
//! The slope sums are kept in exact integers, so the device and the host agree to the bit.
//! Windows start at sample 0 and follow one another; a 5 s noise verdict covers its five 1 s
//! windows, so a window's verdict is final when its 5 s block closes.

/// Window over which a lead is judged off (s).
pub const OFF_WINDOW_S: f32 = 1.0;
/// One noise block spans this many off-windows (5 s).
pub const NOISE_WINDOWS: usize = 5;
/// Lag of the slope (s).
pub const SLOPE_LAG_S: f32 = 0.010;
/// Kurtosis of the slope below which a block is noise.
pub const NOISE_KURTOSIS: f64 = 4.5;
/// Fraction of flat steps that makes a window flat.
pub const FLAT_FRACTION: f32 = 0.95;
/// A step below this (mV) is no change.
pub const FLAT_STEP_MV: f32 = 1e-4;
/// Longest slope lag in samples (10 ms at 1000 Hz).
const MAX_LAG: usize = 10;

/// A verdict on a stretch of signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Usable.
    Good,
    /// Noise buries the QRS complexes.
    Noisy,
    /// No ECG: electrodes off, missing samples, flat line.
    LeadsOff,
}

/// A judged 1 s window: samples `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judged {
    /// First sample.
    pub start: u64,
    /// One past the last sample.
    pub end: u64,
    /// The verdict.
    pub verdict: Verdict,
}

/// The streaming judge (see the module docs).
#[derive(Debug, Clone)]
pub struct QualityJudge {
    window: u64,
    lag: usize,
    /// A step of fewer codes than this is flat (the mV threshold in whole codes).
    flat_step: u64,
    /// The last `lag` codes (None = missing), for the slope.
    history: [Option<i32>; MAX_LAG],
    n: u64,
    // Counters kept instead of 64-bit divisions of `n` per sample (costly on a Cortex-M0).
    /// Slot of `history` for this sample (`n % lag`).
    slot: usize,
    /// Samples in the current 1 s window (`n % window`).
    in_window: u64,
    /// Windows closed in the current noise block.
    closed: usize,
    // Current 1 s window.
    missing: u32,
    steps: u32,
    flat: u32,
    prev: Option<i32>,
    /// Off verdicts of the windows of the current noise block.
    off: [bool; NOISE_WINDOWS],
    // Slope power sums of the current noise block.
    s: [i128; 5],
}

impl QualityJudge {
    /// A judge for `fs` Hz (100–1000) and `counts_per_mv` ADC codes per millivolt.
    pub fn new(fs: f32, counts_per_mv: f32) -> QualityJudge {
        let fs = fs.clamp(100.0, 1000.0);
        QualityJudge {
            window: (libm::roundf(OFF_WINDOW_S * fs) as u64).max(1),
            lag: (libm::roundf(SLOPE_LAG_S * fs) as usize).clamp(1, MAX_LAG),
            // |d| < t for a whole number of codes d and a real t > 0 ⇔ |d| < ⌈t⌉.
            flat_step: libm::ceilf(FLAT_STEP_MV * counts_per_mv.abs()).min(u32::MAX as f32) as u64,
            history: [None; MAX_LAG],
            n: 0,
            slot: 0,
            in_window: 0,
            closed: 0,
            missing: 0,
            steps: 0,
            flat: 0,
            prev: None,
            off: [false; NOISE_WINDOWS],
            s: [0; 5],
        }
    }

    /// Push the next sample (`None`: missing / leads off). When a 5 s block closes, `emit`
    /// receives its five windows' verdicts in order.
    pub fn push(&mut self, code: Option<i32>, emit: &mut impl FnMut(Judged)) {
        let slot = self.slot;
        match code {
            None => self.missing += 1,
            Some(c) => {
                if let Some(p) = self.prev {
                    self.steps += 1;
                    if (c as i64 - p as i64).unsigned_abs() < self.flat_step {
                        self.flat += 1;
                    }
                }
                if self.n >= self.lag as u64 {
                    if let Some(old) = self.history[slot] {
                        self.add_slope(c as i64 - old as i64);
                    }
                }
            }
        }
        self.prev = code;
        self.history[slot] = code;
        self.slot = if slot + 1 == self.lag { 0 } else { slot + 1 };
        self.n += 1;
        self.in_window += 1;
        if self.in_window < self.window {
            return;
        }
        // A 1 s window closed.
        self.in_window = 0;
        let k = self.closed;
        let len = self.window as u32;
        self.off[k] = self.missing * 2 > len
            || (self.steps > 0 && self.flat as f32 >= FLAT_FRACTION * self.steps as f32);
        self.missing = 0;
        self.steps = 0;
        self.flat = 0;
        self.closed += 1;
        if self.closed == NOISE_WINDOWS {
            self.closed = 0;
            let noisy = self.kurtosis().is_some_and(|k| k < NOISE_KURTOSIS);
            self.s = [0; 5];
            let block_start = self.n - NOISE_WINDOWS as u64 * self.window;
            for (i, &off) in self.off.iter().enumerate() {
                let start = block_start + i as u64 * self.window;
                emit(Judged {
                    start,
                    end: start + self.window,
                    verdict: if off {
                        Verdict::LeadsOff
                    } else if noisy {
                        Verdict::Noisy
                    } else {
                        Verdict::Good
                    },
                });
            }
        }
    }

    /// Add one slope `d` to the power sums: in 64-bit arithmetic when |d| < 2^15 (any ECG
    /// front end; d⁴ < 2^60), in 128-bit otherwise, exact either way. Slopes are limited to
    /// ±2^25 codes (more than a 24-bit ADC's full swing in 10 ms: an artefact whatever the
    /// front end), so that a 5 s block's sum of d⁴ (≤ 5,000 × 2^100) cannot overflow.
    #[inline]
    fn add_slope(&mut self, d: i64) {
        const LIMIT: i64 = 1 << 25;
        let d = d.clamp(-LIMIT, LIMIT);
        self.s[0] += 1;
        self.s[1] += d as i128;
        if d.unsigned_abs() < 1 << 15 {
            let d2 = d * d;
            self.s[2] += d2 as i128;
            self.s[3] += (d2 * d) as i128;
            self.s[4] += (d2 * d2) as i128;
        } else {
            let d = d as i128;
            let d2 = d * d;
            self.s[2] = self.s[2].saturating_add(d2);
            self.s[3] = self.s[3].saturating_add(d2 * d);
            self.s[4] = self.s[4].saturating_add(d2 * d2);
        }
    }

    /// The signal has ended: judge the windows of the unfinished block (the last one
    /// possibly short), as the offline analysis judges a recording's tail.
    pub fn finish(&mut self, emit: &mut impl FnMut(Judged)) {
        let partial = self.in_window;
        let closed = self.closed;
        let first = (self.n - partial) / self.window - closed as u64;
        if closed == 0 && partial == 0 {
            return;
        }
        let mut count = closed;
        if partial > 0 {
            self.off[closed] = self.missing as u64 * 2 > partial
                || (self.steps > 0 && self.flat as f32 >= FLAT_FRACTION * self.steps as f32);
            count += 1;
        }
        let noisy = self.kurtosis().is_some_and(|k| k < NOISE_KURTOSIS);
        for (i, &off) in self.off[..count].iter().enumerate() {
            let start = (first + i as u64) * self.window;
            emit(Judged {
                start,
                end: (start + self.window).min(self.n),
                verdict: if off {
                    Verdict::LeadsOff
                } else if noisy {
                    Verdict::Noisy
                } else {
                    Verdict::Good
                },
            });
        }
        self.s = [0; 5];
        self.n = 0;
        self.slot = 0;
        self.in_window = 0;
        self.closed = 0;
        self.missing = 0;
        self.steps = 0;
        self.flat = 0;
    }

    /// Kurtosis of the block's slope, from its exact power sums; None when too few slopes.
    fn kurtosis(&self) -> Option<f64> {
        let n = self.s[0];
        if n < 8 * (self.lag.max(4) as i128) {
            return None;
        }
        let nf = n as f64;
        let mean = self.s[1] as f64 / nf;
        // Central moments from raw sums: the sums are exact, only these lines round.
        let e2 = self.s[2] as f64 / nf;
        let e3 = self.s[3] as f64 / nf;
        let e4 = self.s[4] as f64 / nf;
        let m2 = e2 - mean * mean;
        let m4 = e4 - 4.0 * mean * e3 + 6.0 * mean * mean * e2 - 3.0 * mean * mean * mean * mean;
        if m2 <= 0.0 {
            return None;
        }
        Some(m4 / (m2 * m2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn pulses(fs: f32, seconds: f32) -> Vec<i32> {
        let n = (fs * seconds) as usize;
        let period = (0.8 * fs) as usize;
        (0..n)
            .map(|i| {
                let t = (i % period) as f32 / fs;
                let v = libm::expf(-((t - 0.3) / 0.012) * ((t - 0.3) / 0.012))
                    + 0.2 * libm::expf(-((t - 0.55) / 0.06) * ((t - 0.55) / 0.06));
                (v * 200.0) as i32
            })
            .collect()
    }

    fn judge(x: &[Option<i32>], fs: f32) -> Vec<Judged> {
        let mut j = QualityJudge::new(fs, 200.0);
        let mut out = Vec::new();
        for &c in x {
            j.push(c, &mut |v| out.push(v));
        }
        out
    }

    #[test]
    fn clean_pulses_are_good_flat_is_off_noise_is_noisy() {
        let fs = 250.0;
        let mut x: Vec<Option<i32>> = pulses(fs, 30.0).into_iter().map(Some).collect();
        for v in &mut x[2500..3750] {
            *v = Some(40);
        }
        for v in &mut x[5000..5250] {
            *v = None;
        }
        let mut seed = 1u32;
        for v in &mut x[6250..7500] {
            // Uniform noise, big enough to bury the pulses.
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            *v = Some(((seed >> 16) % 800) as i32 - 400);
        }
        let got = judge(&x, fs);
        assert_eq!(got.len(), 30);
        for (k, j) in got.iter().enumerate() {
            assert_eq!(j.start, k as u64 * 250);
            let want = match k {
                10..=14 => Verdict::LeadsOff,
                20 => Verdict::LeadsOff,
                25..=29 => Verdict::Noisy,
                _ => Verdict::Good,
            };
            assert_eq!(j.verdict, want, "window {k}");
        }
    }

    #[test]
    fn extreme_codes_do_not_overflow_the_sums() {
        for fs in [100.0, 1000.0] {
            let mut j = QualityJudge::new(fs, 200.0);
            let mut verdicts = 0;
            for i in 0..(12.0 * fs) as usize {
                let c = if i % 2 == 0 { i32::MIN } else { i32::MAX };
                j.push(Some(c), &mut |_| verdicts += 1);
            }
            j.finish(&mut |_| verdicts += 1);
            assert_eq!(verdicts, 12);
        }
    }

    #[test]
    fn kurtosis_equals_the_two_pass_formula() {
        let fs = 200.0;
        // One sample short of the block's end, so the sums are still there.
        let x = &pulses(fs, 5.0)[..999];
        let mut j = QualityJudge::new(fs, 200.0);
        for &c in x {
            j.push(Some(c), &mut |_| panic!("no block closes"));
        }
        let lag = j.lag;
        let d: Vec<f64> = (lag..x.len()).map(|i| (x[i] - x[i - lag]) as f64).collect();
        let mean = d.iter().sum::<f64>() / d.len() as f64;
        let m2 = d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / d.len() as f64;
        let m4 = d.iter().map(|v| (v - mean).powi(4)).sum::<f64>() / d.len() as f64;
        let got = j.kurtosis().unwrap();
        let want = m4 / (m2 * m2);
        assert!((got - want).abs() < 1e-9 * want, "{got} vs {want}");
    }
}
