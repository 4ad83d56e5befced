//! Train "beatnet" on DS1 with a patient-wise validation split and print per-epoch metrics.
//!
//! ```text
//! cargo run --release -p sinus-ml --example train_ds1 -- [--epochs 20] [--seed 1]
//!     [--val-seed 1] [--val-records 5] [--head gap|flatten] [--loss ce|focal]
//!     [--weights none|inv10|sqrt] [--aug] [--patience 6] [--out target/beatnet.snnm]
//! ```
//! MIT-BIH comes from `SINUS_MITDB` or the test data location; beats are cached under
//! `target/sinus-cache`. DS2 is never touched.

use sinus_ml::augment::Augmentation;
use sinus_ml::cache::build_cached;
use sinus_ml::dataset::{class_weights, BeatWindowConfig, WeightScheme};
use sinus_ml::split::{training_records, validation_records};
use sinus_ml::train::{train, ArchConfig, Head, Loss, Progress, TrainConfig, TrainData};
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut cfg = TrainConfig {
        epochs: 20,
        ..TrainConfig::default()
    };
    let (mut val_seed, mut val_n) = (1u64, 5usize);
    let mut arch = ArchConfig::beat_default();
    let mut weights = "inv10".to_string();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target");
    let mut out = root.join("beatnet.snnm");
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--epochs" => cfg.epochs = val()?.parse()?,
            "--seed" => cfg.seed = val()?.parse()?,
            "--val-seed" => val_seed = val()?.parse()?,
            "--val-records" => val_n = val()?.parse()?,
            "--patience" => cfg.patience = val()?.parse()?,
            "--batch" => cfg.batch_size = val()?.parse()?,
            "--lr" => cfg.learning_rate = val()?.parse()?,
            "--head" => {
                arch.head = match val()?.as_str() {
                    "flatten" => Head::Flatten,
                    _ => Head::GlobalAvgPool,
                }
            }
            "--loss" => {
                cfg.loss = match val()?.as_str() {
                    "focal" => Loss::Focal { gamma: 2.0 },
                    _ => Loss::CrossEntropy,
                }
            }
            "--weights" => weights = val()?,
            "--aug" => cfg.augmentation = Some(Augmentation::default()),
            "--out" => out = PathBuf::from(val()?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let db = std::env::var_os("SINUS_MITDB")
        .map(PathBuf::from)
        .or_else(|| sinus_io::datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR")))
        .ok_or("MIT-BIH not found (set SINUS_MITDB)")?;
    let window = BeatWindowConfig::default();
    let t0 = Instant::now();
    let cache = root.join("sinus-cache");
    let (tr_rec, va_rec) = (
        training_records(val_seed, val_n),
        validation_records(val_seed, val_n),
    );
    let tr = TrainData::from_dataset(&build_cached(&cache, &db, &tr_rec, &window)?)?;
    let va = TrainData::from_dataset(&build_cached(&cache, &db, &va_rec, &window)?)?;
    println!(
        "data {:.1} s: train {:?} {} beats {:?}; valid {:?} {} beats {:?}",
        t0.elapsed().as_secs_f64(),
        tr_rec,
        tr.examples(),
        tr.class_counts(),
        va_rec,
        va.examples(),
        va.class_counts()
    );
    let counts: [usize; 5] = tr.class_counts().try_into().map_err(|_| "5 classes")?;
    cfg.class_weights = match weights.as_str() {
        "none" => vec![],
        "sqrt" => class_weights(&counts, WeightScheme::SqrtInverse)
            .iter()
            .map(|&w| w as f32)
            .collect(),
        _ => class_weights(&counts, WeightScheme::InverseFrequency { cap: 10.0 })
            .iter()
            .map(|&w| w as f32)
            .collect(),
    };
    println!(
        "arch {} head {:?}, loss {:?}, weights {weights} {:?}, aug {}, seed {}, threads {}",
        arch.name,
        arch.head,
        cfg.loss,
        cfg.class_weights,
        cfg.augmentation.is_some(),
        cfg.seed,
        rayon::current_num_threads()
    );
    let t1 = Instant::now();
    let mut last_pct = 0;
    let outcome = train(&arch, &tr, &va, &cfg, &mut |p| match p {
        Progress::Batch { batch, batches, .. } => {
            let pct = batch * 10 / batches;
            if pct != last_pct {
                last_pct = pct;
                eprint!(".");
            }
        }
        Progress::Member { .. } => {}
        Progress::Epoch { report: r, .. } => {
            last_pct = 0;
            let m = |i: usize| {
                let c = &r.classes[i];
                format!(
                    "{} Se {:5.1} +P {:5.1}",
                    c.class,
                    100.0 * c.se.unwrap_or(f64::NAN),
                    100.0 * c.ppv.unwrap_or(f64::NAN)
                )
            };
            eprintln!();
            println!(
                "epoch {:2} {:5.1} s  loss {:.4}/{:.4}  acc {:.4}  macroF1 {:.4}  {} | {} | {} | {}",
                r.epoch,
                r.seconds,
                r.train_loss,
                r.valid_loss,
                r.valid_accuracy,
                r.valid_macro_f1,
                m(0),
                m(1),
                m(2),
                m(3)
            );
        }
    })?;
    let spec = &outcome.spec;
    println!(
        "best epoch {} macroF1 {:.4}; {} epochs in {:.1} s; {} parameters, {} MACs per beat",
        outcome.best_epoch,
        outcome.history[outcome.best_epoch - 1].valid_macro_f1,
        outcome.history.len(),
        t1.elapsed().as_secs_f64(),
        spec.parameters(),
        spec.macs()?
    );
    let bytes = spec.to_bytes()?;
    std::fs::write(&out, &bytes)?;
    // The file's own CRC-32 (its last 4 bytes) identifies the model.
    let crc = sinus_ml::spec::crc32(&bytes[..bytes.len().saturating_sub(4)]);
    println!(
        "wrote {} ({} bytes, CRC {crc:08x})",
        out.display(),
        bytes.len()
    );
    Ok(())
}
