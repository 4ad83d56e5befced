//! Resampling keeps timing: output sample `k` is the input signal at time `k / fs_out`.

use sinus_signal::resample::{map_index, output_len, resample, resample_with_gaps};
use std::f64::consts::PI;

/// Gaussian pulses (sigma 8 ms, QRS-like; band-limited below the lowest Nyquist rate used, 64 Hz) centred at `times` seconds.
fn pulses(times: &[f64], fs: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let t = i as f64 / fs;
            times
                .iter()
                .map(|&c| (-0.5 * ((t - c) / 0.008).powi(2)).exp())
                .sum::<f64>()
                + 0.3 // an offset, which must not ring at the edges
        })
        .collect()
}

/// Sub-sample peak positions (parabolic interpolation) of local maxima above `thr`.
fn peaks(y: &[f64], thr: f64) -> Vec<f64> {
    (1..y.len() - 1)
        .filter(|&i| y[i] > thr && y[i] >= y[i - 1] && y[i] > y[i + 1])
        .map(|i| {
            let (a, b, c) = (y[i - 1], y[i], y[i + 1]);
            i as f64 + 0.5 * (a - c) / (a - 2.0 * b + c)
        })
        .collect()
}

fn check_pulse_timing(fs_in: f64, fs_out: f64) {
    let n = (10.0 * fs_in) as usize;
    let times: Vec<f64> = (0..12)
        .map(|k| 0.3 + 0.8 * k as f64 + 0.00137 * k as f64)
        .collect();
    let x = pulses(&times, fs_in, n);
    let y = resample(&x, fs_in, fs_out).unwrap();
    assert_eq!(y.len(), output_len(n, fs_in, fs_out).unwrap());
    let found = peaks(&y, 0.8);
    assert_eq!(found.len(), times.len(), "{fs_in} -> {fs_out}: {found:?}");
    // Peaks of the same pulses sampled directly at fs_out: parabolic interpolation has its own
    // small bias on a sampled Gaussian, identical in both, so this isolates the resampler.
    let direct = pulses(&times, fs_out, y.len());
    let expected = peaks(&direct, 0.8);
    for ((p, e), t) in found.iter().zip(&expected).zip(&times) {
        assert!(
            (e - t * fs_out).abs() < 0.05,
            "interpolation bias too large at {fs_out} Hz"
        );
        let err = p - e;
        assert!(
            err.abs() < 0.01,
            "{fs_in} -> {fs_out}: pulse at {t} s found at {p} ({err:+.4} samples)"
        );
    }
    // The reference pulses sampled directly at fs_out agree sample by sample.
    let worst = y
        .iter()
        .zip(&direct)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        worst < 0.01,
        "{fs_in} -> {fs_out}: worst sample error {worst}"
    );
}

#[test]
fn pulse_train_keeps_its_timing() {
    check_pulse_timing(360.0, 250.0);
    check_pulse_timing(250.0, 360.0);
    check_pulse_timing(500.0, 360.0);
    check_pulse_timing(360.0, 128.0);
    check_pulse_timing(1000.0, 257.0);
}

#[test]
fn sine_keeps_its_phase() {
    let (fs_in, fs_out) = (360.0, 250.0);
    let f = 7.3;
    let x: Vec<f64> = (0..3600)
        .map(|i| (2.0 * PI * f * i as f64 / fs_in).sin())
        .collect();
    let y = resample(&x, fs_in, fs_out).unwrap();
    assert_eq!(y.len(), 2500);
    // Away from the edges, the output is the sine at k / fs_out.
    let worst = (100..2400)
        .map(|k| (y[k] - (2.0 * PI * f * k as f64 / fs_out).sin()).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-3, "worst {worst}");
}

#[test]
fn index_mapping_matches_resampled_positions() {
    // A pulse at input sample 3600 (10 s at 360 Hz) is at output sample 2500.
    assert_eq!(map_index(3600, 360.0, 250.0), 2500);
    let x = pulses(&[10.0], 360.0, 7200);
    let y = resample(&x, 360.0, 250.0).unwrap();
    let p = peaks(&y, 0.8);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].round() as i64, map_index(3600, 360.0, 250.0));
}

#[test]
fn identity_empty_and_short_inputs() {
    let x = [1.0, 2.0, 3.0];
    assert_eq!(resample(&x, 360.0, 360.0).unwrap(), x.to_vec());
    assert!(resample(&[], 360.0, 250.0).unwrap().is_empty());
    let y = resample(&[1.0], 360.0, 250.0).unwrap();
    assert_eq!(y.len(), 1);
    assert!((y[0] - 1.0).abs() < 1e-6);
    let y = resample(&x, 360.0, 250.0).unwrap();
    assert_eq!(y.len(), 3);
    assert!(y.iter().all(|v| v.is_finite()));
    assert!(resample(&[f64::NAN, 1.0], 360.0, 250.0).is_err());
    assert!(resample(&x, 360.0, -250.0).is_err());
}

#[test]
fn gaps_short_bridged_long_kept_missing() {
    let fs = 360.0;
    let mut x: Vec<f64> = (0..3600)
        .map(|i| (2.0 * PI * 3.0 * i as f64 / fs).sin())
        .collect();
    x[1000..1003].iter_mut().for_each(|v| *v = f64::NAN); // 8 ms: bridged
    x[2000..2360].iter_mut().for_each(|v| *v = f64::NAN); // 1 s: stays missing
    let y = resample_with_gaps(&x, fs, 250.0, 0.05).unwrap();
    assert_eq!(y.len(), 2500);
    let k_short = map_index(1001, fs, 250.0) as usize;
    assert!(y[k_short].is_finite());
    let (lo, hi) = (
        map_index(2000, fs, 250.0) as usize,
        map_index(2360, fs, 250.0) as usize,
    );
    assert!(y[lo..hi].iter().all(|v| v.is_nan()));
    assert!(y[..lo - 1].iter().all(|v| v.is_finite()));
    assert!(y[hi + 1..].iter().all(|v| v.is_finite()));
}
