//! Labelled beats from WFDB records: a window around each reference beat, resampled to a
//! fixed length, with RR-interval features — cut by the same causal code
//! ([`sinus_core::beat`]) that classifies detected beats.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sinus_core::beat::{BeatFeaturizer, LeadSlice, WindowError, WindowShape};
use sinus_io::wfdb::annotation::{read_annotations, Annotation};
use sinus_io::wfdb::record::read_record;
use sinus_io::{Error, Recording, Result, ResultExt};
use sinus_signal::baseline::{remove_baseline_signal, BaselineMethod};
use sinus_signal::resample::{map_index, resample_recording, same_rate};
use std::path::{Path, PathBuf};

/// The five AAMI EC57 beat classes used for training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AamiClass {
    /// Normal and bundle-branch-block beats: N L R e j.
    N,
    /// Supraventricular ectopic beats: A a J S.
    S,
    /// Ventricular ectopic beats: V E.
    V,
    /// Fusion of ventricular and normal: F.
    F,
    /// Paced, fusion of paced and normal, unclassifiable: / f Q.
    Q,
}

impl AamiClass {
    /// All classes in index order.
    pub const ALL: [AamiClass; 5] = [
        AamiClass::N,
        AamiClass::S,
        AamiClass::V,
        AamiClass::F,
        AamiClass::Q,
    ];

    /// The class of a WFDB beat mnemonic, or `None` for symbols that are not beats for training
    /// (rhythm changes, noise, artefacts, `?` unclassified-by-annotator ...).
    pub fn from_symbol(symbol: &str) -> Option<AamiClass> {
        Some(match symbol {
            "N" | "L" | "R" | "e" | "j" => AamiClass::N,
            "A" | "a" | "J" | "S" => AamiClass::S,
            "V" | "E" => AamiClass::V,
            "F" => AamiClass::F,
            "/" | "f" | "Q" => AamiClass::Q,
            _ => return None,
        })
    }

    /// Index 0..5 in [`AamiClass::ALL`] order (the model's output index).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The class with index `i`, if `i < 5`.
    pub fn from_index(i: usize) -> Option<AamiClass> {
        AamiClass::ALL.get(i).copied()
    }

    /// One-letter name.
    pub fn name(self) -> &'static str {
        ["N", "S", "V", "F", "Q"][self.index()]
    }
}

/// How beats are cut from a record.
#[derive(Debug, Clone, PartialEq)]
pub struct BeatWindowConfig {
    /// Seconds of signal before the beat's centre.
    pub before_s: f64,
    /// Seconds of signal after the beat's centre.
    pub after_s: f64,
    /// Points per lead after resampling the window (at least 2).
    pub length: usize,
    /// Signal indices of the leads to use, in order (MIT-BIH: 0 = MLII mostly, 1 = V1/V5...).
    pub leads: Vec<usize>,
    /// Baseline-wander removal applied to the whole lead before cutting, or `None`.
    pub baseline: Option<BaselineMethod>,
    /// Per-beat, per-lead z-normalisation (zero mean, unit standard deviation) of the window:
    /// removes the patient's amplitude scale, which differs between patients.
    pub z_normalise: bool,
    /// Add, for each lead, a channel holding the beat minus its running template (the
    /// point-wise median of the previous [`TEMPLATE_BEATS`] beats' windows, which normal beats
    /// dominate: [`sinus_core::beat::RunningTemplate`]): how this beat differs from the
    /// patient's usual beat. Morphology varies far more between patients than within one, so
    /// the difference generalises to unseen patients better than the raw shape. Channels are
    /// the leads first, then their differences.
    pub template: bool,
    /// Centre each window on the beat's fiducial point ([`sinus_core::beat::fiducial`])
    /// rather than on the given beat time, so reference annotations and detections cut the
    /// same windows.
    pub align: bool,
}

