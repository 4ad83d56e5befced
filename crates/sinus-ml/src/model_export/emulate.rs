//! A plain int8 forward pass of a `.snnm` model with a choice of requantisation rounding: ours,
//! or TensorFlow Lite's reference kernels' — to state exactly where the exported `.tflite`
//! model and our kernels part.
//!
//! With [`Rounding::Single`] this is the network of `sinus_core::nn::QuantModel`, loop for
//! loop (a test checks the int8 logits are identical). With [`Rounding::TfliteReference`] the
//! requantisation of the convolutions (including the 1 × 1 depthwise ones that requantise the
//! two parts of the concatenation) is TensorFlow Lite's `MultiplyByQuantizedMultiplier` without
//! `TFLITE_SINGLE_ROUNDING`: `RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x · 2^left,
//! multiplier), right)`, two roundings (the first half up, the second half away from zero),
//! while `FULLY_CONNECTED` keeps one rounding, as ours — what LiteRT 2.3.0's reference
//! resolver (`BUILTIN_REF`) was measured to do, op by op, on 1200 DS2 beats of each shipped
//! model. Nothing else differs, so that resolver must give these logits to the bit
//! (`tests/peers/litert_parity.py`).

use sinus_core::nn::{Activation, LayerKind, QuantModel, Requant};

/// How an accumulator is requantised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// `(acc · m + 2^(t−1)) >> t`, t = 31 + shift: one rounding, half up (ours; TensorFlow
    /// Lite's `TFLITE_SINGLE_ROUNDING`; XNNPACK's `rndnu`).
    Single,
    /// TensorFlow Lite's reference kernels: gemmlowp's doubling high multiply (rounded at
    /// bit 31, half up) then a rounding right shift (half away from zero) for convolutions
    /// and requantisations; one rounding for fully connected layers.
    TfliteReference,
}

/// Which operator requantises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Site {
    Conv,
    Dense,
    Requantise,
}

impl Rounding {
    fn apply(self, acc: i32, r: Requant, site: Site) -> i32 {
        match (self, site) {
            (Rounding::Single, _) | (Rounding::TfliteReference, Site::Dense) => r.apply(acc),
            (Rounding::TfliteReference, Site::Conv | Site::Requantise) => {
                // TFLite's shift is ours negated: positive shifts left.
                let shift = -(r.shift as i32);
                let (left, right) = (shift.max(0), (-shift).max(0));
                let x = (acc as i64) << left;
                let x = x.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
                rounding_divide_by_pot(
                    saturating_rounding_doubling_high_mul(x, r.multiplier),
                    right,
                )
            }
        }
    }
}

/// gemmlowp `SaturatingRoundingDoublingHighMul`: `round(a · b / 2^31)`, halves away from zero.
fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge = if ab >= 0 {
        1i64 << 30
    } else {
        1 - (1i64 << 30)
    };
    // Division truncating toward zero, as C's.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// gemmlowp `RoundingDivideByPOT`: `x / 2^e` rounded half away from zero.
fn rounding_divide_by_pot(x: i32, e: i32) -> i32 {
    if e <= 0 {
        return x;
    }
    let e = e.min(31);
    let mask = ((1i64 << e) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> e) + i32::from(remainder > threshold)
}

