//! The seed projects' two other setups, trained and scored the honest way (inter-patient), with
//! the seeds' own leaky random split beside them for comparison.
//!
//! - [`rr_window_experiment`] (seed "000"): a tiny dense network on a window of RR intervals
//!   ([`crate::rr_window`]: 10 intervals → "at least 2 of the window's 11 beats are VEB" or
//!   not). Inter-patient: trained on DS1 with whole DS1 records held out for validation
//!   (early stopping on the F1 of the VEB-window class there), scored once on DS2. Leaky:
//!   the same network on a random 80/20 split of the windows of DS1 + DS2.
//! - [`beat_csv_experiment`]: the 187-value Kaggle format ([`crate::beat_csv`], built from
//!   MIT-BIH as Kachuee et al. 2018 did). The rows are written to CSV files in the Kaggle
//!   layout and **read back from those files** (the format the seeds' users have), then the
//!   [`ArchConfig::beat_csv_187`] CNN (5 classes N S V F Q, waveform only) is trained.
//!   Inter-patient: `mitbih_ds1.csv` with patient-wise validation (the record of each line
//!   comes from `mitbih_ds1_index.csv`, since the Kaggle layout has no record column), scored
//!   once on `mitbih_ds2.csv`. Leaky: `mitbih_train.csv` (a random part held out for early
//!   stopping) scored on `mitbih_test.csv`, a random 80/20 beat split over all 48 records as
//!   Kaggle's files are.
//!
//! Every model is scored through [`Classifier`] (the device's inference kernels), not burn.
//!
//! One `seed` drives everything random in a run: the choice of validation records, the leaky
//! splits, the weight initialisation and the shuffling. Inter-patient training is unstable
//! (results swing between seeds), so report the mean and spread over several seeds.
//!
//! **Leaky** results put windows or beats of the same patients in training and test; with
//! sliding RR windows, neighbouring windows even share 10 of their 11 beats. They overstate
//! how a model does on a new patient and are reported only so the seeds' figures can be
//! compared.

use crate::beat_csv::{self, BeatCsvRow};
use crate::dataset::{class_weights, WeightScheme};
use crate::evaluate::{scores, ClassScore, Matrix};
use crate::infer::Classifier;
use crate::leaky::random_beat_split;
use crate::rr_window::{self, RrRecord};
use crate::spec::ModelSpec;
use crate::split::{training_records, validation_records, DS1, DS2};
use crate::train::{train, ArchConfig, Progress, TrainConfig, TrainData};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use sinus_io::beat_csv::{read_beat_csv, BeatCsvOptions, BEAT_LEN};
use sinus_io::ResultExt;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// Which records play which part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedRecords {
    /// Training records (inter-patient).
    pub train: Vec<String>,
    /// Validation records (inter-patient): whole patients unseen in training, for early
    /// stopping.
    pub valid: Vec<String>,
    /// Test records (inter-patient), used once per trained model.
    pub test: Vec<String>,
    /// Records pooled for the leaky random split.
    pub leaky: Vec<String>,
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

impl SeedRecords {
    /// de Chazal's split: DS1 less `n_valid` records drawn by `seed`
    /// ([`training_records`]), those records for validation, DS2 for testing; the leaky
    /// split pools `leaky`.
    pub fn de_chazal(seed: u64, n_valid: usize, leaky: &[&str]) -> Result<SeedRecords> {
        if n_valid == 0 || n_valid >= DS1.len() {
            return Err(Error::invalid(format!(
                "{n_valid} validation records: between 1 and {} are possible",
                DS1.len() - 1
            )));
        }
        Ok(SeedRecords {
            train: strings(&training_records(seed, n_valid)),
            valid: strings(&validation_records(seed, n_valid)),
            test: strings(&DS2),
            leaky: strings(leaky),
        })
    }

    fn check(&self) -> Result<()> {
        if self.train.is_empty()
            || self.valid.is_empty()
            || self.test.is_empty()
            || self.leaky.is_empty()
        {
            return Err(Error::invalid(
                "training, validation, test and leaky record lists must not be empty",
            ));
        }
        let clash = |a: &[String], b: &[String]| a.iter().find(|r| b.contains(r)).cloned();
        if let Some(r) = clash(&self.train, &self.valid)
            .or_else(|| clash(&self.train, &self.test))
            .or_else(|| clash(&self.valid, &self.test))
        {
            return Err(Error::invalid(format!(
                "record {r} is in two of the training, validation and test sets"
            )));
        }
        Ok(())
    }
}

/// The sensitivity, positive predictivity and F1 of the positive class of a 2-class task.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BinaryScores {
    /// Positives called positive.
    pub tp: u64,
    /// Positives called negative.
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// Negatives called positive.
    pub fp: u64,
    /// Negatives called negative.
    pub tn: u64,
    /// Sensitivity `tp / (tp + fn)`, percent (`None` without positives).
    pub se: Option<f64>,
    /// Positive predictivity `tp / (tp + fp)`, percent (`None` when never called positive).
    pub ppv: Option<f64>,
    /// F1 of the positive class, percent (`None` without positives and positive calls).
    pub f1: Option<f64>,
    /// Correct / all, percent (0 for no examples).
    pub accuracy: f64,
    /// `[[tn, fp], [fn, tp]]`: rows true class (0 negative, 1 positive), columns predicted.
    pub confusion: [[u64; 2]; 2],
}

