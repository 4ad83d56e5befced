//! The int8 model as a TensorFlow Lite flatbuffer: int8 builtin operators that LiteRT and
//! TensorFlow Lite Micro run, with the same weights, biases, scales and zero points as the
//! `.snnm` file.
//!
//! # Graph
//!
//! Inputs: `waveform`, float32 `[1, channels, length]` (our channel-major layout), and `rr`,
//! float32 `[1, 8]`, the raw RR features. Output: `logits`, int8 `[1, classes]` with the
//! model's output scale and zero point (dequantise as `(q − zero_point) · scale`).
//!
//! | `.snnm` | TensorFlow Lite |
//! |---|---|
//! | input quantisation | `QUANTIZE` float → int8, then `TRANSPOSE` and `RESHAPE` to NHWC `[1, 1, L, C]` |
//! | Conv1d | `PAD` (int8 pads with the zero point) when padded, then `CONV_2D` (H = 1, `VALID`; grouped convolutions through the filter's input depth) or `DEPTHWISE_CONV_2D` (one input channel per group) |
//! | MaxPool1d | `MAX_POOL_2D`, `VALID` |
//! | GlobalAvgPool | `AVERAGE_POOL_2D` over the whole length, then `RESHAPE` `[1, C]` |
//! | Flatten | `TRANSPOSE` to channel-major, `RESHAPE` `[1, C·L]` |
//! | ConcatFeatures | features: `SUB` mean, `MUL` scale (float32, as our kernel), `QUANTIZE`; both parts requantised by a 1 × 1 `DEPTHWISE_CONV_2D` (weights 1, see `Graph::requantise`), then `CONCATENATION` and `RESHAPE` |
//! | Dense | `FULLY_CONNECTED`, per-channel weight scales |
//!
//! # Reproducing our arithmetic
//!
//! Weights are per-channel symmetric (zero point 0) and biases int32 at `input scale × weight
//! scale`, as in our format. TensorFlow Lite does not store requantisation multipliers: the
//! interpreter derives them as `QuantizeMultiplier((double) input_scale · (double)
//! weight_scale / (double) output_scale)` (a Q31 mantissa rounded half away from zero, and a
//! power of two) — the formula `sinus_ml::quant` used to make ours from the float32 weight
//! scales, which the `.snnm` file does not keep. Each channel's weight scale is therefore
//! recovered as the float32 whose product gives back our multiplier exactly (searched among
//! the neighbours of `multiplier · output_scale / input_scale`); [`Export::inexact`] counts the
//! channels where none does (none in the shipped models).
//!
//! What cannot be carried over is the rounding of the requantisation itself: ours rounds
//! once, `(acc · multiplier + 2^(t−1)) >> t` (half up; what TensorFlow Lite calls
//! `TFLITE_SINGLE_ROUNDING`). Measured with LiteRT 2.3.0 (`tests/peers/litert_parity.py`):
//! - the reference kernels (`BUILTIN_REF`) round convolution outputs twice (gemmlowp's
//!   `SaturatingRoundingDoublingHighMul`, then `RoundingDivideByPOT`, half away from zero):
//!   0.1–0.4 % of the values of each convolution come out 1 LSB apart, and most beats' logits
//!   move by a few LSB; their `FULLY_CONNECTED` rounds once, as ours. [`super::emulate`]
//!   reproduces them to the bit;
//! - XNNPACK (the default delegate) requantises convolutions in float32, which parts from ours
//!   only within float32 precision of a half (about one value in one beat per thousand). Its
//!   int8 → int8 `QUANTIZE` rounds the scale ratio to 8 fractional bits, which is why the
//!   concatenation's requantisations are written as 1 × 1 depthwise convolutions.
//!
//! # Format facts used here
//!
//! A TensorFlow Lite model is a FlatBuffer with file identifier `TFL3`, root table `Model`.
//! The tables and field ids written (a field id `n` is vtable slot `4 + 2n`):
//!
//! - `Model`: 0 `version` (uint, 3), 1 `operator_codes`, 2 `subgraphs`, 3 `description`,
//!   4 `buffers`;
//! - `OperatorCode`: 0 `deprecated_builtin_code` (byte), 2 `version` (int), 3 `builtin_code`
//!   (int); readers take the larger of the two codes;
//! - `SubGraph`: 0 `tensors`, 1 `inputs`, 2 `outputs`, 3 `operators`, 4 `name`;
//! - `Tensor`: 0 `shape`, 1 `type` (byte: FLOAT32 0, INT32 2, INT8 9), 2 `buffer` (uint;
//!   buffer 0 is the empty sentinel), 3 `name`, 4 `quantization`;
//! - `QuantizationParameters`: 2 `scale` ([float]), 3 `zero_point` ([long]), 6
//!   `quantized_dimension` (int);
//! - `Buffer`: 0 `data` ([ubyte]);
//! - `Operator`: 0 `opcode_index`, 1 `inputs`, 2 `outputs`, 3 `builtin_options_type` (ubyte),
//!   4 `builtin_options`;
//! - options (union type in parentheses): `Conv2DOptions` (1): 0 padding (SAME 0, VALID 1),
//!   1 stride_w, 2 stride_h, 3 fused activation (NONE 0, RELU 1), 4/5 dilation w/h;
//!   `DepthwiseConv2DOptions` (2): 0 padding, 1 stride_w, 2 stride_h, 3 depth_multiplier,
//!   4 activation, 5/6 dilation w/h; `Pool2DOptions` (5): 0 padding, 1 stride_w, 2 stride_h,
//!   3 filter_width, 4 filter_height, 5 activation; `FullyConnectedOptions` (8): 0
//!   activation, 2 keep_num_dims; `ConcatenationOptions` (10): 0 axis, 1 activation;
//!   `ReshapeOptions` (17): 0 new_shape;
//! - builtin operator codes: AVERAGE_POOL_2D 1, CONCATENATION 2, CONV_2D 3,
//!   DEPTHWISE_CONV_2D 4, FULLY_CONNECTED 9, MAX_POOL_2D 17, MUL 18, RESHAPE 22, PAD 34,
//!   TRANSPOSE 39, SUB 41, QUANTIZE 114.
//!
//! Tensors are row-major; CONV_2D filters are `[out, height, width, in / groups]`,
//! DEPTHWISE_CONV_2D filters `[1, height, width, out]` (output `c · multiplier + m` reads
//! input channel `c`), FULLY_CONNECTED weights `[out, in]`.

