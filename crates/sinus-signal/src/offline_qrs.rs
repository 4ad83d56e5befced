//! Offline QRS detection: the whole record is in memory, so every decision may look both
//! backwards and forwards in time, and both leads are combined.
//!
//! Method:
//!
//! 1. **Per-lead feature.** Missing samples are bridged ([`crate::gaps`]). A zero-phase
//!    Butterworth band-pass (5–25 Hz) keeps the QRS complex's band and rejects baseline wander,
//!    most of the P and T waves' energy and mains/muscle noise. The feature is the RMS slope
//!    over a centred 100 ms window (about one QRS, no delay): large for any steep, QRS-long
//!    deflection whatever its polarity or morphology. Spans where a lead cannot show an ECG —
//!    long gaps, clipping at the amplifier's rail, a flat line — are marked unusable.
//! 2. **Lead fusion** (two or more leads). Each lead is scaled by its own typical beat and the
//!    leads are averaged with weights that follow their local quality: first by their own
//!    beat-to-noise ratio, then — judged against the consensus beats of that first fusion — by
//!    how visible the beats are in the lead and how noisy it is between them. A lead has no
//!    weight where it is unusable, shows an artefact (a deflection three times steeper than its
//!    typical beat: a step, a saturation, an electrode pop) or has gone quiet (an amplifier
//!    recovering from saturation). The result is one detection function on which a typical
//!    beat scores about 1.
//! 3. **Candidates.** Local maxima of the detection function that dominate ±125 ms (half the
//!    shortest RR interval considered).
//! 4. **Record-adaptive decision.** A first pass splits candidates into beats and noise with
//!    local levels (±5 s, both sides). Each candidate's height is then measured on the scale
//!    noise = 0, typical beat = 1, where the noise level is read outside the first-pass QRS
//!    complexes (so that it does not rise in a tachycardia). Strong candidates are accepted
//!    largest first with a 250 ms refractory period; a smaller one within 360 ms after a beat
//!    is its T wave; where the function is clean a smaller beat (aberrant, fusion) is still
//!    accepted. Gaps longer than 1.5 local RR are searched back for the best remaining
//!    candidate. Two passes.
//! 5. **Placement.** Each beat moves to the dominant peak of the band-passed QRS (±60 ms) in the
//!    first usable lead. Where another peak of the detection function at least half as high
//!    lies within the refractory period (a tall P wave, an artefact just before the QRS), the
//!    one whose QRS resembles the neighbouring beats clearly better takes the place.
//! 6. **Squeezed outliers.** A detection squeezed into a normal RR interval (its neighbours no
//!    further apart than 1.15 local RR: no compensatory pause) that resembles none of the 20
//!    nearest beats on each side (QRS correlation below 0.9 in some usable lead) is noise.
//!
//! Nothing is specific to a record or a database; every duration is in seconds, so the same
//! parameters work at any sampling rate (checked from 125 to 1000 Hz).
//!
//! # Accuracy on MIT-BIH
//!
//! All 48 records, whole records, both leads, ±150 ms one-to-one matching against the
//! reference beat annotations (VF episodes and `!` not scored, as `bxb` does), with
//! `cargo run --release -p sinus-signal --example offline_qrs`: TP 109 434, FN 60, FP 66,
//! **Se 99.945 %, +P 99.940 %**. Channel 0 alone (`-- --channel 0`): Se 99.881 %, +P 99.921 %.
//! On the leads resampled to 250 Hz (`-- --resample 250`): Se 99.943 %, +P 99.933 %. The
//! parameters were chosen on these same records (there is no separate test set), so expect a
//! little less on other data.

use crate::filter::{Band, SosFilter};
use crate::gaps;
use sinus_io::{Error, Recording, Result};

/// Options of [`detect_qrs_offline`]. Every duration is in seconds and every value has a
/// physiological reason, given with it; [`Default`] is what was evaluated on MIT-BIH. Further
/// constants of the method (fusion, artefact and dead-lead rules, squeeze test) are documented
/// where they are defined in this module.
#[derive(Debug, Clone, PartialEq)]
pub struct OfflineQrsOptions {
    /// Signals to use. `None`: the first two signals (MIT-BIH's two ECG leads), or the first
    /// alone when there is one or the second has another sampling rate. Every chosen signal
    /// must have the same number of samples per frame. A chosen signal that is not an ECG
    /// (respiration, blood pressure) does little harm: it shows no beats, so its weight in
    /// the fusion is small, but choosing ECG leads only is better.
    pub channels: Option<Vec<usize>>,
    /// Band-pass low edge, Hz: above most P/T-wave and baseline energy, below the QRS's.
    pub band_low_hz: f64,
    /// Band-pass high edge, Hz: keeps the QRS's steep slopes, drops muscle noise above.
    pub band_high_hz: f64,
    /// Window of the RMS-slope feature, s: about one QRS duration (80–120 ms).
    pub feature_window_s: f64,
    /// Shortest RR interval considered, s: 250 ms (240 beats/min) is shorter than any
    /// physiological rhythm with separate beats; MIT-BIH's shortest is 250 ms.
    pub min_rr_s: f64,
    /// Half-width of the window over which the local beat and noise levels are estimated, s.
    /// Long enough to hold several beats on each side even at 40 beats/min, short enough to
    /// follow amplitude changes (posture, respiration, noise bursts).
    pub level_window_s: f64,
    /// Height of a candidate on the scale noise level = 0, typical beat = 1, above which it is
    /// accepted on its own (subject to the refractory and T-wave rules).
    pub strong_fraction: f64,
    /// Search-back: a gap longer than this multiple of the local median RR is searched for a
    /// missed beat (a dropped beat doubles the RR; 1.5 leaves room for sinus arrhythmia).
    pub searchback_rr_factor: f64,
    /// Search-back: lowest height (same scale) a candidate in a gap needs to be accepted.
    pub searchback_fraction: f64,
    /// A candidate within this time after a beat may be that beat's T wave (s): the T wave
    /// peaks well within 360 ms of the R wave at normal rates.
    pub t_wave_window_s: f64,
    /// A candidate in the T-wave window smaller than this fraction of the preceding beat is
    /// taken as its T wave (Pan & Tompkins use half the slope).
    pub t_wave_fraction: f64,
}

impl Default for OfflineQrsOptions {
    fn default() -> Self {
        OfflineQrsOptions {
            channels: None,
            band_low_hz: 5.0,
            band_high_hz: 25.0,
            feature_window_s: 0.10,
            min_rr_s: 0.25,
            level_window_s: 5.0,
            strong_fraction: 0.4,
            searchback_rr_factor: 1.5,
            searchback_fraction: 0.15,
            t_wave_window_s: 0.36,
            t_wave_fraction: 0.5,
        }
    }
}

