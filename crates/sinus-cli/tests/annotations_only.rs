//! `sinus info` and `sinus export` on WFDB records whose signal files are absent (headers and
//! annotations only, as LTAFDB is often kept).

use serde_json::Value;
use sinus_io::datasets::ltafdb_for_tests;
use sinus_io::wfdb::annotation::{codes, write_annotations, Annotation, EncodeOptions};
use std::path::Path;

mod common;
use common::{sinus, stderr, stdout};

/// `dir/rec`: a 128 Hz header naming the absent `rec.dat` (CRLF line ends, as LTAFDB's), and
/// an `atr` file with a rhythm change, two beats and one annotation past the end.
fn synthetic(dir: &Path) -> String {
    std::fs::write(
        dir.join("rec.hea"),
        "rec 2 128 1000 09:30:00 31/01/2003\r\nrec.dat 16 166.945/mV 0 0 0 0 0 ECG\r\nrec.dat 16 173.01/mV 0 0 0 0 0 ECG\r\n",
    )
    .unwrap();
    let mut rhythm = Annotation::new(10, codes::RHYTHM);
    rhythm.aux = Some(b"(AFIB\0".to_vec());
    let anns = [
        rhythm,
        Annotation::new(20, codes::NORMAL),
        Annotation::new(500, codes::PVC),
        Annotation::new(1003, codes::NORMAL),
    ];
    write_annotations(dir.join("rec.atr"), &anns, &EncodeOptions::default()).unwrap();
    dir.join("rec").to_str().unwrap().to_string()
}

#[test]
fn info_describes_a_header_without_its_signal_file() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = synthetic(tmp.path());
    let o = sinus(&["info", &rec]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("signal file rec.dat absent: header and annotations only"),
        "{text}"
    );
    assert!(text.contains("128 Hz"), "{text}");
    assert!(text.contains("166.945"), "{text}");
    assert!(text.contains("annotations atr: 4 (3 beats)"), "{text}");
    // The annotation past the end of the signal is a warning, not an error.
    assert!(
        stderr(&o).contains("at or after the end of the signal"),
        "{}",
        stderr(&o)
    );

    let o = sinus(&["info", &rec, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["samples_read"], false);
    assert_eq!(v["frames"], 1000);
    assert_eq!(v["signals"].as_array().unwrap().len(), 2);
    assert!(v["signals"][0]["samples"].is_null());
    assert_eq!(v["annotations"]["by_symbol"]["V"], 1);
    assert!(v["absent_signal_files"][0]
        .as_str()
        .unwrap()
        .ends_with("rec.dat"));
}

#[test]
fn export_annotations_without_the_signal_file() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = synthetic(tmp.path());

    // Samples asked for: a clear error naming the absent file and the way out.
    let o = sinus(&["export", &rec, "--format", "csv"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("rec.dat absent"), "{err}");
    assert!(err.contains("--annotations-only"), "{err}");

    // JSON: header fields and annotations, no samples.
    let o = sinus(&[
        "export",
        &rec,
        "-a",
        "atr",
        "--format",
        "json",
        "--annotations-only",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["annotations"].as_array().unwrap().len(), 4);
    assert_eq!(v["annotations"][0]["aux"], "(AFIB\u{0}");
    assert_eq!(v["frame_frequency"], 128.0);
    assert!(v["signals"][0].get("samples").is_none());

    // WFDB: the annotation file alone, byte-identical to the source.
    let out = tmp.path().join("out/copy");
    let o = sinus(&[
        "export",
        &rec,
        "--format",
        "wfdb",
        "--annotations-only",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(tmp.path().join("out/copy.atr")).unwrap(),
        std::fs::read(tmp.path().join("rec.atr")).unwrap()
    );
    assert!(!tmp.path().join("out/copy.hea").exists());

    // Csv holds samples only: refused with --annotations-only too.
    let o = sinus(&["export", &rec, "--format", "csv", "--annotations-only"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("json or wfdb"), "{}", stderr(&o));
}

#[test]
fn ltafdb_record_30_without_its_dat_file() {
    let Some(db) = ltafdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    // A temporary copy of the header and annotations (never the shared data itself).
    let tmp = tempfile::tempdir().unwrap();
    for ext in ["hea", "atr", "qrs"] {
        std::fs::copy(
            db.join(format!("30.{ext}")),
            tmp.path().join(format!("30.{ext}")),
        )
        .unwrap();
    }
    let rec = tmp.path().join("30");
    let rec = rec.to_str().unwrap();
    let o = sinus(&["info", rec, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["frames"], 2_826_240);
    assert!(v["annotations"]["by_symbol"]["+"].as_u64().unwrap() > 0);
    // One reference annotation lies past the end of the signal: a warning only (in the JSON).
    let warnings = v["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .starts_with("1 atr annotation(s) at or after the end")),
        "{warnings:?}"
    );

    let o = sinus(&["info", rec, "-a", "qrs"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("annotations qrs:"), "{}", stdout(&o));
}
