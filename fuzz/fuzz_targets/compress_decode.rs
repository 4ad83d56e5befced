//! The Holter store's sample codec (`sinus_core::compress`): any bytes must decode to an error or
//! to samples, never a panic; any samples (the same bytes read as i32, one or two leads) must
//! round-trip bit-exactly through the encoder.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sinus_core::compress::{decode, encode, max_encoded_len, BlockInfo, MAX_SAMPLES};

fuzz_target!(|data: &[u8]| {
    let mut out = vec![0i32; 2 * MAX_SAMPLES];
    let _ = decode(data, &mut out);

    // The first byte picks one or two leads; the rest are little-endian i32 samples.
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let samples: Vec<i32> = rest
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let two = mode & 1 == 1 && samples.len() >= 2;
    let (a, b) = if two {
        samples.split_at(samples.len() / 2)
    } else {
        (&samples[..], &[][..])
    };
    // Equal lengths (the odd sample of an odd count is left out), at most one block's worth.
    let a = &a[..a.len().min(MAX_SAMPLES)];
    let b = &b[..a.len().min(b.len())];
    let leads: Vec<&[i32]> = if two { vec![a, b] } else { vec![a] };
    let mut buf = vec![0u8; max_encoded_len(leads.len(), a.len())];
    let len = encode(&leads, &mut buf).expect("fits in max_encoded_len");
    let info = decode(&buf[..len], &mut out).expect("an encoded block decodes");
    assert_eq!(
        info,
        BlockInfo {
            leads: leads.len(),
            samples: a.len()
        }
    );
    for (k, lead) in leads.iter().enumerate() {
        assert_eq!(&out[k * a.len()..(k + 1) * a.len()], *lead);
    }
    // A block cut short: an error or garbage, never a panic.
    let _ = decode(&buf[..len / 2], &mut out);
});