fn pct(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| 100.0 * num as f64 / den as f64)
}

impl BinaryScores {
    /// Scores of a confusion matrix `[[tn, fp], [fn, tp]]` (rows true, columns predicted).
    pub fn from_confusion(confusion: [[u64; 2]; 2]) -> BinaryScores {
        let [[tn, fp], [fn_, tp]] = confusion;
        BinaryScores {
            tp,
            fn_,
            fp,
            tn,
            se: pct(tp, tp + fn_),
            ppv: pct(tp, tp + fp),
            f1: pct(2 * tp, 2 * tp + fn_ + fp),
            accuracy: pct(tp + tn, tp + tn + fp + fn_).unwrap_or(0.0),
            confusion,
        }
    }
}

/// Settings of [`rr_window_experiment`].
#[derive(Debug, Clone, PartialEq)]
pub struct RrWindowConfig {
    /// RR intervals per window (10 in the seed).
    pub n_rr: usize,
    /// VEB among the window's beats that make it positive (2 in the seed).
    pub min_veb: usize,
    /// Also feed the intervals divided by the record's mean interval (removes the patient's
    /// heart rate); `false` feeds the raw intervals only, as the seed did.
    pub relative: bool,
    /// Widths of the hidden dense layers (`[16]`).
    pub hidden: Vec<usize>,
    /// DS1 records held out for validation.
    pub valid_records: usize,
    /// Record roles; `None`: [`SeedRecords::de_chazal`] with the leaky split over DS1 + DS2.
    pub records: Option<SeedRecords>,
    /// Loss weights from the training class counts; `None`: both classes weigh 1.
    pub weights: Option<WeightScheme>,
    /// Optimisation (its `seed` is replaced by the experiment's seed).
    pub train: TrainConfig,
    /// Fraction of the leaky pool held out for testing, and of the rest for validation.
    pub leaky_test_fraction: f64,
}

impl Default for RrWindowConfig {
    /// 10 intervals, 2 VEB, raw intervals only, Dense 16, 5 validation records, √-inverse
    /// class weights, at most 20 epochs, patience 5, batch 256, Adam 1e-3, leaky 20 %.
    fn default() -> Self {
        RrWindowConfig {
            n_rr: 10,
            min_veb: 2,
            relative: false,
            hidden: vec![16],
            valid_records: 5,
            records: None,
            weights: Some(WeightScheme::SqrtInverse),
            train: TrainConfig {
                epochs: 20,
                patience: 5,
                // Early stopping on the F1 of the VEB-window class, the reported figure.
                macro_f1_classes: Some(vec![1]),
                ..TrainConfig::default()
            },
            leaky_test_fraction: 0.2,
        }
    }
}

/// One trained and tested RR-window model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RrWindowRun {
    /// What the split is.
    pub split: String,
    /// Whether the same patients are in training and test.
    pub leaky: bool,
    /// Training records (for the leaky split: the pool).
    pub train_records: Vec<String>,
    /// Validation records (for the leaky split: the pool).
    pub valid_records: Vec<String>,
    /// Test records (for the leaky split: the pool).
    pub test_records: Vec<String>,
    /// Windows in training, validation and test.
    pub windows: [usize; 3],
    /// Positive windows (≥ `min_veb` VEB) in training, validation and test.
    pub positives: [usize; 3],
    /// Loss weights of the two classes.
    pub class_weights: Vec<f32>,
    /// The epoch whose model was kept (best validation F1 of the positive class).
    pub best_epoch: usize,
    /// Epochs trained (early stopping included).
    pub epochs_run: usize,
    /// Validation F1 of the positive class at the best epoch, percent.
    pub valid_f1: f64,
    /// Test scores (device kernels).
    pub test: BinaryScores,
    /// Wall time of training, seconds.
    pub train_seconds: f64,
}

/// The result of [`rr_window_experiment`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RrWindowReport {
    /// The seed of the run.
    pub seed: u64,
    /// RR intervals per window.
    pub n_rr: usize,
    /// VEB that make a window positive.
    pub min_veb: usize,
    /// Features per window (`n_rr`, or `2 · n_rr` with relative intervals).
    pub n_features: usize,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Parameters of the network.
    pub parameters: usize,
    /// Multiply–accumulates per window.
    pub macs: usize,
    /// Trained on DS1 (patient-wise validation), tested on DS2.
    pub inter_patient: RrWindowRun,
    /// LEAKY: random window split over the pool, same patients in training and test.
    pub leaky: RrWindowRun,
    /// Wall time of the whole experiment, seconds.
    pub seconds: f64,
}

/// Windows as flat features and labels.
struct Windows {
    features: Vec<f32>,
    labels: Vec<u8>,
    n_features: usize,
}

impl Windows {
    fn of(records: &[&RrRecord], relative: bool) -> Windows {
        let n_rr = records.first().map_or(0, |r| r.n_rr);
        let n_features = if relative { 2 * n_rr } else { n_rr };
        let mut w = Windows {
            features: Vec::new(),
            labels: Vec::new(),
            n_features,
        };
        for r in records {
            for win in &r.windows {
                w.features
                    .extend_from_slice(&win.features[..n_features.min(win.features.len())]);
                w.labels.push(win.label);
            }
        }
        w
    }

