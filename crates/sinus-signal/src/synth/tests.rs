//! Tests of the synthetic ECG generator.

use super::*;
use crate::detect::{detect_qrs, QrsDetectorKind};
use crate::filter::{butterworth_filtfilt, Band};
use crate::noise::NoiseKind;
use sinus_io::open::{open, OpenOptions};
use sinus_io::wfdb::annotation::{codes, Annotation};
use sinus_io::wfdb::format::SignalFormat;

/// A short script with every rhythm, for tests that need variety but not ten minutes.
fn short_mix(fs: f64) -> SynthSpec {
    SynthSpec {
        fs,
        seconds: 40.0,
        ectopy: Ectopy {
            pac: 0.05,
            pvc: 0.05,
            couplet: 0.02,
        },
        segments: vec![
            Segment::new(8.0, 6.0, Rhythm::Afib { mean_bpm: 100.0 }),
            Segment::new(
                16.0,
                5.0,
                Rhythm::Aflutter {
                    atrial_bpm: 300.0,
                    conduction: Conduction::Variable,
                },
            ),
            Segment::new(23.0, 2.0, Rhythm::Vt { bpm: 170.0 }),
            Segment::new(27.0, 2.0, Rhythm::Svta { bpm: 180.0 }),
            Segment::new(30.0, 6.0, Rhythm::Bigeminy),
        ],
        events: vec![
            Event::Pause {
                at_s: 4.0,
                duration_s: 2.5,
            },
            Event::LeadsOff {
                at_s: 36.0,
                duration_s: 1.5,
                lead: None,
                rail: true,
            },
            Event::NoiseBurst {
                at_s: 37.5,
                duration_s: 2.0,
                kind: NoiseKind::Mixture,
                level_mv: 0.1,
            },
        ],
        ..SynthSpec::default()
    }
}

fn beats(s: &Synthetic) -> Vec<&Annotation> {
    s.annotations.iter().filter(|a| a.is_beat()).collect()
}

/// Each beat with the rhythm label in force at it.
fn labelled_beats(s: &Synthetic) -> Vec<(i64, &'static str, String)> {
    let mut label = String::new();
    let mut out = Vec::new();
    for a in &s.annotations {
        if a.code == codes::RHYTHM {
            label = a.aux_text().unwrap_or_default();
        } else if a.is_beat() {
            out.push((a.sample, a.symbol(), label.clone()));
        }
    }
    out
}

/// The checks every generated record must pass.
fn check_ground_truth(s: &Synthetic) {
    let name = &s.recording.name;
    let n = s.recording.frames as i64;
    assert!(
        s.annotations.windows(2).all(|w| w[0].sample <= w[1].sample),
        "{name}: annotations not sorted"
    );
    let b = beats(s);
    assert!(!b.is_empty(), "{name}: no beats");
    assert!(
        b.windows(2).all(|w| w[0].sample < w[1].sample),
        "{name}: beats not strictly increasing"
    );
    assert!(b.iter().all(|a| (0..n).contains(&a.sample)));
    // A rhythm annotation before the first beat, and every rhythm annotation a change.
    let first_rhythm = s.annotations.iter().position(|a| a.code == codes::RHYTHM);
    let first_beat = s.annotations.iter().position(|a| a.is_beat());
    assert!(
        first_rhythm < first_beat,
        "{name}: first beat has no rhythm"
    );
    let rhythms: Vec<String> = s
        .annotations
        .iter()
        .filter(|a| a.code == codes::RHYTHM)
        .map(|a| a.aux_text().unwrap())
        .collect();
    assert!(
        rhythms.windows(2).all(|w| w[0] != w[1]),
        "{name}: repeated rhythm label {rhythms:?}"
    );
    for a in s.annotations.iter().filter(|a| a.code == codes::RHYTHM) {
        assert_eq!(a.aux.as_ref().unwrap().last(), Some(&0), "MIT-BIH NUL");
    }
    // Noise annotations are changes: never the same subtype twice in a row; clean at the start.
    let noise: Vec<i8> = s
        .annotations
        .iter()
        .filter(|a| a.code == codes::NOISE)
        .map(|a| a.subtype)
        .collect();
    assert!(noise.windows(2).all(|w| w[0] != w[1]), "{name}: {noise:?}");
    assert_ne!(noise.first(), Some(&0), "{name}");
    let lb = labelled_beats(s);
    for (i, (sample, sym, label)) in lb.iter().enumerate() {
        let ok = match label.as_str() {
            "(VT" => *sym == "V",
            "(SVTA" => *sym == "A",
            "(AFIB" | "(AFL" => *sym == "N",
            "(B" | "(T" => *sym == "N" || *sym == "V",
            "(N" | "(SBR" | "(STACH" => ["N", "A", "V"].contains(sym),
            _ => false,
        };
        assert!(ok, "{name}: beat {sym} at {sample} in {label}");
        // Bigeminy alternates N and V within the run.
        if label == "(B" && i > 0 && lb[i - 1].2 == "(B" {
            assert_ne!(lb[i - 1].1, *sym, "{name}: bigeminy at {sample}");
        }
        // Three or more V in a row only in VT.
        if *sym == "V" && i >= 2 && lb[i - 1].1 == "V" && lb[i - 2].1 == "V" {
            assert_eq!(label, "(VT", "{name}: run of V outside VT at {sample}");
        }
    }
    // Trigeminy: exactly one V per three beats.
    let t: Vec<&str> = lb.iter().filter(|b| b.2 == "(T").map(|b| b.1).collect();
    if t.len() > 6 {
        let v = t.iter().filter(|&&s| s == "V").count();
        assert!(
            (v * 3).abs_diff(t.len()) <= 3,
            "{name}: trigeminy {v}/{}",
            t.len()
        );
    }
    // Signals: the declared length, the 12-bit range.
    for sig in &s.recording.signals {
        assert_eq!(sig.samples.len() as i64, n);
        assert!(sig.samples.iter().all(|v| v.abs() <= ADC_MAX));
    }
}

