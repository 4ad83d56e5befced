//! Tuning and evaluation harness of the offline QRS detector on MIT-BIH.
//!
//! Usage: `cargo run --release -p sinus-signal --example offline_qrs -- [DB_DIR] [--records 100,105]
//! [--channel N] [--errors] [--whole-vf] [--dump DIR] [--set OPTION=VALUE]... [--resample HZ]`
//!
//! For each record: detect with [`detect_qrs_offline`] (default options, or one channel with
//! `--channel`), compare with the reference beat annotations (`.atr`) by a simple one-to-one
//! ±150 ms matcher (nearest unmatched detection), and print TP, FN, FP, Se and +P; then the
//! gross figures over all records and the processing speed. As `bxb` does, reference
//! annotations inside ventricular flutter/fibrillation episodes (`[` to `]`) are not scored and
//! unmatched detections inside them are not counted (`--whole-vf` counts them as false
//! positives instead); `!` (flutter wave) is not a beat. The whole record is scored (no
//! learning period). `--errors` lists the sample of every FN and FP; `--dump DIR` writes each
//! record's detections to `DIR/REC.det`, one sample per line, and the detection function to
//! `DIR/REC.f32`; `--set` changes one field of [`OfflineQrsOptions`] (tuning); `--resample HZ`
//! resamples the leads to HZ first and maps the beats back (timed together with detection).
//!
//! This matcher is a tuning aid; the official bxb-equivalent comparison lives in `sinus-eval`.

use sinus_io::datasets::{find_mitdb, MITDB_RECORDS};
use sinus_io::wfdb::annotation::{code_from_symbol, read_annotations};
use sinus_io::wfdb::record::read_record;
use sinus_io::Recording;
use sinus_signal::offline_qrs::{
    detect_qrs_offline, detect_qrs_signals, detection_function, OfflineQrsOptions,
};
use sinus_signal::resample::{map_indices, resample_with_gaps};
use std::path::PathBuf;
use std::time::Instant;

struct Counts {
    tp: usize,
    fn_: usize,
    fp: usize,
}

/// One-to-one matching within `w` samples: references in time order each take the nearest
/// still-unmatched detection within the window. Returns counts and the unmatched samples.
fn compare(refs: &[i64], dets: &[i64], w: i64, vf: &[(i64, i64)]) -> (Counts, Vec<i64>, Vec<i64>) {
    let mut used = vec![false; dets.len()];
    let mut fns = Vec::new();
    let mut tp = 0;
    let mut lo = 0usize;
    for &r in refs {
        while lo < dets.len() && dets[lo] < r - w {
            lo += 1;
        }
        let mut best: Option<usize> = None;
        let mut j = lo;
        while j < dets.len() && dets[j] <= r + w {
            if !used[j] && best.is_none_or(|b| (dets[j] - r).abs() < (dets[b] - r).abs()) {
                best = Some(j);
            }
            j += 1;
        }
        match best {
            Some(b) => {
                used[b] = true;
                tp += 1;
            }
            None => fns.push(r),
        }
    }
    let in_vf = |s: i64| vf.iter().any(|&(a, b)| s >= a && s <= b);
    let fps: Vec<i64> = dets
        .iter()
        .zip(&used)
        .filter(|(&d, &u)| !u && !in_vf(d))
        .map(|(&d, _)| d)
        .collect();
    (
        Counts {
            tp,
            fn_: fns.len(),
            fp: fps.len(),
        },
        fns,
        fps,
    )
}

/// Resample the record's leads to `hz`, detect there, and map the beats back to the record's
/// sample clock (exercises the resampler and index mapping on real data).
fn detect_resampled(
    r: &Recording,
    opts: &OfflineQrsOptions,
    hz: f64,
) -> sinus_io::Result<Vec<i64>> {
    let fs = r.frame_frequency;
    let chans = opts
        .channels
        .clone()
        .unwrap_or_else(|| (0..r.signals.len().min(2)).collect());
    let mut leads = Vec::new();
    for c in chans {
        let x = r.signals[c].physical_samples();
        leads.push(resample_with_gaps(&x, fs, hz, 0.05)?);
    }
    let beats = detect_qrs_signals(&leads, hz, opts)?;
    let beats: Vec<i64> = beats.into_iter().map(|b| b as i64).collect();
    Ok(map_indices(&beats, hz, fs))
}

