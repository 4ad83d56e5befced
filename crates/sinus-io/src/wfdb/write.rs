//! Writing a [`Recording`] as a WFDB record: `NAME.dat` with every signal interleaved frame by
//! frame, and `NAME.hea` with full signal lines, so that the WFDB library and wfdb-python read
//! back the same digital samples and fields.
//!
//! Each signal line carries the format (with `xN` for multi-frequency signals), gain with
//! baseline and units, ADC resolution, ADC zero, initial value (the first sample), checksum,
//! block size 0 and the description; the record line carries the frame frequency, number of
//! frames and the base time and date; info lines become `#` comments.
//!
//! Notes for readers of the output:
//! - A gain of 0 (uncalibrated) is written as the gain readers use for it, 200.
//! - Empty units are omitted; readers then assume `mV`.
//! - A base date without a base time is written with time `00:00:00` (the date field is
//!   positional, after the time).
//! - FLAC formats (508/516/524) are refused here.

use super::format::{self, SignalFormat};
use super::header::{Header, RecordLine, SignalSpec};
use crate::recording::TimeOfDay;
use crate::{Error, Recording, Result, ResultExt, MISSING};
use std::path::Path;

/// Write `recording` as record `name` in directory `dir` (`dir/name.hea`, `dir/name.dat`),
/// storing all signals in `format`.
///
/// Errors ([`crate::ErrorKind::Invalid`]) when the record name is not made of letters, digits,
/// `_` and `-`, a signal's sample count is not `frames × samples_per_frame`, units contain
/// blanks or parentheses, a description or info line contains a line break, the frequency or a
/// gain is not a finite number, or a sample does not fit the format (the error names the
/// signal). Existing files are overwritten.
pub fn write_record(
    dir: impl AsRef<Path>,
    name: &str,
    recording: &Recording,
    format: SignalFormat,
) -> Result<()> {
    let dir = dir.as_ref();
    let header = build_header(name, recording, format)?;
    if !recording.signals.is_empty() {
        let dat = dir.join(format!("{name}.dat"));
        let bytes = encode_signals(recording, format).in_file(&dat)?;
        std::fs::write(&dat, bytes).map_err(|e| Error::io(&dat, e))?;
    }
    let hea = dir.join(format!("{name}.hea"));
    std::fs::write(&hea, header.to_text()).map_err(|e| Error::io(&hea, e))?;
    Ok(())
}

