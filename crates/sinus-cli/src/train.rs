//! `sinus train --db DIR --out DIR`: train the beat classifier on DS1 with patient-wise
//! validation (or the seeds' leaky random split), with progress bars, per-epoch metrics,
//! checkpoints, plots, and the model as float32 and int8 `.snnm` files.

use crate::eval_beats::format_evaluation;
use crate::progress::Progress;
use crate::CliResult;
use clap::{Args, ValueEnum};
use indicatif::ProgressBar;
use serde_json::json;
use sinus_ml::dataset::{BeatWindowConfig, WeightScheme};
use sinus_ml::plot::{confusion_matrix, training_curves, Curve, Panel};
use sinus_ml::recipe::{run as run_recipe, Recipe, Split, Weights};
use sinus_ml::train::{ArchConfig, Head, Loss, Progress as TrainProgress, TrainConfig};
use std::path::{Path, PathBuf};

/// Network choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArchArg {
    /// Depthwise-separable 1-D CNN, global average pooling, + 8 RR features.
    Beatnet,
    /// The same with a flattened (position-keeping) head.
    #[value(name = "beatnet-flatten")]
    BeatnetFlatten,
}

/// Loss choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LossArg {
    /// Class-weighted cross-entropy.
    Ce,
    /// Class-weighted focal loss (gamma from --gamma).
    Focal,
}

/// Class-weight choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WeightsArg {
    /// All classes weigh 1.
    None,
    /// sqrt(majority count / count).
    Sqrt,
    /// Balanced (inverse frequency), capped at 10× the majority class.
    Inverse,
}

/// Split choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    /// DS1 for training with whole DS1 records held out for validation (inter-patient).
    Ds1,
    /// The seeds' random beat-level 80/20 split over DS1+DS2 (LEAKY: same patients in both).
    Leaky,
}

/// Arguments of `sinus train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// MIT-BIH directory.
    #[arg(long)]
    pub db: PathBuf,
    /// Output directory (model.snnm, model.int8.snnm, checkpoints/, history.json, plots).
    #[arg(long)]
    pub out: PathBuf,
    /// Network.
    #[arg(long, value_enum, default_value = "beatnet")]
    pub arch: ArchArg,
    /// Most epochs.
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    /// Batch size.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Loss.
    #[arg(long, value_enum, default_value = "ce")]
    pub loss: LossArg,
    /// Focal-loss gamma.
    #[arg(long, default_value_t = 2.0)]
    pub gamma: f32,
    /// Class weights.
    #[arg(long, value_enum, default_value = "sqrt")]
    pub weights: WeightsArg,
    /// Early stopping: epochs without a better validation macro-F1.
    #[arg(long, default_value_t = 6)]
    pub patience: usize,
    /// Training seed (initialisation, shuffling, dropout, augmentation).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Random amplitude scale, baseline shift, noise and time warp of training beats.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub augment: bool,
    /// A template-difference channel per lead: the beat minus the median of the previous
    /// beats (running template).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub template: bool,
    /// Centre windows on each beat's fiducial point (the slope-energy peak), so windows cut
    /// at reference annotations and at detections agree.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub align: bool,
    /// Leads (signal indices, comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "0,1")]
    pub leads: Vec<usize>,
    /// Networks trained with different seeds and folded into one that averages their logits
    /// (steadier than any one of them: inter-patient training is unstable).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub ensemble: u16,
    /// Split.
    #[arg(long, value_enum, default_value = "ds1")]
    pub split: SplitArg,
    /// DS1 records held out for patient-wise validation.
    #[arg(long, default_value_t = 5)]
    pub valid_records: usize,
    /// Seed of the validation-record draw (and of the leaky beat split).
    #[arg(long, default_value_t = 1)]
    pub split_seed: u64,
    /// Train on these records instead (comma-separated; needs --valid).
    #[arg(long, value_delimiter = ',', requires = "valid")]
    pub train: Option<Vec<String>>,
    /// Validate on these records (with --train).
    #[arg(long, value_delimiter = ',', requires = "train")]
    pub valid: Option<Vec<String>>,
    /// Beat cache directory (default: OUT/../cache).
    #[arg(long)]
    pub cache: Option<PathBuf>,
}

