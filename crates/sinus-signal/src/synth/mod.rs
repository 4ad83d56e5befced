//! A synthetic ECG generator physiological enough to test rhythm analysis, with exact ground
//! truth: every beat's R-peak sample and WFDB symbol, rhythm changes as `+` annotations with
//! MIT-BIH aux strings, and signal quality as `~` annotations.
//!
//! # Model
//! - **Beats** come from a rhythm script ([`SynthSpec::segments`]): sinus rhythm at the record's
//!   rate (with optional day/night drift, [`Circadian`]) or a chosen rate, rate ramps, ventricular
//!   bigeminy and trigeminy, VT, SVTA, atrial fibrillation and atrial flutter. Between segments
//!   the rhythm is normal sinus. Random ectopy ([`Ectopy`]: PACs, PVCs, couplets) is drawn in
//!   the sinus segments; [`Event`]s add sinus pauses, leads-off and noise bursts.
//! - **Sinus RR intervals** carry heart-rate variability ([`Hrv`]): a low-frequency (Mayer wave,
//!   ~0.1 Hz) and a high-frequency (respiratory, ~0.25 Hz) modulation whose powers are in the
//!   chosen LF/HF ratio, with phases that drift so the spectral peaks have a width.
//! - **Morphology**: each beat is the sum of a P wave (sinus, ectopic or none), a QRS complex
//!   (narrow, or one of two wide ventricular shapes) and a T wave whose delay and width follow
//!   the RR interval (QT shortens with rate, Fridericia-like). Every wave is a Gaussian (the T
//!   wave an asymmetric one) in the manner of McSharry et al. 2003, with one amplitude per lead:
//!   the leads are projections of the same beats (`MLII`, `V1`, `V5`). Templates are rendered
//!   once per shape and sampling rate (T waves per 10 ms RR bin) and added at each beat, so the
//!   cost is proportional to the number of samples.
//! - **Atrial activity** of AF is a fibrillatory wave near 6 Hz (4–9 Hz) with wandering
//!   frequency and amplitude; atrial flutter is a sawtooth at the atrial rate (~300/min) to which
//!   the ventricular beats are locked with 2:1, 4:1 or variable conduction.
//! - **Noise** reuses [`crate::noise`]: baseline wander, muscle and electrode-motion noise,
//!   continuous and in bursts, plus mains hum and white amplifier noise.
//!
//! # Ground truth
//! Beats are annotated with the MIT-BIH symbols: `N` (sinus, AF, flutter), `A` (PAC and SVTA
//! beats, as MIT-BIH labels SVTA runs), `V` (PVC and VT beats). Rhythm annotations (`+`, aux
//! `(N`, `(SBR`, `(AFIB`, `(AFL`, `(VT`, `(B`, `(T`, `(SVTA`) are placed 40 ms before the first
//! beat of each new rhythm. MIT-BIH has no sinus-tachycardia label: sinus rhythm faster than
//! 100/min is labelled with the custom [`SINUS_TACHY_AUX`] `(STACH` (see
//! [`mitbih_rhythm`] for the MIT-BIH equivalent, `(N`). Signal quality follows MIT-BIH's use of
//! the noise code `~`: its subtype has bit *k* set when lead *k* is noisy and bit *k*+4 when it
//! is unreadable, -1 when every lead is unreadable, and 0 when the signal is clean again. Beats
//! inside a span where every lead is off are not annotated (nobody can see them).
//!
//! # Entry points
//! [`generate`] builds a [`Synthetic`] in memory; [`write_wfdb`] writes it as a WFDB record
//! (`.hea`, `.dat`, `.atr`); [`preset`] and [`PRESETS`] give ready-made scripts.

mod morph;
mod presets;
mod render;
mod rhythm;
#[cfg(test)]
mod tests;

pub use presets::{preset, PRESETS};

