//! Rational-ratio resampling (e.g. MIT-BIH's 360 Hz to a device's 250 Hz) with exact timing,
//! built on `rubato`'s FFT-based synchronous resampler, and index mapping between rates.
//!
//! Timing convention: input sample `i` is at time `i / fs_in`, output sample `k` at time
//! `k / fs_out`, both from the same origin. `rubato`'s anti-aliasing filter is a symmetric
//! (linear-phase) windowed sinc whose delay is removed exactly here, so a wave keeps its time
//! to a small fraction of a sample. The output has `ceil(n * fs_out / fs_in)` samples: every
//! output instant inside the input's span `[0, n / fs_in)`.
//!
//! Edges: the resampler would see zeros before the first and after the last sample, which for
//! an ECG with an offset is a step that rings. The signal is therefore extended at both ends by
//! an odd reflection about its end values (as zero-phase filtering does) before resampling, and
//! the extension is cut off afterwards.
//!
//! Missing samples (NaN): see [`resample_with_gaps`].

use crate::gaps;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use sinus_io::{Error, Recording, Result};

/// Largest numerator or denominator of a reduced rate ratio accepted (`fs_out / fs_in = up /
/// down`): the resampler's FFT length is a multiple of both, so this bounds its memory.
pub const MAX_RATIO_TERM: u64 = 10_000;

/// The reduced ratio `fs_out / fs_in = up / down`, both at most [`MAX_RATIO_TERM`]. Errors when
/// a rate is not a positive finite number or the ratio has no such exact (to 1e-9 relative)
/// fraction.
pub fn rational_ratio(fs_in: f64, fs_out: f64) -> Result<(u64, u64)> {
    for (name, f) in [("input", fs_in), ("output", fs_out)] {
        if !(f.is_finite() && f > 0.0) {
            return Err(Error::invalid(format!(
                "{name} sampling frequency {f} Hz is not a positive number"
            )));
        }
    }
    let r = fs_out / fs_in;
    // Continued-fraction convergents of r; stop at the first that matches to 1e-9.
    let (mut h0, mut h1) = (0u64, 1u64);
    let (mut k0, mut k1) = (1u64, 0u64);
    let mut x = r;
    for _ in 0..64 {
        let a = x.floor();
        if !(a.is_finite() && a < MAX_RATIO_TERM as f64 + 1.0) {
            break;
        }
        let a = a as u64;
        let h2 = a.saturating_mul(h1).saturating_add(h0);
        let k2 = a.saturating_mul(k1).saturating_add(k0);
        if h2 > MAX_RATIO_TERM || k2 > MAX_RATIO_TERM {
            break;
        }
        (h0, h1, k0, k1) = (h1, h2, k1, k2);
        if h1 > 0 && ((h1 as f64 / k1 as f64) / r - 1.0).abs() < 1e-9 {
            return Ok((h1, k1));
        }
        let frac = x - a as f64;
        if frac <= 0.0 {
            break;
        }
        x = 1.0 / frac;
    }
    Err(Error::invalid(format!(
        "the rate ratio {fs_out}/{fs_in} is not a fraction with terms up to {MAX_RATIO_TERM}"
    )))
}

