//! WFDB header files (`.hea`): parsing and writing.
//!
//! A header is plain text: a *record line*, then either one *signal line* per signal
//! (single-segment records) or one *segment line* per segment (multi-segment records), with
//! `#` comment ("info") lines and blank lines allowed anywhere. The grammar, as the WFDB library
//! reads it (header(5)):
//!
//! ```text
//! record line:  name[/segments] signals [frequency[/counter_frequency[(base_counter)]]
//!               [samples [base_time [base_date]]]]
//! signal line:  file format[xspf][:skew][+byte_offset] [gain[(baseline)][/units] [resolution
//!               [adc_zero [initial_value [checksum [block_size [description...]]]]]]]
//! segment line: name samples          (name `~` = null segment)
//! ```
//!
//! Trailing fields may be omitted; an omitted field takes WFDB's default. [`RecordLine`] and
//! [`SignalSpec`] keep what the file says (`None` = absent), and their `*_or_default` methods
//! give the value WFDB uses:
//!
//! | field | default |
//! |---|---|
//! | sampling frequency | 250 Hz |
//! | counter frequency | the sampling frequency; base counter 0 |
//! | number of samples | unknown (0 means the same): read to the end, no checksum check |
//! | samples per frame, skew, byte offset | 1, 0, 0 |
//! | ADC gain | 0 or absent = uncalibrated; 200 ADC units per unit is assumed |
//! | baseline | the ADC zero |
//! | units | `mV` |
//! | ADC resolution | 0 or absent: by format (8 → 10 bits, 80/508 → 8, 212 → 12, 310/311 → 10, 160/516 → 16, 24/524 → 24, 32 → 32, else 12) |
//! | ADC zero | 0 |
//! | initial value | the ADC zero |
//! | checksum | absent: not checked |
//! | block size | 0 |
//! | description | `record NAME, signal N` |
//!
//! Parsing never fails on non-UTF-8 bytes (they are replaced with U+FFFD) and accepts LF and
//! CRLF line ends. Every error names the line (`line N`).

use crate::recording::{BaseDateTime, Date, TimeOfDay};
use crate::{Error, Result};
use serde::Serialize;
use std::fmt::Write as _;

/// WFDB's default sampling frequency when the header gives none (`DEFFREQ`).
pub const DEFAULT_FREQUENCY: f64 = 250.0;
/// WFDB's assumed gain for an uncalibrated (gain 0 or absent) signal (`DEFGAIN`).
pub const DEFAULT_GAIN: f64 = 200.0;
/// WFDB's default physical units.
pub const DEFAULT_UNITS: &str = "mV";

/// A parsed WFDB header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Header {
    /// The record line (first non-comment line).
    pub record: RecordLine,
    /// Signal specifications in header order; empty for a multi-segment header (its signals are
    /// described by the layout segment's or the segments' own headers).
    pub signals: Vec<SignalSpec>,
    /// Segment lines of a multi-segment header (`None` for a single-segment header).
    pub segments: Option<Vec<SegmentSpec>>,
    /// Text of the `#` comment lines, in file order, without the `#` and surrounding blanks.
    pub info: Vec<String>,
}

/// The record line: name, signal count, frequencies, length and start time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordLine {
    /// Record name.
    pub name: String,
    /// Number of segments (`name/N`); present only in multi-segment headers.
    pub segment_count: Option<u32>,
    /// Number of signals.
    pub signal_count: u32,
    /// Sampling frequency in Hz as written: the *frame* frequency (a signal with `x N` samples
    /// per frame is sampled at N times this). `None` = absent (250 Hz is used).
    pub sampling_frequency: Option<f64>,
    /// Counter frequency in Hz (`frequency/counter`), for converting counter values to time.
    pub counter_frequency: Option<f64>,
    /// Counter value of sample 0 (`frequency/counter(base)`).
    pub base_counter: Option<f64>,
    /// Number of samples per signal, i.e. frames (for multi-segment records the total of the
    /// segments). `None` or 0 = unspecified.
    pub samples: Option<u64>,
    /// Time of day of sample 0.
    pub base_time: Option<TimeOfDay>,
    /// Date of sample 0 (only given together with a base time).
    pub base_date: Option<Date>,
}

/// One signal line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalSpec {
    /// Name of the signal file, relative to the header's directory (`~` for a null signal in a
    /// layout header).
    pub file_name: String,
    /// Storage format number (0 = null signal, 16, 212, ...); see
    /// [`super::format::SignalFormat::from_code`].
    pub format: u32,
    /// Samples of this signal per frame (`x` suffix of the format field); at least 1.
    pub samples_per_frame: u32,
    /// Skew in frames (`:` suffix): this signal's sample for frame `i` is stored at frame
    /// `i + skew` of the file.
    pub skew: u64,
    /// Bytes to skip at the start of the signal file (`+` suffix), e.g. a foreign file header.
    pub byte_offset: u64,
    /// ADC gain in ADC units per physical unit; `None` = absent, `Some(0.0)` = uncalibrated.
    pub adc_gain: Option<f64>,
    /// Digital value of 0 physical units (`gain(baseline)`); `None` = the ADC zero.
    pub baseline: Option<i32>,
    /// Physical units (`gain/units`); `None` = `mV`.
    pub units: Option<String>,
    /// ADC resolution in bits; `None` or 0 = the format's default.
    pub adc_resolution: Option<u32>,
    /// ADC value at the centre of its range; `None` = 0.
    pub adc_zero: Option<i32>,
    /// Value of the first sample (the starting point of difference formats); `None` = ADC zero.
    pub initial_value: Option<i32>,
    /// 16-bit checksum of all the signal's samples, as written (WFDB writes it signed,
    /// wfdb-python unsigned; it is compared modulo 2^16);
    /// `None` = not given.
    pub checksum: Option<i32>,
    /// Block size in bytes for special (device) files; `None` = 0.
    pub block_size: Option<u32>,
    /// Signal description (may contain spaces); `None` = absent.
    pub description: Option<String>,
}

/// One segment line of a multi-segment header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentSpec {
    /// Segment record name (its header is `NAME.hea` beside the master header), or `~` for a
    /// null segment (a gap: all samples missing).
    pub name: String,
    /// Number of frames in the segment; 0 marks the layout segment (first segment of a
    /// variable-layout record, whose header lists all signals and stores no samples).
    pub samples: u64,
}

impl SegmentSpec {
    /// Whether this is a null segment (`~`), which has no record of its own.
    pub fn is_null(&self) -> bool {
        self.name == "~"
    }
}

