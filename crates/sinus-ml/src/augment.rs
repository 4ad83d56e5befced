//! Beat augmentation: amplitude scale, baseline shift, Gaussian noise and a small time warp
//! about the R-peak, used to oversample minority classes with plausible variants.

use crate::dataset::{AamiClass, Beat, BeatWindowConfig};
use crate::rng::SplitMix64;
use sinus_io::{Error, Result};

/// Most beats [`augment_dataset`] will create in one call (bounds memory: at 128 points a
/// beat is ~0.6 KiB, so this is ~1.2 GiB at most).
pub const MAX_AUGMENTED_BEATS: usize = 2_000_000;

/// Random transforms applied to a beat. Each of the four transforms is applied independently
/// with [`probability`](Augmentation::probability); a transform whose magnitude is zero
/// (scale range (1, 1)) never changes the beat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Augmentation {
    /// Range (low, high) of the factor that multiplies the whole waveform, e.g. (0.8, 1.2).
    pub amplitude_scale: (f32, f32),
    /// Largest absolute offset added to each lead (one offset per lead), in the waveform's
    /// units (standard deviations when the windows are z-normalised).
    pub baseline_shift: f32,
    /// Standard deviation of the white Gaussian noise added to every point.
    pub noise_std: f32,
    /// Largest relative stretch or compression of the time axis about the R-peak, e.g. 0.05
    /// for ±5 %.
    pub time_warp: f32,
    /// Chance, in [0, 1], that each transform is applied.
    pub probability: f32,
}

impl Default for Augmentation {
    /// Scale 0.8–1.2, shift ±0.1, noise 0.05, warp ±5 %, each applied with probability 0.5.
    fn default() -> Self {
        Augmentation {
            amplitude_scale: (0.8, 1.2),
            baseline_shift: 0.1,
            noise_std: 0.05,
            time_warp: 0.05,
            probability: 0.5,
        }
    }
}

impl Augmentation {
    /// No change at all: every magnitude zero.
    pub const IDENTITY: Augmentation = Augmentation {
        amplitude_scale: (1.0, 1.0),
        baseline_shift: 0.0,
        noise_std: 0.0,
        time_warp: 0.0,
        probability: 1.0,
    };

    /// Check that every parameter is finite and in range.
    pub fn validate(&self) -> Result<()> {
        let (lo, hi) = self.amplitude_scale;
        if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
            return Err(Error::invalid(format!(
                "amplitude scale range ({lo}, {hi}) must be finite with low ≤ high"
            )));
        }
        for (name, v) in [
            ("baseline shift", self.baseline_shift),
            ("noise standard deviation", self.noise_std),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(format!("{name} {v} must be finite and ≥ 0")));
            }
        }
        if !(self.time_warp.is_finite() && (0.0..0.5).contains(&self.time_warp)) {
            return Err(Error::invalid(format!(
                "time warp {} must be in [0, 0.5)",
                self.time_warp
            )));
        }
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(Error::invalid(format!(
                "probability {} must be in [0, 1]",
                self.probability
            )));
        }
        Ok(())
    }
}

/// Position (fractional index) of the R-peak inside a resampled window of `length` points:
/// the window spans −before_s..+after_s inclusive of both ends.
pub fn r_peak_index(config: &BeatWindowConfig, length: usize) -> f64 {
    let span = config.before_s + config.after_s;
    if length < 2 || !(span.is_finite() && span > 0.0) {
        return 0.0;
    }
    (config.before_s / span).clamp(0.0, 1.0) * (length - 1) as f64
}

/// Resample `x` so that the time axis is stretched by `factor` about index `centre`:
/// output point i takes the input at `centre + (i − centre) / factor`, linearly
/// interpolated, holding the end values beyond the window (no data exists there).
fn warp_lead(x: &mut [f32], centre: f64, factor: f64) {
    let n = x.len();
    if n < 2 || !(factor.is_finite() && factor > 0.0) {
        return;
    }
    let src: Vec<f32> = x.to_vec();
    let last = (n - 1) as f64;
    for (i, out) in x.iter_mut().enumerate() {
        let t = (centre + (i as f64 - centre) / factor).clamp(0.0, last);
        let j = (t.floor() as usize).min(n - 2);
        let f = t - j as f64;
        let (a, b) = (src[j] as f64, src[j + 1] as f64);
        *out = (a + (b - a) * f) as f32;
    }
}

