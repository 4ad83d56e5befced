//! EDF/EDF+ reader and writer: hand-made files, a pyedflib-written fixture, every error path,
//! MIT-BIH round trip, and fuzzing with proptest.

use proptest::prelude::*;
use sinus_io::edf::{
    encode_edf, parse_edf, read_edf, write_edf, write_edf_plus, EdfAnnotation, EdfKind,
};
use sinus_io::{BaseDateTime, Date, ErrorKind, Recording, Signal, TimeOfDay, MISSING};

/// One signal header of a hand-made file.
#[derive(Clone)]
struct Sig {
    label: &'static str,
    pmin: &'static str,
    pmax: &'static str,
    dmin: &'static str,
    dmax: &'static str,
    n: usize,
}

fn sig(label: &'static str, n: usize) -> Sig {
    Sig {
        label,
        pmin: "-3.2768",
        pmax: "3.2767",
        dmin: "-32768",
        dmax: "32767",
        n,
    }
}

fn ann(n: usize) -> Sig {
    Sig {
        pmin: "-1",
        pmax: "1",
        ..sig("EDF Annotations", n)
    }
}

fn pad(s: &str, n: usize) -> String {
    format!("{s:<n$}")
}

/// Header of a hand-made file; `date`/`time` in EDF form.
fn header_with(
    reserved: &str,
    recording: &str,
    date: &str,
    nrec: &str,
    dur: &str,
    sigs: &[Sig],
) -> Vec<u8> {
    let ns = sigs.len();
    let mut h = String::new();
    h += &pad("0", 8);
    h += &pad("P-01 M 01-JAN-1970 Name", 80);
    h += &pad(recording, 80);
    h += &pad(date, 8);
    h += "10.20.30";
    h += &pad(&(256 * (ns + 1)).to_string(), 8);
    h += &pad(reserved, 44);
    h += &pad(nrec, 8);
    h += &pad(dur, 8);
    h += &pad(&ns.to_string(), 4);
    let field = |f: &dyn Fn(&Sig) -> String, w: usize| -> String {
        sigs.iter().map(|s| pad(&f(s), w)).collect()
    };
    h += &field(&|s| s.label.to_string(), 16);
    // EDF+ wants empty transducer and dimension fields for annotation signals.
    let ordinary = |s: &Sig, v: &str| {
        if s.label == "EDF Annotations" {
            String::new()
        } else {
            v.to_string()
        }
    };
    h += &field(&|s| ordinary(s, "AgAgCl"), 80);
    h += &field(&|s| ordinary(s, "mV"), 8);
    h += &field(&|s| s.pmin.to_string(), 8);
    h += &field(&|s| s.pmax.to_string(), 8);
    h += &field(&|s| s.dmin.to_string(), 8);
    h += &field(&|s| s.dmax.to_string(), 8);
    h += &field(&|_| String::new(), 80);
    h += &field(&|s| s.n.to_string(), 8);
    h += &field(&|_| String::new(), 32);
    h.into_bytes()
}

fn header(reserved: &str, nrec: &str, dur: &str, sigs: &[Sig]) -> Vec<u8> {
    header_with(
        reserved,
        "Startdate 02-MAR-2002 X X X",
        "02.03.02",
        nrec,
        dur,
        sigs,
    )
}

/// The annotation-signal bytes: `tals` padded with NULs to `n` samples.
fn tals(tals: &str, n: usize) -> Vec<u8> {
    let mut b = tals.as_bytes().to_vec();
    assert!(b.len() <= 2 * n, "test TALs too long");
    b.resize(2 * n, 0);
    b
}

