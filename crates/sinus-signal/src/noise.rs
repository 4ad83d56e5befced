//! Noise stress test in the manner of the MIT-BIH Noise Stress Test Database (NSTDB; Moody,
//! Muldrow & Mark, "A noise stress test for arrhythmia detectors", Computers in Cardiology 11,
//! 1984), with the noise generated in code instead of taken from the NSTDB noise records.
//!
//! # Noise kinds
//! The NSTDB noise records were taken from an active subject with electrodes placed where the
//! ECG is not visible. Here each kind is a seeded random process with the time and frequency
//! scales of its namesake:
//! - [`NoiseKind::BaselineWander`] (`bw`): below 1 Hz — a random-phase sum of sinusoids between
//!   0.05 and 0.8 Hz (breathing, slow drift) plus band-limited (0.05–0.7 Hz) Gaussian noise, a
//!   bounded random walk.
//! - [`NoiseKind::MuscleArtifact`] (`ma`): EMG-like — Gaussian noise band-limited to 20–150 Hz
//!   (the upper edge capped at 0.45 × the sampling frequency), amplitude-modulated by a slowly
//!   varying log-normal envelope (σ of the log 0.5): contractions come and go over seconds.
//! - [`NoiseKind::ElectrodeMotion`] (`em`): bursts (on for ≈ 4 s, off for ≈ 3 s, exponentially
//!   distributed) of large transients — mono- or biphasic pulses 20–120 ms wide, which look
//!   like QRS complexes, and steps with exponential recovery (electrode potential jumps) — over
//!   a weak continuous component, all band-limited to 0.5–12 Hz.
//! - [`NoiseKind::Mixture`] (`mix`): the sum of the three, each at the same noise power.
//!
//! The same seed gives the same noise, on any machine: the generator is SplitMix64 with
//! Box–Muller Gaussians, and the filters are the causal Butterworth sections of
//! [`crate::filter`].
//!
//! # Signal-to-noise ratio as `nst` defines it
//! The WFDB program `nst`, which made the NSTDB, defines SNR = 10 log10(S / N) with
//! - S, the QRS "power": `sigamp` measures the peak-to-peak amplitude (maximum − minimum) of
//!   the clean signal from 50 ms before to 50 ms after each of the first 300 reference beats
//!   (`sigamp` takes the beats WFDB's `map1` calls normal: N, L, R, e, j; the caller chooses
//!   the beats here, and `make_noisy_db` passes those), discards the largest 5 % and the smallest 5 % of the
//!   measurements, and averages the rest; S is that amplitude squared divided by 8 (the power
//!   of a sinusoid of that peak-to-peak amplitude). See [`qrs_amplitude`], [`signal_power`].
//! - N, a frequency-weighted noise power: the noise is cut into one-second chunks; in each
//!   chunk the RMS difference from the chunk's mean is measured; the largest and smallest 5 %
//!   are discarded; N is the square of the mean of the rest. Removing each second's mean
//!   discounts very low-frequency noise, which troubles detectors little, so baseline wander
//!   needs a much larger amplitude than muscle noise for the same SNR. See [`noise_power`].
//!
//! `nst` measures N on the first 300 s of the noise record; here N is measured on exactly the
//! noise that is added (the noisy segments), so the realised SNR equals the requested one.
//!
//! The noise is a model, not the NSTDB's recorded noise: figures measured here are comparable
//! between detectors on the same generated records, not with results published on the NSTDB.
//!
//! # Protocol
//! As `nst`'s standard protocol and the NSTDB records: the first 5 minutes stay clean (a
//! detector's learning period), then noise is added in alternating 2-minute segments — noisy,
//! clean, noisy, … — to the end of the record ([`Protocol::NSTDB`]). When the noise gain
//! changes, `nst` changes an offset so that the output has no step; the same is done here, so
//! a noisy segment starts from zero added noise and the noise's last value stays as a constant
//! offset through the following clean segment.

use crate::filter::{Band, SosFilter};
use crate::rng::SplitMix64;
use sinus_io::error::MAX_TOTAL_SAMPLES;
use sinus_io::{Error, Result};
use std::f64::consts::PI;
use std::ops::Range;

/// The signal-to-noise ratios of the NSTDB records (dB).
pub const NSTDB_SNR_DB: [f64; 6] = [24.0, 18.0, 12.0, 6.0, 0.0, -6.0];

/// Half-width of the window around each reference beat in which the QRS peak-to-peak amplitude
/// is measured (s), as `sigamp`.
pub const QRS_HALF_WINDOW_S: f64 = 0.05;

/// Number of reference beats, from the start, whose QRS amplitude is measured, as `sigamp`.
pub const QRS_MEASUREMENTS: usize = 300;

/// Fraction of measurements discarded at each end before averaging, as `sigamp`.
pub const TRIM_FRACTION: f64 = 0.05;

