//! Regression tests for issue 16 ("Formats: defects found by an independent check"): the
//! conventions README.md's "Conventions" list states, one test per item.

use sinus_io::edf::{encode_edf, parse_edf};
use sinus_io::open::{open, OpenOptions};
use sinus_io::wfdb::annotation::{encode_annotations, Annotation, EncodeOptions};
use sinus_io::wfdb::record::{read_record, read_record_with, ReadOptions};
use sinus_io::{ErrorKind, MISSING};
use std::path::Path;

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// Four format-16 samples of one signal.
fn dat(values: &[i16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Item 1: an omitted or 0 gain is reported as the gain used (200); the spec keeps "absent".
#[test]
fn item1_uncalibrated_gain_is_the_gain_used() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "u.dat", &dat(&[0, 200, -400, 100, 0, 0, 0, 0]));
    write(
        tmp.path(),
        "u.hea",
        b"u 2 100 4\nu.dat 16\nu.dat 16 0(5)/uV 12 0 0\n",
    );
    let rec = read_record(tmp.path().join("u")).unwrap();
    let [a, b] = &rec.recording.signals[..] else {
        panic!("two signals")
    };
    assert_eq!((a.gain, b.gain), (200.0, 200.0));
    // Frames interleave the two signals: a holds 0, -400, 0, 0.
    assert_eq!(a.physical(1), -2.0);
    assert_eq!(b.physical(0), (200.0 - 5.0) / 200.0);
    assert_eq!(rec.signal_specs[0].adc_gain, None);
    assert_eq!(rec.signal_specs[1].adc_gain, Some(0.0));
}

/// Item 2: signal files and segments outside the header's directory are refused by default,
/// naming the header; a NUL byte is refused naming the header too.
#[test]
fn item2_signal_files_outside_the_directory_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let sub = tmp.path().join("db");
    std::fs::create_dir(&sub).unwrap();
    write(tmp.path(), "x.dat", &dat(&[1, 2, 3, 4]));
    let target = tmp.path().join("x.dat");
    for (name, file) in [
        ("abs", target.display().to_string()),
        ("up", "../x.dat".to_string()),
        ("dotup", "./../x.dat".to_string()),
    ] {
        write(
            &sub,
            &format!("{name}.hea"),
            format!("{name} 1 100 4\n{file} 16\n").as_bytes(),
        );
        let e = read_record(sub.join(name)).expect_err(name);
        assert!(matches!(e.kind, ErrorKind::Invalid(_)), "{name}: {e}");
        let text = e.to_string();
        assert!(text.contains(&format!("{name}.hea")), "{name}: {text}");
        assert!(
            text.contains("outside the record's directory"),
            "{name}: {text}"
        );
        // Also when opening header-only (files absent are allowed there).
        let options = OpenOptions {
            allow_absent_signals: true,
            ..OpenOptions::default()
        };
        let e = open(&sub.join(name), &options).expect_err(name);
        assert!(e.to_string().contains("outside"), "{name}: {e}");
        // Explicitly allowed: read.
        let allowed = ReadOptions {
            allow_outside_paths: true,
            ..ReadOptions::default()
        };
        let rec = read_record_with(sub.join(name), &allowed).unwrap();
        assert_eq!(rec.recording.signals[0].samples, vec![1, 2, 3, 4]);
    }
    // A subdirectory is inside.
    std::fs::create_dir(sub.join("d")).unwrap();
    write(&sub.join("d"), "y.dat", &dat(&[5, 6]));
    write(&sub, "inside.hea", b"inside 1 100 2\nd/y.dat 16\n");
    assert_eq!(
        read_record(sub.join("inside")).unwrap().recording.signals[0].samples,
        vec![5, 6]
    );
    // Multi-segment: a segment named outside is refused.
    write(&sub, "m.hea", b"m/1 1 100 4\n../seg 4\n");
    let e = read_record(sub.join("m")).unwrap_err();
    assert!(e.to_string().contains("segment 0"), "{e}");
    assert!(e.to_string().contains("m.hea"), "{e}");
    // A NUL byte: the message names the header, not the odd path.
    write(&sub, "nul.hea", b"nul 1 100 4\nx\0y.dat 16\n");
    let e = read_record(sub.join("nul")).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("nul.hea") && text.contains("NUL byte"),
        "{text}"
    );
}

/// Item 3: converted annotation times keep the file's own times.
#[test]
fn item3_annotation_time_resolution_is_kept() {
    let anns: Vec<Annotation> = [1000i64, 1002, 2003]
        .iter()
        .map(|&t| Annotation::new(t, 1))
        .collect();
    let options = EncodeOptions {
        time_resolution: Some(500.0),
        ..EncodeOptions::default()
    };
    let bytes = encode_annotations(&anns, &options).unwrap();
    let set = sinus_io::wfdb::annotation::decode_annotations(&bytes, Some(125.0)).unwrap();
    assert!(set.converted);
    assert_eq!(set.time_resolution, Some(500.0));
    let samples: Vec<i64> = set.annotations.iter().map(|a| a.sample).collect();
    assert_eq!(samples, vec![250, 251, 501]);
    assert_eq!(set.original_samples, vec![1000, 1002, 2003]);
    // Not converted: no copy.
    let raw = sinus_io::wfdb::annotation::decode_annotations(&bytes, None).unwrap();
    assert!(!raw.converted && raw.original_samples.is_empty());
}

