//! `f32` inference.

use super::format::{f32_at, parse, Geometry, LayerDesc, LayerKind, ModelInfo, Parsed, MAX_LAYERS};
use super::{phase_split, Activation, NnError};

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
        self.parsed.info.scratch_len()
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
        info.check_call(waveform.len(), features.len(), logits.len(), scratch.len())?;
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

/// Grouped 1-D convolution.
///
/// Every output is its bias plus the products of its taps, added in the order input
/// channel, then kernel tap — the order of the straightforward loop
/// ([`conv1d_reference`] in the tests). Taps that fall in the padding add `w · 0`, which
/// changes nothing but possibly the sign of a zero sum, so the result equals the plain loop's
/// (as `==`, not always to the bit).
///
/// Per group, the input is first copied into a local buffer with the padding written out
/// as zeros and each channel split into its stride phases (phase p holds padded positions
/// p, p + s, p + 2s, …): then tap `tap` of consecutive outputs reads consecutive values of
/// one phase, so a stride-2 layer loads whole vectors instead of gathering every other
/// value, and the edges need no range checks. An unpadded stride-1 input is read in place.
/// The outputs are computed in register tiles of up to [`ROWS`] output channels × [`COLS`]
/// time steps held in local arrays, each input run loaded once per tile and each weight
/// once per row. Inputs too large for the buffer take the range-checked path
/// ([`conv1d_unbuffered`]).
fn conv1d(d: &LayerDesc, w: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
    let g = Geometry::of(d);
    // Phase length: tap k − 1 of output lout − 1 is at index lout − 1 + (k − 1) / s.
    let plen = g.lout + (g.k - 1) / g.s;
    let in_place = g.s == 1 && g.pad == 0 && g.lin >= plen;
    let per_channel = if in_place { g.lin } else { g.s * plen };
    if !in_place && g.cin_g * per_channel > BUFFER {
        return conv1d_unbuffered(d, &g, w, bias, x, y);
    }
    let mut buf = [0.0f32; BUFFER];
    let src = Source { plen, per_channel };
    for grp in 0..d.groups {
        let xg = &x[grp * g.cin_g * g.lin..(grp + 1) * g.cin_g * g.lin];
        let xs: &[f32] = if in_place {
            xg
        } else {
            let used = &mut buf[..g.cin_g * per_channel];
            // Every group writes the same data positions, so the padding stays zero.
            for (xc, bc) in xg
                .chunks_exact(g.lin)
                .zip(used.chunks_exact_mut(per_channel))
            {
                phase_split(g.s, g.pad, plen, xc, bc, |x| x);
            }
            used
        };
        let (mut o, end) = (grp * g.cout_g, (grp + 1) * g.cout_g);
        while o + ROWS <= end {
            rows::<ROWS>(&g, &src, o, w, bias, xs, y);
            o += ROWS;
        }
        while o < end {
            rows::<1>(&g, &src, o, w, bias, xs, y);
            o += 1;
        }
    }
    if d.activation == Activation::Relu {
        for v in y.iter_mut() {
            *v = v.max(0.0);
        }
    }
}

/// f32 values of the input buffer of [`conv1d`] (on the stack: 4 KB): one group's input,
/// padded and phase-split.
const BUFFER: usize = 1024;
/// Output channels per tile: 4 rows × 8 columns of accumulators fill 8 SSE registers.
const ROWS: usize = 4;
/// Time steps per tile.
const COLS: usize = 8;

/// Layout of one group's input as the tiles read it: channel `ci`, phase `p`, index `m` at
/// `ci · per_channel + p · plen + m`.
struct Source {
    plen: usize,
    per_channel: usize,
}

/// Output channels `o0..o0 + R` of one group (input `xs`, laid out as `src`) over all time
/// steps.
fn rows<const R: usize>(
    g: &Geometry,
    src: &Source,
    o0: usize,
    w: &[f32],
    bias: &[f32],
    xs: &[f32],
    y: &mut [f32],
) {
    let fan = g.cin_g * g.k;
    let wr = &w[o0 * fan..(o0 + R) * fan];
    let b = &bias[o0..o0 + R];
    let yr = &mut y[o0 * g.lout..(o0 + R) * g.lout];
    let mut t = 0;
    while t + COLS <= g.lout {
        tile::<R, COLS>(g, src, wr, b, xs, yr, t);
        t += COLS;
    }
    while t + 4 <= g.lout {
        tile::<R, 4>(g, src, wr, b, xs, yr, t);
        t += 4;
    }
    while t < g.lout {
        tile::<R, 1>(g, src, wr, b, xs, yr, t);
        t += 1;
    }
}