/// Lowest sampling frequency accepted (Hz): below it the muscle band (from 20 Hz) would not fit
/// under the Nyquist frequency.
pub const MIN_FS: f64 = 50.0;

/// Highest sampling frequency accepted (Hz): the 0.05 Hz edge of the baseline-wander band is
/// still well conditioned there.
pub const MAX_FS: f64 = 10_000.0;

/// A kind of generated noise (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoiseKind {
    /// Baseline wander, below 1 Hz (NSTDB record `bw`).
    BaselineWander,
    /// Muscle artifact, EMG-like, 20–150 Hz (NSTDB record `ma`).
    MuscleArtifact,
    /// Electrode motion: bursts of transients and steps, 0.5–12 Hz (NSTDB record `em`).
    ElectrodeMotion,
    /// The three kinds at equal noise power.
    Mixture,
}

impl NoiseKind {
    /// All kinds, in the order of their short names `bw`, `ma`, `em`, `mix`.
    pub const ALL: [NoiseKind; 4] = [
        NoiseKind::BaselineWander,
        NoiseKind::MuscleArtifact,
        NoiseKind::ElectrodeMotion,
        NoiseKind::Mixture,
    ];

    /// The short name: `bw`, `ma`, `em` (the NSTDB noise record names) or `mix`.
    pub fn short_name(self) -> &'static str {
        match self {
            NoiseKind::BaselineWander => "bw",
            NoiseKind::MuscleArtifact => "ma",
            NoiseKind::ElectrodeMotion => "em",
            NoiseKind::Mixture => "mix",
        }
    }

    /// The kind of a short name (see [`NoiseKind::short_name`]).
    pub fn from_short_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.short_name() == name)
    }

    /// A number mixed into the seed so that kinds drawn with the same seed are independent.
    fn salt(self) -> u64 {
        match self {
            NoiseKind::BaselineWander => 0x6277,
            NoiseKind::MuscleArtifact => 0x6d61,
            NoiseKind::ElectrodeMotion => 0x656d,
            NoiseKind::Mixture => 0x6d6978,
        }
    }
}

/// When noise is added: clean for `lead_in_s` seconds, then noisy and clean segments of
/// `segment_s` seconds alternately, starting with a noisy one, to the end of the record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Protocol {
    /// Clean lead-in (s).
    pub lead_in_s: f64,
    /// Length of each noisy and each clean segment after the lead-in (s).
    pub segment_s: f64,
}

impl Protocol {
    /// The NSTDB protocol: 5 minutes clean, then 2-minute segments, noisy first.
    pub const NSTDB: Protocol = Protocol {
        lead_in_s: 300.0,
        segment_s: 120.0,
    };

    /// The noisy sample ranges for a record of `n` samples at `fs` Hz (the last one may be
    /// cut short by the record's end; empty when the record ends within the lead-in).
    ///
    /// Errors when the lead-in is negative or not finite, the segment length is not a positive
    /// finite number, or `fs` is not.
    pub fn noisy_segments(&self, n: usize, fs: f64) -> Result<Vec<Range<usize>>> {
        if !(fs.is_finite() && fs > 0.0) {
            return Err(Error::invalid(format!(
                "sampling frequency {fs} Hz is not a positive number"
            )));
        }
        if !(self.lead_in_s.is_finite() && self.lead_in_s >= 0.0) {
            return Err(Error::invalid(format!(
                "clean lead-in of {} s is not a non-negative number",
                self.lead_in_s
            )));
        }
        if !(self.segment_s.is_finite() && self.segment_s > 0.0) {
            return Err(Error::invalid(format!(
                "segment length of {} s is not a positive number",
                self.segment_s
            )));
        }
        // Float-to-int casts saturate, so huge values become usize::MAX and end the loop.
        let mut start = (self.lead_in_s * fs).round() as usize;
        let segment = ((self.segment_s * fs).round() as usize).max(1);
        let mut out = Vec::new();
        while start < n {
            let end = start.saturating_add(segment).min(n);
            out.push(start..end);
            start = end.saturating_add(segment);
        }
        Ok(out)
    }
}

/// The result of [`add_noise_with`].
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseStress {
    /// The clean signal plus scaled noise in the noisy segments (and the step-cancelling
    /// offsets), mV.
    pub signal: Vec<f64>,
    /// The noisy sample ranges.
    pub segments: Vec<Range<usize>>,
    /// The clean record's QRS peak-to-peak amplitude, mV ([`qrs_amplitude`]).
    pub qrs_amplitude: f64,
    /// The gain applied to the generated noise (which has unit [`noise_power`] over the whole
    /// record).
    pub gain: f64,
}

