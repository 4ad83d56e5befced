//! The device kernels (`sinus_core::nn`, float and int8) against the reference forward pass of
//! `ModelSpec`, on random networks of every layer type.

use sinus_ml::infer::Classifier;
use sinus_ml::quant::quantize;
use sinus_ml::rng::SplitMix64;
use sinus_ml::spec::{Activation, LayerSpec, ModelSpec};

fn randv(rng: &mut SplitMix64, n: usize, scale: f64) -> Vec<f32> {
    (0..n).map(|_| (rng.normal() * scale) as f32).collect()
}

/// A random network: 1–4 convolutions (random kernel, stride, padding, depthwise or
/// pointwise), maybe a max pool, GAP or Flatten, features, 1–2 dense layers.
fn random_spec(seed: u64) -> ModelSpec {
    let mut rng = SplitMix64::new(seed);
    let channels = 1 + rng.below(2);
    let len = 24 + rng.below(80);
    let n_features = rng.below(5);
    let classes = 2 + rng.below(4);
    let mut layers = Vec::new();
    let (mut ch, mut l) = (channels, len);
    for _ in 0..1 + rng.below(4) {
        let depthwise = ch > 1 && rng.chance(0.4);
        let kernel = if rng.chance(0.3) {
            1
        } else {
            1 + 2 * rng.below(4)
        };
        let stride = 1 + rng.below(2);
        let pad_left = rng.below(kernel / 2 + 1);
        let pad_right = rng.below(kernel / 2 + 1);
        if l + pad_left + pad_right < kernel {
            break;
        }
        let (out, groups) = if depthwise {
            (ch, ch)
        } else {
            (1 + rng.below(12), 1)
        };
        let fan_in = (ch / groups) * kernel;
        layers.push(LayerSpec::Conv1d {
            in_channels: ch,
            out_channels: out,
            kernel,
            stride,
            pad_left,
            pad_right,
            groups,
            activation: if rng.chance(0.8) {
                Activation::Relu
            } else {
                Activation::None
            },
            weight: randv(&mut rng, out * fan_in, 1.0 / (fan_in as f64).sqrt()),
            bias: randv(&mut rng, out, 0.1),
        });
        ch = out;
        l = (l + pad_left + pad_right - kernel) / stride + 1;
        if l >= 4 && rng.chance(0.3) {
            layers.push(LayerSpec::MaxPool1d {
                kernel: 2,
                stride: 2,
            });
            l = (l - 2) / 2 + 1;
        }
    }
    let mut n = if rng.chance(0.5) {
        layers.push(LayerSpec::GlobalAvgPool);
        ch
    } else {
        layers.push(LayerSpec::Flatten);
        ch * l
    };
    layers.push(LayerSpec::ConcatFeatures);
    n += n_features;
    if rng.chance(0.6) {
        let hidden = 4 + rng.below(12);
        layers.push(LayerSpec::Dense {
            inputs: n,
            outputs: hidden,
            activation: Activation::Relu,
            weight: randv(&mut rng, n * hidden, 1.0 / (n as f64).sqrt()),
            bias: randv(&mut rng, hidden, 0.1),
        });
        n = hidden;
    }
    layers.push(LayerSpec::Dense {
        inputs: n,
        outputs: classes,
        activation: Activation::None,
        weight: randv(&mut rng, n * classes, 1.0 / (n as f64).sqrt()),
        bias: randv(&mut rng, classes, 0.1),
    });
    ModelSpec {
        input_channels: channels,
        input_len: len,
        classes: "NSVFQ".chars().take(classes).collect(),
        feature_mean: randv(&mut rng, n_features, 1.0),
        feature_scale: (0..n_features)
            .map(|_| rng.range(0.5, 2.0) as f32)
            .collect(),
        metadata: format!("{{\"seed\":{seed}}}"),
        layers,
    }
}

fn inputs(spec: &ModelSpec, seed: u64, n: usize) -> Vec<(Vec<f32>, Vec<f32>)> {
    let mut rng = SplitMix64::new(seed ^ 0xABCD);
    (0..n)
        .map(|_| {
            (
                randv(&mut rng, spec.input_channels * spec.input_len, 1.0),
                randv(&mut rng, spec.n_features(), 1.0),
            )
        })
        .collect()
}

