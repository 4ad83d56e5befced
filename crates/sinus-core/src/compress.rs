//! Lossless compression of ECG sample blocks for the Holter store: allocation-free, integer-only,
//! bit-exact, each block independent (the store may drop any block).
//!
//! Each lead's sample is predicted by a normalised LMS filter (integer) over the last [`TAPS`] first
//! differences (the second lead also sees the first lead's current and previous difference,
//! which carry most of what the two leads share). The prediction residual is coded with an
//! adaptive binary range coder: its bit length through a bit tree whose probabilities depend on
//! a running mean of recent residual magnitudes (context modelling — QRS complexes and noise
//! bursts get their own statistics), the two bits under its leading one adaptively, the rest at
//! even odds.
//!
//! Every `i32` sample round-trips: prediction and residuals use wrapping arithmetic, identical
//! in the encoder and the decoder, and a residual of any 32-bit value can be coded. The decoder
//! uses integer arithmetic only and about [`STATE_BYTES`] of stack.
//!
//! Block layout: one byte `0x10 | (leads - 1)` (format 1), the sample count per lead (u16 little
//! endian), then the range-coded residuals, time-major (lead 0 then lead 1 at each instant).

mod range;

use range::{Decoder, Encoder, Prob, PROB_INIT};

/// Most leads in one block.
pub const MAX_LEADS: usize = 2;
/// Most samples per lead in one block (the count is stored in 16 bits).
pub const MAX_SAMPLES: usize = u16::MAX as usize;
/// Bytes before the coded residuals.
pub const HEADER_BYTES: usize = 3;
/// Own-history taps of each lead's predictor.
pub const TAPS: usize = 8;
/// Cross taps of the second lead's predictor (the first lead's current and previous difference).
const CROSS: usize = 2;
/// Fixed-point precision of the predictor weights.
const WEIGHT_BITS: u32 = 12;
/// Weights stay within ±4.0 so the products cannot grow without bound on hostile input.
const WEIGHT_MAX: i32 = 4 << WEIGHT_BITS;
/// Step of the NLMS update: 2^-MU_SHIFT.
const MU_SHIFT: u32 = 3;
/// Regularisation of the NLMS input energy (ADC codes²).
const NLMS_EPS: i64 = 16;
/// Clamp of inputs and error in the NLMS update.
const LIM: i32 = 1 << 15;
/// Magnitude contexts.
const NCTX: usize = 12;
/// Running mean: each residual counts 1/2^MEAN_SHIFT.
const MEAN_SHIFT: u32 = 3;
/// Format byte (high nibble), lead count − 1 in the low nibble.
const FORMAT: u8 = 0x10;

/// Approximate size of the coder state both `encode` and `decode` keep on the stack (bytes).
pub const STATE_BYTES: usize = core::mem::size_of::<Codec>();

/// Why a block could not be encoded or decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// No lead, more than [`MAX_LEADS`], or leads of different lengths.
    Leads,
    /// More than [`MAX_SAMPLES`] samples per lead.
    TooLong,
    /// The output buffer is too small.
    OutputTooSmall,
    /// The block does not start with a known header.
    Header,
    /// The coded data is inconsistent with the header (truncated, extended or corrupt).
    Corrupt,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Error::Leads => "one or two leads of equal length expected",
            Error::TooLong => "too many samples for one block",
            Error::OutputTooSmall => "output buffer too small",
            Error::Header => "not a compressed block",
            Error::Corrupt => "corrupt compressed block",
        })
    }
}

/// What a block holds, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    /// Number of leads (1 or 2).
    pub leads: usize,
    /// Samples per lead.
    pub samples: usize,
}

/// An output size that always suffices for `encode` of `leads × samples` (worst case: every
/// residual a full 32-bit value coded against adapted odds, ~9 bytes per sample).
pub const fn max_encoded_len(leads: usize, samples: usize) -> usize {
    HEADER_BYTES + 8 + leads.saturating_mul(samples).saturating_mul(10)
}

/// Read a block's header.
pub fn block_info(bytes: &[u8]) -> Result<BlockInfo, Error> {
    match bytes {
        [b, lo, hi, ..] if b & 0xF0 == FORMAT && usize::from(b & 0x0F) < MAX_LEADS => {
            Ok(BlockInfo {
                leads: usize::from(b & 0x0F) + 1,
                samples: usize::from(u16::from_le_bytes([*lo, *hi])),
            })
        }
        _ => Err(Error::Header),
    }
}

