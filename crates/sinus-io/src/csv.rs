//! Delimited text, one column per lead: reading and writing.
//!
//! # Reading
//! - **Delimiter**: comma, semicolon, tab or whitespace runs, detected from the first 20
//!   non-blank lines (the one that splits every line into the same number of fields, preferring
//!   tab, then semicolon, then comma), unless [`CsvOptions::delimiter`] gives it (`b' '` means
//!   whitespace runs). With `;` or tab as delimiter a decimal comma (`1,5`) is accepted.
//! - **Fields**: RFC 4180 quoting (`"a,b"`, `""` for a quote, newlines inside quotes), CRLF or LF,
//!   a UTF-8 byte-order mark; blank lines are skipped.
//! - **Header**: the first non-blank row is a header when any of its fields is neither a number
//!   nor a missing-value marker (or as [`CsvOptions::has_header`] says). A name ending in `(unit)`
//!   or `[unit]` gives the signal's units; otherwise units are `mV`. Without a header, signals
//!   are named `col1`, `col2`, ... after their column.
//! - **Time column**: the first column is a time column when its header name is `time`, `t`,
//!   `sec`, `secs`, `seconds`, `s`, `ms`, `timestamp`, `elapsed` (seconds, or milliseconds with a
//!   `(ms)` unit or the name `ms`) or `sample`, `samples`, `index`, `n`, `#` (sample numbers); or,
//!   without a header, when it is strictly increasing with a constant step and other columns
//!   follow (at least 3 rows). A headerless column of integers is taken as sample numbers.
//!   The sampling frequency comes from [`CsvOptions::fs`], else from a time column in seconds
//!   (`(n - 1) / (last - first)`, rounded to the precision the printed times justify), else reading
//!   fails asking for `--fs`. The time values themselves are not kept.
//! - **Values** are physical decimal text, stored losslessly: column `c` gets
//!   `gain = 10^d` where `d` is the most decimal places any of its values has (exponents count:
//!   `1.5e-3` has 4), `baseline = 0`, and each value `v` becomes the integer `v * 10^d`. When some
//!   value would then exceed ±(2^31 - 1), `d` is lowered until all fit and values are rounded
//!   (a warning says so; `d` may become negative for huge values). Empty cells and
//!   `NaN`/`nan`/`NA`/`N/A`/`null` (any case) are [`MISSING`].
//!
//! # Writing
//! [`write_csv`] writes a header row (`time (s)` and `<description> (<units>)`), then one row per
//! sample. Physical values are printed exactly when the gain is a power of ten (the value is the
//! digital integer with the decimal point moved), otherwise with `ceil(log10(gain)) + 1` decimals,
//! enough that the digital value is `round(value * gain + baseline)`. Missing samples are empty
//! cells. Multi-frequency recordings get a row per sample of the fastest signal; slower signals
//! leave the rows between their samples empty.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result, ResultExt, MAX_TOTAL_SAMPLES};
use crate::recording::{Recording, Signal, MISSING};

/// Reading options; `None` fields are detected from the text.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CsvOptions {
    /// Sampling frequency in Hz (overrides a time column).
    pub fs: Option<f64>,
    /// Field delimiter: `b','`, `b';'`, `b'\t'`, or `b' '` for runs of spaces/tabs.
    pub delimiter: Option<u8>,
    /// Whether the first non-blank row is a header.
    pub has_header: Option<bool>,
    /// Whether the first column holds times or sample numbers rather than a signal.
    pub time_column: Option<bool>,
}

/// Result of reading a CSV file.
#[derive(Debug, Clone)]
pub struct CsvRecording {
    /// One signal per value column, one frame per row.
    pub recording: Recording,
    /// Non-fatal problems, one sentence each.
    pub warnings: Vec<String>,
    /// The delimiter used (`b' '` for whitespace runs).
    pub delimiter: u8,
    /// Whether a header row was read.
    pub has_header: bool,
    /// Whether the first column was taken as a time column.
    pub time_column: bool,
}

