//! Rhythm evaluation as the field reports it: reference rhythm episodes from MIT-format rhythm
//! annotations, episode and duration sensitivity / positive predictivity by the rules of WFDB's
//! `epicmp` (the ANSI/AAMI EC38/EC57 episode-by-episode comparator), and beat-by-beat AF
//! statistics as the AF-detection literature reports them.
//!
//! # Rhythm intervals
//!
//! A rhythm change is a `+` ([`codes::RHYTHM`]) annotation whose aux text names the rhythm
//! that starts there, e.g. `(AFIB`, `(AFL`, `(VT`, `(N`. [`rhythm_intervals`] turns them into
//! intervals, each from its `+` to the next `+`. The last runs to the end of the record, or to
//! the last annotation if that lies later (as `epicmp`'s `find_episode` ends an unterminated
//! episode "at the greater of the time of the previous annotation and the end time": LTAFDB
//! record 30 has an annotation past the end of its signal).
//!
//! # Episodes of a rhythm ([`episodes`])
//!
//! `epicmp` (WFDB 10.5+, `app/epicmp.c`, "Last revised 9 May 2010") finds episodes as follows,
//! and [`Rhythm`] applies the same rule to every category:
//!
//! - **AF** starts at a `+` whose aux text begins with `(AFIB` and ends at the next `+` whose
//!   text does *not* begin with `(AFIB`; a repeated `(AFIB` inside an episode does not end it.
//!   **Atrial flutter is not AF**: a `(AFL` change ends an AF episode.
//! - **AFL** (`epicmp`'s AFLE type, used only for exclusions) is the same with prefix `(AFL`.
//! - **VF**: `epicmp`'s ventricular episodes are *not* rhythm labels: they run from a `VFON`
//!   (`[`) annotation to the next `VFOFF` (`]`) ([`vf_episodes`]); `(VFL` rhythm labels are not
//!   looked at.
//! - **VT**: `epicmp` has no VT comparison (EC57 scores ventricular runs beat by beat, with
//!   WFDB's run comparator `rxr`, from runs of `V` beat labels). Here VT episodes are `(VT`
//!   rhythm intervals, scored with the AF rules; likewise any other label ([`Rhythm::Label`],
//!   matched exactly, so that `(B` does not take in `(BII`).
//!
//! # Episode and duration statistics ([`compare_episodes`])
//!
//! As `epicmp` computes them, in two passes: for Se the reference episodes are scored against the
//! test episodes; for +P the test episodes against the reference ones. In each pass, for each
//! episode `E` of the scored annotator:
//!
//! - **Learning period** (`epicmp -f`, default 5 minutes: EC38/EC57 do not score the first
//!   5 minutes). Episodes ending before `start` are skipped; an episode beginning before `start`
//!   is cut to begin at `start` (the other annotator's episodes are only ever measured inside
//!   `E`, so they are cut too).
//! - **End** (`epicmp -t`, default the record length). Episodes beginning at or after `end` are
//!   not scored; an episode ending after `end` is cut to end there.
//! - **Minimum length** (`epicmp -i`, default 0: no minimum duration). An episode shorter than
//!   this (after the cuts) is ignored entirely: no TP/FN/FP, no duration, no overlap. With
//!   `epicmp -I` ([`EpisodeOptions::min_length_in_overlap`]) the other annotator's episodes
//!   shorter than it also contribute no overlap.
//! - **Match**: `E` counts as detected (TP) when its overlap with the other annotator's episodes
//!   is more than 0 samples, however short; else FN (Se pass) or FP (+P pass). (For ST episodes
//!   `epicmp` requires half the duration or the extremum; not for AF or VF.)
//! - **Durations**: the duration of `E` is added to the reference (Se pass) or test (+P pass)
//!   duration, and its overlap (the total length of the other annotator's episodes inside `E`)
//!   to the reference or test overlap. Duration Se = reference overlap / reference duration,
//!   duration +P = test overlap / test duration. (`epicmp` before WFDB 10.5 printed the +P
//!   pass's overlap in both; the two are equal without exclusions or minimum lengths.)
//! - **AFL exclusion** (`epicmp -x`, EC38:1998 only; off by default, as in EC38:2007 and EC57):
//!   in the AF +P pass, reference `(AFL` episodes are excluded from the test episodes: a test
//!   episode entirely inside one is ignored, and the excluded part is taken off its duration.
//!   Note: when an exclusion covers the *start* of a test episode, `epicmp` adds the excluded
//!   length to the duration instead of subtracting it (a sign slip in its code); this module
//!   subtracts it.
//!
//! Ratios are percentages, `None` when the denominator is 0 (`epicmp` prints `-`).
//!
//! # Beat-by-beat AF statistics ([`af_beat_counts`])
//!
//! Each reference beat is AF-true when it lies inside a reference AF interval and AF-positive
//! when it lies inside a test AF interval (`start <= sample < end`), giving TP/FN/FP/TN and
//! Se, Sp, +P and accuracy, over every beat given (no learning period).