use crate::noise::NoiseKind;
use sinus_io::error::MAX_TOTAL_SAMPLES;
use sinus_io::wfdb::annotation::{codes, write_annotations, Annotation, EncodeOptions};
use sinus_io::wfdb::format::SignalFormat;
use sinus_io::wfdb::write::write_record;
use sinus_io::{Error, Recording, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// Lowest sampling rate accepted (Hz): below it a QRS complex is only a few samples.
pub const MIN_FS: f64 = 100.0;
/// Highest sampling rate accepted (Hz).
pub const MAX_FS: f64 = 1000.0;
/// Most leads a record can have (`MLII`, `V1`, `V5`).
pub const MAX_LEADS: usize = 3;
/// ADC units per mV of the generated record (as MIT-BIH).
pub const GAIN: f64 = 200.0;
/// Largest digital value: 12-bit ADC, so the record fits format 212 (whose -2048 marks a
/// missing sample); ±10.2 mV at [`GAIN`]. Also the "rail" of a leads-off event.
pub const ADC_MAX: i32 = 2047;
/// Aux string of the custom sinus-tachycardia rhythm label (MIT-BIH has none).
pub const SINUS_TACHY_AUX: &str = "(STACH";

/// The lead names, in the order leads are produced.
pub const LEAD_NAMES: [&str; MAX_LEADS] = ["MLII", "V1", "V5"];

/// Everything that defines a synthetic record. Same spec (seed included), same record.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthSpec {
    /// Record name (letters, digits, `_`, `-`).
    pub name: String,
    /// Sampling rate, [`MIN_FS`]..=[`MAX_FS`] Hz.
    pub fs: f64,
    /// Length in seconds.
    pub seconds: f64,
    /// Number of leads, 1..=[`MAX_LEADS`].
    pub leads: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Sinus rate (beats per minute) where a segment does not set one.
    pub heart_rate_bpm: f64,
    /// Heart-rate variability of sinus rhythm.
    pub hrv: Hrv,
    /// Day/night drift of the sinus rate (24-hour records).
    pub circadian: Option<Circadian>,
    /// Scale of every beat (1 = a lead-II R wave of about 1.1 mV).
    pub amplitude: f64,
    /// Continuous noise.
    pub noise: NoiseSpec,
    /// Random ectopy in sinus segments.
    pub ectopy: Ectopy,
    /// Rhythm script; the time not covered is normal sinus rhythm. Overlaps: the later start
    /// cuts the earlier segment short.
    pub segments: Vec<Segment>,
    /// Pauses, leads-off and noise bursts.
    pub events: Vec<Event>,
    /// Amplitude of AF fibrillatory waves in V1 (mV; 0.05–0.15 is typical; other leads less).
    pub f_wave_mv: f64,
}

impl Default for SynthSpec {
    /// One minute of normal sinus rhythm at 70/min, 2 leads at 360 Hz, light noise.
    fn default() -> Self {
        SynthSpec {
            name: "synth".to_string(),
            fs: 360.0,
            seconds: 60.0,
            leads: 2,
            seed: 1,
            heart_rate_bpm: 70.0,
            hrv: Hrv::default(),
            circadian: None,
            amplitude: 1.0,
            noise: NoiseSpec::default(),
            ectopy: Ectopy::default(),
            segments: Vec::new(),
            events: Vec::new(),
            f_wave_mv: 0.1,
        }
    }
}

/// Heart-rate variability of sinus rhythm: RR(t) = RR₀ (1 + LF(t) + HF(t) + jitter).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hrv {
    /// Standard deviation of the LF + HF modulation, as a fraction of the RR interval.
    pub modulation: f64,
    /// Ratio of the LF to the HF modulation power.
    pub lf_hf_ratio: f64,
    /// Centre of the LF (Mayer wave) band, Hz.
    pub lf_hz: f64,
    /// Respiratory frequency (the HF peak), Hz.
    pub hf_hz: f64,
    /// Beat-to-beat white jitter, fraction of RR (standard deviation).
    pub jitter: f64,
    /// Depth of the respiratory modulation of the beat amplitude (the chest's impedance and the
    /// heart's axis change with breathing): 0.04 = ±4 %. Some leads swing by ±30 % or more.
    pub respiratory_amplitude: f64,
}

impl Default for Hrv {
    /// 4 % modulation at LF/HF 1.5 (a resting adult), 0.1 and 0.25 Hz, 0.5 % jitter, beat
    /// amplitude ±4 % with respiration.
    fn default() -> Self {
        Hrv {
            modulation: 0.04,
            lf_hf_ratio: 1.5,
            lf_hz: 0.1,
            hf_hz: 0.25,
            jitter: 0.005,
            respiratory_amplitude: 0.04,
        }
    }
}

/// Day/night drift of the sinus rate: lowest at 03:00, highest at 15:00, plus slow random
/// changes of activity over minutes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Circadian {
    /// Clock time of the record's first sample, hours (e.g. 9.0 for 09:00).
    pub start_hour: f64,
    /// Peak-to-peak day/night difference of the rate, beats per minute.
    pub swing_bpm: f64,
    /// Standard deviation of the slow activity-driven rate changes, beats per minute.
    pub activity_bpm: f64,
}

