//! Long recordings (Holter: 24 h to 7 days) analysed in chunks, in memory bounded by a chunk.
//!
//! The single-pass [`crate::analyze`] holds every sample as `i32` and the first leads as `f64`
//! (and the detector's working signals on top): about 2.6 GB for 24 h of two leads at 250 Hz.
//! Here the recording is read a stretch at a time through [`ChunkedReader`] and only the
//! per-beat results are kept (7 days ≈ 700 000 beats, tens of MB).
//!
//! # Chunks and margins
//! The record is cut into *cores* of [`DEFAULT_CHUNK_S`] (one hour). Each core is read with a
//! [`MARGIN_S`] margin on either side (two minutes), and only what falls in the core is kept:
//!
//! - **Signal quality** is judged on the core alone. Its windows (1 s for leads-off, 5 s for
//!   noise) are aligned on the record's start and the cores are whole multiples of 5 s, so every
//!   window sees exactly the samples it sees in a single pass; stretches that touch across a
//!   core boundary are merged by the same rule ([`quality::MERGE_GAP_S`]).
//! - **Beats** are detected on core plus margins and kept when they fall in the core. The
//!   offline detector looks a few seconds around each beat (band-pass ringing, 5 s level
//!   windows, search-back over an RR gap); two minutes is far beyond that, so a core's beats
//!   are the beats a single pass finds there, up to the detector's record-wide level estimates
//!   (now chunk-wide), which move a beat only where detection is marginal anyway.
//! - **Classes** come in a second pass over the chunks, once every beat is known: the
//!   classifier's inputs are causal ([`sinus_core::beat`]: running RR means and template, one
//!   beat of look-ahead), so one [`BeatInputs`] state carries from chunk to chunk and every
//!   beat gets the inputs a single pass gives it (up to the baseline filter near chunk
//!   edges, 2 min away from any core beat).
//! - **Rhythm, HRV, summary, trend and events** come from the beats list and the bad-signal
//!   stretches at the end, through the very code the single pass runs: the rhythm state machine
//!   (streaming by design) sees every beat of the record in one run, never reset at a chunk
//!   boundary.
//! - **ECG strips** for the report are read back from the file at the events' times
//!   ([`Details::strips`]); whole leads are not kept.
//!
//! Recordings up to [`CHUNKED_ABOVE_S`] (75 min: MIT-BIH's 30-min records, the built-in demo)
//! keep the single pass, and its exact results.

use crate::model::Analysis;
use crate::pipeline::{detect, finish, AnalyzeOptions, Details, Found, Input};
use crate::quality::{self, QualitySegment, MERGE_GAP_S};
use sinus_io::chunked::ChunkedReader;
use sinus_io::open::{open, OpenOptions, Opened};
use sinus_io::{Error, Recording, Result};
use sinus_ml::dataset::{prepare_leads, BeatInput, BeatInputs, Window};
use sinus_ml::infer::Classifier;
use sinus_ml::metadata::ModelMetadata;
use std::path::Path;
use std::time::Instant;

/// Recordings longer than this (s) are analysed in chunks by default.
pub const CHUNKED_ABOVE_S: f64 = 75.0 * 60.0;
/// Default core length of a chunk (s): long enough that margins cost little (2 × 2 min on
/// 60 min: 7 %), short enough that a chunk's working memory stays near 100 MB at 250 Hz.
pub const DEFAULT_CHUNK_S: f64 = 3600.0;
/// Margin read on either side of a core (s): see the module documentation.
pub const MARGIN_S: f64 = 120.0;
/// Quality windows are aligned on multiples of this (s) from the record's start: the noise
/// window of [`quality`] (5 s, made of 1 s leads-off windows).
const QUALITY_BLOCK_S: f64 = 5.0;

/// How to cut a recording into chunks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chunking {
    /// Core length (s); rounded up to whole 5 s blocks.
    pub chunk_s: f64,
    /// Margin on either side (s).
    pub margin_s: f64,
}

impl Default for Chunking {
    fn default() -> Self {
        Chunking {
            chunk_s: DEFAULT_CHUNK_S,
            margin_s: MARGIN_S,
        }
    }
}

/// When to analyse in chunks.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum ChunkPolicy {
    /// In chunks of [`DEFAULT_CHUNK_S`] when longer than [`CHUNKED_ABOVE_S`] (and the file can
    /// be read a stretch at a time: WFDB, EDF).
    #[default]
    Auto,
    /// Always in chunks of this many seconds (WFDB, EDF).
    Chunks(f64),
    /// Always in a single pass.
    Never,
}

