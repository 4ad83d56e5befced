//! Fuzz the EDF/EDF+ parser: arbitrary bytes give a recording or an error, never a panic or an
//! allocation out of proportion to the input. Whatever parses is written back as EDF+ (the writer
//! may refuse it, never panic) and what is written parses again, no longer than it was (padding
//! and missing samples are marked; trailing frames missing from every signal may be dropped).
#![no_main]
use libfuzzer_sys::fuzz_target;
use sinus_io::edf::{encode_edf, parse_edf};

fuzz_target!(|data: &[u8]| {
    if let Ok(edf) = parse_edf(data) {
        if let Ok((bytes, _)) = encode_edf(&edf.recording, Some(&edf.annotations)) {
            let again = parse_edf(&bytes).expect("a written EDF file parses");
            assert!(again.recording.frames <= edf.recording.frames);
            assert_eq!(again.recording.signals.len(), edf.recording.signals.len());
        }
    }
});
