//! Signal quality: where the ECG cannot be trusted, so that no rhythm is made up there.
//!
//! Three failures, from the most to the least certain, each judged per lead on short windows:
//!
//! - **missing**: more than half a window's samples are missing (WFDB invalid samples, EDF+D
//!   gaps). The lead is *off*.
//! - **flat or stuck**: a lead whose electrode came off reads a constant (or the ADC rail). A
//!   living heart's ECG is never flat for a second: even in asystole the baseline drifts and the
//!   amplifier adds noise of a few µV, so a window whose first difference is essentially zero on
//!   almost every sample is *off*.
//! - **noise**: muscle artefact and electrode motion bury the QRS complexes. The QRS is the only
//!   sharp, sparse event in a clean ECG, so the ~10 ms first difference of a clean window is
//!   heavy-tailed (a few tall spikes, quiet between), while noise spreads its energy evenly.
//!   The kurtosis of that difference measures it (the kSQI of Li, Mark & Clifford 2008, on the
//!   slope rather than the raw signal so that baseline wander does not count): Gaussian noise
//!   has 3, clean ECG far more. A 5 s window holds at least four beats at 50 bpm.
//!
//! A stretch is reported only when *every* lead is bad there (the analysis can go on with one
//! good lead), and short runs are merged so that reports do not flicker.

use serde::Serialize;

/// Window over which a lead is judged off (s).
const OFF_WINDOW_S: f64 = 1.0;
/// Window over which noise is judged (s): at least four beats at 50 bpm.
const NOISE_WINDOW_S: f64 = 5.0;
/// Lag of the slope estimate (s): about a QRS upstroke, emphasising 25–50 Hz content.
const SLOPE_LAG_S: f64 = 0.010;
/// Kurtosis of the slope below which a window is noise: clean ECG on MIT-BIH lies well above
/// (see the tests and `examples/quality_scan.rs`), muscle noise near the Gaussian 3.
pub const NOISE_KURTOSIS: f64 = 4.5;
/// A window is flat when at least this fraction of its sample-to-sample steps is below
/// [`FLAT_STEP_MV`].
const FLAT_FRACTION: f64 = 0.95;
/// A step smaller than this (mV) is "no change": below one ADC step of any ECG amplifier
/// (MIT-BIH: 5 µV) while real ECG moves by more on most samples.
const FLAT_STEP_MV: f64 = 1e-4;
/// Bad stretches closer than this (s) are merged into one.
pub const MERGE_GAP_S: f64 = 2.0;

/// What is wrong with a stretch of signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    /// Usable.
    Good,
    /// Noise buries the QRS complexes.
    Noisy,
    /// No signal: missing samples, flat line, stuck at a rail.
    LeadsOff,
}

/// A stretch of bad signal, in samples of the recording's frame clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QualitySegment {
    /// First sample.
    pub start: u64,
    /// One past the last sample.
    pub end: u64,
    /// What is wrong.
    pub quality: Quality,
}

/// Judge one lead (physical units, NaN = missing) sampled at `fs`: one verdict per
/// [`OFF_WINDOW_S`] window.
pub fn lead_quality(x: &[f64], fs: f64) -> Vec<Quality> {
    let w = ((OFF_WINDOW_S * fs).round() as usize).max(1);
    let n_win = x.len().div_ceil(w);
    let mut out = vec![Quality::Good; n_win];
    let lag = ((SLOPE_LAG_S * fs).round() as usize).max(1);
    // Off: missing or flat.
    for (k, q) in out.iter_mut().enumerate() {
        let a = k * w;
        let b = ((k + 1) * w).min(x.len());
        let seg = &x[a..b];
        let missing = seg.iter().filter(|v| !v.is_finite()).count();
        if missing * 2 > seg.len() {
            *q = Quality::LeadsOff;
            continue;
        }
        let mut steps = 0usize;
        let mut flat = 0usize;
        for p in seg.windows(2) {
            if p[0].is_finite() && p[1].is_finite() {
                steps += 1;
                if (p[1] - p[0]).abs() < FLAT_STEP_MV {
                    flat += 1;
                }
            }
        }
        if steps > 0 && flat as f64 >= FLAT_FRACTION * steps as f64 {
            *q = Quality::LeadsOff;
        }
    }
    // Noise: kurtosis of the slope over NOISE_WINDOW_S windows.
    let per = ((NOISE_WINDOW_S / OFF_WINDOW_S).round() as usize).max(1);
    let mut k = 0;
    while k < n_win {
        let a = k * w;
        let b = ((k + per) * w).min(x.len());
        if let Some(kurt) = slope_kurtosis(&x[a..b], lag) {
            if kurt < NOISE_KURTOSIS {
                for q in &mut out[k..(k + per).min(n_win)] {
                    if *q == Quality::Good {
                        *q = Quality::Noisy;
                    }
                }
            }
        }
        k += per;
    }
    out
}