fn softmax(l: &[f32]) -> Vec<f32> {
    let m = l.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = l.iter().map(|x| (x - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.iter().map(|x| x / s).collect()
}

fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .fold((0, f32::MIN), |b, (i, &x)| if x > b.1 { (i, x) } else { b })
        .0
}

fn refs(v: &[(Vec<f32>, Vec<f32>)]) -> Vec<(&[f32], &[f32])> {
    v.iter()
        .map(|(w, f)| (w.as_slice(), f.as_slice()))
        .collect()
}

#[test]
fn float_kernels_match_the_reference() {
    for seed in 0..200 {
        let spec = random_spec(seed);
        spec.shapes().unwrap();
        let bytes = spec.to_bytes().unwrap();
        let c = Classifier::from_bytes(&bytes).unwrap();
        assert_eq!(c.size().0, spec.parameters());
        assert_eq!(c.size().1, spec.macs().unwrap());
        let xs = inputs(&spec, seed, 8);
        let (w, f): (Vec<Vec<f32>>, Vec<Vec<f32>>) = xs.iter().cloned().unzip();
        let batch = c.probabilities_batch(&w.concat(), &f.concat()).unwrap();
        for (i, (w, f)) in xs.iter().enumerate() {
            let want = softmax(&spec.forward(w, f).unwrap());
            let k = want.len();
            let got = &batch[i * k..(i + 1) * k];
            for (g, e) in got.iter().zip(&want) {
                assert!((g - e).abs() < 1e-5, "seed {seed}: {got:?} vs {want:?}");
            }
            assert_eq!(c.probabilities(w, f).unwrap(), got);
        }
    }
}

#[test]
fn int8_kernels_follow_the_float_model() {
    let (mut agree, mut total, mut worst) = (0, 0, 0.0f32);
    for seed in 0..100 {
        let spec = random_spec(seed);
        let calib = inputs(&spec, seed + 1000, 200);
        let q = quantize(&spec, &refs(&calib)).unwrap();
        let c = Classifier::from_bytes(&q).unwrap();
        assert!(c.is_int8());
        for (w, f) in inputs(&spec, seed, 50) {
            let want = softmax(&spec.forward(&w, &f).unwrap());
            let got = c.probabilities(&w, &f).unwrap();
            total += 1;
            if argmax(&got) == argmax(&want) {
                agree += 1;
            }
            for (g, e) in got.iter().zip(&want) {
                worst = worst.max((g - e).abs());
            }
        }
    }
    let rate = agree as f64 / total as f64;
    println!("int8 vs float: argmax agreement {rate:.4}, worst probability error {worst:.3}");
    assert!(rate > 0.97, "agreement {rate}");
}

#[test]
fn damaged_models_are_rejected_cleanly() {
    let spec = random_spec(7);
    let bytes = spec.to_bytes().unwrap();
    for cut in 0..bytes.len() {
        assert!(Classifier::from_bytes(&bytes[..cut]).is_err());
    }
    let calib = inputs(&spec, 1, 20);
    let q = quantize(&spec, &refs(&calib)).unwrap();
    for cut in 0..q.len() {
        assert!(Classifier::from_bytes(&q[..cut]).is_err());
    }
    let mut rng = SplitMix64::new(3);
    for _ in 0..2000 {
        let mut b = if rng.chance(0.5) {
            bytes.clone()
        } else {
            q.clone()
        };
        let i = rng.below(b.len());
        b[i] ^= 1 << rng.below(8);
        assert!(
            Classifier::from_bytes(&b).is_err(),
            "CRC must catch a flipped bit"
        );
    }
}

/// A features-only network (an RR-interval classifier has no waveform input).
#[test]
fn features_only_models_run() {
    let mut rng = SplitMix64::new(11);
    let spec = ModelSpec {
        input_channels: 0,
        input_len: 0,
        classes: vec!['N', 'V'],
        feature_mean: vec![0.8; 10],
        feature_scale: vec![5.0; 10],
        metadata: String::new(),
        layers: vec![
            LayerSpec::ConcatFeatures,
            LayerSpec::Dense {
                inputs: 10,
                outputs: 16,
                activation: Activation::Relu,
                weight: randv(&mut rng, 160, 0.3),
                bias: randv(&mut rng, 16, 0.1),
            },
            LayerSpec::Dense {
                inputs: 16,
                outputs: 2,
                activation: Activation::None,
                weight: randv(&mut rng, 32, 0.3),
                bias: randv(&mut rng, 2, 0.1),
            },
        ],
    };
    let c = Classifier::from_bytes(&spec.to_bytes().unwrap()).unwrap();
    let calib: Vec<(Vec<f32>, Vec<f32>)> = (0..100)
        .map(|_| {
            (
                vec![],
                randv(&mut rng, 10, 0.2).iter().map(|x| x + 0.8).collect(),
            )
        })
        .collect();
    let q = Classifier::from_bytes(&quantize(&spec, &refs(&calib)).unwrap()).unwrap();
    for (_, f) in &calib {
        let want = softmax(&spec.forward(&[], f).unwrap());
        let got = c.probabilities(&[], f).unwrap();
        assert!((got[0] - want[0]).abs() < 1e-5);
        assert!((q.probabilities(&[], f).unwrap()[0] - want[0]).abs() < 0.08);
    }
    let all: Vec<f32> = calib.iter().flat_map(|(_, f)| f.clone()).collect();
    assert_eq!(c.probabilities_batch(&[], &all).unwrap().len(), 200);
}
