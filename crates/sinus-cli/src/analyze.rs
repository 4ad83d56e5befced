//! `sinus analyze [REC|DIR] [--out DIR] [--json]`: the main job — beats, classes, rhythm
//! episodes, HRV and the reports, for one recording or every recording in a directory.

use crate::detect::DetectorArg;
use crate::engine_arg::EngineArg;
use crate::model_arg::load_model;
use crate::progress::Progress;
use crate::CliResult;
use clap::Args;
use sinus_analyze::batch::{analyze_all, recordings_in, write_outputs};
use sinus_analyze::long::{analyze_path, ChunkPolicy};
use sinus_analyze::output::{summary_text, to_json};
use sinus_analyze::pipeline::clock;
use sinus_analyze::{analyze, AnalyzeOptions, Input};
use sinus_io::csv::CsvOptions;
use sinus_io::open::OpenOptions;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Arguments of `sinus analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// A recording (WFDB record path, `.hea`, `.edf`, `.csv`) or a directory of recordings.
    /// Omitted: the built-in demo (a synthetic two-lead recording with every rhythm).
    pub input: Option<PathBuf>,
    /// Write NAME.json, NAME.beats.csv, NAME.episodes.csv, NAME.sinus (WFDB annotations) and
    /// NAME.html here.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Print the JSON analysis on standard output instead of the summary (one recording).
    #[arg(long)]
    pub json: bool,
    /// Beat classifier (`.snnm`); default: the shipped model.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// QRS detector.
    #[arg(long, short, value_enum, default_value = "offline")]
    pub detector: DetectorArg,
    /// Engine: `host` (full precision), or the device's monitor run on the host (`device`:
    /// the recording's own codes; `device-ad8232`: an AD8232-like 12-bit front end at 250 Hz).
    #[arg(long, value_enum, default_value = "host")]
    pub engine: EngineArg,
    /// WFDB annotator read as the reference (default `atr` when present).
    #[arg(long, short = 'a')]
    pub annotator: Option<String>,
    /// Sampling frequency of a CSV file without a time column.
    #[arg(long)]
    pub fs: Option<f64>,
    /// Print the time spent in each stage on standard error.
    #[arg(long)]
    pub timings: bool,
    /// Analyse a WFDB or EDF recording in chunks of this many minutes, in memory bounded by a
    /// chunk (0: in one pass, whatever the length). Default: chunks of 60 minutes for
    /// recordings longer than 75 minutes, one pass otherwise. Results match the single pass on
    /// all but a few beats (see `sinus_analyze::long`).
    #[arg(long, value_name = "MINUTES")]
    pub chunk_minutes: Option<f64>,
}

/// Run `sinus analyze`.
pub fn run(args: AnalyzeArgs, progress: &Progress) -> CliResult {
    let engine = args.engine.engine(args.model.as_deref())?;
    let device = engine != sinus_analyze::Engine::Host;
    // The device engine brings its own (int8, one-lead) model.
    let classifier = load_model(if device { None } else { args.model.as_deref() })?;
    let options = AnalyzeOptions {
        detector: args.detector.kind(),
        engine,
    };
    if let Some(dir) = args.input.as_ref().filter(|p| p.is_dir()) {
        return run_dir(dir, &args, &classifier, &options, progress);
    }
    let policy = match args.chunk_minutes {
        // The monitor streams any length in fixed memory; only the codes are held.
        _ if device => ChunkPolicy::Never,
        None => ChunkPolicy::Auto,
        Some(0.0) => ChunkPolicy::Never,
        Some(m) if m.is_finite() && m > 0.0 => ChunkPolicy::Chunks(m * 60.0),
        Some(m) => {
            return Err(format!("--chunk-minutes {m}: expected a positive number or 0").into())
        }
    };
    let read_start = std::time::Instant::now();
    let (opened, analysis, details, read_time) = match &args.input {
        None => {
            let opened = crate::record_arg::open_builtin_demo()?;
            let read_time = read_start.elapsed().as_secs_f64();
            let spinner = progress.spinner("analysing");
            let (a, d) = analyze(Input::of(&opened), &classifier, &options)?;
            spinner.finish_and_clear();
            (opened, a, d, Some(read_time))
        }
        Some(path) => {
            // Reading and analysing go together: a long recording is read a chunk at a time
            // as it is analysed (its reading time is then among the stages).
            let spinner = progress.spinner(&format!("analysing {}", path.display()));
            let open_options = OpenOptions {
                annotator: args.annotator.clone(),
                csv: CsvOptions {
                    fs: args.fs,
                    ..CsvOptions::default()
                },
                ..OpenOptions::default()
            };
            let r = analyze_path(path, &open_options, &classifier, &options, policy);
            spinner.finish_and_clear();
            let (opened, a, d) = r?;
            // The reading time is among the stages.
            (opened, a, d, None)
        }
    };
    for w in &opened.warnings {
        eprintln!("warning: {w}");
    }
    if args.json {
        crate::print_out(&to_json(&analysis))?;
    } else {
        crate::print_out(&summary_text(&analysis))?;
    }
    let write_start = std::time::Instant::now();
    if let Some(dir) = &args.out {
        let files = write_outputs(dir, &analysis, &details, Some(&opened))?;
        if !args.json {
            let names: Vec<String> = files
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect();
            eprintln!("wrote {} in {}", names.join(", "), dir.display());
        }
    }
    if args.timings {
        if let Some(read_time) = read_time {
            eprintln!("{:>20}: {:8.3} s", "reading", read_time);
        }
        for (stage, secs) in &details.timings {
            eprintln!("{stage:>20}: {secs:8.3} s");
        }
        eprintln!(
            "{:>20}: {:8.3} s",
            "reports",
            write_start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn run_dir(
    dir: &std::path::Path,
    args: &AnalyzeArgs,
    classifier: &sinus_ml::infer::Classifier,
    options: &AnalyzeOptions,
    progress: &Progress,
) -> CliResult {
    let paths = recordings_in(dir)?;
    if paths.is_empty() {
        return Err(format!(
            "{}: no recordings (.hea, .edf, .csv) in this directory",
            dir.display()
        )
        .into());
    }
    let bar = progress.bar(paths.len() as u64, "analysing");
    let tick = |p: &std::path::Path| {
        bar.set_message(
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        bar.inc(1)
    };
    let items = analyze_all(&paths, classifier, options, args.out.as_deref(), &tick);
    bar.finish_and_clear();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<12} {:>9} {:>7} {:>5} {:>5} {:>5} {:>6} {:>7} {:>5} {:>5} {:>6} {:>7}",
        "record", "duration", "beats", "HR", "min", "max", "V", "S", "VT", "pause", "AF %", "noise"
    );
    let mut failed = 0;
    for item in &items {
        let name = item
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match &item.result {
            Ok(a) => {
                let m = &a.summary;
                let count = |k: &str| {
                    m.episode_totals
                        .iter()
                        .find(|t| t.kind == k)
                        .map_or(0, |t| t.count)
                };
                let r = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0}"));
                let _ = writeln!(
                    s,
                    "{:<12} {:>9} {:>7} {:>5} {:>5} {:>5} {:>6} {:>7} {:>5} {:>5} {:>6.1} {:>7}",
                    name,
                    clock(a.record.duration_s),
                    m.beats,
                    r(m.heart_rate_mean_bpm),
                    r(m.heart_rate_min.map(|x| x.bpm)),
                    r(m.heart_rate_max.map(|x| x.bpm)),
                    m.classes.V,
                    m.classes.S,
                    count("VT"),
                    count("pause"),
                    m.af_burden_percent,
                    clock(m.noisy_s + m.leads_off_s)
                );
            }
            Err(e) => {
                failed += 1;
                let _ = writeln!(s, "{name:<12} error: {e}");
            }
        }
    }
    let _ = writeln!(
        s,
        "{} recording(s) analysed, {failed} failed{}",
        items.len() - failed,
        args.out
            .as_ref()
            .map(|d| format!("; reports in {}", d.display()))
            .unwrap_or_default()
    );
    crate::print_out(&s)?;
    if failed > 0 {
        return Err(format!(
            "{failed} of {} recordings could not be analysed",
            items.len()
        )
        .into());
    }
    Ok(())
}