impl RecordLine {
    /// A record line with only the mandatory fields (name and signal count).
    pub fn new(name: impl Into<String>, signal_count: u32) -> Self {
        RecordLine {
            name: name.into(),
            segment_count: None,
            signal_count,
            sampling_frequency: None,
            counter_frequency: None,
            base_counter: None,
            samples: None,
            base_time: None,
            base_date: None,
        }
    }

    /// Frame frequency in Hz (250 when absent).
    pub fn sampling_frequency_or_default(&self) -> f64 {
        self.sampling_frequency.unwrap_or(DEFAULT_FREQUENCY)
    }

    /// Counter frequency in Hz (the sampling frequency when absent or not positive).
    pub fn counter_frequency_or_default(&self) -> f64 {
        match self.counter_frequency {
            Some(f) if f > 0.0 => f,
            _ => self.sampling_frequency_or_default(),
        }
    }

    /// Base counter value (0 when absent).
    pub fn base_counter_or_default(&self) -> f64 {
        self.base_counter.unwrap_or(0.0)
    }

    /// Number of frames when specified (absent and 0 both mean unspecified).
    pub fn known_samples(&self) -> Option<u64> {
        self.samples.filter(|&n| n > 0)
    }

    /// Base time and date, if either is given.
    pub fn base_datetime(&self) -> Option<BaseDateTime> {
        if self.base_time.is_none() && self.base_date.is_none() {
            None
        } else {
            Some(BaseDateTime {
                time: self.base_time,
                date: self.base_date,
            })
        }
    }
}

impl SignalSpec {
    /// A signal line with only the file name and format; every other field absent (defaults).
    pub fn new(file_name: impl Into<String>, format: u32) -> Self {
        SignalSpec {
            file_name: file_name.into(),
            format,
            samples_per_frame: 1,
            skew: 0,
            byte_offset: 0,
            adc_gain: None,
            baseline: None,
            units: None,
            adc_resolution: None,
            adc_zero: None,
            initial_value: None,
            checksum: None,
            block_size: None,
            description: None,
        }
    }

    /// Gain used for physical conversion: 200 when absent or 0 (uncalibrated).
    pub fn gain_or_default(&self) -> f64 {
        match self.adc_gain {
            Some(g) if g != 0.0 => g,
            _ => DEFAULT_GAIN,
        }
    }

    /// Baseline (the ADC zero when absent).
    pub fn baseline_or_default(&self) -> i32 {
        self.baseline.unwrap_or_else(|| self.adc_zero_or_default())
    }

    /// Units (`mV` when absent).
    pub fn units_or_default(&self) -> &str {
        self.units.as_deref().unwrap_or(DEFAULT_UNITS)
    }

    /// ADC resolution in bits (the format's default when absent or 0).
    pub fn adc_resolution_or_default(&self) -> u32 {
        match self.adc_resolution {
            Some(r) if r > 0 => r,
            _ => default_resolution(self.format),
        }
    }

    /// ADC zero (0 when absent).
    pub fn adc_zero_or_default(&self) -> i32 {
        self.adc_zero.unwrap_or(0)
    }

    /// Initial value (the ADC zero when absent).
    pub fn initial_value_or_default(&self) -> i32 {
        self.initial_value
            .unwrap_or_else(|| self.adc_zero_or_default())
    }

    /// Block size (0 when absent).
    pub fn block_size_or_default(&self) -> u32 {
        self.block_size.unwrap_or(0)
    }

    /// Description, or WFDB's default `record NAME, signal N` (`index` counts from 0).
    pub fn description_or_default(&self, record: &str, index: usize) -> String {
        match &self.description {
            Some(d) => d.clone(),
            None => format!("record {record}, signal {index}"),
        }
    }
}

/// ADC resolution the WFDB library assumes for a format when the header gives none: the
/// format's natural width, 10 bits for the difference format 8, and `WFDB_DEFRES` (12) for
/// the rest.
pub fn default_resolution(format: u32) -> u32 {
    match format {
        8 => 10,
        80 | 508 => 8,
        160 | 516 => 16,
        24 | 524 => 24,
        32 => 32,
        310 | 311 => 10,
        _ => 12,
    }
}

impl Header {
    /// Whether this is a multi-segment header.
    pub fn is_multi_segment(&self) -> bool {
        self.segments.is_some()
    }

    /// The header as text: LF line ends, the record line, signal (or segment) lines, then the
    /// info lines as `# text`. Absent trailing fields are omitted; an absent field that precedes
    /// a present one is written as its default (a missing checksum as `0`, a missing gain as `0`
    /// = uncalibrated), since WFDB fields are positional.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(&record_line_text(&self.record));
        out.push('\n');
        if let Some(segments) = &self.segments {
            for seg in segments {
                let _ = writeln!(out, "{} {}", seg.name, seg.samples);
            }
        }
        for sig in &self.signals {
            out.push_str(&signal_line_text(sig));
            out.push('\n');
        }
        for line in &self.info {
            if line.is_empty() {
                out.push_str("#\n");
            } else {
                let _ = writeln!(out, "# {line}");
            }
        }
        out
    }
}

/// Format a float the shortest way that reads back to the same value (`360`, `0.5`, never an
/// exponent, which wfdb-python's frequency pattern does not accept).
pub(crate) fn float_text(x: f64) -> String {
    format!("{x}")
}

fn time_text(t: &TimeOfDay) -> String {
    let mut s = format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second);
    if t.micros != 0 {
        let frac = format!("{:06}", t.micros);
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s
}

fn date_text(d: &Date) -> String {
    format!("{:02}/{:02}/{:04}", d.day, d.month, d.year)
}

/// Join positional fields, dropping trailing absent ones and filling inner gaps with defaults.
fn positional(fields: Vec<(Option<String>, &str)>) -> String {
    let last = fields.iter().rposition(|(v, _)| v.is_some());
    let mut out = String::new();
    if let Some(last) = last {
        for (i, (value, default)) in fields.into_iter().enumerate().take(last + 1) {
            if i > 0 {
                out.push(' ');
            }
            match value {
                Some(v) => out.push_str(&v),
                None => out.push_str(default),
            }
        }
    }
    out
}

fn record_line_text(r: &RecordLine) -> String {
    let mut head = r.name.clone();
    if let Some(n) = r.segment_count {
        let _ = write!(head, "/{n}");
    }
    let _ = write!(head, " {}", r.signal_count);
    let freq = if r.sampling_frequency.is_some()
        || r.counter_frequency.is_some()
        || r.base_counter.is_some()
    {
        let mut f = float_text(r.sampling_frequency_or_default());
        if r.counter_frequency.is_some() || r.base_counter.is_some() {
            let _ = write!(f, "/{}", float_text(r.counter_frequency_or_default()));
            if let Some(b) = r.base_counter {
                let _ = write!(f, "({})", float_text(b));
            }
        }
        Some(f)
    } else {
        None
    };
    let default_freq = float_text(DEFAULT_FREQUENCY);
    let rest = positional(vec![
        (freq, &default_freq),
        (r.samples.map(|n| n.to_string()), "0"),
        (r.base_time.as_ref().map(time_text), "00:00:00"),
        (r.base_date.as_ref().map(date_text), ""),
    ]);
    if !rest.is_empty() {
        head.push(' ');
        head.push_str(&rest);
    }
    head
}

