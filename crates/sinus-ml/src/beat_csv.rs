//! The Kaggle "ECG Heartbeat Categorization" 187-value beat format, rebuilt from MIT-BIH records
//! the way Kachuee, Fazeli & Sarrafzadeh (2018, "ECG Heartbeat Classification: A Deep
//! Transferable Representation", IEEE ICHI) describe it, since the Kaggle file itself is not
//! available here. [`write_csv`] writes rows in the Kaggle CSV layout ([`sinus_io::beat_csv`]).
//!
//! From the paper (section III.A):
//! 1. split the continuous signal into 10 s windows;
//! 2. normalise the amplitude of each window to `[0, 1]`;
//! 3. find the R-peaks of the window;
//! 4. take the median R–R interval of the window as its nominal heart period `T`;
//! 5. for each R-peak, select the signal part of length `1.2 T` starting at the R-peak;
//! 6. zero-pad each part to a fixed length (187 values at 125 Hz in the published files).
//!
//! Our choices, where the paper leaves room or where we depart from it:
//! - **Lead**: signal 0 (MLII in 46 of the 48 records; V5 in 102 and 104), as the Kaggle files
//!   are said to use lead II.
//! - **Rate**: the whole record is resampled to 125 Hz first ([`sinus_signal::resample`],
//!   band-limited, zero-phase) and everything below is done at 125 Hz. Missing samples are
//!   bridged up to 0.1 s; a window holding a longer gap is dropped (not in MIT-BIH).
//! - **R-peaks**: the reference beat annotations (every beat annotation, including beats with
//!   no AAMI class), not the paper's local-maximum detector (local maxima above 0.9 of the
//!   normalised window), which misses low-amplitude beats; the R-peak position is the
//!   annotation time rounded to the nearest 125 Hz sample.
//! - **Windows**: consecutive, non-overlapping, from the record start; the last, shorter window
//!   is kept so that no beat is lost. Amplitude normalisation is `(x − min) / (max − min)` over
//!   the window (a flat window becomes all zeros).
//! - **`T`**: the median of the intervals between consecutive R-peaks inside the window (the
//!   mean of the two middle ones for an even count), from the exact annotation times; a window
//!   with fewer than two R-peaks uses the record's median interval.
//! - **Segment**: `round(1.2 T)` samples from the R-peak, at most 187 (`T` above 1.3 s, heart
//!   rate below 48 bpm, is cut at 187) and never past the window's end: the window's
//!   normalisation does not hold beyond it, so a beat near the end of its window is shorter
//!   (then zero-padded). Each row keeps its unpadded [`BeatCsvRow::length`].
//! - **Labels**: AAMI classes as in [`AamiClass`] (0..4 = N, S, V, F, Q, the Kaggle numbering);
//!   one row per beat annotation that has an AAMI class, in time order.

use crate::dataset::AamiClass;
use rayon::prelude::*;
use sinus_io::beat_csv::{write_beat_csv, BeatCsvBeat, BEAT_LEN};
use sinus_io::wfdb::annotation::read_annotations;
use sinus_io::wfdb::record::read_record;
use sinus_io::{Error, Result, ResultExt};
use sinus_signal::resample::resample_with_gaps;
use std::path::{Path, PathBuf};

/// The sampling frequency of the Kaggle beats, Hz.
pub const FS: f64 = 125.0;
/// Window length, seconds.
pub const WINDOW_S: f64 = 10.0;
/// Segment length as a multiple of the window's median RR interval.
pub const SEGMENT_RR: f64 = 1.2;
/// Longest gap of missing samples bridged by interpolation before resampling, seconds.
const MAX_FILL_S: f64 = 0.1;

/// One beat in the Kaggle layout, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct BeatCsvRow {
    /// [`BEAT_LEN`] values in `[0, 1]`: the segment from the R-peak, then zeros.
    pub values: [f32; BEAT_LEN],
    /// Values before the zero padding (1..=187).
    pub length: usize,
    /// AAMI class index 0..4 = N, S, V, F, Q.
    pub label: u8,
    /// Record name, e.g. "100".
    pub record: String,
    /// R-peak sample (frame number) in the original record, at the record's own rate.
    pub sample: i64,
}

impl BeatCsvRow {
    /// The row as [`sinus_io::beat_csv`] writes it (values and label only).
    pub fn to_csv_beat(&self) -> BeatCsvBeat {
        BeatCsvBeat {
            values: self.values,
            label: self.label,
        }
    }
}

