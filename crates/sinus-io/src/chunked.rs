//! Reading a long recording a stretch at a time, in memory bounded by the stretch.
//!
//! A 7-day three-lead Holter record holds 450 million samples; as `i32` that is 1.8 GB, and an
//! analysis wants `f64` copies on top. [`ChunkedReader`] opens a recording's metadata (signals,
//! frame frequency, length, start time) without its samples and then reads any frame range
//! `[start, start + len)` as a [`Recording`] of just that range, seeking in the file:
//!
//! - **WFDB** (single- and multi-segment, every signal format, skew, byte offsets): a range read
//!   is [`read_record_with`] with `sampfrom`/`sampto`, which seeks to the packing group (2
//!   samples for 212, 3 for 310/311) that holds the range's first sample and decodes only from
//!   there, and for multi-segment records reads only the segments the range touches. Format 8
//!   (first differences) must be decoded from the start of the file, so its range reads stay
//!   bounded in memory but take time proportional to the range's end. A single-segment record
//!   stored in FLAC (508/516/524) is decoded whole when opened: its length is only known by
//!   decoding. Checksums are not verified on range reads (they cover the whole record).
//! - **EDF and EDF+C**: data records have a fixed size, so a range read reads just the data
//!   records that overlap it and parses them with the ordinary EDF reader
//!   ([`crate::edf::parse_edf`]) behind a copy of the header naming that many records.
//! - **EDF+D and CSV** place samples by content (time-keeping annotations, a time column): they
//!   are read whole when opened and range reads copy from memory ([`ChunkedReader::streams`]
//!   says which).
//!
//! Every range read gives exactly the samples a whole read gives for those frames.

