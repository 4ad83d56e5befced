//! `sinus baseline rr-window|beat-csv`: two simple setups, for comparison with the beat
//! classifier — a dense network on a window of 10 RR intervals (does the window hold a
//! ventricular run?), and the 187-sample beat-per-row CSV layout of Kachuee et al. 2018 (the
//! "ECG Heartbeat Categorization" dataset on Kaggle) with its 1-D CNN — trained inter-patient
//! and, labelled leaky, on a random beat split; several `--seed`s give the mean ± sd.

use crate::progress::Progress;
use crate::CliResult;
use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};
use sinus_ml::baseline::{
    beat_csv_experiment, mean_sd, rr_window_experiment, BeatCsvConfig, BeatCsvReport, BeatCsvRun,
    RrWindowConfig, RrWindowReport, RrWindowRun,
};
use std::fmt::Write as _;
use std::path::PathBuf;

/// How the leaky rows are labelled.
const LEAKY: &str = "LEAKY (same patients in train and test)";

/// The two setups.
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// RR intervals only: a window of 10 RR intervals → whether it holds ≥ 2 ventricular beats,
    /// with a tiny dense network.
    RrWindow(RrWindowArgs),
    /// One beat per CSV row, 187 samples at 125 Hz (Kachuee et al. 2018, the Kaggle "ECG
    /// Heartbeat Categorization" layout), built from MIT-BIH, written and read back, 1-D CNN.
    BeatCsv(BeatCsvArgs),
}

/// Arguments both setups share.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// MIT-BIH directory.
    #[arg(long)]
    pub db: PathBuf,
    /// Seeds (comma-separated); each drives the validation records, the leaky split and the
    /// training. Several seeds add a mean ± sd summary.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub seed: Vec<u64>,
    /// Most epochs.
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// Early stopping: epochs without a better validation F1.
    #[arg(long, default_value_t = 5)]
    pub patience: usize,
    /// DS1 records held out for patient-wise validation.
    #[arg(long, default_value_t = 5)]
    pub valid_records: usize,
    /// Print JSON: {"runs": [...], "summary": {...}}.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `sinus baseline rr-window`.
#[derive(Debug, Args)]
pub struct RrWindowArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Also feed the intervals divided by the record's mean interval (20 features).
    #[arg(long)]
    pub relative: bool,
}

/// Arguments of `sinus baseline beat-csv`.
#[derive(Debug, Args)]
pub struct BeatCsvArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Where the Kaggle-layout CSVs are written and read back (mitbih_ds1/ds2/train/test.csv,
    /// about 1 GB; replaced on every run).
    #[arg(long)]
    pub csv_dir: PathBuf,
}

/// Run `sinus baseline ...`.
pub fn run(cmd: BaselineCommand, progress: &Progress) -> CliResult {
    match cmd {
        BaselineCommand::RrWindow(a) => rr_window(a, progress),
        BaselineCommand::BeatCsv(a) => kaggle(a, progress),
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.2}"))
}

fn ms((m, sd): (f64, f64)) -> String {
    if m.is_nan() {
        "-".into()
    } else {
        format!("{m:.1} ± {sd:.1}")
    }
}

/// Mean and sd of a figure over runs (missing values count as 0, as a class never found).
fn stat<T>(runs: &[&T], f: impl Fn(&T) -> Option<f64>) -> (f64, f64) {
    let v: Vec<f64> = runs.iter().map(|r| f(r).unwrap_or(0.0)).collect();
    mean_sd(&v)
}

fn stat_json(s: (f64, f64)) -> Value {
    json!({"mean": s.0, "sd": s.1})
}

/// Run `experiment` once per `--seed` with a spinner, printing each report as text unless
/// `--json`; the reports in seed order.
fn each_seed<R>(
    c: &CommonArgs,
    progress: &Progress,
    format: impl Fn(&R) -> String,
    mut experiment: impl FnMut(u64, &mut dyn FnMut(&str)) -> sinus_io::Result<R>,
) -> CliResult<Vec<R>> {
    let mut reports = Vec::new();
    for &seed in &c.seed {
        let spinner = progress.spinner(&format!("seed {seed}"));
        let r = experiment(seed, &mut |m| {
            spinner.set_message(format!("seed {seed}: {m}"))
        })?;
        spinner.finish_and_clear();
        if !c.json {
            print!("{}", format(&r));
        }
        reports.push(r);
    }
    Ok(reports)
}

