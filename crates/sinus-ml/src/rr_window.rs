//! The RR-window dataset of the seed project "000": a run of consecutive RR intervals labelled
//! by whether its beats hold several ventricular ectopic beats (VEB), for a tiny dense network.
//!
//! A window of `n_rr` intervals spans `n_rr + 1` consecutive beat annotations; its label is 1
//! when at least `min_veb` of those beats are VEB (`V` or `E`, AAMI class V), else 0. The seed
//! used 10 intervals and 2 VEB.
//!
//! Choices (the seed's text leaves them open):
//! - **One window per beat**, the window ending at that beat (a sliding window with stride 1),
//!   not non-overlapping blocks: a monitor decides at every beat with the last `n_rr`
//!   intervals, which is what this trains and scores; it gives `n_rr` times more windows; and
//!   the overlap does no harm to an honest evaluation because splits are by record (patient).
//!   For non-overlapping blocks take every `n_rr`-th window ([`RrRecord::non_overlapping`]).
//! - **Beats**: every beat annotation of the reference `.atr` (beats without an AAMI class
//!   included, as neighbours: they are beats the heart made), in time order; intervals are
//!   taken as they are, also across noisy stretches where the annotator marked no beat.
//! - **Features** ([`RrWindow::features`], `2 · n_rr` values): the raw intervals in seconds,
//!   oldest first, then the same intervals divided by the record's mean interval. The raw
//!   intervals are what the seed fed; the relative ones remove the patient's heart rate, which
//!   differs between patients and so matters in an inter-patient split. The record mean is a
//!   property of the whole recording (available when screening a finished recording; the beat
//!   classifier uses a running mean instead, `long_rr` in [`crate::dataset::RR_FEATURES`]).

use crate::dataset::AamiClass;
use crate::export::write_npy;
use rayon::prelude::*;
use sinus_io::wfdb::annotation::read_annotations;
use sinus_io::wfdb::record::read_header;
use sinus_io::{Error, Result, ResultExt};
use std::path::{Path, PathBuf};

/// Largest accepted `n_rr`.
pub const MAX_N_RR: usize = 1000;

/// One window of RR intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct RrWindow {
    /// Sample (frame number) of the window's last beat.
    pub sample: i64,
    /// `2 · n_rr` features: `n_rr` intervals in seconds (oldest first), then each divided by the
    /// record's mean interval.
    pub features: Vec<f32>,
    /// VEB among the window's `n_rr + 1` beats.
    pub veb: usize,
    /// 1 if `veb ≥ min_veb`, else 0.
    pub label: u8,
}

/// The windows of one record.
#[derive(Debug, Clone, PartialEq)]
pub struct RrRecord {
    /// Record name.
    pub record: String,
    /// Mean RR interval of the record, seconds (1 when the record has fewer than two beats).
    pub mean_rr: f64,
    /// Intervals per window.
    pub n_rr: usize,
    /// One window per beat from beat `n_rr` on, in time order.
    pub windows: Vec<RrWindow>,
}

impl RrRecord {
    /// Every `n_rr`-th window, the last one included: non-overlapping blocks of intervals
    /// ending at the record's last beat.
    pub fn non_overlapping(&self) -> Vec<RrWindow> {
        let n = self.windows.len();
        let step = self.n_rr.max(1);
        let first = n.checked_sub(1).map_or(0, |last| last % step);
        self.windows
            .iter()
            .skip(first)
            .step_by(step)
            .cloned()
            .collect()
    }
}

/// Windows from beat times (samples, ascending) and whether each beat is a VEB, at `fs` Hz.
pub fn windows_from_beats(
    record: &str,
    beats: &[(i64, bool)],
    fs: f64,
    n_rr: usize,
    min_veb: usize,
) -> Result<RrRecord> {
    if !(1..=MAX_N_RR).contains(&n_rr) {
        return Err(Error::invalid(format!(
            "{n_rr} RR intervals per window; between 1 and {MAX_N_RR} are accepted"
        )));
    }
    if !(fs.is_finite() && fs > 0.0) {
        return Err(Error::invalid(format!(
            "frame frequency {fs} Hz is not positive"
        )));
    }
    let rr: Vec<f64> = beats
        .windows(2)
        .map(|w| w[1].0.saturating_sub(w[0].0) as f64 / fs)
        .collect();
    let mean = rr.iter().sum::<f64>() / rr.len().max(1) as f64;
    let mean_rr = if mean.is_finite() && mean > 0.0 {
        mean
    } else {
        1.0
    };
    let mut windows = Vec::with_capacity(beats.len().saturating_sub(n_rr));
    for end in n_rr..beats.len() {
        // Beats end − n_rr ..= end; intervals rr[end − n_rr .. end].
        let ivs = &rr[end - n_rr..end];
        let veb = beats[end - n_rr..=end].iter().filter(|b| b.1).count();
        let mut features = Vec::with_capacity(2 * n_rr);
        features.extend(ivs.iter().map(|&r| r as f32));
        features.extend(ivs.iter().map(|&r| (r / mean_rr) as f32));
        windows.push(RrWindow {
            sample: beats[end].0,
            features,
            veb,
            label: u8::from(veb >= min_veb),
        });
    }
    Ok(RrRecord {
        record: record.to_string(),
        mean_rr,
        n_rr,
        windows,
    })
}

