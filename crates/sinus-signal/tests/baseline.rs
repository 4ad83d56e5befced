//! Baseline-wander removal flattens a synthetic wander and keeps the beats.

use sinus_signal::baseline::{estimate_baseline, remove_baseline, BaselineMethod};
use sinus_signal::synthetic::{beat_train, r_peaks, wander, NORMAL_BEAT};

/// Movement of the cleaned signal's isoelectric level (the TP segment,
/// 55 % of the way to the next beat; T waves and the P wave of the next beat leave some
/// residue there) and the R-wave height kept.
fn check(method: BaselineMethod, fs: f64, tol: f64) {
    let n = (30.0 * fs) as usize;
    let peaks = r_peaks(fs, 29.0, 0.5, &[0.8, 0.9, 0.75]);
    let ecg = beat_train(n, fs, &peaks, &NORMAL_BEAT, 1.0);
    let w = wander(n, fs);
    let x: Vec<f64> = ecg.iter().zip(&w).map(|(a, b)| a + b).collect();
    let y = remove_baseline(&x, fs, method).unwrap();
    let (mut lo_iso, mut hi_iso) = (f64::MAX, f64::MIN);
    let mut worst_raw = 0.0f64;
    for pair in peaks.windows(2).skip(2).take(peaks.len().saturating_sub(5)) {
        let iso = pair[0] + (0.55 * (pair[1] - pair[0]) as f64) as usize;
        lo_iso = lo_iso.min(y[iso] - ecg[iso]);
        hi_iso = hi_iso.max(y[iso] - ecg[iso]);
        worst_raw = worst_raw.max((x[iso] - ecg[iso]).abs());
        // The R wave's height above the preceding isoelectric level is kept.
        let (r, pr) = (pair[1], pair[1] - (0.07 * fs) as usize);
        let (kept, truth) = (y[r] - y[pr], ecg[r] - ecg[pr]);
        assert!(
            (kept - truth).abs() < 0.05,
            "R height changed: {kept} vs {truth}"
        );
    }
    assert!(worst_raw > 0.5, "the wander must be visible before removal");
    // A constant offset is harmless (a high-pass also removes the beats' own mean); what
    // matters is that the isoelectric level no longer moves.
    let spread = hi_iso - lo_iso;
    assert!(
        spread < tol,
        "{method:?} at {fs} Hz: isoelectric level still moves by {spread} mV"
    );
}

#[test]
fn median_method_flattens_wander() {
    check(BaselineMethod::DE_CHAZAL, 360.0, 0.08);
    check(BaselineMethod::DE_CHAZAL, 250.0, 0.08);
}

#[test]
fn high_pass_method_flattens_wander() {
    check(BaselineMethod::HIGH_PASS_0_5_HZ, 360.0, 0.08);
    check(BaselineMethod::HIGH_PASS_0_5_HZ, 128.0, 0.08);
}

#[test]
fn missing_samples_stay_missing() {
    let fs = 360.0;
    let mut x = wander(3600, fs);
    x[100..110].iter_mut().for_each(|v| *v = f64::NAN);
    for m in [BaselineMethod::DE_CHAZAL, BaselineMethod::HIGH_PASS_0_5_HZ] {
        let y = remove_baseline(&x, fs, m).unwrap();
        assert!(y[100..110].iter().all(|v| v.is_nan()));
        assert!(y[..100].iter().chain(&y[110..]).all(|v| v.is_finite()));
        assert!(y[200..3400].iter().all(|v| v.abs() < 0.05), "{m:?}");
        let b = estimate_baseline(&x, fs, m).unwrap();
        assert!(b[105].is_nan());
    }
}