fn samples(values: &[i16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn kind(r: sinus_io::Result<sinus_io::edf::EdfRecording>) -> (String, String) {
    let e = r.expect_err("expected an error");
    let k = match e.kind {
        ErrorKind::Malformed(_) => "malformed",
        ErrorKind::Truncated(_) => "truncated",
        ErrorKind::Unsupported(_) => "unsupported",
        ErrorKind::TooLarge(_) => "too_large",
        _ => "other",
    };
    (k.to_string(), e.to_string())
}

// ---------------------------------------------------------------- valid files

/// EDF+D, two rates (4 and 2 samples per 1 s record), a gap of 2 s, annotations in both records.
fn edf_plus_d() -> Vec<u8> {
    let mut b = header("EDF+D", "2", "1", &[sig("ECG", 4), sig("Resp", 2), ann(20)]);
    b.extend(samples(&[1, 2, 3, 4, 10, 20]));
    b.extend(tals("+0\x14\x14\0+0.5\x150.25\x14beat\x14N\x14\0", 20));
    b.extend(samples(&[5, 6, 7, 8, 30, 40]));
    b.extend(tals("+3\x14\x14Restart\x14\0+3.75\x14V\x14\0", 20));
    b
}

#[test]
fn edf_plus_d_gap_is_missing_and_rates_are_kept() {
    let e = parse_edf(&edf_plus_d()).unwrap();
    assert_eq!(e.kind, EdfKind::EdfPlusDiscontinuous);
    let r = &e.recording;
    assert_eq!(r.frame_frequency, 2.0);
    assert_eq!(r.frames, 8); // records at 0 s and 3 s, 1 s each, 2 frames per second
    assert_eq!(r.signals.len(), 2, "annotation signal excluded");
    assert_eq!(r.signals[0].samples_per_frame, 2);
    assert_eq!(r.signals[1].samples_per_frame, 1);
    assert_eq!(r.sampling_frequency(0), 4.0);
    assert_eq!(r.sampling_frequency(1), 2.0);
    // -3.2768..3.2767 over -32768..32767: gain 10000, baseline 0, no scaling.
    assert_eq!(r.signals[0].gain, 10000.0);
    assert_eq!(r.signals[0].baseline, 0);
    let m = MISSING;
    assert_eq!(
        r.signals[0].samples,
        [1, 2, 3, 4, m, m, m, m, m, m, m, m, 5, 6, 7, 8]
    );
    assert_eq!(r.signals[1].samples, [10, 20, m, m, m, m, 30, 40]);
    assert!(
        e.warnings.iter().any(|w| w.contains("gaps")),
        "{:?}",
        e.warnings
    );
    let texts: Vec<_> = e
        .annotations
        .iter()
        .map(|a| (a.onset, a.duration, a.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        [
            (0.5, Some(0.25), "beat"),
            (0.5, Some(0.25), "N"),
            (3.0, None, "Restart"),
            (3.75, None, "V")
        ]
    );
    let bd = r.base_datetime.unwrap();
    assert_eq!(
        bd.date,
        Some(Date {
            year: 2002,
            month: 3,
            day: 2
        })
    );
    assert_eq!(
        bd.time,
        Some(TimeOfDay {
            hour: 10,
            minute: 20,
            second: 30,
            micros: 0
        })
    );
    assert!(r
        .info
        .iter()
        .any(|l| l == "patient: P-01 M 01-JAN-1970 Name"));
    assert!(r.info.iter().any(|l| l == "transducer ECG: AgAgCl"));
}

#[test]
fn first_record_onset_moves_start_and_annotations() {
    // EDF+C whose first record starts 0.5 s after the header time, just before midnight.
    let mut b = header_with(
        "EDF+C",
        "Startdate 31-DEC-2099 X X X",
        "31.12.yy",
        "2",
        "1",
        &[sig("ECG", 2), ann(16)],
    );
    b[176..184].copy_from_slice(b"23.59.59");
    b.extend(samples(&[1, 2]));
    b.extend(tals("+0.5\x14\x14\0+0.75\x14a\x14\0", 16));
    b.extend(samples(&[3, 4]));
    b.extend(tals("+1.5\x14\x14\0", 16));
    let e = parse_edf(&b).unwrap();
    assert_eq!(e.start_offset, 0.5);
    assert_eq!(e.annotations[0].onset, 0.25);
    let bd = e.recording.base_datetime.unwrap();
    // 23:59:59 + 0.5 s is still the same day; the date comes from the recording field (yy > 2084).
    assert_eq!(
        bd,
        BaseDateTime {
            time: Some(TimeOfDay {
                hour: 23,
                minute: 59,
                second: 59,
                micros: 500_000
            }),
            date: Some(Date {
                year: 2099,
                month: 12,
                day: 31
            })
        }
    );
    assert_eq!(e.recording.signals[0].samples, [1, 2, 3, 4]);
    assert!(e.warnings.is_empty(), "{:?}", e.warnings);
}

#[test]
fn start_offset_crosses_midnight_and_year() {
    let mut b = header("EDF+D", "1", "1", &[sig("ECG", 1), ann(8)]);
    b[168..184].copy_from_slice(b"31.12.9923.59.59");
    b[88..168].copy_from_slice(pad("Startdate X X X X", 80).as_bytes());
    b.extend(samples(&[7]));
    b.extend(tals("+2.25\x14\x14\0", 8));
    let e = parse_edf(&b).unwrap();
    // "Startdate X" means unknown, and it wins over the header date.
    let bd = e.recording.base_datetime.unwrap();
    assert_eq!(bd.date, None);
    assert_eq!(
        bd.time,
        Some(TimeOfDay {
            hour: 0,
            minute: 0,
            second: 1,
            micros: 250_000
        })
    );
    // Plain EDF header date across the year boundary.
    let mut b = header_with("", "free text", "31.12.99", "1", "1", &[sig("ECG", 1)]);
    b[176..184].copy_from_slice(b"23.59.59");
    b.extend(samples(&[7]));
    let e = parse_edf(&b).unwrap();
    assert_eq!(
        e.recording.base_datetime.unwrap().date,
        Some(Date {
            year: 1999,
            month: 12,
            day: 31
        })
    );
}

#[test]
fn year_rule_1985_to_2084() {
    for (text, year) in [
        ("01.02.85", 1985),
        ("01.02.99", 1999),
        ("01.02.00", 2000),
        ("01.02.84", 2084),
    ] {
        let mut b = header_with("", "free", text, "1", "1", &[sig("ECG", 1)]);
        b.extend(samples(&[0]));
        let e = parse_edf(&b).unwrap();
        assert_eq!(
            e.recording.base_datetime.unwrap().date.unwrap().year,
            year,
            "{text}"
        );
    }
    // Unreadable dates and times are warnings.
    let mut b = header_with("", "free", "31.02.03", "1", "1", &[sig("ECG", 1)]);
    b[176..184].copy_from_slice(b"25.00.00");
    b.extend(samples(&[0]));
    let e = parse_edf(&b).unwrap();
    assert_eq!(e.recording.base_datetime, None);
    assert_eq!(e.warnings.len(), 2, "{:?}", e.warnings);
    // EDF+ recording field disagreeing with the header: the field wins, with a warning.
    let mut b = header_with(
        "EDF+C",
        "Startdate 05-may-2010 X X X",
        "04.05.10",
        "1",
        "1",
        &[sig("ECG", 1), ann(4)],
    );
    b.extend(samples(&[0]));
    b.extend(tals("+0\x14\x14\0", 4));
    let e = parse_edf(&b).unwrap();
    let d = e.recording.base_datetime.unwrap().date.unwrap();
    assert_eq!((d.year, d.month, d.day), (2010, 5, 5));
    assert!(
        e.warnings.iter().any(|w| w.contains("differs")),
        "{:?}",
        e.warnings
    );
}

#[test]
fn calibration_is_exact() {
    // pyedflib's default layout: baseline -0.5 → samples and gain doubled, physical exact.
    let s = Sig {
        pmin: "-5",
        pmax: "5",
        ..sig("A", 3)
    };
    // Baseline -151.368...: not a multiple of 2^-15; rounded at 2^-15.
    let t = Sig {
        pmin: "-440",
        pmax: "510",
        dmin: "-2048",
        dmax: "2047",
        ..sig("B", 3)
    };
    // WFDB-like: 0..2047 ↔ -5.12..5.115: gain 200, baseline 1024.
    let u = Sig {
        pmin: "-5.12",
        pmax: "5.115",
        dmin: "0",
        dmax: "2047",
        ..sig("C", 3)
    };
    let mut b = header("", "1", "1", &[s, t, u]);
    b.extend(samples(&[-32768, 0, 32767, -2048, 0, 2047, 0, 1024, 2047]));
    let e = parse_edf(&b).unwrap();
    let [a, bb, c] = &e.recording.signals[..] else {
        panic!()
    };
    assert_eq!((a.baseline, a.adc_resolution), (-1, 17));
    assert_eq!(a.samples, [-65536, 0, 65534]);
    assert_eq!(a.physical_samples(), [-5.0, 5.0 / 65535.0, 5.0]);
    assert_eq!(bb.adc_resolution, 31);
    let expect = |d: f64| -440.0 + (d + 2048.0) * 950.0 / 4095.0;
    for (i, d) in [-2048.0, 0.0, 2047.0].iter().enumerate() {
        // Documented bound: 2^-16 of a quantisation step (950/4095).
        let err = (bb.physical(i) - expect(*d)).abs();
        assert!(err <= 950.0 / 4095.0 / 65536.0, "{err}");
        assert_eq!(bb.samples[i] >> 15, *d as i32);
    }
    assert_eq!((c.gain, c.baseline, c.adc_resolution), (200.0, 1024, 16));
    assert_eq!(c.physical_samples(), [-5.12, 0.0, 5.115]);
}

/// What pyedflib read from its own file (tests/data/pyedflib_plus.txt), by kind and signal.
struct Expected {
    labels: Vec<String>,
    fs: Vec<f64>,
    physical: Vec<Vec<f64>>,
    digital: Vec<Vec<i64>>,
    annotations: Vec<(f64, Option<f64>, String)>,
}

fn expected_from_pyedflib(text: &str) -> Expected {
    let mut e = Expected {
        labels: vec![],
        fs: vec![],
        physical: vec![],
        digital: vec![],
        annotations: vec![],
    };
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let nums = || f[2].split(' ').map(|v| v.parse::<f64>().unwrap());
        match f[0] {
            "label" => e.labels.push(f[2].to_string()),
            "fs" => e.fs.push(f[2].parse().unwrap()),
            "physical" => e.physical.push(nums().collect()),
            "digital" => e.digital.push(nums().map(|v| v as i64).collect()),
            "annotation" => {
                let d: f64 = f[2].parse().unwrap();
                // pyedflib reports "no duration" as -1.
                let d = (d >= 0.0).then_some(d);
                e.annotations
                    .push((f[1].parse().unwrap(), d, f[3].to_string()));
            }
            other => panic!("unknown line {other}"),
        }
    }
    e
}

#[test]
fn reads_pyedflib_fixture_like_pyedflib() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
    let e = read_edf(format!("{dir}pyedflib_plus.edf")).unwrap();
    let expected = expected_from_pyedflib(
        &std::fs::read_to_string(format!("{dir}pyedflib_plus.txt")).unwrap(),
    );
    let r = &e.recording;
    assert_eq!(r.name, "pyedflib_plus");
    assert_eq!(e.kind, EdfKind::EdfPlusContinuous);
    assert_eq!(r.signals.len(), 2);
    assert_eq!(expected.physical.len(), 2);
    for (i, s) in r.signals.iter().enumerate() {
        assert_eq!(s.description, expected.labels[i]);
        assert_eq!(r.sampling_frequency(i), expected.fs[i]);
        let phys = &expected.physical[i];
        assert_eq!(s.samples.len(), phys.len());
        let k = s.adc_resolution - 16;
        for (j, &p) in phys.iter().enumerate() {
            // Within 2^-16 of a quantisation step (the documented bound for baselines that are
            // not multiples of 2^-15; signal 0 is such a case).
            let step = 1.0 / s.gain * f64::from(1u32 << k);
            assert!(
                (s.physical(j) - p).abs() <= step / 65536.0 + 1e-12 * p.abs(),
                "signal {i} sample {j}: {} vs {p}",
                s.physical(j)
            );
            assert_eq!(i64::from(s.samples[j] >> k), expected.digital[i][j]);
        }
    }
    let ours: Vec<_> = e
        .annotations
        .iter()
        .map(|a| (a.onset, a.duration, a.text.clone()))
        .collect();
    assert_eq!(ours, expected.annotations);
    let bd = r.base_datetime.unwrap();
    assert_eq!(
        (
            bd.date.unwrap().year,
            bd.time.unwrap().hour,
            bd.time.unwrap().second
        ),
        (2021, 5, 7)
    );
    assert!(r.info.iter().any(|l| l == "prefilter ECG I: HP:0.5Hz"));
    assert!(e.warnings.is_empty(), "{:?}", e.warnings);

    // Write it back as EDF+ and read again: identical signals, annotations and start.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("again.edf");
    let w = write_edf_plus(&out, r, &e.annotations).unwrap();
    assert!(w.is_empty(), "{w:?}");
    let again = read_edf(&out).unwrap();
    assert_eq!(again.recording.signals, r.signals);
    assert_eq!(again.recording.frame_frequency, r.frame_frequency);
    assert_eq!(again.recording.base_datetime, r.base_datetime);
    assert_eq!(again.annotations, e.annotations);
    assert!(again.warnings.is_empty(), "{:?}", again.warnings);
}

#[test]
fn number_of_records_minus_one_is_inferred() {
    let mut b = header("", "-1", "0.5", &[sig("ECG", 2)]);
    b.extend(samples(&[1, 2, 3, 4, 5, 6]));
    b.push(0); // half a sample: ignored
    let e = parse_edf(&b).unwrap();
    assert_eq!(e.recording.frames, 6);
    assert_eq!(e.recording.frame_frequency, 4.0);
    assert_eq!(e.record_duration, 0.5);
    assert_eq!(e.warnings.len(), 2, "{:?}", e.warnings);
}

#[test]
fn latin1_header_and_zero_sample_signal_are_tolerated() {
    let mut b = header("", "1", "1", &[sig("ECG", 2), sig("Unused", 0)]);
    b[13] = 0xE9; // é in the patient field
    b.extend(samples(&[1, 2]));
    let e = parse_edf(&b).unwrap();
    assert!(e.recording.info[0].contains('é'));
    assert_eq!(e.recording.signals.len(), 1);
    assert!(e.warnings[0].contains("0 samples"));
}

#[test]
fn annotation_only_file() {
    let mut b = header("EDF+C", "1", "0", &[ann(8)]);
    b.extend(tals("+0\x14\x14\0+1\x14x\x14\0", 8));
    let e = parse_edf(&b).unwrap();
    assert!(e.recording.signals.is_empty());
    assert_eq!(e.recording.frames, 0);
    assert_eq!(e.annotations.len(), 1);
}

// ---------------------------------------------------------------- errors

#[test]
fn error_paths() {
    let good = edf_plus_d();
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        ("short header", good[..100].to_vec(), "truncated", "header"),
        (
            "BDF",
            {
                let mut b = good.clone();
                b[0] = 0xFF;
                b
            },
            "unsupported",
            "BDF",
        ),
        (
            "version",
            {
                let mut b = good.clone();
                b[0] = b'1';
                b
            },
            "malformed",
            "version",
        ),
        (
            "non-numeric records",
            {
                let mut b = good.clone();
                b[236..244].copy_from_slice(b"two     ");
                b
            },
            "malformed",
            "header byte 236",
        ),
        (
            "ns = 0",
            {
                let mut b = good.clone();
                b[252..256].copy_from_slice(b"0   ");
                b
            },
            "malformed",
            "number of signals",
        ),
        (
            "ns huge",
            {
                let mut b = good[..256].to_vec();
                b[184..192].copy_from_slice(b"2560000 ");
                b[252..256].copy_from_slice(b"9999");
                b
            },
            "truncated",
            "signal headers",
        ),
        (
            "header size",
            {
                let mut b = good.clone();
                b[184..192].copy_from_slice(b"1000    ");
                b
            },
            "malformed",
            "number of bytes in header",
        ),
        (
            "records -2",
            {
                let mut b = good.clone();
                b[236..244].copy_from_slice(b"-2      ");
                b
            },
            "malformed",
            "number of data records",
        ),
        (
            "duration",
            {
                let mut b = good.clone();
                b[244..252].copy_from_slice(b"NaN     ");
                b
            },
            "malformed",
            "header byte 244",
        ),
        (
            "file shorter than declared",
            good[..good.len() - 1].to_vec(),
            "truncated",
            "need",
        ),
        (
            "more records declared",
            {
                let mut b = good.clone();
                b[236..244].copy_from_slice(b"99999999");
                b
            },
            "truncated",
            "99999999 data records",
        ),
        (
            "TAL without NUL",
            {
                let mut b = header("EDF+C", "1", "1", &[sig("ECG", 1), ann(2)]);
                b.extend(samples(&[1]));
                b.extend(b"+0\x14\x14");
                b
            },
            "malformed",
            "data record 0",
        ),
        (
            "TAL onset unsigned",
            {
                let mut b = header("EDF+C", "1", "1", &[sig("ECG", 1), ann(4)]);
                b.extend(samples(&[1]));
                b.extend(tals("0\x14\x14\0", 4));
                b
            },
            "malformed",
            "signed decimal",
        ),
        (
            "TAL bad duration",
            {
                let mut b = header("EDF+C", "1", "1", &[sig("ECG", 1), ann(8)]);
                b.extend(samples(&[1]));
                b.extend(tals("+0\x14\x14\0+1\x15-2\x14x\x14\0", 8));
                b
            },
            "malformed",
            "duration",
        ),
        (
            "TAL not ending in 20",
            {
                let mut b = header("EDF+C", "1", "1", &[sig("ECG", 1), ann(6)]);
                b.extend(samples(&[1]));
                b.extend(tals("+0\x14\x14\0+1\x14x\0", 6));
                b
            },
            "malformed",
            "does not end with byte 20",
        ),
        (
            "TAL without separator",
            {
                let mut b = header("EDF+C", "1", "1", &[sig("ECG", 1), ann(4)]);
                b.extend(samples(&[1]));
                b.extend(tals("+0\0", 4));
                b
            },
            "malformed",
            "no byte 20",
        ),
        (
            "EDF+D overlap",
            {
                let mut b = header("EDF+D", "2", "1", &[sig("ECG", 2), ann(4)]);
                b.extend(samples(&[1, 2]));
                b.extend(tals("+0\x14\x14\0", 4));
                b.extend(samples(&[3, 4]));
                b.extend(tals("+0.5\x14\x14\0", 4));
                b
            },
            "malformed",
            "data record 1",
        ),
        (
            "EDF+D without time keeping",
            {
                let mut b = header("EDF+D", "1", "1", &[sig("ECG", 2), ann(4)]);
                b.extend(samples(&[1, 2]));
                b.extend(tals("+0\x14x\x14\0", 4));
                b
            },
            "malformed",
            "time-keeping",
        ),
        (
            "EDF+D without annotation signal",
            {
                let mut b = header("EDF+D", "1", "1", &[sig("ECG", 2)]);
                b.extend(samples(&[1, 2]));
                b
            },
            "malformed",
            "EDF Annotations",
        ),
        (
            "EDF+D record far away",
            {
                let mut b = header("EDF+D", "2", "1", &[sig("ECG", 2), ann(8)]);
                b.extend(samples(&[1, 2]));
                b.extend(tals("+0\x14\x14\0", 8));
                b.extend(samples(&[3, 4]));
                b.extend(tals("+99999999999\x14\x14\0", 8));
                b
            },
            "too_large",
            "data record 1",
        ),
        (
            "digital range",
            {
                let mut b = header(
                    "",
                    "1",
                    "1",
                    &[Sig {
                        dmax: "40000",
                        ..sig("ECG", 1)
                    }],
                );
                b.extend(samples(&[1]));
                b
            },
            "malformed",
            "16-bit",
        ),
        (
            "digital min >= max",
            {
                let mut b = header(
                    "",
                    "1",
                    "1",
                    &[Sig {
                        dmin: "5",
                        dmax: "5",
                        ..sig("ECG", 1)
                    }],
                );
                b.extend(samples(&[1]));
                b
            },
            "malformed",
            "digital minimum",
        ),
        (
            "physical min = max",
            {
                let mut b = header(
                    "",
                    "1",
                    "1",
                    &[Sig {
                        pmin: "1",
                        pmax: "1",
                        ..sig("ECG", 1)
                    }],
                );
                b.extend(samples(&[1]));
                b
            },
            "malformed",
            "physical minimum",
        ),
        (
            "physical non-numeric",
            {
                let mut b = header(
                    "",
                    "1",
                    "1",
                    &[Sig {
                        pmin: "abc",
                        ..sig("ECG", 1)
                    }],
                );
                b.extend(samples(&[1]));
                b
            },
            "malformed",
            "signal 0 (\"ECG\") physical minimum",
        ),
        (
            "negative samples per record",
            {
                let mut b = header("", "1", "1", &[sig("ECG", 1)]);
                let at = 256 + 16 + 80 + 8 * 5 + 80;
                b[at..at + 8].copy_from_slice(b"-1      ");
                b
            },
            "malformed",
            "samples per data record",
        ),
        (
            "zero-byte records",
            header("", "1", "1", &[sig("ECG", 0)]),
            "malformed",
            "data records are empty",
        ),
        (
            "duration 0 with signals",
            {
                let mut b = header("", "1", "0", &[sig("ECG", 1)]);
                b.extend(samples(&[1]));
                b
            },
            "malformed",
            "duration of a data record is 0",
        ),
        (
            "huge samples per record, tiny file",
            {
                let sigs = vec![sig("ECG", 99_999_999); 40];
                header("", "1", "1", &sigs)
            },
            "truncated",
            "need",
        ),
        (
            "baseline beyond i32",
            {
                let mut b = header(
                    "",
                    "1",
                    "1",
                    &[Sig {
                        pmin: "1000000",
                        pmax: "1000001",
                        ..sig("ECG", 1)
                    }],
                );
                b.extend(samples(&[1]));
                b
            },
            "unsupported",
            "baseline",
        ),
    ];
    for (name, bytes, want, needle) in cases {
        let (k, msg) = kind(parse_edf(&bytes));
        assert_eq!(k, want, "{name}: {msg}");
        assert!(msg.contains(needle), "{name}: {msg:?} lacks {needle:?}");
    }
}

