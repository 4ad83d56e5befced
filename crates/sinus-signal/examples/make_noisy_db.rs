//! Writes noisy copies of MIT-BIH records in the manner of the MIT-BIH Noise Stress Test
//! Database (see `sinus_signal::noise`), as WFDB records that every tool can read, so that Sinus
//! and the peer detectors are scored on identical files.
//!
//! ```text
//! cargo run --release -p sinus-signal --example make_noisy_db -- \
//!     [--db MITDB] [--out target/nstdb-sim] [--records 118,119] \
//!     [--snr 24,18,12,6,0,-6] [--kinds bw,ma,em,mix] [--seed 1984]
//! ```
//!
//! For each noise kind K and SNR S it writes `OUT/K_S/REC.hea`, `REC.dat` (format 16, the
//! source's gain and baseline), `REC.atr` (copied) and a `RECORDS` list. Both signals get noise,
//! each its own (as NSTDB), with S measured per signal. The noise of a (record, signal, kind) is
//! the same at every SNR, only scaled (as NSTDB, which scaled one `em` record). Prints one line
//! per record with the SNR realised in the written (quantised) channel 0 and the number of
//! samples clipped to the format's range.

use sinus_io::datasets::find_mitdb;
use sinus_io::wfdb::annotation::{codes, read_annotations};
use sinus_io::wfdb::format::SignalFormat;
use sinus_io::wfdb::record::read_record;
use sinus_io::wfdb::write::write_record;
use sinus_io::MISSING;
use sinus_signal::noise::{add_noise_with, measured_snr_db, NoiseKind, Protocol, NSTDB_SNR_DB};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

