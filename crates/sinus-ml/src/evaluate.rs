//! Beat-classifier evaluation as the field reports it: AAMI classes on whole records, per
//! class Se, +P and F1, accuracy and macro-F1, and the confusion matrix.
//!
//! Two modes:
//! - **reference R-peaks**: every reference beat is cut and classified (the setting of the
//!   inter-patient papers: de Chazal 2004, Mar 2011, Zhang 2021);
//! - **end to end**: our own QRS detector finds the beats, which are cut, classified and then
//!   matched to the reference with `bxb`'s rules (±150 ms, one to one); a reference beat
//!   that no detection matches counts as an error of its class (column "missed"), a detection
//!   that matches no reference beat as a false positive of the class it was given (row
//!   "none").
//!
//! Class statistics follow EC57 / `bxb`: TP = reference c called c, FN = reference c called
//! anything else (or missed), FP = another reference called c — except that F and Q reference
//! beats called V are not VEB false positives, and Q reference beats called S are not SVEB
//! false positives. Classes are the de Chazal AAMI mapping of [`AamiClass`] (N: N L R e j;
//! S: A a J S; V: V E; F: F; Q: / f Q). Macro-F1 is the mean F1 of N, S, V and F.

use crate::dataset::{windows_at, AamiClass, Dataset, Window};
use crate::infer::Classifier;
use crate::metadata::ModelMetadata;
use crate::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sinus_eval::bxb::{BxbOptions, Reference};
use sinus_io::wfdb::record::read_record;
use sinus_io::ResultExt;
use sinus_signal::detect::{detect_qrs, QrsDetectorKind};
use sinus_signal::resample::{map_indices, resample_recording, same_rate};
use std::collections::BTreeMap;
use std::path::Path;

/// Row/column labels of [`BeatEvaluation::confusion`]: rows are the reference (the last row,
/// "none", holds detections with no reference beat), columns the prediction (the last
/// column, "missed", holds reference beats no detection matched).
pub const CONFUSION_LABELS: [&str; 6] = ["N", "S", "V", "F", "Q", "-"];

/// A 6×6 matrix of counts, rows reference, columns predicted, in [`CONFUSION_LABELS`] order.
pub type Matrix = [[u64; 6]; 6];

/// Scores of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassScore {
    /// True positives.
    pub tp: u64,
    /// False negatives.
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// False positives.
    pub fp: u64,
    /// Sensitivity, percent (`None` without reference beats of the class).
    pub se: Option<f64>,
    /// Positive predictivity, percent (`None` when never predicted).
    pub ppv: Option<f64>,
    /// F1, percent.
    pub f1: Option<f64>,
}

/// The evaluation of a model on a set of records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeatEvaluation {
    /// "reference" or "end-to-end (DETECTOR)".
    pub mode: String,
    /// Records evaluated.
    pub records: Vec<String>,
    /// Scores by class name (N, S, V, F, Q).
    pub classes: BTreeMap<String, ClassScore>,
    /// Correct / all counted beats, percent.
    pub accuracy: f64,
    /// Mean F1 of N, S, V, F, percent.
    pub macro_f1: f64,
    /// Counts, rows reference, columns predicted ([`CONFUSION_LABELS`]).
    pub confusion: Matrix,
    /// Reference beats left out because their window leaves the record (reference mode).
    pub skipped_edge: u64,
    /// Per record confusion matrices.
    pub per_record: Vec<(String, Matrix)>,
}

fn pct(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| 100.0 * num as f64 / den as f64)
}

/// Scores of a confusion matrix, with EC57's exclusions (see the module documentation).
pub fn scores(m: &Matrix) -> (BTreeMap<String, ClassScore>, f64, f64) {
    let mut classes = BTreeMap::new();
    let mut f1s = Vec::new();
    for c in 0..5 {
        let tp = m[c][c];
        let fn_: u64 = (0..6).filter(|&j| j != c).map(|j| m[c][j]).sum();
        let excluded: &[usize] = match c {
            2 => &[3, 4],
            1 => &[4],
            _ => &[],
        };
        let fp: u64 = (0..6)
            .filter(|&r| r != c && !excluded.contains(&r))
            .map(|r| m[r][c])
            .sum();
        let se = pct(tp, tp + fn_);
        let ppv = pct(tp, tp + fp);
        let f1 = pct(2 * tp, 2 * tp + fn_ + fp);
        if c < 4 {
            f1s.push(f1.unwrap_or(0.0));
        }
        classes.insert(
            CONFUSION_LABELS[c].to_string(),
            ClassScore {
                tp,
                fn_,
                fp,
                se,
                ppv,
                f1,
            },
        );
    }
    let total: u64 = m.iter().flatten().sum();
    let correct: u64 = (0..5).map(|c| m[c][c]).sum();
    let accuracy = pct(correct, total).unwrap_or(0.0);
    let macro_f1 = f1s.iter().sum::<f64>() / f1s.len() as f64;
    (classes, accuracy, macro_f1)
}