#[test]
fn every_preset_is_consistent() {
    assert!(preset("nope").is_none());
    for (name, description) in PRESETS {
        assert!(!description.is_empty());
        let spec = preset(name).unwrap();
        assert_eq!(spec.name, name);
        validate(&spec).unwrap();
        let s = generate(&spec).unwrap();
        check_ground_truth(&s);
    }
}

#[test]
fn demo_has_every_rhythm_long_enough() {
    let s = generate(&preset("demo").unwrap()).unwrap();
    let summary = s.episode_summary();
    let total = |label: &str| summary.get(label).map_or(0.0, |e| e.1);
    assert!(total("(AFIB") >= 60.0, "{summary:?}");
    assert!(
        total("(SBR") >= 60.0 && total("(STACH") >= 60.0,
        "{summary:?}"
    );
    assert!(total("(AFL") >= 30.0, "{summary:?}");
    assert!(total("(B") >= 30.0 && total("(T") >= 30.0, "{summary:?}");
    assert!(
        total("(SBR") >= 59.0 && total("(STACH") >= 59.0,
        "{summary:?}"
    );
    assert!(total("(SVTA") > 3.0, "{summary:?}");
    assert_eq!(summary["(VT"].0, 2, "{summary:?}");
    assert_eq!(summary["PAUSE"].0, 1);
    assert!((2.5..=3.0).contains(&total("PAUSE")), "{summary:?}");
    assert!((total("LEADS-OFF") - 10.0).abs() < 0.01);
    assert!((total("NOISE") - 10.0).abs() < 0.01);
    // VT runs of 5–10 beats.
    let lb = labelled_beats(&s);
    let mut runs = Vec::new();
    let mut len = 0;
    for w in lb.windows(2) {
        if w[1].2 == "(VT" {
            len += 1;
        } else if w[0].2 == "(VT" {
            runs.push(len);
            len = 0;
        }
    }
    assert!(runs.iter().all(|r| (5..=10).contains(r)), "{runs:?}");
    let counts = s.beat_counts();
    assert!(counts["A"] >= 5 && counts["V"] >= 40, "{counts:?}");
    // A pause of 2.5–3 s and nothing else that long outside the leads-off.
    let long = beats(&s)
        .windows(2)
        .filter(|w| (w[1].sample - w[0].sample) as f64 / 360.0 > 2.0)
        .count();
    assert_eq!(long, 2, "pause and the leads-off gap");
}

#[test]
fn same_seed_same_bytes_other_seed_differs() {
    let spec = short_mix(250.0);
    let a = generate(&spec).unwrap();
    let b = generate(&spec).unwrap();
    assert_eq!(a, b);
    let dir = tempfile::tempdir().unwrap();
    write_wfdb(&a, dir.path(), "a", SignalFormat::Fmt212).unwrap();
    write_wfdb(&b, dir.path(), "b", SignalFormat::Fmt212).unwrap();
    for ext in ["dat", "atr"] {
        let x = std::fs::read(dir.path().join(format!("a.{ext}"))).unwrap();
        let y = std::fs::read(dir.path().join(format!("b.{ext}"))).unwrap();
        assert_eq!(x, y, "{ext}");
    }
    let c = generate(&SynthSpec { seed: 2, ..spec }).unwrap();
    assert_ne!(
        a.recording.signals[0].samples,
        c.recording.signals[0].samples
    );
}

