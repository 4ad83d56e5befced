//! Offline QRS detector: synthetic beat trains found exactly, no panic on degenerate input, and
//! a loose floor on real MIT-BIH records.

use sinus_io::datasets::mitdb_for_tests;
use sinus_io::wfdb::annotation::{code_from_symbol, read_annotations};
use sinus_io::wfdb::record::read_record;
use sinus_io::{Recording, Signal, MISSING};
use sinus_signal::offline_qrs::{detect_qrs_offline, detect_qrs_signals, OfflineQrsOptions};
use sinus_signal::synthetic::{beat_train, r_peaks, wander, Wave, NORMAL_BEAT};

/// Deterministic pseudo-random noise in [-amp, amp] (xorshift), so tests are reproducible.
fn noise(n: usize, amp: f64, seed: u64) -> Vec<f64> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            amp * ((x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
        })
        .collect()
}

/// A wide, large "ventricular" beat: no P wave, broad QRS, discordant T.
const WIDE_BEAT: [Wave; 3] = [
    Wave {
        amplitude: 1.6,
        offset_s: 0.0,
        sigma_s: 0.025,
    },
    Wave {
        amplitude: -0.5,
        offset_s: 0.06,
        sigma_s: 0.02,
    },
    Wave {
        amplitude: -0.4,
        offset_s: 0.32,
        sigma_s: 0.05,
    },
];

/// Two leads at `fs` with normal beats, a premature wide beat every 7th beat, wander and noise;
/// returns the leads and the true R peaks.
fn synthetic_record(fs: f64, seconds: f64, scale: f64) -> (Vec<Vec<f64>>, Vec<usize>) {
    let n = (seconds * fs) as usize;
    let rr = [0.82, 0.78, 0.8, 0.85, 0.79, 0.52, 1.1];
    let peaks = r_peaks(fs, seconds - 0.5, 0.6, &rr);
    let (mut normal, mut wide) = (Vec::new(), Vec::new());
    for (k, &p) in peaks.iter().enumerate() {
        if k % 7 == 6 {
            wide.push(p);
        } else {
            normal.push(p);
        }
    }
    let w = wander(n, fs);
    let mut leads = Vec::new();
    for (lead, polarity) in [(0u64, 1.0), (1, -0.6)] {
        let a = beat_train(n, fs, &normal, &NORMAL_BEAT, scale * polarity);
        let b = beat_train(n, fs, &wide, &WIDE_BEAT, scale * polarity);
        let e = noise(n, 0.03 * scale, 7 + lead);
        leads.push(
            (0..n)
                .map(|i| a[i] + b[i] + scale * w[i] + e[i])
                .collect::<Vec<f64>>(),
        );
    }
    (leads, peaks)
}

fn assert_exact(found: &[usize], truth: &[usize], tol: usize, what: &str) {
    assert_eq!(
        found.len(),
        truth.len(),
        "{what}: found {found:?}\ntruth {truth:?}"
    );
    for (f, t) in found.iter().zip(truth) {
        assert!(f.abs_diff(*t) <= tol, "{what}: beat at {t} found at {f}");
    }
}

#[test]
fn synthetic_beat_train_found_exactly_at_several_rates_and_scales() {
    let opts = OfflineQrsOptions::default();
    for fs in [128.0, 250.0, 360.0, 500.0, 1000.0] {
        for scale in [0.05, 1.0, 20.0] {
            let (leads, truth) = synthetic_record(fs, 40.0, scale);
            // Within 4 ms: the dominant peak of the band-passed QRS is the R wave.
            let tol = ((0.004 * fs) as usize).max(1);
            let both = detect_qrs_signals(&leads, fs, &opts).unwrap();
            assert_exact(&both, &truth, tol, &format!("two leads, {fs} Hz, x{scale}"));
            let one = detect_qrs_signals(&leads[..1], fs, &opts).unwrap();
            assert_exact(&one, &truth, tol, &format!("lead 0, {fs} Hz, x{scale}"));
        }
    }
}

