//! SMOTE oversampling (Chawla, Bowyer, Hall & Kegelmeyer 2002) on the feature vector
//! waveform ++ RR features.
//!
//! For each synthetic beat a source beat of the class is taken in turn (round-robin over the
//! class, so every beat is used about equally), one of its `k` nearest neighbours of the same
//! class (Euclidean distance) is drawn, and the new point is `x + u·(nn − x)` with one
//! `u ~ U(0, 1)` for the whole vector: it lies on the segment between the two beats.
//!
//! Neighbours are found by brute force: O(s·n·d) for `s` sources used (at most `n`), `n`
//! beats in the class and `d` features, i.e. O(n²·d) per class at worst. To cap that work,
//! classes larger than [`MAX_CLASS_SIZE`] are not oversampled; SMOTE is for minority
//! classes, and larger classes need no synthetic beats.

use crate::dataset::{AamiClass, Beat};
use crate::rng::SplitMix64;

/// Classes with more beats than this are not oversampled (bounds the O(n²) neighbour search:
/// 10 000² pairs × 136 features ≈ 1.4·10¹⁰ operations at worst).
pub const MAX_CLASS_SIZE: usize = 10_000;

/// Most synthetic beats one call creates (bounds memory).
pub const MAX_NEW_BEATS: usize = 1_000_000;

/// Why [`smote`] creates fewer beats than asked, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmoteSkip {
    /// The class already has at least `target_count` beats: nothing to add.
    TargetReached,
    /// Fewer than 2 beats of the class (with the common waveform length): no pair to
    /// interpolate between.
    TooFewSamples,
    /// The class has more than [`MAX_CLASS_SIZE`] beats.
    ClassTooLarge,
}

/// The reason [`smote`] returns an empty vector for these arguments, or `None` when it will
/// create `min(target_count − class size, MAX_NEW_BEATS)` beats.
pub fn smote_skip_reason(
    beats: &[Beat],
    class: AamiClass,
    target_count: usize,
) -> Option<SmoteSkip> {
    let n = class_members(beats, class).len();
    if n >= target_count {
        Some(SmoteSkip::TargetReached)
    } else if n < 2 {
        Some(SmoteSkip::TooFewSamples)
    } else if n > MAX_CLASS_SIZE {
        Some(SmoteSkip::ClassTooLarge)
    } else {
        None
    }
}

/// Indices of the beats of `class` whose waveform has the length of the class's first beat
/// (a mixed-length set cannot be interpolated; odd beats are left out rather than panicking).
fn class_members(beats: &[Beat], class: AamiClass) -> Vec<usize> {
    let mut len = None;
    let mut out = Vec::new();
    for (i, b) in beats.iter().enumerate() {
        if b.class != class {
            continue;
        }
        let l = *len.get_or_insert(b.waveform.len());
        if b.waveform.len() == l {
            out.push(i);
        }
    }
    out
}

fn squared_distance(a: &Beat, b: &Beat) -> f64 {
    let w: f64 = a
        .waveform
        .iter()
        .zip(&b.waveform)
        .map(|(x, y)| {
            let d = *x as f64 - *y as f64;
            d * d
        })
        .sum();
    let r: f64 =
        a.rr.iter()
            .zip(&b.rr)
            .map(|(x, y)| {
                let d = *x as f64 - *y as f64;
                d * d
            })
            .sum();
    w + r
}

/// The `k` nearest other members (positions in `members`) of member `s`, nearest first; ties
/// and NaN distances ordered deterministically (NaN last, then by position).
fn nearest(beats: &[Beat], members: &[usize], s: usize, k: usize) -> Vec<usize> {
    let x = &beats[members[s]];
    let mut d: Vec<(f64, usize)> = members
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != s)
        .map(|(j, &m)| (squared_distance(x, &beats[m]), j))
        .collect();
    d.sort_by(|a, b| {
        let key = |v: f64| if v.is_nan() { f64::INFINITY } else { v };
        key(a.0).total_cmp(&key(b.0)).then(a.1.cmp(&b.1))
    });
    d.truncate(k);
    d.into_iter().map(|(_, j)| j).collect()
}