/// Per-lead signals the decision uses.
struct Lead {
    /// Band-passed signal.
    bp: Vec<f64>,
    /// RMS-slope feature.
    feat: Vec<f64>,
    /// Spans where this lead shows no usable ECG: long gaps, clipping at the amplifier's
    /// limits, flat line (electrode off); widened by the band-pass's ringing.
    unusable: Vec<std::ops::Range<usize>>,
}

fn check_options(o: &OfflineQrsOptions, fs: f64) -> Result<()> {
    let pos = |v: f64, name: &str| -> Result<()> {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "option {name} = {v} must be a positive number"
            )))
        }
    };
    pos(o.band_low_hz, "band_low_hz")?;
    pos(o.band_high_hz, "band_high_hz")?;
    pos(o.feature_window_s, "feature_window_s")?;
    pos(o.min_rr_s, "min_rr_s")?;
    pos(o.level_window_s, "level_window_s")?;
    pos(o.strong_fraction, "strong_fraction")?;
    pos(o.searchback_rr_factor, "searchback_rr_factor")?;
    pos(o.searchback_fraction, "searchback_fraction")?;
    pos(o.t_wave_window_s, "t_wave_window_s")?;
    pos(o.t_wave_fraction, "t_wave_fraction")?;
    if o.band_high_hz >= fs / 2.0 || o.band_low_hz >= o.band_high_hz {
        return Err(Error::invalid(format!(
            "band {}–{} Hz does not fit below the Nyquist frequency {} Hz",
            o.band_low_hz,
            o.band_high_hz,
            fs / 2.0
        )));
    }
    Ok(())
}

/// Samples of `seconds` at `fs`, at least 1.
/// Samples of `seconds` at `fs`, at least 1 and at most 2^40 (far beyond any record, and small
/// enough that index arithmetic on it cannot overflow).
fn samples(seconds: f64, fs: f64) -> usize {
    let v = (seconds * fs).round();
    if v.is_nan() {
        1
    } else {
        (v.min((1u64 << 40) as f64) as usize).max(1)
    }
}

/// The RMS slope of `bp` at `fs`: the square root of the centred moving average over `w`
/// samples (truncated at the ends) of the squared central difference (0 at the first and last
/// sample). The average is a difference of running prefix sums, kept in a ring of `w + 1`
/// values rather than a whole-record array (the same sums, in the same order).
fn rms_slope(bp: &[f64], fs: f64, w: usize) -> Vec<f64> {
    let n = bp.len();
    let half = w / 2;
    let ring_len = 2 * half + 2;
    let mut ring = vec![0.0f64; ring_len];
    let sq = |i: usize| {
        if i >= 1 && i + 1 < n {
            let d = (bp[i + 1] - bp[i - 1]) * 0.5 * fs;
            d * d
        } else {
            0.0
        }
    };
    let mut out = Vec::with_capacity(n);
    // ring[k % ring_len] = sq[0] + … + sq[k − 1], for the last ring_len values of k.
    let (mut acc, mut done) = (0.0f64, 0usize);
    for i in 0..n {
        let lo = i.saturating_sub(half);
        let hi = (i + half + 1).min(n);
        while done < hi {
            acc += sq(done);
            done += 1;
            ring[done % ring_len] = acc;
        }
        out.push(((ring[hi % ring_len] - ring[lo % ring_len]) / (hi - lo) as f64).sqrt());
    }
    out
}

/// Spans of `x` (physical, NaN = missing) without usable ECG: gaps longer than 0.1 s, runs of
/// 3 or more samples at the lead's overall extreme (an amplifier or ADC clipping at its rail),
/// and runs of identical samples lasting 0.3 s or more (a lead off: real ECG is never that
/// still at 11-bit resolution). Each span is widened by `margin` samples on both sides.
fn unusable_spans(x: &[f64], fs: f64, margin: usize) -> Vec<std::ops::Range<usize>> {
    let n = x.len();
    let mut spans: Vec<std::ops::Range<usize>> = Vec::new();
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in x.iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let long_gap = samples(0.1, fs);
    let flat = samples(0.3, fs);
    let mut i = 0;
    while i < n {
        let v = x[i];
        let mut j = i + 1;
        if v.is_finite() {
            while j < n && x[j] == v {
                j += 1;
            }
            let run = j - i;
            if (run >= 3 && (v == lo || v == hi)) || run >= flat {
                spans.push(i..j);
            }
        } else {
            while j < n && !x[j].is_finite() {
                j += 1;
            }
            if j - i > long_gap {
                spans.push(i..j);
            }
        }
        i = j;
    }
    // Widen and merge.
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for s in spans {
        let w = s.start.saturating_sub(margin)..(s.end + margin).min(n);
        match out.last_mut() {
            Some(last) if w.start <= last.end => last.end = last.end.max(w.end),
            _ => out.push(w),
        }
    }
    out
}

/// The [`Lead`] signals of each of `xs` (physical, NaN = missing, all of one length).
fn leads_features(
    xs: Vec<std::borrow::Cow<'_, [f64]>>,
    fs: f64,
    o: &OfflineQrsOptions,
) -> Result<Vec<Lead>> {
    let f = SosFilter::butterworth(2, Band::BandPass(o.band_low_hz, o.band_high_hz), fs)?;
    let unusable: Vec<_> = xs
        .iter()
        .map(|x| unusable_spans(x, fs, samples(0.25, fs)))
        .collect();
    // Gaps filled (in place when the samples are ours).
    let filled: Vec<std::borrow::Cow<[f64]>> = xs
        .into_iter()
        .map(|x| {
            if x.iter().all(|v| v.is_finite()) {
                x
            } else {
                let mut x = x.into_owned();
                gaps::fill_gaps(&mut x);
                std::borrow::Cow::Owned(x)
            }
        })
        .collect();
    let mut bps: Vec<Vec<f64>> = Vec::with_capacity(filled.len());
    for pair in filled.chunks(2) {
        if let [a, b] = pair {
            let (a, b) = f.filtfilt_pair(a, b)?;
            bps.push(a);
            bps.push(b);
        } else {
            bps.push(f.filtfilt(&pair[0])?);
        }
    }
    drop(filled);
    let mut out = Vec::with_capacity(bps.len());
    for (unusable, bp) in unusable.into_iter().zip(bps) {
        let mut feat = rms_slope(&bp, fs, samples(o.feature_window_s, fs));
        for s in &unusable {
            feat[s.clone()].iter_mut().for_each(|v| *v = 0.0);
        }
        out.push(Lead { bp, feat, unusable });
    }
    Ok(out)
}

/// Local maxima of `f` that are the largest within ±`radius` samples (ties: the first).
fn dominant_maxima(f: &[f64], radius: usize) -> Vec<usize> {
    let n = f.len();
    let mut out = Vec::new();
    // A maximum at the record's first or last sample is a complex cut by the record's edge
    // (or just a slope), not a peak that can be located: only interior samples qualify.
    for i in 1..n.saturating_sub(1) {
        let v = f[i];
        // Local maximum (the first sample of a plateau).
        if !(v > 0.0 && v > f[i - 1] && v >= f[i + 1]) {
            continue;
        }
        let lo = i.saturating_sub(radius);
        let hi = (i + radius + 1).min(n);
        let dominated = f[lo..i].iter().any(|&w| w >= v) || f[i + 1..hi].iter().any(|&w| w > v);
        if !dominated {
            out.push(i);
        }
    }
    out
}

