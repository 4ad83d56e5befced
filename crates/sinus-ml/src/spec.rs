//! A trained network as data: the layer list and weights that `sinus-core`'s kernels run,
//! and its byte format (`.snnm`, "Sinus neural-network model").
//!
//! The training framework (burn) is used for training only. A trained model is exported to a
//! [`ModelSpec`] (batch normalisation folded into the convolutions), saved with
//! [`ModelSpec::to_bytes`], and from then on runs through `sinus_core::nn`'s kernels, on a PC
//! and on the device alike. [`ModelSpec::forward`] is a plain reference implementation, used to
//! check the kernels and by the explanations (which need the intermediate activations).
//!
//! # Byte format, version 1 (all numbers little-endian)
//!
//! ```text
//! "SNNM"  u16 version = 1  u8 kind (0 = float32)  u8 reserved = 0
//! u16 input_channels  u16 input_len  u16 n_features  u16 n_classes
//! n_classes × u8         class labels (ASCII, e.g. b"NSVFQ")
//! n_features × f32       feature mean      } features enter the network as
//! n_features × f32       feature scale     } (f − mean) × scale
//! u32 metadata_len, metadata_len × u8       UTF-8 JSON (preprocessing, provenance)
//! u16 n_layers, then each layer: u8 tag + fields
//!   1 Conv1d   u16 in, out, kernel, stride, pad_left, pad_right, groups; u8 act;
//!              out·(in/groups)·kernel × f32 weight ([out][in/groups][k]); out × f32 bias
//!   2 MaxPool1d u16 kernel, stride           (no padding; out = (len − k)/stride + 1)
//!   3 GlobalAvgPool                          [C][L] → vector [C]
//!   4 Flatten                                [C][L] → vector [C·L], channel-major
//!   5 ConcatFeatures                         vector ++ normalised features
//!   6 Dense    u16 in, out; u8 act; out·in × f32 weight ([out][in]); out × f32 bias
//! u32 CRC-32 (IEEE) of every byte before it
//! ```
//! `act` is 0 = none, 1 = ReLU. A convolution's output length is
//! `(len + pad_left + pad_right − kernel) / stride + 1`. The network's output is the logits
//! (softmax is applied by the caller). A model with `input_channels = 0` or `input_len = 0`
//! has no waveform and starts from the features (an RR-interval classifier).

use crate::{Error, Result};

/// Format version written by [`ModelSpec::to_bytes`].
pub const FORMAT_VERSION: u16 = 1;
/// Leading bytes of a model file.
pub const MAGIC: &[u8; 4] = b"SNNM";
/// Largest number of parameters a file may declare (a bound against hostile files).
pub const MAX_PARAMETERS: usize = 1 << 24;

/// What follows a linear layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// Identity.
    None,
    /// max(0, x).
    Relu,
}

/// One layer of a sequential network.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerSpec {
    /// 1-D convolution (cross-correlation, as in PyTorch and burn) with zero padding.
    Conv1d {
        /// Input channels.
        in_channels: usize,
        /// Output channels.
        out_channels: usize,
        /// Kernel width in samples.
        kernel: usize,
        /// Step between outputs.
        stride: usize,
        /// Zeros added before the input.
        pad_left: usize,
        /// Zeros added after the input.
        pad_right: usize,
        /// Channel groups (`in_channels` for a depthwise convolution).
        groups: usize,
        /// Activation applied to the output.
        activation: Activation,
        /// `[out][in / groups][kernel]`.
        weight: Vec<f32>,
        /// `[out]`.
        bias: Vec<f32>,
    },
    /// Max pooling over time, no padding.
    MaxPool1d {
        /// Window width.
        kernel: usize,
        /// Step between windows.
        stride: usize,
    },
    /// Mean over time of each channel: `[C][L]` → `[C]`.
    GlobalAvgPool,
    /// `[C][L]` → `[C·L]`, channel-major.
    Flatten,
    /// Appends the normalised features to the vector.
    ConcatFeatures,
    /// Fully connected layer.
    Dense {
        /// Inputs.
        inputs: usize,
        /// Outputs.
        outputs: usize,
        /// Activation applied to the output.
        activation: Activation,
        /// `[out][in]`.
        weight: Vec<f32>,
        /// `[out]`.
        bias: Vec<f32>,
    },
}

