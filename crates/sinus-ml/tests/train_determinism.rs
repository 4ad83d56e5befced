//! Training is reproducible: the same seed gives byte-identical models, another seed does not.

use sinus_ml::augment::Augmentation;
use sinus_ml::rng::SplitMix64;
use sinus_ml::train::{train, ArchConfig, ConvBlock, Head, Loss, TrainConfig, TrainData};

/// Three classes of 1 × 32 waveforms (a bump at a class-dependent place) with 2 features.
fn synthetic(n: usize, seed: u64) -> TrainData {
    let mut rng = SplitMix64::new(seed);
    let (mut waves, mut feats, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let class = i % 3;
        let centre = 8.0 + 8.0 * class as f64;
        for t in 0..32 {
            let d = (t as f64 - centre) / 3.0;
            waves.push(((-d * d).exp() + 0.3 * rng.normal()) as f32);
        }
        feats.push((class as f64 + rng.normal()) as f32);
        feats.push((10.0 + rng.normal()) as f32);
        labels.push(class as u8);
    }
    TrainData::new(waves, feats, labels, 1, 32, 2, vec!['a', 'b', 'c']).unwrap()
}

fn arch() -> ArchConfig {
    ArchConfig {
        name: "tiny".into(),
        input_channels: 1,
        input_len: 32,
        n_features: 2,
        classes: vec!['a', 'b', 'c'],
        blocks: vec![
            ConvBlock::new(4, 5, 2, false),
            ConvBlock::new(6, 3, 2, true),
        ],
        head: Head::GlobalAvgPool,
        concat_features: true,
        hidden: vec![8],
        dropout: 0.3,
    }
}

fn run(seed: u64) -> Vec<u8> {
    let (tr, va) = (synthetic(300, 1), synthetic(90, 2));
    let cfg = TrainConfig {
        epochs: 3,
        batch_size: 32,
        loss: Loss::Focal { gamma: 2.0 },
        class_weights: vec![1.0, 2.0, 0.5],
        seed,
        augmentation: Some(Augmentation::default()),
        ..TrainConfig::default()
    };
    let out = train(&arch(), &tr, &va, &cfg, &mut |_| {}).unwrap();
    assert_eq!(out.history.len(), 3);
    out.spec.to_bytes().unwrap()
}

#[test]
fn same_seed_same_model() {
    let a = run(7);
    let b = run(7);
    assert!(a == b, "two runs with seed 7 gave different models");
    assert_ne!(a, run(8), "another seed should give another model");
}