/// A stretch of the first leads (physical units, NaN = missing) kept for a report strip.
#[derive(Debug, Clone, PartialEq)]
pub struct Strip {
    /// First frame.
    pub start: u64,
    /// One vector per lead (at most two), all the same length.
    pub leads: Vec<Vec<f64>>,
}

impl Details {
    /// Frames `[i0, i1)` of each lead kept (one or two leads): from the whole leads when kept,
    /// else from a strip that covers the range; clipped at the end of the signal; no leads when
    /// nothing kept covers the range.
    pub fn window(&self, i0: usize, i1: usize) -> Vec<&[f64]> {
        if !self.lead0.is_empty() {
            return std::iter::once(&self.lead0)
                .chain(self.lead1.iter())
                .map(|l| {
                    let b = i1.min(l.len());
                    l.get(i0.min(b)..b).unwrap_or_default()
                })
                .collect();
        }
        let strip = self.strips.iter().find(|s| {
            let len = s.leads.first().map_or(0, Vec::len);
            s.start as usize <= i0 && i0 < s.start as usize + len
        });
        match strip {
            Some(s) => s
                .leads
                .iter()
                .map(|l| {
                    let a = i0 - s.start as usize;
                    let b = (i1.saturating_sub(s.start as usize)).min(l.len());
                    l.get(a.min(b)..b).unwrap_or_default()
                })
                .collect(),
            None => Vec::new(),
        }
    }
}

/// Open and analyse the recording at `path`, in chunks when `policy` says so (see the module
/// documentation); returns what was opened (without samples when analysed in chunks: for the
/// reports' reference annotations), the analysis and its details.
pub fn analyze_path(
    path: &Path,
    open_options: &OpenOptions,
    classifier: &Classifier,
    options: &AnalyzeOptions,
    policy: ChunkPolicy,
) -> Result<(Opened, Analysis, Details)> {
    if let Some(reader) = chunked_reader(path, open_options, policy)? {
        let chunking = match policy {
            ChunkPolicy::Chunks(s) => Chunking {
                chunk_s: s,
                ..Chunking::default()
            },
            _ => Chunking::default(),
        };
        let opened = reader.opened(open_options.annotator.as_deref())?;
        let (a, d) = analyze_chunked(&reader, Input::of(&opened), classifier, options, chunking)
            .map_err(|e| e.in_file(path))?;
        return Ok((opened, a, d));
    }
    let t = Instant::now();
    let opened = open(path, open_options)?;
    let read_s = t.elapsed().as_secs_f64();
    let (a, mut d) =
        crate::analyze(Input::of(&opened), classifier, options).map_err(|e| e.in_file(path))?;
    d.timings.insert(0, ("reading", read_s));
    Ok((opened, a, d))
}

/// The reader to analyse `path` in chunks with, or `None` for a single pass: CSV files (read
/// whole anyway), frame ranges asked for in `open_options`, [`ChunkPolicy::Never`], and under
/// [`ChunkPolicy::Auto`] recordings up to [`CHUNKED_ABOVE_S`].
fn chunked_reader(
    path: &Path,
    open_options: &OpenOptions,
    policy: ChunkPolicy,
) -> Result<Option<ChunkedReader>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    let text = matches!(ext.as_deref(), Some("csv" | "tsv" | "txt"));
    let ranged = open_options.wfdb != Default::default();
    if text || ranged || policy == ChunkPolicy::Never || !path_exists(path) {
        return Ok(None);
    }
    // Opening reads headers only (WFDB, EDF/EDF+C); a file that cannot be opened this way is
    // left to the ordinary reader, which says what is wrong with it.
    let Ok(reader) = ChunkedReader::open(path) else {
        return Ok(None);
    };
    let seconds = reader.frames() as f64 / reader.frame_frequency();
    let long = match policy {
        ChunkPolicy::Chunks(_) => true,
        _ => seconds > CHUNKED_ABOVE_S,
    };
    Ok(long.then_some(reader))
}

fn path_exists(path: &Path) -> bool {
    path.is_file() || sinus_io::wfdb::record::header_path(path).is_file()
}

