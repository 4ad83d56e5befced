//! int8 model bytes through the exporters (`sinus export-model`): parsing, the C header with
//! synthetic test vectors, and the TensorFlow Lite flatbuffer never panic. The CRC is
//! recomputed over the fuzzed body so the fuzzer reaches the parser behind the checksum.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sinus_ml::model_export::{c, parse_int8, tflite, TestVectors};

fuzz_target!(|data: &[u8]| {
    let mut bytes = b"SNNM".to_vec();
    bytes.extend_from_slice(data);
    let crc = sinus_core::nn::crc32(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    let Ok(model) = parse_int8(bytes) else {
        return;
    };
    let info = *model.info();
    // Keep each run short: big (but valid) models are not what this target is about.
    if info.macs > 1 << 22 || info.input_channels * info.input_len > 1 << 14 {
        return;
    }
    if let Ok(v) = TestVectors::synthetic(&model, 2, 7) {
        let _ = c::header(&model, &v, "fuzz");
    }
    let _ = tflite::export(&model);
});
