//! The whole analysis on synthetic recordings with known truth, and on bad input: a report that
//! says what it could not do, never a crash or a made-up rhythm.

use sinus_analyze::model::Analysis;
use sinus_analyze::{analyze, html, output, AnalyzeOptions, Input};
use sinus_io::{Recording, Signal, MISSING};
use sinus_ml::infer::Classifier;
use sinus_signal::synth::{generate, preset, SynthSpec};
use std::sync::OnceLock;

fn classifier() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| sinus_ml::shipped::classifier().expect("shipped model loads"))
}

fn run(rec: &Recording) -> (Analysis, sinus_analyze::Details) {
    analyze(
        Input {
            recording: rec,
            path: None,
            format: "test",
            reference: None,
        },
        classifier(),
        &AnalyzeOptions::default(),
    )
    .expect("analysis succeeds")
}

fn recording(fs: f64, leads: Vec<Vec<i32>>) -> Recording {
    let frames = leads.first().map_or(0, |l| l.len()) as u64;
    Recording {
        name: "t".into(),
        frame_frequency: fs,
        frames,
        base_datetime: None,
        signals: leads
            .into_iter()
            .enumerate()
            .map(|(i, samples)| Signal {
                description: format!("lead {i}"),
                units: "mV".into(),
                gain: 200.0,
                baseline: 0,
                adc_resolution: 12,
                adc_zero: 0,
                samples_per_frame: 1,
                samples,
            })
            .collect(),
        info: Vec::new(),
    }
}

fn kinds(a: &Analysis) -> Vec<&str> {
    a.episodes.iter().map(|e| e.kind.as_str()).collect()
}

/// Every output of an analysis can be produced (and the HTML is self-contained).
fn check_outputs(a: &Analysis, d: &sinus_analyze::Details) {
    let json = output::to_json(a);
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(v["schema"], "sinus.analysis");
    assert_eq!(v["schema_version"], 1);
    for key in [
        "record",
        "settings",
        "summary",
        "episodes",
        "signal_quality",
        "heart_rate_trend",
        "events",
        "limitations",
        "beats",
    ] {
        assert!(v.get(key).is_some(), "JSON lacks {key}");
    }
    let _ = output::summary_text(a);
    let _ = output::beats_csv(a);
    let _ = output::episodes_csv(a);
    let anns = output::annotations(a);
    assert!(anns.windows(2).all(|w| w[0].sample <= w[1].sample));
    let page = html::report(a, d, None);
    assert!(page.starts_with("<!DOCTYPE html>"));
    for external in ["http://", "https://", "<script", "src=\""] {
        assert!(!page.contains(external), "report refers to {external}");
    }
}

#[test]
fn demo_preset_rhythms_are_found() {
    let spec = preset("demo").expect("demo preset");
    let synth = generate(&spec).expect("generates");
    let (a, d) = run(&synth.recording);
    check_outputs(&a, &d);
    let k = kinds(&a);
    for want in ["VT", "bigeminy", "pause"] {
        assert!(k.contains(&want), "no {want} episode in {k:?}");
    }
    // Every beat found within 150 ms of a true beat, and the other way round (≥ 99 %).
    let truth: Vec<i64> = synth
        .annotations
        .iter()
        .filter(|x| x.is_beat())
        .map(|x| x.sample)
        .collect();
    let tol = (0.15 * spec.fs) as i64;
    let found = a
        .beats
        .iter()
        .filter(|b| {
            let i = truth.partition_point(|&t| t < b.sample as i64 - tol);
            truth
                .get(i)
                .is_some_and(|&t| (t - b.sample as i64).abs() <= tol)
        })
        .count();
    assert!(
        found as f64 >= 0.99 * truth.len() as f64,
        "{found}/{}",
        truth.len()
    );
    assert!(!a.events.is_empty());
}

#[test]
fn empty_and_very_short_records_say_so() {
    let (a, d) = run(&recording(360.0, vec![vec![]]));
    assert!(a.beats.is_empty());
    assert!(
        a.limitations.iter().any(|l| l.contains("no beats")),
        "{:?}",
        a.limitations
    );
    assert!(a.hrv.is_none());
    check_outputs(&a, &d);

    let spec = SynthSpec {
        seconds: 2.0,
        ..SynthSpec::default()
    };
    let synth = generate(&spec).unwrap();
    let (a, d) = run(&synth.recording);
    assert!(a.beats.len() <= 3);
    assert!(a.episodes.iter().all(|e| e.kind != "AF"));
    // No AF is 0 %, not "-0.0 %" (an empty sum is negative zero).
    assert!(a.summary.af_burden_percent == 0.0 && a.summary.af_burden_percent.is_sign_positive());
    assert!(!a.limitations.is_empty());
    check_outputs(&a, &d);
}

