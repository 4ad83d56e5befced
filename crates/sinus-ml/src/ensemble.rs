//! Several trained networks of one architecture folded into a single network that averages
//! their logits: one `.snnm` file, one pass of the same `sinus-core` kernels, on the PC and on
//! the device.
//!
//! Inter-patient training is unstable — the same recipe with another seed moves SVEB
//! sensitivity by ten points — and averaging members trained with different seeds removes
//! most of that spread. The members run side by side as channel groups:
//! - the first convolution (which reads the shared input) stacks the members' filters;
//! - every later convolution gets `members ×` its groups, so each member's filters read only
//!   its own channels (a member's pointwise convolution becomes one group of a grouped one);
//! - pooling layers work per channel and need nothing;
//! - the dense layer after the feature concatenation reads each member's own block and the
//!   shared features; hidden dense layers are block-diagonal; the output layer sums the
//!   members' logits divided by their number — the mean of the logits (the geometric mean of
//!   the probabilities, renormalised).
//!
//! Zeros off the diagonal blocks are stored and counted as parameters: the file is what the
//! device holds.

use crate::spec::{LayerSpec, ModelSpec};
use crate::{Error, Result};

/// The network computing the mean of `members`' logits (see the module documentation). All
/// members must have the same architecture, input and feature normalisation; the metadata is
/// the first member's.
pub fn ensemble(members: &[ModelSpec]) -> Result<ModelSpec> {
    let first = members
        .first()
        .ok_or_else(|| Error::invalid("an ensemble needs at least one member"))?;
    let e = members.len();
    for m in &members[1..] {
        if m.input_channels != first.input_channels
            || m.input_len != first.input_len
            || m.classes != first.classes
            || m.layers.len() != first.layers.len()
        {
            return Err(Error::invalid(
                "ensemble members differ in input, classes or depth",
            ));
        }
        let close = |a: &[f32], b: &[f32]| {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| (x - y).abs() <= 1e-5 * (1.0 + x.abs()))
        };
        if !close(&m.feature_mean, &first.feature_mean)
            || !close(&m.feature_scale, &first.feature_scale)
        {
            return Err(Error::invalid(
                "ensemble members normalise their features differently (trained on other data)",
            ));
        }
    }
    // Index of the last dense layer: the one whose outputs are the logits.
    let last_dense = first
        .layers
        .iter()
        .rposition(|l| matches!(l, LayerSpec::Dense { .. }))
        .ok_or_else(|| Error::invalid("an ensemble needs networks ending in a dense layer"))?;
    let mut layers = Vec::with_capacity(first.layers.len());
    // Whether the input of the current layer is shared by the members (the waveform, before
    // the first convolution) and, after a concatenation, how many shared values end it.
    let mut shared_input = true;
    let mut shared_tail = 0usize;
    for (i, layer) in first.layers.iter().enumerate() {
        let of = |m: &ModelSpec| m.layers[i].clone();
        let merged = match layer {
            LayerSpec::Conv1d {
                in_channels,
                out_channels,
                kernel,
                stride,
                pad_left,
                pad_right,
                groups,
                activation,
                ..
            } => {
                if shared_input && *groups != 1 {
                    return Err(Error::unsupported(
                        "ensembles of networks whose first convolution is grouped",
                    ));
                }
                let (mut weight, mut bias) = (Vec::new(), Vec::new());
                for m in members {
                    match of(m) {
                        LayerSpec::Conv1d {
                            weight: w, bias: b, ..
                        } => {
                            weight.extend(w);
                            bias.extend(b);
                        }
                        _ => return Err(Error::invalid("ensemble members differ in layers")),
                    }
                }
                let merged = LayerSpec::Conv1d {
                    in_channels: if shared_input {
                        *in_channels
                    } else {
                        e * in_channels
                    },
                    out_channels: e * out_channels,
                    kernel: *kernel,
                    stride: *stride,
                    pad_left: *pad_left,
                    pad_right: *pad_right,
                    groups: if shared_input { 1 } else { e * groups },
                    activation: *activation,
                    weight,
                    bias,
                };
                shared_input = false;
                merged
            }
            LayerSpec::MaxPool1d { .. } | LayerSpec::GlobalAvgPool | LayerSpec::Flatten => {
                layer.clone()
            }
            LayerSpec::ConcatFeatures => {
                shared_tail = first.n_features();
                layer.clone()
            }
            LayerSpec::Dense {
                inputs,
                outputs,
                activation,
                ..
            } => {
                let own = inputs - shared_tail;
                let merged_inputs = if shared_input {
                    *inputs
                } else {
                    e * own + shared_tail
                };
                let output_layer = i == last_dense;
                let merged_outputs = if output_layer { *outputs } else { e * outputs };
                let mut weight = vec![0.0f32; merged_outputs * merged_inputs];
                let mut bias = vec![0.0f32; merged_outputs];
                for (k, m) in members.iter().enumerate() {
                    let LayerSpec::Dense {
                        weight: w, bias: b, ..
                    } = of(m)
                    else {
                        return Err(Error::invalid("ensemble members differ in layers"));
                    };
                    let scale = if output_layer { 1.0 / e as f32 } else { 1.0 };
                    for o in 0..*outputs {
                        let row = if output_layer { o } else { k * outputs + o };
                        let dst = &mut weight[row * merged_inputs..(row + 1) * merged_inputs];
                        let src = &w[o * inputs..(o + 1) * inputs];
                        let at = if shared_input { 0 } else { k * own };
                        for (d, &s) in dst[at..at + own].iter_mut().zip(&src[..own]) {
                            *d += s * scale;
                        }
                        let tail = merged_inputs - shared_tail;
                        for (d, &s) in dst[tail..].iter_mut().zip(&src[own..]) {
                            *d += s * scale;
                        }
                        bias[row] += b[o] * scale;
                    }
                }
                shared_input = false;
                shared_tail = 0;
                LayerSpec::Dense {
                    inputs: merged_inputs,
                    outputs: merged_outputs,
                    activation: *activation,
                    weight,
                    bias,
                }
            }
        };
        layers.push(merged);
    }
    let spec = ModelSpec {
        layers,
        ..first.clone()
    };
    spec.shapes()?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Activation;

    fn member(seed: u32) -> ModelSpec {
        let mut state = seed.wrapping_mul(0x9E37_79B9).max(1);
        let mut v = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    (state % 2001) as f32 / 1000.0 - 1.0
                })
                .collect()
        };
        ModelSpec {
            input_channels: 2,
            input_len: 16,
            classes: vec!['N', 'S', 'V'],
            feature_mean: vec![0.5, 1.0],
            feature_scale: vec![2.0, 0.5],
            metadata: "{}".into(),
            layers: vec![
                LayerSpec::Conv1d {
                    in_channels: 2,
                    out_channels: 4,
                    kernel: 3,
                    stride: 2,
                    pad_left: 1,
                    pad_right: 1,
                    groups: 1,
                    activation: Activation::Relu,
                    weight: v(24),
                    bias: v(4),
                },
                LayerSpec::Conv1d {
                    in_channels: 4,
                    out_channels: 4,
                    kernel: 3,
                    stride: 1,
                    pad_left: 1,
                    pad_right: 1,
                    groups: 4,
                    activation: Activation::None,
                    weight: v(12),
                    bias: v(4),
                },
                LayerSpec::Conv1d {
                    in_channels: 4,
                    out_channels: 6,
                    kernel: 1,
                    stride: 1,
                    pad_left: 0,
                    pad_right: 0,
                    groups: 2,
                    activation: Activation::Relu,
                    weight: v(12),
                    bias: v(6),
                },
                LayerSpec::MaxPool1d {
                    kernel: 2,
                    stride: 2,
                },
                LayerSpec::GlobalAvgPool,
                LayerSpec::ConcatFeatures,
                LayerSpec::Dense {
                    inputs: 8,
                    outputs: 5,
                    activation: Activation::Relu,
                    weight: v(40),
                    bias: v(5),
                },
                LayerSpec::Dense {
                    inputs: 5,
                    outputs: 3,
                    activation: Activation::None,
                    weight: v(15),
                    bias: v(3),
                },
            ],
        }
    }

    #[test]
    fn the_merged_network_gives_the_mean_of_the_members_logits() {
        let members: Vec<ModelSpec> = (1..=3).map(member).collect();
        let merged = ensemble(&members).unwrap();
        let waveform: Vec<f32> = (0..32).map(|i| ((i * 7) % 11) as f32 / 5.0 - 1.0).collect();
        let features = [0.8f32, 1.7];
        let got = merged.forward(&waveform, &features).unwrap();
        let mut want = vec![0.0f32; 3];
        for m in &members {
            for (w, v) in want
                .iter_mut()
                .zip(m.forward(&waveform, &features).unwrap())
            {
                *w += v / 3.0;
            }
        }
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-4, "{got:?} vs {want:?}");
        }
        // Through the byte format and the device's float kernels as well.
        let c = crate::infer::Classifier::from_bytes(&merged.to_bytes().unwrap()).unwrap();
        let p = c.probabilities(&waveform, &features).unwrap();
        let mut q = vec![0.0f32; 3];
        sinus_core::nn::softmax(&want, &mut q);
        for (a, b) in p.iter().zip(&q) {
            assert!((a - b).abs() < 1e-4, "{p:?} vs {q:?}");
        }
        assert_eq!(ensemble(&members[..1]).unwrap(), members[0]);
        let mut other = member(4);
        other.feature_mean[0] = 9.0;
        assert!(ensemble(&[members[0].clone(), other]).is_err());
        assert!(ensemble(&[]).is_err());
    }
}