use serde::{Deserialize, Serialize};
use sinus_io::wfdb::annotation::{codes, Annotation};

use crate::stats::percent;

/// A time interval in samples, `start` included, `end` excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Interval {
    /// First sample.
    pub start: i64,
    /// One past the last sample.
    pub end: i64,
}

impl Interval {
    /// The interval `[start, end)`.
    pub fn new(start: i64, end: i64) -> Self {
        Interval { start, end }
    }

    /// Its length in samples (0 for an inverted interval).
    pub fn len(&self) -> i64 {
        (self.end - self.start).max(0)
    }

    /// Whether it holds no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `sample` lies inside it.
    pub fn contains(&self, sample: i64) -> bool {
        self.start <= sample && sample < self.end
    }

    /// The number of samples it shares with `other`.
    pub fn overlap(&self, other: &Interval) -> i64 {
        (self.end.min(other.end) - self.start.max(other.start)).max(0)
    }
}

/// One rhythm interval of a record: the rhythm named by a rhythm-change annotation, from it to
/// the next rhythm change (or the end of the record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RhythmInterval {
    /// The rhythm label as stored, e.g. `(AFIB` (aux text up to its first NUL; empty when the
    /// annotation has no aux).
    pub label: String,
    /// Sample of the rhythm change.
    pub start: i64,
    /// Sample of the next rhythm change, or the end of the record.
    pub end: i64,
}

impl RhythmInterval {
    /// Its span as an [`Interval`].
    pub fn interval(&self) -> Interval {
        Interval::new(self.start, self.end)
    }
}

/// The rhythm label of a rhythm-change (`+`) annotation, `None` for other annotations.
pub fn rhythm_label(annotation: &Annotation) -> Option<String> {
    (annotation.code == codes::RHYTHM).then(|| annotation.aux_text().unwrap_or_default())
}

/// The rhythm intervals of a record's annotations (in time order, as WFDB stores them): one per
/// `+` annotation, up to the next `+`; the last up to `record_end` or the last annotation's
/// sample, whichever is later (see the module documentation). Before the first `+` there is no
/// interval.
pub fn rhythm_intervals(annotations: &[Annotation], record_end: i64) -> Vec<RhythmInterval> {
    let last_sample = annotations.iter().map(|a| a.sample).max().unwrap_or(0);
    let final_end = record_end.max(last_sample);
    let mut out: Vec<RhythmInterval> = Vec::new();
    for annotation in annotations {
        if let Some(label) = rhythm_label(annotation) {
            if let Some(previous) = out.last_mut() {
                previous.end = annotation.sample;
            }
            out.push(RhythmInterval {
                label,
                start: annotation.sample,
                end: final_end,
            });
        }
    }
    out
}

/// A rhythm category to score, with the label rule `epicmp` uses for AF extended to the others.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Rhythm {
    /// Atrial fibrillation: labels beginning with `(AFIB` (`epicmp`'s AF; `(AFL` is not AF).
    Af,
    /// Atrial flutter: labels beginning with `(AFL` (`epicmp`'s AFL exclusion type).
    Afl,
    /// Ventricular tachycardia: labels beginning with `(VT` (not an `epicmp` type).
    Vt,
    /// Any other rhythm, by its exact label, e.g. `(SVTA` or `(B`.
    Label(String),
}

