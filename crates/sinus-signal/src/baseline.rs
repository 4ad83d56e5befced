//! Baseline-wander removal: the slow drift of the ECG's zero line caused by breathing, body
//! movement and electrode impedance changes (mostly below 0.5 Hz).
//!
//! Two methods, named after what they rely on physiologically:
//!
//! - [`BaselineMethod::WaveMedians`]: the baseline is the running median over 200 ms, which is
//!   longer than a QRS complex or a P wave, so both are removed from the estimate; then the
//!   running median of that over 600 ms, longer than a T wave, which removes it too. What is
//!   left is the isoelectric line (de Chazal, O'Dwyer & Reilly 2004). Keeps the ST level and
//!   does not ring after large beats; costs O(n · window).
//! - [`BaselineMethod::HighPass`]: a zero-phase Butterworth high-pass at 0.5 Hz, i.e. below
//!   30 beats/min, the slowest heart rate worth keeping, so every wave's main energy passes.
//!   Faster and smooth, but a high-pass slightly tilts the ST segment after tall beats.
//!
//! Missing samples (NaN) are bridged for the estimate (see [`crate::gaps`]) and stay NaN in the
//! output.

use crate::filter::{Band, SosFilter};
use crate::gaps;
use sinus_io::{Error, Result, Signal, MISSING};

/// How to estimate the baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BaselineMethod {
    /// Running median over a window longer than a QRS complex and P wave (seconds), then over
    /// one longer than a T wave (seconds): de Chazal 2004 uses 0.2 and 0.6.
    WaveMedians {
        /// Seconds; must exceed the widest QRS/P wave. 0.2 in [`BaselineMethod::DE_CHAZAL`].
        qrs_p_window_s: f64,
        /// Seconds; must exceed the T wave. 0.6 in [`BaselineMethod::DE_CHAZAL`].
        t_window_s: f64,
    },
    /// Zero-phase Butterworth high-pass, order 2 per pass (4 after forward–backward).
    HighPass {
        /// Cut-off in Hz; 0.5 in [`BaselineMethod::HIGH_PASS_0_5_HZ`].
        cutoff_hz: f64,
    },
}

impl BaselineMethod {
    /// The two-stage median of de Chazal et al. 2004: 200 ms then 600 ms.
    pub const DE_CHAZAL: BaselineMethod = BaselineMethod::WaveMedians {
        qrs_p_window_s: 0.2,
        t_window_s: 0.6,
    };
    /// A 0.5 Hz zero-phase high-pass (below 30 beats/min).
    pub const HIGH_PASS_0_5_HZ: BaselineMethod = BaselineMethod::HighPass { cutoff_hz: 0.5 };
}

impl Default for BaselineMethod {
    fn default() -> Self {
        Self::DE_CHAZAL
    }
}

/// Odd window length in samples closest to `seconds * fs`, at least 1.
fn odd_window(seconds: f64, fs: f64) -> Result<usize> {
    let n = seconds * fs;
    if !(0.0..1e8).contains(&n) {
        return Err(Error::invalid(format!(
            "median window of {seconds} s at {fs} Hz is not a usable length"
        )));
    }
    Ok(2 * ((n / 2.0).floor() as usize) + 1)
}

/// Running median over a centred window of `window` samples (made odd by adding one if even);
/// near the ends the window is truncated to the samples available. Input must be finite
/// (NaN would make the ordering meaningless); non-finite values are treated as 0.
pub fn running_median(x: &[f64], window: usize) -> Vec<f64> {
    let n = x.len();
    let half = window / 2;
    let val = |i: usize| if x[i].is_finite() { x[i] } else { 0.0 };
    let mut sorted: Vec<f64> = Vec::with_capacity((2 * half + 1).min(n));
    let mut out = Vec::with_capacity(n);
    // Window for output i is [i - half, i + half] ∩ [0, n).
    let mut hi = 0; // next index to insert
    for i in 0..n {
        let want_hi = (i + half + 1).min(n);
        while hi < want_hi {
            let v = val(hi);
            let pos = sorted.partition_point(|&s| s < v);
            sorted.insert(pos, v);
            hi += 1;
        }
        if i > half {
            let v = val(i - half - 1);
            let pos = sorted.partition_point(|&s| s < v);
            sorted.remove(pos);
        }
        let m = sorted.len();
        out.push(if m % 2 == 1 {
            sorted[m / 2]
        } else {
            0.5 * (sorted[m / 2 - 1] + sorted[m / 2])
        });
    }
    out
}