#[test]
fn wfdb_round_trip() {
    let spec = short_mix(360.0);
    let s = generate(&spec).unwrap();
    check_ground_truth(&s);
    let dir = tempfile::tempdir().unwrap();
    for (format, name) in [(SignalFormat::Fmt212, "r212"), (SignalFormat::Fmt16, "r16")] {
        write_wfdb(&s, dir.path(), name, format).unwrap();
        let opened = open(&dir.path().join(name), &OpenOptions::default()).unwrap();
        let rec = &opened.recording;
        assert_eq!(rec.frame_frequency, 360.0);
        assert_eq!(rec.frames, s.recording.frames);
        for (x, y) in rec.signals.iter().zip(&s.recording.signals) {
            assert_eq!(x.samples, y.samples, "{name}");
            assert_eq!(x.gain, GAIN);
            assert_eq!(x.description, y.description);
        }
        let set = &opened.annotations.unwrap().set;
        assert_eq!(set.annotations, s.annotations, "{name}");
    }
    assert!(write_wfdb(&s, dir.path(), "x", SignalFormat::Fmt8).is_err());
    assert!(write_wfdb(&s, dir.path().join("missing"), "x", SignalFormat::Fmt16).is_err());
}

/// RR intervals (s) between consecutive beats inside runs labelled `label`, only pairs whose
/// both beats are `N`.
fn rr_in(s: &Synthetic, label: &str) -> Vec<Vec<f64>> {
    let fs = s.recording.frame_frequency;
    let mut runs = vec![Vec::new()];
    for w in labelled_beats(s).windows(2) {
        if w[0].2 == label && w[1].2 == label && w[0].1 == "N" && w[1].1 == "N" {
            runs.last_mut().unwrap().push((w[1].0 - w[0].0) as f64 / fs);
        } else if !runs.last().unwrap().is_empty() {
            runs.push(Vec::new());
        }
    }
    runs.retain(|r| r.len() > 1);
    runs
}

/// Root mean square of successive differences over the mean: about 0.2+ for AF, a few percent
/// for sinus rhythm.
fn rmssd_ratio(rr: &[f64]) -> f64 {
    let mean = rr.iter().sum::<f64>() / rr.len() as f64;
    let ms = rr.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>() / (rr.len() - 1) as f64;
    ms.sqrt() / mean
}

#[test]
fn af_is_irregular_and_sinus_regular() {
    let s = generate(&preset("af").unwrap()).unwrap();
    let af_runs = rr_in(&s, "(AFIB");
    let af: Vec<f64> = af_runs.concat();
    let sinus: Vec<Vec<f64>> = rr_in(&s, "(N");
    assert!(af.len() > 500);
    let r = rmssd_ratio(&af);
    assert!(r > 0.2, "AF RMSSD/mean {r}");
    let mean = af.iter().sum::<f64>() / af.len() as f64;
    assert!(
        (60.0 / mean - 100.0).abs() < 12.0,
        "AF rate {}",
        60.0 / mean
    );
    // No pattern: successive AF intervals are uncorrelated (within each episode, whose mean
    // rates differ).
    for run in af_runs.iter().filter(|r| r.len() > 100) {
        let c = lag1_correlation(run);
        assert!(c.abs() < 0.12, "AF lag-1 correlation {c}");
    }
    for run in &sinus {
        let r = rmssd_ratio(run);
        assert!(r < 0.06, "sinus RMSSD/mean {r}");
    }
    // Sinus HRV still varies slowly: the RR standard deviation is a few percent.
    let longest = sinus.iter().max_by_key(|r| r.len()).unwrap();
    let m = longest.iter().sum::<f64>() / longest.len() as f64;
    let sd = (longest.iter().map(|v| (v - m).powi(2)).sum::<f64>() / longest.len() as f64).sqrt();
    assert!((0.015..0.08).contains(&(sd / m)), "sinus CV {}", sd / m);
}

fn lag1_correlation(x: &[f64]) -> f64 {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    let v: f64 = x.iter().map(|a| (a - m).powi(2)).sum();
    let c: f64 = x.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum();
    c / v
}

