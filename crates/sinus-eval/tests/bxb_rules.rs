//! Hand-made cases that pin the matcher's rules. Every expected count was checked against WFDB
//! 10.7.0 `bxb` run on the same annotations (a 360 Hz record of 10000 samples, `-f 0` unless
//! said otherwise); the comments give the `bxb -v` discrepancy lines where there are any.

use sinus_eval::bxb::{compare, compare_samples, BxbOptions, Comparison, Label};
use sinus_io::wfdb::annotation::{code_from_symbol, codes, Annotation};

const FS: f64 = 360.0;
const LEN: Option<u64> = Some(10_000);

fn beats(samples: &[i64]) -> Vec<Annotation> {
    samples
        .iter()
        .map(|&s| Annotation::new(s, codes::NORMAL))
        .collect()
}

/// Annotations from (sample, mnemonic); `~-1` is a shutdown mark (NOISE, subtype -1).
fn anns(list: &[(i64, &str)]) -> Vec<Annotation> {
    list.iter()
        .map(|&(s, sym)| {
            if let Some(sub) = sym.strip_prefix('~').filter(|r| !r.is_empty()) {
                let mut a = Annotation::new(s, codes::NOISE);
                a.subtype = sub.parse().unwrap();
                a
            } else {
                Annotation::new(s, code_from_symbol(sym).expect(sym))
            }
        })
        .collect()
}

fn whole() -> BxbOptions {
    BxbOptions::whole_record()
}

fn cmp(reference: &[Annotation], test: &[Annotation], options: BxbOptions) -> Comparison {
    compare(reference, test, FS, LEN, &options).unwrap()
}

fn counts(c: &Comparison) -> (u64, u64, u64) {
    let q = c.qrs_counts();
    (q.tp, q.fn_, q.fp)
}

fn run(reference: &[i64], test: &[i64]) -> Comparison {
    cmp(&beats(reference), &beats(test), whole())
}

#[test]
fn window_edge_is_inclusive() {
    // 0.15 s at 360 Hz = 54 samples.
    assert_eq!(run(&[1000], &[1054]).window, 54);
    assert_eq!(counts(&run(&[1000], &[1054])), (1, 0, 0));
    assert_eq!(counts(&run(&[1000], &[946])), (1, 0, 0));
    // bxb: N(1000)/O(1000) O(1055)/N(1055)
    let c = run(&[1000], &[1055]);
    assert_eq!(counts(&c), (0, 1, 1));
    assert_eq!((c.missed, c.extra), (vec![1000], vec![1055]));
    assert_eq!(counts(&run(&[1000], &[945])), (0, 1, 1));
}

#[test]
fn window_in_samples_rounds_half_up() {
    // 0.15 s at 250 Hz = 37.5 samples -> 38, as WFDB's strtim rounds.
    let c = compare(&beats(&[1000]), &beats(&[1038]), 250.0, LEN, &whole()).unwrap();
    assert_eq!((c.window, counts(&c)), (38, (1, 0, 0)));
    let c = compare(&beats(&[1000]), &beats(&[1039]), 250.0, LEN, &whole()).unwrap();
    assert_eq!(counts(&c), (0, 1, 1));
}

#[test]
fn zero_window_needs_exact_coincidence() {
    let options = BxbOptions {
        window_s: 0.0,
        ..whole()
    };
    // bxb -w 0: N(2000)/O(2000) O(2001)/N(2001)
    let c = cmp(&beats(&[1000, 2000]), &beats(&[1000, 2001]), options);
    assert_eq!(counts(&c), (1, 1, 1));
}

#[test]
fn two_test_beats_competing_for_one_reference() {
    // The closer one wins; bxb: O(980)/N(980).
    let c = run(&[1000], &[980, 1010]);
    assert_eq!(counts(&c), (1, 0, 1));
    assert_eq!(c.extra, vec![980]);
    // Equidistant: the later one wins; bxb: O(990)/N(990).
    let c = run(&[1000], &[990, 1010]);
    assert_eq!(counts(&c), (1, 0, 1));
    assert_eq!(c.extra, vec![990]);
}

