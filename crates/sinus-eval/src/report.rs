//! Plain-text tables of QRS detection results (one line per record, then gross and average),
//! the readable counterpart of `bxb -l` line reports summed by `sumstats`.

use std::fmt::{self, Write as _};

use crate::stats::QrsReport;

/// Width of the record-name column (at least this wide; longer names widen it).
const NAME_WIDTH: usize = 8;

fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.2}"))
}

/// The report as a table:
///
/// ```text
/// Record       TP     FN     FP     Se %    +P %    F1 %
/// 100        1901      0      0   100.00  100.00  100.00
/// ...
/// Gross     ...
/// Average                         99.93   99.90   99.91
/// ```
///
/// Undefined ratios print as `-`.
pub fn format_table(report: &QrsReport) -> String {
    let width = report
        .records
        .iter()
        .map(|r| r.name.chars().count())
        .chain([NAME_WIDTH, "Average".len()])
        .max()
        .unwrap_or(NAME_WIDTH);
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{:<width$} {:>7} {:>6} {:>6} {:>8} {:>7} {:>7}",
        "Record", "TP", "FN", "FP", "Se %", "+P %", "F1 %"
    );
    for r in &report.records {
        let _ = writeln!(
            out,
            "{:<width$} {:>7} {:>6} {:>6} {:>8} {:>7} {:>7}",
            r.name,
            r.tp,
            r.fn_,
            r.fp,
            ratio(r.se),
            ratio(r.ppv),
            ratio(r.f1)
        );
    }
    let _ = writeln!(out, "{}", "-".repeat(width + 48));
    let g = &report.gross;
    let _ = writeln!(
        out,
        "{:<width$} {:>7} {:>6} {:>6} {:>8} {:>7} {:>7}",
        "Gross",
        g.tp,
        g.fn_,
        g.fp,
        ratio(g.se),
        ratio(g.ppv),
        ratio(g.f1)
    );
    let a = &report.average;
    let _ = writeln!(
        out,
        "{:<width$} {:>7} {:>6} {:>6} {:>8} {:>7} {:>7}",
        "Average",
        "",
        "",
        "",
        ratio(a.se),
        ratio(a.ppv),
        ratio(a.f1)
    );
    out
}

impl fmt::Display for QrsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_table(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{QrsCounts, RecordResult};

    #[test]
    fn table_lines() {
        let report = QrsReport::new(vec![
            RecordResult::new(
                "100",
                QrsCounts {
                    tp: 1901,
                    fn_: 0,
                    fp: 1,
                },
            ),
            RecordResult::new("empty", QrsCounts::default()),
        ]);
        let table = format_table(&report);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 6, "{table}");
        assert_eq!(
            lines[0],
            "Record        TP     FN     FP     Se %    +P %    F1 %"
        );
        assert_eq!(
            lines[1],
            "100         1901      0      1   100.00   99.95   99.97"
        );
        assert_eq!(
            lines[2],
            "empty          0      0      0        -       -       -"
        );
        assert!(lines[4].starts_with("Gross       1901      0      1   100.00   99.95"));
        assert!(lines[5].starts_with("Average") && lines[5].ends_with("100.00   99.95   99.97"));
        assert_eq!(report.to_string(), table);
    }
}
