//! The RR-window dataset on MIT-BIH records (skipped without the database).

use sinus_io::datasets::mitdb_for_tests;
use sinus_ml::rr_window::{build, build_records, write_npy_dir};

#[test]
fn pvc_records_have_positive_windows_and_100_has_none() {
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let recs = build_records(&db, &["100", "119", "208"], 10, 2).unwrap();
    let positives: Vec<usize> = recs
        .iter()
        .map(|r| r.windows.iter().filter(|w| w.label == 1).count())
        .collect();
    // 100 has a single PVC: no window holds two.
    assert_eq!(recs[0].record, "100");
    assert_eq!(positives[0], 0);
    assert_eq!(recs[0].windows.iter().map(|w| w.veb).max(), Some(1));
    // 2273 beat annotations → one window per beat from the 11th on.
    assert_eq!(recs[0].windows.len(), 2273 - 10);
    // 119 (bigeminy, 444 PVCs) and 208 (992 PVCs): many windows hold two or more.
    assert!(positives[1] > 1000, "{positives:?}");
    assert!(positives[2] > 1500, "{positives:?}");
    for r in &recs {
        assert!(r.mean_rr > 0.4 && r.mean_rr < 1.5, "{}", r.mean_rr);
        for w in &r.windows {
            assert_eq!(w.features.len(), 20);
            assert!(w.features.iter().all(|v| v.is_finite() && *v > 0.0));
            assert_eq!(w.label, u8::from(w.veb >= 2));
            // Relative = raw / record mean.
            let ratio = w.features[0] as f64 / r.mean_rr;
            assert!((ratio - w.features[10] as f64).abs() < 1e-4);
        }
    }
    // In a bigeminal rhythm the PVC's preceding interval is short: windows with many VEB
    // have a smaller minimum relative interval than windows without any.
    let r119 = &recs[1];
    let min_rel = |w: &sinus_ml::rr_window::RrWindow| {
        w.features[10..]
            .iter()
            .copied()
            .fold(f32::INFINITY, f32::min)
    };
    let mean = |f: &dyn Fn(usize) -> bool| {
        let v: Vec<f32> = r119
            .windows
            .iter()
            .filter(|w| f(w.veb))
            .map(min_rel)
            .collect();
        v.iter().sum::<f32>() / v.len() as f32
    };
    assert!(mean(&|v| v >= 4) < mean(&|v| v == 0) - 0.1);

    let dir = tempfile::tempdir().unwrap();
    write_npy_dir(dir.path(), &recs, true).unwrap();
    let labels = std::fs::read(dir.path().join("labels.npy")).unwrap();
    let n: usize = recs.iter().map(|r| r.non_overlapping().len()).sum();
    assert_eq!(labels.len(), 128 + n);
    let names = std::fs::read_to_string(dir.path().join("records.txt")).unwrap();
    assert_eq!(names, "100\n119\n208\n");
}

#[test]
fn single_record_build_and_errors() {
    let Some(db) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let r = build(db.join("100"), 5, 1).unwrap();
    // With min_veb 1, exactly the windows whose 6 beats include the PVC are positive.
    assert_eq!(r.windows.iter().filter(|w| w.label == 1).count(), 6);
    assert!(build(db.join("100"), 0, 2).is_err());
    assert!(build(db.join("no-such-record"), 10, 2).is_err());
}
