//! The result of analysing one recording: what the JSON report holds, field for field.
//!
//! The JSON schema is versioned ([`SCHEMA`], [`SCHEMA_VERSION`]) and documented in
//! `docs/analysis-json.md`: fields are only ever added within a version; a change of meaning or
//! a removal bumps the version.

use crate::quality::QualitySegment;
use serde::Serialize;

/// Name of the JSON document type.
pub const SCHEMA: &str = "sinus.analysis";
/// Version of the JSON schema.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything `sinus analyze` found in one recording.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Version of Sinus that wrote it.
    pub sinus_version: &'static str,
    /// The recording.
    pub record: RecordInfo,
    /// How it was analysed.
    pub settings: Settings,
    /// The headline figures.
    pub summary: Summary,
    /// Rhythm episodes, sorted by start.
    pub episodes: Vec<EpisodeOut>,
    /// Stretches of unusable signal (every lead bad).
    pub signal_quality: Vec<QualityOut>,
    /// Heart rate per 10 s (recordings up to an hour) or per minute.
    pub heart_rate_trend: Vec<TrendPoint>,
    /// Heart-rate variability on normal-to-normal intervals; None when it cannot be computed
    /// (the reason is in `limitations`).
    pub hrv: Option<serde_json::Value>,
    /// The events worth a look, most important first, each with an ECG strip in the HTML report.
    pub events: Vec<Event>,
    /// The recording's own reference annotations, when it has them.
    pub reference: Option<ReferenceSummary>,
    /// What could not be done, and why (short records, no beats, noise, ...).
    pub limitations: Vec<String>,
    /// Every beat, in time order.
    pub beats: Vec<BeatOut>,
}

/// The recording analysed.
#[derive(Debug, Clone, Serialize)]
pub struct RecordInfo {
    /// Record name.
    pub name: String,
    /// File read (None for the built-in demo).
    pub path: Option<String>,
    /// Source format (WFDB, EDF, EDF+C, CSV, demo, synthetic).
    pub format: String,
    /// Sampling (frame) frequency, Hz.
    pub fs: f64,
    /// Length in samples.
    pub samples: u64,
    /// Length in seconds.
    pub duration_s: f64,
    /// Lead names.
    pub leads: Vec<String>,
    /// Start date and time from the header, ISO 8601 without a time zone, when given.
    pub start: Option<String>,
}

/// How the recording was analysed.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// QRS detector name.
    pub detector: String,
    /// Beat classifier description.
    pub model: String,
    /// Rate at which detection ran, when the record was resampled for it (Hz).
    pub resampled_to_hz: Option<f64>,
}

/// Beats per AAMI class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[allow(non_snake_case)]
pub struct ClassCounts {
    /// Normal and bundle-branch-block beats.
    pub N: u64,
    /// Supraventricular ectopic beats.
    pub S: u64,
    /// Ventricular ectopic beats.
    pub V: u64,
    /// Fusion beats.
    pub F: u64,
    /// Unclassifiable beats.
    pub Q: u64,
}

impl ClassCounts {
    /// Count one beat of class `c`.
    pub fn add(&mut self, c: char) {
        match c {
            'N' => self.N += 1,
            'S' => self.S += 1,
            'V' => self.V += 1,
            'F' => self.F += 1,
            _ => self.Q += 1,
        }
    }

    /// All beats.
    pub fn total(&self) -> u64 {
        self.N + self.S + self.V + self.F + self.Q
    }
}

/// A heart rate at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateAt {
    /// Beats per minute.
    pub bpm: f64,
    /// When (s from the start).
    pub time_s: f64,
}

/// Counts of ectopic patterns (from the rhythm analysis).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Ectopy {
    /// Isolated ventricular ectopic beats.
    pub isolated_v: u64,
    /// Two ventricular beats in a row.
    pub v_couplets: u64,
    /// Runs of three or more ventricular beats.
    pub v_runs: u64,
    /// Isolated supraventricular ectopic beats.
    pub isolated_s: u64,
    /// Two supraventricular ectopic beats in a row.
    pub s_couplets: u64,
    /// Runs of three or more supraventricular ectopic beats.
    pub s_runs: u64,
}

