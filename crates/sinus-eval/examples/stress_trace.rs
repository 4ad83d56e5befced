//! Trace the streaming detector on one stress scenario: every beat (found or missed), every
//! detection and the detector's levels, between two times:
//! `cargo run --release -p sinus-eval --example stress_trace -- SCENARIO FS FROM_S TO_S`.

use sinus_core::qrs::{QrsConfig, QrsDetector};
use sinus_eval::stress::{render, scenarios, score};

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let name = a
        .first()
        .cloned()
        .unwrap_or_else(|| "amplitude-drop".into());
    let fs: f64 = a.get(1).and_then(|s| s.parse().ok()).unwrap_or(250.0);
    let from: f64 = a.get(2).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    let to: f64 = a.get(3).and_then(|s| s.parse().ok()).unwrap_or(1e9);
    let sc = scenarios(fs)
        .into_iter()
        .find(|s| s.name == name)
        .expect("scenario name");
    let (rec, beats) = render(&sc).expect("render");
    let x = rec.signals[0].physical_samples();
    let mut det = QrsDetector::new(QrsConfig::new(fs as f32)).expect("config");
    let mut dets = Vec::new();
    let step = (fs * 0.1) as usize;
    for (i, &v) in x.iter().enumerate() {
        let t = i as f64 / fs;
        let d = det.push(v as f32);
        if let Some(d) = d {
            dets.push(d.sample as i64);
        }
        if t < from || t > to {
            continue;
        }
        if let Some(d) = d {
            println!(
                "{t:8.2} DETECT r={:.2} sb={}",
                d.sample as f64 / fs,
                d.searchback
            );
        }
        if beats.binary_search(&(i as i64)).is_ok() {
            println!("{t:8.2} beat");
        }
        if i % step == 0 {
            let l = det.levels();
            println!(
                "{t:8.2}   spk={:.3e} npk={:.3e} thr={:.3e} sb={:.3e} rr={} held={} learned={}",
                l.signal,
                l.noise,
                l.threshold,
                l.searchback_threshold,
                l.rr_average,
                l.held,
                l.learned
            );
        }
    }
    while let Some(d) = det.flush() {
        dets.push(d.sample as i64);
    }
    let r = score(&sc, &beats, &dets);
    println!(
        "{name} at {fs} Hz: Se {:.2} +P {:.2} FN {} FP {} reacq {:?} low-rate {:.1} s",
        r.se,
        r.ppv,
        r.fn_,
        r.fp,
        r.worst_reacquire_beats(),
        r.low_rate_s
    );
}
