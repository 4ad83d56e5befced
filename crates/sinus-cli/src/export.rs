//! `sinus export REC --format csv|json|wfdb|edf [--physical] [--out PATH] [--annotations-only]`.
//!
//! With `--annotations-only` (json or wfdb) the samples are not written, and a WFDB record whose
//! signal files are absent can still be exported: its header fields and annotations.

use crate::progress::Progress;
use crate::record_arg::{digital_scale, signal_fields, RecordArgs};
use crate::CliResult;
use clap::{Args, ValueEnum};
use serde_json::{json, Value};
use sinus_io::open::Opened;
use sinus_io::wfdb::annotation::{write_annotations, EncodeOptions};
use sinus_io::wfdb::format::SignalFormat;
use sinus_io::wfdb::write::write_record;
use sinus_io::{Error, MISSING};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Output formats of `sinus export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated: a time column and one column per signal.
    Csv,
    /// JSON: header fields, every sample, annotations.
    Json,
    /// A WFDB record (`--out DIR/NAME` writes `NAME.hea`, `NAME.dat` and `NAME.<annotator>`).
    Wfdb,
    /// EDF+ (`--out FILE.edf`).
    Edf,
}

/// Arguments of `sinus export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub record: RecordArgs,
    /// Output format.
    #[arg(long, short, value_enum)]
    pub format: ExportFormat,
    /// Physical units (e.g. mV) instead of digital ADC values (csv, json).
    #[arg(long)]
    pub physical: bool,
    /// Output path: a file for csv/json/edf (default: standard output for csv/json); the record
    /// path without extension for wfdb.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// WFDB storage format when writing wfdb: 16 or 212 (default: 212 if the source used it and
    /// the samples fit, else 16 if they fit, else 32).
    #[arg(long, value_parser = ["16", "212"])]
    pub wfdb_format: Option<String>,
    /// Export the annotations only, without samples: json writes the header fields and the
    /// annotations; wfdb writes only `OUT.<annotator>`. Works when the record's signal files
    /// are absent.
    #[arg(long)]
    pub annotations_only: bool,
}

/// Run `sinus export`.
pub fn run(args: ExportArgs, progress: &Progress) -> CliResult {
    // Opened even without its signal files, so that the error below can say what is missing.
    let opened = args.record.open_with(progress, true)?;
    if args.annotations_only {
        for w in &opened.warnings {
            eprintln!("warning: {w}");
        }
        return export_annotations(&opened, &args);
    }
    if !opened.has_samples() {
        let files: Vec<String> = opened
            .absent_signal_files
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        return Err(format!(
            "signal file {} absent: this export needs the samples; \
             to export the header and annotations alone add --annotations-only \
             (with --format json or wfdb)",
            files.join(", ")
        )
        .into());
    }
    for w in &opened.warnings {
        eprintln!("warning: {w}");
    }
    match args.format {
        ExportFormat::Csv => with_output(args.out.as_deref(), |w| {
            sinus_io::csv::write_csv(&mut *w, &opened.recording, args.physical, true)
        }),
        ExportFormat::Json => with_output(args.out.as_deref(), |w| {
            let v = to_json(&opened, args.physical);
            serde_json::to_writer(&mut *w, &v).map_err(|e| Error::from(std::io::Error::from(e)))?;
            writeln!(w)?;
            Ok(())
        }),
        ExportFormat::Wfdb => export_wfdb(&opened, &args),
        ExportFormat::Edf => {
            let out = args
                .out
                .as_deref()
                .ok_or("--format edf needs --out FILE.edf")?;
            // EDF+C when the source has EDF+ annotations, so that they survive.
            let warnings = if opened.edf_annotations.is_empty() {
                sinus_io::edf::write_edf(out, &opened.recording)?
            } else {
                sinus_io::edf::write_edf_plus(out, &opened.recording, &opened.edf_annotations)?
            };
            for w in warnings {
                eprintln!("warning: {w}");
            }
            Ok(())
        }
    }
}

