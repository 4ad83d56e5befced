//! One entry point that opens any supported recording from a path the user typed.
//!
//! A record argument is a WFDB record path without extension (`.../mitdb/100`), a `.hea` file
//! (also `.dat`/`.atr`, taken as their record), an `.edf` file or a `.csv`/`.tsv`/`.txt` file.
//! The beat annotations of a WFDB record (annotator `atr` by default) are read along with it.

use crate::csv::{read_csv, CsvOptions};
use crate::demo::{synthetic_ecg, DemoParams};
use crate::edf::{read_edf, EdfAnnotation, EdfKind};
use crate::wfdb::annotation::{
    self, code_from_symbol, read_annotations, Annotation, AnnotationSet,
};
use crate::wfdb::header::Header;
use crate::wfdb::record::{header_path, read_record_with, ReadOptions};
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
    /// Reference annotations, when the record has them.
    pub annotations: Option<RecordAnnotations>,
    /// EDF+ text annotations.
    pub edf_annotations: Vec<EdfAnnotation>,
    /// Problems that did not stop reading.
    pub warnings: Vec<String>,
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

fn open_wfdb(record: &Path, options: &OpenOptions) -> Result<Opened> {
    let rec = read_record_with(record, &options.wfdb)?;
    let mut warnings = rec.warnings;
    let annotator = options
        .annotator
        .clone()
        .unwrap_or_else(|| "atr".to_string());
    let mut ann_path = record.as_os_str().to_os_string();
    ann_path.push(".");
    ann_path.push(&annotator);
    let ann_path = PathBuf::from(ann_path);
    let annotations = if ann_path.is_file() || options.annotator.is_some() {
        let mut set = read_annotations(&ann_path, Some(rec.recording.frame_frequency))?;
        if options.wfdb.sampfrom > 0 || options.wfdb.sampto.is_some() {
            let from = options.wfdb.sampfrom as i64;
            let to = options.wfdb.sampto.map(|t| t as i64).unwrap_or(i64::MAX);
            set.annotations
                .retain(|a| a.sample >= from && a.sample < to);
            for a in &mut set.annotations {
                a.sample -= from;
            }
        }
        Some(RecordAnnotations {
            annotator,
            path: Some(ann_path),
            set,
        })
    } else {
        None
    };
    if rec.recording.frames == 0 {
        warnings.push("record has no samples".to_string());
    }
    Ok(Opened {
        path: Some(header_path(record)),
        format: SourceFormat::Wfdb,
        recording: rec.recording,
        wfdb_header: Some(rec.header),
        annotations,
        edf_annotations: Vec::new(),
        warnings,
    })
}

fn open_edf(path: &Path) -> Result<Opened> {
    let edf = read_edf(path)?;
    Ok(Opened {
        path: Some(path.to_path_buf()),
        format: SourceFormat::Edf(edf.kind),
        recording: edf.recording,
        wfdb_header: None,
        annotations: None,
        edf_annotations: edf.annotations,
        warnings: edf.warnings,
    })
}

fn open_csv(path: &Path, options: &OpenOptions) -> Result<Opened> {
    let csv = read_csv(path, &options.csv)?;
    Ok(Opened {
        path: Some(path.to_path_buf()),
        format: SourceFormat::Csv,
        recording: csv.recording,
        wfdb_header: None,
        annotations: None,
        edf_annotations: Vec::new(),
        warnings: csv.warnings,
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
    }
}