/// Continuous noise levels. Levels are in mV of `nst`'s noise measure (see [`crate::noise`]);
/// [`NoiseSpec::level_for_snr`] converts an SNR.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoiseSpec {
    /// Baseline wander (below 1 Hz).
    pub baseline_mv: f64,
    /// Muscle artifact (20–150 Hz).
    pub muscle_mv: f64,
    /// Electrode motion (0.5–12 Hz bursts).
    pub electrode_mv: f64,
    /// White amplifier noise, standard deviation in mV.
    pub white_mv: f64,
    /// Mains hum amplitude, mV (0 for none).
    pub mains_mv: f64,
    /// Mains frequency, Hz (50 or 60); not added when above half the sampling rate.
    pub mains_hz: f64,
}

impl Default for NoiseSpec {
    /// Light: 0.1 mV wander, 0.01 mV muscle, 5 µV white noise, 10 µV of 60 Hz hum.
    fn default() -> Self {
        NoiseSpec {
            baseline_mv: 0.1,
            muscle_mv: 0.01,
            electrode_mv: 0.0,
            white_mv: 0.005,
            mains_mv: 0.01,
            mains_hz: 60.0,
        }
    }
}

impl NoiseSpec {
    /// No noise at all.
    pub const NONE: NoiseSpec = NoiseSpec {
        baseline_mv: 0.0,
        muscle_mv: 0.0,
        electrode_mv: 0.0,
        white_mv: 0.0,
        mains_mv: 0.0,
        mains_hz: 60.0,
    };

    /// The noise level (mV) that gives `snr_db` against a QRS of `qrs_peak_to_peak_mv` by the
    /// definition of `nst` (S = pp²/8, N = level²).
    pub fn level_for_snr(snr_db: f64, qrs_peak_to_peak_mv: f64) -> f64 {
        qrs_peak_to_peak_mv / 8f64.sqrt() / 10f64.powf(snr_db / 20.0)
    }
}

/// Random ectopy in sinus segments (normal, brady, tachy, ramps): probabilities per sinus beat.
/// Two ectopic events are always at least three sinus beats apart, so random ectopy never forms
/// bigeminy or a VT run by chance.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Ectopy {
    /// Premature atrial contraction (early, abnormal P, resets the sinus node).
    pub pac: f64,
    /// Isolated premature ventricular contraction (wide, no P, compensatory pause).
    pub pvc: f64,
    /// Ventricular couplet (two PVCs in a row).
    pub couplet: f64,
}

/// One piece of the rhythm script.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Start, seconds from the record's start.
    pub start_s: f64,
    /// Duration, seconds.
    pub duration_s: f64,
    /// The rhythm.
    pub rhythm: Rhythm,
    /// Scale of the beats in this segment (1 = the record's amplitude).
    pub amplitude: f64,
    /// Scale of the T waves in this segment (on top of `amplitude`).
    pub t_wave: f64,
}

impl Segment {
    /// A segment of `rhythm` with the record's amplitude and T waves.
    pub fn new(start_s: f64, duration_s: f64, rhythm: Rhythm) -> Self {
        Segment {
            start_s,
            duration_s,
            rhythm,
            amplitude: 1.0,
            t_wave: 1.0,
        }
    }

    /// End, seconds from the record's start.
    pub fn end_s(&self) -> f64 {
        self.start_s + self.duration_s
    }
}

/// A rhythm of the script.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rhythm {
    /// Sinus rhythm at `bpm`, or at the record's rate (and drift) when `None`. Labelled `(SBR`
    /// below 60/min, `(STACH` above 100/min, `(N` otherwise.
    Sinus {
        /// Rate, beats per minute.
        bpm: Option<f64>,
    },
    /// Sinus rhythm whose rate changes linearly over the segment; labelled by its mean rate.
    SinusRamp {
        /// Rate at the start, beats per minute.
        from_bpm: f64,
        /// Rate at the end, beats per minute.
        to_bpm: f64,
    },
    /// Ventricular bigeminy (N V N V ...) over sinus rhythm at the record's rate, `(B`.
    Bigeminy,
    /// Ventricular trigeminy (N N V ...) over sinus rhythm at the record's rate, `(T`.
    Trigeminy,
    /// Ventricular tachycardia: wide beats without P waves, `(VT`.
    Vt {
        /// Rate, beats per minute (140–200 typical).
        bpm: f64,
    },
    /// Supraventricular tachyarrhythmia: narrow beats with ectopic P waves, labelled `A`,
    /// `(SVTA`.
    Svta {
        /// Rate, beats per minute (150–200 typical).
        bpm: f64,
    },
    /// Atrial fibrillation: irregularly irregular RR (independent draws from a log-normal
    /// distribution, coefficient of variation 0.22), no P waves, fibrillatory waves, `(AFIB`.
    Afib {
        /// Mean ventricular rate, beats per minute.
        mean_bpm: f64,
    },
    /// Atrial flutter: sawtooth F waves at `atrial_bpm`, beats locked to them, `(AFL`.
    Aflutter {
        /// Atrial (F-wave) rate, per minute (~300).
        atrial_bpm: f64,
        /// How many F waves per ventricular beat.
        conduction: Conduction,
    },
}

