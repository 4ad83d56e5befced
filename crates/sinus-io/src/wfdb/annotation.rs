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
//!
//! # Compared with wfdb-python's `rdann`
//!
//! On the 48 MIT-BIH files both give the same sample, symbol, subtype, chan, num and aux
//! (`aux_note` is [`Annotation::aux_latin1`], `""` for none). They differ on other input:
//! wfdb-python drops *every* code-0 annotation and every `NOTE` at sample 0 (this reader, like
//! WFDB, only the leading header run); it never rescales times to the record frequency; it
//! reads a SUB/NUM/CHN word that follows a SKIP as an annotation; and its writer stores a
//! negative subtype without bits 8-9 (`0x0ff` rather than WFDB's `0x3ff`, same value when read)
//! and orders the fields NUM, SUB, CHN, AUX rather than SUB, CHN, NUM, AUX.

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
    /// Its description; `None` when the definition line has nothing after the mnemonic and its
    /// separating blank.
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
    /// When `converted`, the file's own times (ticks of `time_resolution`), one per annotation
    /// in the same order, so that nothing of the file is lost; empty otherwise.
    pub original_samples: Vec<i64>,
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
/// Header annotations (the leading run of time-0 `NOTE`s with subtype 0, whatever their text,
/// and a code-0 annotation right after them) are interpreted and moved to
/// [`AnnotationSet::header`], as the WFDB library's `annopen` does. When `record_fs` is given and the header declares a time
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
    let mut original_samples = Vec::new();
    if let (Some(fs), Some(r)) = (record_fs, time_resolution) {
        let tmul = fs / r;
        if tmul != 1.0 {
            converted = true;
            original_samples = annotations.iter().map(|a| a.sample).collect();
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
        original_samples,
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
    // The description is everything after the one blank that ends the mnemonic. WFDB writes
    // "code mnemonic " for a label without description, so an empty one counts as none.
    let description = text
        .get(p + 1..)
        .filter(|d| !d.is_empty())
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
    #[inline]
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
    #[inline]
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
    // Not reserved from the file size: a large up-front reservation measurably disturbed the
    // allocator's reuse of freed sample memory when records are loaded in a loop.
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
                    // An empty aux string is no aux string: WFDB's writer never stores one, and
                    // readers give the same (NULL-equivalent / '') result for both.
                    annotation.aux = (len > 0).then(|| stored[..len].to_vec());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use proptest::prelude::*;

    /// One word: code in the top 6 bits, datum in the low 10.
    fn w(code: u8, data: u16) -> Vec<u8> {
        ((u16::from(code) << 10) | data).to_le_bytes().to_vec()
    }

    /// A SKIP word and its interval, high 16-bit word first.
    fn skip(interval: i32) -> Vec<u8> {
        let v = interval as u32;
        let mut out = vec![0x00, 0xec];
        out.extend_from_slice(&((v >> 16) as u16).to_le_bytes());
        out.extend_from_slice(&(v as u16).to_le_bytes());
        out
    }

    fn file(parts: &[Vec<u8>]) -> Vec<u8> {
        let mut out: Vec<u8> = parts.concat();
        out.extend_from_slice(&[0, 0]);
        out
    }

    fn ann(
        sample: i64,
        code: u8,
        subtype: i8,
        chan: u8,
        num: i8,
        aux: Option<&[u8]>,
    ) -> Annotation {
        Annotation {
            sample,
            code,
            subtype,
            chan,
            num,
            aux: aux.map(<[u8]>::to_vec),
        }
    }

    fn decode(bytes: &[u8]) -> AnnotationSet {
        decode_annotations(bytes, None).unwrap()
    }

    fn encode(annotations: &[Annotation]) -> Vec<u8> {
        encode_annotations(annotations, &EncodeOptions::default()).unwrap()
    }

    fn err_at(bytes: &[u8]) -> (String, Error) {
        let e = decode_annotations(bytes, None).unwrap_err();
        (e.location.clone().unwrap_or_default(), e)
    }

    #[test]
    fn skip_layout_is_pdp11_middle_endian() {
        assert_eq!(skip(5000), [0x00, 0xec, 0x00, 0x00, 0x88, 0x13]);
        assert_eq!(skip(-60), [0x00, 0xec, 0xff, 0xff, 0xc4, 0xff]);
        assert_eq!(skip(0x0102_0304), [0x00, 0xec, 0x02, 0x01, 0x04, 0x03]);
    }

    #[test]
    fn every_pseudo_code_and_persistent_fields() {
        let bytes = file(&[
            w(codes::NORMAL, 10),
            w(SUB, 0x3ff), // -1, as WFDB writes it (10-bit mask of the sign-extended value)
            w(CHN, 3),
            w(NUM, 0x3fe), // -2
            w(AUX, 3),
            b"abc\0".to_vec(), // odd length: one pad byte
            w(codes::PVC, 20),
            skip(5000), // belongs to the time of the next annotation
            w(codes::APC, 0),
            w(NUM, 7),
            w(codes::NORMAL, 1),
        ]);
        let set = decode(&bytes);
        assert_eq!(
            set.annotations,
            [
                ann(10, 1, -1, 3, -2, Some(b"abc")),
                ann(30, 5, 0, 3, -2, None), // chan and num carry over, subtype does not
                ann(5030, 8, 0, 3, 7, None),
                ann(5031, 1, 0, 3, 7, None),
            ]
        );
        assert!(set.header.is_empty() && set.trailing.is_empty());
        // putann's choices reproduce the same bytes.
        assert_eq!(encode(&set.annotations), bytes);
        assert_eq!(encode_annotation_set(&set).unwrap(), bytes);
    }

    #[test]
    fn pseudo_codes_after_a_skip_still_belong_to_the_annotation() {
        // WFDB's getann reads every pseudo-code after an annotation word, SKIPs included,
        // before the next annotation word (wfdb-python would read SUB here as an annotation).
        let bytes = file(&[
            w(codes::NORMAL, 10),
            skip(2000),
            w(SUB, 2),
            w(AUX, 2),
            b"xy".to_vec(),
            w(codes::PVC, 0),
        ]);
        assert_eq!(
            decode(&bytes).annotations,
            [
                ann(10, 1, 2, 0, 0, Some(b"xy")),
                ann(2010, 5, 0, 0, 0, None)
            ]
        );
    }

    #[test]
    fn subtype_and_num_high_bits_are_ignored_on_read() {
        // wfdb-python writes -1 as 0x0ff (no bits 8-9); both read as -1.
        let bytes = file(&[w(codes::NOISE, 1), w(SUB, 0x0ff), w(NUM, 0x2ff)]);
        assert_eq!(decode(&bytes).annotations, [ann(1, 14, -1, 0, -1, None)]);
        // WFDB's writer (and ours) sets them: semantically equal, different bytes.
        assert_eq!(
            encode(&decode(&bytes).annotations),
            file(&[w(codes::NOISE, 1), w(SUB, 0x3ff), w(NUM, 0x3ff)])
        );
    }

    #[test]
    fn interval_limits_choose_skip_as_putann() {
        assert_eq!(encode(&[Annotation::new(1023, 1)]), file(&[w(1, 1023)]));
        assert_eq!(
            encode(&[Annotation::new(1024, 1)]),
            file(&[skip(1024), w(1, 0)])
        );
        // Equal times: interval 0 in the word.
        assert_eq!(
            encode(&[Annotation::new(5, 1), Annotation::new(5, 28)]),
            file(&[w(1, 5), w(28, 0)])
        );
    }

    #[test]
    fn negative_intervals_use_skip() {
        let anns = [Annotation::new(100, 1), Annotation::new(40, 5)];
        let bytes = encode(&anns);
        assert_eq!(bytes, file(&[w(1, 100), skip(-60), w(5, 0)]));
        assert_eq!(decode(&bytes).annotations, anns);
        // A negative first time: SKIP before the first annotation word.
        let bytes = encode(&[Annotation::new(-5, 1)]);
        assert_eq!(bytes, file(&[skip(-5), w(1, 0)]));
        assert_eq!(decode(&bytes).annotations, [Annotation::new(-5, 1)]);
    }

    #[test]
    fn jumps_beyond_32_bits_take_several_skips() {
        let far = 3_000_000_001_i64;
        let anns = [
            Annotation::new(1, 1),
            Annotation::new(far, 1),
            Annotation::new(0, 5),
        ];
        let bytes = encode(&anns);
        let rest = (far - 1 - 0x7fff_ffff) as i32;
        let back = -(far as i128 - 0x7fff_ffff) as i32;
        assert_eq!(
            bytes,
            file(&[
                w(1, 1),
                skip(0x7fff_ffff),
                skip(rest),
                w(1, 0),
                skip(-0x7fff_ffff),
                skip(back),
                w(5, 0),
            ])
        );
        assert_eq!(decode(&bytes).annotations, anns);
    }

    #[test]
    fn null_annotations() {
        // putann never writes a zero word for code 0: SKIP to one tick before, then step 1.
        let anns = [
            Annotation::new(10, 1),
            Annotation::new(20, 0),
            Annotation::new(30, 1),
        ];
        let bytes = encode(&anns);
        assert_eq!(bytes, file(&[w(1, 10), skip(9), w(0, 1), w(1, 10)]));
        assert_eq!(decode(&bytes).annotations, anns);
        // A first annotation of code 0 is dropped, as WFDB's annopen drops it, but kept in
        // the header so the file can be rewritten.
        let bytes = encode(&[Annotation::new(7, 0), Annotation::new(9, 1)]);
        let set = decode(&bytes);
        assert_eq!(set.annotations, [Annotation::new(9, 1)]);
        assert_eq!(set.header, [Annotation::new(7, 0)]);
        assert_eq!(encode_annotation_set(&set).unwrap(), bytes);
    }

    #[test]
    fn aux_lengths() {
        let long: Vec<u8> = (0..255u8).collect(); // includes NUL bytes; kept exactly
        let even: Vec<u8> = vec![b'x'; 254];
        let anns = [
            ann(1, 22, 0, 0, 0, Some(&long)),
            ann(2, 22, 0, 0, 0, Some(&even)),
            ann(3, 22, 0, 0, 0, Some(b"z")),
        ];
        let bytes = encode(&anns);
        let mut expected = w(22, 1);
        expected.extend(w(AUX, 255));
        expected.extend(&long);
        expected.push(0);
        expected.extend(w(22, 1));
        expected.extend(w(AUX, 254));
        expected.extend(&even);
        expected.extend(w(22, 1));
        expected.extend(w(AUX, 1));
        expected.extend([b'z', 0, 0, 0]);
        assert_eq!(bytes, expected);
        assert_eq!(decode(&bytes).annotations, anns);

        // A stored empty aux reads as no aux (putann writes no AUX for it either), so
        // decode -> encode -> decode is stable (found by fuzzing).
        let bytes = file(&[w(28, 4), w(AUX, 0)]);
        assert_eq!(decode(&bytes).annotations, [ann(4, 28, 0, 0, 0, None)]);
        assert_eq!(encode(&decode(&bytes).annotations), file(&[w(28, 4)]));

        let too_long = ann(1, 22, 0, 0, 0, Some(&[b'a'; 256]));
        let e = encode_annotations(&[too_long], &EncodeOptions::default()).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Invalid(_)), "{e}");
        assert_eq!(e.location.as_deref(), Some("annotation 0"));
    }

    #[test]
    fn time_resolution_header_bytes() {
        let opts = EncodeOptions {
            time_resolution: Some(1000.0),
            ..EncodeOptions::default()
        };
        let bytes = encode_annotations(&[Annotation::new(1000, 1)], &opts).unwrap();
        let text = b"## time resolution: 1000";
        let mut expected = w(codes::NOTE, 0);
        expected.extend(w(AUX, text.len() as u16));
        expected.extend(text);
        expected.extend(skip(-1));
        expected.extend(w(0, 1));
        expected.extend(w(1, 1000));
        expected.extend([0, 0]);
        assert_eq!(bytes, expected);
        // No annotations: WFDB writes the header with the first annotation, so none at all.
        assert_eq!(encode_annotations(&[], &opts).unwrap(), [0, 0]);
    }

    /// Written by wfdb-python 4.3.1: `wrann(..., sample=[5, 2000, 2000], symbol=['N', 'V',
    /// '"'], subtype=[-1, 0, 0], chan=[0, 1, 1], num=[0, 0, 2], aux_note=['', '', 'abc'],
    /// fs=250)`.
    const WFDB_PYTHON_FILE: &str = "00 58 17 fc 23 23 20 74 69 6d 65 20 72 65 73 6f 6c 75 74 69 \
        6f 6e 3a 20 32 35 30 00 00 ec ff ff ff ff 01 00 05 04 ff f4 00 ec 00 00 cb 07 00 14 01 \
        f8 00 58 02 f0 03 fc 61 62 63 00 00 00";

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    #[test]
    fn reads_a_wfdb_python_file() {
        let bytes = hex(WFDB_PYTHON_FILE);
        let set = decode(&bytes);
        assert_eq!(set.time_resolution, Some(250.0));
        assert!(!set.converted);
        assert_eq!(set.header.len(), 2);
        assert_eq!(
            set.annotations,
            [
                ann(5, 1, -1, 0, 0, None),
                ann(2000, 5, 0, 1, 0, None),
                ann(2000, 22, 0, 1, 2, Some(b"abc")),
            ]
        );
        // Record at 1000 Hz: times * 4. At 250 Hz: unchanged, not converted.
        let at_1000 = decode_annotations(&bytes, Some(1000.0)).unwrap();
        assert!(at_1000.converted);
        let times: Vec<i64> = at_1000.annotations.iter().map(|a| a.sample).collect();
        assert_eq!(times, [20, 8000, 8000]);
        assert!(encode_annotation_set(&at_1000).is_err());
        let at_250 = decode_annotations(&bytes, Some(250.0)).unwrap();
        assert_eq!(at_250, set);
        // Rewritten the way WFDB writes (SUB -1 as 0x3ff, fields in SUB CHN NUM AUX order).
        let rewritten = encode_annotation_set(&set).unwrap();
        assert_eq!(decode(&rewritten), set);
        assert_eq!(rewritten.len(), bytes.len());
        assert_ne!(rewritten, bytes);
    }

    #[test]
    fn time_resolution_conversion_rounds_halves_up() {
        let opts = EncodeOptions {
            time_resolution: Some(1000.0),
            ..EncodeOptions::default()
        };
        let ticks = [2, 6, 3, 1, -2, -6, -7, 1_000_000];
        let anns: Vec<Annotation> = ticks.iter().map(|&t| Annotation::new(t, 1)).collect();
        let bytes = encode_annotations(&anns, &opts).unwrap();
        let raw = decode(&bytes);
        assert_eq!(raw.annotations, anns);
        assert_eq!(raw.time_resolution, Some(1000.0));
        let set = decode_annotations(&bytes, Some(250.0)).unwrap();
        assert!(set.converted);
        assert_eq!(set.time_resolution, Some(1000.0));
        let samples: Vec<i64> = set.annotations.iter().map(|a| a.sample).collect();
        // 0.5 -> 1, 1.5 -> 2, 0.75 -> 1, 0.25 -> 0, -0.5 -> 0, -1.5 -> -1, -1.75 -> -2.
        assert_eq!(samples, [1, 2, 1, 0, 0, -1, -2, 250_000]);
        // A non-integer resolution survives the %.12g text.
        let opts = EncodeOptions {
            time_resolution: Some(360.5),
            ..EncodeOptions::default()
        };
        let bytes = encode_annotations(&[Annotation::new(721, 1)], &opts).unwrap();
        let set = decode_annotations(&bytes, Some(721.0)).unwrap();
        assert_eq!(set.time_resolution, Some(360.5));
        assert_eq!(set.annotations[0].sample, 1442);
    }

    #[test]
    fn round_to_time_matches_wfdb() {
        assert_eq!(round_to_time(10.5), 11);
        assert_eq!(round_to_time(-10.5), -10);
        assert_eq!(round_to_time(-10.6), -11);
        assert_eq!(round_to_time(0.49999999999999994), 0);
        assert_eq!(round_to_time(1e30), i64::MAX);
        assert_eq!(round_to_time(-1e30), i64::MIN);
    }

    #[test]
    fn header_notes_as_wfdb_reads_them() {
        let note = |t: i64, sub: i8, text: &[u8]| ann(t, codes::NOTE, sub, 0, 0, Some(text));
        let anns = [
            note(0, 0, b"## time resolution: 500\0"),
            note(0, 0, b"## something else"),
            note(0, 0, b"a free comment"), // WFDB consumes it too (not a valid definition)
            Annotation::new(0, codes::NOTE),
            note(0, 0, b"  7   Z  two  blanks"),
            note(0, 1, b"kept: subtype 1"),
            note(0, 0, b"kept: after the header"),
            note(5, 0, b"kept"),
        ];
        let bytes = encode(&anns);
        let set = decode(&bytes);
        assert_eq!(set.time_resolution, Some(500.0));
        assert_eq!(
            set.custom_labels,
            [CustomLabel {
                code: 7,
                symbol: "Z".into(),
                description: Some(" two  blanks".into()),
            }]
        );
        assert_eq!(set.header, anns[..5]);
        assert_eq!(set.annotations, anns[5..]);
        assert_eq!(encode_annotation_set(&set).unwrap(), bytes);
    }

    #[test]
    fn definition_lines() {
        let def = |s: &str| parse_definition(s.as_bytes());
        let label = |code, symbol: &str, d: Option<&str>| CustomLabel {
            code,
            symbol: symbol.into(),
            description: d.map(Into::into),
        };
        assert_eq!(def("42 X my beat"), Some(label(42, "X", Some("my beat"))));
        assert_eq!(def("43 Y "), Some(label(43, "Y", None)));
        assert_eq!(def("43 Y"), Some(label(43, "Y", None)));
        assert_eq!(def("12x Q d"), Some(label(12, "Q", Some("d"))));
        assert_eq!(def("+3\tT\tx"), Some(label(3, "T", Some("x"))));
        assert_eq!(def("50 X"), None);
        assert_eq!(def("-1 X"), None);
        assert_eq!(def("99999999999999999999 X"), None);
        assert_eq!(def("abc"), None);
        assert_eq!(def("7"), None);
        assert_eq!(def(""), None);
    }

    #[test]
    fn custom_labels_round_trip() {
        let opts = EncodeOptions {
            time_resolution: Some(360.0),
            custom_labels: vec![
                CustomLabel {
                    code: 42,
                    symbol: "X".into(),
                    description: Some("my beat".into()),
                },
                CustomLabel {
                    code: 43,
                    symbol: "YY".into(),
                    description: None,
                },
            ],
        };
        let anns = [Annotation::new(10, 42), Annotation::new(20, 1)];
        let bytes = encode_annotations(&anns, &opts).unwrap();
        let set = decode(&bytes);
        assert_eq!(set.annotations, anns);
        assert_eq!(set.custom_labels, opts.custom_labels);
        assert_eq!(set.time_resolution, Some(360.0));
        assert_eq!(set.header.len(), 6);
        assert_eq!(set.symbol_of(42), "X");
        assert_eq!(set.symbol_of(43), "YY");
        assert_eq!(set.symbol_of(1), "N");
        assert_eq!(set.annotations[0].symbol(), "[42]");
        assert_eq!(
            encode_annotations(&anns, &set.encode_options()).unwrap(),
            bytes
        );
        let texts: Vec<_> = set.header.iter().filter_map(|a| a.aux_text()).collect();
        assert_eq!(
            texts,
            [
                "## time resolution: 360",
                DEFINITIONS_START,
                "42 X my beat",
                "43 YY ",
                DEFINITIONS_END
            ]
        );
    }

    #[test]
    fn trailing_bytes_are_kept() {
        let bytes = [w(1, 5), vec![0, 0, 1, 2, 3]].concat();
        let set = decode(&bytes);
        assert_eq!(set.annotations, [Annotation::new(5, 1)]);
        assert_eq!(set.trailing, [1, 2, 3]);
        assert_eq!(encode_annotation_set(&set).unwrap(), bytes);
    }

    #[test]
    fn garbage_and_truncation_give_located_errors() {
        let truncated = |bytes: &[u8], at: &str| {
            let (loc, e) = err_at(bytes);
            assert!(matches!(e.kind, ErrorKind::Truncated(_)), "{e}");
            assert_eq!(loc, at, "{e}");
        };
        truncated(&[], "byte 0");
        truncated(&[0x05], "byte 0");
        truncated(&w(1, 5), "byte 2");
        truncated(&[w(1, 5), vec![0x07]].concat(), "byte 2");
        truncated(&[w(1, 5), vec![0x00, 0xec, 0x00, 0x00]].concat(), "byte 4");
        truncated(&[w(1, 5), w(AUX, 5), b"ab".to_vec()].concat(), "byte 4");
        // Odd aux length without its pad byte.
        truncated(&[w(1, 5), w(AUX, 1), b"a".to_vec()].concat(), "byte 4");

        let (loc, e) = err_at(&file(&[w(NUM, 1)]));
        assert!(matches!(e.kind, ErrorKind::Malformed(_)), "{e}");
        assert_eq!(loc, "byte 0");
        let (loc, _) = err_at(&file(&[skip(3), w(CHN, 1)]));
        assert_eq!(loc, "byte 6");
        assert!(err_at(&file(&[w(CHN, 1)])).1.to_string().contains("byte 0"));

        let huge = vec![0u8; MAX_ANNOTATION_FILE_BYTES + 2];
        let e = decode_annotations(&huge, None).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::TooLarge(_)), "{e}");

        for fs in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = decode_annotations(&[0, 0], Some(fs)).unwrap_err();
            assert!(matches!(e.kind, ErrorKind::Invalid(_)), "{e}");
        }
        // A declared resolution that is not a positive number is ignored, as WFDB does.
        for text in [
            &b"## time resolution: 0"[..],
            b"## time resolution: x",
            b"## time resolution: -5",
        ] {
            let bytes = encode(&[ann(0, 22, 0, 0, 0, Some(text)), Annotation::new(4, 1)]);
            let set = decode_annotations(&bytes, Some(360.0)).unwrap();
            assert_eq!(set.time_resolution, None);
            assert_eq!(set.annotations, [Annotation::new(4, 1)]);
        }
    }

    #[test]
    fn encode_rejects_what_cannot_be_stored() {
        let fails = |anns: &[Annotation], opts: &EncodeOptions| {
            let e = encode_annotations(anns, opts).unwrap_err();
            assert!(matches!(e.kind, ErrorKind::Invalid(_)), "{e}");
        };
        let none = EncodeOptions::default();
        fails(&[Annotation::new(1, 59)], &none);
        fails(&[Annotation::new(1, 200)], &none);
        fails(&[Annotation::new(i64::MAX, 1)], &none);
        fails(&[Annotation::new(i64::MIN, 1)], &none);
        fails(&[Annotation::new((1 << 40) + 1, 1)], &none);
        fails(
            &[Annotation::new(-(1 << 40), 1), Annotation::new(1 << 40, 1)],
            &none,
        );
        let one = [Annotation::new(1, 1)];
        for r in [0.0, -3.0, f64::NAN, f64::INFINITY] {
            let opts = EncodeOptions {
                time_resolution: Some(r),
                ..EncodeOptions::default()
            };
            fails(&one, &opts);
        }
        for (code, symbol, description) in [
            (50, "X", None),
            (42, "", None),
            (42, "a b", None),
            (42, "X", Some("nul\0")),
        ] {
            let opts = EncodeOptions {
                custom_labels: vec![CustomLabel {
                    code,
                    symbol: symbol.into(),
                    description: description.map(Into::into),
                }],
                ..EncodeOptions::default()
            };
            fails(&one, &opts);
        }
        // Codes 50..=58 are not WFDB codes but can be stored and read back.
        let odd = [Annotation::new(3, 58)];
        assert_eq!(decode(&encode(&odd)).annotations, odd);
        assert_eq!(odd[0].symbol(), "[58]");
    }

    #[test]
    fn g12_formatting_matches_printf() {
        for (x, s) in [
            (360.0, "360"),
            (1000.0, "1000"),
            (250.5, "250.5"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.333333333333"),
            (123_456_789_012.4, "123456789012"),
            (999_999_999_999.5, "1e+12"),
            (1e12, "1e+12"),
            (1.5e13, "1.5e+13"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (128.0 * 1024.0, "131072"),
        ] {
            assert_eq!(format_g12(x), s, "{x}");
        }
    }

    #[test]
    fn code_table() {
        for (i, info) in CODE_TABLE.iter().enumerate() {
            assert_eq!(usize::from(info.code), i);
            assert_eq!(symbol(info.code), info.symbol);
            assert_eq!(code_from_symbol(info.symbol), Some(info.code));
            assert_eq!(info.name.is_none(), info.description.is_none());
        }
        let beats: Vec<u8> = (0..=255).filter(|&c| is_beat(c)).collect();
        let expected: Vec<u8> = (1..=13).chain([25, 30, 31, 34, 35, 38, 41]).collect();
        assert_eq!(beats, expected);
        let unassigned: Vec<u8> = CODE_TABLE
            .iter()
            .filter(|i| i.name.is_none())
            .map(|i| i.code)
            .collect();
        assert_eq!(unassigned, [15, 17, 42, 43, 44, 45, 46, 47, 48, 49]);
        for (sym, code) in [
            ("N", codes::NORMAL),
            ("L", codes::LBBB),
            ("R", codes::RBBB),
            ("a", codes::ABERR),
            ("V", codes::PVC),
            ("F", codes::FUSION),
            ("J", codes::NPC),
            ("A", codes::APC),
            ("S", codes::SVPB),
            ("E", codes::VESC),
            ("j", codes::NESC),
            ("/", codes::PACE),
            ("Q", codes::UNKNOWN),
            ("~", codes::NOISE),
            ("\"", codes::NOTE),
            ("+", codes::RHYTHM),
            ("(", codes::WFON),
            (")", codes::JPT),
            ("!", codes::FLWAV),
            ("[15]", 15),
            (" ", 0),
        ] {
            assert_eq!(code_from_symbol(sym), Some(code), "{sym}");
        }
        assert_eq!(code_from_symbol("XYZ"), None);
        assert_eq!(symbol(50), "[50]");
        assert_eq!(symbol(63), "[63]");
        assert_eq!(symbol(64), "[invalid]");
        assert_eq!(description(codes::APC), Some("Atrial premature beat"));
        assert_eq!(description(15), None);
        assert_eq!(description(77), None);
    }

    #[test]
    fn counts() {
        let anns = [
            Annotation::new(1, 1),
            Annotation::new(2, 1),
            Annotation::new(3, 28),
            Annotation::new(4, 5),
        ];
        let counts = count_by_symbol(&anns);
        assert_eq!(
            counts.into_iter().collect::<Vec<_>>(),
            [("+", 1), ("N", 2), ("V", 1)]
        );
    }

    fn arb_annotation() -> impl Strategy<Value = Annotation> {
        (
            -500_000_000_000i64..500_000_000_000, // jumps stay below 2^40
            1u8..=58,
            any::<i8>(),
            any::<u8>(),
            any::<i8>(),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 1..=255)),
        )
            .prop_map(|(sample, code, subtype, chan, num, aux)| Annotation {
                // Keep clear of time 0, where a NOTE would be taken for a header note.
                sample: if sample == 0 { 1 } else { sample },
                code,
                subtype,
                chan,
                num,
                aux,
            })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = decode_annotations(&bytes, Some(360.0));
            let mut terminated = bytes.clone();
            terminated.extend([0, 0]);
            if let Ok(set) = decode_annotations(&terminated, None) {
                // Whatever decodes re-encodes and decodes to the same annotations.
                if let Ok(again) = encode_annotation_set(&set) {
                    prop_assert_eq!(decode_annotations(&again, None).unwrap().annotations,
                        set.annotations);
                }
            }
        }

        #[test]
        fn arbitrary_annotations_round_trip(anns in proptest::collection::vec(arb_annotation(), 0..40)) {
            let bytes = encode_annotations(&anns, &EncodeOptions::default()).unwrap();
            let set = decode_annotations(&bytes, None).unwrap();
            prop_assert_eq!(&set.annotations, &anns);
            prop_assert_eq!(encode_annotation_set(&set).unwrap(), bytes);
        }
    }
}
