//! `sinus eval qrs --db DIR [--detector NAME | --test-annotator ANN] [--json]`: beat-by-beat
//! comparison with the reference annotations, as WFDB `bxb` does it (±150 ms, one-to-one).

use crate::detect::DetectorArg;
use crate::progress::Progress;
use crate::CliResult;
use clap::{Args, Subcommand};
use rayon::prelude::*;
use serde::Serialize;
use sinus_eval::bxb::{BxbOptions, Reference};
use sinus_eval::stats::{QrsReport, RecordResult};
use sinus_io::wfdb::annotation::read_annotations;
use sinus_io::wfdb::record::{read_record_with, ReadOptions};
use sinus_io::Error;
use sinus_signal::detect::{detect_qrs, QrsDetectorKind};
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
    /// Score existing annotation files (TEST_DIR/REC.ANN) instead of running a detector.
    #[arg(long)]
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
    /// Learning period excluded (s).
    skip_s: f64,
    /// Match window (s).
    window_s: f64,
    #[serde(flatten)]
    report: QrsReport,
    /// Samples of the analysed lead(s) processed by the detector.
    samples: u64,
    /// Time spent in detection only (summed over records, each on one thread), s.
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

struct RecordOutcome {
    result: RecordResult,
    samples: u64,
    seconds: f64,
}

fn run_qrs(args: QrsArgs, progress: &Progress) -> CliResult {
    let records = match &args.records {
        Some(r) => r.clone(),
        None => database_records(&args.db)?,
    };
    let options = BxbOptions {
        window_s: args.window,
        start_s: args.skip,
        ..BxbOptions::EC57
    };
    let kind = args.detector.kind();
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
    let (mut samples, mut seconds) = (0u64, 0.0f64);
    for o in outcomes {
        let o = o?;
        samples += o.samples;
        seconds += o.seconds;
        results.push(o.result);
    }
    let report = QrsReport::new(results);
    let detector = match &args.test_annotator {
        Some(a) => format!("annotator:{a}"),
        None => kind.name().to_string(),
    };
    if args.json {
        let out = QrsEvalOutput {
            detector,
            skip_s: args.skip,
            window_s: args.window,
            report,
            samples,
            detect_seconds: seconds,
            samples_per_second: (seconds > 0.0).then(|| samples as f64 / seconds),
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "QRS detection: {detector}, ±{:.0} ms, {}",
            args.window * 1000.0,
            if args.skip > 0.0 {
                format!("first {} s excluded", args.skip)
            } else {
                "whole records".into()
            }
        );
        print!("{report}");
        if seconds > 0.0 {
            println!(
                "throughput: {:.1} M samples/s per core ({} samples in {:.2} s of detection)",
                samples as f64 / seconds / 1e6,
                samples,
                seconds
            );
        }
    }
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
    let (comparison, samples, seconds) = match &args.test_annotator {
        Some(ann) => {
            let dir = args.test_dir.as_deref().unwrap_or(&args.db);
            let file = dir.join(format!("{rec}.{ann}"));
            let test = read_annotations(&file, Some(reference.fs))?;
            (reference.compare(&test.annotations, options)?, 0, 0.0)
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
            let beats = detect_qrs(&record.recording, 0, kind).map_err(|e| e.in_file(&path))?;
            let seconds = start.elapsed().as_secs_f64();
            (reference.compare_samples(beats, options)?, samples, seconds)
        }
    };
    Ok(RecordOutcome {
        result: RecordResult::new(rec, comparison.qrs_counts()),
        samples,
        seconds,
    })
}
