//! `sinus eval qrs --db DIR [--detector NAME | --test-annotator ANN] [--fs HZ]
//! [--strip-seconds S] [--json]`: beat-by-beat comparison with the reference annotations, as
//! WFDB `bxb` does it (±150 ms, one-to-one).
//!
//! `--fs` runs the detector on each record resampled to another rate (as a device sampling at
//! that rate would see it); the detections are mapped back to the record's samples and scored
//! against the reference at the record's own rate.
//!
//! `--strip-seconds` scores short recordings, as a watch or a patch takes them for a spot
//! check: each record (resampled first, with `--fs`) is cut into consecutive strips of that
//! length, the last, shorter one dropped, and a fresh detector runs on each strip alone. Each
//! strip is scored with the same `bxb` rules on the interval from one match window after its
//! first sample to one match window before its last: a reference beat closer than that to an
//! edge is neither detected nor missed, and a detection there counts only when it matches a
//! scored reference beat (bxb's own handling of the start and end of a scored interval), so
//! that a beat cut by the edge counts neither for nor against the detector.

use crate::detect::DetectorArg;
use crate::progress::Progress;
use crate::CliResult;
use clap::{Args, Subcommand};
use rayon::prelude::*;
use serde::Serialize;
use sinus_eval::bxb::{BxbOptions, Reference};
use sinus_eval::stats::{QrsCounts, QrsReport, RecordResult};
use sinus_io::wfdb::annotation::read_annotations;
use sinus_io::wfdb::record::{read_record_with, ReadOptions};
use sinus_io::Error;
use sinus_signal::detect::{DetectorInput, QrsDetectorKind, DEVICE_FS};
use sinus_signal::resample::same_rate;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `sinus eval` subcommands.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// QRS detection: sensitivity (Se), positive predictivity (+P) and F1, per record and gross.
    Qrs(QrsArgs),
    /// Beat classification (AAMI N, S, V, F, Q): Se, +P, F1 per class, accuracy, macro-F1 and
    /// the confusion matrix on the de Chazal DS2 records.
    Beats(crate::eval_beats::BeatsArgs),
    /// Rhythm episodes (AF, VT, ...): episode and duration Se/+P as WFDB `epicmp`, and AF beat
    /// by beat (Se, Sp, +P, accuracy); end to end or on an annotator's beats alone.
    Rhythm(crate::eval_rhythm::RhythmArgs),
    /// QRS detector stress suite: synthetic fast rates, tall T waves, amplitude steps, rate
    /// jumps, artefact and leads-off before a tachycardia; Se/+P, re-acquisition and
    /// low-rate time per scenario, checked against the streaming detector's goals.
    Stress(crate::eval_stress::StressArgs),
}

/// Arguments of `sinus eval qrs`.
#[derive(Debug, Args)]
pub struct QrsArgs {
    /// Database directory (WFDB records with reference `atr` annotations).
    #[arg(long)]
    pub db: PathBuf,
    /// Detector to evaluate.
    #[arg(long, short, value_enum, default_value = "offline")]
    pub detector: DetectorArg,
    /// Run the detector on each record resampled to this rate (e.g. 250, 128), detections
    /// mapped back to the record's samples; default: the record's rate (250 Hz for
    /// `streaming-250`, which is `streaming --fs 250`).
    #[arg(long, value_name = "HZ", allow_negative_numbers = true)]
    pub fs: Option<f64>,
    /// Cut each record into consecutive strips of this many seconds (the last, shorter one
    /// dropped), run a fresh detector on each strip alone and score the strips; one match
    /// window at each strip edge is not scored.
    #[arg(
        long,
        value_name = "S",
        allow_negative_numbers = true,
        conflicts_with = "skip"
    )]
    pub strip_seconds: Option<f64>,
    /// Score existing annotation files (TEST_DIR/REC.ANN) instead of running a detector.
    #[arg(long, conflicts_with_all = ["fs", "strip_seconds"])]
    pub test_annotator: Option<String>,
    /// Directory of the test annotation files (default: the database directory).
    #[arg(long)]
    pub test_dir: Option<PathBuf>,
    /// Reference annotator.
    #[arg(long, default_value = "atr")]
    pub reference: String,
    /// Only these records (comma-separated); default: the database's RECORDS file.
    #[arg(long, value_delimiter = ',')]
    pub records: Option<Vec<String>>,
    /// Lead used by the streaming detectors.
    #[arg(long, default_value_t = 0)]
    pub channel: usize,
    /// Learning period excluded from the statistics, in seconds (EC57 uses 300; 0 scores whole
    /// records, as the accuracy figures in the README do).
    #[arg(long, default_value_t = 0.0)]
    pub skip: f64,
    /// Match window in seconds (bxb's default, 0.15).
    #[arg(long, default_value_t = 0.15)]
    pub window: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Worker threads (records are evaluated in parallel; default: all cores).
    #[arg(long)]
    pub jobs: Option<usize>,
}