fn rr_window(args: RrWindowArgs, progress: &Progress) -> CliResult {
    let c = &args.common;
    let defaults = RrWindowConfig::default();
    let cfg = RrWindowConfig {
        relative: args.relative,
        valid_records: c.valid_records,
        train: sinus_ml::train::TrainConfig {
            epochs: c.epochs,
            patience: c.patience,
            ..defaults.train.clone()
        },
        ..defaults
    };
    let reports = each_seed(c, progress, format_rr, |seed, on_progress| {
        rr_window_experiment(&c.db, seed, &cfg, on_progress)
    })?;
    let runs = |leaky: bool| -> Vec<&RrWindowRun> {
        reports
            .iter()
            .map(|r| if leaky { &r.leaky } else { &r.inter_patient })
            .collect()
    };
    let summary = |leaky: bool| {
        let r = runs(leaky);
        [
            ("se", stat(&r, |x| x.test.se)),
            ("ppv", stat(&r, |x| x.test.ppv)),
            ("f1", stat(&r, |x| x.test.f1)),
            ("accuracy", stat(&r, |x| Some(x.test.accuracy))),
            ("seconds", stat(&r, |x| Some(x.train_seconds))),
        ]
    };
    if c.json {
        let mut s = Map::new();
        for (name, leaky) in [("inter_patient", false), ("leaky", true)] {
            let m: Map<String, Value> = summary(leaky)
                .into_iter()
                .map(|(k, v)| (k.to_string(), stat_json(v)))
                .collect();
            s.insert(name.into(), Value::Object(m));
        }
        let total = mean_sd(&reports.iter().map(|r| r.seconds).collect::<Vec<_>>());
        s.insert("seconds".into(), stat_json(total));
        let out = json!({"runs": reports, "summary": s});
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    if reports.len() > 1 {
        let seeds: Vec<String> = c.seed.iter().map(u64::to_string).collect();
        println!(
            "\nSummary over seeds {} (mean ± sd; VEB-window class):",
            seeds.join(", ")
        );
        println!(
            "{:<42}{:>14}{:>14}{:>14}{:>14}{:>14}",
            "split", "Se %", "+P %", "F1 %", "Acc %", "train s"
        );
        for (label, leaky) in [("inter-patient (DS1 → DS2)", false), (LEAKY, true)] {
            let s = summary(leaky);
            print!("{label:<42}");
            for (_, v) in s {
                print!("{:>14}", ms(v));
            }
            println!();
        }
        let total = mean_sd(&reports.iter().map(|r| r.seconds).collect::<Vec<_>>());
        println!("whole run per seed: {} s", ms(total));
    }
    Ok(())
}

fn format_rr(r: &RrWindowReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "RR-window classifier, seed {}: {} RR intervals{} → ≥ {} VEB among the \
         window's {} beats; Dense {:?} ({} parameters, {} MACs)",
        r.seed,
        r.n_rr,
        if r.n_features > r.n_rr {
            " + relative intervals"
        } else {
            ""
        },
        r.min_veb,
        r.n_rr + 1,
        r.hidden,
        r.parameters,
        r.macs
    );
    let ip = &r.inter_patient;
    let _ = writeln!(
        s,
        "inter-patient: train {} DS1 records, validation {} ({}), test DS2 ({} records)",
        ip.train_records.len(),
        ip.valid_records.len(),
        ip.valid_records.join(" "),
        ip.test_records.len()
    );
    let _ = writeln!(
        s,
        "{:<42}{:>9}{:>7}{:>8}{:>8}{:>8}{:>8}{:>8}{:>8}{:>8}{:>8}{:>8}{:>7}",
        "split",
        "windows",
        "pos",
        "Se %",
        "+P %",
        "F1 %",
        "Acc %",
        "TP",
        "FN",
        "FP",
        "TN",
        "epoch",
        "s"
    );
    for (label, run) in [("inter-patient (DS2)", ip), (LEAKY, &r.leaky)] {
        let t = &run.test;
        let _ = writeln!(
            s,
            "{:<42}{:>9}{:>7}{:>8}{:>8}{:>8}{:>8.2}{:>8}{:>8}{:>8}{:>8}{:>8}{:>7.1}",
            label,
            run.windows[2],
            run.positives[2],
            opt(t.se),
            opt(t.ppv),
            opt(t.f1),
            t.accuracy,
            t.tp,
            t.fn_,
            t.fp,
            t.tn,
            format!("{}/{}", run.best_epoch, run.epochs_run),
            run.train_seconds
        );
    }
    let _ = writeln!(
        s,
        "(epoch: best/trained; validation F1 of the VEB-window class {:.1} % inter-patient, \
         {:.1} % leaky; whole run {:.1} s)\n",
        ip.valid_f1, r.leaky.valid_f1, r.seconds
    );
    s
}