/// Whether two sampling rates are the same (to 1e-9 relative), so that resampling from one to
/// the other would be the identity and is skipped.
pub fn same_rate(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Number of output samples for `n` input samples: `ceil(n * up / down)`.
pub fn output_len(n: usize, fs_in: f64, fs_out: f64) -> Result<usize> {
    let (up, down) = rational_ratio(fs_in, fs_out)?;
    let num = (n as u128) * (up as u128);
    Ok(num.div_ceil(down as u128).min(usize::MAX as u128) as usize)
}

/// The sample index at rate `fs_to` nearest in time to sample `i` at rate `fs_from` (same
/// origin): `round(i * fs_to / fs_from)`, halves rounded up, computed exactly in integers when
/// the ratio is a fraction with small terms (see [`rational_ratio`]), else in `f64`.
pub fn map_index(i: i64, fs_from: f64, fs_to: f64) -> i64 {
    match rational_ratio(fs_from, fs_to) {
        Ok((up, down)) => {
            let num = 2 * (i as i128) * (up as i128) + down as i128;
            num.div_euclid(2 * down as i128)
                .clamp(i64::MIN as i128, i64::MAX as i128) as i64
        }
        Err(_) => {
            let v = (i as f64 * fs_to / fs_from + 0.5).floor();
            if v.is_finite() {
                v as i64
            } else {
                0
            }
        }
    }
}

/// Map a list of sample indices (e.g. beat positions) from `fs_from` to `fs_to` with
/// [`map_index`].
pub fn map_indices(indices: &[i64], fs_from: f64, fs_to: f64) -> Vec<i64> {
    indices
        .iter()
        .map(|&i| map_index(i, fs_from, fs_to))
        .collect()
}

/// Resample `x` from `fs_in` to `fs_out` Hz (any ratio accepted by [`rational_ratio`]). The
/// output has [`output_len`] samples; output sample `k` is the signal at time `k / fs_out`.
/// Errors on bad rates or a non-finite sample (use [`resample_with_gaps`] for records with
/// missing samples). An empty input gives an empty output.
pub fn resample(x: &[f64], fs_in: f64, fs_out: f64) -> Result<Vec<f64>> {
    let (up, down) = rational_ratio(fs_in, fs_out)?;
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "sample {i} is not a finite number; use resample_with_gaps for missing samples"
        )));
    }
    let n = x.len();
    let n_out = output_len(n, fs_in, fs_out)?;
    if n == 0 {
        return Ok(Vec::new());
    }
    if up == down {
        return Ok(x.to_vec());
    }
    let (up, down) = (up as usize, down as usize);
    // FFT block: `c` periods of the ratio, `c` even so that both block lengths are even and
    // rubato's delay (half the output block, the centre of its symmetric sinc of one input
    // block) is a whole number of samples at both rates: the trimmed output is then exactly
    // aligned. About 512 input samples per block keeps the transition band narrow.
    let c = {
        let c = 512usize.div_ceil(down).max(2);
        c + (c & 1)
    };
    let block_in = c * down;
    // Extension at each end: whole blocks (a multiple of `down` input samples, hence a whole
    // number of output samples), at least one filter length.
    let pad_in = block_in;
    let pad_out = c * up;
    let mut ext = Vec::with_capacity(n + 2 * pad_in);
    let (first, last) = (x[0], x[n - 1]);
    // Odd reflection about the end values; indices beyond a short signal are clamped.
    for j in (1..=pad_in).rev() {
        ext.push(2.0 * first - x[j.min(n - 1)]);
    }
    ext.extend_from_slice(x);
    for j in 1..=pad_in {
        ext.push(2.0 * last - x[(n - 1).saturating_sub(j)]);
    }
    let mut rs = Fft::<f64>::new_custom(
        down,
        up,
        block_in,
        1,
        1,
        rubato::WindowFunction::BlackmanHarris2,
        FixedSync::Input,
    )
    .map_err(|e| Error::invalid(format!("resampler construction failed: {e}")))?;
    let input = InterleavedSlice::new(&ext[..], 1, ext.len())
        .map_err(|e| Error::invalid(format!("resampler input: {e}")))?;
    let out = rs
        .process_all(&input, ext.len(), None)
        .map_err(|e| Error::invalid(format!("resampling failed: {e}")))?;
    let data = out.take_data();
    let mut y: Vec<f64> = data.iter().skip(pad_out).take(n_out).copied().collect();
    // process_all yields ceil(len * ratio) samples, so this never triggers; kept so that a
    // change in rubato cannot make the output shorter than documented.
    y.resize(n_out, last);
    Ok(y)
}

