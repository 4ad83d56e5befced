//! `sinus eval rhythm --db DIR [--beats ANN] [--fs HZ] [--json]`: rhythm episodes scored as
//! WFDB `epicmp` scores them (episode and duration Se/+P per rhythm type, per record and
//! gross), and AF beat by beat (Se, Sp, +P, accuracy) as the AF literature reports it.
//!
//! Two modes: end to end (the whole `sinus analyze` pipeline on each record's signal,
//! optionally resampled to `--fs` first), or `--beats ANN`: the rhythm analysis alone on an
//! annotator's beats (times and, when present, labels) without any signal — how AF detectors
//! are benchmarked, and the only way to use databases shipped without signals (LTAFDB here).

use crate::detect::DetectorArg;
use crate::engine_arg::EngineArg;
use crate::model_arg::load_model;
use crate::progress::Progress;
use crate::CliResult;
use clap::Args;
use rayon::prelude::*;
use serde_json::json;
use sinus_analyze::model::EpisodeOut;
use sinus_analyze::pipeline::episodes_out;
use sinus_analyze::pipeline::resample_recording;
use sinus_analyze::rhythm::{analyze_rhythm, beats_from_annotations};
use sinus_analyze::{analyze, AnalyzeOptions, Input};
use sinus_eval::rhythm::{
    af_beat_counts, beat_samples, compare_episodes, episodes, rhythm_intervals, BeatReport,
    EpisodeOptions, Interval, RecordBeats, RecordEpisodes, Rhythm, RhythmTypeReport,
};
use sinus_io::open::{open, OpenOptions};
use sinus_io::wfdb::annotation::{read_annotations, Annotation};
use sinus_io::wfdb::header::parse_header;
use sinus_io::Error;
use sinus_signal::resample::{map_indices, same_rate};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Arguments of `sinus eval rhythm`.
#[derive(Debug, Args)]
pub struct RhythmArgs {
    /// Database directory (WFDB headers with reference rhythm annotations).
    #[arg(long)]
    pub db: PathBuf,
    /// Run the rhythm analysis on this annotator's beats (e.g. `atr`, `qrs`) instead of the
    /// whole pipeline on the signal; no signal file is read.
    #[arg(long)]
    pub beats: Option<String>,
    /// Treat the `--beats` annotator's labels as meaningless (bare detections): no beat counts
    /// as ectopic. Default: unlabelled when every beat is labelled `N`.
    #[arg(long)]
    pub unlabelled: bool,
    /// Reference annotator.
    #[arg(long, default_value = "atr")]
    pub reference: String,
    /// Only these records (comma-separated); default: the RECORDS file, or every header.
    #[arg(long, value_delimiter = ',')]
    pub records: Option<Vec<String>>,
    /// Resample each record to this rate before the end-to-end analysis (e.g. 128, 250).
    #[arg(long, value_name = "HZ", allow_negative_numbers = true)]
    pub fs: Option<f64>,
    /// Learning period excluded from the episode statistics, seconds (`epicmp`/EC57 use 300;
    /// 0 scores whole records, as AF papers and the README do).
    #[arg(long, default_value_t = 0.0)]
    pub skip: f64,
    /// QRS detector (end to end).
    #[arg(long, short, value_enum, default_value = "offline")]
    pub detector: DetectorArg,
    /// Beat classifier (end to end); default: the shipped model.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Engine of the end-to-end analysis (see `sinus analyze --engine`).
    #[arg(long, value_enum, default_value = "host")]
    pub engine: EngineArg,
    /// Print per-record tables too.
    #[arg(long)]
    pub per_record: bool,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// The rhythm types scored: (report name, reference category, our episode kind(s)).
fn rhythm_types() -> Vec<(&'static str, Vec<Rhythm>, &'static [&'static str])> {
    vec![
        ("AF", vec![Rhythm::Af], &["AF"]),
        ("AF+AFL", vec![Rhythm::Af, Rhythm::Afl], &["AF"]),
        ("VT", vec![Rhythm::Vt], &["VT"]),
        ("SVTA", vec![Rhythm::parse("SVTA")], &["SVT"]),
        ("B", vec![Rhythm::parse("B")], &["bigeminy"]),
        ("T", vec![Rhythm::parse("T")], &["trigeminy"]),
        ("SBR", vec![Rhythm::parse("SBR")], &["brady"]),
    ]
}

/// One record's material for scoring.
struct Scored {
    name: String,
    fs: f64,
    end: i64,
    reference: Vec<Annotation>,
    test: Vec<EpisodeOut>,
}

fn record_list(args: &RhythmArgs) -> CliResult<Vec<String>> {
    crate::record_arg::db_records(&args.db, args.records.as_deref())
}

/// Sampling frequency and length (samples; None when the header does not say) from a header,
/// without reading any signal file.
fn header_facts(record: &Path) -> CliResult<(f64, Option<u64>)> {
    let path = record.with_extension("hea");
    let path = if path.is_file() {
        path
    } else {
        let mut s = record.as_os_str().to_os_string();
        s.push(".hea");
        PathBuf::from(s)
    };
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let h = parse_header(&bytes).map_err(|e| e.in_file(&path))?;
    Ok((
        h.record.sampling_frequency_or_default(),
        h.record.known_samples(),
    ))
}

fn ann_path(record: &Path, annotator: &str) -> PathBuf {
    let mut s = record.as_os_str().to_os_string();
    s.push(".");
    s.push(annotator);
    PathBuf::from(s)
}

fn score_beats_only(args: &RhythmArgs, annotator: &str, name: &str) -> CliResult<Scored> {
    let record = args.db.join(name);
    let (fs, known) = header_facts(&record)?;
    let rp = ann_path(&record, &args.reference);
    let reference = read_annotations(&rp, Some(fs))
        .map_err(|e| e.in_file(&rp))?
        .annotations;
    let tp = ann_path(&record, annotator);
    let test_anns = read_annotations(&tp, Some(fs))
        .map_err(|e| e.in_file(&tp))?
        .annotations;
    let last = reference
        .iter()
        .chain(&test_anns)
        .map(|a| a.sample + 1)
        .max()
        .unwrap_or(0);
    let end = known.map(|k| k as i64).unwrap_or(last).max(0);
    let labelled = !args.unlabelled && test_anns.iter().any(|a| a.is_beat() && a.symbol() != "N");
    let beats = beats_from_annotations(&test_anns, labelled);
    let result = analyze_rhythm(&beats, &[], fs, end as u64)?;
    let test = episodes_out(&result.episodes, fs);
    Ok(Scored {
        name: name.to_string(),
        fs,
        end,
        reference,
        test,
    })
}

fn score_end_to_end(
    args: &RhythmArgs,
    classifier: &sinus_ml::infer::Classifier,
    name: &str,
) -> CliResult<Scored> {
    let record = args.db.join(name);
    let mut opened = open(
        &record,
        &OpenOptions {
            annotator: Some(args.reference.clone()),
            ..OpenOptions::default()
        },
    )?;
    let fs0 = opened.recording.frame_frequency;
    if let Some(fs) = args.fs.filter(|f| !same_rate(*f, fs0)) {
        opened.recording = resample_recording(&opened.recording, fs)?;
        if let Some(a) = opened.annotations.as_mut() {
            let samples: Vec<i64> = a.set.annotations.iter().map(|x| x.sample).collect();
            for (x, s) in a
                .set
                .annotations
                .iter_mut()
                .zip(map_indices(&samples, fs0, fs))
            {
                x.sample = s;
            }
        }
    }
    let options = AnalyzeOptions {
        detector: args.detector.kind(),
        engine: args.engine.engine(args.model.as_deref())?,
    };
    let (analysis, _) =
        analyze(Input::of(&opened), classifier, &options).map_err(|e| e.in_file(&record))?;
    let reference = opened
        .annotations
        .map(|a| a.set.annotations)
        .unwrap_or_default();
    Ok(Scored {
        name: name.to_string(),
        fs: opened.recording.frame_frequency,
        end: opened.recording.frames as i64,
        reference,
        test: analysis.episodes,
    })
}

/// Union of the episodes of several categories, merged where they touch.
fn union(mut v: Vec<Interval>) -> Vec<Interval> {
    v.sort_by_key(|i| (i.start, i.end));
    let mut out: Vec<Interval> = Vec::new();
    for i in v {
        match out.last_mut() {
            Some(last) if i.start <= last.end => last.end = last.end.max(i.end),
            _ => out.push(i),
        }
    }
    out
}

/// Run `sinus eval rhythm`.
pub fn run(args: RhythmArgs, progress: &Progress) -> CliResult {
    crate::eval::check_fs(args.fs)?;
    let names = record_list(&args)?;
    let classifier = match &args.beats {
        Some(_) => None,
        None => Some(load_model(args.model.as_deref())?),
    };
    let bar = progress.bar(names.len() as u64, "records");
    let scored: Vec<Result<Scored, String>> = names
        .par_iter()
        .map(|n| {
            let r = match (&args.beats, &classifier) {
                (Some(ann), _) => score_beats_only(&args, ann, n),
                (None, Some(c)) => score_end_to_end(&args, c, n),
                (None, None) => unreachable!("a classifier is loaded without --beats"),
            };
            bar.inc(1);
            r.map_err(|e| format!("record {n}: {e}"))
        })
        .collect();
    bar.finish_and_clear();
    let scored: Vec<Scored> = scored.into_iter().collect::<Result<_, String>>()?;

    let mut types = Vec::new();
    for (title, categories, kinds) in rhythm_types() {
        let mut records = Vec::new();
        let mut any_reference = false;
        for s in &scored {
            let intervals = rhythm_intervals(&s.reference, s.end);
            let reference = union(
                categories
                    .iter()
                    .flat_map(|c| episodes(&intervals, c))
                    .collect(),
            );
            any_reference |= !reference.is_empty();
            let test: Vec<Interval> = union(
                s.test
                    .iter()
                    .filter(|e| kinds.contains(&e.kind.as_str()))
                    .map(|e| Interval::new(e.start_sample as i64, e.end_sample as i64))
                    .collect(),
            );
            let mut opts = EpisodeOptions::whole_record(s.end);
            opts.start = (args.skip * s.fs).round() as i64;
            records.push(RecordEpisodes::new(
                s.name.clone(),
                s.fs,
                compare_episodes(&reference, &test, &opts),
            ));
        }
        let has_test = records.iter().any(|r| r.counts.tp_ppv + r.counts.fp > 0);
        if any_reference || has_test {
            types.push(RhythmTypeReport::new(title, records));
        }
    }
    // AF beat by beat (reference AF = (AFIB, as epicmp), and AF+AFL.
    let beat_report = |with_afl: bool| {
        BeatReport::new(
            scored
                .iter()
                .map(|s| {
                    let intervals = rhythm_intervals(&s.reference, s.end);
                    let mut reference = episodes(&intervals, &Rhythm::Af);
                    if with_afl {
                        reference.extend(episodes(&intervals, &Rhythm::Afl));
                    }
                    let reference = union(reference);
                    let test: Vec<Interval> = s
                        .test
                        .iter()
                        .filter(|e| e.kind == "AF")
                        .map(|e| Interval::new(e.start_sample as i64, e.end_sample as i64))
                        .collect();
                    RecordBeats::new(
                        s.name.clone(),
                        af_beat_counts(&beat_samples(&s.reference), &reference, &test),
                    )
                })
                .collect(),
        )
    };
    let af_beats = beat_report(false);
    let af_afl_beats = beat_report(true);
    let mode = match &args.beats {
        Some(a) => format!("rhythm analysis on '{a}' beats (no signal)"),
        None => {
            let engine = match args.engine {
                EngineArg::Host => format!(
                    "{} detector, {} classifier",
                    args.detector.kind().name(),
                    if args.model.is_some() {
                        "given"
                    } else {
                        "shipped"
                    }
                ),
                EngineArg::Device => "device monitor on the recorded codes".to_string(),
                EngineArg::DeviceAd8232 => {
                    "device monitor behind an AD8232-like 12-bit front end at 250 Hz".to_string()
                }
            };
            format!(
                "end to end ({engine}{})",
                args.fs
                    .map(|f| format!(", resampled to {f} Hz"))
                    .unwrap_or_default()
            )
        }
    };
    if args.json {
        let out = json!({
            "db": args.db.display().to_string(),
            "mode": mode,
            "skip_s": args.skip,
            "records": scored.len(),
            "types": types,
            "af_beats": af_beats,
            "af_afl_beats": af_afl_beats,
        });
        crate::print_out(&(serde_json::to_string_pretty(&out)? + "\n"))?;
        return Ok(());
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} records of {} — {mode}; {}",
        scored.len(),
        args.db.display(),
        if args.skip > 0.0 {
            format!("first {} s not scored", args.skip)
        } else {
            "whole records".to_string()
        }
    );
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
    let _ = writeln!(
        s,
        "\n{:<8} {:>6} {:>6} {:>8} {:>8} {:>10} {:>10} {:>11} {:>11}",
        "rhythm", "ref", "test", "ep Se", "ep +P", "dur Se", "dur +P", "ref (s)", "test (s)"
    );
    for t in &types {
        let g = &t.gross;
        let _ = writeln!(
            s,
            "{:<8} {:>6} {:>6} {:>8} {:>8} {:>10} {:>10} {:>11.0} {:>11.0}",
            t.rhythm,
            g.tp_se + g.fn_,
            g.tp_ppv + g.fp,
            pct(g.se),
            pct(g.ppv),
            pct(g.duration_se),
            pct(g.duration_ppv),
            g.ref_duration_s,
            g.test_duration_s
        );
    }
    for (title, r) in [("AF (AFIB)", &af_beats), ("AF+AFL", &af_afl_beats)] {
        let g = &r.gross;
        let _ = writeln!(
            s,
            "\nbeat by beat, {title}: Se {} Sp {} +P {} accuracy {} (TP {} FN {} FP {} TN {})",
            pct(g.se),
            pct(g.sp),
            pct(g.ppv),
            pct(g.accuracy),
            g.counts.tp,
            g.counts.fn_,
            g.counts.fp,
            g.counts.tn
        );
    }
    if args.per_record {
        for t in &types {
            let _ = writeln!(s, "\n{}: per record", t.rhythm);
            for r in t
                .records
                .iter()
                .filter(|r| r.counts.tp_se + r.counts.fn_ + r.counts.tp_ppv + r.counts.fp > 0)
            {
                let _ = writeln!(
                    s,
                    "  {:<8} ref {:>3} test {:>3}  ep Se {:>7} +P {:>7}  dur Se {:>7} +P {:>7}  ref {:>8.0} s test {:>8.0} s",
                    r.name,
                    r.counts.tp_se + r.counts.fn_,
                    r.counts.tp_ppv + r.counts.fp,
                    pct(r.se),
                    pct(r.ppv),
                    pct(r.duration_se),
                    pct(r.duration_ppv),
                    r.ref_duration_s,
                    r.test_duration_s
                );
            }
        }
    }
    crate::print_out(&s)?;
    Ok(())
}
