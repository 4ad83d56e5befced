//! The streaming detector on real MIT-BIH records (channel 0, whole records), against the
//! reference beat annotations as bxb counts them (flutter waves `!` are not beats), matched
//! one-to-one within ±150 ms. The bounds sit a little above the measured errors so that a
//! regression fails; `examples/tune_qrs.rs` gives the full 48-record figures.

use sinus_core::qrs::{QrsConfig, QrsDetector};
use sinus_io::datasets::mitdb_for_tests;
use sinus_io::wfdb::annotation::{codes, read_annotations};
use sinus_io::wfdb::record::read_record;
use std::path::Path;

fn load(db: &Path, name: &str) -> (Vec<f32>, Vec<i64>) {
    let r = read_record(db.join(name)).unwrap();
    let sig = &r.recording.signals[0];
    let x = (0..sig.samples.len())
        .map(|i| sig.physical(i) as f32)
        .collect();
    let ann = read_annotations(
        db.join(format!("{name}.atr")),
        Some(r.recording.frame_frequency),
    )
    .unwrap();
    let beats = ann
        .annotations
        .iter()
        .filter(|a| a.is_beat() && a.code != codes::FLWAV)
        .map(|a| a.sample)
        .collect();
    (x, beats)
}

fn detect(x: &[f32], fs: f32) -> Vec<i64> {
    let mut det = QrsDetector::new(QrsConfig::new(fs)).unwrap();
    let mut out = Vec::new();
    det.process(x, |d| out.push(d.sample as i64));
    while let Some(d) = det.flush() {
        out.push(d.sample as i64);
    }
    out
}

/// (false negatives, false positives): each detection takes the nearest unmatched reference
/// beat within `tol` samples.
fn errors(refs: &[i64], dets: &[i64], tol: i64) -> (usize, usize) {
    let mut used = vec![false; refs.len()];
    let mut fp = 0;
    for &d in dets {
        let best = refs
            .iter()
            .enumerate()
            .filter(|(k, &r)| !used[*k] && (r - d).abs() <= tol)
            .min_by_key(|(_, &r)| (r - d).abs())
            .map(|(k, _)| k);
        match best {
            Some(k) => used[k] = true,
            None => fp += 1,
        }
    }
    (used.iter().filter(|u| !**u).count(), fp)
}

#[test]
fn records_at_360_hz() {
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    // Measured (FN, FP): 100 (0, 0), 119 (0, 1), 200 (3, 2), 208 (15, 6), 232 (0, 6).
    let mut total = (0, 0, 0);
    for name in ["100", "119", "200", "208", "232"] {
        let (x, beats) = load(&db, name);
        let dets = detect(&x, 360.0);
        let (fnn, fp) = errors(&beats, &dets, 54);
        eprintln!("{name}: {} beats, FN {fnn}, FP {fp}", beats.len());
        total = (total.0 + beats.len(), total.1 + fnn, total.2 + fp);
    }
    assert!(total.1 <= 25, "FN {}", total.1);
    assert!(total.2 <= 22, "FP {}", total.2);
}

/// The device rate: record 208 (many PVCs, fusion beats) taken to 250 Hz by linear
/// interpolation; detections mapped back to 360 Hz samples.
#[test]
fn record_208_at_250_hz() {
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let (x, beats) = load(&db, "208");
    let n = x.len() * 250 / 360;
    let y: Vec<f32> = (0..n)
        .map(|m| {
            let t = m as f64 * 360.0 / 250.0;
            let i = t as usize;
            let f = (t - i as f64) as f32;
            let a = x[i];
            let b = *x.get(i + 1).unwrap_or(&a);
            a + f * (b - a)
        })
        .collect();
    let dets: Vec<i64> = detect(&y, 250.0)
        .iter()
        .map(|&s| (s as f64 * 360.0 / 250.0).round() as i64)
        .collect();
    let (fnn, fp) = errors(&beats, &dets, 54);
    eprintln!("208 at 250 Hz: {} beats, FN {fnn}, FP {fp}", beats.len());
    // Measured: FN 15, FP 6.
    assert!(fnn <= 22 && fp <= 10, "FN {fnn} FP {fp}");
}