/// [`running_median`] of `x` where `x[i] == phys(codes[i])` for every `i` whose code is not
/// [`MISSING`] (`phys` non-decreasing): a histogram of the codes in the window gives the median
/// in amortised O(1) per sample (the median moves by few codes from one sample to the next).
/// Windows that hold an uncoded value, or an even number of values (truncated at the ends),
/// are computed directly. The result equals [`running_median`]'s; with `want_codes`, also the
/// code of each output that is `phys` of a code ([`MISSING`] for the others).
fn running_median_coded(
    x: &[f64],
    codes: &[i32],
    window: usize,
    phys: &impl Fn(i32) -> f64,
    want_codes: bool,
) -> (Vec<f64>, Vec<i32>) {
    /// Widest code range a histogram is kept for.
    const MAX_BINS: i64 = 1 << 22;
    let n = x.len().min(codes.len());
    let x = &x[..n];
    let codes = &codes[..n];
    let (mut cmin, mut cmax) = (i64::MAX, i64::MIN);
    for &c in codes.iter().filter(|&&c| c != MISSING) {
        cmin = cmin.min(c as i64);
        cmax = cmax.max(c as i64);
    }
    if cmin > cmax || cmax - cmin >= MAX_BINS {
        let none = if want_codes {
            vec![MISSING; n]
        } else {
            Vec::new()
        };
        return (running_median(x, window), none);
    }
    let half = window / 2;
    let mut hist = vec![0u32; (cmax - cmin + 1) as usize];
    let bin = |c: i32| (c as i64 - cmin) as usize;
    let mut out = Vec::with_capacity(n);
    let mut out_codes = Vec::with_capacity(if want_codes { n } else { 0 });
    let (mut p, mut below, mut uncoded) = (0usize, 0usize, 0usize);
    let mut buf: Vec<f64> = Vec::with_capacity((2 * half + 1).min(n));
    let mut hi = 0;
    for i in 0..n {
        let want_hi = (i + half + 1).min(n);
        while hi < want_hi {
            match codes[hi] {
                MISSING => uncoded += 1,
                c => {
                    let b = bin(c);
                    hist[b] += 1;
                    below += usize::from(b < p);
                }
            }
            hi += 1;
        }
        if i > half {
            match codes[i - half - 1] {
                MISSING => uncoded -= 1,
                c => {
                    let b = bin(c);
                    hist[b] -= 1;
                    below -= usize::from(b < p);
                }
            }
        }
        let lo = i.saturating_sub(half);
        let m = hi - lo;
        if uncoded == 0 && m % 2 == 1 {
            let r = m / 2;
            while below > r {
                p -= 1;
                below -= hist[p] as usize;
            }
            while below + hist[p] as usize <= r {
                below += hist[p] as usize;
                p += 1;
            }
            let c = (p as i64 + cmin) as i32;
            out.push(phys(c));
            if want_codes {
                out_codes.push(c);
            }
        } else {
            buf.clear();
            buf.extend(
                x[lo..hi]
                    .iter()
                    .map(|&v| if v.is_finite() { v } else { 0.0 }),
            );
            let (left, mid, _) = buf.select_nth_unstable_by(m / 2, f64::total_cmp);
            let mid = *mid;
            out.push(if m % 2 == 1 {
                mid
            } else {
                let below_mid = left.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                0.5 * (below_mid + mid)
            });
            if want_codes {
                out_codes.push(MISSING);
            }
        }
    }
    (out, out_codes)
}