#[test]
fn read_edf_names_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("bad.edf");
    std::fs::write(&p, b"0       short").unwrap();
    let e = read_edf(&p).unwrap_err();
    assert!(e.to_string().contains("bad.edf"), "{e}");
    let e = read_edf(tmp.path().join("absent.edf")).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Io(_)));
}

// ---------------------------------------------------------------- writer

fn wfdb_like(frames: usize, ff: f64) -> Recording {
    let s = |name: &str, spf: u32, f: fn(usize) -> i32| Signal {
        description: name.to_string(),
        units: "mV".to_string(),
        gain: 200.0,
        baseline: 1024,
        adc_resolution: 11,
        adc_zero: 1024,
        samples_per_frame: spf,
        samples: (0..frames * spf as usize).map(f).collect(),
    };
    Recording {
        name: "rec".to_string(),
        frame_frequency: ff,
        frames: frames as u64,
        base_datetime: Some(BaseDateTime {
            time: Some(TimeOfDay {
                hour: 8,
                minute: 9,
                second: 10,
                micros: 0,
            }),
            date: Some(Date {
                year: 1975,
                month: 6,
                day: 7,
            }),
        }),
        signals: vec![
            s("MLII", 1, |i| (i * 37 % 2048) as i32),
            s("V5", 2, |i| 2047 - (i * 11 % 2048) as i32),
        ],
        info: vec!["69 M 1085 1629 x1".to_string()],
    }
}