/// Add noise of `kind` to `signal_mv` (sampled at `fs` Hz) at `snr_db` as NSTDB does: clean for
/// the first 5 minutes, then in alternating 2-minute segments ([`Protocol::NSTDB`]), with S from
/// the QRS amplitudes around `reference_beats` (sample numbers of beats, normal beats
/// preferably) and N from the added noise (see the module documentation). Missing samples
/// (NaN) stay missing. The same `seed` gives the same noise.
///
/// Errors as [`add_noise_with`].
pub fn add_noise(
    signal_mv: &[f64],
    fs: f64,
    reference_beats: &[i64],
    kind: NoiseKind,
    snr_db: f64,
    seed: u64,
) -> Result<Vec<f64>> {
    add_noise_with(
        signal_mv,
        fs,
        reference_beats,
        kind,
        snr_db,
        seed,
        &Protocol::NSTDB,
    )
    .map(|s| s.signal)
}

/// [`add_noise`] with any `protocol`, returning the gain and segments as well.
///
/// Errors when `fs` is outside [`MIN_FS`]..=[`MAX_FS`], `snr_db` is not finite, the protocol is
/// invalid or leaves no noisy segment in the record, no QRS amplitude can be measured (no
/// reference beat whose window lies inside the record without missing samples) or it is zero
/// (a flat record), or the signal is longer than [`MAX_TOTAL_SAMPLES`].
pub fn add_noise_with(
    signal_mv: &[f64],
    fs: f64,
    reference_beats: &[i64],
    kind: NoiseKind,
    snr_db: f64,
    seed: u64,
    protocol: &Protocol,
) -> Result<NoiseStress> {
    if !snr_db.is_finite() {
        return Err(Error::invalid(format!("SNR {snr_db} dB is not a number")));
    }
    let n = signal_mv.len();
    let segments = protocol.noisy_segments(n, fs)?;
    if segments.is_empty() {
        return Err(Error::invalid(format!(
            "the record ({:.1} s) ends within the clean lead-in of {} s: no noise would be added",
            n as f64 / fs,
            protocol.lead_in_s
        )));
    }
    let qrs = qrs_amplitude(signal_mv, fs, reference_beats).ok_or_else(|| {
        Error::invalid(
            "no QRS amplitude could be measured: no reference beat has a complete window \
             (±50 ms, no missing samples) inside the record",
        )
    })?;
    if qrs <= 0.0 {
        return Err(Error::invalid(
            "the QRS peak-to-peak amplitude is zero (flat record): SNR is undefined",
        ));
    }
    let noise = generate_noise(kind, n, fs, seed)?;
    let n_power = noise_power(&noise, fs, &segments).unwrap_or(0.0);
    if n_power <= 0.0 {
        return Err(Error::invalid(
            "the generated noise has no power in the noisy segments",
        ));
    }
    let s_power = signal_power(qrs);
    let gain = (s_power / (n_power * 10f64.powf(snr_db / 10.0))).sqrt();

    let mut out = signal_mv.to_vec();
    // Offset that keeps the output free of steps where the gain changes (as nst does).
    let mut offset = 0.0;
    let mut position = 0;
    for seg in &segments {
        for v in &mut out[position..seg.start] {
            *v += offset;
        }
        // Gain 0 -> gain at seg.start: the added noise starts from zero.
        offset -= gain * noise[seg.start];
        for (v, &e) in out[seg.clone()].iter_mut().zip(&noise[seg.clone()]) {
            *v += gain * e + offset;
        }
        // Gain -> 0 at the segment's end: its last value stays as the offset.
        offset += gain * noise[seg.end - 1];
        position = seg.end;
    }
    for v in &mut out[position..] {
        *v += offset;
    }
    Ok(NoiseStress {
        signal: out,
        segments,
        qrs_amplitude: qrs,
        gain,
    })
}

/// The SNR (dB) realised in `noisy` relative to `clean`, both sampled at `fs` Hz: S from the
/// clean signal's QRS amplitudes at `reference_beats`, N from `noisy − clean` over the noisy
/// segments of `protocol`. `None` when either cannot be measured or N is zero.
pub fn measured_snr_db(
    clean: &[f64],
    noisy: &[f64],
    fs: f64,
    reference_beats: &[i64],
    protocol: &Protocol,
) -> Option<f64> {
    if clean.len() != noisy.len() {
        return None;
    }
    let segments = protocol.noisy_segments(clean.len(), fs).ok()?;
    let qrs = qrs_amplitude(clean, fs, reference_beats)?;
    let diff: Vec<f64> = noisy.iter().zip(clean).map(|(a, b)| a - b).collect();
    let n_power = noise_power(&diff, fs, &segments)?;
    if n_power <= 0.0 {
        return None;
    }
    Some(10.0 * (signal_power(qrs) / n_power).log10())
}

