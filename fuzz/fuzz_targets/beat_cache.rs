//! The beat cache (`sinus train`'s cut beats on disk, `sinus_ml::cache`): any bytes must give an
//! error or a dataset, never a panic, a hang or a huge allocation; a decoded dataset encodes
//! back to bytes that decode to the same dataset.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sinus_ml::cache::{decode, encode};

fuzz_target!(|data: &[u8]| {
    // The file carries an FNV-1a checksum: fix it up so the fuzzer reaches the fields.
    let mut bytes = data.to_vec();
    if bytes.len() >= 8 {
        let n = bytes.len() - 8;
        let sum = sinus_ml::cache::checksum(&bytes[..n]);
        bytes[n..].copy_from_slice(&sum.to_le_bytes());
    }
    if let Ok((ds, key)) = decode(&bytes) {
        let again = encode(&ds, key).expect("a decoded dataset encodes");
        let (back, k2) = decode(&again).expect("an encoded dataset decodes");
        assert_eq!(k2, key);
        assert_eq!(back.beats.len(), ds.beats.len());
    }
});