/// A trained sequential network with its input description.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// Waveform channels (leads); 0 if the model has no waveform input.
    pub input_channels: usize,
    /// Waveform points per channel; 0 if the model has no waveform input.
    pub input_len: usize,
    /// Class labels of the outputs, e.g. `['N', 'S', 'V', 'F', 'Q']`.
    pub classes: Vec<char>,
    /// Mean subtracted from each feature.
    pub feature_mean: Vec<f32>,
    /// Factor applied to each centred feature.
    pub feature_scale: Vec<f32>,
    /// Free-form JSON: preprocessing (window, leads, baseline), training provenance.
    pub metadata: String,
    /// The layers, in order.
    pub layers: Vec<LayerSpec>,
}

/// The shape of the activations between layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `[channels][len]`.
    Series {
        /// Channels.
        channels: usize,
        /// Points per channel.
        len: usize,
    },
    /// A flat vector.
    Vector(usize),
}

impl Shape {
    /// Number of values.
    pub fn size(self) -> usize {
        match self {
            Shape::Series { channels, len } => channels * len,
            Shape::Vector(n) => n,
        }
    }
}

impl ModelSpec {
    /// Number of features the model expects.
    pub fn n_features(&self) -> usize {
        self.feature_mean.len()
    }

    /// Number of trainable parameters (weights and biases).
    pub fn parameters(&self) -> usize {
        self.layers
            .iter()
            .map(|l| match l {
                LayerSpec::Conv1d { weight, bias, .. } | LayerSpec::Dense { weight, bias, .. } => {
                    weight.len() + bias.len()
                }
                _ => 0,
            })
            .sum()
    }

    /// Shapes after the input and after each layer (`layers.len() + 1` entries), checking
    /// that every layer fits the one before.
    pub fn shapes(&self) -> Result<Vec<Shape>> {
        let mut shape = if self.input_channels == 0 || self.input_len == 0 {
            Shape::Vector(0)
        } else {
            Shape::Series {
                channels: self.input_channels,
                len: self.input_len,
            }
        };
        let mut out = vec![shape];
        for (i, layer) in self.layers.iter().enumerate() {
            let bad = |what: String| Error::invalid(format!("model layer {i}: {what}"));
            shape = match (layer, shape) {
                (
                    LayerSpec::Conv1d {
                        in_channels,
                        out_channels,
                        kernel,
                        stride,
                        pad_left,
                        pad_right,
                        groups,
                        weight,
                        bias,
                        ..
                    },
                    Shape::Series { channels, len },
                ) => {
                    if *in_channels != channels {
                        return Err(bad(format!(
                            "expects {in_channels} channels, gets {channels}"
                        )));
                    }
                    if *groups == 0
                        || in_channels % groups != 0
                        || out_channels % groups != 0
                        || *kernel == 0
                        || *stride == 0
                    {
                        return Err(bad("zero or inconsistent kernel/stride/groups".into()));
                    }
                    if weight.len() != out_channels * (in_channels / groups) * kernel
                        || bias.len() != *out_channels
                    {
                        return Err(bad("weight or bias size does not match".into()));
                    }
                    let padded = len + pad_left + pad_right;
                    if padded < *kernel {
                        return Err(bad(format!("kernel {kernel} longer than input {padded}")));
                    }
                    Shape::Series {
                        channels: *out_channels,
                        len: (padded - kernel) / stride + 1,
                    }
                }
                (LayerSpec::MaxPool1d { kernel, stride }, Shape::Series { channels, len }) => {
                    if *kernel == 0 || *stride == 0 || len < *kernel {
                        return Err(bad("pooling window empty or longer than input".into()));
                    }
                    Shape::Series {
                        channels,
                        len: (len - kernel) / stride + 1,
                    }
                }
                (LayerSpec::GlobalAvgPool, Shape::Series { channels, .. }) => {
                    Shape::Vector(channels)
                }
                (LayerSpec::Flatten, Shape::Series { channels, len }) => {
                    Shape::Vector(channels * len)
                }
                (LayerSpec::ConcatFeatures, Shape::Vector(n)) => {
                    Shape::Vector(n + self.n_features())
                }
                (
                    LayerSpec::Dense {
                        inputs,
                        outputs,
                        weight,
                        bias,
                        ..
                    },
                    Shape::Vector(n),
                ) => {
                    if *inputs != n {
                        return Err(bad(format!("expects {inputs} inputs, gets {n}")));
                    }
                    if weight.len() != inputs * outputs || bias.len() != *outputs {
                        return Err(bad("weight or bias size does not match".into()));
                    }
                    Shape::Vector(*outputs)
                }
                (l, s) => return Err(bad(format!("{} cannot follow shape {s:?}", layer_name(l)))),
            };
            out.push(shape);
        }
        match shape {
            Shape::Vector(n) if n == self.classes.len() && n > 0 => Ok(out),
            s => Err(Error::invalid(format!(
                "model ends with shape {s:?}, not one logit per class ({})",
                self.classes.len()
            ))),
        }
    }

