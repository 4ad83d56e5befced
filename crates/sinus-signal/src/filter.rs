//! Zero-phase IIR filtering: Butterworth design and forward–backward filtering of second-order
//! sections, the equivalents of `scipy.signal.butter(..., output='sos')` and
//! `scipy.signal.sosfiltfilt`, built on the `sci-rs` crate.
//!
//! Filtering forward then backward squares the magnitude response and cancels the phase, so
//! waves keep their timing: a QRS complex is not delayed and its shape is not skewed, which a
//! causal filter cannot offer. Edges are handled like scipy: the signal is extended at both ends
//! by an odd reflection of `padlen = 3 * (2 * sections + 1 - first_order_sections)` samples and
//! the filter starts in the steady state of a step of the first (padded) value, so a signal with
//! a DC offset does not ring at its start. A signal of `padlen` samples or fewer is an error, as
//! in scipy.

use sci_rs::signal::filter::design::{
    butter_dyn, DigitalFilter, FilterBandType, FilterOutputType, Sos,
};
use sci_rs::signal::filter::sosfilt_zi_dyn;
#[cfg(test)]
use sci_rs::signal::filter::sosfiltfilt_dyn;
use sinus_io::{Error, Result};

/// Highest Butterworth order accepted: beyond it the design is numerically poor in `f64` and
/// no ECG use needs it.
pub const MAX_ORDER: usize = 12;

/// Smallest cut-off accepted, as a fraction of the Nyquist frequency (and the closest to it).
pub const MIN_NORMALIZED_CUTOFF: f64 = 1e-9;

/// Pass band of a filter; frequencies in Hz.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Band {
    /// Pass below the cut-off.
    LowPass(f64),
    /// Pass above the cut-off.
    HighPass(f64),
    /// Pass between the two cut-offs (low, high).
    BandPass(f64, f64),
    /// Reject between the two cut-offs (low, high).
    BandStop(f64, f64),
}

/// A digital filter as cascaded second-order sections, one `[b0, b1, b2, a0, a1, a2]` row per
/// section (scipy's `sos` layout, `a0 = 1`).
#[derive(Debug, Clone, PartialEq)]
pub struct SosFilter {
    sections: Vec<[f64; 6]>,
}

impl SosFilter {
    /// A filter from scipy-layout sections. Errors when there is no section, a coefficient is
    /// not finite, or an `a0` is zero.
    pub fn from_sections(sections: Vec<[f64; 6]>) -> Result<Self> {
        if sections.is_empty() {
            return Err(Error::invalid(
                "a filter needs at least one second-order section",
            ));
        }
        for (i, s) in sections.iter().enumerate() {
            if s.iter().any(|c| !c.is_finite()) {
                return Err(Error::invalid(format!(
                    "second-order section {i} has a non-finite coefficient"
                )));
            }
            if s[3] == 0.0 {
                return Err(Error::invalid(format!(
                    "second-order section {i} has a0 = 0"
                )));
            }
        }
        // Normalise so that a0 = 1, as scipy's sosfilt does implicitly.
        let sections = sections
            .into_iter()
            .map(|s| {
                let a0 = s[3];
                [s[0] / a0, s[1] / a0, s[2] / a0, 1.0, s[4] / a0, s[5] / a0]
            })
            .collect();
        Ok(SosFilter { sections })
    }

