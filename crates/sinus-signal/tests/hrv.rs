//! HRV: hand-computed time-domain values, ectopy and artefact exclusion, known spectra,
//! MIT-BIH 100 against the NeuroKit2 values of the peer check, speed on 24 h, no panics.

use proptest::prelude::*;
use sinus_signal::hrv::{
    frequency_domain, hrv_from_nn, hrv_from_samples, hrv_from_seconds, nn_series, time_domain,
    HrvOptions,
};
use std::f64::consts::PI;
use std::time::Instant;

/// Beat times from 0 s for the given intervals (ms).
fn times_of(nn_ms: &[f64]) -> Vec<f64> {
    let mut t = vec![0.0];
    for v in nn_ms {
        t.push(t.last().unwrap() + v / 1000.0);
    }
    t
}

fn close(a: Option<f64>, b: f64, tol: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() <= tol)
}

#[test]
fn time_domain_by_hand() {
    // NN 800 850 780 900 820: mean 830, deviations -30 20 -50 70 -10 (squares sum 8800);
    // differences 50 -70 120 -80 (squares 28200, mean 5, deviations' squares 28100).
    let t = times_of(&[800.0, 850.0, 780.0, 900.0, 820.0]);
    let h = hrv_from_seconds(&t, &['N'; 6], &HrvOptions::default());
    let td = h.time;
    assert_eq!(
        (h.counts.nn, h.counts.excluded, td.successive_pairs),
        (5, 0, 4)
    );
    assert!(close(td.mean_nn_ms, 830.0, 1e-9));
    assert!(close(td.sdnn_ms, (8800.0f64 / 4.0).sqrt(), 1e-9));
    assert!(close(td.rmssd_ms, (28200.0f64 / 4.0).sqrt(), 1e-9));
    assert!(close(td.sdsd_ms, (28100.0f64 / 3.0).sqrt(), 1e-9));
    // |50| is not > 50 ms.
    assert_eq!(td.nn50, 3);
    assert!(close(td.pnn50_pct, 75.0, 1e-9));
    assert!(close(td.hr_mean_bpm, 60_000.0 / 830.0, 1e-9));
    // Fewer than 8 successive NN: no windowed minimum or maximum; under 10 min: no SDANN.
    assert_eq!(
        (td.hr_min_bpm, td.hr_max_bpm, td.sdann_ms),
        (None, None, None)
    );
    assert!(h.frequency.is_none(), "4 s of NN has no spectrum");
}

#[test]
fn ectopic_beats_take_both_neighbouring_intervals() {
    // N N N V N N N: the intervals into and out of the V go, and no difference spans the gap.
    let t = times_of(&[800.0, 800.0, 500.0, 1100.0, 820.0, 840.0]);
    let classes = ['N', 'N', 'N', 'V', 'N', 'N', 'N'];
    let (nn, counts) = nn_series(&t, &classes, &HrvOptions::default());
    assert_eq!(nn.nn_ms.len(), 4);
    assert_eq!((counts.excluded, counts.excluded_ectopic), (2, 2));
    assert_eq!(nn.follows_previous, vec![false, true, false, true]);
    let td = time_domain(&nn);
    assert_eq!(td.successive_pairs, 2);
    // Differences 0 and 20 ms only: the 300 ms jump across the V is not one of them.
    assert!(close(td.rmssd_ms, (400.0f64 / 2.0).sqrt(), 1e-9));
    // Any non-N class (S, F, Q, unknown letters) is excluded the same way.
    for c in ['S', 'F', 'Q', 'O', 'x'] {
        let (_, counts) = nn_series(
            &t,
            &['N', 'N', 'N', c, 'N', 'N', 'N'],
            &HrvOptions::default(),
        );
        assert_eq!(counts.excluded_ectopic, 2, "{c}");
    }
}