    /// Multiply–accumulate operations for one input.
    pub fn macs(&self) -> Result<usize> {
        let shapes = self.shapes()?;
        Ok(self
            .layers
            .iter()
            .zip(shapes.iter().skip(1))
            .map(|(l, s)| match l {
                LayerSpec::Conv1d {
                    in_channels,
                    groups,
                    kernel,
                    ..
                } => s.size() * (in_channels / groups) * kernel,
                LayerSpec::Dense {
                    inputs, outputs, ..
                } => inputs * outputs,
                _ => 0,
            })
            .sum())
    }

    /// Run the network on one input (`waveform`: `[channels][len]`, channel-major; `features`:
    /// raw, un-normalised) and return the activations after every layer; the last entry is
    /// the logits. A plain reference implementation (the fast kernels are in `sinus_core::nn`).
    pub fn forward_trace(&self, waveform: &[f32], features: &[f32]) -> Result<Vec<Vec<f32>>> {
        let shapes = self.shapes()?;
        if waveform.len() != shapes[0].size() {
            return Err(Error::invalid(format!(
                "waveform has {} values, the model expects {}",
                waveform.len(),
                shapes[0].size()
            )));
        }
        if features.len() != self.n_features() {
            return Err(Error::invalid(format!(
                "{} features given, the model expects {}",
                features.len(),
                self.n_features()
            )));
        }
        let feats: Vec<f32> = features
            .iter()
            .zip(self.feature_mean.iter().zip(&self.feature_scale))
            .map(|(f, (m, s))| (f - m) * s)
            .collect();
        let mut x = waveform.to_vec();
        let mut trace = Vec::with_capacity(self.layers.len());
        for (layer, (sin, sout)) in self
            .layers
            .iter()
            .zip(shapes.iter().zip(shapes.iter().skip(1)))
        {
            x = match layer {
                LayerSpec::Conv1d {
                    in_channels,
                    out_channels,
                    kernel,
                    stride,
                    pad_left,
                    groups,
                    activation,
                    weight,
                    bias,
                    ..
                } => {
                    let Shape::Series { len: lin, .. } = *sin else {
                        unreachable!("checked by shapes()")
                    };
                    let Shape::Series { len: lout, .. } = *sout else {
                        unreachable!("checked by shapes()")
                    };
                    let cin_g = in_channels / groups;
                    let cout_g = out_channels / groups;
                    let mut y = vec![0.0f32; out_channels * lout];
                    for o in 0..*out_channels {
                        let g = o / cout_g;
                        for t in 0..lout {
                            let mut acc = bias[o];
                            for ci in 0..cin_g {
                                let c = g * cin_g + ci;
                                for k in 0..*kernel {
                                    let pos = (t * stride + k) as isize - *pad_left as isize;
                                    if pos >= 0 && (pos as usize) < lin {
                                        acc += weight[(o * cin_g + ci) * kernel + k]
                                            * x[c * lin + pos as usize];
                                    }
                                }
                            }
                            y[o * lout + t] = activate(*activation, acc);
                        }
                    }
                    y
                }
                LayerSpec::MaxPool1d { kernel, stride } => {
                    let Shape::Series { channels, len } = *sin else {
                        unreachable!("checked by shapes()")
                    };
                    let lout = (len - kernel) / stride + 1;
                    let mut y = Vec::with_capacity(channels * lout);
                    for c in 0..channels {
                        for t in 0..lout {
                            let w = &x[c * len + t * stride..c * len + t * stride + kernel];
                            y.push(w.iter().copied().fold(f32::NEG_INFINITY, f32::max));
                        }
                    }
                    y
                }
                LayerSpec::GlobalAvgPool => {
                    let Shape::Series { channels, len } = *sin else {
                        unreachable!("checked by shapes()")
                    };
                    (0..channels)
                        .map(|c| x[c * len..(c + 1) * len].iter().sum::<f32>() / len as f32)
                        .collect()
                }
                LayerSpec::Flatten => x,
                LayerSpec::ConcatFeatures => {
                    let mut y = x;
                    y.extend_from_slice(&feats);
                    y
                }
                LayerSpec::Dense {
                    inputs,
                    outputs,
                    activation,
                    weight,
                    bias,
                } => (0..*outputs)
                    .map(|o| {
                        let row = &weight[o * inputs..(o + 1) * inputs];
                        let acc = bias[o] + row.iter().zip(&x).map(|(w, v)| w * v).sum::<f32>();
                        activate(*activation, acc)
                    })
                    .collect(),
            };
            trace.push(x.clone());
        }
        Ok(trace)
    }