impl Rhythm {
    /// Whether a rhythm label belongs to this category.
    pub fn matches(&self, label: &str) -> bool {
        match self {
            Rhythm::Af => label.starts_with("(AFIB"),
            Rhythm::Afl => label.starts_with("(AFL"),
            Rhythm::Vt => label.starts_with("(VT"),
            Rhythm::Label(l) => label == l,
        }
    }

    /// Short name for reports: `AF`, `AFL`, `VT`, or the label without its `(`.
    pub fn name(&self) -> String {
        match self {
            Rhythm::Af => "AF".to_string(),
            Rhythm::Afl => "AFL".to_string(),
            Rhythm::Vt => "VT".to_string(),
            Rhythm::Label(l) => l.trim_start_matches('(').to_string(),
        }
    }

    /// The category a user names: `AF`/`AFIB`, `AFL`, `VT` (any case), else the label itself,
    /// with a `(` added when missing (`SVTA` → `(SVTA`).
    pub fn parse(name: &str) -> Rhythm {
        let bare = name.trim().trim_start_matches('(');
        match bare.to_ascii_uppercase().as_str() {
            "AF" | "AFIB" => Rhythm::Af,
            "AFL" => Rhythm::Afl,
            "VT" => Rhythm::Vt,
            _ => Rhythm::Label(format!("({bare}")),
        }
    }
}

/// The episodes of `rhythm` in a record's rhythm intervals: runs of consecutive matching
/// intervals merged into one, as `epicmp` ends an AF episode only at a rhythm change to
/// another rhythm.
pub fn episodes(intervals: &[RhythmInterval], rhythm: &Rhythm) -> Vec<Interval> {
    let mut out: Vec<Interval> = Vec::new();
    let mut inside = false;
    for interval in intervals {
        if rhythm.matches(&interval.label) {
            match out.last_mut() {
                Some(last) if inside => last.end = interval.end,
                _ => out.push(interval.interval()),
            }
            inside = true;
        } else {
            inside = false;
        }
    }
    out
}

/// The ventricular flutter/fibrillation episodes of a record as `epicmp` finds them: from each
/// `VFON` (`[`) to the next `VFOFF` (`]`); an unterminated one ends at `record_end` or the last
/// annotation, whichever is later.
pub fn vf_episodes(annotations: &[Annotation], record_end: i64) -> Vec<Interval> {
    let last_sample = annotations.iter().map(|a| a.sample).max().unwrap_or(0);
    let mut out = Vec::new();
    let mut open: Option<i64> = None;
    for a in annotations {
        match (a.code, open) {
            (codes::VFON, None) => open = Some(a.sample),
            (codes::VFOFF, Some(start)) => {
                out.push(Interval::new(start, a.sample));
                open = None;
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        out.push(Interval::new(start, record_end.max(last_sample)));
    }
    out
}

/// The samples of the beat annotations (WFDB's `isqrs`) among `annotations`.
pub fn beat_samples(annotations: &[Annotation]) -> Vec<i64> {
    annotations
        .iter()
        .filter(|a| a.is_beat())
        .map(|a| a.sample)
        .collect()
}

/// Options of an episode comparison, in samples (`epicmp`'s `-f`, `-t`, `-i`/`-I`, `-x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpisodeOptions {
    /// Start of the scored interval (`epicmp -f`): EC57's 5 minutes by default.
    pub start: i64,
    /// End of the scored interval (`epicmp -t`), normally the record length; `None` scores to
    /// the end of the episodes.
    pub end: Option<i64>,
    /// Episodes shorter than this are ignored (`epicmp -i`); 0 by default.
    pub min_length: i64,
    /// Also ignore the other annotator's short episodes when measuring overlap (`epicmp -I`).
    pub min_length_in_overlap: bool,
    /// Exclude reference atrial flutter from the AF +P pass (`epicmp -x`, EC38:1998). Used by
    /// [`compare_record`] for [`Rhythm::Af`] only.
    pub exclude_afl_from_af_ppv: bool,
}

impl EpisodeOptions {
    /// `epicmp`'s defaults at sampling frequency `fs` for a record of `record_end` samples:
    /// the first 5 minutes (rounded to the nearest sample) not scored, no minimum length, no
    /// exclusions.
    pub fn ec57(fs: f64, record_end: i64) -> Self {
        EpisodeOptions {
            start: (300.0 * fs).round() as i64,
            end: Some(record_end),
            min_length: 0,
            min_length_in_overlap: false,
            exclude_afl_from_af_ppv: false,
        }
    }

    /// The whole record scored (`epicmp -f 0`), as AF-detection papers usually report LTAFDB
    /// and AFDB results.
    pub fn whole_record(record_end: i64) -> Self {
        EpisodeOptions {
            start: 0,
            ..EpisodeOptions::ec57(0.0, record_end)
        }
    }
}

/// Episode and duration counts of one comparison (or a sum of them), durations in samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpisodeCounts {
    /// Reference episodes overlapped by a test episode (`epicmp`'s `TPs`).
    pub tp_se: u64,
    /// Reference episodes overlapped by none.
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// Test episodes overlapping a reference episode (`epicmp`'s `TPp`).
    pub tp_ppv: u64,
    /// Test episodes overlapping none.
    pub fp: u64,
    /// Total length of the scored reference episodes.
    pub ref_duration: i64,
    /// Total length of test episodes inside them.
    pub ref_overlap: i64,
    /// Total length of the scored test episodes.
    pub test_duration: i64,
    /// Total length of reference episodes inside them.
    pub test_overlap: i64,
}

