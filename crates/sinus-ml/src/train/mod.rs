//! Training beat classifiers with burn (CPU, pure-Rust `flex` backend), and export of the
//! trained network to a [`ModelSpec`] (see `crate::spec`).
//!
//! burn is used for training only; the exported spec is what runs afterwards.
//!
//! - [`ArchConfig`]: a configurable 1-D CNN (plain or depthwise-separable convolution blocks
//!   with batch normalisation, global-average-pool or flatten head, concatenated features,
//!   dense layers with dropout); [`ArchConfig::beat_default`] is "beatnet".
//! - [`TrainData`]: examples as flat vectors (waveform channel-major, features, labels).
//! - [`train`]: Adam, weighted cross-entropy or focal loss, on-the-fly augmentation,
//!   per-epoch validation (macro-F1, per-class Se/+P), early stopping and best-epoch
//!   selection on the validation macro-F1, deterministic for a seed.
//!
//! ```no_run
//! # fn main() -> sinus_io::Result<()> {
//! use sinus_ml::cache::build_cached;
//! use sinus_ml::dataset::BeatWindowConfig;
//! use sinus_ml::split::{training_records, validation_records};
//! use sinus_ml::train::{train, ArchConfig, Progress, TrainConfig, TrainData};
//!
//! let window = BeatWindowConfig::default();
//! let tr = build_cached("cache", "mitdb", &training_records(1, 4), &window)?;
//! let va = build_cached("cache", "mitdb", &validation_records(1, 4), &window)?;
//! let (tr, va) = (TrainData::from_dataset(&tr)?, TrainData::from_dataset(&va)?);
//! let outcome = train(&ArchConfig::beat_default(), &tr, &va, &TrainConfig::default(), &mut |p| {
//!     if let Progress::Epoch { report, .. } = p {
//!         println!("epoch {} macro-F1 {:.3}", report.epoch, report.valid_macro_f1);
//!     }
//! })?;
//! std::fs::write("beatnet.snnm", outcome.spec.to_bytes()?).unwrap();
//! # Ok(())
//! # }
//! ```

mod arch;
mod metrics;
mod model;

pub use arch::{ArchConfig, ConvBlock, Head};
pub use metrics::{ClassMetrics, Confusion};

use crate::augment::{augment_beat, Augmentation};
use crate::dataset::{AamiClass, Beat, BeatWindowConfig, Dataset};
use crate::rng::SplitMix64;
use crate::spec::ModelSpec;
use crate::{Error, Result};
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Tensor, TensorData};
use model::Net;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Most examples [`TrainData`] accepts (bounds the memory of a training run).
pub const MAX_EXAMPLES: usize = 20_000_000;

/// Examples for training or validation, as flat vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainData {
    /// `n × channels × len` values, channel-major per example (empty if `channels · len` is 0).
    pub waveforms: Vec<f32>,
    /// `n × n_features` raw (un-normalised) features.
    pub features: Vec<f32>,
    /// Class index of each example (< `classes.len()`).
    pub labels: Vec<u8>,
    /// Waveform channels (leads); 0 if there is no waveform.
    pub channels: usize,
    /// Points per channel; 0 if there is no waveform.
    pub len: usize,
    /// Features per example.
    pub n_features: usize,
    /// Class labels in index order (`N S V F Q` for AAMI beats).
    pub classes: Vec<char>,
    /// How the beat windows were cut, when known: gives the augmentation the R-peak position
    /// and the lead count, and is written into the model's metadata.
    pub window: Option<BeatWindowConfig>,
}

