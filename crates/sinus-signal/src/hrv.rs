//! Heart-rate variability (HRV) from beat times and beat classes, after the Task Force of the
//! European Society of Cardiology and the North American Society of Pacing and
//! Electrophysiology, *Heart rate variability: standards of measurement, physiological
//! interpretation and clinical use*, Circulation 93:1043–1065 (1996).
//!
//! # Which intervals count (N–N)
//!
//! HRV describes the sinus node, so only intervals between two consecutive **normal** beats
//! (AAMI class `N`: normal and bundle-branch-block beats) are used. An interval that starts or
//! ends at any other beat (S, V, F, Q, or anything else) is excluded, so an ectopic beat removes
//! both of its neighbouring intervals and the compensatory pause with them. Of the remaining
//! intervals, those outside [`HrvOptions::min_nn_s`]..=[`HrvOptions::max_nn_s`] (default
//! 0.25–2.5 s, i.e. 240–24 bpm) are excluded too: shorter ones are double detections or
//! artefacts, longer ones are missed beats, pauses or gaps in the record, none of which is
//! sinus-rhythm variability. [`NnCounts`] says how many were excluded and why.
//!
//! # Time domain
//!
//! Mean NN, SDNN (sample SD, n − 1), RMSSD and SDSD (over differences of *successive* NN
//! intervals only: two NN intervals sharing a beat; a difference across an excluded interval
//! would measure the ectopy, not the sinus node), NN50 (differences > 50 ms) and pNN50. pNN50
//! divides NN50 by the number of differences (the Task Force text divides by the NN count; the
//! two differ by one for an unbroken series, but with frequent ectopy only the differences
//! actually compared make a proportion). Heart rate: the mean is 60 000 / mean NN; the minimum
//! and maximum are over every run of 8 successive NN intervals (60 000 / the run's mean NN), the
//! usual Holter definition, which one long or short interval alone cannot set. SDANN and the
//! SDNN index use 5-minute segments and need at least 10 minutes of NN series.
//!
//! # Frequency domain: quadratic spline at 4 Hz, then Welch
//!
//! The NN series is unevenly sampled. We resample it at 4 Hz ([`HrvOptions::resample_hz`]) with
//! a quadratic interpolating spline through the NN values placed at the time of the beat that
//! ends each interval (excluded intervals are bridged by the spline), subtract the mean, and
//! estimate the PSD by Welch's method: Hann window, 50 % overlap, segments zero-padded to twice
//! their length, no per-segment detrending, one-sided density in ms²/Hz. Band powers are the
//! trapezoidal integral over the frequency bins `lo <= f < hi` of each band (VLF 0.0033–0.04 Hz,
//! LF 0.04–0.15 Hz, HF 0.15–0.4 Hz).
//!
//! Why not Lomb–Scargle: its common implementations (astropy, used by NeuroKit2) report a
//! periodogram whose scale is not a density in ms²/Hz, so absolute band powers in ms² would not
//! be comparable; and resampling + FFT-based Welch is O(n log n), 24 h of beats in milliseconds.
//!
//! Why these settings: they are NeuroKit2 0.2.13's `hrv_frequency(psd_method="welch")` (its
//! default method) with `interpolation_rate=4` (its default is 100 Hz; 4 Hz is the usual HRV
//! rate and ample for a 0.4 Hz band edge) and `normalize=False` (its default divides the PSD by
//! its maximum, which leaves no ms²), so the peer check `tests/peers/hrv_parity.py` can hold us
//! within 5 % per band. The spline order matters for that: a natural cubic spline (the Kubios
//! habit) moves HF by 6.6 % on MIT-BIH 117 and LF by 9 % on 208, so we use the quadratic one
//! NeuroKit2 gets from scipy. By default the segment is half the series (two or three
//! half-overlapping segments, NeuroKit2's rule, the finest resolution but a noisy estimate:
//! see [`frequency_domain`]); [`HrvOptions::welch_segment_s`] sets a fixed length instead (e.g.
//! 300 s, for short-term spectra averaged over a 24 h Holter or a non-stationary record).
//!
//! Long gaps in the NN series (runs of ectopy, noise) are bridged by the spline too, as
//! NeuroKit2 and Kubios do; across a gap of minutes (MIT-BIH 208 has one of 215 s) the spline
//! swings and VLF becomes meaningless, so [`FrequencyDomain::longest_gap_s`] reports the longest
//! stretch bridged for the reader to judge.
//!
//! Frequencies below two cycles per segment are not resolved and are dropped from the spectrum
//! and the powers. A band is reported only when its lower edge is resolved and the NN series is
//! long enough: HF needs ≥ 1 min, LF ≥ 2 min (Task Force), VLF needs 2 cycles of 0.0033 Hz per
//! segment (≈ 20.2 min of series with the default half-series segment). The Task Force
//! recommends ≥ 5 min for short-term spectra; shorter ones are reported but noisy. Total power
//! is everything resolved up to 0.4 Hz (so it includes the resolved part of ULF on long records);
//! LFnu and HFnu are LF and HF in per cent of LF + HF (the Task Force's `total − VLF`).
//!
//! Everything here is O(n) in the number of beats apart from the FFTs (O(n log n)); nothing
//! panics: too-short series give `None` fields.