/// One R-peak of the resampled record: time in 125 Hz samples (fractional), AAMI label if the
/// beat has one, and its sample in the original record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    /// Time in samples at [`FS`] (annotation sample × 125 / record rate).
    pub t: f64,
    /// AAMI class index, or `None` for a beat annotation without an AAMI class.
    pub label: Option<u8>,
    /// Sample in the original record.
    pub sample: i64,
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// The rows of a signal already at [`FS`] (`x`, NaN = missing) with its R-peaks (`peaks`, in
/// time order), cut as described in the [module documentation](self). `record` names the rows.
pub fn rows_from_signal(x: &[f64], peaks: &[Peak], record: &str) -> Vec<BeatCsvRow> {
    let window = (WINDOW_S * FS).round() as usize;
    let mut all_rr: Vec<f64> = peaks.windows(2).map(|w| w[1].t - w[0].t).collect();
    let record_t = median(&mut all_rr).unwrap_or(FS);
    let mut rows = Vec::new();
    let mut first = 0usize; // index of the first peak not yet placed in a window
    let mut start = 0usize;
    while start < x.len() {
        let end = start.saturating_add(window).min(x.len());
        let w = &x[start..end];
        // Peaks whose rounded position falls in [start, end).
        let pos = |p: &Peak| p.t.round().max(0.0) as usize;
        let mut last = first;
        while last < peaks.len() && pos(&peaks[last]) < end {
            last += 1;
        }
        let in_window = &peaks[first..last];
        first = last;
        let span = start..end;
        start = end;
        if in_window.is_empty() || w.iter().any(|v| !v.is_finite()) {
            continue;
        }
        let (lo, hi) = w
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let scale = if hi > lo { 1.0 / (hi - lo) } else { 0.0 };
        let mut rr: Vec<f64> = in_window.windows(2).map(|p| p[1].t - p[0].t).collect();
        let t = median(&mut rr).unwrap_or(record_t);
        let want = (SEGMENT_RR * t).round().clamp(1.0, BEAT_LEN as f64) as usize;
        for p in in_window {
            let Some(label) = p.label else { continue };
            let at = pos(p).max(span.start) - span.start;
            let length = want.min(w.len() - at);
            let mut values = [0f32; BEAT_LEN];
            for (o, &v) in values.iter_mut().zip(&w[at..at + length]) {
                // The clamp only guards against rounding: (v − lo) · scale is within [0, 1].
                *o = ((v - lo) * scale).clamp(0.0, 1.0) as f32;
            }
            rows.push(BeatCsvRow {
                values,
                length,
                label,
                record: record.to_string(),
                sample: p.sample,
            });
        }
    }
    rows
}