/// Read a CSV file; the recording is named after the file stem.
pub fn read_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<CsvRecording> {
    let path = path.as_ref();
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    // A value takes at least one byte plus a delimiter; text beyond this cannot fit the limit.
    if len > MAX_TOTAL_SAMPLES * 2 {
        return Err(Error::too_large(format!("file is {len} bytes")).in_file(path));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut csv = parse_csv(&bytes, options).in_file(path)?;
    csv.recording.name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(csv)
}

/// A decimal value `mantissa * 10^-decimals`, or missing.
#[derive(Clone, Copy)]
struct Decimal {
    mantissa: i64,
    decimals: i32,
}

/// How fields are separated.
#[derive(Clone, Copy, PartialEq)]
enum Delim {
    Byte(u8),
    Whitespace,
}

/// Parse CSV text held in memory. The recording's name is left empty.
pub fn parse_csv(bytes: &[u8], options: &CsvOptions) -> Result<CsvRecording> {
    let mut warnings = Vec::new();
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&c| c == b'\n')
            .count()
            + 1;
        Error::malformed("text is not valid UTF-8").at(format!("line {line}"))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);

    let delim = match options.delimiter {
        Some(b' ') => Delim::Whitespace,
        Some(b) if matches!(b, b'"' | b'\n' | b'\r') || !b.is_ascii() => {
            return Err(Error::invalid(format!(
                "delimiter {:?} cannot be used",
                b as char
            )))
        }
        Some(b) => Delim::Byte(b),
        None => detect_delimiter(text)?,
    };
    let decimal_comma = matches!(
        delim,
        Delim::Byte(b';') | Delim::Byte(b'\t') | Delim::Whitespace
    );

    let mut rows = Records::new(text, delim);
    let Some(first) = rows.next().transpose()? else {
        return Err(Error::malformed("no data: the text has no non-blank line").at("line 1"));
    };
    let (first_line, first_fields) = first;
    let looks_like_header = first_fields
        .iter()
        .any(|f| parse_decimal(f, decimal_comma).is_err());
    let has_header = options.has_header.unwrap_or(looks_like_header);
    let columns = first_fields.len();
    let (names, mut pending): (Vec<String>, Option<(usize, Vec<String>)>) = if has_header {
        (first_fields, None)
    } else {
        (
            (1..=columns).map(|c| format!("col{c}")).collect(),
            Some((first_line, first_fields)),
        )
    };

    // Read every data row into per-column decimals.
    let mut cells: Vec<Vec<Option<Decimal>>> = vec![Vec::new(); columns];
    let mut row_lines: usize = 0;
    let max_rows = MAX_TOTAL_SAMPLES / columns.max(1) as u64;
    loop {
        let (line, fields) = match pending.take() {
            Some(r) => r,
            None => match rows.next().transpose()? {
                Some(r) => r,
                None => break,
            },
        };
        if fields.len() != columns {
            return Err(Error::malformed(format!(
                "{} fields, but the {} has {columns}",
                fields.len(),
                if has_header { "header" } else { "first row" }
            ))
            .at(format!("line {line}")));
        }
        if row_lines as u64 >= max_rows {
            return Err(Error::too_large(format!(
                "more than {max_rows} rows of {columns} columns"
            ))
            .at(format!("line {line}")));
        }
        for (c, f) in fields.iter().enumerate() {
            let v = parse_decimal(f, decimal_comma).map_err(|msg| {
                Error::malformed(msg).at(format!("line {line}, column {} ({:?})", c + 1, names[c]))
            })?;
            cells[c].push(v);
        }
        row_lines += 1;
    }
    let rows_count = row_lines;

    // Time column.
    let time_kind = match options.time_column {
        Some(false) => None,
        Some(true) => Some(time_kind_of(&names[0], has_header).unwrap_or(TimeKind::Seconds)),
        None if has_header => time_kind_of(&names[0], true),
        None if columns >= 2 && rows_count >= 3 && constant_step(&cells[0]).is_some() => {
            let all_int = cells[0].iter().all(|c| c.is_some_and(|d| d.decimals <= 0));
            Some(if all_int {
                TimeKind::Samples
            } else {
                TimeKind::Seconds
            })
        }
        None => None,
    };
    let time_column = time_kind.is_some();
    if time_column && columns < 2 {
        return Err(Error::malformed(
            "the only column is a time column; no signal left",
        ));
    }
    let mut derived_fs = None;
    if let Some(kind) = time_kind {
        if let Some(pos) = cells[0].iter().position(Option::is_none) {
            let line = data_line(text, delim, has_header, pos)?;
            return Err(Error::malformed("time column has a missing value")
                .at(format!("line {line}, column 1 ({:?})", names[0])));
        }
        if rows_count >= 2 {
            match (kind, constant_step(&cells[0])) {
                (_, None) => {
                    return Err(Error::malformed(
                        "time column is not strictly increasing with a constant step",
                    )
                    .at(format!("column 1 ({:?})", names[0])))
                }
                (TimeKind::Samples, _) => {}
                (TimeKind::Seconds | TimeKind::Milliseconds, Some(_)) => {
                    let unit = if kind == TimeKind::Milliseconds {
                        1e-3
                    } else {
                        1.0
                    };
                    derived_fs = Some(fs_from_times(&cells[0], unit, &mut warnings));
                }
            }
        }
    }
    let fs = match (options.fs, derived_fs) {
        (Some(fs), derived) => {
            if !(fs.is_finite() && fs > 0.0) {
                return Err(Error::invalid(format!("sampling frequency {fs} Hz")));
            }
            if let Some(d) = derived {
                if (d - fs).abs() > 1e-3 * fs {
                    warnings.push(format!(
                        "time column gives {d} Hz; the given {fs} Hz is used"
                    ));
                }
            }
            fs
        }
        (None, Some(d)) => d,
        (None, None) => {
            return Err(Error::invalid(
                "sampling frequency unknown: no time column in seconds; give it with --fs",
            ))
        }
    };

    // Signals.
    let first_signal = usize::from(time_column);
    let mut signals = Vec::with_capacity(columns - first_signal);
    for c in first_signal..columns {
        let (description, units) = split_units(&names[c]);
        let (decimals, samples) = to_digital(&cells[c], &description, &mut warnings)
            .map_err(|e| e.at(format!("column {} ({:?})", c + 1, names[c])))?;
        let gain = 10f64.powi(decimals);
        signals.push(Signal {
            description,
            units: units.unwrap_or_else(|| "mV".to_string()),
            gain,
            baseline: 0,
            adc_resolution: 0,
            adc_zero: 0,
            samples_per_frame: 1,
            samples,
        });
        cells[c] = Vec::new(); // free as we go
    }
    // Drop a trailing unnamed column that is empty everywhere (a delimiter at line ends).
    if signals.len() > 1
        && (!has_header || names[columns - 1].trim().is_empty())
        && signals
            .last()
            .is_some_and(|s| s.samples.iter().all(|&d| d == MISSING))
    {
        signals.pop();
        warnings.push("empty unnamed last column (delimiter at line ends) ignored".to_string());
    }

    Ok(CsvRecording {
        recording: Recording {
            name: String::new(),
            frame_frequency: fs,
            frames: rows_count as u64,
            base_datetime: None,
            signals,
            info: Vec::new(),
        },
        warnings,
        delimiter: match delim {
            Delim::Byte(b) => b,
            Delim::Whitespace => b' ',
        },
        has_header,
        time_column,
    })
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum TimeKind {
    Seconds,
    Milliseconds,
    Samples,
}