#[test]
fn one_test_beat_between_two_references() {
    // bxb: N(1100)/O(1100)
    let c = run(&[1000, 1100], &[1040]);
    assert_eq!((counts(&c), c.missed), ((1, 1, 0), vec![1100]));
    // Equidistant: it goes to the later reference; bxb: N(1000)/O(1000)
    let c = run(&[1000, 1100], &[1050]);
    assert_eq!((counts(&c), c.missed), ((1, 1, 0), vec![1000]));
    // bxb: N(1000)/O(1000)
    let c = run(&[1000, 1100], &[1060]);
    assert_eq!((counts(&c), c.missed), ((1, 1, 0), vec![1000]));
    // One reference beat between two equidistant test beats: the later test beat wins;
    // bxb: O(1000)/N(1000)
    let c = run(&[1050], &[1000, 1100]);
    assert_eq!((counts(&c), c.extra), ((1, 0, 1), vec![1000]));
}

#[test]
fn next_pair_closer_rule() {
    // The example of bxb's 2002 revision (window 37 samples): ref 96, 160; test 128, 185.
    // 128 is as close to 160 as to 96, but 185 matches 160 better, so 96-128 pair up.
    let options = BxbOptions {
        window_s: 37.0 / 360.0,
        ..whole()
    };
    let c = cmp(&beats(&[96, 160]), &beats(&[128, 185]), options);
    assert_eq!((c.window, counts(&c)), (37, (2, 0, 0)));
    // The mirror case (test first).
    let c = cmp(&beats(&[128, 185]), &beats(&[96, 160]), options);
    assert_eq!(counts(&c), (2, 0, 0));
}

fn from_1s() -> BxbOptions {
    BxbOptions {
        start_s: 1.0,
        ..whole()
    }
}

#[test]
fn learning_period_excludes_earlier_beats() {
    // start at 1 s = sample 360: references 100 and 200 are not scored.
    let c = cmp(&beats(&[100, 200, 1000]), &[], from_1s());
    assert_eq!((counts(&c), c.start), ((0, 1, 0), 360));
    let c = cmp(
        &beats(&[100, 200, 1000]),
        &beats(&[100, 200, 1000, 1500]),
        from_1s(),
    );
    assert_eq!((counts(&c), c.extra), ((1, 0, 1), vec![1500]));
}

#[test]
fn learning_period_boundary() {
    // The last test beat before the start (330) matches the first scored reference (370)
    // and counts: 2 TP although only one test beat lies in the scored interval.
    let c = cmp(&beats(&[300, 370, 700]), &beats(&[330, 700]), from_1s());
    assert_eq!(counts(&c), (2, 0, 0));
    // The first scored test beat (380) lies within the window of the start and the next one
    // (395) matches the first reference (400) better: 380 is dropped, uncounted.
    let c = cmp(&beats(&[400]), &beats(&[380, 395]), from_1s());
    assert_eq!(counts(&c), (1, 0, 0));
    // Scoring from 0, the same 380 is a false positive; bxb: O(380)/N(380).
    let c = cmp(&beats(&[400]), &beats(&[380, 395]), whole());
    assert_eq!((counts(&c), c.extra), ((1, 0, 1), vec![380]));
}

#[test]
fn learning_period_boundary_edges() {
    // The drop applies to a first scored test beat from the start to start + window inclusive.
    assert_eq!(
        counts(&cmp(&beats(&[380]), &beats(&[360, 375]), from_1s())),
        (1, 0, 0)
    );
    assert_eq!(
        counts(&cmp(&beats(&[440]), &beats(&[414, 436]), from_1s())),
        (1, 0, 0)
    );
    // bxb: O(415)/N(415)
    let c = cmp(&beats(&[440]), &beats(&[415, 436]), from_1s());
    assert_eq!((counts(&c), c.extra), ((1, 0, 1), vec![415]));
    // The learning-period test beat pairs within the window, edge included; bxb: O(500)/N(500)
    let c = cmp(&beats(&[390]), &beats(&[336, 500]), from_1s());
    assert_eq!((counts(&c), c.extra), ((1, 0, 1), vec![500]));
    // bxb: N(391)/O(391) O(500)/N(500)
    let c = cmp(&beats(&[391]), &beats(&[336, 500]), from_1s());
    assert_eq!((counts(&c), c.missed), ((0, 1, 1), vec![391]));
}