use crate::{Error, Result};
use flatbuffers::{FlatBufferBuilder, WIPOffset};
use sinus_core::nn::{Activation, LayerKind, QuantModel, Requant};

/// Operator codes (`BuiltinOperator`).
mod op {
    pub const AVERAGE_POOL_2D: i32 = 1;
    pub const CONCATENATION: i32 = 2;
    pub const CONV_2D: i32 = 3;
    pub const DEPTHWISE_CONV_2D: i32 = 4;
    pub const FULLY_CONNECTED: i32 = 9;
    pub const MAX_POOL_2D: i32 = 17;
    pub const MUL: i32 = 18;
    pub const RESHAPE: i32 = 22;
    pub const PAD: i32 = 34;
    pub const TRANSPOSE: i32 = 39;
    pub const SUB: i32 = 41;
    pub const QUANTIZE: i32 = 114;
}

/// Tensor element types (`TensorType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dtype {
    F32 = 0,
    I32 = 2,
    I8 = 9,
}

/// `Padding::VALID`.
const VALID: i8 = 1;

/// An exported model.
#[derive(Debug, Clone)]
pub struct Export {
    /// The `.tflite` bytes.
    pub bytes: Vec<u8>,
    /// Output channels whose requantisation multiplier no float32 weight scale reproduces
    /// exactly in TensorFlow Lite's derivation (the nearest was used).
    pub inexact: usize,
    /// Operators in the graph.
    pub operators: usize,
}

#[derive(Debug, Clone)]
struct Quant {
    scale: Vec<f32>,
    zero_point: Vec<i64>,
    dim: i32,
}

impl Quant {
    fn tensor(scale: f32, zp: i32) -> Option<Quant> {
        Some(Quant {
            scale: vec![scale],
            zero_point: vec![zp as i64],
            dim: 0,
        })
    }
    fn channels(scale: Vec<f32>, dim: i32) -> Option<Quant> {
        let zero_point = vec![0; scale.len()];
        Some(Quant {
            scale,
            zero_point,
            dim,
        })
    }
}

struct Tensor {
    name: String,
    shape: Vec<i32>,
    dtype: Dtype,
    buffer: u32,
    quant: Option<Quant>,
}