/// What a header name says about the first column, if it names a time column.
fn time_kind_of(name: &str, has_header: bool) -> Option<TimeKind> {
    if !has_header {
        return None;
    }
    let (base, unit) = split_units(name);
    let base = base.to_ascii_lowercase();
    let unit = unit.map(|u| u.to_ascii_lowercase());
    match base.as_str() {
        "sample" | "samples" | "index" | "n" | "#" | "sample #" => Some(TimeKind::Samples),
        "ms" | "time_ms" => Some(TimeKind::Milliseconds),
        "time" | "t" | "sec" | "secs" | "seconds" | "s" | "timestamp" | "elapsed"
        | "elapsed time" | "time_s" => Some(if unit.as_deref() == Some("ms") {
            TimeKind::Milliseconds
        } else {
            TimeKind::Seconds
        }),
        _ => None,
    }
}

/// `"MLII (mV)"` → (`"MLII"`, `Some("mV")`); also `[mV]`.
fn split_units(name: &str) -> (String, Option<String>) {
    let name = name.trim();
    for (open, close) in [('(', ')'), ('[', ']')] {
        if let Some(stripped) = name.strip_suffix(close) {
            if let Some(p) = stripped.rfind(open) {
                let unit = stripped[p + 1..].trim();
                if !unit.is_empty() {
                    return (stripped[..p].trim().to_string(), Some(unit.to_string()));
                }
            }
        }
    }
    (name.to_string(), None)
}