/// `100 * num / den` for durations, `None` when `den <= 0`.
fn duration_percent(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| 100.0 * num as f64 / den as f64)
}

impl EpisodeCounts {
    /// Episode sensitivity, percent.
    pub fn se(&self) -> Option<f64> {
        percent(self.tp_se, self.tp_se.saturating_add(self.fn_))
    }

    /// Episode positive predictivity, percent.
    pub fn ppv(&self) -> Option<f64> {
        percent(self.tp_ppv, self.tp_ppv.saturating_add(self.fp))
    }

    /// Duration sensitivity, percent.
    pub fn duration_se(&self) -> Option<f64> {
        duration_percent(self.ref_overlap, self.ref_duration)
    }

    /// Duration positive predictivity, percent.
    pub fn duration_ppv(&self) -> Option<f64> {
        duration_percent(self.test_overlap, self.test_duration)
    }

    /// Sum of two sets of counts (same sampling frequency).
    pub fn add(&self, other: &EpisodeCounts) -> EpisodeCounts {
        EpisodeCounts {
            tp_se: self.tp_se.saturating_add(other.tp_se),
            fn_: self.fn_.saturating_add(other.fn_),
            tp_ppv: self.tp_ppv.saturating_add(other.tp_ppv),
            fp: self.fp.saturating_add(other.fp),
            ref_duration: self.ref_duration.saturating_add(other.ref_duration),
            ref_overlap: self.ref_overlap.saturating_add(other.ref_overlap),
            test_duration: self.test_duration.saturating_add(other.test_duration),
            test_overlap: self.test_overlap.saturating_add(other.test_overlap),
        }
    }
}

/// Sorted copy of `episodes` with inverted ones dropped and overlapping ones merged: `epicmp`
/// reads one annotator's episodes from a single file, where they cannot overlap. Touching
/// episodes stay apart, as in `epicmp`.
fn normalized(episodes: &[Interval]) -> Vec<Interval> {
    let mut sorted: Vec<Interval> = episodes
        .iter()
        .copied()
        .filter(|e| e.end >= e.start)
        .collect();
    sorted.sort();
    let mut out: Vec<Interval> = Vec::with_capacity(sorted.len());
    for e in sorted {
        match out.last_mut() {
            Some(last) if e.start < last.end => last.end = last.end.max(e.end),
            _ => out.push(e),
        }
    }
    out
}

