//! `sinus hrv [REC] [--annotator atr] [--rr FILE] [--json] [--nn]`: heart-rate variability
//! (Task Force 1996) of a record's reference beats, or of a plain-text RR list.

use crate::progress::Progress;
use crate::record_arg::RecordArgs;
use crate::{print_out, CliResult};
use clap::Args;
use serde_json::json;
use sinus_eval::bxb::{aami_class, Label};
use sinus_signal::hrv::{hrv_from_seconds, nn_series, Hrv, HrvOptions};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Arguments of `sinus hrv`.
#[derive(Debug, Args)]
pub struct HrvArgs {
    #[command(flatten)]
    pub record: RecordArgs,
    /// Read beats from a text RR list instead of a record: one interval in seconds per line,
    /// optionally followed by the AAMI class (N S V F Q) of the beat that ends it; the first
    /// beat counts as N. Blank lines and lines starting with `#` are skipped.
    #[arg(long, value_name = "FILE", conflicts_with = "record")]
    pub rr: Option<PathBuf>,
    /// Print JSON (every measure, the exclusion counts and the spectrum) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// With --json, also print the NN intervals used (`nn.time_s`, `nn.nn_ms`).
    #[arg(long)]
    pub nn: bool,
    /// Welch segment length in seconds (default: half the NN series).
    #[arg(long, value_name = "SECONDS")]
    pub welch_segment: Option<f64>,
}

/// Run `sinus hrv`.
pub fn run(args: HrvArgs, progress: &Progress) -> CliResult {
    let (source, times, classes) = match &args.rr {
        Some(path) => {
            let (times, classes) = read_rr_file(path)?;
            (path.display().to_string(), times, classes)
        }
        None => record_beats(&args.record, progress)?,
    };
    let options = HrvOptions {
        welch_segment_s: args.welch_segment,
        ..HrvOptions::default()
    };
    let hrv = hrv_from_seconds(&times, &classes, &options);
    if args.json {
        let mut out = json!({ "source": source, "options": options, "hrv": hrv });
        if args.nn {
            let (nn, _) = nn_series(&times, &classes, &options);
            out["nn"] = json!({ "time_s": nn.time_s, "nn_ms": nn.nn_ms });
        }
        print_out(&format!("{}\n", serde_json::to_string_pretty(&out)?))
    } else {
        print_out(&table(&source, &hrv))
    }
}

/// Beat times (seconds) and AAMI classes of a record's reference annotations.
fn record_beats(
    record: &RecordArgs,
    progress: &Progress,
) -> CliResult<(String, Vec<f64>, Vec<char>)> {
    let opened = record.open(progress)?;
    let rec = &opened.recording;
    let anns = opened
        .annotations
        .as_ref()
        .ok_or_else(|| format!("{}: no beat annotations to read", rec.name))?;
    let fs = rec.frame_frequency;
    if !(fs > 0.0 && fs.is_finite()) {
        return Err(format!("{}: sampling frequency {fs} is not usable", rec.name).into());
    }
    let (mut times, mut classes) = (Vec::new(), Vec::new());
    for a in anns.set.annotations.iter().filter(|a| a.is_beat()) {
        times.push(a.sample as f64 / fs);
        classes.push(class_letter(aami_class(a.code)));
    }
    Ok((format!("{} ({})", rec.name, anns.annotator), times, classes))
}

/// The AAMI letter of a beat; beats without an AAMI class (e.g. flutter waves `!`) are `O`, which
/// HRV treats as not normal like any letter other than `N`.
fn class_letter(label: Option<Label>) -> char {
    match label {
        Some(Label::N) => 'N',
        Some(Label::S) => 'S',
        Some(Label::V) => 'V',
        Some(Label::F) => 'F',
        Some(Label::Q) => 'Q',
        _ => 'O',
    }
}

/// Parse an RR list (see [`HrvArgs::rr`]) into beat times from 0 s and beat classes.
fn read_rr_file(path: &Path) -> CliResult<(Vec<f64>, Vec<char>)> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    sinus_signal::hrv::parse_rr_list(&text).map_err(|e| format!("{}: {e}", path.display()).into())
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map(|x| format!("{x:.decimals$}"))
        .unwrap_or_else(|| "-".into())
}

