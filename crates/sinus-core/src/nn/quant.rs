//! int8 inference, run in place from the model bytes.

use super::format::{f32_at, i32_at, parse, Geometry, LayerDesc, LayerKind, ModelInfo, Parsed};
use super::{phase_split, Activation, NnError};

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

/// One layer of an int8 model and its parameters, as [`QuantModel::layers`] lists them for
/// exporters (C, TensorFlow Lite): the geometry the parser derived and slices of the model
/// bytes. Fields that a kind does not use are 0 (or empty).
#[derive(Debug, Clone, Copy)]
pub struct QuantLayer<'a> {
    /// What the layer does.
    pub kind: LayerKind,
    /// Input channels (series) or values (vector).
    pub in_channels: usize,
    /// Output channels (series) or values (vector).
    pub out_channels: usize,
    /// Input series length (1 for a vector).
    pub in_len: usize,
    /// Output series length (1 for a vector).
    pub out_len: usize,
    /// Kernel or pooling window.
    pub kernel: usize,
    /// Stride of a convolution or pooling.
    pub stride: usize,
    /// Zero padding before the input of a convolution (the padding after it only matters
    /// through `out_len`).
    pub pad_left: usize,
    /// Convolution groups.
    pub groups: usize,
    /// What follows a convolution or dense layer.
    pub activation: Activation,
    /// Convolution / dense weights as int8 bytes: output-major, then input channel of the
    /// group, then tap (dense: output-major, then input).
    pub weights: &'a [u8],
    /// Per output channel, 9 bytes: `i32 bias, i32 multiplier, i8 shift` (little-endian).
    pub channels: &'a [u8],
    /// Output scale (convolution, dense, concatenation).
    pub out_scale: f32,
    /// Output zero point (convolution, dense, concatenation).
    pub out_zero_point: i32,
    /// Concatenation: requantisation of the vector part and of the features.
    pub concat_requant: [Requant; 2],
}