#[test]
fn test_beat_at_sample_zero_is_dropped_when_scoring_from_zero() {
    // A bxb artefact of its initial state (a placeholder beat at time 0).
    assert_eq!(counts(&run(&[100], &[0, 100])), (1, 0, 0));
    assert_eq!(counts(&run(&[0, 100], &[0, 100])), (2, 0, 0));
}

fn vf_reference() -> Vec<Annotation> {
    anns(&[
        (1000, "N"),
        (2000, "["),
        (2100, "!"),
        (2200, "!"),
        (3000, "]"),
        (4000, "N"),
    ])
}

#[test]
fn vf_episodes_are_excluded() {
    // Unmatched test beats from VFON to VFOFF inclusive are not counted; bxb:
    // *(4000)/N(2000) *(4000)/N(2100) *(4000)/N(2500) *(4000)/N(3000)
    let test = beats(&[1000, 2000, 2100, 2500, 3000, 4000]);
    let c = cmp(&vf_reference(), &test, whole());
    assert_eq!((counts(&c), c.extra), ((2, 0, 0), vec![]));
    // Just after VFOFF it counts again; bxb: O(3001)/N(3001).
    let c = cmp(&vf_reference(), &beats(&[1000, 3001, 4000]), whole());
    assert_eq!((counts(&c), c.extra), ((2, 0, 1), vec![3001]));
    // A test beat inside VF that matches a reference beat outside it is a true positive.
    let reference = anns(&[(1000, "N"), (2000, "["), (3000, "]"), (3040, "N")]);
    let c = cmp(&reference, &beats(&[1000, 2990]), whole());
    assert_eq!(counts(&c), (2, 0, 0));
}

#[test]
fn unterminated_vf_runs_to_the_end() {
    // bxb: *(9223372036854775807)/N(2100) *(9223372036854775807)/N(5000)
    let reference = anns(&[(1000, "N"), (2000, "["), (2100, "!")]);
    let c = cmp(&reference, &beats(&[1000, 2100, 5000]), whole());
    assert_eq!(counts(&c), (1, 0, 0));
}

#[test]
fn vf_exclusion_can_be_turned_off() {
    // Not a bxb option. The flutter waves `!` become reference "beats" of no AAMI class (O):
    // the test beat on 2100 is paired with one and counts as a false positive, like 2500.
    let options = BxbOptions {
        exclude_vf: false,
        ..whole()
    };
    let test = beats(&[1000, 2100, 2500, 4000]);
    let c = cmp(&vf_reference(), &test, options);
    assert_eq!((counts(&c), c.extra), ((2, 0, 2), vec![2100, 2500]));
    assert_eq!(c.matrix.get(Label::O, Label::N), 2);
}

#[test]
fn flutter_wave_outside_vf_is_not_a_beat() {
    // bxb: O(2100)/N(2100)
    let reference = anns(&[(1000, "N"), (2100, "!"), (4000, "N")]);
    let c = cmp(&reference, &beats(&[1000, 2100, 4000]), whole());
    assert_eq!((counts(&c), c.extra), ((2, 0, 1), vec![2100]));
}

#[test]
fn shutdown_labels_but_does_not_exclude() {
    // Reference shutdown from 1500 to 2500: the extra test beat is an X/n pair, still FP;
    // bxb: X(2000)/N(2000).
    let reference = anns(&[(1000, "N"), (1500, "~-1"), (2500, "~0"), (3000, "N")]);
    let c = cmp(&reference, &beats(&[1000, 2000, 3000]), whole());
    assert_eq!(counts(&c), (2, 0, 1));
    assert_eq!(c.matrix.get(Label::X, Label::N), 1);
    // Test shutdown: the missed reference beat is N/x, still FN; bxb: N(2000)/X(2000).
    let c = cmp(&beats(&[1000, 2000, 3000]), &reference, whole());
    assert_eq!(counts(&c), (2, 1, 0));
    assert_eq!(c.matrix.get(Label::N, Label::X), 1);
}

