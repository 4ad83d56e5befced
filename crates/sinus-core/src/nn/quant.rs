//! int8 inference, run in place from the model bytes.

use super::format::{f32_at, i32_at, parse, LayerDesc, LayerKind, ModelInfo, Parsed};
use super::{Activation, NnError};

/// A fixed-point multiplier: `value · multiplier · 2^-(31 + shift)`, rounded half up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requant {
    /// Q31 mantissa, normally in [2^30, 2^31).
    pub multiplier: i32,
    /// Extra right shift (negative: left), in −30..=30.
    pub shift: i8,
}

impl Requant {
    /// The multiplier closest to `real` (> 0); `None` if it is out of range or not finite.
    pub fn from_real(real: f64) -> Option<Requant> {
        if !(real.is_finite() && real > 0.0) {
            return None;
        }
        // real = mantissa · 2^exp, mantissa in [0.5, 1).
        let mut exp = 0i32;
        let mut m = real;
        while m >= 1.0 {
            m /= 2.0;
            exp += 1;
        }
        while m < 0.5 {
            m *= 2.0;
            exp -= 1;
        }
        let mut q = libm::round(m * (1u64 << 31) as f64) as i64;
        if q == 1i64 << 31 {
            q /= 2;
            exp += 1;
        }
        let shift = -exp;
        if !(-30..=30).contains(&shift) {
            return None;
        }
        Some(Requant {
            multiplier: q as i32,
            shift: shift as i8,
        })
    }

    /// Apply to an accumulator.
    #[inline]
    pub fn apply(self, acc: i32) -> i32 {
        let total = (31 + self.shift as i32).clamp(1, 62);
        let v = (acc as i64 * self.multiplier as i64 + (1i64 << (total - 1))) >> total;
        v.clamp(i32::MIN as i64, i32::MAX as i64) as i32
    }
}

/// An int8 model run in place from its bytes (which can live in flash).
#[derive(Debug, Clone)]
pub struct QuantModel<B> {
    bytes: B,
    parsed: Parsed,
}

impl<B: AsRef<[u8]>> QuantModel<B> {
    /// Check the int8 model in `bytes` (a `&[u8]` in flash, or an owned `Vec<u8>`).
    pub fn parse(model: B) -> Result<Self, NnError> {
        let bytes = model.as_ref();
        let parsed = parse(bytes)?;
        if parsed.info.kind != 1 {
            return Err(NnError::Unsupported("not an int8 model"));
        }
        // Every stored requantisation must be usable.
        for d in &parsed.layers[..parsed.n_layers] {
            if matches!(d.kind, LayerKind::Conv1d | LayerKind::Dense) {
                for o in 0..d.out_channels {
                    let shift = bytes[d.bias_at + 9 * o + 8] as i8;
                    if !(-30..=30).contains(&shift) {
                        return Err(NnError::Malformed("requantisation shift out of range"));
                    }
                }
            }
            if d.concat_requant
                .iter()
                .any(|&(_, s)| !(-30..=30).contains(&s))
            {
                return Err(NnError::Malformed("requantisation shift out of range"));
            }
        }
        Ok(QuantModel {
            bytes: model,
            parsed,
        })
    }

    /// Inputs, outputs and size of the model.
    pub fn info(&self) -> &ModelInfo {
        &self.parsed.info
    }

    /// Bytes of scratch space [`QuantModel::logits`] needs.
    pub fn scratch_len(&self) -> usize {
        self.parsed.info.scratch_len()
    }

