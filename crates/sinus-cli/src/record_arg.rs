//! The record argument shared by subcommands: a path, or nothing for the built-in demo.

use crate::progress::Progress;
use clap::Args;
use sinus_io::csv::CsvOptions;
use sinus_io::demo::DemoParams;
use sinus_io::open::{open, open_demo, OpenOptions, Opened, SourceFormat};
use std::path::PathBuf;

/// Which recording to read.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Record: a WFDB record path without extension (`mitdb/100`), a `.hea`, `.edf` or `.csv`
    /// file. Omitted: the built-in demo recording (synthetic ECG).
    pub record: Option<PathBuf>,
    /// WFDB annotator to read with the record (default: `atr` when present).
    #[arg(long, short = 'a')]
    pub annotator: Option<String>,
    /// Sampling frequency of a CSV file without a time column.
    #[arg(long)]
    pub fs: Option<f64>,
    /// Let a WFDB header name signal files outside its directory (an absolute path or `..`);
    /// refused by default, since such a header could make Sinus read any file as samples.
    #[arg(long)]
    pub allow_outside_paths: bool,
}

impl RecordArgs {
    /// Open the record (or the demo), with a spinner while it loads (long EDF or Holter files
    /// take seconds).
    pub fn open(&self, progress: &Progress) -> Result<Opened, sinus_io::Error> {
        self.open_with(progress, false)
    }

    /// [`RecordArgs::open`], and with `allow_absent_signals` a WFDB record whose signal files
    /// are absent opens as its header and annotations only (see
    /// [`sinus_io::open::Opened::has_samples`]).
    pub fn open_with(
        &self,
        progress: &Progress,
        allow_absent_signals: bool,
    ) -> Result<Opened, sinus_io::Error> {
        let what = self
            .record
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "built-in demo".to_string());
        let spinner = progress.spinner(&format!("reading {what}"));
        let opened = self.open_quietly(allow_absent_signals);
        spinner.finish_and_clear();
        opened
    }

    fn open_quietly(&self, allow_absent_signals: bool) -> Result<Opened, sinus_io::Error> {
        match &self.record {
            None => Ok(open_demo(&DemoParams::default())),
            Some(path) => {
                let options = OpenOptions {
                    annotator: self.annotator.clone(),
                    csv: CsvOptions {
                        fs: self.fs,
                        ..CsvOptions::default()
                    },
                    allow_absent_signals,
                    wfdb: sinus_io::wfdb::record::ReadOptions {
                        allow_outside_paths: self.allow_outside_paths,
                        ..Default::default()
                    },
                };
                open(path, &options)
            }
        }
    }
}

/// The calibration and layout fields of signal `i` of `o`, as `sinus info --json` and
/// `sinus export --format json` both print them.
///
/// `gain` is the gain physical values use; `calibrated` is false when a WFDB header gives no gain
/// (or 0), and WFDB's default of 200 is used. `digital_scale` is the factor between the digital
/// values here and those stored in the file: 1, except for an EDF signal whose baseline is not a
/// whole number, whose samples are multiplied by 2^k so that the baseline becomes one (see
/// `sinus_io::edf`).
pub fn signal_fields(o: &Opened, i: usize) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::json;
    let s = &o.recording.signals[i];
    [
        ("description", json!(s.description)),
        ("units", json!(s.units)),
        ("gain", json!(s.effective_gain())),
        ("calibrated", json!(is_calibrated(o, i))),
        ("baseline", json!(s.baseline)),
        ("adc_resolution", json!(s.adc_resolution)),
        ("adc_zero", json!(s.adc_zero)),
        ("samples_per_frame", json!(s.samples_per_frame)),
        ("digital_scale", json!(digital_scale(o, i))),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Whether signal `i` has a gain of its own: false only for a WFDB signal line whose gain is
/// absent or 0 ("uncalibrated").
pub fn is_calibrated(o: &Opened, i: usize) -> bool {
    o.signal_specs
        .get(i)
        .is_none_or(|spec| spec.adc_gain.is_some_and(|g| g != 0.0))
}

/// The factor between signal `i`'s digital values and the values its file stores: `2^k` for an
/// EDF signal read with `adc_resolution = 16 + k` (a non-integer EDF baseline), else 1.
pub fn digital_scale(o: &Opened, i: usize) -> u64 {
    let s = &o.recording.signals[i];
    match o.format {
        SourceFormat::Edf(_) if (17..=31).contains(&s.adc_resolution) => {
            1u64 << (s.adc_resolution - 16)
        }
        _ => 1,
    }
}

/// The built-in demo recording of `sinus analyze`: the synthetic `demo` preset of
/// `sinus synth` (10 minutes, two leads, every rhythm), with its ground truth as the `atr`
/// reference.
pub fn open_builtin_demo() -> Result<Opened, sinus_io::Error> {
    use sinus_io::open::RecordAnnotations;
    use sinus_io::wfdb::annotation::AnnotationSet;
    let spec = sinus_signal::synth::preset("demo")
        .ok_or_else(|| sinus_io::Error::invalid("the built-in demo preset is missing"))?;
    let synthetic = sinus_signal::synth::generate(&spec)?;
    Ok(Opened {
        path: None,
        format: SourceFormat::Demo,
        recording: synthetic.recording,
        wfdb_header: None,
        signal_specs: Vec::new(),
        annotations: Some(RecordAnnotations {
            annotator: "atr".to_string(),
            path: None,
            set: AnnotationSet {
                annotations: synthetic.annotations,
                ..AnnotationSet::default()
            },
        }),
        edf_annotations: Vec::new(),
        warnings: Vec::new(),
        absent_signal_files: Vec::new(),
    })
}

/// The records of a WFDB database directory: `records` when given, else its RECORDS file, else
/// every header in it (sorted).
pub fn db_records(
    db: &std::path::Path,
    records: Option<&[String]>,
) -> crate::CliResult<Vec<String>> {
    if let Some(r) = records {
        return Ok(r.to_vec());
    }
    let list = db.join("RECORDS");
    if let Ok(text) = std::fs::read_to_string(&list) {
        let v: Vec<String> = text
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        if !v.is_empty() {
            return Ok(v);
        }
    }
    let mut v: Vec<String> = std::fs::read_dir(db)
        .map_err(|e| sinus_io::Error::io(db, e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let p = e.path();
            (p.extension().and_then(|x| x.to_str()) == Some("hea"))
                .then(|| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .flatten()
        })
        .collect();
    v.sort();
    if v.is_empty() {
        return Err(format!("{}: no WFDB headers (.hea) found", db.display()).into());
    }
    Ok(v)
}