/// Per rhythm kind: how often and how long.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpisodeTotals {
    /// Rhythm kind name (as in [`EpisodeOut::kind`]).
    pub kind: String,
    /// Number of episodes.
    pub count: u64,
    /// Summed duration (s).
    pub total_s: f64,
    /// Longest episode (s).
    pub longest_s: f64,
}

/// The headline figures.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Beats found.
    pub beats: u64,
    /// Beats per class.
    pub classes: ClassCounts,
    /// Mean heart rate over the usable signal (bpm).
    pub heart_rate_mean_bpm: Option<f64>,
    /// Slowest 8-beat average heart rate.
    pub heart_rate_min: Option<RateAt>,
    /// Fastest 8-beat average heart rate.
    pub heart_rate_max: Option<RateAt>,
    /// Seconds of usable signal.
    pub analysed_s: f64,
    /// Seconds of noise (every lead).
    pub noisy_s: f64,
    /// Seconds with every lead off.
    pub leads_off_s: f64,
    /// Ectopic patterns.
    pub ectopy: Ectopy,
    /// Percentage of the usable time in atrial fibrillation or flutter.
    pub af_burden_percent: f64,
    /// Per rhythm kind present.
    pub episode_totals: Vec<EpisodeTotals>,
}

/// One beat.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BeatOut {
    /// R-peak sample.
    pub sample: u64,
    /// Seconds from the start.
    pub time_s: f64,
    /// AAMI class: N, S, V, F or Q.
    pub class: char,
    /// Classifier probability of that class (None when the beat could not be classified,
    /// e.g. at the record's edges or next to missing samples).
    pub probability: Option<f32>,
    /// Interval from the previous beat (s).
    pub rr_s: Option<f64>,
}

/// One rhythm episode.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpisodeOut {
    /// Kind: `AF`, `VT`, `bigeminy`, `trigeminy`, `SVTA`, `sinus_brady`, `sinus_tachy`,
    /// `pause`, `asystole`, `noise`.
    pub kind: String,
    /// Human-readable kind.
    pub title: String,
    /// First sample.
    pub start_sample: u64,
    /// Last sample.
    pub end_sample: u64,
    /// Start (s).
    pub start_s: f64,
    /// End (s).
    pub end_s: f64,
    /// Duration (s).
    pub duration_s: f64,
    /// Beats in the episode.
    pub beats: u32,
    /// Slowest rate in it (bpm).
    pub min_rate_bpm: f32,
    /// Mean rate (bpm).
    pub mean_rate_bpm: f32,
    /// Fastest rate (bpm).
    pub max_rate_bpm: f32,
}

/// A stretch of unusable signal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QualityOut {
    /// What is wrong.
    #[serde(flatten)]
    pub segment: QualitySegment,
    /// Start (s).
    pub start_s: f64,
    /// End (s).
    pub end_s: f64,
}

/// Heart rate in one bin of the trend (10 s up to an hour of recording, a minute beyond).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrendPoint {
    /// Start of the bin (s).
    pub time_s: f64,
    /// Width of the bin (s).
    pub bin_s: f64,
    /// Mean rate (bpm) from the mean RR.
    pub mean_bpm: f64,
    /// Slowest beat-to-beat rate (bpm).
    pub min_bpm: f64,
    /// Fastest beat-to-beat rate (bpm).
    pub max_bpm: f64,
    /// Beats counted.
    pub beats: u32,
}

/// An event worth a strip.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Machine name, e.g. `worst_vt`, `longest_pause`, `af_onset`.
    pub kind: String,
    /// What a reader sees as the strip's title.
    pub title: String,
    /// Centre of the strip (s).
    pub time_s: f64,
    /// Strip start (s).
    pub strip_start_s: f64,
    /// Strip end (s).
    pub strip_end_s: f64,
}

/// The recording's own annotations, summarised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceSummary {
    /// Annotator (file extension).
    pub annotator: String,
    /// Reference beats per AAMI class.
    pub classes: ClassCounts,
    /// Reference rhythm intervals: label (e.g. `(AFIB`), start and end (s).
    pub rhythms: Vec<(String, f64, f64)>,
}