fn signal_line_text(s: &SignalSpec) -> String {
    let mut head = format!("{} {}", s.file_name, s.format);
    if s.samples_per_frame != 1 {
        let _ = write!(head, "x{}", s.samples_per_frame);
    }
    if s.skew != 0 {
        let _ = write!(head, ":{}", s.skew);
    }
    if s.byte_offset != 0 {
        let _ = write!(head, "+{}", s.byte_offset);
    }
    let gain = if s.adc_gain.is_some() || s.baseline.is_some() || s.units.is_some() {
        let mut g = float_text(s.adc_gain.unwrap_or(0.0));
        if let Some(b) = s.baseline {
            let _ = write!(g, "({b})");
        }
        if let Some(u) = &s.units {
            let _ = write!(g, "/{u}");
        }
        Some(g)
    } else {
        None
    };
    let init_default = s.adc_zero_or_default().to_string();
    let rest = positional(vec![
        (gain, "0"),
        (s.adc_resolution.map(|v| v.to_string()), "0"),
        (s.adc_zero.map(|v| v.to_string()), "0"),
        (s.initial_value.map(|v| v.to_string()), &init_default),
        (s.checksum.map(|v| v.to_string()), "0"),
        (s.block_size.map(|v| v.to_string()), "0"),
        (s.description.clone().filter(|d| !d.is_empty()), ""),
    ]);
    if !rest.is_empty() {
        head.push(' ');
        head.push_str(&rest);
    }
    head
}

/// Parse a header file's bytes, leniently where nothing can be misread (see
/// [`parse_header_with_warnings`], whose warnings this drops).
///
/// Errors are [`crate::ErrorKind::Malformed`] with the location `line N` (1-based, counting
/// every physical line).
pub fn parse_header(bytes: &[u8]) -> Result<Header> {
    parse_header_with_warnings(bytes).map(|(header, _)| header)
}

/// Parse a header file's bytes; also returns warnings about deviations that were tolerated.
///
/// Strict where a mistake would misread samples: the signal count, frequency and length on the
/// record line, and every field of the signal and segment lines, must be sound. Lenient, as
/// WFDB's own tools are, with the base time and date, which only place the record in time:
/// they are accepted in either order, a date also as `YYYY-MM-DD` (as some challenge data sets
/// write it), and a field after the sample count that is neither a time nor a date is dropped;
/// each such case gives a warning naming the line and the field.
pub fn parse_header_with_warnings(bytes: &[u8]) -> Result<(Header, Vec<String>)> {
    let mut warnings = Vec::new();
    let text = String::from_utf8_lossy(bytes);
    let mut info = Vec::new();
    let mut record: Option<(RecordLine, usize)> = None;
    let mut signals = Vec::new();
    let mut segments = Vec::new();
    let mut last_line = 0;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let n = i + 1;
        last_line = n;
        let line = raw.trim();
        if let Some(comment) = line.strip_prefix('#') {
            info.push(comment.trim().to_string());
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let at = |e: String| Error::malformed(e).at(format!("line {n}"));
        match &record {
            None => {
                let (r, notes) = parse_record_line(line).map_err(at)?;
                warnings.extend(notes.into_iter().map(|w| format!("line {n}: {w}")));
                record = Some((r, n));
            }
            Some((r, _)) if r.segment_count.is_some() => {
                let count = r.segment_count.unwrap_or(0) as usize;
                if segments.len() >= count {
                    return Err(at(format!(
                        "record line declares {count} segments, found another segment line"
                    )));
                }
                segments.push(parse_segment_line(line).map_err(at)?);
            }
            Some((r, _)) => {
                if signals.len() >= r.signal_count as usize {
                    return Err(at(format!(
                        "record line declares {} signals, found another signal line",
                        r.signal_count
                    )));
                }
                signals.push(parse_signal_line(line).map_err(at)?);
            }
        }
    }
    let Some((record, record_line)) = record else {
        return Err(
            Error::malformed("no record line (the header has no non-comment line)")
                .at(format!("line {}", last_line.max(1))),
        );
    };
    let end = format!("line {last_line}");
    let segments = match record.segment_count {
        Some(count) => {
            if segments.len() != count as usize {
                return Err(Error::malformed(format!(
                    "record line declares {count} segments, found {} segment lines",
                    segments.len()
                ))
                .at(end));
            }
            Some(segments)
        }
        None => {
            if signals.len() != record.signal_count as usize {
                return Err(Error::malformed(format!(
                    "record line (line {record_line}) declares {} signals, found {} signal lines",
                    record.signal_count,
                    signals.len()
                ))
                .at(end));
            }
            None
        }
    };
    Ok((
        Header {
            record,
            signals,
            segments,
            info,
        },
        warnings,
    ))
}

/// Split off the first blank-separated token; returns it and the rest (not trimmed).
fn next_token(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    Some((&s[..end], &s[end..]))
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_unsigned<T: std::str::FromStr>(s: &str, what: &str) -> std::result::Result<T, String> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if s.starts_with('-') && is_digits(&s[1..]) {
        return Err(format!("{what} must not be negative, found \"{s}\""));
    }
    if !is_digits(digits) {
        return Err(format!(
            "{what}: expected a non-negative integer, found \"{s}\""
        ));
    }
    digits
        .parse()
        .map_err(|_| format!("{what}: \"{s}\" is out of range"))
}

fn parse_signed(s: &str, what: &str) -> std::result::Result<i32, String> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !is_digits(digits) {
        return Err(format!("{what}: expected an integer, found \"{s}\""));
    }
    s.parse()
        .map_err(|_| format!("{what}: \"{s}\" is out of range"))
}

fn parse_float(s: &str, what: &str) -> std::result::Result<f64, String> {
    // Rust also accepts "inf"/"nan"; WFDB numbers are plain decimals, so demand a digit.
    let ok = s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    match s.parse::<f64>() {
        Ok(v) if ok && v.is_finite() => Ok(v),
        _ => Err(format!("{what}: expected a number, found \"{s}\"")),
    }
}

