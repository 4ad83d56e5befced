//! `sinus classify [REC] [--model M] [--format json|csv|wfdb] [--out PATH]`: find every beat
//! with our QRS detector and give each an AAMI class (N, S, V, F, Q) with its probability.

use crate::detect::DetectorArg;
use crate::model_arg::{describe, load_model};
use crate::progress::Progress;
use crate::record_arg::RecordArgs;
use crate::CliResult;
use clap::{Args, ValueEnum};
use serde_json::json;
use sinus_io::wfdb::annotation::{codes, write_annotations, Annotation, EncodeOptions};
use sinus_ml::dataset::{windows_at, Window};
use sinus_ml::metadata::ModelMetadata;
use sinus_signal::detect::detect_qrs;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Output formats of `sinus classify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClassifyFormat {
    /// JSON with every beat and the class counts.
    Json,
    /// One row per beat.
    Csv,
    /// A WFDB annotation file (N, A, V, F, Q codes).
    Wfdb,
}

/// Arguments of `sinus classify`.
#[derive(Debug, Args)]
pub struct ClassifyArgs {
    #[command(flatten)]
    pub record: RecordArgs,
    /// Model file (`.snnm`); default: the shipped model.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "json")]
    pub format: ClassifyFormat,
    /// Output file (default: standard output; for `wfdb`, REC.cls beside the record).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// QRS detector.
    #[arg(long, short, value_enum, default_value = "offline")]
    pub detector: DetectorArg,
}

/// The WFDB code written for a class.
fn code_of(class: char) -> u8 {
    match class {
        'N' => codes::NORMAL,
        'S' => codes::APC,
        'V' => codes::PVC,
        'F' => codes::FUSION,
        _ => codes::UNKNOWN,
    }
}

/// Run `sinus classify`.
pub fn run(args: ClassifyArgs, progress: &Progress) -> CliResult {
    let loaded = load_model(args.model.as_deref())?;
    let opened = args.record.open(progress)?;
    let rec = &opened.recording;
    let model = loaded.for_signals(rec.signals.len());
    let meta = ModelMetadata::parse(&model.metadata)?;
    let config = meta.window_config()?;
    let spinner = progress.spinner("detecting and classifying beats");
    let channel = config.leads.first().copied().unwrap_or(0);
    let peaks = detect_qrs(rec, channel, args.detector.kind())?;
    let windows = windows_at(rec, &peaks, &config)?;
    let (mut waveforms, mut features, mut ok) = (Vec::new(), Vec::new(), Vec::new());
    for (i, (w, rr)) in windows.iter().enumerate() {
        if let Window::Ok(w) = w {
            waveforms.extend_from_slice(w);
            features.extend_from_slice(rr);
            ok.push(i);
        }
    }
    let probs = model.probabilities_batch(&waveforms, &features)?;
    spinner.finish_and_clear();
    let k = model.classes.len();
    // Per beat: (class, probability, all probabilities); beats whose window leaves the
    // record cannot be classified and are called Q with no probabilities.
    let mut beats: Vec<(char, Option<&[f32]>)> = vec![('Q', None); peaks.len()];
    for (j, &i) in ok.iter().enumerate() {
        let p = &probs[j * k..(j + 1) * k];
        beats[i] = (model.classes[sinus_core::nn::argmax(p)], Some(p));
    }
    let fs = rec.frame_frequency;
    let text = match args.format {
        ClassifyFormat::Json => {
            let mut counts = serde_json::Map::new();
            for c in &model.classes {
                counts.insert(
                    c.to_string(),
                    json!(beats.iter().filter(|b| b.0 == *c).count()),
                );
            }
            let list: Vec<_> = peaks
                .iter()
                .zip(&beats)
                .map(|(&s, (c, p))| {
                    let probabilities: serde_json::Map<String, serde_json::Value> = match p {
                        Some(p) => model
                            .classes
                            .iter()
                            .zip(p.iter())
                            .map(|(c, v)| (c.to_string(), json!(v)))
                            .collect(),
                        None => serde_json::Map::new(),
                    };
                    let best = p.map(|p| p[sinus_core::nn::argmax(p)]);
                    json!({"sample": s, "time_s": s as f64 / fs, "class": c.to_string(),
                           "probability": best, "probabilities": probabilities})
                })
                .collect();
            let out = json!({"record": rec.name, "fs": fs, "model": describe(model),
                             "detector": args.detector.kind().name(), "counts": counts,
                             "beats": list});
            serde_json::to_string_pretty(&out)? + "\n"
        }
        ClassifyFormat::Csv => {
            let mut s = String::from("sample,time_s,class,probability");
            for c in &model.classes {
                let _ = write!(s, ",p_{c}");
            }
            s.push('\n');
            for (&smp, (c, p)) in peaks.iter().zip(&beats) {
                let _ = write!(s, "{smp},{:.4},{c}", smp as f64 / fs);
                match p {
                    Some(p) => {
                        let _ = write!(s, ",{:.5}", p[sinus_core::nn::argmax(p)]);
                        for v in p.iter() {
                            let _ = write!(s, ",{v:.5}");
                        }
                    }
                    None => s.push_str(&",".repeat(k + 1)),
                }
                s.push('\n');
            }
            s
        }
        ClassifyFormat::Wfdb => {
            let path = match (&args.out, &args.record.record) {
                (Some(p), _) => p.clone(),
                (None, Some(r)) => {
                    let base = match r.extension().and_then(|e| e.to_str()) {
                        Some("hea" | "dat" | "edf" | "csv") => r.with_extension(""),
                        _ => r.clone(),
                    };
                    let mut s = base.into_os_string();
                    s.push(".cls");
                    PathBuf::from(s)
                }
                (None, None) => PathBuf::from("demo.cls"),
            };
            let anns: Vec<Annotation> = peaks
                .iter()
                .zip(&beats)
                .map(|(&s, (c, _))| Annotation::new(s, code_of(*c)))
                .collect();
            write_annotations(&path, &anns, &EncodeOptions::default())
                .map_err(|e| e.in_file(&path))?;
            println!(
                "{}: {} beats classified -> {}",
                rec.name,
                anns.len(),
                path.display()
            );
            return Ok(());
        }
    };
    match &args.out {
        Some(p) => std::fs::write(p, text).map_err(|e| sinus_io::Error::io(p, e))?,
        None => crate::print_out(&text)?,
    }
    Ok(())
}
