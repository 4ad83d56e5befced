//! Fuzz the MIT annotation decoder (raw times and with time-resolution conversion); decoded sets
//! that were not converted must re-encode and decode to the same annotations.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sinus_io::wfdb::annotation::{decode_annotations, encode_annotation_set};

fuzz_target!(|data: &[u8]| {
    let _ = decode_annotations(data, Some(360.0));
    if let Ok(set) = decode_annotations(data, None) {
        if let Ok(bytes) = encode_annotation_set(&set) {
            let again = decode_annotations(&bytes, None).expect("re-encoded set decodes");
            assert_eq!(again.annotations, set.annotations);
        }
    }
});
