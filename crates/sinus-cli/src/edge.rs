//! `sinus edge simulate [REC | --db DIR]`: recordings exactly as the device would see them
//! (an AD8232-like front end at 250 Hz, 12-bit codes, the int8 one-lead model, the device's
//! `Monitor` sample by sample), scored against the reference: beats (bxb), classes (EC57
//! gross statistics), AF and VT durations, and the latency from each R peak to its class.

use crate::engine_arg::FrontEndArg;
use crate::progress::Progress;
use crate::CliResult;
use clap::{Args, Subcommand};
use rayon::prelude::*;
use sinus_analyze::device::{excerpt, firmware_input, simulate, Simulation};
use sinus_eval::bxb::{BeatMatrix, Label};
use sinus_io::open::{open, OpenOptions};
use sinus_io::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// `sinus edge` subcommands.
#[derive(Debug, Subcommand)]
pub enum EdgeCommand {
    /// Run recordings through the device's pipeline as the device would see them, and score
    /// it against the reference annotations.
    Simulate(SimulateArgs),
}

/// Arguments of `sinus edge simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// A recording (default: the built-in demo). Ignored with `--db`.
    pub input: Option<PathBuf>,
    /// Every record of this WFDB database directory (its RECORDS file, or every header).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Only these records of `--db` (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub records: Option<Vec<String>>,
    /// Reference annotator.
    #[arg(long, default_value = "atr")]
    pub annotator: String,
    /// Front end.
    #[arg(long, value_enum, default_value = "ad8232")]
    pub front_end: FrontEndArg,
    /// int8 one-lead model (default: the shipped `beatnet-1lead`).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Only the first SECONDS of each recording.
    #[arg(long, value_name = "SECONDS")]
    pub seconds: Option<f64>,
    /// Electrodes off from START to END seconds (the samples become leads-off samples, as
    /// the AD8232's LO pins would mark them); repeatable.
    #[arg(long, value_name = "START-END", value_parser = parse_span)]
    pub leads_off: Vec<(f64, f64)>,
    /// Write the codes as the qemu firmware reads them (`input.bin`; one recording).
    #[arg(long, value_name = "FILE")]
    pub firmware_input: Option<PathBuf>,
    /// Write every event as the firmware prints it, one hex line each (one recording).
    #[arg(long, value_name = "FILE")]
    pub events_hex: Option<PathBuf>,
    /// Print a row per record too.
    #[arg(long)]
    pub per_record: bool,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Run `sinus edge`.
pub fn run(cmd: EdgeCommand, progress: &Progress) -> CliResult {
    match cmd {
        EdgeCommand::Simulate(args) => run_simulate(args, progress),
    }
}

/// `START-END` in seconds, START < END.
fn parse_span(text: &str) -> Result<(f64, f64), String> {
    let (a, b) = text
        .split_once('-')
        .ok_or_else(|| format!("{text}: expected START-END in seconds, e.g. 60-75"))?;
    let num = |t: &str| -> Result<f64, String> {
        t.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("{text}: {t:?} is not a time in seconds"))
    };
    let (a, b) = (num(a)?, num(b)?);
    if a >= b {
        return Err(format!("{text}: the start must come before the end"));
    }
    Ok((a, b))
}

fn record_paths(args: &SimulateArgs) -> CliResult<Vec<Option<PathBuf>>> {
    let Some(db) = &args.db else {
        return Ok(vec![args.input.clone()]);
    };
    let names = crate::record_arg::db_records(db, args.records.as_deref())?;
    Ok(names.into_iter().map(|n| Some(db.join(n))).collect())
}

/// One recording's simulation, with the firmware input and event lines when asked for.
type Outcome = (Simulation, Option<Vec<u8>>, Option<String>);