#[test]
fn flat_line_is_leads_off_not_asystole() {
    let rec = recording(250.0, vec![vec![7; 250 * 120], vec![0; 250 * 120]]);
    let (a, d) = run(&rec);
    assert!(a.beats.len() <= 2, "{} beats on a flat line", a.beats.len());
    for e in &a.episodes {
        assert_eq!(e.kind, "noise", "made-up {} on a flat line", e.kind);
    }
    assert!(a.summary.leads_off_s > 100.0);
    check_outputs(&a, &d);
}

#[test]
fn white_noise_makes_no_rhythm() {
    let mut s = 99u64;
    let noise: Vec<i32> = (0..360 * 120)
        .map(|_| {
            let mut g = 0.0;
            for _ in 0..12 {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                g += (s >> 11) as f64 / (1u64 << 53) as f64;
            }
            ((g - 6.0) * 100.0) as i32
        })
        .collect();
    let (a, d) = run(&recording(360.0, vec![noise]));
    assert!(
        a.episodes.iter().all(|e| e.kind == "noise"),
        "rhythm made up from noise: {:?}",
        kinds(&a)
    );
    assert!(
        a.summary.noisy_s > 60.0,
        "noise not reported: {:?}",
        a.summary
    );
    check_outputs(&a, &d);
}

#[test]
fn leads_off_for_minutes_in_a_normal_record() {
    let spec = SynthSpec {
        seconds: 600.0,
        fs: 250.0,
        ..SynthSpec::default()
    };
    let mut rec = generate(&spec).unwrap().recording;
    // Minutes 3–6: every lead flat.
    for s in &mut rec.signals {
        for v in &mut s.samples[250 * 180..250 * 360] {
            *v = 12;
        }
    }
    let (a, d) = run(&rec);
    for e in &a.episodes {
        assert!(
            !matches!(e.kind.as_str(), "asystole" | "pause" | "AF"),
            "made-up {} at {:.0}–{:.0} s",
            e.kind,
            e.start_s,
            e.end_s
        );
    }
    assert!(a.summary.leads_off_s >= 170.0, "{}", a.summary.leads_off_s);
    check_outputs(&a, &d);
}

#[test]
fn gaps_of_missing_samples_do_not_crash() {
    let spec = SynthSpec {
        seconds: 120.0,
        ..SynthSpec::default()
    };
    let mut rec = generate(&spec).unwrap().recording;
    for s in &mut rec.signals {
        for v in &mut s.samples[360 * 30..360 * 40] {
            *v = MISSING;
        }
        s.samples[360 * 70] = MISSING;
    }
    let (a, d) = run(&rec);
    assert!(a.beats.len() > 100);
    assert!(a.summary.leads_off_s >= 9.0);
    check_outputs(&a, &d);
}

#[test]
fn any_rate_from_100_to_1000_hz() {
    for fs in [100.0, 128.0, 250.0, 500.0, 1000.0] {
        let spec = SynthSpec {
            seconds: 60.0,
            fs,
            ..SynthSpec::default()
        };
        let synth = generate(&spec).unwrap();
        let truth = synth.annotations.iter().filter(|x| x.is_beat()).count();
        let (a, d) = run(&synth.recording);
        let n = a.beats.len();
        assert!(
            (n as i64 - truth as i64).abs() <= 2,
            "{fs} Hz: {n} beats found, {truth} true"
        );
        let mean = a.summary.heart_rate_mean_bpm.unwrap();
        assert!((60.0..80.0).contains(&mean), "{fs} Hz: mean rate {mean}");
        assert_eq!(a.settings.resampled_to_hz.is_some(), fs < 125.0);
        check_outputs(&a, &d);
    }
}

#[test]
fn bad_rates_and_layouts_are_errors_not_panics() {
    let rec = recording(0.0, vec![vec![0; 10]]);
    assert!(analyze(
        Input {
            recording: &rec,
            path: None,
            format: "t",
            reference: None
        },
        classifier(),
        &AnalyzeOptions::default()
    )
    .is_err());
    let rec = recording(250.0, vec![]);
    assert!(analyze(
        Input {
            recording: &rec,
            path: None,
            format: "t",
            reference: None
        },
        classifier(),
        &AnalyzeOptions::default()
    )
    .is_err());
}
