//! The beat-classifier training recipe behind `sinus train`: data, split, class weights,
//! training, metadata and int8 quantisation, in one call.
//!
//! No peeking: with [`Split::InterPatient`] every choice is made on DS1 only — the model is
//! trained on DS1 records and selected (early stopping) on a patient-wise validation set of
//! whole DS1 records; DS2 is never read here. [`Split::Leaky`] reproduces the seeds' random
//! beat-level 80/20 split over all 44 non-paced records: the same patients appear in training
//! and test, so its figures overstate performance on new patients and are reported only
//! beside the inter-patient ones, labelled as leaky.

use crate::cache::build_cached;
use crate::dataset::{BeatWindowConfig, Dataset, WeightScheme};
use crate::evaluate::{finish_beats, BeatEvaluation};
use crate::infer::Classifier;
use crate::metadata::{InputKind, ModelMetadata, WindowMeta};
use crate::quant::quantize;
use crate::rng::SplitMix64;
use crate::spec::ModelSpec;
use crate::split::{training_records, validation_records, DS1, DS2};
use crate::train::{train, ArchConfig, Progress, TrainConfig, TrainData, TrainOutcome};
use crate::{Error, Result};
use serde_json::json;
use std::path::PathBuf;

/// How the beats are split.
#[derive(Debug, Clone, PartialEq)]
pub enum Split {
    /// Train on DS1 less `validation` whole records chosen by `seed`; validate on those.
    InterPatient {
        /// Seed of the validation-record draw.
        seed: u64,
        /// Number of DS1 records held out for validation.
        validation: usize,
    },
    /// Given training and validation records.
    Records {
        /// Training records.
        train: Vec<String>,
        /// Validation records.
        valid: Vec<String>,
    },
    /// The seeds' random beat-level split over DS1 + DS2 (leaky: same patients on both
    /// sides): `test_fraction` of the beats are held out for testing, and a further
    /// `test_fraction` of the rest for validation.
    Leaky {
        /// Seed of the beat draw.
        seed: u64,
        /// Fraction of beats in the test part (0.2 in the seeds).
        test_fraction: f64,
    },
}

/// Class weights of the loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Weights {
    /// All 1.
    None,
    /// From the training class counts.
    Scheme(WeightScheme),
}

/// Everything `sinus train` needs.
#[derive(Debug, Clone)]
pub struct Recipe {
    /// MIT-BIH directory.
    pub db: PathBuf,
    /// Where the beat cache lives (`None`: no cache).
    pub cache_dir: Option<PathBuf>,
    /// How beats are cut.
    pub window: BeatWindowConfig,
    /// The network.
    pub arch: ArchConfig,
    /// Optimisation settings.
    pub train: TrainConfig,
    /// Class weights.
    pub weights: Weights,
    /// The split.
    pub split: Split,
    /// Networks trained (seeds `seed × 1000 + k`, k = 0..n; 1: the training seed itself) and
    /// folded into one network averaging their logits ([`crate::ensemble`]).
    pub ensemble: usize,
}

/// What [`run`] produces.
pub struct RecipeOutcome {
    /// Training history and the best epoch's float model (metadata filled in).
    pub outcome: TrainOutcome,
    /// The best model as float32 `.snnm` bytes.
    pub float_bytes: Vec<u8>,
    /// The best model quantised to int8 `.snnm` bytes.
    pub int8_bytes: Vec<u8>,
    /// Training and validation records (all records for the leaky split).
    pub train_records: Vec<String>,
    /// Validation records.
    pub valid_records: Vec<String>,
    /// Beats in training, validation (and test) parts.
    pub beats: (usize, usize, usize),
    /// The leaky split's test evaluation (float model).
    pub leaky_test: Option<BeatEvaluation>,
    /// The final (float) model on the validation beats: for an ensemble, the merged network
    /// (its members' own scores are in their histories).
    pub valid: BeatEvaluation,
    /// Each ensemble member's training seed, best epoch and history (one entry for a single
    /// network, the same as `outcome`).
    pub members: Vec<(u64, TrainOutcome)>,
}

