//! Beat-classifier inference speed through `sinus_core::nn` (float and int8), one core:
//! `cargo bench -p sinus-ml --bench inference`. The network is the default "beatnet" shape
//! with random weights (speed does not depend on the values), for 1 input channel (the
//! historical benchmark), 2 (the shipped model's two leads) and 4 (two leads with a template
//! channel each, the next model's input); the benchmark ids end in the channel count. `examples/infer_speed.rs`
//! prints the same as beats/s for `bench/train_peers.sh`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sinus_ml::infer::Classifier;
use sinus_ml::quant::quantize;

#[path = "common/beatnet.rs"]
mod beatnet;

fn bench(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("beat_inference_1_core");
    let n = 4096;
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(20);
    for channels in [1, 2, 4] {
        let spec = beatnet::beatnet(1, channels);
        let wn = 128 * channels;
        let (w, f) = beatnet::beats(2, n, wn, 8);
        let float = Classifier::from_bytes(&spec.to_bytes().unwrap()).unwrap();
        let calib: Vec<(&[f32], &[f32])> = (0..256)
            .map(|i| (&w[i * wn..(i + 1) * wn], &f[i * 8..(i + 1) * 8]))
            .collect();
        let int8 = Classifier::from_bytes(&quantize(&spec, &calib).unwrap()).unwrap();
        println!(
            "beatnet, {channels} input channels: {} parameters, {} MACs per beat",
            spec.parameters(),
            spec.macs().unwrap()
        );
        g.bench_function(format!("float32_{channels}ch"), |b| {
            b.iter(|| pool.install(|| float.probabilities_batch(&w, &f).unwrap()))
        });
        g.bench_function(format!("int8_{channels}ch"), |b| {
            b.iter(|| pool.install(|| int8.probabilities_batch(&w, &f).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
