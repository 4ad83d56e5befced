//! Accuracy and speed of the streaming QRS detector on the 48 MIT-BIH records.
//!
//! Usage: `cargo run --release -p sinus-core --example tune_qrs -- [--db DIR]
//! [--fs both|all|HZ,HZ,...] [--channel N] [--records 100,105,...] [--quiet] [--show] [--block]
//! [--repeat N]`
//!
//! `--block` feeds each record through `QrsDetector::process` instead of `push` per sample;
//! `--show` lists the times of missed beats and false detections; `--repeat N` keeps the best
//! of N timings.
//!
//! `--fs`: `both` = 360 and 250 Hz (the default), `all` = 360, 250 and 128 Hz, or a list.
//! Channel 0 (or `--channel N`) of every record, whole records, physical units; reference = beat
//! annotations; one-to-one matching within ±150 ms. At other rates than 360 Hz each record is
//! resampled with a windowed-sinc filter (good enough for tuning; `sinus-signal` has the real
//! one) and detections are mapped back to 360 Hz sample numbers.
//!
//! Two gross figures are printed: "all" counts every detection; "bxb" leaves out detections
//! inside ventricular flutter/fibrillation episodes (between `[` and `]` annotations), as WFDB's
//! bxb does (this matters only for record 207).
//!
//! Configuration fields can be overridden for experiments with environment variables named
//! after them in upper case with a `QRS_` prefix, e.g. `QRS_THRESHOLD_FRACTION=0.3`.

use sinus_core::qrs::{QrsConfig, QrsDetector};
use sinus_io::datasets::{find_mitdb, MITDB_RECORDS};
use sinus_io::wfdb::annotation::{codes, read_annotations};
use sinus_io::wfdb::record::read_record;
use std::path::PathBuf;
use std::time::Instant;

struct Rec {
    name: String,
    x360: Vec<f32>,
    /// Beats as bxb counts them: `is_beat()` less ventricular flutter waves (`!`).
    beats: Vec<i64>,
    /// Every `is_beat()` annotation, flutter waves included.
    all_beats: Vec<i64>,
    vf: Vec<(i64, i64)>,
}

/// Windowed-sinc (Blackman) resampler from 360 Hz to `to` Hz, anti-alias cut-off at 0.45 of the
/// lower rate; kernel phases tabulated at 1/1024 of an input sample (good enough for tuning;
/// `sinus-signal` has the real one).
fn resample_from_360(x: &[f32], to: f64) -> Vec<f32> {
    use std::f64::consts::PI;
    const PHASES: usize = 1024;
    const HALF: i64 = 32; // taps on each side, in input samples
    let fc = 0.45 * to.min(360.0) / 360.0; // cycles per input sample
    let taps = (2 * HALF) as usize;
    let mut bank = vec![0.0f64; (PHASES + 1) * taps];
    for p in 0..=PHASES {
        let frac = p as f64 / PHASES as f64;
        let mut sum = 0.0;
        for k in 0..taps {
            // Tap k sits at input offset (k − HALF + 1) from the base sample.
            let t = (k as i64 - HALF + 1) as f64 - frac;
            let s = if t == 0.0 {
                2.0 * fc
            } else {
                (2.0 * PI * fc * t).sin() / (PI * t)
            };
            let u = t / HALF as f64;
            let w = if u.abs() >= 1.0 {
                0.0
            } else {
                0.42 + 0.5 * (PI * u).cos() + 0.08 * (2.0 * PI * u).cos()
            };
            bank[p * taps + k] = s * w;
            sum += s * w;
        }
        for k in 0..taps {
            bank[p * taps + k] /= sum;
        }
    }
    let out_len = (x.len() as f64 * to / 360.0) as usize;
    let mut y = Vec::with_capacity(out_len);
    for m in 0..out_len {
        let t = m as f64 * 360.0 / to;
        let base = t.floor() as i64;
        let p = ((t - base as f64) * PHASES as f64).round() as usize;
        let mut acc = 0.0f64;
        for k in 0..taps {
            let idx = (base + k as i64 - HALF + 1).clamp(0, x.len() as i64 - 1) as usize;
            acc += bank[p * taps + k] * x[idx] as f64;
        }
        y.push(acc as f32);
    }
    y
}