/// One pass of `epicmp`: score `scored` against `other`. Returns (matched, unmatched, duration,
/// overlap).
fn pass(
    scored: &[Interval],
    other: &[Interval],
    exclusions: &[Interval],
    opts: &EpisodeOptions,
) -> (u64, u64, i64, i64) {
    let (mut matched, mut unmatched, mut total_duration, mut total_overlap) = (0, 0, 0i64, 0i64);
    for episode in scored {
        if episode.end < opts.start {
            continue;
        }
        let mut start = episode.start.max(opts.start);
        let mut end = episode.end;
        if let Some(limit) = opts.end {
            if start >= limit {
                break;
            }
            end = end.min(limit);
        }
        let mut duration = end - start;
        for ex in exclusions {
            if end <= ex.start {
                break;
            }
            if ex.start <= start && start <= ex.end {
                if end <= ex.end {
                    // Entirely excluded.
                    duration = -1;
                    break;
                }
                duration -= ex.end - start;
                start = ex.end;
            } else if start <= ex.start && ex.start <= end {
                if ex.end < end {
                    duration -= ex.end - ex.start;
                } else {
                    duration -= end - ex.start;
                    end = ex.start;
                }
            }
        }
        if duration < opts.min_length || duration < 0 {
            continue;
        }
        total_duration += duration;
        let window = Interval::new(start, end);
        let overlap: i64 = other
            .iter()
            .filter(|o| !(opts.min_length_in_overlap && o.end - o.start < opts.min_length))
            .map(|o| window.overlap(o))
            .sum();
        if overlap > 0 {
            matched += 1;
            total_overlap += overlap;
        } else {
            unmatched += 1;
        }
    }
    (matched, unmatched, total_duration, total_overlap)
}

/// Compare test episodes with reference episodes by `epicmp`'s rules (see the module
/// documentation).
pub fn compare_episodes(
    reference: &[Interval],
    test: &[Interval],
    opts: &EpisodeOptions,
) -> EpisodeCounts {
    compare_episodes_excluding(reference, test, &[], opts)
}

/// [`compare_episodes`] with `ppv_exclusions` (reference intervals, e.g. atrial flutter for
/// `epicmp -x`) taken out of the test episodes in the +P pass.
pub fn compare_episodes_excluding(
    reference: &[Interval],
    test: &[Interval],
    ppv_exclusions: &[Interval],
    opts: &EpisodeOptions,
) -> EpisodeCounts {
    let reference = normalized(reference);
    let test = normalized(test);
    let exclusions = normalized(ppv_exclusions);
    let (tp_se, fn_, ref_duration, ref_overlap) = pass(&reference, &test, &[], opts);
    let (tp_ppv, fp, test_duration, test_overlap) = pass(&test, &reference, &exclusions, opts);
    EpisodeCounts {
        tp_se,
        fn_,
        tp_ppv,
        fp,
        ref_duration,
        ref_overlap,
        test_duration,
        test_overlap,
    }
}

/// Compare the `rhythm` episodes of a record's test annotations with its reference annotations
/// (both in samples of the record, `record_end` its length). For [`Rhythm::Af`] with
/// [`EpisodeOptions::exclude_afl_from_af_ppv`], reference `(AFL` episodes are excluded from
/// the +P pass.
pub fn compare_record(
    reference: &[Annotation],
    test: &[Annotation],
    record_end: i64,
    rhythm: &Rhythm,
    opts: &EpisodeOptions,
) -> EpisodeCounts {
    let ref_intervals = rhythm_intervals(reference, record_end);
    let test_intervals = rhythm_intervals(test, record_end);
    let exclusions = if *rhythm == Rhythm::Af && opts.exclude_afl_from_af_ppv {
        episodes(&ref_intervals, &Rhythm::Afl)
    } else {
        Vec::new()
    };
    compare_episodes_excluding(
        &episodes(&ref_intervals, rhythm),
        &episodes(&test_intervals, rhythm),
        &exclusions,
        opts,
    )
}

/// Beat-by-beat counts of a binary decision (AF or not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinaryCounts {
    /// Beats positive in both.
    pub tp: u64,
    /// Beats positive in the reference only.
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// Beats positive in the test only.
    pub fp: u64,
    /// Beats negative in both.
    pub tn: u64,
}

impl BinaryCounts {
    /// Sensitivity `TP / (TP + FN)`, percent.
    pub fn se(&self) -> Option<f64> {
        percent(self.tp, self.tp.saturating_add(self.fn_))
    }

    /// Specificity `TN / (TN + FP)`, percent.
    pub fn sp(&self) -> Option<f64> {
        percent(self.tn, self.tn.saturating_add(self.fp))
    }

    /// Positive predictivity `TP / (TP + FP)`, percent.
    pub fn ppv(&self) -> Option<f64> {
        percent(self.tp, self.tp.saturating_add(self.fp))
    }