/// The JSON `sinus eval qrs --json` prints.
#[derive(Debug, Serialize)]
struct QrsEvalOutput {
    /// Detector name, or `annotator:NAME` when scoring files.
    detector: String,
    /// Rate the detector ran at, Hz (`null` when the records have different rates).
    fs_hz: Option<f64>,
    /// Strip length (s), `null` for whole records.
    strip_seconds: Option<f64>,
    /// Strips scored, over all records (`null` for whole records).
    strips: Option<u64>,
    /// Learning period excluded (s).
    skip_s: f64,
    /// Match window (s).
    window_s: f64,
    #[serde(flatten)]
    report: QrsReport,
    /// Samples of the analysed lead(s) processed by the detector.
    samples: u64,
    /// Time spent in detection (with resampling, without scoring; summed over records, each
    /// on one thread), s.
    detect_seconds: f64,
    /// `samples / detect_seconds`.
    samples_per_second: Option<f64>,
}

/// Run `sinus eval`.
pub fn run(cmd: EvalCommand, progress: &Progress) -> CliResult {
    match cmd {
        EvalCommand::Qrs(args) => run_qrs(args, progress),
        EvalCommand::Beats(args) => crate::eval_beats::run(args, progress),
        EvalCommand::Rhythm(args) => crate::eval_rhythm::run(args, progress),
        EvalCommand::Stress(args) => crate::eval_stress::run_stress(args, progress),
    }
}

/// Record names of a database: its RECORDS file, else every `.hea` in it.
pub fn database_records(db: &Path) -> Result<Vec<String>, Error> {
    let list = db.join("RECORDS");
    if list.is_file() {
        let text = std::fs::read_to_string(&list).map_err(|e| Error::io(&list, e))?;
        return Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect());
    }
    let mut names: Vec<String> = std::fs::read_dir(db)
        .map_err(|e| Error::io(db, e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let p = e.path();
            (p.extension().is_some_and(|x| x == "hea"))
                .then(|| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .flatten()
        })
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(Error::malformed("no RECORDS file and no .hea files").in_file(db));
    }
    Ok(names)
}

/// Check a `--fs` value: a positive number of Hz (whether the resampler can reach it from a
/// record's rate is known only per record).
pub fn check_fs(fs: Option<f64>) -> CliResult {
    match fs {
        Some(f) if !(f.is_finite() && f > 0.0) => {
            Err(format!("--fs {f}: a sampling rate is a positive number of Hz").into())
        }
        _ => Ok(()),
    }
}

/// Check `--strip-seconds` against the match window: a strip must be longer than the two edge
/// margins it loses, or nothing in it would be scored.
fn check_strip_seconds(strip: Option<f64>, window: f64) -> CliResult {
    match strip {
        Some(s) if !(s.is_finite() && s > 0.0) => Err(format!(
            "--strip-seconds {s}: a strip length is a positive number of seconds"
        )
        .into()),
        Some(s) if s <= 2.0 * window => Err(format!(
            "--strip-seconds {s}: a strip must be longer than twice the match window \
             (2 × {window} s), which is not scored at its edges"
        )
        .into()),
        _ => Ok(()),
    }
}