impl Default for BeatWindowConfig {
    /// −250/+400 ms, 128 points, lead 0, de Chazal baseline medians, z-normalised, aligned
    /// on the fiducial point.
    fn default() -> Self {
        BeatWindowConfig {
            before_s: 0.25,
            after_s: 0.40,
            length: 128,
            leads: vec![0],
            baseline: Some(BaselineMethod::DE_CHAZAL),
            z_normalise: true,
            template: false,
            align: true,
        }
    }
}

impl BeatWindowConfig {
    /// Check that the configuration can be used.
    pub fn validate(&self) -> Result<()> {
        let ok_s = |s: f64| s.is_finite() && (0.0..=10.0).contains(&s);
        if !ok_s(self.before_s) || !ok_s(self.after_s) || self.before_s + self.after_s <= 0.0 {
            return Err(Error::invalid(format!(
                "beat window −{} s/+{} s is not a positive span within 10 s each way",
                self.before_s, self.after_s
            )));
        }
        if !(2..=1 << 16).contains(&self.length) {
            return Err(Error::invalid(format!(
                "window length {} must be between 2 and 65536 points",
                self.length
            )));
        }
        if self.leads.is_empty() || self.leads.len() > 64 {
            return Err(Error::invalid("between 1 and 64 leads must be chosen"));
        }
        Ok(())
    }

    /// Waveform channels: the leads, and as many template-difference channels if
    /// [`BeatWindowConfig::template`].
    pub fn channels(&self) -> usize {
        self.leads.len() * if self.template { 2 } else { 1 }
    }

    /// Values per beat waveform: channels × length.
    pub fn waveform_len(&self) -> usize {
        self.channels() * self.length
    }

    /// The window layout in `sinus-core`'s terms.
    pub fn shape(&self) -> WindowShape {
        WindowShape {
            before_s: self.before_s,
            after_s: self.after_s,
            length: self.length,
            z_normalise: self.z_normalise,
            template: self.template,
            align: self.align,
        }
    }
}

pub use sinus_core::beat::{LOCAL_RR_COUNT, RR_FEATURES, TEMPLATE_BEATS};

/// One labelled beat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Beat {
    /// Record name, e.g. "100".
    pub record: String,
    /// The beat annotation's sample (frame number) in the record, at the rate the beats were
    /// cut at ([`extract_beats_at`]).
    pub sample: i64,
    /// AAMI class.
    pub class: AamiClass,
    /// The annotation's mnemonic, e.g. "A".
    pub symbol: String,
    /// `leads × length` values, lead-major (all points of the first lead, then the next).
    pub waveform: Vec<f32>,
    /// RR features, see [`RR_FEATURES`].
    pub rr: [f32; 8],
}

/// The beats of one record, with what was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordBeats {
    /// Record name.
    pub record: String,
    /// Sampling frequency (frame frequency) in Hz.
    pub fs: f64,
    /// Beats kept, in time order.
    pub beats: Vec<Beat>,
    /// AAMI beats whose window extends past the start or end of the record.
    pub skipped_edge: usize,
    /// AAMI beats whose window holds a missing sample.
    pub skipped_missing: usize,
}

