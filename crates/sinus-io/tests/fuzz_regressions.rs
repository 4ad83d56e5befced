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

/// An empty AUX word decoded as `Some(empty)` but re-encoded as no aux at all, so the fuzz
/// round trip (decode, encode, decode) changed the annotation.
#[test]
fn annotation_empty_aux_round_trips() {
    use sinus_io::wfdb::annotation::{decode_annotations, encode_annotation_set};
    // N at 4, an empty AUX word, N at 10 carrying aux "x", end of file.
    let data = [4u8, 0x04, 0, 0xfc, 10 - 4, 0x04, 1, 0xfc, b'x', 0, 0, 0];
    let set = decode_annotations(&data, None).unwrap();
    assert_eq!(set.annotations.len(), 2);
    assert_eq!(set.annotations[0].aux, None);
    assert_eq!(set.annotations[1].aux.as_deref(), Some(&b"x"[..]));
    let again = decode_annotations(&encode_annotation_set(&set).unwrap(), None).unwrap();
    assert_eq!(again.annotations, set.annotations);
}

/// Format 311 with three trailing bytes holds two samples; re-encoding pads them to a whole
/// group, which only reads back identically when the sample count (from the header) is given.
#[test]
fn signal_311_partial_group_needs_the_frame_count() {
    use sinus_io::wfdb::format::{decode, encode, SignalFormat};
    let data = [0x00u8, 0x00, 0x00, 0x66, 0x04, 0x00, 0x00, 0x44, 0x00];
    let spf = [1u32];
    let samples = decode(SignalFormat::Fmt311, &data, &spf, &[0], None).unwrap();
    let bytes = encode(SignalFormat::Fmt311, &samples, &spf, &[0]).unwrap();
    let n = samples.len() as u64;
    let again = decode(SignalFormat::Fmt311, &bytes, &spf, &[0], Some(n)).unwrap();
    assert_eq!(again, samples);
}

/// Found by `fuzz/fuzz_targets/chunked_edf.rs`: an annotation signal labelled
/// `EDF Annotations\0` counted as an ordinary signal in the chunked reader (the whole-file
/// reader trims NULs), so the chunked length was 3 frames instead of 30.
/// Also found by it: `EDF Annotations` followed by the Latin-1 byte 0xA0 (a no-break space,
/// trimmed by the reader) was decoded as UTF-8 by the chunked reader.
#[test]
fn chunked_edf_annotation_label_with_nul() {
    for file in [
        "fuzz-chunked-edf-nul-label.edf",
        "fuzz-chunked-edf-latin1-label.edf",
    ] {
        check_chunked_edf(file);
    }
}

fn check_chunked_edf(file: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    let whole = sinus_io::edf::read_edf(&path).unwrap();
    let reader = sinus_io::chunked::ChunkedReader::open(&path).unwrap();
    assert_eq!(reader.frames(), whole.recording.frames);
    let part = reader.read(0, reader.frames()).unwrap();
    for (a, b) in part.signals.iter().zip(&whole.recording.signals) {
        assert_eq!(a.samples, b.samples);
    }
}