#[test]
fn writer_round_trips_a_wfdb_like_recording() {
    let rec = wfdb_like(720, 360.0);
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("w.edf");
    let w = write_edf(&p, &rec).unwrap();
    // 1975 is before EDF's 1985 in the header; with no EDF+ field to hold it, a warning.
    assert_eq!(w.len(), 1, "{w:?}");
    let e = read_edf(&p).unwrap();
    assert_eq!(e.kind, EdfKind::Edf);
    assert_eq!(e.record_duration, 1.0);
    assert_eq!(e.recording.frame_frequency, 360.0);
    assert_eq!(e.recording.frames, 720);
    for (a, b) in e.recording.signals.iter().zip(&rec.signals) {
        assert_eq!(a.samples, b.samples);
        assert_eq!((a.gain, a.baseline), (b.gain, b.baseline));
        assert_eq!(a.samples_per_frame, b.samples_per_frame);
    }
    // EDF+ keeps the 1975 date (recording field) and a sub-second start time.
    let mut rec = rec;
    rec.base_datetime
        .as_mut()
        .unwrap()
        .time
        .as_mut()
        .unwrap()
        .micros = 125_000;
    let anns = [EdfAnnotation {
        onset: 1.5,
        duration: None,
        text: "N".to_string(),
    }];
    let w = write_edf_plus(&p, &rec, &anns).unwrap();
    assert!(w.is_empty(), "{w:?}");
    let e = read_edf(&p).unwrap();
    assert_eq!(e.recording.base_datetime, rec.base_datetime);
    assert_eq!(e.annotations, anns);
    assert_eq!(e.start_offset, 0.125);
}