#[test]
fn labels_are_mapped_to_aami_classes() {
    // bxb: V(1000)/N(1000) S(2000)/V(2000) N(5000)/S(5000); all five are QRS true positives.
    let reference = anns(&[
        (1000, "V"),
        (2000, "A"),
        (3000, "F"),
        (4000, "/"),
        (5000, "N"),
    ]);
    let test = anns(&[
        (1000, "N"),
        (2000, "V"),
        (3000, "F"),
        (4000, "Q"),
        (5000, "A"),
    ]);
    let c = cmp(&reference, &test, whole());
    assert_eq!(counts(&c), (5, 0, 0));
    for (r, t) in [
        (Label::V, Label::N),
        (Label::S, Label::V),
        (Label::F, Label::F),
        (Label::Q, Label::Q),
        (Label::N, Label::S),
    ] {
        assert_eq!(c.matrix.get(r, t), 1, "{r:?}/{t:?}");
    }
}

#[test]
fn empty_inputs() {
    assert_eq!(counts(&run(&[], &[])), (0, 0, 0));
    assert_eq!(run(&[], &[]).qrs_counts().se(), None);
    // bxb: N(100)/O(100) N(200)/O(200) N(300)/O(300)
    let c = run(&[100, 200, 300], &[]);
    assert_eq!((counts(&c), c.missed), ((0, 3, 0), vec![100, 200, 300]));
    // bxb: O(100)/N(100) O(200)/N(200)
    let c = run(&[], &[100, 200]);
    assert_eq!((counts(&c), c.extra), ((0, 0, 2), vec![100, 200]));
}

#[test]
fn end_of_comparison() {
    // A pair straddling the record end (10000) counts.
    assert_eq!(counts(&run(&[500, 9990], &[500, 10030])), (2, 0, 0));
    // Beats after it do not.
    assert_eq!(counts(&run(&[500, 10100], &[500, 10200])), (1, 0, 0));
    // With the record length, a test beat after the last reference beat counts (O(800)/N(800));
    // without it, the comparison stops at the end of the reference annotations.
    assert_eq!(counts(&run(&[500], &[500, 800])), (1, 0, 1));
    let c = compare(&beats(&[500]), &beats(&[500, 800]), FS, None, &whole()).unwrap();
    assert_eq!((counts(&c), c.end), ((1, 0, 0), None));
    // end_s = 0: stop at the end of either list (bxb -t 0).
    let either = BxbOptions {
        end_s: Some(0.0),
        ..whole()
    };
    assert_eq!(
        counts(&cmp(&beats(&[500, 800]), &beats(&[500]), either)),
        (1, 0, 0)
    );
    // An explicit end.
    let to_2s = BxbOptions {
        end_s: Some(2.0),
        ..whole()
    };
    let c = cmp(&beats(&[500, 1000]), &beats(&[500, 1000]), to_2s);
    assert_eq!((counts(&c), c.end), ((1, 0, 0), Some(720)));
}

#[test]
fn detections_as_sample_numbers() {
    let reference = beats(&[100, 400, 700]);
    let c = compare_samples(&reference, [110u32, 420, 1000], FS, LEN, &whole()).unwrap();
    assert_eq!(counts(&c), (2, 1, 1));
    let c = compare_samples(&reference, vec![110usize, 420, 700], FS, LEN, &whole()).unwrap();
    assert_eq!(counts(&c), (3, 0, 0));
    let c = compare_samples(&reference, [-1i64], FS, LEN, &whole());
    assert!(c.is_err());
    let c = compare_samples(&reference, [u64::MAX], FS, LEN, &whole());
    assert!(c.is_err());
}

