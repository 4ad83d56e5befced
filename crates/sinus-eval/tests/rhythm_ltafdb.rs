//! Rhythm episodes of LTAFDB reference annotations (headers and annotations only; skipped with
//! a note when the database is absent).

use sinus_eval::rhythm::*;
use sinus_io::datasets::ltafdb_for_tests;
use sinus_io::open::open_annotations_only;

#[test]
fn reference_af_against_itself_is_perfect() {
    let Some(dir) = ltafdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    for name in ["00", "01"] {
        let (header, atr) = open_annotations_only(&dir.join(name), "atr").unwrap();
        let fs = header.record.sampling_frequency.unwrap();
        let end = header.record.samples.unwrap() as i64;
        let ints = rhythm_intervals(&atr.annotations, end);
        assert!(!ints.is_empty(), "{name}");
        // Intervals tile the record from the first rhythm change on.
        for pair in ints.windows(2) {
            assert_eq!(pair[0].end, pair[1].start, "{name}");
        }
        let af = episodes(&ints, &Rhythm::Af);
        let labels: std::collections::BTreeSet<&str> =
            ints.iter().map(|i| i.label.as_str()).collect();
        assert!(!af.is_empty(), "{name}: LTAFDB records hold AF: {labels:?}");
        let c = compare_record(
            &atr.annotations,
            &atr.annotations,
            end,
            &Rhythm::Af,
            &EpisodeOptions::ec57(fs, end),
        );
        assert_eq!(c.se(), Some(100.0), "{name}");
        assert_eq!(c.ppv(), Some(100.0), "{name}");
        assert_eq!(c.duration_se(), Some(100.0), "{name}");
        assert_eq!(c.fn_ + c.fp, 0, "{name}");
        let beats = af_beat_counts(&beat_samples(&atr.annotations), &af, &af);
        assert_eq!((beats.fn_, beats.fp), (0, 0), "{name}");
        assert!(beats.tp > 0, "{name}");
    }
}

#[test]
fn record_30_ends_its_last_interval_at_the_annotation_past_the_end() {
    let Some(dir) = ltafdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let (header, atr) = open_annotations_only(&dir.join("30"), "atr").unwrap();
    let end = header.record.samples.unwrap() as i64;
    let last = atr.annotations.iter().map(|a| a.sample).max().unwrap();
    assert!(last >= end);
    let ints = rhythm_intervals(&atr.annotations, end);
    assert_eq!(ints.last().unwrap().end, last);
    // Record 30 holds no AF: AF Se is undefined, and no test AF means no false positive.
    let c = compare_record(
        &atr.annotations,
        &[],
        end,
        &Rhythm::Af,
        &EpisodeOptions::ec57(128.0, end),
    );
    assert_eq!((c.se(), c.ppv()), (None, None));
    let svta = episodes(&ints, &Rhythm::parse("SVTA"));
    assert!(!svta.is_empty());
}