enum Options {
    None,
    Conv {
        stride: i32,
        relu: bool,
    },
    Depthwise {
        stride: i32,
        multiplier: i32,
        relu: bool,
    },
    Pool {
        filter: i32,
        stride: i32,
    },
    FullyConnected {
        relu: bool,
    },
    Concat {
        axis: i32,
    },
    Reshape {
        shape: Vec<i32>,
    },
}

struct Operator {
    code: i32,
    inputs: Vec<i32>,
    outputs: Vec<i32>,
    options: Options,
}

/// The graph being built.
struct Graph {
    tensors: Vec<Tensor>,
    /// Buffer 0 is the empty sentinel.
    buffers: Vec<Vec<u8>>,
    operators: Vec<Operator>,
}

/// The activation tensor flowing through the layers.
#[derive(Clone, Copy)]
struct Flow {
    tensor: i32,
    scale: f32,
    zp: i32,
    /// Series `[1, 1, len, channels]` or vector `[1, channels]`.
    series: bool,
    channels: usize,
    len: usize,
}

fn dim(n: usize) -> Result<i32> {
    i32::try_from(n).map_err(|_| Error::invalid(format!("dimension {n} too large for TFLite")))
}

impl Graph {
    fn tensor(
        &mut self,
        name: impl Into<String>,
        shape: &[usize],
        dtype: Dtype,
        quant: Option<Quant>,
    ) -> Result<i32> {
        let shape = shape.iter().map(|&d| dim(d)).collect::<Result<Vec<_>>>()?;
        self.tensors.push(Tensor {
            name: name.into(),
            shape,
            dtype,
            buffer: 0,
            quant,
        });
        dim(self.tensors.len() - 1)
    }

    fn constant(
        &mut self,
        name: impl Into<String>,
        shape: &[usize],
        dtype: Dtype,
        quant: Option<Quant>,
        data: Vec<u8>,
    ) -> Result<i32> {
        let t = self.tensor(name, shape, dtype, quant)?;
        self.buffers.push(data);
        self.tensors[t as usize].buffer = (self.buffers.len() - 1) as u32;
        Ok(t)
    }

    fn i32s(&mut self, name: &str, shape: &[usize], values: &[i32]) -> Result<i32> {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.constant(name, shape, Dtype::I32, None, data)
    }

    fn op(&mut self, code: i32, inputs: &[i32], outputs: &[i32], options: Options) {
        self.operators.push(Operator {
            code,
            inputs: inputs.to_vec(),
            outputs: outputs.to_vec(),
            options,
        });
    }

    /// An int8 tensor with the quantisation of `f`.
    fn like(&mut self, name: String, shape: &[usize], f: &Flow) -> Result<i32> {
        self.tensor(name, shape, Dtype::I8, Quant::tensor(f.scale, f.zp))
    }

    fn reshape(&mut self, name: String, f: &Flow, shape: &[usize]) -> Result<i32> {
        let s: Vec<i32> = shape.iter().map(|&d| dim(d)).collect::<Result<_>>()?;
        let st = self.i32s(&format!("{name}/shape"), &[shape.len()], &s)?;
        let out = self.like(name, shape, f)?;
        self.op(
            op::RESHAPE,
            &[f.tensor, st],
            &[out],
            Options::Reshape { shape: s },
        );
        Ok(out)
    }

    fn transpose(&mut self, name: String, f: &Flow, perm: &[i32], shape: &[usize]) -> Result<i32> {
        let p = self.i32s(&format!("{name}/perm"), &[perm.len()], perm)?;
        let out = self.like(name, shape, f)?;
        self.op(op::TRANSPOSE, &[f.tensor, p], &[out], Options::None);
        Ok(out)
    }

