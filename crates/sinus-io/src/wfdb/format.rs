//! WFDB signal storage formats: decoding bytes into digital samples and back.
//!
//! API CONTRACT (other modules depend on these signatures; keep them):
//! - `SignalFormat` with `from_code`, `code`, `invalid_value`, `is_flac`.
//! - `decode(format, data, spf, initial, max_frames)` returns frame-ordered samples: for each
//!   frame, `spf[0]` samples of the file's first signal, then `spf[1]` of the second, ...;
//!   invalid-sample sentinels become [`crate::MISSING`]; only complete frames are returned.
//! - `encode(format, samples, spf, initial)` is the inverse (MISSING -> sentinel).
//! - `FrameDecoder` decodes a non-FLAC file piece by piece (what the record reader uses, with a
//!   reused read buffer), frame-ordered (`decode_frames`) or straight into one vector per signal
//!   with its checksum sum (`decode_split`); the samples are those of `decode`.
//!
//! Format facts this module follows (from the WFDB signal-format specification and the behaviour
//! of the WFDB C library's `getvec`/`putvec`):
//! - A sample equal to the format's lowest value (−2^(bits−1), e.g. −2048 in format 212) is the
//!   invalid-sample code and reads as [`MISSING`]. Format 8 has no such code.
//! - Format 212 with an odd number of samples ends with the lone sample written as two bytes (its
//!   low 12 bits, high nibble of the second byte zero). A trailing single byte holds no sample.
//! - Formats 310/311 end with one leftover sample as two bytes, two leftover samples as four
//!   bytes (a whole group whose third sample is zero, so the file appears to hold one extra
//!   sample; the header's length tells the reader to ignore it). Reading follows the byte counts
//!   WFDB needs: in 310 two or three trailing bytes hold one sample; in 311 two trailing bytes
//!   hold one sample and three hold two.
//! - FLAC files (508/516/524) hold one FLAC channel per signal; every signal must have the same
//!   samples per frame, and frame `f` holds FLAC samples `f·spf .. (f+1)·spf` of each channel.
//!   The header's "byte offset" of a FLAC file counts FLAC samples (per channel), not bytes: the
//!   caller passes the whole file here and drops the leading samples itself. The stream's bits
//!   per sample may be fewer than the format's (WFDB only bounds them), never more. Decoding uses
//!   `claxon`; encoding is this module's own (fixed-predictor FLAC, checked against libFLAC's
//!   `flac -t` and wfdb-python).

use crate::error::MAX_TOTAL_SAMPLES;
use crate::{Error, Result, MISSING};
use serde::Serialize;

/// A WFDB signal storage format (the number in the header's format field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SignalFormat {
    /// 8-bit first differences.
    Fmt8,
    /// 16-bit two's complement, little-endian.
    Fmt16,
    /// 24-bit two's complement, little-endian.
    Fmt24,
    /// 32-bit two's complement, little-endian.
    Fmt32,
    /// 16-bit two's complement, big-endian.
    Fmt61,
    /// 8-bit offset binary.
    Fmt80,
    /// 16-bit offset binary, little-endian.
    Fmt160,
    /// Two 12-bit samples packed in three bytes.
    Fmt212,
    /// Three 10-bit samples packed in two 16-bit words (low bits).
    Fmt310,
    /// Three 10-bit samples packed in one 32-bit word.
    Fmt311,
    /// FLAC, 8 bits per sample.
    Flac508,
    /// FLAC, 16 bits per sample.
    Flac516,
    /// FLAC, 24 bits per sample.
    Flac524,
}

impl SignalFormat {
    /// The format for a header's format number (0, the null format, is not a storage format).
    pub fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            8 => Self::Fmt8,
            16 => Self::Fmt16,
            24 => Self::Fmt24,
            32 => Self::Fmt32,
            61 => Self::Fmt61,
            80 => Self::Fmt80,
            160 => Self::Fmt160,
            212 => Self::Fmt212,
            310 => Self::Fmt310,
            311 => Self::Fmt311,
            508 => Self::Flac508,
            516 => Self::Flac516,
            524 => Self::Flac524,
            _ => return None,
        })
    }

    /// The header's format number.
    pub fn code(self) -> u32 {
        match self {
            Self::Fmt8 => 8,
            Self::Fmt16 => 16,
            Self::Fmt24 => 24,
            Self::Fmt32 => 32,
            Self::Fmt61 => 61,
            Self::Fmt80 => 80,
            Self::Fmt160 => 160,
            Self::Fmt212 => 212,
            Self::Fmt310 => 310,
            Self::Fmt311 => 311,
            Self::Flac508 => 508,
            Self::Flac516 => 516,
            Self::Flac524 => 524,
        }
    }

    /// Whether samples are FLAC-compressed.
    pub fn is_flac(self) -> bool {
        matches!(self, Self::Flac508 | Self::Flac516 | Self::Flac524)
    }

    /// Bits of one stored sample value (format 8: the 32-bit range of the reconstructed value).
    pub fn bits(self) -> u32 {
        match self {
            Self::Fmt80 | Self::Flac508 => 8,
            Self::Fmt310 | Self::Fmt311 => 10,
            Self::Fmt212 => 12,
            Self::Fmt16 | Self::Fmt61 | Self::Fmt160 | Self::Flac516 => 16,
            Self::Fmt24 | Self::Flac524 => 24,
            Self::Fmt32 | Self::Fmt8 => 32,
        }
    }

    /// The digital value WFDB writes for a missing sample in this format: the format's lowest
    /// value, −2^(bits−1) (−128 for 80/508, −512 for 310/311, −2048 for 212, −32768 for
    /// 16/61/160/516, −2^23 for 24/524, −2^31 for 32). Reading maps it to [`MISSING`].
    ///
    /// Format 8 stores differences and has no invalid-sample code: WFDB's `putvec` substitutes
    /// −32768 for a missing sample and then slews towards it, so a reader never sees it as
    /// missing. This returns that −32768; [`decode`] never yields [`MISSING`] for format 8 and
    /// [`encode`] refuses [`MISSING`] in format 8.
    pub fn invalid_value(self) -> i32 {
        match self {
            Self::Fmt8 => -(1 << 15),
            Self::Fmt32 => i32::MIN,
            other => -(1 << (other.bits() - 1)),
        }
    }

    /// The inclusive range of sample values that [`encode`] stores as real samples. The
    /// invalid-sample code is excluded (it would read back as missing); format 8 allows any value
    /// but [`MISSING`], provided successive differences fit in 8 bits.
    pub fn valid_range(self) -> (i32, i32) {
        match self {
            Self::Fmt8 | Self::Fmt32 => (i32::MIN + 1, i32::MAX),
            other => {
                let half = 1i32 << (other.bits() - 1);
                (-half + 1, half - 1)
            }
        }
    }
}

/// Checks the frame layout and returns the number of samples in one frame.
fn frame_len(spf: &[u32]) -> Result<usize> {
    if spf.is_empty() {
        return Err(Error::invalid("signal file layout lists no signals"));
    }
    let total: u64 = spf.iter().map(|&n| u64::from(n)).sum();
    if total == 0 {
        return Err(Error::invalid(
            "signal file layout has zero samples per frame",
        ));
    }
    if total > MAX_TOTAL_SAMPLES {
        return Err(Error::too_large(format!(
            "{total} samples per frame exceeds the limit of {MAX_TOTAL_SAMPLES}"
        )));
    }
    usize::try_from(total).map_err(|_| Error::too_large(format!("{total} samples per frame")))
}

/// How many whole samples `len` bytes of a signal file hold, counted as WFDB reads them (see the
/// module notes on partial groups); 0 for FLAC, whose size does not tell.
pub fn samples_in_bytes(format: SignalFormat, len: u64) -> u64 {
    match format {
        SignalFormat::Fmt8 | SignalFormat::Fmt80 => len,
        SignalFormat::Fmt16 | SignalFormat::Fmt61 | SignalFormat::Fmt160 => len / 2,
        SignalFormat::Fmt24 => len / 3,
        SignalFormat::Fmt32 => len / 4,
        SignalFormat::Fmt212 => len / 3 * 2 + u64::from(len % 3 == 2),
        SignalFormat::Fmt310 => len / 4 * 3 + u64::from(len % 4 >= 2),
        SignalFormat::Fmt311 => len / 4 * 3 + (len % 4).saturating_sub(1),
        // FLAC sizes are not implied by the byte count.
        SignalFormat::Flac508 | SignalFormat::Flac516 | SignalFormat::Flac524 => 0,
    }
}

/// Decode one signal file's bytes (already past any byte offset).
///
/// `spf[i]` is the number of samples per frame of the file's `i`-th signal and `initial[i]` its
/// initial value (used only by format 8, which needs one per signal). Returns whole frames only,
/// at most `max_frames` of them, as many as `data` holds otherwise (for 310/311 that may include
/// a trailing zero sample WFDB writes as padding; pass the header's length as `max_frames`).
///
/// For FLAC formats `data` must be the whole file (see the module notes on offsets) and all
/// `spf` must be equal; `initial` is not used.
pub fn decode(
    format: SignalFormat,
    data: &[u8],
    spf: &[u32],
    initial: &[i32],
    max_frames: Option<u64>,
) -> Result<Vec<i32>> {
    let frame_len = frame_len(spf)?;
    if format.is_flac() {
        return flac::decode(format, data, spf, frame_len, max_frames);
    }
    let mut decoder = FrameDecoder::with_frame_len(format, spf, initial, frame_len)?;
    let mut frames = samples_in_bytes(format, data.len() as u64) / frame_len as u64;
    if let Some(max) = max_frames {
        frames = frames.min(max);
    }
    // No format packs more than four samples in three bytes (212), so `total` is bounded by the
    // data length; the limit still guards callers handing in huge buffers.
    let total = frames * frame_len as u64;
    if total > MAX_TOTAL_SAMPLES {
        return Err(Error::too_large(format!(
            "{total} samples exceeds the limit of {MAX_TOTAL_SAMPLES}"
        )));
    }
    let mut out = Vec::new();
    decoder.decode_frames(data, frames, &mut out)?;
    Ok(out)
}

