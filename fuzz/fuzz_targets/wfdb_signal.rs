//! Fuzz the WFDB sample decoders: the first bytes choose the format and frame layout, the rest is
//! the signal file. Decoding must return samples or an error, never panic; successful decodes
//! of uncompressed formats must re-encode to a decodable stream.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sinus_io::wfdb::format::{decode, encode, SignalFormat};

const FORMATS: [u32; 13] = [8, 16, 24, 32, 61, 80, 160, 212, 310, 311, 508, 516, 524];

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let format = SignalFormat::from_code(FORMATS[data[0] as usize % FORMATS.len()]).unwrap();
    let nsig = 1 + (data[1] % 4) as usize;
    let spf: Vec<u32> = (0..nsig).map(|i| 1 + u32::from((data[2] >> (2 * i)) & 3)).collect();
    let initial: Vec<i32> = (0..nsig).map(|i| i32::from(data[3]) * (i as i32 + 1) - 128).collect();
    let max_frames = if data[1] & 0x80 != 0 { Some(u64::from(data[1] & 0x3f)) } else { None };
    let body = &data[4..];
    if let Ok(samples) = decode(format, body, &spf, &initial, max_frames) {
        let frame: usize = spf.iter().map(|&s| s as usize).sum();
        assert_eq!(samples.len() % frame, 0, "only complete frames");
        if !format.is_flac() && format != SignalFormat::Fmt8 {
            let bytes = encode(format, &samples, &spf, &initial).expect("decoded samples encode");
            // Packed formats cannot tell a padded last group from real samples, so the frame
            // count is passed along as the header's sample count would be.
            let frames = (samples.len() / frame) as u64;
            let again = decode(format, &bytes, &spf, &initial, Some(frames)).expect("re-decode");
            assert_eq!(again, samples);
        }
    }
});
