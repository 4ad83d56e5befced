//! MIT-BIH annotation files: byte-identical round trip, counts, and spot values checked by hand
//! against wfdb-python 4.3.1 `rdann`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sinus_io::datasets::{mitdb_for_tests, MITDB_RECORDS};
use sinus_io::wfdb::annotation::{
    count_by_symbol, decode_annotations, encode_annotation_set, encode_annotations,
    read_annotations, write_annotation_set, write_annotations, Annotation, EncodeOptions,
};
use sinus_io::ErrorKind;

fn mitdb() -> Option<PathBuf> {
    mitdb_for_tests(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn all_48_atr_files_round_trip_byte_identical() {
    let Some(dir) = mitdb() else { return };
    let mut total = 0;
    let mut unterminated = 0;
    for record in MITDB_RECORDS {
        let path = dir.join(format!("{record}.atr"));
        let bytes = std::fs::read(&path).unwrap();
        let set = decode_annotations(&bytes, Some(360.0)).unwrap();
        assert!(
            set.header.is_empty(),
            "{record}: MIT-BIH files have no header"
        );
        assert!(
            set.trailing.is_empty(),
            "{record}: nothing after the EOF word"
        );
        assert!(!set.converted);
        // Both the set encoder and the plain encoder (no header options) reproduce the file.
        assert_eq!(encode_annotation_set(&set).unwrap(), bytes, "{record}");
        assert_eq!(
            encode_annotations(&set.annotations, &EncodeOptions::default()).unwrap(),
            bytes,
            "{record}"
        );
        // Times strictly increase in these files.
        assert!(set
            .annotations
            .windows(2)
            .all(|w| w[0].sample < w[1].sample));
        // Most aux strings include a trailing NUL in their stored length; 74 do not
        // (wfdb-python: 222 "(AFL" x37 and "(AFIB" x8, 217 "(AFIB" x24, 108 "(N", 201 "(SVTA"
        // and "(N", 202 "(AFL" and "(AFIB"). The bytes must be kept exactly either way.
        unterminated += set
            .annotations
            .iter()
            .filter_map(|a| a.aux.as_ref())
            .filter(|aux| aux.last() != Some(&0))
            .count();
        total += set.annotations.len();
    }
    // 112,647 annotations in total (beats and non-beats), as wfdb-python counts them.
    assert_eq!(total, 112_647);
    assert_eq!(unterminated, 74);
}

#[test]
fn record_100_counts() {
    let Some(dir) = mitdb() else { return };
    let set = read_annotations(dir.join("100.atr"), Some(360.0)).unwrap();
    assert_eq!(set.annotations.len(), 2274);
    let beats = set.annotations.iter().filter(|a| a.is_beat()).count();
    assert_eq!(beats, 2273);
    let counts = count_by_symbol(&set.annotations);
    let expected: BTreeMap<&str, usize> = [("N", 2239), ("A", 33), ("V", 1), ("+", 1)].into();
    assert_eq!(counts, expected);
    let first = &set.annotations[0];
    assert_eq!(
        (first.sample, first.symbol(), first.aux.as_deref()),
        (18, "+", Some(&b"(N\0"[..]))
    );
    assert_eq!(first.aux_latin1().as_deref(), Some("(N\u{0}"));
    assert_eq!(first.aux_text().as_deref(), Some("(N"));
    assert_eq!(set.annotations.last().unwrap().sample, 649_991);
}

/// Values read by hand with wfdb-python's rdann (sample, symbol, subtype, aux_note).
#[test]
fn spot_values_match_wfdb_python() {
    let Some(dir) = mitdb() else { return };
    struct Expect {
        record: &'static str,
        len: usize,
        last: (i64, &'static str),
        first3: [(i64, &'static str, i8, &'static str); 3],
        subtypes: &'static [(i8, usize)],
    }
    let cases = [
        Expect {
            record: "101",
            len: 1874,
            last: (649_751, "N"),
            first3: [(7, "+", 0, "(N\0"), (83, "N", 0, ""), (396, "N", 0, "")],
            subtypes: &[(-1, 1), (0, 1868), (1, 2), (3, 3)],
        },
        Expect {
            record: "203",
            len: 3108,
            last: (649_777, "N"),
            first3: [(14, "+", 0, "(AFIB\0"), (24, "~", 1, ""), (99, "N", 0, "")],
            subtypes: &[
                (-1, 1),
                (0, 2828),
                (1, 64),
                (2, 35),
                (3, 16),
                (4, 43),
                (5, 68),
                (6, 4),
                (7, 49),
            ],
        },
        Expect {
            record: "231",
            len: 2011,
            last: (649_862, "R"),
            first3: [(57, "+", 0, "(N\0"), (180, "R", 0, ""), (527, "R", 0, "")],
            subtypes: &[(0, 2011)],
        },
        Expect {
            record: "232",
            len: 1816,
            last: (649_366, "A"),
            first3: [(76, "+", 0, "(SBR\0"), (491, "R", 0, ""), (737, "A", 0, "")],
            subtypes: &[(0, 1794), (1, 6), (2, 10), (3, 6)],
        },
    ];
    for case in cases {
        let set = read_annotations(dir.join(format!("{}.atr", case.record)), None).unwrap();
        let anns = &set.annotations;
        assert_eq!(anns.len(), case.len, "{}", case.record);
        let last = anns.last().unwrap();
        assert_eq!((last.sample, last.symbol()), case.last, "{}", case.record);
        for (a, e) in anns.iter().zip(case.first3) {
            let aux = a.aux_latin1().unwrap_or_default();
            assert_eq!((a.sample, a.symbol(), a.subtype, aux.as_str()), e);
        }
        let mut subtypes = BTreeMap::new();
        for a in anns {
            *subtypes.entry(a.subtype).or_insert(0usize) += 1;
        }
        let expected: BTreeMap<i8, usize> = case.subtypes.iter().copied().collect();
        assert_eq!(subtypes, expected, "{}", case.record);
        assert!(anns.iter().all(|a| a.chan == 0 && a.num == 0));
    }
    // 231: 427 NOTE annotations with aux "MISSB\0" (wfdb-python symbol '"').
    let set = read_annotations(dir.join("231.atr"), None).unwrap();
    let missb = set
        .annotations
        .iter()
        .filter(|a| a.symbol() == "\"" && a.aux.as_deref() == Some(&b"MISSB\0"[..]))
        .count();
    assert_eq!(missb, 427);
}

/// Rewriting MIT-BIH annotations with a declared time resolution and reading them back with
/// the record frequency converts the times as WFDB would.
#[test]
fn time_resolution_on_real_annotations() {
    let Some(dir) = mitdb() else { return };
    let set = read_annotations(dir.join("100.atr"), None).unwrap();
    // Express times in 1000 ticks/s (ticks = round(sample * 1000 / 360)), declare 1000.
    let ticks: Vec<Annotation> = set
        .annotations
        .iter()
        .map(|a| Annotation {
            sample: (a.sample * 1000 + 180) / 360,
            ..a.clone()
        })
        .collect();
    let opts = EncodeOptions {
        time_resolution: Some(1000.0),
        ..EncodeOptions::default()
    };
    let bytes = encode_annotations(&ticks, &opts).unwrap();
    let raw = decode_annotations(&bytes, None).unwrap();
    assert_eq!(raw.time_resolution, Some(1000.0));
    assert_eq!(raw.annotations, ticks);
    assert_eq!(encode_annotation_set(&raw).unwrap(), bytes);
    let back = decode_annotations(&bytes, Some(360.0)).unwrap();
    assert!(back.converted);
    // round(round(s * 1000/360) * 360/1000) == s: each tick is within 0.5 * 0.36 sample.
    assert_eq!(back.annotations, set.annotations);
}

#[test]
fn write_and_read_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.qrs");
    let anns = [
        Annotation::new(10, 1),
        Annotation {
            aux: Some(b"(AFIB\0".to_vec()),
            ..Annotation::new(2000, 28)
        },
    ];
    write_annotations(&path, &anns, &EncodeOptions::default()).unwrap();
    let set = read_annotations(&path, Some(360.0)).unwrap();
    assert_eq!(set.annotations, anns);
    let copy = dir.path().join("copy.qrs");
    write_annotation_set(&copy, &set).unwrap();
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&path).unwrap());

    // Errors name the file and the byte offset.
    let broken = dir.path().join("broken.atr");
    std::fs::write(&broken, [0x05, 0x04, 0x00, 0xec, 0x00]).unwrap();
    let e = read_annotations(&broken, None).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Truncated(_)), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("broken.atr") && text.contains("byte 4"),
        "{text}"
    );
    let e = read_annotations(dir.path().join("missing.atr"), None).unwrap_err();
    assert!(
        matches!(e.kind, ErrorKind::Io(_)) && e.path.is_some(),
        "{e}"
    );
}