struct Args {
    db: Option<PathBuf>,
    out: PathBuf,
    records: Vec<String>,
    snrs: Vec<f64>,
    kinds: Vec<NoiseKind>,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        db: None,
        out: PathBuf::from("target/nstdb-sim"),
        records: vec!["118".into(), "119".into()],
        snrs: NSTDB_SNR_DB.to_vec(),
        kinds: NoiseKind::ALL.to_vec(),
        seed: 1984,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--db" => args.db = Some(PathBuf::from(value()?)),
            "--out" => args.out = PathBuf::from(value()?),
            "--records" => args.records = value()?.split(',').map(str::to_owned).collect(),
            "--snr" => {
                args.snrs = value()?
                    .split(',')
                    .map(|s| s.parse().map_err(|_| format!("bad SNR {s:?}")))
                    .collect::<Result<_, _>>()?
            }
            "--kinds" => {
                args.kinds = value()?
                    .split(',')
                    .map(|s| {
                        NoiseKind::from_short_name(s)
                            .ok_or_else(|| format!("unknown noise kind {s:?} (bw, ma, em, mix)"))
                    })
                    .collect::<Result<_, _>>()?
            }
            "--seed" => {
                let v = value()?;
                args.seed = v.parse().map_err(|_| format!("bad seed {v:?}"))?
            }
            "-h" | "--help" => {
                return Err(
                    "usage: make_noisy_db [--db MITDB] [--out DIR] [--records 118,119] \
                            [--snr 24,18,12,6,0,-6] [--kinds bw,ma,em,mix] [--seed N]"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// Directory name for an SNR: `24`, `-6`, `1.5`.
fn snr_label(snr: f64) -> String {
    format!("{snr}")
}

/// A seed per (base seed, record, signal, kind), so each noise is independent and reproducible.
fn seed_for(base: u64, record: &str, signal: usize, kind: NoiseKind) -> u64 {
    // FNV-1a over the parts: stable across platforms and Rust versions.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(&base.to_le_bytes());
    eat(record.as_bytes());
    eat(&(signal as u64).to_le_bytes());
    eat(kind.short_name().as_bytes());
    h
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let db = match &args.db {
        Some(d) => d.clone(),
        None => find_mitdb(&std::env::current_dir()?)
            .or_else(|| find_mitdb(Path::new(env!("CARGO_MANIFEST_DIR"))))
            .ok_or("MIT-BIH not found: pass --db or set SINUS_MITDB")?,
    };
    let (lo, hi) = SignalFormat::Fmt16.valid_range();
    println!("| record | noise | SNR asked (dB) | SNR ch 0 (dB) | gain ch 0 | clipped samples |");
    println!("|---|---|---:|---:|---:|---:|");
    for name in &args.records {
        let rec = read_record(db.join(name))?;
        let fs = rec.recording.frame_frequency;
        let atr_path = db.join(format!("{name}.atr"));
        let ann = read_annotations(&atr_path, Some(fs))?;
        // sigamp measures beats whose map1 class is NORMAL: N, L, R, e, j.
        let normal: Vec<i64> = ann
            .annotations
            .iter()
            .filter(|a| {
                matches!(
                    a.code,
                    codes::NORMAL | codes::LBBB | codes::RBBB | codes::AESC | codes::NESC
                )
            })
            .map(|a| a.sample)
            .collect();
        let beats: Vec<i64> = if normal.is_empty() {
            ann.annotations
                .iter()
                .filter(|a| a.is_beat() && a.code != codes::FLWAV)
                .map(|a| a.sample)
                .collect()
        } else {
            normal
        };
        let clean: Vec<Vec<f64>> = rec
            .recording
            .signals
            .iter()
            .map(|s| s.physical_samples())
            .collect();
        for &kind in &args.kinds {
            for &snr in &args.snrs {
                let dir = args
                    .out
                    .join(format!("{}_{}", kind.short_name(), snr_label(snr)));
                std::fs::create_dir_all(&dir)?;
                let mut out = rec.recording.clone();
                let mut clipped = 0usize;
                let mut report = None;
                for (ch, (signal, x)) in out.signals.iter_mut().zip(&clean).enumerate() {
                    let seed = seed_for(args.seed, name, ch, kind);
                    let noisy = add_noise_with(x, fs, &beats, kind, snr, seed, &Protocol::NSTDB)?;
                    let gain = signal.effective_gain();
                    let baseline = f64::from(signal.baseline);
                    for (d, &v) in signal.samples.iter_mut().zip(&noisy.signal) {
                        *d = if v.is_nan() {
                            MISSING
                        } else {
                            let q = (v * gain + baseline).round();
                            if q < f64::from(lo) || q > f64::from(hi) {
                                clipped += 1;
                            }
                            q.clamp(f64::from(lo), f64::from(hi)) as i32
                        };
                    }
                    signal.adc_resolution = 16;
                    if ch == 0 {
                        let written = signal.physical_samples();
                        let realised = measured_snr_db(x, &written, fs, &beats, &Protocol::NSTDB);
                        report = Some((realised, noisy.gain));
                    }
                }
                out.info.push(format!(
                    "sinus make_noisy_db: {} noise at {snr} dB SNR (nst definition), clean for \
                     300 s then noisy/clean 120 s segments; seed {}",
                    kind.short_name(),
                    args.seed
                ));
                write_record(&dir, name, &out, SignalFormat::Fmt16)?;
                std::fs::copy(&atr_path, dir.join(format!("{name}.atr")))?;
                if let Some((realised, gain)) = report {
                    println!(
                        "| {name} | {} | {snr} | {} | {gain:.4} | {clipped} |",
                        kind.short_name(),
                        realised.map_or("-".into(), |r| format!("{r:.2}"))
                    );
                }
            }
        }
    }
    // A RECORDS list per directory (PhysioNet's convention), for tools that read one.
    for &kind in &args.kinds {
        for &snr in &args.snrs {
            let dir = args
                .out
                .join(format!("{}_{}", kind.short_name(), snr_label(snr)));
            let mut names: Vec<String> = std::fs::read_dir(&dir)?
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    e.file_name()
                        .to_str()
                        .and_then(|f| f.strip_suffix(".hea"))
                        .map(str::to_owned)
                })
                .collect();
            names.sort();
            std::fs::write(dir.join("RECORDS"), names.join("\n") + "\n")?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("make_noisy_db: {e}");
            ExitCode::FAILURE
        }
    }
}
