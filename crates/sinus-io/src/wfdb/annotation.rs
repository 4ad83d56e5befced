//! MIT-format WFDB annotation files (`.atr`, `.qrs`, `.ecg`, ...): reading and writing.
//!
//! # Format (WFDB `annot(5)`, MIT format)
//!
//! A file is a sequence of little-endian 16-bit words. The top 6 bits of a word are a code `A`,
//! the low 10 bits a datum `I`:
//!
//! - `A` in 1..=58 (and 0 with `I != 0`): an annotation of type `A`, `I` ticks after the previous
//!   one (or after time 0).
//! - `A = 59` (SKIP): the next two words hold a signed 32-bit interval in PDP-11 order (high
//!   16-bit word first, each word little-endian), added to the running time. Used for intervals
//!   above 1023 or below 0.
//! - `A = 60` (NUM), `61` (SUB), `62` (CHN): set the `num`, `subtyp` and `chan` fields of the
//!   annotation just read to the low 8 bits of `I`. `num` and `chan` carry over to later
//!   annotations until changed; `subtyp` is 0 unless given.
//! - `A = 63` (AUX): the low 8 bits of `I` are a byte count; that many bytes follow, plus one
//!   zero pad byte when the count is odd so that words stay aligned.
//! - The word 0 ends the file.
//!
//! Pseudo-codes 59..=63 after an annotation word belong to that annotation (a SKIP there moves
//! the time of the *next* one), exactly as the WFDB library's `getann` reads them.
//!
//! # Header annotations
//!
//! WFDB's `putann` may start a file with `NOTE` annotations at time 0 that describe the file:
//! `"## time resolution: F"` (the ticks per second of annotation times, when they differ from
//! the record's sampling frequency) and a table of custom annotation mnemonics, followed by a
//! null annotation (code 0, time 0). The WFDB library consumes these while opening the file and
//! never returns them; [`decode_annotations`] does the same, keeping them in
//! [`AnnotationSet::header`] so that [`encode_annotation_set`] can write them back unchanged.
//!
//! # Writing
//!
//! [`encode_annotations`] chooses encodings as `putann` does (SKIP for intervals above 1023 or
//! negative, SUB when the subtype is not 0, CHN/NUM only when changed, AUX with padding), so
//! reading and re-writing a file produced by the WFDB library reproduces it byte for byte. This
//! holds for all 48 MIT-BIH Arrhythmia Database `.atr` files.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result, ResultExt};

/// Annotation type codes (`anntyp`) as defined by WFDB's `<wfdb/ecgcodes.h>`.
pub mod codes {
    /// Not-QRS; also the "null annotation" code (not a `getann`/`putann` annotation type).
    pub const NOTQRS: u8 = 0;
    /// Normal beat.
    pub const NORMAL: u8 = 1;
    /// Left bundle branch block beat.
    pub const LBBB: u8 = 2;
    /// Right bundle branch block beat.
    pub const RBBB: u8 = 3;
    /// Aberrated atrial premature beat.
    pub const ABERR: u8 = 4;
    /// Premature ventricular contraction.
    pub const PVC: u8 = 5;
    /// Fusion of ventricular and normal beat.
    pub const FUSION: u8 = 6;
    /// Nodal (junctional) premature beat.
    pub const NPC: u8 = 7;
    /// Atrial premature contraction.
    pub const APC: u8 = 8;
    /// Premature or ectopic supraventricular beat.
    pub const SVPB: u8 = 9;
    /// Ventricular escape beat.
    pub const VESC: u8 = 10;
    /// Nodal (junctional) escape beat.
    pub const NESC: u8 = 11;
    /// Paced beat.
    pub const PACE: u8 = 12;
    /// Unclassifiable beat.
    pub const UNKNOWN: u8 = 13;
    /// Signal quality change.
    pub const NOISE: u8 = 14;
    /// Isolated QRS-like artifact.
    pub const ARFCT: u8 = 16;
    /// ST change.
    pub const STCH: u8 = 18;
    /// T-wave change.
    pub const TCH: u8 = 19;
    /// Systole.
    pub const SYSTOLE: u8 = 20;
    /// Diastole.
    pub const DIASTOLE: u8 = 21;
    /// Comment annotation (text in `aux`).
    pub const NOTE: u8 = 22;
    /// Measurement annotation.
    pub const MEASURE: u8 = 23;
    /// P-wave peak.
    pub const PWAVE: u8 = 24;
    /// Left or right bundle branch block.
    pub const BBB: u8 = 25;
    /// Non-conducted pacer spike.
    pub const PACESP: u8 = 26;
    /// T-wave peak.
    pub const TWAVE: u8 = 27;
    /// Rhythm change (the new rhythm, e.g. `(AFIB`, in `aux`).
    pub const RHYTHM: u8 = 28;
    /// U-wave peak.
    pub const UWAVE: u8 = 29;
    /// Learning.
    pub const LEARN: u8 = 30;
    /// Ventricular flutter wave.
    pub const FLWAV: u8 = 31;
    /// Start of ventricular flutter/fibrillation.
    pub const VFON: u8 = 32;
    /// End of ventricular flutter/fibrillation.
    pub const VFOFF: u8 = 33;
    /// Atrial escape beat.
    pub const AESC: u8 = 34;
    /// Supraventricular escape beat.
    pub const SVESC: u8 = 35;
    /// Link to external data (`aux` contains a URL).
    pub const LINK: u8 = 36;
    /// Non-conducted P-wave (blocked APB).
    pub const NAPC: u8 = 37;
    /// Fusion of paced and normal beat.
    pub const PFUS: u8 = 38;
    /// Waveform onset.
    pub const WFON: u8 = 39;
    /// PQ junction (beginning of QRS); same code as [`WFON`].
    pub const PQ: u8 = WFON;
    /// Waveform end.
    pub const WFOFF: u8 = 40;
    /// J point (end of QRS); same code as [`WFOFF`].
    pub const JPT: u8 = WFOFF;
    /// R-on-T premature ventricular contraction.
    pub const RONT: u8 = 41;
    /// Largest valid annotation code; codes `RONT + 1 ..= ACMAX` are user-defined.
    pub const ACMAX: u8 = 49;
}