#[test]
fn artefacts_gaps_and_invalid_times_are_counted_apart() {
    let t = [0.0, 0.8, 0.9, 1.7, 5.0, 5.8, 5.8, f64::NAN, 7.0, 7.8];
    let h = hrv_from_seconds(&t, &['N'; 10], &HrvOptions::default());
    let c = h.counts;
    assert_eq!((c.beats, c.intervals), (10, 9));
    assert_eq!(c.excluded_too_short, 1, "0.1 s");
    assert_eq!(c.excluded_too_long, 1, "3.3 s gap");
    // 5.8 -> 5.8 (not increasing), 5.8 -> NaN and NaN -> 7.0.
    assert_eq!(c.excluded_invalid, 3);
    assert_eq!(c.nn, 4);
    assert_eq!(c.excluded, 5);
    // More times than classes: the unlabelled beats' intervals are invalid, not a panic.
    let h = hrv_from_seconds(&[0.0, 0.8, 1.6, 2.4], &['N', 'N'], &HrvOptions::default());
    assert_eq!((h.counts.nn, h.counts.excluded_invalid), (1, 2));
}

#[test]
fn empty_and_tiny_inputs_give_none() {
    for t in [&[][..], &[1.0][..], &[0.0, 0.8][..]] {
        let h = hrv_from_seconds(t, &['N'; 2], &HrvOptions::default());
        assert!(h.time.sdnn_ms.is_none() && h.time.rmssd_ms.is_none());
        assert!(h.frequency.is_none());
    }
    let h = hrv_from_samples(&[0, 288, 576], 0.0, &['N'; 3], &HrvOptions::default());
    assert_eq!(h.counts.excluded_invalid, 2, "fs 0");
    let h = hrv_from_samples(&[0, 288, 576], 360.0, &['N'; 3], &HrvOptions::default());
    assert!(close(h.time.mean_nn_ms, 800.0, 1e-9));
}

/// Beat times of a sinus rhythm whose instantaneous NN (ms) is `nn(t)`.
fn beats_of(seconds: f64, nn: impl Fn(f64) -> f64) -> Vec<f64> {
    let mut t = vec![0.0];
    while *t.last().unwrap() < seconds {
        let last = *t.last().unwrap();
        t.push(last + nn(last) / 1000.0);
    }
    t
}

#[test]
fn sinusoidal_modulation_lands_in_its_band_with_its_power() {
    // A sine of amplitude A ms has power A²/2 ms²: 30 ms at 0.25 Hz (HF) -> 450 ms²,
    // 40 ms at 0.1 Hz (LF) -> 800 ms². 10 minutes.
    let t = beats_of(600.0, |t| {
        800.0 + 30.0 * (2.0 * PI * 0.25 * t).sin() + 40.0 * (2.0 * PI * 0.1 * t).sin()
    });
    let h = hrv_from_seconds(&t, &vec!['N'; t.len()], &HrvOptions::default());
    let f = h.frequency.expect("10 min has a spectrum");
    let (lf, hf) = (f.lf_ms2.unwrap(), f.hf_ms2.unwrap());
    assert!((lf - 800.0).abs() < 0.08 * 800.0, "LF {lf}");
    assert!((hf - 450.0).abs() < 0.08 * 450.0, "HF {hf}");
    assert!(f.lf_hf.is_some_and(|r| (r - 800.0 / 450.0).abs() < 0.15));
    assert!(close(f.lf_nu.zip(f.hf_nu).map(|(a, b)| a + b), 100.0, 1e-9));
    // 10 minutes cannot resolve 0.0033 Hz with two cycles per 5-min segment: no VLF.
    assert!(f.vlf_ms2.is_none() && f.min_frequency_hz > 0.0033);
    assert_eq!(f.segments, 3);
    let tp = f.total_power_ms2.unwrap();
    assert!(tp >= lf + hf && tp < 1.1 * (lf + hf), "total {tp}");
    // The spectrum peaks at the two tones.
    let peak_near = |hz: f64| {
        let spec = &f.spectrum;
        let i = (0..spec.frequency_hz.len())
            .filter(|&i| (spec.frequency_hz[i] - hz).abs() < 0.02)
            .max_by(|&a, &b| spec.psd_ms2_per_hz[a].total_cmp(&spec.psd_ms2_per_hz[b]))
            .unwrap();
        spec.frequency_hz[i]
    };
    assert!((peak_near(0.25) - 0.25).abs() < 0.005);
    assert!((peak_near(0.1) - 0.1).abs() < 0.005);
    // A fixed 120 s segment averages more segments and finds the same powers.
    let opts = HrvOptions {
        welch_segment_s: Some(120.0),
        ..HrvOptions::default()
    };
    let f2 = hrv_from_seconds(&t, &vec!['N'; t.len()], &opts)
        .frequency
        .unwrap();
    assert!(f2.segments > 3 && (f2.segment_s - 120.0).abs() < 1e-9);
    assert!((f2.hf_ms2.unwrap() - 450.0).abs() < 0.1 * 450.0);
    // 120 s segments resolve from 2/120 Hz: LF (from 0.04 Hz) yes, VLF no.
    assert!((f2.lf_ms2.unwrap() - 800.0).abs() < 0.1 * 800.0);
    assert!(f2.vlf_ms2.is_none());
}

