//! CSV reader and writer: detection, lossless decimals, errors with line/column, round trips,
//! MIT-BIH, fuzzing.

use proptest::prelude::*;
use sinus_io::csv::{parse_csv, read_csv, write_csv, CsvOptions};
use sinus_io::{ErrorKind, Recording, Signal, MISSING};

fn parse(text: &str) -> sinus_io::Result<sinus_io::csv::CsvRecording> {
    parse_csv(text.as_bytes(), &CsvOptions::default())
}

fn with_fs(fs: f64) -> CsvOptions {
    CsvOptions {
        fs: Some(fs),
        ..CsvOptions::default()
    }
}

#[test]
fn header_time_column_crlf_quotes_blank_lines_and_missing() {
    let text = "\u{feff}time,\"MLII (mV)\",V5 [uV]\r\n\
                0.000,0.1,5\r\n\
                \r\n\
                0.004,-0.25,NaN\r\n\
                0.008,1,\r\n\
                0.012,,nan\r\n";
    let c = parse(text).unwrap();
    assert!(c.has_header && c.time_column);
    assert_eq!(c.delimiter, b',');
    let r = &c.recording;
    assert_eq!(r.frame_frequency, 250.0);
    assert_eq!(r.frames, 4);
    assert_eq!(r.signals.len(), 2);
    let (a, b) = (&r.signals[0], &r.signals[1]);
    assert_eq!((a.description.as_str(), a.units.as_str()), ("MLII", "mV"));
    assert_eq!((b.description.as_str(), b.units.as_str()), ("V5", "uV"));
    assert_eq!(a.gain, 100.0);
    assert_eq!(a.baseline, 0);
    assert_eq!(a.samples, [10, -25, 100, MISSING]);
    assert_eq!(b.gain, 1.0);
    assert_eq!(b.samples, [5, MISSING, MISSING, MISSING]);
    assert_eq!(a.physical(1), -0.25);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn semicolon_with_decimal_comma_needs_fs() {
    let text = "1,5;2\n-0,25;3\n";
    let e = parse(text).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Invalid(_)));
    assert!(e.to_string().contains("--fs"), "{e}");
    let c = parse_csv(text.as_bytes(), &with_fs(360.0)).unwrap();
    assert_eq!(c.delimiter, b';');
    assert!(!c.has_header && !c.time_column);
    let r = &c.recording;
    assert_eq!(r.frame_frequency, 360.0);
    assert_eq!(r.signals[0].description, "col1");
    assert_eq!(r.signals[0].units, "mV");
    assert_eq!(r.signals[0].samples, [150, -25]);
    assert_eq!(r.signals[0].gain, 100.0);
    assert_eq!(r.signals[1].samples, [2, 3]);
}

#[test]
fn tab_and_whitespace_delimiters() {
    let c = parse_csv(b"a\tb\n1\t2\n3\t4\n", &with_fs(1.0)).unwrap();
    assert_eq!(c.delimiter, b'\t');
    assert_eq!(c.recording.signals[1].samples, [2, 4]);
    let opts = CsvOptions {
        time_column: Some(false),
        ..with_fs(1.0)
    };
    let c = parse_csv(b"  1.5   2\n\n  3.25\t4  \n", &opts).unwrap();
    assert_eq!(c.delimiter, b' ');
    assert_eq!(c.recording.signals[0].samples, [150, 325]);
    assert_eq!(c.recording.signals[1].samples, [2, 4]);
}

