//! One entry point that opens any supported recording from a path the user typed.
//!
//! A record argument is a WFDB record path without extension (`.../mitdb/100`), a `.hea` file
//! (also `.dat`/`.atr`, taken as their record), an `.edf` file or a `.csv`/`.tsv`/`.txt` file.
//! The beat annotations of a WFDB record (annotator `atr` by default) are read along with it.
//!
//! A WFDB record whose signal files are absent (PhysioNet databases such as LTAFDB are often
//! kept as headers and annotations only) can still be described: [`OpenOptions::allow_absent_signals`]
//! opens its header and annotations without samples, and [`open_annotations_only`] /
//! [`open_annotations_with_fs`] read just the annotations.

use crate::csv::{read_csv, CsvOptions};
use crate::demo::{synthetic_ecg, DemoParams};
use crate::edf::{read_edf, EdfAnnotation, EdfKind};
use crate::wfdb::annotation::{
    self, code_from_symbol, read_annotations, Annotation, AnnotationSet,
};
use crate::wfdb::header::{Header, SignalSpec};
use crate::wfdb::record::{
    absent_signal_files, check_file_names, header_path, header_recording, read_header,
    read_record_with, ReadOptions,
};
use crate::{Error, Recording, Result};
use std::path::{Path, PathBuf};

/// The file format a recording was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// PhysioNet WFDB record.
    Wfdb,
    /// EDF or EDF+.
    Edf(EdfKind),
    /// Delimited text.
    Csv,
    /// The built-in synthetic demo recording.
    Demo,
}

impl SourceFormat {
    /// Short name for display.
    pub fn name(&self) -> &'static str {
        match self {
            SourceFormat::Wfdb => "WFDB",
            SourceFormat::Edf(EdfKind::Edf) => "EDF",
            SourceFormat::Edf(EdfKind::EdfPlusContinuous) => "EDF+C",
            SourceFormat::Edf(EdfKind::EdfPlusDiscontinuous) => "EDF+D",
            SourceFormat::Csv => "CSV",
            SourceFormat::Demo => "demo",
        }
    }
}

/// Beat (and rhythm) annotations read along with a record.
#[derive(Debug, Clone)]
pub struct RecordAnnotations {
    /// Annotator name (file extension), e.g. `atr`.
    pub annotator: String,
    /// The annotation file's path (None for the demo's built-in labels).
    pub path: Option<PathBuf>,
    /// The annotations, times in samples of the record's frame frequency.
    pub set: AnnotationSet,
}

/// A recording opened from any supported source.
#[derive(Debug, Clone)]
pub struct Opened {
    /// Path of the main file read (None for the demo).
    pub path: Option<PathBuf>,
    /// Which format it was.
    pub format: SourceFormat,
    /// Signals and metadata.
    pub recording: Recording,
    /// The WFDB header, for WFDB records.
    pub wfdb_header: Option<Header>,
    /// For WFDB records, the signal line each signal of `recording` was read by (see
    /// [`crate::wfdb::record::WfdbRecord::signal_specs`]); empty for other formats.
    pub signal_specs: Vec<SignalSpec>,
    /// Reference annotations, when the record has them.
    pub annotations: Option<RecordAnnotations>,
    /// EDF+ text annotations.
    pub edf_annotations: Vec<EdfAnnotation>,
    /// Problems that did not stop reading.
    pub warnings: Vec<String>,
    /// Signal files the WFDB header names that were absent, when opened with
    /// [`OpenOptions::allow_absent_signals`]: then the signals carry no samples.
    pub absent_signal_files: Vec<PathBuf>,
}

impl Opened {
    /// Whether the samples were read (false when the signal files were absent).
    pub fn has_samples(&self) -> bool {
        self.absent_signal_files.is_empty()
    }
}

/// How to open a recording.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// WFDB annotator to read (`None` = `atr` if present; an explicit name must exist).
    pub annotator: Option<String>,
    /// Options for CSV input (sampling frequency, delimiter, ...).
    pub csv: CsvOptions,
    /// WFDB frame range and channels.
    pub wfdb: ReadOptions,
    /// When a WFDB header names signal files that do not exist, open its header and
    /// annotations without samples (see [`Opened::absent_signal_files`]) instead of failing.
    pub allow_absent_signals: bool,
}

/// Name that selects the built-in demo recording instead of a file.
pub const DEMO_NAME: &str = "demo";