/// Analyse the recording `reader` reads, in chunks (see the module documentation). `input`
/// names it: its `recording` is the metadata (`reader.metadata()` or [`ChunkedReader::opened`]),
/// its reference annotations feed the report's reference summary.
pub fn analyze_chunked(
    reader: &ChunkedReader,
    input: Input<'_>,
    classifier: &Classifier,
    options: &AnalyzeOptions,
    chunking: Chunking,
) -> Result<(Analysis, Details)> {
    let classifier = classifier.for_signals(reader.signals().len());
    let fs = reader.frame_frequency();
    let frames = reader.frames();
    if !(fs.is_finite() && fs > 0.0) {
        return Err(Error::invalid(format!(
            "sampling frequency {fs} Hz is not positive"
        )));
    }
    if reader.signals().is_empty() {
        return Err(Error::invalid("the recording has no signals"));
    }
    if let Some(s) = reader
        .signals()
        .iter()
        .position(|s| s.samples_per_frame != 1)
    {
        return Err(Error::unsupported(format!(
            "signal {s} has {} samples per frame; analysis needs one sample per frame in every lead",
            reader.signals()[s].samples_per_frame
        )));
    }
    let valid = chunking.chunk_s.is_finite()
        && chunking.chunk_s > 0.0
        && chunking.margin_s.is_finite()
        && chunking.margin_s >= 0.0;
    if !valid {
        return Err(Error::invalid(format!(
            "chunks of {} s with margins of {} s: both must be positive numbers",
            chunking.chunk_s, chunking.margin_s
        )));
    }
    let block = ((QUALITY_BLOCK_S * fs).round() as u64).max(1);
    let core = ((chunking.chunk_s * fs / block as f64).ceil() as u64).max(1) * block;
    let margin = (chunking.margin_s * fs).ceil() as u64;
    let cores: Vec<(u64, u64)> = (0..frames.div_ceil(core))
        .map(|k| (k * core, ((k + 1) * core).min(frames)))
        .collect();
    let span = |(c0, c1): (u64, u64)| (c0.saturating_sub(margin), (c1 + margin).min(frames));

    let mut timings: Vec<(&'static str, f64)> = Vec::new();
    let mut add = |name: &'static str, since: Instant| {
        let secs = since.elapsed().as_secs_f64();
        match timings.iter_mut().find(|t| t.0 == name) {
            Some(t) => t.1 += secs,
            None => timings.push((name, secs)),
        }
    };

    // Pass 1: quality of each core, beats of core plus margins kept in the core.
    let mut bad: Vec<QualitySegment> = Vec::new();
    let mut peaks: Vec<i64> = Vec::new();
    let mut resampled_to = None;
    for &(c0, c1) in &cores {
        let (lo, hi) = span((c0, c1));
        let t = Instant::now();
        let rec = reader.read(lo, hi - lo)?;
        add("reading", t);
        let t = Instant::now();
        let leads: Vec<Vec<f64>> = rec
            .signals
            .iter()
            .take(2)
            .map(|s| s.physical_samples())
            .collect();
        add("physical units", t);
        let t = Instant::now();
        let (a, b) = ((c0 - lo) as usize, (c1 - lo) as usize);
        let core_leads: Vec<Vec<f64>> = leads.iter().map(|l| l[a..b].to_vec()).collect();
        for seg in quality::assess(&core_leads, fs, c1 - c0) {
            merge_segment(&mut bad, seg, c0, fs);
        }
        drop(core_leads);
        add("signal quality", t);
        let t = Instant::now();
        let (found, r) = detect(&rec, leads, fs, options.detector)?;
        resampled_to = resampled_to.or(r);
        peaks.extend(
            found
                .into_iter()
                .map(|p| p + lo as i64)
                .filter(|&p| (c0 as i64..c1 as i64).contains(&p)),
        );
        add("beat detection", t);
    }

    // Pass 2: classes. The classifier's inputs are causal (sinus_core::beat), so one state
    // runs through the chunks in order, exactly as through a single pass.
    let meta = ModelMetadata::parse(&classifier.metadata)?;
    let config = meta.window_config()?;
    let mut state = BeatInputs::new(&config)?;
    let mut classes: Vec<(char, Option<f32>)> = vec![('Q', None); peaks.len()];
    let mut unclassified = 0usize;
    let mut ready: Vec<(usize, BeatInput)> = Vec::new();
    for &(c0, c1) in &cores {
        let (lo, hi) = span((c0, c1));
        let (core_first, core_last) = (
            peaks.partition_point(|&p| p < c0 as i64),
            peaks.partition_point(|&p| p < c1 as i64),
        );
        if core_first == core_last {
            continue;
        }
        let t = Instant::now();
        let rec = reader.read(lo, hi - lo)?;
        add("reading", t);
        let t = Instant::now();
        let leads = prepare_leads(&rec, &config)?;
        for (i, &p) in peaks.iter().enumerate().take(core_last).skip(core_first) {
            ready.extend(state.push(&leads, fs, lo as i64, i, p));
        }
        drop(leads);
        unclassified += classify_ready(&ready, classifier, &mut classes)?;
        ready.clear();
        add("beat classification", t);
    }
    ready.extend(state.finish());
    unclassified += classify_ready(&ready, classifier, &mut classes)?;
    let limitations: Vec<String> = crate::pipeline::unclassified_note(unclassified)
        .into_iter()
        .collect();
    let beats = crate::pipeline::beats_out(&peaks, &classes, fs);
    drop(peaks);

    let meta_rec = strip_samples_of(input.recording, frames);
    let input = Input {
        recording: &meta_rec,
        ..input
    };
    let (mut analysis, spectrum, tail) = finish(
        input,
        classifier,
        options,
        Found {
            beats,
            bad,
            rhythm: None,
        },
        resampled_to,
        limitations,
    )?;
    timings.extend(tail);

    // Strips for the report, read back at the events' times.
    let t = Instant::now();
    let mut strips: Vec<Strip> = Vec::new();
    for ev in &analysis.events {
        let i0 = ((ev.strip_start_s * fs).floor().max(0.0) as u64).min(frames);
        let i1 = ((ev.strip_end_s * fs).ceil().max(0.0) as u64).clamp(i0, frames);
        if strips.iter().any(|s| s.start == i0) {
            continue;
        }
        let rec = reader.read(i0, i1 - i0)?;
        strips.push(Strip {
            start: i0,
            leads: rec
                .signals
                .iter()
                .take(2)
                .map(|s| s.physical_samples())
                .collect(),
        });
    }
    timings.push(("strips", t.elapsed().as_secs_f64()));
    analysis.limitations.push(format!(
        "analysed in {} chunk(s) of {:.0} min with {:.0} s margins (long recording)",
        cores.len(),
        core as f64 / fs / 60.0,
        margin as f64 / fs
    ));
    Ok((
        analysis,
        Details {
            lead0: Vec::new(),
            lead1: None,
            spectrum,
            timings,
            strips,
        },
    ))
}

