//! Hand-made cases pinning each `epicmp` rule that `sinus_eval::rhythm` implements, and the
//! beat-by-beat AF counts.

use sinus_eval::report::format_rhythm_table;
use sinus_eval::rhythm::*;
use sinus_io::wfdb::annotation::{codes, Annotation};

fn rhythm(sample: i64, label: &str) -> Annotation {
    let mut a = Annotation::new(sample, codes::RHYTHM);
    let mut aux = label.as_bytes().to_vec();
    aux.push(0); // MIT-BIH stores the trailing NUL.
    a.aux = Some(aux);
    a
}

fn iv(start: i64, end: i64) -> Interval {
    Interval::new(start, end)
}

/// Whole record, no end limit unless given: isolates the overlap rules.
fn plain(end: i64) -> EpisodeOptions {
    EpisodeOptions::whole_record(end)
}

#[test]
fn intervals_run_from_plus_to_plus_and_to_the_record_end() {
    let anns = vec![
        Annotation::new(5, codes::NORMAL),
        rhythm(10, "(N"),
        Annotation::new(20, codes::NORMAL),
        rhythm(100, "(AFIB"),
        rhythm(250, "(AFL"),
    ];
    let got = rhythm_intervals(&anns, 1000);
    let want = [("(N", 10, 100), ("(AFIB", 100, 250), ("(AFL", 250, 1000)];
    assert_eq!(got.len(), 3);
    for (g, (label, start, end)) in got.iter().zip(want) {
        assert_eq!((g.label.as_str(), g.start, g.end), (label, start, end));
    }
}

#[test]
fn an_annotation_past_the_record_end_extends_the_last_interval() {
    // As epicmp: an unterminated episode ends at the later of the last annotation and the end.
    let anns = vec![rhythm(10, "(AFIB"), Annotation::new(1200, codes::NORMAL)];
    let got = rhythm_intervals(&anns, 1000);
    assert_eq!((got[0].start, got[0].end), (10, 1200));
    assert!(rhythm_intervals(&[], 1000).is_empty());
}

#[test]
fn af_is_afib_prefix_and_repeated_afib_does_not_split() {
    let anns = vec![
        rhythm(0, "(N"),
        rhythm(100, "(AFIB"),
        rhythm(200, "(AFIB"),
        rhythm(300, "(AFL"),
        rhythm(400, "(AFIB"),
        rhythm(500, "(N"),
    ];
    let ints = rhythm_intervals(&anns, 1000);
    assert_eq!(
        episodes(&ints, &Rhythm::Af),
        vec![iv(100, 300), iv(400, 500)]
    );
    assert_eq!(episodes(&ints, &Rhythm::Afl), vec![iv(300, 400)]);
}

#[test]
fn other_labels_match_exactly() {
    let anns = vec![rhythm(0, "(B"), rhythm(100, "(BII"), rhythm(200, "(VT")];
    let ints = rhythm_intervals(&anns, 300);
    assert_eq!(episodes(&ints, &Rhythm::parse("B")), vec![iv(0, 100)]);
    assert_eq!(episodes(&ints, &Rhythm::parse("(BII")), vec![iv(100, 200)]);
    assert_eq!(episodes(&ints, &Rhythm::parse("vt")), vec![iv(200, 300)]);
    assert_eq!(Rhythm::parse("afib"), Rhythm::Af);
    assert_eq!(Rhythm::parse("SVTA").name(), "SVTA");
}

#[test]
fn vf_episodes_come_from_vfon_vfoff_marks_not_labels() {
    let anns = vec![
        rhythm(0, "(VFL"),
        Annotation::new(100, codes::VFON),
        Annotation::new(180, codes::VFOFF),
        Annotation::new(500, codes::VFON),
    ];
    assert_eq!(vf_episodes(&anns, 900), vec![iv(100, 180), iv(500, 900)]);
}

#[test]
fn any_overlap_detects_an_episode() {
    // One sample of overlap suffices for AF/VF in epicmp (no 50% rule as for ST).
    let c = compare_episodes(&[iv(100, 200)], &[iv(199, 400)], &plain(1000));
    assert_eq!((c.tp_se, c.fn_, c.tp_ppv, c.fp), (1, 0, 1, 0));
    assert_eq!((c.ref_duration, c.ref_overlap), (100, 1));
    assert_eq!((c.test_duration, c.test_overlap), (201, 1));
    assert_eq!(c.se(), Some(100.0));
    assert_eq!(c.duration_se(), Some(1.0));
    // Touching is no overlap.
    let c = compare_episodes(&[iv(100, 200)], &[iv(200, 400)], &plain(1000));
    assert_eq!((c.tp_se, c.fn_, c.tp_ppv, c.fp), (0, 1, 0, 1));
    assert_eq!(c.duration_se(), Some(0.0));
}

