//! Properties of the matcher on random beat trains.

use std::collections::BTreeSet;

use proptest::prelude::*;
use sinus_eval::bxb::{compare, compare_samples, BxbOptions};
use sinus_io::wfdb::annotation::{codes, Annotation};

const FS: f64 = 360.0;
/// 0.15 s at 360 Hz.
const W: i64 = 54;
const LEN: i64 = 40_000;

fn beats(samples: &[i64]) -> Vec<Annotation> {
    samples
        .iter()
        .map(|&s| Annotation::new(s, codes::NORMAL))
        .collect()
}

/// Distinct sorted sample numbers in 1..LEN (sample 0 is special to bxb, see bxb_rules).
fn train(max: usize) -> impl Strategy<Value = Vec<i64>> {
    prop::collection::btree_set(1..LEN, 0..max).prop_map(|s: BTreeSet<i64>| s.into_iter().collect())
}

/// A beat train with every interval in `gaps`.
fn spaced(gaps: std::ops::Range<i64>, max: usize) -> impl Strategy<Value = Vec<i64>> {
    (100..300i64, prop::collection::vec(gaps, 0..max)).prop_map(|(first, gaps)| {
        let mut t = first;
        let mut v = vec![t];
        for g in gaps {
            t += g;
            v.push(t);
        }
        v
    })
}

fn whole() -> BxbOptions {
    BxbOptions::whole_record()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Scoring the whole record, every reference beat is either found or missed, and every
    /// test beat either matches or is a false positive.
    #[test]
    fn every_beat_is_counted_once(reference in train(200), test in train(200)) {
        let c = compare(&beats(&reference), &beats(&test), FS, Some(LEN as u64), &whole()).unwrap();
        let q = c.qrs_counts();
        prop_assert_eq!(q.tp + q.fn_, reference.len() as u64);
        prop_assert_eq!(q.tp + q.fp, test.len() as u64);
        prop_assert_eq!(c.missed.len() as u64, q.fn_);
        prop_assert_eq!(c.extra.len() as u64, q.fp);
        // Missed and extra beats are beats of the respective lists.
        prop_assert!(c.missed.iter().all(|s| reference.binary_search(s).is_ok()));
        prop_assert!(c.extra.iter().all(|s| test.binary_search(s).is_ok()));
    }

    /// With a learning period (longer than the window), exactly the reference beats from the
    /// start on are scored; test beats from the start on are scored give or take one at the
    /// boundary (bxb may pair the last learning-period test beat, or drop the first scored one).
    #[test]
    fn learning_period_counts(reference in train(200), test in train(200), start in 100..LEN) {
        let options = BxbOptions { start_s: start as f64 / FS, ..whole() };
        let c = compare(&beats(&reference), &beats(&test), FS, Some(LEN as u64), &options).unwrap();
        let q = c.qrs_counts();
        let scored_ref = reference.iter().filter(|&&s| s >= start).count() as u64;
        let scored_test = test.iter().filter(|&&s| s >= start).count() as i64;
        prop_assert_eq!(q.tp + q.fn_, scored_ref);
        prop_assert!(((q.tp + q.fp) as i64 - scored_test).abs() <= 1);
        prop_assert!(c.missed.iter().all(|&s| s >= start));
    }

    /// A perfect detector scores 100 % whatever the learning period.
    #[test]
    fn perfect_detector(reference in train(300), start in 0..LEN) {
        let options = BxbOptions { start_s: start as f64 / FS, ..whole() };
        let c = compare_samples(&beats(&reference), reference.iter().copied(), FS, Some(LEN as u64), &options).unwrap();
        let q = c.qrs_counts();
        prop_assert_eq!((q.fn_, q.fp), (0, 0));
        if q.tp > 0 {
            prop_assert_eq!((q.se(), q.ppv(), q.f1()), (Some(100.0), Some(100.0), Some(100.0)));
        }
    }

    /// Small jitter within the window changes nothing when beats are further apart than
    /// twice the window.
    #[test]
    fn jitter_within_window(reference in spaced(2 * W + 1..400, 200), jitter in prop::collection::vec(-W / 2..=W / 2, 200)) {
        let test: Vec<i64> = reference.iter().zip(jitter.iter().cycle()).map(|(&r, &j)| r + j).collect();
        let c = compare_samples(&beats(&reference), test.iter().copied(), FS, None, &whole()).unwrap();
        let q = c.qrs_counts();
        prop_assert_eq!((q.tp, q.fn_, q.fp), (reference.len() as u64, 0, 0));
    }

    /// Shifting every test beat by more than the window, with beats far enough apart that no
    /// other reference beat comes within the window, finds nothing.
    #[test]
    fn shift_beyond_window(reference in spaced(200..400, 200), shift in W + 1..100, sign in any::<bool>()) {
        let shift = if sign { shift } else { -shift };
        let test: Vec<i64> = reference.iter().map(|&r| r + shift + 200).collect();
        let reference: Vec<i64> = reference.iter().map(|&r| r + 200).collect();
        let c = compare_samples(&beats(&reference), test.iter().copied(), FS, Some(1 << 40), &whole()).unwrap();
        let q = c.qrs_counts();
        prop_assert_eq!((q.tp, q.fn_, q.fp), (0, reference.len() as u64, test.len() as u64));
        if !reference.is_empty() {
            prop_assert_eq!((q.se(), q.ppv()), (Some(0.0), Some(0.0)));
        }
    }

    /// Arbitrary annotation lists (any code, subtype and order, VF and shutdown marks) never
    /// panic or hang, and never count a beat twice.
    #[test]
    fn arbitrary_annotations(
        reference in prop::collection::vec((0..5000i64, 0u8..=58, any::<i8>()), 0..150),
        test in prop::collection::vec((0..5000i64, 0u8..=58, any::<i8>()), 0..150),
        start in 0..2000i64,
        end in prop::option::of(0..6000i64),
        len in prop::option::of(0..6000u64),
        exclude_vf in any::<bool>(),
    ) {
        let to_anns = |v: &[(i64, u8, i8)]| -> Vec<Annotation> {
            v.iter().map(|&(s, code, sub)| {
                let mut a = Annotation::new(s, code);
                a.subtype = sub;
                a
            }).collect()
        };
        let (reference, test) = (to_anns(&reference), to_anns(&test));
        let options = BxbOptions {
            window_s: 0.15,
            start_s: start as f64 / FS,
            end_s: end.map(|e| e as f64 / FS),
            exclude_vf,
        };
        if let Ok(c) = compare(&reference, &test, FS, len, &options) {
            let q = c.qrs_counts();
            let n_ref = reference.iter().filter(|a| a.is_beat()).count() as u64;
            let n_test = test.iter().filter(|a| a.is_beat()).count() as u64;
            prop_assert!(q.tp + q.fn_ <= n_ref);
            prop_assert!(q.tp + q.fp <= n_test);
        }
    }
}