    /// Accuracy `(TP + TN) / all`, percent.
    pub fn accuracy(&self) -> Option<f64> {
        percent(self.tp.saturating_add(self.tn), self.total())
    }

    /// Number of beats counted.
    pub fn total(&self) -> u64 {
        self.tp
            .saturating_add(self.fn_)
            .saturating_add(self.fp)
            .saturating_add(self.tn)
    }

    /// Sum of two sets of counts.
    pub fn add(&self, other: &BinaryCounts) -> BinaryCounts {
        BinaryCounts {
            tp: self.tp.saturating_add(other.tp),
            fn_: self.fn_.saturating_add(other.fn_),
            fp: self.fp.saturating_add(other.fp),
            tn: self.tn.saturating_add(other.tn),
        }
    }
}

/// Whether `sample` lies in one of `sorted` (sorted, non-overlapping intervals).
fn inside(sorted: &[Interval], sample: i64) -> bool {
    // The last interval starting at or before the sample is the only candidate.
    let i = sorted.partition_point(|iv| iv.start <= sample);
    i > 0 && sorted[i - 1].contains(sample)
}

/// Beat-by-beat AF counts: each beat (a reference beat's sample) is AF-true when inside a
/// `reference` interval and AF-positive when inside a `test` interval.
pub fn af_beat_counts(
    beat_samples: &[i64],
    reference: &[Interval],
    test: &[Interval],
) -> BinaryCounts {
    let reference = normalized(reference);
    let test = normalized(test);
    let mut counts = BinaryCounts::default();
    for &s in beat_samples {
        match (inside(&reference, s), inside(&test, s)) {
            (true, true) => counts.tp += 1,
            (true, false) => counts.fn_ += 1,
            (false, true) => counts.fp += 1,
            (false, false) => counts.tn += 1,
        }
    }
    counts
}

// ---------------------------------------------------------------------------------------------
// Reports

/// Episode results of one record for one rhythm: the counts (durations in samples) and the
/// ratios, durations also in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordEpisodes {
    /// Record name.
    pub name: String,
    /// Sampling frequency the durations are counted in.
    pub fs: f64,
    /// The counts.
    pub counts: EpisodeCounts,
    /// Episode sensitivity, percent.
    pub se: Option<f64>,
    /// Episode positive predictivity, percent.
    pub ppv: Option<f64>,
    /// Duration sensitivity, percent.
    pub duration_se: Option<f64>,
    /// Duration positive predictivity, percent.
    pub duration_ppv: Option<f64>,
    /// Reference episode duration, seconds.
    pub ref_duration_s: f64,
    /// Test episode duration, seconds.
    pub test_duration_s: f64,
}

impl RecordEpisodes {
    /// The result of record `name` (sampled at `fs`) with `counts`, ratios computed.
    pub fn new(name: impl Into<String>, fs: f64, counts: EpisodeCounts) -> Self {
        RecordEpisodes {
            name: name.into(),
            fs,
            se: counts.se(),
            ppv: counts.ppv(),
            duration_se: counts.duration_se(),
            duration_ppv: counts.duration_ppv(),
            ref_duration_s: seconds(counts.ref_duration, fs),
            test_duration_s: seconds(counts.test_duration, fs),
            counts,
        }
    }
}

/// `samples / fs`, 0 when `fs` is not a positive number.
fn seconds(samples: i64, fs: f64) -> f64 {
    if fs > 0.0 {
        samples as f64 / fs
    } else {
        0.0
    }
}

/// Gross episode statistics over records: episode counts summed, durations summed in seconds
/// (so that records of different sampling frequencies add up), ratios of the sums.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EpisodeSummary {
    /// Reference episodes detected.
    pub tp_se: u64,
    /// Reference episodes missed.
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// Test episodes confirmed.
    pub tp_ppv: u64,
    /// Test episodes false.
    pub fp: u64,
    /// Reference episode duration, seconds.
    pub ref_duration_s: f64,
    /// Test time inside reference episodes, seconds.
    pub ref_overlap_s: f64,
    /// Test episode duration, seconds.
    pub test_duration_s: f64,
    /// Reference time inside test episodes, seconds.
    pub test_overlap_s: f64,
    /// Episode sensitivity, percent.
    pub se: Option<f64>,
    /// Episode positive predictivity, percent.
    pub ppv: Option<f64>,
    /// Duration sensitivity, percent.
    pub duration_se: Option<f64>,
    /// Duration positive predictivity, percent.
    pub duration_ppv: Option<f64>,
}