fn table(source: &str, h: &Hrv) -> String {
    let c = &h.counts;
    let t = &h.time;
    let mut s = String::new();
    let _ = writeln!(s, "HRV of {source}");
    let _ = writeln!(
        s,
        "beats {}  intervals {}  NN {}  excluded {} (ectopic {}, too short {}, too long {}, invalid {})",
        c.beats,
        c.intervals,
        c.nn,
        c.excluded,
        c.excluded_ectopic,
        c.excluded_too_short,
        c.excluded_too_long,
        c.excluded_invalid
    );
    let _ = writeln!(s, "NN series spans {:.1} s", t.span_s);
    let _ = writeln!(s, "\ntime domain");
    let rows = [
        ("mean NN", opt(t.mean_nn_ms, 1), "ms"),
        ("SDNN", opt(t.sdnn_ms, 2), "ms"),
        ("RMSSD", opt(t.rmssd_ms, 2), "ms"),
        ("SDSD", opt(t.sdsd_ms, 2), "ms"),
        ("NN50", t.nn50.to_string(), ""),
        ("pNN50", opt(t.pnn50_pct, 2), "%"),
        ("HR mean", opt(t.hr_mean_bpm, 1), "bpm"),
        ("HR min (8 beats)", opt(t.hr_min_bpm, 1), "bpm"),
        ("HR max (8 beats)", opt(t.hr_max_bpm, 1), "bpm"),
        ("SDANN (5 min)", opt(t.sdann_ms, 2), "ms"),
        ("SDNN index (5 min)", opt(t.sdnn_index_ms, 2), "ms"),
    ];
    for (name, value, unit) in rows {
        let _ = writeln!(s, "  {name:<20} {value:>12} {unit}");
    }
    match &h.frequency {
        None => {
            let _ = writeln!(
                s,
                "\nfrequency domain: NN series too short (needs >= 1 min)"
            );
        }
        Some(f) => {
            let _ = writeln!(
                s,
                "\nfrequency domain (cubic spline at {} Hz, Welch {} x {:.0} s Hann segments, from {:.4} Hz)",
                f.resample_hz, f.segments, f.segment_s, f.min_frequency_hz
            );
            let rows = [
                ("VLF 0.0033-0.04 Hz", opt(f.vlf_ms2, 1), "ms²"),
                ("LF 0.04-0.15 Hz", opt(f.lf_ms2, 1), "ms²"),
                ("HF 0.15-0.4 Hz", opt(f.hf_ms2, 1), "ms²"),
                ("total <= 0.4 Hz", opt(f.total_power_ms2, 1), "ms²"),
                ("LF/HF", opt(f.lf_hf, 3), ""),
                ("LF nu", opt(f.lf_nu, 1), "%"),
                ("HF nu", opt(f.hf_nu, 1), "%"),
            ];
            for (name, value, unit) in rows {
                let _ = writeln!(s, "  {name:<20} {value:>12} {unit}");
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use sinus_signal::hrv::NnSeries;

    /// The NN series of an RR list.
    fn nn_of(text: &str) -> NnSeries {
        let (t, c) = sinus_signal::hrv::parse_rr_list(text).expect("parses");
        nn_series(&t, &c, &HrvOptions::default()).0
    }

    #[test]
    fn rr_list_with_labels_excludes_ectopic_neighbours() {
        let nn = nn_of("# comment\n0.8\n0.8 N\n0.5 V\n1.1 N\n0.8\n\n0.8,N\n");
        // Beats at 0, .8, 1.6, 2.1(V), 3.2, 4.0, 4.8: intervals into and out of the V go.
        assert_eq!(nn.nn_ms.len(), 4);
        assert!(nn.follows_previous[1] && !nn.follows_previous[2] && nn.follows_previous[3]);
    }

    #[test]
    fn rr_list_errors_name_the_line() {
        assert!(sinus_signal::hrv::parse_rr_list("0.8\nabc\n")
            .unwrap_err()
            .contains("line 2"));
        assert!(sinus_signal::hrv::parse_rr_list("0.8 X\n")
            .unwrap_err()
            .contains("line 1"));
        assert!(sinus_signal::hrv::parse_rr_list("-1\n").is_err());
        assert!(sinus_signal::hrv::parse_rr_list("NaN\n").is_err());
        assert!(sinus_signal::hrv::parse_rr_list(",\n").is_err());
    }
}