/// The path of `record_path` with `.ext` appended (`db/100` → `db/100.atr`).
fn with_suffix(record_path: &Path, ext: &str) -> PathBuf {
    let mut s = record_path.as_os_str().to_os_string();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// Read `record_path` (without extension) and its reference annotations `record_path.atr`,
/// and cut a window around each beat that has an AAMI class.
///
/// Every beat annotation goes through [`BeatInputs`] in time order — exactly what a
/// classifier sees of detected beats — and the AAMI-labelled ones are kept: a skipped or
/// unclassed beat still counts as a neighbour in the RR statistics and the template. Beats
/// whose window leaves the record or holds a missing sample are skipped and counted.
pub fn extract_beats(
    record_path: impl AsRef<Path>,
    config: &BeatWindowConfig,
) -> Result<RecordBeats> {
    extract_beats_at(record_path, config, None)
}

/// [`extract_beats`] on the record resampled to `fs` Hz (every lead; the annotations mapped
/// to the new sample clock) when `fs` is given and differs from the record's rate: how a
/// classifier fares on a recorder with another sampling rate.
pub fn extract_beats_at(
    record_path: impl AsRef<Path>,
    config: &BeatWindowConfig,
    fs: Option<f64>,
) -> Result<RecordBeats> {
    let record_path = record_path.as_ref();
    config.validate()?;
    let wfdb = read_record(record_path)?;
    let fs0 = wfdb.recording.frame_frequency;
    if !(fs0.is_finite() && fs0 > 0.0) {
        return Err(
            Error::invalid(format!("frame frequency {fs0} Hz is not positive"))
                .in_file(record_path),
        );
    }
    let atr_path = with_suffix(record_path, "atr");
    let set = read_annotations(&atr_path, Some(fs0))?;
    let resampled = match fs {
        Some(f) if !same_rate(f, fs0) => {
            Some(resample_recording(&wfdb.recording, f).in_file(record_path)?)
        }
        _ => None,
    };
    let rec = resampled.as_ref().unwrap_or(&wfdb.recording);
    let fs = rec.frame_frequency;
    let mut beats_ann: Vec<&Annotation> = set.annotations.iter().filter(|a| a.is_beat()).collect();
    beats_ann.sort_by_key(|a| a.sample);
    let times: Vec<i64> = beats_ann
        .iter()
        .map(|a| map_index(a.sample, fs0, fs))
        .collect();
    let inputs = windows_at(rec, &times, config).in_file(record_path)?;
    let name = rec.name.clone();
    let mut out = RecordBeats {
        record: name.clone(),
        fs,
        beats: Vec::new(),
        skipped_edge: 0,
        skipped_missing: 0,
    };
    for ((ann, sample), (window, rr)) in beats_ann.iter().zip(times).zip(inputs) {
        let Some(class) = AamiClass::from_symbol(set.symbol_of(ann.code)) else {
            continue;
        };
        match window {
            Window::Edge => out.skipped_edge += 1,
            Window::Missing => out.skipped_missing += 1,
            Window::Ok(waveform) => out.beats.push(Beat {
                record: name.clone(),
                sample,
                class,
                symbol: set.symbol_of(ann.code).to_string(),
                waveform,
                rr,
            }),
        }
    }
    Ok(out)
}

/// The chosen leads of a recording, in physical units at their own rate, baseline removed as
/// configured: what windows are cut from. Each entry is (samples, samples per frame).
pub struct PreparedLeads(Vec<(Vec<f32>, usize)>);

impl PreparedLeads {
    fn slices(&self) -> Vec<LeadSlice<'_>> {
        self.0
            .iter()
            .map(|(x, spf)| LeadSlice {
                samples: x,
                per_frame: *spf,
            })
            .collect()
    }
}

/// Prepare the leads of `rec` that `config` uses (see [`PreparedLeads`]).
pub fn prepare_leads(rec: &Recording, config: &BeatWindowConfig) -> Result<PreparedLeads> {
    config.validate()?;
    let fs = rec.frame_frequency;
    let mut leads = Vec::with_capacity(config.leads.len());
    for &l in &config.leads {
        let sig = rec.signals.get(l).ok_or_else(|| {
            Error::invalid(format!(
                "the model reads lead {l} but the recording has {} signal(s)",
                rec.signals.len()
            ))
        })?;
        let spf = sig.samples_per_frame.max(1) as usize;
        let x = match config.baseline {
            Some(m) => remove_baseline_signal(sig, fs * spf as f64, m)?,
            None => sig.physical_samples(),
        };
        leads.push((x.into_iter().map(|v| v as f32).collect(), spf));
    }
    Ok(PreparedLeads(leads))
}

/// A window cut around one beat.
#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    /// `channels × length` values, channel-major.
    Ok(Vec<f32>),
    /// The window leaves the record.
    Edge,
    /// The window holds a missing sample.
    Missing,
}

/// A beat's window and RR features ([`RR_FEATURES`]).
pub type BeatInput = (Window, [f32; 8]);