/// A randomly transformed copy of `beat`. Class, record, sample, symbol and RR features are
/// kept; the waveform keeps its length. The leads are taken as `config.leads.len()` equal
/// parts of the waveform (the whole waveform as one lead if it does not divide evenly), and
/// the R-peak at [`r_peak_index`]. Out-of-range parameters are tamed rather than trusted
/// (non-finite or negative magnitudes act as zero); use [`Augmentation::validate`] to reject
/// them instead. The result depends only on the inputs and the generator's state.
pub fn augment_beat(
    beat: &Beat,
    aug: &Augmentation,
    config: &BeatWindowConfig,
    rng: &mut SplitMix64,
) -> Beat {
    let mut out = beat.clone();
    let p = if aug.probability.is_finite() {
        aug.probability as f64
    } else {
        0.0
    };
    let mag = |v: f32| {
        if v.is_finite() && v > 0.0 {
            v as f64
        } else {
            0.0
        }
    };
    let n_leads = config.leads.len().max(1);
    let len = out.waveform.len();
    let per_lead = if len.is_multiple_of(n_leads) {
        len / n_leads
    } else {
        len
    };
    if per_lead == 0 {
        return out;
    }

    // Every random draw happens whether or not the transform is used, so the stream (and
    // hence other transforms) does not depend on which magnitudes are zero.
    let (lo, hi) = aug.amplitude_scale;
    let use_scale = rng.chance(p);
    let scale = if lo.is_finite() && hi.is_finite() && lo <= hi {
        rng.range(lo as f64, hi as f64)
    } else {
        rng.uniform();
        1.0
    };
    if use_scale && scale != 1.0 {
        for v in &mut out.waveform {
            *v = (*v as f64 * scale) as f32;
        }
    }

    let use_warp = rng.chance(p);
    let warp = mag(aug.time_warp).min(0.5);
    let factor = 1.0 + warp * (2.0 * rng.uniform() - 1.0);
    if use_warp && warp > 0.0 {
        let centre = r_peak_index(config, per_lead);
        for lead in out.waveform.chunks_mut(per_lead) {
            warp_lead(lead, centre, factor);
        }
    }

    let use_shift = rng.chance(p);
    let shift = mag(aug.baseline_shift);
    for lead in out.waveform.chunks_mut(per_lead) {
        let offset = shift * (2.0 * rng.uniform() - 1.0);
        if use_shift && shift > 0.0 {
            for v in lead {
                *v = (*v as f64 + offset) as f32;
            }
        }
    }

    let use_noise = rng.chance(p);
    let noise = mag(aug.noise_std);
    if use_noise && noise > 0.0 {
        for v in &mut out.waveform {
            *v = (*v as f64 + noise * rng.normal()) as f32;
        }
    }
    out
}

/// Augmented copies for oversampling: `copies_per_minority[c]` copies of every beat of class
/// `c` (index order of [`AamiClass::ALL`]; put 0 for the majority class). Returns only the
/// new beats, in input order (all copies of a beat together); append them to the training
/// set. Beat `i`'s copy `k` uses its own generator derived from `seed`, `i` and `k`, so the
/// result is deterministic and independent of other beats.
///
/// Errors: invalid `aug`, or more than [`MAX_AUGMENTED_BEATS`] beats asked for.
pub fn augment_dataset(
    beats: &[Beat],
    aug: &Augmentation,
    config: &BeatWindowConfig,
    seed: u64,
    copies_per_minority: [usize; 5],
) -> Result<Vec<Beat>> {
    aug.validate()?;
    let mut total: usize = 0;
    for b in beats {
        total = total.saturating_add(copies_per_minority[b.class.index()]);
    }
    if total > MAX_AUGMENTED_BEATS {
        return Err(Error::too_large(format!(
            "{total} augmented beats asked for, more than {MAX_AUGMENTED_BEATS}"
        )));
    }
    let mut out = Vec::with_capacity(total);
    for (i, b) in beats.iter().enumerate() {
        for k in 0..copies_per_minority[b.class.index()] {
            let item = (i as u64).wrapping_mul(1 << 20).wrapping_add(k as u64);
            let mut rng = SplitMix64::for_item(seed, item);
            out.push(augment_beat(b, aug, config, &mut rng));
        }
    }
    Ok(out)
}