/// `--annotations-only`: the annotations (json: with the header fields) without samples.
fn export_annotations(o: &Opened, args: &ExportArgs) -> CliResult {
    let Some(a) = &o.annotations else {
        let name = o
            .path
            .as_ref()
            .map_or_else(|| o.recording.name.clone(), |p| p.display().to_string());
        return Err(format!(
            "{name}: no annotations to export (name the annotator with -a, e.g. -a atr)"
        )
        .into());
    };
    match args.format {
        ExportFormat::Json => with_output(args.out.as_deref(), |w| {
            let mut v = to_json(o, args.physical);
            // The signals are described, their samples left out.
            if let Some(signals) = v["signals"].as_array_mut() {
                for s in signals {
                    if let Some(fields) = s.as_object_mut() {
                        fields.remove("samples");
                    }
                }
            }
            v["samples_read"] = json!(false);
            serde_json::to_writer(&mut *w, &v).map_err(|e| Error::from(std::io::Error::from(e)))?;
            writeln!(w)?;
            Ok(())
        }),
        ExportFormat::Wfdb => {
            let out = args
                .out
                .as_deref()
                .ok_or("--format wfdb needs --out DIR/NAME")?;
            let name = out_record_name(out)?;
            let dir = out
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            let path = dir.join(format!("{name}.{}", a.annotator));
            write_annotations(&path, &a.set.annotations, &EncodeOptions::default())?;
            Ok(())
        }
        ExportFormat::Csv | ExportFormat::Edf => Err(format!(
            "--annotations-only works with --format json or wfdb: {} holds samples only",
            if args.format == ExportFormat::Csv {
                "csv"
            } else {
                "edf"
            }
        )
        .into()),
    }
}

/// Run `write` on a buffered file or standard output, naming the file in errors.
fn with_output(
    out: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> sinus_io::Result<()>,
) -> CliResult {
    match out {
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
            let mut w = BufWriter::new(file);
            write(&mut w).map_err(|e| e.in_file(path))?;
            w.flush().map_err(|e| Error::io(path, e))?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = BufWriter::with_capacity(1 << 16, stdout.lock());
            match write(&mut w).and_then(|()| w.flush().map_err(Error::from)) {
                Ok(()) => {}
                // A closed pipe (e.g. `| head`) is the reader's choice, not an error.
                Err(e) if is_broken_pipe(&e) => {}
                Err(e) => return Err(e.in_file("<stdout>").into()),
            }
        }
    }
    Ok(())
}

fn is_broken_pipe(e: &Error) -> bool {
    matches!(&e.kind, sinus_io::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
}

fn to_json(o: &Opened, physical: bool) -> Value {
    let rec = &o.recording;
    let signals: Vec<Value> = rec
        .signals
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let samples: Vec<Value> = if physical {
                s.samples
                    .iter()
                    .map(|&d| {
                        if d == MISSING {
                            Value::Null
                        } else {
                            json!(s.to_physical(d))
                        }
                    })
                    .collect()
            } else {
                s.samples
                    .iter()
                    .map(|&d| if d == MISSING { Value::Null } else { json!(d) })
                    .collect()
            };
            let mut fields = signal_fields(o, i);
            fields.insert("samples".into(), Value::Array(samples));
            Value::Object(fields)
        })
        .collect();
    let mut annotations: Vec<Value> = Vec::new();
    if let Some(set) = o.annotations.as_ref().map(|a| &a.set) {
        for (k, a) in set.annotations.iter().enumerate() {
            let mut v = json!({
                "sample": a.sample,
                "symbol": a.symbol(),
                "subtype": a.subtype,
                "chan": a.chan,
                "num": a.num,
                "aux": a.aux_latin1(),
            });
            // The file's own time when it was converted to the record's rate.
            if let Some(t) = set.original_samples.get(k) {
                v["original_sample"] = json!(t);
            }
            annotations.push(v);
        }
    }
    // EDF+ annotations (text with an onset in seconds), also given as the nearest frame.
    for a in &o.edf_annotations {
        annotations.push(json!({
            "sample": (a.onset * rec.frame_frequency).round() as i64,
            "onset": a.onset,
            "duration": a.duration,
            "text": a.text,
        }));
    }
    let annotator = match &o.annotations {
        Some(a) => Some(a.annotator.clone()),
        None if !o.edf_annotations.is_empty() => Some("EDF Annotations".to_string()),
        None => None,
    };
    let set = o.annotations.as_ref().map(|a| &a.set);
    json!({
        "name": rec.name,
        "format": o.format.name(),
        "frame_frequency": rec.frame_frequency,
        "frames": rec.frames,
        "physical": physical,
        "base_datetime": rec.base_datetime,
        "info": rec.info,
        "signals": signals,
        "annotator": annotator,
        "annotation_time_resolution": set.and_then(|s| s.time_resolution),
        "annotation_times_converted": set.is_some_and(|s| s.converted),
        "annotations": annotations,
    })
}