/// Compress one block of one or two leads (`leads[k][n]`: lead k's n-th ADC code) into `out`,
/// returning the number of bytes written.
pub fn encode(leads: &[&[i32]], out: &mut [u8]) -> Result<usize, Error> {
    let (first, rest) = leads.split_first().ok_or(Error::Leads)?;
    let n = first.len();
    if leads.len() > MAX_LEADS || rest.iter().any(|l| l.len() != n) {
        return Err(Error::Leads);
    }
    if n > MAX_SAMPLES {
        return Err(Error::TooLong);
    }
    if out.len() < HEADER_BYTES {
        return Err(Error::OutputTooSmall);
    }
    let (head, body) = out.split_at_mut(HEADER_BYTES);
    head[0] = FORMAT | (leads.len() as u8 - 1);
    head[1..3].copy_from_slice(&(n as u16).to_le_bytes());
    let mut enc = Encoder::new(body);
    let mut codec = Codec::new();
    for i in 0..n {
        for (k, lead) in leads.iter().enumerate() {
            let x = lead[i];
            let pred = codec.predict(k);
            let e = x.wrapping_sub(pred);
            codec.code_residual(k, zigzag(e), &mut enc);
            codec.update(k, x, e);
        }
    }
    enc.finish()
        .map(|len| HEADER_BYTES + len)
        .ok_or(Error::OutputTooSmall)
}

/// Decompress a block into `out`, lead-major (lead 0's samples, then lead 1's), returning what
/// it held. `out` must have room for `leads × samples` values.
pub fn decode(bytes: &[u8], out: &mut [i32]) -> Result<BlockInfo, Error> {
    let info = block_info(bytes)?;
    let n = info.samples;
    let out = out.get_mut(..info.leads * n).ok_or(Error::OutputTooSmall)?;
    let body = &bytes[HEADER_BYTES..];
    let mut dec = Decoder::new(body);
    let mut codec = Codec::new();
    for i in 0..n {
        for k in 0..info.leads {
            let pred = codec.predict(k);
            let e = unzigzag(codec.decode_residual(k, &mut dec));
            let x = pred.wrapping_add(e);
            out[k * n + i] = x;
            codec.update(k, x, e);
        }
    }
    // The decoder reads exactly the bytes the encoder produced before it dropped the trailing
    // zeros: unread bytes, or a zero last byte, mean the block was extended or corrupted. (A
    // cheap plausibility check, not an integrity check: the store's CRC is that.)
    if dec.consumed() < body.len() || body.last() == Some(&0) {
        return Err(Error::Corrupt);
    }
    Ok(info)
}

fn zigzag(e: i32) -> u32 {
    ((e << 1) ^ (e >> 31)) as u32
}

fn unzigzag(u: u32) -> i32 {
    ((u >> 1) as i32) ^ -((u & 1) as i32)
}

/// Bit length: 0 for 0, 32 for values ≥ 2^31.
fn bit_len(u: u32) -> u32 {
    32 - u.leading_zeros()
}

/// One lead's predictor: normalised LMS over first differences.
#[derive(Clone, Copy)]
struct Lead {
    last: i32,
    /// Own differences, most recent first, then (second lead only) the first lead's current and
    /// previous difference.
    hist: [i32; TAPS + CROSS],
    w: [i32; TAPS + CROSS],
    /// Running mean of residual magnitudes (×2^MEAN_SHIFT).
    mean: u32,
    /// Bit tree for the residual's bit length (0..=32), per magnitude context.
    len_tree: [[Prob; 64]; NCTX],
    /// The bit under the leading one, per bit length; then the next, per bit length and the
    /// bit above it.
    mant: [[Prob; 3]; 33],
}

impl Lead {
    fn new() -> Self {
        let mut w = [0; TAPS + CROSS];
        // Start as the second-difference predictor (x[n] ≈ 2x[n-1] − x[n-2]).
        w[0] = 1 << WEIGHT_BITS;
        Lead {
            last: 0,
            hist: [0; TAPS + CROSS],
            w,
            mean: 0,
            len_tree: [[PROB_INIT; 64]; NCTX],
            mant: [[PROB_INIT; 3]; 33],
        }
    }

