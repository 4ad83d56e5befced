//! Beat-classifier inference speed through `sinus_core::nn` (float and int8), one core:
//! `cargo bench -p sinus-ml --bench inference`. The network is the default "beatnet" shape
//! with random weights (speed does not depend on the values).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sinus_ml::infer::Classifier;
use sinus_ml::quant::quantize;
use sinus_ml::rng::SplitMix64;
use sinus_ml::spec::{Activation, LayerSpec, ModelSpec};

fn randv(rng: &mut SplitMix64, n: usize, scale: f64) -> Vec<f32> {
    (0..n).map(|_| (rng.normal() * scale) as f32).collect()
}

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

/// The "beatnet" layer list (batch norm folded away).
pub fn beatnet(seed: u64) -> ModelSpec {
    let mut r = SplitMix64::new(seed);
    let layers = vec![
        conv(&mut r, 1, 16, 7, 2, 1, true),
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
        input_channels: 1,
        input_len: 128,
        classes: "NSVFQ".chars().collect(),
        feature_mean: vec![0.8; 8],
        feature_scale: vec![4.0; 8],
        metadata: String::new(),
        layers,
    }
}

fn bench(c: &mut Criterion) {
    let spec = beatnet(1);
    let n = 4096;
    let mut r = SplitMix64::new(2);
    let w = randv(&mut r, n * 128, 1.0);
    let f: Vec<f32> = randv(&mut r, n * 8, 0.1).iter().map(|x| x + 0.8).collect();
    let float = Classifier::from_bytes(&spec.to_bytes().unwrap()).unwrap();
    let calib: Vec<(&[f32], &[f32])> = (0..256)
        .map(|i| (&w[i * 128..(i + 1) * 128], &f[i * 8..(i + 1) * 8]))
        .collect();
    let int8 = Classifier::from_bytes(&quantize(&spec, &calib).unwrap()).unwrap();
    println!(
        "beatnet: {} parameters, {} MACs per beat",
        spec.parameters(),
        spec.macs().unwrap()
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("beat_inference_1_core");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(20);
    g.bench_function("float32", |b| {
        b.iter(|| pool.install(|| float.probabilities_batch(&w, &f).unwrap()))
    });
    g.bench_function("int8", |b| {
        b.iter(|| pool.install(|| int8.probabilities_batch(&w, &f).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