/// R output channels × C time steps from `t0`, accumulated in registers.
#[inline(always)]
fn tile<const R: usize, const C: usize>(
    g: &Geometry,
    src: &Source,
    wr: &[f32],
    b: &[f32],
    xs: &[f32],
    yr: &mut [f32],
    t0: usize,
) {
    let fan = g.cin_g * g.k;
    let mut acc = [[0.0f32; C]; R];
    for (a, &bv) in acc.iter_mut().zip(b) {
        *a = [bv; C];
    }
    for ci in 0..g.cin_g {
        let xc = &xs[ci * src.per_channel..(ci + 1) * src.per_channel];
        // Tap `tap` of output t reads padded position t·s + tap: phase tap % s, index
        // t + tap / s.
        let (mut phase, mut m) = (0, t0);
        for tap in 0..g.k {
            let at = phase * src.plen + m;
            let xv: &[f32; C] = match xc[at..at + C].try_into() {
                Ok(v) => v,
                Err(_) => return,
            };
            // The weights first: their bounds checks would otherwise split the
            // multiply–add block, which must be straight-line code to stay in registers.
            let mut wv = [0.0f32; R];
            for (r, v) in wv.iter_mut().enumerate() {
                *v = wr[r * fan + ci * g.k + tap];
            }
            for (a, &wv) in acc.iter_mut().zip(&wv) {
                for (av, &xj) in a.iter_mut().zip(xv) {
                    *av += wv * xj;
                }
            }
            phase += 1;
            if phase == g.s {
                (phase, m) = (0, m + 1);
            }
        }
    }
    for (r, a) in acc.iter().enumerate() {
        yr[r * g.lout + t0..r * g.lout + t0 + C].copy_from_slice(a);
    }
}

/// The range-checked convolution for inputs too large for the buffer: every output in the
/// plain order, taps in the padding skipped.
fn conv1d_unbuffered(
    d: &LayerDesc,
    g: &Geometry,
    w: &[f32],
    bias: &[f32],
    x: &[f32],
    y: &mut [f32],
) {
    let fan = g.cin_g * g.k;
    for o in 0..d.out_channels {
        let xg = &x[o / g.cout_g * g.cin_g * g.lin..];
        for t in 0..g.lout {
            let v = edge(g, &w[o * fan..(o + 1) * fan], bias[o], xg, t);
            y[o * g.lout + t] = match d.activation {
                Activation::Relu => v.max(0.0),
                Activation::None => v,
            };
        }
    }
}

