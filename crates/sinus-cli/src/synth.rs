//! `sinus synth [--preset NAME] [--seconds S] [--fs HZ] [--seed N] [--leads K] --out DIR`:
//! write a synthetic ECG with exact ground truth (`DIR/NAME.hea`, `.dat`, `.atr`) from one of
//! the generator's presets; `--list` lists them.

use crate::progress::Progress;
use crate::{print_out, CliResult};
use clap::{Args, ValueEnum};
use sinus_io::wfdb::format::SignalFormat;
use sinus_signal::synth::{generate, preset, write_wfdb, PRESETS};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

/// Storage formats offered for the signal file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Two 12-bit samples in three bytes (as MIT-BIH).
    #[value(name = "212")]
    Fmt212,
    /// 16-bit little-endian.
    #[value(name = "16")]
    Fmt16,
}

/// Arguments of `sinus synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Preset rhythm script (see --list).
    #[arg(long, short, default_value = "demo")]
    pub preset: String,
    /// Length in seconds (default: the preset's; the script is cut or followed by sinus rhythm).
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Sampling rate in Hz, 100 to 1000 (default: the preset's).
    #[arg(long)]
    pub fs: Option<f64>,
    /// Seed of the random choices (default: the preset's); the same seed gives the same files.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Number of leads, 1 to 3: MLII, V1, V5 (default: the preset's).
    #[arg(long)]
    pub leads: Option<usize>,
    /// Record name (default: the preset's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Signal file format.
    #[arg(long, value_enum, default_value = "212")]
    pub format: FormatArg,
    /// Output directory (created if missing).
    #[arg(long, short, required_unless_present = "list")]
    pub out: Option<PathBuf>,
    /// List the presets and exit.
    #[arg(long)]
    pub list: bool,
}

/// Run `sinus synth`.
pub fn run(args: SynthArgs, progress: &Progress) -> CliResult {
    if args.list {
        let mut text = String::new();
        for (name, description) in PRESETS {
            writeln!(text, "{name:<13} {description}")?;
        }
        return print_out(&text);
    }
    let Some(mut spec) = preset(&args.preset) else {
        let names: Vec<&str> = PRESETS.iter().map(|p| p.0).collect();
        return Err(format!(
            "unknown preset {:?}; presets: {}",
            args.preset,
            names.join(", ")
        )
        .into());
    };
    if let Some(s) = args.seconds {
        spec.seconds = s;
    }
    if let Some(fs) = args.fs {
        spec.fs = fs;
    }
    if let Some(seed) = args.seed {
        spec.seed = seed;
    }
    if let Some(leads) = args.leads {
        spec.leads = leads;
    }
    if let Some(name) = &args.name {
        spec.name = name.clone();
    }
    let Some(dir) = args.out else {
        return Err("--out DIR is required".into());
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("cannot create output directory {}: {e}", dir.display()))?;

    let spinner = progress.spinner(&format!("generating {}", spec.name));
    let started = Instant::now();
    let synthetic = generate(&spec)?;
    let generated = started.elapsed().as_secs_f64();
    spinner.set_message("writing");
    let format = match args.format {
        FormatArg::Fmt212 => SignalFormat::Fmt212,
        FormatArg::Fmt16 => SignalFormat::Fmt16,
    };
    write_wfdb(&synthetic, &dir, &spec.name, format)?;
    spinner.finish_and_clear();

    let rec = &synthetic.recording;
    let mut text = String::new();
    writeln!(
        text,
        "{}: {} leads, {} Hz, {} samples ({}), generated in {generated:.2} s",
        rec.name,
        rec.signals.len(),
        rec.frame_frequency,
        rec.frames,
        duration(rec.duration_seconds()),
    )?;
    let beats = synthetic.beat_counts();
    let total: usize = beats.values().sum();
    let by_symbol: Vec<String> = beats.iter().map(|(s, n)| format!("{s} {n}")).collect();
    writeln!(text, "beats: {total} ({})", by_symbol.join(", "))?;
    writeln!(text, "episodes:")?;
    for (label, (count, seconds)) in synthetic.episode_summary() {
        writeln!(text, "  {label:<10} {count:>4} × {:>10}", duration(seconds))?;
    }
    for ext in ["hea", "dat", "atr"] {
        writeln!(
            text,
            "wrote {}",
            dir.join(format!("{}.{ext}", spec.name)).display()
        )?;
    }
    print_out(&text)
}

/// Seconds as H:MM:SS.s.
fn duration(seconds: f64) -> String {
    let tenths = (seconds * 10.0).round() as u64;
    format!(
        "{}:{:02}:{:02}.{}",
        tenths / 36_000,
        tenths / 600 % 60,
        tenths / 10 % 60,
        tenths % 10
    )
}
