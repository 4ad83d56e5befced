//! Regression tests for issue 16 ("Formats: defects found by an independent check") through the
//! `sinus` binary: what `info` and `export` report and write.

use serde_json::Value;
use sinus_io::datasets::mitdb_for_tests;
use sinus_io::wfdb::annotation::{encode_annotations, Annotation, EncodeOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sinus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sinus"))
        .args(args)
        .output()
        .expect("run sinus")
}

fn ok_stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&ok_stdout(o)).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The EDF+ fixture: two signals with non-integer baselines, two annotations.
fn edf_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sinus-io/tests/data/pyedflib_plus.edf")
}

/// A 3-frame format-16 record `u` whose signal line gives no gain.
fn uncalibrated(dir: &Path) -> PathBuf {
    let bytes: Vec<u8> = [10i16, 20, 30]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    std::fs::write(dir.join("u.dat"), bytes).unwrap();
    std::fs::write(dir.join("u.hea"), "u 1 100 3\nu.dat 16\n").unwrap();
    dir.join("u")
}

#[test]
fn item1_uncalibrated_gain_reported_and_written_as_used() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = uncalibrated(tmp.path());
    let v = json(&sinus(&["info", s(&rec), "--json"]));
    assert_eq!(v["signals"][0]["gain"], 200.0);
    assert_eq!(v["signals"][0]["calibrated"], false);
    let table = ok_stdout(&sinus(&["info", s(&rec)]));
    assert!(
        table.contains("200*") && table.contains("uncalibrated"),
        "{table}"
    );
    let v = json(&sinus(&[
        "export",
        s(&rec),
        "--format",
        "json",
        "--physical",
    ]));
    assert_eq!(v["signals"][0]["gain"], 200.0);
    assert_eq!(v["signals"][0]["samples"][0], 0.05);
    // A missing description is empty, not "record u, signal 0".
    assert_eq!(v["signals"][0]["description"], "");
    let out = tmp.path().join("o/u2");
    ok_stdout(&sinus(&[
        "export",
        s(&rec),
        "--format",
        "wfdb",
        "--out",
        s(&out),
    ]));
    let hea = std::fs::read_to_string(tmp.path().join("o/u2.hea")).unwrap();
    assert!(hea.lines().nth(1).unwrap().contains(" 200(0)"), "{hea}");
}

#[test]
fn item2_outside_paths_need_the_option() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    std::fs::create_dir(&db).unwrap();
    let bytes: Vec<u8> = [1i16, 2].iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(tmp.path().join("x.dat"), bytes).unwrap();
    std::fs::write(db.join("r.hea"), "r 1 100 2\n../x.dat 16 200\n").unwrap();
    let rec = db.join("r");
    for cmd in ["info", "export"] {
        let mut args = vec![cmd, s(&rec)];
        if cmd == "export" {
            args.extend(["--format", "json"]);
        }
        let o = sinus(&args);
        assert!(!o.status.success(), "{cmd}");
        let e = stderr(&o);
        assert!(
            e.contains("r.hea") && e.contains("--allow-outside-paths"),
            "{e}"
        );
        args.push("--allow-outside-paths");
        ok_stdout(&sinus(&args));
    }
}

#[test]
fn item3_annotation_time_resolution_in_json() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes: Vec<u8> = (0..1000i16).flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(tmp.path().join("t.dat"), bytes).unwrap();
    std::fs::write(
        tmp.path().join("t.hea"),
        "t 1 125 1000\nt.dat 16 200 12 0 0\n",
    )
    .unwrap();
    let anns: Vec<Annotation> = [1000i64, 1002]
        .iter()
        .map(|&t| Annotation::new(t, 1))
        .collect();
    let options = EncodeOptions {
        time_resolution: Some(500.0),
        ..EncodeOptions::default()
    };
    std::fs::write(
        tmp.path().join("t.atr"),
        encode_annotations(&anns, &options).unwrap(),
    )
    .unwrap();
    let rec = tmp.path().join("t");
    let v = json(&sinus(&["info", s(&rec), "--json"]));
    assert_eq!(v["annotations"]["time_resolution"], 500.0);
    assert_eq!(v["annotations"]["times_converted"], true);
    assert!(v["annotations"]["times"]
        .as_str()
        .unwrap()
        .contains("125 Hz"));
    let table = ok_stdout(&sinus(&["info", s(&rec)]));
    assert!(table.contains("500 ticks per second"), "{table}");
    let v = json(&sinus(&["export", s(&rec), "--format", "json"]));
    assert_eq!(v["annotation_time_resolution"], 500.0);
    assert_eq!(v["annotation_times_converted"], true);
    assert_eq!(v["annotations"][0]["sample"], 250);
    assert_eq!(v["annotations"][0]["original_sample"], 1000);
    assert_eq!(v["annotations"][1]["sample"], 251);
    assert_eq!(v["annotations"][1]["original_sample"], 1002);
}