/// One-to-one matching within `tol`: each detection takes the nearest unmatched reference.
/// Returns (tp, fn, fp, fp_in_vf).
fn matcher(
    refs: &[i64],
    dets: &[i64],
    tol: i64,
    vf: &[(i64, i64)],
) -> (usize, usize, usize, usize) {
    let mut used = vec![false; refs.len()];
    let mut tp = 0;
    let mut fp = 0;
    let mut fp_vf = 0;
    let mut lo = 0usize;
    for &d in dets {
        while lo < refs.len() && refs[lo] < d - tol {
            lo += 1;
        }
        let mut best: Option<usize> = None;
        let mut k = lo;
        while k < refs.len() && refs[k] <= d + tol {
            if !used[k] && best.is_none_or(|b| (refs[k] - d).abs() < (refs[b] - d).abs()) {
                best = Some(k);
            }
            k += 1;
        }
        match best {
            Some(b) => {
                used[b] = true;
                tp += 1;
            }
            None => {
                if vf.iter().any(|&(a, b)| d >= a && d <= b) {
                    fp_vf += 1;
                } else {
                    fp += 1;
                }
            }
        }
    }
    (tp, refs.len() - tp, fp, fp_vf)
}

/// Print the times (s) of missed reference beats and of false detections.
fn show_errors(name: &str, refs: &[i64], dets: &[i64], tol: i64) {
    let near = |v: &[i64], t: i64| v.iter().any(|&u| (u - t).abs() <= tol);
    let fns: Vec<String> = refs
        .iter()
        .filter(|&&r| !near(dets, r))
        .map(|&r| format!("{:.2}", r as f64 / 360.0))
        .collect();
    let fps: Vec<String> = dets
        .iter()
        .filter(|&&d| !near(refs, d))
        .map(|&d| format!("{:.2}", d as f64 / 360.0))
        .collect();
    println!("{name} FN at {:?}", fns);
    println!("{name} FP at {:?}", fps);
}

fn config(fs: f32) -> QrsConfig {
    let mut c = QrsConfig::new(fs);
    let get = |name: &str| -> Option<f32> {
        std::env::var(format!("QRS_{}", name.to_uppercase()))
            .ok()?
            .parse()
            .ok()
    };
    macro_rules! ov {
        ($($f:ident),*) => {$( if let Some(v) = get(stringify!($f)) { c.$f = v; } )*};
    }
    ov!(
        band_low_hz,
        band_high_hz,
        integration_s,
        refractory_s,
        t_wave_window_s,
        t_wave_slope_ratio,
        t_wave_rr_fraction,
        noise_gate,
        searchback_rr_factor,
        threshold_fraction,
        peak_confirm_s,
        learning_s,
        silence_s,
        silence_floor,
        silence_signal_decay
    );
    c
}

/// CPU time of this thread in seconds (Linux `schedstat`, ns resolution), so that the speed is
/// not distorted by other processes sharing the cores; wall time where unavailable.
fn cpu_seconds(wall: &Instant) -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map(|ns| ns / 1e9)
        .unwrap_or_else(|| wall.elapsed().as_secs_f64())
}

fn detect(x: &[f32], fs: f32, block: bool) -> (Vec<u64>, f64) {
    let mut det = QrsDetector::new(config(fs)).expect("valid config");
    let mut out = Vec::with_capacity(x.len() / 100);
    let wall = Instant::now();
    let t0 = cpu_seconds(&wall);
    if block {
        det.process(x, |d| out.push(d.sample));
    } else {
        for &v in x {
            if let Some(d) = det.push(v) {
                out.push(d.sample);
            }
        }
    }
    while let Some(d) = det.flush() {
        out.push(d.sample);
    }
    (out, cpu_seconds(&wall) - t0)
}