impl TrainData {
    /// Examples from raw vectors; all sizes are checked.
    pub fn new(
        waveforms: Vec<f32>,
        features: Vec<f32>,
        labels: Vec<u8>,
        channels: usize,
        len: usize,
        n_features: usize,
        classes: Vec<char>,
    ) -> Result<TrainData> {
        let n = labels.len();
        if n > MAX_EXAMPLES {
            return Err(Error::too_large(format!(
                "{n} training examples (at most {MAX_EXAMPLES})"
            )));
        }
        let per = channels.checked_mul(len);
        if per.and_then(|p| p.checked_mul(n)) != Some(waveforms.len()) {
            return Err(Error::invalid(format!(
                "{} waveform values for {n} examples of {channels} × {len}",
                waveforms.len()
            )));
        }
        if n_features.checked_mul(n) != Some(features.len()) {
            return Err(Error::invalid(format!(
                "{} feature values for {n} examples of {n_features}",
                features.len()
            )));
        }
        if classes.is_empty() || classes.len() > 256 {
            return Err(Error::invalid("between 1 and 256 classes are needed"));
        }
        if let Some(l) = labels.iter().find(|&&l| l as usize >= classes.len()) {
            return Err(Error::invalid(format!(
                "label {l} but only {} classes",
                classes.len()
            )));
        }
        if let Some(v) = waveforms.iter().chain(&features).find(|v| !v.is_finite()) {
            return Err(Error::invalid(format!("non-finite input value {v}")));
        }
        Ok(TrainData {
            waveforms,
            features,
            labels,
            channels,
            len,
            n_features,
            classes,
            window: None,
        })
    }

    /// AAMI beats (5 classes `N S V F Q`, the 8 RR features), one channel of the beat's
    /// waveform length (all beats must have the same length). For several leads use
    /// [`TrainData::from_dataset`], which knows the lead count.
    pub fn from_beats(beats: &[Beat]) -> Result<TrainData> {
        Self::beats_with_channels(beats, 1)
    }

    /// The beats of a [`Dataset`]: channels = its leads, window kept for augmentation and
    /// the model's metadata.
    pub fn from_dataset(ds: &Dataset) -> Result<TrainData> {
        let mut d = Self::beats_with_channels(&ds.beats, ds.config.channels().max(1))?;
        d.window = Some(ds.config.clone());
        Ok(d)
    }

    fn beats_with_channels(beats: &[Beat], channels: usize) -> Result<TrainData> {
        let total = beats.first().map_or(0, |b| b.waveform.len());
        if beats.iter().any(|b| b.waveform.len() != total) {
            return Err(Error::invalid("beats differ in waveform length"));
        }
        if !total.is_multiple_of(channels) {
            return Err(Error::invalid(format!(
                "waveform of {total} values is not {channels} equal leads"
            )));
        }
        if beats.len() > MAX_EXAMPLES {
            return Err(Error::too_large(format!(
                "{} beats (at most {MAX_EXAMPLES})",
                beats.len()
            )));
        }
        let mut waveforms = Vec::with_capacity(beats.len() * total);
        let mut features = Vec::with_capacity(beats.len() * 8);
        let mut labels = Vec::with_capacity(beats.len());
        for b in beats {
            waveforms.extend_from_slice(&b.waveform);
            features.extend_from_slice(&b.rr);
            labels.push(b.class.index() as u8);
        }
        let classes = AamiClass::ALL
            .iter()
            .map(|c| c.name().chars().next().unwrap_or('?'))
            .collect();
        TrainData::new(
            waveforms,
            features,
            labels,
            if total == 0 { 0 } else { channels },
            total / channels,
            8,
            classes,
        )
    }

    /// Number of examples.
    pub fn examples(&self) -> usize {
        self.labels.len()
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.classes.len()
    }