/// The classifier's inputs for a record's beats, beat after beat, through
/// [`sinus_core::beat::BeatFeaturizer`] — the code the device runs. A beat's RR features need
/// the next beat, so each beat comes out when the next one goes in ([`BeatInputs::push`]) or
/// at the end ([`BeatInputs::finish`]). The leads can be given a stretch at a time (long
/// recordings read in chunks): the state carries over.
pub struct BeatInputs {
    featurizer: BeatFeaturizer<Vec<f32>>,
    waveform_len: usize,
    /// The last beat pushed (its index and window), waiting for its RR features.
    pending: Option<(usize, Window)>,
}

impl BeatInputs {
    /// A fresh state for beats cut as `config`.
    pub fn new(config: &BeatWindowConfig) -> Result<BeatInputs> {
        config.validate()?;
        let shape = config.shape();
        let n = config.leads.len();
        let storage = vec![0.0f32; BeatFeaturizer::<Vec<f32>>::storage_len(&shape, n)];
        let featurizer = BeatFeaturizer::new(shape, n, storage)
            .map_err(|e| Error::invalid(format!("template storage: {} values needed", e.0)))?;
        Ok(BeatInputs {
            featurizer,
            waveform_len: config.waveform_len(),
            pending: None,
        })
    }

    /// Beat `index` at frame `candidate` of `leads` (frames of `leads` start at frame `offset`
    /// of the recording; `fs`: frame rate). Returns the previous beat, complete.
    pub fn push(
        &mut self,
        leads: &PreparedLeads,
        fs: f64,
        offset: i64,
        index: usize,
        candidate: i64,
    ) -> Option<(usize, BeatInput)> {
        let mut waveform = vec![0.0f32; self.waveform_len];
        let got = self.featurizer.beat(
            &leads.slices(),
            fs,
            offset as f64 / fs,
            (candidate - offset) as f64,
            &mut waveform,
        );
        let window = match got.window {
            Ok(()) => Window::Ok(waveform),
            Err(WindowError::Edge) => Window::Edge,
            Err(WindowError::Missing) => Window::Missing,
        };
        let previous = self.pending.replace((index, window));
        match (previous, got.previous_rr) {
            (Some((i, w)), Some(rr)) => Some((i, (w, rr))),
            _ => None,
        }
    }

    /// The last beat pushed, with its RR features (end of the recording).
    pub fn finish(&mut self) -> Option<(usize, BeatInput)> {
        let (i, w) = self.pending.take()?;
        Some((i, (w, self.featurizer.finish()?)))
    }
}

/// Windows and RR features of beats at the given frames (ascending), e.g. from a QRS
/// detector or reference annotations, in order (see [`BeatInputs`]).
pub fn windows_at(
    rec: &Recording,
    beat_frames: &[i64],
    config: &BeatWindowConfig,
) -> Result<Vec<BeatInput>> {
    let fs = rec.frame_frequency;
    if !(fs.is_finite() && fs > 0.0) {
        return Err(Error::invalid(format!(
            "frame frequency {fs} Hz is not positive"
        )));
    }
    let leads = prepare_leads(rec, config)?;
    let mut state = BeatInputs::new(config)?;
    let mut out = Vec::with_capacity(beat_frames.len());
    for (i, &s) in beat_frames.iter().enumerate() {
        out.extend(state.push(&leads, fs, 0, i, s).map(|(_, b)| b));
    }
    out.extend(state.finish().map(|(_, b)| b));
    Ok(out)
}

/// Beat counts per class, indexed by [`AamiClass::index`].
pub type ClassCounts = [usize; 5];

/// Labelled beats of a set of records, all cut with one configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The beats, record by record in the order given, each record in time order.
    pub beats: Vec<Beat>,
    /// How they were cut.
    pub config: BeatWindowConfig,
    /// The records used, in order.
    pub records: Vec<String>,
    /// Beats skipped because their window left the record.
    pub skipped_edge: u64,
    /// Beats skipped because their window held a missing sample.
    pub skipped_missing: u64,
}

impl Dataset {
    /// Extract the beats of `records` (names inside `db_dir`), in parallel over records.
    pub fn build<S: AsRef<str> + Sync>(
        db_dir: impl AsRef<Path>,
        records: &[S],
        config: &BeatWindowConfig,
    ) -> Result<Dataset> {
        Dataset::build_at(db_dir, records, config, None)
    }