#[test]
fn time_column_detection_without_header() {
    // Evenly spaced decimals: seconds; fs derived.
    let c = parse("0.0,5\n0.5,6\n1.0,7\n").unwrap();
    assert!(c.time_column);
    assert_eq!(c.recording.frame_frequency, 2.0);
    assert_eq!(c.recording.signals.len(), 1);
    // Integers with step 1: sample numbers; fs must be given.
    let e = parse("0,5\n1,6\n2,7\n").unwrap_err();
    assert!(e.to_string().contains("--fs"), "{e}");
    let c = parse_csv(b"0,5\n1,6\n2,7\n", &with_fs(360.0)).unwrap();
    assert!(c.time_column);
    assert_eq!(c.recording.signals[0].samples, [5, 6, 7]);
    // Not evenly spaced: an ordinary signal.
    let c = parse_csv(b"0.0,5\n0.5,6\n2.0,7\n", &with_fs(1.0)).unwrap();
    assert!(!c.time_column);
    assert_eq!(c.recording.signals.len(), 2);
    // Forced off.
    let opts = CsvOptions {
        time_column: Some(false),
        ..with_fs(1.0)
    };
    assert_eq!(
        parse_csv(b"0.0,5\n0.5,6\n", &opts)
            .unwrap()
            .recording
            .signals
            .len(),
        2
    );
}

#[test]
fn time_column_by_name_and_unit() {
    let c = parse("time (ms),x\n0,1\n2.5,2\n5,3\n").unwrap();
    assert_eq!(c.recording.frame_frequency, 400.0);
    let c = parse("Sample,x\n0,1\n1,2\n").unwrap_err();
    assert!(c.to_string().contains("--fs"));
    let c = parse_csv(b"Sample,x\n0,1\n1,2\n", &with_fs(128.0)).unwrap();
    assert!(c.time_column);
    assert_eq!(c.recording.frame_frequency, 128.0);
    // Times printed rounded (1/360 s to 3 decimals): still 360 Hz.
    let mut text = String::from("t,x\n");
    for i in 0..100 {
        text += &format!("{:.3},{i}\n", i as f64 / 360.0);
    }
    let c = parse(&text).unwrap();
    assert_eq!(c.recording.frame_frequency, 360.0);
    // Given fs wins, with a warning when it disagrees.
    let c = parse_csv(text.as_bytes(), &with_fs(500.0)).unwrap();
    assert_eq!(c.recording.frame_frequency, 500.0);
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
}

#[test]
fn quoting() {
    let text = "\"a,\"\"b\"\"\",\"multi\nline\"\n\"1.5\",2\n";
    let c = parse_csv(text.as_bytes(), &with_fs(1.0)).unwrap();
    let r = &c.recording;
    assert_eq!(r.signals[0].description, "a,\"b\"");
    assert_eq!(r.signals[1].description, "multi\nline");
    assert_eq!(r.signals[0].samples, [15]);
}

#[test]
fn exponents_and_precision() {
    let c = parse_csv(b"x,y\n1.5e-3,1E2\n-2,0.5\n", &with_fs(1.0)).unwrap();
    let r = &c.recording;
    assert_eq!(r.signals[0].gain, 1e4);
    assert_eq!(r.signals[0].samples, [15, -20000]);
    assert_eq!(r.signals[0].physical(0), 0.0015);
    assert_eq!(r.signals[1].gain, 10.0);
    assert_eq!(r.signals[1].samples, [1000, 5]);
    // Too many digits for 32 bits: decimals reduced, values rounded, warning.
    let c = parse_csv(b"x\n123456789.125\n-0.5\n", &with_fs(1.0)).unwrap();
    let s = &c.recording.signals[0];
    assert_eq!(s.gain, 10.0);
    assert_eq!(s.samples, [1234567891, -5]);
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    // A trailing delimiter on every line: empty unnamed column dropped.
    let c = parse_csv(b"1,2,\n3,4,\n", &with_fs(1.0)).unwrap();
    assert_eq!(c.recording.signals.len(), 2);
}