use realfft::RealFftPlanner;
use serde::Serialize;
use std::cmp::Ordering;

/// Band edges in Hz (Task Force 1996).
const VLF: (f64, f64) = (0.0033, 0.04);
const LF: (f64, f64) = (0.04, 0.15);
const HF: (f64, f64) = (0.15, 0.4);
/// Upper end of the spectrum returned for plotting (NeuroKit2's VHF edge).
const SPECTRUM_MAX_HZ: f64 = 0.5;
/// Successive NN intervals per heart-rate window for the minimum and maximum heart rate.
pub const HR_WINDOW_BEATS: usize = 8;
/// Segment length of SDANN and the SDNN index, seconds.
pub const SDANN_SEGMENT_S: f64 = 300.0;
/// Shortest NN series (seconds) for which SDANN and the SDNN index are computed.
pub const SDANN_MIN_SPAN_S: f64 = 600.0;

/// How NN intervals are selected and the spectrum estimated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HrvOptions {
    /// Shortest interval accepted as NN, seconds (default 0.25 s = 240 bpm).
    pub min_nn_s: f64,
    /// Longest interval accepted as NN, seconds (default 2.5 s = 24 bpm); longer ones are gaps.
    pub max_nn_s: f64,
    /// Rate at which the NN series is resampled for the spectrum, Hz (default 4).
    pub resample_hz: f64,
    /// Welch segment length in seconds; `None` (default): half the resampled series.
    pub welch_segment_s: Option<f64>,
}

impl Default for HrvOptions {
    fn default() -> Self {
        HrvOptions {
            min_nn_s: 0.25,
            max_nn_s: 2.5,
            resample_hz: 4.0,
            welch_segment_s: None,
        }
    }
}

/// The NN intervals kept, in order, with the time of the beat that ends each.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NnSeries {
    /// Time of the beat ending each NN interval, seconds.
    pub time_s: Vec<f64>,
    /// NN intervals, milliseconds.
    pub nn_ms: Vec<f64>,
    /// Whether each interval starts at the beat where the previous one ended (always `false`
    /// for the first); only such pairs enter RMSSD, SDSD and pNN50.
    pub follows_previous: Vec<bool>,
}

/// How many beat-to-beat intervals there were and why some were excluded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NnCounts {
    /// Beats given.
    pub beats: usize,
    /// Intervals between consecutive beats (beats − 1).
    pub intervals: usize,
    /// Intervals kept as NN.
    pub nn: usize,
    /// Excluded in all (the sum of the four reasons below).
    pub excluded: usize,
    /// Excluded because a beat at either end is not normal (not AAMI `N`).
    pub excluded_ectopic: usize,
    /// Excluded as shorter than `min_nn_s`.
    pub excluded_too_short: usize,
    /// Excluded as longer than `max_nn_s` (missed beats, pauses, gaps).
    pub excluded_too_long: usize,
    /// Excluded because a time is not finite or not after the previous beat's, or the beat has
    /// no class (more times than classes).
    pub excluded_invalid: usize,
}

