//! Beat-classifier inference speed through `sinus_core::nn` (float and int8), one core:
//! `cargo bench -p sinus-ml --bench inference`. The network is the default "beatnet" shape
//! with random weights (speed does not depend on the values). `examples/infer_speed.rs`
//! prints the same as beats/s for `bench/train_peers.sh`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sinus_ml::infer::Classifier;
use sinus_ml::quant::quantize;

#[path = "common/beatnet.rs"]
mod beatnet;

fn bench(c: &mut Criterion) {
    let spec = beatnet::beatnet(1);
    let n = 4096;
    let (w, f) = beatnet::beats(2, n, 128, 8);
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