/// Issue 16 item 6: padding and missing samples are marked (-32768 below a digital minimum of
/// -32767 or more), so the round trip keeps the length and the missing samples.
#[test]
fn writer_pads_and_marks_missing() {
    let mut rec = wfdb_like(365, 360.0); // 365 frames: no exact record length divides 365 at 360 Hz
    rec.signals[0].samples[3] = MISSING;
    let (bytes, w) = encode_edf(&rec, None).unwrap();
    assert!(
        !w.iter()
            .any(|m| m.contains("missing") || m.contains("padded")),
        "{w:?}"
    );
    // The file itself is padded: its data records hold more than 365 frames.
    let field = |at: usize| {
        String::from_utf8_lossy(&bytes[at..at + 8])
            .trim()
            .to_string()
    };
    let records: f64 = field(236).parse().unwrap();
    let duration: f64 = field(244).parse().unwrap();
    assert!(
        (records * duration * 360.0).round() > 365.0,
        "no padding to test"
    );
    let e = parse_edf(&bytes).unwrap();
    assert!(
        !e.warnings.iter().any(|m| m.contains("frames")),
        "{:?}",
        e.warnings
    );
    assert_eq!(e.recording.frames, 365);
    let s = &e.recording.signals[0];
    assert_eq!(s.samples[3], MISSING);
    assert_eq!(s.samples[..3], rec.signals[0].samples[..3]);
    assert_eq!(s.samples[4..], rec.signals[0].samples[4..]);
    assert_eq!(e.recording.signals[1].samples, rec.signals[1].samples);
    // The declared digital minimum is above -32768, which marks what is not a sample.
    let ns = e.recording.signals.len();
    let dmin = String::from_utf8_lossy(&bytes[256 + ns * (16 + 80 + 8 + 8 + 8)..][..8])
        .trim()
        .parse::<i32>()
        .unwrap();
    assert!(dmin > -32768, "{dmin}");

    // A signal that needs the whole 16-bit range cannot be marked: said so.
    let mut full = wfdb_like(365, 360.0);
    full.signals[0].samples[0] = -32768;
    full.signals[0].samples[1] = 32767;
    full.signals[0].adc_resolution = 16;
    full.signals[0].adc_zero = 0;
    let (_, w) = encode_edf(&full, None).unwrap();
    assert!(w.iter().any(|m| m.contains("padded")), "{w:?}");
}