/// Time-domain HRV. `None` where the series is too short for the measure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct TimeDomain {
    /// Number of NN intervals.
    pub nn_count: usize,
    /// Number of differences of successive NN intervals (the pairs behind RMSSD, SDSD, pNN50).
    pub successive_pairs: usize,
    /// From the start of the first NN interval to the end of the last, seconds.
    pub span_s: f64,
    /// Mean NN interval, ms (≥ 1 NN).
    pub mean_nn_ms: Option<f64>,
    /// Sample standard deviation of NN intervals, ms (≥ 2 NN).
    pub sdnn_ms: Option<f64>,
    /// Root mean square of successive differences, ms (≥ 1 pair).
    pub rmssd_ms: Option<f64>,
    /// Sample standard deviation of successive differences, ms (≥ 2 pairs).
    pub sdsd_ms: Option<f64>,
    /// Successive differences greater than 50 ms.
    pub nn50: usize,
    /// NN50 in per cent of the successive differences (≥ 1 pair).
    pub pnn50_pct: Option<f64>,
    /// 60 000 / mean NN, beats per minute.
    pub hr_mean_bpm: Option<f64>,
    /// Lowest heart rate over runs of 8 successive NN intervals, bpm.
    pub hr_min_bpm: Option<f64>,
    /// Highest heart rate over runs of 8 successive NN intervals, bpm.
    pub hr_max_bpm: Option<f64>,
    /// SD of the mean NN of full 5-minute segments, ms (series ≥ 10 min).
    pub sdann_ms: Option<f64>,
    /// Mean of the SDNN of full 5-minute segments, ms (series ≥ 10 min).
    pub sdnn_index_ms: Option<f64>,
}

/// A power spectral density for plotting.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Spectrum {
    /// Bin frequencies, Hz, from the lowest resolved frequency to 0.5 Hz.
    pub frequency_hz: Vec<f64>,
    /// One-sided PSD of the NN series, ms²/Hz.
    pub psd_ms2_per_hz: Vec<f64>,
}

/// Frequency-domain HRV (Welch PSD of the resampled NN series).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FrequencyDomain {
    /// Very-low-frequency power (0.0033–0.04 Hz), ms².
    pub vlf_ms2: Option<f64>,
    /// Low-frequency power (0.04–0.15 Hz), ms².
    pub lf_ms2: Option<f64>,
    /// High-frequency power (0.15–0.4 Hz), ms².
    pub hf_ms2: Option<f64>,
    /// Power from the lowest resolved frequency to 0.4 Hz, ms².
    pub total_power_ms2: Option<f64>,
    /// LF / HF.
    pub lf_hf: Option<f64>,
    /// LF in per cent of LF + HF.
    pub lf_nu: Option<f64>,
    /// HF in per cent of LF + HF.
    pub hf_nu: Option<f64>,
    /// Rate of the resampled series, Hz.
    pub resample_hz: f64,
    /// Welch segment length, seconds.
    pub segment_s: f64,
    /// Number of Welch segments averaged.
    pub segments: usize,
    /// Lowest frequency resolved (two cycles per segment), Hz.
    pub min_frequency_hz: f64,
    /// Longest time between consecutive NN intervals' ending beats, seconds: the longest stretch
    /// the spline bridges (over a few seconds, excluded beats; over a minute, VLF is unreliable).
    pub longest_gap_s: f64,
    /// The PSD.
    pub spectrum: Spectrum,
}

/// Time- and frequency-domain HRV of one series of beats.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Hrv {
    /// Intervals kept and excluded.
    pub counts: NnCounts,
    /// Time-domain measures.
    pub time: TimeDomain,
    /// Frequency-domain measures; `None` when the series is shorter than 1 minute or has fewer
    /// than 3 NN intervals.
    pub frequency: Option<FrequencyDomain>,
}

/// Whether an AAMI class letter is a normal beat (`N`).
fn is_normal(class: char) -> bool {
    class == 'N'
}