/// The QRS peak-to-peak amplitude as `sigamp` measures it: for each of the first
/// [`QRS_MEASUREMENTS`] reference beats whose window of ±[`QRS_HALF_WINDOW_S`] lies inside the
/// signal with no missing (non-finite) sample, the range (maximum − minimum) in that window;
/// then the mean after discarding the largest and smallest [`TRIM_FRACTION`]. Beats are taken
/// in the order given. `None` when no beat can be measured.
pub fn qrs_amplitude(signal: &[f64], fs: f64, reference_beats: &[i64]) -> Option<f64> {
    if !(fs.is_finite() && fs > 0.0) {
        return None;
    }
    let half = (QRS_HALF_WINDOW_S * fs).round() as i64;
    let mut amplitudes = Vec::new();
    for &beat in reference_beats {
        if amplitudes.len() == QRS_MEASUREMENTS {
            break;
        }
        let (Some(lo), Some(hi)) = (beat.checked_sub(half), beat.checked_add(half)) else {
            continue;
        };
        let (Ok(lo), Ok(hi)) = (usize::try_from(lo), usize::try_from(hi)) else {
            continue;
        };
        let Some(window) = signal.get(lo..=hi) else {
            continue;
        };
        if window.iter().any(|v| !v.is_finite()) {
            continue;
        }
        let max = window.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = window.iter().copied().fold(f64::INFINITY, f64::min);
        amplitudes.push(max - min);
    }
    trimmed_mean(&mut amplitudes)
}

/// The QRS "power" S from a peak-to-peak amplitude: `amplitude² / 8`, the power of a sinusoid
/// of that peak-to-peak amplitude (as `nst`).
pub fn signal_power(qrs_peak_to_peak: f64) -> f64 {
    qrs_peak_to_peak * qrs_peak_to_peak / 8.0
}

/// The noise power N as `nst`/`sigamp` measure it, over the sample `ranges` of `noise` (sampled
/// at `fs` Hz): each range is cut into one-second chunks (a trailing partial chunk is dropped
/// unless it is the range's only one); in each chunk, the RMS difference from the chunk's mean;
/// the largest and smallest [`TRIM_FRACTION`] of these are discarded; N is the square of the
/// mean of the rest. Ranges are clipped to `noise`; chunks with a non-finite sample are
/// skipped. `None` when no chunk of two or more samples remains.
pub fn noise_power(noise: &[f64], fs: f64, ranges: &[Range<usize>]) -> Option<f64> {
    if !(fs.is_finite() && fs > 0.0) {
        return None;
    }
    let chunk = ((fs.round() as usize).max(2)).min(noise.len().max(2));
    let mut rms = Vec::new();
    for range in ranges {
        let end = range.end.min(noise.len());
        let start = range.start.min(end);
        let Some(part) = noise.get(start..end) else {
            continue;
        };
        let full = part.len() / chunk;
        let mut pieces: Vec<&[f64]> = part.chunks_exact(chunk).collect();
        if full == 0 && part.len() >= 2 {
            pieces.push(part);
        }
        for piece in pieces {
            if piece.iter().any(|v| !v.is_finite()) {
                continue;
            }
            let mean = piece.iter().sum::<f64>() / piece.len() as f64;
            let ms =
                piece.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / piece.len() as f64;
            rms.push(ms.sqrt());
        }
    }
    trimmed_mean(&mut rms).map(|r| r * r)
}

/// Mean after discarding the largest and smallest [`TRIM_FRACTION`] (rounded down) of `values`.
fn trimmed_mean(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let cut = (values.len() as f64 * TRIM_FRACTION) as usize;
    let kept = &values[cut..values.len() - cut];
    Some(kept.iter().sum::<f64>() / kept.len() as f64)
}

