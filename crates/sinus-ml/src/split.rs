//! Inter-patient splits of the MIT-BIH Arrhythmia Database.
//!
//! Beats of one patient look alike, so a random beat split puts near-copies of test beats in
//! the training set and overstates accuracy. de Chazal, O'Dwyer & Reilly (2004) split the
//! records instead: DS1 for training, DS2 for testing, each 22 records with a similar mix of
//! classes; the four paced records are left out (AAMI EC57 excludes them).

/// Records with paced beats, excluded from both DS1 and DS2.
pub const PACED: [&str; 4] = ["102", "104", "107", "217"];

/// de Chazal's DS1: the training records.
pub const DS1: [&str; 22] = [
    "101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122", "124", "201",
    "203", "205", "207", "208", "209", "215", "220", "223", "230",
];

/// de Chazal's DS2: the test records, to be used once per finished model.
pub const DS2: [&str; 22] = [
    "100", "103", "105", "111", "113", "117", "121", "123", "200", "202", "210", "212", "213",
    "214", "219", "221", "222", "228", "231", "232", "233", "234",
];

/// DS1 in a seed-determined order (Fisher–Yates driven by SplitMix64).
fn shuffled_ds1(seed: u64) -> Vec<&'static str> {
    let mut records = DS1.to_vec();
    // SplitMix64 (crate::rng), so a seed gives the same split on every platform and version.
    let mut rng = crate::rng::SplitMix64::new(seed);
    for i in (1..records.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        records.swap(i, j);
    }
    records
}

/// A patient-wise validation set: `n` whole DS1 records (at most all 22) chosen by `seed`,
/// sorted. Whole records, never single beats, so validation patients are unseen in training.
pub fn validation_records(seed: u64, n: usize) -> Vec<&'static str> {
    let mut v: Vec<_> = shuffled_ds1(seed).into_iter().take(n).collect();
    v.sort_unstable();
    v
}

/// The DS1 records not in [`validation_records`]`(seed, n)`, sorted.
pub fn training_records(seed: u64, n: usize) -> Vec<&'static str> {
    let mut v: Vec<_> = shuffled_ds1(seed).into_iter().skip(n).collect();
    v.sort_unstable();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn de_chazal_split_is_disjoint_and_excludes_paced() {
        let ds1: BTreeSet<_> = DS1.iter().collect();
        let ds2: BTreeSet<_> = DS2.iter().collect();
        assert_eq!(ds1.len(), 22);
        assert_eq!(ds2.len(), 22);
        assert!(ds1.is_disjoint(&ds2));
        for p in &PACED {
            assert!(!ds1.contains(p) && !ds2.contains(p), "{p}");
        }
        // Together with the paced records they are exactly the 48 MIT-BIH records.
        let mut all: BTreeSet<&str> = DS1.iter().chain(&DS2).chain(&PACED).copied().collect();
        for r in sinus_io::datasets::MITDB_RECORDS {
            assert!(all.remove(r), "{r} missing");
        }
        assert!(all.is_empty());
    }

    #[test]
    fn validation_split_is_deterministic_and_patient_wise() {
        let v = validation_records(7, 4);
        assert_eq!(v, validation_records(7, 4));
        assert_eq!(v.len(), 4);
        let t = training_records(7, 4);
        assert_eq!(t.len(), 18);
        let vs: BTreeSet<_> = v.iter().collect();
        assert!(t.iter().all(|r| !vs.contains(r)));
        assert!(v.iter().chain(&t).all(|r| DS1.contains(r)));
        // Different seeds give different splits (for these two seeds).
        assert_ne!(validation_records(1, 4), validation_records(2, 4));
        assert_eq!(validation_records(3, 100).len(), 22);
        assert!(training_records(3, 100).is_empty());
    }
}