/// Atrioventricular conduction of atrial flutter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conduction {
    /// Every n-th F wave conducts (2 for 2:1, 4 for 4:1).
    Fixed(u32),
    /// 2:1, 3:1 and 4:1 mixed at random.
    Variable,
}

impl Rhythm {
    /// The MIT-BIH-style aux string of this rhythm's `+` annotation (without the trailing NUL).
    pub fn aux(&self) -> &'static str {
        match *self {
            Rhythm::Sinus { bpm: None } => "(N",
            Rhythm::Sinus { bpm: Some(b) } => sinus_label(b),
            Rhythm::SinusRamp { from_bpm, to_bpm } => sinus_label(0.5 * (from_bpm + to_bpm)),
            Rhythm::Bigeminy => "(B",
            Rhythm::Trigeminy => "(T",
            Rhythm::Vt { .. } => "(VT",
            Rhythm::Svta { .. } => "(SVTA",
            Rhythm::Afib { .. } => "(AFIB",
            Rhythm::Aflutter { .. } => "(AFL",
        }
    }
}

fn sinus_label(bpm: f64) -> &'static str {
    if bpm < 60.0 {
        "(SBR"
    } else if bpm > 100.0 {
        SINUS_TACHY_AUX
    } else {
        "(N"
    }
}

/// The MIT-BIH rhythm label for an aux string of this generator: the custom `(STACH` becomes
/// `(N`; every other label is MIT-BIH's own.
pub fn mitbih_rhythm(aux: &str) -> &str {
    if aux == SINUS_TACHY_AUX {
        "(N"
    } else {
        aux
    }
}

/// Something that happens at a time, whatever the rhythm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event {
    /// Sinus arrest: the first sinus beat after `at_s` comes `duration_s` after the beat before
    /// it (ignored outside sinus segments).
    Pause {
        /// Time, seconds.
        at_s: f64,
        /// The long RR interval, seconds (2–4 typical).
        duration_s: f64,
    },
    /// An electrode comes off: the lead is a flat line at 0 mV, or stuck at the positive rail
    /// ([`ADC_MAX`]).
    LeadsOff {
        /// Start, seconds.
        at_s: f64,
        /// Duration, seconds.
        duration_s: f64,
        /// The lead, or every lead when `None`.
        lead: Option<usize>,
        /// Rail instead of a flat line at 0.
        rail: bool,
    },
    /// A burst of noise in every lead.
    NoiseBurst {
        /// Start, seconds.
        at_s: f64,
        /// Duration, seconds.
        duration_s: f64,
        /// Which noise.
        kind: NoiseKind,
        /// Level, mV by `nst`'s measure.
        level_mv: f64,
    },
}

/// An episode of the ground truth, in samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    /// What it is: a rhythm aux string (`(AFIB`), `PAUSE`, `LEADS-OFF` or `NOISE`.
    pub label: String,
    /// First sample.
    pub start: i64,
    /// One past the last sample.
    pub end: i64,
}

/// A generated record with its ground truth.
#[derive(Debug, Clone, PartialEq)]
pub struct Synthetic {
    /// The signals (12-bit, gain [`GAIN`], baseline 0), named [`LEAD_NAMES`].
    pub recording: Recording,
    /// Beats, rhythm changes and signal-quality changes, in time order, as written to `.atr`.
    pub annotations: Vec<Annotation>,
    /// Rhythm episodes (every rhythm run, in order), pauses, leads-off spans and noise bursts.
    pub episodes: Vec<Episode>,
}