    /// [`Dataset::build`] on the records resampled to `fs` Hz (see [`extract_beats_at`]).
    pub fn build_at<S: AsRef<str> + Sync>(
        db_dir: impl AsRef<Path>,
        records: &[S],
        config: &BeatWindowConfig,
        fs: Option<f64>,
    ) -> Result<Dataset> {
        config.validate()?;
        let db_dir = db_dir.as_ref();
        let parts: Vec<Result<RecordBeats>> = records
            .par_iter()
            .map(|r| extract_beats_at(db_dir.join(r.as_ref()), config, fs))
            .collect();
        let mut ds = Dataset {
            beats: Vec::new(),
            config: config.clone(),
            records: records.iter().map(|r| r.as_ref().to_string()).collect(),
            skipped_edge: 0,
            skipped_missing: 0,
        };
        for part in parts {
            let part = part?;
            ds.skipped_edge += part.skipped_edge as u64;
            ds.skipped_missing += part.skipped_missing as u64;
            ds.beats.extend(part.beats);
        }
        Ok(ds)
    }

    /// Beats per class.
    pub fn class_counts(&self) -> ClassCounts {
        class_counts(&self.beats)
    }

    /// The beats of the given records only (e.g. a patient-wise training or validation part
    /// of DS1, see [`crate::split`]), in this dataset's order. Skip counts are not kept (they
    /// are not recorded per record).
    pub fn subset<S: AsRef<str>>(&self, records: &[S]) -> Dataset {
        let keep = |r: &str| records.iter().any(|k| k.as_ref() == r);
        Dataset {
            beats: self
                .beats
                .iter()
                .filter(|b| keep(&b.record))
                .cloned()
                .collect(),
            config: self.config.clone(),
            records: self.records.iter().filter(|r| keep(r)).cloned().collect(),
            skipped_edge: 0,
            skipped_missing: 0,
        }
    }
}

/// Beats per class.
pub fn class_counts(beats: &[Beat]) -> ClassCounts {
    let mut c = [0; 5];
    for b in beats {
        c[b.class.index()] += 1;
    }
    c
}

/// How class weights (for a weighted loss) are derived from class counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WeightScheme {
    /// "Balanced" weights `total / (classes present × count)`, each capped at `cap` times the
    /// weight of the most frequent class. Uncapped, DS1's 8 Q beats would get a weight of
    /// ~1000 and a model trained with it calls thousands of normal beats Q; a cap of 10 keeps
    /// rare classes visible without letting a handful of beats dominate.
    /// On DS1 the cap binds for S, V, F and Q alike (all get 10× N's weight); use
    /// [`WeightScheme::SqrtInverse`] for weights that still grade the minority classes.
    InverseFrequency {
        /// Largest weight as a multiple of the majority class's weight (values below 1 or NaN
        /// count as 1; infinity means uncapped).
        cap: f64,
    },
    /// `sqrt(max_count / count)`: milder than inverse frequency, majority class weight 1.
    SqrtInverse,
}

impl Default for WeightScheme {
    fn default() -> Self {
        WeightScheme::InverseFrequency { cap: 10.0 }
    }
}