/// The `q` quantile (0..=1, nearest rank) of `v`, reordering it; 0 for empty.
fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let m = ((v.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
    let (_, x, _) = v.select_nth_unstable_by(m, f64::total_cmp);
    *x
}

/// Quantile of a lead's feature, over all samples near a time, taken as its noise level: QRS
/// complexes occupy under a fifth of the time even at 150 beats/min, so this quantile sees the
/// activity between beats (noise, and the P and T waves' residue).
const NOISE_Q: f64 = 0.7;
/// A beat whose neighbours are at most this multiple of the local median RR apart is
/// "squeezed" into a normal interval (no compensatory pause).
const SQUEEZE_RR_FACTOR: f64 = 1.15;
/// RR intervals on each side that define the local median RR of the squeeze test.
const RR_CONTEXT: usize = 10;
/// Beats on each side among which a squeezed beat must find one of the same shape.
const SIMILAR_NEIGHBOURS: usize = 20;
/// Half-width of the QRS waveform compared, s.
const SIMILAR_HALF_S: f64 = 0.06;
/// Alignment tolerance step of the comparison, s (tried at 0, 1 and 2 steps either way).
const SIMILAR_SHIFT_S: f64 = 0.008;
/// Lowest correlation, in the least similar usable lead, of a squeezed beat with its most
/// similar neighbour.
const SIMILAR_MIN: f64 = 0.9;
/// A peak of the detection function at least this fraction of a beat's, within its refractory
/// period, is a rival for the beat's place.
const RIVAL_FRACTION: f64 = 0.5;
/// How much more similar to the neighbouring beats a rival must be to take a beat's place.
const SWAP_MARGIN: f64 = 0.1;
/// Correlation with the neighbouring beats a rival needs to take a beat's place: higher than
/// for keeping a beat, since in noise some peak nearby resembles a beat by chance.
const RIVAL_SIMILAR_MIN: f64 = 0.95;
/// Half the width of a QRS complex as it appears in the detection function, s.
const QRS_HALF_S: f64 = 0.08;
/// Half-width of the search for the R peak around the detection function's maximum, s: half
/// a wide QRS complex.
const PLACE_S: f64 = 0.06;
/// Peaks at least this fraction of the largest are R-peak candidates.
const PLACE_PEAK_FRACTION: f64 = 0.6;
/// Where the detection function is clean (a candidate stands this many times above the local
/// noise level), a smaller beat is still a beat: aberrant or fusion beats can have a third of
/// the typical QRS slope.
const CLEAN_SNR: f64 = 4.0;
/// Lowest height (noise 0, typical beat 1) a candidate in a clean stretch needs.
const CLEAN_FRACTION: f64 = 0.2;
/// Quantile of a lead's feature near a time that reaches into its QRS complexes when it shows
/// any (QRS samples are over 2 % of the time at any rate above 30 beats/min).
const ACTIVITY_Q: f64 = 0.98;
/// A lead whose activity is below this fraction of its typical beat is dead there.
const DEAD_FRACTION: f64 = 0.15;
/// First-pass threshold between the local noise and beat levels of the candidates.
const CLASSIFY_FRACTION: f64 = 0.3;
/// Half-width of the window of the noise level, s: short, to follow bursts of noise.
const NOISE_WINDOW_S: f64 = 2.0;
/// Sample spacing at which those quantiles read the signal, s: the feature is a 100 ms moving
/// RMS, so it changes little over 10 ms.
const LEVEL_DECIMATION_S: f64 = 0.01;
/// A lead whose beats are below this fraction of its typical beat is not used (it shows none).
const MIN_VISIBILITY: f64 = 0.05;
/// A lead's feature above this multiple of its record-wide typical beat is an artefact: ectopic
/// beats are wider, not several times steeper (MIT-BIH's tallest ectopic beats reach about
/// twice the typical beat's slope).
const ARTEFACT_RATIO: f64 = 3.0;
/// Time around an artefact during which its lead is not trusted, s.
const ARTEFACT_MARGIN_S: f64 = 1.0;

/// Median of a small slice (copied); 0 for empty.
fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let m = v.len() / 2;
    let (_, x, _) = v.select_nth_unstable_by(m, f64::total_cmp);
    *x
}

/// Detect QRS complexes in a whole recording; returns R-peak sample indices in the record's
/// frame clock, increasing. See the module documentation for the method.
pub fn detect_qrs_offline(rec: &Recording, opts: &OfflineQrsOptions) -> Result<Vec<i64>> {
    let (leads_x, spf) = offline_leads(rec, opts)?;
    let fs = rec.frame_frequency * spf as f64;
    if !(fs.is_finite() && fs > 0.0) {
        return Err(Error::invalid(format!(
            "sampling frequency {fs} Hz is not a positive number"
        )));
    }
    let beats = detect_qrs_signals(&leads_x, fs, opts)?;
    let spf = spf as i64;
    Ok(beats.into_iter().map(|b| b as i64 / spf).collect())
}

/// The leads [`detect_qrs_offline`] reads from `rec` (physical units, NaN = missing) and their
/// samples per frame: `opts.channels`, or by default the first two signals (the first alone
/// when there is one or the second has another rate). Exposed so that a caller can resample
/// them or cut them into pieces before detecting.
pub fn offline_leads(rec: &Recording, opts: &OfflineQrsOptions) -> Result<(Vec<Vec<f64>>, u32)> {
    let channels = match &opts.channels {
        Some(c) => c.clone(),
        // The first two signals, or the first alone when the second has another rate.
        None => (0..rec.signals.len().min(2))
            .filter(|&c| {
                rec.signals[c].samples_per_frame.max(1) == rec.signals[0].samples_per_frame.max(1)
            })
            .collect(),
    };
    if channels.is_empty() {
        return Err(Error::invalid(
            "the recording has no signal to detect beats in",
        ));
    }
    let spf = match rec.signals.get(channels[0]) {
        Some(s) => s.samples_per_frame.max(1),
        None => {
            return Err(Error::invalid(format!(
                "signal {} does not exist (the recording has {})",
                channels[0],
                rec.signals.len()
            )))
        }
    };
    let mut leads_x = Vec::with_capacity(channels.len());
    for &c in &channels {
        let s = rec.signals.get(c).ok_or_else(|| {
            Error::invalid(format!(
                "signal {c} does not exist (the recording has {})",
                rec.signals.len()
            ))
        })?;
        if s.samples_per_frame.max(1) != spf {
            return Err(Error::invalid(format!(
                "signals {} and {c} have different sampling frequencies",
                channels[0]
            )));
        }
        leads_x.push(s.physical_samples());
    }
    Ok((leads_x, spf))
}