    /// Examples per class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut c = vec![0; self.classes.len()];
        for &l in &self.labels {
            if let Some(x) = c.get_mut(l as usize) {
                *x += 1;
            }
        }
        c
    }

    /// The examples with the given indices, in that order (out-of-range indices skipped).
    pub fn select(&self, indices: &[usize]) -> TrainData {
        let per = self.channels * self.len;
        let keep: Vec<usize> = indices
            .iter()
            .copied()
            .filter(|&i| i < self.examples())
            .collect();
        let mut d = TrainData {
            waveforms: Vec::with_capacity(keep.len() * per),
            features: Vec::with_capacity(keep.len() * self.n_features),
            labels: Vec::with_capacity(keep.len()),
            ..self.clone_meta()
        };
        for i in keep {
            d.waveforms
                .extend_from_slice(&self.waveforms[i * per..(i + 1) * per]);
            d.features
                .extend_from_slice(&self.features[i * self.n_features..(i + 1) * self.n_features]);
            d.labels.push(self.labels[i]);
        }
        d
    }

    fn clone_meta(&self) -> TrainData {
        TrainData {
            waveforms: Vec::new(),
            features: Vec::new(),
            labels: Vec::new(),
            channels: self.channels,
            len: self.len,
            n_features: self.n_features,
            classes: self.classes.clone(),
            window: self.window.clone(),
        }
    }
}

/// The training loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Loss {
    /// Class-weighted cross-entropy, averaged with the weights as in PyTorch
    /// (`Σ w_y · −log p_y / Σ w_y`).
    CrossEntropy,
    /// Focal loss (Lin et al. 2017): cross-entropy scaled by `(1 − p_y)^gamma`, weighted and
    /// averaged like [`Loss::CrossEntropy`].
    Focal {
        /// Focusing exponent (2 in the paper; 0 is cross-entropy).
        gamma: f32,
    },
}

/// How to train.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Largest number of passes over the training set.
    pub epochs: usize,
    /// Examples per optimisation step.
    pub batch_size: usize,
    /// Adam step size.
    pub learning_rate: f64,
    /// Loss function.
    pub loss: Loss,
    /// Weight of each class in the loss (index order); empty means all 1.
    pub class_weights: Vec<f32>,
    /// Stop after this many epochs without a better validation macro-F1 (0: never stop early).
    pub patience: usize,
    /// Seed of the weight initialisation, the shuffling, dropout and the augmentation.
    pub seed: u64,
    /// Random transforms of the training waveforms, drawn anew every epoch (features are
    /// left as they are).
    pub augmentation: Option<Augmentation>,
    /// Class indices averaged by the validation macro-F1. `None`: for the five AAMI classes
    /// N, S, V, F (as EC57 reports them: Q is too rare to score), otherwise all classes;
    /// classes absent from the validation set are left out either way.
    pub macro_f1_classes: Option<Vec<usize>>,
}

impl Default for TrainConfig {
    /// 30 epochs, batch 256, Adam 1e-3, cross-entropy, unweighted, patience 6, seed 1, no
    /// augmentation.
    fn default() -> Self {
        TrainConfig {
            epochs: 30,
            batch_size: 256,
            learning_rate: 1e-3,
            loss: Loss::CrossEntropy,
            class_weights: Vec::new(),
            patience: 6,
            seed: 1,
            augmentation: None,
            macro_f1_classes: None,
        }
    }
}

/// Results of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches (with dropout and augmentation).
    pub train_loss: f64,
    /// Loss on the validation set (eval mode, same weights as training).
    pub valid_loss: f64,
    /// Fraction of validation examples classified correctly.
    pub valid_accuracy: f64,
    /// Mean F1 over the scored classes present in the validation set.
    pub valid_macro_f1: f64,
    /// Per-class sensitivity, positive predictivity and F1 on the validation set.
    pub classes: Vec<ClassMetrics>,
    /// Validation confusion matrix `[true][predicted]`.
    pub confusion: Confusion,
    /// Wall time of the epoch (training and validation), seconds.
    pub seconds: f64,
}