fn run_one(path: Option<&Path>, args: &SimulateArgs, model: &[u8]) -> Result<Outcome, String> {
    let mut opened = match path {
        Some(p) => open(
            p,
            &OpenOptions {
                annotator: Some(args.annotator.clone()),
                ..OpenOptions::default()
            },
        )
        .map_err(|e| e.to_string())?,
        None => crate::record_arg::open_builtin_demo().map_err(|e| e.to_string())?,
    };
    if let Some(s) = args.seconds {
        if !(s.is_finite() && s > 0.0) {
            return Err(format!("--seconds {s}: expected a positive number"));
        }
        opened.recording = excerpt(&opened.recording, s);
    }
    let reference = opened
        .annotations
        .as_ref()
        .map(|a| a.set.annotations.clone())
        .unwrap_or_default();
    let front_end = args.front_end.front_end();
    let in_file = |e: Error| match path {
        Some(p) => e.in_file(p).to_string(),
        None => e.to_string(),
    };
    let (sim, signal, run) = simulate(
        &opened.recording,
        &reference,
        model,
        front_end,
        &args.leads_off,
    )
    .map_err(in_file)?;
    let input = match args.firmware_input {
        Some(_) => Some(firmware_input(&signal).map_err(in_file)?),
        None => None,
    };
    let hex = args.events_hex.as_ref().map(|_| run.hex_lines());
    Ok((sim, input, hex))
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.2}"))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Class statistics of a bxb matrix: (QRS, V, S) counts.
fn row(m: &BeatMatrix) -> [sinus_eval::stats::QrsCounts; 3] {
    [m.qrs_counts(), m.veb_counts(), m.sveb_counts()]
}

fn dur(v: [f64; 3]) -> (Option<f64>, Option<f64>) {
    let se = (v[0] > 0.0).then(|| 100.0 * v[2] / v[0]);
    let pp = (v[1] > 0.0).then(|| 100.0 * v[2] / v[1]);
    (se, pp)
}

