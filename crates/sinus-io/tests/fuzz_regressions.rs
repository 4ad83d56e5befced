//! Inputs that once crashed a fuzz target (`fuzz/`), kept so the bugs stay fixed. Each test runs
//! the same checks as its fuzz target.

use sinus_io::wfdb::header::parse_header;

/// Header checks of `fuzz/fuzz_targets/wfdb_header.rs`.
fn check_header(data: &[u8]) {
    if let Ok(header) = parse_header(data) {
        let again = parse_header(header.to_text().as_bytes()).expect("a written header parses");
        assert_eq!(again.signals.len(), header.signals.len());
    }
}

/// A multi-byte character right after the format number sliced a string inside a character.
#[test]
fn header_non_ascii_after_format_number() {
    let mut data = b"103 2 360 650000\r\n103.dat 212".to_vec();
    data.extend_from_slice(&[0xe0, 0xcd, 0xcf, 0xcf, 0xdf, 0xce, 0xce, 0xe1]);
    data.extend_from_slice(b"124(1034 -31983 0 V2\r\n# -1 M 742 796 x1\r\n");
    check_header(&data);
    let err = parse_header(&data).unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");
    check_header("100 1 360 10\n100.dat 16é 200 11 0 0 0 0 I\n".as_bytes());
    check_header("100 1 360 10\n100.dat 16x2é 200\n".as_bytes());
}
