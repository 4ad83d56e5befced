//! Neural-network inference for the beat classifier: float and int8 kernels for small 1-D
//! CNNs, no allocator.
//!
//! A model is a sequence of layers (1-D convolution with groups, stride and padding; max
//! pooling; global average pooling; flatten; concatenation of a feature vector; dense), stored
//! in the `.snnm` byte format that `sinus_ml::spec` writes (its module documentation describes
//! the format; the parser here checks every size and the CRC before anything is used).
//!
//! - [`FloatModel`] decodes the weights once into caller-provided storage (`Vec<f32>` on a PC,
//!   a static array on the device) and runs in `f32`.
//! - [`QuantModel`] runs an int8 model in place from its bytes (which can sit in flash): int8
//!   weights with a scale per output channel, int8 activations with a scale and zero point per
//!   tensor, int32 accumulators, and fixed-point requantisation — the scheme of TensorFlow
//!   Lite Micro (Jacob et al. 2018), so a model costs a quarter of its float size.
//!
//! Both take a scratch buffer for the activations: [`FloatModel::scratch_len`] and
//! [`QuantModel::scratch_len`] say how large, so a device can size it at compile time for the
//! models it ships.

mod float;
mod format;
mod quant;

pub use float::FloatModel;
pub use format::{crc32, Activation, LayerKind, ModelInfo, MAX_CLASSES, MAX_FEATURES, MAX_LAYERS};
pub use quant::{QuantLayer, QuantModel, Requant};

/// Why a model cannot be loaded or run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NnError {
    /// The bytes are not a model: what is wrong.
    Malformed(&'static str),
    /// The bytes end inside a field.
    Truncated,
    /// The CRC-32 at the end does not match (damaged file).
    Checksum,
    /// A format version or kind this build does not read.
    Unsupported(&'static str),
    /// The layers do not fit together (shapes).
    Shape(&'static str),
    /// Caller-provided storage is too small: this many values are needed.
    BufferTooSmall(usize),
    /// The input has the wrong number of values.
    Input(&'static str),
}

impl core::fmt::Display for NnError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NnError::Malformed(m) => write!(f, "malformed model: {m}"),
            NnError::Truncated => write!(f, "model file ends inside a field"),
            NnError::Checksum => write!(f, "model CRC-32 mismatch (file damaged)"),
            NnError::Unsupported(m) => write!(f, "unsupported model: {m}"),
            NnError::Shape(m) => write!(f, "inconsistent model: {m}"),
            NnError::BufferTooSmall(n) => write!(f, "buffer too small: {n} values needed"),
            NnError::Input(m) => write!(f, "bad model input: {m}"),
        }
    }
}

/// Softmax of `logits` into `probs` (same length), stable for large logits.
pub fn softmax(logits: &[f32], probs: &mut [f32]) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for (p, &l) in probs.iter_mut().zip(logits) {
        *p = libm::expf(l - max);
        sum += *p;
    }
    if sum > 0.0 && sum.is_finite() {
        for p in probs.iter_mut() {
            *p /= sum;
        }
    }
}

/// Index of the largest value (the first one on ties); 0 for an empty slice.
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod kernel_tests;
/// Channel `xc` into `bc` (zeroed), each value mapped by `v`, as the conv kernels read it:
/// padded position `pad + i` goes to phase `(pad + i) % s` at index `(pad + i) / s`;
/// positions from `s · plen` on are read by no output. Strides 1 and 2 as literals, for
/// straight copies. Shared by the float kernels (`v` the identity) and the int8 ones (`v`
/// the i16 `x − zero point`).
#[inline(always)]
pub(crate) fn phase_split<T: Copy, U: Copy>(
    s: usize,
    pad: usize,
    plen: usize,
    xc: &[T],
    bc: &mut [U],
    v: impl Fn(T) -> U,
) {
    match s {
        1 => {
            let n = xc.len().min(plen.saturating_sub(pad));
            for (b, &x) in bc[pad..pad + n].iter_mut().zip(xc) {
                *b = v(x);
            }
        }
        2 => {
            let (even, odd) = bc.split_at_mut(plen);
            // Pairs (x[i], x[i + 1]) with pad + i even land at the same index m.
            let first = pad % 2; // values before the first pair: one, at an odd position
            if first == 1 && !xc.is_empty() && pad / 2 < plen {
                odd[pad / 2] = v(xc[0]);
            }
            let rest = &xc[first.min(xc.len())..];
            let m0 = pad.div_ceil(2);
            let n = (rest.len() / 2).min(plen.saturating_sub(m0));
            for ((e, o), pair) in even[m0..m0 + n]
                .iter_mut()
                .zip(&mut odd[m0..m0 + n])
                .zip(rest.chunks_exact(2))
            {
                *e = v(pair[0]);
                *o = v(pair[1]);
            }
            if rest.len() % 2 == 1 && m0 + n < plen && n == rest.len() / 2 {
                even[m0 + n] = v(rest[rest.len() - 1]);
            }
        }
        _ => {
            let (mut phase, mut m) = (pad % s, pad / s);
            for &x in xc {
                if m >= plen {
                    break;
                }
                bc[phase * plen + m] = v(x);
                phase += 1;
                if phase == s {
                    (phase, m) = (0, m + 1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