/// Copies per beat that bring each class up to about `target` beats (0 for classes already
/// at or above it, and for empty classes).
pub fn copies_to_reach(counts: &[usize; 5], target: usize) -> [usize; 5] {
    let mut c = [0; 5];
    for class in AamiClass::ALL {
        let n = counts[class.index()];
        if n > 0 && n < target {
            c[class.index()] = (target - n) / n;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(length: usize, leads: usize) -> BeatWindowConfig {
        BeatWindowConfig {
            length,
            leads: (0..leads).collect(),
            ..BeatWindowConfig::default()
        }
    }

    fn beat(class: AamiClass, waveform: Vec<f32>) -> Beat {
        Beat {
            record: "100".into(),
            sample: 1234,
            class,
            symbol: "A".into(),
            waveform,
            rr: [0.8, 0.7, 0.75, 0.8, 1.07, 0.93, 1.0, 0.94],
        }
    }

    fn wave(n: usize) -> Vec<f32> {
        (0..n).map(|i| (i as f32 * 0.3).sin()).collect()
    }

    #[test]
    fn length_class_and_metadata_preserved() {
        let cfg = config(64, 2);
        let b = beat(AamiClass::S, wave(128));
        let aug = Augmentation {
            probability: 1.0,
            ..Augmentation::default()
        };
        let mut rng = SplitMix64::new(3);
        for _ in 0..20 {
            let a = augment_beat(&b, &aug, &cfg, &mut rng);
            assert_eq!(a.waveform.len(), 128);
            assert_eq!(
                (a.class, &a.record, a.rr, a.sample),
                (b.class, &b.record, b.rr, b.sample)
            );
            assert_ne!(a.waveform, b.waveform);
            assert!(a.waveform.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn identity_when_magnitudes_zero() {
        let cfg = config(64, 2);
        let b = beat(AamiClass::V, wave(128));
        let mut rng = SplitMix64::new(9);
        for _ in 0..5 {
            assert_eq!(augment_beat(&b, &Augmentation::IDENTITY, &cfg, &mut rng), b);
        }
        let never = Augmentation {
            probability: 0.0,
            ..Augmentation::default()
        };
        assert_eq!(augment_beat(&b, &never, &cfg, &mut rng), b);
    }

    #[test]
    fn deterministic_for_a_seed() {
        let cfg = config(128, 1);
        let beats: Vec<Beat> = (0..10)
            .map(|i| beat(AamiClass::ALL[i % 5], wave(128)))
            .collect();
        let aug = Augmentation::default();
        let a = augment_dataset(&beats, &aug, &cfg, 42, [0, 3, 2, 1, 0]).unwrap();
        let b = augment_dataset(&beats, &aug, &cfg, 42, [0, 3, 2, 1, 0]).unwrap();
        let c = augment_dataset(&beats, &aug, &cfg, 43, [0, 3, 2, 1, 0]).unwrap();
        assert_eq!(a.len(), 2 * 3 + 2 * 2 + 2);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a
            .iter()
            .all(|x| x.class != AamiClass::N && x.class != AamiClass::Q));
        // Copies of one beat differ from each other.
        assert_ne!(a[0].waveform, a[1].waveform);
    }

    #[test]
    fn time_warp_keeps_r_peak() {
        for (before, after, len) in [(0.25, 0.40, 128), (0.3, 0.3, 101), (0.1, 0.5, 90)] {
            let cfg = BeatWindowConfig {
                before_s: before,
                after_s: after,
                ..config(len, 1)
            };
            let r = r_peak_index(&cfg, len).round() as usize;
            let mut w = vec![0.0f32; len];
            w[r] = 10.0;
            w[r - 1] = 5.0;
            w[r + 1] = 5.0;
            let b = beat(AamiClass::N, w);
            let aug = Augmentation {
                time_warp: 0.2,
                probability: 1.0,
                ..Augmentation::IDENTITY
            };
            let mut rng = SplitMix64::new(5);
            let mut changed = false;
            for _ in 0..50 {
                let a = augment_beat(&b, &aug, &cfg, &mut rng);
                let peak = a
                    .waveform
                    .iter()
                    .enumerate()
                    .max_by(|x, y| x.1.total_cmp(y.1))
                    .unwrap()
                    .0;
                assert!(peak.abs_diff(r) <= 1, "peak {peak} vs {r}");
                changed |= a.waveform != b.waveform;
            }
            assert!(changed);
        }
    }

    #[test]
    fn warp_stretches_about_centre() {
        // A ramp stretched by 2 about 0 halves its slope.
        let mut x: Vec<f32> = (0..11).map(|i| i as f32).collect();
        warp_lead(&mut x, 0.0, 2.0);
        assert_eq!(x[4], 2.0);
        assert_eq!(x[10], 5.0);
    }

    #[test]
    fn bad_inputs_no_panic() {
        let cfg = config(64, 3);
        let b = beat(AamiClass::N, wave(100)); // not divisible by 3 leads
        let weird = Augmentation {
            amplitude_scale: (f32::NAN, 1.0),
            baseline_shift: -1.0,
            noise_std: f32::INFINITY,
            time_warp: f32::NAN,
            probability: 1.0,
        };
        assert!(weird.validate().is_err());
        let a = augment_beat(&b, &weird, &cfg, &mut SplitMix64::new(1));
        assert_eq!(a, b);
        let empty = beat(AamiClass::N, vec![]);
        let a = augment_beat(
            &empty,
            &Augmentation::default(),
            &cfg,
            &mut SplitMix64::new(1),
        );
        assert!(a.waveform.is_empty());
        let many = augment_dataset(&[b], &Augmentation::default(), &cfg, 1, [usize::MAX; 5]);
        assert!(many.is_err());
    }

    #[test]
    fn copies_reach_target() {
        assert_eq!(
            copies_to_reach(&[1000, 100, 300, 0, 7], 1000),
            [0, 9, 2, 0, 141]
        );
    }
}