/// Select the NN intervals from beat times (seconds, ascending) and AAMI class letters (`N`, `S`,
/// `V`, `F`, `Q`; anything but `N` counts as not normal). Beats past the shorter of the two
/// slices have no time or no class; their intervals count as invalid.
pub fn nn_series(times_s: &[f64], classes: &[char], options: &HrvOptions) -> (NnSeries, NnCounts) {
    let beats = times_s.len();
    let mut counts = NnCounts {
        beats,
        intervals: beats.saturating_sub(1),
        ..NnCounts::default()
    };
    let mut nn = NnSeries::default();
    let mut last_kept_end: Option<usize> = None;
    for i in 1..beats {
        let (t0, t1) = (times_s[i - 1], times_s[i]);
        let rr = t1 - t0;
        let (c0, c1) = (classes.get(i - 1), classes.get(i));
        if !(t0.is_finite() && t1.is_finite() && rr > 0.0) || c0.is_none() || c1.is_none() {
            counts.excluded_invalid += 1;
        } else if !(c0.is_some_and(|&c| is_normal(c)) && c1.is_some_and(|&c| is_normal(c))) {
            counts.excluded_ectopic += 1;
        } else if rr < options.min_nn_s {
            counts.excluded_too_short += 1;
        } else if rr > options.max_nn_s {
            counts.excluded_too_long += 1;
        } else {
            nn.follows_previous.push(last_kept_end == Some(i - 1));
            nn.time_s.push(t1);
            nn.nn_ms.push(rr * 1000.0);
            last_kept_end = Some(i);
        }
    }
    counts.nn = nn.nn_ms.len();
    counts.excluded = counts.intervals - counts.nn;
    (nn, counts)
}

/// HRV from beat times in seconds and AAMI class letters (see [`nn_series`]).
pub fn hrv_from_seconds(times_s: &[f64], classes: &[char], options: &HrvOptions) -> Hrv {
    let (nn, counts) = nn_series(times_s, classes, options);
    Hrv {
        counts,
        ..hrv_from_nn(&nn, options)
    }
}

/// HRV from beat positions in samples at `fs` Hz and AAMI class letters. A non-positive or
/// non-finite `fs` gives non-finite times, so every interval counts as invalid.
pub fn hrv_from_samples(samples: &[i64], fs: f64, classes: &[char], options: &HrvOptions) -> Hrv {
    let times: Vec<f64> = samples
        .iter()
        .map(|&s| {
            if fs > 0.0 && fs.is_finite() {
                s as f64 / fs
            } else {
                f64::NAN
            }
        })
        .collect();
    hrv_from_seconds(&times, classes, options)
}

/// HRV of an NN series already selected (e.g. by [`nn_series`]). `counts` only reflects the
/// series itself (nothing excluded); [`hrv_from_seconds`] fills in the exclusions.
pub fn hrv_from_nn(nn: &NnSeries, options: &HrvOptions) -> Hrv {
    let n = nn.nn_ms.len();
    Hrv {
        counts: NnCounts {
            beats: n + nn.follows_previous.iter().filter(|&&f| !f).count(),
            intervals: n,
            nn: n,
            ..NnCounts::default()
        },
        time: time_domain(nn),
        frequency: frequency_domain(nn, options),
    }
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// Sample standard deviation (n − 1), two-pass for accuracy.
fn sample_sd(xs: &[f64]) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    let m = mean(xs)?;
    let ss: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
    Some((ss / (xs.len() - 1) as f64).sqrt())
}

/// Start time (seconds) of the first NN interval and end time of the last.
fn span(nn: &NnSeries) -> Option<(f64, f64)> {
    let first = nn.time_s.first()? - nn.nn_ms.first()? / 1000.0;
    Some((first, *nn.time_s.last()?))
}