/// The step when `col` is present everywhere, strictly increasing, and evenly spaced to the
/// precision it is printed with.
fn constant_step(col: &[Option<Decimal>]) -> Option<f64> {
    if col.len() < 2 {
        return None;
    }
    let values: Vec<f64> = col.iter().map(|c| c.map(to_f64)).collect::<Option<_>>()?;
    let decimals = col.iter().flatten().map(|d| d.decimals).max().unwrap_or(0);
    let first = values[0];
    let last = *values.last()?;
    let step = (last - first) / (values.len() - 1) as f64;
    if step.is_nan() || step <= 0.0 {
        return None;
    }
    // Printed times are rounded to `decimals` places: each may be off by half a unit.
    let tolerance = 10f64.powi(-decimals) * 1.0001 + 1e-9 * step.abs();
    values
        .windows(2)
        .all(|w| w[1] > w[0] && ((w[1] - w[0]) - step).abs() <= tolerance)
        .then_some(step)
}

/// Sampling frequency from a time column (seconds × `unit`), rounded to what its printed
/// precision justifies.
fn fs_from_times(col: &[Option<Decimal>], unit: f64, warnings: &mut Vec<String>) -> f64 {
    let values: Vec<f64> = col.iter().flatten().map(|&d| to_f64(d) * unit).collect();
    let n = values.len();
    let span = values[n - 1] - values[0];
    let raw = (n - 1) as f64 / span;
    let decimals = col.iter().flatten().map(|d| d.decimals).max().unwrap_or(0);
    // Each end may be off by half a printed unit.
    let uncertainty = raw * 10f64.powi(-decimals) * unit / span;
    if (raw - raw.round()).abs() <= uncertainty.max(1e-9 * raw) {
        return raw.round();
    }
    let fs = snap(raw);
    if uncertainty > 1e-6 * raw {
        warnings.push(format!(
            "sampling frequency {fs} Hz derived from the time column is uncertain by about \
             {uncertainty:.2e} Hz; give it with --fs if known"
        ));
    }
    fs
}

fn snap(x: f64) -> f64 {
    format!("{x:.11e}").parse().unwrap_or(x)
}

fn to_f64(d: Decimal) -> f64 {
    // Exact decimal → nearest double (the text round trip is correctly rounded).
    format!("{}e{}", d.mantissa, -d.decimals)
        .parse()
        .unwrap_or(f64::NAN)
}

/// The line number of data row `row` (0-based), found again by re-reading (errors only).
fn data_line(text: &str, delim: Delim, has_header: bool, row: usize) -> Result<usize> {
    let mut recs = Records::new(text, delim);
    let skip = row + usize::from(has_header);
    Ok(recs.nth(skip).transpose()?.map(|(l, _)| l).unwrap_or(0))
}

