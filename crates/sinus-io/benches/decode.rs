//! Decoding throughput of every WFDB signal format on 1 M samples (two signals of 500 000
//! frames, ECG-like values), both frame-ordered (`decode`) and split into one vector per signal
//! (`FrameDecoder::decode_split`, what the record reader uses); and reading MIT-BIH record 100
//! when the database is present (`SINUS_MITDB` or the usual places).
//!
//! Run: `cargo bench -p sinus-io --bench decode` (add `-- 212` to run only names containing 212).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sinus_io::datasets::mitdb_for_tests;
use sinus_io::wfdb::format::{decode, encode, FrameDecoder, SignalFormat, SignalOutput};
use sinus_io::wfdb::record::{read_record, RecordReader};
use std::hint::black_box;
use std::time::Duration;

const FRAMES: usize = 500_000;
const SPF: [u32; 2] = [1, 1];

const FORMATS: [SignalFormat; 13] = [
    SignalFormat::Fmt8,
    SignalFormat::Fmt16,
    SignalFormat::Fmt24,
    SignalFormat::Fmt32,
    SignalFormat::Fmt61,
    SignalFormat::Fmt80,
    SignalFormat::Fmt160,
    SignalFormat::Fmt212,
    SignalFormat::Fmt310,
    SignalFormat::Fmt311,
    SignalFormat::Flac508,
    SignalFormat::Flac516,
    SignalFormat::Flac524,
];

/// Two ECG-like signals (a slow wave, sharp beats, a little noise), frame-ordered, scaled to
/// about 40 % of the format's range; steps stay small enough for format 8's differences.
fn samples(format: SignalFormat) -> Vec<i32> {
    let amplitude = match format {
        // Successive differences must fit in 8 bits.
        SignalFormat::Fmt8 => 1000.0,
        _ => f64::from(format.valid_range().1.min(1 << 20)) * 0.4,
    };
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut out = Vec::with_capacity(FRAMES * 2);
    for i in 0..FRAMES {
        for s in 0..2 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let t = i as f64 / 360.0 + s as f64 * 0.3;
            let beat = (-(((t % 0.8) - 0.4) * 40.0).powi(2)).exp();
            let wave = 0.2 * (t * 2.0).sin() + beat;
            let noise = ((seed % 7) as f64 - 3.0) / 1000.0;
            out.push(((wave + noise) * amplitude).round() as i32);
        }
    }
    out
}

fn bench_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    group
        .throughput(Throughput::Elements((FRAMES * 2) as u64))
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    for format in FORMATS {
        let values = samples(format);
        let initial = [values[0], values[1]];
        let bytes = encode(format, &values, &SPF, &initial).expect("encodable samples");
        assert_eq!(
            decode(format, &bytes, &SPF, &initial, None).expect("decodes"),
            values
        );
        let id = format.code();
        group.bench_with_input(BenchmarkId::new("frames", id), &bytes, |b, bytes| {
            b.iter(|| decode(format, black_box(bytes), &SPF, &initial, None))
        });
        if format.is_flac() {
            continue;
        }
        let (mut a, mut s, mut scratch) = (Vec::new(), Vec::new(), Vec::new());
        let mut decoder = FrameDecoder::new(format, &SPF, &initial).expect("layout");
        let (mut sum_a, mut sum_s) = (0, 0);
        let mut outputs = [
            Some(SignalOutput {
                samples: &mut a,
                sum: &mut sum_a,
            }),
            Some(SignalOutput {
                samples: &mut s,
                sum: &mut sum_s,
            }),
        ];
        decoder
            .decode_split(&bytes, u64::MAX, &mut outputs, &mut scratch)
            .expect("decodes");
        let split: Vec<i32> = a.iter().zip(&s).flat_map(|(&x, &y)| [x, y]).collect();
        assert_eq!(split, values);
        group.bench_with_input(BenchmarkId::new("split", id), &bytes, |b, bytes| {
            b.iter(|| {
                a.clear();
                s.clear();
                a.reserve(FRAMES);
                s.reserve(FRAMES);
                let mut decoder = FrameDecoder::new(format, &SPF, &initial).expect("layout");
                let (mut sum_a, mut sum_s) = (0, 0);
                let mut outputs = [
                    Some(SignalOutput {
                        samples: &mut a,
                        sum: &mut sum_a,
                    }),
                    Some(SignalOutput {
                        samples: &mut s,
                        sum: &mut sum_s,
                    }),
                ];
                decoder
                    .decode_split(black_box(bytes), u64::MAX, &mut outputs, &mut scratch)
                    .expect("decodes")
            })
        });
    }
    group.finish();
}

fn bench_read(c: &mut Criterion) {
    let Some(dir) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        eprintln!("MIT-BIH not found: skipping the read_record benchmarks");
        return;
    };
    let path = dir.join("100");
    let samples: usize = read_record(&path)
        .expect("record 100 reads")
        .recording
        .signals
        .iter()
        .map(|s| s.samples.len())
        .sum();
    let mut group = c.benchmark_group("read_record");
    group
        .throughput(Throughput::Elements(samples as u64))
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    group.bench_function("mitdb 100 fresh", |b| {
        b.iter(|| read_record(black_box(&path)).expect("reads"))
    });
    let mut reader = RecordReader::new();
    group.bench_function("mitdb 100 reused", |b| {
        b.iter(|| {
            let record = reader.read(black_box(&path)).expect("reads");
            reader.recycle(record);
        })
    });
    group.finish();
}

criterion_group!(benches, bench_decode, bench_read);
criterion_main!(benches);