/// Sum per-record matrices into an evaluation.
pub fn finish_beats(
    mode: String,
    per_record: Vec<(String, Matrix)>,
    skipped_edge: u64,
) -> BeatEvaluation {
    let mut confusion = [[0u64; 6]; 6];
    for (_, m) in &per_record {
        for r in 0..6 {
            for c in 0..6 {
                confusion[r][c] += m[r][c];
            }
        }
    }
    let (classes, accuracy, macro_f1) = scores(&confusion);
    BeatEvaluation {
        mode,
        records: per_record.iter().map(|(r, _)| r.clone()).collect(),
        classes,
        accuracy,
        macro_f1,
        confusion,
        skipped_edge,
        per_record,
    }
}

/// Classes predicted for beats (waveform, RR features), as [`AamiClass`] indices (0..5) and
/// the winning probability.
pub fn predict(
    model: &Classifier,
    waveforms: &[f32],
    features: &[f32],
) -> Result<Vec<(usize, f32)>> {
    let k = model.classes.len();
    let class_index: Vec<usize> = model
        .classes
        .iter()
        .map(|c| {
            AamiClass::from_symbol(&c.to_string())
                .map(|a| a.index())
                .unwrap_or(4)
        })
        .collect();
    let probs = model.probabilities_batch(waveforms, features)?;
    Ok(probs
        .chunks(k)
        .map(|p| {
            let best = sinus_core::nn::argmax(p);
            (class_index[best], p[best])
        })
        .collect())
}

/// Evaluate on reference R-peaks: every AAMI-labelled reference beat of `records` (in
/// `db_dir`) is cut as the model's metadata says and classified.
/// With `fs`, the records are resampled to `fs` Hz first (see [`Dataset::build_at`]).
pub fn evaluate_reference<S: AsRef<str> + Sync>(
    model: &Classifier,
    db_dir: impl AsRef<Path>,
    records: &[S],
    fs: Option<f64>,
) -> Result<BeatEvaluation> {
    let meta = ModelMetadata::parse(&model.metadata)?;
    let config = meta.window_config()?;
    let ds = Dataset::build_at(db_dir.as_ref(), records, &config, fs)?;
    let waveforms: Vec<f32> = ds.beats.iter().flat_map(|b| b.waveform.clone()).collect();
    let features: Vec<f32> = ds.beats.iter().flat_map(|b| b.rr).collect();
    let pred = predict(model, &waveforms, &features)?;
    let mut per: Vec<(String, Matrix)> = records
        .iter()
        .map(|r| (r.as_ref().to_string(), [[0; 6]; 6]))
        .collect();
    for (b, (p, _)) in ds.beats.iter().zip(pred) {
        if let Some((_, m)) = per.iter_mut().find(|(r, _)| *r == b.record) {
            m[b.class.index()][p] += 1;
        }
    }
    Ok(finish_beats("reference".into(), per, ds.skipped_edge))
}