#[test]
fn writer_errors() {
    let mut rec = wfdb_like(10, 360.0);
    rec.signals[0].samples[0] = 40_001; // odd and beyond 16 bits
    let e = encode_edf(&rec, None).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Invalid(_)));
    assert!(e.to_string().contains("signal 0 (\"MLII\")"), "{e}");
    // Even values beyond 16 bits are written halved, losslessly (gain halved too).
    for v in &mut rec.signals[0].samples {
        *v *= 2;
    }
    rec.signals[0].samples[0] = 40_000;
    let (b, _) = encode_edf(&rec, None).unwrap();
    let back = parse_edf(&b).unwrap();
    for i in 0..10 {
        let (x, y) = (
            back.recording.signals[0].physical(i),
            rec.signals[0].physical(i),
        );
        assert!((x - y).abs() < 1e-12, "{x} {y}");
    }
    let mut rec = wfdb_like(10, 360.0);
    rec.frame_frequency = 0.0;
    assert!(encode_edf(&rec, None).is_err());
    let mut rec = wfdb_like(10, 360.0);
    rec.signals[1].samples.pop();
    assert!(encode_edf(&rec, None).is_err());
    let mut rec = wfdb_like(10, 360.0);
    rec.signals.clear();
    assert!(encode_edf(&rec, None).is_err());
    let rec = wfdb_like(10, 360.0);
    let bad = [EdfAnnotation {
        onset: f64::NAN,
        duration: None,
        text: String::new(),
    }];
    assert!(encode_edf(&rec, Some(&bad)).is_err());
}