    /// Logits for one input (see [`ModelSpec::forward_trace`]).
    pub fn forward(&self, waveform: &[f32], features: &[f32]) -> Result<Vec<f32>> {
        let mut trace = self.forward_trace(waveform, features)?;
        Ok(trace.pop().unwrap_or_default())
    }

    /// Serialise in the `.snnm` format described in the module documentation.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let u16_of = |v: usize, what: &str| {
            u16::try_from(v).map_err(|_| Error::invalid(format!("{what} {v} exceeds 65535")))
        };
        let mut b = self.header_bytes(0)?;
        b.extend_from_slice(&u16_of(self.layers.len(), "layers")?.to_le_bytes());
        for layer in &self.layers {
            layer.write_geometry(&mut b)?;
            if let LayerSpec::Conv1d { weight, bias, .. } | LayerSpec::Dense { weight, bias, .. } =
                layer
            {
                for x in weight.iter().chain(bias) {
                    b.extend_from_slice(&x.to_le_bytes());
                }
            }
        }
        let crc = crc32(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        Ok(b)
    }

    /// The bytes every model file starts with, up to and including the metadata: signature,
    /// version, `kind` (0 float32, 1 int8), input sizes, class labels, feature normalisation.
    /// Checks the model's shapes and the header's field ranges.
    pub(crate) fn header_bytes(&self, kind: u8) -> Result<Vec<u8>> {
        self.shapes()?;
        let u16_of = |v: usize, what: &str| {
            u16::try_from(v).map_err(|_| Error::invalid(format!("{what} {v} exceeds 65535")))
        };
        if self.feature_scale.len() != self.feature_mean.len() {
            return Err(Error::invalid("feature mean and scale differ in length"));
        }
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        b.push(kind);
        b.push(0);
        for (v, what) in [
            (self.input_channels, "input channels"),
            (self.input_len, "input length"),
            (self.n_features(), "features"),
            (self.classes.len(), "classes"),
        ] {
            b.extend_from_slice(&u16_of(v, what)?.to_le_bytes());
        }
        for c in &self.classes {
            if !c.is_ascii() {
                return Err(Error::invalid(format!("class label {c:?} is not ASCII")));
            }
            b.push(*c as u8);
        }
        for v in self.feature_mean.iter().chain(&self.feature_scale) {
            b.extend_from_slice(&v.to_le_bytes());
        }
        let meta = self.metadata.as_bytes();
        let meta_len = u32::try_from(meta.len())
            .map_err(|_| Error::invalid("model metadata longer than 4 GiB"))?;
        b.extend_from_slice(&meta_len.to_le_bytes());
        b.extend_from_slice(meta);
        Ok(b)
    }

    /// Parse the `.snnm` format; every size is checked before it is used.
    pub fn from_bytes(bytes: &[u8]) -> Result<ModelSpec> {
        if bytes.len() < 8 || &bytes[..4] != MAGIC {
            return Err(Error::malformed("not a Sinus model (no SNNM signature)"));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 4);
        let stored = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
        if crc32(body) != stored {
            return Err(Error::malformed("model CRC-32 mismatch (file damaged)"));
        }
        let mut r = Reader { b: body, pos: 4 };
        let version = r.u16()?;
        if version != FORMAT_VERSION {
            return Err(Error::unsupported(format!(
                "model format version {version}"
            )));
        }
        let kind = r.u8()?;
        if kind != 0 {
            return Err(Error::unsupported(format!(
                "model kind {kind} (only float32 = 0 is read here)"
            )));
        }
        r.u8()?;
        let input_channels = r.u16()? as usize;
        let input_len = r.u16()? as usize;
        let n_features = r.u16()? as usize;
        let n_classes = r.u16()? as usize;
        let classes = r.take(n_classes)?.iter().map(|&c| c as char).collect();
        let feature_mean = r.f32s(n_features)?;
        let feature_scale = r.f32s(n_features)?;
        let meta_len = r.u32()? as usize;
        let metadata = String::from_utf8(r.take(meta_len)?.to_vec())
            .map_err(|_| Error::malformed("model metadata is not UTF-8"))?;
        let n_layers = r.u16()? as usize;
        let mut layers = Vec::with_capacity(n_layers.min(256));
        let mut params = 0usize;
        for i in 0..n_layers {
            let tag = r.u8()?;
            let layer = match tag {
                1 => {
                    let mut v = [0usize; 7];
                    for x in &mut v {
                        *x = r.u16()? as usize;
                    }
                    let [in_channels, out_channels, kernel, stride, pad_left, pad_right, groups] =
                        v;
                    let activation = r.act()?;
                    if groups == 0 || in_channels % groups != 0 {
                        return Err(Error::malformed(format!("layer {i}: bad groups {groups}")));
                    }
                    let nw = out_channels * (in_channels / groups) * kernel;
                    params += nw + out_channels;
                    if params > MAX_PARAMETERS {
                        return Err(Error::too_large("model parameters"));
                    }
                    LayerSpec::Conv1d {
                        in_channels,
                        out_channels,
                        kernel,
                        stride,
                        pad_left,
                        pad_right,
                        groups,
                        activation,
                        weight: r.f32s(nw)?,
                        bias: r.f32s(out_channels)?,
                    }
                }
                2 => LayerSpec::MaxPool1d {
                    kernel: r.u16()? as usize,
                    stride: r.u16()? as usize,
                },
                3 => LayerSpec::GlobalAvgPool,
                4 => LayerSpec::Flatten,
                5 => LayerSpec::ConcatFeatures,
                6 => {
                    let inputs = r.u16()? as usize;
                    let outputs = r.u16()? as usize;
                    let activation = r.act()?;
                    params += inputs * outputs + outputs;
                    if params > MAX_PARAMETERS {
                        return Err(Error::too_large("model parameters"));
                    }
                    LayerSpec::Dense {
                        inputs,
                        outputs,
                        activation,
                        weight: r.f32s(inputs * outputs)?,
                        bias: r.f32s(outputs)?,
                    }
                }
                t => {
                    return Err(Error::malformed(format!(
                        "layer {i}: unknown layer tag {t}"
                    )))
                }
            };
            layers.push(layer);
        }
        if r.pos != body.len() {
            return Err(Error::malformed(format!(
                "{} unexpected bytes after the last layer",
                body.len() - r.pos
            )));
        }
        let spec = ModelSpec {
            input_channels,
            input_len,
            classes,
            feature_mean,
            feature_scale,
            metadata,
            layers,
        };
        spec.shapes()
            .map_err(|e| Error::malformed(format!("inconsistent model: {e}")))?;
        Ok(spec)
    }
}