struct RecordOutcome {
    result: RecordResult,
    samples: u64,
    seconds: f64,
    /// The rate the detector ran at (the record's for an annotator), Hz.
    fs: f64,
    /// Strips scored (0 for whole records).
    strips: u64,
}

fn run_qrs(args: QrsArgs, progress: &Progress) -> CliResult {
    check_fs(args.fs)?;
    if !(args.window.is_finite() && args.window >= 0.0) {
        return Err(format!(
            "--window {}: a match window is a number of seconds >= 0",
            args.window
        )
        .into());
    }
    check_strip_seconds(args.strip_seconds, args.window)?;
    let kind = args.detector.kind();
    if let (QrsDetectorKind::Streaming250, Some(fs)) = (kind, args.fs) {
        if !same_rate(fs, DEVICE_FS) {
            return Err(format!(
                "--detector streaming-250 runs at {DEVICE_FS} Hz, not --fs {fs} (use --detector \
                 streaming --fs {fs})"
            )
            .into());
        }
    }
    let records = match &args.records {
        Some(r) => r.clone(),
        None => database_records(&args.db)?,
    };
    let options = BxbOptions {
        window_s: args.window,
        start_s: args.skip,
        ..BxbOptions::EC57
    };
    let bar = progress.bar(records.len() as u64, "records");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .map_err(|e| format!("thread pool: {e}"))?;
    let outcomes: Vec<Result<RecordOutcome, Error>> = pool.install(|| {
        records
            .par_iter()
            .map(|rec| {
                let out = evaluate_record(&args, rec, kind, &options);
                bar.inc(1);
                out
            })
            .collect()
    });
    bar.finish_and_clear();
    let mut results = Vec::with_capacity(outcomes.len());
    let (mut samples, mut seconds, mut strips) = (0u64, 0.0f64, 0u64);
    let mut rates: Vec<f64> = Vec::new();
    for o in outcomes {
        let o = o?;
        samples += o.samples;
        seconds += o.seconds;
        strips += o.strips;
        if !rates.contains(&o.fs) {
            rates.push(o.fs);
        }
        results.push(o.result);
    }
    // One rate for the whole run, unless the records have different ones (and no --fs).
    let fs_hz = match rates[..] {
        [fs] => Some(fs),
        _ => None,
    };
    let report = QrsReport::new(results);
    let detector = match &args.test_annotator {
        Some(a) => format!("annotator:{a}"),
        None => kind.name().to_string(),
    };
    let strips = args.strip_seconds.map(|_| strips);
    if args.json {
        let out = QrsEvalOutput {
            detector,
            fs_hz,
            strip_seconds: args.strip_seconds,
            strips,
            skip_s: args.skip,
            window_s: args.window,
            report,
            samples,
            detect_seconds: seconds,
            samples_per_second: (seconds > 0.0).then(|| samples as f64 / seconds),
        };
        crate::print_out(&(serde_json::to_string_pretty(&out)? + "\n"))?;
        return Ok(());
    }
    let rate = match fs_hz {
        Some(f) => format!("{f} Hz"),
        None => "the records' rates".to_string(),
    };
    let resampled = if args.fs.is_some() || kind == QrsDetectorKind::Streaming250 {
        " (records resampled)"
    } else {
        ""
    };
    let scope = match (args.strip_seconds, strips) {
        (Some(s), Some(n)) => format!(
            "{n} strips of {s} s, a fresh detector on each ({:.0} ms at each strip edge not scored)",
            args.window * 1000.0
        ),
        _ if args.skip > 0.0 => format!("first {} s excluded", args.skip),
        _ => "whole records".into(),
    };
    let mut text = format!(
        "QRS detection: {detector} at {rate}{resampled}, ±{:.0} ms, {scope}\n",
        args.window * 1000.0
    );
    text.push_str(&report.to_string());
    if seconds > 0.0 {
        text.push_str(&format!(
            "throughput: {:.1} M samples/s per core ({} samples in {:.2} s of detection)\n",
            samples as f64 / seconds / 1e6,
            samples,
            seconds
        ));
    }
    crate::print_out(&text)?;
    Ok(())
}