impl QuantLayer<'_> {
    /// Bias and requantisation of output channel `o` (`None` past the last channel or for a
    /// layer without parameters).
    pub fn channel(&self, o: usize) -> Option<(i32, Requant)> {
        let c = self.channels.get(9 * o..9 * o + 9)?;
        Some((
            i32::from_le_bytes([c[0], c[1], c[2], c[3]]),
            Requant {
                multiplier: i32::from_le_bytes([c[4], c[5], c[6], c[7]]),
                shift: c[8] as i8,
            },
        ))
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
        let mut q = [0i8; super::MAX_CLASSES];
        let q = q
            .get_mut(..logits.len())
            .ok_or(NnError::Input("logits length differs from the class count"))?;
        let (scale, zp) = self.output_quant();
        self.logits_int8(waveform, features, scratch, q)?;
        for (l, &v) in logits.iter_mut().zip(q.iter()) {
            *l = (v as i32 - zp) as f32 * scale;
        }
        Ok(())
    }

    /// Run the network as [`QuantModel::logits`] does, but hand back the int8 logits
    /// themselves (scale and zero point: [`QuantModel::output_quant`]) — what exported copies
    /// of the model (C, TensorFlow Lite) are checked against, bit for bit.
    pub fn logits_int8(
        &self,
        waveform: &[f32],
        features: &[f32],
        scratch: &mut [i8],
        logits: &mut [i8],
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
        let mut zp = p.input_zero_point;
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
                zp = d.out_zero_point;
            }
            core::mem::swap(&mut src, &mut dst);
        }
        logits.copy_from_slice(&src[..logits.len()]);
        Ok(())
    }

    /// Scale and zero point of the int8 logits: those of the last layer that sets them.
    pub fn output_quant(&self) -> (f32, i32) {
        let p = &self.parsed;
        p.layers[..p.n_layers]
            .iter()
            .rev()
            .find(|d| {
                matches!(
                    d.kind,
                    LayerKind::Conv1d | LayerKind::Dense | LayerKind::ConcatFeatures
                )
            })
            .map_or((p.input_scale, p.input_zero_point), |d| {
                (d.out_scale, d.out_zero_point)
            })
    }

    /// Scale and zero point that quantise the waveform input.
    pub fn input_quant(&self) -> (f32, i32) {
        (self.parsed.input_scale, self.parsed.input_zero_point)
    }

    /// Scale and zero point that quantise the normalised features.
    pub fn feature_quant(&self) -> (f32, i32) {
        (self.parsed.feature_q_scale, self.parsed.feature_zero_point)
    }

    /// Mean and scale of feature `i`: the network sees `(feature − mean) · scale`
    /// (`None` past the last feature).
    pub fn feature_norm(&self, i: usize) -> Option<(f32, f32)> {
        let p = &self.parsed;
        (i < p.info.n_features).then(|| {
            let b = self.bytes.as_ref();
            (
                f32_at(b, p.feature_mean_at + 4 * i),
                f32_at(b, p.feature_scale_at + 4 * i),
            )
        })
    }

    /// The model's bytes, as given to [`QuantModel::parse`].
    pub fn bytes(&self) -> &[u8] {
        self.bytes.as_ref()
    }

    /// The layers in order, with their parameters, for exporters.
    pub fn layers(&self) -> impl Iterator<Item = QuantLayer<'_>> + '_ {
        let b = self.bytes.as_ref();
        self.parsed.layers[..self.parsed.n_layers]
            .iter()
            .map(move |d| {
                let linear = matches!(d.kind, LayerKind::Conv1d | LayerKind::Dense);
                // Offsets were checked by the parser; an empty slice is the fallback anyway.
                let (weights, channels) = if linear {
                    (
                        b.get(d.weights_at..d.weights_at + d.n_weights)
                            .unwrap_or(&[]),
                        b.get(d.bias_at..d.bias_at + 9 * d.out_channels)
                            .unwrap_or(&[]),
                    )
                } else {
                    (&[][..], &[][..])
                };
                let [(m0, s0), (m1, s1)] = d.concat_requant;
                QuantLayer {
                    kind: d.kind,
                    in_channels: d.in_channels,
                    out_channels: d.out_channels,
                    in_len: d.in_len,
                    out_len: d.out_len,
                    kernel: d.kernel,
                    stride: d.stride,
                    pad_left: d.pad_left,
                    groups: d.groups,
                    activation: d.activation,
                    weights,
                    channels,
                    out_scale: d.out_scale,
                    out_zero_point: d.out_zero_point,
                    concat_requant: [
                        Requant {
                            multiplier: m0,
                            shift: s0,
                        },
                        Requant {
                            multiplier: m1,
                            shift: s1,
                        },
                    ],
                }
            })
    }

    /// Per-output-channel bias and output stage.
    #[inline]
    fn channel(&self, d: &LayerDesc, o: usize) -> (i32, Output) {
        let at = d.bias_at + 9 * o;
        let bytes = self.bytes.as_ref();
        let r = Requant {
            multiplier: i32_at(bytes, at + 4),
            shift: bytes[at + 8] as i8,
        };
        (i32_at(bytes, at), Output::new(d, r))
    }

    /// Grouped 1-D convolution.
    ///
    /// The accumulator of an output is `bias + Σ w·(x − in_zp)` over its taps inside the
    /// input, in wrapping i32 arithmetic — a ring, so any order of the sum gives the same
    /// bits. Per group, the input is first copied into a local buffer as i16 `x − in_zp`
    /// with the padding written out as 0 (padding holds the zero point) and each channel
    /// split into its stride phases (phase p holds padded positions p, p + s, p + 2s, …).
    /// Then every tap of [`COLS`] consecutive outputs reads [`COLS`] consecutive values of one
    /// phase — no range checks, no strided loads, edges like the interior — and the outputs
    /// are computed in register tiles of up to [`ROWS`] channels × [`COLS`] time steps, each
    /// input run loaded once per tile and each weight once per row. Inputs too large for the
    /// buffer take the plain loop.
    pub(super) fn conv1d(&self, d: &LayerDesc, in_zp: i32, x: &[i8], y: &mut [i8]) {
        let bytes = self.bytes.as_ref();
        let w = &bytes[d.weights_at..d.weights_at + d.n_weights];
        let g = Geometry::of(d);
        // Phase length: every tap of every tile (the last one may run past lout) in range.
        let plen = g.lout.div_ceil(COLS) * COLS + (g.k - 1) / g.s;
        let per_channel = g.s * plen;
        if g.cin_g * per_channel > BUFFER {
            return self.conv1d_plain(d, &g, w, in_zp, x, y);
        }
        if g.cin_g == 1 && g.cout_g == 1 {
            return self.depthwise(d, &g, w, in_zp, x, y);
        }
        let mut buf = [0i16; BUFFER];
        let zp = in_zp as i16;
        for grp in 0..d.groups {
            let xg = &x[grp * g.cin_g * g.lin..(grp + 1) * g.cin_g * g.lin];
            let used = &mut buf[..g.cin_g * per_channel];
            used.fill(0);
            for (xc, bc) in xg
                .chunks_exact(g.lin)
                .zip(used.chunks_exact_mut(per_channel))
            {
                // Within ±255: exact in i16.
                phase_split(g.s, g.pad, plen, xc, bc, |q| q as i16 - zp);
            }
            let (mut o, end) = (grp * g.cout_g, (grp + 1) * g.cout_g);
            while o + ROWS <= end {
                self.rows::<ROWS>(d, &g, o, w, used, plen, y);
                o += ROWS;
            }
            while o < end {
                self.rows::<1>(d, &g, o, w, used, plen, y);
                o += 1;
            }
        }
    }

    /// Output channels `o0..o0 + R` of one group from its phase-split input `buf`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn rows<const R: usize>(
        &self,
        d: &LayerDesc,
        g: &Geometry,
        o0: usize,
        w: &[u8],
        buf: &[i16],
        plen: usize,
        y: &mut [i8],
    ) {
        let fan = g.cin_g * g.k;
        let wr = &w[o0 * fan..(o0 + R) * fan];
        let mut bias = [0i32; R];
        let mut out = [Output::default(); R];
        for r in 0..R {
            (bias[r], out[r]) = self.channel(d, o0 + r);
        }
        let per_channel = g.s * plen;
        for t0 in (0..g.lout).step_by(COLS) {
            let mut acc = [[0i32; COLS]; R];
            for (a, &b) in acc.iter_mut().zip(&bias) {
                *a = [b; COLS];
            }
            for (ci, bc) in buf.chunks_exact(per_channel).enumerate() {
                // Tap `tap` of output t reads padded position t·s + tap: phase tap % s,
                // index t + tap / s.
                let (mut phase, mut m) = (0, t0);
                for tap in 0..g.k {
                    let at = phase * plen + m;
                    let xs: &[i16; COLS] = match bc[at..at + COLS].try_into() {
                        Ok(v) => v,
                        Err(_) => return,
                    };
                    // The weights first: their bounds checks would otherwise split the
                    // multiply–accumulate block, which must be straight-line code for the
                    // compiler to keep the tile in SIMD registers.
                    let mut wv = [0i16; R];
                    for (r, v) in wv.iter_mut().enumerate() {
                        *v = wr[r * fan + ci * g.k + tap] as i8 as i16;
                    }
                    for (a, &wv) in acc.iter_mut().zip(&wv) {
                        for (av, &xv) in a.iter_mut().zip(xs) {
                            // |w·(x − zp)| ≤ 128 · 255; only the sum wraps.
                            *av = av.wrapping_add(xv as i32 * wv as i32);
                        }
                    }
                    phase += 1;
                    if phase == g.s {
                        (phase, m) = (0, m + 1);
                    }
                }
            }
            let n = COLS.min(g.lout - t0);
            for (r, a) in acc.iter().enumerate() {
                out[r].row(
                    a,
                    &mut y[(o0 + r) * g.lout + t0..(o0 + r) * g.lout + t0 + n],
                );
            }
        }
    }

    /// Depthwise convolution (one input and one output channel per group). Register tiles
    /// would hold a single row here and pay the per-group setup for a few taps, so each
    /// channel is instead phase-split (as in [`QuantModel::conv1d`]) and its whole row of
    /// accumulators built tap by tap in one vectorised pass per tap.
    fn depthwise(&self, d: &LayerDesc, g: &Geometry, w: &[u8], in_zp: i32, x: &[i8], y: &mut [i8]) {
        let plen = g.lout + (g.k - 1) / g.s;
        if g.s * plen > BUFFER || g.lout > ROW {
            return self.conv1d_plain(d, g, w, in_zp, x, y);
        }
        let mut buf = [0i16; BUFFER];
        let mut acc = [0i32; ROW];
        let (buf, acc) = (&mut buf[..g.s * plen], &mut acc[..g.lout]);
        for (c, (xc, yc)) in x
            .chunks_exact(g.lin)
            .zip(y.chunks_exact_mut(g.lout))
            .enumerate()
        {
            // Every channel writes the same data positions, so the padding stays zero.
            phase_split(g.s, g.pad, plen, xc, buf, |q| q as i16 - in_zp as i16);
            let (bias, out) = self.channel(d, c);
            acc.fill(bias);
            let (mut phase, mut m) = (0, 0);
            for &wv in &w[c * g.k..(c + 1) * g.k] {
                let wv = wv as i8 as i32;
                let xs = &buf[phase * plen + m..phase * plen + m + g.lout];
                for (a, &xv) in acc.iter_mut().zip(xs) {
                    *a = a.wrapping_add(xv as i32 * wv);
                }
                phase += 1;
                if phase == g.s {
                    (phase, m) = (0, m + 1);
                }
            }
            out.row(acc, yc);
        }
    }

    /// The straightforward convolution, for inputs too large for the buffer.
    fn conv1d_plain(
        &self,
        d: &LayerDesc,
        g: &Geometry,
        w: &[u8],
        in_zp: i32,
        x: &[i8],
        y: &mut [i8],
    ) {
        let fan = g.cin_g * g.k;
        for o in 0..d.out_channels {
            let xg = &x[o / g.cout_g * g.cin_g * g.lin..];
            let (bias, out) = self.channel(d, o);
            for t in 0..g.lout {
                let mut acc = bias;
                for ci in 0..g.cin_g {
                    for tap in 0..g.k {
                        if let Some(pos) = (t * g.s + tap).checked_sub(g.pad).filter(|&p| p < g.lin)
                        {
                            let wv = w[o * fan + ci * g.k + tap] as i8 as i32;
                            acc = acc.wrapping_add(wv * (xg[ci * g.lin + pos] as i32 - in_zp));
                        }
                    }
                }
                y[o * g.lout + t] = out.apply(acc);
            }
        }
    }

    /// Fully connected. `Σ w·(x − in_zp) = Σ w·x − in_zp·Σ w` in wrapping i32 (a ring), so
    /// the zero point is folded into the bias and each output is a plain i8 dot product,
    /// which the compiler vectorises.
    pub(super) fn dense(&self, d: &LayerDesc, in_zp: i32, x: &[i8], y: &mut [i8]) {
        let n = d.in_channels;
        let w = &self.bytes.as_ref()[d.weights_at..d.weights_at + d.n_weights];
        for (o, v) in y.iter_mut().enumerate() {
            let (bias, out) = self.channel(d, o);
            let (wsum, dot) =
                w[o * n..(o + 1) * n]
                    .iter()
                    .zip(x)
                    .fold((0i32, 0i32), |(s, a), (&wv, &xv)| {
                        let wv = wv as i8 as i32;
                        (s.wrapping_add(wv), a.wrapping_add(wv * xv as i32))
                    });
            let acc = bias
                .wrapping_sub(in_zp.wrapping_mul(wsum))
                .wrapping_add(dot);
            *v = out.apply(acc);
        }
    }
}

