//! `sinus eval beats [--model M] --db DIR [--mode reference|end-to-end|both] [--fs HZ] [--json]`: the
//! EC57-style beat-classification table on the de Chazal DS2 records (inter-patient).

use crate::detect::DetectorArg;
use crate::model_arg::{describe, load_model};
use crate::progress::Progress;
use crate::CliResult;
use clap::{Args, ValueEnum};
use serde_json::json;
use sinus_ml::evaluate::{
    check_records, evaluate_end_to_end, evaluate_reference, BeatEvaluation, ClassScore, Matrix,
    CONFUSION_LABELS,
};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Which beats are classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// The reference R-peaks (as the inter-patient papers do).
    Reference,
    /// Our own QRS detector's beats, matched to the reference (missed beats count as errors).
    #[value(name = "end-to-end")]
    EndToEnd,
    /// Both.
    Both,
}

/// Arguments of `sinus eval beats`.
#[derive(Debug, Args)]
pub struct BeatsArgs {
    /// Model file (`.snnm`); default: the shipped model.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// MIT-BIH directory.
    #[arg(long)]
    pub db: PathBuf,
    /// Records (comma-separated); default: DS2 of the de Chazal split.
    #[arg(long, value_delimiter = ',')]
    pub records: Option<Vec<String>>,
    /// Which beats are classified.
    #[arg(long, value_enum, default_value = "both")]
    pub mode: ModeArg,
    /// Detector of the end-to-end mode.
    #[arg(long, short, value_enum, default_value = "offline")]
    pub detector: DetectorArg,
    /// Resample every record to this rate (Hz) first: how the classifier fares on a recorder
    /// with another sampling rate (a monitor at 250 Hz, a Holter at 128 Hz).
    #[arg(long, value_name = "HZ", allow_negative_numbers = true)]
    pub fs: Option<f64>,
    /// Print JSON (reference mode at the top level, end-to-end under "end_to_end").
    #[arg(long)]
    pub json: bool,
}

/// Run `sinus eval beats`.
pub fn run(args: BeatsArgs, progress: &Progress) -> CliResult {
    crate::eval::check_fs(args.fs)?;
    let model = load_model(args.model.as_deref())?;
    let records: Vec<String> = match &args.records {
        Some(r) => r.clone(),
        None => sinus_ml::split::DS2.iter().map(|s| s.to_string()).collect(),
    };
    check_records(&args.db, &records)?;
    let mut reference = None;
    let mut e2e = None;
    if args.mode != ModeArg::EndToEnd {
        let s = progress.spinner("classifying reference beats");
        reference = Some(evaluate_reference(&model, &args.db, &records, args.fs)?);
        s.finish_and_clear();
    }
    if args.mode != ModeArg::Reference {
        let s = progress.spinner("detecting and classifying beats");
        e2e = Some(evaluate_end_to_end(
            &model,
            &args.db,
            &records,
            args.detector.kind(),
            args.fs,
        )?);
        s.finish_and_clear();
    }
    if args.json {
        let mut out = match &reference {
            Some(r) => serde_json::to_value(r)?,
            None => json!({}),
        };
        if let Some(e) = &e2e {
            out["end_to_end"] = serde_json::to_value(e)?;
        }
        out["model"] = json!(describe(&model));
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "Beat classification on {} records{}, model {}",
        records.len(),
        if args.records.is_none() {
            " (DS2, de Chazal inter-patient split)"
        } else {
            ""
        },
        describe(&model)
    );
    for e in reference.iter().chain(e2e.iter()) {
        print!("\n{}", format_evaluation(e));
    }
    Ok(())
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.2}"))
}

/// The EC57-style table of one evaluation.
pub fn format_evaluation(e: &BeatEvaluation) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "mode: {}", e.mode);
    write_class_table(
        &mut s,
        "",
        &e.classes,
        e.accuracy,
        e.macro_f1,
        &e.confusion,
        CONFUSION_LABELS.len(),
    );
    if e.skipped_edge > 0 {
        let _ = writeln!(
            s,
            "({} reference beats too close to a record end to cut a window were left out)",
            e.skipped_edge
        );
    }
    s
}

/// Per-class Se/+P/F1 rows, accuracy, macro-F1 and the first `labels` rows and columns of the
/// confusion matrix, each line starting with `indent`.
pub fn write_class_table(
    s: &mut String,
    indent: &str,
    classes: &BTreeMap<String, ClassScore>,
    accuracy: f64,
    macro_f1: f64,
    confusion: &Matrix,
    labels: usize,
) {
    let _ = writeln!(
        s,
        "{indent}{:<6}{:>8}{:>8}{:>8}{:>8}{:>8}{:>8}",
        "class", "Se %", "+P %", "F1 %", "TP", "FN", "FP"
    );
    for c in ["N", "S", "V", "F", "Q"] {
        if let Some(k) = classes.get(c) {
            let _ = writeln!(
                s,
                "{indent}{:<6}{:>8}{:>8}{:>8}{:>8}{:>8}{:>8}",
                c,
                opt(k.se),
                opt(k.ppv),
                opt(k.f1),
                k.tp,
                k.fn_,
                k.fp
            );
        }
    }
    let _ = writeln!(
        s,
        "{indent}accuracy {accuracy:.2} %, macro-F1 (N, S, V, F) {macro_f1:.2} %"
    );
    let _ = write!(
        s,
        "{indent}confusion (rows reference, columns predicted{}):\n{indent}{:>6}",
        if labels > 5 {
            "; '-' = none/missed"
        } else {
            ""
        },
        ""
    );
    for l in &CONFUSION_LABELS[..labels] {
        let _ = write!(s, "{l:>8}");
    }
    let _ = writeln!(s);
    for (r, row) in confusion.iter().take(labels).enumerate() {
        let _ = write!(s, "{indent}{:>6}", CONFUSION_LABELS[r]);
        for v in &row[..labels] {
            let _ = write!(s, "{v:>8}");
        }
        let _ = writeln!(s);
    }
}