/// The record line and warnings about tolerated deviations in its time fields.
fn parse_record_line(line: &str) -> std::result::Result<(RecordLine, Vec<String>), String> {
    let (name_tok, rest) = next_token(line).ok_or("empty record line")?;
    let (name, segment_count) = match name_tok.split_once('/') {
        Some((name, n)) => {
            let n: u32 = parse_unsigned(n, "number of segments")?;
            if n == 0 {
                return Err("number of segments must be at least 1".into());
            }
            (name, Some(n))
        }
        None => (name_tok, None),
    };
    if name.is_empty() {
        return Err("record name is empty".into());
    }
    let mut r = RecordLine::new(name, 0);
    r.segment_count = segment_count;
    let (nsig, rest) = next_token(rest).ok_or_else(|| {
        format!("record line \"{line}\" lacks the number of signals (second field)")
    })?;
    r.signal_count = parse_unsigned(nsig, "number of signals")?;
    let mut warnings = Vec::new();
    let Some((freq, rest)) = next_token(rest) else {
        return Ok((r, warnings));
    };
    parse_frequency(freq, &mut r)?;
    let Some((nsamp, rest)) = next_token(rest) else {
        return Ok((r, warnings));
    };
    r.samples = Some(parse_unsigned(nsamp, "number of samples")?);
    // Base time and date: standard is `time [date]`; anything else is tolerated (see
    // `parse_header_with_warnings`).
    for (pos, tok) in rest.split_whitespace().enumerate() {
        if r.base_time.is_none() && r.base_date.is_none() && pos == 0 {
            if let Ok(t) = parse_time(tok) {
                r.base_time = Some(t);
                continue;
            }
        }
        if r.base_date.is_none() {
            if let Ok(d) = parse_date(tok) {
                r.base_date = Some(d);
                if r.base_time.is_none() {
                    warnings.push(format!(
                        "record line: base date \"{tok}\" comes before the base time"
                    ));
                }
                continue;
            }
            if let Some(d) = parse_iso_date(tok) {
                r.base_date = Some(d);
                warnings.push(format!(
                    "record line: base date \"{tok}\" is written YYYY-MM-DD (WFDB writes \
                     DD/MM/YYYY){}",
                    if r.base_time.is_none() {
                        " and comes before the base time"
                    } else {
                        ""
                    }
                ));
                continue;
            }
        }
        if r.base_time.is_none() {
            if let Ok(t) = parse_time(tok) {
                r.base_time = Some(t);
                continue;
            }
        }
        let why = match (r.base_time.is_some(), r.base_date.is_some()) {
            (true, true) => "after the base date".to_string(),
            _ => match (parse_time(tok), parse_date(tok)) {
                (Err(e), _) if !tok.contains(['/', '-']) => e,
                (_, Err(e)) => e,
                _ => "not a base time or date".to_string(),
            },
        };
        warnings.push(format!(
            "record line: field \"{tok}\" dropped ({why}); the signals are read as described"
        ));
    }
    Ok((r, warnings))
}

/// `YYYY-MM-DD`, a form some data sets write on the record line.
fn parse_iso_date(tok: &str) -> Option<Date> {
    let parts: Vec<&str> = tok.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    if y.len() != 4 || !(1..=2).contains(&m.len()) || !(1..=2).contains(&d.len()) {
        return None;
    }
    if !(is_digits(y) && is_digits(m) && is_digits(d)) {
        return None;
    }
    let (year, month, day) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(Date { year, month, day })
}

/// `frequency[/counter_frequency[(base_counter)]]`.
fn parse_frequency(tok: &str, r: &mut RecordLine) -> std::result::Result<(), String> {
    let (freq, counter) = match tok.split_once('/') {
        Some((f, c)) => (f, Some(c)),
        None => (tok, None),
    };
    if freq.contains('(') {
        return Err(format!(
            "sampling frequency \"{tok}\": a base counter value needs a counter frequency \
             (frequency/counter(base))"
        ));
    }
    let f = parse_float(freq, "sampling frequency")?;
    if f <= 0.0 {
        return Err(format!(
            "sampling frequency must be positive, found \"{freq}\""
        ));
    }
    r.sampling_frequency = Some(f);
    if let Some(counter) = counter {
        let (cf, base) = match counter.split_once('(') {
            Some((cf, base)) => {
                let base = base.strip_suffix(')').ok_or_else(|| {
                    format!("base counter value \"({base}\" lacks its closing parenthesis")
                })?;
                (cf, Some(base))
            }
            None => (counter, None),
        };
        let cf = parse_float(cf, "counter frequency")?;
        if cf <= 0.0 {
            return Err(format!(
                "counter frequency must be positive, found \"{cf}\""
            ));
        }
        r.counter_frequency = Some(cf);
        if let Some(base) = base {
            r.base_counter = Some(parse_float(base, "base counter value")?);
        }
    }
    Ok(())
}

/// `[[HH:]MM:]SS[.fraction]`.
fn parse_time(tok: &str) -> std::result::Result<TimeOfDay, String> {
    let bad = || format!("base time: expected HH:MM:SS[.fff], found \"{tok}\"");
    let (whole, frac) = match tok.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (tok, None),
    };
    let parts: Vec<&str> = whole.split(':').collect();
    if parts.len() > 3 || !parts.iter().all(|p| is_digits(p) && p.len() <= 2) {
        return Err(bad());
    }
    let num = |p: &str| p.parse::<u8>().map_err(|_| bad());
    let (hour, minute, second) = match parts.as_slice() {
        [s] => (0, 0, num(s)?),
        [m, s] => (0, num(m)?, num(s)?),
        [h, m, s] => (num(h)?, num(m)?, num(s)?),
        _ => return Err(bad()),
    };
    if hour > 23 || minute > 59 || second > 60 {
        return Err(format!("base time \"{tok}\" is not a valid time of day"));
    }
    let micros = match frac {
        None => 0,
        Some(f) if is_digits(f) => {
            // Keep microseconds; finer digits are dropped.
            let mut digits: String = f.chars().take(6).collect();
            while digits.len() < 6 {
                digits.push('0');
            }
            digits.parse::<u32>().map_err(|_| bad())?
        }
        Some(_) => return Err(bad()),
    };
    Ok(TimeOfDay {
        hour,
        minute,
        second,
        micros,
    })
}

/// `DD/MM/YYYY`.
fn parse_date(tok: &str) -> std::result::Result<Date, String> {
    let bad = || format!("base date: expected DD/MM/YYYY, found \"{tok}\"");
    let parts: Vec<&str> = tok.split('/').collect();
    let [d, m, y] = parts.as_slice() else {
        return Err(bad());
    };
    if !(is_digits(d) && is_digits(m) && is_digits(y)) || d.len() > 2 || m.len() > 2 || y.len() > 4
    {
        return Err(bad());
    }
    let day: u8 = d.parse().map_err(|_| bad())?;
    let month: u8 = m.parse().map_err(|_| bad())?;
    let year: i32 = y.parse().map_err(|_| bad())?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(format!("base date \"{tok}\" is not a valid date"));
    }
    Ok(Date { year, month, day })
}