/// Column `col` as digital integers with the common number of decimals (see module docs).
fn to_digital(
    col: &[Option<Decimal>],
    name: &str,
    warnings: &mut Vec<String>,
) -> Result<(i32, Vec<i32>)> {
    // 10^d must be an exact double: |d| <= 22.
    let mut d = col
        .iter()
        .flatten()
        .map(|v| v.decimals)
        .max()
        .unwrap_or(0)
        .clamp(-22, 22);
    let limit = i128::from(i32::MAX);
    let scaled = |v: Decimal, d: i32| -> i128 {
        let shift = d - v.decimals;
        let m = i128::from(v.mantissa);
        if shift >= 0 {
            // shift <= 36 keeps 10^shift * 10^18 inside i128.
            m.saturating_mul(10i128.saturating_pow(shift.min(36) as u32))
        } else {
            let p = 10i128.saturating_pow((-shift).min(38) as u32);
            // Round half away from zero.
            let q = m / p;
            let r = m % p;
            if 2 * r.abs() >= p {
                q + m.signum()
            } else {
                q
            }
        }
    };
    let fits = |d: i32| col.iter().flatten().all(|&v| scaled(v, d).abs() <= limit);
    let original = col.iter().flatten().map(|v| v.decimals).max().unwrap_or(0);
    while !fits(d) {
        if d <= -22 {
            return Err(Error::malformed(format!(
                "column {name:?} has values too large to store (beyond 10^31)"
            )));
        }
        d -= 1;
    }
    if d != original {
        warnings.push(format!(
            "column {name:?}: values need more than 32 bits at {original} decimals; rounded to {d}"
        ));
    }
    let samples = col
        .iter()
        .map(|c| c.map_or(MISSING, |v| scaled(v, d) as i32))
        .collect();
    Ok((d, samples))
}

/// Parse one cell: a decimal number (optional sign, digits, '.', exponent), or a missing marker.
fn parse_decimal(field: &str, decimal_comma: bool) -> Result<Option<Decimal>, String> {
    let f = field.trim();
    if f.is_empty()
        || ["nan", "na", "n/a", "null", "-nan"]
            .iter()
            .any(|m| f.eq_ignore_ascii_case(m))
    {
        return Ok(None);
    }
    let bad = || format!("{field:?} is not a number");
    let bytes = f.as_bytes();
    let mut i = 0;
    let negative = match bytes.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut mantissa: i64 = 0;
    let mut digits = 0usize; // significant digits kept
    let mut any_digit = false;
    let mut decimals: i32 = 0;
    let mut seen_point = false;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_digit() {
            any_digit = true;
            if digits < 18 {
                if mantissa != 0 || c != b'0' {
                    digits += 1;
                }
                mantissa = mantissa * 10 + i64::from(c - b'0');
                if seen_point {
                    decimals += 1;
                }
            } else if !seen_point {
                decimals -= 1; // drop an integer digit beyond 18: scale up instead
            }
        } else if (c == b'.' || (decimal_comma && c == b',')) && !seen_point {
            seen_point = true;
        } else {
            break;
        }
        i += 1;
    }
    if !any_digit {
        return Err(bad());
    }
    if i < bytes.len() {
        if !matches!(bytes[i], b'e' | b'E') {
            return Err(bad());
        }
        let exp: i32 = f[i + 1..]
            .parse()
            .ok()
            .filter(|e: &i32| e.abs() <= 400)
            .ok_or_else(bad)?;
        decimals -= exp;
    }
    Ok(Some(Decimal {
        mantissa: if negative { -mantissa } else { mantissa },
        decimals,
    }))
}

/// Pick the delimiter from the first 20 non-blank lines.
fn detect_delimiter(text: &str) -> Result<Delim> {
    let sample: Vec<&str> = text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .collect();
    // A line broken inside quotes would confuse counting; count outside quotes per line anyway.
    let count = |line: &str, d: u8| {
        let mut inside = false;
        line.bytes()
            .filter(|&c| {
                if c == b'"' {
                    inside = !inside;
                }
                !inside && c == d
            })
            .count()
    };
    // The delimiter splitting most lines like the first one (which must contain it) wins;
    // ties go to tab, then semicolon, then comma.
    let mut best: Option<(usize, u8)> = None;
    for d in [b'\t', b';', b','] {
        let counts: Vec<usize> = sample.iter().map(|l| count(l, d)).collect();
        let Some(&first) = counts.first().filter(|&&c| c > 0) else {
            continue;
        };
        let agree = counts.iter().filter(|&&c| c == first).count();
        if best.is_none_or(|(a, _)| agree > a) {
            best = Some((agree, d));
        }
    }
    if let Some((_, d)) = best {
        return Ok(Delim::Byte(d));
    }
    if sample
        .first()
        .is_some_and(|l| l.split_whitespace().count() > 1)
    {
        return Ok(Delim::Whitespace);
    }
    Ok(Delim::Byte(b','))
}