/// [`remove_baseline`] of a signal's physical samples (`fs`: the signal's own rate), computed
/// from its digital samples where it can be: for the wave medians, the medians of the
/// physical values are the physical values of the medians of the codes (the conversion is
/// increasing), which a histogram of codes finds in amortised constant time per sample. The
/// result is the same as `remove_baseline(&signal.physical_samples(), fs, method)`.
pub fn remove_baseline_signal(
    signal: &Signal,
    fs: f64,
    method: BaselineMethod,
) -> Result<Vec<f64>> {
    let gain = signal.effective_gain();
    let BaselineMethod::WaveMedians {
        qrs_p_window_s,
        t_window_s,
    } = method
    else {
        return remove_baseline(&signal.physical_samples(), fs, method);
    };
    if !(gain.is_finite() && gain > 0.0) {
        return remove_baseline(&signal.physical_samples(), fs, method);
    }
    if !(fs.is_finite() && fs > 0.0) {
        return Err(Error::invalid(format!(
            "sampling frequency {fs} Hz is not a positive number"
        )));
    }
    let w1 = odd_window(qrs_p_window_s, fs)?;
    let w2 = odd_window(t_window_s, fs)?;
    let phys = |c: i32| signal.to_physical(c);
    let mut x = signal.physical_samples();
    let gap_list = gaps::find_gaps(&x);
    let (stage1, codes1) = if gap_list.is_empty() {
        running_median_coded(&x, &signal.samples, w1, &phys, true)
    } else {
        let (filled, _) = gaps::filled(&x);
        running_median_coded(&filled, &signal.samples, w1, &phys, true)
    };
    let (mut base, _) = running_median_coded(&stage1, &codes1, w2, &phys, false);
    drop(stage1);
    gaps::restore_long_gaps(&mut base, &gap_list, 0);
    for (v, b) in x.iter_mut().zip(&base) {
        *v -= b;
    }
    Ok(x)
}

/// The baseline (wander) of `x` sampled at `fs` Hz; NaN where `x` is missing.
pub fn estimate_baseline(x: &[f64], fs: f64, method: BaselineMethod) -> Result<Vec<f64>> {
    if !(fs.is_finite() && fs > 0.0) {
        return Err(Error::invalid(format!(
            "sampling frequency {fs} Hz is not a positive number"
        )));
    }
    let (filled, gap_list) = gaps::filled(x);
    let mut base = match method {
        BaselineMethod::WaveMedians {
            qrs_p_window_s,
            t_window_s,
        } => {
            let w1 = odd_window(qrs_p_window_s, fs)?;
            let w2 = odd_window(t_window_s, fs)?;
            running_median(&running_median(&filled, w1), w2)
        }
        BaselineMethod::HighPass { cutoff_hz } => {
            let f = SosFilter::butterworth(2, Band::HighPass(cutoff_hz), fs)?;
            let hp = f.filtfilt(&filled)?;
            filled.iter().zip(&hp).map(|(a, b)| a - b).collect()
        }
    };
    gaps::restore_long_gaps(&mut base, &gap_list, 0);
    Ok(base)
}

