//! Fuzz the EDF/EDF+ parser: arbitrary bytes give a recording or an error, never a panic or an
//! allocation out of proportion to the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sinus_io::edf::parse_edf;

fuzz_target!(|data: &[u8]| {
    let _ = parse_edf(data);
});
