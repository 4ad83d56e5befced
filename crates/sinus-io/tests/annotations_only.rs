//! Reading a WFDB record's header and annotations when the signal files the header names are
//! absent (as in copies of LTAFDB kept without their `.dat` files).

use std::path::Path;

use sinus_io::datasets::ltafdb_for_tests;
use sinus_io::open::{open, open_annotations_only, open_annotations_with_fs, OpenOptions};
use sinus_io::wfdb::annotation::{codes, write_annotations, Annotation, EncodeOptions};
use sinus_io::wfdb::record::{absent_signal_files, read_header};

/// A record `rec` at 128 Hz whose header names the absent `rec.dat`, with an `atr` file of
/// three beats, a rhythm change and one annotation past the end of the signal.
fn header_without_signal(dir: &Path) -> Vec<Annotation> {
    std::fs::write(
        dir.join("rec.hea"),
        "rec 2 128 1000 10:00:00 01/01/2003\r\nrec.dat 16 200/mV 0 0 0 0 0 ECG1\r\nrec.dat 16 200/mV 0 0 0 0 0 ECG2\r\n",
    )
    .unwrap();
    let mut rhythm = Annotation::new(10, codes::RHYTHM);
    rhythm.aux = Some(b"(AFIB\0".to_vec());
    let anns = vec![
        rhythm,
        Annotation::new(20, codes::NORMAL),
        Annotation::new(500, codes::NORMAL),
        Annotation::new(990, codes::NORMAL),
        Annotation::new(1005, codes::NORMAL),
    ];
    write_annotations(dir.join("rec.atr"), &anns, &EncodeOptions::default()).unwrap();
    anns
}

#[test]
fn header_and_annotations_without_the_signal_file() {
    let tmp = tempfile::tempdir().unwrap();
    let anns = header_without_signal(tmp.path());
    let record = tmp.path().join("rec");

    let header = read_header(&record).unwrap();
    assert_eq!(
        absent_signal_files(&record, &header),
        vec![tmp.path().join("rec.dat")]
    );

    let (header, set) = open_annotations_only(&record, "atr").unwrap();
    assert_eq!(header.record.sampling_frequency, Some(128.0));
    assert_eq!(set.annotations, anns);
    // The `.hea` path works too.
    let (_, set) = open_annotations_only(&tmp.path().join("rec.hea"), "atr").unwrap();
    assert_eq!(set.annotations.len(), 5);

    // No header needed with a given frequency.
    std::fs::remove_file(tmp.path().join("rec.hea")).unwrap();
    let set = open_annotations_with_fs(&record, "atr", 128.0).unwrap();
    assert_eq!(set.annotations, anns);
    // Without the header, open_annotations_only says which file is missing.
    let err = open_annotations_only(&record, "atr")
        .unwrap_err()
        .to_string();
    assert!(err.contains("rec.hea"), "{err}");
}

#[test]
fn open_falls_back_to_header_only_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    header_without_signal(tmp.path());
    let record = tmp.path().join("rec");

    // By default the absent signal file is an error naming it.
    let err = open(&record, &OpenOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("rec.dat"), "{err}");

    let options = OpenOptions {
        allow_absent_signals: true,
        ..OpenOptions::default()
    };
    let opened = open(&record, &options).unwrap();
    assert!(!opened.has_samples());
    assert_eq!(opened.absent_signal_files, vec![tmp.path().join("rec.dat")]);
    let rec = &opened.recording;
    assert_eq!((rec.frame_frequency, rec.frames), (128.0, 1000));
    assert_eq!(rec.signals.len(), 2);
    assert_eq!(rec.signals[1].description, "ECG2");
    assert!(rec.signals.iter().all(|s| s.samples.is_empty()));
    let anns = &opened.annotations.as_ref().unwrap().set.annotations;
    assert_eq!(anns.len(), 5);
    assert!(
        opened
            .warnings
            .iter()
            .any(|w| w == "signal file rec.dat absent: header and annotations only"),
        "{:?}",
        opened.warnings
    );
    // The annotation past the end is kept and noted, not an error.
    assert!(
        opened
            .warnings
            .iter()
            .any(|w| w.contains("1 atr annotation(s) at or after the end")),
        "{:?}",
        opened.warnings
    );
    // An explicit annotator that does not exist is still an error naming it.
    let missing = OpenOptions {
        annotator: Some("qrs".into()),
        ..options
    };
    let err = open(&record, &missing).unwrap_err().to_string();
    assert!(err.contains("rec.qrs"), "{err}");
}

#[test]
fn ltafdb_headers_and_annotations_without_dat_files() {
    let Some(dir) = ltafdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    for name in ["00", "30"] {
        let record = dir.join(name);
        let (header, atr) = open_annotations_only(&record, "atr").unwrap();
        let (_, qrs) = open_annotations_only(&record, "qrs").unwrap();
        assert_eq!(header.record.sampling_frequency, Some(128.0), "{name}");
        assert!(
            atr.annotations.iter().any(|a| a.code == codes::RHYTHM),
            "{name}"
        );
        assert!(qrs.annotations.len() > 1000, "{name}");
    }
    // Record 30: one reference annotation lies past the end of the signal; reading it is fine.
    let record = dir.join("30");
    let (header, atr) = open_annotations_only(&record, "atr").unwrap();
    let frames = header.record.samples.unwrap() as i64;
    let past = atr
        .annotations
        .iter()
        .filter(|a| a.sample >= frames)
        .count();
    assert_eq!(past, 1);
    let options = OpenOptions {
        allow_absent_signals: true,
        ..OpenOptions::default()
    };
    let opened = open(&record, &options).unwrap();
    assert_eq!(opened.recording.frames, 2_826_240);
}