#[test]
fn errors_name_line_and_column() {
    let cases: Vec<(&[u8], &str)> = vec![
        (b"a,b\n1,2\n3\n", "line 3"),
        (b"a,b\n1,2\n3,x\n", "line 3, column 2 (\"b\")"),
        (b"a,b\n1,2\n\"3,4\n", "line 3"),
        (b"a,b\n1,\xff\n", "line 2"),
        (b"", "no data"),
        (b"\n\n  \n", "no data"),
        (b"time,x\n0,1\n1,2\n5,3\n", "constant step"),
        (b"time,x\n0,1\n,2\n2,3\n", "line 3, column 1"),
        (b"x\n1e35\n", "too large"),
        (b"x\n1e999\n", "not a number"),
        (b"x\ninf\n", "not a number"),
        (b"x\n1.2.3\n", "not a number"),
        (b"time\n0\n1\n", "no signal"),
    ];
    for (text, needle) in cases {
        let opts = if needle == "no signal" {
            CsvOptions {
                time_column: Some(true),
                ..with_fs(1.0)
            }
        } else {
            with_fs(1.0)
        };
        let e = parse_csv(text, &opts).unwrap_err();
        assert!(
            e.to_string().contains(needle),
            "{:?}: {e} lacks {needle:?}",
            String::from_utf8_lossy(text)
        );
    }
    let e = parse_csv(b"1\n", &with_fs(-1.0)).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Invalid(_)));
    let e = parse_csv(
        b"1\n",
        &CsvOptions {
            delimiter: Some(b'"'),
            ..with_fs(1.0)
        },
    )
    .unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Invalid(_)));
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("bad.csv");
    std::fs::write(&p, "a,b\n1\n").unwrap();
    let e = read_csv(&p, &with_fs(1.0)).unwrap_err();
    assert!(e.to_string().contains("bad.csv: line 2"), "{e}");
}

fn wfdb_like() -> Recording {
    Recording {
        name: "r".into(),
        frame_frequency: 360.0,
        frames: 4,
        base_datetime: None,
        signals: vec![
            Signal {
                description: "MLII".into(),
                units: "mV".into(),
                gain: 200.0,
                baseline: 1024,
                adc_resolution: 11,
                adc_zero: 1024,
                samples_per_frame: 1,
                samples: vec![995, 1024, MISSING, 2047],
            },
            Signal {
                description: "fast, x".into(),
                units: "uV".into(),
                gain: 1000.0,
                baseline: -3,
                adc_resolution: 0,
                adc_zero: 0,
                samples_per_frame: 2,
                samples: vec![1, 2, 3, 4, 5, 6, 7, -1_000_000],
            },
        ],
        info: vec![],
    }
}

#[test]
fn write_csv_formats_and_round_trips() {
    let rec = wfdb_like();
    let mut out = Vec::new();
    write_csv(&mut out, &rec, true, true).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "time (s),MLII (mV),\"fast, x (uV)\"");
    assert_eq!(lines[1], "0.000000,-0.145,0.004");
    assert_eq!(lines[2], "0.001389,,0.005");
    assert_eq!(lines[5], "0.005556,,0.008");
    assert_eq!(lines[8], "0.009722,,-999.997");
    assert_eq!(lines.len(), 9);
    let back = parse(&text).unwrap();
    let r = &back.recording;
    assert_eq!(r.frame_frequency, 720.0);
    assert_eq!(r.frames, 8);
    // Physical values identical; the slow signal's in-between rows are missing.
    let slow = &r.signals[0];
    let expect = [
        -0.145,
        f64::NAN,
        0.0,
        f64::NAN,
        f64::NAN,
        f64::NAN,
        5.115,
        f64::NAN,
    ];
    for (i, e) in expect.iter().enumerate() {
        let v = slow.physical(i);
        assert!(v == *e || (v.is_nan() && e.is_nan()), "{i}: {v} vs {e}");
    }
    let fast = &r.signals[1];
    for i in 0..8 {
        assert_eq!(fast.physical(i), rec.signals[1].physical(i));
    }
    // Digital mode.
    let mut out = Vec::new();
    write_csv(&mut out, &rec, false, false).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("MLII (adu),\"fast, x (adu)\"\n995,1\n,2\n1024,3\n"),
        "{text}"
    );
    // Bad recordings.
    let mut bad = wfdb_like();
    bad.signals[0].samples.pop();
    assert!(write_csv(&mut Vec::new(), &bad, true, true).is_err());
}

#[test]
fn csv_read_write_read_is_identical() {
    let text = "time,a (mV),b\n0,0.125,-3\n0.002,-1.5,4\n0.004,,7\n";
    let first = parse(text).unwrap();
    let mut out = Vec::new();
    write_csv(&mut out, &first.recording, true, true).unwrap();
    let second = parse_csv(&out, &CsvOptions::default()).unwrap();
    assert_eq!(second.recording.signals, first.recording.signals);
    assert_eq!(second.recording.frame_frequency, 500.0);
}