    /// Butterworth filter of `order` (per band edge, as in scipy: a band-pass of order 2 has
    /// 4 poles) for sampling frequency `fs` Hz. Cut-offs must lie strictly between 0 and the
    /// Nyquist frequency `fs / 2` (by at least [`MIN_NORMALIZED_CUTOFF`] of it), and low < high
    /// for two-edge bands.
    pub fn butterworth(order: usize, band: Band, fs: f64) -> Result<Self> {
        if order == 0 || order > MAX_ORDER {
            return Err(Error::invalid(format!(
                "Butterworth order {order} is outside 1..={MAX_ORDER}"
            )));
        }
        if !(fs.is_finite() && fs > 0.0) {
            return Err(Error::invalid(format!(
                "sampling frequency {fs} Hz is not a positive number"
            )));
        }
        let nyquist = fs / 2.0;
        let check = |f: f64| -> Result<f64> {
            if !(f.is_finite() && f > 0.0 && f < nyquist) {
                return Err(Error::invalid(format!(
                    "cut-off {f} Hz is not strictly between 0 and the Nyquist frequency {nyquist} Hz"
                )));
            }
            // sci-rs's design panics (and any design is meaningless in f64) within about 1e-15
            // of 0 or of the Nyquist frequency.
            let w = f / nyquist;
            if !(MIN_NORMALIZED_CUTOFF..=1.0 - MIN_NORMALIZED_CUTOFF).contains(&w) {
                return Err(Error::invalid(format!(
                    "cut-off {f} Hz is too close to 0 or to the Nyquist frequency {nyquist} Hz to design"
                )));
            }
            Ok(f)
        };
        let (wn, btype) = match band {
            Band::LowPass(f) => (vec![check(f)?], FilterBandType::Lowpass),
            Band::HighPass(f) => (vec![check(f)?], FilterBandType::Highpass),
            Band::BandPass(lo, hi) | Band::BandStop(lo, hi) => {
                let (lo, hi) = (check(lo)?, check(hi)?);
                if lo >= hi {
                    return Err(Error::invalid(format!(
                        "band edges {lo} Hz and {hi} Hz are not increasing"
                    )));
                }
                let t = if matches!(band, Band::BandPass(..)) {
                    FilterBandType::Bandpass
                } else {
                    FilterBandType::Bandstop
                };
                (vec![lo, hi], t)
            }
        };
        // Inputs are validated above; should sci-rs still panic on some corner, report it as
        // an error rather than abort the caller.
        let designed = std::panic::catch_unwind(|| {
            butter_dyn::<f64>(
                order,
                wn,
                Some(btype),
                Some(false),
                Some(FilterOutputType::Sos),
                Some(fs),
            )
        })
        .map_err(|_| Error::invalid("Butterworth design failed for these parameters"))?;
        let DigitalFilter::Sos(sos) = designed else {
            return Err(Error::invalid("Butterworth design did not return sections"));
        };
        Self::from_sections(
            sos.sos
                .iter()
                .map(|s| [s.b[0], s.b[1], s.b[2], s.a[0], s.a[1], s.a[2]])
                .collect(),
        )
    }

    /// The sections, scipy layout.
    pub fn sections(&self) -> &[[f64; 6]] {
        &self.sections
    }

    /// Number of samples of odd extension added at each end by [`SosFilter::filtfilt`]
    /// (scipy's default `padlen`): `3 * (2 * sections + 1 - k)` where `k` counts sections that
    /// are first order in both numerator and denominator.
    pub fn padlen(&self) -> usize {
        let bzeros = self.sections.iter().filter(|s| s[2] == 0.0).count();
        let azeros = self.sections.iter().filter(|s| s[5] == 0.0).count();
        3 * (2 * self.sections.len() + 1 - bzeros.min(azeros))
    }

    /// Shortest signal [`SosFilter::filtfilt`] accepts: `padlen + 1`.
    pub fn min_len(&self) -> usize {
        self.padlen() + 1
    }

    fn sci_sections(&self) -> Vec<Sos<f64>> {
        self.sections
            .iter()
            .map(|s| Sos::new([s[0], s[1], s[2]], [s[3], s[4], s[5]]))
            .collect()
    }

