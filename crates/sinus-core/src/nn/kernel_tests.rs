//! The fast kernels against the straightforward loops they replace.
//!
//! `reference_int8` and `reference_float` below are the plain forward passes (the loops the
//! kernels had before they were optimised), kept here only as the definition of the right
//! answer. The int8 kernels must give the same int8 tensors, hence the same logits to the bit;
//! the float kernels may add in another order, so their logits must agree within a tight
//! tolerance. The models are random — groups, strides, padding wider than the kernel, odd
//! lengths, ReLU or not, zero points at both ends of the int8 range — plus the shipped
//! `beatnet` models of `sinus-ml`.

extern crate std;

use std::vec;
use std::vec::Vec;

use super::format::{f32_at, i32_at, parse, LayerDesc, LayerKind};
use super::*;

const SHIPPED_FLOAT: &[u8] = include_bytes!("../../../sinus-ml/models/beatnet.snnm");
const SHIPPED_INT8: &[u8] = include_bytes!("../../../sinus-ml/models/beatnet.int8.snnm");

/// xorshift64.
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
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64) < p * (1u64 << 53) as f64
    }
    /// Uniform in [−1, 1).
    fn f(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    fn i8(&mut self) -> i8 {
        self.next() as i8
    }
    /// A zero point, often at an end of the int8 range.
    fn zero_point(&mut self) -> i16 {
        match self.below(4) {
            0 => -128,
            1 => 127,
            _ => self.i8() as i16,
        }
    }
}

/// One layer of a random network (shapes only; the parameters are drawn when writing).
#[derive(Clone, Copy)]
enum L {
    Conv {
        cin: usize,
        cout: usize,
        k: usize,
        s: usize,
        pl: usize,
        pr: usize,
        groups: usize,
        relu: bool,
    },
    Pool {
        k: usize,
        s: usize,
    },
    Gap,
    Flatten,
    Concat,
    Dense {
        inputs: usize,
        outputs: usize,
        relu: bool,
    },
}

struct Net {
    channels: usize,
    len: usize,
    features: usize,
    classes: usize,
    layers: Vec<L>,
}

fn divisors(n: usize) -> Vec<usize> {
    (1..=n).filter(|&d| n.is_multiple_of(d)).collect()
}

/// A random network: 1–4 convolutions (any groups, kernel 1–7, stride 1–3, padding up to
/// the kernel on either side), maybe max pools, GAP or Flatten, maybe features, 1–2 dense.
fn random_net(rng: &mut Rng) -> Net {
    let features = rng.below(6);
    let classes = 1 + rng.below(6);
    let mut layers = Vec::new();
    if rng.chance(0.03) {
        // Features only.
        layers.push(L::Concat);
        let n = features.max(1);
        let features = n;
        layers.push(L::Dense {
            inputs: n,
            outputs: classes,
            relu: false,
        });
        return Net {
            channels: 0,
            len: 0,
            features,
            classes,
            layers,
        };
    }
    let channels = 1 + rng.below(3);
    let len = 1 + rng.below(70);
    let (mut ch, mut l) = (channels, len);
    for _ in 0..1 + rng.below(4) {
        let ds = divisors(ch);
        let groups = match rng.below(3) {
            0 => 1,
            1 => ch,
            _ => ds[rng.below(ds.len())],
        };
        let cout = groups * (1 + rng.below(if groups == 1 { 12 } else { 3 }));
        let k = 1 + rng.below(7);
        let (pl, pr) = (rng.below(k + 1), rng.below(k + 1));
        let s = 1 + rng.below(3);
        if l + pl + pr < k {
            continue;
        }
        layers.push(L::Conv {
            cin: ch,
            cout,
            k,
            s,
            pl,
            pr,
            groups,
            relu: rng.chance(0.6),
        });
        (ch, l) = (cout, (l + pl + pr - k) / s + 1);
        if l >= 2 && rng.chance(0.25) {
            let (k, s) = (1 + rng.below(l.min(3)), 1 + rng.below(2));
            layers.push(L::Pool { k, s });
            l = (l - k) / s + 1;
        }
    }
    let mut n = if ch * l <= 240 && rng.chance(0.5) {
        layers.push(L::Flatten);
        ch * l
    } else {
        layers.push(L::Gap);
        ch
    };
    if rng.chance(0.7) {
        layers.push(L::Concat);
        n += features;
    }
    if rng.chance(0.6) {
        let hidden = 1 + rng.below(40);
        layers.push(L::Dense {
            inputs: n,
            outputs: hidden,
            relu: rng.chance(0.8),
        });
        n = hidden;
    }
    layers.push(L::Dense {
        inputs: n,
        outputs: classes,
        relu: rng.chance(0.2),
    });
    Net {
        channels,
        len,
        features,
        classes,
        layers,
    }
}

