//! The `sinus hrv --rr` text format and everything HRV computes from it: any text must give an
//! error or a finite-or-None result, never a panic or a hang.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sinus_signal::hrv::{hrv_from_seconds, parse_rr_list, HrvOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok((times, classes)) = parse_rr_list(text) {
        // Bound the work: a fuzzer's 1e300-second interval is fine, a million lines are slow.
        if times.len() <= 20_000 {
            let h = hrv_from_seconds(&times, &classes, &HrvOptions::default());
            assert!(h.counts.nn <= times.len());
        }
    }
});
