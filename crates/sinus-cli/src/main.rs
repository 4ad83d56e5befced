//! The `sinus` command-line tool. Each subcommand only parses its arguments and calls the library
//! crates; exit status 0 on success, 1 on an error (message names the file and the problem),
//! 2 on a usage error (from clap).

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod analyze;
mod baseline;
mod classify;
mod detect;
mod device;
mod edge;
mod engine_arg;
mod eval;
mod eval_beats;
mod eval_rhythm;
mod eval_stress;
mod explain;
mod export;
mod export_model;
mod fetch;
mod hrv;
mod info;
mod model_arg;
mod progress;
mod record_arg;
mod synth;
mod train;

/// Sinus: ECG arrhythmia analysis. Not a medical device.
#[derive(Debug, Parser)]
#[command(name = "sinus", version, about, long_about = None)]
struct Cli {
    /// Hide progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The main job: beats, classes, rhythm episodes, HRV and a report (terminal, JSON, CSV,
    /// WFDB, HTML) for a recording or a directory of recordings.
    Analyze(analyze::AnalyzeArgs),
    /// Show a record's header summary and its annotation counts by symbol.
    Info(info::InfoArgs),
    /// Convert a record to CSV, JSON, WFDB (format 16 or 212) or EDF+.
    Export(export::ExportArgs),
    /// Find every heartbeat and write them as a WFDB annotation file.
    Detect(detect::DetectArgs),
    /// Evaluate against reference annotations as the field reports it.
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// Classify every beat (AAMI N, S, V, F, Q) with the shipped or a given model.
    Classify(classify::ClassifyArgs),
    /// Draw a beat with the relevance (Grad-CAM, integrated gradients) behind its class.
    Explain(explain::ExplainArgs),
    /// Train the beat classifier (DS1, patient-wise validation) in Rust.
    Train(train::TrainArgs),
    /// Simple baselines to compare the beat classifier with: an RR-interval window
    /// classifier and the 187-sample beat-CSV CNN (Kachuee 2018), inter-patient and (leaky)
    /// on a random beat split.
    #[command(subcommand)]
    Baseline(baseline::BaselineCommand),
    /// Heart-rate variability (Task Force 1996) of a record's reference beats or an RR list.
    Hrv(hrv::HrvArgs),
    /// Export the int8 beat classifier: a C header with test vectors, or TensorFlow Lite.
    ExportModel(export_model::ExportModelArgs),
    /// Download a PhysioNet database and verify every file against its SHA256SUMS.txt.
    Fetch(fetch::FetchArgs),
    /// Write a synthetic ECG with exact ground truth (beats, rhythms, noise) from a preset.
    Synth(synth::SynthArgs),
    /// The device side: run recordings through the on-device pipeline as the device sees them.
    #[command(subcommand)]
    Edge(edge::EdgeCommand),
    /// A device on this PC: play a recording through the monitor and speak the device protocol.
    #[command(subcommand)]
    Device(device::DeviceCommand),
    /// Receive a device's stream: live status, losses counted, the session stored as WFDB.
    Listen(device::ListenArgs),
}

/// Error type of the CLI: anything displayable; `main` prints it and exits with status 1.
pub type CliResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Write `text` to standard output; a closed pipe (e.g. `| head`) is the reader's choice, not
/// an error (and never a panic, which `print!` would give).
pub fn print_out(text: &str) -> CliResult {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Keep whole-record buffers in the heap once freed (glibc).
///
/// An analysis allocates and frees many whole-record arrays (a 24 h Holter lead is 170 MB of
/// `f64`). glibc serves each from a fresh `mmap` and unmaps it on free, so every one of them is
/// page-faulted in again, page by page: two million faults and seconds of system time on a
/// 24 h record. Served from the heap and not trimmed, freed arrays are reused as they are; the
/// peak memory is the same (the arrays alive at the peak are the same).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    // SAFETY: mallopt only changes allocator parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}

/// End quietly when the reader of standard output goes away (`sinus info REC | head`), as Unix
/// tools do, instead of panicking in `println!`: Rust ignores SIGPIPE, so every later write
/// would fail with EPIPE and `println!` panics on it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn default_sigpipe() {
    // SAFETY: restores the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn default_sigpipe() {}

fn main() -> ExitCode {
    keep_freed_memory();
    default_sigpipe();
    let cli = Cli::parse();
    let progress = progress::Progress::new(cli.quiet);
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(args, &progress),
        Command::Info(args) => info::run(args, &progress),
        Command::Export(args) => export::run(args, &progress),
        Command::Detect(args) => detect::run(args, &progress),
        Command::Eval(cmd) => eval::run(cmd, &progress),
        Command::Fetch(args) => fetch::run(args, &progress),
        Command::ExportModel(args) => export_model::run(args, &progress),
        Command::Hrv(args) => hrv::run(args, &progress),
        Command::Classify(args) => classify::run(args, &progress),
        Command::Explain(args) => explain::run(args, &progress),
        Command::Train(args) => train::run(args, &progress),
        Command::Baseline(cmd) => baseline::run(cmd, &progress),
        Command::Synth(args) => synth::run(args, &progress),
        Command::Edge(cmd) => edge::run(cmd, &progress),
        Command::Device(cmd) => device::run(cmd, &progress),
        Command::Listen(args) => device::run_listen(args, &progress),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            progress.clear();
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