fn main() {
    let mut db: Option<PathBuf> = None;
    let mut records: Vec<String> = MITDB_RECORDS.iter().map(|s| s.to_string()).collect();
    let mut errors = false;
    let mut whole_vf = false;
    let mut dump: Option<PathBuf> = None;
    let mut resample_hz: Option<f64> = None;
    let mut opts = OfflineQrsOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--records" => {
                records = args
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(str::to_string)
                    .collect()
            }
            "--channel" => {
                let c: usize = args.next().and_then(|c| c.parse().ok()).unwrap_or(0);
                opts.channels = Some(vec![c]);
            }
            "--errors" => errors = true,
            "--dump" => dump = args.next().map(PathBuf::from),
            "--whole-vf" => whole_vf = true,
            "--resample" => resample_hz = args.next().and_then(|v| v.parse().ok()),
            "--set" => {
                let kv = args.next().unwrap_or_default();
                let (k, v) = kv.split_once('=').unwrap_or((&kv, ""));
                let v: f64 = v.parse().unwrap_or(f64::NAN);
                match k {
                    "band_low_hz" => opts.band_low_hz = v,
                    "band_high_hz" => opts.band_high_hz = v,
                    "feature_window_s" => opts.feature_window_s = v,
                    "min_rr_s" => opts.min_rr_s = v,
                    "level_window_s" => opts.level_window_s = v,
                    "strong_fraction" => opts.strong_fraction = v,
                    "searchback_rr_factor" => opts.searchback_rr_factor = v,
                    "searchback_fraction" => opts.searchback_fraction = v,
                    "t_wave_window_s" => opts.t_wave_window_s = v,
                    "t_wave_fraction" => opts.t_wave_fraction = v,
                    _ => {
                        eprintln!("error: unknown option {k}");
                        std::process::exit(2)
                    }
                }
            }
            _ => db = Some(PathBuf::from(a)),
        }
    }
    let db = db
        .or_else(|| find_mitdb(&std::env::current_dir().unwrap_or_default()))
        .unwrap_or_else(|| {
            eprintln!("error: MIT-BIH not found; pass its directory or set SINUS_MITDB");
            std::process::exit(1)
        });
    let (vfon, vfoff) = (
        code_from_symbol("[").unwrap(),
        code_from_symbol("]").unwrap(),
    );
    let flutter_wave = code_from_symbol("!").unwrap();
    let (mut tp, mut fn_, mut fp) = (0, 0, 0);
    let mut samples = 0u64;
    let mut detect_time = 0.0;
    println!(
        "{:>6} {:>6} {:>5} {:>5} {:>8} {:>8}",
        "record", "TP", "FN", "FP", "Se%", "+P%"
    );
    for rec in &records {
        let r = match read_record(db.join(rec)) {
            Ok(r) => r.recording,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1)
            }
        };
        let ann = match read_annotations(db.join(format!("{rec}.atr")), Some(r.frame_frequency)) {
            Ok(a) => a.annotations,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1)
            }
        };
        let mut vf = Vec::new();
        let mut open: Option<i64> = None;
        for a in &ann {
            if a.code == vfon {
                open = Some(a.sample);
            } else if a.code == vfoff {
                if let Some(s) = open.take() {
                    vf.push((s, a.sample));
                }
            }
        }
        if let Some(s) = open {
            vf.push((s, i64::MAX));
        }
        let in_vf = |s: i64| vf.iter().any(|&(a, b)| s >= a && s <= b);
        let refs: Vec<i64> = ann
            .iter()
            .filter(|a| a.is_beat() && a.code != flutter_wave && !in_vf(a.sample))
            .map(|a| a.sample)
            .collect();
        let t0 = Instant::now();
        let detected = match resample_hz {
            None => detect_qrs_offline(&r, &opts),
            Some(hz) => detect_resampled(&r, &opts, hz),
        };
        let dets = match detected {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {rec}: {e}");
                std::process::exit(1)
            }
        };
        detect_time += t0.elapsed().as_secs_f64();
        if let Some(d) = &dump {
            let text: String = dets.iter().map(|d| format!("{d}\n")).collect();
            if let Err(e) = std::fs::write(d.join(format!("{rec}.det")), text) {
                eprintln!("error: cannot write detections: {e}");
            }
            let leads: Vec<Vec<f64>> = r
                .signals
                .iter()
                .take(2)
                .map(|s| s.physical_samples())
                .collect();
            if let Ok(f) = detection_function(&leads, r.frame_frequency, &opts) {
                let bytes: Vec<u8> = f.iter().flat_map(|v| (*v as f32).to_le_bytes()).collect();
                let _ = std::fs::write(d.join(format!("{rec}.f32")), bytes);
            }
        }
        samples += r.frames * r.signals.len() as u64;
        let w = (0.15 * r.frame_frequency + 0.5).floor() as i64;
        let (c, fns, fps) = compare(&refs, &dets, w, if whole_vf { &[] } else { &vf });
        println!(
            "{:>6} {:>6} {:>5} {:>5} {:>8.3} {:>8.3}",
            rec,
            c.tp,
            c.fn_,
            c.fp,
            100.0 * c.tp as f64 / (c.tp + c.fn_).max(1) as f64,
            100.0 * c.tp as f64 / (c.tp + c.fp).max(1) as f64
        );
        if errors {
            if !fns.is_empty() {
                println!("       FN at {fns:?}");
            }
            if !fps.is_empty() {
                println!("       FP at {fps:?}");
            }
        }
        tp += c.tp;
        fn_ += c.fn_;
        fp += c.fp;
    }
    let se = 100.0 * tp as f64 / (tp + fn_).max(1) as f64;
    let ppv = 100.0 * tp as f64 / (tp + fp).max(1) as f64;
    println!(
        "{:>6} {:>6} {:>5} {:>5} {:>8.3} {:>8.3}",
        "gross", tp, fn_, fp, se, ppv
    );
    println!(
        "F1 {:.3} %; detection {:.2} s for {} samples ({:.1} M samples/s, all leads counted)",
        2.0 * se * ppv / (se + ppv),
        detect_time,
        samples,
        samples as f64 / detect_time.max(1e-9) / 1e6
    );
}
