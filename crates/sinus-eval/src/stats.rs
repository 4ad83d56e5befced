//! QRS detection statistics as EC57 reports them: per record, gross and average.
//!
//! All ratios are percentages (0–100), `None` (JSON `null`) when undefined (a zero
//! denominator), as `bxb` and `sumstats` print `-`:
//!
//! - sensitivity `Se = TP / (TP + FN)`,
//! - positive predictivity `+P = TP / (TP + FP)`,
//! - `F1 = 2 TP / (2 TP + FN + FP)` (the harmonic mean of Se and +P; not in `bxb`).
//!
//! **Gross** statistics divide the sums of the counts over all records; **average** statistics
//! are the mean of the per-record ratios over the records where the ratio is defined, as WFDB's
//! `sumstats` computes them.

use serde::{Deserialize, Serialize};

/// True positives, false negatives and false positives of QRS detection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrsCounts {
    /// Reference beats matched by a test beat.
    pub tp: u64,
    /// Reference beats not matched (missed beats).
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// Test beats matching no reference beat (false detections).
    pub fp: u64,
}

/// `100 * num / den`, `None` when `den` is 0.
pub(crate) fn percent(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| 100.0 * num as f64 / den as f64)
}

impl QrsCounts {
    /// Sensitivity in percent, `None` without reference beats.
    pub fn se(&self) -> Option<f64> {
        percent(self.tp, self.tp.saturating_add(self.fn_))
    }

    /// Positive predictivity in percent, `None` without test beats.
    pub fn ppv(&self) -> Option<f64> {
        percent(self.tp, self.tp.saturating_add(self.fp))
    }

    /// F1 score in percent, `None` when there are no beats at all.
    pub fn f1(&self) -> Option<f64> {
        let tp2 = self.tp.saturating_mul(2);
        percent(tp2, tp2.saturating_add(self.fn_).saturating_add(self.fp))
    }

    /// Sum of two sets of counts.
    pub fn add(&self, other: &QrsCounts) -> QrsCounts {
        QrsCounts {
            tp: self.tp.saturating_add(other.tp),
            fn_: self.fn_.saturating_add(other.fn_),
            fp: self.fp.saturating_add(other.fp),
        }
    }
}

/// Counts and ratios of one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordResult {
    /// Record name.
    pub name: String,
    /// True positives.
    pub tp: u64,
    /// False negatives.
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// False positives.
    pub fp: u64,
    /// Sensitivity, percent.
    pub se: Option<f64>,
    /// Positive predictivity, percent.
    pub ppv: Option<f64>,
    /// F1, percent.
    pub f1: Option<f64>,
}

impl RecordResult {
    /// The result of record `name` with `counts`, ratios computed.
    pub fn new(name: impl Into<String>, counts: QrsCounts) -> Self {
        RecordResult {
            name: name.into(),
            tp: counts.tp,
            fn_: counts.fn_,
            fp: counts.fp,
            se: counts.se(),
            ppv: counts.ppv(),
            f1: counts.f1(),
        }
    }

    /// The counts of this record.
    pub fn counts(&self) -> QrsCounts {
        QrsCounts {
            tp: self.tp,
            fn_: self.fn_,
            fp: self.fp,
        }
    }
}

/// Gross statistics: ratios of the counts summed over records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Sensitivity, percent.
    pub se: Option<f64>,
    /// Positive predictivity, percent.
    pub ppv: Option<f64>,
    /// F1, percent.
    pub f1: Option<f64>,
    /// Total true positives.
    pub tp: u64,
    /// Total false negatives.
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// Total false positives.
    pub fp: u64,
}

impl Summary {
    /// The gross statistics of `counts`.
    pub fn of(counts: QrsCounts) -> Self {
        Summary {
            se: counts.se(),
            ppv: counts.ppv(),
            f1: counts.f1(),
            tp: counts.tp,
            fn_: counts.fn_,
            fp: counts.fp,
        }
    }
}

/// Average statistics: the mean of the per-record ratios, each over the records where it is
/// defined.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Average {
    /// Mean sensitivity, percent.
    pub se: Option<f64>,
    /// Mean positive predictivity, percent.
    pub ppv: Option<f64>,
    /// Mean F1, percent.
    pub f1: Option<f64>,
    /// Number of records averaged over (including records whose ratios are undefined).
    pub records: usize,
}