/// Synthetic beats of `class` that bring it to `target_count` beats in total: returns only the
/// new beats, `target_count − class size` of them (at most [`MAX_NEW_BEATS`]; the class size
/// counts the beats whose waveform length matches the class's first beat). Each has
/// `record = "smote:<source record>"`, `sample = −1`, the source's symbol, and waveform and RR
/// features interpolated together. `k` is capped at class size − 1 (and raised to 1 if 0).
/// Deterministic for a `seed`.
///
/// Returns an empty vector, never panicking, when (see [`smote_skip_reason`]) the class
/// already has `target_count` beats, has fewer than 2 beats (nothing to interpolate
/// between), or has more than [`MAX_CLASS_SIZE`] beats (brute-force neighbour search cap).
pub fn smote(
    beats: &[Beat],
    class: AamiClass,
    target_count: usize,
    k: usize,
    seed: u64,
) -> Vec<Beat> {
    if smote_skip_reason(beats, class, target_count).is_some() {
        return Vec::new();
    }
    let members = class_members(beats, class);
    let n = members.len();
    let new = (target_count - n).min(MAX_NEW_BEATS);
    let k = k.clamp(1, n - 1);
    let mut rng = SplitMix64::new(seed);
    // Neighbour lists, computed only for the sources actually used (the first `new` members
    // when fewer synthetic beats than members are asked for).
    let mut neighbours: Vec<Option<Vec<usize>>> = vec![None; n];
    let mut out = Vec::with_capacity(new);
    for i in 0..new {
        let s = i % n;
        let nn = neighbours[s].get_or_insert_with(|| nearest(beats, &members, s, k));
        let Some(&j) = nn.get(rng.below(nn.len())) else {
            continue; // unreachable: n ≥ 2 gives at least one neighbour
        };
        let u = rng.uniform();
        let (x, y) = (&beats[members[s]], &beats[members[j]]);
        let lerp = |a: f32, b: f32| (a as f64 + u * (b as f64 - a as f64)) as f32;
        let mut rr = [0.0f32; 8];
        for (r, (a, b)) in rr.iter_mut().zip(x.rr.iter().zip(&y.rr)) {
            *r = lerp(*a, *b);
        }
        out.push(Beat {
            record: format!("smote:{}", x.record),
            sample: -1,
            class,
            symbol: x.symbol.clone(),
            waveform: x
                .waveform
                .iter()
                .zip(&y.waveform)
                .map(|(a, b)| lerp(*a, *b))
                .collect(),
            rr,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beat(record: &str, class: AamiClass, waveform: Vec<f32>, rr0: f32) -> Beat {
        Beat {
            record: record.into(),
            sample: 10,
            class,
            symbol: class.name().into(),
            waveform,
            rr: [rr0, 0.5, 0.6, 0.7, 1.0, 1.1, 1.2, 1.3],
        }
    }

    fn set() -> Vec<Beat> {
        let mut v = Vec::new();
        for i in 0..6 {
            let f = i as f32;
            v.push(beat(
                &format!("s{i}"),
                AamiClass::S,
                vec![f, f * f, -f, 1.0],
                0.1 * f,
            ));
            v.push(beat("n", AamiClass::N, vec![100.0 + f; 4], 0.8));
        }
        v
    }

    fn features(b: &Beat) -> Vec<f64> {
        b.waveform.iter().chain(&b.rr).map(|&v| v as f64).collect()
    }

    /// True when `p` lies on the segment a–b (within rounding).
    fn on_segment(p: &[f64], a: &[f64], b: &[f64]) -> bool {
        let ab: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
        let len2: f64 = ab.iter().map(|v| v * v).sum();
        if len2 == 0.0 {
            return p.iter().zip(a).all(|(x, y)| (x - y).abs() < 1e-4);
        }
        let u: f64 = p
            .iter()
            .zip(a)
            .zip(&ab)
            .map(|((p, a), d)| (p - a) * d)
            .sum::<f64>()
            / len2;
        (-1e-6..=1.0 + 1e-6).contains(&u)
            && p.iter()
                .zip(a)
                .zip(&ab)
                .all(|((p, a), d)| (p - (a + u * d)).abs() < 1e-4)
    }

    #[test]
    fn synthetic_points_on_same_class_segments() {
        let beats = set();
        let new = smote(&beats, AamiClass::S, 40, 3, 7);
        assert_eq!(new.len(), 34);
        let class: Vec<&Beat> = beats.iter().filter(|b| b.class == AamiClass::S).collect();
        for s in &new {
            assert_eq!((s.class, s.sample), (AamiClass::S, -1));
            let src = s.record.strip_prefix("smote:").unwrap();
            let a = class.iter().find(|b| b.record == src).unwrap();
            let p = features(s);
            assert!(
                class
                    .iter()
                    .any(|b| b.record != src && on_segment(&p, &features(a), &features(b))),
                "{s:?} not between {src} and a class mate"
            );
        }
        // Not all synthetic points are copies of their source.
        assert!(new
            .iter()
            .any(|s| class.iter().all(|b| b.waveform != s.waveform)));
    }

    #[test]
    fn neighbours_are_the_nearest() {
        // On a line 0, 1, 2, 10: with k = 1 the neighbour of 10 is 2, so its synthetics lie
        // in [2, 10]; of 0 it is 1.
        let beats: Vec<Beat> = [0.0, 1.0, 2.0, 10.0]
            .iter()
            .map(|&x| beat(&format!("{x}"), AamiClass::V, vec![x], 0.0))
            .collect();
        for s in smote(&beats, AamiClass::V, 404, 1, 3) {
            let x = s.waveform[0];
            match s.record.as_str() {
                "smote:10" => assert!((2.0..=10.0).contains(&x)),
                "smote:0" => assert!((0.0..=1.0).contains(&x)),
                "smote:1" => assert!((0.0..=1.0).contains(&x) || (1.0..=2.0).contains(&x)),
                _ => assert!((1.0..=2.0).contains(&x)),
            }
        }
    }

    #[test]
    fn deterministic() {
        let beats = set();
        assert_eq!(
            smote(&beats, AamiClass::S, 20, 2, 1),
            smote(&beats, AamiClass::S, 20, 2, 1)
        );
        assert_ne!(
            smote(&beats, AamiClass::S, 20, 2, 1),
            smote(&beats, AamiClass::S, 20, 2, 2)
        );
    }

    #[test]
    fn k_larger_than_class_and_edge_cases() {
        let beats = set();
        assert_eq!(smote(&beats, AamiClass::S, 9, 100, 1).len(), 3);
        assert_eq!(smote(&beats, AamiClass::S, 9, 0, 1).len(), 3);
        // Already big enough, absent class, single beat.
        assert!(smote(&beats, AamiClass::S, 6, 5, 1).is_empty());
        assert_eq!(
            smote_skip_reason(&beats, AamiClass::S, 6),
            Some(SmoteSkip::TargetReached)
        );
        assert!(smote(&beats, AamiClass::F, 10, 5, 1).is_empty());
        let one = vec![beat("a", AamiClass::Q, vec![1.0], 0.0)];
        assert!(smote(&one, AamiClass::Q, 10, 5, 1).is_empty());
        assert_eq!(
            smote_skip_reason(&one, AamiClass::Q, 10),
            Some(SmoteSkip::TooFewSamples)
        );
        assert!(smote(&[], AamiClass::Q, 10, 5, 1).is_empty());
        // Mixed waveform lengths and NaNs: no panic, odd-length beat ignored.
        let mut odd = set();
        odd.push(beat("odd", AamiClass::S, vec![1.0], 0.0));
        odd[0].waveform[0] = f32::NAN;
        let new = smote(&odd, AamiClass::S, 12, 3, 1);
        assert_eq!(new.len(), 6); // class size counts the 6 usable beats only
        assert!(new
            .iter()
            .all(|b| b.waveform.len() == 4 && b.record != "smote:odd"));
    }

    #[test]
    fn record_232_atrial_premature_beats() {
        let Some(db) = sinus_io::datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
            return;
        };
        let config = crate::dataset::BeatWindowConfig::default();
        let rec = crate::dataset::extract_beats(db.join("232"), &config).unwrap();
        let n = rec.beats.iter().filter(|b| b.class == AamiClass::S).count();
        assert!(n > 1000, "{n} S beats in 232");
        let new = smote(&rec.beats, AamiClass::S, n + 40, 5, 11);
        assert_eq!(new.len(), 40);
        for b in &new {
            assert_eq!(b.record, "smote:232");
            assert_eq!(b.waveform.len(), config.waveform_len());
            assert!(b.waveform.iter().chain(&b.rr).all(|v| v.is_finite()));
        }
        let aug = crate::augment::augment_dataset(
            &rec.beats[..50],
            &crate::augment::Augmentation::default(),
            &config,
            3,
            [1; 5],
        )
        .unwrap();
        assert_eq!(aug.len(), 50);
    }
}