/// The `.snnm` bytes of `net` with random parameters: float32 (`int8` false) or int8.
fn write(net: &Net, int8: bool, rng: &mut Rng) -> Vec<u8> {
    let mut b = Vec::new();
    let u16 = |b: &mut Vec<u8>, v: usize| b.extend_from_slice(&(v as u16).to_le_bytes());
    let f32 = |b: &mut Vec<u8>, v: f32| b.extend_from_slice(&v.to_le_bytes());
    b.extend_from_slice(b"SNNM");
    u16(&mut b, 1);
    b.push(int8 as u8);
    b.push(0);
    for v in [net.channels, net.len, net.features, net.classes] {
        u16(&mut b, v);
    }
    b.extend(b"NSVFQX"[..net.classes].iter());
    for _ in 0..net.features {
        f32(&mut b, rng.f());
    }
    for _ in 0..net.features {
        f32(&mut b, 0.5 + rng.f().abs() * 2.0);
    }
    b.extend_from_slice(&2u32.to_le_bytes());
    b.extend_from_slice(b"{}");
    // A scale and zero point for an int8 tensor.
    let quant = |b: &mut Vec<u8>, rng: &mut Rng| {
        f32(b, 0.01 + rng.f().abs() * 0.1);
        b.extend_from_slice(&rng.zero_point().to_le_bytes());
    };
    if int8 {
        quant(&mut b, rng);
        quant(&mut b, rng);
    }
    u16(&mut b, net.layers.len());
    for layer in &net.layers {
        let (fan, outs) = match *layer {
            L::Conv {
                cin,
                cout,
                k,
                s,
                pl,
                pr,
                groups,
                relu,
            } => {
                b.push(1);
                for v in [cin, cout, k, s, pl, pr, groups] {
                    u16(&mut b, v);
                }
                b.push(relu as u8);
                (cin / groups * k, cout)
            }
            L::Pool { k, s } => {
                b.push(2);
                u16(&mut b, k);
                u16(&mut b, s);
                continue;
            }
            L::Gap | L::Flatten => {
                b.push(if matches!(layer, L::Gap) { 3 } else { 4 });
                continue;
            }
            L::Concat => {
                b.push(5);
                if int8 {
                    quant(&mut b, rng);
                    for _ in 0..2 {
                        b.extend_from_slice(
                            &(0x4000_0000 + rng.below(0x4000_0000) as i32).to_le_bytes(),
                        );
                        b.push(rng.below(3) as u8);
                    }
                }
                continue;
            }
            L::Dense {
                inputs,
                outputs,
                relu,
            } => {
                b.push(6);
                u16(&mut b, inputs);
                u16(&mut b, outputs);
                b.push(relu as u8);
                (inputs, outputs)
            }
        };
        if int8 {
            quant(&mut b, rng);
            for _ in 0..fan * outs {
                b.push(rng.i8() as u8);
            }
            // Shifts that keep most outputs inside int8 (|acc| is up to fan · 2^14), with
            // some that saturate and some large biases.
            let log2_fan = usize::BITS - fan.leading_zeros();
            for _ in 0..outs {
                let bias = if rng.chance(0.1) {
                    rng.next() as i32 >> 8
                } else {
                    (rng.next() as i32) >> 18
                };
                b.extend_from_slice(&bias.to_le_bytes());
                b.extend_from_slice(&(0x4000_0000 + rng.below(0x4000_0000) as i32).to_le_bytes());
                let shift = if rng.chance(0.05) {
                    rng.below(61) as i32 - 30
                } else {
                    log2_fan as i32 + 6 + rng.below(4) as i32 - 2
                };
                b.push(shift.clamp(-30, 30) as i8 as u8);
            }
        } else {
            let scale = 1.0 / libm::sqrtf(fan as f32);
            for _ in 0..fan * outs {
                f32(&mut b, rng.f() * scale);
            }
            for _ in 0..outs {
                f32(&mut b, rng.f() * 0.1);
            }
        }
    }
    let crc = crc32(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

// ---------------------------------------------------------------------------------------------
// The reference int8 forward pass: the kernels as they were before optimisation (with their
// own copies of the input quantisation and the requantisation).

fn quantise(x: f32, scale: f32, zero_point: i32) -> i8 {
    let v = x / scale;
    if v.is_nan() {
        return zero_point.clamp(-128, 127) as i8;
    }
    let r = libm::roundf(v.clamp(-1.0e6, 1.0e6)) as i32 + zero_point;
    r.clamp(-128, 127) as i8
}

fn apply(r: Requant, acc: i32) -> i32 {
    let total = (31 + r.shift as i32).clamp(1, 62);
    let v = (acc as i64 * r.multiplier as i64 + (1i64 << (total - 1))) >> total;
    v.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

fn ref_channel(bytes: &[u8], d: &LayerDesc, o: usize) -> (i32, Requant) {
    let at = d.bias_at + 9 * o;
    (
        i32_at(bytes, at),
        Requant {
            multiplier: i32_at(bytes, at + 4),
            shift: bytes[at + 8] as i8,
        },
    )
}

fn ref_finish(d: &LayerDesc, acc: i32, r: Requant) -> i8 {
    let v = apply(r, acc).saturating_add(d.out_zero_point);
    let lo = if d.activation == Activation::Relu {
        d.out_zero_point
    } else {
        -128
    };
    v.clamp(lo, 127) as i8
}

fn ref_conv1d_int8(bytes: &[u8], d: &LayerDesc, in_zp: i32, x: &[i8], y: &mut [i8]) {
    let w = &bytes[d.weights_at..d.weights_at + d.n_weights];
    let (lin, lout, k, s, pad) = (d.in_len, d.out_len, d.kernel, d.stride, d.pad_left);
    let cin_g = d.in_channels / d.groups;
    let cout_g = d.out_channels / d.groups;
    for o in 0..d.out_channels {
        let g = o / cout_g;
        let (bias, r) = ref_channel(bytes, d, o);
        for t in 0..lout {
            let mut acc = bias;
            for ci in 0..cin_g {
                let c = g * cin_g + ci;
                let wk = &w[(o * cin_g + ci) * k..(o * cin_g + ci + 1) * k];
                for (tap, &wv) in wk.iter().enumerate() {
                    let pos = t * s + tap;
                    if pos >= pad && pos - pad < lin {
                        acc = acc.wrapping_add(
                            (wv as i8 as i32) * (x[c * lin + pos - pad] as i32 - in_zp),
                        );
                    }
                }
            }
            y[o * lout + t] = ref_finish(d, acc, r);
        }
    }
}

fn ref_dense_int8(bytes: &[u8], d: &LayerDesc, in_zp: i32, x: &[i8], y: &mut [i8]) {
    let n = d.in_channels;
    let w = &bytes[d.weights_at..d.weights_at + d.n_weights];
    for (o, v) in y.iter_mut().enumerate() {
        let (bias, r) = ref_channel(bytes, d, o);
        let acc = w[o * n..(o + 1) * n]
            .iter()
            .zip(x)
            .fold(bias, |acc, (&wv, &xv)| {
                acc.wrapping_add((wv as i8 as i32) * (xv as i32 - in_zp))
            });
        *v = ref_finish(d, acc, r);
    }
}

fn saturate(v: i32) -> i8 {
    v.clamp(-128, 127) as i8
}

fn reference_int8(bytes: &[u8], waveform: &[f32], features: &[f32]) -> Vec<f32> {
    let p = parse(bytes).unwrap();
    let nf = p.info.n_features;
    let feats: Vec<i8> = (0..nf)
        .map(|i| {
            let mean = f32_at(bytes, p.feature_mean_at + 4 * i);
            let scale = f32_at(bytes, p.feature_scale_at + 4 * i);
            quantise(
                (features[i] - mean) * scale,
                p.feature_q_scale,
                p.feature_zero_point,
            )
        })
        .collect();
    let mut x: Vec<i8> = waveform
        .iter()
        .map(|&v| quantise(v, p.input_scale, p.input_zero_point))
        .collect();
    let (mut scale, mut zp) = (p.input_scale, p.input_zero_point);
    for d in &p.layers[..p.n_layers] {
        let mut y = vec![0i8; d.out_size];
        match d.kind {
            LayerKind::Conv1d => ref_conv1d_int8(bytes, d, zp, &x, &mut y),
            LayerKind::Dense => ref_dense_int8(bytes, d, zp, &x, &mut y),
            LayerKind::MaxPool1d => {
                for c in 0..d.out_channels {
                    for t in 0..d.out_len {
                        let at = c * d.in_len + t * d.stride;
                        y[c * d.out_len + t] = *x[at..at + d.kernel].iter().max().unwrap();
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
                    let r = if s >= 0 {
                        (s + n / 2) / n
                    } else {
                        (s - n / 2) / n
                    };
                    *v = r.clamp(-128, 127) as i8;
                }
            }
            LayerKind::Flatten => y.copy_from_slice(&x),
            LayerKind::ConcatFeatures => {
                let [(m0, s0), (m1, s1)] = d.concat_requant;
                let r0 = Requant {
                    multiplier: m0,
                    shift: s0,
                };
                let r1 = Requant {
                    multiplier: m1,
                    shift: s1,
                };
                let n = d.in_size;
                for (v, &q) in y[..n].iter_mut().zip(&x) {
                    *v = saturate(apply(r0, q as i32 - zp) + d.out_zero_point);
                }
                for (v, &q) in y[n..].iter_mut().zip(&feats) {
                    *v = saturate(apply(r1, q as i32 - p.feature_zero_point) + d.out_zero_point);
                }
            }
        }
        if matches!(
            d.kind,
            LayerKind::Conv1d | LayerKind::Dense | LayerKind::ConcatFeatures
        ) {
            (scale, zp) = (d.out_scale, d.out_zero_point);
        }
        x = y;
    }
    x.iter().map(|&q| (q as i32 - zp) as f32 * scale).collect()
}

// ---------------------------------------------------------------------------------------------
// The reference float forward pass.

fn reference_float(bytes: &[u8], waveform: &[f32], features: &[f32]) -> Vec<f32> {
    let p = parse(bytes).unwrap();
    let at = |o: usize| f32_at(bytes, o);
    let act = |d: &LayerDesc, v: f32| match d.activation {
        Activation::Relu => v.max(0.0),
        Activation::None => v,
    };
    let nf = p.info.n_features;
    let feats: Vec<f32> = (0..nf)
        .map(|i| (features[i] - at(p.feature_mean_at + 4 * i)) * at(p.feature_scale_at + 4 * i))
        .collect();
    let mut x = waveform.to_vec();
    for d in &p.layers[..p.n_layers] {
        let mut y = vec![0.0f32; d.out_size];
        let w = |i: usize| at(d.weights_at + 4 * i);
        let bias = |o: usize| at(d.bias_at + 4 * o);
        match d.kind {
            LayerKind::Conv1d => {
                let (cin_g, cout_g) = (d.in_channels / d.groups, d.out_channels / d.groups);
                for o in 0..d.out_channels {
                    let g = o / cout_g;
                    for t in 0..d.out_len {
                        let mut v = bias(o);
                        for ci in 0..cin_g {
                            let c = g * cin_g + ci;
                            for tap in 0..d.kernel {
                                let i = (t * d.stride + tap) as isize - d.pad_left as isize;
                                if i >= 0 && (i as usize) < d.in_len {
                                    v += w((o * cin_g + ci) * d.kernel + tap)
                                        * x[c * d.in_len + i as usize];
                                }
                            }
                        }
                        y[o * d.out_len + t] = act(d, v);
                    }
                }
            }
            LayerKind::Dense => {
                let n = d.in_channels;
                for (o, v) in y.iter_mut().enumerate() {
                    let mut s = bias(o);
                    for (j, &xv) in x.iter().enumerate() {
                        s += w(o * n + j) * xv;
                    }
                    *v = act(d, s);
                }
            }
            LayerKind::MaxPool1d => {
                for c in 0..d.out_channels {
                    for t in 0..d.out_len {
                        let a = c * d.in_len + t * d.stride;
                        y[c * d.out_len + t] = x[a..a + d.kernel]
                            .iter()
                            .copied()
                            .fold(f32::NEG_INFINITY, f32::max);
                    }
                }
            }
            LayerKind::GlobalAvgPool => {
                for (c, v) in y.iter_mut().enumerate() {
                    let s: f32 = x[c * d.in_len..(c + 1) * d.in_len].iter().sum();
                    *v = s / d.in_len as f32;
                }
            }
            LayerKind::Flatten => y.copy_from_slice(&x),
            LayerKind::ConcatFeatures => {
                y[..x.len()].copy_from_slice(&x);
                y[x.len()..].copy_from_slice(&feats);
            }
        }
        x = y;
    }
    x
}

// ---------------------------------------------------------------------------------------------

fn random_inputs(rng: &mut Rng, info: &ModelInfo) -> (Vec<f32>, Vec<f32>) {
    // Waveforms at a few amplitudes so that some inputs saturate the input quantisation.
    let amp = [0.3f32, 1.0, 5.0][rng.below(3)];
    let w = (0..info.input_channels * info.input_len)
        .map(|_| rng.f() * amp)
        .collect();
    let f = (0..info.n_features).map(|_| rng.f() * 2.0).collect();
    (w, f)
}

fn run_int8(bytes: &[u8], w: &[f32], f: &[f32]) -> Vec<f32> {
    let m = QuantModel::parse(bytes).unwrap();
    let mut scratch = vec![0i8; m.scratch_len()];
    let mut logits = vec![0.0f32; m.info().n_classes];
    m.logits(w, f, &mut scratch, &mut logits).unwrap();
    logits
}

fn run_float(bytes: &[u8], w: &[f32], f: &[f32]) -> Vec<f32> {
    let n = FloatModel::<Vec<f32>>::storage_len(bytes).unwrap();
    let m = FloatModel::parse(bytes, vec![0.0f32; n]).unwrap();
    let mut scratch = vec![0.0f32; m.scratch_len()];
    let mut logits = vec![0.0f32; m.info().n_classes];
    m.logits(w, f, &mut scratch, &mut logits).unwrap();
    logits
}

fn assert_bits(got: &[f32], want: &[f32], what: &str) {
    let g: Vec<u32> = got.iter().map(|v| v.to_bits()).collect();
    let e: Vec<u32> = want.iter().map(|v| v.to_bits()).collect();
    assert_eq!(g, e, "{what}: {got:?} vs {want:?}");
}

#[test]
fn int8_kernels_equal_the_plain_loops_bit_for_bit() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let (mut layers, mut outputs, mut inside) = (0, 0, 0);
    for case in 0..400 {
        let net = random_net(&mut rng);
        let bytes = write(&net, true, &mut rng);
        let model = QuantModel::parse(&bytes[..]).unwrap();
        for _ in 0..3 {
            let (w, f) = random_inputs(&mut rng, model.info());
            let want = reference_int8(&bytes, &w, &f);
            assert_bits(
                &run_int8(&bytes, &w, &f),
                &want,
                &std::format!("case {case}"),
            );
        }
        // Every linear layer alone, on random inputs and input zero points (the whole network
        // can hide a wrong value behind a later saturation or pooling).
        let p = parse(&bytes).unwrap();
        for d in &p.layers[..p.n_layers] {
            if !matches!(d.kind, LayerKind::Conv1d | LayerKind::Dense) {
                continue;
            }
            let x: Vec<i8> = (0..d.in_size).map(|_| rng.i8()).collect();
            let in_zp = rng.zero_point() as i32;
            let (mut got, mut want) = (vec![0i8; d.out_size], vec![0i8; d.out_size]);
            if d.kind == LayerKind::Conv1d {
                model.conv1d(d, in_zp, &x, &mut got);
                ref_conv1d_int8(&bytes, d, in_zp, &x, &mut want);
            } else {
                model.dense(d, in_zp, &x, &mut got);
                ref_dense_int8(&bytes, d, in_zp, &x, &mut want);
            }
            assert_eq!(got, want, "case {case}, layer {:?}", d);
            layers += 1;
            outputs += want.len();
            let floor = if d.activation == Activation::Relu {
                d.out_zero_point as i8
            } else {
                -128
            };
            inside += want.iter().filter(|&&v| v > floor && v < 127).count();
        }
    }
    // Enough layers, and many outputs not stuck at a clamp (else the test proves little).
    assert!(layers > 800, "{layers}");
    assert!(
        inside * 3 > outputs,
        "{inside} of {outputs} outputs unclamped"
    );
}

#[test]
fn shipped_int8_model_equals_the_plain_loops_bit_for_bit() {
    let model = QuantModel::parse(SHIPPED_INT8).unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..200 {
        let (w, f) = random_inputs(&mut rng, model.info());
        // Plausible RR features (seconds, ratios) as well as wild ones.
        let f: Vec<f32> = if i % 2 == 0 {
            f.iter().map(|v| 0.8 + 0.1 * v).collect()
        } else {
            f
        };
        let want = reference_int8(SHIPPED_INT8, &w, &f);
        assert_bits(&run_int8(SHIPPED_INT8, &w, &f), &want, "shipped int8");
    }
}

fn assert_close(got: &[f32], want: &[f32], what: &str) {
    for (g, e) in got.iter().zip(want) {
        assert!(
            (g - e).abs() <= 1e-5 * e.abs().max(1.0),
            "{what}: {got:?} vs {want:?}"
        );
    }
}

#[test]
fn float_kernels_match_the_plain_loops() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for case in 0..400 {
        let net = random_net(&mut rng);
        let bytes = write(&net, false, &mut rng);
        let info = parse(&bytes).unwrap().info;
        for _ in 0..3 {
            let (w, f) = random_inputs(&mut rng, &info);
            let want = reference_float(&bytes, &w, &f);
            assert_close(
                &run_float(&bytes, &w, &f),
                &want,
                &std::format!("case {case}"),
            );
        }
    }
    let n = FloatModel::<Vec<f32>>::storage_len(SHIPPED_FLOAT).unwrap();
    let model = FloatModel::parse(SHIPPED_FLOAT, vec![0.0f32; n]).unwrap();
    for _ in 0..200 {
        let (w, f) = random_inputs(&mut rng, model.info());
        let want = reference_float(SHIPPED_FLOAT, &w, &f);
        assert_close(&run_float(SHIPPED_FLOAT, &w, &f), &want, "shipped float");
    }
}

#[test]
fn input_quantisation_equals_the_libm_rounding() {
    let fast = super::quant::quantise;
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    let specials = [
        0.0f32,
        -0.0,
        0.5,
        -0.5,
        1.5,
        -1.5,
        2.5,
        0.499_999_97,
        -0.499_999_97,
        127.5,
        -128.5,
        8_388_607.5,
        1.0e6,
        -1.0e6,
        3.0e9,
        f32::MAX,
        f32::MIN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::MIN_POSITIVE,
    ];
    for &zp in &[-128, -5, 0, 77, 127] {
        for &scale in &[1.0f32, 0.25, 0.0123, 3.0] {
            for &v in &specials {
                assert_eq!(
                    fast(v, scale, zp),
                    quantise(v, scale, zp),
                    "{v} {scale} {zp}"
                );
            }
            for _ in 0..20_000 {
                // Every bit pattern, and values near the halves.
                let v = if rng.chance(0.5) {
                    f32::from_bits(rng.next() as u32)
                } else {
                    (rng.below(600) as f32 - 300.0) / 2.0 * scale + rng.f() * 1e-4
                };
                assert_eq!(
                    fast(v, scale, zp),
                    quantise(v, scale, zp),
                    "{v} {scale} {zp}"
                );
            }
        }
    }
}
