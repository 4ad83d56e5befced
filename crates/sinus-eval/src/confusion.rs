//! A confusion matrix over any set of classes, with per-class sensitivity and positive
//! predictivity (for beat classifiers, rhythm labels, ...).
//!
//! For a class `c`: `TP` = reference `c` predicted `c`; `FN` = reference `c` predicted
//! anything else; `FP` = predicted `c` for a reference of another class. EC57's beat-class
//! statistics exclude some cells (e.g. Q and F reference beats called V are not VEB false
//! positives); for those use [`crate::bxb::BeatMatrix::veb_counts`] and
//! [`crate::bxb::BeatMatrix::sveb_counts`].

use serde::{Deserialize, Serialize};

use crate::stats::QrsCounts;

/// Counts of reference class (rows) against predicted class (columns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix<L> {
    classes: Vec<L>,
    /// Row-major, `classes.len()` squared.
    counts: Vec<u64>,
}

/// Statistics of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassStats<L> {
    /// The class.
    pub class: L,
    /// TP, FN and FP of this class against all others.
    pub counts: QrsCounts,
    /// Sensitivity (recall), percent; `None` without reference beats of this class.
    pub se: Option<f64>,
    /// Positive predictivity (precision), percent; `None` when never predicted.
    pub ppv: Option<f64>,
    /// F1, percent.
    pub f1: Option<f64>,
}

impl<L: Copy + PartialEq> ConfusionMatrix<L> {
    /// An all-zero matrix over `classes` (duplicates are ignored).
    pub fn new(classes: impl IntoIterator<Item = L>) -> Self {
        let mut unique: Vec<L> = Vec::new();
        for c in classes {
            if !unique.contains(&c) {
                unique.push(c);
            }
        }
        let n = unique.len();
        ConfusionMatrix {
            classes: unique,
            counts: vec![0; n * n],
        }
    }

    /// The classes, in row and column order.
    pub fn classes(&self) -> &[L] {
        &self.classes
    }

    fn index(&self, class: L) -> Option<usize> {
        self.classes.iter().position(|&c| c == class)
    }

    /// Count `n` items of reference class `reference` predicted as `predicted`. Returns false
    /// (and counts nothing) when either class is not in the matrix.
    pub fn add(&mut self, reference: L, predicted: L, n: u64) -> bool {
        let n_classes = self.classes.len();
        match (self.index(reference), self.index(predicted)) {
            (Some(r), Some(p)) => {
                let cell = &mut self.counts[r * n_classes + p];
                *cell = cell.saturating_add(n);
                true
            }
            _ => false,
        }
    }

    /// The count of reference `reference` predicted `predicted` (0 for unknown classes).
    pub fn get(&self, reference: L, predicted: L) -> u64 {
        match (self.index(reference), self.index(predicted)) {
            (Some(r), Some(p)) => self.counts[r * self.classes.len() + p],
            _ => 0,
        }
    }

    /// Total count.
    pub fn total(&self) -> u64 {
        self.counts.iter().fold(0u64, |a, &b| a.saturating_add(b))
    }

    /// Fraction of items on the diagonal, percent; `None` when empty.
    pub fn accuracy(&self) -> Option<f64> {
        let diag = self
            .classes
            .iter()
            .fold(0u64, |a, &c| a.saturating_add(self.get(c, c)));
        let total = self.total();
        (total > 0).then(|| 100.0 * diag as f64 / total as f64)
    }

    /// TP, FN and FP of `class` (all zero for an unknown class).
    pub fn counts_of(&self, class: L) -> QrsCounts {
        let mut counts = QrsCounts::default();
        for &other in &self.classes {
            if other == class {
                continue;
            }
            counts.fn_ = counts.fn_.saturating_add(self.get(class, other));
            counts.fp = counts.fp.saturating_add(self.get(other, class));
        }
        counts.tp = self.get(class, class);
        counts
    }

    /// Statistics of `class`.
    pub fn class_stats(&self, class: L) -> ClassStats<L> {
        let counts = self.counts_of(class);
        ClassStats {
            class,
            counts,
            se: counts.se(),
            ppv: counts.ppv(),
            f1: counts.f1(),
        }
    }

    /// Statistics of every class, in class order.
    pub fn per_class(&self) -> Vec<ClassStats<L>> {
        self.classes.iter().map(|&c| self.class_stats(c)).collect()
    }

    /// Sum of two matrices over the same classes; `None` when the classes differ.
    pub fn merged(&self, other: &ConfusionMatrix<L>) -> Option<ConfusionMatrix<L>> {
        if self.classes != other.classes {
            return None;
        }
        let counts = self
            .counts
            .iter()
            .zip(&other.counts)
            .map(|(a, b)| a.saturating_add(*b))
            .collect();
        Some(ConfusionMatrix {
            classes: self.classes.clone(),
            counts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_class_statistics() {
        let mut m = ConfusionMatrix::new(['N', 'V', 'S', 'V']);
        assert_eq!(m.classes(), &['N', 'V', 'S']);
        m.add('N', 'N', 90);
        m.add('N', 'V', 10);
        m.add('V', 'V', 30);
        m.add('V', 'N', 10);
        m.add('S', 'N', 5);
        assert!(!m.add('X', 'N', 1));
        assert_eq!(m.total(), 145);
        let v = m.class_stats('V');
        assert_eq!(
            v.counts,
            QrsCounts {
                tp: 30,
                fn_: 10,
                fp: 10
            }
        );
        assert_eq!((v.se, v.ppv), (Some(75.0), Some(75.0)));
        let s = m.class_stats('S');
        assert_eq!((s.se, s.ppv), (Some(0.0), None));
        assert!((m.accuracy().unwrap() - 120.0 / 145.0 * 100.0).abs() < 1e-12);
        let twice = m.merged(&m).unwrap();
        assert_eq!(twice.get('N', 'V'), 20);
        assert!(m.merged(&ConfusionMatrix::new(['N'])).is_none());
        assert_eq!(m.per_class().len(), 3);
    }

    #[test]
    fn empty_matrix() {
        let m: ConfusionMatrix<u8> = ConfusionMatrix::new([]);
        assert_eq!((m.total(), m.accuracy()), (0, None));
        assert_eq!(m.get(1, 1), 0);
    }
}