/// Resample a signal that may contain missing samples (NaN). Gaps are filled by linear
/// interpolation (see [`crate::gaps`]) before resampling; afterwards, every output sample whose
/// time falls within a gap longer than `max_fill_s` seconds (or within one input sample of it) is
/// set back to NaN, so long gaps stay visible as missing while short ones are bridged.
pub fn resample_with_gaps(x: &[f64], fs_in: f64, fs_out: f64, max_fill_s: f64) -> Result<Vec<f64>> {
    let (filled, gaps) = gaps::filled(x);
    let mut y = resample(&filled, fs_in, fs_out)?;
    let max_len = if max_fill_s.is_finite() && max_fill_s >= 0.0 {
        (max_fill_s * fs_in).floor().min(usize::MAX as f64) as usize
    } else {
        0
    };
    for g in gaps.iter().filter(|g| g.len() > max_len) {
        // Output samples within one input sample of the gap see interpolated data.
        let lo = map_index(g.start as i64 - 1, fs_in, fs_out).max(0) as usize;
        let hi = (map_index(g.end as i64, fs_in, fs_out).max(0) as usize).min(y.len());
        if lo < hi {
            y[lo..hi].iter_mut().for_each(|v| *v = f64::NAN);
        }
    }
    Ok(y)
}

/// A recording whose first leads (`leads`, physical units, as read from `rec`) are resampled to
/// `fs_out` (gaps up to 0.5 s bridged, longer ones kept missing), stored at 1 µV resolution.
pub fn resample_leads(rec: &Recording, leads: &[Vec<f64>], fs_out: f64) -> Result<Recording> {
    let fs = rec.frame_frequency;
    let mut work = Recording {
        name: rec.name.clone(),
        frame_frequency: fs_out,
        frames: 0,
        base_datetime: rec.base_datetime,
        signals: Vec::new(),
        info: rec.info.clone(),
    };
    for (lead, sig) in leads.iter().zip(&rec.signals) {
        let x = resample_with_gaps(lead, fs, fs_out, 0.5)?;
        let gain = 1000.0;
        work.frames = x.len() as u64;
        work.signals.push(sinus_io::Signal {
            gain,
            baseline: 0,
            samples: x
                .iter()
                .map(|v| {
                    if v.is_finite() {
                        (v * gain).round().clamp(-2e9, 2e9) as i32
                    } else {
                        sinus_io::MISSING
                    }
                })
                .collect(),
            description: sig.description.clone(),
            units: sig.units.clone(),
            adc_resolution: 0,
            adc_zero: 0,
            samples_per_frame: 1,
        });
    }
    Ok(work)
}

/// `rec` resampled to `fs_out` (every lead).
pub fn resample_recording(rec: &Recording, fs_out: f64) -> Result<Recording> {
    let leads: Vec<Vec<f64>> = rec.signals.iter().map(|s| s.physical_samples()).collect();
    resample_leads(rec, &leads, fs_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios() {
        assert_eq!(rational_ratio(360.0, 250.0).unwrap(), (25, 36));
        assert_eq!(rational_ratio(250.0, 360.0).unwrap(), (36, 25));
        assert_eq!(rational_ratio(128.0, 128.0).unwrap(), (1, 1));
        assert_eq!(rational_ratio(1000.0, 360.0).unwrap(), (9, 25));
        assert_eq!(rational_ratio(44_100.0, 48_000.0).unwrap(), (160, 147));
        assert!(rational_ratio(0.0, 250.0).is_err());
        assert!(rational_ratio(360.0, f64::NAN).is_err());
        assert!(rational_ratio(1.0, std::f64::consts::PI).is_err());
    }

    #[test]
    fn index_mapping() {
        assert_eq!(map_index(360, 360.0, 250.0), 250);
        assert_eq!(map_index(1, 360.0, 250.0), 1); // 0.694 -> 1
        assert_eq!(map_index(250, 250.0, 360.0), 360);
        assert_eq!(map_index(-1, 360.0, 250.0), -1);
        assert_eq!(map_index(5, 100.0, 100.0), 5);
        // Round trip 360 -> 250 -> 360 is within one 360 Hz sample.
        for i in 0..2000i64 {
            let back = map_index(map_index(i, 360.0, 250.0), 250.0, 360.0);
            assert!((back - i).abs() <= 1, "{i} -> {back}");
        }
        assert_eq!(output_len(360, 360.0, 250.0).unwrap(), 250);
        assert_eq!(output_len(361, 360.0, 250.0).unwrap(), 251);
    }
}
