//! Synthetic ECG for tests and examples: a sum-of-Gaussians beat (P, Q, R, S, T waves) placed
//! at chosen R-peak times, with optional baseline wander. Not a physiological model; it only
//! has the shapes and time scales a detector and a baseline filter must cope with.

use std::f64::consts::PI;

/// One wave of the beat template: amplitude (mV), centre relative to the R peak (s), width
/// (Gaussian sigma, s).
#[derive(Debug, Clone, Copy)]
pub struct Wave {
    /// Amplitude in mV (negative for Q and S).
    pub amplitude: f64,
    /// Centre relative to the R peak, seconds.
    pub offset_s: f64,
    /// Gaussian standard deviation, seconds.
    pub sigma_s: f64,
}

/// A normal-looking lead-II beat: P 0.15 mV, narrow QRS (R 1 mV, ≈ 80 ms), T 0.3 mV.
pub const NORMAL_BEAT: [Wave; 5] = [
    Wave {
        amplitude: 0.15,
        offset_s: -0.16,
        sigma_s: 0.020,
    },
    Wave {
        amplitude: -0.10,
        offset_s: -0.025,
        sigma_s: 0.008,
    },
    Wave {
        amplitude: 1.00,
        offset_s: 0.0,
        sigma_s: 0.010,
    },
    Wave {
        amplitude: -0.25,
        offset_s: 0.025,
        sigma_s: 0.008,
    },
    Wave {
        amplitude: 0.30,
        offset_s: 0.28,
        sigma_s: 0.040,
    },
];

/// ECG of `n` samples at `fs` Hz with `beat` placed at each R-peak sample in `r_peaks`, scaled by
/// `scale`.
pub fn beat_train(n: usize, fs: f64, r_peaks: &[usize], beat: &[Wave], scale: f64) -> Vec<f64> {
    let mut x = vec![0.0; n];
    for &r in r_peaks {
        for w in beat {
            let c = r as f64 + w.offset_s * fs;
            let s = w.sigma_s * fs;
            let lo = (c - 5.0 * s).floor().max(0.0) as usize;
            let hi = ((c + 5.0 * s).ceil().max(0.0) as usize).min(n);
            for (i, v) in x.iter_mut().enumerate().take(hi).skip(lo) {
                let d = (i as f64 - c) / s;
                *v += scale * w.amplitude * (-0.5 * d * d).exp();
            }
        }
    }
    x
}

/// Baseline wander of breathing (0.25 Hz, 0.5 mV) and slow drift (0.07 Hz, 0.3 mV), sampled at
/// `fs` Hz.
pub fn wander(n: usize, fs: f64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let t = i as f64 / fs;
            0.5 * (2.0 * PI * 0.25 * t).sin() + 0.3 * (2.0 * PI * 0.07 * t + 1.0).sin()
        })
        .collect()
}

/// R-peak samples for `seconds` of rhythm at `fs` Hz whose RR intervals cycle through `rr_s`
/// (seconds), starting at `first_s`.
pub fn r_peaks(fs: f64, seconds: f64, first_s: f64, rr_s: &[f64]) -> Vec<usize> {
    let mut out = Vec::new();
    if rr_s.is_empty() || rr_s.iter().any(|&r| r.is_nan() || r <= 0.0) {
        return out;
    }
    let mut t = first_s;
    let mut k = 0;
    while t < seconds {
        out.push((t * fs).round() as usize);
        t += rr_s[k % rr_s.len()];
        k += 1;
    }
    out
}
