//! WFDB signal storage formats: decoding bytes into digital samples and back.
//!
//! API CONTRACT (other modules depend on these signatures; keep them):
//! - `SignalFormat` with `from_code`, `code`, `invalid_value`, `is_flac`.
//! - `decode(format, data, spf, initial, max_frames)` returns frame-ordered samples: for each
//!   frame, `spf[0]` samples of the file's first signal, then `spf[1]` of the second, ...;
//!   invalid-sample sentinels become [`crate::MISSING`]; only complete frames are returned.
//! - `encode(format, samples, spf, initial)` is the inverse (MISSING -> sentinel).

use crate::{Error, Result};
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

    /// The digital value WFDB writes for a missing sample in this format.
    pub fn invalid_value(self) -> i32 {
        todo_contract()
    }
}

/// Decode one signal file's bytes (already past any byte offset).
pub fn decode(
    format: SignalFormat,
    data: &[u8],
    spf: &[u32],
    initial: &[i32],
    max_frames: Option<u64>,
) -> Result<Vec<i32>> {
    let _ = (format, data, spf, initial, max_frames);
    Err(Error::unsupported("decode not implemented yet"))
}

/// Encode frame-ordered samples (the inverse of [`decode`]).
pub fn encode(
    format: SignalFormat,
    samples: &[i32],
    spf: &[u32],
    initial: &[i32],
) -> Result<Vec<u8>> {
    let _ = (format, samples, spf, initial);
    Err(Error::unsupported("encode not implemented yet"))
}

fn todo_contract() -> i32 {
    i32::MIN
}