impl EpisodeSummary {
    /// The gross statistics of `records`.
    pub fn of(records: &[RecordEpisodes]) -> Self {
        let mut s = EpisodeSummary::default();
        for r in records {
            let c = &r.counts;
            s.tp_se += c.tp_se;
            s.fn_ += c.fn_;
            s.tp_ppv += c.tp_ppv;
            s.fp += c.fp;
            s.ref_duration_s += seconds(c.ref_duration, r.fs);
            s.ref_overlap_s += seconds(c.ref_overlap, r.fs);
            s.test_duration_s += seconds(c.test_duration, r.fs);
            s.test_overlap_s += seconds(c.test_overlap, r.fs);
        }
        s.se = percent(s.tp_se, s.tp_se + s.fn_);
        s.ppv = percent(s.tp_ppv, s.tp_ppv + s.fp);
        let ratio = |num: f64, den: f64| (den > 0.0).then(|| 100.0 * num / den);
        s.duration_se = ratio(s.ref_overlap_s, s.ref_duration_s);
        s.duration_ppv = ratio(s.test_overlap_s, s.test_duration_s);
        s
    }
}

/// Episode results of one rhythm over a database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RhythmTypeReport {
    /// The rhythm's short name ([`Rhythm::name`]), e.g. `AF`.
    pub rhythm: String,
    /// One entry per record, in the order given.
    pub records: Vec<RecordEpisodes>,
    /// Gross statistics.
    pub gross: EpisodeSummary,
}

impl RhythmTypeReport {
    /// The report of `records` for `rhythm`, gross statistics computed.
    pub fn new(rhythm: impl Into<String>, records: Vec<RecordEpisodes>) -> Self {
        RhythmTypeReport {
            rhythm: rhythm.into(),
            gross: EpisodeSummary::of(&records),
            records,
        }
    }
}

/// Beat-by-beat AF results of one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordBeats {
    /// Record name.
    pub name: String,
    /// The counts.
    pub counts: BinaryCounts,
    /// Sensitivity, percent.
    pub se: Option<f64>,
    /// Specificity, percent.
    pub sp: Option<f64>,
    /// Positive predictivity, percent.
    pub ppv: Option<f64>,
    /// Accuracy, percent.
    pub accuracy: Option<f64>,
}

impl RecordBeats {
    /// The result of record `name` with `counts`, ratios computed.
    pub fn new(name: impl Into<String>, counts: BinaryCounts) -> Self {
        RecordBeats {
            name: name.into(),
            se: counts.se(),
            sp: counts.sp(),
            ppv: counts.ppv(),
            accuracy: counts.accuracy(),
            counts,
        }
    }
}

/// Beat-by-beat AF results over a database: per record and gross (counts summed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeatReport {
    /// One entry per record.
    pub records: Vec<RecordBeats>,
    /// Ratios of the summed counts (the name is `Gross`).
    pub gross: RecordBeats,
}

impl BeatReport {
    /// The report of `records`, gross statistics computed.
    pub fn new(records: Vec<RecordBeats>) -> Self {
        let total = records
            .iter()
            .fold(BinaryCounts::default(), |acc, r| acc.add(&r.counts));
        BeatReport {
            gross: RecordBeats::new("Gross", total),
            records,
        }
    }
}

/// Rhythm evaluation of a database: episode statistics per rhythm type and, optionally,
/// beat-by-beat AF statistics. Its `Display` is [`crate::report::format_rhythm_table`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RhythmReport {
    /// Start of the scored interval in seconds (the learning period left out, `epicmp -f`):
    /// 300 for EC57, 0 for the whole record.
    pub start_s: f64,
    /// One entry per rhythm type, in the order given.
    pub types: Vec<RhythmTypeReport>,
    /// Beat-by-beat AF statistics, when computed.
    pub af_beats: Option<BeatReport>,
}