/// Time-domain measures of an NN series.
pub fn time_domain(nn: &NnSeries) -> TimeDomain {
    let n = nn.nn_ms.len().min(nn.time_s.len());
    let values = &nn.nn_ms[..n];
    let diffs: Vec<f64> = (1..n)
        .filter(|&i| nn.follows_previous.get(i).copied().unwrap_or(false))
        .map(|i| values[i] - values[i - 1])
        .collect();
    let mean_nn = mean(values);
    // A difference of exactly 50 ms (common with millisecond or 1/360 s beat times) is not
    // "greater than 50 ms"; beat times in seconds carry rounding of ~1e-13 ms, so compare
    // with a nanosecond of slack.
    let nn50 = diffs.iter().filter(|d| d.abs() > 50.0 + 1e-6).count();
    let (hr_min, hr_max) = hr_extremes(nn, n);
    let (start, end) = span(nn).unwrap_or((0.0, 0.0));
    let span_s = end - start;
    let (sdann, sdnn_index) = if span_s >= SDANN_MIN_SPAN_S {
        segment_stats(&nn.time_s[..n], values, start, end)
    } else {
        (None, None)
    };
    TimeDomain {
        nn_count: n,
        successive_pairs: diffs.len(),
        span_s,
        mean_nn_ms: mean_nn,
        sdnn_ms: sample_sd(values),
        rmssd_ms: mean(&diffs.iter().map(|d| d * d).collect::<Vec<_>>()).map(f64::sqrt),
        sdsd_ms: sample_sd(&diffs),
        nn50,
        pnn50_pct: (!diffs.is_empty()).then(|| 100.0 * nn50 as f64 / diffs.len() as f64),
        hr_mean_bpm: mean_nn.filter(|&m| m > 0.0).map(|m| 60_000.0 / m),
        hr_min_bpm: hr_min,
        hr_max_bpm: hr_max,
        sdann_ms: sdann,
        sdnn_index_ms: sdnn_index,
    }
}

/// Lowest and highest heart rate over every run of [`HR_WINDOW_BEATS`] successive NN intervals
/// (a sliding sum, O(n)).
fn hr_extremes(nn: &NnSeries, n: usize) -> (Option<f64>, Option<f64>) {
    let w = HR_WINDOW_BEATS;
    let (mut longest, mut shortest) = (f64::NEG_INFINITY, f64::INFINITY);
    let mut run_start = 0;
    let mut sum = 0.0;
    for i in 0..n {
        if !nn.follows_previous.get(i).copied().unwrap_or(false) {
            run_start = i;
            sum = 0.0;
        }
        sum += nn.nn_ms[i];
        if i + 1 - run_start > w {
            sum -= nn.nn_ms[i - w];
        }
        if i + 1 - run_start >= w {
            longest = longest.max(sum);
            shortest = shortest.min(sum);
        }
    }
    let to_bpm =
        |total: f64| (total.is_finite() && total > 0.0).then(|| 60_000.0 * w as f64 / total);
    (to_bpm(longest), to_bpm(shortest))
}

/// SDANN and SDNN index over full 5-minute segments from `start`; a segment holds the NN
/// intervals whose ending beat falls in it and counts when it holds at least 2.
fn segment_stats(
    times: &[f64],
    values: &[f64],
    start: f64,
    end: f64,
) -> (Option<f64>, Option<f64>) {
    let full = ((end - start) / SDANN_SEGMENT_S).floor();
    if full.is_nan() || full < 1.0 {
        return (None, None);
    }
    let full = full as usize;
    let mut means = Vec::with_capacity(full);
    let mut sds = Vec::with_capacity(full);
    let mut i = 0;
    for k in 0..full {
        let hi = start + (k + 1) as f64 * SDANN_SEGMENT_S;
        let lo_index = i;
        while i < times.len() && times[i] < hi {
            i += 1;
        }
        let seg = &values[lo_index..i];
        if let (Some(m), Some(sd)) = (mean(seg), sample_sd(seg)) {
            means.push(m);
            sds.push(sd);
        }
    }
    (
        sample_sd(&means),
        if means.len() >= 2 { mean(&sds) } else { None },
    )
}

