//! The Kaggle 187-value beats built from MIT-BIH records (skipped without the database).

use sinus_io::beat_csv::{read_beat_csv, BeatCsvOptions, BEAT_LEN};
use sinus_io::datasets::mitdb_for_tests;
use sinus_io::wfdb::annotation::read_annotations;
use sinus_ml::beat_csv::{build, label_counts, write_csv, BeatCsvRow};
use sinus_ml::dataset::AamiClass;
use std::path::Path;

/// AAMI class counts of a record's reference annotations.
fn reference_counts(db: &Path, record: &str) -> [usize; 5] {
    let set = read_annotations(db.join(format!("{record}.atr")), Some(360.0)).unwrap();
    let mut c = [0; 5];
    for a in set.annotations.iter().filter(|a| a.is_beat()) {
        if let Some(k) = AamiClass::from_symbol(set.symbol_of(a.code)) {
            c[k.index()] += 1;
        }
    }
    c
}

/// Row invariants; `full_len`: a length most rows reach (shorter = cut at the window's end).
fn check_rows(rows: &[BeatCsvRow], record: &str, full_len: usize) {
    let mut full = 0;
    for r in rows {
        assert_eq!(r.record, record);
        assert!((1..=BEAT_LEN).contains(&r.length), "{}", r.length);
        assert!(r.values.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(r.values[r.length..].iter().all(|&v| v == 0.0));
        full += usize::from(r.length >= full_len);
    }
    // Most beats lie well inside their 10 s window and get the whole 1.2 × RR segment.
    assert!(full * 10 >= rows.len() * 8, "{full} of {}", rows.len());
    assert!(rows.windows(2).all(|w| w[0].sample < w[1].sample));
}

#[test]
fn record_100_rows_match_the_reference_beats() {
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let rows = build(db.join("100")).unwrap();
    let counts = reference_counts(&db, "100");
    // 2239 N, 33 A (S), 1 V: one row per AAMI beat, labels as annotated.
    assert_eq!(counts, [2239, 33, 1, 0, 0]);
    assert_eq!(label_counts(&rows), counts);
    check_rows(&rows, "100", 100);
    // 100 runs at about 75 bpm: 1.2 × 0.8 s × 125 Hz ≈ 120 values before the padding.
    let mut lengths: Vec<usize> = rows.iter().map(|r| r.length).collect();
    lengths.sort_unstable();
    let median = lengths[lengths.len() / 2];
    assert!((105..=135).contains(&median), "{median}");
    // The segment starts at the R-peak, the top of the window's MLII range in this record.
    let high = rows.iter().filter(|r| r.values[0] > 0.6).count();
    assert!(high * 10 >= rows.len() * 9, "{high} of {}", rows.len());
    let v = rows.iter().find(|r| r.label == 2).unwrap();
    assert_eq!(v.sample, 546_792);

    // The CSV round trip through sinus-io's Kaggle reader keeps values and labels.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("100.csv");
    write_csv(&path, &rows[..50]).unwrap();
    let back = read_beat_csv(&path, &BeatCsvOptions::default()).unwrap();
    assert_eq!(back.beats.len(), 50);
    for (b, r) in back.beats.iter().zip(&rows) {
        assert_eq!((b.values, b.label), (r.values, r.label));
    }
}

#[test]
fn record_208_has_all_ventricular_classes() {
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let rows = build(db.join("208")).unwrap();
    let counts = reference_counts(&db, "208");
    // 208: 1586 N, 2 S, 992 V, 373 F (and 2 Q).
    assert!(counts[2] > 900 && counts[3] > 300, "{counts:?}");
    assert_eq!(label_counts(&rows), counts);
    // 208 runs at about 95 bpm with frequent short-coupled PVCs: windows' median RR is
    // about 0.6 s, 1.2 × 0.6 s × 125 Hz = 90 values.
    check_rows(&rows, "208", 60);
    let mut lengths: Vec<usize> = rows.iter().map(|r| r.length).collect();
    lengths.sort_unstable();
    let median = lengths[lengths.len() / 2];
    assert!((75..=105).contains(&median), "{median}");
}

#[test]
fn missing_record_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(build(dir.path().join("nope")).is_err());
}