    fn context(&self) -> usize {
        // Two contexts per octave of the running mean.
        let m = self.mean;
        let c = if m < 4 {
            m
        } else {
            let b = bit_len(m);
            2 * b - 2 + ((m >> (b - 2)) & 1)
        };
        (c as usize).min(NCTX - 1)
    }
}

/// The whole model of a block.
struct Codec {
    leads: [Lead; MAX_LEADS],
}

impl Codec {
    fn new() -> Self {
        Codec {
            leads: [Lead::new(); MAX_LEADS],
        }
    }

    fn predict(&self, k: usize) -> i32 {
        let l = &self.leads[k];
        let taps = if k == 0 { TAPS } else { TAPS + CROSS };
        let mut acc: i32 = 1 << (WEIGHT_BITS - 1);
        for j in 0..taps {
            acc = acc.wrapping_add(l.w[j].wrapping_mul(l.hist[j]));
        }
        l.last.wrapping_add(acc >> WEIGHT_BITS)
    }

    fn update(&mut self, k: usize, x: i32, e: i32) {
        let taps = if k == 0 { TAPS } else { TAPS + CROSS };
        let d = x.wrapping_sub(self.leads[k].last);
        {
            let l = &mut self.leads[k];
            // Normalised LMS: step along the input vector by the error over the input's
            // energy, so that the adaptation speed does not depend on the signal's amplitude.
            // Inputs and error are clamped to 16 bits here (64-bit products cannot overflow).
            let mut energy: i64 = NLMS_EPS;
            for j in 0..taps {
                let h = i64::from(l.hist[j].clamp(-LIM, LIM));
                energy += h * h;
            }
            let g = (i64::from(e.clamp(-LIM, LIM)) << (WEIGHT_BITS + 16)) / energy;
            if g != 0 {
                for j in 0..taps {
                    let h = i64::from(l.hist[j].clamp(-LIM, LIM));
                    let dw = ((g * h) >> (16 + MU_SHIFT)) as i32;
                    l.w[j] = l.w[j].saturating_add(dw).clamp(-WEIGHT_MAX, WEIGHT_MAX);
                }
            }
            l.hist.copy_within(0..TAPS - 1, 1);
            l.hist[0] = d;
            l.last = x;
            let u = zigzag(e).min(1 << 20);
            l.mean = l.mean - (l.mean >> MEAN_SHIFT) + u;
        }
        if k == 0 {
            let l1 = &mut self.leads[1];
            l1.hist[TAPS + 1] = l1.hist[TAPS];
            l1.hist[TAPS] = d;
        }
    }

    fn code_residual(&mut self, k: usize, u: u32, enc: &mut Encoder<'_>) {
        let l = &mut self.leads[k];
        let c = l.context();
        let nb = bit_len(u);
        let tree = &mut l.len_tree[c];
        let mut node = 1usize;
        for i in (0..6).rev() {
            let b = (nb >> i) & 1 != 0;
            enc.bit(&mut tree[node], b);
            node = 2 * node + usize::from(b);
        }
        if nb >= 2 {
            let m = &mut l.mant[nb as usize];
            let b1 = (u >> (nb - 2)) & 1;
            enc.bit(&mut m[0], b1 != 0);
            if nb >= 3 {
                let b2 = (u >> (nb - 3)) & 1;
                enc.bit(&mut m[1 + b1 as usize], b2 != 0);
                enc.direct(u, nb - 3);
            }
        }
    }

    fn decode_residual(&mut self, k: usize, dec: &mut Decoder<'_>) -> u32 {
        let l = &mut self.leads[k];
        let c = l.context();
        let tree = &mut l.len_tree[c];
        let mut node = 1usize;
        for _ in 0..6 {
            node = 2 * node + usize::from(dec.bit(&mut tree[node]));
        }
        // Lengths above 32 never come from the encoder: clamp so a corrupt block stays defined.
        let nb = ((node - 64) as u32).min(32);
        match nb {
            0 => 0,
            1 => 1,
            _ => {
                let m = &mut l.mant[nb as usize];
                let b1 = u32::from(dec.bit(&mut m[0]));
                let mut u = (1u32 << (nb - 1)) | (b1 << (nb - 2));
                if nb >= 3 {
                    let b2 = u32::from(dec.bit(&mut m[1 + b1 as usize]));
                    u |= (b2 << (nb - 3)) | dec.direct(nb - 3);
                }
                u
            }
        }
    }
}

#[cfg(test)]
mod tests;