/// `x` with its baseline wander removed (see [`estimate_baseline`]); NaN where `x` is missing.
pub fn remove_baseline(x: &[f64], fs: f64, method: BaselineMethod) -> Result<Vec<f64>> {
    let base = estimate_baseline(x, fs, method)?;
    Ok(x.iter().zip(&base).map(|(a, b)| a - b).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_median_small_cases() {
        assert_eq!(
            running_median(&[5.0, 1.0, 4.0, 2.0, 3.0], 3),
            vec![3.0, 4.0, 2.0, 3.0, 2.5]
        );
        assert_eq!(running_median(&[1.0, 9.0, 2.0], 1), vec![1.0, 9.0, 2.0]);
        assert!(running_median(&[], 5).is_empty());
        // A window wider than the signal: every output is the whole-signal median.
        assert_eq!(running_median(&[3.0, 1.0, 2.0], 99), vec![2.0, 2.0, 2.0]);
    }

    #[test]
    fn running_median_matches_brute_force() {
        let x: Vec<f64> = (0..300).map(|i| ((i * 7919) % 101) as f64).collect();
        for w in [1usize, 3, 7, 21] {
            let fast = running_median(&x, w);
            for (i, &f) in fast.iter().enumerate() {
                let lo = i.saturating_sub(w / 2);
                let hi = (i + w / 2 + 1).min(x.len());
                let mut v = x[lo..hi].to_vec();
                v.sort_by(f64::total_cmp);
                let m = v.len();
                let med = if m % 2 == 1 {
                    v[m / 2]
                } else {
                    0.5 * (v[m / 2 - 1] + v[m / 2])
                };
                assert_eq!(f, med, "w={w} i={i}");
            }
        }
    }

    fn signal_of(samples: Vec<i32>, gain: f64, baseline: i32) -> Signal {
        Signal {
            description: String::new(),
            units: "mV".into(),
            gain,
            baseline,
            adc_resolution: 12,
            adc_zero: 0,
            samples_per_frame: 1,
            samples,
        }
    }

    #[test]
    fn baseline_from_codes_equals_baseline_from_physical_values() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for case in 0..24 {
            let n = [0usize, 1, 2, 7, 60, 61, 400, 3000][case % 8];
            let mut v = 0i64;
            let mut samples: Vec<i32> = (0..n)
                .map(|_| {
                    v += (next() % 41) as i64 - 20;
                    if next() % 50 == 0 {
                        v += 300;
                    }
                    v as i32
                })
                .collect();
            if case % 3 == 1 && n > 10 {
                // Gaps: short and long, at an edge and inside.
                samples[..3].iter_mut().for_each(|s| *s = MISSING);
                let at = n / 2;
                for s in &mut samples[at..(at + n / 5 + 1).min(n)] {
                    *s = MISSING;
                }
            }
            if case % 3 == 2 && n > 0 {
                samples.iter_mut().for_each(|s| *s = MISSING);
            }
            let gain = [200.0, 0.0, 1000.0, -50.0, 1e-3, 7.3][case % 6];
            let sig = signal_of(samples, gain, (case as i32) * 17 - 100);
            for fs in [100.0, 360.0] {
                for method in [BaselineMethod::DE_CHAZAL, BaselineMethod::HIGH_PASS_0_5_HZ] {
                    let want = remove_baseline(&sig.physical_samples(), fs, method);
                    let got = remove_baseline_signal(&sig, fs, method);
                    match (want, got) {
                        (Ok(a), Ok(b)) => {
                            assert_eq!(a.len(), b.len());
                            for (i, (p, q)) in a.iter().zip(&b).enumerate() {
                                assert!(
                                    p == q || (p.is_nan() && q.is_nan()),
                                    "case {case} fs {fs} {method:?} at {i}: {p} vs {q}"
                                );
                            }
                        }
                        (Err(_), Err(_)) => {}
                        (a, b) => panic!("case {case}: {a:?} vs {b:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn bad_rates_are_errors() {
        assert!(estimate_baseline(&[0.0; 10], 0.0, BaselineMethod::DE_CHAZAL).is_err());
        assert!(estimate_baseline(&[0.0; 10], f64::NAN, BaselineMethod::HIGH_PASS_0_5_HZ).is_err());
        // High-pass on a signal too short for zero-phase padding.
        assert!(estimate_baseline(&[0.0; 5], 360.0, BaselineMethod::HIGH_PASS_0_5_HZ).is_err());
    }
}