#[test]
fn writer_handles_awkward_gain() {
    // Gain 123.456, baseline 7: no standard range gives exact physical limits in 8 characters.
    let mut rec = wfdb_like(50, 250.0);
    for s in &mut rec.signals {
        s.gain = 123.456;
        s.baseline = 7;
        s.adc_resolution = 0;
    }
    let (b, w) = encode_edf(&rec, None).unwrap();
    assert!(w.iter().all(|m| !m.contains("rounded")), "{w:?}");
    let back = parse_edf(&b).unwrap();
    for (a, s) in back.recording.signals.iter().zip(&rec.signals) {
        assert_eq!(a.samples, s.samples);
        for i in 0..a.samples.len() {
            assert!((a.physical(i) - s.physical(i)).abs() < 1e-9);
        }
    }
}

// ---------------------------------------------------------------- MIT-BIH

/// Decode MIT-BIH format 212 (two 12-bit samples in three bytes) for the test only.
fn decode_212(bytes: &[u8]) -> Vec<i32> {
    let mut out = Vec::with_capacity(bytes.len() / 3 * 2);
    for c in bytes.chunks_exact(3) {
        let a = i32::from(c[0]) | (i32::from(c[1] & 0x0F) << 8);
        let b = i32::from(c[2]) | (i32::from(c[1] >> 4) << 8);
        out.push(if a >= 2048 { a - 4096 } else { a });
        out.push(if b >= 2048 { b - 4096 } else { b });
    }
    out
}