/// Pseudo-annotation codes (top 6 bits of a word); see the module documentation.
const SKIP: u8 = 59;
const NUM: u8 = 60;
const SUB: u8 = 61;
const CHN: u8 = 62;
const AUX: u8 = 63;
/// Largest interval that fits in the 10-bit datum of an annotation word.
const MAXRR: i128 = 1023;
/// Largest forward and backward interval of one SKIP (WFDB's MAXSKIP / -MINSKIP).
const MAXSKIP: i128 = 0x7fff_ffff;
/// Largest time jump the writer accepts between two annotations: 512 SKIPs (3 KiB). WFDB
/// itself has no limit below 2^63, which could make a single annotation cost gigabytes.
const MAX_JUMP: i128 = 1 << 40;

/// Largest annotation file [`read_annotations`] and [`decode_annotations`] accept (64 MiB, some
/// 30 million annotations; an MIT-BIH `.atr` file is below 9 KiB and a day-long Holter file
/// below 1 MiB). Decoded annotations take up to 20 times the file's size in memory.
pub const MAX_ANNOTATION_FILE_BYTES: usize = 64 << 20;

/// Prefix of the header note that declares the time resolution, as WFDB writes and reads it.
pub const TIME_RESOLUTION_PREFIX: &str = "## time resolution: ";
/// Header note that opens a table of custom annotation mnemonics.
pub const DEFINITIONS_START: &str = "## annotation type definitions";
/// Header note that closes a table of custom annotation mnemonics.
pub const DEFINITIONS_END: &str = "## end of definitions";

/// One entry of WFDB's annotation code table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CodeInfo {
    /// The code (`anntyp`), 0..=49.
    pub code: u8,
    /// The C macro name in `<wfdb/ecgcodes.h>` (`"NORMAL"`), or `None` for unassigned codes.
    pub name: Option<&'static str>,
    /// The mnemonic WFDB prints (`ecgstr`): `"N"`, or `"[15]"` for unassigned codes.
    pub symbol: &'static str,
    /// WFDB's description (`anndesc`), or `None` where WFDB has none (unassigned codes).
    pub description: Option<&'static str>,
    /// Whether the code denotes a QRS complex (WFDB's `isqrs`).
    pub is_beat: bool,
}

const fn ci(
    code: u8,
    name: Option<&'static str>,
    symbol: &'static str,
    description: Option<&'static str>,
    is_beat: bool,
) -> CodeInfo {
    CodeInfo {
        code,
        name,
        symbol,
        description,
        is_beat,
    }
}

