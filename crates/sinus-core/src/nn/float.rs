//! `f32` inference.

use super::format::{f32_at, parse, LayerDesc, LayerKind, ModelInfo, Parsed, MAX_LAYERS};
use super::{Activation, NnError};

/// A float32 model whose parameters were decoded into storage `P` (`Vec<f32>`, a
/// `[f32; N]`, or `&mut [f32]`).
///
/// ```
/// # fn demo(bytes: &[u8]) -> Result<(), sinus_core::nn::NnError> {
/// use sinus_core::nn::FloatModel;
/// let n = FloatModel::<&mut [f32]>::storage_len(bytes)?;
/// let mut storage = [0.0f32; 4096];
/// let model = FloatModel::parse(bytes, &mut storage[..n])?;
/// let mut scratch = [0.0f32; 4096];
/// let mut logits = [0.0f32; 5];
/// let waveform = [0.0f32; 128];
/// let features = [0.8f32; 8];
/// model.logits(&waveform, &features, &mut scratch[..model.scratch_len()], &mut logits)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FloatModel<P> {
    parsed: Parsed,
    /// Offsets (in values) of each linear layer's weights and biases in `params`.
    offsets: [(usize, usize); MAX_LAYERS],
    /// Offset of the feature means; the scales follow them.
    features_at: usize,
    params: P,
}

impl<P: AsRef<[f32]>> FloatModel<P> {
    /// Values of storage [`FloatModel::parse`] needs for the model in `bytes`.
    pub fn storage_len(bytes: &[u8]) -> Result<usize, NnError> {
        let p = parse(bytes)?;
        if p.info.kind != 0 {
            return Err(NnError::Unsupported("not a float32 model"));
        }
        Ok(p.info.parameters + 2 * p.info.n_features)
    }

    /// Check the model in `bytes` and decode its parameters into `storage`, which must hold
    /// at least [`FloatModel::storage_len`] values.
    pub fn parse(bytes: &[u8], mut storage: P) -> Result<Self, NnError>
    where
        P: AsMut<[f32]>,
    {
        let parsed = parse(bytes)?;
        if parsed.info.kind != 0 {
            return Err(NnError::Unsupported("not a float32 model"));
        }
        let need = parsed.info.parameters + 2 * parsed.info.n_features;
        let params = storage.as_mut();
        if params.len() < need {
            return Err(NnError::BufferTooSmall(need));
        }
        let mut at = 0;
        let mut copy = |from: usize, n: usize, params: &mut [f32]| {
            for (i, v) in params[at..at + n].iter_mut().enumerate() {
                *v = f32_at(bytes, from + 4 * i);
            }
            at += n;
            at - n
        };
        let nf = parsed.info.n_features;
        let features_at = copy(parsed.feature_mean_at, nf, params);
        copy(parsed.feature_scale_at, nf, params);
        let mut offsets = [(0, 0); MAX_LAYERS];
        for (d, off) in parsed.layers[..parsed.n_layers]
            .iter()
            .zip(offsets.iter_mut())
        {
            if matches!(d.kind, LayerKind::Conv1d | LayerKind::Dense) {
                let w = copy(d.weights_at, d.n_weights, params);
                let b = copy(d.bias_at, d.out_channels, params);
                *off = (w, b);
            }
        }
        Ok(FloatModel {
            parsed,
            offsets,
            features_at,
            params: storage,
        })
    }

    /// Inputs, outputs and size of the model.
    pub fn info(&self) -> &ModelInfo {
        &self.parsed.info
    }

    /// Values of scratch space [`FloatModel::logits`] needs.
    pub fn scratch_len(&self) -> usize {
        2 * self.parsed.info.max_activation + self.parsed.info.n_features
    }