/// What [`train`] reports while it runs.
#[derive(Debug)]
pub enum Progress<'a> {
    /// A training batch is done.
    Batch {
        /// Epoch number, from 1.
        epoch: usize,
        /// Batches done in this epoch.
        batch: usize,
        /// Batches per epoch.
        batches: usize,
    },
    /// An epoch is done: its report and the model as it is now (for checkpoints).
    Epoch {
        /// The epoch's metrics.
        report: &'a EpochReport,
        /// The model after this epoch.
        spec: &'a ModelSpec,
    },
    /// Training of ensemble member `index` (from 0) of `of` starts (see
    /// [`crate::ensemble`]); its epochs follow.
    Member {
        /// Member number, from 0.
        index: usize,
        /// Members in all.
        of: usize,
    },
}

/// The result of [`train`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    /// The model of the best epoch (highest validation macro-F1, the earliest on ties).
    pub spec: ModelSpec,
    /// Its epoch number, from 1.
    pub best_epoch: usize,
    /// Every epoch's report, in order.
    pub history: Vec<EpochReport>,
}

/// Examples per evaluation batch (no gradients kept, so larger than a training batch).
const EVAL_BATCH: usize = 2048;

fn check_data(arch: &ArchConfig, d: &TrainData, what: &str) -> Result<()> {
    let bad = |m: String| Err(Error::invalid(format!("{what} data: {m}")));
    if arch.has_waveform() && (d.channels, d.len) != (arch.input_channels, arch.input_len) {
        return bad(format!(
            "waveforms of {} × {}, the architecture reads {} × {}",
            d.channels, d.len, arch.input_channels, arch.input_len
        ));
    }
    if d.n_features != arch.n_features {
        return bad(format!(
            "{} features, the architecture reads {}",
            d.n_features, arch.n_features
        ));
    }
    if d.classes.len() != arch.classes.len() {
        return bad(format!(
            "{} classes, the architecture has {}",
            d.classes.len(),
            arch.classes.len()
        ));
    }
    let per = d.channels * d.len;
    if d.waveforms.len() != d.examples() * per
        || d.features.len() != d.examples() * d.n_features
        || d.labels.iter().any(|&l| l as usize >= d.classes.len())
    {
        return bad("sizes or labels inconsistent (build it with TrainData::new)".into());
    }
    if d.examples() == 0 {
        return bad("no examples".into());
    }
    Ok(())
}

/// Mean and 1/sd of each feature over the training set (scale 1 for a constant feature).
fn feature_stats(d: &TrainData) -> (Vec<f32>, Vec<f32>) {
    let f = d.n_features;
    let n = d.examples().max(1) as f64;
    let mut mean = vec![0.0f64; f];
    for row in d.features.chunks_exact(f.max(1)) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += *v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0.0f64; f];
    for row in d.features.chunks_exact(f.max(1)) {
        for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (*v as f64 - m).powi(2);
        }
    }
    let scale = var
        .iter()
        .map(|s| {
            let sd = (s / n).sqrt();
            if sd.is_finite() && sd > 1e-12 {
                (1.0 / sd) as f32
            } else {
                1.0
            }
        })
        .collect();
    (mean.into_iter().map(|m| m as f32).collect(), scale)
}

fn normalised_features(d: &TrainData, mean: &[f32], scale: &[f32]) -> Vec<f32> {
    let f = d.n_features.max(1);
    let mut out = d.features.clone();
    for row in out.chunks_exact_mut(f) {
        for ((v, m), s) in row.iter_mut().zip(mean).zip(scale) {
            *v = (*v - m) * s;
        }
    }
    out
}

