//! Throughput of the streaming QRS detector, one core, in samples per second (criterion's
//! `elements/s`): MIT-BIH record 100 (channel 0, 360 Hz, 30 min) when the database is present,
//! and a synthetic beat train at 250 Hz (the device) and 360 Hz (MIT-BIH's rate) always.
//!
//! `cargo bench -p sinus-core --bench qrs`
//!
//! Each iteration builds a detector (its filter design included), feeds the whole input with
//! `process`, and flushes, as `sinus detect` does for a record.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sinus_core::qrs::{QrsConfig, QrsDetector};
use sinus_io::datasets::find_mitdb;
use sinus_io::wfdb::record::{read_record_with, ReadOptions};
use std::path::Path;

fn detect_all(x: &[f32], fs: f32) -> usize {
    let mut det = QrsDetector::new(QrsConfig::new(fs)).expect("rate in range");
    let mut beats = 0usize;
    det.process(x, |_| beats += 1);
    while det.flush().is_some() {
        beats += 1;
    }
    beats
}

/// Five minutes of a sum-of-Gaussians beat (Q, R, S, T) at 72–80 beats/min, 1 mV R wave, with
/// breathing wander and a little deterministic noise.
fn synthetic(fs: f32) -> Vec<f32> {
    let n = (300.0 * fs) as usize;
    let rr = [0.80f32, 0.75, 0.78, 0.82];
    let mut peaks = Vec::new();
    let mut t = 0.5f32;
    let mut k = 0;
    while t < 300.0 {
        peaks.push(t);
        t += rr[k % rr.len()];
        k += 1;
    }
    let waves: [(f32, f32, f32); 4] = [
        (-0.10, -0.025, 0.008),
        (1.00, 0.0, 0.010),
        (-0.25, 0.025, 0.008),
        (0.30, 0.28, 0.040),
    ];
    let mut x = vec![0.0f32; n];
    for &p in &peaks {
        for &(a, off, sigma) in &waves {
            let c = (p + off) * fs;
            let s = sigma * fs;
            let lo = (c - 5.0 * s).max(0.0) as usize;
            let hi = ((c + 5.0 * s) as usize).min(n);
            for (i, v) in x.iter_mut().enumerate().take(hi).skip(lo) {
                let d = (i as f32 - c) / s;
                *v += a * (-0.5 * d * d).exp();
            }
        }
    }
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for (i, v) in x.iter_mut().enumerate() {
        let t = i as f32 / fs;
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let noise = ((seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.02;
        *v += 0.3 * (2.0 * std::f32::consts::PI * 0.25 * t).sin() + noise;
    }
    x
}

fn mitdb_100() -> Option<Vec<f32>> {
    let db = find_mitdb(Path::new(env!("CARGO_MANIFEST_DIR")))?;
    let opts = ReadOptions {
        channels: Some(vec![0]),
        ..ReadOptions::default()
    };
    let rec = read_record_with(db.join("100"), &opts).ok()?;
    let sig = rec.recording.signals.first()?;
    Some(
        (0..sig.samples.len())
            .map(|i| sig.physical(i) as f32)
            .collect(),
    )
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("qrs_streaming");
    let mut inputs: Vec<(String, f32, Vec<f32>)> = Vec::new();
    match mitdb_100() {
        Some(x) => inputs.push(("mitdb-100".into(), 360.0, x)),
        None => eprintln!("note: MIT-BIH not found (set SINUS_MITDB); record 100 skipped"),
    }
    for fs in [250.0f32, 360.0] {
        inputs.push(("synthetic".into(), fs, synthetic(fs)));
    }
    for (name, fs, x) in &inputs {
        // A sanity check that the benchmark measures real detection, not an early exit.
        assert!(
            detect_all(x, *fs) > x.len() / (*fs as usize) / 2,
            "{name}: too few beats"
        );
        group.throughput(Throughput::Elements(x.len() as u64));
        group.bench_with_input(
            BenchmarkId::new(name.as_str(), format!("{fs} Hz")),
            x,
            |b, x| b.iter(|| detect_all(black_box(x), *fs)),
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
