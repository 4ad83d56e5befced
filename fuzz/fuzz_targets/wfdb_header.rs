//! Fuzz the WFDB header parser: arbitrary bytes must give a header or an error, never a panic;
//! a parsed header must survive writing and re-parsing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sinus_io::wfdb::header::parse_header;

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = parse_header(data) {
        let text = header.to_text();
        let again = parse_header(text.as_bytes()).expect("a written header parses");
        assert_eq!(again.signals.len(), header.signals.len());
    }
});