/// Input tensors for the examples `idx` (waveforms possibly replaced by `waves`).
fn batch_tensors(
    d: &TrainData,
    feats: &[f32],
    idx: &[usize],
    waves: Option<Vec<f32>>,
    device: &Device,
) -> (Option<Tensor<3>>, Option<Tensor<2>>) {
    let per = d.channels * d.len;
    let b = idx.len();
    let wave = (per > 0).then(|| {
        let w = waves.unwrap_or_else(|| {
            let mut w = Vec::with_capacity(b * per);
            for &i in idx {
                w.extend_from_slice(&d.waveforms[i * per..(i + 1) * per]);
            }
            w
        });
        Tensor::<3>::from_data(TensorData::new(w, [b, d.channels, d.len]), device)
    });
    let f = d.n_features;
    let feat = (f > 0).then(|| {
        let mut v = Vec::with_capacity(b * f);
        for &i in idx {
            v.extend_from_slice(&feats[i * f..(i + 1) * f]);
        }
        Tensor::<2>::from_data(TensorData::new(v, [b, f]), device)
    });
    (wave, feat)
}

/// The weighted loss of a batch: `targets[b][c]` is the weight of example b's class at its
/// class and 0 elsewhere; `weight_sum` their total.
fn loss_of(logits: Tensor<2>, targets: Tensor<2>, weight_sum: f32, loss: Loss) -> Tensor<1> {
    let logp = log_softmax(logits, 1);
    let per = match loss {
        Loss::CrossEntropy => logp,
        Loss::Focal { gamma } => {
            let p = logp.clone().exp();
            let focus = p.neg().add_scalar(1.0).clamp_min(0.0).powf_scalar(gamma);
            focus * logp
        }
    };
    (per * targets).sum().neg().div_scalar(weight_sum)
}

/// Host-side weighted loss of one example from its logits (same definition as [`loss_of`]).
fn host_loss(logits: &[f32], label: usize, loss: Loss) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let lse = max
        + logits
            .iter()
            .map(|&z| (z as f64 - max).exp())
            .sum::<f64>()
            .ln();
    let logp = logits[label] as f64 - lse;
    match loss {
        Loss::CrossEntropy => -logp,
        Loss::Focal { gamma } => -(1.0 - logp.exp()).max(0.0).powf(gamma as f64) * logp,
    }
}

fn metadata(
    arch: &ArchConfig,
    cfg: &TrainConfig,
    data: &TrainData,
    epoch: usize,
) -> Result<String> {
    let window = data.window.as_ref().map(|w| {
        serde_json::json!({
            "before_s": w.before_s,
            "after_s": w.after_s,
            "length": w.length,
            "leads": w.leads,
            "baseline": w.baseline.map(|b| format!("{b:?}")),
            "z_normalise": w.z_normalise,
        })
    });
    let features = (data.n_features == 8 && data.classes.len() == 5)
        .then_some(&crate::dataset::RR_FEATURES[..]);
    let meta = serde_json::json!({
        "architecture": arch.name,
        "arch": arch,
        "window": window,
        "features": features,
        "training": {
            "framework": "burn 0.22.1 (flex backend)",
            "epochs": cfg.epochs,
            "epoch": epoch,
            "batch_size": cfg.batch_size,
            "learning_rate": cfg.learning_rate,
            "loss": cfg.loss,
            "class_weights": cfg.class_weights,
            "patience": cfg.patience,
            "seed": cfg.seed,
            "augmentation": cfg.augmentation.map(|a| serde_json::json!({
                "amplitude_scale": [a.amplitude_scale.0, a.amplitude_scale.1],
                "baseline_shift": a.baseline_shift,
                "noise_std": a.noise_std,
                "time_warp": a.time_warp,
                "probability": a.probability,
            })),
            "train_examples": data.examples(),
            "train_class_counts": data.class_counts(),
        },
    });
    serde_json::to_string(&meta).map_err(|e| Error::invalid(format!("model metadata: {e}")))
}