/// `n` samples of noise of `kind` at `fs` Hz, scaled to unit [`noise_power`] over the whole
/// length (1 mV RMS by `nst`'s measure, when taken as mV). Deterministic in `seed`.
///
/// Errors when `fs` is outside [`MIN_FS`]..=[`MAX_FS`] or `n` exceeds [`MAX_TOTAL_SAMPLES`].
pub fn generate_noise(kind: NoiseKind, n: usize, fs: f64, seed: u64) -> Result<Vec<f64>> {
    if !(fs.is_finite() && (MIN_FS..=MAX_FS).contains(&fs)) {
        return Err(Error::invalid(format!(
            "sampling frequency {fs} Hz is outside {MIN_FS}..={MAX_FS} Hz for noise generation"
        )));
    }
    if n as u64 > MAX_TOTAL_SAMPLES {
        return Err(Error::too_large(format!(
            "{n} noise samples exceed the limit of {MAX_TOTAL_SAMPLES}"
        )));
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut rng = Rng::new(seed ^ kind.salt().wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut x = match kind {
        NoiseKind::BaselineWander => baseline_wander(&mut rng, n, fs)?,
        NoiseKind::MuscleArtifact => muscle_artifact(&mut rng, n, fs)?,
        NoiseKind::ElectrodeMotion => electrode_motion(&mut rng, n, fs)?,
        NoiseKind::Mixture => {
            let mut sum = vec![0.0; n];
            for k in [
                NoiseKind::BaselineWander,
                NoiseKind::MuscleArtifact,
                NoiseKind::ElectrodeMotion,
            ] {
                let part = generate_noise(k, n, fs, rng.source.next_u64())?;
                for (s, p) in sum.iter_mut().zip(part) {
                    *s += p;
                }
            }
            sum
        }
    };
    normalise(&mut x, fs);
    Ok(x)
}

/// Scale `x` to unit [`noise_power`] over its whole length (unchanged if it has none).
fn normalise(x: &mut [f64], fs: f64) {
    let whole = 0..x.len();
    if let Some(p) = noise_power(x, fs, std::slice::from_ref(&whole)) {
        if p > 0.0 && p.is_finite() {
            let k = 1.0 / p.sqrt();
            x.iter_mut().for_each(|v| *v *= k);
        }
    }
}

/// Scale `x` to unit RMS (unchanged if it is all zero).
fn unit_rms(x: &mut [f64]) {
    let ms = x.iter().map(|v| v * v).sum::<f64>() / x.len().max(1) as f64;
    if ms > 0.0 {
        let k = 1.0 / ms.sqrt();
        x.iter_mut().for_each(|v| *v *= k);
    }
}

/// Samples dropped at the start of filtered white noise so the filters have settled (s).
const SETTLE_S: f64 = 30.0;

/// White Gaussian noise filtered by `filter`, `n` samples after a settling time.
fn filtered_gaussian(rng: &mut Rng, n: usize, fs: f64, filter: &SosFilter) -> Vec<f64> {
    let settle = (SETTLE_S * fs) as usize;
    let white: Vec<f64> = (0..n + settle).map(|_| rng.gauss()).collect();
    let mut y = filter.filter(&white);
    y.drain(..settle);
    y
}

fn baseline_wander(rng: &mut Rng, n: usize, fs: f64) -> Result<Vec<f64>> {
    // Random-phase sinusoids, frequencies log-uniform in 0.05–0.8 Hz, amplitude ∝ f^-1/2.
    let mut sines = vec![0.0; n];
    for _ in 0..16 {
        let f = 0.05 * 16f64.powf(rng.uniform());
        let amplitude = f.powf(-0.5) * (0.5 + rng.uniform());
        let phase = 2.0 * PI * rng.uniform();
        let w = 2.0 * PI * f / fs;
        for (i, v) in sines.iter_mut().enumerate() {
            *v += amplitude * (w * i as f64 + phase).sin();
        }
    }
    unit_rms(&mut sines);
    // A bounded random walk: Gaussian noise band-limited to 0.05–0.7 Hz.
    let filter = SosFilter::butterworth(2, Band::BandPass(0.05, 0.7), fs)?;
    let mut walk = filtered_gaussian(rng, n, fs, &filter);
    unit_rms(&mut walk);
    Ok(sines
        .iter()
        .zip(&walk)
        .map(|(s, w)| 0.6 * s + 0.8 * w)
        .collect())
}

fn muscle_artifact(rng: &mut Rng, n: usize, fs: f64) -> Result<Vec<f64>> {
    let high = (0.45 * fs).min(150.0);
    let band = SosFilter::butterworth(4, Band::BandPass(20.0, high), fs)?;
    let mut emg = filtered_gaussian(rng, n, fs, &band);
    // Log-normal envelope varying over seconds: contractions wax and wane.
    let slow = SosFilter::butterworth(2, Band::LowPass(0.5), fs)?;
    let mut z = filtered_gaussian(rng, n, fs, &slow);
    unit_rms(&mut z);
    for (e, z) in emg.iter_mut().zip(&z) {
        *e *= (0.5 * z).exp();
    }
    Ok(emg)
}

fn electrode_motion(rng: &mut Rng, n: usize, fs: f64) -> Result<Vec<f64>> {
    let mut x = vec![0.0; n];
    // Burst envelope (0 or 1), durations exponentially distributed.
    let mut burst = vec![0.0; n];
    let mut t = rng.exponential(3.0 * fs);
    while (t as usize) < n {
        let start = t as usize;
        let end = ((t + rng.exponential(4.0 * fs)) as usize).min(n);
        burst[start..end].iter_mut().for_each(|b| *b = 1.0);
        // Transients within the burst: a Poisson process of 2 events per second.
        let mut e = t + rng.exponential(0.5 * fs);
        while (e as usize) < end {
            add_transient(rng, &mut x, e as usize, fs);
            e += rng.exponential(0.5 * fs);
        }
        t = end as f64 + rng.exponential(3.0 * fs);
    }
    // A weak continuous component, stronger during bursts.
    let smooth = SosFilter::butterworth(1, Band::LowPass(1.0), fs)?;
    let envelope = smooth.filter(&burst);
    let band = SosFilter::butterworth(2, Band::BandPass(0.5, 10.0), fs)?;
    let mut background = filtered_gaussian(rng, n, fs, &band);
    unit_rms(&mut background);
    for ((v, b), e) in x.iter_mut().zip(&background).zip(&envelope) {
        *v += 0.15 * b * (0.3 + e);
    }
    let limit = SosFilter::butterworth(2, Band::BandPass(0.5, 12.0), fs)?;
    Ok(limit.filter(&x))
}

/// One electrode-motion event at sample `at`: a QRS-like pulse or a step with recovery.
fn add_transient(rng: &mut Rng, x: &mut [f64], at: usize, fs: f64) {
    let n = x.len();
    if rng.uniform() < 0.6 {
        // Mono- or biphasic pulse, Gaussian-shaped, sigma 20–120 ms... scaled to peak ±a.
        let amplitude = rng.gauss();
        let sigma = (0.02 + 0.10 * rng.uniform()) * fs;
        let biphasic = rng.uniform() < 0.5;
        let reach = (4.0 * sigma) as usize;
        let lo = at.saturating_sub(reach);
        let hi = at.saturating_add(reach).min(n);
        for (i, v) in x.iter_mut().enumerate().take(hi).skip(lo) {
            let d = (i as f64 - at as f64) / sigma;
            let shape = if biphasic {
                d * (0.5 - 0.5 * d * d).exp()
            } else {
                (-0.5 * d * d).exp()
            };
            *v += amplitude * shape;
        }
    } else {
        // Step with exponential recovery, time constant 0.2–1 s.
        let amplitude = 1.5 * rng.gauss();
        let tau = (0.2 + 0.8 * rng.uniform()) * fs;
        let hi = at.saturating_add((6.0 * tau) as usize).min(n);
        for (k, v) in x.iter_mut().take(hi).skip(at).enumerate() {
            *v += amplitude * (-(k as f64) / tau).exp();
        }
    }
}

/// The noise generator's random source: [`SplitMix64`] plus the spare Gaussian deviate that
/// Box–Muller produces in pairs.
struct Rng {
    source: SplitMix64,
    spare: Option<f64>,
}

impl Rng {
    fn new(seed: u64) -> Self {
        Rng {
            source: SplitMix64::new(seed),
            spare: None,
        }
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        self.source.uniform()
    }

    /// Standard Gaussian (Box–Muller, both values used).
    fn gauss(&mut self) -> f64 {
        if let Some(v) = self.spare.take() {
            return v;
        }
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln is finite
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (2.0 * PI * u2).sin_cos();
        self.spare = Some(r * s);
        r * c
    }

    /// Exponentially distributed with the given mean.
    fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }
}

#[cfg(test)]
// One-element range lists are what `noise_power` takes for a single span.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;
    use crate::synthetic::{beat_train, r_peaks, NORMAL_BEAT};

    const FS: f64 = 360.0;

    fn ecg(seconds: f64) -> (Vec<f64>, Vec<i64>) {
        let peaks = r_peaks(FS, seconds, 0.5, &[0.8, 0.75, 0.9]);
        let n = (seconds * FS) as usize;
        let x = beat_train(n, FS, &peaks, &NORMAL_BEAT, 1.0);
        (x, peaks.iter().map(|&p| p as i64).collect())
    }

    const SHORT: Protocol = Protocol {
        lead_in_s: 10.0,
        segment_s: 20.0,
    };

    /// Power fraction of `x` passed by a Butterworth band (zero-phase, so squared magnitude).
    fn band_fraction(x: &[f64], band: Band) -> f64 {
        let y = crate::filter::butterworth_filtfilt(x, 4, band, FS).unwrap();
        let p = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>();
        p(&y) / p(x)
    }

    #[test]
    fn protocol_segments() {
        let s = Protocol::NSTDB.noisy_segments(1805 * 360, 360.0).unwrap();
        assert_eq!(s.first(), Some(&(108_000..151_200)));
        assert_eq!(s[1], 194_400..237_600);
        // Noisy from 300 s every 240 s; the last (1740 s) cut at the record's end (1805 s).
        assert_eq!(s.len(), 7);
        assert_eq!(s[6], 626_400..649_800);
        assert!(Protocol::NSTDB
            .noisy_segments(100 * 360, 360.0)
            .unwrap()
            .is_empty());
        let bad = Protocol {
            lead_in_s: -1.0,
            segment_s: 1.0,
        };
        assert!(bad.noisy_segments(10, 360.0).is_err());
        let bad = Protocol {
            lead_in_s: 0.0,
            segment_s: f64::NAN,
        };
        assert!(bad.noisy_segments(10, 360.0).is_err());
        assert!(SHORT.noisy_segments(10, 0.0).is_err());
    }

    #[test]
    fn qrs_amplitude_trims_and_windows() {
        // 20 beats of peak-to-peak 1.0 and one huge outlier: 5 % of 21 rounds down to 1 per
        // end, so the outlier and one normal value go.
        let fs = 100.0;
        let mut x = vec![0.0; 2200];
        let mut beats = Vec::new();
        for k in 0..21 {
            let at = 50 + 100 * k;
            x[at] = if k == 7 { 50.0 } else { 1.0 };
            beats.push(at as i64);
        }
        assert_eq!(qrs_amplitude(&x, fs, &beats), Some(1.0));
        // Windows reaching outside the signal are skipped; none left means None.
        assert_eq!(qrs_amplitude(&x, fs, &[2],), None);
        assert_eq!(qrs_amplitude(&x, fs, &[-10, i64::MAX, i64::MIN]), None);
        // A missing sample in the window skips that beat.
        x[50] = f64::NAN;
        assert_eq!(qrs_amplitude(&x, fs, &beats[..1]), None);
        // Window ±50 ms = ±5 samples: a peak 6 samples away is not seen.
        let mut y = vec![0.0; 100];
        y[56] = 3.0;
        y[45] = -1.0;
        assert_eq!(qrs_amplitude(&y, fs, &[50]), Some(1.0));
    }

    #[test]
    fn noise_power_is_chunk_rms_about_the_mean() {
        let fs = 100.0;
        // Each 1-s chunk: a constant (removed) plus ±2 square wave: RMS 2, power 4.
        let x: Vec<f64> = (0..1000)
            .map(|i| (i / 100) as f64 * 10.0 + if i % 2 == 0 { 2.0 } else { -2.0 })
            .collect();
        let p = noise_power(&x, fs, &[0..1000]).unwrap();
        assert!((p - 4.0).abs() < 1e-12, "{p}");
        // A partial trailing chunk is dropped; a range shorter than a chunk is used whole.
        assert!((noise_power(&x, fs, &[0..1050]).unwrap() - 4.0).abs() < 1e-12);
        assert!((noise_power(&x, fs, &[10..20]).unwrap() - 4.0).abs() < 1e-12);
        assert_eq!(noise_power(&x, fs, &[]), None);
        assert_eq!(noise_power(&x, fs, &[5..5]), None);
        assert_eq!(noise_power(&[], fs, &[0..10]), None);
    }

    #[test]
    fn realised_snr_matches_request() {
        let (x, beats) = ecg(130.0);
        for kind in NoiseKind::ALL {
            for snr in NSTDB_SNR_DB {
                let out = add_noise_with(&x, FS, &beats, kind, snr, 7, &SHORT).unwrap();
                let got = measured_snr_db(&x, &out.signal, FS, &beats, &SHORT).unwrap();
                assert!((got - snr).abs() < 0.1, "{kind:?} {snr}: {got}");
                // The lead-in is untouched.
                assert_eq!(out.signal[..3600], x[..3600], "{kind:?}");
            }
        }
    }

    #[test]
    fn deterministic_by_seed() {
        for kind in NoiseKind::ALL {
            let a = generate_noise(kind, 20_000, FS, 42).unwrap();
            let b = generate_noise(kind, 20_000, FS, 42).unwrap();
            let c = generate_noise(kind, 20_000, FS, 43).unwrap();
            assert_eq!(a, b);
            assert_ne!(a, c);
            assert!(a.iter().all(|v| v.is_finite()));
            let p = noise_power(&a, FS, &[0..a.len()]).unwrap();
            assert!((p - 1.0).abs() < 1e-9, "{kind:?} {p}");
        }
        // Kinds drawn with the same seed differ.
        let bw = generate_noise(NoiseKind::BaselineWander, 1000, FS, 1).unwrap();
        let ma = generate_noise(NoiseKind::MuscleArtifact, 1000, FS, 1).unwrap();
        assert_ne!(bw, ma);
    }

    #[test]
    fn no_steps_at_segment_edges() {
        let (x, beats) = ecg(60.0);
        let out =
            add_noise_with(&x, FS, &beats, NoiseKind::MuscleArtifact, -6.0, 3, &SHORT).unwrap();
        let added: Vec<f64> = out.signal.iter().zip(&x).map(|(a, b)| a - b).collect();
        let seg = &out.segments[0];
        // The first noisy sample adds exactly nothing; after the segment the added value is
        // constant (the offset), equal to the segment's last added value.
        assert_eq!(added[seg.start], 0.0);
        assert!(added[seg.start + 1].abs() > 0.0);
        let last = added[seg.end - 1];
        assert!(added[seg.end..seg.end + 100]
            .iter()
            .all(|v| (v - last).abs() < 1e-12));
    }

    #[test]
    fn spectrum_per_kind() {
        let n = 60 * 360;
        // Power fractions measured (seed 5): bw 0.92 below 1 Hz, 0.011 above 1.5 Hz; ma 0.994
        // in 15-170 Hz, 0.002 below 5 Hz; em 0.99 in 0.3-15 Hz, < 0.0001 above 30 Hz.
        let bw = generate_noise(NoiseKind::BaselineWander, n, FS, 5).unwrap();
        assert!(band_fraction(&bw, Band::LowPass(1.0)) > 0.9);
        assert!(band_fraction(&bw, Band::HighPass(1.5)) < 0.03);
        let ma = generate_noise(NoiseKind::MuscleArtifact, n, FS, 5).unwrap();
        assert!(band_fraction(&ma, Band::BandPass(15.0, 170.0)) > 0.9);
        assert!(band_fraction(&ma, Band::LowPass(5.0)) < 0.01);
        let em = generate_noise(NoiseKind::ElectrodeMotion, n, FS, 5).unwrap();
        assert!(band_fraction(&em, Band::BandPass(0.3, 15.0)) > 0.9);
        assert!(band_fraction(&em, Band::HighPass(30.0)) < 0.01);
        assert!(band_fraction(&em, Band::LowPass(0.2)) < 0.05);
        // The mixture has all three.
        let mix = generate_noise(NoiseKind::Mixture, n, FS, 5).unwrap();
        assert!(band_fraction(&mix, Band::LowPass(1.0)) > 0.2);
        assert!(band_fraction(&mix, Band::HighPass(30.0)) > 0.05);
        assert!(band_fraction(&mix, Band::BandPass(1.5, 15.0)) > 0.05);
        // EM comes in bursts: the one-second chunk RMS varies much more than for stationary
        // muscle noise.
        let spread = |x: &[f64]| {
            let mut r: Vec<f64> = x
                .chunks_exact(360)
                .map(|c| noise_power(c, FS, &[0..c.len()]).unwrap().sqrt())
                .collect();
            r.sort_by(f64::total_cmp);
            r[r.len() * 9 / 10] / r[r.len() / 10]
        };
        let (em_spread, ma_spread) = (spread(&em), spread(&ma));
        // Measured 90th/10th percentile ratios: em 21, ma 3.0.
        assert!(em_spread > 3.0 * ma_spread, "{em_spread} {ma_spread}");
    }

    #[test]
    fn extreme_rates() {
        // The muscle band is capped below Nyquist at low rates; the lowest band edges stay
        // well conditioned at the highest rate.
        for (fs, n) in [(MIN_FS, 3000), (125.0, 5000), (MAX_FS, 50_000)] {
            for kind in NoiseKind::ALL {
                let x = generate_noise(kind, n, fs, 1).unwrap();
                assert!(x.iter().all(|v| v.is_finite()), "{kind:?} {fs}");
                let p = noise_power(&x, fs, &[0..n]).unwrap();
                assert!((p - 1.0).abs() < 1e-9, "{kind:?} {fs}: {p}");
            }
        }
        assert!(generate_noise(NoiseKind::BaselineWander, 10, MAX_FS * 1.1, 1).is_err());
        assert!(generate_noise(NoiseKind::MuscleArtifact, 10, 40.0, 1).is_err());
        assert!(generate_noise(NoiseKind::BaselineWander, 10, f64::NAN, 1).is_err());
        assert_eq!(
            generate_noise(NoiseKind::Mixture, 0, 360.0, 1).unwrap(),
            Vec::<f64>::new()
        );
    }

    #[test]
    fn bad_requests_are_errors() {
        let (x, beats) = ecg(60.0);
        let k = NoiseKind::ElectrodeMotion;
        assert!(add_noise_with(&x, FS, &beats, k, f64::NAN, 1, &SHORT).is_err());
        // No usable beat, flat record, record inside the lead-in.
        assert!(add_noise_with(&x, FS, &[], k, 0.0, 1, &SHORT).is_err());
        assert!(add_noise_with(&vec![0.0; x.len()], FS, &beats, k, 0.0, 1, &SHORT).is_err());
        assert!(add_noise(&x, FS, &beats, k, 0.0, 1).is_err());
        // Missing samples stay missing.
        let mut y = x.clone();
        y[5000] = f64::NAN;
        let out = add_noise_with(&y, FS, &beats, k, 0.0, 1, &SHORT).unwrap();
        assert!(out.signal[5000].is_nan());
        assert_eq!(out.signal.iter().filter(|v| v.is_nan()).count(), 1);
    }

    #[test]
    fn short_names_round_trip() {
        for k in NoiseKind::ALL {
            assert_eq!(NoiseKind::from_short_name(k.short_name()), Some(k));
        }
        assert_eq!(NoiseKind::from_short_name("xx"), None);
    }
}