/// Iterator over non-blank records: (line number where the record starts, fields).
struct Records<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    delim: Delim,
}

impl<'a> Records<'a> {
    fn new(text: &'a str, delim: Delim) -> Self {
        Records {
            text,
            pos: 0,
            line: 1,
            delim,
        }
    }
}

impl Iterator for Records<'_> {
    type Item = Result<(usize, Vec<String>)>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.text.as_bytes();
        loop {
            if self.pos >= bytes.len() {
                return None;
            }
            let start_line = self.line;
            let mut fields: Vec<String> = Vec::new();
            let mut field = String::new();
            let mut in_quotes = false;
            let mut field_started = false;
            let mut i = self.pos;
            while i < bytes.len() {
                let c = bytes[i];
                if in_quotes {
                    if c == b'"' {
                        if bytes.get(i + 1) == Some(&b'"') {
                            field.push('"');
                            i += 2;
                            continue;
                        }
                        in_quotes = false;
                        i += 1;
                        continue;
                    }
                    if c == b'\n' {
                        self.line += 1;
                    }
                    // Copy the whole UTF-8 character.
                    let ch_len = utf8_len(c);
                    field.push_str(&self.text[i..(i + ch_len).min(bytes.len())]);
                    i += ch_len;
                    continue;
                }
                match c {
                    b'\n' => {
                        self.line += 1;
                        i += 1;
                        break;
                    }
                    b'\r' if bytes.get(i + 1) == Some(&b'\n') || i + 1 == bytes.len() => {
                        i += 1;
                    }
                    b'"' if !field_started || field.trim().is_empty() => {
                        field.clear();
                        in_quotes = true;
                        field_started = true;
                        i += 1;
                    }
                    _ if self.is_delim(c) => {
                        if self.delim == Delim::Whitespace {
                            // A run of blanks is one separator; leading blanks separate nothing.
                            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                                i += 1;
                            }
                            if field_started {
                                fields.push(std::mem::take(&mut field));
                                field_started = false;
                            }
                            continue;
                        }
                        fields.push(std::mem::take(&mut field));
                        field_started = false;
                        i += 1;
                    }
                    _ => {
                        let ch_len = utf8_len(c);
                        field.push_str(&self.text[i..(i + ch_len).min(bytes.len())]);
                        field_started = true;
                        i += ch_len;
                    }
                }
            }
            self.pos = i;
            if in_quotes {
                return Some(Err(
                    Error::malformed("quoted field is not closed").at(format!("line {start_line}"))
                ));
            }
            if field_started || self.delim != Delim::Whitespace {
                fields.push(field);
            }
            if fields.len() <= 1 && fields.iter().all(|f| f.trim().is_empty()) {
                continue; // blank line
            }
            return Some(Ok((start_line, fields)));
        }
    }
}