impl LayerSpec {
    /// Append the layer's tag and geometry fields (everything but its parameters), as both the
    /// float32 and the int8 formats start each layer.
    pub(crate) fn write_geometry(&self, b: &mut Vec<u8>) -> Result<()> {
        let u16s = |b: &mut Vec<u8>, vals: &[usize]| -> Result<()> {
            for &v in vals {
                let v = u16::try_from(v)
                    .map_err(|_| Error::invalid(format!("layer size {v} exceeds 65535")))?;
                b.extend_from_slice(&v.to_le_bytes());
            }
            Ok(())
        };
        match self {
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
                b.push(1);
                u16s(
                    b,
                    &[
                        *in_channels,
                        *out_channels,
                        *kernel,
                        *stride,
                        *pad_left,
                        *pad_right,
                        *groups,
                    ],
                )?;
                b.push(act_code(*activation));
            }
            LayerSpec::MaxPool1d { kernel, stride } => {
                b.push(2);
                u16s(b, &[*kernel, *stride])?;
            }
            LayerSpec::GlobalAvgPool => b.push(3),
            LayerSpec::Flatten => b.push(4),
            LayerSpec::ConcatFeatures => b.push(5),
            LayerSpec::Dense {
                inputs,
                outputs,
                activation,
                ..
            } => {
                b.push(6);
                u16s(b, &[*inputs, *outputs])?;
                b.push(act_code(*activation));
            }
        }
        Ok(())
    }
}

fn layer_name(l: &LayerSpec) -> &'static str {
    match l {
        LayerSpec::Conv1d { .. } => "Conv1d",
        LayerSpec::MaxPool1d { .. } => "MaxPool1d",
        LayerSpec::GlobalAvgPool => "GlobalAvgPool",
        LayerSpec::Flatten => "Flatten",
        LayerSpec::ConcatFeatures => "ConcatFeatures",
        LayerSpec::Dense { .. } => "Dense",
    }
}

