//! Plain-text tables of QRS detection results (one line per record, then gross and average),
//! the readable counterpart of `bxb -l` line reports summed by `sumstats`, and of rhythm
//! results (the columns of `epicmp -l`, then beat-by-beat AF statistics).

use std::fmt::{self, Write as _};

use crate::rhythm::{BeatReport, RhythmReport, RhythmTypeReport};
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

/// Width of the first column for `names`, at least [`NAME_WIDTH`].
fn name_width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names
        .map(|n| n.chars().count())
        .chain([NAME_WIDTH])
        .max()
        .unwrap_or(NAME_WIDTH)
}

fn episode_table(out: &mut String, t: &RhythmTypeReport) {
    let width = name_width(t.records.iter().map(|r| r.name.as_str()));
    let _ = writeln!(
        out,
        "{:<width$} {:>5} {:>5} {:>5} {:>5} {:>7} {:>7} {:>7} {:>7} {:>12} {:>12}",
        "Record",
        "TPs",
        "FN",
        "TPp",
        "FP",
        "ESe %",
        "E+P %",
        "DSe %",
        "D+P %",
        "Ref (s)",
        "Test (s)"
    );
    for r in &t.records {
        let c = &r.counts;
        let _ = writeln!(
            out,
            "{:<width$} {:>5} {:>5} {:>5} {:>5} {:>7} {:>7} {:>7} {:>7} {:>12.3} {:>12.3}",
            r.name,
            c.tp_se,
            c.fn_,
            c.tp_ppv,
            c.fp,
            ratio(r.se),
            ratio(r.ppv),
            ratio(r.duration_se),
            ratio(r.duration_ppv),
            r.ref_duration_s,
            r.test_duration_s
        );
    }
    let _ = writeln!(out, "{}", "-".repeat(width + 84));
    let g = &t.gross;
    let _ = writeln!(
        out,
        "{:<width$} {:>5} {:>5} {:>5} {:>5} {:>7} {:>7} {:>7} {:>7} {:>12.3} {:>12.3}",
        "Gross",
        g.tp_se,
        g.fn_,
        g.tp_ppv,
        g.fp,
        ratio(g.se),
        ratio(g.ppv),
        ratio(g.duration_se),
        ratio(g.duration_ppv),
        g.ref_duration_s,
        g.test_duration_s
    );
}

fn beat_table(out: &mut String, b: &BeatReport) {
    let width = name_width(b.records.iter().map(|r| r.name.as_str()));
    let _ = writeln!(
        out,
        "{:<width$} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7} {:>7}",
        "Record", "TP", "FN", "FP", "TN", "Se %", "Sp %", "+P %", "Acc %"
    );
    for r in b.records.iter().chain([&b.gross]) {
        if std::ptr::eq(r, &b.gross) {
            let _ = writeln!(out, "{}", "-".repeat(width + 72));
        }
        let c = &r.counts;
        let _ = writeln!(
            out,
            "{:<width$} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7} {:>7}",
            r.name,
            c.tp,
            c.fn_,
            c.fp,
            c.tn,
            ratio(r.se),
            ratio(r.sp),
            ratio(r.ppv),
            ratio(r.accuracy)
        );
    }
}

/// The rhythm report as tables: for each rhythm type the episode table (the columns of
/// `epicmp -l`: TPs FN TPp FP, episode and duration Se and +P, reference and test episode
/// durations in seconds) with a gross line, then the beat-by-beat AF table when present.
/// Undefined ratios print as `-`.
pub fn format_rhythm_table(report: &RhythmReport) -> String {
    let mut out = String::new();
    for (i, t) in report.types.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "{} episodes (epicmp rules, scored from {} s)",
            t.rhythm, report.start_s
        );
        episode_table(&mut out, t);
    }
    if let Some(b) = &report.af_beats {
        if !report.types.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "AF beat by beat");
        beat_table(&mut out, b);
    }
    out
}

impl fmt::Display for RhythmReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_rhythm_table(self))
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
