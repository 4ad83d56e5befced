//! The Kaggle "ECG Heartbeat Categorization" layout (`mitbih_train.csv`, `mitbih_test.csv`,
//! and the PTB files `ptbdb_normal.csv`/`ptbdb_abnormal.csv` of the same shape).
//!
//! Each line is one beat: [`BEAT_LEN`] = 187 sample values scaled to `[0, 1]` (zero-padded at the
//! end), then the class label, comma-separated, no header. The values were float32 and were
//! written by pandas/NumPy as the float64 of that float32 in `%.18e` form, e.g.
//! `9.779411554336547852e-01`; the label is written the same way (`1.000000000000000000e+00`).
//! Reading parses each value as float64 and rounds to float32, which recovers the original float32
//! exactly; [`write_beat_csv`] prints the same 18-decimal form with a two-digit signed exponent, so a
//! read–write cycle reproduces the original files byte for byte (line ends aside: `\n`).
//!
//! Labels of the MIT-BIH files follow the AAMI EC57 beat classes ([`AamiClass`]):
//! 0 = N (normal, bundle branch block, atrial/nodal escape), 1 = S (supraventricular ectopic),
//! 2 = V (ventricular ectopic), 3 = F (fusion of ventricular and normal), 4 = Q (paced, fusion of
//! paced and normal, unclassifiable). The PTB files use 0 = normal, 1 = abnormal.
//!
//! A value outside `[0, 1]` is an error, unless [`BeatCsvOptions::lenient`] is set: then it is kept
//! as read and counted in a warning. Labels must be whole numbers 0–4 in every mode.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result, ResultExt};

/// Samples per beat.
pub const BEAT_LEN: usize = 187;

/// Largest file [`read_beat_csv`] loads (the original training file is about 390 MB).
const MAX_FILE_BYTES: u64 = 4 << 30;

/// One beat: its samples and class label.
#[derive(Debug, Clone, PartialEq)]
pub struct BeatCsvBeat {
    /// Samples scaled to `[0, 1]`, zero-padded after the beat.
    pub values: [f32; BEAT_LEN],
    /// Class label, 0–4 (see [`AamiClass`]).
    pub label: u8,
}

/// Reading options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BeatCsvOptions {
    /// Accept values outside `[0, 1]` (with a warning) instead of failing.
    pub lenient: bool,
}

/// Result of reading a Kaggle beat file.
#[derive(Debug, Clone)]
pub struct BeatCsvData {
    /// The beats, in file order.
    pub beats: Vec<BeatCsvBeat>,
    /// Non-fatal problems (only in lenient mode), one sentence each.
    pub warnings: Vec<String>,
}

/// AAMI EC57 beat class, as numbered in the Kaggle MIT-BIH files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AamiClass {
    /// 0: normal and bundle branch block beats, atrial and nodal escape beats.
    N,
    /// 1: supraventricular ectopic beats.
    S,
    /// 2: ventricular ectopic beats.
    V,
    /// 3: fusion of ventricular and normal beats.
    F,
    /// 4: paced, fusion of paced and normal, and unclassifiable beats.
    Q,
}

impl AamiClass {
    /// The class of a Kaggle label (0–4).
    pub fn from_label(label: u8) -> Option<Self> {
        Some(match label {
            0 => AamiClass::N,
            1 => AamiClass::S,
            2 => AamiClass::V,
            3 => AamiClass::F,
            4 => AamiClass::Q,
            _ => return None,
        })
    }

    /// The Kaggle label (0–4).
    pub fn label(self) -> u8 {
        self as u8
    }

    /// One-letter AAMI symbol.
    pub fn symbol(self) -> char {
        match self {
            AamiClass::N => 'N',
            AamiClass::S => 'S',
            AamiClass::V => 'V',
            AamiClass::F => 'F',
            AamiClass::Q => 'Q',
        }
    }
}