/// Open `path` as whatever format it is (see the module documentation). The special name
/// [`DEMO_NAME`] opens the built-in demo when no file of that name exists.
pub fn open(path: &Path, options: &OpenOptions) -> Result<Opened> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("hea") | Some("dat") | Some("atr") => open_wfdb(&path.with_extension(""), options),
        Some("edf") | Some("rec") => open_edf(path),
        Some("csv") | Some("tsv") | Some("txt") => open_csv(path, options),
        _ => {
            if header_path(path).is_file() {
                open_wfdb(path, options)
            } else if path.is_file() {
                if looks_like_edf(path) {
                    open_edf(path)
                } else {
                    Err(Error::unsupported(
                        "not a recognised recording: expected a WFDB record (.hea), .edf or .csv",
                    )
                    .in_file(path))
                }
            } else if path.as_os_str() == DEMO_NAME {
                Ok(open_demo(&DemoParams::default()))
            } else {
                Err(Error::new(crate::ErrorKind::Io(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!(
                        "no such record (looked for {} and {})",
                        path.display(),
                        header_path(path).display()
                    ),
                )))
                .in_file(path))
            }
        }
    }
}

fn looks_like_edf(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == b"0       "
}

/// `record.annotator`: the annotation file of a record path (without extension).
pub fn annotation_path(record: &Path, annotator: &str) -> PathBuf {
    let mut path = record.as_os_str().to_os_string();
    path.push(".");
    path.push(annotator);
    PathBuf::from(path)
}

/// The record path without a `.hea` extension.
fn record_stem(record: &Path) -> PathBuf {
    if record.extension().is_some_and(|e| e == "hea") {
        record.with_extension("")
    } else {
        record.to_path_buf()
    }
}

/// Read a WFDB record's header and the annotations of `annotator`, without its signal files
/// (which may be absent): annotation times are converted to samples at the header's sampling
/// frequency. `record` is the record path with or without `.hea`. Annotations past the end
/// of the signal are kept (LTAFDB record 30 has one).
pub fn open_annotations_only(record: &Path, annotator: &str) -> Result<(Header, AnnotationSet)> {
    let record = record_stem(record);
    let header = read_header(&record)?;
    let fs = header.record.sampling_frequency_or_default();
    let set = read_annotations(annotation_path(&record, annotator), Some(fs))?;
    Ok((header, set))
}

/// Read the annotations of `annotator` for `record` with no header at all, times converted to
/// samples at `fs` (the record's sampling frequency) when the file declares another time
/// resolution.
pub fn open_annotations_with_fs(record: &Path, annotator: &str, fs: f64) -> Result<AnnotationSet> {
    read_annotations(annotation_path(&record_stem(record), annotator), Some(fs))
}

fn open_wfdb(record: &Path, options: &OpenOptions) -> Result<Opened> {
    if options.allow_absent_signals {
        let header = read_header(record)?;
        // Before looking for the files: a name outside the directory is refused, not "absent".
        check_file_names(
            &header,
            &header_path(record),
            options.wfdb.allow_outside_paths,
        )?;
        let absent = absent_signal_files(record, &header);
        if !absent.is_empty() {
            return open_wfdb_header_only(record, header, absent, options);
        }
    }
    let rec = read_record_with(record, &options.wfdb)?;
    let mut warnings = rec.warnings;
    let annotations = record_annotations(record, options, rec.recording.frame_frequency)?;
    if rec.recording.frames == 0 {
        warnings.push("record has no samples".to_string());
    }
    warn_past_end(&annotations, rec.recording.frames, &mut warnings);
    Ok(Opened {
        path: Some(header_path(record)),
        format: SourceFormat::Wfdb,
        recording: rec.recording,
        wfdb_header: Some(rec.header),
        signal_specs: rec.signal_specs,
        annotations,
        edf_annotations: Vec::new(),
        warnings,
        absent_signal_files: Vec::new(),
    })
}