use crate::csv::{read_csv, CsvOptions};
use crate::edf::{parse_edf, read_edf, EdfAnnotation, EdfKind};
use crate::open::{record_annotations, warn_past_end, OpenOptions, Opened, SourceFormat};
use crate::wfdb::format::SignalFormat;
use crate::wfdb::header::Header;
use crate::wfdb::record::{header_path, read_header, read_record_with, ReadOptions};
use crate::{Error, Recording, Result, ResultExt, Signal, MISSING};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Frames per range read when a caller just wants to go through a whole recording (e.g.
/// counting missing samples): about 15 minutes at 250 Hz, a few MB per signal.
pub const SCAN_FRAMES: u64 = 250 * 60 * 15;

/// A recording opened for reading a frame range at a time. See the module documentation.
#[derive(Debug)]
pub struct ChunkedReader {
    path: PathBuf,
    format: SourceFormat,
    /// Metadata: every signal with empty `samples`, `frames` the whole length.
    meta: Recording,
    /// The WFDB header (the master header of a multi-segment record).
    wfdb_header: Option<Header>,
    warnings: Vec<String>,
    /// The WFDB record path (without `.hea`), for its annotations.
    record: Option<PathBuf>,
    source: Source,
}

#[derive(Debug)]
enum Source {
    /// A WFDB record path (without `.hea`).
    Wfdb(PathBuf),
    /// An EDF or EDF+C file with fixed-size data records.
    Edf(EdfLayout),
    /// Read whole when opened (EDF+D, CSV, single-segment FLAC).
    Whole(Box<Recording>, Vec<EdfAnnotation>),
}

/// Where the data records of an EDF file lie.
#[derive(Debug)]
struct EdfLayout {
    /// The header bytes (fixed part and signal headers).
    header: Vec<u8>,
    /// Bytes per data record.
    record_bytes: u64,
    /// Number of data records.
    records: u64,
    /// Frames per data record.
    frames_per_record: u64,
    /// Seconds from the header's start time to frame 0 (see [`crate::edf`]).
    start_offset: f64,
}

impl ChunkedReader {
    /// Open `path`, which names a recording as [`crate::open::open`] takes it (a WFDB record
    /// path with or without `.hea`, an `.edf` file, a `.csv` file), reading its metadata only
    /// (or the whole file for the formats that cannot seek; see the module documentation).
    pub fn open(path: impl AsRef<Path>) -> Result<ChunkedReader> {
        Self::open_with(path, &CsvOptions::default())
    }

    /// [`ChunkedReader::open`] with the options a CSV file needs (sampling frequency, ...).
    pub fn open_with(path: impl AsRef<Path>, csv: &CsvOptions) -> Result<ChunkedReader> {
        let path = path.as_ref();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("hea") | Some("dat") => Self::open_wfdb(&path.with_extension("")),
            Some("edf") | Some("rec") => Self::open_edf(path),
            Some("csv") | Some("tsv") | Some("txt") => Self::open_csv(path, csv),
            _ if header_path(path).is_file() => Self::open_wfdb(path),
            _ if path.is_file() && looks_like_edf(path) => Self::open_edf(path),
            _ => Err(Error::unsupported(
                "not a recording this reader opens: expected a WFDB record (.hea), .edf or .csv",
            )
            .in_file(path)),
        }
    }

    /// The file read: the `.hea` of a WFDB record, else the file itself.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The format of the file.
    pub fn format(&self) -> SourceFormat {
        self.format
    }

    /// Number of frames in the whole recording.
    pub fn frames(&self) -> u64 {
        self.meta.frames
    }

    /// Frame frequency in Hz.
    pub fn frame_frequency(&self) -> f64 {
        self.meta.frame_frequency
    }

    /// The signals' properties; their `samples` are empty.
    pub fn signals(&self) -> &[Signal] {
        &self.meta.signals
    }

    /// The whole recording's metadata: name, frequency, length, start time, signals (without
    /// samples) and info lines.
    pub fn metadata(&self) -> &Recording {
        &self.meta
    }

    /// The WFDB header, for WFDB records.
    pub fn wfdb_header(&self) -> Option<&Header> {
        self.wfdb_header.as_ref()
    }

    /// Problems found when opening that did not stop it.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Whether range reads come from the file (true) or from a copy read whole when opened
    /// (false: EDF+D, CSV, single-segment FLAC).
    pub fn streams(&self) -> bool {
        !matches!(self.source, Source::Whole(..))
    }

    /// Frames `[start, start + len)` as a recording of `len` frames (every signal, with the
    /// whole recording's name and properties; `frames` is `len`). The range must lie within
    /// the recording.
    pub fn read(&self, start: u64, len: u64) -> Result<Recording> {
        Ok(self.read_with_annotations(start, len)?.0)
    }

    /// [`ChunkedReader::read`], and for EDF+ files the annotations of the data records read
    /// (onsets in seconds after the whole recording's frame 0; a data record that straddles the
    /// range's edge gives its annotations to both reads that touch it).
    pub fn read_with_annotations(
        &self,
        start: u64,
        len: u64,
    ) -> Result<(Recording, Vec<EdfAnnotation>)> {
        let end = start.checked_add(len).filter(|&e| e <= self.frames());
        let Some(end) = end else {
            return Err(Error::invalid(format!(
                "frames {start} + {len} go past the end of the recording ({} frames)",
                self.frames()
            ))
            .in_file(&self.path));
        };
        match &self.source {
            Source::Wfdb(record) => {
                let rec = read_record_with(
                    record,
                    &ReadOptions {
                        sampfrom: start,
                        sampto: Some(end),
                        ..ReadOptions::default()
                    },
                )?;
                Ok((self.with_meta(rec.recording), Vec::new()))
            }
            Source::Edf(layout) => self.read_edf_range(layout, start, end),
            Source::Whole(rec, annotations) => {
                let signals = rec
                    .signals
                    .iter()
                    .map(|s| {
                        let spf = u64::from(s.samples_per_frame);
                        let (a, b) = ((start * spf) as usize, (end * spf) as usize);
                        Signal {
                            samples: s.samples.get(a..b).unwrap_or_default().to_vec(),
                            ..s.clone()
                        }
                    })
                    .collect();
                let fs = rec.frame_frequency;
                let (t0, t1) = (start as f64 / fs, end as f64 / fs);
                let anns = annotations
                    .iter()
                    .filter(|a| a.onset >= t0 && a.onset < t1)
                    .cloned()
                    .collect();
                Ok((
                    Recording {
                        signals,
                        frames: len,
                        ..self.metadata_only()
                    },
                    anns,
                ))
            }
        }
    }

    /// The recording as [`crate::open::open`] gives it but without samples (every signal's
    /// `samples` empty, `frames` the whole length), with the reference annotations of a WFDB
    /// record (`annotator`, default `atr` when present) and the warnings of opening.
    pub fn opened(&self, annotator: Option<&str>) -> Result<Opened> {
        let annotations = match &self.record {
            Some(record) => {
                let options = OpenOptions {
                    annotator: annotator.map(str::to_string),
                    ..OpenOptions::default()
                };
                record_annotations(record, &options, self.frame_frequency())?
            }
            None => None,
        };
        let mut warnings = self.warnings.clone();
        warn_past_end(&annotations, self.frames(), &mut warnings);
        Ok(Opened {
            path: Some(self.path.clone()),
            format: self.format,
            recording: self.metadata_only(),
            wfdb_header: self.wfdb_header.clone(),
            annotations,
            edf_annotations: match &self.source {
                Source::Whole(_, anns) => anns.clone(),
                _ => Vec::new(),
            },
            warnings,
            absent_signal_files: Vec::new(),
            signal_specs: self
                .wfdb_header
                .as_ref()
                .filter(|h| !h.is_multi_segment())
                .map(|h| h.signals.clone())
                .unwrap_or_default(),
        })
    }

    /// Missing samples of each signal over the whole recording, checksums where they can be
    /// verified, and for EDF+ files every annotation, reading [`SCAN_FRAMES`] frames at a time.
    pub fn scan(&self) -> Result<Scan> {
        let mut missing = vec![0u64; self.meta.signals.len()];
        let mut annotations: Vec<EdfAnnotation> = Vec::new();
        // Whole EDF data records per read, so that none gives its annotations to two reads.
        let step = match &self.source {
            Source::Edf(layout) => {
                let g = layout.frames_per_record.max(1);
                SCAN_FRAMES.div_ceil(g) * g
            }
            _ => SCAN_FRAMES,
        };
        // Checksums, as a whole read verifies them, where the samples read are the samples
        // stored: a single-segment WFDB record of declared length without skew.
        let mut sums: Vec<(i32, i32, Option<i32>)> = match (&self.source, &self.wfdb_header) {
            (Source::Wfdb(_), Some(h))
                if h.segments.is_none()
                    && h.record.known_samples().is_some()
                    && h.signals.iter().all(|s| s.skew == 0) =>
            {
                h.signals
                    .iter()
                    .map(|s| {
                        let f = SignalFormat::from_code(s.format);
                        (0, f.map_or(MISSING, |f| f.invalid_value()), s.checksum)
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        let mut start = 0;
        while start < self.frames() {
            let len = step.min(self.frames() - start);
            let (rec, anns) = self.read_with_annotations(start, len)?;
            for (k, s) in rec.signals.iter().enumerate() {
                missing[k] += s.samples.iter().filter(|&&v| v == MISSING).count() as u64;
                if let Some((sum, invalid, _)) = sums.get_mut(k) {
                    *sum = s.samples.iter().fold(*sum, |a, &v| {
                        a.wrapping_add(if v == MISSING { *invalid } else { v })
                    });
                }
            }
            annotations.extend(anns);
            start += len;
        }
        if let Source::Whole(_, anns) = &self.source {
            annotations = anns.clone();
        }
        let mut warnings = Vec::new();
        if let Some(h) = &self.wfdb_header {
            for (k, &(sum, _, expected)) in sums.iter().enumerate() {
                let spec = &h.signals[k];
                let Some(expected) = expected.filter(|_| spec.format != 0) else {
                    continue;
                };
                if sum as i16 != expected as i16 {
                    warnings.push(format!(
                        "{}: checksum mismatch: signal {k}{}: header checksum {expected}, \
                         samples sum to {}",
                        spec.file_name,
                        spec.description
                            .as_ref()
                            .map(|d| format!(" ({d})"))
                            .unwrap_or_default(),
                        sum as i16
                    ));
                }
            }
        }
        Ok(Scan {
            missing,
            edf_annotations: annotations,
            warnings,
        })
    }

    /// The metadata with no samples.
    fn metadata_only(&self) -> Recording {
        self.meta.clone()
    }

    /// A range read's samples with the whole record's name and signal properties.
    fn with_meta(&self, part: Recording) -> Recording {
        let frames = part.frames;
        let signals = self
            .meta
            .signals
            .iter()
            .zip(part.signals)
            .map(|(m, s)| Signal {
                samples: s.samples,
                ..m.clone()
            })
            .collect();
        Recording {
            frames,
            signals,
            ..self.metadata_only()
        }
    }

    fn open_wfdb(record: &Path) -> Result<ChunkedReader> {
        let hea = header_path(record);
        let header = read_header(&hea)?;
        let single_flac = header.segments.is_none()
            && header
                .signals
                .iter()
                .any(|s| SignalFormat::from_code(s.format).is_some_and(|f| f.is_flac()));
        if single_flac {
            // Only decoding tells a FLAC file's length: read it once.
            let rec = read_record_with(record, &ReadOptions::default())?;
            let meta = strip_samples(&rec.recording);
            return Ok(ChunkedReader {
                path: hea,
                format: SourceFormat::Wfdb,
                meta,
                wfdb_header: Some(rec.header),
                warnings: rec.warnings,
                record: Some(record.to_path_buf()),
                source: Source::Whole(Box::new(rec.recording), Vec::new()),
            });
        }
        // An empty range gives the signals' properties (and checks the files) without samples.
        let probe = read_record_with(
            record,
            &ReadOptions {
                sampto: Some(0),
                ..ReadOptions::default()
            },
        )?;
        let frames = wfdb_frames(record, &header)?;
        let mut meta = probe.recording;
        meta.frames = frames;
        Ok(ChunkedReader {
            path: hea,
            format: SourceFormat::Wfdb,
            meta,
            wfdb_header: Some(header),
            warnings: probe.warnings,
            record: Some(record.to_path_buf()),
            source: Source::Wfdb(record.to_path_buf()),
        })
    }

    fn open_csv(path: &Path, options: &CsvOptions) -> Result<ChunkedReader> {
        let csv = read_csv(path, options)?;
        Ok(ChunkedReader {
            path: path.to_path_buf(),
            format: SourceFormat::Csv,
            meta: strip_samples(&csv.recording),
            wfdb_header: None,
            warnings: csv.warnings,
            record: None,
            source: Source::Whole(Box::new(csv.recording), Vec::new()),
        })
    }

    fn open_edf(path: &Path) -> Result<ChunkedReader> {
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let mut fixed = vec![0u8; 256];
        read_exact_at(&mut file, 0, &mut fixed)
            .map_err(|e| Error::io(path, e))
            .map_err(|e| e.at("header"))?;
        let reserved = String::from_utf8_lossy(&fixed[192..236]).into_owned();
        if reserved.starts_with("EDF+D") {
            // Data records are placed by their time-keeping annotations: read it whole.
            let edf = read_edf(path)?;
            return Ok(ChunkedReader {
                path: path.to_path_buf(),
                format: SourceFormat::Edf(edf.kind),
                meta: strip_samples(&edf.recording),
                wfdb_header: None,
                warnings: edf.warnings,
                record: None,
                source: Source::Whole(Box::new(edf.recording), edf.annotations),
            });
        }
        let field = |a: usize, b: usize| String::from_utf8_lossy(&fixed[a..b]).trim().to_string();
        let ns: usize = field(252, 256).parse().map_err(|_| {
            Error::malformed(format!(
                "number of signals {:?} is not a number",
                field(252, 256)
            ))
            .at("header byte 252 (number of signals)")
            .in_file(path)
        })?;
        if ns == 0 {
            // Let the ordinary reader name the problem.
            return Err(parse_edf(&fixed)
                .in_file(path)
                .err()
                .unwrap_or_else(|| Error::malformed("no signals").in_file(path)));
        }
        let header_len = 256 * (ns as u64 + 1);
        let mut header = vec![0u8; header_len as usize];
        read_exact_at(&mut file, 0, &mut header)
            .map_err(|e| Error::io(path, e))
            .map_err(|e| e.at("signal headers"))?;
        // Samples per data record of every signal (annotation signals included): the record
        // size, and the frames per record (gcd over the ordinary signals, as the reader does).
        let mut record_bytes = 0u64;
        let mut frames_per_record = 0u64;
        for i in 0..ns {
            let label_at = 256 + 16 * i;
            // Latin-1, as the reader decodes header text (a byte such as 0xA0 is a blank there).
            let label: String = header[label_at..label_at + 16]
                .iter()
                .map(|&c| c as char)
                .collect();
            let at = 256 + 216 * ns + 8 * i;
            let text = String::from_utf8_lossy(&header[at..at + 8])
                .trim()
                .to_string();
            let n: u64 = text.parse().map_err(|_| {
                Error::malformed(format!("number of samples {text:?} is not a number"))
                    .at(format!("signal {} header (number of samples)", i + 1))
                    .in_file(path)
            })?;
            record_bytes = n
                .checked_mul(2)
                .and_then(|b| b.checked_add(record_bytes))
                .ok_or_else(|| Error::too_large("data record size overflows").in_file(path))?;
            // Exactly as the reader: trailing blanks and NULs, then whitespace at both ends.
            let label = label.trim_end_matches([' ', '\0']).trim();
            if label != "EDF Annotations" && n > 0 {
                frames_per_record = gcd(frames_per_record, n);
            }
        }
        let available = file_len.saturating_sub(header_len);
        let count: i64 = field(236, 244).parse().map_err(|_| {
            Error::malformed(format!(
                "number of data records {:?} is not a number",
                field(236, 244)
            ))
            .at("header byte 236 (number of data records)")
            .in_file(path)
        })?;
        let mut warnings = Vec::new();
        let records = if count == -1 && record_bytes > 0 {
            let n = available / record_bytes;
            warnings.push(format!(
                "number of data records is -1 (recording not closed); {n} inferred from the file size"
            ));
            n
        } else {
            u64::try_from(count).unwrap_or(0)
        };
        // The first data record (or none) parsed by the ordinary reader checks the header and
        // gives the signals, the frame clock and the start time.
        let first = records.min(1);
        let mut bytes = with_record_count(&header, first);
        let mut data = vec![0u8; (first * record_bytes) as usize];
        if first > 0 {
            read_exact_at(&mut file, header_len, &mut data)
                .map_err(|_| {
                    Error::truncated(format!(
                        "{records} data records of {record_bytes} bytes need {} bytes after the \
                         header, but the file has {available}",
                        records.saturating_mul(record_bytes)
                    ))
                })
                .map_err(|e| e.in_file(path))?;
        }
        bytes.extend_from_slice(&data);
        let edf = parse_edf(&bytes).in_file(path)?;
        if edf.kind != EdfKind::Edf && edf.kind != EdfKind::EdfPlusContinuous {
            return Err(Error::malformed("EDF+D marker changed while reading").in_file(path));
        }
        if records
            .checked_mul(record_bytes)
            .is_none_or(|n| n > available)
        {
            return Err(Error::truncated(format!(
                "{records} data records of {record_bytes} bytes need {} bytes after the header, \
                 but the file has {available}",
                records.saturating_mul(record_bytes)
            ))
            .in_file(path));
        }
        if count != -1 && records * record_bytes < available {
            warnings.push(format!(
                "{} bytes after the last data record were ignored",
                available - records * record_bytes
            ));
        }
        warnings.extend(edf.warnings);
        let mut meta = strip_samples(&edf.recording);
        meta.name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        meta.frames = records.saturating_mul(frames_per_record);
        let layout = EdfLayout {
            header,
            record_bytes,
            records,
            frames_per_record,
            start_offset: edf.start_offset,
        };
        if records > 0 && frames_per_record > 0 {
            // Padding at the end of the last data record (every signal holding the "no sample"
            // marker, see `edf`) is not part of the recording: the ordinary reader drops it, so
            // the length is what the last record holds once parsed on its own.
            let last = parse_last_record(path, &layout)?;
            meta.frames = (records - 1) * frames_per_record + last.min(frames_per_record);
        }
        Ok(ChunkedReader {
            path: path.to_path_buf(),
            format: SourceFormat::Edf(edf.kind),
            meta,
            wfdb_header: None,
            warnings,
            record: None,
            source: Source::Edf(layout),
        })
    }

    /// Frames `[start, end)` of an EDF/EDF+C file: the data records that hold them, parsed by
    /// the ordinary reader behind a header naming just those records.
    fn read_edf_range(
        &self,
        layout: &EdfLayout,
        start: u64,
        end: u64,
    ) -> Result<(Recording, Vec<EdfAnnotation>)> {
        let g = layout.frames_per_record.max(1);
        let first = start / g;
        let last = end.div_ceil(g).min(layout.records);
        let count = last.saturating_sub(first);
        let mut bytes = with_record_count(&layout.header, count);
        let header_len = bytes.len();
        let data_len = usize::try_from(count * layout.record_bytes)
            .map_err(|_| Error::too_large("range too large to read").in_file(&self.path))?;
        bytes.resize(header_len + data_len, 0);
        let mut file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let pos = layout.header.len() as u64 + first * layout.record_bytes;
        read_exact_at(&mut file, pos, &mut bytes[header_len..])
            .map_err(|e| Error::io(&self.path, e).at(format!("byte {pos}")))?;
        let edf = parse_edf(&bytes)
            .map_err(|e| e.at(format!("data records {first}..{last}")))
            .in_file(&self.path)?;
        // Keep the frames asked for out of the whole records read.
        let skip = start - first * g;
        let signals = self
            .meta
            .signals
            .iter()
            .zip(edf.recording.signals)
            .map(|(m, mut s)| {
                let spf = u64::from(s.samples_per_frame);
                let (a, b) = ((skip * spf) as usize, ((skip + end - start) * spf) as usize);
                // The reader drops trailing frames that hold the "no sample" marker in every
                // signal (padding, when they end the file); inside the file they are missing
                // samples, so put them back to keep the frames aligned.
                let whole = (count * g * spf) as usize;
                if s.samples.len() < whole {
                    s.samples.resize(whole, crate::MISSING);
                }
                s.samples.truncate(b);
                s.samples.drain(..a.min(s.samples.len()));
                Signal {
                    samples: s.samples,
                    ..m.clone()
                }
            })
            .collect();
        // Onsets come relative to the first record read; make them relative to frame 0.
        let shift = edf.start_offset - layout.start_offset;
        let annotations = edf
            .annotations
            .into_iter()
            .map(|a| EdfAnnotation {
                onset: a.onset + shift,
                ..a
            })
            .collect();
        Ok((
            Recording {
                frames: end - start,
                signals,
                ..self.metadata_only()
            },
            annotations,
        ))
    }
}

/// Frames in the last data record of an EDF file, as the ordinary reader counts them (trailing
/// padding dropped).
fn parse_last_record(path: &Path, layout: &EdfLayout) -> Result<u64> {
    let mut bytes = with_record_count(&layout.header, 1);
    let header_len = bytes.len();
    let data_len = usize::try_from(layout.record_bytes)
        .map_err(|_| Error::too_large("data record too large").in_file(path))?;
    bytes.resize(header_len + data_len, 0);
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let pos = layout.header.len() as u64 + (layout.records - 1) * layout.record_bytes;
    read_exact_at(&mut file, pos, &mut bytes[header_len..])
        .map_err(|e| Error::io(path, e).at(format!("byte {pos}")))?;
    let edf = parse_edf(&bytes)
        .map_err(|e| e.at("last data record"))
        .in_file(path)?;
    Ok(edf.recording.frames)
}

/// What [`ChunkedReader::scan`] found.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// Missing samples per signal.
    pub missing: Vec<u64>,
    /// EDF+ annotations (time-keeping entries excluded), in file order.
    pub edf_annotations: Vec<EdfAnnotation>,
    /// Checksum mismatches (verified for single-segment WFDB records of declared length
    /// without skew), worded as a whole read words them.
    pub warnings: Vec<String>,
}

/// `rec` without its samples.
fn strip_samples(rec: &Recording) -> Recording {
    Recording {
        signals: rec
            .signals
            .iter()
            .map(|s| Signal {
                samples: Vec::new(),
                ..s.clone()
            })
            .collect(),
        ..rec.clone()
    }
}

/// The number of frames a WFDB record holds, as [`read_record_with`] counts them: the sum of
/// the segment lengths, the header's length, or (no length given) the complete frames of the
/// shortest signal file.
fn wfdb_frames(record: &Path, header: &Header) -> Result<u64> {
    if let Some(segments) = &header.segments {
        return segments
            .iter()
            .filter(|s| s.samples > 0)
            .try_fold(0u64, |t, s| t.checked_add(s.samples))
            .ok_or_else(|| {
                Error::too_large("total of the segment lengths overflows")
                    .in_file(header_path(record))
            });
    }
    if let Some(n) = header.record.known_samples() {
        return Ok(n);
    }
    let hea = header_path(record);
    let dir = hea.parent().unwrap_or(Path::new(""));
    // Per file: its format, byte offset (the first signal's) and samples per frame.
    let mut files: Vec<(&str, SignalFormat, u64, u64)> = Vec::new();
    for spec in header.signals.iter().filter(|s| s.format != 0) {
        let f = SignalFormat::from_code(spec.format).ok_or_else(|| {
            Error::unsupported(format!("signal format {}", spec.format)).in_file(&hea)
        })?;
        match files.iter_mut().find(|x| x.0 == spec.file_name) {
            Some(x) => x.3 += u64::from(spec.samples_per_frame),
            None => files.push((
                &spec.file_name,
                f,
                spec.byte_offset,
                u64::from(spec.samples_per_frame),
            )),
        }
    }
    let mut shortest: Option<u64> = None;
    for (name, f, offset, frame_len) in files {
        let p = dir.join(name);
        let len = std::fs::metadata(&p).map_err(|e| Error::io(&p, e))?.len();
        let holds =
            crate::wfdb::format::samples_in_bytes(f, len.saturating_sub(offset)) / frame_len.max(1);
        shortest = Some(shortest.map_or(holds, |s| s.min(holds)));
    }
    Ok(shortest.unwrap_or(0))
}

/// A copy of EDF header bytes with the number of data records set to `n`.
fn with_record_count(header: &[u8], n: u64) -> Vec<u8> {
    let mut h = header.to_vec();
    let text = format!("{n:<8}");
    h[236..244].copy_from_slice(&text.as_bytes()[..8]);
    h
}

fn read_exact_at(file: &mut File, pos: u64, buf: &mut [u8]) -> std::io::Result<()> {
    file.seek(SeekFrom::Start(pos))?;
    file.read_exact(buf)
}

fn looks_like_edf(path: &Path) -> bool {
    let mut head = [0u8; 8];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == b"0       "
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