/// Evaluate end to end: our `detector` finds the beats of each record; see the module
/// documentation for how detections and reference beats are scored. With `fs`, each record is
/// resampled to `fs` Hz first and everything runs at that rate; detections are mapped back
/// to the record's clock to be matched with the reference.
pub fn evaluate_end_to_end<S: AsRef<str> + Sync>(
    model: &Classifier,
    db_dir: impl AsRef<Path>,
    records: &[S],
    detector: QrsDetectorKind,
    fs: Option<f64>,
) -> Result<BeatEvaluation> {
    let meta = ModelMetadata::parse(&model.metadata)?;
    let config = meta.window_config()?;
    let db_dir = db_dir.as_ref();
    let per = records
        .par_iter()
        .map(|name| {
            let path = db_dir.join(name.as_ref());
            let wfdb = read_record(&path)?;
            let fs0 = wfdb.recording.frame_frequency;
            let resampled = match fs {
                Some(f) if !same_rate(f, fs0) => {
                    Some(resample_recording(&wfdb.recording, f).in_file(&path)?)
                }
                _ => None,
            };
            let rec = resampled.as_ref().unwrap_or(&wfdb.recording);
            let channel = config.leads.first().copied().unwrap_or(0);
            let found = detect_qrs(rec, channel, detector).in_file(&path)?;
            let windows = windows_at(rec, &found, &config).in_file(&path)?;
            // Scored on the record's own clock (at most one detection per sample).
            let mut mapped: Vec<_> = map_indices(&found, rec.frame_frequency, fs0)
                .into_iter()
                .zip(windows)
                .collect();
            mapped.dedup_by_key(|(s, _)| *s);
            let (peaks, windows): (Vec<i64>, Vec<_>) = mapped.into_iter().unzip();
            let ok: Vec<usize> = (0..windows.len())
                .filter(|&i| matches!(windows[i].0, Window::Ok(_)))
                .collect();
            let mut waveforms = Vec::new();
            let mut features = Vec::new();
            for &i in &ok {
                if let (Window::Ok(w), rr) = &windows[i] {
                    waveforms.extend_from_slice(w);
                    features.extend_from_slice(rr);
                }
            }
            let pred = predict(model, &waveforms, &features)?;
            // Detections whose window leaves the record cannot be classified: called Q.
            let mut predicted = vec![4usize; peaks.len()];
            for (&i, (p, _)) in ok.iter().zip(pred) {
                predicted[i] = p;
            }
            let reference = Reference::load(&path, "atr")?;
            let cmp =
                reference.compare_samples(peaks.iter().copied(), &BxbOptions::whole_record())?;
            Ok((
                name.as_ref().to_string(),
                pair_up(&reference, &peaks, &predicted, &cmp)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(finish_beats(
        format!("end-to-end ({})", detector_name(detector)),
        per,
        0,
    ))
}

fn detector_name(d: QrsDetectorKind) -> &'static str {
    match d {
        QrsDetectorKind::Offline => "offline",
        QrsDetectorKind::Streaming => "streaming",
        QrsDetectorKind::Streaming250 => "streaming-250",
    }
}

/// The matrix of one record from a bxb comparison: missed reference beats go to the
/// "missed" column, unmatched detections to the "none" row with their class, and each pair
/// bxb matched to (reference class, predicted class). Beats bxb does not score (inside
/// ventricular flutter episodes, before its start) are in none of its lists and not counted.
fn pair_up(
    reference: &Reference,
    peaks: &[i64],
    predicted: &[usize],
    cmp: &sinus_eval::bxb::Comparison,
) -> Result<Matrix> {
    let mut m = [[0u64; 6]; 6];
    let mut class_at: BTreeMap<i64, Option<usize>> = BTreeMap::new();
    for a in &reference.annotations {
        if sinus_eval::bxb::aami_class(a.code).is_some() {
            class_at
                .entry(a.sample)
                .or_insert_with(|| AamiClass::from_symbol(a.symbol()).map(|c| c.index()));
        }
    }
    let predicted_at = |s: i64| -> Result<usize> {
        peaks
            .binary_search(&s)
            .map(|i| predicted[i])
            .map_err(|_| Error::invalid(format!("record {}: no detection at {s}", reference.name)))
    };
    for s in &cmp.missed {
        if let Some(Some(c)) = class_at.get(s) {
            m[*c][5] += 1;
        }
    }
    for &s in &cmp.extra {
        m[5][predicted_at(s)?] += 1;
    }
    for &(r, t) in &cmp.matched {
        // Reference beats outside the AAMI classes (e.g. `!` flutter waves) are not scored.
        if let Some(Some(c)) = class_at.get(&r) {
            m[*c][predicted_at(t)?] += 1;
        }
    }
    Ok(m)
}

/// Check that the records exist before a long run (a clear error naming the missing file).
pub fn check_records<S: AsRef<str>>(db_dir: impl AsRef<Path>, records: &[S]) -> Result<()> {
    for r in records {
        let hea = db_dir.as_ref().join(format!("{}.hea", r.as_ref()));
        if !hea.is_file() {
            return Err(Error::invalid("record header not found").in_file(&hea));
        }
    }
    Ok(())
}