#[test]
fn bad_options_are_errors() {
    let r = beats(&[100]);
    for (fs, options) in [
        (0.0, whole()),
        (f64::NAN, whole()),
        (
            FS,
            BxbOptions {
                window_s: -0.1,
                ..whole()
            },
        ),
        (
            FS,
            BxbOptions {
                start_s: f64::INFINITY,
                ..whole()
            },
        ),
        (
            FS,
            BxbOptions {
                end_s: Some(f64::NAN),
                ..whole()
            },
        ),
        // The end before the start (bxb: "improper interval").
        (
            FS,
            BxbOptions {
                end_s: Some(10.0),
                ..BxbOptions::EC57
            },
        ),
    ] {
        let e = compare(&r, &r, fs, LEN, &options).unwrap_err();
        assert!(matches!(e.kind, sinus_io::ErrorKind::Invalid(_)), "{e}");
    }
    // A negative annotation time.
    assert!(compare(&beats(&[-5]), &r, FS, LEN, &whole()).is_err());
}

#[test]
fn huge_end_terminates() {
    // An end far beyond every beat must not loop forever once both lists are exhausted.
    let options = BxbOptions {
        end_s: Some(1e300),
        ..whole()
    };
    let c = cmp(&beats(&[100, 200]), &beats(&[100, 300]), options);
    assert_eq!(counts(&c), (1, 1, 1));
}

#[test]
fn ec57_defaults() {
    let d = BxbOptions::default();
    assert_eq!(d, BxbOptions::EC57);
    assert_eq!(
        (d.window_s, d.start_s, d.end_s, d.exclude_vf),
        (0.15, 300.0, None, true)
    );
    let c = compare(&beats(&[]), &beats(&[]), FS, Some(650_000), &d).unwrap();
    assert_eq!((c.start, c.end), (108_000, Some(650_000)));
}

#[test]
fn veb_and_sveb_statistics() {
    // bxb -S: N| 1 1 0 0 0 0 0 / S| 0 0 1 0 0 1 0 / V| 1 0 1 0 0 0 0 / F| 0 0 1 0 0 0 0 /
    // Q| 0 0 1 0 0 0 0 / O| 0 1 1 0 0; QRS 7/8, 7/9; VEB Se 1/2, +P 1/3; SVEB Se 0/2, +P 0/2;
    // bxb -s: VEB false positive rate 40.000% (2/5).
    let reference = anns(&[
        (1000, "V"),
        (2000, "A"),
        (3000, "F"),
        (4000, "/"),
        (5000, "N"),
        (6000, "V"),
        (7000, "N"),
        (9000, "A"),
    ]);
    let test = anns(&[
        (1000, "N"),
        (2000, "V"),
        (3000, "V"),
        (4000, "V"),
        (5000, "A"),
        (6000, "V"),
        (6500, "V"),
        (7000, "N"),
        (8000, "A"),
    ]);
    let c = cmp(&reference, &test, whole());
    let rows: Vec<[u64; 7]> = c.matrix.counts.to_vec();
    assert_eq!(
        rows,
        vec![
            [1, 1, 0, 0, 0, 0, 0],
            [0, 0, 1, 0, 0, 1, 0],
            [1, 0, 1, 0, 0, 0, 0],
            [0, 0, 1, 0, 0, 0, 0],
            [0, 0, 1, 0, 0, 0, 0],
            [0, 1, 1, 0, 0, 0, 0],
            [0; 7],
        ]
    );
    assert_eq!(counts(&c), (7, 1, 2));
    let v = c.matrix.veb_counts();
    assert_eq!((v.tp, v.fn_, v.fp), (1, 1, 2));
    let s = c.matrix.sveb_counts();
    assert_eq!((s.tp, s.fn_, s.fp), (0, 2, 2));
    assert_eq!(c.matrix.veb_false_positive_rate(), Some(40.0));
    // The generic matrix's per-class view counts every off-diagonal cell.
    let m = c.matrix.to_confusion();
    assert_eq!(m.class_stats(Label::V).counts.fp, 4);
    assert_eq!(m.total(), 10);
}