fn parse_signal_line(line: &str) -> std::result::Result<SignalSpec, String> {
    let (file, rest) = next_token(line).ok_or("empty signal line")?;
    let (fmt, mut rest) = next_token(rest)
        .ok_or_else(|| format!("signal line \"{line}\" lacks the format (second field)"))?;
    let mut s = SignalSpec::new(file, 0);
    parse_format_field(fmt, &mut s)?;

    let mut field = |_what: &str| -> Option<&str> {
        let (tok, r) = next_token(rest)?;
        rest = r;
        Some(tok)
    };
    let Some(gain) = field("gain") else {
        return Ok(s);
    };
    parse_gain_field(gain, &mut s)?;
    let Some(res) = field("resolution") else {
        return Ok(s);
    };
    s.adc_resolution = Some(parse_unsigned(res, "ADC resolution")?);
    let Some(zero) = field("adc zero") else {
        return Ok(s);
    };
    s.adc_zero = Some(parse_signed(zero, "ADC zero")?);
    let Some(init) = field("initial value") else {
        return Ok(s);
    };
    s.initial_value = Some(parse_signed(init, "initial value")?);
    let Some(checksum) = field("checksum") else {
        return Ok(s);
    };
    s.checksum = Some(parse_signed(checksum, "checksum")?);
    let Some(block) = field("block size") else {
        return Ok(s);
    };
    s.block_size = Some(parse_unsigned(block, "block size")?);
    let description = rest.trim();
    if !description.is_empty() {
        s.description = Some(description.to_string());
    }
    Ok(s)
}

/// `format[xspf][:skew][+offset]`, the suffixes in any order, each at most once.
fn parse_format_field(tok: &str, s: &mut SignalSpec) -> std::result::Result<(), String> {
    let bad = |why: &str| format!("format field \"{tok}\": {why}");
    let digits_end = tok.find(|c: char| !c.is_ascii_digit()).unwrap_or(tok.len());
    if digits_end == 0 {
        return Err(bad("expected a format number"));
    }
    s.format = parse_unsigned(&tok[..digits_end], "format")?;
    let mut rest = &tok[digits_end..];
    let (mut seen_x, mut seen_skew, mut seen_offset) = (false, false, false);
    while let Some(tag) = rest.chars().next() {
        let after = &rest[tag.len_utf8()..];
        let n_end = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        let num = &after[..n_end];
        if num.is_empty() {
            return Err(bad(&format!("'{tag}' must be followed by a number")));
        }
        match tag {
            'x' if !seen_x => {
                seen_x = true;
                s.samples_per_frame = parse_unsigned(num, "samples per frame")?;
                if s.samples_per_frame == 0 {
                    return Err(bad("samples per frame must be at least 1"));
                }
            }
            ':' if !seen_skew => {
                seen_skew = true;
                s.skew = parse_unsigned(num, "skew")?;
            }
            '+' if !seen_offset => {
                seen_offset = true;
                s.byte_offset = parse_unsigned(num, "byte offset")?;
            }
            'x' | ':' | '+' => return Err(bad(&format!("'{tag}' given twice"))),
            _ => return Err(bad(&format!("unexpected '{tag}'"))),
        }
        rest = &after[n_end..];
    }
    Ok(())
}

/// `gain[(baseline)][/units]`.
fn parse_gain_field(tok: &str, s: &mut SignalSpec) -> std::result::Result<(), String> {
    let gain_end = tok.find(['(', '/']).unwrap_or(tok.len());
    s.adc_gain = Some(parse_float(&tok[..gain_end], "ADC gain")?);
    let mut rest = &tok[gain_end..];
    if let Some(after) = rest.strip_prefix('(') {
        let close = after.find(')').ok_or_else(|| {
            format!("ADC gain field \"{tok}\": baseline lacks its closing parenthesis")
        })?;
        s.baseline = Some(parse_signed(&after[..close], "baseline")?);
        rest = &after[close + 1..];
    }
    if let Some(units) = rest.strip_prefix('/') {
        if units.is_empty() {
            return Err(format!("ADC gain field \"{tok}\": empty units after '/'"));
        }
        s.units = Some(units.to_string());
    } else if !rest.is_empty() {
        return Err(format!(
            "ADC gain field \"{tok}\": unexpected \"{rest}\" (expected gain(baseline)/units)"
        ));
    }
    Ok(())
}

