//! Post-training int8 quantisation of a [`ModelSpec`] for `sinus_core::nn::QuantModel`.
//!
//! The scheme is TensorFlow Lite's (Jacob et al. 2018, "Quantization and Training of Neural
//! Networks for Efficient Integer-Arithmetic-Only Inference"): weights int8, symmetric, one
//! scale per output channel; activations int8 with a scale and zero point per tensor, taken
//! from the range the activations reach on calibration inputs; biases int32 at the
//! accumulator's scale; fixed-point multipliers between layers. The byte layout (kind 1) is
//! described in `sinus_core::nn`'s format module.

use crate::spec::{Activation, LayerSpec, ModelSpec};
use crate::{Error, Result};
use sinus_core::nn::Requant;

/// Scale and zero point for values in `[lo, hi]` (the range is widened to include 0, so that
/// zero — padding, ReLU — is exact).
fn range_params(lo: f32, hi: f32) -> (f32, i32) {
    let lo = lo.min(0.0);
    let hi = hi.max(0.0);
    let span = (hi - lo).max(1e-8);
    let scale = span / 255.0;
    let zp = (-128.0 - lo / scale).round().clamp(-128.0, 127.0) as i32;
    (scale, zp)
}

/// Running min/max of a tensor over the calibration inputs.
#[derive(Clone, Copy)]
struct Range {
    lo: f32,
    hi: f32,
}

impl Range {
    fn new() -> Self {
        Range {
            lo: f32::INFINITY,
            hi: f32::NEG_INFINITY,
        }
    }
    fn add(&mut self, v: &[f32]) {
        for &x in v {
            if x.is_finite() {
                self.lo = self.lo.min(x);
                self.hi = self.hi.max(x);
            }
        }
    }
    fn params(self) -> (f32, i32) {
        if self.lo > self.hi {
            range_params(0.0, 1.0)
        } else {
            range_params(self.lo, self.hi)
        }
    }
}

/// Quantise `spec` to int8 `.snnm` bytes, with activation ranges measured on `calibration`
/// inputs (waveform, raw features) — a few hundred beats of the training set suffice.
pub fn quantize(spec: &ModelSpec, calibration: &[(&[f32], &[f32])]) -> Result<Vec<u8>> {
    spec.shapes()?;
    if calibration.is_empty() {
        return Err(Error::invalid(
            "quantisation needs at least one calibration input",
        ));
    }
    let mut input = Range::new();
    let mut feats = Range::new();
    let mut layer_ranges = vec![Range::new(); spec.layers.len()];
    for (w, f) in calibration {
        input.add(w);
        let norm: Vec<f32> = f
            .iter()
            .zip(spec.feature_mean.iter().zip(&spec.feature_scale))
            .map(|(x, (m, s))| (x - m) * s)
            .collect();
        feats.add(&norm);
        let trace = spec.forward_trace(w, f)?;
        for (r, t) in layer_ranges.iter_mut().zip(&trace) {
            r.add(t);
        }
    }
    let (in_scale, in_zp) = if spec.input_channels * spec.input_len > 0 {
        input.params()
    } else {
        (1.0, 0)
    };
    let (f_scale, f_zp) = if spec.n_features() > 0 {
        feats.params()
    } else {
        (1.0, 0)
    };

    let mut b = spec.header_bytes(1)?;
    b.extend_from_slice(&in_scale.to_le_bytes());
    b.extend_from_slice(&(in_zp as i16).to_le_bytes());
    b.extend_from_slice(&f_scale.to_le_bytes());
    b.extend_from_slice(&(f_zp as i16).to_le_bytes());
    b.extend_from_slice(&(spec.layers.len() as u16).to_le_bytes());

    let requant = |real: f64, what: &str| {
        Requant::from_real(real).ok_or_else(|| {
            Error::invalid(format!(
                "{what}: rescale factor {real} cannot be represented"
            ))
        })
    };
    // Scale of the tensor entering the current layer.
    let mut scale = in_scale;
    for (layer, range) in spec.layers.iter().zip(&layer_ranges) {
        layer.write_geometry(&mut b)?;
        match layer {
            LayerSpec::Conv1d {
                out_channels: outputs,
                activation,
                weight,
                bias,
                ..
            }
            | LayerSpec::Dense {
                outputs,
                activation,
                weight,
                bias,
                ..
            } => {
                let (os, ozp) = out_params(*range, *activation);
                linear_body(&mut b, weight, bias, *outputs, scale, os, ozp, &requant)?;
                scale = os;
            }
            LayerSpec::ConcatFeatures => {
                // The output's range as measured (the vector part and the features).
                let (os, ozp) = range.params();
                b.extend_from_slice(&os.to_le_bytes());
                b.extend_from_slice(&(ozp as i16).to_le_bytes());
                for real in [scale as f64 / os as f64, f_scale as f64 / os as f64] {
                    let r = requant(real, "feature concatenation")?;
                    b.extend_from_slice(&r.multiplier.to_le_bytes());
                    b.push(r.shift as u8);
                }
                scale = os;
            }
            LayerSpec::MaxPool1d { .. } | LayerSpec::GlobalAvgPool | LayerSpec::Flatten => {}
        }
    }
    let crc = crate::spec::crc32(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    Ok(b)
}

fn out_params(range: Range, activation: Activation) -> (f32, i32) {
    let mut r = range;
    if activation == Activation::Relu {
        r.lo = 0.0;
    }
    r.params()
}

/// Output quantisation, int8 weights (per-channel symmetric) and per-channel
/// (bias, multiplier, shift) of a convolution or dense layer.
#[allow(clippy::too_many_arguments)]
fn linear_body(
    b: &mut Vec<u8>,
    weight: &[f32],
    bias: &[f32],
    outputs: usize,
    in_scale: f32,
    out_scale: f32,
    out_zp: i32,
    requant: &dyn Fn(f64, &str) -> Result<Requant>,
) -> Result<()> {
    b.extend_from_slice(&out_scale.to_le_bytes());
    b.extend_from_slice(&(out_zp as i16).to_le_bytes());
    let per = weight.len() / outputs;
    let mut w_scales = Vec::with_capacity(outputs);
    for o in 0..outputs {
        let row = &weight[o * per..(o + 1) * per];
        let max = row.iter().fold(0.0f32, |m, w| m.max(w.abs()));
        let s = if max > 0.0 { max / 127.0 } else { 1.0 };
        w_scales.push(s);
        for w in row {
            b.push(((w / s).round().clamp(-127.0, 127.0) as i8) as u8);
        }
    }
    for o in 0..outputs {
        let acc_scale = in_scale as f64 * w_scales[o] as f64;
        let q_bias = (bias[o] as f64 / acc_scale)
            .round()
            .clamp(i32::MIN as f64 / 2.0, i32::MAX as f64 / 2.0) as i32;
        let r = requant(acc_scale / out_scale as f64, "layer output")?;
        b.extend_from_slice(&q_bias.to_le_bytes());
        b.extend_from_slice(&r.multiplier.to_le_bytes());
        b.push(r.shift as u8);
    }
    Ok(())
}
