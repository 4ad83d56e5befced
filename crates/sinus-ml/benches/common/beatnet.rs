//! The default "beatnet" layer list with random weights, shared by the criterion bench
//! (`benches/inference.rs`) and the beats/s printer (`examples/infer_speed.rs`).

use sinus_ml::rng::SplitMix64;
use sinus_ml::spec::{Activation, LayerSpec, ModelSpec};

/// `n` normal values times `scale`.
pub fn randv(rng: &mut SplitMix64, n: usize, scale: f64) -> Vec<f32> {
    (0..n).map(|_| (rng.normal() * scale) as f32).collect()
}
/// One convolution with random weights, padding k/2 on both sides.
fn conv(
    rng: &mut SplitMix64,
    cin: usize,
    cout: usize,
    k: usize,
    s: usize,
    groups: usize,
    relu: bool,
) -> LayerSpec {
    let fan = cin / groups * k;
    LayerSpec::Conv1d {
        in_channels: cin,
        out_channels: cout,
        kernel: k,
        stride: s,
        pad_left: k / 2,
        pad_right: k / 2,
        groups,
        activation: if relu {
            Activation::Relu
        } else {
            Activation::None
        },
        weight: randv(rng, cout * fan, 1.0 / (fan as f64).sqrt()),
        bias: randv(rng, cout, 0.1),
    }
}

/// The "beatnet" layer list (batch norm folded away) for `channels` input channels of 128
/// samples: 1 is the historical benchmark shape, the shipped model has 2 (two leads), the
/// next one 4 (two leads with a template channel each); only the first convolution changes.
pub fn beatnet(seed: u64, channels: usize) -> ModelSpec {
    let mut r = SplitMix64::new(seed);
    let layers = vec![
        conv(&mut r, channels, 16, 7, 2, 1, true),
        conv(&mut r, 16, 16, 5, 2, 16, false),
        conv(&mut r, 16, 32, 1, 1, 1, true),
        conv(&mut r, 32, 32, 5, 2, 32, false),
        conv(&mut r, 32, 32, 1, 1, 1, true),
        conv(&mut r, 32, 32, 3, 2, 32, false),
        conv(&mut r, 32, 32, 1, 1, 1, true),
        LayerSpec::GlobalAvgPool,
        LayerSpec::ConcatFeatures,
        LayerSpec::Dense {
            inputs: 40,
            outputs: 32,
            activation: Activation::Relu,
            weight: randv(&mut r, 1280, 0.15),
            bias: randv(&mut r, 32, 0.1),
        },
        LayerSpec::Dense {
            inputs: 32,
            outputs: 5,
            activation: Activation::None,
            weight: randv(&mut r, 160, 0.17),
            bias: randv(&mut r, 5, 0.1),
        },
    ];
    ModelSpec {
        input_channels: channels,
        input_len: 128,
        classes: "NSVFQ".chars().collect(),
        feature_mean: vec![0.8; 8],
        feature_scale: vec![4.0; 8],
        metadata: String::new(),
        layers,
    }
}

/// `n` random beats for a model with `wn` waveform values and `nf` features per beat:
/// normal waveform values and raw RR features around 0.8 s (beatnet: `wn` 128 per channel,
/// `nf` 8).
pub fn beats(seed: u64, n: usize, wn: usize, nf: usize) -> (Vec<f32>, Vec<f32>) {
    let mut r = SplitMix64::new(seed);
    let w = randv(&mut r, n * wn, 1.0);
    let f = randv(&mut r, n * nf, 0.1).iter().map(|x| x + 0.8).collect();
    (w, f)
}