/// Detect QRS complexes in one or more simultaneous leads (physical units, NaN = missing) at
/// `fs` Hz; returns R-peak sample indices. A signal too short to filter (under about a tenth
/// of a second) has no beat.
pub fn detect_qrs_signals(
    leads: &[Vec<f64>],
    fs: f64,
    opts: &OfflineQrsOptions,
) -> Result<Vec<usize>> {
    let slices: Vec<&[f64]> = leads.iter().map(Vec::as_slice).collect();
    detect_qrs_slices(&slices, fs, opts)
}

/// [`detect_qrs_signals`] on borrowed slices, e.g. one piece of longer leads (the detector sees
/// nothing outside them; indices are relative to their start).
pub fn detect_qrs_slices(
    leads: &[&[f64]],
    fs: f64,
    opts: &OfflineQrsOptions,
) -> Result<Vec<usize>> {
    let n = leads.iter().map(|x| x.len()).min().unwrap_or(0);
    detect_in(
        leads
            .iter()
            .map(|x| std::borrow::Cow::Borrowed(&x[..n]))
            .collect(),
        fs,
        opts,
    )
}

/// [`detect_qrs_signals`] taking the leads, so that each is freed as soon as it has been
/// filtered (a 24 h lead is 170 MB).
pub fn detect_qrs_signals_owned(
    leads: Vec<Vec<f64>>,
    fs: f64,
    opts: &OfflineQrsOptions,
) -> Result<Vec<usize>> {
    let n = leads.iter().map(Vec::len).min().unwrap_or(0);
    detect_in(
        leads
            .into_iter()
            .map(|mut x| {
                x.truncate(n);
                std::borrow::Cow::Owned(x)
            })
            .collect(),
        fs,
        opts,
    )
}

/// [`detect_qrs_signals`] on leads cut to the same length.
fn detect_in(
    leads: Vec<std::borrow::Cow<'_, [f64]>>,
    fs: f64,
    opts: &OfflineQrsOptions,
) -> Result<Vec<usize>> {
    check_options(opts, fs)?;
    let n = leads.first().map_or(0, |x| x.len());
    if leads.is_empty() || n == 0 {
        return Ok(Vec::new());
    }
    let f = SosFilter::butterworth(2, Band::BandPass(opts.band_low_hz, opts.band_high_hz), fs)?;
    if n <= f.padlen() {
        return Ok(Vec::new());
    }
    let mut ls = leads_features(leads, fs, opts)?;
    let combined = if ls.len() == 1 {
        std::mem::take(&mut ls[0].feat)
    } else {
        fuse(&ls, fs, opts)
    };
    // The features are in `combined` now; the rest needs the band-passed leads only.
    for l in &mut ls {
        l.feat = Vec::new();
    }
    let beats_f = decide(&combined, fs, opts);
    let placed = place_r_peaks(&beats_f, &ls, fs);
    let beats = resolve_rivals(&beats_f, &placed, &combined, &ls, fs, opts);
    Ok(reject_squeezed_outliers(&beats, &ls, fs))
}

/// Normalised (zero-mean, unit-norm) band-passed waveform of ±`half` samples around `c`, or
/// `None` near the record's edges or on a flat stretch.
fn waveform(bp: &[f64], c: usize, half: usize) -> Option<Vec<f64>> {
    if c < half || c + half >= bp.len() {
        return None;
    }
    let w = &bp[c - half..=c + half];
    let mean = w.iter().sum::<f64>() / w.len() as f64;
    let v: Vec<f64> = w.iter().map(|x| x - mean).collect();
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    (norm > 0.0).then(|| v.into_iter().map(|x| x / norm).collect())
}

/// Correlation of the normalised waveform `w` with `bp` over `w.len()` samples from `start`
/// (`None` past the end or on a flat stretch).
fn correlation(w: &[f64], bp: &[f64], start: usize) -> Option<f64> {
    let u = bp.get(start..start.checked_add(w.len())?)?;
    let len = u.len() as f64;
    let (mut su, mut suu, mut swu) = (0.0, 0.0, 0.0);
    for (a, b) in w.iter().zip(u) {
        su += b;
        suu += b * b;
        swu += a * b;
    }
    // w has zero mean, so Σ w (u - mean u) = Σ w u.
    let var = suu - su * su / len;
    (var > 0.0).then(|| swu / var.sqrt())
}

/// How much the QRS at `c` resembles the most similar of the QRS complexes at `others`, in the
/// least favourable usable lead: the largest correlation of the band-passed waveforms
/// (±`half` samples), allowing misalignment of 0, 1 or 2 `shift`s. A lead's search stops once
/// it reaches `enough`. Infinite when no lead can tell.
fn similarity(
    c: usize,
    others: impl Iterator<Item = usize> + Clone,
    leads: &[Lead],
    half: usize,
    shift: usize,
    enough: f64,
) -> f64 {
    let mut worst = f64::INFINITY;
    for lead in leads {
        if lead.unusable.iter().any(|s| s.contains(&c)) {
            continue;
        }
        let Some(w) = waveform(&lead.bp, c, half) else {
            continue;
        };
        let mut best = -1.0f64;
        'search: for b in others.clone() {
            for d in [0, shift, 2 * shift] {
                for o in [b.saturating_sub(d), b + d] {
                    let Some(start) = o.checked_sub(half) else {
                        continue;
                    };
                    if let Some(r) = correlation(&w, &lead.bp, start) {
                        best = best.max(r);
                        if best >= enough {
                            break 'search;
                        }
                    }
                }
            }
        }
        worst = worst.min(best);
    }
    worst
}

/// Indices around `i` (excluding it) within `k` on each side and below `m`, nearest first.
fn nearest_first(i: usize, k: usize, m: usize) -> impl Iterator<Item = usize> + Clone {
    (1..=k)
        .flat_map(move |d| [i.checked_sub(d), Some(i + d).filter(|&j| j < m)])
        .flatten()
}