    /// Zero-phase (forward–backward) filtering, as `scipy.signal.sosfiltfilt(sos, x)` with its
    /// defaults (odd padding, steady-state initial conditions). Errors when `x` has
    /// [`SosFilter::padlen`] samples or fewer, or holds a non-finite value (fill gaps first, see
    /// [`crate::gaps`]).
    pub fn filtfilt(&self, x: &[f64]) -> Result<Vec<f64>> {
        let padlen = self.padlen();
        if x.len() <= padlen {
            return Err(Error::invalid(format!(
                "signal of {} samples is too short for zero-phase filtering: it needs more than {padlen}",
                x.len()
            )));
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(format!(
                "sample {i} is not a finite number; fill missing samples before filtering"
            )));
        }
        Ok(self.filtfilt_unchecked(x))
    }

    /// [`SosFilter::filtfilt`] of two signals of the same length at once: the same results,
    /// faster (the two recursions are independent, so the processor overlaps them).
    pub fn filtfilt_pair(&self, a: &[f64], b: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
        if a.len() != b.len() {
            return Ok((self.filtfilt(a)?, self.filtfilt(b)?));
        }
        for x in [a, b] {
            // The same checks and messages as `filtfilt`.
            if x.len() <= self.padlen() || x.iter().any(|v| !v.is_finite()) {
                self.filtfilt(x)?;
            }
        }
        let (zi, coefs) = self.zi_and_coefs();
        let (mut ba, mut bb) = (self.odd_extension(a), self.odd_extension(b));
        let (x0a, x0b) = (ba[0], bb[0]);
        let mut sa: Vec<[f64; 2]> = zi.iter().map(|z| [z[0] * x0a, z[1] * x0a]).collect();
        let mut sb: Vec<[f64; 2]> = zi.iter().map(|z| [z[0] * x0b, z[1] * x0b]).collect();
        for (va, vb) in ba.iter_mut().zip(bb.iter_mut()) {
            *va = run_sections(&coefs, *va, &mut sa);
            *vb = run_sections(&coefs, *vb, &mut sb);
        }
        let (y0a, y0b) = (ba[ba.len() - 1], bb[bb.len() - 1]);
        let mut sa: Vec<[f64; 2]> = zi.iter().map(|z| [z[0] * y0a, z[1] * y0a]).collect();
        let mut sb: Vec<[f64; 2]> = zi.iter().map(|z| [z[0] * y0b, z[1] * y0b]).collect();
        for (va, vb) in ba.iter_mut().rev().zip(bb.iter_mut().rev()) {
            *va = run_sections(&coefs, *va, &mut sa);
            *vb = run_sections(&coefs, *vb, &mut sb);
        }
        Ok((self.unpad(ba, a.len()), self.unpad(bb, b.len())))
    }

    /// Steady-state initial conditions per section (sci-rs's `sosfilt_zi_dyn`) and the
    /// normalised coefficients b0, b1, b2, a1, a2.
    fn zi_and_coefs(&self) -> (Vec<[f64; 2]>, Vec<[f64; 5]>) {
        let mut init = self.sci_sections();
        sosfilt_zi_dyn::<_, _, Sos<f64>>(init.iter_mut());
        (
            init.iter().map(|s| [s.zi0, s.zi1]).collect(),
            init.iter()
                .map(|s| [s.b[0], s.b[1], s.b[2], s.a[1], s.a[2]])
                .collect(),
        )
    }

    /// `x` with [`SosFilter::padlen`] samples of odd extension on each side (sci-rs's
    /// `odd_ext_dyn`): 2·x[0] − x[edge..1], x, 2·x[last] − x[last−1..last−edge].
    fn odd_extension(&self, x: &[f64]) -> Vec<f64> {
        let edge = self.padlen();
        let last = x.len() - 1;
        let mut buf = Vec::with_capacity(x.len() + 2 * edge);
        let two = 1.0f64 + 1.0;
        buf.extend((0..edge).map(|i| two * x[0] - x[edge - i]));
        buf.extend_from_slice(x);
        buf.extend((0..edge).map(|k| two * x[last] - x[last - 1 - k]));
        buf
    }

    /// The `n` samples of a padded buffer between its extensions.
    fn unpad(&self, mut buf: Vec<f64>, n: usize) -> Vec<f64> {
        let edge = self.padlen();
        buf.copy_within(edge..edge + n, 0);
        buf.truncate(n);
        buf
    }

    /// [`SosFilter::filtfilt`] without the checks: the same arithmetic as sci-rs's
    /// `sosfiltfilt_dyn` (so the same result to the bit), in one buffer instead of five.
    fn filtfilt_unchecked(&self, x: &[f64]) -> Vec<f64> {
        let (zi, coefs) = self.zi_and_coefs();
        let mut buf = self.odd_extension(x);
        let x0 = buf[0];
        let mut state: Vec<[f64; 2]> = zi.iter().map(|z| [z[0] * x0, z[1] * x0]).collect();
        for v in buf.iter_mut() {
            *v = run_sections(&coefs, *v, &mut state);
        }
        let y0 = buf[buf.len() - 1];
        let mut state: Vec<[f64; 2]> = zi.iter().map(|z| [z[0] * y0, z[1] * y0]).collect();
        for v in buf.iter_mut().rev() {
            *v = run_sections(&coefs, *v, &mut state);
        }
        self.unpad(buf, x.len())
    }

    /// Causal (forward-only) filtering from a zero initial state, as `scipy.signal.sosfilt`.
    /// Non-finite input propagates to the output.
    pub fn filter(&self, x: &[f64]) -> Vec<f64> {
        let mut state = vec![[0.0f64; 2]; self.sections.len()];
        x.iter()
            .map(|&v| {
                let mut v = v;
                for (s, z) in self.sections.iter().zip(state.iter_mut()) {
                    let y = s[0] * v + z[0];
                    z[0] = s[1] * v - s[4] * y + z[1];
                    z[1] = s[2] * v - s[5] * y;
                    v = y;
                }
                v
            })
            .collect()
    }

    /// Magnitude of the frequency response at `f` Hz for sampling frequency `fs` (one pass;
    /// [`SosFilter::filtfilt`] applies its square).
    pub fn magnitude(&self, f: f64, fs: f64) -> f64 {
        let w = 2.0 * std::f64::consts::PI * f / fs;
        let (c1, s1, c2, s2) = (w.cos(), w.sin(), (2.0 * w).cos(), (2.0 * w).sin());
        self.sections
            .iter()
            .map(|s| {
                // z^-1 = e^{-jw}
                let nr = s[0] + s[1] * c1 + s[2] * c2;
                let ni = -(s[1] * s1 + s[2] * s2);
                let dr = s[3] + s[4] * c1 + s[5] * c2;
                let di = -(s[4] * s1 + s[5] * s2);
                ((nr * nr + ni * ni) / (dr * dr + di * di)).sqrt()
            })
            .product()
    }
}

