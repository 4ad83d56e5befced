//! Classification metrics from a confusion matrix.

use serde::{Deserialize, Serialize};

/// Sensitivity, positive predictivity and F1 of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Class label.
    pub class: char,
    /// Beats of this class in the reference.
    pub support: usize,
    /// Sensitivity (recall) TP / (TP + FN); `None` when the class is absent.
    pub se: Option<f64>,
    /// Positive predictivity (precision) TP / (TP + FP); `None` when never predicted.
    pub ppv: Option<f64>,
    /// Harmonic mean of `se` and `ppv` (0 when either is 0 or undefined while the class is
    /// present); `None` when the class is absent from the reference.
    pub f1: Option<f64>,
}

/// A confusion matrix: `counts[true][predicted]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    /// `counts[true class][predicted class]`.
    pub counts: Vec<Vec<usize>>,
}

impl Confusion {
    /// An empty matrix for `n` classes.
    pub fn new(n: usize) -> Self {
        Confusion {
            counts: vec![vec![0; n]; n],
        }
    }

    /// Count one decision (ignored if either index is out of range).
    pub fn add(&mut self, truth: usize, predicted: usize) {
        if let Some(c) = self
            .counts
            .get_mut(truth)
            .and_then(|row| row.get_mut(predicted))
        {
            *c += 1;
        }
    }

    /// Total decisions.
    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    /// Fraction of correct decisions (0 for an empty matrix).
    pub fn accuracy(&self) -> f64 {
        let total = self.total();
        if total == 0 {
            return 0.0;
        }
        let correct: usize = (0..self.counts.len()).map(|i| self.counts[i][i]).sum();
        correct as f64 / total as f64
    }

    /// Per-class metrics, labelled by `classes` (index order).
    pub fn class_metrics(&self, classes: &[char]) -> Vec<ClassMetrics> {
        let n = self.counts.len();
        (0..n)
            .map(|c| {
                let tp = self.counts[c][c];
                let support: usize = self.counts[c].iter().sum();
                let predicted: usize = (0..n).map(|t| self.counts[t][c]).sum();
                let se = (support > 0).then(|| tp as f64 / support as f64);
                let ppv = (predicted > 0).then(|| tp as f64 / predicted as f64);
                let f1 = se.map(|se| match ppv {
                    Some(p) if p + se > 0.0 => 2.0 * p * se / (p + se),
                    _ => 0.0,
                });
                ClassMetrics {
                    class: classes.get(c).copied().unwrap_or('?'),
                    support,
                    se,
                    ppv,
                    f1,
                }
            })
            .collect()
    }

    /// Mean F1 over the classes in `over` that occur in the reference (0 if none does).
    pub fn macro_f1(&self, over: &[usize]) -> f64 {
        let m = self.class_metrics(&[]);
        let f1s: Vec<f64> = over
            .iter()
            .filter_map(|&c| m.get(c).and_then(|m| m.f1))
            .collect();
        if f1s.is_empty() {
            0.0
        } else {
            f1s.iter().sum::<f64>() / f1s.len() as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_by_hand() {
        let mut c = Confusion::new(3);
        // truth 0: 8 right, 2 called 1; truth 1: 3 right, 1 called 0; class 2 absent but
        // predicted once for a truth-0 beat.
        for _ in 0..8 {
            c.add(0, 0);
        }
        c.add(0, 1);
        c.add(0, 1);
        for _ in 0..3 {
            c.add(1, 1);
        }
        c.add(1, 0);
        c.add(0, 2);
        c.add(7, 0); // out of range: ignored
        assert_eq!(c.total(), 15);
        assert!((c.accuracy() - 11.0 / 15.0).abs() < 1e-12);
        let m = c.class_metrics(&['N', 'V', 'Q']);
        assert_eq!(m[0].support, 11);
        assert!((m[0].se.unwrap() - 8.0 / 11.0).abs() < 1e-12);
        assert!((m[0].ppv.unwrap() - 8.0 / 9.0).abs() < 1e-12);
        assert!((m[1].se.unwrap() - 0.75).abs() < 1e-12);
        assert!((m[1].ppv.unwrap() - 0.6).abs() < 1e-12);
        assert_eq!(m[2].se, None);
        assert_eq!(m[2].ppv, Some(0.0));
        assert_eq!(m[2].f1, None);
        let f1_0 = 2.0 * (8.0 / 11.0) * (8.0 / 9.0) / (8.0 / 11.0 + 8.0 / 9.0);
        let f1_1 = 2.0 * 0.75 * 0.6 / 1.35;
        assert!((c.macro_f1(&[0, 1, 2]) - (f1_0 + f1_1) / 2.0).abs() < 1e-12);
        assert_eq!(Confusion::new(2).macro_f1(&[0, 1]), 0.0);
    }
}
