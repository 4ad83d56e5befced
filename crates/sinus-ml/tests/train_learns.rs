//! A tiny model trained on two MIT-BIH records learns: the training loss falls and beats held
//! out by time (the last 30 % of each record) are classified far above the majority rate.

use sinus_ml::dataset::{extract_beats, BeatWindowConfig};
use sinus_ml::train::{train, ArchConfig, ConvBlock, Head, Progress, TrainConfig, TrainData};

#[test]
fn tiny_model_learns_n_versus_v_on_208_and_119() {
    let Some(db) = sinus_io::datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let config = BeatWindowConfig::default();
    let (mut tr, mut te) = (Vec::new(), Vec::new());
    for rec in ["208", "119"] {
        let beats = extract_beats(db.join(rec), &config).unwrap().beats;
        let cut = beats.len() * 7 / 10;
        tr.extend_from_slice(&beats[..cut]);
        te.extend_from_slice(&beats[cut..]);
    }
    let (tr, te) = (
        TrainData::from_beats(&tr).unwrap(),
        TrainData::from_beats(&te).unwrap(),
    );
    let arch = ArchConfig {
        name: "tiny".into(),
        blocks: vec![
            ConvBlock::new(8, 7, 4, false),
            ConvBlock::new(16, 5, 4, true),
        ],
        hidden: vec![16],
        ..ArchConfig::beat_default()
    };
    assert_eq!(arch.head, Head::GlobalAvgPool);
    let cfg = TrainConfig {
        epochs: 4,
        batch_size: 64,
        learning_rate: 3e-3,
        patience: 0,
        ..TrainConfig::default()
    };
    let mut batches = 0;
    let out = train(&arch, &tr, &te, &cfg, &mut |p| {
        if let Progress::Batch { .. } = p {
            batches += 1;
        }
    })
    .unwrap();
    assert_eq!(batches, 4 * tr.examples().div_ceil(64));
    let h = &out.history;
    for r in h {
        eprintln!(
            "epoch {} loss {:.3} valid {:.3} acc {:.3} F1 {:.3} ({:.1} s)",
            r.epoch, r.train_loss, r.valid_loss, r.valid_accuracy, r.valid_macro_f1, r.seconds
        );
    }
    assert!(
        h[3].train_loss < 0.6 * h[0].train_loss,
        "training loss falls"
    );
    let counts = te.class_counts();
    let majority = *counts.iter().max().unwrap() as f64 / te.examples() as f64;
    let best = &h[out.best_epoch - 1];
    assert!(
        best.valid_accuracy > majority + 0.2,
        "held-out accuracy {} vs majority {majority}",
        best.valid_accuracy
    );
    let v = &best.classes[2];
    assert!(v.se.unwrap() > 0.8 && v.ppv.unwrap() > 0.8, "V {v:?}");
    // The exported spec classifies held-out beats as burn did.
    let mut correct = 0;
    for i in 0..te.examples() {
        let logits = out
            .spec
            .forward(
                &te.waveforms[i * 128..(i + 1) * 128],
                &te.features[i * 8..(i + 1) * 8],
            )
            .unwrap();
        let pred = (0..5).fold(0, |b, c| if logits[c] > logits[b] { c } else { b });
        correct += (pred == te.labels[i] as usize) as usize;
    }
    let acc = correct as f64 / te.examples() as f64;
    assert!(
        (acc - best.valid_accuracy).abs() < 2e-3,
        "spec {acc} vs burn {}",
        best.valid_accuracy
    );
}