/// Where a beat has a rival within the refractory period — another peak of the detection
/// function at least half as high, e.g. a tall P wave or an artefact just before the QRS — keep
/// whichever of the two looks more like the neighbouring beats (`SIMILAR_NEIGHBOURS` each
/// side): when the beat does not resemble them (correlation below `SIMILAR_MIN`) and the rival
/// does closely (`RIVAL_SIMILAR_MIN`) and clearly better (by `SWAP_MARGIN`), the rival takes
/// the beat's place.
fn resolve_rivals(
    beats_f: &[usize],
    placed: &[usize],
    f: &[f64],
    leads: &[Lead],
    fs: f64,
    o: &OfflineQrsOptions,
) -> Vec<usize> {
    let m = placed.len();
    let min_rr = samples(o.min_rr_s, fs);
    let half = samples(SIMILAR_HALF_S, fs);
    let shift = samples(SIMILAR_SHIFT_S, fs);
    let n = f.len();
    let mut out = placed.to_vec();
    for i in 0..m {
        let b = beats_f[i];
        let lo = b
            .saturating_sub(min_rr)
            .max(if i > 0 { beats_f[i - 1] + min_rr } else { 0 })
            .max(1);
        let hi = (b + min_rr)
            .min(if i + 1 < m {
                beats_f[i + 1].saturating_sub(min_rr)
            } else {
                n
            })
            .min(n.saturating_sub(1));
        let mut rivals = Vec::new();
        for a in lo..hi {
            if a != b && f[a] > f[a - 1] && f[a] >= f[a + 1] && f[a] >= RIVAL_FRACTION * f[b] {
                rivals.push(a);
            }
        }
        if rivals.is_empty() {
            continue;
        }
        let neighbours = nearest_first(i, SIMILAR_NEIGHBOURS, m).map(|j| placed[j]);
        let own = similarity(
            placed[i],
            neighbours.clone(),
            leads,
            half,
            shift,
            SIMILAR_MIN,
        );
        if own >= SIMILAR_MIN {
            continue;
        }
        let mut best = (own, placed[i]);
        for a in rivals {
            let p = place_r_peaks(&[a], leads, fs)[0];
            let need = RIVAL_SIMILAR_MIN.max(best.0 + SWAP_MARGIN);
            let sim = similarity(p, neighbours.clone(), leads, half, shift, need);
            if sim.is_finite() && sim >= RIVAL_SIMILAR_MIN && sim > best.0 + SWAP_MARGIN {
                best = (sim, p);
            }
        }
        out[i] = best.1;
    }
    // Keep the order strict (a swap cannot cross a neighbour, but placement may tie).
    for i in 1..m {
        if out[i] <= out[i - 1] {
            out[i] = out[i - 1] + 1;
        }
    }
    out
}

/// Remove "beats" squeezed into a normal RR interval that look like no other beat nearby.
///
/// A premature beat (ectopic or not) is usually followed by a pause, so the interval from the
/// beat before it to the beat after it is longer than the local RR. A detection whose
/// neighbours are no further apart than a normal RR (`SQUEEZE_RR_FACTOR`) is either an
/// interpolated ectopic beat or noise; a beat has the shape of some other beat among its
/// `SIMILAR_NEIGHBOURS` nearest on each side (correlation of the band-passed QRS in every
/// usable lead, allowing a few milliseconds of misalignment), noise does not.
fn reject_squeezed_outliers(beats: &[usize], leads: &[Lead], fs: f64) -> Vec<usize> {
    let m = beats.len();
    if m < 3 {
        return beats.to_vec();
    }
    let half = samples(SIMILAR_HALF_S, fs);
    let shift = samples(SIMILAR_SHIFT_S, fs);
    let rr: Vec<usize> = beats.windows(2).map(|w| w[1] - w[0]).collect();
    let mut keep = vec![true; m];
    let mut buf: Vec<usize> = Vec::with_capacity(2 * RR_CONTEXT);
    for i in 1..m - 1 {
        buf.clear();
        let lo = i.saturating_sub(RR_CONTEXT);
        let hi = (i + RR_CONTEXT).min(rr.len());
        buf.extend_from_slice(&rr[lo..hi]);
        buf.sort_unstable();
        let med = buf[buf.len() / 2] as f64;
        if (beats[i + 1] - beats[i - 1]) as f64 > SQUEEZE_RR_FACTOR * med {
            continue;
        }
        let neighbours = nearest_first(i, SIMILAR_NEIGHBOURS, m).map(|j| beats[j]);
        let worst = similarity(beats[i], neighbours, leads, half, shift, SIMILAR_MIN);
        if worst.is_finite() && worst < SIMILAR_MIN {
            keep[i] = false;
        }
    }
    beats
        .iter()
        .zip(&keep)
        .filter(|(_, &k)| k)
        .map(|(&b, _)| b)
        .collect()
}

/// Move each beat from the detection function's maximum (the centre of the QRS's steep part)
/// to the dominant peak of the QRS: the largest absolute band-passed value within ±`PLACE_S`
/// in the first lead that is usable there (the lead the reference annotations are usually
/// read on). Beats stay in increasing order and at least one sample apart.
fn place_r_peaks(beats: &[usize], leads: &[Lead], fs: f64) -> Vec<usize> {
    let half = samples(PLACE_S, fs);
    let mut out: Vec<usize> = Vec::with_capacity(beats.len());
    for &b in beats {
        let lead = leads
            .iter()
            .find(|l| !l.unusable.iter().any(|s| s.contains(&b)))
            .unwrap_or(&leads[0]);
        let n = lead.bp.len();
        let lo = b.saturating_sub(half);
        let hi = (b + half + 1).min(n);
        let peak = lead.bp[lo..hi].iter().fold(0.0f64, |m, v| m.max(v.abs()));
        // Of the peaks nearly as large as the largest, the one nearest the detection: wide
        // complexes have several lobes of similar size, and the reference marks the one at
        // the complex's centre more often than an outer one.
        let mut best = b.min(n.saturating_sub(1));
        let mut best_dist = usize::MAX;
        for i in lo..hi {
            let v = lead.bp[i].abs();
            let is_peak =
                (i == 0 || v >= lead.bp[i - 1].abs()) && (i + 1 >= n || v >= lead.bp[i + 1].abs());
            if is_peak && v >= PLACE_PEAK_FRACTION * peak && i.abs_diff(b) < best_dist {
                best = i;
                best_dist = i.abs_diff(b);
            }
        }
        if out.last().is_some_and(|&p| best <= p) {
            best = b.max(out.last().map_or(0, |&p| p + 1));
        }
        out.push(best);
    }
    out
}