/// One output (weights `wo` of its channel) with the taps that fall in the padding skipped.
fn edge(g: &Geometry, wo: &[f32], b: f32, xg: &[f32], t: usize) -> f32 {
    let mut v = b;
    for ci in 0..g.cin_g {
        let xc = &xg[ci * g.lin..(ci + 1) * g.lin];
        for (tap, &wv) in wo[ci * g.k..(ci + 1) * g.k].iter().enumerate() {
            if let Some(&xv) = (t * g.s + tap).checked_sub(g.pad).and_then(|i| xc.get(i)) {
                v += wv * xv;
            }
        }
    }
    v
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

#[cfg(test)]
mod conv_tests {
    use super::*;

    /// The straightforward grouped convolution the tiled one must equal: per
    /// output, the bias, then every in-range tap in the order input channel, tap.
    fn conv1d_reference(d: &LayerDesc, w: &[f32], bias: &[f32], x: &[f32], y: &mut [f32]) {
        let (cin_g, cout_g) = (d.in_channels / d.groups, d.out_channels / d.groups);
        for o in 0..d.out_channels {
            let g = o / cout_g;
            for t in 0..d.out_len {
                let mut v = bias[o];
                for ci in 0..cin_g {
                    let c = g * cin_g + ci;
                    for tap in 0..d.kernel {
                        let i = (t * d.stride + tap) as isize - d.pad_left as isize;
                        if i >= 0 && (i as usize) < d.in_len {
                            v +=
                                w[(o * cin_g + ci) * d.kernel + tap] * x[c * d.in_len + i as usize];
                        }
                    }
                }
                y[o * d.out_len + t] = match d.activation {
                    Activation::Relu => v.max(0.0),
                    Activation::None => v,
                };
            }
        }
    }

    /// xorshift, uniform in [−1, 1).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn f(&mut self) -> f32 {
            (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        }
    }

    #[test]
    fn tiled_convolution_equals_the_plain_loop() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut w, mut b, mut x) = ([0.0f32; 4096], [0.0f32; 64], [0.0f32; 4096]);
        let (mut y, mut want) = ([0.0f32; 8192], [0.0f32; 8192]);
        // The beatnet layers (2 and 4 input channels), two inputs too large for the buffer,
        // then random geometries (strides 1–3, depthwise, pointwise, padding on either side,
        // lengths not multiples of the tile).
        let mut cases = [(
            0usize, 0usize, 0usize, 0usize, 0usize, 0usize, 0usize, 0usize,
        ); 407];
        cases[..11].copy_from_slice(&[
            (1, 16, 7, 2, 3, 3, 1, 128),
            (2, 16, 7, 2, 3, 3, 1, 128),
            (4, 16, 7, 2, 3, 3, 1, 128),
            (16, 6, 5, 2, 2, 2, 1, 100),
            (6, 6, 3, 1, 1, 0, 2, 400),
            (16, 16, 5, 2, 2, 2, 16, 64),
            (16, 32, 1, 1, 0, 0, 1, 32),
            (32, 32, 5, 2, 2, 2, 32, 32),
            (32, 32, 1, 1, 0, 0, 1, 16),
            (32, 32, 3, 2, 1, 1, 32, 16),
            (32, 32, 1, 1, 0, 0, 1, 8),
        ]);
        for c in cases[11..].iter_mut() {
            let groups = 1 + rng.below(3);
            let cin = groups * (1 + rng.below(5));
            let cout = groups * (1 + rng.below(9));
            let k = 1 + rng.below(7);
            let (pl, pr) = (rng.below(k), rng.below(k));
            *c = (
                cin,
                cout,
                k,
                1 + rng.below(3),
                pl,
                pr,
                groups,
                1 + rng.below(40),
            );
        }
        let mut tested = 0;
        for &(cin, cout, k, s, pl, pr, groups, lin) in &cases {
            if lin + pl + pr < k {
                continue;
            }
            let lout = (lin + pl + pr - k) / s + 1;
            let d = LayerDesc {
                kind: LayerKind::Conv1d,
                in_channels: cin,
                out_channels: cout,
                kernel: k,
                stride: s,
                pad_left: pl,
                groups,
                activation: if rng.below(2) == 0 {
                    Activation::Relu
                } else {
                    Activation::None
                },
                in_len: lin,
                out_len: lout,
                in_size: cin * lin,
                out_size: cout * lout,
                ..LayerDesc::default()
            };
            let nw = cout * (cin / groups) * k;
            for v in w[..nw]
                .iter_mut()
                .chain(&mut b[..cout])
                .chain(&mut x[..cin * lin])
            {
                *v = rng.f();
            }
            conv1d(
                &d,
                &w[..nw],
                &b[..cout],
                &x[..cin * lin],
                &mut y[..cout * lout],
            );
            conv1d_reference(
                &d,
                &w[..nw],
                &b[..cout],
                &x[..cin * lin],
                &mut want[..cout * lout],
            );
            for (i, (a, e)) in y[..cout * lout]
                .iter()
                .zip(&want[..cout * lout])
                .enumerate()
            {
                // `==`: a tap in the padding adds w · 0, which may turn a −0 sum into +0.
                assert_eq!(
                    a, e,
                    "case {cin} {cout} k{k} s{s} p{pl}/{pr} g{groups} l{lin}, at {i}"
                );
            }
            tested += 1;
        }
        assert!(tested > 300);
    }
}