/// Quadratic interpolating spline through `(x, y)` (x strictly increasing, at least 3 points)
/// evaluated at ascending `grid`; outside `[x0, xn]` the end values are held (no extrapolated
/// swings). The knots are scipy's for `interp1d(kind="quadratic")` (`make_interp_spline`, k = 2):
/// x0 and xn triple, inside them the midpoints between data points except the first and the
/// last, so the spline is the same function NeuroKit2 resamples. `None` when the collocation
/// system is singular (it cannot be for strictly increasing x, but no panic if it were).
fn quadratic_spline(x: &[f64], y: &[f64], grid: &[f64]) -> Option<Vec<f64>> {
    let n = x.len();
    if n < 3 || y.len() != n {
        return None;
    }
    let mut knots = Vec::with_capacity(n + 3);
    knots.extend([x[0]; 3]);
    knots.extend((1..n - 2).map(|j| 0.5 * (x[j] + x[j + 1])));
    knots.extend([x[n - 1]; 3]);
    // Collocation matrix: row i holds the 3 non-zero B-splines at x[i], in columns span-2..=span,
    // which lie within i-2..=i+2; band storage (5 wide) with the diagonal at offset 2.
    const KL: usize = 2;
    let mut band = vec![[0.0f64; 5]; n];
    let mut rhs = y.to_vec();
    let mut span = 2;
    for i in 0..n {
        span = find_span(&knots, n, x[i], span);
        let basis = bspline2_basis(&knots, span, x[i]);
        for (r, b) in basis.iter().enumerate() {
            let col = span + r - 2;
            // col - i + KL is in 0..5 by the knot layout; checked so bad input cannot panic.
            let off = (col + KL).checked_sub(i).filter(|&o| o < 5)?;
            band[i][off] = *b;
        }
    }
    // Gaussian elimination without pivoting: B-spline collocation matrices are totally
    // positive (de Boor), so it is stable; fill-in stays inside the band.
    for i in 0..n {
        let pivot = band[i][KL];
        if pivot.is_nan() || pivot.abs() <= 1e-300 {
            return None;
        }
        for r in i + 1..(i + KL + 1).min(n) {
            let factor = band[r][i + KL - r] / pivot;
            if factor == 0.0 {
                continue;
            }
            for c in i..(i + 3).min(n) {
                band[r][c + KL - r] -= factor * band[i][c + KL - i];
            }
            rhs[r] -= factor * rhs[i];
        }
    }
    let mut coef = vec![0.0; n];
    for i in (0..n).rev() {
        let mut acc = rhs[i];
        for c in i + 1..(i + 3).min(n) {
            acc -= band[i][c + KL - i] * coef[c];
        }
        coef[i] = acc / band[i][KL];
    }
    let mut out = Vec::with_capacity(grid.len());
    let mut span = 2;
    for &t in grid {
        if t <= x[0] {
            out.push(y[0]);
        } else if t >= x[n - 1] {
            out.push(y[n - 1]);
        } else {
            span = find_span(&knots, n, t, span);
            let b = bspline2_basis(&knots, span, t);
            out.push(b[0] * coef[span - 2] + b[1] * coef[span - 1] + b[2] * coef[span]);
        }
    }
    Some(out)
}

/// The knot span `mu` (2 <= mu <= n-1) with `knots[mu] <= t < knots[mu + 1]`, the last span
/// closed on the right; searched forward from `from` since the points come in ascending order.
fn find_span(knots: &[f64], n: usize, t: f64, from: usize) -> usize {
    let mut mu = from.clamp(2, n - 1);
    while mu < n - 1 && knots[mu + 1] <= t {
        mu += 1;
    }
    mu
}

/// The three degree-2 B-splines that are non-zero on span `mu`, at `t` (Cox–de Boor).
fn bspline2_basis(knots: &[f64], mu: usize, t: f64) -> [f64; 3] {
    let mut basis = [1.0, 0.0, 0.0];
    let mut left = [0.0; 3];
    let mut right = [0.0; 3];
    for j in 1..=2 {
        left[j] = t - knots[mu + 1 - j];
        right[j] = knots[mu + j] - t;
        let mut saved = 0.0;
        for r in 0..j {
            let denom = right[r + 1] + left[j - r];
            let temp = if denom != 0.0 { basis[r] / denom } else { 0.0 };
            basis[r] = saved + right[r + 1] * temp;
            saved = left[j - r] * temp;
        }
        basis[j] = saved;
    }
    basis
}

/// Trapezoidal integral of the PSD over the bins with `lo <= f < hi`.
fn band_power(freqs: &[f64], psd: &[f64], (lo, hi): (f64, f64)) -> f64 {
    let mut total = 0.0;
    let mut prev: Option<(f64, f64)> = None;
    for (&f, &p) in freqs.iter().zip(psd) {
        if f >= lo && f < hi {
            if let Some((pf, pp)) = prev {
                total += 0.5 * (p + pp) * (f - pf);
            }
            prev = Some((f, p));
        }
    }
    total
}

