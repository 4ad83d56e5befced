//! Baseline-wander removal, streaming and in fixed memory: the two-stage running median of
//! de Chazal, O'Dwyer & Reilly 2004 (200 ms, longer than a QRS or P wave, then 600 ms,
//! longer than a T wave), the filter the beat classifier was trained with
//! (`sinus_signal::baseline`, offline).
//!
//! It works on ADC codes (integers): the median of codes is exact, so the device and the
//! host compute the same baseline to the last bit, and the physical medians are the medians
//! of the codes (the conversion is increasing). Each stage keeps its window sorted; a sample
//! costs one removal and one insertion per stage (at most a few hundred values moved at 250
//! Hz). The output lags the input by half of each window (0.4 s at any rate); before the
//! first sample the signal is taken to have been constant at its first value, so the first
//! output is ready as soon as that lag has passed, and away from the start the output equals
//! the offline filter's.

/// Highest sampling rate the fixed buffers allow (Hz).
pub const MAX_FS: f32 = 500.0;
/// Lowest sampling rate (Hz).
pub const MIN_FS: f32 = 100.0;
/// First stage window (s): longer than a QRS complex or P wave.
pub const QRS_P_WINDOW_S: f32 = 0.2;
/// Second stage window (s): longer than a T wave.
pub const T_WINDOW_S: f32 = 0.6;

/// Odd number of samples closest below `seconds · fs` (at least 1), as the offline filter
/// chooses it.
pub fn odd_window(seconds: f32, fs: f32) -> usize {
    let n = (seconds as f64) * (fs as f64);
    2 * (libm::floor(n / 2.0) as usize) + 1
}

const MAX_W1: usize = 2 * (QRS_P_WINDOW_S_AT_MAX / 2) + 1;
const MAX_W2: usize = 2 * (T_WINDOW_S_AT_MAX / 2) + 1;
const QRS_P_WINDOW_S_AT_MAX: usize = 100; // 0.2 s × 500 Hz
const T_WINDOW_S_AT_MAX: usize = 300; // 0.6 s × 500 Hz
/// Longest lag, in samples (both half-windows at [`MAX_FS`]).
pub const MAX_LAG: usize = MAX_W1 / 2 + MAX_W2 / 2;

/// A running median over the last `window` values (odd), in fixed memory of `W` values.
#[derive(Debug, Clone)]
struct RunningMedian<const W: usize> {
    /// The last `window` values, oldest at `head`.
    ring: [i32; W],
    /// The same values, sorted.
    sorted: [i32; W],
    window: usize,
    head: usize,
}

impl<const W: usize> RunningMedian<W> {
    const EMPTY: Self = RunningMedian {
        ring: [0; W],
        sorted: [0; W],
        window: 1,
        head: 0,
    };

    fn set_window(&mut self, window: usize) {
        self.window = window.clamp(1, W);
        self.head = 0;
    }

    /// Fill the window with `v` (the signal was constant before it started).
    fn prime(&mut self, v: i32) {
        let w = self.window;
        self.ring[..w].fill(v);
        self.sorted[..w].fill(v);
        self.head = 0;
    }

    /// Replace the oldest value by `v`; returns the median of the window.
    fn push(&mut self, v: i32) -> i32 {
        let w = self.window;
        let old = core::mem::replace(&mut self.ring[self.head], v);
        self.head = if self.head + 1 == w { 0 } else { self.head + 1 };
        let col = &mut self.sorted[..w];
        let p = col.partition_point(|&x| x < old);
        if v > old {
            let q = p + col[p + 1..].partition_point(|&x| x < v);
            col.copy_within(p + 1..q + 1, p);
            col[q] = v;
        } else {
            let q = col[..p].partition_point(|&x| x <= v);
            col.copy_within(q..p, q + 1);
            col[q] = v;
        }
        col[w / 2]
    }
}

/// Why a [`WaveMedianBaseline`] cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SamplingRateOutOfRange;

impl core::fmt::Display for SamplingRateOutOfRange {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "the baseline filter's sampling rate must be between {MIN_FS} and {MAX_FS} Hz"
        )
    }
}

/// The streaming two-stage median baseline filter over ADC codes (see the module docs).
#[derive(Debug, Clone)]
pub struct WaveMedianBaseline {
    stage1: RunningMedian<MAX_W1>,
    stage2: RunningMedian<MAX_W2>,
    /// The last `lag + 1` input codes, to subtract the baseline from.
    delay: [i32; MAX_LAG + 1],
    lag: usize,
    /// Slot of `delay` the next code goes to (a counter, not `n % (lag + 1)`: a 64-bit
    /// division per sample costs hundreds of instructions on a Cortex-M0).
    slot: usize,
    /// Samples pushed since the start (or the last [`WaveMedianBaseline::reset`]).
    n: u64,
}

impl WaveMedianBaseline {
    /// The filter for sampling rate `fs` ([`MIN_FS`]..=[`MAX_FS`] Hz).
    pub fn new(fs: f32) -> Result<Self, SamplingRateOutOfRange> {
        let mut f = WaveMedianBaseline::unconfigured();
        f.configure(fs)?;
        Ok(f)
    }

