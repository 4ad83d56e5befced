#![allow(clippy::needless_range_loop)] // Confusion matrices are indexed by class.
//! Beat evaluation bookkeeping on real records with an untrained (random) model: every
//! reference beat is counted exactly once in both modes.

use sinus_io::datasets::mitdb_for_tests;
use sinus_ml::dataset::{AamiClass, BeatWindowConfig, Dataset};
use sinus_ml::evaluate::{evaluate_end_to_end, evaluate_reference, scores};
use sinus_ml::infer::Classifier;
use sinus_ml::metadata::{InputKind, ModelMetadata, WindowMeta};
use sinus_ml::rng::SplitMix64;
use sinus_ml::spec::{Activation, LayerSpec, ModelSpec};
use sinus_signal::detect::QrsDetectorKind;

fn random_model() -> Classifier {
    let mut r = SplitMix64::new(5);
    let mut v = |n: usize| -> Vec<f32> { (0..n).map(|_| (r.normal() * 0.2) as f32).collect() };
    let meta = ModelMetadata {
        name: "random".into(),
        input: InputKind::BeatWindowRr,
        window: Some(WindowMeta::from_config(&BeatWindowConfig::default())),
        training: serde_json::Value::Null,
    };
    let spec = ModelSpec {
        input_channels: 1,
        input_len: 128,
        classes: "NSVFQ".chars().collect(),
        feature_mean: vec![0.8; 8],
        feature_scale: vec![3.0; 8],
        metadata: meta.to_json(),
        layers: vec![
            LayerSpec::Conv1d {
                in_channels: 1,
                out_channels: 4,
                kernel: 5,
                stride: 4,
                pad_left: 2,
                pad_right: 2,
                groups: 1,
                activation: Activation::Relu,
                weight: v(20),
                bias: v(4),
            },
            LayerSpec::GlobalAvgPool,
            LayerSpec::ConcatFeatures,
            LayerSpec::Dense {
                inputs: 12,
                outputs: 5,
                activation: Activation::None,
                weight: v(60),
                bias: v(5),
            },
        ],
    };
    Classifier::from_bytes(&spec.to_bytes().unwrap()).unwrap()
}

#[test]
fn every_reference_beat_is_counted_once() {
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let model = random_model();
    let records = ["119", "208"];
    let ds = Dataset::build(&db, &records, &BeatWindowConfig::default()).unwrap();
    let counts = ds.class_counts();
    let reference = evaluate_reference(&model, &db, &records, None).unwrap();
    for c in 0..5 {
        let row: u64 = reference.confusion[c].iter().sum();
        assert_eq!(
            row as usize,
            counts[c],
            "class {}",
            AamiClass::from_index(c).unwrap().name()
        );
    }
    assert_eq!(reference.confusion[5].iter().sum::<u64>(), 0);
    let e2e = evaluate_end_to_end(&model, &db, &records, QrsDetectorKind::Offline, None).unwrap();
    // Reference beats: classified + missed; the few edge beats the dataset skips are here too.
    for c in 0..5 {
        let row: u64 = e2e.confusion[c].iter().sum();
        assert!(
            row as usize >= counts[c] && row as usize <= counts[c] + 3,
            "class {c}: {row} vs {}",
            counts[c]
        );
    }
    // The offline detector misses or adds only a handful of beats here.
    let missed: u64 = (0..5).map(|c| e2e.confusion[c][5]).sum();
    let extra: u64 = e2e.confusion[5].iter().sum();
    assert!(missed < 20 && extra < 20, "missed {missed}, extra {extra}");
    let (classes, acc, macro_f1) = scores(&e2e.confusion);
    assert_eq!(classes["V"].tp, e2e.confusion[2][2]);
    assert!((0.0..=100.0).contains(&acc) && (0.0..=100.0).contains(&macro_f1));

    // Resampled to another rate, every reference beat is still counted once (up to the beats
    // at the record's edges), and end to end still finds them and scores on the record's clock.
    for fs in [250.0, 128.0] {
        let r = evaluate_reference(&model, &db, &records, Some(fs)).unwrap();
        for c in 0..5 {
            let row: u64 = r.confusion[c].iter().sum();
            assert!(
                row as usize + 2 >= counts[c] && row as usize <= counts[c] + 2,
                "{fs} Hz class {c}: {row} vs {}",
                counts[c]
            );
        }
        let e =
            evaluate_end_to_end(&model, &db, &records, QrsDetectorKind::Offline, Some(fs)).unwrap();
        let missed: u64 = (0..5).map(|c| e.confusion[c][5]).sum();
        let extra: u64 = e.confusion[5].iter().sum();
        assert!(
            missed < 25 && extra < 25,
            "{fs} Hz: missed {missed}, extra {extra}"
        );
    }
}

#[test]
fn end_to_end_scores_records_with_flutter_episodes() {
    // Record 207's ventricular flutter episodes are not scored by bxb: the beats in them are in
    // none of its lists, which the pairing must follow.
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let e = evaluate_end_to_end(
        &random_model(),
        &db,
        &["207"],
        QrsDetectorKind::Offline,
        None,
    )
    .unwrap();
    let scored: u64 = e.confusion.iter().flatten().sum();
    assert!(scored > 1500, "{scored}");
}

#[test]
fn scores_follow_ec57_exclusions() {
    let mut m = [[0u64; 6]; 6];
    m[0][0] = 90; // N called N
    m[0][2] = 5; // N called V: a VEB false positive
    m[3][2] = 7; // F called V: not a VEB false positive
    m[4][1] = 3; // Q called S: not an SVEB false positive
    m[2][2] = 20;
    m[2][5] = 2; // a missed V
    m[5][2] = 1; // an extra detection called V
    let (c, acc, _) = scores(&m);
    assert_eq!((c["V"].tp, c["V"].fn_, c["V"].fp), (20, 2, 6));
    assert_eq!(c["S"].fp, 0);
    assert!((acc - 100.0 * 110.0 / 128.0).abs() < 1e-9);
}