fn write(path: &Path, bytes: &[u8]) -> CliResult {
    std::fs::write(path, bytes).map_err(|e| sinus_io::Error::io(path, e))?;
    Ok(())
}

/// Run `sinus train`.
pub fn run(args: TrainArgs, progress: &Progress) -> CliResult {
    std::fs::create_dir_all(args.out.join("checkpoints"))
        .map_err(|e| sinus_io::Error::io(&args.out, e))?;
    let window = BeatWindowConfig {
        template: args.template,
        align: args.align,
        leads: args.leads.clone(),
        ..BeatWindowConfig::default()
    };
    let mut arch = ArchConfig::beat_default();
    arch.input_channels = window.channels();
    if args.arch == ArchArg::BeatnetFlatten {
        arch = arch.with_head(Head::Flatten);
        arch.name = "beatnet-flatten".into();
    }
    let split = match (&args.train, &args.valid, args.split) {
        (Some(t), Some(v), _) => Split::Records {
            train: t.clone(),
            valid: v.clone(),
        },
        (_, _, SplitArg::Ds1) => Split::InterPatient {
            seed: args.split_seed,
            validation: args.valid_records,
        },
        (_, _, SplitArg::Leaky) => Split::Leaky {
            seed: args.split_seed,
            test_fraction: 0.2,
        },
    };
    let recipe = Recipe {
        db: args.db.clone(),
        cache_dir: Some(
            args.cache
                .clone()
                .unwrap_or_else(|| args.out.join("..").join("cache")),
        ),
        window,
        arch,
        train: TrainConfig {
            epochs: args.epochs,
            batch_size: args.batch,
            learning_rate: args.lr,
            loss: match args.loss {
                LossArg::Ce => Loss::CrossEntropy,
                LossArg::Focal => Loss::Focal { gamma: args.gamma },
            },
            patience: args.patience,
            seed: args.seed,
            augmentation: args.augment.then(Default::default),
            ..TrainConfig::default()
        },
        weights: match args.weights {
            WeightsArg::None => Weights::None,
            WeightsArg::Sqrt => Weights::Scheme(WeightScheme::SqrtInverse),
            WeightsArg::Inverse => Weights::Scheme(WeightScheme::InverseFrequency { cap: 10.0 }),
        },
        split,
        ensemble: args.ensemble as usize,
    };
    let spinner = progress.spinner("cutting beats (cached after the first run)");
    let mut bar: Option<ProgressBar> = None;
    let mut first = true;
    let out = args.out.clone();
    let mut checkpoint_error: Option<String> = None;
    let mut checkpoints = out.join("checkpoints");
    let outcome = run_recipe(&recipe, &mut |p| match p {
        TrainProgress::Member { index, of } => {
            progress.clear();
            eprintln!("ensemble member {} of {of}", index + 1);
            checkpoints = out
                .join("checkpoints")
                .join(format!("member-{}", index + 1));
            if let Err(e) = std::fs::create_dir_all(&checkpoints) {
                checkpoint_error.get_or_insert(e.to_string());
            }
        }
        TrainProgress::Batch {
            epoch,
            batch,
            batches,
        } => {
            if first {
                spinner.finish_and_clear();
                first = false;
            }
            let b = bar.get_or_insert_with(|| {
                let b = progress.bar(batches as u64, &format!("epoch {epoch}"));
                b.set_message(format!("epoch {epoch}"));
                b
            });
            b.set_position(batch as u64);
        }
        TrainProgress::Epoch { report, spec } => {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
            let f1 = |c: char| {
                report
                    .classes
                    .iter()
                    .find(|m| m.class == c)
                    .and_then(|m| m.f1)
                    .map_or_else(|| "-".into(), |v| format!("{:.1}", 100.0 * v))
            };
            progress.clear();
            eprintln!(
                "epoch {:>3}  train loss {:.4}  valid loss {:.4}  acc {:.2} %  macro-F1 {:.2} %  F1 N {} S {} V {} F {}  ({:.1} s)",
                report.epoch,
                report.train_loss,
                report.valid_loss,
                100.0 * report.valid_accuracy,
                100.0 * report.valid_macro_f1,
                f1('N'),
                f1('S'),
                f1('V'),
                f1('F'),
                report.seconds
            );
            let path = checkpoints.join(format!("epoch-{:03}.snnm", report.epoch));
            if let Err(e) = spec
                .to_bytes()
                .and_then(|b| std::fs::write(&path, b).map_err(|e| sinus_io::Error::io(&path, e)))
            {
                checkpoint_error.get_or_insert(e.to_string());
            }
        }
    })?;
    spinner.finish_and_clear();
    if let Some(e) = checkpoint_error {
        return Err(format!("writing a checkpoint: {e}").into());
    }
    let o = &outcome.outcome;
    write(&args.out.join("model.snnm"), &outcome.float_bytes)?;
    write(&args.out.join("model.int8.snnm"), &outcome.int8_bytes)?;
    let history = json!({
        "best_epoch": o.best_epoch,
        "train_records": outcome.train_records,
        "valid_records": outcome.valid_records,
        "beats": {"train": outcome.beats.0, "valid": outcome.beats.1, "test": outcome.beats.2},
        "parameters": o.spec.parameters(),
        "macs": o.spec.macs()?,
        "epochs": o.history,
        "leaky_test": outcome.leaky_test,
        "valid_final": outcome.valid,
        "members": outcome.members.iter().map(|(seed, m)| json!({
            "seed": seed, "best_epoch": m.best_epoch, "epochs": m.history,
        })).collect::<Vec<_>>(),
    });
    write(
        &args.out.join("history.json"),
        serde_json::to_string_pretty(&history)?.as_bytes(),
    )?;
    let pts = |f: &dyn Fn(&sinus_ml::train::EpochReport) -> f64| -> Vec<(f64, f64)> {
        o.history.iter().map(|r| (r.epoch as f64, f(r))).collect()
    };
    let curves = [
        Curve::new("train loss", Panel::Loss, pts(&|r| r.train_loss)),
        Curve::new("validation loss", Panel::Loss, pts(&|r| r.valid_loss)),
        Curve::new(
            "validation accuracy",
            Panel::Metric,
            pts(&|r| r.valid_accuracy),
        ),
        Curve::new(
            "validation macro-F1",
            Panel::Metric,
            pts(&|r| r.valid_macro_f1),
        ),
    ];
    let title = format!(
        "{} — best epoch {} (patient-wise validation)",
        sinus_ml::metadata::ModelMetadata::parse(&o.spec.metadata)
            .map(|m| m.name)
            .unwrap_or_default(),
        o.best_epoch
    );
    if let Some(best) = o.history.get(o.best_epoch.saturating_sub(1)) {
        let labels: Vec<String> = o.spec.classes.iter().map(|c| c.to_string()).collect();
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        let counts: Vec<Vec<u64>> = best
            .confusion
            .counts
            .iter()
            .map(|r| r.iter().map(|&v| v as u64).collect())
            .collect();
        for ext in ["png", "svg"] {
            confusion_matrix(
                args.out.join(format!("confusion_valid.{ext}")),
                &labels,
                &counts,
                &format!("validation, epoch {} (rows: reference)", o.best_epoch),
            )?;
        }
    }
    for ext in ["png", "svg"] {
        training_curves(args.out.join(format!("curves.{ext}")), &title, &curves)?;
    }
    println!(
        "best epoch {} of {}: model ({} parameters, {} MACs per beat) -> {}",
        o.best_epoch,
        o.history.len(),
        o.spec.parameters(),
        o.spec.macs()?,
        args.out.join("model.snnm").display()
    );
    if let Some(t) = &outcome.leaky_test {
        println!(
            "\nLEAKY random beat split (the same patients in training and test; not a measure \
             of performance on new patients):\n{}",
            format_evaluation(t)
        );
    }
    Ok(())
}