/// Kurtosis (not excess) of `x[i] - x[i-lag]` over the finite pairs; None when too few.
pub fn slope_kurtosis(x: &[f64], lag: usize) -> Option<f64> {
    let (mut n, mut s1) = (0usize, 0.0f64);
    for i in lag..x.len() {
        let d = x[i] - x[i - lag];
        if d.is_finite() {
            n += 1;
            s1 += d;
        }
    }
    if n < 8 * lag.max(4) {
        return None;
    }
    let mean = s1 / n as f64;
    let (mut m2, mut m4) = (0.0f64, 0.0f64);
    for i in lag..x.len() {
        let d = x[i] - x[i - lag];
        if d.is_finite() {
            let e = (d - mean) * (d - mean);
            m2 += e;
            m4 += e * e;
        }
    }
    m2 /= n as f64;
    m4 /= n as f64;
    if m2 <= 0.0 {
        return None;
    }
    Some(m4 / (m2 * m2))
}

/// Judge every lead and return the stretches where no lead is usable (`frames` long, `fs` the
/// frame rate; `leads` in physical units, NaN = missing).
pub fn assess(leads: &[Vec<f64>], fs: f64, frames: u64) -> Vec<QualitySegment> {
    if leads.is_empty() || fs.is_nan() || fs <= 0.0 {
        return Vec::new();
    }
    let verdicts: Vec<Vec<Quality>> = leads.iter().map(|x| lead_quality(x, fs)).collect();
    let n_win = verdicts.iter().map(Vec::len).max().unwrap_or(0);
    let w = ((OFF_WINDOW_S * fs).round() as u64).max(1);
    let mut segments: Vec<QualitySegment> = Vec::new();
    for k in 0..n_win {
        // The best lead decides: Good beats Noisy beats LeadsOff.
        let best = verdicts
            .iter()
            .map(|v| v.get(k).copied().unwrap_or(Quality::LeadsOff))
            .min_by_key(|q| match q {
                Quality::Good => 0,
                Quality::Noisy => 1,
                Quality::LeadsOff => 2,
            })
            .unwrap_or(Quality::Good);
        if best == Quality::Good {
            continue;
        }
        let start = k as u64 * w;
        let end = ((k as u64 + 1) * w).min(frames);
        let merge_gap = (MERGE_GAP_S * fs) as u64;
        match segments.last_mut() {
            Some(last) if last.quality == best && start <= last.end + merge_gap => last.end = end,
            _ => segments.push(QualitySegment {
                start,
                end,
                quality: best,
            }),
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pulses(fs: f64, seconds: f64) -> Vec<f64> {
        let n = (fs * seconds) as usize;
        let period = (0.8 * fs) as usize;
        (0..n)
            .map(|i| {
                let t = (i % period) as f64 / fs;
                (-((t - 0.3) / 0.012).powi(2)).exp() + 0.2 * (-((t - 0.55) / 0.06).powi(2)).exp()
            })
            .collect()
    }

    #[test]
    fn clean_pulses_are_good() {
        for fs in [100.0, 250.0, 360.0, 1000.0] {
            let x = pulses(fs, 30.0);
            assert!(assess(&[x], fs, (30.0 * fs) as u64).is_empty(), "{fs}");
        }
    }

    #[test]
    fn flat_line_and_missing_are_leads_off() {
        let fs = 250.0;
        let mut x = pulses(fs, 30.0);
        for v in &mut x[2500..5000] {
            *v = 0.3;
        }
        for v in &mut x[6000..6500] {
            *v = f64::NAN;
        }
        let segs = assess(&[x], fs, 7500);
        assert_eq!(segs.len(), 2, "{segs:?}");
        assert!(segs.iter().all(|s| s.quality == Quality::LeadsOff));
        assert_eq!(segs[0].start, 2500);
        assert_eq!(segs[0].end, 5000);
    }

    #[test]
    fn noise_is_noisy_but_one_good_lead_is_enough() {
        let fs = 360.0;
        let clean = pulses(fs, 20.0);
        // Deterministic pseudo-random noise, 1 mV rms.
        let mut s = 12345u64;
        let noisy: Vec<f64> = clean
            .iter()
            .map(|&v| {
                let mut g = 0.0;
                for _ in 0..12 {
                    s = s
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    g += (s >> 11) as f64 / (1u64 << 53) as f64;
                }
                v + (g - 6.0)
            })
            .collect();
        let segs = assess(std::slice::from_ref(&noisy), fs, noisy.len() as u64);
        assert!(segs.iter().any(|s| s.quality == Quality::Noisy), "{segs:?}");
        assert!(assess(&[noisy, clean], fs, 7200).is_empty());
    }

    #[test]
    fn empty_and_tiny_inputs_do_not_panic() {
        assert!(assess(&[], 250.0, 0).is_empty());
        assert!(assess(&[vec![]], 250.0, 0).is_empty());
        let _ = assess(&[vec![1.0]], 250.0, 1);
        let _ = assess(&[vec![f64::NAN; 3]], 0.5, 3);
        assert!(slope_kurtosis(&[0.0; 10], 3).is_none());
    }
}