/// The path of `record_path` with `.ext` appended (`db/100` → `db/100.atr`).
fn with_suffix(record_path: &Path, ext: &str) -> PathBuf {
    let mut s = record_path.as_os_str().to_os_string();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// The Kaggle rows of one WFDB record (`record_path` without extension; its reference beat
/// annotations are read from `record_path.atr`): lead 0, see the [module documentation](self).
pub fn build(record_path: impl AsRef<Path>) -> Result<Vec<BeatCsvRow>> {
    let record_path = record_path.as_ref();
    let wfdb = read_record(record_path)?;
    let rec = &wfdb.recording;
    let fs = rec.frame_frequency;
    if !(fs.is_finite() && fs > 0.0) {
        return Err(
            Error::invalid(format!("frame frequency {fs} Hz is not positive")).in_file(record_path),
        );
    }
    let sig = rec
        .signals
        .first()
        .ok_or_else(|| Error::invalid("the record has no signal").in_file(record_path))?;
    let spf = sig.samples_per_frame.max(1) as f64;
    let x = resample_with_gaps(&sig.physical_samples(), fs * spf, FS, MAX_FILL_S)
        .in_file(record_path)?;
    let set = read_annotations(with_suffix(record_path, "atr"), Some(fs))?;
    let mut peaks: Vec<Peak> = set
        .annotations
        .iter()
        .filter(|a| a.is_beat())
        .map(|a| Peak {
            t: a.sample as f64 * FS / fs,
            label: AamiClass::from_symbol(set.symbol_of(a.code)).map(|c| c.index() as u8),
            sample: a.sample,
        })
        .collect();
    peaks.sort_by(|a, b| a.t.total_cmp(&b.t));
    Ok(rows_from_signal(&x, &peaks, &rec.name))
}

/// The rows of `records` (names inside `db_dir`), record by record in the order given, built in
/// parallel.
pub fn build_records<S: AsRef<str> + Sync>(
    db_dir: impl AsRef<Path>,
    records: &[S],
) -> Result<Vec<BeatCsvRow>> {
    let db_dir = db_dir.as_ref();
    let parts: Vec<Result<Vec<BeatCsvRow>>> = records
        .par_iter()
        .map(|r| build(db_dir.join(r.as_ref())))
        .collect();
    let mut rows = Vec::new();
    for p in parts {
        rows.extend(p?);
    }
    Ok(rows)
}

/// Rows per AAMI class, indexed by label.
pub fn label_counts(rows: &[BeatCsvRow]) -> [usize; 5] {
    let mut c = [0; 5];
    for r in rows {
        if let Some(n) = c.get_mut(r.label as usize) {
            *n += 1;
        }
    }
    c
}

/// Write `rows` to `path` in the Kaggle CSV layout (187 values and the label per line, no
/// header, `%.18e` numbers; see [`sinus_io::beat_csv`]).
pub fn write_csv(path: impl AsRef<Path>, rows: &[BeatCsvRow]) -> Result<()> {
    let path = path.as_ref();
    let beats: Vec<BeatCsvBeat> = rows.iter().map(BeatCsvRow::to_csv_beat).collect();
    let mut f = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    write_beat_csv(&mut f, &beats).in_file(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spikes(n: usize, period: usize) -> (Vec<f64>, Vec<Peak>) {
        let mut x = vec![0.0; n];
        let mut peaks = Vec::new();
        for (k, i) in (5..n).step_by(period).enumerate() {
            x[i] = 2.0;
            if i + 1 < n {
                x[i + 1] = 1.0;
            }
            peaks.push(Peak {
                t: i as f64,
                label: Some((k % 5) as u8),
                sample: i as i64 * 3,
            });
        }
        (x, peaks)
    }

    #[test]
    fn regular_spikes() {
        // 25 s at 125 Hz, one spike every 100 samples: T = 100, segments of 120.
        let (x, peaks) = spikes(3125, 100);
        let rows = rows_from_signal(&x, &peaks, "syn");
        assert_eq!(rows.len(), peaks.len());
        for (r, p) in rows.iter().zip(&peaks) {
            assert_eq!(r.sample, p.sample);
            assert_eq!(Some(r.label), p.label);
            assert_eq!(r.values[0], 1.0);
            assert_eq!(r.values[1], 0.5);
            assert!(r.values[r.length..].iter().all(|&v| v == 0.0));
            let window_end = (p.t as usize / 1250 + 1) * 1250;
            assert_eq!(r.length, 120.min(window_end.min(3125) - p.t as usize));
        }
        // The peak at 1205 is 45 samples from the end of the first window: cut there.
        let r = rows.iter().find(|r| r.sample == 1205 * 3).unwrap();
        assert_eq!(r.length, 45);
    }

    #[test]
    fn slow_rhythm_is_cut_at_187_and_unlabelled_beats_skipped() {
        // One beat every 2 s (T = 250): 1.2 T = 300 > 187.
        let (x, mut peaks) = spikes(2500, 250);
        peaks[1].label = None;
        let rows = rows_from_signal(&x, &peaks, "slow");
        assert_eq!(rows.len(), peaks.len() - 1);
        assert_eq!(rows[0].length, 187);
        assert!(rows.iter().all(|r| r.sample != peaks[1].sample));
    }

    #[test]
    fn lone_peak_uses_record_median_and_flat_or_missing_windows() {
        // Peaks at 100, 200, 300 (window 1) and 1300 (alone in window 2): the record median
        // interval (100, 100, 1000 → 100) gives 120.
        let mut x: Vec<f64> = (0..2500).map(|i| (i % 7) as f64).collect();
        let mk = |t: f64| Peak {
            t,
            label: Some(0),
            sample: t as i64,
        };
        let peaks = [mk(100.0), mk(200.0), mk(300.0), mk(1300.0)];
        let rows = rows_from_signal(&x, &peaks, "r");
        assert_eq!(rows[3].length, 120);
        assert!(rows
            .iter()
            .all(|r| r.values.iter().all(|v| (0.0..=1.0).contains(v))));
        // A missing sample drops its window; a flat window gives zeros.
        x[1400] = f64::NAN;
        assert_eq!(rows_from_signal(&x, &peaks, "r").len(), 3);
        let flat = vec![3.0; 2500];
        let rows = rows_from_signal(&flat, &peaks, "r");
        assert!(rows.iter().all(|r| r.values.iter().all(|&v| v == 0.0)));
        assert!(rows_from_signal(&[], &peaks, "r").is_empty());
        assert!(rows_from_signal(&flat, &[], "r").is_empty());
    }

    #[test]
    fn median_of_even_and_odd() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }
}
