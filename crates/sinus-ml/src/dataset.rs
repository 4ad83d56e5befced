//! Labelled beats from WFDB records: a window around each reference R-peak, resampled to a
//! fixed length, with RR-interval features.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sinus_io::wfdb::annotation::{read_annotations, Annotation};
use sinus_io::wfdb::record::read_record;
use sinus_io::{Error, Recording, Result, ResultExt};
use sinus_signal::baseline::{remove_baseline_signal, BaselineMethod};
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
    /// Seconds of signal before the R-peak.
    pub before_s: f64,
    /// Seconds of signal after the R-peak.
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
    /// Add, for each lead, a channel holding the beat minus its local template (the
    /// point-wise median of the windows of the [`TEMPLATE_NEIGHBOURS`] beats on each side,
    /// which normal beats dominate): how this beat differs from the patient's usual beat. Morphology varies far more between
    /// patients than within one, so the difference generalises to unseen patients better
    /// than the raw shape. Channels are the leads first, then their differences.
    pub template: bool,
}

impl Default for BeatWindowConfig {
    /// −250/+400 ms, 128 points, lead 0, de Chazal baseline medians, z-normalised.
    fn default() -> Self {
        BeatWindowConfig {
            before_s: 0.25,
            after_s: 0.40,
            length: 128,
            leads: vec![0],
            baseline: Some(BaselineMethod::DE_CHAZAL),
            z_normalise: true,
            template: false,
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
}

/// Names of the entries of [`Beat::rr`], in order. Intervals are in seconds.
pub const RR_FEATURES: [&str; 8] = [
    "prev_rr",
    "next_rr",
    "local_rr",
    "record_rr",
    "prev_over_local",
    "next_over_local",
    "prev_over_record",
    "local_over_record",
];

/// How many preceding RR intervals make the local mean.
pub const LOCAL_RR_COUNT: usize = 10;

/// One labelled beat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Beat {
    /// Record name, e.g. "100".
    pub record: String,
    /// R-peak sample (frame number) in the record.
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

/// RR features of every beat annotation, from the beat times (in samples, ascending) and `fs`.
///
/// - previous/next RR: the intervals to the neighbouring beats; at the first (last) beat the
///   missing one is replaced by the other, or by the record mean if there is only one beat;
/// - local RR: mean of up to [`LOCAL_RR_COUNT`] intervals ending at this beat (the previous
///   RR included); the record mean at the first beat;
/// - record RR: mean interval over the whole record (a property of the patient, also available
///   when classifying a whole recording);
/// - ratios prev/local, next/local, prev/record, local/record: a premature beat has
///   prev/local < 1 whatever the patient's heart rate, which is what separates SVEB across
///   patients.
pub fn rr_features(beat_samples: &[i64], fs: f64) -> Vec<[f32; 8]> {
    let n = beat_samples.len();
    let rr: Vec<f64> = beat_samples
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]) as f64 / fs)
        .collect();
    let record = if rr.is_empty() {
        1.0
    } else {
        rr.iter().sum::<f64>() / rr.len() as f64
    };
    let record = if record.is_finite() && record > 0.0 {
        record
    } else {
        1.0
    };
    // Prefix sums give each local mean in O(1).
    let mut prefix = Vec::with_capacity(rr.len() + 1);
    prefix.push(0.0);
    for r in &rr {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + r);
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 1.0 };
    (0..n)
        .map(|k| {
            // rr[k - 1] is the interval ending at beat k; rr[k] the one starting there.
            let prev = k.checked_sub(1).and_then(|i| rr.get(i)).copied();
            let next = rr.get(k).copied();
            let (prev, next) = match (prev, next) {
                (Some(p), Some(q)) => (p, q),
                (Some(p), None) => (p, p),
                (None, Some(q)) => (q, q),
                (None, None) => (record, record),
            };
            let local = if k == 0 {
                record
            } else {
                let lo = k.saturating_sub(LOCAL_RR_COUNT);
                (prefix[k] - prefix[lo]) / (k - lo) as f64
            };
            [
                prev,
                next,
                local,
                record,
                ratio(prev, local),
                ratio(next, local),
                ratio(prev, record),
                ratio(local, record),
            ]
            .map(|v| v as f32)
        })
        .collect()
}