/// WFDB's default annotation code table (codes 0..=49), with the mnemonics of `ecgstr`, the
/// descriptions of `anndesc` and the beat flags of `isqrs`, from WFDB 10.7.
pub const CODE_TABLE: [CodeInfo; 50] = [
    ci(0, Some("NOTQRS"), " ", Some(""), false),
    ci(1, Some("NORMAL"), "N", Some("Normal beat"), true),
    ci(
        2,
        Some("LBBB"),
        "L",
        Some("Left bundle branch block beat"),
        true,
    ),
    ci(
        3,
        Some("RBBB"),
        "R",
        Some("Right bundle branch block beat"),
        true,
    ),
    ci(
        4,
        Some("ABERR"),
        "a",
        Some("Aberrated atrial premature beat"),
        true,
    ),
    ci(
        5,
        Some("PVC"),
        "V",
        Some("Premature ventricular contraction"),
        true,
    ),
    ci(
        6,
        Some("FUSION"),
        "F",
        Some("Fusion of ventricular and normal beat"),
        true,
    ),
    ci(
        7,
        Some("NPC"),
        "J",
        Some("Nodal (junctional) premature beat"),
        true,
    ),
    ci(8, Some("APC"), "A", Some("Atrial premature beat"), true),
    ci(
        9,
        Some("SVPB"),
        "S",
        Some("Supraventricular premature or ectopic beat"),
        true,
    ),
    ci(10, Some("VESC"), "E", Some("Ventricular escape beat"), true),
    ci(
        11,
        Some("NESC"),
        "j",
        Some("Nodal (junctional) escape beat"),
        true,
    ),
    ci(12, Some("PACE"), "/", Some("Paced beat"), true),
    ci(13, Some("UNKNOWN"), "Q", Some("Unclassifiable beat"), true),
    ci(
        14,
        Some("NOISE"),
        "~",
        Some("Change in signal quality"),
        false,
    ),
    ci(15, None, "[15]", None, false),
    ci(
        16,
        Some("ARFCT"),
        "|",
        Some("Isolated QRS-like artifact"),
        false,
    ),
    ci(17, None, "[17]", None, false),
    ci(18, Some("STCH"), "s", Some("ST segment change"), false),
    ci(19, Some("TCH"), "T", Some("T-wave change"), false),
    ci(20, Some("SYSTOLE"), "*", Some("Systole"), false),
    ci(21, Some("DIASTOLE"), "D", Some("Diastole"), false),
    ci(22, Some("NOTE"), "\"", Some("Comment annotation"), false),
    ci(
        23,
        Some("MEASURE"),
        "=",
        Some("Measurement annotation"),
        false,
    ),
    ci(24, Some("PWAVE"), "p", Some("P-wave peak"), false),
    ci(
        25,
        Some("BBB"),
        "B",
        Some("Bundle branch block beat (unspecified)"),
        true,
    ),
    ci(
        26,
        Some("PACESP"),
        "^",
        Some("(Non-captured) pacemaker artifact"),
        false,
    ),
    ci(27, Some("TWAVE"), "t", Some("T-wave peak"), false),
    ci(28, Some("RHYTHM"), "+", Some("Rhythm change"), false),
    ci(29, Some("UWAVE"), "u", Some("U-wave peak"), false),
    ci(
        30,
        Some("LEARN"),
        "?",
        Some("Beat not classified during learning"),
        true,
    ),
    ci(
        31,
        Some("FLWAV"),
        "!",
        Some("Ventricular flutter wave"),
        true,
    ),
    ci(
        32,
        Some("VFON"),
        "[",
        Some("Start of ventricular flutter/fibrillation"),
        false,
    ),
    ci(
        33,
        Some("VFOFF"),
        "]",
        Some("End of ventricular flutter/fibrillation"),
        false,
    ),
    ci(34, Some("AESC"), "e", Some("Atrial escape beat"), true),
    ci(
        35,
        Some("SVESC"),
        "n",
        Some("Supraventricular escape beat"),
        true,
    ),
    ci(
        36,
        Some("LINK"),
        "@",
        Some("Link to external data (aux contains URL)"),
        false,
    ),
    ci(
        37,
        Some("NAPC"),
        "x",
        Some("Non-conducted P-wave (blocked APC)"),
        false,
    ),
    ci(
        38,
        Some("PFUS"),
        "f",
        Some("Fusion of paced and normal beat"),
        true,
    ),
    ci(39, Some("WFON"), "(", Some("Waveform onset"), false),
    ci(40, Some("WFOFF"), ")", Some("Waveform end"), false),
    ci(
        41,
        Some("RONT"),
        "r",
        Some("R-on-T premature ventricular contraction"),
        true,
    ),
    ci(42, None, "[42]", None, false),
    ci(43, None, "[43]", None, false),
    ci(44, None, "[44]", None, false),
    ci(45, None, "[45]", None, false),
    ci(46, None, "[46]", None, false),
    ci(47, None, "[47]", None, false),
    ci(48, None, "[48]", None, false),
    ci(49, None, "[49]", None, false),
];

/// Mnemonics WFDB prints for codes above ACMAX (`ecgstr` formats them as `[code]`). Codes 50..=58
/// can be stored in a file; 59..=63 are pseudo-codes and never reach an [`Annotation`].
const HIGH_SYMBOLS: [&str; 14] = [
    "[50]", "[51]", "[52]", "[53]", "[54]", "[55]", "[56]", "[57]", "[58]", "[59]", "[60]", "[61]",
    "[62]", "[63]",
];

/// The table entry of `code`, or `None` above [`codes::ACMAX`].
pub fn code_info(code: u8) -> Option<&'static CodeInfo> {
    CODE_TABLE.get(usize::from(code))
}

/// WFDB's mnemonic for `code` (`ecgstr`): `"N"` for 1, `"[15]"` for unassigned codes and for
/// codes 50..=63. Codes above 63 cannot be stored in a file; they give `"[invalid]"`.
pub fn symbol(code: u8) -> &'static str {
    match code_info(code) {
        Some(info) => info.symbol,
        None => HIGH_SYMBOLS
            .get(usize::from(code) - CODE_TABLE.len())
            .copied()
            .unwrap_or("[invalid]"),
    }
}

/// WFDB's description of `code` (`anndesc`), `None` for unassigned and out-of-range codes.
pub fn description(code: u8) -> Option<&'static str> {
    code_info(code).and_then(|info| info.description)
}