/// Final decision on the detection function: levels, strong candidates, refractory and T-wave
/// rules, then search-back in the gaps the rhythm says hold a missed beat.
fn decide(f: &[f64], fs: f64, o: &OfflineQrsOptions) -> Vec<usize> {
    let n = f.len();
    let d = classify(f, fs, o);
    if d.cands.is_empty() {
        return Vec::new();
    }
    let step = samples(0.5, fs);
    let win = samples(o.level_window_s, fs);
    let min_rr = samples(o.min_rr_s, fs);
    let t_win = samples(o.t_wave_window_s, fs);
    // Noise: a quantile of the detection function over the samples outside the first-pass
    // QRS complexes, near each time. (Over all samples it would rise in a tachycardia, where
    // the complexes fill most of the time.)
    // (Only the samples the quantiles read, every `decim`-th, are kept.)
    let decim = samples(LEVEL_DECIMATION_S, fs);
    let mut outside: Vec<f64> = f.iter().step_by(decim).copied().collect();
    let qrs_half = samples(QRS_HALF_S, fs);
    for b in d.beats() {
        let lo = b.saturating_sub(qrs_half);
        let hi = (b + qrs_half + 1).min(n);
        outside[lo.div_ceil(decim)..hi.div_ceil(decim)]
            .iter_mut()
            .for_each(|v| *v = f64::NAN);
    }
    let [noise] = sample_level_curves(
        &outside,
        n,
        step,
        samples(NOISE_WINDOW_S, fs),
        [NOISE_Q],
        decim,
    );
    drop(outside);
    let mut beats = d.beats();
    let mut height = vec![0.0; d.cands.len()];
    for _pass in 0..2 {
        let bv: Vec<f64> = beats.iter().map(|&b| f[b]).collect();
        let level = level_curve(&beats, &bv, n, step, win, 0.5, 0.0);
        let mut strong = vec![false; d.cands.len()];
        for (k, &c) in d.cands.iter().enumerate() {
            let (level_c, noise_c) = (level.at(c), noise.at(c));
            let span = (level_c - noise_c).max(1e-12);
            height[k] = (d.amp[k] - noise_c) / span;
            strong[k] = height[k] >= o.strong_fraction
                || (height[k] >= CLEAN_FRACTION && d.amp[k] >= CLEAN_SNR * noise_c);
        }
        // Strong candidates, largest first, each keeping others out of its refractory period.
        let mut order: Vec<usize> = (0..d.cands.len()).filter(|&k| strong[k]).collect();
        order.sort_by(|&a, &b| d.amp[b].total_cmp(&d.amp[a]));
        // (Candidates are in time order: the taken ones nearest before and after a candidate
        // are within the refractory period exactly when some taken candidate is.)
        let mut taken = vec![false; d.cands.len()];
        for k in order {
            let c = d.cands[k];
            let before = (0..k)
                .rev()
                .take_while(|&j| c - d.cands[j] < min_rr)
                .any(|j| taken[j]);
            let after = (k + 1..d.cands.len())
                .take_while(|&j| d.cands[j] - c < min_rr)
                .any(|j| taken[j]);
            if !(before || after) {
                taken[k] = true;
            }
        }
        // Candidate indices taken, in time order.
        let acc: Vec<usize> = (0..d.cands.len()).filter(|&k| taken[k]).collect();
        // T waves: a smaller candidate shortly after a beat.
        let mut kept: Vec<usize> = Vec::with_capacity(acc.len());
        for &k in &acc {
            if let Some(&p) = kept.last() {
                if d.cands[k] - d.cands[p] < t_win && d.amp[k] < o.t_wave_fraction * d.amp[p] {
                    continue;
                }
            }
            kept.push(k);
        }
        // Search-back in long gaps, against the local median RR.
        let rr_pos: Vec<usize> = kept.windows(2).map(|w| d.cands[w[1]]).collect();
        let rr_val: Vec<f64> = kept
            .windows(2)
            .map(|w| (d.cands[w[1]] - d.cands[w[0]]) as f64)
            .collect();
        let rr = level_curve(&rr_pos, &rr_val, n, step, win, 0.5, fs);
        let mut out: Vec<usize> = Vec::with_capacity(kept.len() + 16);
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for w in kept.windows(2) {
            stack.push((w[0], w[1]));
        }
        let mut added: Vec<usize> = Vec::new();
        while let Some((a, b)) = stack.pop() {
            let (ca, cb) = (d.cands[a], d.cands[b]);
            let local = rr.at(ca);
            if ((cb - ca) as f64) <= o.searchback_rr_factor * local {
                continue;
            }
            let mut best: Option<usize> = None;
            for k in a + 1..b {
                let c = d.cands[k];
                if c - ca < min_rr.max(t_win)
                    || cb - c < min_rr
                    || height[k] < o.searchback_fraction
                {
                    continue;
                }
                if best.is_none_or(|j| height[k] > height[j]) {
                    best = Some(k);
                }
            }
            if let Some(k) = best {
                added.push(k);
                stack.push((a, k));
                stack.push((k, b));
            }
        }
        out.extend(kept.iter().copied());
        out.extend(added);
        out.sort_unstable();
        beats = out.into_iter().map(|k| d.cands[k]).collect();
    }
    beats
}

/// The detection function the decision works on, for inspection: for one lead its RMS-slope
/// feature; for several, the fused, level-normalised combination (a typical beat scores about
/// 1). Same inputs as [`detect_qrs_signals`].
pub fn detection_function(
    leads: &[Vec<f64>],
    fs: f64,
    opts: &OfflineQrsOptions,
) -> Result<Vec<f64>> {
    check_options(opts, fs)?;
    let n = leads.iter().map(Vec::len).min().unwrap_or(0);
    let f = SosFilter::butterworth(2, Band::BandPass(opts.band_low_hz, opts.band_high_hz), fs)?;
    if leads.is_empty() || n <= f.padlen() {
        return Ok(vec![0.0; n]);
    }
    let cut = leads
        .iter()
        .map(|x| std::borrow::Cow::Borrowed(&x[..n]))
        .collect();
    let mut ls = leads_features(cut, fs, opts)?;
    Ok(if ls.len() == 1 {
        ls.swap_remove(0).feat
    } else {
        fuse(&ls, fs, opts)
    })
}

/// Candidates of one feature signal and the decision on each.
struct Decision {
    cands: Vec<usize>,
    amp: Vec<f64>,
    is_beat: Vec<bool>,
}

impl Decision {
    fn beats(&self) -> Vec<usize> {
        self.cands
            .iter()
            .zip(&self.is_beat)
            .filter(|(_, &b)| b)
            .map(|(&c, _)| c)
            .collect()
    }
}

/// A level known every `step` samples, linearly interpolated in between: what
/// `interpolate_grid` used to spell out for every sample, evaluated only where it is read (the
/// same value at every sample: `a + (b − a) / step · j`, computed as before).
struct Curve {
    grid: Vec<f64>,
    step: usize,
    inv: f64,
}

impl Curve {
    fn new(grid: Vec<f64>, step: usize) -> Curve {
        Curve {
            grid,
            step,
            inv: 1.0 / step as f64,
        }
    }

    /// Start value and slope of grid segment `k` (the last one is flat).
    #[inline]
    fn segment(&self, k: usize) -> (f64, f64) {
        let a = self.grid[k];
        let b = self.grid.get(k + 1).copied().unwrap_or(a);
        (a, (b - a) * self.inv)
    }

    /// The level at sample `i`.
    #[inline]
    fn at(&self, i: usize) -> f64 {
        let k = i / self.step;
        let (a, d) = self.segment(k);
        a + d * (i - k * self.step) as f64
    }
}

/// Start value and slope of a [`Curve`]'s grid segment.
type Segment = (f64, f64);

/// Sorted window of values under `total_cmp`, for sliding quantiles.
struct SortedWindow(Vec<f64>);

impl SortedWindow {
    fn insert(&mut self, v: f64) {
        let p = self.0.partition_point(|x| x.total_cmp(&v).is_le());
        self.0.insert(p, v);
    }

