//! The QRS stress suite in CI: every scenario at 128, 250 and 360 Hz through the streaming
//! detector (what the device runs). Each must meet the streaming goals (Se and +P ≥ 99.5,
//! re-acquisition within 5 beats and 3 s of every disturbance, the reported rate never below
//! half the true rate for more than 5 s), except the shortfalls listed in [`SHORTFALLS`] — each
//! with the reason and a floor just under what the detector does today, so that it can only
//! get better. `sinus eval stress` prints the same table.

use sinus_eval::stress::{run, scenarios, StressResult, STREAMING_GOALS};
use sinus_signal::detect::{detect_qrs, QrsDetectorKind};

/// Known shortfalls: (scenario, rate, lowest Se, lowest +P, whether the re-acquisition and
/// low-rate goals still hold). README "Streaming detector under stress" explains each.
const SHORTFALLS: &[(&str, f64, f64, f64, bool)] = &[
    // T waves as tall as a small QRS at 130–145/min: some T waves still pass for beats
    // (+P 86–94 %), and a few small QRS are lost.
    ("tachy-small-qrs", 128.0, 97.5, 85.0, true),
    ("tachy-small-qrs", 250.0, 98.0, 93.5, true),
    ("tachy-small-qrs", 360.0, 97.5, 92.0, true),
    // T waves two to four times the QRS: the detector marks the T waves instead.
    ("tachy-giant-t", 128.0, 25.0, 20.0, true),
    ("tachy-giant-t", 250.0, 25.0, 20.0, true),
    ("tachy-giant-t", 360.0, 25.0, 20.0, true),
    // The first beat after a QRS amplitude step (x0.2, or x5 and back) can be lost: it is found
    // only by a search-back after one that failed, by then too old to report.
    ("amplitude-drop", 250.0, 99.0, 99.5, true),
    ("amplitude-jump", 250.0, 99.0, 99.5, true),
    ("amplitude-jump", 360.0, 99.0, 99.5, true),
    // Three T waves riding on 1.5 mV of baseline wander pass for beats at 128 Hz.
    ("baseline-wander", 128.0, 99.5, 98.5, true),
    // Two small sinus beats right after a large ectopic beat are taken for its T wave.
    ("big-ectopics", 250.0, 98.9, 99.5, true),
];

fn streaming(s: &sinus_eval::stress::Scenario) -> StressResult {
    run(s, |rec| detect_qrs(rec, 0, QrsDetectorKind::Streaming)).expect("scenario runs")
}

#[test]
fn streaming_detector_meets_the_stress_goals() {
    let mut problems = Vec::new();
    let mut table = String::new();
    for fs in [128.0, 250.0, 360.0] {
        for s in scenarios(fs) {
            let r = streaming(&s);
            table += &format!(
                "{:<22} {:>3} Hz  Se {:6.2}  +P {:6.2}  reacq {:?}  low-rate {:.1} s\n",
                r.scenario,
                fs,
                r.se,
                r.ppv,
                r.worst_reacquire_beats(),
                r.low_rate_s
            );
            let shortfall = SHORTFALLS
                .iter()
                .find(|(name, rate, ..)| *name == s.name && *rate == fs);
            match shortfall {
                None => {
                    for f in r.failures(&STREAMING_GOALS) {
                        problems.push(format!("{} at {fs} Hz: {f}", s.name));
                    }
                }
                Some(&(_, _, se, ppv, lock_goals)) => {
                    if r.se < se || r.ppv < ppv {
                        problems.push(format!(
                            "{} at {fs} Hz: Se {:.2} / +P {:.2} below the floors {se} / {ppv}",
                            s.name, r.se, r.ppv
                        ));
                    }
                    if lock_goals {
                        let relaxed = sinus_eval::stress::Goals {
                            min_se: 0.0,
                            min_ppv: 0.0,
                            ..STREAMING_GOALS
                        };
                        for f in r.failures(&relaxed) {
                            problems.push(format!("{} at {fs} Hz: {f}", s.name));
                        }
                    }
                }
            }
        }
    }
    println!("{table}");
    assert!(problems.is_empty(), "{}\n{table}", problems.join("\n"));
}

#[test]
fn leads_off_before_a_tachycardia_costs_no_beat() {
    // The flat line and the rail restart the detector's learning: the tachycardia after them
    // is found from its first beats.
    for fs in [128.0, 250.0, 360.0] {
        let s = scenarios(fs)
            .into_iter()
            .find(|s| s.name == "leads-off-then-tachy")
            .expect("scenario");
        let r = streaming(&s);
        assert_eq!(r.worst_reacquire_beats(), Some(0), "{fs} Hz: {r:?}");
        assert!(r.se >= 99.5 && r.ppv >= 99.5, "{fs} Hz: {r:?}");
    }
}