fn evaluate_record(
    args: &QrsArgs,
    rec: &str,
    kind: QrsDetectorKind,
    options: &BxbOptions,
) -> Result<RecordOutcome, Error> {
    let path = args.db.join(rec);
    let reference = Reference::load(&path, &args.reference)?;
    let (counts, samples, seconds, fs, strips) = match &args.test_annotator {
        Some(ann) => {
            let dir = args.test_dir.as_deref().unwrap_or(&args.db);
            let file = dir.join(format!("{rec}.{ann}"));
            let test = read_annotations(&file, Some(reference.fs))?;
            let counts = reference.compare(&test.annotations, options)?.qrs_counts();
            (counts, 0, 0.0, reference.fs, 0)
        }
        None => {
            // The streaming detectors read one lead; the offline detector fuses the first two.
            let channels = match kind {
                QrsDetectorKind::Offline => None,
                _ => Some(vec![args.channel]),
            };
            let read = ReadOptions {
                channels,
                ..ReadOptions::default()
            };
            let record = read_record_with(&path, &read)?;
            // Only the wanted lead was read, so it is signal 0 of `record`.
            let samples: u64 = match kind {
                QrsDetectorKind::Offline => record
                    .recording
                    .signals
                    .iter()
                    .take(2)
                    .map(|s| s.samples.len() as u64)
                    .sum(),
                _ => record
                    .recording
                    .signals
                    .first()
                    .map_or(0, |s| s.samples.len() as u64),
            };
            let start = Instant::now();
            let input = DetectorInput::new(&record.recording, 0, kind, args.fs)
                .map_err(|e| e.in_file(&path))?;
            let (counts, seconds, strips) = match args.strip_seconds {
                None => {
                    let beats = input.detect_all().map_err(|e| e.in_file(&path))?;
                    let seconds = start.elapsed().as_secs_f64();
                    let counts = reference.compare_samples(beats, options)?.qrs_counts();
                    (counts, seconds, 0)
                }
                Some(strip) => {
                    let prepared = start.elapsed().as_secs_f64();
                    let (counts, seconds, strips) =
                        score_strips(&reference, &input, strip, options.window_s)
                            .map_err(|e| e.in_file(&path))?;
                    (counts, prepared + seconds, strips)
                }
            };
            (counts, samples, seconds, input.fs(), strips)
        }
    };
    Ok(RecordOutcome {
        result: RecordResult::new(rec, counts),
        samples,
        seconds,
        fs,
        strips,
    })
}

/// Run a fresh detector on each strip of `strip_s` seconds of `input` and score it (see the
/// module documentation). Returns the counts summed over the strips, the time spent detecting
/// and the number of strips scored.
fn score_strips(
    reference: &Reference,
    input: &DetectorInput,
    strip_s: f64,
    window_s: f64,
) -> Result<(QrsCounts, f64, u64), Error> {
    // Strips are cut at the detector's rate, whole samples, as the device would record them.
    let len = (strip_s * input.fs()).round() as usize;
    let fs = reference.fs;
    // The match window in samples of the reference, rounded as bxb rounds it.
    let w = (window_s * fs + 0.5) as i64;
    let (mut counts, mut seconds, mut strips) = (QrsCounts::default(), 0.0, 0u64);
    if len == 0 {
        return Ok((counts, seconds, strips));
    }
    for k in 0..input.len() / len {
        let range = k * len..(k + 1) * len;
        // First and last frame of the strip in the record.
        let first = input.to_frame(range.start as i64);
        let last = input.to_frame(range.end as i64) - 1;
        let (start, end) = (first + w, last - w);
        if end < start {
            continue;
        }
        let t0 = Instant::now();
        let beats = input.detect(range)?;
        seconds += t0.elapsed().as_secs_f64();
        // Whole samples given as seconds: bxb turns them back into the same samples.
        let options = BxbOptions {
            window_s,
            start_s: start as f64 / fs,
            end_s: Some(end as f64 / fs),
            ..BxbOptions::EC57
        };
        counts = counts.add(&reference.compare_samples(beats, &options)?.qrs_counts());
        strips += 1;
    }
    Ok((counts, seconds, strips))
}