/// Welch PSD (Hann, 50 % overlap, zero-padded to twice the segment, one-sided density) of a
/// mean-removed series; returns the PSD over bins `0..=nfft/2` and the number of segments.
fn welch(signal: &[f64], fs: f64, nperseg: usize) -> Option<(Vec<f64>, usize)> {
    let n = signal.len();
    if nperseg < 2 || nperseg > n {
        return None;
    }
    let nfft = 2 * nperseg;
    let step = nperseg - nperseg / 2;
    let segments = (n - nperseg) / step + 1;
    // Periodic Hann (scipy's `get_window("hann", n)`, the spectral-analysis form).
    let window: Vec<f64> = (0..nperseg)
        .map(|k| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * k as f64 / nperseg as f64).cos())
        .collect();
    let scale = 1.0 / (fs * window.iter().map(|w| w * w).sum::<f64>());
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(nfft);
    let mut input = fft.make_input_vec();
    let mut output = fft.make_output_vec();
    let mut psd = vec![0.0; nfft / 2 + 1];
    for s in 0..segments {
        let seg = &signal[s * step..s * step + nperseg];
        input.iter_mut().for_each(|v| *v = 0.0);
        for ((dst, &x), &w) in input.iter_mut().zip(seg).zip(&window) {
            *dst = x * w;
        }
        fft.process(&mut input, &mut output).ok()?;
        for (p, c) in psd.iter_mut().zip(&output) {
            *p += c.norm_sqr();
        }
    }
    let last = psd.len() - 1;
    for (k, p) in psd.iter_mut().enumerate() {
        // One-sided: fold negative frequencies, except DC and Nyquist which have no twin.
        let fold = if k == 0 || k == last { 1.0 } else { 2.0 };
        *p *= fold * scale / segments as f64;
    }
    Some((psd, segments))
}

