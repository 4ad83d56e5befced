//! Reading and writing whole WFDB records: MIT-BIH, synthetic single- and multi-segment
//! records, and bad files.

use sinus_io::datasets::mitdb_for_tests;
use sinus_io::wfdb::format::SignalFormat;
use sinus_io::wfdb::header::parse_header;
use sinus_io::wfdb::record::{read_header, read_record, read_record_with, ReadOptions};
use sinus_io::wfdb::write::write_record;
use sinus_io::{BaseDateTime, Date, ErrorKind, Recording, Signal, TimeOfDay, MISSING};
use std::path::Path;

fn signal(description: &str, gain: f64, baseline: i32, spf: u32, samples: Vec<i32>) -> Signal {
    Signal {
        description: description.into(),
        units: "mV".into(),
        gain,
        baseline,
        adc_resolution: 12,
        adc_zero: 0,
        samples_per_frame: spf,
        samples,
    }
}

/// `rec` as reading it back gives it: an uncalibrated gain (0) comes back as the gain used, 200.
fn as_read(rec: &Recording) -> Recording {
    let mut rec = rec.clone();
    for s in &mut rec.signals {
        s.gain = s.effective_gain();
    }
    rec
}

fn recording(name: &str, frequency: f64, signals: Vec<Signal>) -> Recording {
    let frames = signals
        .first()
        .map(|s| (s.samples.len() / s.samples_per_frame as usize) as u64)
        .unwrap_or(0);
    Recording {
        name: name.into(),
        frame_frequency: frequency,
        frames,
        base_datetime: None,
        signals,
        info: vec![],
    }
}

/// A deterministic wiggly test signal.
fn ramp(n: usize, seed: i32) -> Vec<i32> {
    (0..n as i32)
        .map(|i| ((i * 37 + seed * 101) % 1500) - 700)
        .collect()
}

fn write_text(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).unwrap();
}

#[test]
fn mitdb_100_reads_with_checksums() {
    let Some(dir) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let rec = read_record(dir.join("100")).unwrap();
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    let r = &rec.recording;
    assert_eq!(r.name, "100");
    assert_eq!(r.frame_frequency, 360.0);
    assert_eq!(r.frames, 650000);
    assert_eq!(r.signals.len(), 2);
    assert_eq!(r.signals[0].description, "MLII");
    assert_eq!(r.signals[1].description, "V5");
    for s in &r.signals {
        assert_eq!(s.samples.len(), 650000);
        assert_eq!(s.gain, 200.0);
        assert_eq!(s.baseline, 1024);
        assert_eq!(s.adc_zero, 1024);
        assert_eq!(s.adc_resolution, 11);
        assert_eq!(s.units, "mV");
        assert_eq!(s.samples_per_frame, 1);
    }
    assert_eq!(
        (r.signals[0].samples[0], r.signals[1].samples[0]),
        (995, 1011)
    );
    assert_eq!(r.info[1], "Aldomet, Inderal");

    // Reading via the .hea path and a sub-range gives the same samples.
    let opts = ReadOptions {
        sampfrom: 123_457,
        sampto: Some(123_500),
        channels: Some(vec![1, 0]),
        strict_checksums: true,
        allow_outside_paths: false,
    };
    let part = read_record_with(dir.join("100.hea"), &opts).unwrap();
    assert_eq!(part.recording.frames, 43);
    assert_eq!(part.recording.signals[0].description, "V5");
    assert_eq!(
        part.recording.signals[0].samples,
        r.signals[1].samples[123_457..123_500]
    );
    assert_eq!(
        part.recording.signals[1].samples,
        r.signals[0].samples[123_457..123_500]
    );
}

#[test]
fn mitdb_all_records_checksums_strict() {
    let Some(dir) = mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let strict = ReadOptions {
        strict_checksums: true,
        ..Default::default()
    };
    for name in sinus_io::datasets::MITDB_RECORDS {
        let rec =
            read_record_with(dir.join(name), &strict).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(rec.recording.frames, 650000);
        assert!(rec.warnings.is_empty(), "{name}: {:?}", rec.warnings);
    }
}

