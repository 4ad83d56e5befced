//! Timing of loading every MIT-BIH record with its reference annotations (used by
//! `bench/io.py`, which runs wfdb-python on the same files in the same run).
//!
//! Usage: `cargo run --release -p sinus-io --example load_mitdb -- [DB_DIR] [REPEATS]`
//! Prints one JSON line: best and median wall time of a full pass, bytes and samples read.

use sinus_io::datasets::{find_mitdb, MITDB_RECORDS};
use sinus_io::wfdb::annotation::read_annotations;
use sinus_io::wfdb::record::read_record;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let db = args
        .next()
        .map(PathBuf::from)
        .or_else(|| find_mitdb(&std::env::current_dir().unwrap_or_default()))
        .unwrap_or_else(|| {
            eprintln!("error: MIT-BIH not found; pass its directory or set SINUS_MITDB");
            std::process::exit(1)
        });
    let repeats: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5).max(1);
    let mut bytes = 0u64;
    for rec in MITDB_RECORDS {
        for ext in ["hea", "dat", "atr"] {
            bytes += std::fs::metadata(db.join(format!("{rec}.{ext}")))
                .map(|m| m.len())
                .unwrap_or(0);
        }
    }
    let mut times = Vec::with_capacity(repeats);
    let mut samples = 0u64;
    let mut annotations = 0usize;
    for _ in 0..repeats {
        samples = 0;
        annotations = 0;
        let start = Instant::now();
        for rec in MITDB_RECORDS {
            let path = db.join(rec);
            let r = match read_record(&path) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(1)
                }
            };
            let a = match read_annotations(
                db.join(format!("{rec}.atr")),
                Some(r.recording.frame_frequency),
            ) {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(1)
                }
            };
            samples += r
                .recording
                .signals
                .iter()
                .map(|s| s.samples.len() as u64)
                .sum::<u64>();
            annotations += a.annotations.len();
        }
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"tool\":\"sinus\",\"best_s\":{},\"median_s\":{},\"bytes\":{},\"samples\":{},\"annotations\":{},\"repeats\":{}}}",
        times[0],
        times[times.len() / 2],
        bytes,
        samples,
        annotations,
        repeats
    );
}