/// Evaluate `model` (eval mode) on `d` with normalised features `feats`.
fn evaluate(
    model: &Net,
    d: &TrainData,
    feats: &[f32],
    weights: &[f32],
    loss: Loss,
    device: &Device,
) -> Result<(f64, Confusion)> {
    let k = d.n_classes();
    let mut confusion = Confusion::new(k);
    let (mut loss_sum, mut weight_sum) = (0.0f64, 0.0f64);
    let n = d.examples();
    let mut start = 0;
    while start < n {
        let end = (start + EVAL_BATCH).min(n);
        let idx: Vec<usize> = (start..end).collect();
        let (w, f) = batch_tensors(d, feats, &idx, None, device);
        let logits = model
            .forward(w, f)
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| Error::invalid(format!("reading logits from burn: {e:?}")))?;
        for (row, &i) in logits.chunks_exact(k).zip(&idx) {
            let label = d.labels[i] as usize;
            let pred = row
                .iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (c, &z)| {
                    if z > best.1 {
                        (c, z)
                    } else {
                        best
                    }
                })
                .0;
            confusion.add(label, pred);
            let w = weights[label] as f64;
            loss_sum += w * host_loss(row, label, loss);
            weight_sum += w;
        }
        start = end;
    }
    let vloss = if weight_sum > 0.0 {
        loss_sum / weight_sum
    } else {
        0.0
    };
    Ok((vloss, confusion))
}