/// The output stage of one channel: `acc` → requantised, plus the output zero point,
/// clamped to int8 (from the zero point up with ReLU).
///
/// This is `clamp(Requant::apply(acc) + out_zp, lo, 127)` computed in i64, where `apply`
/// clamps its result to i32 and the sum saturates in i32: those two only act beyond ±2^31,
/// where the final clamp to [lo, 127] gives the same value anyway, so the result is the
/// same to the bit while the loop over a row stays free of them.
///
/// The signed 64-bit multiply and arithmetic shift of that formula have no SSE2 vector form,
/// so for the usual multipliers (positive, at most 2^7: `total_shift` ≥ 24) a row is
/// computed with unsigned 32 × 32 → 64-bit products and logical shifts, which vectorise
/// (`pmuludq`, `psrlq`), to the same bits:
/// - the accumulator is first clamped to ±`bound`, where the result is already saturated
///   (|acc · multiplier| / 2^total ≈ 2^19 at the bound, far beyond the int8 range, and the
///   result is monotonic in acc), so the quotient below fits an i32;
/// - `acc · m + round = (acc + 2^31) · m + (round − 2^31 · m)`, with `acc + 2^31` unsigned;
///   adding 2^62 (a multiple of 2^total, total ≤ 62) makes the sum non-negative and below
///   2^64, so a logical shift floors it, and subtracting `2^(62 − total)` after the shift
///   (modulo 2^32, exact as the true quotient fits an i32) gives the arithmetic shift.
#[derive(Debug, Clone, Copy, Default)]
struct Output {
    multiplier: i64,
    round: i64,
    total_shift: u32,
    zero_point: i64,
    lo: i64,
    /// Whether [`Output::row`] may take the unsigned path.
    fast: bool,
    bound: i32,
    /// `round − 2^31 · multiplier + 2^62`.
    offset: u64,
    /// `2^(62 − total_shift)` modulo 2^32.
    unbias: u32,
}