/// RMS (mV) of lead `lead`'s 4–9 Hz band in the TQ intervals (R + 0.4 s to next R − 0.25 s)
/// of runs labelled `label`.
fn tq_band_rms(s: &Synthetic, lead: usize, label: &str) -> f64 {
    let fs = s.recording.frame_frequency;
    let x = s.recording.signals[lead].physical_samples();
    let band = butterworth_filtfilt(&x, 4, Band::BandPass(4.0, 9.0), fs).unwrap();
    let (mut sum, mut count) = (0.0, 0usize);
    for w in labelled_beats(s).windows(2) {
        if w[0].2 != label || w[1].2 != label {
            continue;
        }
        let lo = w[0].0 + (0.4 * fs) as i64;
        let hi = w[1].0 - (0.25 * fs) as i64;
        for v in band
            .get(lo.max(0) as usize..hi.max(lo).max(0) as usize)
            .unwrap_or(&[])
        {
            sum += v * v;
            count += 1;
        }
    }
    assert!(
        count > (fs * 2.0) as usize,
        "{label}: only {count} TQ samples"
    );
    (sum / count as f64).sqrt()
}

#[test]
fn f_waves_in_af_tq_segments() {
    let spec = SynthSpec {
        seconds: 120.0,
        noise: NoiseSpec::NONE,
        segments: vec![Segment::new(60.0, 60.0, Rhythm::Afib { mean_bpm: 75.0 })],
        ..SynthSpec::default()
    };
    let s = generate(&spec).unwrap();
    // V1 (lead 1) shows the largest f waves: 0.1 mV amplitude, RMS about 0.07 mV.
    let af = tq_band_rms(&s, 1, "(AFIB");
    let sinus = tq_band_rms(&s, 1, "(N");
    assert!((0.03..0.15).contains(&af), "AF TQ 4-9 Hz RMS {af}");
    assert!(sinus < 0.2 * af, "sinus {sinus} vs AF {af}");
    // Flutter waves too, at the atrial rate.
    let spec = SynthSpec {
        seconds: 60.0,
        noise: NoiseSpec::NONE,
        segments: vec![Segment::new(
            0.0,
            60.0,
            Rhythm::Aflutter {
                atrial_bpm: 300.0,
                conduction: Conduction::Fixed(4),
            },
        )],
        ..SynthSpec::default()
    };
    let s = generate(&spec).unwrap();
    let rr: Vec<i64> = beats(&s)
        .windows(2)
        .map(|w| w[1].sample - w[0].sample)
        .collect();
    // 4:1 at 300/min: every beat 0.8 s apart.
    assert!(rr.iter().all(|&d| d == 288 || d == 289), "{rr:?}");
    assert!(tq_band_rms(&s, 0, "(AFL") > 0.05);
}

#[test]
fn any_rate_from_100_to_1000_hz() {
    for fs in [100.0, 128.0, 250.0, 333.3, 360.0, 500.0, 1000.0] {
        let s = generate(&short_mix(fs)).unwrap();
        assert_eq!(s.recording.frames, (40.0 * fs).round() as u64);
        check_ground_truth(&s);
        let counts = s.beat_counts();
        assert!(counts["N"] > 20 && counts["V"] > 5, "{fs}: {counts:?}");
    }
    for leads in 1..=3 {
        let s = generate(&SynthSpec {
            leads,
            ..short_mix(250.0)
        })
        .unwrap();
        assert_eq!(s.recording.signals.len(), leads);
        assert_eq!(
            s.recording.signals[leads - 1].description,
            LEAD_NAMES[leads - 1]
        );
    }
}