#[test]
fn write_and_read_back_formats() {
    let tmp = tempfile::tempdir().unwrap();
    for format in [
        SignalFormat::Fmt16,
        SignalFormat::Fmt212,
        SignalFormat::Fmt24,
    ] {
        let mut a = ramp(1001, 1);
        a[5] = MISSING;
        let b = ramp(1001, 2);
        let c = ramp(1001, 3);
        let mut rec = recording(
            "wr",
            257.5,
            vec![
                signal("lead I", 200.0, 3, 1, a),
                signal("lead II", 0.0, -2, 1, b),
                signal("V1", 1000.5, 0, 1, c),
            ],
        );
        rec.signals[2].units = "uV".into();
        rec.base_datetime = Some(BaseDateTime {
            time: Some(TimeOfDay {
                hour: 13,
                minute: 5,
                second: 7,
                micros: 250_000,
            }),
            date: Some(Date {
                year: 2024,
                month: 2,
                day: 29,
            }),
        });
        rec.info = vec!["age: 40".into(), "sex: F".into()];
        write_record(tmp.path(), "wr", &rec, format).unwrap();
        let back = read_record_with(
            tmp.path().join("wr"),
            &ReadOptions {
                strict_checksums: true,
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("format {format:?}: {e}"));
        assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        assert_eq!(back.recording, as_read(&rec), "format {format:?}");
        // Uncalibrated (gain 0): the gain used, 200, is written; the header says so.
        assert_eq!(back.header.signals[1].adc_gain, Some(200.0));
        assert_eq!(back.header.signals[0].format, format.code());

        // Odd frame counts and a start frame in the middle of a 212 group (3 samples/frame).
        let part = read_record_with(
            tmp.path().join("wr"),
            &ReadOptions {
                sampfrom: 3,
                sampto: Some(8),
                channels: Some(vec![2, 0]),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            part.recording.signals[0].samples,
            rec.signals[2].samples[3..8]
        );
        assert_eq!(
            part.recording.signals[1].samples,
            rec.signals[0].samples[3..8]
        );
        assert_eq!(part.recording.signals[1].samples[2], MISSING);
    }
}

#[test]
fn write_rejects_unencodable_input() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = recording("x", 100.0, vec![signal("a", 200.0, 0, 1, vec![5000, 0])]);
    let e = write_record(tmp.path(), "x", &rec, SignalFormat::Fmt212).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Invalid(_)), "{e}");
    assert!(e.to_string().contains("signal 0 (a)"), "{e}");
    let e = write_record(tmp.path(), "bad name", &rec, SignalFormat::Fmt16).unwrap_err();
    assert!(e.to_string().contains("record name"), "{e}");
    let mut short = rec.clone();
    short.frames = 3;
    let e = write_record(tmp.path(), "x", &short, SignalFormat::Fmt16).unwrap_err();
    assert!(e.to_string().contains("expected 3 frames"), "{e}");
    let mut units = rec.clone();
    units.signals[0].units = "m V".into();
    assert!(write_record(tmp.path(), "x", &units, SignalFormat::Fmt16).is_err());
}

#[test]
fn multi_frequency_record() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = recording(
        "mf",
        100.0,
        vec![
            signal("fast", 200.0, 0, 4, ramp(40, 1)),
            signal("slow", 200.0, 0, 1, ramp(10, 2)),
            signal("mid", 200.0, 0, 2, ramp(20, 3)),
        ],
    );
    for format in [SignalFormat::Fmt16, SignalFormat::Fmt212] {
        write_record(tmp.path(), "mf", &rec, format).unwrap();
        let text = std::fs::read_to_string(tmp.path().join("mf.hea")).unwrap();
        assert!(text.contains(&format!(" {}x4 ", format.code())), "{text}");
        let back = read_record(tmp.path().join("mf")).unwrap();
        assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        assert_eq!(back.recording, rec);
        assert_eq!(back.recording.sampling_frequency(0), 400.0);
        let part = read_record_with(
            tmp.path().join("mf"),
            &ReadOptions {
                sampfrom: 3,
                sampto: Some(5),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            part.recording.signals[0].samples,
            rec.signals[0].samples[12..20]
        );
        assert_eq!(
            part.recording.signals[1].samples,
            rec.signals[1].samples[3..5]
        );
        assert_eq!(
            part.recording.signals[2].samples,
            rec.signals[2].samples[6..10]
        );
    }
}