    /// Requantise the vector `f` to (`scale`, `zp`), as NHWC `[1, 1, 1, channels]`.
    ///
    /// Not with an int8 → int8 `QUANTIZE`, whose XNNPACK version rounds the scale ratio to 8
    /// fractional bits (`round(256 · s_in / s_out)`) and so misses ours by 1 LSB wherever
    /// `(x − zp) · ratio` lies that close to a half (0.35 % of the values for the one-lead
    /// model): a 1 × 1 `DEPTHWISE_CONV_2D` with weights 1 of scale 1.0 and zero biases is the
    /// same requantisation, `requant(x − zp)` with the multiplier of `s_in / s_out`, and every
    /// runtime computes it with its convolution arithmetic (XNNPACK: ours).
    fn requantise(&mut self, name: String, f: &Flow, scale: f32, zp: i32) -> Result<i32> {
        let c = f.channels;
        let x = self.reshape(format!("{name}/nhwc"), f, &[1, 1, 1, c])?;
        let ones = self.constant(
            format!("{name}/ones"),
            &[1, 1, 1, c],
            Dtype::I8,
            Quant::channels(vec![1.0; c], 3),
            vec![1u8; c],
        )?;
        let zeros = self.constant(
            format!("{name}/zeros"),
            &[c],
            Dtype::I32,
            Quant::channels(vec![f.scale; c], 0),
            vec![0u8; 4 * c],
        )?;
        let out = self.tensor(name, &[1, 1, 1, c], Dtype::I8, Quant::tensor(scale, zp))?;
        self.op(
            op::DEPTHWISE_CONV_2D,
            &[x, ones, zeros],
            &[out],
            Options::Depthwise {
                stride: 1,
                multiplier: 1,
                relu: false,
            },
        );
        Ok(out)
    }
}

/// The float32 weight scale whose product TensorFlow Lite turns back into `r`, with
/// (`in_scale`, `out_scale`); `None` if no float32 near the estimate does.
fn weight_scale(r: Requant, in_scale: f32, out_scale: f32) -> (f32, bool) {
    let real = r.multiplier as f64 * (-(31.0 + r.shift as f64)).exp2();
    let estimate = (real * out_scale as f64 / in_scale as f64) as f32;
    let derive = |w: f32| Requant::from_real(in_scale as f64 * w as f64 / out_scale as f64);
    if !(estimate.is_finite() && estimate > 0.0) {
        return (estimate, false);
    }
    // Closest first: 0, +1, −1, +2, −2, ... float32 steps from the estimate.
    for k in 0..256i64 {
        let step = if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) };
        let bits = estimate.to_bits() as i64 + step;
        let Ok(bits) = u32::try_from(bits) else {
            continue;
        };
        let w = f32::from_bits(bits);
        if w.is_finite() && w > 0.0 && derive(w) == Some(r) {
            return (w, true);
        }
    }
    (estimate, false)
}

