//! The random beat split used by the seed projects and by Kaggle's `mitbih_train.csv` /
//! `mitbih_test.csv`: **leaky**, kept only so results can be compared with theirs.
//!
//! Beats are drawn at random from all records, so every patient has beats in both the training
//! and the test set. Beats of one patient look alike (the same morphology, often the same
//! ectopic focus), so the test set holds near-copies of training beats and the scores overstate
//! how a model does on a new patient, typically by tens of points of macro-F1 on MIT-BIH.
//! Honest figures come from the inter-patient split in [`crate::split`].

use crate::rng::SplitMix64;

/// Split beat indices `0..n_beats` at random into (train, test), `round(train_fraction ·
/// n_beats)` in train, both sorted ascending. Deterministic for a `seed` (Fisher–Yates driven by
/// [`SplitMix64`]). Not stratified by class (as Kaggle's split is, as far as its class counts
/// show, a plain random one). `train_fraction` is clamped to `[0, 1]`; NaN counts as 0.
///
/// **Leaky**: the same patients are in train and test (see the [module documentation](self)).
pub fn random_beat_split(
    n_beats: usize,
    train_fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let f = if train_fraction.is_nan() {
        0.0
    } else {
        train_fraction.clamp(0.0, 1.0)
    };
    let n_train = ((n_beats as f64) * f).round().min(n_beats as f64) as usize;
    let mut order: Vec<usize> = (0..n_beats).collect();
    let mut rng = SplitMix64::new(seed);
    for i in (1..n_beats).rev() {
        let j = rng.below(i + 1);
        order.swap(i, j);
    }
    let mut test = order.split_off(n_train);
    order.sort_unstable();
    test.sort_unstable();
    (order, test)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_sizes_and_determinism() {
        let (tr, te) = random_beat_split(1000, 0.8, 42);
        assert_eq!((tr.len(), te.len()), (800, 200));
        let mut all: Vec<usize> = tr.iter().chain(&te).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert!(tr.windows(2).all(|w| w[0] < w[1]));
        assert!(te.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(random_beat_split(1000, 0.8, 42), (tr.clone(), te.clone()));
        assert_ne!(random_beat_split(1000, 0.8, 43).1, te);
        // Random, not a block: the test set reaches into both halves.
        assert!(te.iter().any(|&i| i < 500) && te.iter().any(|&i| i >= 500));
    }

    #[test]
    fn edge_fractions() {
        assert_eq!(random_beat_split(0, 0.8, 1), (vec![], vec![]));
        assert_eq!(random_beat_split(5, 1.0, 1).0.len(), 5);
        assert_eq!(random_beat_split(5, 0.0, 1).1.len(), 5);
        assert_eq!(random_beat_split(5, 7.0, 1).0.len(), 5);
        assert_eq!(random_beat_split(5, f64::NAN, 1).0.len(), 0);
        assert_eq!(random_beat_split(5, -1.0, 1).0.len(), 0);
    }
}
