//! End-to-end tests of the `sinus` binary: outputs, exit codes and error messages.

use serde_json::Value;
use sinus_io::datasets::mitdb_for_tests;
use std::path::Path;

mod common;
use common::{sinus, stderr, stdout};

#[test]
fn info_record_100_matches_the_database() {
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let rec = db.join("100");
    let o = sinus(&["info", rec.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["signals"].as_array().unwrap().len(), 2);
    assert_eq!(v["frame_frequency"], 360.0);
    assert_eq!(v["frames"], 650000);
    assert_eq!(v["annotations"]["beats"], 2273);
    assert_eq!(v["annotations"]["by_symbol"]["N"], 2239);
    assert_eq!(v["annotations"]["by_symbol"]["A"], 33);
    assert_eq!(v["annotations"]["by_symbol"]["V"], 1);
    assert_eq!(v["signals"][0]["description"], "MLII");
    assert_eq!(v["signals"][0]["storage_format"], 212);

    // The same record named by its header file, and the table form.
    let o = sinus(&["info", db.join("100.hea").to_str().unwrap()]);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(text.contains("650000"), "{text}");
    assert!(text.contains("N 2239"), "{text}");
}

#[test]
fn info_without_record_shows_the_demo() {
    let o = sinus(&["info", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["format"], "demo");
    assert!(v["annotations"]["beats"].as_u64().unwrap() > 300);
}

#[test]
fn export_wfdb_round_trips_byte_identical() {
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("copy");
    let o = sinus(&[
        "--quiet",
        "export",
        db.join("100").to_str().unwrap(),
        "--format",
        "wfdb",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let same = |a: &Path, b: &Path| std::fs::read(a).unwrap() == std::fs::read(b).unwrap();
    assert!(same(&dir.path().join("copy.dat"), &db.join("100.dat")));
    assert!(same(&dir.path().join("copy.atr"), &db.join("100.atr")));
    // And the copy reads back with the same summary.
    let o = sinus(&["info", out.to_str().unwrap(), "--json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["annotations"]["beats"], 2273);
}

#[test]
fn export_formats_round_trip_through_csv_and_edf() {
    let dir = tempfile::tempdir().unwrap();
    // Demo → EDF → CSV (digital), then CSV (physical) read back with the demo's sampling rate.
    let edf = dir.path().join("demo.edf");
    let o = sinus(&["export", "--format", "edf", "--out", edf.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = sinus(&["info", edf.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["frames"], 108000);
    assert_eq!(v["frame_frequency"], 360.0);

    let csv = dir.path().join("demo.csv");
    let o = sinus(&[
        "export",
        "--format",
        "csv",
        "--physical",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = sinus(&[
        "export",
        csv.to_str().unwrap(),
        "--format",
        "json",
        "--physical",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let from_csv: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let o = sinus(&["export", "--format", "json", "--physical"]);
    let demo: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let a = from_csv["signals"][0]["samples"].as_array().unwrap();
    let b = demo["signals"][0]["samples"].as_array().unwrap();
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-9);
    }
}

#[test]
fn bad_input_gives_exit_1_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // Missing record.
    let missing = dir.path().join("nope");
    let o = sinus(&["info", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("nope"), "{}", stderr(&o));
    // Truncated .dat.
    let hea = dir.path().join("t.hea");
    std::fs::write(&hea, "t 1 360 1000\nt.dat 16 200 11 0 0 0 0 I\n").unwrap();
    std::fs::write(dir.path().join("t.dat"), vec![0u8; 100]).unwrap();
    let o = sinus(&["info", hea.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("t.dat") && e.contains("truncated"), "{e}");
    // Unknown format.
    std::fs::write(&hea, "t 1 360 10\nt.dat 999 200 11 0 0 0 0 I\n").unwrap();
    let o = sinus(&["info", hea.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("999"), "{}", stderr(&o));
    // Garbage annotation file.
    std::fs::write(&hea, "t 1 360 50\nt.dat 16 200 11 0 0 0 0 I\n").unwrap();
    std::fs::write(dir.path().join("t.atr"), b"\xff\xff\xff").unwrap();
    let o = sinus(&["info", hea.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("t.atr"), "{}", stderr(&o));
    // Not a recording at all.
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"hello").unwrap();
    let o = sinus(&["info", junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("junk.bin"), "{}", stderr(&o));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(sinus(&["export"]).status.code(), Some(2));
    assert_eq!(sinus(&["no-such-command"]).status.code(), Some(2));
    assert_eq!(sinus(&["export", "--format", "xml"]).status.code(), Some(2));
}

#[test]
fn export_wfdb_widens_to_format_32_when_samples_need_it() {
    // pyedflib's default calibration has a baseline of -0.5, which sinus-io keeps exact by
    // scaling the digital values by 2^k: they no longer fit 16 bits.
    let edf =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../sinus-io/tests/data/pyedflib_plus.edf");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w");
    let o = sinus(&[
        "export",
        edf.to_str().unwrap(),
        "--format",
        "wfdb",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let header = std::fs::read_to_string(dir.path().join("w.hea")).unwrap();
    assert!(
        header.lines().nth(1).unwrap().starts_with("w.dat 32"),
        "{header}"
    );
    let json = |args: &[&str]| -> Value { serde_json::from_str(&stdout(&sinus(args))).unwrap() };
    let a = json(&[
        "export",
        edf.to_str().unwrap(),
        "--format",
        "json",
        "--physical",
    ]);
    let b = json(&[
        "export",
        out.to_str().unwrap(),
        "--format",
        "json",
        "--physical",
    ]);
    assert_eq!(a["signals"][0]["samples"], b["signals"][0]["samples"]);
}

#[test]
fn classify_demo_with_the_shipped_model() {
    let o = sinus(&["--quiet", "classify"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let beats = v["beats"].as_array().unwrap();
    // The demo has 362 labelled beats (N 338, A 8, V 16): the detector finds them and the
    // shipped model calls most of them normal and finds ventricular ones.
    assert!((355..=370).contains(&beats.len()), "{}", beats.len());
    let n = v["counts"]["N"].as_u64().unwrap();
    let ve = v["counts"]["V"].as_u64().unwrap();
    assert!(n >= 320 && (8..=30).contains(&ve), "{}", v["counts"]);
    for b in beats {
        let p = b["probability"].as_f64().unwrap();
        assert!((0.2..=1.0).contains(&p));
    }
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("beats.csv");
    let o = sinus(&[
        "--quiet",
        "classify",
        "-f",
        "csv",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("sample,time_s,class,probability,p_N,p_S,p_V,p_F,p_Q\n"));
    assert_eq!(text.lines().count(), beats.len() + 1);
    let ann = dir.path().join("demo.cls");
    let o = sinus(&[
        "--quiet",
        "classify",
        "-f",
        "wfdb",
        "--out",
        ann.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let set = sinus_io::wfdb::annotation::read_annotations(&ann, None).unwrap();
    assert_eq!(set.annotations.len(), beats.len());
}

#[test]
fn explain_draws_a_beat_and_rejects_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("beat.png");
    let o = sinus(&[
        "--quiet",
        "explain",
        "--beat",
        "5",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000);
    let o = sinus(&[
        "--quiet",
        "explain",
        "--beat",
        "100000",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--beat 100000"), "{}", stderr(&o));
}

#[test]
fn classifier_commands_name_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("model.snnm");
    std::fs::write(&bogus, b"SNNM not really a model").unwrap();
    let o = sinus(&["--quiet", "classify", "--model", bogus.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("model.snnm"), "{}", stderr(&o));
    let o = sinus(&[
        "--quiet",
        "eval",
        "beats",
        "--db",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains(".hea"), "{}", stderr(&o));
}

#[test]
fn synth_writes_a_record_that_reads_back() {
    let o = sinus(&["synth", "--list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("holter-24h"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("new");
    let o = sinus(&[
        "-q",
        "synth",
        "--preset",
        "af",
        "--seconds",
        "400",
        "--fs",
        "250",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("(AFIB"), "{}", stdout(&o));
    let o = sinus(&["info", out.join("af").to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["frame_frequency"], 250.0);
    assert_eq!(v["frames"], 100000);
    assert!(v["annotations"]["beats"].as_u64().unwrap() > 100);

    // Errors: bad rate, unknown preset, a file in the way of the directory.
    let o = sinus(&["synth", "--fs", "50", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("sampling rate"), "{}", stderr(&o));
    let o = sinus(&["synth", "--preset", "nope", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("unknown preset"), "{}", stderr(&o));
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let o = sinus(&[
        "synth",
        "--seconds",
        "5",
        "--out",
        file.join("sub").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot create"), "{}", stderr(&o));
}
