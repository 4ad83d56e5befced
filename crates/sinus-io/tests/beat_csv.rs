//! Kaggle beat format: a NumPy-written fixture reproduced byte for byte, every error path, fuzzing.

use proptest::prelude::*;
use sinus_io::beat_csv::{
    parse_beat_csv, read_beat_csv, write_beat_csv, AamiClass, BeatCsvBeat, BeatCsvOptions, BEAT_LEN,
};
use sinus_io::ErrorKind;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/beat_csv_sample.csv"
);

fn strict() -> BeatCsvOptions {
    BeatCsvOptions::default()
}

#[test]
fn numpy_fixture_reads_and_rewrites_byte_for_byte() {
    // Written by numpy.savetxt(delimiter=',') from float32 beats, as the Kaggle files were.
    let original = std::fs::read(FIXTURE).unwrap();
    let data = read_beat_csv(FIXTURE, &strict()).unwrap();
    assert!(data.warnings.is_empty());
    assert_eq!(data.beats.len(), 5);
    let labels: Vec<u8> = data.beats.iter().map(|b| b.label).collect();
    assert_eq!(labels, [0, 1, 2, 3, 4]);
    let b = &data.beats[0];
    assert_eq!(b.values[0], 1.0);
    assert_eq!(b.values[1], (133.0f64 / 136.0) as f32);
    assert_eq!(b.values[2], 1.234e-5f32);
    assert_eq!(b.values[3], 0.0);
    assert_eq!(b.values[BEAT_LEN - 1], 0.0, "zero padding");
    let mut out = Vec::new();
    write_beat_csv(&mut out, &data.beats).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        String::from_utf8(original).unwrap()
    );
}

#[test]
fn number_format_matches_pandas() {
    let mut values = [0f32; BEAT_LEN];
    values[0] = (133.0f64 / 136.0) as f32;
    values[1] = 1.0;
    values[2] = 1.234e-5;
    let beat = BeatCsvBeat { values, label: 3 };
    let mut out = Vec::new();
    write_beat_csv(&mut out, &[beat]).unwrap();
    let text = String::from_utf8(out).unwrap();
    let fields: Vec<&str> = text.trim_end().split(',').collect();
    assert_eq!(fields.len(), BEAT_LEN + 1);
    assert_eq!(fields[0], "9.779411554336547852e-01");
    assert_eq!(fields[1], "1.000000000000000000e+00");
    assert_eq!(fields[2], "1.233999955729814246e-05");
    assert_eq!(fields[3], "0.000000000000000000e+00");
    assert_eq!(fields[BEAT_LEN], "3.000000000000000000e+00");
}

#[test]
fn aami_mapping() {
    let symbols: String = (0..5)
        .map(|l| AamiClass::from_label(l).unwrap().symbol())
        .collect();
    assert_eq!(symbols, "NSVFQ");
    assert_eq!(AamiClass::from_label(5), None);
    for l in 0..5 {
        assert_eq!(AamiClass::from_label(l).unwrap().label(), l);
    }
}

fn line(values: &str, label: &str) -> String {
    let mut v: Vec<String> = vec!["0.5".to_string(); BEAT_LEN];
    if !values.is_empty() {
        v[10] = values.to_string();
    }
    v.push(label.to_string());
    v.join(",") + "\n"
}

#[test]
fn crlf_and_blank_lines() {
    let text = format!("{}\r\n\n{}", line("", "0").trim_end(), line("0.25", "4.0"));
    let d = parse_beat_csv(text.as_bytes(), &strict()).unwrap();
    assert_eq!(d.beats.len(), 2);
    assert_eq!(d.beats[1].values[10], 0.25);
    assert_eq!(d.beats[1].label, 4);
}

#[test]
fn out_of_range_is_an_error_unless_lenient() {
    let text = line("1.5", "0") + &line("-0.1", "1");
    let e = parse_beat_csv(text.as_bytes(), &strict()).unwrap_err();
    assert!(e.to_string().contains("line 1, column 11"), "{e}");
    let d = parse_beat_csv(text.as_bytes(), &BeatCsvOptions { lenient: true }).unwrap();
    assert_eq!(d.beats[0].values[10], 1.5);
    assert_eq!(d.warnings.len(), 1);
    assert!(d.warnings[0].starts_with("2 values"), "{:?}", d.warnings);
}

#[test]
fn errors_name_line_and_column() {
    let short = (0..BEAT_LEN - 1).map(|_| "0").collect::<Vec<_>>().join(",") + ",1\n";
    let long = line("", "1").trim_end().to_string() + ",0\n";
    let cases: Vec<(String, &str)> = vec![
        (line("", "0") + &short, "line 2: 187 fields"),
        (long, "line 1: 189 fields"),
        (line("abc", "0"), "line 1, column 11"),
        (line("NaN", "0"), "not finite"),
        (line("", "5"), "line 1, column 188"),
        (line("", "1.5"), "not a class"),
        (line("", "-1"), "not a class"),
        (line("", "x"), "not a class"),
        ("a,b,c\n".to_string(), "no header"),
        (line("", "0") + "0.5", "line 2: 1 fields"),
    ];
    for (text, needle) in cases {
        let e = parse_beat_csv(text.as_bytes(), &BeatCsvOptions { lenient: true }).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Malformed(_)));
        assert!(e.to_string().contains(needle), "{e} lacks {needle:?}");
    }
    let e = parse_beat_csv(b"\xff\n", &strict()).unwrap_err();
    assert!(e.to_string().contains("UTF-8"));
    let e = read_beat_csv("/nonexistent/k.csv", &strict()).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Io(_)));
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("k.csv");
    std::fs::write(&p, line("", "9")).unwrap();
    assert!(read_beat_csv(&p, &strict())
        .unwrap_err()
        .to_string()
        .contains("k.csv: line 1"));
    // Writer refuses what the format cannot hold.
    let bad = BeatCsvBeat {
        values: [0.0; BEAT_LEN],
        label: 5,
    };
    assert!(write_beat_csv(&mut Vec::new(), &[bad]).is_err());
    let mut nan = BeatCsvBeat {
        values: [0.0; BEAT_LEN],
        label: 0,
    };
    nan.values[3] = f32::NAN;
    assert!(write_beat_csv(&mut Vec::new(), &[nan]).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = parse_beat_csv(&bytes, &strict());
        let _ = parse_beat_csv(&bytes, &BeatCsvOptions { lenient: true });
    }

    #[test]
    fn write_read_round_trip(
        beats in proptest::collection::vec(
            (proptest::collection::vec(0f32..=1.0, BEAT_LEN), 0u8..5), 0..5)
    ) {
        let beats: Vec<BeatCsvBeat> = beats
            .into_iter()
            .map(|(v, label)| BeatCsvBeat { values: v.try_into().unwrap(), label })
            .collect();
        let mut out = Vec::new();
        write_beat_csv(&mut out, &beats).unwrap();
        let back = parse_beat_csv(&out, &strict()).unwrap();
        prop_assert_eq!(back.beats, beats);
    }
}