impl Output {
    fn new(d: &LayerDesc, r: Requant) -> Output {
        let total = (31 + r.shift as i32).clamp(1, 62) as u32;
        let m = r.multiplier as i64;
        let round = 1i64 << (total - 1);
        let fast = m > 0 && total >= 24;
        let bound = if !fast || total + 19 >= 62 {
            i32::MAX
        } else {
            ((1u64 << (total + 19)) / m as u64).min(i32::MAX as u64) as i32
        };
        Output {
            multiplier: m,
            round,
            total_shift: total,
            zero_point: d.out_zero_point as i64,
            lo: if d.activation == Activation::Relu {
                d.out_zero_point as i64
            } else {
                -128
            },
            fast,
            bound,
            offset: (round - (m << 31) + (1i64 << 62)) as u64,
            unbias: (1u64 << (62 - total)) as u32,
        }
    }

    /// A row of outputs (`y` may be shorter than `acc` at the end of a row). Not inlined
    /// into the tile loop: on its own the compiler keeps it in registers, where inlined it
    /// made the tile loop spill.
    #[inline(never)]
    fn row(&self, acc: &[i32], y: &mut [i8]) {
        if !self.fast {
            for (v, &a) in y.iter_mut().zip(acc) {
                *v = self.apply(a);
            }
            return;
        }
        let (m, t) = (self.multiplier as u64, self.total_shift);
        let (zp, lo) = (self.zero_point as i32, self.lo as i32);
        for (v, &a) in y.iter_mut().zip(acc) {
            let a = a.max(-self.bound).min(self.bound);
            let biased = (a as u32 ^ 0x8000_0000) as u64;
            let q = ((biased * m + self.offset) >> t) as u32;
            let q = q.wrapping_sub(self.unbias) as i32;
            *v = (q + zp).max(lo).min(127) as i8;
        }
    }