/// Whether `code` denotes a QRS complex (a beat), as WFDB's `isqrs` macro decides.
pub fn is_beat(code: u8) -> bool {
    code_info(code).is_some_and(|info| info.is_beat)
}

/// The code whose WFDB mnemonic is `symbol` (`strecg`): `"N"` gives 1, `"[15]"` gives 15.
/// `" "` gives 0 (the mnemonic of the null code); anything else unknown gives `None`.
pub fn code_from_symbol(symbol: &str) -> Option<u8> {
    CODE_TABLE
        .iter()
        .find(|info| info.symbol == symbol)
        .map(|info| info.code)
}

/// One annotation, with the fields of WFDB's `WFDB_Annotation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Annotation {
    /// Time of the annotation: a sample number of the record (or a tick of the file's time
    /// resolution, see [`AnnotationSet::converted`]).
    pub sample: i64,
    /// Annotation type (`anntyp`), see [`codes`]; 0..=58 can be stored.
    pub code: u8,
    /// Annotation subtype (`subtyp`); MIT-BIH uses it e.g. for noise (`~`) levels, -1 included.
    pub subtype: i8,
    /// Signal the annotation belongs to (`chan`).
    pub chan: u8,
    /// Annotator-defined number (`num`).
    pub num: i8,
    /// Auxiliary bytes exactly as stored (at most 255), e.g. `b"(AFIB\0"` for an MIT-BIH rhythm
    /// change: MIT-BIH includes a trailing NUL in the stored length. `None` when absent.
    pub aux: Option<Vec<u8>>,
}

impl Annotation {
    /// An annotation of type `code` at `sample`, with other fields 0 and no aux.
    pub fn new(sample: i64, code: u8) -> Self {
        Annotation {
            sample,
            code,
            ..Annotation::default()
        }
    }

    /// WFDB's default mnemonic of this annotation's code (see [`symbol`]).
    pub fn symbol(&self) -> &'static str {
        symbol(self.code)
    }

    /// Whether this annotation marks a beat (WFDB's `isqrs`).
    pub fn is_beat(&self) -> bool {
        is_beat(self.code)
    }

    /// WFDB's description of this annotation's code.
    pub fn description(&self) -> Option<&'static str> {
        description(self.code)
    }

    /// The aux bytes as text, each byte taken as the Unicode character of the same value
    /// (Latin-1), NUL bytes kept: the same string wfdb-python's `rdann` gives in `aux_note`.
    pub fn aux_latin1(&self) -> Option<String> {
        self.aux
            .as_ref()
            .map(|bytes| bytes.iter().map(|&b| char::from(b)).collect())
    }

    /// The aux bytes up to the first NUL, as text (invalid UTF-8 replaced): what a C program
    /// using the WFDB library would print for `(AFIB\0`.
    pub fn aux_text(&self) -> Option<String> {
        self.aux
            .as_ref()
            .map(|bytes| String::from_utf8_lossy(until_nul(bytes)).into_owned())
    }
}

/// A custom annotation mnemonic defined in a file's header (WFDB's modification labels).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomLabel {
    /// The code being (re)defined, 0..=49.
    pub code: u8,
    /// Its mnemonic (no spaces or tabs).
    pub symbol: String,
    /// Its description; `None` when the definition line has nothing after the mnemonic.
    pub description: Option<String>,
}

/// The content of an annotation file.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AnnotationSet {
    /// The annotations, in file order, as the WFDB library's `getann` returns them (header
    /// annotations excluded).
    pub annotations: Vec<Annotation>,
    /// The time resolution (ticks per second) the file declares in a `## time resolution`
    /// header note, or `None` (then times count samples of the record).
    pub time_resolution: Option<f64>,
    /// Whether `sample` values were rescaled from the declared time resolution to the record
    /// sampling frequency given to the reader. When false they are the file's raw times.
    pub converted: bool,
    /// Custom mnemonics defined in the header; they override the defaults for this file.
    pub custom_labels: Vec<CustomLabel>,
    /// The header annotations as stored (time-0 `NOTE`s and the null annotation after them),
    /// kept so that [`encode_annotation_set`] reproduces the file.
    pub header: Vec<Annotation>,
    /// Bytes after the end-of-file word, if any (WFDB ignores them; kept for exact rewriting).
    pub trailing: Vec<u8>,
}

impl AnnotationSet {
    /// The mnemonic of `code` in this file: a custom label when the header defines one, else
    /// WFDB's default.
    pub fn symbol_of(&self, code: u8) -> &str {
        self.custom_labels
            .iter()
            .rev()
            .find(|label| label.code == code)
            .map_or_else(|| symbol(code), |label| label.symbol.as_str())
    }

    /// Options that make [`encode_annotations`] write a canonical header declaring this set's
    /// time resolution and custom labels.
    pub fn encode_options(&self) -> EncodeOptions {
        EncodeOptions {
            time_resolution: self.time_resolution,
            custom_labels: self.custom_labels.clone(),
        }
    }
}