/// The annotations `options` ask for (the default `atr` only when present), times in samples
/// at `fs`, cut to the frame range `options.wfdb` asks for.
pub(crate) fn record_annotations(
    record: &Path,
    options: &OpenOptions,
    fs: f64,
) -> Result<Option<RecordAnnotations>> {
    let annotator = options
        .annotator
        .clone()
        .unwrap_or_else(|| "atr".to_string());
    let ann_path = annotation_path(record, &annotator);
    if !(ann_path.is_file() || options.annotator.is_some()) {
        return Ok(None);
    }
    let mut set = read_annotations(&ann_path, Some(fs))?;
    if options.wfdb.sampfrom > 0 || options.wfdb.sampto.is_some() {
        let from = options.wfdb.sampfrom as i64;
        let to = options.wfdb.sampto.map(|t| t as i64).unwrap_or(i64::MAX);
        let keep: Vec<bool> = set
            .annotations
            .iter()
            .map(|a| a.sample >= from && a.sample < to)
            .collect();
        let mut k = keep.iter();
        set.annotations.retain(|_| *k.next().unwrap_or(&false));
        if set.converted {
            // The file's own times stay the file's: filtered alike, not shifted.
            let mut k = keep.iter();
            set.original_samples.retain(|_| *k.next().unwrap_or(&false));
        }
        for a in &mut set.annotations {
            a.sample -= from;
        }
    }
    Ok(Some(RecordAnnotations {
        annotator,
        path: Some(ann_path),
        set,
    }))
}

/// Note annotations at or after the last frame: kept, since WFDB keeps them, but worth saying
/// (LTAFDB record 30 has one).
pub(crate) fn warn_past_end(
    annotations: &Option<RecordAnnotations>,
    frames: u64,
    warnings: &mut Vec<String>,
) {
    let Some(a) = annotations else { return };
    if frames == 0 {
        return;
    }
    let past = a
        .set
        .annotations
        .iter()
        .filter(|x| x.sample >= frames as i64)
        .count();
    if past > 0 {
        warnings.push(format!(
            "{past} {} annotation(s) at or after the end of the signal (sample {frames})",
            a.annotator
        ));
    }
}

/// The header and annotations of a record whose signal files are absent.
fn open_wfdb_header_only(
    record: &Path,
    header: Header,
    absent: Vec<PathBuf>,
    options: &OpenOptions,
) -> Result<Opened> {
    let recording = header_recording(&header);
    let names: Vec<String> = absent
        .iter()
        .map(|p| {
            p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let mut warnings = vec![format!(
        "signal file {} absent: header and annotations only",
        names.join(", ")
    )];
    let annotations = record_annotations(record, options, recording.frame_frequency)?;
    warn_past_end(&annotations, recording.frames, &mut warnings);
    Ok(Opened {
        path: Some(header_path(record)),
        format: SourceFormat::Wfdb,
        recording,
        signal_specs: header.signals.clone(),
        wfdb_header: Some(header),
        annotations,
        edf_annotations: Vec::new(),
        warnings,
        absent_signal_files: absent,
    })
}

fn open_edf(path: &Path) -> Result<Opened> {
    let edf = read_edf(path)?;
    Ok(Opened {
        path: Some(path.to_path_buf()),
        format: SourceFormat::Edf(edf.kind),
        recording: edf.recording,
        wfdb_header: None,
        signal_specs: Vec::new(),
        annotations: None,
        edf_annotations: edf.annotations,
        warnings: edf.warnings,
        absent_signal_files: Vec::new(),
    })
}

fn open_csv(path: &Path, options: &OpenOptions) -> Result<Opened> {
    let csv = read_csv(path, &options.csv)?;
    Ok(Opened {
        path: Some(path.to_path_buf()),
        format: SourceFormat::Csv,
        recording: csv.recording,
        wfdb_header: None,
        signal_specs: Vec::new(),
        annotations: None,
        edf_annotations: Vec::new(),
        warnings: csv.warnings,
        absent_signal_files: Vec::new(),
    })
}

/// The built-in demo recording with its beat labels as `atr`-style annotations.
pub fn open_demo(params: &DemoParams) -> Opened {
    let (recording, beats) = synthetic_ecg(params);
    let annotations = beats
        .iter()
        .map(|b| {
            Annotation::new(
                b.sample,
                code_from_symbol(b.kind.symbol()).unwrap_or(annotation::codes::NORMAL),
            )
        })
        .collect();
    Opened {
        path: None,
        format: SourceFormat::Demo,
        recording,
        wfdb_header: None,
        signal_specs: Vec::new(),
        annotations: Some(RecordAnnotations {
            annotator: "atr".to_string(),
            path: None,
            set: AnnotationSet {
                annotations,
                ..AnnotationSet::default()
            },
        }),
        edf_annotations: Vec::new(),
        warnings: Vec::new(),
        absent_signal_files: Vec::new(),
    }
}