#[test]
fn long_records_get_sdann_vlf_and_windowed_heart_rate() {
    // 30 min, NN slowly drifting between 700 and 900 ms (period 10 min) plus a 0.25 Hz sine.
    let t = beats_of(1800.0, |t| {
        800.0 + 100.0 * (2.0 * PI * t / 600.0).sin() + 20.0 * (2.0 * PI * 0.25 * t).sin()
    });
    let h = hrv_from_seconds(&t, &vec!['N'; t.len()], &HrvOptions::default());
    let td = h.time;
    assert!(td.sdann_ms.is_some_and(|v| v > 30.0), "{:?}", td.sdann_ms);
    assert!(td
        .sdnn_index_ms
        .is_some_and(|v| v > 10.0 && v < td.sdnn_ms.unwrap()));
    // 8-beat windows: near 60000/700 and 60000/900 bpm, within the sine's reach.
    let (lo, hi) = (td.hr_min_bpm.unwrap(), td.hr_max_bpm.unwrap());
    assert!(lo > 60_000.0 / 930.0 && lo < 60_000.0 / 890.0, "min {lo}");
    assert!(hi > 60_000.0 / 710.0 && hi < 60_000.0 / 670.0, "max {hi}");
    let f = h.frequency.unwrap();
    assert!(f.vlf_ms2.is_some(), "30 min resolves VLF");
    assert!(f.longest_gap_s < 1.0);
}

#[test]
fn hrv_from_nn_agrees_with_the_beat_route() {
    let t = beats_of(400.0, |t| 750.0 + 25.0 * (2.0 * PI * 0.2 * t).sin());
    let classes: Vec<char> = (0..t.len())
        .map(|i| if i % 37 == 5 { 'V' } else { 'N' })
        .collect();
    let opts = HrvOptions::default();
    let a = hrv_from_seconds(&t, &classes, &opts);
    let (nn, _) = nn_series(&t, &classes, &opts);
    let b = hrv_from_nn(&nn, &opts);
    assert_eq!(a.time, b.time);
    assert_eq!(a.frequency, b.frequency);
    assert_eq!(frequency_domain(&nn, &opts), a.frequency);
}

/// MIT-BIH 100 from its reference annotations, against the NeuroKit2 0.2.13 values that
/// tests/peers/hrv_parity.py prints for it (same NN series).
#[test]
fn mitdb_100_matches_neurokit2() {
    use sinus_io::wfdb::annotation::read_annotations;
    let Some(db) = sinus_io::datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let set = read_annotations(db.join("100.atr"), Some(360.0)).unwrap();
    let (mut samples, mut classes) = (Vec::new(), Vec::new());
    for a in set.annotations.iter().filter(|a| a.is_beat()) {
        samples.push(a.sample);
        classes.push(if ["N", "L", "R", "B"].contains(&a.symbol()) {
            'N'
        } else {
            'S'
        });
    }
    let h = hrv_from_samples(&samples, 360.0, &classes, &HrvOptions::default());
    assert_eq!((h.counts.nn, h.counts.excluded), (2204, 68));
    let rel = |a: Option<f64>, b: f64| a.map(|a| (a - b).abs() / b).unwrap_or(f64::INFINITY);
    assert!(rel(h.time.mean_nn_ms, 795.0) < 1e-3);
    assert!(rel(h.time.sdnn_ms, 35.96) < 1e-3);
    assert!(rel(h.time.rmssd_ms, 27.48) < 1e-3);
    let f = h.frequency.unwrap();
    assert!(rel(f.vlf_ms2, 254.9) < 2e-3, "{:?}", f.vlf_ms2);
    assert!(rel(f.lf_ms2, 68.98) < 2e-3, "{:?}", f.lf_ms2);
    assert!(rel(f.hf_ms2, 535.5) < 2e-3, "{:?}", f.hf_ms2);
}

