extern crate std;
use super::*;
use proptest::prelude::*;
use std::vec;
use std::vec::Vec;

/// Encode, decode and check the round trip; returns the block size.
fn round_trip(leads: &[&[i32]]) -> usize {
    let n = leads[0].len();
    let mut buf = vec![0u8; max_encoded_len(leads.len(), n)];
    let len = encode(leads, &mut buf).expect("encodes");
    let mut out = vec![0i32; leads.len() * n];
    let info = decode(&buf[..len], &mut out).expect("decodes");
    assert_eq!(
        info,
        BlockInfo {
            leads: leads.len(),
            samples: n
        }
    );
    for (k, lead) in leads.iter().enumerate() {
        assert_eq!(&out[k * n..(k + 1) * n], *lead, "lead {k}");
    }
    len
}

/// A synthetic ECG-like signal: spikes on a slow wave plus a little pseudo-random noise.
fn synthetic(n: usize, seed: u32) -> Vec<i32> {
    let mut s = seed | 1;
    (0..n)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let phase = (i % 300) as i32;
            let qrs = if (100..110).contains(&phase) {
                400 - 80 * (phase - 105).abs()
            } else {
                0
            };
            1024 + qrs + ((i as i32 / 7) % 40) + (s % 5) as i32 - 2
        })
        .collect()
}

#[test]
fn empty_and_tiny_blocks() {
    round_trip(&[&[]]);
    round_trip(&[&[], &[]]);
    round_trip(&[&[7]]);
    round_trip(&[&[i32::MIN], &[i32::MAX]]);
}

#[test]
fn constant_block_is_tiny() {
    let x = vec![1000; 3600];
    let len = round_trip(&[&x, &x]);
    assert!(len < 40, "{len} bytes");
}

#[test]
fn extreme_values_round_trip() {
    let x: Vec<i32> = (0..2000)
        .map(|i| match i % 4 {
            0 => i32::MIN,
            1 => i32::MAX,
            2 => 0,
            _ => -1,
        })
        .collect();
    let y: Vec<i32> = x.iter().rev().copied().collect();
    round_trip(&[&x, &y]);
    round_trip(&[&x]);
}

#[test]
fn synthetic_ecg_compresses() {
    let a = synthetic(3600, 1);
    let b: Vec<i32> = a.iter().map(|v| v / 2 + 3).collect();
    let len = round_trip(&[&a, &b]);
    assert!(len * 4 < 2 * 2 * 3600, "{len} bytes");
}

#[test]
fn bad_inputs_are_refused() {
    let mut buf = [0u8; 64];
    assert_eq!(encode(&[], &mut buf), Err(Error::Leads));
    assert_eq!(encode(&[&[1, 2], &[1]], &mut buf), Err(Error::Leads));
    assert_eq!(encode(&[&[1], &[1], &[1]], &mut buf), Err(Error::Leads));
    let long = vec![0; MAX_SAMPLES + 1];
    assert_eq!(encode(&[&long], &mut buf), Err(Error::TooLong));
    let noisy = synthetic(1000, 9);
    assert_eq!(encode(&[&noisy], &mut buf), Err(Error::OutputTooSmall));
    assert_eq!(encode(&[&noisy], &mut buf[..2]), Err(Error::OutputTooSmall));
    let mut out = [0i32; 4];
    assert_eq!(decode(&[], &mut out), Err(Error::Header));
    assert_eq!(decode(&[0x20, 1, 0], &mut out), Err(Error::Header));
    assert_eq!(decode(&[0x12, 1, 0], &mut out), Err(Error::Header));
    assert_eq!(decode(&[0x10, 5, 0], &mut out), Err(Error::OutputTooSmall));
}

#[test]
fn appended_bytes_are_detected() {
    let x = synthetic(500, 3);
    let mut buf = vec![0u8; max_encoded_len(1, 500) + 16];
    let len = encode(&[&x], &mut buf).unwrap();
    let mut out = vec![0; 500];
    buf[len..len + 16].fill(0x55);
    assert_eq!(decode(&buf[..len + 16], &mut out), Err(Error::Corrupt));
    buf[len] = 0;
    assert_eq!(decode(&buf[..len + 1], &mut out), Err(Error::Corrupt));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_i32_round_trips(a in proptest::collection::vec(any::<i32>(), 0..600), two in any::<bool>()) {
        let b: Vec<i32> = a.iter().map(|v| v.wrapping_mul(3)).collect();
        if two { round_trip(&[&a, &b]); } else { round_trip(&[&a]); }
    }

    #[test]
    fn i16_noise_round_trips(a in proptest::collection::vec(any::<i16>(), 0..2000)) {
        let a: Vec<i32> = a.into_iter().map(i32::from).collect();
        let len = round_trip(&[&a]);
        // Full-range noise cannot be compressed, but must not blow up far beyond 16 bits.
        prop_assert!(len <= HEADER_BYTES + 8 + a.len() * 3);
    }

    #[test]
    fn steps_round_trip(levels in proptest::collection::vec((any::<i32>(), 1usize..200), 1..20)) {
        let a: Vec<i32> = levels.iter().flat_map(|&(v, n)| core::iter::repeat_n(v, n)).collect();
        let a = &a[..a.len().min(MAX_SAMPLES)];
        round_trip(&[a, a]);
    }

    #[test]
    fn ecg_like_round_trips(n in 0usize..4000, seed in any::<u32>(), off in any::<i32>()) {
        let a: Vec<i32> = synthetic(n, seed).into_iter().map(|v| v.wrapping_add(off)).collect();
        let b: Vec<i32> = synthetic(n, seed ^ 77);
        round_trip(&[&a, &b]);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut out = vec![0i32; 2 * MAX_SAMPLES];
        let _ = decode(&bytes, &mut out);
    }

    #[test]
    fn corrupted_blocks_never_panic(seed in any::<u32>(), pos in any::<usize>(), flip in 1u8..=255) {
        let a = synthetic(400, seed);
        let mut buf = vec![0u8; max_encoded_len(2, 400)];
        let len = encode(&[&a, &a], &mut buf).unwrap();
        let p = HEADER_BYTES + pos % (len - HEADER_BYTES).max(1);
        buf[p.min(len - 1)] ^= flip;
        let mut out = vec![0i32; 800];
        let _ = decode(&buf[..len], &mut out);
        let _ = decode(&buf[..len / 2], &mut out);
    }
}
