//! The matcher on MIT-BIH reference annotations: against themselves (counts checked against
//! WFDB `bxb`) and against a perturbed copy whose errors are known.

use std::path::{Path, PathBuf};

use sinus_eval::bxb::{BxbOptions, Reference};
use sinus_eval::stats::{QrsReport, RecordResult};
use sinus_io::datasets::{mitdb_for_tests, MITDB_RECORDS};

fn load(db: &Path, name: &str) -> Reference {
    Reference::load(db.join(name), "atr").unwrap()
}

fn mitdb() -> Option<PathBuf> {
    mitdb_for_tests(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn reference_against_itself() {
    let Some(db) = mitdb() else { return };
    let mut whole = Vec::new();
    let mut ec57 = Vec::new();
    for name in MITDB_RECORDS {
        let r = load(&db, name);
        for (options, results) in [
            (BxbOptions::whole_record(), &mut whole),
            (BxbOptions::EC57, &mut ec57),
        ] {
            let c = r.compare(&r.annotations, &options).unwrap();
            let q = c.qrs_counts();
            assert_eq!((q.fn_, q.fp), (0, 0), "record {name}");
            results.push(RecordResult::new(name, q));
        }
    }
    let whole = QrsReport::new(whole);
    let ec57 = QrsReport::new(ec57);
    // WFDB 10.7.0 `bxb -r REC -a atr atr -f 0` (and without -f) summed over the 48 records.
    assert_eq!(whole.gross.tp, 109_494);
    assert_eq!(ec57.gross.tp, 91_285);
    // Per record, e.g. 207 (its VF episodes excluded) and 100.
    let tp =
        |report: &QrsReport, name: &str| report.records.iter().find(|r| r.name == name).unwrap().tp;
    assert_eq!((tp(&whole, "100"), tp(&ec57, "100")), (2273, 1902));
    assert_eq!((tp(&whole, "207"), tp(&ec57, "207")), (1860, 1592));
    assert_eq!((tp(&whole, "203"), tp(&ec57, "203")), (2980, 2481));
    assert_eq!(whole.gross.se, Some(100.0));
    assert_eq!(whole.average.ppv, Some(100.0));
    let r = load(&db, "100");
    assert_eq!(
        (r.name.as_str(), r.fs, r.samples),
        ("100", 360.0, Some(650_000))
    );
}

#[test]
fn missing_files_are_errors_naming_the_file() {
    let Some(db) = mitdb() else { return };
    let e = Reference::load(db.join("100"), "nonexistent").unwrap_err();
    assert!(e.to_string().contains("100.nonexistent"), "{e}");
    let e = Reference::load(db.join("999"), "atr").unwrap_err();
    assert!(e.to_string().contains("999.hea"), "{e}");
}

/// A small deterministic generator (xorshift64*), enough to scatter perturbations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn reference_against_perturbed_copy() {
    let Some(db) = mitdb() else { return };
    // Records without VF episodes; 105 and 203 have shutdown marks, which only label errors.
    for (i, name) in ["100", "105", "119", "203", "208"].into_iter().enumerate() {
        let r = load(&db, name);
        let beats: Vec<i64> = r
            .annotations
            .iter()
            .filter(|a| a.is_beat())
            .map(|a| a.sample)
            .collect();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1));
        let (mut test, mut deleted, mut added) = (Vec::new(), Vec::new(), Vec::new());
        for (k, &b) in beats.iter().enumerate() {
            // Jitter of at most 20 samples keeps each detection nearest its own beat as long
            // as neighbours are more than 40 samples apart (true in these records).
            let jitter = rng.below(41) as i64 - 20;
            if rng.below(100) < 2 {
                deleted.push(b);
            } else {
                test.push((b + jitter).max(0));
            }
            // A false detection halfway through a long interval, beyond the window of both
            // neighbouring beats (and of their jittered detections' partners).
            if let Some(&next) = beats.get(k + 1) {
                if next - b > 200 && rng.below(100) < 2 {
                    let mid = b + (next - b) / 2;
                    test.push(mid);
                    added.push(mid);
                }
            }
        }
        test.sort_unstable();
        let c = r
            .compare_samples(test.iter().copied(), &BxbOptions::whole_record())
            .unwrap();
        let q = c.qrs_counts();
        assert!(!deleted.is_empty() && !added.is_empty(), "record {name}");
        assert_eq!(c.missed, deleted, "record {name}");
        assert_eq!(c.extra, added, "record {name}");
        assert_eq!(q.tp, (beats.len() - deleted.len()) as u64, "record {name}");
    }
}