/// Per-class loss weights, indexed by [`AamiClass::index`]. Classes with no beats get 0 (they
/// never appear in the loss). All zero when `counts` is all zero.
pub fn class_weights(counts: &ClassCounts, scheme: WeightScheme) -> [f64; 5] {
    let total: usize = counts.iter().sum();
    let present = counts.iter().filter(|&&c| c > 0).count();
    let max = counts.iter().copied().max().unwrap_or(0);
    let mut w = [0.0; 5];
    if total == 0 {
        return w;
    }
    for (wi, &c) in w.iter_mut().zip(counts) {
        if c == 0 {
            continue;
        }
        *wi = match scheme {
            WeightScheme::InverseFrequency { cap } => {
                let balanced = total as f64 / (present as f64 * c as f64);
                let majority = total as f64 / (present as f64 * max as f64);
                // NaN or below 1 would cap rare classes below the majority; infinity = no cap.
                let cap = if cap >= 1.0 { cap } else { 1.0 };
                balanced.min(cap * majority)
            }
            WeightScheme::SqrtInverse => (max as f64 / c as f64).sqrt(),
        };
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use sinus_io::datasets::mitdb_for_tests;

    #[test]
    fn aami_mapping() {
        for (s, c) in [
            ("N", AamiClass::N),
            ("L", AamiClass::N),
            ("R", AamiClass::N),
            ("e", AamiClass::N),
            ("j", AamiClass::N),
            ("A", AamiClass::S),
            ("a", AamiClass::S),
            ("J", AamiClass::S),
            ("S", AamiClass::S),
            ("V", AamiClass::V),
            ("E", AamiClass::V),
            ("F", AamiClass::F),
            ("/", AamiClass::Q),
            ("f", AamiClass::Q),
            ("Q", AamiClass::Q),
        ] {
            assert_eq!(AamiClass::from_symbol(s), Some(c), "{s}");
        }
        for s in ["+", "~", "|", "x", "!", "?", "\"", ""] {
            assert_eq!(AamiClass::from_symbol(s), None, "{s}");
        }
        for c in AamiClass::ALL {
            assert_eq!(AamiClass::from_index(c.index()), Some(c));
        }
        assert_eq!(AamiClass::from_index(5), None);
    }

    #[test]
    fn capped_weights() {
        // DS1-like counts: Q has 8 beats.
        let counts = [45_000, 950, 3_800, 415, 8];
        let w = class_weights(&counts, WeightScheme::InverseFrequency { cap: 10.0 });
        let uncapped = class_weights(
            &counts,
            WeightScheme::InverseFrequency { cap: f64::INFINITY },
        );
        assert!(uncapped[4] > 1000.0, "{}", uncapped[4]);
        assert!((w[4] / w[0] - 10.0).abs() < 1e-9);
        assert!(w[2] > w[0] && w[2] <= w[4]);
        assert!(uncapped[2] < uncapped[4]);
        let s = class_weights(&counts, WeightScheme::SqrtInverse);
        assert_eq!(s[0], 1.0);
        assert!((s[4] - (45_000f64 / 8.0).sqrt()).abs() < 1e-9);
        assert_eq!(
            class_weights(&[10, 0, 0, 0, 0], WeightScheme::default()),
            [1.0, 0.0, 0.0, 0.0, 0.0]
        );
        assert_eq!(class_weights(&[0; 5], WeightScheme::default()), [0.0; 5]);
    }

    #[test]
    fn bad_config_and_lead_rejected() {
        let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
            return;
        };
        let mut c = BeatWindowConfig {
            baseline: None,
            ..Default::default()
        };
        c.leads = vec![5];
        let e = extract_beats(db.join("100"), &c).unwrap_err();
        assert!(e.to_string().contains("lead 5"), "{e}");
        c.leads = vec![0];
        c.length = 1;
        assert!(extract_beats(db.join("100"), &c).is_err());
    }

    #[test]
    fn beats_given_a_stretch_at_a_time_get_the_same_inputs() {
        // What the chunked analysis of long recordings relies on: the state carries over.
        let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
            return;
        };
        let rec = read_record(db.join("119")).unwrap().recording;
        let config = BeatWindowConfig {
            leads: vec![0, 1],
            baseline: None,
            template: true,
            ..Default::default()
        };
        let fs = rec.frame_frequency;
        let set = read_annotations(db.join("119.atr"), Some(fs)).unwrap();
        let beats: Vec<i64> = set
            .annotations
            .iter()
            .filter(|a| a.is_beat() && a.sample < 200_000)
            .map(|a| a.sample)
            .collect();
        let whole = windows_at(&rec, &beats, &config).unwrap();
        let leads = prepare_leads(&rec, &config).unwrap();
        let part = |lo: usize, hi: usize| {
            PreparedLeads(
                leads
                    .0
                    .iter()
                    .map(|(x, spf)| (x[lo..hi].to_vec(), *spf))
                    .collect(),
            )
        };
        // Two overlapping stretches, each holding its beats' windows.
        let (a, b) = (part(0, 110_000), part(90_000, 210_000));
        let mut state = BeatInputs::new(&config).unwrap();
        let mut pieces = Vec::new();
        for (i, &s) in beats.iter().enumerate() {
            let got = if s < 100_000 {
                state.push(&a, fs, 0, i, s)
            } else {
                state.push(&b, fs, 90_000, i, s)
            };
            pieces.extend(got);
        }
        pieces.extend(state.finish());
        assert_eq!(pieces.len(), whole.len());
        assert!(whole.len() > 500);
        for ((i, (w, rr)), (w0, rr0)) in pieces.iter().zip(&whole) {
            for (x, y) in rr.iter().zip(rr0) {
                assert!((x - y).abs() < 1e-4, "beat {i}: {rr:?} vs {rr0:?}");
            }
            match (w, w0) {
                (Window::Ok(v), Window::Ok(v0)) => {
                    let d = v
                        .iter()
                        .zip(v0)
                        .map(|(x, y)| (x - y).abs())
                        .fold(0.0, f32::max);
                    assert!(d < 1e-3, "beat {i}: {d}");
                }
                (x, y) => assert_eq!(x, y, "beat {i}"),
            }
        }
    }

    #[test]
    fn record_100() {
        let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
            return;
        };
        let config = BeatWindowConfig {
            leads: vec![0, 1],
            baseline: Some(BaselineMethod::HIGH_PASS_0_5_HZ),
            ..Default::default()
        };
        let r = extract_beats(db.join("100"), &config).unwrap();
        assert_eq!(r.record, "100");
        assert_eq!(r.fs, 360.0);
        let skipped = r.skipped_edge + r.skipped_missing;
        assert_eq!(r.beats.len() + skipped, 2273);
        // The first beat (sample 18) and the last lie closer to the ends than the window.
        assert_eq!(r.skipped_edge, 2);
        assert_eq!(r.skipped_missing, 0);
        let c = class_counts(&r.beats);
        // 2239 N, 33 A (→ S), 1 V; the edge-skipped beats are normal ones.
        assert_eq!(c[1], 33);
        assert_eq!(c[2], 1);
        assert_eq!(c[0] + skipped, 2239);
        assert_eq!(c[3] + c[4], 0);
        for b in &r.beats {
            assert_eq!(b.waveform.len(), 256);
            assert!(b.waveform.iter().all(|v| v.is_finite()));
            assert!(b.rr.iter().all(|v| v.is_finite() && *v > 0.0));
        }
        // Premature atrial beats come early relative to the local rhythm.
        let s: Vec<_> = r.beats.iter().filter(|b| b.class == AamiClass::S).collect();
        let early = s.iter().filter(|b| b.rr[4] < 1.0).count();
        assert!(early * 10 >= s.len() * 9, "{early} of {}", s.len());
        // The single PVC (sample 546792) is premature, followed by a compensatory pause.
        let v = r.beats.iter().find(|b| b.class == AamiClass::V).unwrap();
        assert_eq!((v.sample, v.symbol.as_str()), (546_792, "V"));
        assert!(
            v.rr[4] < 0.8 && v.rr[6] < 0.8 && v.rr[5] > 1.2,
            "{:?}",
            v.rr
        );
        let n_mean = r
            .beats
            .iter()
            .filter(|b| b.class == AamiClass::N)
            .map(|b| b.rr[4] as f64)
            .sum::<f64>()
            / c[0] as f64;
        assert!((n_mean - 1.0).abs() < 0.05, "{n_mean}");
        // Lead-major: the R-peak (≈ 0.25/0.65 of the window) of the z-normalised MLII lead is high.
        let peak = (0.25 / 0.65 * 127.0_f64).round() as usize;
        let n0 = r.beats.iter().find(|b| b.class == AamiClass::N).unwrap();
        assert!(n0.waveform[peak] > 2.0, "{}", n0.waveform[peak]);
    }
}