impl Synthetic {
    /// Number of beat annotations per symbol.
    pub fn beat_counts(&self) -> BTreeMap<&'static str, usize> {
        let mut out = BTreeMap::new();
        for a in self.annotations.iter().filter(|a| a.is_beat()) {
            *out.entry(a.symbol()).or_insert(0) += 1;
        }
        out
    }

    /// Number of episodes and their total duration (s) per label.
    pub fn episode_summary(&self) -> BTreeMap<String, (usize, f64)> {
        let fs = self.recording.frame_frequency;
        let mut out: BTreeMap<String, (usize, f64)> = BTreeMap::new();
        for e in &self.episodes {
            let entry = out.entry(e.label.clone()).or_insert((0, 0.0));
            entry.0 += 1;
            entry.1 += (e.end - e.start) as f64 / fs;
        }
        out
    }
}

/// Check a spec before generating: rate, length, leads, and every number finite and sensible.
pub fn validate(spec: &SynthSpec) -> Result<()> {
    let bad = |msg: String| Err(Error::invalid(msg));
    if !(spec.fs.is_finite() && (MIN_FS..=MAX_FS).contains(&spec.fs)) {
        return bad(format!(
            "sampling rate {} Hz is outside {MIN_FS}..={MAX_FS} Hz",
            spec.fs
        ));
    }
    if !(spec.seconds.is_finite() && spec.seconds >= 1.0) {
        return bad(format!(
            "length {} s must be at least 1 second",
            spec.seconds
        ));
    }
    if !(1..=MAX_LEADS).contains(&spec.leads) {
        return bad(format!(
            "{} leads requested; 1 to {MAX_LEADS} are possible",
            spec.leads
        ));
    }
    let n = (spec.seconds * spec.fs).round();
    if n * spec.leads as f64 > MAX_TOTAL_SAMPLES as f64 {
        return Err(Error::too_large(format!(
            "{n} samples × {} leads exceed the limit of {MAX_TOTAL_SAMPLES} samples",
            spec.leads
        )));
    }
    let rate_ok = |b: f64| b.is_finite() && (20.0..=300.0).contains(&b);
    if !rate_ok(spec.heart_rate_bpm) {
        return bad(format!(
            "heart rate {} /min is outside 20..=300",
            spec.heart_rate_bpm
        ));
    }
    let h = &spec.hrv;
    let fraction_ok = |v: f64| v.is_finite() && (0.0..=0.3).contains(&v);
    if !(fraction_ok(h.modulation)
        && fraction_ok(h.jitter)
        && h.respiratory_amplitude.is_finite()
        && (0.0..=0.8).contains(&h.respiratory_amplitude)
        && h.lf_hf_ratio.is_finite()
        && h.lf_hf_ratio >= 0.0
        && h.lf_hz.is_finite()
        && h.lf_hz > 0.0
        && h.hf_hz.is_finite()
        && h.hf_hz > 0.0)
    {
        return bad(format!("heart-rate variability {h:?} is out of range"));
    }
    if let Some(c) = &spec.circadian {
        if !(c.start_hour.is_finite()
            && c.swing_bpm.is_finite()
            && c.swing_bpm.abs() <= 80.0
            && c.activity_bpm.is_finite()
            && (0.0..=30.0).contains(&c.activity_bpm))
        {
            return bad(format!("day/night drift {c:?} is out of range"));
        }
    }
    let level_ok = |v: f64| v.is_finite() && (0.0..=20.0).contains(&v);
    let scale_ok = |v: f64| v.is_finite() && (0.0..=20.0).contains(&v);
    if !(scale_ok(spec.amplitude) && level_ok(spec.f_wave_mv)) {
        return bad("amplitude and f-wave level must be in 0..=20".to_string());
    }
    let n = &spec.noise;
    let levels = [
        n.baseline_mv,
        n.muscle_mv,
        n.electrode_mv,
        n.white_mv,
        n.mains_mv,
    ];
    if !(levels.into_iter().all(level_ok) && n.mains_hz.is_finite() && n.mains_hz > 0.0) {
        return bad(format!("noise levels {n:?} must be in 0..=20 mV"));
    }
    let e = &spec.ectopy;
    if ![e.pac, e.pvc, e.couplet]
        .into_iter()
        .all(|p| p.is_finite() && (0.0..=0.5).contains(&p))
    {
        return bad(format!("ectopy probabilities {e:?} must be in 0..=0.5"));
    }
    let time_ok = |t: f64, d: f64| t.is_finite() && d.is_finite() && d >= 0.0;
    for s in &spec.segments {
        if !(time_ok(s.start_s, s.duration_s) && scale_ok(s.amplitude) && scale_ok(s.t_wave)) {
            return bad(format!("segment {s:?} has a bad time or scale"));
        }
        let ok = match s.rhythm {
            Rhythm::Sinus { bpm: None } | Rhythm::Bigeminy | Rhythm::Trigeminy => true,
            Rhythm::Sinus { bpm: Some(b) }
            | Rhythm::Vt { bpm: b }
            | Rhythm::Svta { bpm: b }
            | Rhythm::Afib { mean_bpm: b } => rate_ok(b),
            Rhythm::SinusRamp { from_bpm, to_bpm } => rate_ok(from_bpm) && rate_ok(to_bpm),
            Rhythm::Aflutter {
                atrial_bpm,
                conduction,
            } => {
                atrial_bpm.is_finite()
                    && (150.0..=450.0).contains(&atrial_bpm)
                    && !matches!(conduction, Conduction::Fixed(m) if !(1..=8).contains(&m))
            }
        };
        if !ok {
            return bad(format!("segment {s:?} has a rate out of range"));
        }
    }
    for ev in &spec.events {
        let ok = match *ev {
            Event::Pause { at_s, duration_s } => {
                time_ok(at_s, duration_s) && (0.5..=30.0).contains(&duration_s)
            }
            Event::LeadsOff {
                at_s,
                duration_s,
                lead,
                ..
            } => time_ok(at_s, duration_s) && lead.is_none_or(|l| l < spec.leads),
            Event::NoiseBurst {
                at_s,
                duration_s,
                level_mv,
                ..
            } => time_ok(at_s, duration_s) && level_ok(level_mv),
        };
        if !ok {
            return bad(format!("event {ev:?} is out of range"));
        }
    }
    Ok(())
}

