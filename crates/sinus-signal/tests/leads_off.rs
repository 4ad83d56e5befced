//! Leads-off and clipping: the streaming detector (the one the device runs) must not produce a
//! storm of false beats when the input goes flat (electrode off: a constant, at zero or at the
//! ADC rail) or when the QRS complexes are clipped by a saturating amplifier, and must find
//! the beats again soon after the signal returns.

use sinus_core::qrs::{QrsConfig, QrsDetector};
use sinus_io::datasets::mitdb_for_tests;
use sinus_io::wfdb::annotation::{codes, read_annotations};
use sinus_io::wfdb::record::read_record;
use sinus_signal::synthetic::{beat_train, r_peaks, wander, NORMAL_BEAT};
use std::ops::Range;

fn detect(x: &[f64], fs: f64) -> Vec<i64> {
    let mut det = QrsDetector::new(QrsConfig::new(fs as f32)).unwrap();
    let mut out = Vec::new();
    for &v in x {
        if let Some(d) = det.push(v as f32) {
            out.push(d.sample as i64);
        }
    }
    while let Some(d) = det.flush() {
        out.push(d.sample as i64);
    }
    out
}

/// Detections not within `tol` of an unmatched reference beat (one-to-one, nearest first).
fn false_positives(refs: &[i64], dets: &[i64], tol: i64) -> Vec<i64> {
    let mut used = vec![false; refs.len()];
    let mut fps = Vec::new();
    for &d in dets {
        let best = refs
            .iter()
            .enumerate()
            .filter(|(k, &r)| !used[*k] && (r - d).abs() <= tol)
            .min_by_key(|(_, &r)| (r - d).abs())
            .map(|(k, _)| k);
        match best {
            Some(k) => used[k] = true,
            None => fps.push(d),
        }
    }
    fps
}

fn missed_in(refs: &[i64], dets: &[i64], tol: i64, span: Range<i64>) -> usize {
    refs.iter()
        .filter(|r| span.contains(r))
        .filter(|&&r| !dets.iter().any(|&d| (d - r).abs() <= tol))
        .count()
}

struct Damage {
    flat: Range<usize>,
    clipped: Range<usize>,
}

/// Flat line at `level` over `flat` (no beats there any more), and `x` clamped to
/// `[lo, hi]` over `clipped`.
fn damage(x: &mut [f64], beats: &mut Vec<i64>, d: &Damage, level: f64, lo: f64, hi: f64) {
    x[d.flat.clone()].iter_mut().for_each(|v| *v = level);
    x[d.clipped.clone()]
        .iter_mut()
        .for_each(|v| *v = v.clamp(lo, hi));
    beats.retain(|&b| !(d.flat.start as i64..d.flat.end as i64).contains(&b));
}

/// Runs the detector on the damaged signal and checks: no detection inside the flat line
/// (one at each of its edges, where the signal steps, is tolerated and is what happens at the
/// rails: measured FP 2 at the rails, 0–1 for a flat line at 0 mV), at most `max_fp` false beats in all, and the beats of the
/// 10 s after the flat line and inside the clipped span found but for `max_missed`.
fn check(
    name: &str,
    x: &[f64],
    fs: f64,
    beats: &[i64],
    d: &Damage,
    max_fp: usize,
    max_missed: usize,
) {
    let dets = detect(x, fs);
    let tol = (0.15 * fs) as i64;
    let fps = false_positives(beats, &dets, tol);
    let edge = (0.3 * fs) as i64;
    let inside_flat = dets
        .iter()
        .filter(|&&t| t > d.flat.start as i64 + edge && t < d.flat.end as i64 - edge)
        .count();
    let after = d.flat.end as i64..d.flat.end as i64 + (10.0 * fs) as i64;
    let missed_after = missed_in(beats, &dets, tol, after);
    let missed_clipped = missed_in(
        beats,
        &dets,
        tol,
        d.clipped.start as i64..d.clipped.end as i64,
    );
    eprintln!(
        "{name}: {} beats, {} detections, FP {} at {:?}, inside flat {inside_flat}, missed after \
         flat {missed_after}, missed while clipped {missed_clipped}",
        beats.len(),
        dets.len(),
        fps.len(),
        &fps[..fps.len().min(10)]
    );
    assert_eq!(inside_flat, 0, "{name}: detections inside the flat line");
    assert!(fps.len() <= max_fp, "{name}: {} false beats", fps.len());
    assert!(
        missed_after <= max_missed,
        "{name}: {missed_after} missed after the flat line"
    );
    assert!(
        missed_clipped <= max_missed,
        "{name}: {missed_clipped} missed while clipped"
    );
}

#[test]
fn synthetic_flat_line_and_clipping() {
    for fs in [250.0, 360.0] {
        let seconds = 120.0;
        let n = (seconds * fs) as usize;
        let peaks = r_peaks(fs, seconds, 0.4, &[0.8, 0.72, 0.9, 0.85]);
        let mut x = beat_train(n, fs, &peaks, &NORMAL_BEAT, 1.0);
        for (v, w) in x.iter_mut().zip(wander(n, fs)) {
            *v += w;
        }
        let s = |t: f64| (t * fs) as usize;
        let d = Damage {
            flat: s(40.0)..s(50.0),
            clipped: s(70.0)..s(80.0),
        };
        for level in [0.0, 5.0, -5.0] {
            let mut y = x.clone();
            let mut beats: Vec<i64> = peaks.iter().map(|&p| p as i64).collect();
            // Clipping at ±0.6 mV cuts the R waves (1 mV) and, with the wander, the baseline.
            damage(&mut y, &mut beats, &d, level, -0.6, 0.6);
            check(
                &format!("synthetic {fs} Hz, flat at {level} mV"),
                &y,
                fs,
                &beats,
                &d,
                2,
                2,
            );
        }
    }
}

#[test]
fn mitdb_flat_line_and_clipping() {
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    for name in ["100", "119"] {
        let rec = read_record(db.join(name)).unwrap();
        let fs = rec.recording.frame_frequency;
        let x = rec.recording.signals[0].physical_samples();
        let ann = read_annotations(db.join(format!("{name}.atr")), Some(fs)).unwrap();
        let beats: Vec<i64> = ann
            .annotations
            .iter()
            .filter(|a| a.is_beat() && a.code != codes::FLWAV && a.sample < (180.0 * fs) as i64)
            .map(|a| a.sample)
            .collect();
        let x = &x[..(180.0 * fs) as usize];
        let s = |t: f64| (t * fs) as usize;
        let d = Damage {
            flat: s(60.0)..s(70.0),
            clipped: s(100.0)..s(110.0),
        };
        // Leads off at the 11-bit ADC rails of MIT-BIH (±5.12 mV) and at 0; the clipping range
        // cuts the R waves of both records.
        for level in [0.0, 5.115, -5.12] {
            let mut y = x.to_vec();
            let mut b = beats.clone();
            damage(&mut y, &mut b, &d, level, -0.8, 0.4);
            check(&format!("{name}, flat at {level} mV"), &y, fs, &b, &d, 2, 2);
        }
    }
}