/// The record name `--out DIR/NAME` asks for, checked up front so that the message says what a
/// WFDB record name may be (its files are `NAME.hea`, `NAME.dat`, so no extension).
fn out_record_name(out: &Path) -> Result<&str, String> {
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        let hint = name.replace(|c: char| !(c.is_ascii_alphanumeric() || c == '-'), "_");
        return Err(format!(
            "--out {}: \"{name}\" is not a WFDB record name: --format wfdb takes DIR/NAME without \
             an extension, NAME made of letters, digits, '_' and '-' (the files written are \
             NAME.hea, NAME.dat and NAME.<annotator>){}",
            out.display(),
            if hint.trim_matches('_').is_empty() {
                String::new()
            } else {
                format!("; e.g. --out {}", out.with_file_name(&hint).display())
            }
        ));
    }
    Ok(name)
}

fn export_wfdb(o: &Opened, args: &ExportArgs) -> CliResult {
    let out = args
        .out
        .as_deref()
        .ok_or("--format wfdb needs --out DIR/NAME")?;
    let name = out_record_name(out)?;
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let format = match args.wfdb_format.as_deref() {
        Some("212") => SignalFormat::Fmt212,
        Some(_) => SignalFormat::Fmt16,
        None => default_wfdb_format(o),
    };
    // Say in the header what the digital values are when they are not the source file's own.
    let mut recording = std::borrow::Cow::Borrowed(&o.recording);
    for i in 0..o.recording.signals.len() {
        let scale = digital_scale(o, i);
        if scale > 1 {
            let s = &o.recording.signals[i];
            recording.to_mut().info.push(format!(
                "sinus: signal {i} ({}) stores the EDF file's samples x {scale}, so that its \
                 non-integer EDF baseline is the whole number {} (ADC resolution {})",
                s.description, s.baseline, s.adc_resolution
            ));
        }
    }
    write_record(dir, name, &recording, format)?;
    if let Some(a) = &o.annotations {
        let path = dir.join(format!("{name}.{}", a.annotator));
        write_annotations(&path, &a.set.annotations, &EncodeOptions::default())?;
    }
    Ok(())
}

/// Keep format 212 when the source used it and every sample fits 12 bits; else format 16 when
/// every sample fits 16 bits and no signal declares more than 16 bits of ADC resolution; else
/// format 24 likewise; else format 32 (e.g. EDF signals stored exactly with 2^k scaling: a
/// reader then sees a resolution the format can hold, never 17 bits in a 16-bit file).
fn default_wfdb_format(o: &Opened) -> SignalFormat {
    let source_212 = o
        .wfdb_header
        .as_ref()
        .is_some_and(|h| !h.signals.is_empty() && h.signals.iter().all(|s| s.format == 212));
    let fits = |lo: i32, hi: i32| {
        o.recording.signals.iter().all(|s| {
            s.samples
                .iter()
                .all(|&v| v == MISSING || (lo..=hi).contains(&v))
        })
    };
    let bits = o
        .recording
        .signals
        .iter()
        .map(|s| s.adc_resolution)
        .max()
        .unwrap_or(0);
    if source_212 && fits(-2047, 2047) && bits <= 12 {
        SignalFormat::Fmt212
    } else if fits(-32767, 32767) && bits <= 16 {
        SignalFormat::Fmt16
    } else if fits(-8_388_607, 8_388_607) && bits <= 24 {
        SignalFormat::Fmt24
    } else {
        SignalFormat::Fmt32
    }
}