impl Records<'_> {
    fn is_delim(&self, c: u8) -> bool {
        match self.delim {
            Delim::Byte(d) => c == d,
            Delim::Whitespace => c == b' ' || c == b'\t',
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Write `rec` as CSV to `w`: physical values (or digital integers when `physical` is false),
/// with a leading `time (s)` column when `time_column` is true. See the module documentation.
pub fn write_csv(
    w: &mut (impl Write + ?Sized),
    rec: &Recording,
    physical: bool,
    time_column: bool,
) -> Result<()> {
    let spf: Vec<u64> = rec
        .signals
        .iter()
        .map(|s| u64::from(s.samples_per_frame))
        .collect();
    if spf.contains(&0) {
        return Err(Error::invalid("a signal has 0 samples per frame"));
    }
    for (s, &n) in rec.signals.iter().zip(&spf) {
        if Some(s.samples.len() as u64) != rec.frames.checked_mul(n) {
            return Err(Error::invalid(format!(
                "signal {:?} has {} samples, not frames × samples per frame",
                s.description,
                s.samples.len()
            )));
        }
    }
    // Rows per frame: the least common multiple of the samples per frame.
    let per_frame = spf.iter().try_fold(1u64, |acc, &n| {
        let l = acc / gcd(acc, n) * n;
        (l <= 1 << 20).then_some(l)
    });
    let per_frame = per_frame
        .ok_or_else(|| Error::invalid("samples per frame have no small common multiple"))?;
    let rows = rec
        .frames
        .checked_mul(per_frame)
        .ok_or_else(|| Error::invalid("too many rows"))?;
    let row_rate = rec.frame_frequency * per_frame as f64;
    let time_decimals = if row_rate > 0.0 {
        (row_rate.log10().ceil() as i32 + 3).clamp(3, 12) as usize
    } else {
        3
    };

    let mut out = std::io::BufWriter::new(w);
    let mut header: Vec<String> = Vec::new();
    if time_column {
        header.push("time (s)".to_string());
    }
    for s in &rec.signals {
        let units = if physical { s.units.as_str() } else { "adu" };
        header.push(if units.is_empty() {
            s.description.clone()
        } else {
            format!("{} ({units})", s.description)
        });
    }
    let line: Vec<String> = header.iter().map(|h| quote(h)).collect();
    writeln!(out, "{}", line.join(","))?;
    let formats: Vec<ValueFormat> = rec.signals.iter().map(ValueFormat::for_signal).collect();
    let mut buf = String::new();
    for r in 0..rows {
        buf.clear();
        if time_column {
            let t = if row_rate > 0.0 {
                r as f64 / row_rate
            } else {
                0.0
            };
            buf.push_str(&format!("{t:.time_decimals$}"));
        }
        for (k, s) in rec.signals.iter().enumerate() {
            if time_column || k > 0 {
                buf.push(',');
            }
            let step = per_frame / spf[k];
            if r % step != 0 {
                continue;
            }
            let d = s.samples[(r / step) as usize];
            if d == MISSING {
                continue;
            }
            if physical {
                formats[k].push(&mut buf, s, d);
            } else {
                buf.push_str(&d.to_string());
            }
        }
        buf.push('\n');
        out.write_all(buf.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

/// How a signal's physical values are printed.
enum ValueFormat {
    /// Gain 10^d, baseline b: print (digital - b) with the point moved d places (exact).
    PowerOfTen(i32),
    /// Otherwise: this many decimals.
    Decimals(usize),
}

impl ValueFormat {
    fn for_signal(s: &Signal) -> Self {
        let g = s.effective_gain();
        let d = g.abs().log10().round() as i32;
        if g > 0.0 && (-30..=30).contains(&d) && 10f64.powi(d) == g {
            return ValueFormat::PowerOfTen(d);
        }
        let decimals = (g.abs().log10().ceil() as i64 + 1).clamp(0, 17) as usize;
        ValueFormat::Decimals(decimals)
    }

    fn push(&self, buf: &mut String, s: &Signal, d: i32) {
        match *self {
            ValueFormat::PowerOfTen(p) => {
                let v = i64::from(d) - i64::from(s.baseline);
                buf.push_str(&shift_decimal(v, p));
            }
            ValueFormat::Decimals(n) => {
                let v = s.to_physical(d);
                let text = format!("{v:.n$}");
                let text = if text.contains('.') {
                    text.trim_end_matches('0').trim_end_matches('.')
                } else {
                    &text
                };
                buf.push_str(if text == "-0" { "0" } else { text });
            }
        }
    }
}

/// `v * 10^-p` as exact decimal text with exactly `p` decimals (trailing zeros kept, so that
/// reading the text back gives the same gain).
fn shift_decimal(v: i64, p: i32) -> String {
    if p <= 0 {
        let mut s = v.to_string();
        if v != 0 {
            s.extend(std::iter::repeat_n('0', (-p) as usize));
        }
        return s;
    }
    let p = p as usize;
    let digits = v.unsigned_abs().to_string();
    let digits = format!("{digits:0>width$}", width = p + 1);
    let (int, frac) = digits.split_at(digits.len() - p);
    let sign = if v < 0 { "-" } else { "" };
    format!("{sign}{int}.{frac}")
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r', ';']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
