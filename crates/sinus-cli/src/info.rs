//! `sinus info REC [--json]`: header summary and annotation counts by symbol. A WFDB record
//! whose signal files are absent is described from its header and annotations.

use crate::progress::Progress;
use crate::record_arg::{digital_scale, is_calibrated, signal_fields, RecordArgs};
use crate::CliResult;
use clap::Args;
use serde_json::{json, Value};
use sinus_io::chunked::ChunkedReader;
use sinus_io::open::{Opened, RecordAnnotations};
use sinus_io::wfdb::annotation::count_by_symbol;
use sinus_io::MISSING;

/// Arguments of `sinus info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub record: RecordArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Run `sinus info`.
pub fn run(args: InfoArgs, progress: &Progress) -> CliResult {
    // Describing a record needs no samples: a header kept without its signal files (LTAFDB as
    // often copied) is still described.
    // WFDB and EDF records are described from their headers and scanned a stretch at a time for
    // missing samples, so that a week-long Holter record is never held in memory.
    let (opened, missing) = match open_scanned(&args.record, progress) {
        Some((opened, missing)) => (opened, Some(missing)),
        None => (args.record.open_with(progress, true)?, None),
    };
    let summary = summarize(&opened, missing.as_deref());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_table(&opened, &summary);
    }
    Ok(())
}

/// Format seconds as H:MM:SS.mmm.
fn hms(seconds: f64) -> String {
    let ms = (seconds * 1000.0).round() as u64;
    format!(
        "{}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// The record opened without samples and its missing samples per signal counted chunk by
/// chunk ([`ChunkedReader::scan`]); `None` for the demo, for files that cannot be read a stretch
/// at a time (CSV, EDF+D) and whenever that fails (absent signal files, bad header): then the
/// ordinary reader opens it, and reports any error.
fn open_scanned(record: &RecordArgs, progress: &Progress) -> Option<(Opened, Vec<u64>)> {
    let path = record.record.as_ref()?;
    let spinner = progress.spinner(&format!("reading {}", path.display()));
    let scanned = (|| {
        let reader = ChunkedReader::open(path)
            .ok()
            .filter(ChunkedReader::streams)?;
        let mut opened = reader.opened(record.annotator.as_deref()).ok()?;
        let scan = reader.scan().ok()?;
        opened.edf_annotations = scan.edf_annotations;
        opened.warnings.extend(scan.warnings);
        Some((opened, scan.missing))
    })();
    spinner.finish_and_clear();
    scanned
}

fn summarize(o: &Opened, scanned_missing: Option<&[u64]>) -> Value {
    let rec = &o.recording;
    let signals: Vec<Value> = rec
        .signals
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let spec = o.signal_specs.get(i);
            let mut fields = signal_fields(o, i);
            let missing = match scanned_missing {
                Some(m) => m.get(i).map(|&n| n as usize),
                None => o
                    .has_samples()
                    .then(|| s.samples.iter().filter(|&&v| v == MISSING).count()),
            };
            fields.insert("index".into(), json!(i));
            fields.insert(
                "sampling_frequency".into(),
                json!(rec.sampling_frequency(i)),
            );
            fields.insert(
                "samples".into(),
                json!(o
                    .has_samples()
                    .then_some(rec.frames as usize * s.samples_per_frame as usize)),
            );
            fields.insert("missing_samples".into(), json!(missing));
            fields.insert("storage_format".into(), json!(spec.map(|p| p.format)));
            fields.insert("file".into(), json!(spec.map(|p| p.file_name.clone())));
            Value::Object(fields)
        })
        .collect();
    let annotations = o.annotations.as_ref().map(|a| {
        let anns = &a.set.annotations;
        let beats = anns.iter().filter(|x| x.is_beat()).count();
        let by_symbol = count_by_symbol(anns);
        json!({
            "annotator": a.annotator,
            "total": anns.len(),
            "beats": beats,
            "by_symbol": by_symbol,
            "time_resolution": a.set.time_resolution,
            "times_converted": a.set.converted,
            "times": annotation_times_note(a, rec.frame_frequency),
        })
    });
    json!({
        "name": rec.name,
        "path": o.path.as_ref().map(|p| p.display().to_string()),
        "format": o.format.name(),
        "frame_frequency": rec.frame_frequency,
        "frames": rec.frames,
        "duration_seconds": rec.duration_seconds(),
        "base_datetime": rec.base_datetime,
        "signals": signals,
        "annotations": annotations,
        "samples_read": o.has_samples(),
        "absent_signal_files": o
            .absent_signal_files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>(),
        "edf_annotations": o.edf_annotations.len(),
        "info": rec.info,
        "warnings": o.warnings,
    })
}

/// How annotation times relate to the record's samples, in words.
fn annotation_times_note(a: &RecordAnnotations, fs: f64) -> String {
    match a.set.time_resolution {
        Some(r) if a.set.converted => format!(
            "the file counts {r} ticks per second; converted to samples at the record's {fs} Hz \
             as WFDB does (export --format json keeps each file time as original_sample)"
        ),
        Some(r) => format!("the file counts {r} ticks per second, the record's rate"),
        None => "samples of the record".to_string(),
    }
}

