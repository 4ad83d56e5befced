//! EDF and EDF+ (European Data Format): reading (EDF, EDF+C, EDF+D, annotations) and writing.
//!
//! # Layout
//! A 256-byte header, then 256 bytes of signal header per signal (each field stored for all signals
//! in turn), then data records: for every signal in header order, its samples-per-record values as
//! 16-bit little-endian two's complement. EDF+ marks itself with `EDF+C` (continuous) or `EDF+D`
//! (discontinuous) in the reserved field and carries annotations in signals labelled
//! `EDF Annotations`, as Time-stamped Annotation Lists (TALs). The first TAL of the first annotation
//! signal in every data record is the *time-keeping* TAL: its onset is the record's start time in
//! seconds after the header's start date/time.
//!
//! # Mapping onto [`Recording`]
//! - **Frames.** With record duration `D` and `n_i` samples per record for signal `i`, a frame is
//!   `D / g` seconds where `g = gcd(n_i)`; so `frame_frequency = g / D` and signal `i` gets
//!   `samples_per_frame = n_i / g`. Every signal keeps its own rate (`n_i / D`) and a data record is
//!   exactly `g` frames. A signal with 0 samples per record carries no data and is dropped (warning).
//!   Frequencies computed from the 8-character text fields are rounded to 12 significant digits,
//!   which only removes decimal-to-binary noise (e.g. `2047 / 10.235` gives exactly `200`).
//! - **Time.** Frame 0 is the start of the first data record. In EDF+ that record's time-keeping
//!   onset may be non-zero (EDF+ stores sub-second start times that way); it is added to the
//!   header's start time to give [`Recording::base_datetime`] and reported as
//!   [`EdfRecording::start_offset`]. Annotation onsets are returned relative to frame 0, so
//!   `onset * frame_frequency` is a frame index.
//! - **EDF+D gaps.** Each data record is placed at the frame its time-keeping onset names (rounded
//!   to the nearest frame, with a warning when off-grid by more than 1 % of a frame); the frames in
//!   between are [`MISSING`]. Records must be in time order and must not overlap.
//! - **Calibration.** EDF gives `physical = pmin + (d - dmin) * (pmax - pmin) / (dmax - dmin)`,
//!   i.e. `gain = (dmax - dmin) / (pmax - pmin)` and `baseline = dmin - pmin * gain`, which is often
//!   not an integer (pyedflib's default `dmin = -32768, dmax = 32767, pmin = -pmax` gives -0.5).
//!   Rounding it would shift every value by up to half a quantisation step, so instead the digital
//!   samples and the gain are multiplied by the smallest power of two `2^k` (`k <= 15`) that makes
//!   `baseline * 2^k` an integer; the digital value `d` of the file is then `sample / 2^k`, exactly.
//!   When no `k <= 15` is exact (ranges like -2048..2047 ↔ -440..510), `k = 15` and the baseline is
//!   rounded: the physical values are off by at most 2^-16 of a quantisation step. `adc_resolution`
//!   is `16 + k` (EDF samples are 16-bit), which lets [`write_edf`] undo the scaling; `adc_zero` is
//!   the centre of the declared digital range (scaled the same way).
//! - **Text.** Header text is decoded as Latin-1 (the standard asks for ASCII but real files carry
//!   accented names); the patient and recording fields go to [`Recording::info`] as
//!   `patient: ...` and `recording: ...`, non-empty transducer and prefilter fields as
//!   `transducer <label>: ...` and `prefilter <label>: ...`.
//! - **Start date.** The header's `dd.mm.yy` uses years 85–99 for 1985–1999 and 00–84 for
//!   2000–2084; EDF+ writes `yy` after 2084 and gives the full date in the recording field
//!   (`Startdate dd-MMM-yyyy ...`), which takes precedence whenever present and valid (`X` means
//!   unknown). An unreadable date or time is a warning, not an error.
//! - **Number of data records -1** (a recording never closed) is inferred from the file size, with
//!   a warning; trailing bytes that do not make a whole data record are ignored with a warning.
//!
//! - **Missing samples and padding.** EDF has no "no sample" value. Sinus's convention: a
//!   signal whose declared digital minimum is above -32768 uses -32768 (below its range) to mark
//!   a missing sample, and the reader returns [`MISSING`] for it. The writer declares such a
//!   range for every signal that has missing samples, and for all signals when the last data
//!   record must be padded (the recording is not a whole number of data records); it writes
//!   -32768 for missing samples and padding. On reading, frames at the end of the last data
//!   record in which every signal holds the marker are padding and are dropped, so a round trip
//!   keeps the recording's length (a recording that itself ends in frames missing from every
//!   signal comes back without them). Other readers see -32768 as a value just below the
//!   physical minimum. When a signal's values fill the whole 16-bit range, no marker is possible:
//!   the writer then warns that its missing samples and padding will read back as values.
//! - **Messages** number signals from 0 in file order (annotation signals included), as WFDB
//!   messages do, and data records from 0.
//!
//! BDF (24-bit) files are recognised and rejected as unsupported.

use std::path::Path;

use crate::error::{Error, Result, ResultExt, MAX_TOTAL_SAMPLES};
use crate::recording::{BaseDateTime, Date, Recording, Signal, TimeOfDay, MISSING};

/// Size of the fixed header and of each signal's header.
const HEADER_BLOCK: usize = 256;
/// Label that marks an annotation signal.
const ANNOTATION_LABEL: &str = "EDF Annotations";
/// Largest file [`read_edf`] loads: the data of [`MAX_TOTAL_SAMPLES`] 16-bit samples plus the
/// largest possible header (9999 signals).
const MAX_FILE_BYTES: u64 = MAX_TOTAL_SAMPLES * 2 + 256 * 10_000;
/// Recommended upper bound on a data record's size (EDF specification), used by the writer.
const RECOMMENDED_RECORD_BYTES: usize = 61_440;
/// TAL separators.
const TAL_SEP: u8 = 0x14;
const TAL_DURATION: u8 = 0x15;

/// Which flavour of EDF a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdfKind {
    /// Original EDF (no `EDF+` marker).
    Edf,
    /// EDF+ continuous (`EDF+C`).
    EdfPlusContinuous,
    /// EDF+ discontinuous (`EDF+D`): data records may have gaps between them.
    EdfPlusDiscontinuous,
}

/// One EDF+ annotation (one text of a Time-stamped Annotation List).
#[derive(Debug, Clone, PartialEq)]
pub struct EdfAnnotation {
    /// Seconds after the recording's frame 0 (see the module documentation).
    pub onset: f64,
    /// Duration in seconds, when the TAL gives one.
    pub duration: Option<f64>,
    /// The annotation text (UTF-8).
    pub text: String,
}

/// Result of reading an EDF/EDF+ file.
#[derive(Debug, Clone)]
pub struct EdfRecording {
    /// The signals (annotation signals excluded), mapped as the module documentation describes.
    pub recording: Recording,
    /// All annotations of all annotation signals, in file order (time-keeping entries excluded).
    pub annotations: Vec<EdfAnnotation>,
    /// Non-fatal problems found while reading, one sentence each.
    pub warnings: Vec<String>,
    /// EDF, EDF+C or EDF+D.
    pub kind: EdfKind,
    /// Seconds from the header's start time to frame 0 (the first data record's time-keeping
    /// onset; 0 for plain EDF).
    pub start_offset: f64,
    /// Duration of one data record in seconds, as declared.
    pub record_duration: f64,
}