/// 24 h of beats (~100 k) go through: SDANN and the spectrum exist. Its speed is a benchmark's
/// business (`bench/analyze.sh`), not a test's: the times are printed, never asserted.
#[test]
fn a_day_of_beats() {
    let t = beats_of(86_400.0, |t| {
        850.0 + 60.0 * (2.0 * PI * t / 86_400.0).sin() + 25.0 * (2.0 * PI * 0.25 * t).sin()
    });
    let classes: Vec<char> = (0..t.len())
        .map(|i| if i % 97 == 3 { 'V' } else { 'N' })
        .collect();
    let opts = HrvOptions::default();
    let start = Instant::now();
    let (nn, _) = nn_series(&t, &classes, &opts);
    let td = time_domain(&nn);
    let time_domain_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let fd = frequency_domain(&nn, &opts);
    let freq_s = start.elapsed().as_secs_f64();
    eprintln!(
        "24 h, {} beats: NN selection + time domain {:.1} ms, frequency domain {:.1} ms",
        t.len(),
        1e3 * time_domain_s,
        1e3 * freq_s
    );
    assert!(t.len() > 100_000 && td.sdann_ms.is_some() && fd.is_some());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn never_panics(
        times in proptest::collection::vec(prop_oneof![
            -10.0f64..4000.0,
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(0.0),
        ], 0..400),
        sorted in any::<bool>(),
        classes in proptest::collection::vec(prop_oneof![Just('N'), Just('V'), Just('S'), Just('Q')], 0..400),
        resample_hz in prop_oneof![Just(4.0f64), 0.0f64..20.0, Just(f64::NAN)],
        segment in proptest::option::of(prop_oneof![-5.0f64..2000.0, Just(f64::NAN)]),
        min_nn_s in 0.0f64..1.0,
        max_nn_s in 0.0f64..5.0,
    ) {
        let mut times = times;
        if sorted {
            times.sort_by(f64::total_cmp);
        }
        let opts = HrvOptions { min_nn_s, max_nn_s, resample_hz, welch_segment_s: segment };
        let h = hrv_from_seconds(&times, &classes, &opts);
        prop_assert_eq!(h.counts.nn + h.counts.excluded, h.counts.intervals);
        prop_assert_eq!(
            h.counts.excluded,
            h.counts.excluded_ectopic + h.counts.excluded_too_short
                + h.counts.excluded_too_long + h.counts.excluded_invalid
        );
        // JSON never fails (NaN would serialize as null; Option fields are explicit).
        prop_assert!(serde_json_like(&h));
    }

    #[test]
    fn regular_sinus_series_always_get_a_spectrum(
        base in 400.0f64..1500.0,
        amp in 0.0f64..100.0,
        hz in 0.01f64..0.45,
        minutes in 2.0f64..12.0,
    ) {
        let t = beats_of(minutes * 60.0, |t| base + amp.min(base / 3.0) * (2.0 * PI * hz * t).sin());
        let h = hrv_from_seconds(&t, &vec!['N'; t.len()], &HrvOptions::default());
        let f = h.frequency.unwrap();
        prop_assert!(f.lf_ms2.is_some() && f.hf_ms2.is_some());
        prop_assert!(f.spectrum.psd_ms2_per_hz.iter().all(|p| p.is_finite() && *p >= 0.0));
    }
}

/// The output holds only finite floats or `None` where it matters for JSON consumers.
fn serde_json_like(h: &sinus_signal::hrv::Hrv) -> bool {
    let t = &h.time;
    [
        t.mean_nn_ms,
        t.sdnn_ms,
        t.rmssd_ms,
        t.sdsd_ms,
        t.pnn50_pct,
        t.hr_min_bpm,
        t.hr_max_bpm,
    ]
    .iter()
    .flatten()
    .all(|v| v.is_finite())
}