#[test]
fn item5_edf_plus_annotations_exported_in_json() {
    let v = json(&sinus(&["export", s(&edf_fixture()), "--format", "json"]));
    assert_eq!(v["annotator"], "EDF Annotations");
    let anns = v["annotations"].as_array().unwrap();
    assert_eq!(anns.len(), 2);
    assert_eq!(anns[0]["text"], "beat");
    assert_eq!(anns[0]["onset"], 0.5);
    assert_eq!(anns[0]["duration"], 0.2);
    assert_eq!(anns[0]["sample"], 5);
    assert_eq!(anns[1]["text"], "Ünïcode");
    // And they survive an EDF export.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("a.edf");
    ok_stdout(&sinus(&[
        "export",
        s(&edf_fixture()),
        "--format",
        "edf",
        "--out",
        s(&out),
    ]));
    let v = json(&sinus(&["export", s(&out), "--format", "json"]));
    assert_eq!(v["annotations"].as_array().unwrap().len(), 2);
}

#[test]
fn item6_edf_export_keeps_the_length() {
    let tmp = tempfile::tempdir().unwrap();
    // 1001 frames at 360 Hz: no exact data record length divides them.
    let bytes: Vec<u8> = (0..1001i16).flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(tmp.path().join("l.dat"), bytes).unwrap();
    std::fs::write(
        tmp.path().join("l.hea"),
        "l 1 360 1001\nl.dat 16 200 12 0 0\n",
    )
    .unwrap();
    let out = tmp.path().join("l.edf");
    ok_stdout(&sinus(&[
        "export",
        s(&tmp.path().join("l")),
        "--format",
        "edf",
        "--out",
        s(&out),
    ]));
    let v = json(&sinus(&["info", s(&out), "--json"]));
    assert_eq!(v["frames"], 1001);
    assert_eq!(v["signals"][0]["missing_samples"], 0);
    // MIT-BIH 100 comes back 650000 frames long, not 650160.
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let out = tmp.path().join("100.edf");
    let o = sinus(&[
        "export",
        s(&db.join("100")),
        "--format",
        "edf",
        "--out",
        s(&out),
    ]);
    ok_stdout(&o);
    assert!(!stderr(&o).contains("padded"), "{}", stderr(&o));
    let v = json(&sinus(&["info", s(&out), "--json"]));
    assert_eq!(v["frames"], 650000);
    assert_eq!(v["signals"][0]["missing_samples"], 0);
}

#[test]
fn item7_edf_digital_scaling_is_stated() {
    let v = json(&sinus(&["info", s(&edf_fixture()), "--json"]));
    assert_eq!(v["signals"][1]["digital_scale"], 2);
    assert_eq!(v["signals"][1]["adc_resolution"], 17);
    let table = ok_stdout(&sinus(&["info", s(&edf_fixture())]));
    assert!(table.contains("samples × 2"), "{table}");
    // WFDB export: a format that holds the declared resolution, and a note in the header.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("e");
    ok_stdout(&sinus(&[
        "export",
        s(&edf_fixture()),
        "--format",
        "wfdb",
        "--out",
        s(&out),
    ]));
    let hea = std::fs::read_to_string(tmp.path().join("e.hea")).unwrap();
    let sig1 = hea.lines().nth(2).unwrap();
    assert!(
        sig1.starts_with("e.dat 32 ") || sig1.starts_with("e.dat 24 "),
        "{hea}"
    );
    assert!(
        hea.contains("# sinus: signal 1 (ECG II) stores the EDF file's samples x 2"),
        "{hea}"
    );
}

#[test]
fn item8_out_name_with_a_dot_says_what_is_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = uncalibrated(tmp.path());
    let out = tmp.path().join("x/foo.edf_rt");
    let o = sinus(&["export", s(&rec), "--format", "wfdb", "--out", s(&out)]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("letters, digits, '_' and '-'") && e.contains("foo_edf_rt"),
        "{e}"
    );
}