fn parse_segment_line(line: &str) -> std::result::Result<SegmentSpec, String> {
    let (name, rest) = next_token(line).ok_or("empty segment line")?;
    let (samples, rest) = next_token(rest).ok_or_else(|| {
        format!("segment line \"{line}\" lacks the number of samples (second field)")
    })?;
    if let Some((extra, _)) = next_token(rest) {
        return Err(format!("unexpected field \"{extra}\" on segment line"));
    }
    Ok(SegmentSpec {
        name: name.to_string(),
        samples: parse_unsigned(samples, "segment length")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn err(text: &str) -> Error {
        parse_header(text.as_bytes()).expect_err("header should be rejected")
    }

    fn err_text(text: &str) -> String {
        err(text).to_string()
    }

    #[test]
    fn mitdb_100_style_header() {
        let h = parse_header(
            b"100 2 360 650000\r\n\
              100.dat 212 200 11 1024 995 -22131 0 MLII\r\n\
              100.dat 212 200 11 1024 1011 20052 0 V5\r\n\
              # 69 M 1085 1629 x1\r\n\
              # Aldomet, Inderal\r\n",
        )
        .unwrap();
        assert_eq!(h.record.name, "100");
        assert_eq!(h.record.signal_count, 2);
        assert_eq!(h.record.sampling_frequency, Some(360.0));
        assert_eq!(h.record.samples, Some(650000));
        assert_eq!(h.record.base_time, None);
        assert!(h.segments.is_none());
        assert_eq!(h.signals.len(), 2);
        let s = &h.signals[0];
        assert_eq!(s.file_name, "100.dat");
        assert_eq!(s.format, 212);
        assert_eq!(s.adc_gain, Some(200.0));
        assert_eq!(s.baseline, None);
        assert_eq!(s.baseline_or_default(), 1024);
        assert_eq!(s.units_or_default(), "mV");
        assert_eq!(s.adc_resolution, Some(11));
        assert_eq!(s.adc_zero, Some(1024));
        assert_eq!(s.initial_value, Some(995));
        assert_eq!(s.checksum, Some(-22131));
        assert_eq!(s.block_size, Some(0));
        assert_eq!(s.description.as_deref(), Some("MLII"));
        assert_eq!(h.signals[1].description.as_deref(), Some("V5"));
        assert_eq!(h.info, vec!["69 M 1085 1629 x1", "Aldomet, Inderal"]);
    }

    #[test]
    fn every_field_present() {
        let h =
            parse_header(b"rec/1 1 500/1000(-3.5) 100 12:34:56.789 02/03/2001\nseg 100\n# note\n")
                .unwrap();
        let r = &h.record;
        assert_eq!(r.segment_count, Some(1));
        assert_eq!(r.sampling_frequency, Some(500.0));
        assert_eq!(r.counter_frequency, Some(1000.0));
        assert_eq!(r.base_counter, Some(-3.5));
        assert_eq!(r.samples, Some(100));
        assert_eq!(
            r.base_time,
            Some(TimeOfDay {
                hour: 12,
                minute: 34,
                second: 56,
                micros: 789_000
            })
        );
        assert_eq!(
            r.base_date,
            Some(Date {
                year: 2001,
                month: 3,
                day: 2
            })
        );

        let h = parse_header(
            b"r 1 360\nr.dat 16x4:3+512 100.5(-7)/uV 16 5 -9 1234 512 Lead II (chest)   \n",
        )
        .unwrap();
        let s = &h.signals[0];
        assert_eq!(s.format, 16);
        assert_eq!(s.samples_per_frame, 4);
        assert_eq!(s.skew, 3);
        assert_eq!(s.byte_offset, 512);
        assert_eq!(s.adc_gain, Some(100.5));
        assert_eq!(s.baseline, Some(-7));
        assert_eq!(s.units.as_deref(), Some("uV"));
        assert_eq!(s.adc_resolution, Some(16));
        assert_eq!(s.adc_zero, Some(5));
        assert_eq!(s.initial_value, Some(-9));
        assert_eq!(s.checksum, Some(1234));
        assert_eq!(s.block_size, Some(512));
        assert_eq!(s.description.as_deref(), Some("Lead II (chest)"));
    }

    #[test]
    fn format_suffixes_in_any_order() {
        for (tok, spf, skew, off) in [
            ("212x2:3+100", 2, 3, 100),
            ("212+100:3x2", 2, 3, 100),
            ("212:3x2", 2, 3, 0),
            ("212+7", 1, 0, 7),
            ("212", 1, 0, 0),
        ] {
            let h = parse_header(format!("r 1\nf {tok}\n").as_bytes()).unwrap();
            let s = &h.signals[0];
            assert_eq!(
                (s.format, s.samples_per_frame, s.skew, s.byte_offset),
                (212, spf, skew, off),
                "{tok}"
            );
        }
        assert!(err_text("r 1\nf 212x2x3\n").contains("given twice"));
        assert!(err_text("r 1\nf 212x\n").contains("followed by a number"));
        assert!(err_text("r 1\nf 212y2\n").contains("unexpected 'y'"));
        assert!(err_text("r 1\nf 212x0\n").contains("at least 1"));
        assert!(err_text("r 1\nf x2\n").contains("format number"));
    }

    #[test]
    fn defaults_when_fields_are_omitted() {
        let h = parse_header(b"r 3\na.dat 16\nb.dat 8 0\nc.dat 212 100 0 -5\n").unwrap();
        assert_eq!(h.record.sampling_frequency, None);
        assert_eq!(h.record.sampling_frequency_or_default(), 250.0);
        assert_eq!(h.record.counter_frequency_or_default(), 250.0);
        assert_eq!(h.record.base_counter_or_default(), 0.0);
        assert_eq!(h.record.known_samples(), None);
        assert_eq!(h.record.base_datetime(), None);
        let [a, b, c] = &h.signals[..] else {
            panic!("3 signals expected")
        };
        assert_eq!(a.adc_gain, None);
        assert_eq!(a.gain_or_default(), 200.0);
        assert_eq!(a.baseline_or_default(), 0);
        assert_eq!(a.units_or_default(), "mV");
        assert_eq!(a.adc_resolution_or_default(), 12);
        assert_eq!(a.adc_zero_or_default(), 0);
        assert_eq!(a.initial_value_or_default(), 0);
        assert_eq!(a.checksum, None);
        assert_eq!(a.block_size_or_default(), 0);
        assert_eq!(a.description_or_default("r", 0), "record r, signal 0");
        // Gain 0 means uncalibrated: kept as written, 200 assumed.
        assert_eq!(b.adc_gain, Some(0.0));
        assert_eq!(b.gain_or_default(), 200.0);
        assert_eq!(b.adc_resolution_or_default(), 10);
        // Baseline and initial value default to the ADC zero; resolution 0 = format default.
        assert_eq!(c.adc_resolution, Some(0));
        assert_eq!(c.adc_resolution_or_default(), 12);
        assert_eq!(c.baseline_or_default(), -5);
        assert_eq!(c.initial_value_or_default(), -5);
        assert_eq!(c.description_or_default("r", 2), "record r, signal 2");
    }

    #[test]
    fn gain_field_variants() {
        let parse = |tok: &str| {
            parse_header(format!("r 1\nf 16 {tok}\n").as_bytes()).map(|h| h.signals[0].clone())
        };
        let s = parse("200/mV").unwrap();
        assert_eq!(
            (s.adc_gain, s.baseline, s.units.as_deref()),
            (Some(200.0), None, Some("mV"))
        );
        let s = parse("1e3(12)").unwrap();
        assert_eq!(
            (s.adc_gain, s.baseline, s.units),
            (Some(1000.0), Some(12), None)
        );
        let s = parse("-2.5(-100)/mm/s").unwrap();
        assert_eq!(
            (s.adc_gain, s.baseline, s.units.as_deref()),
            (Some(-2.5), Some(-100), Some("mm/s"))
        );
        for bad in ["abc", "200(12", "200(x)/mV", "200/", "200)mV", "nan", "inf"] {
            let e = parse(bad).expect_err(bad);
            assert_eq!(e.location.as_deref(), Some("line 2"), "{bad}");
        }
    }

    #[test]
    fn time_and_date_forms() {
        let t = |s: &str| parse_header(format!("r 0 100 10 {s}\n").as_bytes());
        let time = |s: &str| t(s).unwrap().record.base_time.unwrap();
        assert_eq!(
            time("5"),
            TimeOfDay {
                hour: 0,
                minute: 0,
                second: 5,
                micros: 0
            }
        );
        assert_eq!(
            time("1:05"),
            TimeOfDay {
                hour: 0,
                minute: 1,
                second: 5,
                micros: 0
            }
        );
        assert_eq!(
            time("23:59:59.5"),
            TimeOfDay {
                hour: 23,
                minute: 59,
                second: 59,
                micros: 500_000
            }
        );
        assert_eq!(time("0:0:0.1234567").micros, 123_456);
        for bad in [
            "24:00:00",
            "12:60:00",
            "1:2:3:4",
            "ab:00:00",
            "12:00:00.x",
            "123:00:00",
        ] {
            // Only the start time is in doubt: dropped with a warning, the header read.
            let (h, w) =
                parse_header_with_warnings(format!("r 0 100 10 {bad}\n").as_bytes()).unwrap();
            assert_eq!(h.record.base_time, None, "{bad}");
            assert_eq!(h.record.samples, Some(10), "{bad}");
            assert!(
                w.len() == 1 && w[0].contains("base time") && w[0].contains(bad),
                "{bad}: {w:?}"
            );
        }
        let d = parse_header(b"r 0 100 10 0:0:0 31/12/1999\n").unwrap();
        assert_eq!(
            d.record.base_date,
            Some(Date {
                year: 1999,
                month: 12,
                day: 31
            })
        );
        for bad in [
            "32/01/2000",
            "01/13/2000",
            "1-1-2000",
            "01/01",
            "aa/01/2000",
        ] {
            let (h, w) =
                parse_header_with_warnings(format!("r 0 100 10 0:0:0 {bad}\n").as_bytes()).unwrap();
            assert_eq!(h.record.base_date, None, "{bad}");
            assert!(h.record.base_time.is_some(), "{bad}");
            assert!(
                w.len() == 1 && w[0].contains("base date") && w[0].starts_with("line 1: "),
                "{bad}: {w:?}"
            );
        }
    }

    #[test]
    fn comments_blank_lines_and_bad_bytes() {
        let mut bytes = b"# leading comment\n\n  \t\nr 1 360 5\n# between\n".to_vec();
        bytes.extend_from_slice(b"r.dat 16 200 16 0 0 0 0 ECG\n\n# caf\xe9 \xff\xfe\n#\n");
        let h = parse_header(&bytes).unwrap();
        assert_eq!(h.signals.len(), 1);
        assert_eq!(h.info.len(), 4);
        assert_eq!(h.info[0], "leading comment");
        assert_eq!(h.info[1], "between");
        assert!(h.info[2].starts_with("caf\u{fffd}"));
        assert_eq!(h.info[3], "");
        // No final newline, tabs between fields.
        let h = parse_header(b"r\t1\t360\nr.dat\t16\t200\t16\t0\t0\t0\t0\tI  II").unwrap();
        assert_eq!(h.signals[0].description.as_deref(), Some("I  II"));
    }

    #[test]
    fn multi_segment_header() {
        let h = parse_header(
            b"multi/4 2 125 3000 10:00:00 01/01/2020\nmulti_layout 0\nseg1 1000\n~ 500\nseg2 1500\n",
        )
        .unwrap();
        assert!(h.is_multi_segment());
        assert!(h.signals.is_empty());
        let segs = h.segments.as_ref().unwrap();
        assert_eq!(segs.len(), 4);
        assert_eq!(
            segs[0],
            SegmentSpec {
                name: "multi_layout".into(),
                samples: 0
            }
        );
        assert!(segs[2].is_null());
        assert_eq!(segs[3].samples, 1500);
        let again = parse_header(h.to_text().as_bytes()).unwrap();
        assert_eq!(again, h);
    }

    #[test]
    fn bad_headers_give_clear_errors() {
        let cases: &[(&str, &str, &str)] = &[
            ("", "no record line", "line 1"),
            ("# only a comment\n", "no record line", "line 1"),
            ("r\n", "number of signals", "line 1"),
            ("r x 360\n", "number of signals", "line 1"),
            ("r -2 360\n", "must not be negative", "line 1"),
            ("r 1 abc\n", "sampling frequency", "line 1"),
            ("r 1 0\n", "must be positive", "line 1"),
            ("r 1 -360\n", "sampling frequency", "line 1"),
            ("r 1 360(4)\n", "counter frequency", "line 1"),
            ("r 1 360/1000(4\n", "closing parenthesis", "line 1"),
            ("r 1 360 -5\n", "must not be negative", "line 1"),
            (
                "r 1 360 99999999999999999999999\n",
                "out of range",
                "line 1",
            ),
            ("/2 1\n", "record name", "line 1"),
            ("r/0 1\n", "segments", "line 1"),
            (
                "r 2 360\nr.dat 16\n",
                "declares 2 signals, found 1",
                "line 2",
            ),
            (
                "r 1 360\nr.dat 16\nr.dat 16\n",
                "another signal line",
                "line 3",
            ),
            ("r 1 360\n\nr.dat\n", "lacks the format", "line 3"),
            ("r 1 360\nr.dat 16 200 x\n", "ADC resolution", "line 2"),
            (
                "r 1 360\nr.dat 16 200 -1\n",
                "must not be negative",
                "line 2",
            ),
            ("r 1 360\nr.dat 16 200 12 0.5\n", "ADC zero", "line 2"),
            (
                "r 1 360\nr.dat 16 200 12 0 9999999999\n",
                "out of range",
                "line 2",
            ),
            ("r 1 360\nr.dat 16 200 12 0 0 sum\n", "checksum", "line 2"),
            (
                "r 1 360\nr.dat 16 200 12 0 0 0 -1\n",
                "block size",
                "line 2",
            ),
            ("r 1 360\nr.dat -16\n", "format number", "line 2"),
            (
                "r/2 1 360\na 10\n",
                "declares 2 segments, found 1",
                "line 2",
            ),
            ("r/1 1 360\na 10\nb 10\n", "another segment line", "line 3"),
            ("r/1 1 360\na\n", "lacks the number of samples", "line 2"),
            ("r/1 1 360\na -4\n", "must not be negative", "line 2"),
            ("r/1 1 360\na 4 5\n", "unexpected field", "line 2"),
        ];
        for (text, needle, line) in cases {
            let e = err(text);
            assert!(matches!(e.kind, ErrorKind::Malformed(_)), "{text:?}: {e}");
            assert!(e.to_string().contains(needle), "{text:?}: {e}");
            assert_eq!(e.location.as_deref(), Some(*line), "{text:?}: {e}");
        }
    }

    /// Issue 16 item 10: harmless deviations on the record line are read with a warning.
    #[test]
    fn lenient_record_line_time_fields() {
        // PhysioNet/CinC 2017 writes the date (YYYY-MM-DD) before the time.
        let (h, w) = parse_header_with_warnings(
            b"A00001 1 300 9000 2014-05-08 05:05:15\nA00001.mat 16+24 1000/mV 16 0 -127 0 0 ECG\n",
        )
        .unwrap();
        assert_eq!(h.record.samples, Some(9000));
        assert_eq!(
            h.record.base_date,
            Some(Date {
                year: 2014,
                month: 5,
                day: 8
            })
        );
        assert_eq!(
            h.record.base_time.map(|t| (t.hour, t.minute, t.second)),
            Some((5, 5, 15))
        );
        assert_eq!(h.signals[0].byte_offset, 24);
        assert!(
            w.len() == 1 && w[0].contains("2014-05-08") && w[0].contains("before the base time"),
            "{w:?}"
        );
        // Written back in the standard form, which reads without warnings.
        let (again, w) = parse_header_with_warnings(h.to_text().as_bytes()).unwrap();
        assert_eq!(again, h);
        assert!(w.is_empty(), "{w:?}");
        // DD/MM/YYYY before the time; an extra field is dropped and named.
        let (h, w) = parse_header_with_warnings(b"r 0 100 10 08/05/2014 1:02:03 extra\n").unwrap();
        assert!(h.record.base_date.is_some() && h.record.base_time.is_some());
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[1].contains("\"extra\" dropped"), "{w:?}");
        // Standard headers give no warnings.
        let (_, w) = parse_header_with_warnings(b"r 0 100 10 1:02:03 08/05/2014\n").unwrap();
        assert!(w.is_empty());
        // Fields that decide how samples are read stay strict.
        assert!(err_text("r 1 360 2014-05-08\n").contains("number of samples"));
        assert!(err_text("r 1 2014-05-08\n").contains("sampling frequency"));
        assert!(err_text("r 1 360\nr.dat 16 200 12 0 0 0 0 x\nextra line\n").contains("another"));
    }

    #[test]
    fn to_text_round_trips_and_fills_gaps() {
        let text = "100 2 360 650000\n\
                    100.dat 212 200 11 1024 995 -22131 0 MLII\n\
                    100.dat 212 200 11 1024 1011 20052 0 V5\n\
                    # 69 M 1085 1629 x1\n";
        let h = parse_header(text.as_bytes()).unwrap();
        assert_eq!(h.to_text(), text);

        let text = "r 2 128.5/1000(7) 20 01:02:03.25 04/05/2006\n\
                    r.dat 16x2:1+24 0.5(-3)/uV 16 1 2 3 4 a b c\n\
                    r.dat 16\n";
        let h = parse_header(text.as_bytes()).unwrap();
        assert_eq!(h.to_text(), text);

        // Absent fields before present ones are written as defaults.
        let mut h = Header {
            record: RecordLine::new("x", 1),
            signals: vec![SignalSpec::new("x.dat", 16)],
            segments: None,
            info: vec![],
        };
        h.record.base_time = Some(TimeOfDay {
            hour: 1,
            minute: 2,
            second: 3,
            micros: 0,
        });
        h.signals[0].adc_zero = Some(7);
        h.signals[0].description = Some("lead".into());
        h.signals[0].units = Some("mV".into());
        assert_eq!(
            h.to_text(),
            "x 1 250 0 01:02:03\nx.dat 16 0/mV 0 7 7 0 0 lead\n"
        );
        let back = parse_header(h.to_text().as_bytes()).unwrap();
        assert_eq!(back.signals[0].baseline_or_default(), 7);
        assert_eq!(back.signals[0].gain_or_default(), 200.0);
        assert_eq!(back.signals[0].description.as_deref(), Some("lead"));
    }

    proptest::proptest! {
        /// Arbitrary header-like text never panics, and whatever parses writes back to text
        /// that parses to the same header.
        #[test]
        fn parse_never_panics_and_round_trips(
            text in "([a-z0-9~#/().:+x -]{0,30}(\r?\n)){0,6}",
            junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        ) {
            if let Ok(h) = parse_header(text.as_bytes()) {
                let again = parse_header(h.to_text().as_bytes());
                proptest::prop_assert_eq!(again.ok(), Some(h));
            }
            let _ = parse_header(&junk);
        }

        /// Well-formed headers with random optional fields round-trip through `to_text`.
        #[test]
        fn structured_headers_round_trip(
            record in "[a-z]{1,4} [0-2]( [1-9][0-9]{0,2}(\\.5)?(/[1-9][0-9]{0,2}(\\(-?[0-9]\\))?)?\
                       ( [0-9]{1,4}( [01][0-9]:[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,3})?\
                       ( [0-2][1-9]/[01][1-2]/[0-9]{4})?)?)?)?",
            signals in proptest::collection::vec(
                "[a-z]{1,3}\\.dat [0-9]{1,3}(x[1-4])?(:[0-9])?(\\+[0-9]{1,2})?( -?[0-9]{1,3}\
                 (\\(-?[0-9]{1,2}\\))?(/[a-zA-Z]{1,3})?( [0-9]{1,2}( -?[0-9]{1,3}( -?[0-9]{1,3}\
                 ( -?[0-9]{1,5}( [0-9]( [A-Za-z][A-Za-z ]{0,8})?)?)?)?)?)?)?",
                0..3,
            ),
            crlf in proptest::prelude::any::<bool>(),
        ) {
            let n: usize = record.split(' ').nth(1).and_then(|n| n.parse().ok()).unwrap_or(0);
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut text = format!("{record}{eol}");
            for line in signals.iter().take(n) {
                text.push_str(line);
                text.push_str(eol);
            }
            text.push_str("# info");
            text.push_str(eol);
            let parsed = parse_header(text.as_bytes());
            if signals.len() >= n {
                let h = parsed.map_err(|e| {
                    proptest::test_runner::TestCaseError::fail(format!("{text:?}: {e}"))
                })?;
                proptest::prop_assert_eq!(h.signals.len(), n);
                let again = parse_header(h.to_text().as_bytes()).unwrap();
                proptest::prop_assert_eq!(again, h);
            }
        }
    }

    #[test]
    fn all_mitdb_headers_parse() {
        let Some(dir) = crate::datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
            return;
        };
        for name in crate::datasets::MITDB_RECORDS {
            let path = dir.join(format!("{name}.hea"));
            let bytes = std::fs::read(&path).unwrap();
            let h = parse_header(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(h.record.name, name);
            assert_eq!(h.record.sampling_frequency, Some(360.0), "{name}");
            assert_eq!(h.record.samples, Some(650000), "{name}");
            assert_eq!(h.signals.len(), 2, "{name}");
            for s in &h.signals {
                assert_eq!(s.file_name, format!("{name}.dat"));
                assert_eq!(s.format, 212);
                assert_eq!(s.adc_gain, Some(200.0));
                assert!(s.checksum.is_some() && s.description.is_some(), "{name}");
            }
            assert!(!h.info.is_empty(), "{name}");
            // Writing and re-reading gives the same header.
            assert_eq!(parse_header(h.to_text().as_bytes()).unwrap(), h, "{name}");
        }
    }
}