    fn select(&self, idx: &[usize]) -> Windows {
        let f = self.n_features;
        let mut w = Windows {
            features: Vec::with_capacity(idx.len() * f),
            labels: Vec::with_capacity(idx.len()),
            n_features: f,
        };
        for &i in idx {
            w.features
                .extend_from_slice(&self.features[i * f..(i + 1) * f]);
            w.labels.push(self.labels[i]);
        }
        w
    }

    fn positives(&self) -> usize {
        self.labels.iter().filter(|&&l| l == 1).count()
    }

    fn data(&self) -> Result<TrainData> {
        TrainData::new(
            Vec::new(),
            self.features.clone(),
            self.labels.clone(),
            0,
            0,
            self.n_features,
            vec!['N', 'V'],
        )
    }
}

/// Loss weights for class counts (any number of classes up to 5) by `scheme`, all 1 for
/// `None`.
fn weights_for(counts: &[usize], scheme: Option<WeightScheme>) -> Vec<f32> {
    let Some(scheme) = scheme else {
        return vec![1.0; counts.len()];
    };
    let mut c = [0usize; 5];
    for (d, s) in c.iter_mut().zip(counts) {
        *d = *s;
    }
    class_weights(&c, scheme)
        .iter()
        .take(counts.len())
        .map(|&w| w as f32)
        .collect()
}

/// Train with progress messages naming `what`; returns the outcome and the training time.
fn train_reporting(
    what: &str,
    arch: &ArchConfig,
    tr: &TrainData,
    va: &TrainData,
    cfg: &TrainConfig,
    on_progress: &mut dyn FnMut(&str),
) -> Result<(crate::train::TrainOutcome, f64)> {
    let started = Instant::now();
    on_progress(&format!("{what}: training on {} examples", tr.examples()));
    let outcome = train(arch, tr, va, cfg, &mut |p| {
        if let Progress::Epoch { report, .. } = p {
            on_progress(&format!(
                "{what}: epoch {}/{} validation F1 {:.1} %",
                report.epoch,
                cfg.epochs,
                100.0 * report.valid_macro_f1
            ));
        }
    })?;
    Ok((outcome, started.elapsed().as_secs_f64()))
}

/// The model as the device runs it.
fn classifier(spec: &ModelSpec) -> Result<Classifier> {
    Classifier::from_bytes(&spec.to_bytes()?)
}

/// Class index (argmax) of every example, through the device kernels.
fn predict(model: &Classifier, waveforms: &[f32], features: &[f32]) -> Result<Vec<usize>> {
    let k = model.classes.len();
    let probs = model.probabilities_batch(waveforms, features)?;
    Ok(probs.chunks(k).map(sinus_core::nn::argmax).collect())
}

fn best_valid_f1(outcome: &crate::train::TrainOutcome) -> f64 {
    outcome
        .history
        .get(outcome.best_epoch.saturating_sub(1))
        .map_or(0.0, |e| 100.0 * e.valid_macro_f1)
}

#[allow(clippy::too_many_arguments)]
fn rr_run(
    split: &str,
    leaky: bool,
    records: [Vec<String>; 3],
    parts: [&Windows; 3],
    arch: &ArchConfig,
    cfg: &RrWindowConfig,
    train_cfg: &TrainConfig,
    on_progress: &mut dyn FnMut(&str),
) -> Result<(RrWindowRun, ModelSpec)> {
    let [tr, va, te] = parts;
    let counts = [tr.labels.len() - tr.positives(), tr.positives()];
    let mut tc = train_cfg.clone();
    tc.class_weights = weights_for(&counts, cfg.weights);
    let (outcome, train_seconds) =
        train_reporting(split, arch, &tr.data()?, &va.data()?, &tc, on_progress)?;
    let model = classifier(&outcome.spec)?;
    let pred = predict(&model, &[], &te.features)?;
    let mut m = [[0u64; 2]; 2];
    for (&l, &p) in te.labels.iter().zip(&pred) {
        m[usize::from(l == 1)][usize::from(p == 1)] += 1;
    }
    let [train_records, valid_records, test_records] = records;
    Ok((
        RrWindowRun {
            split: split.to_string(),
            leaky,
            train_records,
            valid_records,
            test_records,
            windows: [tr.labels.len(), va.labels.len(), te.labels.len()],
            positives: [tr.positives(), va.positives(), te.positives()],
            class_weights: tc.class_weights.clone(),
            best_epoch: outcome.best_epoch,
            epochs_run: outcome.history.len(),
            valid_f1: best_valid_f1(&outcome),
            test: BinaryScores::from_confusion(m),
            train_seconds,
        },
        outcome.spec,
    ))
}

/// Split `n` items at random into (train, valid, test): `test_fraction` for testing, the same
/// fraction of the rest for validation (deterministic for `seed`). LEAKY when the items come
/// from the same patients.
fn leaky_three_way(
    n: usize,
    test_fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>, Vec<usize>)> {
    if !(0.01..=0.9).contains(&test_fraction) {
        return Err(Error::invalid(format!(
            "leaky test fraction {test_fraction} must be in 0.01..=0.9"
        )));
    }
    let (rest, test) = random_beat_split(n, 1.0 - test_fraction, seed);
    let (tr, va) = random_beat_split(rest.len(), 1.0 - test_fraction, seed ^ 0x5EED_5EED);
    let pick = |v: Vec<usize>| v.into_iter().map(|i| rest[i]).collect::<Vec<_>>();
    Ok((pick(tr), pick(va), test))
}