#[test]
fn degenerate_inputs_do_not_panic() {
    let opts = OfflineQrsOptions::default();
    let fs = 360.0;
    for x in [
        vec![],
        vec![1.0],
        vec![0.0; 10],
        vec![0.0; 36_000],
        vec![f64::NAN; 36_000],
        vec![f64::INFINITY; 1000],
        vec![1e300; 5000],
    ] {
        let beats = detect_qrs_signals(std::slice::from_ref(&x), fs, &opts).unwrap();
        assert!(
            beats.is_empty(),
            "no beat in a signal without any: {beats:?}"
        );
        let beats = detect_qrs_signals(&[x.clone(), x], fs, &opts).unwrap();
        assert!(beats.is_empty());
    }
    // Leads of different lengths: the common part is used.
    let (leads, _) = synthetic_record(fs, 10.0, 1.0);
    let short = vec![leads[0].clone(), leads[1][..1800].to_vec()];
    assert!(detect_qrs_signals(&short, fs, &opts).is_ok());
    assert!(detect_qrs_signals(&[], fs, &opts).unwrap().is_empty());
    // Bad rates and options are errors.
    assert!(detect_qrs_signals(&leads, 0.0, &opts).is_err());
    assert!(detect_qrs_signals(&leads, f64::NAN, &opts).is_err());
    assert!(detect_qrs_signals(&leads, 40.0, &opts).is_err()); // band above Nyquist
                                                               // Absurd rates: a clear error (the band-pass cannot be designed), not a panic.
    assert!(detect_qrs_signals(&leads, 1e300, &opts).is_err());
    assert!(detect_qrs_signals(&leads, 1e6, &opts).is_ok());
    let bad = OfflineQrsOptions {
        min_rr_s: -1.0,
        ..OfflineQrsOptions::default()
    };
    assert!(detect_qrs_signals(&leads, fs, &bad).is_err());
}

#[test]
fn gaps_flat_line_and_clipping_give_no_false_beats() {
    let fs = 360.0;
    let opts = OfflineQrsOptions::default();
    let (mut leads, truth) = synthetic_record(fs, 60.0, 1.0);
    // 10-30 s: lead 0 off (flat), lead 1 missing; 40-45 s: lead 0 clipped at its rail.
    let (a, b) = ((10.0 * fs) as usize, (30.0 * fs) as usize);
    leads[0][a..b].iter_mut().for_each(|v| *v = 0.0);
    leads[1][a..b].iter_mut().for_each(|v| *v = f64::NAN);
    let rail = leads[0].iter().cloned().fold(f64::MIN, f64::max);
    let (c, d) = ((40.0 * fs) as usize, (45.0 * fs) as usize);
    leads[0][c..d].iter_mut().for_each(|v| *v = rail);
    // A short gap of 20 ms is bridged.
    let g = (50.0 * fs) as usize;
    leads[0][g..g + 7].iter_mut().for_each(|v| *v = f64::NAN);
    let found = detect_qrs_signals(&leads, fs, &opts).unwrap();
    let in_off = found.iter().filter(|&&f| f > a + 36 && f + 36 < b).count();
    assert_eq!(
        in_off, 0,
        "beats detected where no lead has a signal: {found:?}"
    );
    // Elsewhere every beat is found (lead 1 carries 40-45 s), and no extra beat.
    let expected: Vec<usize> = truth
        .iter()
        .copied()
        .filter(|&t| t + 36 < a || t > b + 36)
        .collect();
    let outside: Vec<usize> = found
        .iter()
        .copied()
        .filter(|&f| f + 36 < a || f > b + 36)
        .collect();
    assert_exact(&outside, &expected, 2, "around gaps and clipping");
}

fn recording(leads: &[Vec<f64>], fs: f64, spf: u32) -> Recording {
    let signals: Vec<Signal> = leads
        .iter()
        .map(|x| Signal {
            description: "ECG".into(),
            units: "mV".into(),
            gain: 200.0,
            baseline: 0,
            adc_resolution: 16,
            adc_zero: 0,
            samples_per_frame: spf,
            samples: x
                .iter()
                .map(|v| {
                    if v.is_finite() {
                        (v * 200.0).round() as i32
                    } else {
                        MISSING
                    }
                })
                .collect(),
        })
        .collect();
    Recording {
        name: "synthetic".into(),
        frame_frequency: fs / spf as f64,
        frames: (leads[0].len() / spf as usize) as u64,
        base_datetime: None,
        signals,
        info: Vec::new(),
    }
}