/// Frequency-domain measures of an NN series (see the module docs); `None` when the series
/// spans less than 1 minute or has fewer than 3 NN intervals.
///
/// With the default half-series segment the estimate averages only two or three segments, so
/// it is noisy, and on a non-stationary record it depends on the segmentation: on MIT-BIH 230
/// (1 805 s) one sample more or less in the segment length decides between 2 and 3 segments and
/// moves HF by 28 %. Set [`HrvOptions::welch_segment_s`] (e.g. 300 s) for a steadier estimate
/// at coarser resolution.
pub fn frequency_domain(nn: &NnSeries, options: &HrvOptions) -> Option<FrequencyDomain> {
    let n = nn.nn_ms.len().min(nn.time_s.len());
    let (start, end) = span(nn)?;
    let span_s = end - start;
    let fs = options.resample_hz;
    // 1 Hz at least: the bands reach 0.4 Hz (Nyquist 0.5 Hz needs 1 Hz).
    if n < 3 || span_s.is_nan() || span_s < 60.0 || !fs.is_finite() || fs < 1.0 {
        return None;
    }
    let (x, y) = (&nn.time_s[..n], &nn.nn_ms[..n]);
    if x.windows(2)
        .any(|w| w[1].partial_cmp(&w[0]) != Some(Ordering::Greater))
        || y.iter().any(|v| !v.is_finite())
    {
        return None;
    }
    // Grid t0, t0 + 1/fs, ... up to one step past the last NN (as numpy's arange(t0, tn + dt, dt)).
    let dt = 1.0 / fs;
    let count = (((x[n - 1] + dt) - x[0]) / dt).ceil();
    if !(2.0..1e9).contains(&count) {
        return None;
    }
    let grid: Vec<f64> = (0..count as usize).map(|k| x[0] + k as f64 * dt).collect();
    let mut resampled = quadratic_spline(x, y, &grid)?;
    let m = mean(&resampled)?;
    resampled.iter_mut().for_each(|v| *v -= m);
    let len = resampled.len();
    let half = len as f64 / 2.0;
    let nperseg = match options.welch_segment_s {
        Some(seg) if seg.is_finite() && seg > 0.0 => (seg * fs).round().min(half) as usize,
        // NeuroKit2's rule in its own floating-point steps: two cycles of the lowest frequency
        // (2·fs / (len/2)) per segment. This is len/2 give or take one sample, and that sample
        // matters: whether 2 or 3 half-overlapping segments fit can move a band by 30 % on a
        // non-stationary record (MIT-BIH 230), so parity needs the very same integer.
        _ => {
            let min_frequency = (2.0 * fs) / half;
            let n = (2.0 / min_frequency) * fs;
            (if n > half { half } else { n }) as usize
        }
    };
    let (psd, segments) = welch(&resampled, fs, nperseg)?;
    let nfft = 2 * nperseg;
    // Two cycles per segment: bin 4 of the twice-zero-padded FFT.
    let first_bin = 4;
    let min_frequency_hz = first_bin as f64 * fs / nfft as f64;
    let (mut freqs, mut power) = (Vec::new(), Vec::new());
    for (k, &p) in psd.iter().enumerate().skip(first_bin) {
        let f = k as f64 * fs / nfft as f64;
        if f > SPECTRUM_MAX_HZ {
            break;
        }
        freqs.push(f);
        power.push(p);
    }
    let resolved = |band: (f64, f64), min_span: f64| {
        (min_frequency_hz <= band.0 && span_s >= min_span).then(|| band_power(&freqs, &power, band))
    };
    let vlf = resolved(VLF, 0.0);
    let lf = resolved(LF, 120.0);
    let hf = resolved(HF, 60.0);
    // Everything resolved below 0.4 Hz, as the sum of band integrals (so the parts add up).
    let total = band_power(&freqs, &power, (0.0, VLF.0))
        + band_power(&freqs, &power, VLF)
        + band_power(&freqs, &power, LF)
        + band_power(&freqs, &power, HF);
    let lf_hf_sum = lf.zip(hf).map(|(l, h)| l + h).filter(|&s| s > 0.0);
    Some(FrequencyDomain {
        vlf_ms2: vlf,
        lf_ms2: lf,
        hf_ms2: hf,
        total_power_ms2: lf.and(hf).map(|_| total),
        lf_hf: lf.zip(hf).filter(|&(_, h)| h > 0.0).map(|(l, h)| l / h),
        lf_nu: lf_hf_sum.zip(lf).map(|(s, l)| 100.0 * l / s),
        hf_nu: lf_hf_sum.zip(hf).map(|(s, h)| 100.0 * h / s),
        resample_hz: fs,
        segment_s: nperseg as f64 / fs,
        segments,
        min_frequency_hz,
        longest_gap_s: x.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max),
        spectrum: Spectrum {
            frequency_hz: freqs,
            psd_ms2_per_hz: power,
        },
    })
}

/// Parse a plain-text RR list — one interval in seconds per line, optionally followed (after
/// blanks or a comma) by the AAMI class N, S, V, F or Q of the beat that ends it; blank lines
/// and `#` comments skipped — into beat times from 0 s and beat classes (the first beat, at 0 s,
/// counts as N). Errors name the line.
pub fn parse_rr_list(text: &str) -> Result<(Vec<f64>, Vec<char>), String> {
    let mut times = vec![0.0];
    let mut classes = vec!['N'];
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|f| !f.is_empty())
            .collect();
        let first = fields.first().copied().unwrap_or("");
        let rr: f64 = first
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("line {}: {first:?} is not an interval in seconds", i + 1))?;
        let class = match fields.get(1) {
            None => 'N',
            Some(&c) if ["N", "S", "V", "F", "Q"].contains(&c) => c.chars().next().unwrap_or('N'),
            Some(c) => {
                return Err(format!(
                    "line {}: class {c:?} is not one of N S V F Q",
                    i + 1
                ))
            }
        };
        if fields.len() > 2 {
            return Err(format!(
                "line {}: expected an interval and an optional class",
                i + 1
            ));
        }
        let last = times.last().copied().unwrap_or(0.0);
        times.push(last + rr);
        classes.push(class);
    }
    Ok((times, classes))
}