    /// Run the network on one input: `waveform` is `[channels][len]` channel-major, `features`
    /// raw (the model normalises them); the class scores (before softmax) go to `logits`.
    pub fn logits(
        &self,
        waveform: &[f32],
        features: &[f32],
        scratch: &mut [f32],
        logits: &mut [f32],
    ) -> Result<(), NnError> {
        let info = &self.parsed.info;
        if waveform.len() != info.input_channels * info.input_len {
            return Err(NnError::Input(
                "waveform length differs from the model's input",
            ));
        }
        if features.len() != info.n_features {
            return Err(NnError::Input("feature count differs from the model's"));
        }
        if logits.len() != info.n_classes {
            return Err(NnError::Input("logits length differs from the class count"));
        }
        if scratch.len() < self.scratch_len() {
            return Err(NnError::BufferTooSmall(self.scratch_len()));
        }
        let params = self.params.as_ref();
        let m = info.max_activation;
        let (a, rest) = scratch.split_at_mut(m);
        let (b, feats) = rest.split_at_mut(m);
        let nf = info.n_features;
        let mean = &params[self.features_at..self.features_at + nf];
        let scale = &params[self.features_at + nf..self.features_at + 2 * nf];
        for (i, f) in feats[..nf].iter_mut().enumerate() {
            *f = (features[i] - mean[i]) * scale[i];
        }
        a[..waveform.len()].copy_from_slice(waveform);
        let (mut src, mut dst) = (a, b);
        for (d, &(w, bias)) in self.parsed.layers[..self.parsed.n_layers]
            .iter()
            .zip(&self.offsets)
        {
            let x = &src[..d.in_size];
            let y = &mut dst[..d.out_size];
            match d.kind {
                LayerKind::Conv1d => conv1d(d, &params[w..w + d.n_weights], &params[bias..], x, y),
                LayerKind::Dense => dense(d, &params[w..w + d.n_weights], &params[bias..], x, y),
                LayerKind::MaxPool1d => max_pool(d, x, y),
                LayerKind::GlobalAvgPool => {
                    for (c, v) in y.iter_mut().enumerate() {
                        let s = &x[c * d.in_len..(c + 1) * d.in_len];
                        *v = s.iter().sum::<f32>() / d.in_len as f32;
                    }
                }
                LayerKind::Flatten => y.copy_from_slice(x),
                LayerKind::ConcatFeatures => {
                    let n = d.in_size;
                    y[..n].copy_from_slice(x);
                    y[n..].copy_from_slice(&feats[..nf]);
                }
            }
            core::mem::swap(&mut src, &mut dst);
        }
        logits.copy_from_slice(&src[..info.n_classes]);
        Ok(())
    }
}

/// Grouped 1-D convolution: for each output channel, the bias then, per input channel and
/// kernel tap, one scaled copy of the input added over the valid output range — a loop over
/// contiguous memory at stride 1, which the compiler vectorises.
fn conv1d(d: &LayerDesc, w: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    let (lin, lout, k, s, pad) = (d.in_len, d.out_len, d.kernel, d.stride, d.pad_left);
    let cin_g = d.in_channels / d.groups;
    let cout_g = d.out_channels / d.groups;
    for o in 0..d.out_channels {
        let g = o / cout_g;
        let yo = &mut y[o * lout..(o + 1) * lout];
        yo.fill(bias[o]);
        for ci in 0..cin_g {
            let c = g * cin_g + ci;
            let xc = &x[c * lin..(c + 1) * lin];
            let wk = &w[(o * cin_g + ci) * k..(o * cin_g + ci + 1) * k];
            for (tap, &wv) in wk.iter().enumerate() {
                // Outputs t with 0 <= t·s + tap − pad < lin.
                let t_lo = (pad.saturating_sub(tap)).div_ceil(s);
                let t_hi = if lin + pad > tap {
                    ((lin + pad - tap - 1) / s + 1).min(lout)
                } else {
                    0
                };
                if t_lo >= t_hi {
                    continue;
                }
                let start = t_lo * s + tap - pad;
                let out = &mut yo[t_lo..t_hi];
                if s == 1 {
                    let n = out.len();
                    for (v, &xv) in out.iter_mut().zip(&xc[start..start + n]) {
                        *v += wv * xv;
                    }
                } else {
                    for (v, &xv) in out.iter_mut().zip(xc[start..].iter().step_by(s)) {
                        *v += wv * xv;
                    }
                }
            }
        }
        if d.activation == Activation::Relu {
            for v in yo.iter_mut() {
                *v = v.max(0.0);
            }
        }
    }
}

fn dense(d: &LayerDesc, w: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    let n = d.in_channels;
    for (o, v) in y.iter_mut().enumerate() {
        let row = &w[o * n..(o + 1) * n];
        // Four partial sums let the compiler keep several lanes busy.
        let mut acc = [0.0f32; 4];
        let chunks = n / 4 * 4;
        for (r, xv) in row[..chunks]
            .chunks_exact(4)
            .zip(x[..chunks].chunks_exact(4))
        {
            for j in 0..4 {
                acc[j] += r[j] * xv[j];
            }
        }
        let mut sum = bias[o] + (acc[0] + acc[1]) + (acc[2] + acc[3]);
        for j in chunks..n {
            sum += row[j] * x[j];
        }
        *v = match d.activation {
            Activation::Relu => sum.max(0.0),
            Activation::None => sum,
        };
    }
}

fn max_pool(d: &LayerDesc, x: &[f32], y: &mut [f32]) {
    for c in 0..d.out_channels {
        for t in 0..d.out_len {
            let at = c * d.in_len + t * d.stride;
            y[c * d.out_len + t] = x[at..at + d.kernel]
                .iter()
                .copied()
                .fold(f32::NEG_INFINITY, f32::max);
        }
    }
}