/// Decodes a non-FLAC signal file piece by piece, so that a large file can be read in small
/// chunks through a reused buffer instead of all at once.
///
/// Each piece must begin on a packing-group boundary: give pieces of a multiple of
/// [`FrameDecoder::frame_step`] frames, in file order (the last piece may be shorter). Format 8
/// carries its running values from one piece to the next. Decoding the pieces one after another
/// gives the same samples and errors as [`decode`] on the whole file.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    format: SignalFormat,
    spf: Vec<u32>,
    frame_len: usize,
    /// Format 8: the running value of each signal (i64 so that hostile data cannot overflow
    /// before the range check).
    acc: Vec<i64>,
    /// Format 8: which signal each position of a frame belongs to; built when the first frame
    /// is decoded, so that its size is bounded by the data rather than by the header.
    signal_of: Vec<usize>,
    /// Frames decoded so far (format 8 errors name the frame).
    frames_done: u64,
}

impl FrameDecoder {
    /// A decoder for a file of `format` with `spf[i]` samples per frame of its `i`-th signal;
    /// `initial[i]` is signal `i`'s initial value (used only by format 8). The same layout errors
    /// as [`decode`]; FLAC formats are refused (they are decoded whole, with [`decode`]).
    pub fn new(format: SignalFormat, spf: &[u32], initial: &[i32]) -> Result<Self> {
        let frame_len = frame_len(spf)?;
        if format.is_flac() {
            return Err(Error::unsupported(format!(
                "format {} is decoded whole, not piece by piece",
                format.code()
            )));
        }
        Self::with_frame_len(format, spf, initial, frame_len)
    }

    fn with_frame_len(
        format: SignalFormat,
        spf: &[u32],
        initial: &[i32],
        frame_len: usize,
    ) -> Result<Self> {
        if format == SignalFormat::Fmt8 && initial.len() < spf.len() {
            return Err(Error::invalid(format!(
                "format 8 needs an initial value for each of its {} signals, got {}",
                spf.len(),
                initial.len()
            )));
        }
        let acc = if format == SignalFormat::Fmt8 {
            initial
                .iter()
                .take(spf.len())
                .map(|&v| i64::from(v))
                .collect()
        } else {
            Vec::new()
        };
        Ok(FrameDecoder {
            format,
            spf: spf.to_vec(),
            frame_len,
            acc,
            signal_of: Vec::new(),
            frames_done: 0,
        })
    }

    /// Samples in one frame.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// The smallest number of frames that fills whole packing groups (1, 2 or 3): pieces of a
    /// multiple of it frames keep the next piece on a group boundary.
    pub fn frame_step(&self) -> u64 {
        let group = packing_group(self.format).0;
        let len = self.frame_len as u64;
        (1..=group)
            .find(|k| (k * len).is_multiple_of(group))
            .unwrap_or(group)
    }

    /// Bytes that `frames` frames occupy from a packing-group boundary, rounded up to whole
    /// groups (saturating; the file may need fewer for a partial last group, see
    /// [`samples_in_bytes`]).
    pub fn bytes_for(&self, frames: u64) -> u64 {
        let (group_samples, group_bytes) = packing_group(self.format);
        frames
            .saturating_mul(self.frame_len as u64)
            .div_ceil(group_samples)
            .saturating_mul(group_bytes)
    }

    /// Decodes up to `max_frames` whole frames from the start of `data` into `scratch` and
    /// returns them, frame-ordered as [`decode`] returns them (at most as many frames as `data`
    /// holds). `scratch` is only grown, never shrunk, so that reusing it costs no allocation.
    pub fn decode_frames<'s>(
        &mut self,
        data: &[u8],
        max_frames: u64,
        scratch: &'s mut Vec<i32>,
    ) -> Result<&'s [i32]> {
        let frames = (samples_in_bytes(self.format, data.len() as u64) / self.frame_len as u64)
            .min(max_frames);
        self.decode_counted(data, frames, scratch)
    }

    /// Decodes `frames` frames (which `data` holds) into `scratch`; counts them as decoded.
    fn decode_counted<'s>(
        &mut self,
        data: &[u8],
        frames: u64,
        scratch: &'s mut Vec<i32>,
    ) -> Result<&'s [i32]> {
        // Bounded by the data length (at most four samples per three bytes).
        let total = usize::try_from(frames * self.frame_len as u64)
            .map_err(|_| Error::too_large(format!("{frames} frames")))?;
        if scratch.len() < total {
            scratch.resize(total, 0);
        }
        let out = scratch.get_mut(..total).unwrap_or_default();
        match self.format {
            SignalFormat::Fmt8 => {
                if self.signal_of.is_empty() && total > 0 {
                    for (s, &n) in self.spf.iter().enumerate() {
                        self.signal_of.extend(std::iter::repeat_n(s, n as usize));
                    }
                }
                decode_fmt8(
                    data,
                    &self.signal_of,
                    &mut self.acc,
                    self.frames_done,
                    self.frame_len,
                    out,
                )?
            }
            SignalFormat::Fmt16 => decode_fixed::<2>(data, out, -(1 << 15), |b| {
                i32::from(i16::from_le_bytes([b[0], b[1]]))
            }),
            SignalFormat::Fmt61 => decode_fixed::<2>(data, out, -(1 << 15), |b| {
                i32::from(i16::from_be_bytes([b[0], b[1]]))
            }),
            SignalFormat::Fmt160 => decode_fixed::<2>(data, out, -(1 << 15), |b| {
                i32::from(u16::from_le_bytes([b[0], b[1]])) - (1 << 15)
            }),
            SignalFormat::Fmt80 => {
                decode_fixed::<1>(data, out, -(1 << 7), |b| i32::from(b[0]) - (1 << 7))
            }
            SignalFormat::Fmt24 => decode_fixed::<3>(data, out, -(1 << 23), |b| {
                // Put the three bytes in the high end of an i32 and shift back to sign-extend.
                i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8
            }),
            SignalFormat::Fmt32 => {
                // The sentinel −2^31 is MISSING itself, so no mapping is needed.
                decode_fixed::<4>(data, out, i32::MIN, |b| {
                    i32::from_le_bytes([b[0], b[1], b[2], b[3]])
                })
            }
            SignalFormat::Fmt212 => decode_212(data, out),
            SignalFormat::Fmt310 => decode_packed3(data, out, unpack_310),
            SignalFormat::Fmt311 => decode_packed3(data, out, unpack_311),
            SignalFormat::Flac508 | SignalFormat::Flac516 | SignalFormat::Flac524 => {
                return Err(Error::unsupported(format!(
                    "format {} is decoded whole, not piece by piece",
                    self.format.code()
                )));
            }
        }
        self.frames_done += frames;
        Ok(scratch.get(..total).unwrap_or_default())
    }
}

/// Where [`FrameDecoder::decode_split`] puts one signal's samples.
#[derive(Debug)]
pub struct SignalOutput<'a> {
    /// The decoded samples are appended here.
    pub samples: &'a mut Vec<i32>,
    /// The samples as stored are added here, wrapping (a missing sample counts as the format's
    /// invalid-sample code, which is what is stored): WFDB's checksum is this sum's low 16
    /// bits.
    pub sum: &'a mut i32,
}