#[test]
fn one_test_episode_can_detect_several_reference_episodes() {
    let c = compare_episodes(
        &[iv(100, 200), iv(300, 400), iv(600, 700)],
        &[iv(150, 350)],
        &plain(1000),
    );
    assert_eq!((c.tp_se, c.fn_, c.tp_ppv, c.fp), (2, 1, 1, 0));
    assert_eq!((c.ref_duration, c.ref_overlap), (300, 100));
    assert_eq!((c.test_duration, c.test_overlap), (200, 100));
}

#[test]
fn learning_period_drops_and_cuts_episodes() {
    let opts = EpisodeOptions {
        start: 300,
        ..plain(1000)
    };
    // Reference [0, 250) ends in the learning period: not scored; [280, 400) is cut to
    // [300, 400). The test episode [250, 320) is scored from 300.
    let c = compare_episodes(&[iv(0, 250), iv(280, 400)], &[iv(250, 320)], &opts);
    assert_eq!((c.tp_se, c.fn_), (1, 0));
    assert_eq!((c.ref_duration, c.ref_overlap), (100, 20));
    assert_eq!((c.tp_ppv, c.fp), (1, 0));
    assert_eq!((c.test_duration, c.test_overlap), (20, 20));
    // A test episode wholly in the learning period is not a false positive.
    let c = compare_episodes(&[], &[iv(10, 200)], &opts);
    assert_eq!((c.fp, c.test_duration), (0, 0));
    assert_eq!(c.ppv(), None);
}

#[test]
fn ec57_default_is_five_minutes_and_the_record_end() {
    let o = EpisodeOptions::ec57(250.0, 10_000_000);
    assert_eq!(o.start, 75_000);
    assert_eq!(o.end, Some(10_000_000));
    assert_eq!(o.min_length, 0);
    assert!(!o.exclude_afl_from_af_ppv);
}

#[test]
fn end_cuts_and_stops() {
    let opts = plain(500);
    let c = compare_episodes(&[iv(400, 800), iv(500, 600)], &[iv(450, 900)], &opts);
    // [400, 800) is cut to [400, 500); [500, 600) begins at the end: not scored.
    assert_eq!(
        (c.tp_se, c.fn_, c.ref_duration, c.ref_overlap),
        (1, 0, 100, 50)
    );
    assert_eq!(
        (c.tp_ppv, c.fp, c.test_duration, c.test_overlap),
        (1, 0, 50, 50)
    );
    // No end: everything is scored.
    let open = EpisodeOptions { end: None, ..opts };
    let c = compare_episodes(&[iv(400, 800)], &[iv(450, 900)], &open);
    assert_eq!((c.ref_duration, c.ref_overlap), (400, 350));
}

#[test]
fn minimum_length_ignores_short_episodes() {
    let i = EpisodeOptions {
        min_length: 50,
        ..plain(10_000)
    };
    // -i: the short reference episode is not scored at all, but a short test episode still
    // overlaps the long reference one.
    let c = compare_episodes(&[iv(0, 20), iv(100, 300)], &[iv(10, 15), iv(290, 295)], &i);
    assert_eq!((c.tp_se, c.fn_), (1, 0));
    assert_eq!((c.ref_duration, c.ref_overlap), (200, 5));
    assert_eq!((c.tp_ppv, c.fp, c.test_duration), (0, 0, 0));
    // -I: nor does the short test episode count as overlap.
    let big_i = EpisodeOptions {
        min_length_in_overlap: true,
        ..i
    };
    let c = compare_episodes(
        &[iv(0, 20), iv(100, 300)],
        &[iv(10, 15), iv(290, 295)],
        &big_i,
    );
    assert_eq!((c.tp_se, c.fn_, c.ref_overlap), (0, 1, 0));
}

