//! WFDB storage formats end to end: MIT-BIH signal files, FLAC fixtures written by wfdb-python
//! (see tests/data/README.md), and properties over random layouts and bytes.

use proptest::prelude::*;
use sinus_io::wfdb::format::{decode, encode, SignalFormat};
use sinus_io::{datasets, ErrorKind, MISSING};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

// ---------------------------------------------------------------------------------------------
// MIT-BIH

#[test]
fn mitdb_100_matches_wfdb_python() {
    let Some(dir) = datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let data = std::fs::read(dir.join("100.dat")).unwrap();
    let s = decode(SignalFormat::Fmt212, &data, &[1, 1], &[995, 1011], None).unwrap();
    assert_eq!(s.len(), 2 * 650_000);
    let frame = |i: usize| (s[2 * i], s[2 * i + 1]);
    // Values from wfdb-python 4.3.1: rdrecord('100', physical=False).d_signal.
    for i in 0..5 {
        assert_eq!(frame(i), (995, 1011), "frame {i}");
    }
    assert_eq!(frame(1000), (945, 970));
    assert_eq!(frame(123_456), (929, 938));
    assert_eq!(frame(325_000), (953, 979));
    assert_eq!(frame(649_998), (871, 957));
    assert_eq!(frame(649_999), (768, 1024));
    let sum = |k: usize| {
        s.iter()
            .skip(k)
            .step_by(2)
            .map(|&v| i64::from(v))
            .sum::<i64>()
    };
    assert_eq!((sum(0), sum(1)), (625_781_133, 640_765_524));
    let min = |k: usize| s.iter().skip(k).step_by(2).min().copied();
    let max = |k: usize| s.iter().skip(k).step_by(2).max().copied();
    assert_eq!((min(0), min(1)), (Some(481), Some(531)));
    assert_eq!((max(0), max(1)), (Some(1311), Some(1269)));

    // Stopping early gives the same first frames.
    let head = decode(SignalFormat::Fmt212, &data, &[1, 1], &[], Some(1001)).unwrap();
    assert_eq!(head, s[..2002]);
}

/// The fields of a single-segment header this test needs: (signal length, per signal: format,
/// initial value, checksum).
fn header_checks(text: &str) -> (u64, Vec<(u32, i32, i32)>) {
    let mut lines = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty());
    let rec: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    let nsig: usize = rec[1].parse().unwrap();
    let sig_len: u64 = rec[3].parse().unwrap();
    let sigs = lines
        .take(nsig)
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[1].parse().unwrap(),
                f[5].parse().unwrap(),
                f[6].parse().unwrap(),
            )
        })
        .collect();
    (sig_len, sigs)
}