/// The header [`write_record`] writes for `recording` (checksums and initial values included).
pub fn build_header(name: &str, recording: &Recording, format: SignalFormat) -> Result<Header> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Error::invalid(format!(
            "record name \"{name}\" must be non-empty letters, digits, '_' or '-'"
        )));
    }
    if format.is_flac() {
        return Err(Error::unsupported(format!(
            "writing FLAC format {} is not supported",
            format.code()
        )));
    }
    let f = recording.frame_frequency;
    if !(f.is_finite() && f > 0.0) {
        return Err(Error::invalid(format!(
            "frame frequency {f} must be a positive number"
        )));
    }
    let signal_count =
        u32::try_from(recording.signals.len()).map_err(|_| Error::invalid("too many signals"))?;
    for line in &recording.info {
        if line.contains(['\n', '\r']) {
            return Err(Error::invalid(format!(
                "info line \"{}\" contains a line break",
                line.escape_debug()
            )));
        }
    }

    let mut record = RecordLine::new(name, signal_count);
    record.sampling_frequency = Some(f);
    record.samples = Some(recording.frames);
    if let Some(dt) = recording.base_datetime {
        record.base_time = dt.time;
        record.base_date = dt.date;
        if dt.date.is_some() && dt.time.is_none() {
            record.base_time = Some(TimeOfDay {
                hour: 0,
                minute: 0,
                second: 0,
                micros: 0,
            });
        }
    }

    let file_name = format!("{name}.dat");
    let invalid = format.invalid_value();
    let mut signals = Vec::with_capacity(recording.signals.len());
    for (i, s) in recording.signals.iter().enumerate() {
        let what = format!("signal {i} ({})", s.description);
        check_length(recording, i)?;
        if !s.gain.is_finite() {
            return Err(Error::invalid(format!(
                "{what}: gain {} is not finite",
                s.gain
            )));
        }
        if s.units
            .contains(|c: char| c.is_whitespace() || c == '(' || c == ')')
        {
            return Err(Error::invalid(format!(
                "{what}: units \"{}\" must not contain blanks or parentheses",
                s.units
            )));
        }
        if s.description.contains(['\n', '\r']) {
            return Err(Error::invalid(format!(
                "{what}: description contains a line break"
            )));
        }
        let mut spec = SignalSpec::new(file_name.clone(), format.code());
        spec.samples_per_frame = s.samples_per_frame;
        // The gain physical values use: an uncalibrated 0 is written as WFDB's 200, which
        // every reader uses for it anyway.
        spec.adc_gain = Some(s.effective_gain());
        spec.baseline = Some(s.baseline);
        spec.units = (!s.units.is_empty()).then(|| s.units.clone());
        spec.adc_resolution = Some(s.adc_resolution);
        spec.adc_zero = Some(s.adc_zero);
        spec.initial_value = Some(initial_value(s));
        let sum = s.samples.iter().fold(0i32, |acc, &v| {
            acc.wrapping_add(if v == MISSING { invalid } else { v })
        });
        spec.checksum = Some(i32::from(sum as i16));
        spec.block_size = Some(0);
        let description = s.description.trim();
        spec.description = (!description.is_empty()).then(|| description.to_string());
        signals.push(spec);
    }
    Ok(Header {
        record,
        signals,
        segments: None,
        info: recording.info.clone(),
    })
}

/// The header's initial value: the first sample, or the ADC zero when it is missing.
fn initial_value(s: &crate::Signal) -> i32 {
    match s.samples.first() {
        Some(&v) if v != MISSING => v,
        _ => s.adc_zero,
    }
}

fn check_length(recording: &Recording, i: usize) -> Result<()> {
    let s = &recording.signals[i];
    if s.samples_per_frame == 0 {
        return Err(Error::invalid(format!(
            "signal {i} ({}): samples per frame must be at least 1",
            s.description
        )));
    }
    let expected = recording.frames.checked_mul(u64::from(s.samples_per_frame));
    if expected != Some(s.samples.len() as u64) {
        return Err(Error::invalid(format!(
            "signal {i} ({}): {} samples, expected {} frames × {} samples per frame",
            s.description,
            s.samples.len(),
            recording.frames,
            s.samples_per_frame
        )));
    }
    Ok(())
}

/// Interleave the signals frame by frame and encode them.
fn encode_signals(recording: &Recording, format: SignalFormat) -> Result<Vec<u8>> {
    let spf: Vec<u32> = recording
        .signals
        .iter()
        .map(|s| s.samples_per_frame)
        .collect();
    let initial: Vec<i32> = recording.signals.iter().map(initial_value).collect();
    let (lo, hi) = format.valid_range();
    for (i, s) in recording.signals.iter().enumerate() {
        if let Some(v) = s
            .samples
            .iter()
            .find(|&&v| v != MISSING && (v < lo || v > hi))
        {
            return Err(Error::invalid(format!(
                "signal {i} ({}): sample {v} does not fit format {} ({lo}..={hi})",
                s.description,
                format.code()
            )));
        }
    }
    let frame_len: usize = spf.iter().map(|&n| n as usize).sum();
    let frames = recording.frames as usize;
    let mut interleaved = Vec::with_capacity(frames.saturating_mul(frame_len));
    for f in 0..frames {
        for s in &recording.signals {
            let n = s.samples_per_frame as usize;
            interleaved.extend_from_slice(&s.samples[f * n..(f + 1) * n]);
        }
    }
    format::encode(format, &interleaved, &spf, &initial)
}
