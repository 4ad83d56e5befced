//! Parsing the `.snnm` byte format into fixed-size layer descriptors (no allocation).
//!
//! Kind 0 (float32) is described in `sinus_ml::spec`. Kind 1 (int8) has the same header, then
//! `f32 input_scale, i16 input_zero_point, f32 feature_scale_q, i16 feature_zero_point` before
//! the layer count, and per layer:
//! - Conv1d / Dense: the float geometry fields, then `f32 out_scale, i16 out_zero_point`,
//!   the weights as i8 (same order as float), then per output channel
//!   `i32 bias, i32 multiplier, i8 shift` (bias at scale input_scale × weight_scale; the
//!   accumulator times `multiplier · 2^-(31 + shift)` is the output before its zero point);
//! - MaxPool1d / GlobalAvgPool / Flatten: as float (the scale passes through);
//! - ConcatFeatures: `f32 out_scale, i16 out_zero_point`, then two requantisations
//!   (`i32 multiplier, i8 shift`) for the vector part and for the feature part.

use super::NnError;

/// Most layers a model may have.
pub const MAX_LAYERS: usize = 32;
/// Most classes a model may have.
pub const MAX_CLASSES: usize = 16;
/// Most features a model may take.
pub const MAX_FEATURES: usize = 64;
/// Largest activation tensor accepted (values), a bound against hostile files.
const MAX_ACTIVATION: usize = 1 << 20;

/// What follows a linear layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    /// Identity.
    #[default]
    None,
    /// max(0, x).
    Relu,
}

/// Layer types of the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LayerKind {
    /// 1-D convolution with groups, stride and zero padding.
    #[default]
    Conv1d,
    /// Max pooling over time.
    MaxPool1d,
    /// Mean over time of each channel.
    GlobalAvgPool,
    /// Series to vector, channel-major.
    Flatten,
    /// Vector ++ normalised features.
    ConcatFeatures,
    /// Fully connected.
    Dense,
}

/// One layer's geometry, shapes and where its parameters sit in the model bytes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LayerDesc {
    pub kind: LayerKind,
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub stride: usize,
    pub pad_left: usize,
    pub groups: usize,
    pub activation: Activation,
    /// Input series length (1 for a vector input).
    pub in_len: usize,
    /// Output series length (1 for a vector output).
    pub out_len: usize,
    /// Values in the input / output tensors.
    pub in_size: usize,
    pub out_size: usize,
    /// Byte offset of the weights (float: f32 LE; int8: i8) and count.
    pub weights_at: usize,
    pub n_weights: usize,
    /// Byte offset of the biases (float: f32 × out) or of the per-channel int8 records.
    pub bias_at: usize,
    /// int8: output scale and zero point.
    pub out_scale: f32,
    pub out_zero_point: i32,
    /// int8 ConcatFeatures: requantisation of the vector part and of the features.
    pub concat_requant: [(i32, i8); 2],
}

/// One convolution's geometry, per group.
pub(crate) struct Geometry {
    pub lin: usize,
    pub lout: usize,
    pub k: usize,
    pub s: usize,
    pub pad: usize,
    pub cin_g: usize,
    pub cout_g: usize,
}

impl Geometry {
    pub fn of(d: &LayerDesc) -> Geometry {
        Geometry {
            lin: d.in_len,
            lout: d.out_len,
            k: d.kernel,
            s: d.stride,
            pad: d.pad_left,
            cin_g: d.in_channels / d.groups,
            cout_g: d.out_channels / d.groups,
        }
    }
}

/// The header of a model: its inputs, outputs and size.
#[derive(Debug, Clone, Copy)]
pub struct ModelInfo {
    /// 0 = float32, 1 = int8.
    pub kind: u8,
    /// Waveform channels (0 = no waveform).
    pub input_channels: usize,
    /// Waveform points per channel (0 = no waveform).
    pub input_len: usize,
    /// Features appended by `ConcatFeatures`.
    pub n_features: usize,
    /// Output classes.
    pub n_classes: usize,
    /// Class labels (ASCII), first `n_classes` used.
    pub classes: [u8; MAX_CLASSES],
    /// Parameters (weights and biases).
    pub parameters: usize,
    /// Multiply–accumulates per input.
    pub macs: usize,
    /// Largest activation tensor, in values.
    pub max_activation: usize,
    /// Byte range of the JSON metadata.
    pub metadata: (usize, usize),
}