fn kaggle(args: BeatCsvArgs, progress: &Progress) -> CliResult {
    let c = &args.common;
    let defaults = BeatCsvConfig::default();
    let cfg = BeatCsvConfig {
        valid_records: c.valid_records,
        train: sinus_ml::train::TrainConfig {
            epochs: c.epochs,
            patience: c.patience,
            ..defaults.train.clone()
        },
        ..defaults
    };
    let reports = each_seed(c, progress, format_beat_csv, |seed, on_progress| {
        beat_csv_experiment(&c.db, &args.csv_dir, seed, &cfg, on_progress)
    })?;
    let runs = |leaky: bool| -> Vec<&BeatCsvRun> {
        reports
            .iter()
            .map(|r| if leaky { &r.leaky } else { &r.inter_patient })
            .collect()
    };
    let summary = |leaky: bool| {
        let r = runs(leaky);
        let mut v = Vec::new();
        for class in ["N", "S", "V", "F"] {
            for (key, f) in [
                (
                    "se",
                    (|s: &sinus_ml::evaluate::ClassScore| s.se) as fn(&_) -> _,
                ),
                ("ppv", |s| s.ppv),
                ("f1", |s| s.f1),
            ] {
                v.push((
                    format!("{class}.{key}"),
                    stat(&r, |x| x.classes.get(class).and_then(f)),
                ));
            }
        }
        v.push(("accuracy".into(), stat(&r, |x| Some(x.accuracy))));
        v.push(("macro_f1".into(), stat(&r, |x| Some(x.macro_f1))));
        v.push(("seconds".into(), stat(&r, |x| Some(x.train_seconds))));
        v
    };
    if c.json {
        let mut s = Map::new();
        for (name, leaky) in [("inter_patient", false), ("leaky", true)] {
            let m: Map<String, Value> = summary(leaky)
                .into_iter()
                .map(|(k, v)| (k, stat_json(v)))
                .collect();
            s.insert(name.into(), Value::Object(m));
        }
        let total = mean_sd(&reports.iter().map(|r| r.seconds).collect::<Vec<_>>());
        s.insert("seconds".into(), stat_json(total));
        let out = json!({"runs": reports, "summary": s});
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    if reports.len() > 1 {
        let seeds: Vec<String> = c.seed.iter().map(u64::to_string).collect();
        println!("\nSummary over seeds {} (mean ± sd):", seeds.join(", "));
        for (label, leaky) in [
            ("inter-patient (mitbih_ds1 → mitbih_ds2)", false),
            (LEAKY, true),
        ] {
            let s = summary(leaky);
            let get = |k: &str| {
                s.iter()
                    .find(|(n, _)| n == k)
                    .map_or((f64::NAN, 0.0), |x| x.1)
            };
            println!("{label}");
            println!("  {:<6}{:>14}{:>14}{:>14}", "class", "Se %", "+P %", "F1 %");
            for class in ["N", "S", "V", "F"] {
                println!(
                    "  {:<6}{:>14}{:>14}{:>14}",
                    class,
                    ms(get(&format!("{class}.se"))),
                    ms(get(&format!("{class}.ppv"))),
                    ms(get(&format!("{class}.f1")))
                );
            }
            println!(
                "  accuracy {} %, macro-F1 (N, S, V, F) {} %, training {} s",
                ms(get("accuracy")),
                ms(get("macro_f1")),
                ms(get("seconds"))
            );
        }
        let total = mean_sd(&reports.iter().map(|r| r.seconds).collect::<Vec<_>>());
        println!("whole run per seed: {} s", ms(total));
    }
    Ok(())
}

fn format_beat_csv_run(s: &mut String, label: &str, run: &BeatCsvRun) {
    let _ = writeln!(
        s,
        "{label}: {} → {}, rows train/valid/test {}/{}/{}, best epoch {}/{}, \
         validation macro-F1 {:.1} %, training {:.1} s",
        run.train_file,
        run.test_file,
        run.rows[0],
        run.rows[1],
        run.rows[2],
        run.best_epoch,
        run.epochs_run,
        run.valid_macro_f1,
        run.train_seconds
    );
    crate::eval_beats::write_class_table(
        s,
        "  ",
        &run.classes,
        run.accuracy,
        run.macro_f1,
        &run.confusion,
        5,
    );
}

fn format_beat_csv(r: &BeatCsvReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "187-sample beat CSV (Kachuee 2018 layout, built from MIT-BIH), seed {}: CSVs in {} \
         (cut + written {:.1} s, read back {:.1} s); beat-csv-187 CNN, {} parameters, {} MACs",
        r.seed, r.csv_dir, r.build_seconds, r.read_seconds, r.parameters, r.macs
    );
    let ip = &r.inter_patient;
    let _ = writeln!(
        s,
        "inter-patient: train {} DS1 records, validation {} ({}), test DS2 ({} records)",
        ip.train_records.len(),
        ip.valid_records.len(),
        ip.valid_records.join(" "),
        ip.test_records.len()
    );
    format_beat_csv_run(&mut s, "inter-patient (DS2)", ip);
    format_beat_csv_run(&mut s, LEAKY, &r.leaky);
    let _ = writeln!(s, "(whole run {:.1} s)\n", r.seconds);
    s
}