fn main() {
    let mut db: Option<PathBuf> = None;
    let mut which = "both".to_string();
    let mut only: Option<Vec<String>> = None;
    let mut quiet = false;
    let mut repeat = 1usize;
    let mut show = false;
    let mut block = false;
    let mut channel = 0usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--db" => db = args.next().map(PathBuf::from),
            "--fs" => which = args.next().unwrap_or_default(),
            "--records" => {
                only = args
                    .next()
                    .map(|s| s.split(',').map(String::from).collect())
            }
            "--quiet" => quiet = true,
            "--show" => show = true,
            "--block" => block = true,
            "--channel" => channel = args.next().and_then(|s| s.parse().ok()).unwrap_or(0),
            "--repeat" => repeat = args.next().and_then(|s| s.parse().ok()).unwrap_or(1),
            _ => {
                eprintln!("unknown argument {a}");
                std::process::exit(2)
            }
        }
    }
    let db = db
        .or_else(|| find_mitdb(&std::env::current_dir().unwrap_or_default()))
        .unwrap_or_else(|| {
            eprintln!("error: MIT-BIH not found; pass --db DIR or set SINUS_MITDB");
            std::process::exit(1)
        });
    let mut recs = Vec::new();
    for name in MITDB_RECORDS {
        if let Some(o) = &only {
            if !o.iter().any(|r| r == name) {
                continue;
            }
        }
        let r = read_record(db.join(name)).expect("record");
        let sig = &r.recording.signals[channel];
        let x360: Vec<f32> = (0..sig.samples.len())
            .map(|i| sig.physical(i) as f32)
            .collect();
        let ann = read_annotations(
            db.join(format!("{name}.atr")),
            Some(r.recording.frame_frequency),
        )
        .expect("annotations");
        let all_beats: Vec<i64> = ann
            .annotations
            .iter()
            .filter(|a| a.is_beat())
            .map(|a| a.sample)
            .collect();
        // bxb maps FLWAV to a non-beat label ('O'), so flutter waves are not reference beats.
        let beats: Vec<i64> = ann
            .annotations
            .iter()
            .filter(|a| a.is_beat() && a.code != codes::FLWAV)
            .map(|a| a.sample)
            .collect();
        let mut vf = Vec::new();
        let mut open: Option<i64> = None;
        for a in &ann.annotations {
            if a.code == codes::VFON {
                open = Some(a.sample);
            } else if a.code == codes::VFOFF {
                if let Some(s) = open.take() {
                    vf.push((s, a.sample));
                }
            }
        }
        if let Some(s) = open {
            vf.push((s, i64::MAX));
        }
        recs.push(Rec {
            name: name.to_string(),
            x360,
            beats,
            all_beats,
            vf,
        });
    }
    let rates: Vec<f32> = match which.as_str() {
        "both" => vec![360.0, 250.0],
        "all" => vec![360.0, 250.0, 128.0],
        list => list
            .split(',')
            .map(|v| {
                v.parse().unwrap_or_else(|_| {
                    eprintln!("bad --fs {v}");
                    std::process::exit(2)
                })
            })
            .collect(),
    };
    for fs in rates {
        let data_fs = fs as f64;
        let tol = 54; // ±150 ms in 360 Hz samples, where matching is done
        let data: Vec<Vec<f32>> = recs
            .iter()
            .map(|r| {
                if (data_fs - 360.0).abs() < 1e-9 {
                    r.x360.clone()
                } else {
                    resample_from_360(&r.x360, data_fs)
                }
            })
            .collect();
        let mut g = (0usize, 0usize, 0usize, 0usize);
        let mut ga = (0usize, 0usize, 0usize);
        let mut samples = 0usize;
        let mut best_time = f64::INFINITY;
        let mut table = String::new();
        for rep in 0..repeat {
            let mut time = 0.0;
            for (r, x) in recs.iter().zip(&data) {
                let (dets, t) = detect(x, fs, block);
                time += t;
                if rep > 0 {
                    continue;
                }
                samples += x.len();
                let dets360: Vec<i64> = dets
                    .iter()
                    .map(|&s| (s as f64 * 360.0 / data_fs).round() as i64)
                    .collect();
                let (tp, fnn, fp, fpv) = matcher(&r.beats, &dets360, tol, &r.vf);
                if show {
                    show_errors(&r.name, &r.beats, &dets360, tol);
                }
                g.0 += tp;
                g.1 += fnn;
                g.2 += fp;
                g.3 += fpv;
                let (atp, afn, afp, afpv) = matcher(&r.all_beats, &dets360, tol, &[]);
                ga.0 += atp;
                ga.1 += afn;
                ga.2 += afp + afpv;
                if !quiet && (fnn + fp > 0) {
                    table += &format!("{:>4} {:>6} {:>5} {:>5} {:>5}\n", r.name, tp, fnn, fp, fpv);
                }
            }
            best_time = best_time.min(time);
        }
        let (tp, fnn, fp, fpv) = g;
        let se = 100.0 * tp as f64 / (tp + fnn) as f64;
        let ppv_bxb = 100.0 * tp as f64 / (tp + fp) as f64;
        let se_all = 100.0 * ga.0 as f64 / (ga.0 + ga.1) as f64;
        let ppv_all = 100.0 * ga.0 as f64 / (ga.0 + ga.2) as f64;
        if !quiet {
            println!("fs={fs} Hz   rec     TP    FN    FP  FP(VF)");
            print!("{table}");
        }
        println!(
            "fs={fs:>3} bxb-style: TP {tp} FN {fnn} FP {fp} (+{fpv} in VF)  Se {se:.3}%  +P {ppv_bxb:.3}%  | all is_beat, all detections: TP {} FN {} FP {} Se {se_all:.3}% +P {ppv_all:.3}%  | speed {:.1} M samples/s",
            ga.0, ga.1, ga.2,
            samples as f64 / best_time / 1e6
        );
    }
}
