//! `sinus eval qrs` with `--fs` and `--strip-seconds`: resampled detection scored at the
//! record's rate, and short strips each detected alone.

use serde_json::Value;
use sinus_io::datasets::mitdb_for_tests;
use sinus_io::wfdb::annotation::read_annotations;

mod common;
use common::{sinus, stderr, stdout};

/// `sinus eval qrs --json` on MIT-BIH records `records` with `extra` arguments.
fn eval_qrs(db: &std::path::Path, records: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "--quiet",
        "eval",
        "qrs",
        "--db",
        db.to_str().unwrap(),
        "--records",
        records,
        "--json",
    ];
    args.extend_from_slice(extra);
    let o = sinus(&args);
    assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

/// (TP, FN, FP) of each record.
fn counts(v: &Value) -> Vec<(u64, u64, u64)> {
    v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = |k: &str| r[k].as_u64().unwrap();
            (n("tp"), n("fn"), n("fp"))
        })
        .collect()
}

#[test]
fn streaming_at_250_hz_is_streaming_250() {
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let fixed = eval_qrs(&db, "105,108", &["--detector", "streaming-250"]);
    let chosen = eval_qrs(&db, "105,108", &["--detector", "streaming", "--fs", "250"]);
    assert_eq!(counts(&fixed), counts(&chosen));
    assert_eq!(fixed["fs_hz"], 250.0);
    assert_eq!(chosen["fs_hz"], 250.0);
    assert!(chosen["strip_seconds"].is_null());
    // At the record's rate: reported as such, and not the resampled figures' rate.
    let native = eval_qrs(&db, "105", &["--detector", "streaming"]);
    assert_eq!(native["fs_hz"], 360.0);
}

#[test]
fn strips_score_the_beats_inside_them() {
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    // Record 100: 650 000 samples at 360 Hz, 180 whole strips of 10 s (the last 5.6 s dropped);
    // no VF, so every reference beat is a scored beat. A strip's scored interval leaves out 54
    // samples (0.15 s) at each edge.
    let reference = read_annotations(db.join("100.atr"), Some(360.0)).unwrap();
    let (strip, edge) = (3600i64, 54i64);
    let inside = reference
        .annotations
        .iter()
        .filter(|a| a.is_beat() && a.sample < 180 * strip)
        .filter(|a| (edge..strip - edge).contains(&(a.sample % strip)))
        .count() as u64;
    assert!(inside > 2150, "{inside}");
    for extra in [
        &["--detector", "offline"][..],
        &["--detector", "streaming", "--fs", "128"][..],
    ] {
        let mut args = vec!["--strip-seconds", "10"];
        args.extend_from_slice(extra);
        let v = eval_qrs(&db, "100", &args);
        assert_eq!(v["strips"], 180, "{extra:?}");
        assert_eq!(v["strip_seconds"], 10.0);
        let (tp, fn_, fp) = counts(&v)[0];
        // Every beat inside a scored interval is detected or missed; a pair straddling the
        // end of one may add an edge beat (at most one per strip), as in bxb.
        assert!(
            (inside..=inside + 180).contains(&(tp + fn_)),
            "{extra:?}: {tp} + {fn_} vs {inside}"
        );
        // Record 100 is clean: a fresh detector on each strip still finds its beats.
        assert!(fn_ + fp < 20, "{extra:?}: FN {fn_} FP {fp}");
        let gross = &v["gross"];
        assert_eq!(
            (gross["tp"].as_u64(), gross["fn"].as_u64()),
            (Some(tp), Some(fn_))
        );
    }
}

#[test]
fn bad_strip_length_or_rate_is_a_clear_error() {
    // Checked before any record is read: no database needed.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().to_str().unwrap();
    for (flag, value) in [
        ("--strip-seconds", "0"),
        ("--strip-seconds", "-10"),
        ("--strip-seconds", "NaN"),
        ("--strip-seconds", "inf"),
        ("--strip-seconds", "0.2"),
        ("--fs", "0"),
        ("--fs", "-250"),
        ("--fs", "NaN"),
    ] {
        let o = sinus(&["eval", "qrs", "--db", db, flag, value]);
        assert_eq!(o.status.code(), Some(1), "{flag} {value}");
        let e = stderr(&o);
        assert!(e.contains(flag) && e.contains(value), "{flag} {value}: {e}");
    }
    // The same check, the same message, for the other evaluations that resample.
    for what in ["beats", "rhythm"] {
        for value in ["-3", "0"] {
            let o = sinus(&["eval", what, "--db", db, "--fs", value]);
            assert_eq!(o.status.code(), Some(1), "{what} --fs {value}");
            let e = stderr(&o);
            assert!(
                e.contains("--fs") && e.contains(value),
                "{what} {value}: {e}"
            );
        }
    }
    let o = sinus(&[
        "eval",
        "qrs",
        "--db",
        db,
        "--detector",
        "streaming-250",
        "--fs",
        "128",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("streaming-250"), "{}", stderr(&o));
    // Strips have no learning period, and an annotator file is not a detector to run.
    for args in [
        &["--strip-seconds", "10", "--skip", "300"][..],
        &["--test-annotator", "qrs", "--fs", "250"][..],
    ] {
        let mut all = vec!["eval", "qrs", "--db", db];
        all.extend_from_slice(args);
        assert_eq!(sinus(&all).status.code(), Some(2), "{args:?}");
    }
}