impl ModelInfo {
    /// The class labels as a slice.
    pub fn class_labels(&self) -> &[u8] {
        &self.classes[..self.n_classes]
    }
}

/// Everything parsed from a model's bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parsed {
    pub info: ModelInfo,
    pub layers: [LayerDesc; MAX_LAYERS],
    pub n_layers: usize,
    /// Byte offsets of the feature mean and scale (f32 × n_features each).
    pub feature_mean_at: usize,
    pub feature_scale_at: usize,
    /// int8: input and feature quantisation.
    pub input_scale: f32,
    pub input_zero_point: i32,
    pub feature_q_scale: f32,
    pub feature_zero_point: i32,
}

pub(crate) struct Reader<'a> {
    pub b: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], NnError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or(NnError::Truncated)?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    pub fn u8(&mut self) -> Result<u8, NnError> {
        Ok(self.take(1)?[0])
    }
    pub fn u16(&mut self) -> Result<usize, NnError> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]) as usize)
    }
    pub fn i16(&mut self) -> Result<i32, NnError> {
        let s = self.take(2)?;
        Ok(i16::from_le_bytes([s[0], s[1]]) as i32)
    }
    pub fn u32(&mut self) -> Result<usize, NnError> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
    }
    pub fn f32(&mut self) -> Result<f32, NnError> {
        let s = self.take(4)?;
        Ok(f32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn act(&mut self) -> Result<Activation, NnError> {
        match self.u8()? {
            0 => Ok(Activation::None),
            1 => Ok(Activation::Relu),
            _ => Err(NnError::Malformed("unknown activation code")),
        }
    }
    /// Skip `n` items of `size` bytes, returning where they start.
    fn skip(&mut self, n: usize, size: usize) -> Result<usize, NnError> {
        let at = self.pos;
        self.take(n.checked_mul(size).ok_or(NnError::Truncated)?)?;
        Ok(at)
    }
}

impl ModelInfo {
    /// Values of scratch space one inference needs (two activation buffers and the features).
    pub fn scratch_len(&self) -> usize {
        2 * self.max_activation + self.n_features
    }

    /// Check the sizes of one inference's arguments.
    pub(crate) fn check_call(
        &self,
        waveform: usize,
        features: usize,
        logits: usize,
        scratch: usize,
    ) -> Result<(), NnError> {
        if waveform != self.input_channels * self.input_len {
            return Err(NnError::Input(
                "waveform length differs from the model's input",
            ));
        }
        if features != self.n_features {
            return Err(NnError::Input("feature count differs from the model's"));
        }
        if logits != self.n_classes {
            return Err(NnError::Input("logits length differs from the class count"));
        }
        if scratch < self.scratch_len() {
            return Err(NnError::BufferTooSmall(self.scratch_len()));
        }
        Ok(())
    }
}

/// Read a little-endian f32 at byte offset `at` (bounds checked by the parser).
#[inline]
pub(crate) fn f32_at(b: &[u8], at: usize) -> f32 {
    match b.get(at..at + 4) {
        Some(s) => f32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0.0,
    }
}

/// Read a little-endian i32 at byte offset `at`.
#[inline]
pub(crate) fn i32_at(b: &[u8], at: usize) -> i32 {
    match b.get(at..at + 4) {
        Some(s) => i32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

/// CRC-32 (IEEE 802.3, reflected), as zlib's `crc32`: the checksum that ends a model file.
pub fn crc32(data: &[u8]) -> u32 {
    crate::crc::crc32(data)
}

/// Parse and check a model; `bytes` includes the trailing CRC.
pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, NnError> {
    if bytes.len() < 8 || &bytes[..4] != b"SNNM" {
        return Err(NnError::Malformed("no SNNM signature"));
    }
    let (body, tail) = bytes.split_at(bytes.len() - 4);
    if crc32(body) != u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]) {
        return Err(NnError::Checksum);
    }
    let mut r = Reader { b: body, pos: 4 };
    if r.u16()? != 1 {
        return Err(NnError::Unsupported("format version"));
    }
    let kind = r.u8()?;
    if kind > 1 {
        return Err(NnError::Unsupported("model kind"));
    }
    let quant = kind == 1;
    r.u8()?;
    let input_channels = r.u16()?;
    let input_len = r.u16()?;
    let n_features = r.u16()?;
    let n_classes = r.u16()?;
    if n_features > MAX_FEATURES {
        return Err(NnError::Unsupported("more than MAX_FEATURES features"));
    }
    if n_classes == 0 || n_classes > MAX_CLASSES {
        return Err(NnError::Unsupported("class count outside 1..=MAX_CLASSES"));
    }
    let mut classes = [0u8; MAX_CLASSES];
    classes[..n_classes].copy_from_slice(r.take(n_classes)?);
    let feature_mean_at = r.skip(n_features, 4)?;
    let feature_scale_at = r.skip(n_features, 4)?;
    let meta_len = r.u32()?;
    let meta_at = r.skip(meta_len, 1)?;
    let (mut input_scale, mut input_zero_point, mut feature_q_scale, mut feature_zero_point) =
        (1.0, 0, 1.0, 0);
    if quant {
        input_scale = r.f32()?;
        input_zero_point = r.i16()?;
        feature_q_scale = r.f32()?;
        feature_zero_point = r.i16()?;
        check_quant(input_scale, input_zero_point)?;
        if n_features > 0 {
            check_quant(feature_q_scale, feature_zero_point)?;
        }
    }
    let n_layers = r.u16()?;
    if n_layers == 0 || n_layers > MAX_LAYERS {
        return Err(NnError::Unsupported("layer count outside 1..=MAX_LAYERS"));
    }
    // Current shape: (channels, len, is_series).
    let waveform = input_channels > 0 && input_len > 0;
    let (mut ch, mut len, mut series) = if waveform {
        (input_channels, input_len, true)
    } else {
        (0, 1, false)
    };
    if ch.checked_mul(len).is_none_or(|s| s > MAX_ACTIVATION) {
        return Err(NnError::Shape("input too large"));
    }
    let mut layers = [LayerDesc::default(); MAX_LAYERS];
    let (mut parameters, mut macs, mut max_activation) = (0usize, 0usize, ch * len);
    for layer in layers.iter_mut().take(n_layers) {
        let tag = r.u8()?;
        let mut d = LayerDesc {
            in_channels: ch,
            in_len: len,
            in_size: ch * len,
            ..LayerDesc::default()
        };
        match tag {
            1 => {
                let (cin, cout, k, stride, pad_l, pad_r, groups) = (
                    r.u16()?,
                    r.u16()?,
                    r.u16()?,
                    r.u16()?,
                    r.u16()?,
                    r.u16()?,
                    r.u16()?,
                );
                d.activation = r.act()?;
                if !series || cin != ch {
                    return Err(NnError::Shape("convolution input channels"));
                }
                if groups == 0 || cin % groups != 0 || cout % groups != 0 || k == 0 || stride == 0 {
                    return Err(NnError::Shape("convolution kernel, stride or groups"));
                }
                let padded = len + pad_l + pad_r;
                if padded < k {
                    return Err(NnError::Shape("kernel longer than the input"));
                }
                d.kind = LayerKind::Conv1d;
                (d.out_channels, d.kernel, d.stride, d.pad_left, d.groups) =
                    (cout, k, stride, pad_l, groups);
                d.out_len = (padded - k) / stride + 1;
                d.n_weights = cout * (cin / groups) * k;
                macs += cout * d.out_len * (cin / groups) * k;
                (ch, len) = (cout, d.out_len);
            }
            2 => {
                let (k, stride) = (r.u16()?, r.u16()?);
                if !series || k == 0 || stride == 0 || len < k {
                    return Err(NnError::Shape("pooling window"));
                }
                d.kind = LayerKind::MaxPool1d;
                (d.kernel, d.stride, d.out_channels) = (k, stride, ch);
                d.out_len = (len - k) / stride + 1;
                len = d.out_len;
            }
            3 | 4 => {
                if !series {
                    return Err(NnError::Shape("pooling or flatten of a vector"));
                }
                d.kind = if tag == 3 {
                    LayerKind::GlobalAvgPool
                } else {
                    LayerKind::Flatten
                };
                d.out_channels = if tag == 3 { ch } else { ch * len };
                (ch, len, series) = (d.out_channels, 1, false);
                d.out_len = 1;
            }
            5 => {
                if series {
                    return Err(NnError::Shape("features appended to a series"));
                }
                d.kind = LayerKind::ConcatFeatures;
                d.out_channels = ch + n_features;
                d.out_len = 1;
                ch = d.out_channels;
            }
            6 => {
                let (inputs, outputs) = (r.u16()?, r.u16()?);
                d.activation = r.act()?;
                if series || inputs != ch || outputs == 0 {
                    return Err(NnError::Shape("dense inputs"));
                }
                d.kind = LayerKind::Dense;
                (d.in_channels, d.out_channels, d.out_len) = (inputs, outputs, 1);
                d.n_weights = inputs * outputs;
                macs += inputs * outputs;
                ch = outputs;
            }
            _ => return Err(NnError::Malformed("unknown layer tag")),
        }
        d.out_size = ch.checked_mul(len).ok_or(NnError::Shape("too large"))?;
        if d.out_size > MAX_ACTIVATION {
            return Err(NnError::Shape("activation too large"));
        }
        max_activation = max_activation.max(d.out_size);
        let linear = matches!(d.kind, LayerKind::Conv1d | LayerKind::Dense);
        if quant
            && matches!(
                d.kind,
                LayerKind::Conv1d | LayerKind::Dense | LayerKind::ConcatFeatures
            )
        {
            d.out_scale = r.f32()?;
            d.out_zero_point = r.i16()?;
            check_quant(d.out_scale, d.out_zero_point)?;
        }
        if linear {
            parameters += d.n_weights + d.out_channels;
            d.weights_at = r.skip(d.n_weights, if quant { 1 } else { 4 })?;
            // int8: i32 bias, i32 multiplier, i8 shift per output channel.
            d.bias_at = r.skip(d.out_channels, if quant { 9 } else { 4 })?;
        }
        if quant && d.kind == LayerKind::ConcatFeatures {
            for q in d.concat_requant.iter_mut() {
                let m = r.take(4)?;
                let m = i32::from_le_bytes([m[0], m[1], m[2], m[3]]);
                let s = r.u8()? as i8;
                *q = (m, s);
            }
        }
        *layer = d;
    }
    if series || ch != n_classes {
        return Err(NnError::Shape(
            "the last layer must give one logit per class",
        ));
    }
    if r.pos != body.len() {
        return Err(NnError::Malformed("unexpected bytes after the last layer"));
    }
    Ok(Parsed {
        info: ModelInfo {
            kind,
            input_channels: if waveform { input_channels } else { 0 },
            input_len: if waveform { input_len } else { 0 },
            n_features,
            n_classes,
            classes,
            parameters,
            macs,
            max_activation,
            metadata: (meta_at, meta_at + meta_len),
        },
        layers,
        n_layers,
        feature_mean_at,
        feature_scale_at,
        input_scale,
        input_zero_point,
        feature_q_scale,
        feature_zero_point,
    })
}

fn check_quant(scale: f32, zero_point: i32) -> Result<(), NnError> {
    if !(scale.is_finite() && scale > 0.0 && (-128..=127).contains(&zero_point)) {
        return Err(NnError::Malformed(
            "quantisation scale or zero point out of range",
        ));
    }
    Ok(())
}