fn decode_212(bytes: &[u8], pairs: usize) -> Vec<i32> {
    let mut out = Vec::new();
    for c in bytes.chunks_exact(3).take(pairs) {
        let a = i32::from(c[0]) | (i32::from(c[1] & 0x0F) << 8);
        let b = i32::from(c[2]) | (i32::from(c[1] >> 4) << 8);
        out.push(if a >= 2048 { a - 4096 } else { a });
        out.push(if b >= 2048 { b - 4096 } else { b });
    }
    out
}

#[test]
fn mitdb_100_first_minute_through_csv() {
    let Some(dir) = sinus_io::datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let all = decode_212(&std::fs::read(dir.join("100.dat")).unwrap(), 21_600);
    let sig = |k: usize, name: &str| Signal {
        description: name.into(),
        units: "mV".into(),
        gain: 200.0,
        baseline: 1024,
        adc_resolution: 11,
        adc_zero: 1024,
        samples_per_frame: 1,
        samples: all.iter().skip(k).step_by(2).copied().collect(),
    };
    let rec = Recording {
        name: "100".into(),
        frame_frequency: 360.0,
        frames: 21_600,
        base_datetime: None,
        signals: vec![sig(0, "MLII"), sig(1, "V5")],
        info: vec![],
    };
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("100.csv");
    write_csv(&mut std::fs::File::create(&p).unwrap(), &rec, true, true).unwrap();
    let back = read_csv(&p, &CsvOptions::default()).unwrap();
    let r = &back.recording;
    assert_eq!(r.name, "100");
    assert_eq!(r.frame_frequency, 360.0);
    assert_eq!(r.frames, 21_600);
    assert_eq!(r.signals[0].physical(0), -0.145);
    for (a, b) in r.signals.iter().zip(&rec.signals) {
        assert_eq!(a.gain, 1000.0);
        for i in 0..21_600 {
            assert_eq!(a.physical(i), b.physical(i));
            // Digital values come back exactly through the documented rule.
            let d = (a.physical(i) * b.gain + f64::from(b.baseline)).round() as i32;
            assert_eq!(d, b.samples[i]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_csv(&bytes, &CsvOptions::default());
        let _ = parse_csv(&bytes, &with_fs(1.0));
    }

    #[test]
    fn csv_like_text_never_panics(text in "[0-9a-z.,;\t \"\r\n+eE-]{0,300}") {
        let _ = parse_csv(text.as_bytes(), &CsvOptions::default());
        let _ = parse_csv(text.as_bytes(), &with_fs(250.0));
    }

    #[test]
    fn decimal_values_round_trip(
        rows in proptest::collection::vec(
            proptest::collection::vec((-99_999i32..99_999, 0u32..4), 2), 1..40)
    ) {
        // Column-wise decimals: the value v/10^d printed with d decimals.
        let mut text = String::from("a,b\n");
        for r in &rows {
            let cells: Vec<String> = r.iter().map(|&(v, d)| {
                let x = v as f64 / 10f64.powi(d as i32);
                format!("{x:.prec$}", prec = d as usize)
            }).collect();
            text += &cells.join(",");
            text.push('\n');
        }
        let c = parse_csv(text.as_bytes(), &with_fs(100.0)).unwrap();
        for (k, s) in c.recording.signals.iter().enumerate() {
            for (i, r) in rows.iter().enumerate() {
                let (v, d) = r[k];
                let want = v as f64 / 10f64.powi(d as i32);
                let want: f64 = format!("{want:.prec$}", prec = d as usize).parse().unwrap();
                prop_assert_eq!(s.physical(i), want);
            }
        }
        let mut out = Vec::new();
        write_csv(&mut out, &c.recording, true, false).unwrap();
        let again = parse_csv(&out, &with_fs(100.0)).unwrap();
        prop_assert_eq!(&again.recording.signals, &c.recording.signals);
    }
}