impl FrameDecoder {
    /// Decodes up to `max_frames` whole frames from the start of `data`, appending each
    /// signal's samples to its output (one entry per signal of the file, `None` to skip a
    /// signal) and adding them to its sum; returns the number of frames decoded. The samples
    /// are those [`FrameDecoder::decode_frames`] gives, without the frame-ordered copy: the
    /// common layouts (format 212 with two signals; formats with whole bytes per sample and
    /// one sample per frame of each signal) are decoded straight into the vectors, others go
    /// through `scratch`. Reserve room in the vectors first to avoid reallocations.
    pub fn decode_split(
        &mut self,
        data: &[u8],
        max_frames: u64,
        outputs: &mut [Option<SignalOutput<'_>>],
        scratch: &mut Vec<i32>,
    ) -> Result<u64> {
        if outputs.len() != self.spf.len() {
            return Err(Error::invalid(format!(
                "{} outputs for a file of {} signals",
                outputs.len(),
                self.spf.len()
            )));
        }
        let frames = (samples_in_bytes(self.format, data.len() as u64) / self.frame_len as u64)
            .min(max_frames);
        // Bounded by the data length.
        let n =
            usize::try_from(frames).map_err(|_| Error::too_large(format!("{frames} frames")))?;
        let single = self.spf.iter().all(|&k| k == 1);
        match self.format {
            SignalFormat::Fmt212 if single && self.frame_len == 2 => {
                if let [a, b] = outputs {
                    split_212_pair(data, n, a.as_mut(), b.as_mut());
                }
            }
            SignalFormat::Fmt16 if single => split_fixed(data, n, -(1 << 15), read_16, outputs),
            SignalFormat::Fmt61 if single => split_fixed(data, n, -(1 << 15), read_61, outputs),
            SignalFormat::Fmt160 if single => split_fixed(data, n, -(1 << 15), read_160, outputs),
            SignalFormat::Fmt80 if single => split_fixed(data, n, -(1 << 7), read_80, outputs),
            SignalFormat::Fmt24 if single => split_fixed(data, n, -(1 << 23), read_24, outputs),
            SignalFormat::Fmt32 if single => split_fixed(data, n, i32::MIN, read_32, outputs),
            _ => {
                let frame_len = self.frame_len;
                let invalid = self.format.invalid_value();
                let add =
                    |sum: i32, &v: &i32| sum.wrapping_add(if v == MISSING { invalid } else { v });
                let mut positions = Vec::with_capacity(self.spf.len());
                let mut at = 0usize;
                for &k in &self.spf {
                    positions.push((at, k as usize));
                    at += k as usize;
                }
                let decoded = self.decode_counted(data, frames, scratch)?;
                for (out, &(at, k)) in outputs.iter_mut().zip(&positions) {
                    let Some(out) = out else { continue };
                    let before = out.samples.len();
                    if frame_len == 1 {
                        out.samples.extend_from_slice(decoded);
                    } else if k == 1 {
                        out.samples
                            .extend(decoded.chunks_exact(frame_len).map(|f| f[at]));
                    } else {
                        for f in decoded.chunks_exact(frame_len) {
                            out.samples.extend_from_slice(&f[at..at + k]);
                        }
                    }
                    let added = out.samples.get(before..).unwrap_or_default();
                    *out.sum = added.iter().fold(*out.sum, add);
                }
                // `decode_counted` has counted the frames.
                return Ok(frames);
            }
        }
        self.frames_done += frames;
        Ok(frames)
    }
}

/// Formats with `W` bytes per sample and one sample per frame of each of the file's signals
/// (`outputs.len()` of them): signal `k`'s samples lie at byte `k × W` of each frame. `read`
/// gives the value stored (the sentinel included, which is what the checksum adds).
#[inline(always)]
fn split_fixed<const W: usize>(
    data: &[u8],
    frames: usize,
    sentinel: i32,
    read: impl Fn([u8; W]) -> i32 + Copy,
    outputs: &mut [Option<SignalOutput<'_>>],
) {
    // A frame size known at compile time lets the compiler vectorize the strided loads.
    match outputs.len() {
        1 => split_fixed_frames::<W, 1>(data, frames, W, sentinel, read, outputs),
        2 => split_fixed_frames::<W, 2>(data, frames, 2 * W, sentinel, read, outputs),
        3 => split_fixed_frames::<W, 3>(data, frames, 3 * W, sentinel, read, outputs),
        12 => split_fixed_frames::<W, 12>(data, frames, 12 * W, sentinel, read, outputs),
        n => split_fixed_frames::<W, 0>(data, frames, n * W, sentinel, read, outputs),
    }
}

/// [`split_fixed`] for frames of `N` signals (`N` = 0: any number, `frame_bytes` each).
#[inline(always)]
fn split_fixed_frames<const W: usize, const N: usize>(
    data: &[u8],
    frames: usize,
    frame_bytes: usize,
    sentinel: i32,
    read: impl Fn([u8; W]) -> i32 + Copy,
    outputs: &mut [Option<SignalOutput<'_>>],
) {
    let frame_bytes = if N == 0 { frame_bytes } else { N * W };
    let data = data.get(..frames * frame_bytes).unwrap_or_default();
    for (k, out) in outputs.iter_mut().enumerate() {
        let Some(out) = out else { continue };
        let at = k * W;
        let before = out.samples.len();
        // A `move` closure without state: the offset and sentinel stay in registers. The sum
        // is a second pass over the samples just written (in cache).
        out.samples
            .extend(data.chunks_exact(frame_bytes).map(move |f| {
                let mut b = [0u8; W];
                b.copy_from_slice(&f[at..at + W]);
                sentinel_to_missing(read(b), sentinel)
            }));
        let added = out.samples.get(before..).unwrap_or_default();
        *out.sum = added.iter().fold(*out.sum, |sum, &v| {
            sum.wrapping_add(if v == MISSING { sentinel } else { v })
        });
    }
}

#[inline(always)]
fn read_16(b: [u8; 2]) -> i32 {
    i32::from(i16::from_le_bytes(b))
}

#[inline(always)]
fn read_61(b: [u8; 2]) -> i32 {
    i32::from(i16::from_be_bytes(b))
}

#[inline(always)]
fn read_160(b: [u8; 2]) -> i32 {
    i32::from(u16::from_le_bytes(b)) - (1 << 15)
}

#[inline(always)]
fn read_80(b: [u8; 1]) -> i32 {
    i32::from(b[0]) - (1 << 7)
}

#[inline(always)]
fn read_24(b: [u8; 3]) -> i32 {
    i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8
}

#[inline(always)]
fn read_32(b: [u8; 4]) -> i32 {
    i32::from_le_bytes(b)
}

/// Format 212 with two signals of one sample per frame (every 3-byte group is one frame, the
/// MIT-BIH layout): the first sample of `frames` groups goes to `a`, the second to `b`.
fn split_212_pair(
    data: &[u8],
    frames: usize,
    a: Option<&mut SignalOutput<'_>>,
    b: Option<&mut SignalOutput<'_>>,
) {
    const SENTINEL: i32 = -(1 << 11);
    // Groups per block: gathering a block's groups into words first lets the compiler vectorize
    // the unpacking, and each vector is extended a block at a time (64 measured fastest, the
    // words staying in L1 next to the output being written).
    const BLOCK: usize = 64;
    let data = data.get(..frames * 3).unwrap_or_default();
    let (mut a, mut b) = (a, b);
    let mut words = [0u32; BLOCK];
    for block in data.chunks(3 * BLOCK) {
        let n = gather_212(block, &mut words);
        let words = &words[..n];
        if let Some(a) = a.as_deref_mut() {
            let mut sum = *a.sum;
            a.samples.extend(words.iter().map(|&w| {
                let v = sign_extend::<12>(w);
                sum = sum.wrapping_add(v);
                sentinel_to_missing(v, SENTINEL)
            }));
            *a.sum = sum;
        }
        if let Some(b) = b.as_deref_mut() {
            let mut sum = *b.sum;
            b.samples.extend(words.iter().map(|&w| {
                // The high nibble of the middle byte above the third byte, put in the top 12
                // bits and shifted back down (sign-extending, ignoring the word's top byte).
                let v = ((((w << 4) & 0x0ff0_0000) | ((w & 0xf000) << 16)) as i32) >> 20;
                sum = sum.wrapping_add(v);
                sentinel_to_missing(v, SENTINEL)
            }));
            *b.sum = sum;
        }
    }
}

/// Reads the whole 3-byte groups of `block` into the low 24 bits of `words` (the top byte is
/// whatever follows the group); returns how many.
#[inline(always)]
fn gather_212(block: &[u8], words: &mut [u32]) -> usize {
    let n = (block.len() / 3).min(words.len());
    // One 4-byte load per group (a group and the next one's first byte) where the block holds
    // that byte: one instruction, where building the 24-bit value takes five.
    let m = match block.len().checked_sub(4) {
        Some(k) => (k / 3 + 1).min(n),
        None => 0,
    };
    let body = block.get(..3 * m + 1).unwrap_or_default();
    for (i, w) in words.iter_mut().take(m).enumerate() {
        let Some(b) = body.get(3 * i..3 * i + 4) else {
            break;
        };
        *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    let rest = block.get(3 * m..).unwrap_or_default().chunks_exact(3);
    for (w, g) in words.get_mut(m..n).unwrap_or_default().iter_mut().zip(rest) {
        *w = u32::from_le_bytes([g[0], g[1], g[2], 0]);
    }
    n
}

/// Smallest whole group of a format as (samples, bytes); FLAC and format 8 count one byte per
/// sample here (format 8 has no groups; FLAC is never decoded piece by piece).
fn packing_group(format: SignalFormat) -> (u64, u64) {
    use SignalFormat::*;
    match format {
        Fmt8 | Fmt80 | Flac508 | Flac516 | Flac524 => (1, 1),
        Fmt16 | Fmt61 | Fmt160 => (1, 2),
        Fmt24 => (1, 3),
        Fmt32 => (1, 4),
        Fmt212 => (2, 3),
        Fmt310 | Fmt311 => (3, 4),
    }
}

/// `v`, or [`MISSING`] when it is the format's invalid-sample code.
#[inline(always)]
fn sentinel_to_missing(v: i32, sentinel: i32) -> i32 {
    // Adding `MISSING - sentinel` (wrapping) where `v` is the sentinel: vectorized, a compare,
    // an `and` and an add, one instruction fewer than a select.
    let delta = MISSING.wrapping_sub(sentinel);
    v.wrapping_add(-i32::from(v == sentinel) & delta)
}

/// Sign-extends the low `BITS` bits of `v`.
#[inline(always)]
fn sign_extend<const BITS: u32>(v: u32) -> i32 {
    ((v << (32 - BITS)) as i32) >> (32 - BITS)
}

/// Decodes formats with a whole number of bytes per sample; `out.len()` samples must be present.
#[inline(always)]
fn decode_fixed<const W: usize>(
    data: &[u8],
    out: &mut [i32],
    sentinel: i32,
    read: impl Fn(&[u8]) -> i32,
) {
    for (o, chunk) in out.iter_mut().zip(data.chunks_exact(W)) {
        *o = sentinel_to_missing(read(chunk), sentinel);
    }
}

/// Unpacks one 212 group, given as its three bytes read little-endian into the low 24 bits of
/// `g`: the first sample is the low 12 bits; the second is the high nibble of the middle byte
/// (its high bits) above the third byte.
#[inline(always)]
fn unpack_212(g: u32) -> (i32, i32) {
    let s0 = sign_extend::<12>(g);
    let s1 = sign_extend::<12>(((g >> 4) & 0xf00) | ((g >> 16) & 0xff));
    (s0, s1)
}

fn decode_212(data: &[u8], out: &mut [i32]) {
    const SENTINEL: i32 = -(1 << 11);
    // Groups per block. Gathering a block's 3-byte groups into words first lets the compiler
    // vectorize the unpacking loop, about twice as fast as unpacking group by group.
    const BLOCK: usize = 64;
    let pairs = out.len() / 2;
    let (body, odd) = out.split_at_mut(pairs * 2);
    let body_bytes = data.get(..pairs * 3).unwrap_or_default();
    let mut out_blocks = body.chunks_exact_mut(2 * BLOCK);
    let mut data_blocks = body_bytes.chunks_exact(3 * BLOCK);
    let mut words = [0u32; BLOCK];
    for (o, d) in (&mut out_blocks).zip(&mut data_blocks) {
        let n = gather_212(d, &mut words);
        for (o, &w) in o.chunks_exact_mut(2).zip(&words[..n]) {
            let (s0, s1) = unpack_212(w);
            o[0] = sentinel_to_missing(s0, SENTINEL);
            o[1] = sentinel_to_missing(s1, SENTINEL);
        }
    }
    let rest_out = out_blocks.into_remainder();
    for (o, g) in rest_out
        .chunks_exact_mut(2)
        .zip(data_blocks.remainder().chunks_exact(3))
    {
        let (s0, s1) = unpack_212(u32::from_le_bytes([g[0], g[1], g[2], 0]));
        o[0] = sentinel_to_missing(s0, SENTINEL);
        o[1] = sentinel_to_missing(s1, SENTINEL);
    }
    // An odd sample count ends with one sample in the next group's first two bytes.
    if let [last] = odd {
        let rest = data.get(pairs * 3..).unwrap_or_default();
        let b0 = rest.first().copied().unwrap_or(0);
        let b1 = rest.get(1).copied().unwrap_or(0);
        *last = sentinel_to_missing(unpack_212(u32::from_le_bytes([b0, b1, 0, 0])).0, SENTINEL);
    }
}

/// Unpacks one 310 group: two little-endian 16-bit words, samples 0 and 1 in bits 1..=10 of each,
/// sample 2 from the top five bits of both (the first word's are its low bits).
#[inline(always)]
fn unpack_310(b: [u8; 4]) -> [i32; 3] {
    let w0 = u32::from(u16::from_le_bytes([b[0], b[1]]));
    let w1 = u32::from(u16::from_le_bytes([b[2], b[3]]));
    [
        sign_extend::<10>(w0 >> 1),
        sign_extend::<10>(w1 >> 1),
        sign_extend::<10>((w0 >> 11) | (w1 >> 11) << 5),
    ]
}

/// Unpacks one 311 group: a little-endian 32-bit word with samples in bits 0..10, 10..20, 20..30.
#[inline(always)]
fn unpack_311(b: [u8; 4]) -> [i32; 3] {
    let w = u32::from_le_bytes(b);
    [
        sign_extend::<10>(w),
        sign_extend::<10>(w >> 10),
        sign_extend::<10>(w >> 20),
    ]
}

fn decode_packed3(data: &[u8], out: &mut [i32], unpack: impl Fn([u8; 4]) -> [i32; 3]) {
    const SENTINEL: i32 = -(1 << 9);
    let tail = out.len() / 3 * 4;
    let mut triples = out.chunks_exact_mut(3);
    let mut groups = data.chunks_exact(4);
    for (o, g) in (&mut triples).zip(&mut groups) {
        let s = unpack([g[0], g[1], g[2], g[3]]);
        o[0] = sentinel_to_missing(s[0], SENTINEL);
        o[1] = sentinel_to_missing(s[1], SENTINEL);
        o[2] = sentinel_to_missing(s[2], SENTINEL);
    }
    // A partial group at the end: the caller only asks for samples its bytes hold, and bytes
    // beyond them do not affect those samples, so zero-filling is exact.
    let rest_out = triples.into_remainder();
    if !rest_out.is_empty() {
        let mut g = [0u8; 4];
        for (d, s) in g.iter_mut().zip(data.get(tail..).unwrap_or_default()) {
            *d = *s;
        }
        let s = unpack(g);
        for (o, v) in rest_out.iter_mut().zip(s) {
            *o = sentinel_to_missing(v, SENTINEL);
        }
    }
}

fn decode_fmt8(
    data: &[u8],
    signal_of: &[usize],
    acc: &mut [i64],
    first_frame: u64,
    frame_len: usize,
    out: &mut [i32],
) -> Result<()> {
    // Differences accumulate per signal (WFDB takes them between successive samples of the same
    // signal).
    for (frame_no, (o, d)) in out
        .chunks_exact_mut(frame_len)
        .zip(data.chunks_exact(frame_len))
        .enumerate()
    {
        for ((o, &d), &s) in o.iter_mut().zip(d).zip(signal_of) {
            let Some(a) = acc.get_mut(s) else { continue };
            *a += i64::from(d as i8);
            if *a <= i64::from(i32::MIN) || *a > i64::from(i32::MAX) {
                return Err(Error::malformed(format!(
                    "format 8 differences of signal {s} leave the 32-bit range at frame {}",
                    first_frame + frame_no as u64
                )));
            }
            *o = *a as i32;
        }
    }
    Ok(())
}

/// Encode frame-ordered samples (the inverse of [`decode`]).
///
/// `samples.len()` must be a whole number of frames. [`MISSING`] is written as the format's
/// invalid-sample code; a value outside [`SignalFormat::valid_range`] is an [`Error`] naming it
/// (its invalid-sample code included, since it would read back as missing). Format 8 writes
/// differences from `initial[i]` for signal `i` (WFDB sets the header's initial value to the
/// first sample, making the first difference zero); a difference outside −128..=127 is an error
/// here, where WFDB's `putvec` would silently clip it and distort the signal, and so is a missing
/// sample. Format 212 ends an odd count with the last sample in two bytes, and 310/311 end a
/// partial group as WFDB does (see the module notes). FLAC formats write a whole FLAC file (one
/// channel per signal, all `spf` equal, at most 8 signals, nominal rate 96 kHz as WFDB writes
/// it, no MD5 signature); `initial` is not used except by format 8.
pub fn encode(
    format: SignalFormat,
    samples: &[i32],
    spf: &[u32],
    initial: &[i32],
) -> Result<Vec<u8>> {
    let frame_len = frame_len(spf)?;
    if !samples.len().is_multiple_of(frame_len) {
        return Err(Error::invalid(format!(
            "{} samples is not a whole number of {frame_len}-sample frames",
            samples.len()
        )));
    }
    if format == SignalFormat::Fmt8 {
        return encode_fmt8(samples, spf, initial, frame_len);
    }
    if format.is_flac() {
        return flac::encode(format, samples, spf, frame_len);
    }
    let n = samples.len();
    let bytes = match format {
        SignalFormat::Fmt80 => n,
        SignalFormat::Fmt16 | SignalFormat::Fmt61 | SignalFormat::Fmt160 => n * 2,
        SignalFormat::Fmt24 => n * 3,
        SignalFormat::Fmt32 => n * 4,
        SignalFormat::Fmt212 => n / 2 * 3 + n % 2 * 2,
        _ => n / 3 * 4 + [0, 2, 4][n % 3],
    };
    let mut out = Vec::with_capacity(bytes);
    let (lo, hi) = format.valid_range();
    let sentinel = format.invalid_value();
    let store = |i: usize, v: i32| -> Result<i32> {
        if v == MISSING {
            Ok(sentinel)
        } else if v < lo || v > hi {
            Err(out_of_range(format, i, frame_len, v, lo, hi))
        } else {
            Ok(v)
        }
    };
    match format {
        SignalFormat::Fmt16 => {
            for (i, &v) in samples.iter().enumerate() {
                out.extend_from_slice(&(store(i, v)? as i16).to_le_bytes());
            }
        }
        SignalFormat::Fmt61 => {
            for (i, &v) in samples.iter().enumerate() {
                out.extend_from_slice(&(store(i, v)? as i16).to_be_bytes());
            }
        }
        SignalFormat::Fmt160 => {
            for (i, &v) in samples.iter().enumerate() {
                out.extend_from_slice(&((store(i, v)? + (1 << 15)) as u16).to_le_bytes());
            }
        }
        SignalFormat::Fmt80 => {
            for (i, &v) in samples.iter().enumerate() {
                out.push((store(i, v)? + (1 << 7)) as u8);
            }
        }
        SignalFormat::Fmt24 => {
            for (i, &v) in samples.iter().enumerate() {
                out.extend_from_slice(&store(i, v)?.to_le_bytes()[..3]);
            }
        }
        SignalFormat::Fmt32 => {
            for (i, &v) in samples.iter().enumerate() {
                out.extend_from_slice(&store(i, v)?.to_le_bytes());
            }
        }
        SignalFormat::Fmt212 => {
            let mut pairs = samples.chunks_exact(2);
            for (k, p) in (&mut pairs).enumerate() {
                let s0 = store(2 * k, p[0])? as u32 & 0xfff;
                let s1 = store(2 * k + 1, p[1])? as u32 & 0xfff;
                out.extend_from_slice(&[s0 as u8, ((s0 >> 8) | (s1 >> 8) << 4) as u8, s1 as u8]);
            }
            if let [last] = pairs.remainder() {
                let s0 = store(n - 1, *last)? as u32 & 0xfff;
                out.extend_from_slice(&[s0 as u8, (s0 >> 8) as u8]);
            }
        }
        SignalFormat::Fmt310 | SignalFormat::Fmt311 => {
            let pack = if format == SignalFormat::Fmt310 {
                pack_310
            } else {
                pack_311
            };
            let mut triples = samples.chunks_exact(3);
            for (k, t) in (&mut triples).enumerate() {
                let s = [
                    store(3 * k, t[0])?,
                    store(3 * k + 1, t[1])?,
                    store(3 * k + 2, t[2])?,
                ];
                out.extend_from_slice(&pack(s));
            }
            let rest = triples.remainder();
            if !rest.is_empty() {
                let base = n - rest.len();
                let mut s = [0i32; 3];
                for (j, &v) in rest.iter().enumerate() {
                    s[j] = store(base + j, v)?;
                }
                // One leftover sample takes two bytes, two take a whole group (third sample 0).
                let keep = if rest.len() == 1 { 2 } else { 4 };
                out.extend_from_slice(&pack(s)[..keep]);
            }
        }
        // Handled before the match.
        SignalFormat::Fmt8
        | SignalFormat::Flac508
        | SignalFormat::Flac516
        | SignalFormat::Flac524 => {}
    }
    Ok(out)
}

fn out_of_range(
    format: SignalFormat,
    index: usize,
    frame_len: usize,
    v: i32,
    lo: i32,
    hi: i32,
) -> Error {
    let at = format!(
        "sample {} of frame {}",
        index % frame_len,
        index / frame_len
    );
    if v == format.invalid_value() {
        Error::invalid(format!(
            "{at}: value {v} is format {}'s invalid-sample code; mark missing samples as MISSING",
            format.code()
        ))
    } else {
        Error::invalid(format!(
            "{at}: value {v} does not fit format {} (range {lo}..={hi})",
            format.code()
        ))
    }
}

/// Packs three 10-bit samples as format 310 (see [`unpack_310`]).
fn pack_310(s: [i32; 3]) -> [u8; 4] {
    let [a, b, c] = s.map(|v| v as u32 & 0x3ff);
    let w0 = (a << 1) | (c & 0x1f) << 11;
    let w1 = (b << 1) | (c >> 5) << 11;
    let [x0, x1] = (w0 as u16).to_le_bytes();
    let [x2, x3] = (w1 as u16).to_le_bytes();
    [x0, x1, x2, x3]
}

/// Packs three 10-bit samples as format 311 (see [`unpack_311`]).
fn pack_311(s: [i32; 3]) -> [u8; 4] {
    let [a, b, c] = s.map(|v| v as u32 & 0x3ff);
    (a | b << 10 | c << 20).to_le_bytes()
}

fn encode_fmt8(samples: &[i32], spf: &[u32], initial: &[i32], frame_len: usize) -> Result<Vec<u8>> {
    if initial.len() < spf.len() {
        return Err(Error::invalid(format!(
            "format 8 needs an initial value for each of its {} signals, got {}",
            spf.len(),
            initial.len()
        )));
    }
    let mut prev: Vec<i64> = initial
        .iter()
        .take(spf.len())
        .map(|&v| i64::from(v))
        .collect();
    let mut out = Vec::with_capacity(samples.len());
    for (frame_no, frame) in samples.chunks_exact(frame_len).enumerate() {
        let mut pos = 0usize;
        for (s, &n) in spf.iter().enumerate() {
            let n = n as usize;
            let Some(vals) = frame.get(pos..pos + n) else {
                break;
            };
            pos += n;
            for &v in vals {
                if v == MISSING {
                    return Err(Error::invalid(format!(
                        "signal {s}, frame {frame_no}: format 8 cannot store a missing sample"
                    )));
                }
                let d = i64::from(v) - prev[s];
                if !(-128..=127).contains(&d) {
                    return Err(Error::invalid(format!(
                        "signal {s}, frame {frame_no}: value {v} differs from the previous \
                         sample {} by {d}, beyond format 8's -128..=127",
                        prev[s]
                    )));
                }
                out.push(d as i8 as u8);
                prev[s] = i64::from(v);
            }
        }
    }
    Ok(out)
}

/// FLAC decoding (formats 508, 516, 524) through `claxon`.
mod flac {
    use super::{out_of_range, sentinel_to_missing, SignalFormat};
    use crate::error::MAX_TOTAL_SAMPLES;
    use crate::{Error, Result, MISSING};

    /// Samples to reserve up front when the stream declares its length: enough for typical
    /// records without trusting a hostile header to size a huge allocation.
    const MAX_PREALLOC: u64 = 1 << 24;

    pub(super) fn decode(
        format: SignalFormat,
        data: &[u8],
        spf: &[u32],
        frame_len: usize,
        max_frames: Option<u64>,
    ) -> Result<Vec<i32>> {
        let spf0 = check_layout(format, spf, Error::malformed)?;
        // claxon is fuzzed and bounds its allocations (blocks ≤ 65535 samples × 8 channels,
        // metadata ≤ 10 MiB), but a panic inside a dependency must still not take the caller
        // down: turn one into an error.
        match std::panic::catch_unwind(|| decode_inner(format, data, spf0, frame_len, max_frames)) {
            Ok(r) => r,
            Err(_) => Err(Error::malformed(format!(
                "format {}: the FLAC decoder failed on this data",
                format.code()
            ))),
        }
    }

    /// Checks that a FLAC file can hold this layout; returns the common samples per frame.
    fn check_layout(
        format: SignalFormat,
        spf: &[u32],
        too_many: fn(String) -> Error,
    ) -> Result<u32> {
        let nsig = spf.len();
        let spf0 = spf.first().copied().unwrap_or(1);
        if spf.iter().any(|&n| n != spf0) {
            return Err(Error::unsupported(format!(
                "format {}: every signal in a FLAC file must have the same samples per frame, \
                 got {spf:?}",
                format.code()
            )));
        }
        if nsig > 8 {
            return Err(too_many(format!(
                "format {}: a FLAC file holds at most 8 signals, the layout puts {nsig} in it",
                format.code()
            )));
        }
        Ok(spf0)
    }

    fn decode_inner(
        format: SignalFormat,
        data: &[u8],
        spf: u32,
        frame_len: usize,
        max_frames: Option<u64>,
    ) -> Result<Vec<i32>> {
        let code = format.code();
        let bits = format.bits();
        let sentinel = format.invalid_value();
        let (lo, hi) = (-(1i32 << (bits - 1)), (1i32 << (bits - 1)) - 1);
        let nsig = frame_len / spf as usize;
        let spf = spf as usize;

        if !data.starts_with(b"fLaC") {
            return Err(Error::malformed(format!(
                "format {code}: signal file is not a FLAC stream (no \"fLaC\" signature; a FLAC \
                 file is read whole, its header offset counts samples, not bytes)"
            )));
        }
        let mut reader = claxon::FlacReader::new_ext(
            data,
            claxon::FlacReaderOptions {
                metadata_only: false,
                read_vorbis_comment: false,
            },
        )
        .map_err(|e| flac_error(code, e))?;
        let info = reader.streaminfo();
        if info.channels as usize != nsig {
            return Err(Error::malformed(format!(
                "format {code}: FLAC stream has {} channels, the header gives {nsig} signals",
                info.channels
            )));
        }
        if info.bits_per_sample > bits {
            return Err(Error::malformed(format!(
                "format {code}: FLAC stream has {} bits per sample, more than {bits}",
                info.bits_per_sample
            )));
        }

        // Time samples (per channel) wanted: whole frames only, up to max_frames.
        let limit_frames = MAX_TOTAL_SAMPLES / frame_len as u64;
        let want_frames = max_frames.unwrap_or(u64::MAX).min(limit_frames + 1);
        let declared_frames = info.samples.map(|n| n / spf as u64).unwrap_or(0);
        let prealloc = declared_frames
            .min(want_frames)
            .saturating_mul(frame_len as u64)
            .min(MAX_PREALLOC);
        let mut out: Vec<i32> = Vec::with_capacity(prealloc as usize);

        let want_time = want_frames.saturating_mul(spf as u64);
        let mut time: u64 = 0; // FLAC samples per channel decoded so far
        let mut blocks = reader.blocks();
        let mut buffer = Vec::new();
        while time < want_time {
            let block = match blocks.read_next_or_eof(buffer) {
                Ok(Some(b)) => b,
                Ok(None) => break,
                // A stream cut inside a block: keep the whole frames before it, as for the
                // uncompressed formats (the caller compares against the header's length).
                Err(claxon::Error::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    break
                }
                Err(e) => return Err(flac_error(code, e)),
            };
            if block.channels() as usize != nsig {
                return Err(Error::malformed(format!(
                    "format {code}: a FLAC block has {} channels, expected {nsig}",
                    block.channels()
                )));
            }
            let dur = u64::from(block.duration()).min(want_time - time);
            let new_time = time + dur;
            // Extend the output to cover every frame this block touches (the last one may be
            // incomplete until the next block fills it).
            let frames_touched = new_time.div_ceil(spf as u64);
            let new_len = frames_touched * frame_len as u64;
            if new_len > MAX_TOTAL_SAMPLES + frame_len as u64 {
                return Err(Error::too_large(format!(
                    "format {code}: FLAC stream holds more than {MAX_TOTAL_SAMPLES} samples"
                )));
            }
            out.resize(new_len as usize, 0);
            for ch in 0..nsig {
                let src = block.channel(ch as u32);
                // Time sample t goes to frame t / spf, position ch·spf + t % spf; walk both
                // without dividing per sample.
                let mut frame = time as usize / spf;
                let mut within = time as usize % spf;
                for &v in src.iter().take(dur as usize) {
                    if v < lo || v > hi {
                        return Err(Error::malformed(format!(
                            "format {code}: FLAC sample {v} does not fit in {bits} bits"
                        )));
                    }
                    if let Some(o) = out.get_mut(frame * frame_len + ch * spf + within) {
                        *o = sentinel_to_missing(v, sentinel);
                    }
                    within += 1;
                    if within == spf {
                        within = 0;
                        frame += 1;
                    }
                }
            }
            time = new_time;
            buffer = block.into_buffer();
        }
        let frames = (time / spf as u64).min(want_frames);
        if frames > limit_frames {
            return Err(Error::too_large(format!(
                "format {code}: FLAC stream holds more than {MAX_TOTAL_SAMPLES} samples"
            )));
        }
        out.truncate(frames as usize * frame_len);
        Ok(out)
    }

    /// Time samples per FLAC block (libFLAC's default for these sample sizes).
    const BLOCK_SIZE: usize = 4096;
    /// Nominal sample rate written in the stream, as WFDB's own writer does (the header holds
    /// the real one).
    const SAMPLE_RATE: u64 = 96_000;

    /// Writes a FLAC stream: STREAMINFO, then blocks of [`BLOCK_SIZE`] time samples, each channel
    /// a CONSTANT, FIXED (order 0–4, one Rice partition) or VERBATIM subframe, whichever is
    /// smallest.
    pub(super) fn encode(
        format: SignalFormat,
        samples: &[i32],
        spf: &[u32],
        frame_len: usize,
    ) -> Result<Vec<u8>> {
        let spf0 = check_layout(format, spf, Error::invalid)? as usize;
        let nsig = spf.len();
        let bits = format.bits();
        let (lo, hi) = format.valid_range();
        let sentinel = format.invalid_value();
        let frames = samples.len() / frame_len;
        let time_len = frames * spf0;

        // De-interleave into one channel per signal, checking every value.
        let mut channels: Vec<Vec<i32>> = (0..nsig).map(|_| Vec::with_capacity(time_len)).collect();
        for (f, frame) in samples.chunks_exact(frame_len).enumerate() {
            for (ch, (chan, vals)) in channels
                .iter_mut()
                .zip(frame.chunks_exact(spf0))
                .enumerate()
            {
                for (j, &v) in vals.iter().enumerate() {
                    let v = if v == MISSING {
                        sentinel
                    } else if v < lo || v > hi {
                        return Err(out_of_range(
                            format,
                            f * frame_len + ch * spf0 + j,
                            frame_len,
                            v,
                            lo,
                            hi,
                        ));
                    } else {
                        v
                    };
                    chan.push(v);
                }
            }
        }

        let mut w = BitWriter::with_capacity(samples.len() * bits as usize / 16 + 64);
        w.bytes(b"fLaC");
        // STREAMINFO, the only (so last) metadata block.
        w.put(1, 1);
        w.put(7, 0);
        w.put(24, 34);
        w.put(16, BLOCK_SIZE as u64);
        w.put(16, BLOCK_SIZE as u64);
        w.put(24, 0); // minimum frame size unknown
        w.put(24, 0); // maximum frame size unknown
        w.put(20, SAMPLE_RATE);
        w.put(3, nsig as u64 - 1);
        w.put(5, u64::from(bits) - 1);
        w.put(4, (time_len as u64) >> 32);
        w.put(32, time_len as u64 & 0xffff_ffff);
        w.bytes(&[0; 16]); // MD5 signature not computed (allowed by the format)

        let size_code = match bits {
            8 => 0b001,
            16 => 0b100,
            _ => 0b110, // 24
        };
        let mut start = 0usize;
        let mut frame_number = 0u64;
        while start < time_len {
            let n = BLOCK_SIZE.min(time_len - start);
            let frame_start = w.len();
            w.bytes(&[0xFF, 0xF8]); // sync code, fixed block size
            w.put(4, 0b0111); // block size: 16 bits at the end of the header
            w.put(4, 0b0000); // sample rate: from STREAMINFO
            w.put(4, nsig as u64 - 1); // independent channels
            w.put(3, size_code);
            w.put(1, 0);
            w.bytes(&utf8_number(frame_number));
            w.put(16, n as u64 - 1);
            let crc = crc8(&w.out[frame_start..]);
            w.put(8, u64::from(crc));
            for chan in &channels {
                write_subframe(&mut w, &chan[start..start + n], bits);
            }
            w.align();
            let crc = crc16(&w.out[frame_start..]);
            w.put(16, u64::from(crc));
            start += n;
            frame_number += 1;
        }
        Ok(w.out)
    }

    /// Fixed-predictor residuals of order `order` (0–4) for `x[order..]`.
    fn residuals(x: &[i32], order: usize) -> impl Iterator<Item = i64> + '_ {
        x.windows(order + 1).map(move |w| {
            let v = |k: usize| i64::from(w[order - k]);
            match order {
                0 => v(0),
                1 => v(0) - v(1),
                2 => v(0) - 2 * v(1) + v(2),
                3 => v(0) - 3 * v(1) + 3 * v(2) - v(3),
                _ => v(0) - 4 * v(1) + 6 * v(2) - 4 * v(3) + v(4),
            }
        })
    }

    /// Folds a signed residual onto the unsigned numbers, as Rice coding in FLAC expects.
    fn zigzag(e: i64) -> u64 {
        ((e << 1) ^ (e >> 63)) as u64
    }

    /// The best Rice parameter (0–14) for these folded residuals and its cost in bits.
    fn best_rice(x: &[i32], order: usize) -> (u32, u64) {
        let n = (x.len() - order) as u64;
        let sum: u64 = residuals(x, order).map(zigzag).sum();
        // The optimum lies near log2 of the mean; check the neighbours exactly.
        let mean = sum / n.max(1);
        let guess = (64 - mean.leading_zeros()).min(14);
        let mut best = (0, u64::MAX);
        for k in guess.saturating_sub(2)..=(guess + 1).min(14) {
            let bits: u64 = residuals(x, order)
                .map(|e| (zigzag(e) >> k) + 1 + u64::from(k))
                .sum();
            if bits < best.1 {
                best = (k, bits);
            }
        }
        best
    }

    fn write_subframe(w: &mut BitWriter, x: &[i32], bits: u32) {
        let first = x.first().copied().unwrap_or(0);
        if x.iter().all(|&v| v == first) {
            w.put(8, 0b0000_0000); // CONSTANT
            w.put(bits, first as u64);
            return;
        }
        let verbatim = u64::from(bits) * x.len() as u64;
        let mut best: Option<(usize, u32, u64)> = None;
        for order in 0..=4.min(x.len() - 1) {
            let (k, rice) = best_rice(x, order);
            // Warm-up samples, coding method, partition order, Rice parameter, residuals.
            let cost = order as u64 * u64::from(bits) + 2 + 4 + 4 + rice;
            if best.is_none_or(|b| cost < b.2) {
                best = Some((order, k, cost));
            }
        }
        match best {
            Some((order, k, cost)) if cost < verbatim => {
                w.put(8, (0b001000 | order as u64) << 1); // FIXED, no wasted bits
                for &v in &x[..order] {
                    w.put(bits, v as u64);
                }
                w.put(2, 0b00); // Rice, 4-bit parameters
                w.put(4, 0); // one partition
                w.put(4, u64::from(k));
                for e in residuals(x, order) {
                    let u = zigzag(e);
                    w.unary(u >> k);
                    w.put(k, u);
                }
            }
            _ => {
                w.put(8, 0b000001 << 1); // VERBATIM
                for &v in x {
                    w.put(bits, v as u64);
                }
            }
        }
    }

    /// A frame number in FLAC's extended UTF-8 coding.
    pub(super) fn utf8_number(v: u64) -> Vec<u8> {
        if v < 0x80 {
            return vec![v as u8];
        }
        // Number of continuation bytes: each holds 6 bits, the lead byte 6 - continuation bits.
        let extra = (1..=6).find(|&c| v < 1u64 << (6 - c + 6 * c)).unwrap_or(6);
        let mut out = Vec::with_capacity(extra + 1);
        let lead_marker = !(0xFFu8 >> (extra + 1));
        out.push(lead_marker | (v >> (6 * extra)) as u8);
        for i in (0..extra).rev() {
            out.push(0x80 | ((v >> (6 * i)) & 0x3F) as u8);
        }
        out
    }

    const CRC8_TABLE: [u8; 256] = {
        let mut t = [0u8; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u8;
            let mut b = 0;
            while b < 8 {
                c = if c & 0x80 != 0 {
                    (c << 1) ^ 0x07
                } else {
                    c << 1
                };
                b += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };

    const CRC16_TABLE: [u16; 256] = {
        let mut t = [0u16; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = (i as u16) << 8;
            let mut b = 0;
            while b < 8 {
                c = if c & 0x8000 != 0 {
                    (c << 1) ^ 0x8005
                } else {
                    c << 1
                };
                b += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };

    /// FLAC's frame-header CRC-8 (polynomial x^8 + x^2 + x + 1).
    fn crc8(data: &[u8]) -> u8 {
        data.iter()
            .fold(0u8, |c, &b| CRC8_TABLE[usize::from(c ^ b)])
    }

    /// FLAC's frame CRC-16 (polynomial x^16 + x^15 + x^2 + 1).
    fn crc16(data: &[u8]) -> u16 {
        data.iter().fold(0u16, |c, &b| {
            (c << 8) ^ CRC16_TABLE[usize::from((c >> 8) as u8 ^ b)]
        })
    }

    /// Big-endian bit packing into bytes.
    struct BitWriter {
        out: Vec<u8>,
        acc: u64,
        nbits: u32,
    }

    impl BitWriter {
        fn with_capacity(n: usize) -> Self {
            BitWriter {
                out: Vec::with_capacity(n),
                acc: 0,
                nbits: 0,
            }
        }

        /// Bytes written so far (whole bytes only).
        fn len(&self) -> usize {
            self.out.len()
        }

        /// Appends the low `bits` (at most 32) bits of `v`.
        fn put(&mut self, bits: u32, v: u64) {
            if bits == 0 {
                return;
            }
            self.acc = (self.acc << bits) | (v & ((1u64 << bits) - 1));
            self.nbits += bits;
            while self.nbits >= 8 {
                self.nbits -= 8;
                self.out.push((self.acc >> self.nbits) as u8);
            }
            self.acc &= (1u64 << self.nbits) - 1;
        }

        /// Appends `q` zero bits and a one bit.
        fn unary(&mut self, mut q: u64) {
            while q >= 32 {
                self.put(32, 0);
                q -= 32;
            }
            self.put(q as u32 + 1, 1);
        }

        /// Appends whole bytes (the writer must be byte-aligned).
        fn bytes(&mut self, b: &[u8]) {
            for &x in b {
                self.put(8, u64::from(x));
            }
        }

        /// Pads with zero bits to the next byte boundary.
        fn align(&mut self) {
            if self.nbits > 0 {
                self.put(8 - self.nbits, 0);
            }
        }
    }

    fn flac_error(code: u32, e: claxon::Error) -> Error {
        match e {
            claxon::Error::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                Error::truncated(format!("format {code}: FLAC stream ends early"))
            }
            claxon::Error::IoError(e) => Error::malformed(format!("format {code}: FLAC: {e}")),
            claxon::Error::FormatError(m) => {
                Error::malformed(format!("format {code}: invalid FLAC: {m}"))
            }
            claxon::Error::Unsupported(m) => {
                Error::unsupported(format!("format {code}: FLAC feature: {m}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SignalFormat::*;
    use super::*;
    use crate::ErrorKind;

    const M: i32 = MISSING;

    fn dec(format: SignalFormat, data: &[u8], spf: &[u32]) -> Vec<i32> {
        decode(format, data, spf, &[], None).unwrap()
    }

    // Every byte vector below was also read with wfdb-python 4.3.1 (`rdrecord`, digital), which
    // returned the same values (with the raw sentinel where this gives MISSING).

    #[test]
    fn fmt212_pairs_sentinel_and_odd_tail() {
        let data = [
            0x01, 0xF0, 0xFF, 0xFF, 0x87, 0x00, 0x01, 0x18, 0x23, 0xFB, 0x0F,
        ];
        let want = vec![1, -1, 2047, M, -2047, 291, -5];
        assert_eq!(dec(Fmt212, &data, &[1]), want);
        assert_eq!(encode(Fmt212, &want, &[1], &[]).unwrap(), data);
        // Two signals: the seventh sample is not a whole frame.
        assert_eq!(dec(Fmt212, &data, &[1, 1]), want[..6]);
        // One trailing byte holds no sample.
        assert_eq!(dec(Fmt212, &data[..10], &[1]), want[..6]);
        assert_eq!(dec(Fmt212, &data[..9], &[1]), want[..6]);
        assert_eq!(dec(Fmt212, &data[..8], &[1]), want[..5]);
    }

    #[test]
    fn fmt310_groups_and_tails() {
        let data = [0x02, 0x60, 0xFC, 0x4F, 0xFE, 0x0B, 0x00, 0x84, 0xFA, 0x07];
        let want = vec![1, -2, 300, 511, M, -511, -3];
        assert_eq!(dec(Fmt310, &data, &[1]), want);
        assert_eq!(encode(Fmt310, &want, &[1], &[]).unwrap(), data);
        // Three trailing bytes still hold one sample (the second word is incomplete).
        let mut three = data.to_vec();
        three.push(0x55);
        assert_eq!(dec(Fmt310, &three, &[1]), want);
        // Two leftover samples are written as a whole group with a zero third sample.
        let two = encode(Fmt310, &[5, -6], &[1], &[]).unwrap();
        assert_eq!(two.len(), 4);
        assert_eq!(dec(Fmt310, &two, &[1]), [5, -6, 0]);
        assert_eq!(decode(Fmt310, &two, &[1], &[], Some(2)).unwrap(), [5, -6]);
        assert_eq!(encode(Fmt310, &[-3], &[1], &[]).unwrap(), [0xFA, 0x07]);
    }

    #[test]
    fn fmt311_groups_and_tails() {
        let data = [
            0x01, 0xF8, 0xCF, 0x12, 0xFF, 0x01, 0x18, 0x20, 0xFD, 0x17, 0x00, 0x00,
        ];
        let want = [1, -2, 300, 511, M, -511, -3, 5];
        assert_eq!(dec(Fmt311, &data, &[1]), [&want[..], &[0]].concat());
        assert_eq!(encode(Fmt311, &want, &[1], &[]).unwrap(), data);
        // Three trailing bytes hold two samples, two hold one.
        assert_eq!(dec(Fmt311, &data[..11], &[1]), want);
        assert_eq!(dec(Fmt311, &data[..10], &[1]), want[..7]);
        assert_eq!(dec(Fmt311, &data[..9], &[1]), want[..6]);
        assert_eq!(encode(Fmt311, &[-3], &[1], &[]).unwrap(), [0xFD, 0x03]);
    }

    #[test]
    fn sixteen_bit_formats() {
        let want = vec![1, -1, M, 32767, -32767];
        let le = [1, 0, 0xFF, 0xFF, 0, 0x80, 0xFF, 0x7F, 1, 0x80];
        let be = [0, 1, 0xFF, 0xFF, 0x80, 0, 0x7F, 0xFF, 0x80, 1];
        let off = [1, 0x80, 0xFF, 0x7F, 0, 0, 0xFF, 0xFF, 1, 0];
        for (f, bytes) in [(Fmt16, &le), (Fmt61, &be), (Fmt160, &off)] {
            assert_eq!(dec(f, bytes, &[1]), want, "{f:?}");
            assert_eq!(encode(f, &want, &[1], &[]).unwrap(), bytes, "{f:?}");
            // An odd trailing byte is not a sample.
            assert_eq!(dec(f, &bytes[..9], &[1]), want[..4], "{f:?}");
        }
    }

    #[test]
    fn fmt80_24_32() {
        let want = vec![1, -1, M, 127, -127];
        let b80 = [0x81, 0x7F, 0x00, 0xFF, 0x01];
        assert_eq!(dec(Fmt80, &b80, &[1]), want);
        assert_eq!(encode(Fmt80, &want, &[1], &[]).unwrap(), b80);

        let want = vec![1, -1, M, (1 << 23) - 1, -5];
        let b24 = [
            1, 0, 0, 0xFF, 0xFF, 0xFF, 0, 0, 0x80, 0xFF, 0xFF, 0x7F, 0xFB, 0xFF, 0xFF,
        ];
        assert_eq!(dec(Fmt24, &b24, &[1]), want);
        assert_eq!(encode(Fmt24, &want, &[1], &[]).unwrap(), b24);
        assert_eq!(dec(Fmt24, &b24[..14], &[1]), want[..4]);

        let want = vec![1, -1, M, i32::MAX];
        let b32 = [
            1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0x80, 0xFF, 0xFF, 0xFF, 0x7F,
        ];
        assert_eq!(dec(Fmt32, &b32, &[1]), want);
        assert_eq!(encode(Fmt32, &want, &[1], &[]).unwrap(), b32);
    }

    #[test]
    fn fmt8_two_signals_multi_frequency() {
        // spf [2, 1], initial [100, -50]; frame 0 differences +1 -1 | +5, frame 1 -128 +127 | -1.
        let data = [0x01, 0xFF, 0x05, 0x80, 0x7F, 0xFF];
        let want = vec![101, 100, -45, -28, 99, -46];
        assert_eq!(
            decode(Fmt8, &data, &[2, 1], &[100, -50], None).unwrap(),
            want
        );
        assert_eq!(encode(Fmt8, &want, &[2, 1], &[100, -50]).unwrap(), data);
        // Format 8 has no invalid-sample code: 0x80 is a difference of -128.
        assert_eq!(decode(Fmt8, &[0x80], &[1], &[0], None).unwrap(), [-128]);
    }

    #[test]
    fn fmt8_errors() {
        let e = decode(Fmt8, &[1, 2], &[1, 1], &[0], None).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Invalid(_)), "{e}");
        let e = encode(Fmt8, &[0, 200], &[1], &[0]).unwrap_err();
        assert!(e.to_string().contains("200"), "{e}");
        let e = encode(Fmt8, &[M], &[1], &[0]).unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
        // Accumulated differences leaving the 32-bit range are reported, not wrapped.
        let e = decode(Fmt8, &[0x7F, 0x7F], &[1], &[i32::MAX - 200], None).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Malformed(_)), "{e}");
        let e = decode(Fmt8, &[0x80], &[1], &[i32::MIN + 100], None).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Malformed(_)), "{e}");
    }

    #[test]
    fn multi_signal_multi_frequency_layout_is_flat_frame_order() {
        // spf [1, 3]: frame = a0 b0 b1 b2. Format 16, three frames plus a partial one.
        let samples: Vec<i32> = (0..14).map(|i| i * 100 - 700).collect();
        let bytes = encode(Fmt16, &samples[..12], &[1, 3], &[]).unwrap();
        assert_eq!(bytes.len(), 24);
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[1, 0, 2, 0]);
        assert_eq!(dec(Fmt16, &longer, &[1, 3]), samples[..12]);
        assert_eq!(
            decode(Fmt16, &longer, &[1, 3], &[], Some(2)).unwrap(),
            samples[..8]
        );
        assert_eq!(decode(Fmt16, &longer, &[1, 3], &[], Some(0)).unwrap(), []);
    }

    #[test]
    fn max_frames_limits_packed_formats() {
        let samples: Vec<i32> = (0..30).map(|i| i * 7 - 100).collect();
        for f in [Fmt212, Fmt310, Fmt311, Fmt24, Fmt80, Fmt160] {
            let bytes = encode(f, &samples, &[2, 1], &[]).unwrap();
            for k in 0..=10u64 {
                let got = decode(f, &bytes, &[2, 1], &[], Some(k)).unwrap();
                assert_eq!(got, samples[..3 * k as usize], "{f:?} {k}");
            }
        }
    }

    #[test]
    fn encode_rejects_out_of_range_and_sentinels() {
        for (f, bad) in [
            (Fmt212, 2048),
            (Fmt212, -2049),
            (Fmt310, 512),
            (Fmt311, -513),
            (Fmt80, 128),
            (Fmt16, 40000),
            (Fmt61, -32769),
            (Fmt160, 32768),
            (Fmt24, 1 << 23),
        ] {
            let e = encode(f, &[0, bad], &[1], &[]).unwrap_err();
            assert!(matches!(e.kind, ErrorKind::Invalid(_)), "{f:?}");
            assert!(e.to_string().contains(&bad.to_string()), "{f:?}: {e}");
            assert!(e.to_string().contains("frame 1"), "{f:?}: {e}");
        }
        for f in [Fmt212, Fmt310, Fmt311, Fmt80, Fmt16, Fmt61, Fmt160, Fmt24] {
            let e = encode(f, &[f.invalid_value()], &[1], &[]).unwrap_err();
            assert!(e.to_string().contains("invalid-sample code"), "{f:?}: {e}");
        }
    }

    #[test]
    fn layout_errors() {
        assert!(decode(Fmt16, &[0, 0], &[], &[], None).is_err());
        assert!(decode(Fmt16, &[0, 0], &[0, 0], &[], None).is_err());
        assert!(encode(Fmt16, &[1, 2, 3], &[2], &[]).is_err());
        let e = encode(Flac516, &[1, 2, 3], &[1, 2], &[]).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Unsupported(_)), "{e}");
        let e = encode(Flac516, &[1; 9], &[1; 9], &[]).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Invalid(_)), "{e}");
        let e = encode(Flac508, &[1, 128], &[1, 1], &[]).unwrap_err();
        assert!(e.to_string().contains("sample 1 of frame 0"), "{e}");
        // A huge declared frame with little data decodes to nothing, without allocating.
        assert_eq!(
            decode(Fmt8, &[1; 10], &[1 << 30, 1 << 30], &[0, 0], None).unwrap(),
            []
        );
        let e = decode(Fmt16, &[0; 10], &[u32::MAX, u32::MAX], &[], None).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::TooLarge(_)), "{e}");
        assert_eq!(dec(Fmt16, &[], &[1]), []);
    }

    #[test]
    fn sentinel_table() {
        let cases = [
            (Fmt80, -128),
            (Flac508, -128),
            (Fmt310, -512),
            (Fmt311, -512),
            (Fmt212, -2048),
            (Fmt16, -32768),
            (Fmt61, -32768),
            (Fmt160, -32768),
            (Flac516, -32768),
            (Fmt24, -(1 << 23)),
            (Flac524, -(1 << 23)),
            (Fmt32, i32::MIN),
            (Fmt8, -32768),
        ];
        for (f, v) in cases {
            assert_eq!(f.invalid_value(), v, "{f:?}");
            assert_eq!(SignalFormat::from_code(f.code()), Some(f));
        }
        assert_eq!(SignalFormat::from_code(0), None);
        assert_eq!(
            SignalFormat::from_code(212).map(|f| f.valid_range()),
            Some((-2047, 2047))
        );
    }

    #[test]
    fn flac_encode_round_trips() {
        for (f, lo, hi) in [
            (Flac508, -127, 127),
            (Flac516, -32767, 32767),
            (Flac524, -(1 << 23) + 1, (1 << 23) - 1),
        ] {
            // Constant, smooth, noisy and extreme stretches exercise every subframe kind;
            // 2 signals × 2 samples per frame, 5000 frames = 10000 time samples = 3 blocks.
            let mut seed = 0x2545_F491_4F6C_DD1Du64;
            let mut noise = move || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            };
            let span = (hi - lo) as u64 + 1;
            let samples: Vec<i32> = (0..20_000)
                .map(|i| match i / 4000 {
                    0 => 7,
                    1 => (i % 200) - 100,
                    2 => lo + (noise() % span) as i32,
                    3 if i % 13 == 0 => M,
                    3 => {
                        if i % 2 == 0 {
                            hi
                        } else {
                            lo
                        }
                    }
                    _ => ((i as f64 / 50.0).sin() * f64::from(hi) * 0.9) as i32,
                })
                .collect();
            let bytes = encode(f, &samples, &[2, 2], &[]).unwrap();
            assert_eq!(&bytes[..4], b"fLaC");
            assert_eq!(
                decode(f, &bytes, &[2, 2], &[], None).unwrap(),
                samples,
                "{f:?}"
            );
            // Short and empty streams.
            for n in [0usize, 1, 2, 3, 17] {
                let s = &samples[8000..8000 + n];
                let bytes = encode(f, s, &[1], &[]).unwrap();
                assert_eq!(decode(f, &bytes, &[1], &[], None).unwrap(), s, "{f:?} {n}");
            }
        }
    }

    #[test]
    fn flac_frame_numbers_use_extended_utf8() {
        assert_eq!(flac::utf8_number(0x7F), [0x7F]);
        assert_eq!(flac::utf8_number(0x80), [0xC2, 0x80]);
        assert_eq!(flac::utf8_number(0x20AC), [0xE2, 0x82, 0xAC]);
        assert_eq!(flac::utf8_number(0x10348), [0xF0, 0x90, 0x8D, 0x88]);
    }

    #[test]
    fn flac_rejects_garbage_and_layout() {
        let e = decode(Flac516, b"RIFF0000", &[1], &[], None).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Malformed(_)), "{e}");
        let e = decode(Flac516, b"fLaC", &[1], &[], None).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Truncated(_)), "{e}");
        let e = decode(Flac516, b"fLaC", &[1, 2], &[], None).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Unsupported(_)), "{e}");
        let e = decode(Flac516, b"fLaC", &[1; 9], &[], None).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Malformed(_)), "{e}");
    }

    /// Samples for every non-FLAC format and a layout: a ramp with some MISSING (none for
    /// format 8, whose successive differences stay within 8 bits).
    fn layout_samples(f: SignalFormat, spf: &[u32], frames: usize) -> Vec<i32> {
        let frame_len: usize = spf.iter().map(|&n| n as usize).sum();
        let (lo, hi) = f.valid_range();
        (0..frames * frame_len)
            .map(|i| {
                if f == Fmt8 {
                    // Differences between successive samples of a signal stay below 128.
                    ((i / frame_len) % 50) as i32 * 2 - 50
                } else if i % 97 == 13 {
                    M
                } else {
                    let span = (i64::from(hi) - i64::from(lo)).min(1 << 20);
                    (i64::from(lo) + (i as i64 * 7919) % span) as i32
                }
            })
            .collect()
    }

    const PIECE_LAYOUTS: [&[u32]; 8] = [
        &[1],
        &[1, 1],
        &[2, 1],
        &[1, 3, 2],
        &[1, 1, 1],
        &[3],
        &[1; 4],
        &[1; 12],
    ];
    const PIECE_FORMATS: [SignalFormat; 10] = [
        Fmt8, Fmt16, Fmt24, Fmt32, Fmt61, Fmt80, Fmt160, Fmt212, Fmt310, Fmt311,
    ];

    #[test]
    fn frame_decoder_pieces_match_decode() {
        for f in PIECE_FORMATS {
            for spf in PIECE_LAYOUTS {
                let frame_len: usize = spf.iter().map(|&n| n as usize).sum();
                let initial: Vec<i32> = (0..spf.len() as i32).map(|k| k - 50).collect();
                // Frame counts that end on and off packing-group boundaries.
                for frames in [0usize, 1, 2, 5, 17, 30] {
                    let samples = layout_samples(f, spf, frames);
                    let bytes = encode(f, &samples, spf, &initial).unwrap();
                    let whole = decode(f, &bytes, spf, &initial, Some(frames as u64)).unwrap();
                    assert_eq!(whole, samples, "{f:?} {spf:?} {frames}");
                    for pieces_of in [1u64, 2, 3, 7] {
                        let mut d = FrameDecoder::new(f, spf, &initial).unwrap();
                        let piece = pieces_of * d.frame_step();
                        let mut got = Vec::new();
                        let (mut done, mut at) = (0u64, 0usize);
                        let mut scratch = Vec::new();
                        while done < frames as u64 {
                            let n = piece.min(frames as u64 - done);
                            let len = (d.bytes_for(n) as usize).min(bytes.len() - at);
                            let out = d.decode_frames(&bytes[at..at + len], n, &mut scratch);
                            let out = out.unwrap();
                            assert_eq!(out.len() as u64, n * frame_len as u64);
                            got.extend_from_slice(out);
                            done += n;
                            at += len;
                        }
                        assert_eq!(got, samples, "{f:?} {spf:?} {frames} pieces of {piece}");
                    }
                }
            }
        }
    }

    #[test]
    fn decode_split_matches_decode_and_sums_stored_values() {
        for f in PIECE_FORMATS {
            for spf in PIECE_LAYOUTS {
                let frame_len: usize = spf.iter().map(|&n| n as usize).sum();
                let initial: Vec<i32> = (0..spf.len() as i32).map(|k| 3 - k).collect();
                let frames = 301;
                let samples = layout_samples(f, spf, frames);
                let bytes = encode(f, &samples, spf, &initial).unwrap();
                // Each signal's samples, and their checksum sums (MISSING stored as the sentinel).
                let mut want: Vec<Vec<i32>> = vec![Vec::new(); spf.len()];
                for frame in samples.chunks(frame_len) {
                    let mut at = 0;
                    for (k, &n) in spf.iter().enumerate() {
                        want[k].extend_from_slice(&frame[at..at + n as usize]);
                        at += n as usize;
                    }
                }
                let stored = |v: &i32| if *v == M { f.invalid_value() } else { *v };
                let want_sums: Vec<i32> = want
                    .iter()
                    .map(|s| s.iter().map(stored).fold(0i32, i32::wrapping_add))
                    .collect();
                // Small pieces, and one piece for the whole file; skipping each signal in turn.
                for (skip, pieces_of) in (0..spf.len()).flat_map(|k| [(k, 4), (k, 1000)]) {
                    let mut d = FrameDecoder::new(f, spf, &initial).unwrap();
                    let piece = pieces_of * d.frame_step();
                    let mut got: Vec<Vec<i32>> = vec![Vec::new(); spf.len()];
                    let mut sums = vec![0i32; spf.len()];
                    let mut scratch = Vec::new();
                    let (mut done, mut at) = (0u64, 0usize);
                    while done < frames as u64 {
                        let n = piece.min(frames as u64 - done);
                        let len = (d.bytes_for(n) as usize).min(bytes.len() - at);
                        let mut outputs: Vec<Option<SignalOutput>> = got
                            .iter_mut()
                            .zip(sums.iter_mut())
                            .enumerate()
                            .map(|(k, (samples, sum))| {
                                (k != skip).then_some(SignalOutput { samples, sum })
                            })
                            .collect();
                        let m = d
                            .decode_split(&bytes[at..at + len], n, &mut outputs, &mut scratch)
                            .unwrap();
                        assert_eq!(m, n);
                        done += n;
                        at += len;
                    }
                    for k in 0..spf.len() {
                        if k == skip {
                            assert!(got[k].is_empty());
                            continue;
                        }
                        assert_eq!(got[k], want[k], "{f:?} {spf:?} signal {k}");
                        assert_eq!(sums[k], want_sums[k], "{f:?} {spf:?} signal {k}");
                    }
                }
            }
        }
    }

    #[test]
    fn frame_decoder_errors() {
        let e = FrameDecoder::new(Flac516, &[1], &[]).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Unsupported(_)), "{e}");
        let e = FrameDecoder::new(Fmt8, &[1, 1], &[0]).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Invalid(_)), "{e}");
        assert!(FrameDecoder::new(Fmt16, &[], &[]).is_err());
        let mut d = FrameDecoder::new(Fmt16, &[1, 1], &[]).unwrap();
        let (mut a, mut sum) = (Vec::new(), 0);
        let mut one = [Some(SignalOutput {
            samples: &mut a,
            sum: &mut sum,
        })];
        let e = d
            .decode_split(&[0; 8], 2, &mut one, &mut Vec::new())
            .unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Invalid(_)), "{e}");
        // Format 8 errors name the frame counted from the first piece.
        let mut d = FrameDecoder::new(Fmt8, &[1], &[i32::MAX - 300]).unwrap();
        let mut scratch = Vec::new();
        d.decode_frames(&[0x7F, 0x7F], 2, &mut scratch).unwrap();
        let e = d
            .decode_frames(&[0, 0x7F, 0x7F], 3, &mut scratch)
            .unwrap_err();
        assert!(e.to_string().contains("at frame 3"), "{e}");
        let whole = decode(
            Fmt8,
            &[0x7F, 0x7F, 0, 0x7F, 0x7F],
            &[1],
            &[i32::MAX - 300],
            None,
        );
        assert!(whole.unwrap_err().to_string().contains("at frame 3"));
        // Bytes holding fewer frames than asked give what they hold.
        let mut d = FrameDecoder::new(Fmt212, &[1, 1], &[]).unwrap();
        assert_eq!(
            d.decode_frames(&[1, 0, 0, 2, 0], 5, &mut scratch).unwrap(),
            [1, 0]
        );
        assert_eq!(d.frame_step(), 1);
        assert_eq!(
            FrameDecoder::new(Fmt212, &[1], &[]).unwrap().frame_step(),
            2
        );
        assert_eq!(
            FrameDecoder::new(Fmt310, &[2], &[]).unwrap().frame_step(),
            3
        );
        assert_eq!(
            FrameDecoder::new(Fmt311, &[1, 2], &[])
                .unwrap()
                .frame_step(),
            1
        );
        assert_eq!(
            FrameDecoder::new(Fmt311, &[1], &[]).unwrap().bytes_for(4),
            8
        );
    }
}