#[test]
fn skew_and_byte_offset() {
    let tmp = tempfile::tempdir().unwrap();
    // A 6-byte foreign prefix, then 5 frames of two format-16 signals.
    let a = [10i16, 11, 12, 13, 14];
    let b = [20i16, 21, 22, 23, 24];
    let mut bytes = b"HEADER".to_vec();
    for i in 0..5 {
        bytes.extend_from_slice(&a[i].to_le_bytes());
        bytes.extend_from_slice(&b[i].to_le_bytes());
    }
    std::fs::write(tmp.path().join("sk.dat"), &bytes).unwrap();
    // Signal b is skewed by 2 frames; 4 frames declared. Checksums over the stored samples.
    let sum_a: i32 = a[..4].iter().map(|&v| i32::from(v)).sum();
    let sum_b: i32 = b[..4].iter().map(|&v| i32::from(v)).sum();
    write_text(
        tmp.path(),
        "sk.hea",
        &format!(
            "sk 2 10 4\nsk.dat 16+6 100 16 0 10 {sum_a} 0 a\nsk.dat 16:2+6 100 16 0 20 {sum_b} 0 b\n"
        ),
    );
    let rec = read_record(tmp.path().join("sk")).unwrap();
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    assert_eq!(rec.recording.signals[0].samples, vec![10, 11, 12, 13]);
    // Frames 2, 3 of the file, then past the record's 4 frames: missing, as wfdb-python pads
    // them, although the file holds a fifth frame (issue 16 item 8).
    assert_eq!(
        rec.recording.signals[1].samples,
        vec![22, 23, MISSING, MISSING]
    );
    let part = read_record_with(
        tmp.path().join("sk"),
        &ReadOptions {
            sampfrom: 1,
            sampto: Some(3),
            channels: Some(vec![1]),
            ..Default::default()
        },
    )
    .unwrap();
    // A part gives what the whole record gives for those frames.
    assert_eq!(part.recording.signals[0].samples, vec![23, MISSING]);
}

#[test]
fn signals_in_several_files_and_null_signals() {
    let tmp = tempfile::tempdir().unwrap();
    let one = recording("f1", 50.0, vec![signal("x", 200.0, 0, 1, ramp(12, 1))]);
    let two = recording(
        "f2",
        50.0,
        vec![
            signal("y", 200.0, 0, 1, ramp(10, 2)),
            signal("z", 200.0, 0, 1, ramp(10, 3)),
        ],
    );
    write_record(tmp.path(), "f1", &one, SignalFormat::Fmt16).unwrap();
    write_record(tmp.path(), "f2", &two, SignalFormat::Fmt212).unwrap();
    // No length in the header: the shorter file (10 frames) decides.
    write_text(
        tmp.path(),
        "multi.hea",
        "multi 4 50\nf2.dat 212 200 12 0\nf1.dat 16 200 12 0\n~ 0 100/uV 12 0\nf2.dat 212 200 12 0\n",
    );
    let rec = read_record(tmp.path().join("multi")).unwrap();
    let r = &rec.recording;
    assert_eq!(r.frames, 10);
    assert_eq!(rec.warnings.len(), 1, "{:?}", rec.warnings);
    assert!(
        rec.warnings[0].contains("f1.dat holds 12"),
        "{:?}",
        rec.warnings
    );
    assert_eq!(r.signals[0].samples, two.signals[0].samples);
    assert_eq!(r.signals[1].samples, one.signals[0].samples[..10]);
    assert_eq!(r.signals[2].samples, vec![MISSING; 10]);
    assert_eq!(r.signals[2].units, "uV");
    assert_eq!(r.signals[3].samples, two.signals[1].samples);
    // A missing description stays empty (issue 16).
    assert_eq!(r.signals[2].description, "");
}

#[test]
fn checksum_mismatch_is_a_warning_or_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = recording("ck", 100.0, vec![signal("a", 200.0, 0, 1, ramp(50, 1))]);
    write_record(tmp.path(), "ck", &rec, SignalFormat::Fmt16).unwrap();
    let hea = tmp.path().join("ck.hea");
    let mut h = parse_header(&std::fs::read(&hea).unwrap()).unwrap();
    h.signals[0].checksum = Some(h.signals[0].checksum.unwrap() + 1);
    std::fs::write(&hea, h.to_text()).unwrap();
    let lenient = read_record(tmp.path().join("ck")).unwrap();
    assert_eq!(lenient.warnings.len(), 1);
    assert!(
        lenient.warnings[0].contains("checksum"),
        "{:?}",
        lenient.warnings
    );
    assert_eq!(lenient.recording.signals[0].samples, rec.signals[0].samples);
    let e = read_record_with(
        tmp.path().join("ck"),
        &ReadOptions {
            strict_checksums: true,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Checksum(_)), "{e}");
    assert!(e.to_string().contains("ck.dat"), "{e}");
}