#[test]
fn recording_api_reports_frame_indices_and_checks_channels() {
    let fs = 360.0;
    let (leads, truth) = synthetic_record(fs, 20.0, 1.0);
    let opts = OfflineQrsOptions::default();
    let rec = recording(&leads, fs, 1);
    let found = detect_qrs_offline(&rec, &opts).unwrap();
    let truth64: Vec<i64> = truth.iter().map(|&t| t as i64).collect();
    assert_eq!(found.len(), truth64.len());
    assert!(found.iter().zip(&truth64).all(|(f, t)| (f - t).abs() <= 2));
    // Two samples per frame: indices come back in frames.
    let rec2 = recording(&leads, fs, 2);
    let found2 = detect_qrs_offline(&rec2, &opts).unwrap();
    assert_eq!(found2.len(), truth64.len());
    assert!(found2
        .iter()
        .zip(&truth64)
        .all(|(f, t)| (f - t / 2).abs() <= 1));
    // Channel selection.
    let one = OfflineQrsOptions {
        channels: Some(vec![1]),
        ..OfflineQrsOptions::default()
    };
    assert_eq!(detect_qrs_offline(&rec, &one).unwrap().len(), truth64.len());
    let bad = OfflineQrsOptions {
        channels: Some(vec![5]),
        ..OfflineQrsOptions::default()
    };
    assert!(detect_qrs_offline(&rec, &bad).is_err());
    let none = OfflineQrsOptions {
        channels: Some(vec![]),
        ..OfflineQrsOptions::default()
    };
    assert!(detect_qrs_offline(&rec, &none).is_err());
    let mut empty = rec.clone();
    empty.signals.clear();
    assert!(detect_qrs_offline(&empty, &opts).is_err());
}

/// Se and +P (%) of `dets` against the reference beats of `rec` (±150 ms, one-to-one, nearest).
fn score(db: &std::path::Path, rec: &str, dets: &[i64]) -> (f64, f64) {
    let fs = 360.0;
    let ann = read_annotations(db.join(format!("{rec}.atr")), Some(fs))
        .unwrap()
        .annotations;
    let flutter = code_from_symbol("!").unwrap();
    let refs: Vec<i64> = ann
        .iter()
        .filter(|a| a.is_beat() && a.code != flutter)
        .map(|a| a.sample)
        .collect();
    let w = 54;
    let mut used = vec![false; dets.len()];
    let mut tp = 0usize;
    for &r in &refs {
        let best = (0..dets.len())
            .filter(|&j| !used[j] && (dets[j] - r).abs() <= w)
            .min_by_key(|&j| (dets[j] - r).abs());
        if let Some(j) = best {
            used[j] = true;
            tp += 1;
        }
    }
    (
        100.0 * tp as f64 / refs.len() as f64,
        100.0 * tp as f64 / dets.len().max(1) as f64,
    )
}

#[test]
fn mitdb_records_meet_a_floor() {
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    // 100: clean; 208: frequent PVCs, couplets and noise (a hard one).
    for (rec, floor) in [("100", 99.9), ("208", 99.5)] {
        let r = read_record(db.join(rec)).unwrap().recording;
        let dets = detect_qrs_offline(&r, &OfflineQrsOptions::default()).unwrap();
        assert!(dets.windows(2).all(|w| w[0] < w[1]), "beats not increasing");
        let (se, ppv) = score(&db, rec, &dets);
        assert!(
            se >= floor && ppv >= floor,
            "{rec}: Se {se:.3} %, +P {ppv:.3} %"
        );
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // Each case detects 20 s of two-lead ECG; a few cases keep the debug test fast.
        #![proptest_config(ProptestConfig::with_cases(8))]
        #[test]
        fn beat_train_found_exactly_at_any_rate_and_scale(
            fs in 125.0f64..1000.0,
            log_scale in -2.0f64..2.0,
        ) {
            let scale = 10f64.powf(log_scale);
            let (leads, truth) = synthetic_record(fs, 20.0, scale);
            let found = detect_qrs_signals(&leads, fs, &OfflineQrsOptions::default()).unwrap();
            let tol = ((0.004 * fs) as usize).max(1);
            prop_assert_eq!(found.len(), truth.len());
            for (f, t) in found.iter().zip(&truth) {
                prop_assert!(f.abs_diff(*t) <= tol, "beat at {} found at {}", t, f);
            }
        }
    }
}