/// One sample through the cascade (transposed direct form II, sci-rs's arithmetic).
#[inline(always)]
fn run_sections(coefs: &[[f64; 5]], v: f64, state: &mut [[f64; 2]]) -> f64 {
    let mut x_curr = v;
    for (c, z) in coefs.iter().zip(state.iter_mut()) {
        let x_new = c[0] * x_curr + z[0];
        z[0] = c[1] * x_curr - c[3] * x_new + z[1];
        z[1] = c[2] * x_curr - c[4] * x_new;
        x_curr = x_new;
    }
    x_curr
}

/// Zero-phase Butterworth filtering in one call: design with [`SosFilter::butterworth`], then
/// [`SosFilter::filtfilt`].
pub fn butterworth_filtfilt(x: &[f64], order: usize, band: Band, fs: f64) -> Result<Vec<f64>> {
    SosFilter::butterworth(order, band, fs)?.filtfilt(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filtfilt_equals_sci_rs_to_the_bit() {
        let mut state = 0x0123_4567_89AB_CDEFu64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let filters = [
            SosFilter::butterworth(2, Band::BandPass(5.0, 25.0), 250.0).unwrap(),
            SosFilter::butterworth(2, Band::BandPass(5.0, 25.0), 360.0).unwrap(),
            SosFilter::butterworth(2, Band::HighPass(0.5), 360.0).unwrap(),
            SosFilter::butterworth(3, Band::LowPass(40.0), 250.0).unwrap(),
            SosFilter::butterworth(5, Band::BandStop(45.0, 55.0), 500.0).unwrap(),
        ];
        for f in &filters {
            for n in [f.padlen() + 1, f.padlen() + 2, 100, 1000, 5001] {
                let x: Vec<f64> = (0..n).map(|_| next() * 3.0).collect();
                let want = sosfiltfilt_dyn(x.iter(), &f.sci_sections());
                let got = f.filtfilt(&x).unwrap();
                let y: Vec<f64> = x.iter().rev().map(|v| v * 0.5 + 1.0).collect();
                let (pa, pb) = f.filtfilt_pair(&x, &y).unwrap();
                assert_eq!(pa, got);
                assert_eq!(pb, f.filtfilt(&y).unwrap());
                assert_eq!(want.len(), got.len());
                for (i, (a, b)) in want.iter().zip(&got).enumerate() {
                    assert_eq!(a.to_bits(), b.to_bits(), "n {n} at {i}: {a} vs {b}");
                }
            }
        }
    }
}
