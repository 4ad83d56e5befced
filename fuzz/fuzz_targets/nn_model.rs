//! Model bytes (`.snnm`, float32 and int8): parsing and running never panic. The CRC is
//! recomputed over the fuzzed body so the fuzzer reaches the parser behind the checksum.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sinus_core::nn::{FloatModel, QuantModel};

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = b"SNNM".to_vec();
    bytes.extend_from_slice(data);
    let crc = crc32(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    let waveform = [0.5f32; 256];
    let features = [1.0f32; 64];
    if let Ok(n) = FloatModel::<Vec<f32>>::storage_len(&bytes) {
        if n <= 1 << 20 {
            if let Ok(m) = FloatModel::parse(&bytes[..], vec![0.0f32; n]) {
                let info = *m.info();
                let w = info.input_channels * info.input_len;
                if w <= waveform.len() && m.scratch_len() <= 1 << 22 {
                    let mut scratch = vec![0.0; m.scratch_len()];
                    let mut logits = vec![0.0; info.n_classes];
                    let _ = m.logits(&waveform[..w], &features[..info.n_features], &mut scratch, &mut logits);
                }
            }
        }
    }
    if let Ok(m) = QuantModel::parse(&bytes[..]) {
        let info = *m.info();
        let w = info.input_channels * info.input_len;
        if w <= waveform.len() && m.scratch_len() <= 1 << 22 {
            let mut scratch = vec![0i8; m.scratch_len()];
            let mut logits = vec![0.0; info.n_classes];
            let _ = m.logits(&waveform[..w], &features[..info.n_features], &mut scratch, &mut logits);
        }
    }
});