/// The int8 logits of one beat (`None` when the input sizes differ from the model's).
pub fn logits(
    model: &QuantModel<Vec<u8>>,
    waveform: &[f32],
    features: &[f32],
    rounding: Rounding,
) -> Option<Vec<i8>> {
    let info = model.info();
    if waveform.len() != info.input_channels * info.input_len || features.len() != info.n_features {
        return None;
    }
    let (in_scale, in_zp) = model.input_quant();
    let (f_scale, f_zp) = model.feature_quant();
    let feats: Vec<i8> = features
        .iter()
        .enumerate()
        .map(|(i, &f)| {
            let (mean, scale) = model.feature_norm(i).unwrap_or((0.0, 1.0));
            quantise((f - mean) * scale, f_scale, f_zp)
        })
        .collect();
    let mut x: Vec<i8> = waveform
        .iter()
        .map(|&v| quantise(v, in_scale, in_zp))
        .collect();
    let mut zp = in_zp;
    for d in model.layers() {
        // The parser checked the sizes; checked again so that indexing cannot fail.
        let n_weights = match d.kind {
            LayerKind::Conv1d => d.out_channels * (d.in_channels / d.groups.max(1)) * d.kernel,
            LayerKind::Dense => d.out_channels * d.in_channels,
            _ => 0,
        };
        if d.weights.len() != n_weights || x.len() < d.in_channels * d.in_len {
            return None;
        }
        let out_len = d.out_len;
        let lo = |relu: Activation| {
            if relu == Activation::Relu {
                d.out_zero_point
            } else {
                -128
            }
        };
        let site = if d.kind == LayerKind::Dense {
            Site::Dense
        } else {
            Site::Conv
        };
        let out = |acc: i32, o: usize| -> i8 {
            let (_, r) = d.channel(o).unwrap_or((
                0,
                Requant {
                    multiplier: 0,
                    shift: 0,
                },
            ));
            let v = rounding.apply(acc, r, site) as i64 + d.out_zero_point as i64;
            v.clamp(lo(d.activation) as i64, 127) as i8
        };
        let y: Vec<i8> = match d.kind {
            LayerKind::Conv1d => {
                let (cin_g, cout_g) = (d.in_channels / d.groups, d.out_channels / d.groups);
                let mut y = vec![0i8; d.out_channels * out_len];
                for o in 0..d.out_channels {
                    let bias = d.channel(o).map_or(0, |c| c.0);
                    let xg = &x[o / cout_g * cin_g * d.in_len..];
                    for t in 0..out_len {
                        let mut acc = bias;
                        for ci in 0..cin_g {
                            for tap in 0..d.kernel {
                                let p = t * d.stride + tap;
                                if p < d.pad_left || p - d.pad_left >= d.in_len {
                                    continue;
                                }
                                let w = d.weights[(o * cin_g + ci) * d.kernel + tap] as i8 as i32;
                                let v = xg[ci * d.in_len + p - d.pad_left] as i32 - zp;
                                acc = acc.wrapping_add(w * v);
                            }
                        }
                        y[o * out_len + t] = out(acc, o);
                    }
                }
                y
            }
            LayerKind::Dense => (0..d.out_channels)
                .map(|o| {
                    let mut acc = d.channel(o).map_or(0, |c| c.0);
                    for (i, &v) in x.iter().enumerate().take(d.in_channels) {
                        let w = d.weights[o * d.in_channels + i] as i8 as i32;
                        acc = acc.wrapping_add(w * (v as i32 - zp));
                    }
                    out(acc, o)
                })
                .collect(),
            LayerKind::MaxPool1d => {
                let mut y = vec![0i8; d.out_channels * out_len];
                for c in 0..d.out_channels {
                    for t in 0..out_len {
                        let at = c * d.in_len + t * d.stride;
                        y[c * out_len + t] =
                            x[at..at + d.kernel].iter().copied().max().unwrap_or(0);
                    }
                }
                y
            }
            LayerKind::GlobalAvgPool => (0..d.out_channels)
                .map(|c| {
                    let n = d.in_len as i32;
                    let s: i32 = x[c * d.in_len..(c + 1) * d.in_len]
                        .iter()
                        .map(|&v| v as i32)
                        .sum();
                    let q = if s >= 0 {
                        (s + n / 2) / n
                    } else {
                        (s - n / 2) / n
                    };
                    q.clamp(-128, 127) as i8
                })
                .collect(),
            LayerKind::Flatten => x.clone(),
            LayerKind::ConcatFeatures => {
                let [r0, r1] = d.concat_requant;
                let part = |v: i8, from_zp: i32, r: Requant| {
                    let q = rounding.apply(v as i32 - from_zp, r, Site::Requantise) as i64
                        + d.out_zero_point as i64;
                    q.clamp(-128, 127) as i8
                };
                x.iter()
                    .map(|&v| part(v, zp, r0))
                    .chain(feats.iter().map(|&v| part(v, f_zp, r1)))
                    .collect()
            }
        };
        if matches!(
            d.kind,
            LayerKind::Conv1d | LayerKind::Dense | LayerKind::ConcatFeatures
        ) {
            zp = d.out_zero_point;
        }
        x = y;
    }
    Some(x)
}

/// `round(x / scale) + zero_point`, halves away from zero, saturated (NaN → zero point): our
/// input quantisation and TensorFlow Lite's reference `QUANTIZE` float → int8.
fn quantise(x: f32, scale: f32, zp: i32) -> i8 {
    let v = x / scale;
    if v.is_nan() {
        return zp.clamp(-128, 127) as i8;
    }
    let r = v.clamp(-1.0e6, 1.0e6).round() as i32 + zp;
    r.clamp(-128, 127) as i8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model_export::{parse_int8, TestVectors};

    #[test]
    fn single_rounding_is_our_kernel() {
        for bytes in [
            &include_bytes!("../../models/beatnet.int8.snnm")[..],
            &include_bytes!("../../models/beatnet-1lead.int8.snnm")[..],
        ] {
            let model = parse_int8(bytes.to_vec()).unwrap();
            let v = TestVectors::synthetic(&model, 40, 11).unwrap();
            let mut differ = 0;
            for i in 0..v.len() {
                let w = &v.waveforms[i * v.waveform_len..(i + 1) * v.waveform_len];
                let f = &v.features[i * v.n_features..(i + 1) * v.n_features];
                let want = &v.logits[i * v.n_classes..(i + 1) * v.n_classes];
                assert_eq!(logits(&model, w, f, Rounding::Single).unwrap(), want, "{i}");
                differ +=
                    usize::from(logits(&model, w, f, Rounding::TfliteReference).unwrap() != want);
            }
            // Double rounding changes the logits of some synthetic beats, not all.
            assert!(differ < v.len(), "{differ}");
            assert!(logits(&model, &[0.0], &[], Rounding::Single).is_none());
        }
    }

    #[test]
    fn gemmlowp_primitives() {
        // The doubling high multiply rounds halves up (its nudge), ...
        assert_eq!(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);
        assert_eq!(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
            i32::MAX
        );
        // ... the shift away from zero.
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(-6, 2), -2);
        assert_eq!(rounding_divide_by_pot(7, 0), 7);
        // Where they part: 1 · (2^30 + 1) · 2^-32 ≈ 0.25 is 0 rounded once; twice, it is
        // first 0.5 + ε → 1, then 1 / 2 = 0.5 → 1.
        let r = Requant {
            multiplier: (1 << 30) + 1,
            shift: 1,
        };
        assert_eq!(Rounding::Single.apply(1, r, Site::Conv), 0);
        assert_eq!(Rounding::TfliteReference.apply(1, r, Site::Conv), 1);
        assert_eq!(
            Rounding::Single.apply(3, r, Site::Conv),
            Rounding::TfliteReference.apply(3, r, Site::Conv)
        );
        assert_eq!(Rounding::TfliteReference.apply(1, r, Site::Dense), 0);
    }
}