fn run_simulate(args: SimulateArgs, progress: &Progress) -> CliResult {
    let model = match &args.model {
        Some(p) => std::fs::read(p).map_err(|e| Error::io(p, e))?,
        None => sinus_ml::shipped::BEATNET_ONE_LEAD_INT8.to_vec(),
    };
    let paths = record_paths(&args)?;
    if paths.len() > 1 && (args.firmware_input.is_some() || args.events_hex.is_some()) {
        return Err("--firmware-input and --events-hex take one recording".into());
    }
    let bar = progress.bar(paths.len() as u64, "simulating");
    let results: Vec<Result<Outcome, String>> = paths
        .par_iter()
        .map(|p| {
            let r = run_one(p.as_deref(), &args, &model);
            bar.inc(1);
            r
        })
        .collect();
    bar.finish_and_clear();
    let mut sims = Vec::new();
    for r in results {
        let (sim, input, hex) = r?;
        if let (Some(f), Some(bytes)) = (&args.firmware_input, input) {
            std::fs::write(f, bytes).map_err(|e| Error::io(f, e))?;
        }
        if let (Some(f), Some(text)) = (&args.events_hex, hex) {
            std::fs::write(f, text).map_err(|e| Error::io(f, e))?;
        }
        sims.push(sim);
    }
    let mut total = BeatMatrix::default();
    let (mut af, mut vt) = ([0.0f64; 3], [0.0f64; 3]);
    let mut latency: Vec<f64> = Vec::new();
    let (mut seconds, mut run_s) = (0.0, 0.0);
    for s in &sims {
        total = total.merged(&s.matrix);
        for k in 0..3 {
            af[k] += s.af_s[k];
            vt[k] += s.vt_s[k];
        }
        latency.extend_from_slice(&s.latency_ms);
        seconds += s.seconds;
        run_s += s.run_s;
    }
    latency.sort_by(f64::total_cmp);
    let [qrs, v, sv] = row(&total);
    let (af_se, af_pp) = dur(af);
    let (vt_se, vt_pp) = dur(vt);
    let monitor_bytes = std::mem::size_of::<sinus_core::monitor::Monitor<'static>>();
    let info = *sinus_core::nn::QuantModel::parse(&model[..])
        .map_err(|e| format!("model: {e}"))?
        .info();
    if args.json {
        let j = serde_json::json!({
            "records": sims,
            "total": {
                "qrs": {"se": qrs.se(), "ppv": qrs.ppv(), "counts": qrs},
                "v": {"se": v.se(), "ppv": v.ppv(), "counts": v},
                "s": {"se": sv.se(), "ppv": sv.ppv(), "counts": sv},
                "af_duration": {"se": af_se, "ppv": af_pp, "seconds": af},
                "vt_duration": {"se": vt_se, "ppv": vt_pp, "seconds": vt},
                "latency_ms": {
                    "n": latency.len(),
                    "p50": percentile(&latency, 50.0),
                    "p95": percentile(&latency, 95.0),
                    "p99": percentile(&latency, 99.0),
                    "max": latency.last(),
                },
                "seconds": seconds,
                "host_run_s": run_s,
            },
            "budget_host": {
                "monitor_static_bytes": monitor_bytes,
                "model_bytes": model.len(),
                "model_macs_per_beat": info.macs,
                "model_parameters": info.parameters,
            },
        });
        return crate::print_out(&format!("{}\n", serde_json::to_string_pretty(&j)?));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "device simulation ({} front end, {} Hz, int8 one-lead model): {} recording(s), {:.1} h",
        match args.front_end {
            FrontEndArg::Ad8232 => "AD8232-like 12-bit",
            FrontEndArg::Recorded => "recorded-codes",
        },
        sims.first().map_or(0.0, |s| s.device_fs),
        sims.len(),
        seconds / 3600.0
    );
    let _ = writeln!(
        out,
        "{:<10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "record", "QRS Se", "QRS +P", "V Se", "V +P", "S Se", "S +P", "AF dSe", "AF d+P"
    );
    let mut line = |name: &str, m: &BeatMatrix, afv: [f64; 3]| {
        let [q, v, s] = row(m);
        let (a, b) = dur(afv);
        let _ = writeln!(
            out,
            "{:<10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            name,
            pct(q.se()),
            pct(q.ppv()),
            pct(v.se()),
            pct(v.ppv()),
            pct(s.se()),
            pct(s.ppv()),
            pct(a),
            pct(b)
        );
    };
    if args.per_record {
        for s in &sims {
            line(&s.record, &s.matrix, s.af_s);
        }
    }
    line("gross", &total, af);
    let _ = writeln!(
        out,
        "VT duration Se {} +P {}   beats: ref N {} S {} V {}",
        pct(vt_se),
        pct(vt_pp),
        Label::ALL
            .iter()
            .map(|&t| total.get(Label::N, t))
            .sum::<u64>(),
        Label::ALL
            .iter()
            .map(|&t| total.get(Label::S, t))
            .sum::<u64>(),
        Label::ALL
            .iter()
            .map(|&t| total.get(Label::V, t))
            .sum::<u64>(),
    );
    let _ = writeln!(
        out,
        "R peak → class event: median {:.0} ms, 95th percentile {:.0} ms, 99th {:.0} ms, max {:.0} ms ({} beats)",
        percentile(&latency, 50.0),
        percentile(&latency, 95.0),
        percentile(&latency, 99.0),
        latency.last().copied().unwrap_or(f64::NAN),
        latency.len()
    );
    let _ = writeln!(
        out,
        "host: {:.0}× real time on one core per recording ({:.1} s for {:.1} h)",
        if run_s > 0.0 { seconds / run_s } else { 0.0 },
        run_s,
        seconds / 3600.0
    );
    let _ = writeln!(
        out,
        "budget (host-side figures; the M0 measurement is `python3 scripts/device-check.py`): \
         Monitor {:.1} KB static RAM, model {:.1} KB flash, {:.1} k MACs per beat",
        monitor_bytes as f64 / 1024.0,
        model.len() as f64 / 1024.0,
        info.macs as f64 / 1000.0
    );
    crate::print_out(&out)
}