/// Read a Kaggle beat file.
pub fn read_beat_csv(path: impl AsRef<Path>, options: &BeatCsvOptions) -> Result<BeatCsvData> {
    let path = path.as_ref();
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if len > MAX_FILE_BYTES {
        return Err(Error::too_large(format!("file is {len} bytes")).in_file(path));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_beat_csv(&bytes, options).in_file(path)
}

/// Parse Kaggle beat text held in memory.
pub fn parse_beat_csv(bytes: &[u8], options: &BeatCsvOptions) -> Result<BeatCsvData> {
    let mut beats = Vec::new();
    let mut out_of_range = 0u64;
    let mut first_out_of_range = None;
    for (n, raw) in bytes.split(|&c| c == b'\n').enumerate() {
        let line_no = n + 1;
        let line = std::str::from_utf8(raw).map_err(|_| {
            Error::malformed("text is not valid UTF-8").at(format!("line {line_no}"))
        })?;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let mut values = [0f32; BEAT_LEN];
        let mut fields = line.split(',');
        let mut count = 0usize;
        for (c, field) in fields.by_ref().take(BEAT_LEN).enumerate() {
            count += 1;
            let at = || format!("line {line_no}, column {}", c + 1);
            let v: f64 = field.trim().parse().map_err(|_| {
                let hint = if line_no == 1 && beats.is_empty() {
                    " (these files have no header row)"
                } else {
                    ""
                };
                Error::malformed(format!("{field:?} is not a number{hint}")).at(at())
            })?;
            if !v.is_finite() {
                return Err(Error::malformed(format!("value {field:?} is not finite")).at(at()));
            }
            if !(0.0..=1.0).contains(&v) {
                if !options.lenient {
                    return Err(Error::malformed(format!(
                        "value {v} is outside [0, 1] (read with the lenient option to accept)"
                    ))
                    .at(at()));
                }
                out_of_range += 1;
                first_out_of_range.get_or_insert_with(at);
            }
            values[c] = v as f32;
        }
        let label_field = fields.next();
        let extra = fields.count();
        if count < BEAT_LEN || label_field.is_none() || extra > 0 {
            let total = count + usize::from(label_field.is_some()) + extra;
            return Err(Error::malformed(format!(
                "{total} fields; a beat line has {} ({BEAT_LEN} values and the label)",
                BEAT_LEN + 1
            ))
            .at(format!("line {line_no}")));
        }
        let label_text = label_field.unwrap_or_default();
        let label = label_text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|l| l.fract() == 0.0 && (0.0..=4.0).contains(l))
            .ok_or_else(|| {
                Error::malformed(format!("label {label_text:?} is not a class 0–4"))
                    .at(format!("line {line_no}, column {}", BEAT_LEN + 1))
            })? as u8;
        beats.push(BeatCsvBeat { values, label });
    }
    let mut warnings = Vec::new();
    if let Some(at) = first_out_of_range {
        warnings.push(format!(
            "{out_of_range} values outside [0, 1] kept as read (first at {at})"
        ));
    }
    Ok(BeatCsvData { beats, warnings })
}

/// Write beats in the original files' form (see the module documentation).
pub fn write_beat_csv(w: &mut (impl Write + ?Sized), beats: &[BeatCsvBeat]) -> Result<()> {
    let mut out = std::io::BufWriter::new(w);
    let mut line = String::with_capacity((BEAT_LEN + 1) * 26);
    for (i, b) in beats.iter().enumerate() {
        if b.label > 4 {
            return Err(Error::invalid(format!("beat {i} has label {}", b.label)));
        }
        if let Some(v) = b.values.iter().find(|v| !v.is_finite()) {
            return Err(Error::invalid(format!("beat {i} has value {v}")));
        }
        line.clear();
        for v in &b.values {
            push_pandas_float(&mut line, f64::from(*v));
            line.push(',');
        }
        push_pandas_float(&mut line, f64::from(b.label));
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

/// `%.18e` as C prints it: mantissa with 18 decimals, `e`, sign, at least two exponent digits.
fn push_pandas_float(out: &mut String, v: f64) {
    let s = format!("{v:.18e}");
    let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    out.push_str(mantissa);
    out.push('e');
    out.push(if exponent < 0 { '-' } else { '+' });
    out.push_str(&format!("{:02}", exponent.unsigned_abs()));
}