    fn remove(&mut self, v: f64) {
        let p = self.0.partition_point(|x| x.total_cmp(&v).is_lt());
        self.0.remove(p);
    }

    /// What [`quantile`] gives for these values.
    fn quantile(&self, q: f64) -> f64 {
        let v = &self.0;
        if v.is_empty() {
            return 0.0;
        }
        v[((v.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize]
    }
}

/// The `q` quantile of `xs`, the samples at multiples of `decim` of a signal of `n` samples
/// (NaN skipped), over ±`win` samples around every `step`-th sample, as [`Curve`]s; where a
/// window holds only NaN, the nearest known level.
fn sample_level_curves<const K: usize>(
    xs: &[f64],
    n: usize,
    step: usize,
    win: usize,
    q: [f64; K],
    decim: usize,
) -> [Curve; K] {
    let step = step.max(1);
    let decim = decim.max(1);
    let mut buf = Vec::new();
    let mut lv: [Vec<f64>; K] = std::array::from_fn(|_| Vec::with_capacity(n / step + 1));
    for g in (0..n).step_by(step) {
        let lo = g.saturating_sub(win).div_ceil(decim);
        let hi = (g + win + 1).min(n).div_ceil(decim).min(xs.len());
        buf.clear();
        buf.extend(xs[lo..hi.max(lo)].iter().copied().filter(|v| !v.is_nan()));
        for (curve, &qk) in lv.iter_mut().zip(&q) {
            curve.push(if buf.is_empty() {
                f64::NAN
            } else {
                quantile(&mut buf, qk)
            });
        }
    }
    lv.map(|l| Curve::new(fill_from_nearest(l), step))
}

/// Replace NaN entries by the nearest finite one (all zero if there is none).
fn fill_from_nearest(mut lv: Vec<f64>) -> Vec<f64> {
    let known: Vec<usize> = (0..lv.len()).filter(|&k| lv[k].is_finite()).collect();
    if known.is_empty() {
        lv.iter_mut().for_each(|v| *v = 0.0);
        return lv;
    }
    let mut kk = 0;
    for k in 0..lv.len() {
        if !lv[k].is_finite() {
            while kk + 1 < known.len() && known[kk + 1] < k {
                kk += 1;
            }
            let a = known[kk];
            let b = known.get(kk + 1).copied().unwrap_or(a);
            lv[k] = if k.abs_diff(a) <= k.abs_diff(b) {
                lv[a]
            } else {
                lv[b]
            };
        }
    }
    lv
}

/// The `q` quantile of `vals` (at increasing positions `pos`) within ±`win` samples of every
/// `step`-th sample; NaN where there is none. The window slides, so its values are kept
/// sorted (each enters and leaves once) rather than selected again at every grid point.
fn grid_levels(pos: &[usize], vals: &[f64], n: usize, step: usize, win: usize, q: f64) -> Vec<f64> {
    let step = step.max(1);
    let mut lv = Vec::with_capacity(n / step + 1);
    let (mut lo, mut hi) = (0usize, 0usize);
    let mut window = SortedWindow(Vec::new());
    for g in (0..n).step_by(step) {
        while hi < pos.len() && pos[hi] <= g + win {
            if hi >= lo {
                window.insert(vals[hi]);
            }
            hi += 1;
        }
        while lo < pos.len() && pos[lo] + win < g {
            if lo < hi {
                window.remove(vals[lo]);
            }
            lo += 1;
        }
        lv.push(if window.0.is_empty() {
            f64::NAN
        } else {
            window.quantile(q)
        });
    }
    lv
}

/// A grid level (see [`grid_levels`]) at sample `i`: linear interpolation between the grid
/// points around it, or the one that is known; `None` when neither is.
fn grid_at(lv: &[f64], step: usize, i: usize) -> Option<f64> {
    let k = i / step;
    let a = lv.get(k).copied().unwrap_or(f64::NAN);
    let b = lv.get(k + 1).copied().unwrap_or(f64::NAN);
    let t = (i % step) as f64 / step as f64;
    match (a.is_nan(), b.is_nan()) {
        (false, false) => Some(a + (b - a) * t),
        (false, true) => Some(a),
        (true, false) => Some(b),
        (true, true) => None,
    }
}

/// A slowly varying level over the record: at every `step` samples, the median of `vals` whose
/// positions lie within ±`win` samples, linearly interpolated in between; where no value is
/// near, the nearest known level (or `fallback` when there is none at all).
fn level_curve(
    pos: &[usize],
    vals: &[f64],
    n: usize,
    step: usize,
    win: usize,
    q: f64,
    fallback: f64,
) -> Curve {
    let step = step.max(1);
    let lv = grid_levels(pos, vals, n, step, win, q);
    if lv.iter().all(|v| v.is_nan()) {
        let len = lv.len();
        return Curve::new(vec![fallback; len], step);
    }
    Curve::new(fill_from_nearest(lv), step)
}

/// Combine the leads' features into one detection function on which a typical beat scores
/// about 1.
///
/// Stage 1: each lead's feature is divided by its own local beat level and the leads are
/// averaged, weighted by their local beat-to-noise ratio; a lead has no weight where it is
/// unusable or shows an artefact. This gives consensus beats.
///
/// Stage 2: each lead is judged against the consensus beats: its *visibility* (its feature at
/// the consensus beats) and its *noise* (its feature at its own peaks away from them), both
/// relative to its record-wide typical beat and local (±`level_window_s`). The lead,
/// rescaled so that its visible beats score 1, is averaged with weight visibility / noise: a
/// lead where beats are small but clean still counts, a lead that has gone quiet (amplifier
/// recovering, electrode off) or noisy counts little.
fn fuse(leads: &[Lead], fs: f64, o: &OfflineQrsOptions) -> Vec<f64> {
    let n = leads[0].feat.len();
    let step = samples(0.5, fs);
    let win = samples(o.level_window_s, fs);
    let noise_win = samples(NOISE_WINDOW_S, fs);
    let decim = samples(LEVEL_DECIMATION_S, fs);
    /// What stage 1 keeps of a lead: usable mask, record-wide typical beat, noise and beat
    /// levels.
    struct Judged {
        usable: Vec<bool>,
        typical: f64,
        noise: Curve,
        beat: Curve,
    }
    let mut judged: Vec<Option<Judged>> = Vec::with_capacity(leads.len());
    for lead in leads {
        let d = classify(&lead.feat, fs, o);
        let (mut bp, mut bv) = (Vec::new(), Vec::new());
        for k in 0..d.cands.len() {
            if d.is_beat[k] {
                bp.push(d.cands[k]);
                bv.push(d.amp[k]);
            }
        }
        let typical = median(&mut bv.clone());
        if bp.is_empty() || typical.is_nan() || typical <= 0.0 {
            judged.push(None);
            continue;
        }
        let mut usable = vec![true; n];
        for s in &lead.unusable {
            usable[s.clone()].iter_mut().for_each(|u| *u = false);
        }
        // Artefacts: a deflection far steeper than this lead's typical beat (over the whole
        // record) is a step, a saturation or an electrode pop, not a QRS complex; the lead is
        // not trusted around it.
        let margin = samples(ARTEFACT_MARGIN_S, fs);
        let mut i = 0;
        while i < n {
            if lead.feat[i] > ARTEFACT_RATIO * typical {
                let lo = i.saturating_sub(margin);
                let mut j = i;
                while j < n && lead.feat[j] > ARTEFACT_RATIO * typical {
                    j += 1;
                }
                let hi = (j + margin).min(n);
                usable[lo..hi].iter_mut().for_each(|u| *u = false);
                i = hi;
            } else {
                i += 1;
            }
        }
        // Dead stretches: nothing near a beat's steepness for seconds (an amplifier recovering
        // from saturation, an electrode off) although the record's beats go on: the lead
        // shows no beats there, and its quiet would otherwise count as a clean signal.
        let xs: Vec<f64> = lead.feat.iter().step_by(decim.max(1)).copied().collect();
        let [noise, activity] =
            sample_level_curves(&xs, n, step, noise_win, [NOISE_Q, ACTIVITY_Q], decim);
        drop(xs);
        let dead = DEAD_FRACTION * typical;
        for (k, chunk) in usable.chunks_mut(step.max(1)).enumerate() {
            let (a, dv) = activity.segment(k);
            for (j, u) in chunk.iter_mut().enumerate() {
                if a + dv * (j as f64) < dead {
                    *u = false;
                }
            }
        }
        let beat = level_curve(&bp, &bv, n, step, win, 0.5, 0.0);
        judged.push(Some(Judged {
            usable,
            typical,
            noise,
            beat,
        }));
    }
    // Stage 1: each lead in units of its local beat, weighted by its beat-to-noise ratio (the
    // leads added in order at each sample).
    let mut out = vec![0.0f64; n];
    for (k, chunk) in out.chunks_mut(step.max(1)).enumerate() {
        let base = k * step.max(1);
        let segs: Vec<Option<(Segment, Segment)>> = judged
            .iter()
            .map(|j| j.as_ref().map(|j| (j.beat.segment(k), j.noise.segment(k))))
            .collect();
        for (j, v) in chunk.iter_mut().enumerate() {
            let i = base + j;
            let (mut num, mut den) = (0.0f64, 0.0f64);
            for ((lead, jd), seg) in leads.iter().zip(&judged).zip(&segs) {
                let (Some(jd), Some(((la, ld), (za, zd)))) = (jd, seg) else {
                    continue;
                };
                let (l, z) = (la + ld * j as f64, za + zd * j as f64);
                if !jd.usable[i] || l.is_nan() || l <= 0.0 {
                    continue;
                }
                let w = l / z.max(0.05 * l);
                num += w * lead.feat[i] / l;
                den += w;
            }
            *v = if den > 0.0 { num / den } else { 0.0 };
        }
    }
    let consensus = classify(&out, fs, o).beats();
    if consensus.is_empty() {
        return out;
    }
    // Stage 2: each lead judged against the consensus beats.
    let visibility: Vec<Option<Curve>> = leads
        .iter()
        .zip(&judged)
        .map(|(lead, jd)| {
            jd.as_ref().map(|jd| {
                let vis_v: Vec<f64> = consensus
                    .iter()
                    .map(|&b| lead.feat[b] / jd.typical)
                    .collect();
                level_curve(&consensus, &vis_v, n, step, win, 0.5, 0.0)
            })
        })
        .collect();
    for (k, chunk) in out.chunks_mut(step.max(1)).enumerate() {
        let base = k * step.max(1);
        let segs: Vec<Option<(Segment, Segment)>> = judged
            .iter()
            .zip(&visibility)
            .map(|(j, v)| match (j, v) {
                (Some(j), Some(v)) => Some((v.segment(k), j.noise.segment(k))),
                _ => None,
            })
            .collect();
        for (j, out_v) in chunk.iter_mut().enumerate() {
            let i = base + j;
            let (mut num, mut den) = (0.0f64, 0.0f64);
            for ((lead, jd), seg) in leads.iter().zip(&judged).zip(&segs) {
                let (Some(jd), Some(((va, vd), (za, zd)))) = (jd, seg) else {
                    continue;
                };
                let typical = jd.typical;
                let (v, z) = (va + vd * j as f64, (za + zd * j as f64) / typical);
                if !jd.usable[i] || v.is_nan() || v <= MIN_VISIBILITY {
                    continue;
                }
                let w = v / z.max(0.01);
                num += w * (lead.feat[i] / typical) / v;
                den += w;
            }
            *out_v = if den > 0.0 { num / den } else { 0.0 };
        }
    }
    out
}

/// The record-adaptive decision on one feature signal.
fn classify(feat: &[f64], fs: f64, o: &OfflineQrsOptions) -> Decision {
    let min_rr = samples(o.min_rr_s, fs);
    let cands: Vec<usize> = dominant_maxima(feat, min_rr / 2);
    let amp: Vec<f64> = cands.iter().map(|&c| feat[c]).collect();
    if cands.is_empty() {
        return Decision {
            cands,
            amp,
            is_beat: Vec::new(),
        };
    }
    // Pass 0: global level from the upper candidates.
    let mut sorted = amp.clone();
    sorted.sort_by(f64::total_cmp);
    let global = sorted[(sorted.len() * 9) / 10];
    let mut is_beat: Vec<bool> = amp.iter().map(|&a| a > 0.3 * global).collect();
    let win = samples(o.level_window_s, fs);
    let step = samples(0.5, fs);
    let n = feat.len();
    for _pass in 0..3 {
        // Local beat and noise levels on a coarse grid, read at each candidate.
        let (bp, bv): (Vec<usize>, Vec<f64>) = cands
            .iter()
            .zip(&amp)
            .zip(&is_beat)
            .filter(|(_, &b)| b)
            .map(|((&c, &a), _)| (c, a))
            .unzip();
        let (np, nv): (Vec<usize>, Vec<f64>) = cands
            .iter()
            .zip(&amp)
            .zip(&is_beat)
            .filter(|(_, &b)| !b)
            .map(|((&c, &a), _)| (c, a))
            .unzip();
        let beat = grid_levels(&bp, &bv, n, step, win, 0.5);
        let noise = grid_levels(&np, &nv, n, step, win, 0.5);
        is_beat = cands
            .iter()
            .zip(&amp)
            .map(|(&c, &a)| {
                let bl = grid_at(&beat, step, c).unwrap_or(global);
                let nl = grid_at(&noise, step, c).unwrap_or(0.0);
                a > nl + CLASSIFY_FRACTION * (bl - nl).max(0.0)
            })
            .collect();
    }
    Decision {
        cands,
        amp,
        is_beat,
    }
}
