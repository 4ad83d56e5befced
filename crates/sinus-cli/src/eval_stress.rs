//! `sinus eval stress [--fs 128,250,360] [--detector streaming|offline] [--json]`: the QRS
//! detector stress suite (`sinus_eval::stress`): synthetic recordings with fast rates, tall T
//! waves, amplitude steps, rate jumps, artefact and leads-off before a tachycardia, baseline
//! wander, large ectopic beats; Se/+P, re-acquisition after each disturbance and the longest
//! time the reported rate was below half the true rate, checked against the streaming goals.

use crate::progress::Progress;
use crate::CliResult;
use clap::Args;
use rayon::prelude::*;
use sinus_eval::stress::{run, scenarios, StressResult, STREAMING_GOALS};
use sinus_signal::detect::{detect_qrs, QrsDetectorKind};
use std::fmt::Write as _;

/// Arguments of `sinus eval stress`.
#[derive(Debug, Args)]
pub struct StressArgs {
    /// Sampling rates to run the suite at (Hz, comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "128,250,360")]
    pub fs: Vec<f64>,
    /// Detectors to run (comma-separated): `streaming` (what the device runs; the goals apply
    /// to it) and `offline`.
    #[arg(long, value_delimiter = ',', default_value = "streaming,offline")]
    pub detector: Vec<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Run the suite; exits with status 1 when the streaming detector misses a goal.
pub fn run_stress(args: StressArgs, _progress: &Progress) -> CliResult {
    let mut kinds = Vec::new();
    for d in &args.detector {
        match d.as_str() {
            "streaming" => kinds.push(QrsDetectorKind::Streaming),
            "offline" => kinds.push(QrsDetectorKind::Offline),
            other => {
                return Err(
                    format!("unknown detector '{other}' (expected streaming or offline)").into(),
                )
            }
        }
    }
    for &fs in &args.fs {
        if !(fs.is_finite() && (125.0..=1000.0).contains(&fs)) {
            return Err(format!("--fs {fs}: the detectors run at 125 to 1000 Hz").into());
        }
    }
    let mut jobs = Vec::new();
    for &kind in &kinds {
        for &fs in &args.fs {
            for s in scenarios(fs) {
                jobs.push((kind, s));
            }
        }
    }
    let results: Vec<(QrsDetectorKind, StressResult)> = jobs
        .par_iter()
        .map(|(kind, s)| {
            let r = run(s, |rec| detect_qrs(rec, 0, *kind))
                .map_err(|e| format!("scenario {}: {e}", s.name))?;
            Ok((*kind, r))
        })
        .collect::<Result<_, String>>()?;
    let failed: Vec<String> = results
        .iter()
        .filter(|(k, _)| *k == QrsDetectorKind::Streaming)
        .flat_map(|(_, r)| {
            r.failures(&STREAMING_GOALS)
                .into_iter()
                .map(move |f| format!("{} at {} Hz: {f}", r.scenario, r.fs))
        })
        .collect();
    if args.json {
        let rows: Vec<serde_json::Value> = results
            .iter()
            .map(|(k, r)| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                v["detector"] = k.name().into();
                v["meets_streaming_goals"] = r.failures(&STREAMING_GOALS).is_empty().into();
                v
            })
            .collect();
        let out = serde_json::json!({
            "goals": {
                "min_se": STREAMING_GOALS.min_se,
                "min_ppv": STREAMING_GOALS.min_ppv,
                "max_reacquire_beats": STREAMING_GOALS.max_reacquire_beats,
                "max_reacquire_s": STREAMING_GOALS.max_reacquire_s,
                "max_low_rate_s": STREAMING_GOALS.max_low_rate_s,
            },
            "results": rows,
            "streaming_failures": failed,
        });
        crate::print_out(&(serde_json::to_string_pretty(&out)? + "\n"))?;
    } else {
        crate::print_out(&table(&results))?;
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the streaming detector misses {} goal(s):\n  {}",
            failed.len(),
            failed.join("\n  ")
        )
        .into())
    }
}

fn table(results: &[(QrsDetectorKind, StressResult)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<22} {:>4} {:<10} {:>5} {:>4} {:>4} {:>7} {:>7} {:>9} {:>8} {:>8}",
        "scenario",
        "Hz",
        "detector",
        "beats",
        "FN",
        "FP",
        "Se",
        "+P",
        "reacq.b",
        "reacq.s",
        "low-rate"
    );
    let mut sorted: Vec<&(QrsDetectorKind, StressResult)> = results.iter().collect();
    sorted.sort_by(|a, b| {
        (a.1.scenario.as_str(), a.1.fs as i64, a.0.name()).cmp(&(
            b.1.scenario.as_str(),
            b.1.fs as i64,
            b.0.name(),
        ))
    });
    for (k, r) in sorted {
        let (rb, rs) = if r.reacquisition.is_empty() {
            ("-".to_string(), "-".to_string())
        } else {
            (
                r.worst_reacquire_beats()
                    .map_or("never".into(), |b| b.to_string()),
                r.worst_reacquire_s()
                    .map_or("never".into(), |s| format!("{s:.1}")),
            )
        };
        let flag = if *k == QrsDetectorKind::Streaming && !r.failures(&STREAMING_GOALS).is_empty() {
            "  <- misses a goal"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{:<22} {:>4} {:<10} {:>5} {:>4} {:>4} {:>7.2} {:>7.2} {:>9} {:>8} {:>8.1}{flag}",
            r.scenario,
            r.fs,
            k.name(),
            r.beats,
            r.fn_,
            r.fp,
            r.se,
            r.ppv,
            rb,
            rs,
            r.low_rate_s
        );
    }
    let _ = writeln!(
        out,
        "goals (streaming): Se and +P >= {}, re-acquisition <= {} beats and <= {} s after every \
         disturbance, rate below half the true rate <= {} s",
        STREAMING_GOALS.min_se,
        STREAMING_GOALS.max_reacquire_beats,
        STREAMING_GOALS.max_reacquire_s,
        STREAMING_GOALS.max_low_rate_s,
    );
    out
}