/// Read an EDF or EDF+ file. The recording is named after the file stem.
pub fn read_edf(path: impl AsRef<Path>) -> Result<EdfRecording> {
    let path = path.as_ref();
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if len > MAX_FILE_BYTES {
        return Err(Error::too_large(format!(
            "file is {len} bytes, more than the {MAX_FILE_BYTES} bytes this reader loads"
        ))
        .in_file(path));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut edf = parse_edf(&bytes).in_file(path)?;
    edf.recording.name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(edf)
}

/// One signal's header fields, parsed.
struct SignalHeader {
    label: String,
    transducer: String,
    dimension: String,
    physical_min: f64,
    physical_max: f64,
    digital_min: i64,
    digital_max: i64,
    prefilter: String,
    samples_per_record: u64,
}

impl SignalHeader {
    fn is_annotation(&self) -> bool {
        self.label == ANNOTATION_LABEL
    }
}

/// A Time-stamped Annotation List.
struct Tal {
    onset: f64,
    duration: Option<f64>,
    texts: Vec<String>,
}

/// Parse an EDF or EDF+ file held in memory. The recording's name is left empty.
pub fn parse_edf(bytes: &[u8]) -> Result<EdfRecording> {
    let mut warnings = Vec::new();
    if bytes.len() < HEADER_BLOCK {
        return Err(Error::truncated(format!(
            "header is {} bytes; EDF needs at least {HEADER_BLOCK}",
            bytes.len()
        ))
        .at("header"));
    }
    if bytes[0] == 0xFF {
        return Err(Error::unsupported("BDF (24-bit BioSemi) files").at("header byte 0"));
    }
    let version = latin1(&bytes[0..8]);
    if version.trim() != "0" {
        return Err(
            Error::malformed(format!("version field is {version:?}, expected \"0\""))
                .at("header byte 0 (version)"),
        );
    }
    let patient = latin1(&bytes[8..88]);
    let recording_field = latin1(&bytes[88..168]);
    let date_text = latin1(&bytes[168..176]);
    let time_text = latin1(&bytes[176..184]);
    let header_bytes = parse_int(&bytes[184..192]).map_err(|e| e.at("header byte 184"))?;
    let reserved = latin1(&bytes[192..236]);
    let record_count = parse_int(&bytes[236..244]).map_err(|e| e.at("header byte 236"))?;
    let record_duration = parse_real(&bytes[244..252]).map_err(|e| e.at("header byte 244"))?;
    let signal_count = parse_int(&bytes[252..256]).map_err(|e| e.at("header byte 252"))?;

    let kind = if reserved.starts_with("EDF+C") {
        EdfKind::EdfPlusContinuous
    } else if reserved.starts_with("EDF+D") {
        EdfKind::EdfPlusDiscontinuous
    } else if reserved.starts_with("24BIT") || reserved.starts_with("BDF") {
        return Err(Error::unsupported("BDF (24-bit) files").at("header byte 192"));
    } else {
        EdfKind::Edf
    };
    let plus = kind != EdfKind::Edf;

    if signal_count < 1 {
        return Err(Error::malformed(format!(
            "number of signals is {signal_count}; at least 1 is needed"
        ))
        .at("header byte 252 (number of signals)"));
    }
    // 4 ASCII digits: at most 9999, so the products below cannot overflow.
    let ns = signal_count as usize;
    let expected_header = HEADER_BLOCK * (ns + 1);
    if header_bytes != expected_header as i64 {
        return Err(Error::malformed(format!(
            "header size field says {header_bytes} bytes, but {ns} signals need {expected_header}"
        ))
        .at("header byte 184 (number of bytes in header)"));
    }
    if bytes.len() < expected_header {
        return Err(Error::truncated(format!(
            "file has {} bytes, less than the {expected_header}-byte header of {ns} signals",
            bytes.len()
        ))
        .at("signal headers"));
    }
    if !(record_duration.is_finite() && record_duration >= 0.0) {
        return Err(
            Error::malformed(format!("duration of a data record is {record_duration}"))
                .at("header byte 244 (duration of a data record)"),
        );
    }

    let signals = parse_signal_headers(bytes, ns)?;
    let annotation_signals: Vec<usize> = (0..ns).filter(|&i| signals[i].is_annotation()).collect();
    let mut ordinary: Vec<usize> = Vec::new();
    for (i, s) in signals.iter().enumerate() {
        if s.is_annotation() {
            continue;
        }
        if s.samples_per_record == 0 {
            warnings.push(format!(
                "signal {} ({:?}) has 0 samples per data record and was dropped",
                i, s.label
            ));
        } else {
            ordinary.push(i);
        }
    }

    // Byte layout of one data record.
    let mut offsets = Vec::with_capacity(ns);
    let mut record_bytes: u64 = 0;
    for s in &signals {
        offsets.push(record_bytes);
        record_bytes = s
            .samples_per_record
            .checked_mul(2)
            .and_then(|b| record_bytes.checked_add(b))
            .ok_or_else(|| Error::too_large("data record size overflows").at("signal headers"))?;
    }
    let available = (bytes.len() - expected_header) as u64;
    let records: u64 = if record_count == -1 {
        if record_bytes == 0 {
            return Err(Error::malformed(
                "number of data records is -1 and data records are empty",
            )
            .at("header byte 236 (number of data records)"));
        }
        let n = available / record_bytes;
        warnings.push(format!(
            "number of data records is -1 (recording not closed); {n} inferred from the file size"
        ));
        n
    } else if record_count < 0 {
        return Err(
            Error::malformed(format!("number of data records is {record_count}"))
                .at("header byte 236 (number of data records)"),
        );
    } else {
        record_count as u64
    };
    if records > 0 && record_bytes == 0 {
        return Err(Error::malformed(
            "data records are empty: every signal has 0 samples per data record",
        )
        .at("signal headers (number of samples in each data record)"));
    }
    let data_bytes = records
        .checked_mul(record_bytes)
        .ok_or_else(|| Error::too_large("number of data records × record size overflows"))?;
    if data_bytes > available {
        return Err(Error::truncated(format!(
            "{records} data records of {record_bytes} bytes need {data_bytes} bytes after the \
             header, but the file has {available}"
        ))
        .at(format!("byte {}", bytes.len())));
    }
    if data_bytes < available {
        warnings.push(format!(
            "{} bytes after the last data record were ignored",
            available - data_bytes
        ));
    }
    let record_bytes = record_bytes as usize; // fits: data_bytes <= bytes.len()
    let data = &bytes[expected_header..expected_header + data_bytes as usize];
    let record = |r: u64| -> &[u8] {
        let start = r as usize * record_bytes;
        &data[start..start + record_bytes]
    };

    // Pass 1: annotations and record start times.
    let mut annotations_raw: Vec<EdfAnnotation> = Vec::new();
    let mut record_onsets: Vec<Option<f64>> = Vec::new();
    if !annotation_signals.is_empty() {
        record_onsets.reserve(records as usize);
        for r in 0..records {
            let rec = record(r);
            let mut onset = None;
            for (n, &a) in annotation_signals.iter().enumerate() {
                let off = offsets[a] as usize;
                let len = signals[a].samples_per_record as usize * 2;
                let file_offset = expected_header + r as usize * record_bytes + off;
                let location = |i: usize| {
                    format!(
                        "data record {r}, annotation signal {}, byte {}",
                        a,
                        file_offset + i
                    )
                };
                let tals = parse_annotation_signal(&rec[off..off + len], &location, &mut warnings)?;
                for (t, tal) in tals.into_iter().enumerate() {
                    let mut texts = tal.texts.into_iter();
                    if n == 0 && t == 0 && plus {
                        // The time-keeping TAL: an empty first text, its onset the record's start.
                        let mut peek = texts.clone();
                        if peek.next().is_some_and(|s| s.is_empty()) {
                            onset = Some(tal.onset);
                            texts.next();
                        }
                    }
                    for text in texts.filter(|s| !s.is_empty()) {
                        annotations_raw.push(EdfAnnotation {
                            onset: tal.onset,
                            duration: tal.duration,
                            text,
                        });
                    }
                }
            }
            record_onsets.push(onset);
        }
    } else if plus {
        if kind == EdfKind::EdfPlusDiscontinuous {
            return Err(Error::malformed(
                "EDF+D file has no \"EDF Annotations\" signal, so its data records cannot be placed",
            )
            .at("signal headers"));
        }
        warnings.push("EDF+ file has no \"EDF Annotations\" signal".to_string());
    }

    let missing_timekeeping = record_onsets.iter().filter(|o| o.is_none()).count();
    if plus && !record_onsets.is_empty() && missing_timekeeping > 0 {
        if kind == EdfKind::EdfPlusDiscontinuous {
            let r = record_onsets.iter().position(|o| o.is_none()).unwrap_or(0);
            return Err(Error::malformed(
                "EDF+D data record has no time-keeping annotation, so it cannot be placed",
            )
            .at(format!("data record {r}")));
        }
        warnings.push(format!(
            "{missing_timekeeping} data records have no time-keeping annotation"
        ));
    }
    let start_offset = record_onsets.first().copied().flatten().unwrap_or(0.0);

    // Frame clock.
    let g = ordinary
        .iter()
        .map(|&i| signals[i].samples_per_record)
        .fold(0u64, gcd);
    if g > 0 && record_duration == 0.0 {
        return Err(Error::malformed(
            "duration of a data record is 0, but the file has ordinary signals",
        )
        .at("header byte 244 (duration of a data record)"));
    }
    let frame_frequency = if g > 0 {
        snap(g as f64 / record_duration)
    } else {
        0.0
    };

    // Frame at which each data record starts.
    let samples_per_frame_total: u64 = ordinary
        .iter()
        .map(|&i| signals[i].samples_per_record / g.max(1))
        .sum();
    let mut record_frames: Vec<u64> = Vec::new();
    let mut frames: u64 = 0;
    if g > 0 {
        let max_frames = MAX_TOTAL_SAMPLES / samples_per_frame_total.max(1);
        record_frames.reserve(records as usize);
        if kind == EdfKind::EdfPlusDiscontinuous {
            let mut off_grid = 0u64;
            for (r, onset) in record_onsets.iter().enumerate() {
                let t = onset.unwrap_or(0.0) - start_offset;
                let exact = t * frame_frequency;
                let f = exact.round();
                if !f.is_finite() || f < 0.0 || f > max_frames as f64 {
                    return Err(Error::too_large(format!(
                        "data record starts {t} s after the first one, beyond the {max_frames} \
                         frames this reader allocates"
                    ))
                    .at(format!("data record {r}")));
                }
                if (exact - f).abs() > 0.01 {
                    off_grid += 1;
                }
                let f = f as u64;
                if f < frames {
                    return Err(Error::malformed(format!(
                        "EDF+D data record starts at {} s, before the previous one ends ({} s)",
                        onset.unwrap_or(0.0),
                        start_offset + frames as f64 / frame_frequency
                    ))
                    .at(format!("data record {r}")));
                }
                record_frames.push(f);
                frames = f + g;
            }
            if off_grid > 0 {
                warnings.push(format!(
                    "{off_grid} data records start between sample times; each was placed at the \
                     nearest frame"
                ));
            }
            let filled = frames - records * g;
            if filled > 0 {
                warnings.push(format!(
                    "gaps between data records ({filled} frames, {} s) filled with missing samples",
                    filled as f64 / frame_frequency
                ));
            }
        } else {
            frames = records * g; // records * g <= data bytes / 2, no overflow
            record_frames.extend((0..records).map(|r| r * g));
            if kind == EdfKind::EdfPlusContinuous {
                let late = record_onsets
                    .iter()
                    .enumerate()
                    .filter(|(r, o)| {
                        o.is_some_and(|t| {
                            let expected = start_offset + *r as f64 * record_duration;
                            (t - expected).abs() * frame_frequency > 0.01
                        })
                    })
                    .count();
                if late > 0 {
                    warnings.push(format!(
                        "EDF+C file, but {late} data records have time-keeping onsets that do not \
                         follow on from the previous record; treated as contiguous"
                    ));
                }
            }
        }
        if frames > max_frames {
            return Err(Error::too_large(format!(
                "{frames} frames of {samples_per_frame_total} samples exceed the limit of \
                 {MAX_TOTAL_SAMPLES} samples"
            )));
        }
    }

    // Pass 2: samples.
    let mut out_signals = Vec::with_capacity(ordinary.len());
    for &i in &ordinary {
        let s = &signals[i];
        let spf = s.samples_per_record / g;
        let (gain, baseline, k) =
            calibration(s).map_err(|e| e.at(format!("signal {i} ({:?})", s.label)))?;
        let mut samples = vec![MISSING; (frames * spf) as usize];
        // -32768 below the declared digital minimum marks a missing sample.
        let marked = s.digital_min > i64::from(i16::MIN);
        let n = s.samples_per_record as usize;
        let off = offsets[i] as usize;
        for (r, &f) in record_frames.iter().enumerate() {
            let src = &record(r as u64)[off..off + 2 * n];
            let dst_start = (f * spf) as usize;
            let dst = &mut samples[dst_start..dst_start + n];
            for (d, b) in dst.iter_mut().zip(src.chunks_exact(2)) {
                let v = i16::from_le_bytes([b[0], b[1]]);
                *d = if v == i16::MIN && marked {
                    MISSING
                } else {
                    i32::from(v) << k
                };
            }
        }
        let centre = (s.digital_min + s.digital_max + 1).div_euclid(2);
        out_signals.push(Signal {
            description: s.label.clone(),
            units: s.dimension.clone(),
            gain,
            baseline,
            adc_resolution: 16 + k,
            adc_zero: (centre as i32) << k,
            samples_per_frame: spf as u32,
            samples,
        });
    }

    // Padding: frames at the end of the last data record in which every signal is marked missing
    // were written only to fill the record (see the module documentation) and are dropped.
    if let Some(&last_start) = record_frames.last() {
        let all_marked = ordinary
            .iter()
            .all(|&i| signals[i].digital_min > i64::from(i16::MIN));
        if all_marked && !out_signals.is_empty() {
            let missing_frame = |f: u64| {
                out_signals.iter().all(|sig| {
                    let spf = u64::from(sig.samples_per_frame);
                    sig.samples[(f * spf) as usize..((f + 1) * spf) as usize]
                        .iter()
                        .all(|&v| v == MISSING)
                })
            };
            let mut end = frames;
            while end > last_start && missing_frame(end - 1) {
                end -= 1;
            }
            if end < frames {
                frames = end;
                for sig in &mut out_signals {
                    sig.samples
                        .truncate((frames * u64::from(sig.samples_per_frame)) as usize);
                }
            }
        }
    }

    // Start date and time.
    let mut info = vec![
        format!("patient: {}", patient.trim()),
        format!("recording: {}", recording_field.trim()),
    ];
    for s in &signals {
        if s.is_annotation() {
            continue;
        }
        if !s.transducer.is_empty() {
            info.push(format!("transducer {}: {}", s.label, s.transducer));
        }
        if !s.prefilter.is_empty() {
            info.push(format!("prefilter {}: {}", s.label, s.prefilter));
        }
    }
    let mut date = parse_header_date(&date_text, &mut warnings);
    if let Some(field_date) = startdate_from_recording_field(&recording_field, &mut warnings) {
        if let (Some(h), Some(f)) = (date, field_date) {
            if h != f {
                warnings.push(format!(
                    "header start date {}-{:02}-{:02} differs from the recording field's \
                     Startdate {}-{:02}-{:02}; the latter is used",
                    h.year, h.month, h.day, f.year, f.month, f.day
                ));
            }
        }
        date = field_date;
    }
    let time = parse_header_time(&time_text, &mut warnings);
    let mut base = BaseDateTime { time, date };
    if start_offset != 0.0 {
        if base.time.is_some() {
            base = add_seconds(base, start_offset);
        } else {
            warnings.push(format!(
                "first data record starts {start_offset} s after an unknown start time"
            ));
        }
    }
    let base_datetime = (base.time.is_some() || base.date.is_some()).then_some(base);

    let annotations = annotations_raw
        .into_iter()
        .map(|a| EdfAnnotation {
            onset: a.onset - start_offset,
            ..a
        })
        .collect();

    Ok(EdfRecording {
        recording: Recording {
            name: String::new(),
            frame_frequency,
            frames,
            base_datetime,
            signals: out_signals,
            info,
        },
        annotations,
        warnings,
        kind,
        start_offset,
        record_duration,
    })
}

/// Parse the `ns` signal headers that follow the fixed header (the caller checked their length).
fn parse_signal_headers(bytes: &[u8], ns: usize) -> Result<Vec<SignalHeader>> {
    // Field widths in file order; each field is stored for all signals before the next field.
    const WIDTHS: [usize; 10] = [16, 80, 8, 8, 8, 8, 8, 80, 8, 32];
    const NAMES: [&str; 10] = [
        "label",
        "transducer type",
        "physical dimension",
        "physical minimum",
        "physical maximum",
        "digital minimum",
        "digital maximum",
        "prefiltering",
        "number of samples in each data record",
        "reserved",
    ];
    let mut starts = [0usize; 10];
    let mut pos = HEADER_BLOCK;
    for (f, w) in WIDTHS.iter().enumerate() {
        starts[f] = pos;
        pos += w * ns;
    }
    let field = |f: usize, i: usize| -> (&[u8], usize) {
        let start = starts[f] + i * WIDTHS[f];
        (&bytes[start..start + WIDTHS[f]], start)
    };
    let mut out = Vec::with_capacity(ns);
    for i in 0..ns {
        let label = latin1(field(0, i).0).trim().to_string();
        let at = |f: usize, start: usize| {
            format!(
                "signal {} ({label:?}) {} at header byte {start}",
                i, NAMES[f]
            )
        };
        let real = |f: usize| -> Result<f64> {
            let (b, start) = field(f, i);
            parse_real(b).map_err(|e| e.at(at(f, start)))
        };
        let int = |f: usize| -> Result<i64> {
            let (b, start) = field(f, i);
            parse_int(b).map_err(|e| e.at(at(f, start)))
        };
        let s = SignalHeader {
            transducer: latin1(field(1, i).0).trim().to_string(),
            dimension: latin1(field(2, i).0).trim().to_string(),
            physical_min: real(3)?,
            physical_max: real(4)?,
            digital_min: int(5)?,
            digital_max: int(6)?,
            prefilter: latin1(field(7, i).0).trim().to_string(),
            samples_per_record: {
                let n = int(8)?;
                if n < 0 {
                    let start = field(8, i).1;
                    return Err(
                        Error::malformed(format!("{n} samples per data record")).at(at(8, start))
                    );
                }
                n as u64
            },
            label: label.clone(),
        };
        if !s.is_annotation() {
            let start = field(5, i).1;
            let range = i16::MIN as i64..=i16::MAX as i64;
            if !range.contains(&s.digital_min) || !range.contains(&s.digital_max) {
                return Err(Error::malformed(format!(
                    "digital range {}..{} exceeds the 16-bit range of EDF samples",
                    s.digital_min, s.digital_max
                ))
                .at(at(5, start)));
            }
            if s.digital_min >= s.digital_max {
                return Err(Error::malformed(format!(
                    "digital minimum {} is not below digital maximum {}",
                    s.digital_min, s.digital_max
                ))
                .at(at(5, start)));
            }
            if s.physical_min == s.physical_max {
                let start = field(3, i).1;
                return Err(Error::malformed(format!(
                    "physical minimum equals physical maximum ({})",
                    s.physical_min
                ))
                .at(at(3, start)));
            }
        }
        out.push(s);
    }
    Ok(out)
}

/// Gain, integer baseline and scale exponent `k` for one signal (see the module documentation).
fn calibration(s: &SignalHeader) -> Result<(f64, i32, u32)> {
    let gain = snap((s.digital_max - s.digital_min) as f64 / (s.physical_max - s.physical_min));
    if !gain.is_finite() || gain == 0.0 {
        return Err(Error::malformed(format!(
            "physical range {}..{} gives gain {gain}",
            s.physical_min, s.physical_max
        )));
    }
    let baseline = s.digital_min as f64 - s.physical_min * gain;
    // Tolerance for "integer": 1e-6 of a quantisation step, far above the rounding noise of the
    // computation above and far below anything a signal can show.
    let exact = (0..=15u32).find(|&k| {
        let scaled = baseline * f64::from(1u32 << k);
        (scaled - scaled.round()).abs() <= 1e-6 * f64::from(1u32 << k)
    });
    let limit = f64::from(1u32 << 30);
    let mut k = exact.unwrap_or(15);
    loop {
        let scaled = (baseline * f64::from(1u32 << k)).round();
        if scaled.abs() <= limit {
            return Ok((gain * f64::from(1u32 << k), scaled as i32, k));
        }
        if k == 0 {
            return Err(Error::unsupported(format!(
                "baseline {baseline} (digital value of 0 physical units) is beyond ±2^30"
            )));
        }
        k -= 1;
    }
}

/// Round to 12 significant digits: removes the binary noise of dividing decimal header values.
fn snap(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    format!("{x:.11e}").parse().unwrap_or(x)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Header text as Latin-1 (every byte is a character), trailing spaces and NULs removed.
fn latin1(b: &[u8]) -> String {
    let s: String = b.iter().map(|&c| c as char).collect();
    s.trim_end_matches([' ', '\0']).to_string()
}

fn parse_int(b: &[u8]) -> Result<i64> {
    let s = latin1(b);
    s.trim()
        .parse::<i64>()
        .map_err(|_| Error::malformed(format!("expected an integer, found {s:?}")))
}

fn parse_real(b: &[u8]) -> Result<f64> {
    let s = latin1(b);
    let t = s.trim();
    // Rust also accepts "inf" and "NaN", which no EDF field may hold.
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && t.bytes().any(|c| c.is_ascii_digit()) => Ok(v),
        _ => Err(Error::malformed(format!("expected a number, found {s:?}"))),
    }
}

/// Parse the TALs of one annotation signal in one data record.
/// `location(i)` names byte `i` of `data` for error messages.
fn parse_annotation_signal(
    data: &[u8],
    location: &dyn Fn(usize) -> String,
    warnings: &mut Vec<String>,
) -> Result<Vec<Tal>> {
    let mut tals = Vec::new();
    let mut i = 0;
    while i < data.len() {
        if data[i] == 0 {
            i += 1; // padding after the last TAL
            continue;
        }
        let Some(len) = data[i..].iter().position(|&c| c == 0) else {
            return Err(Error::malformed(
                "annotation list is not terminated by a NUL byte before the end of the signal",
            )
            .at(location(i)));
        };
        let tal = parse_tal(&data[i..i + len], warnings).map_err(|e| e.at(location(i)))?;
        tals.push(tal);
        i += len + 1;
    }
    Ok(tals)
}

/// Parse one TAL (without its terminating NUL): `+onset[\x15duration]\x14[text\x14]*`.
fn parse_tal(tal: &[u8], warnings: &mut Vec<String>) -> Result<Tal> {
    let Some(sep) = tal.iter().position(|&c| c == TAL_SEP) else {
        return Err(Error::malformed(format!(
            "annotation list {:?} has no byte 20 after its time stamp",
            String::from_utf8_lossy(tal)
        )));
    };
    if tal.last() != Some(&TAL_SEP) {
        return Err(Error::malformed(format!(
            "annotation list {:?} does not end with byte 20",
            String::from_utf8_lossy(tal)
        )));
    }
    let stamp = &tal[..sep];
    let (onset_text, duration_text) = match stamp.iter().position(|&c| c == TAL_DURATION) {
        Some(p) => (&stamp[..p], Some(&stamp[p + 1..])),
        None => (stamp, None),
    };
    let onset = match onset_text.first() {
        Some(b'+') | Some(b'-') => parse_tal_number(onset_text, 1),
        _ => None,
    }
    .ok_or_else(|| {
        Error::malformed(format!(
            "annotation onset {:?} is not a signed decimal number",
            String::from_utf8_lossy(onset_text)
        ))
    })?;
    let duration = match duration_text {
        None => None,
        Some(d) => Some(parse_tal_number(d, 0).ok_or_else(|| {
            Error::malformed(format!(
                "annotation duration {:?} is not an unsigned decimal number",
                String::from_utf8_lossy(d)
            ))
        })?),
    };
    let body = &tal[sep + 1..];
    let mut texts = Vec::new();
    if let Some(body) = body.strip_suffix(&[TAL_SEP]) {
        for t in body.split(|&c| c == TAL_SEP) {
            match std::str::from_utf8(t) {
                Ok(s) => texts.push(s.to_string()),
                Err(_) => {
                    let s = String::from_utf8_lossy(t).into_owned();
                    warnings.push(format!("annotation text {s:?} is not valid UTF-8"));
                    texts.push(s);
                }
            }
        }
    }
    Ok(Tal {
        onset,
        duration,
        texts,
    })
}

/// A TAL number: digits with at most one '.', after `skip` sign bytes.
fn parse_tal_number(b: &[u8], skip: usize) -> Option<f64> {
    let digits = b.get(skip..)?;
    let ok = digits.iter().any(u8::is_ascii_digit)
        && digits.iter().all(|&c| c.is_ascii_digit() || c == b'.')
        && digits.iter().filter(|&&c| c == b'.').count() <= 1;
    if !ok {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse::<f64>().ok()
}

/// `dd.mm.yy` with the 1985–2084 rule; `None` (with a warning) when unreadable or `yy`.
fn parse_header_date(text: &str, warnings: &mut Vec<String>) -> Option<Date> {
    let parts: Vec<&str> = text.trim().split('.').collect();
    if let [d, m, y] = parts[..] {
        if y == "yy" {
            return None; // after 2084: EDF+ gives the date in the recording field
        }
        if let (Some(day), Some(month), Some(yy)) = (two_digits(d), two_digits(m), two_digits(y)) {
            let year = i32::from(yy) + if yy >= 85 { 1900 } else { 2000 };
            if let Some(date) = valid_date(year, month, day) {
                return Some(date);
            }
        }
    }
    warnings.push(format!("start date {text:?} is not a valid dd.mm.yy date"));
    None
}

/// `hh.mm.ss`; `None` (with a warning) when unreadable.
fn parse_header_time(text: &str, warnings: &mut Vec<String>) -> Option<TimeOfDay> {
    let parts: Vec<&str> = text.trim().split('.').collect();
    if let [h, m, s] = parts[..] {
        if let (Some(hour), Some(minute), Some(second)) =
            (two_digits(h), two_digits(m), two_digits(s))
        {
            if hour < 24 && minute < 60 && second <= 60 {
                return Some(TimeOfDay {
                    hour,
                    minute,
                    second,
                    micros: 0,
                });
            }
        }
    }
    warnings.push(format!("start time {text:?} is not a valid hh.mm.ss time"));
    None
}

fn two_digits(s: &str) -> Option<u8> {
    (s.len() == 2 && s.bytes().all(|c| c.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn valid_date(year: i32, month: u8, day: u8) -> Option<Date> {
    ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)).then_some(Date {
        year,
        month,
        day,
    })
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// EDF+ recording field `Startdate dd-MMM-yyyy ...`: `Some(Some(date))`, `Some(None)` for
/// `Startdate X`, `None` when the field does not follow that form.
fn startdate_from_recording_field(field: &str, warnings: &mut Vec<String>) -> Option<Option<Date>> {
    let mut words = field.split_whitespace();
    if words.next() != Some("Startdate") {
        return None;
    }
    let word = words.next()?;
    if word == "X" {
        return Some(None);
    }
    let parsed = (|| {
        let parts: Vec<&str> = word.split('-').collect();
        let [d, m, y] = parts[..] else { return None };
        let day = two_digits(d)?;
        let month = MONTHS.iter().position(|n| n.eq_ignore_ascii_case(m))? as u8 + 1;
        if y.len() != 4 || !y.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        valid_date(y.parse().ok()?, month, day)
    })();
    if parsed.is_none() {
        warnings.push(format!(
            "recording field's Startdate {word:?} is not a dd-MMM-yyyy date; ignored"
        ));
        return None;
    }
    Some(parsed)
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(d: Date) -> i64 {
    let y = i64::from(d.year) - i64::from(d.month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(d.month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d.day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> Date {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    Date { year, month, day }
}

/// `base` moved by `seconds` (its time must be known); the date follows across midnight.
fn add_seconds(base: BaseDateTime, seconds: f64) -> BaseDateTime {
    let Some(t) = base.time else { return base };
    const DAY: i64 = 86_400_000_000;
    let start = ((i64::from(t.hour) * 60 + i64::from(t.minute)) * 60 + i64::from(t.second))
        * 1_000_000
        + i64::from(t.micros);
    // Clamp: an onset of ±1e12 s is absurd but must not overflow.
    let shift = (seconds * 1e6).round().clamp(-1e17, 1e17) as i64;
    let total = start + shift;
    let days = total.div_euclid(DAY);
    let rem = total.rem_euclid(DAY);
    let time = TimeOfDay {
        hour: (rem / 3_600_000_000) as u8,
        minute: (rem / 60_000_000 % 60) as u8,
        second: (rem / 1_000_000 % 60) as u8,
        micros: (rem % 1_000_000) as u32,
    };
    let date = base
        .date
        .map(|d| civil_from_days(days_from_civil(d) + days));
    BaseDateTime {
        time: Some(time),
        date,
    }
}

/// Write `rec` as plain EDF. Returns warnings about anything that could not be kept exactly
/// (truncated text fields, sub-second start time, missing samples). See [`encode_edf`].
pub fn write_edf(path: impl AsRef<Path>, rec: &Recording) -> Result<Vec<String>> {
    let path = path.as_ref();
    let (bytes, warnings) = encode_edf(rec, None).in_file(path)?;
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))?;
    Ok(warnings)
}

/// Write `rec` as EDF+C with an `EDF Annotations` signal holding `annotations` (onsets relative
/// to frame 0, as [`read_edf`] returns them). Returns warnings as [`write_edf`] does.
pub fn write_edf_plus(
    path: impl AsRef<Path>,
    rec: &Recording,
    annotations: &[EdfAnnotation],
) -> Result<Vec<String>> {
    let path = path.as_ref();
    let (bytes, warnings) = encode_edf(rec, Some(annotations)).in_file(path)?;
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))?;
    Ok(warnings)
}

/// A digital limit and the text of its physical value.
type Limit = (i32, String);

/// One output signal, ready to write.
struct OutSignal<'a> {
    label: String,
    dimension: String,
    transducer: String,
    prefilter: String,
    physical_min: String,
    physical_max: String,
    digital_min: i32,
    digital_max: i32,
    shift: u32,
    samples_per_frame: usize,
    samples: &'a [i32],
}

/// Encode `rec` as EDF (`annotations` = `None`) or EDF+C (`Some`), returning the file's bytes and
/// warnings.
///
/// - Digital samples must fit EDF's 16 bits, after dividing by `2^(adc_resolution - 16)` when
///   `adc_resolution > 16` (undoing the scaling [`parse_edf`] applies), or else by the smallest
///   power of two that divides every sample and brings them into range; otherwise the recording
///   cannot be written losslessly and an [`Error::invalid`] says which signal.
/// - The declared digital range is the one implied by `adc_resolution`/`adc_zero` when that gives
///   physical limits that print exactly in EDF's 8 characters, else -32768..32767, else the
///   widest range whose limits print exactly; only if none does are the limits rounded (warning).
/// - The record duration is chosen so that it prints exactly and (when possible) divides the
///   recording and keeps a data record within the recommended 61440 bytes; if the frames do not
///   fill the last data record, it is padded. Padding and [`MISSING`] samples are written as
///   -32768 below a digital minimum of at least -32767, which [`parse_edf`] reads as missing and
///   drops at the end (see the module documentation); a warning when a signal needs the whole
///   16-bit range and cannot be marked.
/// - Fields are printable ASCII: other characters become `_`; overlong text is cut (warning).
pub fn encode_edf(
    rec: &Recording,
    annotations: Option<&[EdfAnnotation]>,
) -> Result<(Vec<u8>, Vec<String>)> {
    let mut warnings = Vec::new();
    let plus = annotations.is_some();
    if rec.signals.is_empty() && !plus {
        return Err(Error::invalid("a plain EDF file needs at least one signal"));
    }
    if rec.signals.len() + usize::from(plus) > 9999 {
        return Err(Error::invalid("EDF holds at most 9999 signals"));
    }
    let ff = rec.frame_frequency;
    if !(rec.signals.is_empty() || ff.is_finite() && ff > 0.0) {
        return Err(Error::invalid(format!(
            "frame frequency {ff} Hz cannot be written"
        )));
    }
    let frames = rec.frames;

    // Data record layout.
    let frame_bytes: usize = rec
        .signals
        .iter()
        .map(|s| (s.samples_per_frame as usize).saturating_mul(2))
        .fold(0usize, usize::saturating_add);
    let (frames_per_record, duration_text) = if rec.signals.is_empty() {
        (0u64, "0".to_string())
    } else {
        choose_record_duration(ff, frames, frame_bytes)?
    };
    let padding = frames_per_record > 0 && !frames.is_multiple_of(frames_per_record);

    // Signals: one that has missing samples, or padding at the end, is declared with a digital
    // minimum above -32768, so that -32768 marks "no sample" (see the module documentation).
    let mut out = Vec::with_capacity(rec.signals.len());
    for (i, s) in rec.signals.iter().enumerate() {
        let marker = padding || s.samples.contains(&MISSING);
        let o = prepare_signal(rec, s, marker, &mut warnings)
            .map_err(|e| e.at(format!("signal {i} ({:?})", s.description)))?;
        out.push(o);
    }
    // EDF+ needs a data record to carry the annotations even when there are no frames.
    let records = if frames_per_record == 0 {
        0
    } else {
        frames.div_ceil(frames_per_record)
    }
    .max(u64::from(plus));
    let record_duration: f64 = duration_text.parse().unwrap_or(0.0);

    // Start date/time; the sub-second part goes into the time-keeping onsets (EDF+ only).
    let base = rec.base_datetime;
    let date = base.and_then(|b| b.date);
    let time = base.and_then(|b| b.time);
    let frac = time.map_or(0.0, |t| f64::from(t.micros) / 1e6);
    if frac != 0.0 && !plus {
        warnings.push("plain EDF cannot store the sub-second part of the start time".into());
    }

    // Annotation signal contents, one byte string per data record.
    let mut tal_records: Vec<Vec<u8>> = Vec::new();
    if let Some(anns) = annotations {
        let n = records.max(1) as usize;
        tal_records.reserve(n);
        for r in 0..n {
            let onset = frac + r as f64 * record_duration;
            tal_records.push(format!("+{}\x14\x14\0", fmt_onset(onset)).into_bytes());
        }
        for (k, a) in anns.iter().enumerate() {
            if !a.onset.is_finite() || a.duration.is_some_and(|d| !(d.is_finite() && d >= 0.0)) {
                return Err(Error::invalid(format!(
                    "annotation {k} has onset {} and duration {:?}",
                    a.onset, a.duration
                )));
            }
            let r = if record_duration > 0.0 {
                ((a.onset / record_duration).floor().max(0.0) as usize).min(n - 1)
            } else {
                0
            };
            let t = &mut tal_records[r];
            let onset = a.onset + frac;
            t.extend(
                format!(
                    "{}{}",
                    if onset < 0.0 { "-" } else { "+" },
                    fmt_onset(onset.abs())
                )
                .bytes(),
            );
            if let Some(d) = a.duration {
                t.push(TAL_DURATION);
                t.extend(fmt_onset(d).bytes());
            }
            t.push(TAL_SEP);
            let clean: String = a
                .text
                .chars()
                .map(|c| {
                    if matches!(c, '\0' | '\x14' | '\x15') {
                        ' '
                    } else {
                        c
                    }
                })
                .collect();
            if clean != a.text {
                warnings.push(format!(
                    "annotation {k}: bytes 0, 20 and 21 replaced by spaces in its text"
                ));
            }
            t.extend(clean.bytes());
            t.push(TAL_SEP);
            t.push(0);
        }
    }
    let annotation_samples = tal_records
        .iter()
        .map(|t| t.len().div_ceil(2))
        .max()
        .unwrap_or(0);

    // Header.
    let ns = out.len() + usize::from(plus);
    let mut h: Vec<u8> = Vec::with_capacity(HEADER_BLOCK * (ns + 1));
    let put = |h: &mut Vec<u8>, text: &str, width: usize, what: &str, w: &mut Vec<String>| {
        let mut s: Vec<u8> = text
            .chars()
            .map(|c| {
                if (' '..='~').contains(&c) {
                    c as u8
                } else {
                    b'_'
                }
            })
            .collect();
        if s.len() > width {
            w.push(format!("{what} {text:?} cut to {width} characters"));
            s.truncate(width);
        }
        s.resize(width, b' ');
        h.extend_from_slice(&s);
    };
    let info = |prefix: &str| {
        rec.info
            .iter()
            .find_map(|l| l.strip_prefix(prefix).map(str::to_string))
    };
    let patient = info("patient: ").unwrap_or_else(|| "X X X X".to_string());
    let date_word = date.map_or("X".to_string(), |d| {
        format!(
            "{:02}-{}-{:04}",
            d.day,
            MONTHS[usize::from(d.month - 1) % 12],
            d.year
        )
    });
    let recording_field = match info("recording: ") {
        Some(r) if r.starts_with("Startdate ") => {
            // Keep the rest of the field but state the date this recording actually starts on.
            let rest: Vec<&str> = r.split_whitespace().skip(2).collect();
            format!("Startdate {date_word} {}", rest.join(" "))
        }
        Some(r) if !plus => r,
        _ => format!("Startdate {date_word} X X X"),
    };
    let header_date = match date {
        Some(d) if (1985..=2084).contains(&d.year) => {
            format!("{:02}.{:02}.{:02}", d.day, d.month, d.year % 100)
        }
        Some(d) if d.year > 2084 => format!("{:02}.{:02}.yy", d.day, d.month),
        Some(_) | None => "01.01.85".to_string(),
    };
    if date.is_some_and(|d| d.year < 1985) && !plus {
        warnings.push("plain EDF cannot store a start date before 1985".into());
    }
    let header_time = time.map_or("00.00.00".to_string(), |t| {
        format!("{:02}.{:02}.{:02}", t.hour, t.minute, t.second.min(59))
    });
    put(&mut h, "0", 8, "version", &mut warnings);
    put(&mut h, &patient, 80, "patient field", &mut warnings);
    put(
        &mut h,
        &recording_field,
        80,
        "recording field",
        &mut warnings,
    );
    put(&mut h, &header_date, 8, "start date", &mut warnings);
    put(&mut h, &header_time, 8, "start time", &mut warnings);
    put(
        &mut h,
        &(HEADER_BLOCK * (ns + 1)).to_string(),
        8,
        "header size",
        &mut warnings,
    );
    put(
        &mut h,
        if plus { "EDF+C" } else { "" },
        44,
        "reserved",
        &mut warnings,
    );
    if records > 99_999_999 {
        return Err(Error::invalid(format!(
            "{records} data records do not fit EDF's 8-character field"
        )));
    }
    put(
        &mut h,
        &records.to_string(),
        8,
        "number of data records",
        &mut warnings,
    );
    put(&mut h, &duration_text, 8, "record duration", &mut warnings);
    put(
        &mut h,
        &ns.to_string(),
        4,
        "number of signals",
        &mut warnings,
    );
    let fpr = frames_per_record as usize;
    let samples_per_record = |o: &OutSignal| o.samples_per_frame * fpr;
    for o in &out {
        let n = samples_per_record(o);
        if n > 99_999_999 {
            return Err(Error::invalid(format!(
                "signal {:?}: {n} samples per data record do not fit EDF's 8-character field",
                o.label
            )));
        }
    }
    if annotation_samples > 99_999_999 {
        return Err(Error::invalid("annotations too long for one data record"));
    }
    // Each field for all signals, then the next field.
    let plus_field = |ann: &str| plus.then(|| ann.to_string());
    let column = |f: &dyn Fn(&OutSignal) -> String, ann: &str| -> Vec<String> {
        out.iter().map(f).chain(plus_field(ann)).collect()
    };
    let fields: [(Vec<String>, usize, &str); 10] = [
        (column(&|o| o.label.clone(), ANNOTATION_LABEL), 16, "label"),
        (column(&|o| o.transducer.clone(), ""), 80, "transducer"),
        (
            column(&|o| o.dimension.clone(), ""),
            8,
            "physical dimension",
        ),
        (
            column(&|o| o.physical_min.clone(), "-1"),
            8,
            "physical minimum",
        ),
        (
            column(&|o| o.physical_max.clone(), "1"),
            8,
            "physical maximum",
        ),
        (
            column(&|o| o.digital_min.to_string(), "-32768"),
            8,
            "digital minimum",
        ),
        (
            column(&|o| o.digital_max.to_string(), "32767"),
            8,
            "digital maximum",
        ),
        (column(&|o| o.prefilter.clone(), ""), 80, "prefiltering"),
        (
            column(
                &|o| samples_per_record(o).to_string(),
                &annotation_samples.to_string(),
            ),
            8,
            "samples per record",
        ),
        (column(&|_| String::new(), ""), 32, "reserved"),
    ];
    for (values, width, what) in &fields {
        for v in values {
            put(&mut h, v, *width, what, &mut warnings);
        }
    }

    // Data records.
    let record_bytes = frame_bytes * fpr + annotation_samples * 2;
    let total = (records as usize)
        .checked_mul(record_bytes)
        .and_then(|d| d.checked_add(h.len()))
        .filter(|&t| t as u64 <= MAX_FILE_BYTES)
        .ok_or_else(|| Error::too_large("EDF file would exceed the size limit"))?;
    let mut bytes = h;
    bytes.reserve_exact(total - bytes.len());
    let mut padded = 0u64;
    let mut missing = vec![0u64; out.len()];
    for r in 0..records as usize {
        for (i, o) in out.iter().enumerate() {
            let n = samples_per_record(o);
            let start = r * n;
            for j in start..start + n {
                let v = match o.samples.get(j) {
                    Some(&d) if d != MISSING => (d >> o.shift) as i16,
                    Some(_) => {
                        missing[i] += 1;
                        i16::MIN
                    }
                    None => {
                        padded += 1;
                        i16::MIN
                    }
                };
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        if plus {
            let t = tal_records.get(r).map_or(&[][..], Vec::as_slice);
            let start = bytes.len();
            bytes.extend_from_slice(t);
            bytes.resize(start + annotation_samples * 2, 0);
        }
    }
    for (o, m) in out.iter().zip(&missing) {
        if *m > 0 && o.digital_min == i32::from(i16::MIN) {
            warnings.push(format!(
                "signal {:?}: {m} missing samples written as -32768, which is within its digital \
                 range and will read back as a value",
                o.label
            ));
        }
    }
    if padded > 0 && out.iter().any(|o| o.digital_min == i32::from(i16::MIN)) {
        warnings.push(format!(
            "last data record padded with {} frames of -32768, which will read back as samples \
             (some signal's values fill the whole 16-bit range)",
            frames_per_record * records - frames
        ));
    }
    Ok((bytes, warnings))
}

/// Work out how signal `i` is stored: the shift back to 16 bits and exact physical limits.
///
/// With `marker`, the declared digital minimum is kept above -32768 so that -32768 (written for
/// missing samples and padding) lies outside the range and reads back as missing; when the
/// values need the whole 16-bit range, the signal is written without the marker (the caller
/// warns).
fn prepare_signal<'a>(
    rec: &Recording,
    s: &'a Signal,
    marker: bool,
    warnings: &mut Vec<String>,
) -> Result<OutSignal<'a>> {
    if marker {
        let mut notes = Vec::new();
        if let Ok(o) = prepare_signal_in(rec, s, i32::from(i16::MIN) + 1, &mut notes) {
            if notes.is_empty() {
                return Ok(o);
            }
            // The marker would cost rounded limits: exact values matter more, if the full
            // range gives them.
            let mut full = Vec::new();
            if let Ok(exact) = prepare_signal_in(rec, s, i32::from(i16::MIN), &mut full) {
                if full.is_empty() {
                    return Ok(exact);
                }
            }
            warnings.extend(notes);
            return Ok(o);
        }
    }
    prepare_signal_in(rec, s, i32::from(i16::MIN), warnings)
}

/// [`prepare_signal`] with the lowest digital value the declared range may start at.
fn prepare_signal_in<'a>(
    rec: &Recording,
    s: &'a Signal,
    lowest: i32,
    warnings: &mut Vec<String>,
) -> Result<OutSignal<'a>> {
    let spf = s.samples_per_frame as usize;
    if spf == 0 {
        return Err(Error::invalid("0 samples per frame"));
    }
    let expected = (rec.frames as usize).checked_mul(spf);
    if expected != Some(s.samples.len()) {
        return Err(Error::invalid(format!(
            "{} samples, but {} frames × {spf} samples per frame",
            s.samples.len(),
            rec.frames
        )));
    }
    let real = || s.samples.iter().copied().filter(|&d| d != MISSING);
    let (lo, hi) = real().fold((i32::MAX, i32::MIN), |(lo, hi), d| (lo.min(d), hi.max(d)));
    let (lo, hi) = if lo > hi { (0, 0) } else { (lo, hi) };
    // Largest power of two dividing every sample (32 when all are zero).
    let common = real().fold(0i32, |acc, d| acc | d).trailing_zeros();
    let fits = |shift: u32| {
        let range = lowest..=i32::from(i16::MAX);
        shift <= common && range.contains(&(lo >> shift)) && range.contains(&(hi >> shift))
    };
    let hinted = s
        .adc_resolution
        .checked_sub(16)
        .filter(|&k| k > 0 && k < 31 && fits(k));
    let shift = hinted
        .or_else(|| (0..31).find(|&k| fits(k)))
        .ok_or_else(|| {
            Error::invalid(format!(
                "digital values {lo}..{hi} do not fit EDF's 16-bit samples"
            ))
        })?;
    let scale = f64::from(1u32 << shift);
    let gain = s.effective_gain() / scale;
    let baseline = f64::from(s.baseline) / scale;
    let physical = |d: i32| (f64::from(d) - baseline) / gain;
    let (elo, ehi) = (lo >> shift, hi >> shift);

    // Candidate declared ranges, best first.
    let mut candidates: Vec<(i32, i32)> = Vec::new();
    if (1..=16).contains(&s.adc_resolution.saturating_sub(shift)) || hinted.is_some() {
        let bits = if hinted.is_some() {
            16
        } else {
            s.adc_resolution
        };
        let half = 1i64 << (bits - 1);
        let zero = i64::from(s.adc_zero >> shift);
        let (a, b) = (zero - half, zero + half - 1);
        if a >= i64::from(lowest) && b <= i64::from(i16::MAX) {
            candidates.push((a as i32, b as i32));
        }
    }
    candidates.push((lowest, i32::from(i16::MAX)));
    // A limit prints "exactly" when its 8-character text equals the true value to 1e-12 of the
    // whole physical range (only float noise remains). When the reader had to round the baseline
    // at 2^-15 (adc_resolution 31), no limit is exact in that sense, so allow 2^-15 of a step and
    // rely on the identity check below.
    let span = (physical(i32::from(i16::MAX)) - physical(i32::from(i16::MIN))).abs();
    let strict = 1e-12 * span;
    let loose = if hinted == Some(15) {
        strict + 1.0 / gain.abs() / 32768.0
    } else {
        strict
    };
    let printed = |d: i32, tolerance: f64| -> Option<String> {
        let p = physical(d);
        let text = fmt_field(p)?;
        let back: f64 = text.parse().ok()?;
        ((back - p).abs() <= tolerance).then_some(text)
    };
    // Best of all: reading the file back gives this very gain, baseline and scaling.
    let identical = |a: i32, b: i32, pa: &str, pb: &str| {
        let header = SignalHeader {
            label: String::new(),
            transducer: String::new(),
            dimension: String::new(),
            physical_min: pa.parse().unwrap_or(f64::NAN),
            physical_max: pb.parse().unwrap_or(f64::NAN),
            digital_min: i64::from(a),
            digital_max: i64::from(b),
            prefilter: String::new(),
            samples_per_record: 1,
        };
        matches!(calibration(&header), Ok((g, base, k))
            if g == s.effective_gain() && base == s.baseline && k == shift)
    };
    // Further candidates: digital values near either end whose physical values print within
    // `tolerance`, shortest text first (short texts are the truly exact decimals).
    let scan = |tolerance: f64| -> (Vec<Limit>, Vec<Limit>) {
        let mut low: Vec<Limit> = (lowest..=elo.min(0))
            .filter_map(|d| printed(d, tolerance).map(|t| (d, t)))
            .collect();
        let mut high: Vec<Limit> = (ehi.max(0)..=i32::from(i16::MAX))
            .rev()
            .filter_map(|d| printed(d, tolerance).map(|t| (d, t)))
            .collect();
        low.sort_by_key(|(d, t)| (t.len(), *d));
        high.sort_by_key(|(d, t)| (t.len(), -*d));
        low.truncate(16);
        high.truncate(16);
        (low, high)
    };
    let mut chosen = None;
    for &(a, b) in &candidates {
        if let (Some(pa), Some(pb)) = (printed(a, loose), printed(b, loose)) {
            if identical(a, b, &pa, &pb) {
                chosen = Some((a, b, pa, pb));
                break;
            }
        }
    }
    if chosen.is_none() {
        let (low, high) = scan(loose);
        chosen = low
            .iter()
            .flat_map(|l| high.iter().map(move |h| (l, h)))
            .find(|((a, pa), (b, pb))| a < b && identical(*a, *b, pa, pb))
            .map(|((a, pa), (b, pb))| (*a, *b, pa.clone(), pb.clone()));
    }
    if chosen.is_none() {
        // Not identical (e.g. the reader would pick another scaling), but physically exact.
        chosen = candidates
            .iter()
            .find_map(|&(a, b)| Some((a, b, printed(a, strict)?, printed(b, strict)?)));
    }
    if chosen.is_none() {
        let (low, high) = scan(strict);
        if let (Some((a, pa)), Some((b, pb))) = (low.first(), high.first()) {
            if a < b {
                chosen = Some((*a, *b, pa.clone(), pb.clone()));
            }
        }
    }
    let (dmin, dmax, pmin, pmax) = match chosen {
        Some(c) => c,
        None => {
            let (a, b) = (lowest, i32::from(i16::MAX));
            let pa = fmt_field(physical(a));
            let pb = fmt_field(physical(b));
            let (Some(pa), Some(pb)) = (pa, pb) else {
                return Err(Error::invalid(format!(
                    "physical range {}..{} does not fit EDF's 8-character fields",
                    physical(a),
                    physical(b)
                )));
            };
            warnings.push(format!(
                "signal {:?}: physical limits rounded to {pa} and {pb}; gain and baseline change \
                 slightly",
                s.description
            ));
            (a, b, pa, pb)
        }
    };
    let prefix_value = |p: &str| {
        rec.info
            .iter()
            .find_map(|l| {
                l.strip_prefix(&format!("{p} {}: ", s.description))
                    .map(str::to_string)
            })
            .unwrap_or_default()
    };
    Ok(OutSignal {
        label: s.description.clone(),
        dimension: s.units.clone(),
        transducer: prefix_value("transducer"),
        prefilter: prefix_value("prefilter"),
        physical_min: pmin,
        physical_max: pmax,
        digital_min: dmin,
        digital_max: dmax,
        shift,
        samples_per_frame: spf,
        samples: &s.samples,
    })
}

/// Frames per data record and the record duration's text: the duration must print exactly in
/// 8 characters; prefer records that divide the recording, stay within the recommended size, and
/// last about a second.
fn choose_record_duration(ff: f64, frames: u64, frame_bytes: usize) -> Result<(u64, String)> {
    let max_f = ((ff * 60.0).ceil() as u64).clamp(1, 1_000_000);
    let mut best: Option<((bool, bool, u64), u64, String)> = None;
    for f in 1..=max_f {
        let d = f as f64 / ff;
        let Some(text) = fmt_field(d) else { continue };
        let Ok(back) = text.parse::<f64>() else {
            continue;
        };
        if back <= 0.0 || (f as f64 / back - ff).abs() > 1e-9 * ff {
            continue;
        }
        let too_big = f > 1 && frame_bytes.saturating_mul(f as usize) > RECOMMENDED_RECORD_BYTES;
        let ragged = !frames.is_multiple_of(f);
        // Distance from 1 s, in microseconds (integer so the key is totally ordered).
        let distance = ((d.ln().abs()) * 1e6) as u64;
        let key = (too_big, ragged, distance);
        if best.as_ref().is_none_or(|(k, _, _)| key < *k) {
            best = Some((key, f, text));
        }
    }
    best.map(|(_, f, t)| (f, t)).ok_or_else(|| {
        Error::invalid(format!(
            "frame frequency {ff} Hz gives no data record duration that EDF's 8-character field \
             states exactly"
        ))
    })
}

/// A number in at most 8 characters, as precisely as fits; `None` if even the integer part
/// does not fit.
fn fmt_field(x: f64) -> Option<String> {
    if !x.is_finite() {
        return None;
    }
    let shortest = format!("{x}");
    if shortest.len() <= 8 {
        return Some(shortest);
    }
    for decimals in (0..=7).rev() {
        let s = format!("{x:.decimals$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        let s = if s == "-0" { "0".to_string() } else { s };
        if s.len() <= 8 {
            return Some(s);
        }
    }
    None
}

/// A non-negative TAL time: plain decimal (no exponent), trailing zeros removed.
fn fmt_onset(x: f64) -> String {
    let s = format!("{x:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_day_arithmetic_round_trips() {
        // Every day from 1900 to 2100, including the leap days of 2000 (leap) and 1900/2100 (not).
        let start = days_from_civil(Date {
            year: 1900,
            month: 1,
            day: 1,
        });
        let mut expected = Date {
            year: 1900,
            month: 1,
            day: 1,
        };
        for z in start..start + 73_049 {
            let d = civil_from_days(z);
            assert_eq!(d, expected);
            assert_eq!(days_from_civil(d), z);
            expected = if d.day < days_in_month(d.year, d.month) {
                Date {
                    day: d.day + 1,
                    ..d
                }
            } else if d.month < 12 {
                Date {
                    month: d.month + 1,
                    day: 1,
                    ..d
                }
            } else {
                Date {
                    year: d.year + 1,
                    month: 1,
                    day: 1,
                }
            };
        }
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(
            days_from_civil(Date {
                year: 1970,
                month: 1,
                day: 1
            }),
            0
        );
    }

    #[test]
    fn fields_print_in_eight_characters() {
        assert_eq!(fmt_field(-5.12).as_deref(), Some("-5.12"));
        assert_eq!(
            fmt_field(-7_566.740_415_140_415).as_deref(),
            Some("-7566.74")
        );
        assert_eq!(fmt_field(1.0 / 3.0).as_deref(), Some("0.333333"));
        assert_eq!(fmt_field(-0.000_000_01).as_deref(), Some("0"));
        assert_eq!(fmt_field(123_456_789.0), None);
        assert_eq!(fmt_field(f64::NAN), None);
        assert_eq!(fmt_onset(0.125), "0.125");
        assert_eq!(fmt_onset(3.0), "3");
        assert_eq!(fmt_onset(1e-10), "0");
    }

    #[test]
    fn record_duration_choice() {
        // 360 Hz, 720 frames: 1 s records divide the recording.
        assert_eq!(
            choose_record_duration(360.0, 720, 4).unwrap(),
            (360, "1".to_string())
        );
        // 1000/3 Hz: 1 s is not a whole number of frames; 0.9 s (300 frames) is, exactly.
        assert_eq!(
            choose_record_duration(1000.0 / 3.0, 3000, 2).unwrap(),
            (300, "0.9".to_string())
        );
        // Large frames: records stay within 61440 bytes.
        let (f, d) = choose_record_duration(1000.0, 100_000, 400).unwrap();
        assert!(f * 400 <= 61_440 && 100_000 % f == 0, "{f} {d}");
    }
}