/// Train `arch` on `train`, validating on `valid` after every epoch.
///
/// Features are normalised with the training set's mean and standard deviation (stored in
/// the spec). Each epoch shuffles the training set (SplitMix64 seeded by `cfg.seed` and the
/// epoch), applies the augmentation if any, and takes Adam steps on the weighted loss; then
/// the model is evaluated in eval mode on `valid`, exported (batch normalisation folded), and
/// reported through `on_progress`. Training stops after `cfg.epochs` or when the validation
/// macro-F1 has not improved for `cfg.patience` epochs; the best epoch's model is returned.
///
/// Runs on burn's `flex` CPU backend (multi-threaded through rayon). With the same inputs
/// and seed the result is the same.
pub fn train(
    arch: &ArchConfig,
    train: &TrainData,
    valid: &TrainData,
    cfg: &TrainConfig,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<TrainOutcome> {
    arch.validate()?;
    check_data(arch, train, "training")?;
    check_data(arch, valid, "validation")?;
    if cfg.batch_size == 0 || cfg.epochs == 0 {
        return Err(Error::invalid("epochs and batch size must be positive"));
    }
    if !(cfg.learning_rate.is_finite() && cfg.learning_rate > 0.0) {
        return Err(Error::invalid(format!(
            "learning rate {} must be positive",
            cfg.learning_rate
        )));
    }
    if let Loss::Focal { gamma } = cfg.loss {
        if !(gamma.is_finite() && gamma >= 0.0) {
            return Err(Error::invalid(format!("focal gamma {gamma} must be ≥ 0")));
        }
    }
    let k = arch.classes.len();
    let weights = if cfg.class_weights.is_empty() {
        vec![1.0f32; k]
    } else {
        cfg.class_weights.clone()
    };
    if weights.len() != k || weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
        return Err(Error::invalid(format!(
            "{} class weights for {k} classes, or a weight negative or not finite",
            cfg.class_weights.len()
        )));
    }
    if let Some(a) = &cfg.augmentation {
        a.validate()?;
    }
    let aug_window = train.window.clone().unwrap_or_else(|| BeatWindowConfig {
        length: train.len.max(2),
        leads: (0..train.channels.max(1)).collect(),
        ..BeatWindowConfig::default()
    });
    let scored: Vec<usize> = match &cfg.macro_f1_classes {
        Some(c) => c.clone(),
        None if arch.classes == ['N', 'S', 'V', 'F', 'Q'] => vec![0, 1, 2, 3],
        None => (0..k).collect(),
    };

    let (feature_mean, feature_scale) = feature_stats(train);
    let train_feats = normalised_features(train, &feature_mean, &feature_scale);
    let valid_feats = normalised_features(valid, &feature_mean, &feature_scale);

    let device = Device::flex();
    let ad = device.clone().autodiff();
    ad.seed(cfg.seed);
    let mut model = Net::new(arch, &ad)?;
    let mut optim = AdamConfig::new().with_epsilon(1e-7).init();

    let n = train.examples();
    let per = train.channels * train.len;
    let batches = n.div_ceil(cfg.batch_size);
    let mut order: Vec<usize> = (0..n).collect();
    let mut history: Vec<EpochReport> = Vec::new();
    let mut best: Option<(f64, usize, ModelSpec)> = None;
    for epoch in 1..=cfg.epochs {
        let started = Instant::now();
        let epoch_seed = cfg.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = SplitMix64::new(epoch_seed);
        for i in (1..n).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let (mut loss_sum, mut loss_weight) = (0.0f64, 0.0f64);
        for (bi, idx) in order.chunks(cfg.batch_size).enumerate() {
            let waves = match (&cfg.augmentation, per > 0) {
                (Some(aug), true) => {
                    let mut w = Vec::with_capacity(idx.len() * per);
                    let mut beat = Beat {
                        record: String::new(),
                        sample: 0,
                        class: AamiClass::N,
                        symbol: String::new(),
                        waveform: Vec::new(),
                        rr: [0.0; 8],
                    };
                    for &i in idx {
                        beat.waveform = train.waveforms[i * per..(i + 1) * per].to_vec();
                        let mut r = SplitMix64::for_item(epoch_seed, i as u64);
                        w.extend(augment_beat(&beat, aug, &aug_window, &mut r).waveform);
                    }
                    Some(w)
                }
                _ => None,
            };
            let mut targets = vec![0.0f32; idx.len() * k];
            let mut wsum = 0.0f32;
            for (row, &i) in idx.iter().enumerate() {
                let l = train.labels[i] as usize;
                targets[row * k + l] = weights[l];
                wsum += weights[l];
            }
            if wsum > 0.0 {
                let (w, f) = batch_tensors(train, &train_feats, idx, waves, &ad);
                let t = Tensor::<2>::from_data(TensorData::new(targets, [idx.len(), k]), &ad);
                let loss = loss_of(model.forward(w, f), t, wsum, cfg.loss);
                let value = loss.clone().into_scalar::<f32>() as f64;
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optim.step(cfg.learning_rate, model, grads);
                loss_sum += value * wsum as f64;
                loss_weight += wsum as f64;
            }
            on_progress(Progress::Batch {
                epoch,
                batch: bi + 1,
                batches,
            });
        }
        let eval = model.valid();
        let (valid_loss, confusion) =
            evaluate(&eval, valid, &valid_feats, &weights, cfg.loss, &device)?;
        let present: Vec<usize> = scored.iter().copied().filter(|&c| c < k).collect();
        let report = EpochReport {
            epoch,
            train_loss: if loss_weight > 0.0 {
                loss_sum / loss_weight
            } else {
                0.0
            },
            valid_loss,
            valid_accuracy: confusion.accuracy(),
            valid_macro_f1: confusion.macro_f1(&present),
            classes: confusion.class_metrics(&arch.classes),
            confusion,
            seconds: started.elapsed().as_secs_f64(),
        };
        let spec = eval.export(
            arch,
            feature_mean.clone(),
            feature_scale.clone(),
            metadata(arch, cfg, train, epoch)?,
        )?;
        on_progress(Progress::Epoch {
            report: &report,
            spec: &spec,
        });
        let f1 = report.valid_macro_f1;
        history.push(report);
        if best.as_ref().is_none_or(|b| f1 > b.0) {
            best = Some((f1, epoch, spec));
        }
        let best_epoch = best.as_ref().map_or(epoch, |b| b.1);
        if cfg.patience > 0 && epoch - best_epoch >= cfg.patience {
            break;
        }
    }
    let (_, best_epoch, spec) = best.ok_or_else(|| Error::invalid("no epoch was trained"))?;
    Ok(TrainOutcome {
        spec,
        best_epoch,
        history,
    })
}

#[cfg(test)]
mod tests;