/// Item 6: an EDF round trip keeps the length and the missing samples (see also
/// `tests/edf.rs::writer_pads_and_marks_missing`), here with several rates and a length that
/// leaves the last data record part-filled.
#[test]
fn item6_edf_round_trip_keeps_length_and_missing_samples() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "r.dat",
        &dat(&(0..3 * 1001)
            .map(|i| (i % 700) as i16 - 350)
            .collect::<Vec<_>>()),
    );
    write(
        tmp.path(),
        "r.hea",
        b"r 2 360 1001\nr.dat 16x2 200(0)/mV 12 0\nr.dat 16 100(3)/mV 12 0\n",
    );
    let mut rec = read_record(tmp.path().join("r")).unwrap().recording;
    rec.signals[1].samples[7] = MISSING;
    let (bytes, w) = encode_edf(&rec, None).unwrap();
    assert!(w.is_empty(), "{w:?}");
    let back = parse_edf(&bytes).unwrap();
    assert_eq!(back.recording.frames, 1001);
    for (a, b) in back.recording.signals.iter().zip(&rec.signals) {
        assert_eq!(a.samples.len(), b.samples.len());
        for (x, y) in a.samples.iter().zip(&b.samples) {
            if *y == MISSING {
                assert_eq!(*x, MISSING);
            } else {
                assert!((a.to_physical(*x) - b.to_physical(*y)).abs() < 1e-9);
            }
        }
    }
}

/// Item 8: a variable-layout record whose segments store a signal with different gains keeps
/// each segment's physical values exactly (the record's digital units are refined).
#[test]
fn item8_multi_segment_gains_keep_physical_values() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "v.hea", b"v/3 1 100 4\nv_layout 0\nsa 2\nsb 2\n");
    write(
        d,
        "v_layout.hea",
        b"v_layout 1 100 0\n~ 0 200/mV 12 0 0 0 0 ECG\n",
    );
    write(d, "sa.dat", &dat(&[10, 11]));
    write(
        d,
        "sa.hea",
        b"sa 1 100 2\nsa.dat 16 200(0)/mV 12 0 10 0 0 ECG\n",
    );
    write(d, "sb.dat", &dat(&[7, 8]));
    write(
        d,
        "sb.hea",
        b"sb 1 100 2\nsb.dat 16 300(1)/mV 12 0 7 0 0 ECG\n",
    );
    let rec = read_record(d.join("v")).unwrap();
    let s = &rec.recording.signals[0];
    // Gains 200 and 300: refined 3-fold, to gain 600.
    assert_eq!(s.gain, 600.0);
    let phys: Vec<f64> = s.physical_samples();
    let want = [10.0 / 200.0, 11.0 / 200.0, 6.0 / 300.0, 7.0 / 300.0];
    for (p, w) in phys.iter().zip(want) {
        assert!((p - w).abs() < 1e-12, "{phys:?}");
    }
    assert!(
        rec.warnings.iter().any(|w| w.contains("refined 3-fold")),
        "{:?}",
        rec.warnings
    );
    // A missing description stays empty.
    write(d, "nd.dat", &dat(&[1, 2]));
    write(d, "nd.hea", b"nd 1 100 2\nnd.dat 16\n");
    assert_eq!(
        read_record(d.join("nd")).unwrap().recording.signals[0].description,
        ""
    );
}

/// Item 8: a header whose record name differs from its file is read, with a clear warning.
#[test]
fn item8_record_name_mismatch_is_a_clear_warning() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "a.dat", &dat(&[1, 2]));
    write(tmp.path(), "file.hea", b"other 1 100 2\na.dat 16\n");
    let rec = read_record(tmp.path().join("file")).unwrap();
    assert_eq!(rec.recording.name, "other");
    assert_eq!(rec.warnings.len(), 1, "{:?}", rec.warnings);
    let w = &rec.warnings[0];
    assert!(
        w.contains("record name mismatch") && w.contains("\"other\"") && w.contains("\"file\""),
        "{w}"
    );
}

/// Item 8: EDF messages count signals from 0, as WFDB messages do.
#[test]
fn item8_edf_messages_count_signals_from_zero() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "a.dat", &dat(&[1, 2]));
    write(
        tmp.path(),
        "a.hea",
        b"a 1 100 2\na.dat 16 200 12 0 1 0 0 lead\n",
    );
    let mut rec = read_record(tmp.path().join("a")).unwrap().recording;
    rec.signals[0].samples[0] = 1 << 20 | 1; // odd and beyond 16 bits: cannot be written
    let e = encode_edf(&rec, None).unwrap_err();
    assert!(e.to_string().contains("signal 0 (\"lead\")"), "{e}");
}

/// Item 10: the base date before the base time (PhysioNet/CinC 2017) is read with a warning.
#[test]
fn item10_date_before_time_is_read_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "A00001.dat", &dat(&[1, 2, 3]));
    write(
        tmp.path(),
        "A00001.hea",
        b"A00001 1 300 3 2014-05-08 05:05:15\nA00001.dat 16 1000/mV 16 0 1 6 0 ECG\n",
    );
    let rec = read_record(tmp.path().join("A00001")).unwrap();
    assert_eq!(rec.recording.signals[0].samples, vec![1, 2, 3]);
    let dt = rec.recording.base_datetime.unwrap();
    assert_eq!(
        dt.date.map(|d| (d.year, d.month, d.day)),
        Some((2014, 5, 8))
    );
    assert_eq!(
        dt.time.map(|t| (t.hour, t.minute, t.second)),
        Some((5, 5, 15))
    );
    assert_eq!(rec.warnings.len(), 1, "{:?}", rec.warnings);
    assert!(
        rec.warnings[0].contains("A00001.hea, line 1"),
        "{:?}",
        rec.warnings
    );
}