#[test]
fn mitdb_100_round_trips_through_edf() {
    let Some(dir) = sinus_io::datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let all = decode_212(&std::fs::read(dir.join("100.dat")).unwrap());
    assert_eq!(all.len(), 1_300_000);
    let sig = |k: usize, name: &str| Signal {
        description: name.to_string(),
        units: "mV".to_string(),
        gain: 200.0,
        baseline: 1024,
        adc_resolution: 11,
        adc_zero: 1024,
        samples_per_frame: 1,
        samples: all.iter().skip(k).step_by(2).copied().collect(),
    };
    let rec = Recording {
        name: "100".to_string(),
        frame_frequency: 360.0,
        frames: 650_000,
        base_datetime: None,
        signals: vec![sig(0, "MLII"), sig(1, "V5")],
        info: vec![],
    };
    let (bytes, w) = encode_edf(&rec, None).unwrap();
    // 650000 frames at 360 Hz: records of 0.5 s... none divides exactly → last record padded.
    assert!(w.iter().all(|m| m.contains("padded")), "{w:?}");
    let back = parse_edf(&bytes).unwrap();
    assert_eq!(back.recording.frame_frequency, 360.0);
    for (a, b) in back.recording.signals.iter().zip(&rec.signals) {
        assert_eq!(&a.samples[..650_000], &b.samples[..]);
        assert_eq!((a.gain, a.baseline), (200.0, 1024));
        assert_eq!(a.physical(0), b.physical(0));
    }
    // First samples of record 100 (MLII, V5) as published: -0.145 mV and -0.065 mV.
    assert_eq!(back.recording.signals[0].physical(0), -0.145);
    assert_eq!(back.recording.signals[1].physical(0), -0.065);
}

// ---------------------------------------------------------------- fuzzing

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_edf(&bytes);
    }

    #[test]
    fn mutated_valid_file_never_panics(
        edits in proptest::collection::vec((0usize..2000, any::<u8>()), 1..8),
        cut in 0usize..2000,
    ) {
        let mut b = edf_plus_d();
        for (at, v) in edits {
            let n = b.len();
            b[at % n] = v;
        }
        let _ = parse_edf(&b);
        b.truncate(cut);
        let _ = parse_edf(&b);
    }

    #[test]
    fn mutated_header_digits_never_panic(
        field in 0usize..6,
        text in "[-+0-9. eE]{0,8}",
    ) {
        let mut b = edf_plus_d();
        let at = [184, 236, 244, 252, 256 + 3 * 16 + 3 * 80 + 3 * 8 * 4, 256 + 3 * 16 + 3 * 80 + 3 * 8 * 4 + 3 * 80][field];
        let t = pad(&text, 8);
        let len = if field == 3 { 4 } else { 8 };
        b[at..at + len].copy_from_slice(&t.as_bytes()[..len]);
        let _ = parse_edf(&b);
    }

    #[test]
    fn write_read_round_trip(
        values in proptest::collection::vec(-2048i32..2048, 1..200),
        gain in prop_oneof![Just(200.0), Just(1000.0), Just(0.5), Just(65535.0 / 10.0)],
        baseline in -100i32..100,
        ff in prop_oneof![Just(360.0), Just(250.0), Just(128.0), Just(500.0), Just(1000.0 / 3.0)],
    ) {
        let rec = Recording {
            name: "p".into(),
            frame_frequency: ff,
            frames: values.len() as u64,
            base_datetime: None,
            signals: vec![Signal {
                description: "X".into(),
                units: "mV".into(),
                gain,
                baseline,
                adc_resolution: 12,
                adc_zero: 0,
                samples_per_frame: 1,
                samples: values.clone(),
            }],
            info: vec![],
        };
        let (b, _) = encode_edf(&rec, None).unwrap();
        let back = parse_edf(&b).unwrap();
        let s = &back.recording.signals[0];
        prop_assert!((back.recording.frame_frequency - ff).abs() < 1e-9 * ff);
        for (i, v) in values.iter().enumerate() {
            let want = rec.signals[0].to_physical(*v);
            prop_assert!((s.physical(i) - want).abs() <= 1e-9 * want.abs().max(1.0),
                "{} vs {}", s.physical(i), want);
        }
    }
}