fn load(recipe: &Recipe, records: &[String]) -> Result<Dataset> {
    match &recipe.cache_dir {
        Some(dir) => build_cached(dir, &recipe.db, records, &recipe.window),
        None => Dataset::build(&recipe.db, records, &recipe.window),
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Train a beat classifier by `recipe`; `on_progress` sees every batch and epoch.
pub fn run(recipe: &Recipe, on_progress: &mut dyn FnMut(Progress)) -> Result<RecipeOutcome> {
    let (train_ds, valid_ds, test_ds, train_records, valid_records) = match &recipe.split {
        Split::InterPatient { seed, validation } => {
            if *validation == 0 || *validation >= DS1.len() {
                return Err(Error::invalid(format!(
                    "validation records {validation}: must be between 1 and {}",
                    DS1.len() - 1
                )));
            }
            let t = strings(&training_records(*seed, *validation));
            let v = strings(&validation_records(*seed, *validation));
            (load(recipe, &t)?, load(recipe, &v)?, None, t, v)
        }
        Split::Records { train, valid } => (
            load(recipe, train)?,
            load(recipe, valid)?,
            None,
            train.clone(),
            valid.clone(),
        ),
        Split::Leaky {
            seed,
            test_fraction,
        } => {
            if !(0.01..=0.9).contains(test_fraction) {
                return Err(Error::invalid("test fraction must be in 0.01..=0.9"));
            }
            let all: Vec<String> = strings(&DS1).into_iter().chain(strings(&DS2)).collect();
            let ds = load(recipe, &all)?;
            let mut rng = SplitMix64::new(*seed);
            let (mut tr, mut va, mut te) = (Vec::new(), Vec::new(), Vec::new());
            for b in ds.beats.iter() {
                if rng.chance(*test_fraction) {
                    te.push(b.clone());
                } else if rng.chance(*test_fraction) {
                    va.push(b.clone());
                } else {
                    tr.push(b.clone());
                }
            }
            let part = |beats: Vec<crate::dataset::Beat>| Dataset {
                beats,
                config: ds.config.clone(),
                records: all.clone(),
                skipped_edge: 0,
                skipped_missing: 0,
            };
            (part(tr), part(va), Some(part(te)), all.clone(), all)
        }
    };
    let train_data = TrainData::from_dataset(&train_ds)?;
    let valid_data = TrainData::from_dataset(&valid_ds)?;
    let mut cfg = recipe.train.clone();
    let counts = train_ds.class_counts();
    cfg.class_weights = match recipe.weights {
        Weights::None => vec![1.0; 5],
        Weights::Scheme(s) => crate::dataset::class_weights(&counts, s)
            .iter()
            .map(|&w| w as f32)
            .collect(),
    };
    let n = recipe.ensemble.max(1);
    let mut members = Vec::with_capacity(n);
    for k in 0..n {
        let mut c = cfg.clone();
        if n > 1 {
            c.seed = cfg.seed.wrapping_mul(1000).wrapping_add(k as u64);
            on_progress(Progress::Member { index: k, of: n });
        }
        let o = train(&recipe.arch, &train_data, &valid_data, &c, on_progress)?;
        members.push((c.seed, o));
    }
    let mut outcome = members[0].1.clone();
    if n > 1 {
        let specs: Vec<ModelSpec> = members.iter().map(|(_, o)| o.spec.clone()).collect();
        outcome.spec = crate::ensemble::ensemble(&specs)?;
    }
    // The final network on the validation records (for an ensemble, the merged one).
    let valid = evaluate_beats(
        &Classifier::from_bytes(&outcome.spec.to_bytes()?)?,
        &valid_ds,
    )?;
    let best = outcome
        .history
        .get(outcome.best_epoch.saturating_sub(1))
        .cloned();
    let split = match &recipe.split {
        Split::InterPatient { seed, validation } => {
            json!({"kind": "inter-patient (de Chazal DS1, patient-wise validation)",
                   "seed": seed, "validation_records": validation})
        }
        Split::Records { .. } => json!({"kind": "records"}),
        Split::Leaky {
            seed,
            test_fraction,
        } => json!({"kind": "leaky random beat split over DS1+DS2", "seed": seed,
                    "test_fraction": test_fraction}),
    };
    let meta = ModelMetadata {
        name: recipe.arch.name.clone(),
        input: InputKind::BeatWindowRr,
        window: Some(WindowMeta::from_config(&recipe.window)),
        training: json!({
            "framework": "burn 0.22.1 (flex backend)",
            "split": split,
            "train_records": train_records,
            "valid_records": valid_records,
            "train_class_counts": counts,
            "class_weights": cfg.class_weights,
            "loss": format!("{:?}", cfg.loss),
            "epochs_max": cfg.epochs,
            "batch_size": cfg.batch_size,
            "learning_rate": cfg.learning_rate,
            "patience": cfg.patience,
            "seed": cfg.seed,
            "augmentation": cfg.augmentation.map(|a| format!("{a:?}")),
            "best_epoch": outcome.best_epoch,
            "ensemble": members.iter().map(|(seed, o)| json!({
                "seed": seed,
                "best_epoch": o.best_epoch,
                "valid_macro_f1": o.history.get(o.best_epoch.saturating_sub(1)).map(|b| b.valid_macro_f1),
            })).collect::<Vec<_>>(),
            "valid_macro_f1": best.as_ref().map(|b| b.valid_macro_f1),
            "valid_macro_f1_final": valid.macro_f1,
            "valid_accuracy": best.as_ref().map(|b| b.valid_accuracy),
            "arch_detail": outcome.spec.metadata.clone(),
        }),
    };
    outcome.spec.metadata = meta.to_json();
    let float_bytes = outcome.spec.to_bytes()?;
    let int8_bytes = quantize_on(&outcome.spec, &train_ds, cfg.seed)?;
    let float_model = Classifier::from_bytes(&float_bytes)?;
    let leaky_test = match &test_ds {
        Some(t) => Some(evaluate_beats(&float_model, t)?),
        None => None,
    };

    Ok(RecipeOutcome {
        beats: (
            train_ds.beats.len(),
            valid_ds.beats.len(),
            test_ds.as_ref().map_or(0, |t| t.beats.len()),
        ),
        outcome,
        float_bytes,
        int8_bytes,
        train_records,
        valid_records,
        leaky_test,
        valid,
        members,
    })
}

/// Quantise with activation ranges from up to 1000 training beats drawn by `seed`.
pub fn quantize_on(spec: &ModelSpec, ds: &Dataset, seed: u64) -> Result<Vec<u8>> {
    let mut rng = SplitMix64::new(seed ^ 0x5157);
    let n = ds.beats.len();
    if n == 0 {
        return Err(Error::invalid("no beats to calibrate the quantisation on"));
    }
    let picks: Vec<usize> = (0..1000.min(n)).map(|_| rng.below(n)).collect();
    let calib: Vec<(&[f32], &[f32])> = picks
        .iter()
        .map(|&i| (ds.beats[i].waveform.as_slice(), &ds.beats[i].rr[..]))
        .collect();
    quantize(spec, &calib)
}

/// Evaluate a model on a given set of labelled beats (e.g. a held-out part of a split).
pub fn evaluate_beats(model: &Classifier, ds: &Dataset) -> Result<BeatEvaluation> {
    let waveforms: Vec<f32> = ds.beats.iter().flat_map(|b| b.waveform.clone()).collect();
    let features: Vec<f32> = ds.beats.iter().flat_map(|b| b.rr).collect();
    let pred = crate::evaluate::predict(model, &waveforms, &features)?;
    let mut m = [[0u64; 6]; 6];
    for (b, (p, _)) in ds.beats.iter().zip(pred) {
        m[b.class.index()][p] += 1;
    }
    Ok(finish_beats(
        "held-out beats".into(),
        vec![("all".into(), m)],
        0,
    ))
}