#[test]
fn mitdb_all_records_match_header_checksums() {
    let Some(dir) = datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    for rec in datasets::MITDB_RECORDS {
        let hea = std::fs::read_to_string(dir.join(format!("{rec}.hea"))).unwrap();
        let (sig_len, sigs) = header_checks(&hea);
        assert!(sigs.iter().all(|s| s.0 == 212), "{rec}");
        let data = std::fs::read(dir.join(format!("{rec}.dat"))).unwrap();
        let initial: Vec<i32> = sigs.iter().map(|s| s.1).collect();
        let spf = vec![1; sigs.len()];
        let s = decode(SignalFormat::Fmt212, &data, &spf, &initial, Some(sig_len)).unwrap();
        assert_eq!(s.len() as u64, sig_len * sigs.len() as u64, "{rec}");
        for (k, &(_, init, checksum)) in sigs.iter().enumerate() {
            // WFDB's checksum: the sum of the signal's samples, kept to 16 bits (two's complement).
            let sum = s
                .iter()
                .skip(k)
                .step_by(sigs.len())
                .fold(0i32, |a, &v| a.wrapping_add(v));
            assert_eq!(sum as i16, checksum as i16, "record {rec} signal {k}");
            assert_eq!(s[k], init, "record {rec} signal {k} initial value");
            assert!(!s.contains(&MISSING), "{rec}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// FLAC fixtures

/// The samples wfdb-python read from a fixture, frame-ordered, `M` as MISSING.
fn expected(name: &str) -> Vec<i32> {
    std::fs::read_to_string(fixture(&format!("{name}.expected")))
        .unwrap()
        .lines()
        .map(|l| {
            if l == "M" {
                MISSING
            } else {
                l.parse().unwrap()
            }
        })
        .collect()
}

const FLAC_FIXTURES: [(&str, SignalFormat, &[u32]); 3] = [
    ("flac516", SignalFormat::Flac516, &[1, 1]),
    ("flac508", SignalFormat::Flac508, &[2, 2, 2]),
    ("flac524", SignalFormat::Flac524, &[1]),
];

#[test]
fn flac_fixtures_match_wfdb_python() {
    for (name, format, spf) in FLAC_FIXTURES {
        let data = std::fs::read(fixture(&format!("{name}.flac"))).unwrap();
        let want = expected(name);
        let got = decode(format, &data, spf, &[], None).unwrap();
        assert_eq!(got.len(), want.len(), "{name}");
        assert_eq!(got, want, "{name}");
        assert!(got.contains(&MISSING), "{name} has a missing sample");
        let frame_len: usize = spf.iter().map(|&n| n as usize).sum();
        for k in [0u64, 1, 7, 149, 150, 10_000] {
            let got = decode(format, &data, spf, &[], Some(k)).unwrap();
            let n = (k as usize * frame_len).min(want.len());
            assert_eq!(got, want[..n], "{name} max_frames {k}");
        }
    }
    // Pinned by hand from the fixture description: frame 10 of flac516 is missing in signal 0,
    // frame 20 holds the extremes.
    let s = expected("flac516");
    assert_eq!(s[20], MISSING);
    assert_eq!(s[23], MISSING);
    assert_eq!((s[40], s[41]), (32767, -32767));
}

#[test]
fn flac_layout_mismatches_are_errors() {
    let d516 = std::fs::read(fixture("flac516.flac")).unwrap();
    let d524 = std::fs::read(fixture("flac524.flac")).unwrap();
    let e = decode(SignalFormat::Flac516, &d516, &[1], &[], None).unwrap_err();
    assert!(e.to_string().contains("channels"), "{e}");
    let e = decode(SignalFormat::Flac516, &d516, &[1, 2], &[], None).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Unsupported(_)), "{e}");
    let e = decode(SignalFormat::Flac516, &d524, &[1], &[], None).unwrap_err();
    assert!(e.to_string().contains("bits"), "{e}");
    // A 16-bit stream is fine where 24 bits are allowed (WFDB only bounds the resolution).
    let got = decode(SignalFormat::Flac524, &d516, &[1, 1], &[], None).unwrap();
    assert_eq!(got.len(), expected("flac516").len());
}

#[test]
fn flac_truncated_keeps_whole_frames_or_errs() {
    let data = std::fs::read(fixture("flac516.flac")).unwrap();
    let want = expected("flac516");
    for cut in (0..data.len()).step_by(7) {
        match decode(SignalFormat::Flac516, &data[..cut], &[1, 1], &[], None) {
            Ok(got) => assert_eq!(got, want[..got.len()], "cut {cut}"),
            Err(e) => assert!(
                matches!(e.kind, ErrorKind::Truncated(_) | ErrorKind::Malformed(_)),
                "cut {cut}: {e}"
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Properties

const PLAIN: [SignalFormat; 10] = [
    SignalFormat::Fmt8,
    SignalFormat::Fmt16,
    SignalFormat::Fmt24,
    SignalFormat::Fmt32,
    SignalFormat::Fmt61,
    SignalFormat::Fmt80,
    SignalFormat::Fmt160,
    SignalFormat::Fmt212,
    SignalFormat::Fmt310,
    SignalFormat::Fmt311,
];

/// A format, a layout, the initial values and frame-ordered samples it can store.
fn storable() -> impl Strategy<Value = (SignalFormat, Vec<u32>, Vec<i32>, Vec<i32>)> {
    (
        proptest::sample::select(PLAIN.to_vec()),
        proptest::collection::vec(1u32..=3, 1..=4),
        0usize..40,
    )
        .prop_flat_map(|(format, spf, frames)| {
            let nsig = spf.len();
            let frame_len: u32 = spf.iter().sum();
            let n = frames * frame_len as usize;
            let (lo, hi) = format.valid_range();
            let value = prop_oneof![
                1 => Just(MISSING),
                1 => Just(lo),
                1 => Just(hi),
                12 => lo..=hi,
            ];
            (
                Just(format),
                Just(spf),
                proptest::collection::vec(-1_000_000i32..1_000_000, nsig),
                proptest::collection::vec(value, n),
                proptest::collection::vec(-128i32..=127, n),
            )
        })
        .prop_map(|(format, spf, initial, values, diffs)| {
            if format != SignalFormat::Fmt8 {
                return (format, spf, initial, values);
            }
            // Format 8 stores differences: build each signal as a walk from its initial value.
            let mut prev = initial.clone();
            let mut samples = Vec::with_capacity(diffs.len());
            let mut d = diffs.iter();
            while samples.len() < diffs.len() {
                for (s, &m) in spf.iter().enumerate() {
                    for _ in 0..m {
                        prev[s] += d.next().unwrap();
                        samples.push(prev[s]);
                    }
                }
            }
            (format, spf, initial, samples)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn encode_then_decode_round_trips((format, spf, initial, samples) in storable()) {
        let bytes = encode(format, &samples, &spf, &initial).unwrap();
        let frame_len: usize = spf.iter().map(|&n| n as usize).sum();
        let frames = (samples.len() / frame_len) as u64;
        let got = decode(format, &bytes, &spf, &initial, Some(frames)).unwrap();
        prop_assert_eq!(&got, &samples);
        // Without a limit, only 310/311 may show WFDB's padding sample, and only when it
        // completes a frame.
        let all = decode(format, &bytes, &spf, &initial, None).unwrap();
        let padded = matches!(format, SignalFormat::Fmt310 | SignalFormat::Fmt311)
            && samples.len() % 3 == 2
            && frame_len == 1;
        if padded {
            prop_assert_eq!(&all[..samples.len()], &samples[..]);
            prop_assert_eq!(&all[samples.len()..], &[0][..]);
        } else {
            prop_assert_eq!(&all, &samples);
        }
    }

    #[test]
    fn flac_encode_then_decode_round_trips(
        format in proptest::sample::select(vec![
            SignalFormat::Flac508,
            SignalFormat::Flac516,
            SignalFormat::Flac524,
        ]),
        nsig in 1usize..=8,
        spf in 1u32..=3,
        frames in 0usize..1500,
        seed in any::<u64>(),
        step in 0u32..=24,
    ) {
        // Random walks with random step sizes (0 gives constant subframes, 24 noise).
        let (lo, hi) = format.valid_range();
        let mut x = seed;
        let mut walk = vec![0i64; nsig];
        let mut samples = Vec::new();
        for _ in 0..frames {
            for w in walk.iter_mut() {
                for _ in 0..spf {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let d = (x % (1 << step.min(23))) as i64 - (1 << step.min(23)) / 2;
                    *w = (*w + d).clamp(i64::from(lo), i64::from(hi));
                    samples.push(if x % 97 == 0 { MISSING } else { *w as i32 });
                }
            }
        }
        let layout = vec![spf; nsig];
        let bytes = encode(format, &samples, &layout, &[]).unwrap();
        prop_assert_eq!(decode(format, &bytes, &layout, &[], None).unwrap(), samples);
    }

    #[test]
    fn encode_rejects_values_outside_the_format(
        format in proptest::sample::select(PLAIN[1..].to_vec()),
        bad in any::<i32>(),
    ) {
        let (lo, hi) = format.valid_range();
        prop_assume!(bad != MISSING && (bad < lo || bad > hi));
        let e = encode(format, &[0, bad, 0], &[1], &[0]).unwrap_err();
        prop_assert!(matches!(e.kind, ErrorKind::Invalid(_)));
        prop_assert!(e.to_string().contains(&bad.to_string()));
    }

    #[test]
    fn decode_of_arbitrary_bytes_never_panics(
        code in proptest::sample::select(vec![8u32, 16, 24, 32, 61, 80, 160, 212, 310, 311, 508, 516, 524]),
        data in proptest::collection::vec(any::<u8>(), 0..300),
        spf in proptest::collection::vec(0u32..=4, 0..=4),
        initial in proptest::collection::vec(any::<i32>(), 0..=4),
        max_frames in proptest::option::of(0u64..100),
    ) {
        let format = SignalFormat::from_code(code).unwrap();
        if let Ok(s) = decode(format, &data, &spf, &initial, max_frames) {
            let frame_len: usize = spf.iter().map(|&n| n as usize).sum();
            prop_assert!(frame_len > 0);
            prop_assert_eq!(s.len() % frame_len, 0);
            if let Some(m) = max_frames {
                prop_assert!(s.len() as u64 <= m * frame_len as u64);
            }
        }
    }

    #[test]
    fn damaged_flac_never_panics(
        which in 0usize..3,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..6),
        cut in any::<prop::sample::Index>(),
        max_frames in proptest::option::of(0u64..500),
    ) {
        let (name, format, spf) = FLAC_FIXTURES[which];
        let mut data = std::fs::read(fixture(&format!("{name}.flac"))).unwrap();
        for (at, x) in flips {
            let i = at.index(data.len());
            data[i] ^= x;
        }
        data.truncate(cut.index(data.len() + 1));
        if let Ok(s) = decode(format, &data, spf, &[], max_frames) {
            let frame_len: usize = spf.iter().map(|&n| n as usize).sum();
            prop_assert_eq!(s.len() % frame_len, 0);
        }
    }
}
