//! `sinus analyze` and `sinus eval rhythm` end to end: outputs, exit codes, error messages.

use serde_json::Value;
use sinus_io::datasets::mitdb_for_tests;

mod common;
use common::{sinus, stderr, stdout};

#[test]
fn analyze_without_argument_runs_the_demo_and_writes_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let o = sinus(&["--quiet", "analyze", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("heart rate"), "{text}");
    assert!(text.contains("rhythm episodes"), "{text}");
    for file in [
        "demo.json",
        "demo.beats.csv",
        "demo.episodes.csv",
        "demo.html",
        "demo.sinus",
    ] {
        assert!(out.join(file).is_file(), "{file} not written");
    }
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("demo.json")).unwrap()).unwrap();
    assert_eq!(v["schema"], "sinus.analysis");
    let kinds: Vec<&str> = v["episodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    // The demo holds every rhythm; the analysis must find at least these.
    for want in ["VT", "bigeminy", "pause", "brady"] {
        assert!(kinds.contains(&want), "{want} missing from {kinds:?}");
    }
    // KNOWN SHORTFALL (issue 8, README "Beat classification"): the causal classifier calls
    // many of the demo's AF beats S, and the AF detector leaves out intervals next to ectopic
    // beats, so the demo's AF stretch (about 130–245 s) comes out as SVT runs instead of AF.
    // Until that is fixed the stretch must at least not pass for sinus rhythm.
    let af_or_svt_in_stretch = v["episodes"].as_array().unwrap().iter().any(|e| {
        let (k, a, b) = (
            e["kind"].as_str().unwrap(),
            e["start_s"].as_f64().unwrap(),
            e["end_s"].as_f64().unwrap(),
        );
        matches!(k, "AF" | "SVT") && a < 245.0 && b > 130.0
    });
    assert!(af_or_svt_in_stretch, "nothing in the AF stretch: {kinds:?}");
    // The WFDB annotations read back.
    let ann =
        sinus_io::wfdb::annotation::read_annotations(out.join("demo.sinus"), Some(360.0)).unwrap();
    assert!(ann.annotations.iter().filter(|a| a.is_beat()).count() > 800);
    // Rhythm changes are written too ("(AFIB" is missing while the shortfall above lasts).
    assert!(ann
        .annotations
        .iter()
        .any(|a| matches!(a.aux_text().as_deref(), Some("(AFIB" | "(SVTA"))));
}

#[test]
fn analyze_json_on_stdout() {
    let o = sinus(&["--quiet", "analyze", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert!(v["beats"].as_array().unwrap().len() > 800);
    assert!(v["hrv"]["time"]["sdnn_ms"].as_f64().is_some());
}

#[test]
fn analyze_a_directory_reports_each_record_and_names_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    for (name, preset) in [("one", "normal"), ("two", "brady")] {
        let o = sinus(&[
            "--quiet",
            "synth",
            "--preset",
            preset,
            "--seconds",
            "120",
            "--name",
            name,
            "--out",
            dir.path().to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let out = dir.path().join("out");
    let o = sinus(&[
        "--quiet",
        "analyze",
        dir.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("one") && text.contains("two"), "{text}");
    assert!(text.contains("2 recording(s) analysed, 0 failed"), "{text}");
    assert!(out.join("one.html").is_file() && out.join("two.json").is_file());

    // A broken header in the directory: the others are still analysed, the exit status is 1
    // and the message names the file.
    std::fs::write(
        dir.path().join("bad.hea"),
        "bad 1 360 100\nbad.dat 999 200 12 0 0 0 0 x\n",
    )
    .unwrap();
    let o = sinus(&["--quiet", "analyze", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("bad"), "{}", stdout(&o));
    assert!(stderr(&o).contains("1 of 3"), "{}", stderr(&o));
}

#[test]
fn analyze_bad_input_exits_1_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing");
    let o = sinus(&["analyze", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("nothing"), "{}", stderr(&o));
    let csv = dir.path().join("x.csv");
    std::fs::write(&csv, "a,b\n1,2\nfoo,bar\n").unwrap();
    let o = sinus(&["analyze", csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stderr(&o).contains("x.csv"), "{}", stderr(&o));
}

#[test]
fn eval_rhythm_on_beats_alone_and_end_to_end() {
    // A synthetic database: the generator's ground truth is the reference.
    let dir = tempfile::tempdir().unwrap();
    for (name, preset) in [("af", "af"), ("vt", "vt")] {
        let o = sinus(&[
            "--quiet",
            "synth",
            "--preset",
            preset,
            "--name",
            name,
            "--out",
            dir.path().to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // From the reference beats: AF found almost exactly.
    let o = sinus(&[
        "--quiet",
        "eval",
        "rhythm",
        "--db",
        dir.path().to_str().unwrap(),
        "--beats",
        "atr",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let af = v["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["rhythm"] == "AF")
        .expect("AF row");
    assert!(af["gross"]["duration_se"].as_f64().unwrap() > 90.0, "{af}");
    // The `af` preset holds flutter with variable conduction, which `epicmp` does not count as
    // AF but our AF/flutter detector reports: judged against AF+AFL.
    let b = &v["af_afl_beats"]["gross"];
    assert!(b["se"].as_f64().unwrap() > 95.0, "{b}");
    assert!(b["sp"].as_f64().unwrap() > 93.0, "{b}");
    // End to end, with the table.
    let o = sinus(&[
        "--quiet",
        "eval",
        "rhythm",
        "--db",
        dir.path().to_str().unwrap(),
        "--fs",
        "250",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("beat by beat"), "{}", stdout(&o));
    // A database that is not there.
    let o = sinus(&[
        "eval",
        "rhythm",
        "--db",
        "/nonexistent/db",
        "--beats",
        "atr",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/nonexistent/db"), "{}", stderr(&o));
}

#[test]
fn eval_rhythm_mitdb_reference_beats_floor() {
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let o = sinus(&[
        "--quiet",
        "eval",
        "rhythm",
        "--db",
        db.to_str().unwrap(),
        "--beats",
        "atr",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let b = &v["af_beats"]["gross"];
    assert!(b["se"].as_f64().unwrap() > 90.0, "{b}");
    assert!(b["sp"].as_f64().unwrap() > 95.0, "{b}");
}