fn activate(a: Activation, x: f32) -> f32 {
    match a {
        Activation::None => x,
        Activation::Relu => x.max(0.0),
    }
}

fn act_code(a: Activation) -> u8 {
    match a {
        Activation::None => 0,
        Activation::Relu => 1,
    }
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| Error::truncated("model file ends inside a field"))?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn f32s(&mut self, n: usize) -> Result<Vec<f32>> {
        let bytes = self.take(
            n.checked_mul(4)
                .ok_or_else(|| Error::too_large("model tensor"))?,
        )?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
    fn act(&mut self) -> Result<Activation> {
        match self.u8()? {
            0 => Ok(Activation::None),
            1 => Ok(Activation::Relu),
            a => Err(Error::malformed(format!("unknown activation code {a}"))),
        }
    }
}

pub use sinus_core::nn::crc32;

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny two-conv network with hand-set weights.
    pub(crate) fn tiny() -> ModelSpec {
        ModelSpec {
            input_channels: 1,
            input_len: 8,
            classes: vec!['N', 'V'],
            feature_mean: vec![1.0],
            feature_scale: vec![2.0],
            metadata: "{\"name\":\"tiny\"}".into(),
            layers: vec![
                LayerSpec::Conv1d {
                    in_channels: 1,
                    out_channels: 2,
                    kernel: 3,
                    stride: 2,
                    pad_left: 1,
                    pad_right: 1,
                    groups: 1,
                    activation: Activation::Relu,
                    weight: vec![1.0, 0.0, -1.0, 0.5, 0.5, 0.5],
                    bias: vec![0.0, -0.25],
                },
                LayerSpec::MaxPool1d {
                    kernel: 2,
                    stride: 2,
                },
                LayerSpec::Flatten,
                LayerSpec::ConcatFeatures,
                LayerSpec::Dense {
                    inputs: 5,
                    outputs: 2,
                    activation: Activation::None,
                    weight: vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, -1.0],
                    bias: vec![0.1, 0.2],
                },
            ],
        }
    }

    #[test]
    fn forward_by_hand() {
        let m = tiny();
        assert_eq!(m.parameters(), 6 + 2 + 10 + 2);
        let x = [0.0, 1.0, 2.0, 3.0, 2.0, 1.0, 0.0, -1.0];
        // Conv, stride 2, pad 1: positions t=0..4 centred on x[2t].
        // ch0 = x[2t-1] - x[2t+1]: t0: 0-1=-1→0; t1: 1-3=-2→0; t2: 3-1=2; t3: 1-(-1)=2.
        // ch1 = 0.5(x[2t-1]+x[2t]+x[2t+1]) - 0.25: t0 0.5·1-0.25=0.25; t1 0.5·6-.25=2.75;
        //       t2 0.5·6-.25=2.75; t3 0.5·0-.25→0.
        // Pool 2: ch0 [0, 2], ch1 [2.75, 2.75]. Feature (3-1)·2 = 4.
        let trace = m.forward_trace(&x, &[3.0]).unwrap();
        assert_eq!(trace[0], vec![0.0, 0.0, 2.0, 2.0, 0.25, 2.75, 2.75, 0.0]);
        assert_eq!(trace[1], vec![0.0, 2.0, 2.75, 2.75]);
        assert_eq!(trace[3], vec![0.0, 2.0, 2.75, 2.75, 4.0]);
        let logits = m.forward(&x, &[3.0]).unwrap();
        assert!((logits[0] - (0.1 + 0.0 + 4.0)).abs() < 1e-6);
        assert!((logits[1] - (0.2 + 2.0 + 2.75 + 2.75 - 4.0)).abs() < 1e-6);
        assert_eq!(m.macs().unwrap(), 2 * 4 * 3 + 10);
    }

    #[test]
    fn bytes_round_trip_and_damage_is_caught() {
        let m = tiny();
        let b = m.to_bytes().unwrap();
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(ModelSpec::from_bytes(&b).unwrap(), m);
        for cut in 0..b.len() {
            assert!(ModelSpec::from_bytes(&b[..cut]).is_err(), "cut {cut}");
        }
        let mut bad = b.clone();
        bad[20] ^= 1;
        assert!(ModelSpec::from_bytes(&bad).is_err());
        let mut m2 = m.clone();
        m2.layers.remove(1);
        m2.layers.remove(1);
        assert!(m2.to_bytes().is_err(), "conv output straight into concat");
    }
}