fn mean(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let (sum, n) = values
        .flatten()
        .fold((0.0, 0u64), |(sum, n), v| (sum + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

impl Average {
    /// The average statistics of `records`.
    pub fn of(records: &[RecordResult]) -> Self {
        Average {
            se: mean(records.iter().map(|r| r.se)),
            ppv: mean(records.iter().map(|r| r.ppv)),
            f1: mean(records.iter().map(|r| r.f1)),
            records: records.len(),
        }
    }
}

/// QRS detection results of a database: per record, gross and average.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QrsReport {
    /// One entry per record, in the order given.
    pub records: Vec<RecordResult>,
    /// Ratios of the summed counts.
    pub gross: Summary,
    /// Means of the per-record ratios.
    pub average: Average,
}

impl QrsReport {
    /// The report of `records`, with gross and average statistics computed.
    pub fn new(records: Vec<RecordResult>) -> Self {
        let total = records
            .iter()
            .fold(QrsCounts::default(), |acc, r| acc.add(&r.counts()));
        QrsReport {
            gross: Summary::of(total),
            average: Average::of(&records),
            records,
        }
    }
}

impl FromIterator<RecordResult> for QrsReport {
    fn from_iter<I: IntoIterator<Item = RecordResult>>(iter: I) -> Self {
        QrsReport::new(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(tp: u64, fn_: u64, fp: u64) -> QrsCounts {
        QrsCounts { tp, fn_, fp }
    }

    #[test]
    fn ratios_of_counts() {
        let c = counts(90, 10, 30);
        assert_eq!(c.se(), Some(90.0));
        assert_eq!(c.ppv(), Some(75.0));
        // 2*90 / (180 + 40)
        assert!((c.f1().unwrap() - 180.0 / 220.0 * 100.0).abs() < 1e-12);
    }

    #[test]
    fn undefined_ratios_are_none() {
        let c = counts(0, 0, 0);
        assert_eq!((c.se(), c.ppv(), c.f1()), (None, None, None));
        let only_fp = counts(0, 0, 5);
        assert_eq!(only_fp.se(), None);
        assert_eq!(only_fp.ppv(), Some(0.0));
        assert_eq!(only_fp.f1(), Some(0.0));
    }

    #[test]
    fn gross_sums_counts_and_average_means_ratios_where_defined() {
        let report = QrsReport::new(vec![
            RecordResult::new("a", counts(100, 0, 0)),
            RecordResult::new("b", counts(50, 50, 0)),
            // No reference beats: Se undefined, skipped in the average Se.
            RecordResult::new("c", counts(0, 0, 10)),
        ]);
        assert_eq!(
            (report.gross.tp, report.gross.fn_, report.gross.fp),
            (150, 50, 10)
        );
        assert_eq!(report.gross.se, Some(75.0));
        assert!((report.gross.ppv.unwrap() - 150.0 / 160.0 * 100.0).abs() < 1e-12);
        assert_eq!(report.average.se, Some(75.0)); // (100 + 50) / 2
        assert!((report.average.ppv.unwrap() - 200.0 / 3.0).abs() < 1e-12); // (100+100+0)/3
        assert_eq!(report.average.records, 3);
    }

    #[test]
    fn json_keys() {
        let report = QrsReport::new(vec![
            RecordResult::new("100", counts(1901, 1, 2)),
            RecordResult::new("x", counts(0, 0, 0)),
        ]);
        let v = serde_json::to_value(&report).unwrap();
        let gross = &v["gross"];
        assert_eq!(gross["tp"], 1901);
        assert_eq!(gross["fn"], 1);
        assert_eq!(gross["fp"], 2);
        for key in ["se", "ppv", "f1"] {
            assert!(gross[key].as_f64().unwrap() > 99.8, "{key}");
        }
        let first = &v["records"][0];
        assert_eq!(first["name"], "100");
        for key in ["tp", "fn", "fp", "se", "ppv", "f1"] {
            assert!(first[key].is_number(), "{key}");
        }
        // Undefined ratios are null.
        assert!(v["records"][1]["se"].is_null());
        assert_eq!(v["average"]["records"], 2);
        // And the report reads back.
        let back: QrsReport = serde_json::from_value(v).unwrap();
        assert_eq!(back, report);
    }

    #[test]
    fn empty_report() {
        let report = QrsReport::new(Vec::new());
        assert_eq!(report.gross, Summary::default());
        assert_eq!(report.average.se, None);
    }
}