/// Convert an int8 model.
pub fn export(model: &QuantModel<Vec<u8>>) -> Result<Export> {
    let info = *model.info();
    let mut g = Graph {
        tensors: Vec::new(),
        buffers: vec![Vec::new()],
        operators: Vec::new(),
    };
    let mut inexact = 0usize;
    let mut inputs = Vec::new();
    let (in_scale, in_zp) = model.input_quant();
    let (c, l) = (info.input_channels, info.input_len);
    let mut flow = if c * l > 0 {
        let x = g.tensor("waveform", &[1, c, l], Dtype::F32, None)?;
        inputs.push(x);
        let mut f = Flow {
            tensor: x,
            scale: in_scale,
            zp: in_zp,
            series: true,
            channels: c,
            len: l,
        };
        let q = g.like("waveform/quantised".into(), &[1, c, l], &f)?;
        g.op(op::QUANTIZE, &[x], &[q], Options::None);
        f.tensor = q;
        f.tensor = g.transpose("waveform/nlc".into(), &f, &[0, 2, 1], &[1, l, c])?;
        f.tensor = g.reshape("waveform/nhwc".into(), &f, &[1, 1, l, c])?;
        f
    } else {
        return Err(Error::unsupported(
            "a model without a waveform input cannot be exported to TFLite",
        ));
    };
    let rr = if info.n_features > 0 {
        let t = g.tensor("rr", &[1, info.n_features], Dtype::F32, None)?;
        inputs.push(t);
        Some(t)
    } else {
        None
    };

    for (i, layer) in model.layers().enumerate() {
        let name = |what: &str| format!("layer{i}/{what}");
        // The parser checked these sizes; checked again so that indexing below cannot fail.
        let n_weights = match layer.kind {
            LayerKind::Conv1d => {
                layer.out_channels * (layer.in_channels / layer.groups.max(1)) * layer.kernel
            }
            LayerKind::Dense => layer.out_channels * layer.in_channels,
            _ => 0,
        };
        if layer.weights.len() != n_weights
            || layer.channels.len() != 9 * layer.out_channels * usize::from(n_weights > 0)
        {
            return Err(Error::malformed(format!(
                "layer {i}: parameter sizes differ from its shape"
            )));
        }
        match layer.kind {
            LayerKind::Conv1d => {
                let (k, s, pl) = (layer.kernel, layer.stride, layer.pad_left);
                let lin = flow.len;
                let lout = layer.out_len;
                // Right padding actually read (see `QuantLayer::pad_left`).
                let pr = ((lout - 1) * s + k).saturating_sub(lin + pl);
                if pl + pr > 0 {
                    let pads = [0, 0, 0, 0, dim(pl)?, dim(pr)?, 0, 0];
                    let pt = g.i32s(&name("paddings"), &[4, 2], &pads)?;
                    let out =
                        g.like(name("padded"), &[1, 1, lin + pl + pr, flow.channels], &flow)?;
                    g.op(op::PAD, &[flow.tensor, pt], &[out], Options::None);
                    flow.tensor = out;
                    flow.len = lin + pl + pr;
                }
                let cout = layer.out_channels;
                let cin_g = layer.in_channels / layer.groups;
                let mut w_scales = Vec::with_capacity(cout);
                let mut biases = Vec::with_capacity(cout);
                for o in 0..cout {
                    let (bias, r) = layer
                        .channel(o)
                        .ok_or_else(|| Error::malformed("layer parameters cut short"))?;
                    let (w, exact) = weight_scale(r, flow.scale, layer.out_scale);
                    inexact += usize::from(!exact);
                    w_scales.push(w);
                    biases.push(bias);
                }
                let bias_scales: Vec<f32> = w_scales.iter().map(|w| w * flow.scale).collect();
                let bias_data = biases.iter().flat_map(|b| b.to_le_bytes()).collect();
                let bias = g.constant(
                    name("bias"),
                    &[cout],
                    Dtype::I32,
                    Quant::channels(bias_scales, 0),
                    bias_data,
                )?;
                let relu = layer.activation == Activation::Relu;
                let depthwise = cin_g == 1 && layer.groups == layer.in_channels && layer.groups > 1;
                // Ours: w[o][ci][tap].
                let (filter, code, options) = if depthwise {
                    // [1, 1, k, cout]: element (tap, o).
                    let mut data = vec![0u8; k * cout];
                    for o in 0..cout {
                        for tap in 0..k {
                            data[tap * cout + o] = layer.weights[o * k + tap];
                        }
                    }
                    let f = g.constant(
                        name("filter"),
                        &[1, 1, k, cout],
                        Dtype::I8,
                        Quant::channels(w_scales, 3),
                        data,
                    )?;
                    let multiplier = dim(cout / layer.in_channels)?;
                    (
                        f,
                        op::DEPTHWISE_CONV_2D,
                        Options::Depthwise {
                            stride: dim(s)?,
                            multiplier,
                            relu,
                        },
                    )
                } else {
                    // [cout, 1, k, cin_g]: element (o, tap, ci).
                    let mut data = vec![0u8; cout * k * cin_g];
                    for o in 0..cout {
                        for ci in 0..cin_g {
                            for tap in 0..k {
                                data[(o * k + tap) * cin_g + ci] =
                                    layer.weights[(o * cin_g + ci) * k + tap];
                            }
                        }
                    }
                    let f = g.constant(
                        name("filter"),
                        &[cout, 1, k, cin_g],
                        Dtype::I8,
                        Quant::channels(w_scales, 0),
                        data,
                    )?;
                    (
                        f,
                        op::CONV_2D,
                        Options::Conv {
                            stride: dim(s)?,
                            relu,
                        },
                    )
                };
                let out = g.tensor(
                    name("conv"),
                    &[1, 1, lout, cout],
                    Dtype::I8,
                    Quant::tensor(layer.out_scale, layer.out_zero_point),
                )?;
                g.op(code, &[flow.tensor, filter, bias], &[out], options);
                flow = Flow {
                    tensor: out,
                    scale: layer.out_scale,
                    zp: layer.out_zero_point,
                    series: true,
                    channels: cout,
                    len: lout,
                };
            }
            LayerKind::MaxPool1d => {
                let out = g.like(
                    name("maxpool"),
                    &[1, 1, layer.out_len, flow.channels],
                    &flow,
                )?;
                g.op(
                    op::MAX_POOL_2D,
                    &[flow.tensor],
                    &[out],
                    Options::Pool {
                        filter: dim(layer.kernel)?,
                        stride: dim(layer.stride)?,
                    },
                );
                flow.tensor = out;
                flow.len = layer.out_len;
            }
            LayerKind::GlobalAvgPool => {
                let out = g.like(name("avgpool"), &[1, 1, 1, flow.channels], &flow)?;
                g.op(
                    op::AVERAGE_POOL_2D,
                    &[flow.tensor],
                    &[out],
                    Options::Pool {
                        filter: dim(flow.len)?,
                        stride: 1,
                    },
                );
                flow.tensor = out;
                flow.tensor = g.reshape(name("vector"), &flow, &[1, flow.channels])?;
                flow.series = false;
                flow.len = 1;
            }
            LayerKind::Flatten => {
                // Ours is channel-major: index c · len + t.
                let (ch, len) = (flow.channels, flow.len);
                flow.tensor = g.transpose(
                    name("channel_major"),
                    &flow,
                    &[0, 1, 3, 2],
                    &[1, 1, ch, len],
                )?;
                flow.tensor = g.reshape(name("vector"), &flow, &[1, ch * len])?;
                flow.series = false;
                flow.channels = ch * len;
                flow.len = 1;
            }
            LayerKind::ConcatFeatures => {
                let Some(rr) = rr else {
                    return Err(Error::malformed("features appended by a model without any"));
                };
                let nf = info.n_features;
                let (os, ozp) = (layer.out_scale, layer.out_zero_point);
                let mut mean = Vec::with_capacity(nf);
                let mut scale = Vec::with_capacity(nf);
                for j in 0..nf {
                    let (m, s) = model
                        .feature_norm(j)
                        .ok_or_else(|| Error::malformed("feature normalisation cut short"))?;
                    mean.push(m);
                    scale.push(s);
                }
                let floats = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect();
                let mt = g.constant(name("rr_mean"), &[nf], Dtype::F32, None, floats(&mean))?;
                let st = g.constant(name("rr_scale"), &[nf], Dtype::F32, None, floats(&scale))?;
                let centred = g.tensor(name("rr_centred"), &[1, nf], Dtype::F32, None)?;
                g.op(op::SUB, &[rr, mt], &[centred], Options::None);
                let norm = g.tensor(name("rr_normalised"), &[1, nf], Dtype::F32, None)?;
                g.op(op::MUL, &[centred, st], &[norm], Options::None);
                let (fs, fzp) = model.feature_quant();
                let fq = g.tensor(
                    name("rr_quantised"),
                    &[1, nf],
                    Dtype::I8,
                    Quant::tensor(fs, fzp),
                )?;
                g.op(op::QUANTIZE, &[norm], &[fq], Options::None);
                let feat = Flow {
                    tensor: fq,
                    scale: fs,
                    zp: fzp,
                    series: false,
                    channels: nf,
                    len: 1,
                };
                let [r_vec, r_feat] = layer.concat_requant;
                for (r, f) in [(r_vec, &flow), (r_feat, &feat)] {
                    let ours = Requant::from_real(f.scale as f64 / os as f64);
                    inexact += usize::from(ours != Some(r));
                }
                let a = g.requantise(name("vector_requantised"), &flow, os, ozp)?;
                let b = g.requantise(name("rr_requantised"), &feat, os, ozp)?;
                let n = flow.channels + nf;
                let joined = g.tensor(
                    name("concat"),
                    &[1, 1, 1, n],
                    Dtype::I8,
                    Quant::tensor(os, ozp),
                )?;
                g.op(
                    op::CONCATENATION,
                    &[a, b],
                    &[joined],
                    Options::Concat { axis: 3 },
                );
                flow = Flow {
                    tensor: joined,
                    scale: os,
                    zp: ozp,
                    series: false,
                    channels: n,
                    len: 1,
                };
                flow.tensor = g.reshape(name("vector"), &flow, &[1, n])?;
            }
            LayerKind::Dense => {
                let (nin, nout) = (layer.in_channels, layer.out_channels);
                let mut w_scales = Vec::with_capacity(nout);
                let mut biases = Vec::with_capacity(nout);
                for o in 0..nout {
                    let (bias, r) = layer
                        .channel(o)
                        .ok_or_else(|| Error::malformed("layer parameters cut short"))?;
                    let (w, exact) = weight_scale(r, flow.scale, layer.out_scale);
                    inexact += usize::from(!exact);
                    w_scales.push(w);
                    biases.push(bias);
                }
                let bias_scales: Vec<f32> = w_scales.iter().map(|w| w * flow.scale).collect();
                let bias = g.constant(
                    name("bias"),
                    &[nout],
                    Dtype::I32,
                    Quant::channels(bias_scales, 0),
                    biases.iter().flat_map(|b| b.to_le_bytes()).collect(),
                )?;
                let w = g.constant(
                    name("weights"),
                    &[nout, nin],
                    Dtype::I8,
                    Quant::channels(w_scales, 0),
                    layer.weights.to_vec(),
                )?;
                let out = g.tensor(
                    name("dense"),
                    &[1, nout],
                    Dtype::I8,
                    Quant::tensor(layer.out_scale, layer.out_zero_point),
                )?;
                g.op(
                    op::FULLY_CONNECTED,
                    &[flow.tensor, w, bias],
                    &[out],
                    Options::FullyConnected {
                        relu: layer.activation == Activation::Relu,
                    },
                );
                flow = Flow {
                    tensor: out,
                    scale: layer.out_scale,
                    zp: layer.out_zero_point,
                    series: false,
                    channels: nout,
                    len: 1,
                };
            }
        }
    }
    if flow.series {
        return Err(Error::malformed("the network does not end in a vector"));
    }
    g.tensors[flow.tensor as usize].name = "logits".into();
    let operators = g.operators.len();
    let bytes = serialise(&g, &inputs, &[flow.tensor]);
    Ok(Export {
        bytes,
        inexact,
        operators,
    })
}