/// The path of `record_path` with `.ext` appended (`db/100` → `db/100.atr`).
fn with_suffix(record_path: &Path, ext: &str) -> PathBuf {
    let mut s = record_path.as_os_str().to_os_string();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// The RR windows of a record, from its reference annotations `record_path.atr` (the header
/// `record_path.hea` gives the sampling frequency). See the [module documentation](self).
pub fn build(record_path: impl AsRef<Path>, n_rr: usize, min_veb: usize) -> Result<RrRecord> {
    let record_path = record_path.as_ref();
    let header = read_header(record_path)?;
    // WFDB's default when the header gives no frequency.
    let fs = header.record.sampling_frequency.unwrap_or(250.0);
    let set = read_annotations(with_suffix(record_path, "atr"), Some(fs))?;
    let mut beats: Vec<(i64, bool)> = set
        .annotations
        .iter()
        .filter(|a| a.is_beat())
        .map(|a| {
            let class = AamiClass::from_symbol(set.symbol_of(a.code));
            (a.sample, class == Some(AamiClass::V))
        })
        .collect();
    beats.sort_by_key(|b| b.0);
    windows_from_beats(&header.record.name, &beats, fs, n_rr, min_veb).in_file(record_path)
}

/// [`build`] for `records` (names inside `db_dir`), in the order given, in parallel.
pub fn build_records<S: AsRef<str> + Sync>(
    db_dir: impl AsRef<Path>,
    records: &[S],
    n_rr: usize,
    min_veb: usize,
) -> Result<Vec<RrRecord>> {
    let db_dir = db_dir.as_ref();
    records
        .par_iter()
        .map(|r| build(db_dir.join(r.as_ref()), n_rr, min_veb))
        .collect()
}

/// Write the windows of `records` into `dir` (created if missing) as NumPy files:
/// `features.npy` (`<f4`, n × 2·n_rr), `labels.npy` (`|u1`, n), `veb.npy` (`<i4`, n),
/// `record.npy` (`<i4`, n, index into `records.txt`), `sample.npy` (`<i8`, n).
/// With `non_overlapping`, only [`RrRecord::non_overlapping`] windows are written.
pub fn write_npy_dir(
    dir: impl AsRef<Path>,
    records: &[RrRecord],
    non_overlapping: bool,
) -> Result<()> {
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let width = records.first().map_or(0, |r| 2 * r.n_rr);
    let (mut feats, mut labels, mut veb, mut rec, mut sample) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, r) in records.iter().enumerate() {
        if 2 * r.n_rr != width {
            return Err(Error::invalid(format!(
                "record {} has windows of {} intervals, the first record {}",
                r.record,
                r.n_rr,
                width / 2
            )));
        }
        let chosen = if non_overlapping {
            r.non_overlapping()
        } else {
            r.windows.clone()
        };
        for w in chosen {
            feats.extend_from_slice(&w.features);
            labels.push(w.label);
            veb.push(i32::try_from(w.veb).unwrap_or(i32::MAX));
            rec.push(i32::try_from(i).unwrap_or(i32::MAX));
            sample.push(w.sample);
        }
    }
    let n = labels.len();
    write_npy(dir.join("features.npy"), &[n, width], &feats)?;
    write_npy(dir.join("labels.npy"), &[n], &labels)?;
    write_npy(dir.join("veb.npy"), &[n], &veb)?;
    write_npy(dir.join("record.npy"), &[n], &rec)?;
    write_npy(dir.join("sample.npy"), &[n], &sample)?;
    let names = dir.join("records.txt");
    let text: String = records.iter().map(|r| format!("{}\n", r.record)).collect();
    std::fs::write(&names, text).map_err(|e| Error::io(&names, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_windows_and_labels() {
        // 1 s rhythm at 100 Hz; beats 5 and 7 are VEB, 5 comes early.
        let times = [0i64, 100, 200, 300, 400, 470, 600, 700, 800, 900];
        let beats: Vec<(i64, bool)> = times
            .iter()
            .enumerate()
            .map(|(i, &t)| (t, i == 5 || i == 7))
            .collect();
        let r = windows_from_beats("x", &beats, 100.0, 3, 2).unwrap();
        assert_eq!(r.windows.len(), 7);
        assert!((r.mean_rr - 1.0).abs() < 1e-12);
        let w = &r.windows[2]; // ends at beat 5: intervals 1, 1, 0.7
        assert_eq!(w.sample, 470);
        assert_eq!(w.features.len(), 6);
        assert!((w.features[2] - 0.7).abs() < 1e-6);
        assert!((w.features[5] - 0.7).abs() < 1e-6);
        assert_eq!((w.veb, w.label), (1, 0));
        // Beats 4..=7 hold both VEB.
        assert_eq!((r.windows[4].veb, r.windows[4].label), (2, 1));
        let labels: Vec<u8> = r.windows.iter().map(|w| w.label).collect();
        assert_eq!(labels, [0, 0, 0, 0, 1, 1, 0]);
        // Non-overlapping: windows ending at beats 3, 6, 9.
        let blocks = r.non_overlapping();
        let ends: Vec<i64> = blocks.iter().map(|w| w.sample).collect();
        assert_eq!(ends, [300, 600, 900]);
    }

    #[test]
    fn bad_parameters_and_short_records() {
        assert!(windows_from_beats("x", &[], 100.0, 0, 2).is_err());
        assert!(windows_from_beats("x", &[], 100.0, MAX_N_RR + 1, 2).is_err());
        assert!(windows_from_beats("x", &[], f64::NAN, 10, 2).is_err());
        let r = windows_from_beats("x", &[(5, true)], 100.0, 10, 2).unwrap();
        assert!(r.windows.is_empty());
        assert_eq!(r.mean_rr, 1.0);
        assert!(r.non_overlapping().is_empty());
    }
}