/// Generate the record and its ground truth (see the module documentation).
///
/// Errors when [`validate`] does.
pub fn generate(spec: &SynthSpec) -> Result<Synthetic> {
    validate(spec)?;
    let n = (spec.seconds * spec.fs).round() as usize;
    let mut timeline = rhythm::timeline(spec, n);
    let signals = render::render(spec, n, &timeline)?;
    let annotations = rhythm::annotations(spec, n, &mut timeline);
    let recording = Recording {
        name: spec.name.clone(),
        frame_frequency: spec.fs,
        frames: n as u64,
        base_datetime: spec.circadian.map(|c| sinus_io::BaseDateTime {
            time: Some(clock(c.start_hour)),
            date: None,
        }),
        signals,
        info: vec![format!(
            "synthetic ECG (sinus synth), seed {}, {} beats annotated",
            spec.seed,
            annotations.iter().filter(|a| a.is_beat()).count()
        )],
    };
    Ok(Synthetic {
        recording,
        annotations,
        episodes: timeline.episodes,
    })
}

/// The time of day of `hour` (wrapped into 0..24).
fn clock(hour: f64) -> sinus_io::TimeOfDay {
    let seconds = (hour.rem_euclid(24.0) * 3600.0).round() as u32 % 86_400;
    sinus_io::TimeOfDay {
        hour: (seconds / 3600) as u8,
        minute: (seconds / 60 % 60) as u8,
        second: (seconds % 60) as u8,
        micros: 0,
    }
}

/// Write `synthetic` as WFDB record `name` in `dir`: `name.hea`, `name.dat` in `format` (16 or
/// 212) and the ground truth as `name.atr`.
pub fn write_wfdb(
    synthetic: &Synthetic,
    dir: impl AsRef<Path>,
    name: &str,
    format: SignalFormat,
) -> Result<()> {
    let dir = dir.as_ref();
    if !matches!(format, SignalFormat::Fmt16 | SignalFormat::Fmt212) {
        return Err(Error::unsupported(format!(
            "synthetic records are written in format 16 or 212, not {}",
            format.code()
        )));
    }
    write_record(dir, name, &synthetic.recording, format)?;
    write_annotations(
        dir.join(format!("{name}.atr")),
        &synthetic.annotations,
        &EncodeOptions::default(),
    )
}

/// A `+` rhythm annotation with MIT-BIH's aux layout (text and a trailing NUL).
fn rhythm_annotation(sample: i64, aux: &str) -> Annotation {
    let mut bytes = aux.as_bytes().to_vec();
    bytes.push(0);
    Annotation {
        aux: Some(bytes),
        ..Annotation::new(sample, codes::RHYTHM)
    }
}