    /// |acc · multiplier| ≤ 2^62, so nothing here overflows.
    #[inline(always)]
    fn apply(self, acc: i32) -> i8 {
        let v = (acc as i64 * self.multiplier + self.round) >> self.total_shift;
        // max/min rather than clamp: no lo ≤ hi check per value.
        (v + self.zero_point).max(self.lo).min(127) as i8
    }
}

/// i16 values of the input buffer of [`QuantModel::conv1d`] (on the stack: 2 KB): one
/// group's input, padded and phase-split.
const BUFFER: usize = 1024;
/// Longest output row [`QuantModel::depthwise`] accumulates at once (on the stack: 1 KB).
const ROW: usize = 256;
/// Output channels per register tile.
const ROWS: usize = 4;
/// Time steps per register tile: 4 rows × 8 i32 accumulators fill 8 SSE registers.
const COLS: usize = 8;

/// Quantise a real value: `round(x / scale) + zero_point` (halves away from zero),
/// saturated to int8 (NaN → zero point).
///
/// The rounding is done without `libm::roundf` (a slow bit-twiddling call per sample), and
/// is exact: `v` is within ±10^6, so `v as i32` truncates it exactly and `v − trunc(v)` is
/// exact too; a fraction of at least one half rounds away from zero.
#[inline]
pub(crate) fn quantise(x: f32, scale: f32, zero_point: i32) -> i8 {
    let v = x / scale;
    if v.is_nan() {
        return zero_point.clamp(-128, 127) as i8;
    }
    let v = v.clamp(-1.0e6, 1.0e6);
    let t = v as i32;
    let frac = v - t as f32;
    let r = t + (frac >= 0.5) as i32 - (frac <= -0.5) as i32 + zero_point;
    r.clamp(-128, 127) as i8
}

#[inline]
fn saturate(v: i32) -> i8 {
    v.clamp(-128, 127) as i8
}