#[test]
fn afl_exclusion_applies_to_af_ppv_only_when_asked() {
    let reference = vec![
        rhythm(0, "(N"),
        rhythm(1000, "(AFL"),
        rhythm(2000, "(AFIB"),
        rhythm(3000, "(N"),
    ];
    // The test calls AF from 1500 to 2500 and inside the flutter from 1100 to 1200.
    let test = vec![
        rhythm(0, "(N"),
        rhythm(1100, "(AFIB"),
        rhythm(1200, "(N"),
        rhythm(1500, "(AFIB"),
        rhythm(2500, "(N"),
    ];
    let mut opts = plain(4000);
    let c = compare_record(&reference, &test, 4000, &Rhythm::Af, &opts);
    assert_eq!(
        (c.tp_ppv, c.fp, c.test_duration, c.test_overlap),
        (1, 1, 1100, 500)
    );
    assert_eq!(
        (c.tp_se, c.fn_, c.ref_duration, c.ref_overlap),
        (1, 0, 1000, 500)
    );
    opts.exclude_afl_from_af_ppv = true;
    let c = compare_record(&reference, &test, 4000, &Rhythm::Af, &opts);
    // [1100, 1200) lies inside the flutter: ignored; [1500, 2500) loses [1500, 2000).
    assert_eq!(
        (c.tp_ppv, c.fp, c.test_duration, c.test_overlap),
        (1, 0, 500, 500)
    );
    assert_eq!(c.duration_ppv(), Some(100.0));
    // Se is unchanged.
    assert_eq!((c.tp_se, c.fn_, c.ref_duration), (1, 0, 1000));
}

#[test]
fn no_episodes_gives_undefined_ratios() {
    let c = compare_episodes(&[], &[], &plain(100));
    assert_eq!(c, EpisodeCounts::default());
    assert_eq!(
        (c.se(), c.ppv(), c.duration_se(), c.duration_ppv()),
        (None, None, None, None)
    );
}

#[test]
fn af_beats_inside_intervals() {
    let beats = [0, 99, 100, 150, 199, 200, 300, 450];
    let reference = [iv(100, 200), iv(400, 500)];
    let test = [iv(150, 350)];
    let c = af_beat_counts(&beats, &reference, &test);
    // AF-true: 100 150 199 450; AF-positive: 150 199 200 300.
    assert_eq!((c.tp, c.fn_, c.fp, c.tn), (2, 2, 2, 2));
    assert_eq!(c.se(), Some(50.0));
    assert_eq!(c.sp(), Some(50.0));
    assert_eq!(c.ppv(), Some(50.0));
    assert_eq!(c.accuracy(), Some(50.0));
    assert_eq!(af_beat_counts(&[], &reference, &test).accuracy(), None);
}

#[test]
fn report_gross_sums_and_serializes() {
    let a = RecordEpisodes::new(
        "a",
        250.0,
        compare_episodes(&[iv(0, 2500)], &[iv(1250, 5000)], &plain(10_000)),
    );
    let b = RecordEpisodes::new(
        "b",
        125.0,
        compare_episodes(&[iv(0, 1250)], &[], &plain(10_000)),
    );
    let t = RhythmTypeReport::new("AF", vec![a, b]);
    assert_eq!(
        (t.gross.tp_se, t.gross.fn_, t.gross.tp_ppv, t.gross.fp),
        (1, 1, 1, 0)
    );
    // 10 s + 10 s of reference AF, 5 s of it detected.
    assert_eq!(t.gross.ref_duration_s, 20.0);
    assert_eq!(t.gross.duration_se, Some(25.0));
    assert_eq!(t.gross.se, Some(50.0));
    let beats = BeatReport::new(vec![RecordBeats::new(
        "a",
        af_beat_counts(&[10, 2000, 3000], &[iv(0, 2500)], &[iv(1250, 5000)]),
    )]);
    let report = RhythmReport {
        start_s: 0.0,
        types: vec![t],
        af_beats: Some(beats),
    };
    let v = serde_json::to_value(&report).unwrap();
    assert_eq!(v["types"][0]["rhythm"], "AF");
    assert_eq!(v["types"][0]["records"][0]["counts"]["fn"], 0);
    assert_eq!(v["types"][0]["records"][1]["counts"]["fn"], 1);
    assert!(v["types"][0]["records"][1]["ppv"].is_null());
    assert_eq!(v["af_beats"]["gross"]["counts"]["tp"], 1);
    let back: RhythmReport = serde_json::from_value(v).unwrap();
    assert_eq!(back, report);
    let table = format_rhythm_table(&report);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "AF episodes (epicmp rules, scored from 0 s)");
    assert!(
        lines[1].starts_with("Record     TPs    FN   TPp    FP   ESe %"),
        "{table}"
    );
    assert!(
        lines[2].starts_with("a            1     0     1     0  100.00  100.00   50.00"),
        "{table}"
    );
    assert!(lines[3].contains("    -  "), "{table}");
    assert!(
        lines[5].starts_with("Gross        1     1     1     0   50.00  100.00   25.00"),
        "{table}"
    );
    assert!(table.contains("AF beat by beat"));
    assert_eq!(report.to_string(), table);
}