fn print_table(o: &Opened, summary: &Value) {
    let rec = &o.recording;
    let source = o
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "built-in demo (synthetic ECG, not a patient)".to_string());
    println!("record      {} ({}) {}", rec.name, o.format.name(), source);
    println!("signals     {}", rec.signals.len());
    println!("frequency   {} Hz", rec.frame_frequency);
    println!(
        "samples     {} per signal ({})",
        rec.frames,
        hms(rec.duration_seconds())
    );
    if let Some(dt) = &rec.base_datetime {
        let t = dt
            .time
            .map(|t| format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second));
        let d = dt
            .date
            .map(|d| format!("{:02}/{:02}/{:04}", d.day, d.month, d.year));
        println!(
            "start       {} {}",
            t.unwrap_or_default(),
            d.unwrap_or_default()
        );
    }
    if !o.has_samples() {
        // The same note as the warning, on standard output with the description it qualifies.
        for w in o.warnings.iter().filter(|w| w.contains(" absent: ")) {
            println!("note        {w}");
        }
    }
    println!();
    println!(
        "  #  {:<16} {:>6} {:>8} {:>8} {:>6} {:>4} {:>8} {:>9} {:>8}",
        "description",
        "format",
        "gain",
        "baseline",
        "units",
        "bits",
        "adc zero",
        "fs (Hz)",
        "missing"
    );
    let formats: Vec<String> = summary["signals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            s["storage_format"]
                .as_u64()
                .map(|f| f.to_string())
                .unwrap_or("-".into())
        })
        .collect();
    let mut notes = Vec::new();
    for (i, s) in rec.signals.iter().enumerate() {
        let gain = if is_calibrated(o, i) {
            s.effective_gain().to_string()
        } else {
            notes.push(format!(
                "signal {i}: uncalibrated (the header gives no gain); WFDB's default gain of {} \
                 is used for physical values",
                s.effective_gain()
            ));
            format!("{}*", s.effective_gain())
        };
        let scale = digital_scale(o, i);
        if scale > 1 {
            notes.push(format!(
                "signal {i}: digital values are the EDF file's samples × {scale} (ADC resolution \
                 {}), so that its non-integer baseline becomes the whole number {}; physical \
                 values are {}",
                s.adc_resolution,
                s.baseline,
                if scale >= 1 << 15 {
                    "exact to 2^-16 of a quantisation step"
                } else {
                    "exact"
                }
            ));
        }
        println!(
            "  {:<2} {:<16} {:>6} {:>8} {:>8} {:>6} {:>4} {:>8} {:>9} {:>8}",
            i,
            s.description,
            formats.get(i).map(String::as_str).unwrap_or("-"),
            gain,
            s.baseline,
            s.units,
            s.adc_resolution,
            s.adc_zero,
            rec.sampling_frequency(i),
            summary["signals"][i]["missing_samples"]
                .as_u64()
                .map_or_else(|| "-".to_string(), |n| n.to_string()),
        );
    }
    for n in &notes {
        println!("  note: {n}");
    }
    if let Some(a) = &o.annotations {
        let anns = &a.set.annotations;
        let beats = anns.iter().filter(|x| x.is_beat()).count();
        println!();
        println!(
            "annotations {}: {} ({} beats)",
            a.annotator,
            anns.len(),
            beats
        );
        if a.set.time_resolution.is_some() {
            println!("  times  {}", annotation_times_note(a, rec.frame_frequency));
        }
        // Most frequent first, beats apart from rhythm and other non-beat labels.
        let mut beat_counts: Vec<(&str, usize)> = Vec::new();
        let mut other_counts: Vec<(&str, usize)> = Vec::new();
        for x in anns {
            let list = if x.is_beat() {
                &mut beat_counts
            } else {
                &mut other_counts
            };
            match list.iter_mut().find(|(s, _)| *s == x.symbol()) {
                Some((_, n)) => *n += 1,
                None => list.push((x.symbol(), 1)),
            }
        }
        for (label, mut counts) in [("beats", beat_counts), ("other", other_counts)] {
            if counts.is_empty() {
                continue;
            }
            counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let text: Vec<String> = counts.iter().map(|(sym, n)| format!("{sym} {n}")).collect();
            println!("  {label:<6} {}", text.join("   "));
        }
    }
    if !o.edf_annotations.is_empty() {
        println!();
        println!("EDF+ annotations: {}", o.edf_annotations.len());
        for a in o.edf_annotations.iter().take(10) {
            println!("  {:>10.3} s  {}", a.onset, a.text);
        }
    }
    if !rec.info.is_empty() {
        println!();
        for line in &rec.info {
            println!("# {line}");
        }
    }
    for w in &o.warnings {
        eprintln!("warning: {w}");
    }
}