#[test]
fn bad_specs_are_errors() {
    let ok = SynthSpec::default();
    let bad = [
        SynthSpec {
            fs: 99.0,
            ..ok.clone()
        },
        SynthSpec {
            fs: 1001.0,
            ..ok.clone()
        },
        SynthSpec {
            fs: f64::NAN,
            ..ok.clone()
        },
        SynthSpec {
            seconds: 0.5,
            ..ok.clone()
        },
        SynthSpec {
            seconds: f64::INFINITY,
            ..ok.clone()
        },
        SynthSpec {
            seconds: 1e12,
            ..ok.clone()
        },
        SynthSpec {
            leads: 0,
            ..ok.clone()
        },
        SynthSpec {
            leads: 4,
            ..ok.clone()
        },
        SynthSpec {
            heart_rate_bpm: 0.0,
            ..ok.clone()
        },
        SynthSpec {
            segments: vec![Segment::new(0.0, 1.0, Rhythm::Vt { bpm: f64::NAN })],
            ..ok.clone()
        },
        SynthSpec {
            events: vec![Event::LeadsOff {
                at_s: 1.0,
                duration_s: 1.0,
                lead: Some(2),
                rail: false,
            }],
            ..ok.clone()
        },
        SynthSpec {
            ectopy: Ectopy {
                pac: 2.0,
                ..Ectopy::default()
            },
            ..ok.clone()
        },
    ];
    for spec in bad {
        assert!(generate(&spec).is_err(), "{spec:?}");
    }
    // Odd but valid scripts: segments outside the record, overlapping, zero-length.
    let s = generate(&SynthSpec {
        segments: vec![
            Segment::new(-10.0, 5.0, Rhythm::Afib { mean_bpm: 100.0 }),
            Segment::new(10.0, 30.0, Rhythm::Afib { mean_bpm: 100.0 }),
            Segment::new(20.0, 0.0, Rhythm::Bigeminy),
            Segment::new(25.0, 100.0, Rhythm::Vt { bpm: 150.0 }),
            Segment::new(500.0, 100.0, Rhythm::Vt { bpm: 150.0 }),
        ],
        ..ok
    })
    .unwrap();
    check_ground_truth(&s);
}

#[test]
fn leads_off_and_noise_are_marked() {
    let s = generate(&short_mix(250.0)).unwrap();
    let noise: Vec<(i64, i8)> = s
        .annotations
        .iter()
        .filter(|a| a.code == codes::NOISE)
        .map(|a| (a.sample, a.subtype))
        .collect();
    // Leads off 36–37.5 s (both leads unreadable: -1), then noisy in both leads (bits 0, 1)
    // until 39.5 s, then clean.
    assert_eq!(noise, vec![(9000, -1), (9375, 3), (9875, 0)]);
    assert!(s.recording.signals[0].samples[9000..9375]
        .iter()
        .all(|&v| v == ADC_MAX));
    assert!(beats(&s).iter().all(|b| !(9000..9375).contains(&b.sample)));
    // One lead off: the other still shows beats, so they stay annotated.
    let spec = SynthSpec {
        events: vec![Event::LeadsOff {
            at_s: 10.0,
            duration_s: 10.0,
            lead: Some(1),
            rail: false,
        }],
        ..SynthSpec::default()
    };
    let s = generate(&spec).unwrap();
    let noise: Vec<i8> = s
        .annotations
        .iter()
        .filter(|a| a.code == codes::NOISE)
        .map(|a| a.subtype)
        .collect();
    assert_eq!(noise, vec![0x20, 0]);
    assert!(s.recording.signals[1].samples[3600..7200]
        .iter()
        .all(|&v| v == 0));
    assert!(beats(&s).iter().any(|b| (3600..7200).contains(&b.sample)));
}

#[test]
fn stress_tachy_reaches_220_with_amplitude_steps() {
    let s = generate(&preset("stress-tachy").unwrap()).unwrap();
    let b = beats(&s);
    let fs = 250.0;
    let rr: Vec<(i64, f64)> = b
        .windows(2)
        .map(|w| (w[1].sample, (w[1].sample - w[0].sample) as f64 / fs))
        .collect();
    let fastest = rr.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
    assert!(60.0 / fastest > 210.0, "fastest {}", 60.0 / fastest);
    // The ×0.2 and ×5 segments: R amplitudes differ by about 25 times.
    let x = &s.recording.signals[0];
    let r_amp = |from: f64, to: f64| {
        let v: Vec<f64> = b
            .iter()
            .filter(|a| (from * fs..to * fs).contains(&(a.sample as f64)))
            .map(|a| x.physical(a.sample as usize))
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let ratio = r_amp(202.0, 218.0) / r_amp(182.0, 198.0);
    assert!((15.0..35.0).contains(&ratio), "amplitude ratio {ratio}");
}

#[test]
fn offline_detector_finds_the_demo_beats() {
    let s = generate(&preset("demo").unwrap()).unwrap();
    let found = detect_qrs(&s.recording, 0, QrsDetectorKind::Offline).unwrap();
    let tol = (0.15 * s.recording.frame_frequency) as i64;
    let reference = beats(&s);
    let matched = reference
        .iter()
        .filter(|b| {
            let i = found.partition_point(|&f| f < b.sample - tol);
            found.get(i).is_some_and(|&f| f <= b.sample + tol)
        })
        .count();
    let se = matched as f64 / reference.len() as f64;
    assert!(se >= 0.99, "Se {matched}/{} = {se}", reference.len());
    assert!(
        found.len() <= reference.len() + reference.len() / 50,
        "{} found",
        found.len()
    );
}