#[test]
fn bad_records_give_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = recording(
        "t",
        360.0,
        vec![
            signal("a", 200.0, 0, 1, ramp(100, 1)),
            signal("b", 200.0, 0, 1, ramp(100, 2)),
        ],
    );
    write_record(tmp.path(), "t", &rec, SignalFormat::Fmt212).unwrap();

    // Truncated: drop the last frame and a half.
    let dat = tmp.path().join("t.dat");
    let bytes = std::fs::read(&dat).unwrap();
    std::fs::write(&dat, &bytes[..bytes.len() - 4]).unwrap();
    let e = read_record(tmp.path().join("t")).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Truncated(_)), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("t.dat"), "{msg}");
    assert!(
        msg.contains("header declares 100 samples, file holds 98"),
        "{msg}"
    );

    // Missing .dat and .hea name the file.
    std::fs::remove_file(&dat).unwrap();
    let e = read_record(tmp.path().join("t")).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Io(_)), "{e}");
    assert!(e.to_string().contains("t.dat"), "{e}");
    let e = read_record(tmp.path().join("nope")).unwrap_err();
    assert!(e.to_string().contains("nope.hea"), "{e}");
    let e = read_header(tmp.path().join("nope")).unwrap_err();
    assert!(e.to_string().contains("nope.hea"), "{e}");

    // Header errors carry the header path and line.
    write_text(tmp.path(), "h.hea", "h 2 360 10\nh.dat 16\n");
    let e = read_record(tmp.path().join("h")).unwrap_err();
    assert!(e.to_string().contains("h.hea: line 2"), "{e}");

    // Unknown format names the signal and the format.
    write_text(
        tmp.path(),
        "u.hea",
        "u 1 360 10\nu.dat 999 200 12 0 0 0 0 ECG\n",
    );
    let e = read_record(tmp.path().join("u")).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Unsupported(_)), "{e}");
    assert!(e.to_string().contains("signal 0 (ECG)"), "{e}");
    assert!(e.to_string().contains("format 999"), "{e}");

    // Absurd sizes are refused before any file is opened.
    write_text(
        tmp.path(),
        "big.hea",
        "big 2 360 99999999999999\nbig.dat 16\nbig.dat 16\n",
    );
    let e = read_record(tmp.path().join("big")).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::TooLarge(_)), "{e}");
    write_text(
        tmp.path(),
        "big2.hea",
        "big2 1 360 2000000\nbig2.dat 16x4000\n",
    );
    let e = read_record(tmp.path().join("big2")).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::TooLarge(_)), "{e}");
    // A plausible size that the file does not back: error, not a huge allocation.
    std::fs::write(tmp.path().join("big3.dat"), [0u8; 10]).unwrap();
    write_text(
        tmp.path(),
        "big3.hea",
        "big3 1 360 1000000000\nbig3.dat 16\n",
    );
    let e = read_record(tmp.path().join("big3")).unwrap_err();
    assert!(e.to_string().contains("file holds 5"), "{e}");

    // Huge skew and offset values neither panic nor allocate.
    std::fs::write(tmp.path().join("sk.dat"), [1u8, 0, 2, 0]).unwrap();
    write_text(
        tmp.path(),
        "sk.hea",
        "sk 1 360 2\nsk.dat 16:18446744073709551615\n",
    );
    let skewed = read_record(tmp.path().join("sk")).unwrap();
    assert_eq!(skewed.recording.signals[0].samples, vec![MISSING, MISSING]);
    write_text(
        tmp.path(),
        "sk.hea",
        "sk 1 360 2\nsk.dat 16+18446744073709551615\n",
    );
    let e = read_record(tmp.path().join("sk")).unwrap_err();
    assert!(e.to_string().contains("file holds 0"), "{e}");
    write_text(
        tmp.path(),
        "sk.hea",
        "sk 1 360\nsk.dat 516+18446744073709551615\n",
    );
    assert!(read_record(tmp.path().join("sk")).is_err());

    // Same file, different formats.
    write_text(tmp.path(), "mx.hea", "mx 2 360 10\nmx.dat 16\nmx.dat 212\n");
    let e = read_record(tmp.path().join("mx")).unwrap_err();
    assert!(e.to_string().contains("share file mx.dat"), "{e}");

    // Bad ranges and channels.
    write_record(tmp.path(), "t", &rec, SignalFormat::Fmt16).unwrap();
    let read = |opts: ReadOptions| read_record_with(tmp.path().join("t"), &opts);
    let e = read(ReadOptions {
        sampto: Some(101),
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("beyond the end"), "{e}");
    let e = read(ReadOptions {
        sampfrom: 50,
        sampto: Some(40),
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("after sampto"), "{e}");
    let e = read(ReadOptions {
        channels: Some(vec![2]),
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("channel 2 does not exist"), "{e}");
    let empty = read(ReadOptions {
        sampfrom: 100,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(empty.recording.frames, 0);
}

/// Segment records written with `write_record`, a hand-written layout and master header.
fn make_multi_segment(dir: &Path) -> (Vec<i32>, Vec<i32>) {
    // Segment 1: II and V (40 frames); segment 2: V only and a signal not in the layout (30
    // frames), with V stored in a different order.
    let s1_ii = ramp(40, 1);
    let s1_v = ramp(40, 2);
    let s2_v = ramp(30, 3);
    let seg1 = recording(
        "seg1",
        125.0,
        vec![
            signal("II", 200.0, 10, 1, s1_ii.clone()),
            signal("V", 100.0, 0, 1, s1_v.clone()),
        ],
    );
    let seg2 = recording(
        "seg2",
        125.0,
        vec![
            signal("RESP", 50.0, 0, 1, ramp(30, 4)),
            signal("V", 100.0, 0, 1, s2_v.clone()),
        ],
    );
    write_record(dir, "seg1", &seg1, SignalFormat::Fmt212).unwrap();
    write_record(dir, "seg2", &seg2, SignalFormat::Fmt16).unwrap();
    write_text(
        dir,
        "ms_layout.hea",
        "ms_layout 2 125 0\n~ 0 200(10)/mV 12 0 0 0 0 II\n~ 0 100/mV 12 0 0 0 0 V\n",
    );
    write_text(
        dir,
        "ms.hea",
        "ms/4 2 125 90 08:00:00 01/06/2021\nms_layout 0\nseg1 40\n~ 20\nseg2 30\n# multi\n",
    );
    let mut ii = s1_ii;
    ii.extend(std::iter::repeat_n(MISSING, 50));
    let mut v = s1_v;
    v.extend(std::iter::repeat_n(MISSING, 20));
    v.extend(s2_v);
    (ii, v)
}

#[test]
fn multi_segment_variable_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let (ii, v) = make_multi_segment(tmp.path());
    let rec = read_record(tmp.path().join("ms")).unwrap();
    let r = &rec.recording;
    assert_eq!(r.frames, 90);
    assert_eq!(r.frame_frequency, 125.0);
    assert_eq!(r.signals.len(), 2);
    assert_eq!(r.signals[0].description, "II");
    assert_eq!(r.signals[1].description, "V");
    assert_eq!(r.signals[0].baseline, 10);
    assert_eq!(r.signals[1].gain, 100.0);
    assert_eq!(r.signals[0].samples, ii);
    assert_eq!(r.signals[1].samples, v);
    assert_eq!(r.info, vec!["multi"]);
    assert_eq!(
        r.base_datetime.unwrap().date,
        Some(Date {
            year: 2021,
            month: 6,
            day: 1
        })
    );
    // The segment's extra signal is reported, nothing else.
    assert_eq!(rec.warnings.len(), 1, "{:?}", rec.warnings);
    assert!(rec.warnings[0].contains("RESP"), "{:?}", rec.warnings);
    assert!(rec.header.is_multi_segment());

    // Ranges across segment boundaries, one channel.
    let part = read_record_with(
        tmp.path().join("ms"),
        &ReadOptions {
            sampfrom: 35,
            sampto: Some(75),
            channels: Some(vec![1]),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(part.recording.frames, 40);
    assert_eq!(part.recording.signals[0].samples, v[35..75]);
}

#[test]
fn multi_segment_rescales_differing_gain() {
    let tmp = tempfile::tempdir().unwrap();
    make_multi_segment(tmp.path());
    // seg2's V at gain 50 with baseline 4: values map to (v - 4) * 2.
    let seg2 = recording(
        "seg2",
        125.0,
        vec![signal("V", 50.0, 4, 1, vec![4, 5, 6, MISSING, -1])],
    );
    write_record(tmp.path(), "seg2", &seg2, SignalFormat::Fmt16).unwrap();
    write_text(
        tmp.path(),
        "ms.hea",
        "ms/3 2 125 45\nms_layout 0\nseg1 40\nseg2 5\n",
    );
    let rec = read_record(tmp.path().join("ms")).unwrap();
    assert_eq!(
        rec.recording.signals[1].samples[40..],
        [0, 2, 4, MISSING, -10]
    );
    assert!(
        rec.warnings.iter().any(|w| w.contains("rescaled")),
        "{:?}",
        rec.warnings
    );
}

#[test]
fn multi_segment_fixed_layout_and_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let a = recording(
        "fa",
        10.0,
        vec![
            signal("I", 200.0, 0, 1, ramp(7, 1)),
            signal("II", 200.0, 0, 1, ramp(7, 2)),
        ],
    );
    let b = recording(
        "fb",
        10.0,
        vec![
            signal("I", 200.0, 0, 1, ramp(5, 3)),
            signal("II", 200.0, 0, 1, ramp(5, 4)),
        ],
    );
    write_record(tmp.path(), "fa", &a, SignalFormat::Fmt16).unwrap();
    write_record(tmp.path(), "fb", &b, SignalFormat::Fmt212).unwrap();
    write_text(tmp.path(), "fx.hea", "fx/3 2 10 15\nfa 7\n~ 3\nfb 5\n");
    let rec = read_record(tmp.path().join("fx")).unwrap();
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    let mut want = a.signals[1].samples.clone();
    want.extend([MISSING; 3]);
    want.extend(&b.signals[1].samples);
    assert_eq!(rec.recording.signals[1].samples, want);
    assert_eq!(rec.recording.frames, 15);

    // A segment shorter than the master header says.
    write_text(tmp.path(), "fy.hea", "fy/2 2 10\nfa 7\nfb 6\n");
    let e = read_record(tmp.path().join("fy")).unwrap_err();
    assert!(e.to_string().contains("declares 5 samples"), "{e}");
    // A missing segment header.
    write_text(tmp.path(), "fz.hea", "fz/2 2 10\nfa 7\nnothere 6\n");
    let e = read_record(tmp.path().join("fz")).unwrap_err();
    assert!(e.to_string().contains("nothere.hea"), "{e}");
    // A segment sampled at another frequency.
    write_record(
        tmp.path(),
        "fc",
        &recording("fc", 20.0, a.signals.clone()),
        SignalFormat::Fmt16,
    )
    .unwrap();
    write_text(tmp.path(), "fw.hea", "fw/2 2 10\nfa 7\nfc 7\n");
    let e = read_record(tmp.path().join("fw")).unwrap_err();
    assert!(e.to_string().contains("20 Hz"), "{e}");
}

/// Records for the wfdb-python peer check (`tests/peers/wfdb_write_check.py`): when
/// `SINUS_PEER_DIR` is set, writes records there with `NAME.expected` files describing what a
/// reader must find. Without the variable it only checks that the cases encode.
#[test]
fn peer_records_for_wfdb_python() {
    let out = std::env::var_os("SINUS_PEER_DIR").map(std::path::PathBuf::from);
    let tmp = tempfile::tempdir().unwrap();
    let dir = out.as_deref().unwrap_or(tmp.path());
    let with_missing = |mut v: Vec<i32>, at: usize| {
        v[at] = MISSING;
        v
    };
    let mut cases: Vec<(&str, Recording, SignalFormat)> = Vec::new();
    let mut full = recording(
        "p16",
        360.0,
        vec![
            signal("ECG lead I", 200.0, 3, 1, with_missing(ramp(1001, 1), 7)),
            signal("II", 0.0, -2, 1, ramp(1001, 2)),
            signal("V1", 1000.5, 0, 1, ramp(1001, 3)),
        ],
    );
    full.signals[2].units = "uV".into();
    full.base_datetime = Some(BaseDateTime {
        time: Some(TimeOfDay {
            hour: 13,
            minute: 5,
            second: 7,
            micros: 250_000,
        }),
        date: Some(Date {
            year: 2024,
            month: 2,
            day: 29,
        }),
    });
    full.info = vec!["age: 40 sex: F".into(), "second line".into()];
    cases.push(("p16", full.clone(), SignalFormat::Fmt16));
    let mut odd = full.clone();
    odd.frames = 999;
    for s in &mut odd.signals {
        s.samples.truncate(999);
    }
    cases.push(("p212", odd, SignalFormat::Fmt212));
    let mf = recording(
        "pmf",
        100.0,
        vec![
            signal("fast", 200.0, 0, 4, ramp(400, 1)),
            signal("slow", 200.0, 0, 1, with_missing(ramp(100, 2), 3)),
            signal("mid", 200.0, 0, 2, ramp(200, 3)),
        ],
    );
    cases.push(("pmf16", mf.clone(), SignalFormat::Fmt16));
    cases.push(("pmf212", mf.clone(), SignalFormat::Fmt212));
    let small = recording(
        "psmall",
        128.0,
        vec![
            signal("a", 10.0, 0, 1, ramp(31, 1).iter().map(|v| v / 8).collect()),
            signal("b", 10.0, 0, 1, ramp(31, 2).iter().map(|v| v / 8).collect()),
        ],
    );
    for (name, format) in [
        ("p24", SignalFormat::Fmt24),
        ("p32", SignalFormat::Fmt32),
        ("p61", SignalFormat::Fmt61),
        ("p80", SignalFormat::Fmt80),
        ("p160", SignalFormat::Fmt160),
        ("p310", SignalFormat::Fmt310),
        ("p311", SignalFormat::Fmt311),
    ] {
        cases.push((name, small.clone(), format));
    }
    let smooth = recording(
        "p8",
        128.0,
        vec![
            signal("a", 10.0, 0, 1, (0..50).map(|i| i * 3 - 40).collect()),
            signal("b", 10.0, 0, 1, (0..50).map(|i| 60 - i * 2).collect()),
        ],
    );
    cases.push(("p8", smooth, SignalFormat::Fmt8));

    for (name, rec, format) in &cases {
        write_record(dir, name, rec, *format).unwrap_or_else(|e| panic!("{name}: {e}"));
        let back = read_record(dir.join(name)).unwrap();
        assert!(back.warnings.is_empty(), "{name}: {:?}", back.warnings);
        assert_eq!(&back.recording.signals, &as_read(rec).signals, "{name}");
        let mut text = format!("fs {}\nframes {}\n", rec.frame_frequency, rec.frames);
        let dt = rec.base_datetime.unwrap_or(BaseDateTime {
            time: None,
            date: None,
        });
        match dt.time {
            Some(t) => text.push_str(&format!(
                "base_time {:02}:{:02}:{:02}.{:06}\n",
                t.hour, t.minute, t.second, t.micros
            )),
            None => text.push_str("base_time -\n"),
        }
        match dt.date {
            Some(d) => text.push_str(&format!(
                "base_date {:04}-{:02}-{:02}\n",
                d.year, d.month, d.day
            )),
            None => text.push_str("base_date -\n"),
        }
        text.push_str(&format!("comments {}\n", rec.info.len()));
        for line in &rec.info {
            text.push_str(&format!("{line}\n"));
        }
        text.push_str(&format!("signals {}\n", rec.signals.len()));
        for s in &rec.signals {
            let invalid = format.invalid_value();
            let samples: Vec<String> = s
                .samples
                .iter()
                .map(|&v| if v == MISSING { invalid } else { v }.to_string())
                .collect();
            text.push_str(&format!(
                "desc {}\nunits {}\ngain {}\nbaseline {}\nadc_res {}\nadc_zero {}\nspf {}\nfmt {}\nsamples {}\n",
                s.description,
                s.units,
                s.gain,
                s.baseline,
                s.adc_resolution,
                s.adc_zero,
                s.samples_per_frame,
                format.code(),
                samples.join(" ")
            ));
        }
        std::fs::write(dir.join(format!("{name}.expected")), text).unwrap();
    }
}
