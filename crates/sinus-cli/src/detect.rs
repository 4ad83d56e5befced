//! `sinus detect REC [--detector NAME] [--out ANNOTATOR]`: find every heartbeat and write them as
//! a WFDB annotation file beside the record.

use crate::progress::Progress;
use crate::record_arg::RecordArgs;
use crate::CliResult;
use clap::{Args, ValueEnum};
use sinus_io::wfdb::annotation::{codes, write_annotations, Annotation, EncodeOptions};
use sinus_io::Error;
use sinus_signal::detect::{detect_qrs, QrsDetectorKind};
use std::path::PathBuf;

/// QRS detectors selectable on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DetectorArg {
    /// Whole-record, two-lead offline detector (the most accurate).
    Offline,
    /// The device's streaming detector at the record's sampling rate.
    Streaming,
    /// The streaming detector on the record resampled to 250 Hz (as on the device).
    #[value(name = "streaming-250")]
    Streaming250,
}

impl DetectorArg {
    /// The library's detector.
    pub fn kind(self) -> QrsDetectorKind {
        match self {
            DetectorArg::Offline => QrsDetectorKind::Offline,
            DetectorArg::Streaming => QrsDetectorKind::Streaming,
            DetectorArg::Streaming250 => QrsDetectorKind::Streaming250,
        }
    }
}

/// Arguments of `sinus detect`.
#[derive(Debug, Args)]
pub struct DetectArgs {
    #[command(flatten)]
    pub record: RecordArgs,
    /// Which detector.
    #[arg(long, short, value_enum, default_value = "offline")]
    pub detector: DetectorArg,
    /// Lead used by the streaming detectors (0 = first signal).
    #[arg(long, default_value_t = 0)]
    pub channel: usize,
    /// Annotator name: the file written is REC.ANNOTATOR beside the record.
    #[arg(long, default_value = "qrs")]
    pub out: String,
    /// Write the annotation file here instead (full path).
    #[arg(long)]
    pub out_file: Option<PathBuf>,
}

/// Run `sinus detect`.
pub fn run(args: DetectArgs, progress: &Progress) -> CliResult {
    if args.out.is_empty()
        || !args
            .out
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(format!(
            "--out {:?}: an annotator name is letters, digits and '_'",
            args.out
        )
        .into());
    }
    let opened = args.record.open(progress)?;
    let spinner = progress.spinner(&format!("detecting beats ({:?})", args.detector));
    let beats = detect_qrs(&opened.recording, args.channel, args.detector.kind())?;
    spinner.finish_and_clear();
    let path = match (&args.out_file, &args.record.record) {
        (Some(p), _) => p.clone(),
        (None, Some(rec)) => {
            let base = match rec.extension().and_then(|e| e.to_str()) {
                Some("hea" | "dat" | "atr" | "edf" | "csv" | "tsv" | "txt") => {
                    rec.with_extension("")
                }
                _ => rec.clone(),
            };
            let mut s = base.into_os_string();
            s.push(".");
            s.push(&args.out);
            PathBuf::from(s)
        }
        (None, None) => PathBuf::from(format!("demo.{}", args.out)),
    };
    let annotations: Vec<Annotation> = beats
        .iter()
        .map(|&s| Annotation::new(s, codes::NORMAL))
        .collect();
    write_annotations(&path, &annotations, &EncodeOptions::default())
        .map_err(|e: Error| e.in_file(&path))?;
    let rec = &opened.recording;
    let minutes = rec.duration_seconds() / 60.0;
    println!(
        "{}: {} beats in {:.1} min ({:.0} /min mean) -> {}",
        rec.name,
        beats.len(),
        minutes,
        if minutes > 0.0 {
            beats.len() as f64 / minutes
        } else {
            0.0
        },
        path.display()
    );
    Ok(())
}