/// Classify beats whose inputs are complete; returns how many could not be (window at an
/// edge or over missing samples).
fn classify_ready(
    ready: &[(usize, BeatInput)],
    classifier: &Classifier,
    classes: &mut [(char, Option<f32>)],
) -> Result<usize> {
    let ok = crate::pipeline::classify_windows(
        classifier,
        ready.iter().filter_map(|(i, (w, rr))| match w {
            Window::Ok(w) => Some((*i, w.as_slice(), rr)),
            _ => None,
        }),
        classes,
    )?;
    Ok(ready.len() - ok)
}

/// Add a core's bad stretch (`seg`, frames from the core's start `c0`) to the record's list,
/// merging it with the last one by the rule [`quality::assess`] applies within a core.
fn merge_segment(bad: &mut Vec<QualitySegment>, seg: QualitySegment, c0: u64, fs: f64) {
    let seg = QualitySegment {
        start: seg.start + c0,
        end: seg.end + c0,
        ..seg
    };
    let merge_gap = (MERGE_GAP_S * fs) as u64;
    match bad.last_mut() {
        Some(last) if last.quality == seg.quality && seg.start <= last.end + merge_gap => {
            last.end = seg.end
        }
        _ => bad.push(seg),
    }
}

/// `rec`'s metadata without samples and with the whole length (a caller may pass a recording
/// read whole).
fn strip_samples_of(rec: &Recording, frames: u64) -> Recording {
    Recording {
        name: rec.name.clone(),
        frame_frequency: rec.frame_frequency,
        frames,
        base_datetime: rec.base_datetime,
        signals: rec
            .signals
            .iter()
            .map(|s| sinus_io::Signal {
                samples: Vec::new(),
                ..s.clone()
            })
            .collect(),
        info: rec.info.clone(),
    }
}