    /// A filter with windows of one sample (output = 0) until
    /// [`configure`](Self::configure)d: a constant, for static memory on a device.
    pub const fn unconfigured() -> Self {
        WaveMedianBaseline {
            stage1: RunningMedian::EMPTY,
            stage2: RunningMedian::EMPTY,
            delay: [0; MAX_LAG + 1],
            lag: 0,
            slot: 0,
            n: 0,
        }
    }

    /// Set the filter up for sampling rate `fs`, in place, and start afresh. On an error it
    /// is left as it was.
    pub fn configure(&mut self, fs: f32) -> Result<(), SamplingRateOutOfRange> {
        if !(MIN_FS..=MAX_FS).contains(&fs) {
            return Err(SamplingRateOutOfRange);
        }
        let w1 = odd_window(QRS_P_WINDOW_S, fs).min(MAX_W1);
        let w2 = odd_window(T_WINDOW_S, fs).min(MAX_W2);
        self.stage1.set_window(w1);
        self.stage2.set_window(w2);
        self.lag = w1 / 2 + w2 / 2;
        self.n = 0;
        Ok(())
    }

    /// Samples between an input and the output for it.
    pub fn lag(&self) -> usize {
        self.lag
    }

    /// Start again (after a gap): the next sample is treated as the first.
    pub fn reset(&mut self) {
        self.n = 0;
    }

    /// Push the next code. Returns, once the lag has passed, the baseline-removed code of the
    /// sample [`lag`](Self::lag) samples back (its index counted from the first sample since
    /// the last reset is `pushed − 1 − lag`).
    pub fn push(&mut self, code: i32) -> Option<i32> {
        let lag = self.lag;
        if self.n == 0 {
            self.stage1.prime(code);
            self.stage2.prime(code);
            self.delay[..=lag].fill(code);
            self.slot = 0;
        }
        let m1 = self.stage1.push(code);
        let base = self.stage2.push(m1);
        let slot = self.slot;
        self.delay[slot] = code;
        self.slot = if slot == lag { 0 } else { slot + 1 };
        self.n += 1;
        if self.n <= lag as u64 {
            return None;
        }
        // The oldest code held is the one `lag` samples back: the slot after the newest.
        let old = self.delay[self.slot];
        Some(old.saturating_sub(base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    /// The offline definition (centred window, truncated at the ends) on integers.
    fn median_of(x: &[i32]) -> i32 {
        let mut v = x.to_vec();
        v.sort();
        v[v.len() / 2]
    }

    #[test]
    fn equals_the_offline_two_stage_median_away_from_the_start() {
        let fs = 250.0;
        let w1 = odd_window(0.2, fs);
        let w2 = odd_window(0.6, fs);
        assert_eq!((w1, w2), (51, 151));
        let mut seed = 7u32;
        let x: Vec<i32> = (0..3000)
            .map(|i| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let wander = (200.0 * libm::sin(i as f64 / 300.0)) as i32;
                let spike = if i % 200 < 8 { 400 } else { 0 };
                wander + spike + (seed >> 24) as i32 - 128
            })
            .collect();
        let (h1, h2) = (w1 / 2, w2 / 2);
        let s1: Vec<i32> = (0..x.len())
            .map(|i| median_of(&x[i.saturating_sub(h1)..(i + h1 + 1).min(x.len())]))
            .collect();
        let mut f = WaveMedianBaseline::new(fs).unwrap();
        assert_eq!(f.lag(), h1 + h2);
        let mut outs = Vec::new();
        for &c in &x {
            if let Some(y) = f.push(c) {
                outs.push(y);
            }
        }
        assert_eq!(outs.len(), x.len() - f.lag());
        // Past both windows from the start (and before the end, where offline truncates).
        for i in (h1 + h2 + h1)..(x.len() - h1 - h2) {
            let base = median_of(&s1[i - h2..=i + h2]);
            assert_eq!(outs[i], x[i] - base, "sample {i}");
        }
    }

    #[test]
    fn constant_signal_has_zero_output_from_the_start() {
        let mut f = WaveMedianBaseline::new(360.0).unwrap();
        let mut got = 0;
        for _ in 0..1000 {
            if let Some(y) = f.push(-1234) {
                assert_eq!(y, 0);
                got += 1;
            }
        }
        assert_eq!(got, 1000 - f.lag());
        f.reset();
        assert_eq!(f.push(5), if f.lag() == 0 { Some(0) } else { None });
    }

    #[test]
    fn rates_outside_the_buffers_are_refused() {
        assert!(WaveMedianBaseline::new(99.0).is_err());
        assert!(WaveMedianBaseline::new(501.0).is_err());
        assert!(WaveMedianBaseline::new(f32::NAN).is_err());
        assert!(WaveMedianBaseline::new(500.0).is_ok());
        assert!(WaveMedianBaseline::new(100.0).is_ok());
    }

    #[test]
    fn extreme_codes_do_not_overflow() {
        let mut f = WaveMedianBaseline::new(128.0).unwrap();
        for i in 0..2000 {
            let c = if i % 3 == 0 { i32::MIN } else { i32::MAX };
            let _ = f.push(c);
        }
    }
}