    /// Run the network: the float input is quantised with the model's input scale, the
    /// network runs in int8/int32, and the logits come back dequantised.
    pub fn logits(
        &self,
        waveform: &[f32],
        features: &[f32],
        scratch: &mut [i8],
        logits: &mut [f32],
    ) -> Result<(), NnError> {
        let info = &self.parsed.info;
        let p = &self.parsed;
        info.check_call(waveform.len(), features.len(), logits.len(), scratch.len())?;
        let m = info.max_activation;
        let (a, rest) = scratch.split_at_mut(m);
        let (b, feats) = rest.split_at_mut(m);
        let nf = info.n_features;
        for (i, f) in feats[..nf].iter_mut().enumerate() {
            let mean = f32_at(self.bytes.as_ref(), p.feature_mean_at + 4 * i);
            let scale = f32_at(self.bytes.as_ref(), p.feature_scale_at + 4 * i);
            *f = quantise(
                (features[i] - mean) * scale,
                p.feature_q_scale,
                p.feature_zero_point,
            );
        }
        for (q, &x) in a.iter_mut().zip(waveform) {
            *q = quantise(x, p.input_scale, p.input_zero_point);
        }
        let (mut src, mut dst) = (a, b);
        let (mut scale, mut zp) = (p.input_scale, p.input_zero_point);
        for d in &p.layers[..p.n_layers] {
            let x = &src[..d.in_size];
            let y = &mut dst[..d.out_size];
            match d.kind {
                LayerKind::Conv1d => self.conv1d(d, zp, x, y),
                LayerKind::Dense => self.dense(d, zp, x, y),
                LayerKind::MaxPool1d => {
                    for c in 0..d.out_channels {
                        for t in 0..d.out_len {
                            let at = c * d.in_len + t * d.stride;
                            y[c * d.out_len + t] =
                                x[at..at + d.kernel].iter().copied().max().unwrap_or(0);
                        }
                    }
                }
                LayerKind::GlobalAvgPool => {
                    let n = d.in_len as i32;
                    for (c, v) in y.iter_mut().enumerate() {
                        let s: i32 = x[c * d.in_len..(c + 1) * d.in_len]
                            .iter()
                            .map(|&q| q as i32)
                            .sum();
                        // Rounded division, half away from zero.
                        let r = if s >= 0 {
                            (s + n / 2) / n
                        } else {
                            (s - n / 2) / n
                        };
                        *v = r.clamp(-128, 127) as i8;
                    }
                }
                LayerKind::Flatten => y.copy_from_slice(x),
                LayerKind::ConcatFeatures => {
                    let [(m0, s0), (m1, s1)] = d.concat_requant;
                    let (r0, r1) = (
                        Requant {
                            multiplier: m0,
                            shift: s0,
                        },
                        Requant {
                            multiplier: m1,
                            shift: s1,
                        },
                    );
                    let n = d.in_size;
                    for (v, &q) in y[..n].iter_mut().zip(x) {
                        *v = saturate(r0.apply(q as i32 - zp) + d.out_zero_point);
                    }
                    for (v, &q) in y[n..].iter_mut().zip(&feats[..nf]) {
                        *v = saturate(r1.apply(q as i32 - p.feature_zero_point) + d.out_zero_point);
                    }
                }
            }
            if matches!(
                d.kind,
                LayerKind::Conv1d | LayerKind::Dense | LayerKind::ConcatFeatures
            ) {
                (scale, zp) = (d.out_scale, d.out_zero_point);
            }
            core::mem::swap(&mut src, &mut dst);
        }
        for (l, &q) in logits.iter_mut().zip(src.iter()) {
            *l = (q as i32 - zp) as f32 * scale;
        }
        Ok(())
    }

    /// Per-output-channel bias and requantisation.
    #[inline]
    fn channel(&self, d: &LayerDesc, o: usize) -> (i32, Requant) {
        let at = d.bias_at + 9 * o;
        (
            i32_at(self.bytes.as_ref(), at),
            Requant {
                multiplier: i32_at(self.bytes.as_ref(), at + 4),
                shift: self.bytes.as_ref()[at + 8] as i8,
            },
        )
    }

    fn finish(d: &LayerDesc, acc: i32, r: Requant) -> i8 {
        let v = r.apply(acc).saturating_add(d.out_zero_point);
        let lo = if d.activation == Activation::Relu {
            d.out_zero_point
        } else {
            -128
        };
        v.clamp(lo, 127) as i8
    }

    pub(super) fn conv1d(&self, d: &LayerDesc, in_zp: i32, x: &[i8], y: &mut [i8]) {
        let w = &self.bytes.as_ref()[d.weights_at..d.weights_at + d.n_weights];
        let (lin, lout, k, s, pad) = (d.in_len, d.out_len, d.kernel, d.stride, d.pad_left);
        let cin_g = d.in_channels / d.groups;
        let cout_g = d.out_channels / d.groups;
        for o in 0..d.out_channels {
            let g = o / cout_g;
            let (bias, r) = self.channel(d, o);
            for t in 0..lout {
                let mut acc = bias;
                for ci in 0..cin_g {
                    let c = g * cin_g + ci;
                    let wk = &w[(o * cin_g + ci) * k..(o * cin_g + ci + 1) * k];
                    for (tap, &wv) in wk.iter().enumerate() {
                        // Padding is a real zero, i.e. the zero point: it adds nothing.
                        let pos = t * s + tap;
                        if pos >= pad && pos - pad < lin {
                            acc = acc.wrapping_add(
                                (wv as i8 as i32) * (x[c * lin + pos - pad] as i32 - in_zp),
                            );
                        }
                    }
                }
                y[o * lout + t] = Self::finish(d, acc, r);
            }
        }
    }

    pub(super) fn dense(&self, d: &LayerDesc, in_zp: i32, x: &[i8], y: &mut [i8]) {
        let n = d.in_channels;
        let w = &self.bytes.as_ref()[d.weights_at..d.weights_at + d.n_weights];
        for (o, v) in y.iter_mut().enumerate() {
            let (bias, r) = self.channel(d, o);
            let acc = w[o * n..(o + 1) * n]
                .iter()
                .zip(x)
                .fold(bias, |acc, (&wv, &xv)| {
                    acc.wrapping_add((wv as i8 as i32) * (xv as i32 - in_zp))
                });
            *v = Self::finish(d, acc, r);
        }
    }
}

/// Quantise a real value: `round(x / scale) + zero_point`, saturated to int8 (NaN → zero point).
#[inline]
pub(crate) fn quantise(x: f32, scale: f32, zero_point: i32) -> i8 {
    let v = x / scale;
    if v.is_nan() {
        return zero_point.clamp(-128, 127) as i8;
    }
    let r = libm::roundf(v.clamp(-1.0e6, 1.0e6)) as i32 + zero_point;
    r.clamp(-128, 127) as i8
}

#[inline]
fn saturate(v: i32) -> i8 {
    v.clamp(-128, 127) as i8
}