/// Number of annotations of each default mnemonic (beats and non-beats alike): for MIT-BIH
/// record 100, `N` 2239, `A` 33, `V` 1 and `+` 1.
pub fn count_by_symbol(annotations: &[Annotation]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for annotation in annotations {
        *counts.entry(annotation.symbol()).or_insert(0) += 1;
    }
    counts
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Read an annotation file. `record_fs` is the sampling frequency of the record it annotates:
/// when given and the file declares a different time resolution, times are converted to
/// samples of the record as the WFDB library does (see [`decode_annotations`]).
pub fn read_annotations(path: impl AsRef<Path>, record_fs: Option<f64>) -> Result<AnnotationSet> {
    let path = path.as_ref();
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if len > MAX_ANNOTATION_FILE_BYTES as u64 {
        return Err(too_large_file(len).in_file(path));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode_annotations(&bytes, record_fs).in_file(path)
}

fn too_large_file(len: u64) -> Error {
    Error::too_large(format!(
        "annotation file of {len} bytes exceeds the limit of {MAX_ANNOTATION_FILE_BYTES} bytes"
    ))
}

/// Decode the bytes of an MIT-format annotation file.
///
/// Header annotations (the leading run of time-0 `NOTE`s with subtype 0, and a null annotation
/// right after them) are interpreted and moved to [`AnnotationSet::header`], as the WFDB
/// library's `annopen` does. When `record_fs` is given and the header declares a time
/// resolution `r`, each time `t` becomes `t * (record_fs / r)` rounded to the nearest integer,
/// halves rounded up (WFDB's `round_to_time`); without `record_fs` times stay raw.
///
/// Errors (with location `byte N`): a file that ends inside a word, a SKIP or an aux string, or
/// without the end-of-file word; a pseudo-code before the first annotation.
pub fn decode_annotations(bytes: &[u8], record_fs: Option<f64>) -> Result<AnnotationSet> {
    if let Some(fs) = record_fs {
        if !(fs.is_finite() && fs > 0.0) {
            return Err(Error::invalid(format!(
                "record sampling frequency {fs} is not a positive number"
            )));
        }
    }
    if bytes.len() > MAX_ANNOTATION_FILE_BYTES {
        return Err(too_large_file(bytes.len() as u64));
    }
    let (raw, trailing) = decode_raw(bytes)?;

    // The header: what WFDB's get_ann_table consumes.
    let mut header_len = 0;
    let mut time_resolution = None;
    let mut custom_labels = Vec::new();
    while let Some(a) = raw.get(header_len) {
        if !(a.sample == 0 && a.code == codes::NOTE && a.subtype == 0) {
            break;
        }
        interpret_header_note(a.aux.as_deref(), &mut time_resolution, &mut custom_labels);
        header_len += 1;
    }
    // WFDB pushes the first annotation after the header back into the stream, and a pushed-back
    // annotation of code 0 counts as none: the null annotation that ends the header vanishes.
    if raw.get(header_len).is_some_and(|a| a.code == 0) {
        header_len += 1;
    }
    let mut annotations = raw;
    let header: Vec<Annotation> = annotations.drain(..header_len).collect();

    let mut converted = false;
    if let (Some(fs), Some(r)) = (record_fs, time_resolution) {
        let tmul = fs / r;
        if tmul != 1.0 {
            converted = true;
            for a in &mut annotations {
                // i64 -> f64 is exact below 2^53, as WFDB's double accumulator is.
                a.sample = round_to_time(a.sample as f64 * tmul);
            }
        }
    }

    Ok(AnnotationSet {
        annotations,
        time_resolution,
        converted,
        custom_labels,
        header,
        trailing: trailing.to_vec(),
    })
}

/// WFDB's `round_to_time`: nearest integer, halves rounded towards +infinity, clamped.
fn round_to_time(x: f64) -> i64 {
    if x >= 0.0 {
        if x >= i64::MAX as f64 {
            return i64::MAX;
        }
        let t = x.trunc();
        if x - t >= 0.5 {
            t as i64 + 1
        } else {
            t as i64
        }
    } else {
        if x <= i64::MIN as f64 {
            return i64::MIN;
        }
        let t = x.trunc();
        if x - t < -0.5 {
            t as i64 - 1
        } else {
            t as i64
        }
    }
}

/// Bytes up to the first NUL (C string semantics).
fn until_nul(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(end) => &bytes[..end],
        None => bytes,
    }
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Interpret one header note as WFDB's get_ann_table does; notes it cannot use are ignored.
fn interpret_header_note(
    aux: Option<&[u8]>,
    time_resolution: &mut Option<f64>,
    custom_labels: &mut Vec<CustomLabel>,
) {
    let Some(aux) = aux else { return };
    let text = until_nul(aux);
    if text.first() == Some(&b'#') {
        if let Some(rest) = text.strip_prefix(TIME_RESOLUTION_PREFIX.as_bytes()) {
            // WFDB uses sscanf("%lf") and keeps the value only when positive.
            if let Some(f) = parse_leading_float(rest) {
                if f.is_finite() && f > 0.0 {
                    *time_resolution = Some(f);
                }
            }
        }
        return;
    }
    if let Some(label) = parse_definition(text) {
        custom_labels.push(label);
    }
}

/// A definition line `"code mnemonic description"`, split as WFDB's get_ann_table splits it.
fn parse_definition(text: &[u8]) -> Option<CustomLabel> {
    let mut p = text.iter().take_while(|&&b| is_blank(b)).count();
    // strtol: further whitespace, an optional sign, decimal digits.
    while text.get(p).is_some_and(|b| b.is_ascii_whitespace()) {
        p += 1;
    }
    let negative = match text.get(p) {
        Some(b'-') => {
            p += 1;
            true
        }
        Some(b'+') => {
            p += 1;
            false
        }
        _ => false,
    };
    let digits_start = p;
    let mut value: u32 = 0;
    while let Some(d) = text.get(p).filter(|b| b.is_ascii_digit()) {
        value = value.saturating_mul(10).saturating_add(u32::from(d - b'0'));
        p += 1;
    }
    if p == digits_start || (negative && value != 0) || value > u32::from(codes::ACMAX) {
        return None;
    }
    let code = u8::try_from(value).ok()?;
    while text.get(p).is_some_and(|&b| !is_blank(b)) {
        p += 1;
    }
    while text.get(p).is_some_and(|&b| is_blank(b)) {
        p += 1;
    }
    let symbol_start = p;
    while text.get(p).is_some_and(|&b| !is_blank(b)) {
        p += 1;
    }
    if p == symbol_start {
        return None;
    }
    let symbol = String::from_utf8_lossy(&text[symbol_start..p]).into_owned();
    // The description is everything after the one blank that ends the mnemonic.
    let description = text
        .get(p + 1..)
        .map(|d| String::from_utf8_lossy(d).into_owned());
    Some(CustomLabel {
        code,
        symbol,
        description,
    })
}

/// The number at the start of `text` (after blanks), like C's `sscanf("%lf")` for decimal input.
fn parse_leading_float(text: &[u8]) -> Option<f64> {
    let start = text.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let s = &text[start..];
    let mut end = 0;
    if matches!(s.first(), Some(b'+' | b'-')) {
        end += 1;
    }
    let int_digits = s[end..].iter().take_while(|b| b.is_ascii_digit()).count();
    end += int_digits;
    let mut frac_digits = 0;
    if s.get(end) == Some(&b'.') {
        frac_digits = s[end + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        end += 1 + frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if matches!(s.get(end), Some(b'e' | b'E')) {
        let mut e = end + 1;
        if matches!(s.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        let exp_digits = s[e..].iter().take_while(|b| b.is_ascii_digit()).count();
        if exp_digits > 0 {
            end = e + exp_digits;
        }
    }
    std::str::from_utf8(&s[..end]).ok()?.parse().ok()
}

/// A position in the file being decoded.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let slice = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(slice)
            }
            None => Err(Error::truncated(format!(
                "file ends inside {what} ({} of {n} bytes present)",
                self.bytes.len() - self.pos
            ))
            .at(format!("byte {}", self.pos))),
        }
    }

    /// The next word; the file must not end here, since only the word 0 may end it.
    fn word(&mut self) -> Result<u16> {
        if self.pos == self.bytes.len() {
            return Err(
                Error::truncated("file ends without the end-of-file word (0x0000)")
                    .at(format!("byte {}", self.pos)),
            );
        }
        let b = self.take(2, "a word (odd file length)")?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// The 32-bit interval after a SKIP word: two words, the high one first.
    fn skip_interval(&mut self) -> Result<i64> {
        let b = self.take(4, "a SKIP interval")?;
        let high = u16::from_le_bytes([b[0], b[1]]);
        let low = u16::from_le_bytes([b[2], b[3]]);
        Ok(i64::from(((u32::from(high) << 16) | u32::from(low)) as i32))
    }
}

fn code_of(word: u16) -> u8 {
    (word >> 10) as u8
}

fn data_of(word: u16) -> u16 {
    word & 0x3ff
}

/// Decode every annotation (header ones included) with raw times; also return the bytes after
/// the end-of-file word.
fn decode_raw(bytes: &[u8]) -> Result<(Vec<Annotation>, &[u8])> {
    let mut cur = Cursor { bytes, pos: 0 };
    let mut annotations = Vec::new();
    let mut time: i64 = 0;
    let mut chan: u8 = 0;
    let mut num: i8 = 0;
    let overflow = |pos: usize| {
        Error::malformed("annotation time overflows a 64-bit integer").at(format!("byte {pos}"))
    };

    let mut word_pos = cur.pos;
    let mut word = cur.word()?;
    // SKIPs before the first annotation.
    while code_of(word) == SKIP {
        let interval = cur.skip_interval()?;
        time = time
            .checked_add(interval)
            .ok_or_else(|| overflow(word_pos))?;
        word_pos = cur.pos;
        word = cur.word()?;
    }
    loop {
        if word == 0 {
            return Ok((annotations, &bytes[cur.pos..]));
        }
        let code = code_of(word);
        if code > SKIP {
            // Only possible at the start: later pseudo-codes are consumed below.
            return Err(Error::malformed(format!(
                "pseudo-annotation code {code} before the first annotation"
            ))
            .at(format!("byte {word_pos}")));
        }
        time = time
            .checked_add(i64::from(data_of(word)))
            .ok_or_else(|| overflow(word_pos))?;
        let mut annotation = Annotation {
            sample: time,
            code,
            subtype: 0,
            chan,
            num,
            aux: None,
        };
        loop {
            word_pos = cur.pos;
            word = cur.word()?;
            // The low 8 bits of the datum, as WFDB stores it into a char.
            let low = (word & 0xff) as u8;
            match code_of(word) {
                SKIP => {
                    let interval = cur.skip_interval()?;
                    time = time
                        .checked_add(interval)
                        .ok_or_else(|| overflow(word_pos))?;
                }
                NUM => {
                    num = low as i8;
                    annotation.num = num;
                }
                SUB => annotation.subtype = low as i8,
                CHN => {
                    chan = low;
                    annotation.chan = chan;
                }
                AUX => {
                    let len = usize::from(low);
                    let stored = cur.take(len + (len & 1), "an aux string")?;
                    annotation.aux = Some(stored[..len].to_vec());
                }
                _ => break,
            }
        }
        annotations.push(annotation);
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// How [`encode_annotations`] writes the header of a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EncodeOptions {
    /// Declare this time resolution (ticks per second) in a `## time resolution` header note,
    /// as WFDB's `setafreq` does. Annotation times are written as given, in these ticks.
    pub time_resolution: Option<f64>,
    /// Custom mnemonics to define in the header (code 0..=49, mnemonic without blanks).
    pub custom_labels: Vec<CustomLabel>,
}

/// Encode annotations as an MIT-format file, choosing encodings as WFDB's `putann` does, with
/// the header `putann` writes for `opts` (none when `opts` is the default, and none when
/// `annotations` is empty: WFDB writes the header with the first annotation).
///
/// Annotations are written in the order given; WFDB expects (time, num, chan) order.
/// Errors: codes above 58, aux longer than 255 bytes, times `i64::MIN`/`i64::MAX`, a jump of
/// more than 2^40 between consecutive times, an unusable time resolution or custom label.
pub fn encode_annotations(annotations: &[Annotation], opts: &EncodeOptions) -> Result<Vec<u8>> {
    let header = header_annotations(opts)?;
    let mut writer = Writer::default();
    if !annotations.is_empty() {
        for a in &header {
            writer.put(a)?;
        }
    }
    for (i, a) in annotations.iter().enumerate() {
        writer.put(a).map_err(|e| e.at(format!("annotation {i}")))?;
    }
    writer.out.extend_from_slice(&[0, 0]);
    Ok(writer.out)
}

/// Encode a decoded set back into a file: its header annotations as stored, its annotations,
/// the end-of-file word and any trailing bytes. Reading a file written by the WFDB library
/// and encoding the result gives back the same bytes.
///
/// Fails when the set's times were converted to the record's sampling frequency
/// ([`AnnotationSet::converted`]), since the header would declare the wrong time unit.
pub fn encode_annotation_set(set: &AnnotationSet) -> Result<Vec<u8>> {
    if set.converted {
        return Err(Error::invalid(
            "annotation times were converted to the record's sampling frequency; write them \
             with encode_annotations and the time resolution they are in",
        ));
    }
    let mut writer = Writer::default();
    for a in &set.header {
        writer.put(a).map_err(|e| e.at("header"))?;
    }
    for (i, a) in set.annotations.iter().enumerate() {
        writer.put(a).map_err(|e| e.at(format!("annotation {i}")))?;
    }
    writer.out.extend_from_slice(&[0, 0]);
    writer.out.extend_from_slice(&set.trailing);
    Ok(writer.out)
}

/// Write annotations to `path` (see [`encode_annotations`]).
pub fn write_annotations(
    path: impl AsRef<Path>,
    annotations: &[Annotation],
    opts: &EncodeOptions,
) -> Result<()> {
    let path = path.as_ref();
    let bytes = encode_annotations(annotations, opts).in_file(path)?;
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

/// Write a decoded set to `path` (see [`encode_annotation_set`]).
pub fn write_annotation_set(path: impl AsRef<Path>, set: &AnnotationSet) -> Result<()> {
    let path = path.as_ref();
    let bytes = encode_annotation_set(set).in_file(path)?;
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

/// The header annotations WFDB's `put_ann_table` writes for `opts`.
fn header_annotations(opts: &EncodeOptions) -> Result<Vec<Annotation>> {
    let note = |text: String| Annotation {
        aux: Some(text.into_bytes()),
        ..Annotation::new(0, codes::NOTE)
    };
    let mut header = Vec::new();
    if let Some(r) = opts.time_resolution {
        if !(r.is_finite() && r > 0.0) {
            return Err(Error::invalid(format!(
                "time resolution {r} is not a positive number"
            )));
        }
        header.push(note(format!("{TIME_RESOLUTION_PREFIX}{}", format_g12(r))));
    }
    if !opts.custom_labels.is_empty() {
        header.push(note(DEFINITIONS_START.to_string()));
        for label in &opts.custom_labels {
            if label.code > codes::ACMAX {
                return Err(Error::invalid(format!(
                    "custom label code {} exceeds {}",
                    label.code,
                    codes::ACMAX
                )));
            }
            let bad_symbol =
                label.symbol.is_empty() || label.symbol.bytes().any(|b| is_blank(b) || b == 0);
            let bad_description = label
                .description
                .as_ref()
                .is_some_and(|d| d.as_bytes().contains(&0));
            if bad_symbol || bad_description {
                return Err(Error::invalid(format!(
                    "custom label {:?} for code {}: the mnemonic must be non-empty without \
                     blanks, and neither part may contain NUL",
                    label.symbol, label.code
                )));
            }
            let description = label.description.as_deref().unwrap_or("");
            header.push(note(format!(
                "{} {} {}",
                label.code, label.symbol, description
            )));
        }
        header.push(note(DEFINITIONS_END.to_string()));
    }
    if !header.is_empty() {
        header.push(Annotation::new(0, codes::NOTQRS));
    }
    Ok(header)
}

/// C's `printf("%.12g", x)` for finite `x`: 12 significant digits, trailing zeros removed,
/// exponent form below 1e-4 and from 1e12.
fn format_g12(x: f64) -> String {
    fn strip(s: &str) -> &str {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.')
        } else {
            s
        }
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let sci = format!("{x:.11e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..12).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", strip(mantissa), exponent.unsigned_abs())
    } else {
        let decimals = usize::try_from(11 - exponent).unwrap_or(0);
        strip(&format!("{x:.decimals$}")).to_string()
    }
}

/// The running state of WFDB's `putann` for one output file.
#[derive(Default)]
struct Writer {
    out: Vec<u8>,
    time: i64,
    chan: u8,
    num: i8,
}

impl Writer {
    fn word(&mut self, word: u16) {
        self.out.extend_from_slice(&word.to_le_bytes());
    }

    fn word_of(code: u8, data: u16) -> u16 {
        (u16::from(code) << 10) | (data & 0x3ff)
    }

    fn skip(&mut self, interval: i128) {
        // Callers keep intervals within i32 (MAXSKIP bounds); the cast keeps the bit pattern.
        let v = interval as i32 as u32;
        self.word(Self::word_of(SKIP, 0));
        self.word((v >> 16) as u16);
        self.word(v as u16);
    }

    fn put(&mut self, a: &Annotation) -> Result<()> {
        if a.code >= SKIP {
            return Err(Error::invalid(format!(
                "annotation code {} cannot be stored (codes 59..=63 are pseudo-codes)",
                a.code
            )));
        }
        if a.sample == i64::MIN || a.sample == i64::MAX {
            return Err(Error::invalid(format!(
                "annotation time {} is a clamping value WFDB refuses",
                a.sample
            )));
        }
        let aux = a.aux.as_deref().filter(|aux| !aux.is_empty());
        if let Some(aux) = aux {
            if aux.len() > 255 {
                return Err(Error::invalid(format!(
                    "aux of {} bytes exceeds the format's 255",
                    aux.len()
                )));
            }
        }
        let mut delta = i128::from(a.sample) - i128::from(self.time);
        if delta.abs() > MAX_JUMP {
            return Err(Error::invalid(format!(
                "annotation time {} is {delta} ticks from the previous one; more than 2^40 is \
                 not supported",
                a.sample
            )));
        }
        if delta > 0 {
            while delta > MAXSKIP {
                self.skip(MAXSKIP);
                delta -= MAXSKIP;
            }
        } else {
            while -delta > MAXSKIP {
                self.skip(-MAXSKIP);
                delta += MAXSKIP;
            }
        }
        if a.code == codes::NOTQRS {
            // A word of zeroes would read as end of file: skip to one tick before, then step 1.
            self.skip(delta - 1);
            delta = 1;
        } else if !(0..=MAXRR).contains(&delta) {
            self.skip(delta);
            delta = 0;
        }
        // delta is now within 0..=1023.
        self.word(Self::word_of(a.code, delta as u16));
        // WFDB masks the sign-extended value to 10 bits, so -1 is stored as 0x3ff.
        if a.subtype != 0 {
            self.word(Self::word_of(SUB, i16::from(a.subtype) as u16));
        }
        if a.chan != self.chan {
            self.word(Self::word_of(CHN, u16::from(a.chan)));
        }
        if a.num != self.num {
            self.word(Self::word_of(NUM, i16::from(a.num) as u16));
        }
        if let Some(aux) = aux {
            self.word(Self::word_of(AUX, aux.len() as u16));
            self.out.extend_from_slice(aux);
            if aux.len() % 2 == 1 {
                self.out.push(0);
            }
        }
        self.time = a.sample;
        self.chan = a.chan;
        self.num = a.num;
        Ok(())
    }
}