/// Linear interpolation of `x` at `length` evenly spaced positions from `start` to `end`
/// (sample units, both included). `None` if a position falls outside `x` or touches a NaN.
/// Linear rather than band-limited: the window is short and the target rate (≈ 200 Hz for
/// 128 points over 0.65 s) is close to the source rate, so aliasing is negligible.
fn interpolate(x: &[f64], start: f64, end: f64, length: usize, out: &mut Vec<f32>) -> Option<()> {
    let step = (end - start) / (length - 1) as f64;
    for j in 0..length {
        let pos = start + step * j as f64;
        let i0 = pos.floor();
        if i0 < 0.0 {
            return None;
        }
        let i0 = i0 as usize;
        let frac = pos - i0 as f64;
        let a = *x.get(i0)?;
        let v = if frac > 0.0 {
            let b = *x.get(i0 + 1)?;
            a + (b - a) * frac
        } else {
            a
        };
        if !v.is_finite() {
            return None;
        }
        out.push(v as f32);
    }
    Some(())
}

fn z_normalise(v: &mut [f32]) {
    let n = v.len() as f64;
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    let sd = var.sqrt();
    // A flat window (sd ≈ 0) is only centred: dividing would blow up noise.
    let scale = if sd > 1e-9 { 1.0 / sd } else { 1.0 };
    for x in v {
        *x = ((*x as f64 - mean) * scale) as f32;
    }
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
/// The window of each chosen lead spans `before_s` before to `after_s` after the R-peak, is
/// taken from the physical signal (baseline removed if configured) and linearly interpolated
/// to `length` points. Beats whose window leaves the record or holds a missing sample are
/// skipped and counted. RR features use all beat annotations of the record, not only the
/// kept ones, so a skipped or unclassed beat still counts as a neighbour.
pub fn extract_beats(
    record_path: impl AsRef<Path>,
    config: &BeatWindowConfig,
) -> Result<RecordBeats> {
    let record_path = record_path.as_ref();
    config.validate()?;
    let wfdb = read_record(record_path)?;
    let rec = &wfdb.recording;
    let fs = rec.frame_frequency;
    if !(fs.is_finite() && fs > 0.0) {
        return Err(
            Error::invalid(format!("frame frequency {fs} Hz is not positive")).in_file(record_path),
        );
    }
    let atr_path = with_suffix(record_path, "atr");
    let set = read_annotations(&atr_path, Some(fs))?;
    let mut beats_ann: Vec<&Annotation> = set.annotations.iter().filter(|a| a.is_beat()).collect();
    beats_ann.sort_by_key(|a| a.sample);
    let times: Vec<i64> = beats_ann.iter().map(|a| a.sample).collect();
    let rr = rr_features(&times, fs);

    let leads = prepare_leads(rec, config).in_file(record_path)?;
    let name = rec.name.clone();
    let mut out = RecordBeats {
        record: name.clone(),
        fs,
        beats: Vec::new(),
        skipped_edge: 0,
        skipped_missing: 0,
    };
    // With a template channel the median over all the record's beats (labelled or not) is
    // needed first: cut every beat, then classify.
    let windows: Vec<Window> = beats_ann
        .iter()
        .map(|ann| cut_window(&leads, fs, ann.sample, config))
        .collect();
    let windows = add_template_channels(windows, config);
    for ((ann, rr), window) in beats_ann.iter().zip(rr).zip(windows) {
        let Some(class) = AamiClass::from_symbol(set.symbol_of(ann.code)) else {
            continue;
        };
        match window {
            Window::Edge => out.skipped_edge += 1,
            Window::Missing => out.skipped_missing += 1,
            Window::Ok(waveform) => out.beats.push(Beat {
                record: name.clone(),
                sample: ann.sample,
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
pub struct PreparedLeads(Vec<(Vec<f64>, f64)>);

/// Prepare the leads of `rec` that `config` uses (see [`PreparedLeads`]).
pub fn prepare_leads(rec: &Recording, config: &BeatWindowConfig) -> Result<PreparedLeads> {
    config.validate()?;
    let fs = rec.frame_frequency;
    let mut leads = Vec::with_capacity(config.leads.len());
    for &l in &config.leads {
        let sig = rec.signals.get(l).ok_or_else(|| {
            Error::invalid(format!(
                "lead {l} asked for but the record has {} signals",
                rec.signals.len()
            ))
        })?;
        let spf = sig.samples_per_frame.max(1) as f64;
        let x = match config.baseline {
            Some(m) => remove_baseline_signal(sig, fs * spf, m)?,
            None => sig.physical_samples(),
        };
        leads.push((x, spf));
    }
    Ok(PreparedLeads(leads))
}

/// A window cut around one R-peak.
#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    /// `leads × length` values, lead-major.
    Ok(Vec<f32>),
    /// The window leaves the record.
    Edge,
    /// The window holds a missing sample.
    Missing,
}

/// Cut the window around the R-peak at frame `sample` from prepared leads (`fs`: frame rate).
pub fn cut_window(
    leads: &PreparedLeads,
    fs: f64,
    sample: i64,
    config: &BeatWindowConfig,
) -> Window {
    let mut waveform = Vec::with_capacity(config.waveform_len());
    for (x, spf) in &leads.0 {
        let centre = sample as f64 * spf;
        let start = centre - config.before_s * fs * spf;
        let end = centre + config.after_s * fs * spf;
        if start < 0.0 || end > (x.len() as f64 - 1.0) {
            return Window::Edge;
        }
        let from = waveform.len();
        if interpolate(x, start, end, config.length, &mut waveform).is_none() {
            return Window::Missing;
        }
        if config.z_normalise {
            z_normalise(&mut waveform[from..]);
        }
    }
    Window::Ok(waveform)
}

/// Windows and RR features of beats at the given R-peak frames (ascending), e.g. from a
/// QRS detector: what a classifier needs when no reference annotation exists. RR features
/// are computed from these beat times.
pub fn windows_at(
    rec: &Recording,
    r_peaks: &[i64],
    config: &BeatWindowConfig,
) -> Result<Vec<(Window, [f32; 8])>> {
    let fs = rec.frame_frequency;
    if !(fs.is_finite() && fs > 0.0) {
        return Err(Error::invalid(format!(
            "frame frequency {fs} Hz is not positive"
        )));
    }
    let leads = prepare_leads(rec, config)?;
    let rr = rr_features(r_peaks, fs);
    let windows: Vec<Window> = r_peaks
        .iter()
        .map(|&s| cut_window(&leads, fs, s, config))
        .collect();
    Ok(add_template_channels(windows, config)
        .into_iter()
        .zip(rr)
        .collect())
}

/// Neighbouring beats on each side whose median makes a beat's template.
pub const TEMPLATE_NEIGHBOURS: usize = 32;

/// Append the template-difference channels (see [`BeatWindowConfig::template`]) to every
/// cut window; windows are returned unchanged without a template.
pub fn add_template_channels(mut windows: Vec<Window>, config: &BeatWindowConfig) -> Vec<Window> {
    if !config.template {
        return windows;
    }
    let n = config.leads.len() * config.length;
    // The beats with a full window, and for each the median of its neighbours (up to
    // TEMPLATE_NEIGHBOURS each side): a local template follows the slow changes of
    // morphology through a long record (axis shifts, lead changes) that a record-wide median
    // would mistake for abnormal beats.
    let ok: Vec<usize> = (0..windows.len())
        .filter(|&i| matches!(&windows[i], Window::Ok(v) if v.len() == n))
        .collect();
    let rows: Vec<&[f32]> = ok
        .iter()
        .map(|&i| match &windows[i] {
            Window::Ok(v) => v.as_slice(),
            _ => &[],
        })
        .collect();
    let flat = template_medians(&rows, n);
    for (&i, median) in ok.iter().zip(flat.chunks_exact(n.max(1))) {
        if let Window::Ok(v) = &mut windows[i] {
            v.reserve_exact(n);
            for j in 0..n {
                let d = v[j] - median[j];
                v.push(d);
            }
        }
    }
    windows
}

/// A key of `v` whose unsigned order is [`f32::total_cmp`]'s order.
fn total_key(v: f32) -> u32 {
    let b = v.to_bits() as i32;
    ((b ^ (((b >> 31) as u32) >> 1) as i32) as u32) ^ 0x8000_0000
}

/// The value of a [`total_key`].
fn from_total_key(k: u32) -> f32 {
    let b = (k ^ 0x8000_0000) as i32;
    f32::from_bits((b ^ (((b >> 31) as u32) >> 1) as i32) as u32)
}

/// For each row `k` of `rows` (each `n` values), the point-wise median of the rows
/// `k − TEMPLATE_NEIGHBOURS ..= k + TEMPLATE_NEIGHBOURS` that exist: element `len / 2` of each
/// column in [`f32::total_cmp`] order, row after row (`rows.len() × n` values).
///
/// The window slides one row at a time, so each column is kept sorted and updated by one
/// removal and one insertion per row instead of being selected from scratch: the same
/// medians, exactly, in O(window) moves per value at worst and far fewer in practice.
fn template_medians(rows: &[&[f32]], n: usize) -> Vec<f32> {
    let len = rows.len();
    let mut out = vec![0.0f32; len * n];
    let cap = 2 * TEMPLATE_NEIGHBOURS + 1;
    // Column j's window, sorted: cols[j * cap..j * cap + m].
    let mut cols = vec![0u32; n * cap];
    let mut m = 0usize;
    let (mut lo_cur, mut hi_cur) = (0usize, 0usize);
    for k in 0..len {
        let lo = k.saturating_sub(TEMPLATE_NEIGHBOURS);
        let hi = (k + TEMPLATE_NEIGHBOURS + 1).min(len);
        while hi_cur < hi && lo_cur < lo {
            let (old, new) = (rows[lo_cur], rows[hi_cur]);
            for (j, col) in cols.chunks_exact_mut(cap).enumerate() {
                let col = &mut col[..m];
                let (ko, kn) = (total_key(old[j]), total_key(new[j]));
                let p = col.partition_point(|&v| v < ko);
                if kn > ko {
                    let q = p + col[p + 1..].partition_point(|&v| v < kn);
                    col.copy_within(p + 1..q + 1, p);
                    col[q] = kn;
                } else {
                    let q = col[..p].partition_point(|&v| v <= kn);
                    col.copy_within(q..p, q + 1);
                    col[q] = kn;
                }
            }
            lo_cur += 1;
            hi_cur += 1;
        }
        while hi_cur < hi {
            let new = rows[hi_cur];
            for (j, col) in cols.chunks_exact_mut(cap).enumerate() {
                let kn = total_key(new[j]);
                let q = col[..m].partition_point(|&v| v <= kn);
                col.copy_within(q..m, q + 1);
                col[q] = kn;
            }
            m += 1;
            hi_cur += 1;
        }
        while lo_cur < lo {
            let old = rows[lo_cur];
            for (j, col) in cols.chunks_exact_mut(cap).enumerate() {
                let ko = total_key(old[j]);
                let p = col[..m].partition_point(|&v| v < ko);
                col.copy_within(p + 1..m, p);
            }
            m -= 1;
            lo_cur += 1;
        }
        for (o, col) in out[k * n..(k + 1) * n]
            .iter_mut()
            .zip(cols.chunks_exact(cap))
        {
            *o = from_total_key(col[m / 2]);
        }
    }
    out
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
        config.validate()?;
        let db_dir = db_dir.as_ref();
        let parts: Vec<Result<RecordBeats>> = records
            .par_iter()
            .map(|r| extract_beats(db_dir.join(r.as_ref()), config))
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
    fn sliding_template_medians_equal_selection() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Few distinct values (ties), both signs, signed zeros.
            [
                (state % 7) as f32 - 3.0,
                -0.0,
                0.0,
                (state % 1000) as f32 * 1e-3,
            ][(state >> 60) as usize % 4]
        };
        for (len, n) in [
            (0usize, 3usize),
            (1, 2),
            (5, 1),
            (64, 4),
            (65, 3),
            (66, 2),
            (300, 5),
        ] {
            let data: Vec<Vec<f32>> = (0..len).map(|_| (0..n).map(|_| next()).collect()).collect();
            let rows: Vec<&[f32]> = data.iter().map(Vec::as_slice).collect();
            let got = template_medians(&rows, n);
            for k in 0..len {
                let lo = k.saturating_sub(TEMPLATE_NEIGHBOURS);
                let hi = (k + TEMPLATE_NEIGHBOURS + 1).min(len);
                for j in 0..n {
                    let mut column: Vec<f32> = data[lo..hi].iter().map(|r| r[j]).collect();
                    let mid = column.len() / 2;
                    column.select_nth_unstable_by(mid, f32::total_cmp);
                    assert_eq!(
                        got[k * n + j].to_bits(),
                        column[mid].to_bits(),
                        "len {len} k {k} j {j}"
                    );
                }
            }
        }
        for v in [
            0.0f32,
            -0.0,
            1.5,
            -1.5,
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ] {
            assert_eq!(from_total_key(total_key(v)).to_bits(), v.to_bits());
        }
    }

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
    fn rr_of_a_premature_beat() {
        // Regular 1 s rhythm at 100 Hz, beat 5 comes 0.3 s early, then a compensatory pause.
        let t = [0, 100, 200, 300, 400, 470, 600, 700];
        let f = rr_features(&t, 100.0);
        assert_eq!(f.len(), 8);
        let p = f[5];
        assert!((p[0] - 0.7).abs() < 1e-6);
        assert!((p[1] - 1.3).abs() < 1e-6);
        assert!((p[2] - 0.94).abs() < 1e-6, "local {}", p[2]); // (1+1+1+1+0.7)/5
        assert!((p[3] - 1.0).abs() < 1e-6);
        assert!(p[4] < 1.0 && p[6] < 1.0);
        assert!(p[5] > 1.0);
        // Edges: the missing interval is replaced by the other one.
        assert_eq!(f[0][0], f[0][1]);
        assert_eq!(f[7][0], f[7][1]);
        assert!(rr_features(&[], 360.0).is_empty());
        let one = rr_features(&[5], 360.0);
        assert_eq!(one[0][4], 1.0);
    }

    #[test]
    fn interpolation_and_edges() {
        let x: Vec<f64> = (0..10).map(|i| i as f64).collect();
        let mut out = Vec::new();
        interpolate(&x, 1.0, 3.0, 5, &mut out).unwrap();
        assert_eq!(out, vec![1.0, 1.5, 2.0, 2.5, 3.0]);
        assert!(interpolate(&x, -0.5, 3.0, 5, &mut out).is_none());
        assert!(interpolate(&x, 5.0, 9.5, 5, &mut Vec::new()).is_none());
        let mut y = x.clone();
        y[2] = f64::NAN;
        assert!(interpolate(&y, 1.0, 3.0, 5, &mut Vec::new()).is_none());
        let mut v = vec![1.0f32, 2.0, 3.0];
        z_normalise(&mut v);
        assert!(v.iter().sum::<f32>().abs() < 1e-6);
        let mut flat = vec![2.0f32; 4];
        z_normalise(&mut flat);
        assert_eq!(flat, vec![0.0; 4]);
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