/// Seed 000's RR-window classifier, inter-patient and (labelled leaky) on a random split.
///
/// Windows of `cfg.n_rr` RR intervals from the reference annotations of the records in `db`
/// ([`rr_window::build_records`], one window per beat), label 1 when at least `cfg.min_veb`
/// of the window's beats are VEB. The network is [`ArchConfig::rr_dense`] (`cfg.hidden`),
/// trained with early stopping on the validation F1 of the positive class and scored through
/// the device kernels. `on_progress` receives one-line progress messages.
pub fn rr_window_experiment(
    db: impl AsRef<Path>,
    seed: u64,
    cfg: &RrWindowConfig,
    on_progress: &mut dyn FnMut(&str),
) -> Result<RrWindowReport> {
    let started = Instant::now();
    let db = db.as_ref();
    let pool: Vec<&str> = DS1.iter().chain(&DS2).copied().collect();
    let records = match &cfg.records {
        Some(r) => r.clone(),
        None => SeedRecords::de_chazal(seed, cfg.valid_records, &pool)?,
    };
    records.check()?;
    let mut all: Vec<String> = records
        .train
        .iter()
        .chain(&records.valid)
        .chain(&records.test)
        .chain(&records.leaky)
        .cloned()
        .collect();
    all.sort();
    all.dedup();
    on_progress(&format!("reading the annotations of {} records", all.len()));
    let built = rr_window::build_records(db, &all, cfg.n_rr, cfg.min_veb)?;
    let by_name: BTreeMap<&str, &RrRecord> =
        all.iter().map(String::as_str).zip(built.iter()).collect();
    let of = |names: &[String]| -> Windows {
        let recs: Vec<&RrRecord> = names
            .iter()
            .filter_map(|n| by_name.get(n.as_str()).copied())
            .collect();
        Windows::of(&recs, cfg.relative)
    };
    let n_features = if cfg.relative { 2 * cfg.n_rr } else { cfg.n_rr };
    let arch = ArchConfig::rr_dense(n_features, &cfg.hidden, &['N', 'V']);
    let train_cfg = TrainConfig {
        seed,
        ..cfg.train.clone()
    };

    let (tr, va, te) = (of(&records.train), of(&records.valid), of(&records.test));
    let (inter_patient, spec) = rr_run(
        "inter-patient",
        false,
        [
            records.train.clone(),
            records.valid.clone(),
            records.test.clone(),
        ],
        [&tr, &va, &te],
        &arch,
        cfg,
        &train_cfg,
        on_progress,
    )?;

    let pool_windows = of(&records.leaky);
    let (itr, iva, ite) =
        leaky_three_way(pool_windows.labels.len(), cfg.leaky_test_fraction, seed)?;
    let (ltr, lva, lte) = (
        pool_windows.select(&itr),
        pool_windows.select(&iva),
        pool_windows.select(&ite),
    );
    let (leaky, _) = rr_run(
        "LEAKY random window split",
        true,
        [
            records.leaky.clone(),
            records.leaky.clone(),
            records.leaky.clone(),
        ],
        [&ltr, &lva, &lte],
        &arch,
        cfg,
        &train_cfg,
        on_progress,
    )?;
    Ok(RrWindowReport {
        seed,
        n_rr: cfg.n_rr,
        min_veb: cfg.min_veb,
        n_features,
        hidden: cfg.hidden.clone(),
        parameters: spec.parameters(),
        macs: spec.macs()?,
        inter_patient,
        leaky,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Settings of [`beat_csv_experiment`].
#[derive(Debug, Clone, PartialEq)]
pub struct BeatCsvConfig {
    /// DS1 records held out for validation.
    pub valid_records: usize,
    /// Record roles; `None`: [`SeedRecords::de_chazal`] with the leaky split over all 48
    /// MIT-BIH records (as Kaggle's files).
    pub records: Option<SeedRecords>,
    /// Loss weights from the training class counts; `None`: all 1.
    pub weights: Option<WeightScheme>,
    /// Optimisation (its `seed` is replaced by the experiment's seed).
    pub train: TrainConfig,
    /// Fraction of the leaky pool in `mitbih_test.csv`, and of `mitbih_train.csv` held out
    /// for validation.
    pub leaky_test_fraction: f64,
}

impl Default for BeatCsvConfig {
    /// 5 validation records, √-inverse class weights, at most 20 epochs, patience 5, batch
    /// 256, Adam 1e-3, leaky 20 %.
    fn default() -> Self {
        BeatCsvConfig {
            valid_records: 5,
            records: None,
            weights: Some(WeightScheme::SqrtInverse),
            train: TrainConfig {
                epochs: 20,
                patience: 5,
                ..TrainConfig::default()
            },
            leaky_test_fraction: 0.2,
        }
    }
}

/// One trained and tested Kaggle-format model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeatCsvRun {
    /// What the split is.
    pub split: String,
    /// Whether the same patients are in training and test.
    pub leaky: bool,
    /// The CSV file trained on (training and validation rows).
    pub train_file: String,
    /// The CSV file tested on.
    pub test_file: String,
    /// Training records (for the leaky split: the pool).
    pub train_records: Vec<String>,
    /// Validation records (for the leaky split: the pool).
    pub valid_records: Vec<String>,
    /// Test records (for the leaky split: the pool).
    pub test_records: Vec<String>,
    /// Rows in training, validation and test.
    pub rows: [usize; 3],
    /// Training rows per class N S V F Q.
    pub train_counts: [usize; 5],
    /// Test rows per class N S V F Q.
    pub test_counts: [usize; 5],
    /// Loss weights of N S V F Q.
    pub class_weights: Vec<f32>,
    /// The epoch whose model was kept (best validation macro-F1 of N, S, V, F).
    pub best_epoch: usize,
    /// Epochs trained (early stopping included).
    pub epochs_run: usize,
    /// Validation macro-F1 at the best epoch, percent.
    pub valid_macro_f1: f64,
    /// Test scores by class (N S V F Q; EC57 rules of [`scores`]).
    pub classes: BTreeMap<String, ClassScore>,
    /// Test accuracy, percent.
    pub accuracy: f64,
    /// Test macro-F1 of N, S, V, F, percent.
    pub macro_f1: f64,
    /// Test confusion, rows reference, columns predicted (N S V F Q, and an unused sixth).
    pub confusion: Matrix,
    /// Wall time of training, seconds.
    pub train_seconds: f64,
}

/// The result of [`beat_csv_experiment`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeatCsvReport {
    /// The seed of the run.
    pub seed: u64,
    /// Where the CSV files are.
    pub csv_dir: String,
    /// The CSV files written and read back (with their `_index.csv` companions).
    pub files: Vec<String>,
    /// Wall time of cutting the beats and writing the CSVs, seconds.
    pub build_seconds: f64,
    /// Wall time of reading the CSVs back, seconds.
    pub read_seconds: f64,
    /// Parameters of the network.
    pub parameters: usize,
    /// Multiply–accumulates per beat.
    pub macs: usize,
    /// Trained on `mitbih_ds1.csv` (patient-wise validation), tested on `mitbih_ds2.csv`.
    pub inter_patient: BeatCsvRun,
    /// LEAKY: `mitbih_train.csv` → `mitbih_test.csv`, same patients on both sides.
    pub leaky: BeatCsvRun,
    /// Wall time of the whole experiment, seconds.
    pub seconds: f64,
}

/// Largest `*_index.csv` accepted (one short line per beat; MIT-BIH's is about 1.5 MB).
const MAX_INDEX_BYTES: u64 = 256 << 20;

/// Write `rows` as `DIR/STEM.csv` (Kaggle layout) and `DIR/STEM_index.csv` (`record,sample`
/// per line, after a header line), as `examples/dump_beat_csv.rs` does.
pub fn write_beat_csv_pair(dir: &Path, stem: &str, rows: &[BeatCsvRow]) -> Result<()> {
    beat_csv::write_csv(dir.join(format!("{stem}.csv")), rows)?;
    let path = dir.join(format!("{stem}_index.csv"));
    let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
    let mut f = std::io::BufWriter::new(file);
    let mut write = || -> std::io::Result<()> {
        writeln!(f, "record,sample")?;
        for r in rows {
            writeln!(f, "{},{}", r.record, r.sample)?;
        }
        f.flush()
    };
    write().map_err(|e| Error::io(&path, e))
}

/// Parse a `*_index.csv` text: a `record,sample` header, then one `record,sample` line per
/// beat. Returns the record of each line.
pub fn parse_beat_csv_index(text: &str) -> Result<Vec<String>> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim() == "record,sample" => {}
        _ => {
            return Err(Error::malformed(
                "an index file starts with the header line \"record,sample\"",
            ))
        }
    }
    let mut records = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("line {}", i + 1);
        let (record, sample) = line
            .split_once(',')
            .ok_or_else(|| Error::malformed("expected \"record,sample\"").at(at()))?;
        let record = record.trim();
        if record.is_empty() {
            return Err(Error::malformed("empty record name").at(at()));
        }
        sample.trim().parse::<i64>().map_err(|_| {
            Error::malformed(format!("sample {sample:?} is not a whole number")).at(at())
        })?;
        records.push(record.to_string());
    }
    Ok(records)
}