/// vtable slot of field `id`.
const fn slot(id: u16) -> u16 {
    4 + 2 * id
}

fn serialise(g: &Graph, inputs: &[i32], outputs: &[i32]) -> Vec<u8> {
    let mut b = FlatBufferBuilder::with_capacity(64 * 1024);
    // Operator codes: one per distinct builtin, in first-use order.
    let mut codes: Vec<i32> = Vec::new();
    for o in &g.operators {
        if !codes.contains(&o.code) {
            codes.push(o.code);
        }
    }
    let code_tables: Vec<_> = codes
        .iter()
        .map(|&c| {
            let t = b.start_table();
            b.push_slot_always::<i8>(slot(0), c.min(127) as i8);
            b.push_slot_always::<i32>(slot(2), 1);
            b.push_slot_always::<i32>(slot(3), c);
            b.end_table(t)
        })
        .collect();
    let code_vec = b.create_vector(&code_tables);

    let buffer_tables: Vec<_> = g
        .buffers
        .iter()
        .map(|data| {
            let d = (!data.is_empty()).then(|| b.create_vector(data));
            let t = b.start_table();
            if let Some(d) = d {
                b.push_slot_always(slot(0), d);
            }
            b.end_table(t)
        })
        .collect();
    let buffer_vec = b.create_vector(&buffer_tables);

    let tensor_tables: Vec<_> = g
        .tensors
        .iter()
        .map(|t| {
            let shape = b.create_vector(&t.shape);
            let name = b.create_string(&t.name);
            let quant = t.quant.as_ref().map(|q| {
                let scale = b.create_vector(&q.scale);
                let zp = b.create_vector(&q.zero_point);
                let qt = b.start_table();
                b.push_slot_always(slot(2), scale);
                b.push_slot_always(slot(3), zp);
                b.push_slot_always::<i32>(slot(6), q.dim);
                b.end_table(qt)
            });
            let tt = b.start_table();
            b.push_slot_always(slot(0), shape);
            b.push_slot_always::<i8>(slot(1), t.dtype as i8);
            b.push_slot_always::<u32>(slot(2), t.buffer);
            b.push_slot_always(slot(3), name);
            if let Some(q) = quant {
                b.push_slot_always(slot(4), q);
            }
            b.end_table(tt)
        })
        .collect();
    let tensor_vec = b.create_vector(&tensor_tables);

    let op_tables: Vec<_> = g
        .operators
        .iter()
        .map(|o| {
            let ins = b.create_vector(&o.inputs);
            let outs = b.create_vector(&o.outputs);
            let act = |relu: bool| i8::from(relu);
            let options: Option<(u8, WIPOffset<_>)> = match &o.options {
                Options::None => None,
                Options::Conv { stride, relu } => {
                    let t = b.start_table();
                    b.push_slot_always::<i8>(slot(0), VALID);
                    b.push_slot_always::<i32>(slot(1), *stride);
                    b.push_slot_always::<i32>(slot(2), 1);
                    b.push_slot_always::<i8>(slot(3), act(*relu));
                    b.push_slot_always::<i32>(slot(4), 1);
                    b.push_slot_always::<i32>(slot(5), 1);
                    Some((1, b.end_table(t)))
                }
                Options::Depthwise {
                    stride,
                    multiplier,
                    relu,
                } => {
                    let t = b.start_table();
                    b.push_slot_always::<i8>(slot(0), VALID);
                    b.push_slot_always::<i32>(slot(1), *stride);
                    b.push_slot_always::<i32>(slot(2), 1);
                    b.push_slot_always::<i32>(slot(3), *multiplier);
                    b.push_slot_always::<i8>(slot(4), act(*relu));
                    b.push_slot_always::<i32>(slot(5), 1);
                    b.push_slot_always::<i32>(slot(6), 1);
                    Some((2, b.end_table(t)))
                }
                Options::Pool { filter, stride } => {
                    let t = b.start_table();
                    b.push_slot_always::<i8>(slot(0), VALID);
                    b.push_slot_always::<i32>(slot(1), *stride);
                    b.push_slot_always::<i32>(slot(2), 1);
                    b.push_slot_always::<i32>(slot(3), *filter);
                    b.push_slot_always::<i32>(slot(4), 1);
                    b.push_slot_always::<i8>(slot(5), 0);
                    Some((5, b.end_table(t)))
                }
                Options::FullyConnected { relu } => {
                    let t = b.start_table();
                    b.push_slot_always::<i8>(slot(0), act(*relu));
                    b.push_slot_always::<bool>(slot(2), false);
                    Some((8, b.end_table(t)))
                }
                Options::Concat { axis } => {
                    let t = b.start_table();
                    b.push_slot_always::<i32>(slot(0), *axis);
                    b.push_slot_always::<i8>(slot(1), 0);
                    Some((10, b.end_table(t)))
                }
                Options::Reshape { shape } => {
                    let s = b.create_vector(shape);
                    let t = b.start_table();
                    b.push_slot_always(slot(0), s);
                    Some((17, b.end_table(t)))
                }
            };
            let index = codes.iter().position(|&c| c == o.code).unwrap_or(0) as u32;
            let t = b.start_table();
            b.push_slot_always::<u32>(slot(0), index);
            b.push_slot_always(slot(1), ins);
            b.push_slot_always(slot(2), outs);
            if let Some((kind, table)) = options {
                b.push_slot_always::<u8>(slot(3), kind);
                b.push_slot_always(slot(4), table);
            }
            b.end_table(t)
        })
        .collect();
    let op_vec = b.create_vector(&op_tables);

    let in_vec = b.create_vector(inputs);
    let out_vec = b.create_vector(outputs);
    let sg_name = b.create_string("main");
    let sg = b.start_table();
    b.push_slot_always(slot(0), tensor_vec);
    b.push_slot_always(slot(1), in_vec);
    b.push_slot_always(slot(2), out_vec);
    b.push_slot_always(slot(3), op_vec);
    b.push_slot_always(slot(4), sg_name);
    let sg = b.end_table(sg);
    let sg_vec = b.create_vector(&[sg]);
    let description = b.create_string("Sinus int8 beat classifier (sinus export-model)");
    let m = b.start_table();
    b.push_slot_always::<u32>(slot(0), 3);
    b.push_slot_always(slot(1), code_vec);
    b.push_slot_always(slot(2), sg_vec);
    b.push_slot_always(slot(3), description);
    b.push_slot_always(slot(4), buffer_vec);
    let m = b.end_table(m);
    b.finish(m, Some("TFL3"));
    b.finished_data().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_scales_give_back_the_multipliers() {
        let model =
            super::super::parse_int8(include_bytes!("../../models/beatnet.int8.snnm").to_vec())
                .unwrap();
        let e = export(&model).unwrap();
        assert_eq!(e.inexact, 0);
        assert_eq!(&e.bytes[4..8], b"TFL3");
        assert!(e.operators > 10);
    }

    #[test]
    fn weight_scale_search() {
        // A multiplier made (as `sinus_ml::quant` makes them) from a float32 weight scale.
        let r = Requant::from_real(0.5 * 0.001234f32 as f64 / 0.25).unwrap();
        let (w, exact) = weight_scale(r, 0.5, 0.25);
        assert!(exact);
        assert_eq!(Requant::from_real(0.5 * w as f64 / 0.25), Some(r));
    }
}