fn read_beat_csv_index(path: &Path) -> Result<Vec<String>> {
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if len > MAX_INDEX_BYTES {
        return Err(Error::too_large(format!("index file of {len} bytes")).in_file(path));
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_beat_csv_index(&text).in_file(path)
}

/// Rows read back from a Kaggle CSV, with the record of each row if an index was read.
struct CsvRows {
    values: Vec<f32>,
    labels: Vec<u8>,
    records: Vec<String>,
}

impl CsvRows {
    fn read(dir: &Path, stem: &str, with_index: bool) -> Result<CsvRows> {
        let path = dir.join(format!("{stem}.csv"));
        let data = read_beat_csv(&path, &BeatCsvOptions::default())?;
        let records = if with_index {
            let ipath = dir.join(format!("{stem}_index.csv"));
            let r = read_beat_csv_index(&ipath)?;
            if r.len() != data.beats.len() {
                return Err(Error::invalid(format!(
                    "{} index lines for {} rows of {}",
                    r.len(),
                    data.beats.len(),
                    path.display()
                ))
                .in_file(&ipath));
            }
            r
        } else {
            Vec::new()
        };
        let mut values = Vec::with_capacity(data.beats.len() * BEAT_LEN);
        let mut labels = Vec::with_capacity(data.beats.len());
        for b in &data.beats {
            values.extend_from_slice(&b.values);
            labels.push(b.label);
        }
        Ok(CsvRows {
            values,
            labels,
            records,
        })
    }

    fn len(&self) -> usize {
        self.labels.len()
    }

    fn select(&self, idx: &[usize]) -> CsvRows {
        let mut r = CsvRows {
            values: Vec::with_capacity(idx.len() * BEAT_LEN),
            labels: Vec::with_capacity(idx.len()),
            records: Vec::new(),
        };
        for &i in idx {
            r.values
                .extend_from_slice(&self.values[i * BEAT_LEN..(i + 1) * BEAT_LEN]);
            r.labels.push(self.labels[i]);
            if let Some(name) = self.records.get(i) {
                r.records.push(name.clone());
            }
        }
        r
    }

    fn where_record(&self, names: &[String]) -> CsvRows {
        let idx: Vec<usize> = (0..self.len())
            .filter(|&i| self.records.get(i).is_some_and(|r| names.contains(r)))
            .collect();
        self.select(&idx)
    }

    fn counts(&self) -> [usize; 5] {
        let mut c = [0; 5];
        for &l in &self.labels {
            if let Some(x) = c.get_mut(l as usize) {
                *x += 1;
            }
        }
        c
    }

    fn data(&self) -> Result<TrainData> {
        TrainData::new(
            self.values.clone(),
            Vec::new(),
            self.labels.clone(),
            1,
            BEAT_LEN,
            0,
            vec!['N', 'S', 'V', 'F', 'Q'],
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn beat_csv_run(
    split: &str,
    leaky: bool,
    files: [&str; 2],
    records: [Vec<String>; 3],
    parts: [&CsvRows; 3],
    arch: &ArchConfig,
    cfg: &BeatCsvConfig,
    train_cfg: &TrainConfig,
    on_progress: &mut dyn FnMut(&str),
) -> Result<(BeatCsvRun, ModelSpec)> {
    let [tr, va, te] = parts;
    let train_counts = tr.counts();
    let mut tc = train_cfg.clone();
    tc.class_weights = weights_for(&train_counts, cfg.weights);
    let (outcome, train_seconds) =
        train_reporting(split, arch, &tr.data()?, &va.data()?, &tc, on_progress)?;
    on_progress(&format!("{split}: classifying {} test rows", te.len()));
    let model = classifier(&outcome.spec)?;
    let pred = predict(&model, &te.values, &[])?;
    let mut m: Matrix = [[0; 6]; 6];
    for (&l, &p) in te.labels.iter().zip(&pred) {
        // Labels are 0..=4 (checked by the reader) and predictions index the 5 classes.
        m[(l as usize).min(4)][p.min(4)] += 1;
    }
    let (classes, accuracy, macro_f1) = scores(&m);
    let [train_records, valid_records, test_records] = records;
    Ok((
        BeatCsvRun {
            split: split.to_string(),
            leaky,
            train_file: files[0].to_string(),
            test_file: files[1].to_string(),
            train_records,
            valid_records,
            test_records,
            rows: [tr.len(), va.len(), te.len()],
            train_counts,
            test_counts: te.counts(),
            class_weights: tc.class_weights.clone(),
            best_epoch: outcome.best_epoch,
            epochs_run: outcome.history.len(),
            valid_macro_f1: best_valid_f1(&outcome),
            classes,
            accuracy,
            macro_f1,
            confusion: m,
            train_seconds,
        },
        outcome.spec,
    ))
}

/// The Kaggle 187-value format, from MIT-BIH through CSV files and back, inter-patient and
/// (labelled leaky) on Kaggle's random beat split.
///
/// Writes into `csv_dir` (created if missing; existing files of these names are replaced):
/// `mitbih_ds1.csv` (training and validation records), `mitbih_ds2.csv` (test records),
/// `mitbih_train.csv` / `mitbih_test.csv` (the leaky pool split at random, `seed`), each with
/// its `_index.csv`. Then reads them back and trains [`ArchConfig::beat_csv_187`] twice; see
/// the [module documentation](self). `on_progress` receives one-line progress messages.
pub fn beat_csv_experiment(
    db: impl AsRef<Path>,
    csv_dir: impl AsRef<Path>,
    seed: u64,
    cfg: &BeatCsvConfig,
    on_progress: &mut dyn FnMut(&str),
) -> Result<BeatCsvReport> {
    let started = Instant::now();
    let (db, dir) = (db.as_ref(), csv_dir.as_ref());
    let records = match &cfg.records {
        Some(r) => r.clone(),
        None => {
            SeedRecords::de_chazal(seed, cfg.valid_records, &sinus_io::datasets::MITDB_RECORDS)?
        }
    };
    records.check()?;
    if !(0.01..=0.9).contains(&cfg.leaky_test_fraction) {
        return Err(Error::invalid(format!(
            "leaky test fraction {} must be in 0.01..=0.9",
            cfg.leaky_test_fraction
        )));
    }
    let mut all: Vec<String> = records
        .train
        .iter()
        .chain(&records.valid)
        .chain(&records.test)
        .chain(&records.leaky)
        .cloned()
        .collect();
    all.sort();
    all.dedup();
    on_progress(&format!("cutting Kachuee beats from {} records", all.len()));
    let rows = beat_csv::build_records(db, &all)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let of = |names: &[String]| -> Vec<BeatCsvRow> {
        rows.iter()
            .filter(|r| names.contains(&r.record))
            .cloned()
            .collect()
    };
    let ds1_names: Vec<String> = records
        .train
        .iter()
        .chain(&records.valid)
        .cloned()
        .collect();
    on_progress("writing mitbih_ds1.csv, mitbih_ds2.csv");
    write_beat_csv_pair(dir, "mitbih_ds1", &of(&ds1_names))?;
    write_beat_csv_pair(dir, "mitbih_ds2", &of(&records.test))?;
    let pool = of(&records.leaky);
    let (itrain, itest) = random_beat_split(pool.len(), 1.0 - cfg.leaky_test_fraction, seed);
    let pick =
        |idx: &[usize]| -> Vec<BeatCsvRow> { idx.iter().map(|&i| pool[i].clone()).collect() };
    on_progress("writing mitbih_train.csv, mitbih_test.csv");
    write_beat_csv_pair(dir, "mitbih_train", &pick(&itrain))?;
    write_beat_csv_pair(dir, "mitbih_test", &pick(&itest))?;
    drop(pool);
    drop(rows);
    let build_seconds = started.elapsed().as_secs_f64();

    on_progress("reading the CSV files back");
    let read_started = Instant::now();
    let ds1 = CsvRows::read(dir, "mitbih_ds1", true)?;
    let ds2 = CsvRows::read(dir, "mitbih_ds2", true)?;
    let ktrain = CsvRows::read(dir, "mitbih_train", false)?;
    let ktest = CsvRows::read(dir, "mitbih_test", false)?;
    let read_seconds = read_started.elapsed().as_secs_f64();

    let arch = ArchConfig::beat_csv_187();
    let train_cfg = TrainConfig {
        seed,
        ..cfg.train.clone()
    };
    let (tr, va) = (
        ds1.where_record(&records.train),
        ds1.where_record(&records.valid),
    );
    drop(ds1);
    let (inter_patient, spec) = beat_csv_run(
        "inter-patient",
        false,
        ["mitbih_ds1.csv", "mitbih_ds2.csv"],
        [
            records.train.clone(),
            records.valid.clone(),
            records.test.clone(),
        ],
        [&tr, &va, &ds2],
        &arch,
        cfg,
        &train_cfg,
        on_progress,
    )?;
    drop((tr, va, ds2));

    let (ltr, lva) = random_beat_split(
        ktrain.len(),
        1.0 - cfg.leaky_test_fraction,
        seed ^ 0x5EED_5EED,
    );
    let (ltr, lva) = (ktrain.select(&ltr), ktrain.select(&lva));
    drop(ktrain);
    let (leaky, _) = beat_csv_run(
        "LEAKY Kaggle random beat split",
        true,
        ["mitbih_train.csv", "mitbih_test.csv"],
        [
            records.leaky.clone(),
            records.leaky.clone(),
            records.leaky.clone(),
        ],
        [&ltr, &lva, &ktest],
        &arch,
        cfg,
        &train_cfg,
        on_progress,
    )?;
    let files = ["mitbih_ds1", "mitbih_ds2", "mitbih_train", "mitbih_test"]
        .iter()
        .map(|s| format!("{s}.csv"))
        .collect();
    Ok(BeatCsvReport {
        seed,
        csv_dir: dir.display().to_string(),
        files,
        build_seconds,
        read_seconds,
        parameters: spec.parameters(),
        macs: spec.macs()?,
        inter_patient,
        leaky,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Mean and sample standard deviation (`n − 1`; 0 for fewer than two values) of `values`.
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len();
    if n == 0 {
        return (f64::NAN, 0.0);
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let sd = if n > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    (mean, sd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_scores_of_a_confusion() {
        // 90 negatives (5 called positive), 10 positives (8 found).
        let s = BinaryScores::from_confusion([[85, 5], [2, 8]]);
        assert_eq!((s.tp, s.fn_, s.fp, s.tn), (8, 2, 5, 85));
        assert!((s.se.unwrap() - 80.0).abs() < 1e-9);
        assert!((s.ppv.unwrap() - 100.0 * 8.0 / 13.0).abs() < 1e-9);
        assert!((s.f1.unwrap() - 100.0 * 16.0 / 23.0).abs() < 1e-9);
        assert!((s.accuracy - 93.0).abs() < 1e-9);
        let none = BinaryScores::from_confusion([[4, 0], [0, 0]]);
        assert_eq!((none.se, none.ppv, none.f1), (None, None, None));
        assert_eq!(none.accuracy, 100.0);
        assert_eq!(BinaryScores::from_confusion([[0; 2]; 2]).accuracy, 0.0);
    }

    #[test]
    fn index_files() {
        let r = parse_beat_csv_index("record,sample\n100,18\n100,77\n\n201,5\n").unwrap();
        assert_eq!(r, ["100", "100", "201"]);
        assert!(parse_beat_csv_index("").is_err());
        assert!(parse_beat_csv_index("100,18\n").is_err(), "no header");
        assert!(parse_beat_csv_index("record,sample\n100\n").is_err());
        assert!(parse_beat_csv_index("record,sample\n100,x\n").is_err());
        assert!(parse_beat_csv_index("record,sample\n,3\n").is_err());
    }

    #[test]
    fn three_way_split_and_mean_sd() {
        let (tr, va, te) = leaky_three_way(1000, 0.2, 3).unwrap();
        assert_eq!((tr.len(), va.len(), te.len()), (640, 160, 200));
        let mut all: Vec<usize> = tr.iter().chain(&va).chain(&te).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert!(leaky_three_way(10, 0.0, 1).is_err());
        let (m, sd) = mean_sd(&[1.0, 2.0, 3.0]);
        assert_eq!((m, sd), (2.0, 1.0));
        assert_eq!(mean_sd(&[4.0]), (4.0, 0.0));
        assert!(mean_sd(&[]).0.is_nan());
    }

    #[test]
    fn overlapping_record_roles_are_rejected() {
        let s = |v: &[&str]| strings(v);
        let r = SeedRecords {
            train: s(&["100", "101"]),
            valid: s(&["101"]),
            test: s(&["103"]),
            leaky: s(&["100"]),
        };
        assert!(r.check().is_err());
        assert!(SeedRecords::de_chazal(1, 0, &DS1).is_err());
        let d = SeedRecords::de_chazal(1, 5, &DS1).unwrap();
        d.check().unwrap();
        assert_eq!((d.train.len(), d.valid.len(), d.test.len()), (17, 5, 22));
    }

    /// Records rich in VEB: two to train on, one to validate, one unseen patient to test.
    fn veb_records() -> SeedRecords {
        SeedRecords {
            train: strings(&["119", "208"]),
            valid: strings(&["106"]),
            test: strings(&["233"]),
            leaky: strings(&["106", "119", "208", "233"]),
        }
    }

    #[test]
    fn rr_window_learns_on_four_records() {
        let Some(db) = sinus_io::datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
            return;
        };
        let cfg = RrWindowConfig {
            records: Some(veb_records()),
            // Few examples: small batches and a larger step, so a few epochs are enough.
            train: TrainConfig {
                epochs: 4,
                batch_size: 32,
                learning_rate: 3e-3,
                ..RrWindowConfig::default().train
            },
            ..RrWindowConfig::default()
        };
        let mut messages = 0;
        let r = rr_window_experiment(&db, 1, &cfg, &mut |_| messages += 1).unwrap();
        assert!(messages > 2);
        assert_eq!(r.parameters, 10 * 16 + 16 + 16 * 2 + 2);
        for run in [&r.inter_patient, &r.leaky] {
            let t = &run.test;
            let n = (t.tp + t.fn_ + t.fp + t.tn) as usize;
            assert_eq!(n, run.windows[2]);
            assert!(run.positives[2] > 100, "{run:?}");
            // Above chance (balanced accuracy 1/2); an unseen patient is harder.
            let spec = t.tn as f64 / (t.tn + t.fp) as f64;
            let balanced = (t.se.unwrap() / 100.0 + spec) / 2.0;
            let floor = if run.leaky { 0.7 } else { 0.6 };
            assert!(
                balanced > floor,
                "{}: balanced accuracy {balanced}",
                run.split
            );
        }
        assert!(r.leaky.leaky && !r.inter_patient.leaky);
        assert_eq!(r.inter_patient.test_records, ["233"]);
    }

    #[test]
    #[ignore = "about 2 min in a debug build; run with --ignored (or --release -- --ignored)"]
    fn beat_csv_learns_on_four_records() {
        let Some(db) = sinus_io::datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let cfg = BeatCsvConfig {
            records: Some(veb_records()),
            train: TrainConfig {
                epochs: 2,
                batch_size: 64,
                learning_rate: 3e-3,
                ..BeatCsvConfig::default().train
            },
            ..BeatCsvConfig::default()
        };
        let r = beat_csv_experiment(&db, dir.path(), 1, &cfg, &mut |_| {}).unwrap();
        for f in ["mitbih_ds1.csv", "mitbih_ds2_index.csv", "mitbih_test.csv"] {
            assert!(dir.path().join(f).is_file(), "{f}");
        }
        let ip = &r.inter_patient;
        assert_eq!(ip.rows[2], ip.test_counts.iter().sum::<usize>());
        assert!(
            ip.test_counts[2] > 100,
            "233 has many VEB: {:?}",
            ip.test_counts
        );
        // Above chance on held-out beats: N and V (the classes these records hold) mostly
        // right. Checked on the leaky split only: two training patients and two epochs do not
        // carry over to an unseen patient (233) within debug-build time.
        let run = &r.leaky;
        let se = |c: &str| run.classes[c].se.unwrap_or(0.0);
        assert!(
            (se("N") + se("V")) / 2.0 > 70.0,
            "N {:.1} V {:.1}",
            se("N"),
            se("V")
        );
        assert!(run.leaky && !ip.leaky);
    }
}
