//! Timing of loading every MIT-BIH record with its reference annotations (used by
//! `bench/io.py`, which runs wfdb-python on the same files in the same run).
//!
//! Usage: `cargo run --release -p sinus-io --example load_mitdb -- [DB_DIR] [REPEATS] [THREADS]
//! [MODES]` (MODES: comma-separated, default `fresh,fresh-drop,reuse,threads,threads-reuse`)
//!
//! Prints one JSON line per way of loading: best and median wall time of a full pass (all 48
//! records: header, signals, checksums, `.atr` annotations), the process's CPU time per pass
//! (all threads, user + system; unlike wall time it does not grow when other programs share
//! the cores), the wall time of the first pass, bytes and samples read.
//! - `fresh`: one thread, `read_record` + `read_annotations` per record, every record kept
//!   until the end of the pass (what a one-off call costs: fresh memory for the samples);
//! - `fresh-drop`: one thread, `read_record` + `read_annotations` per record, each record
//!   dropped before the next (the same loop as wfdb-python's; the allocator recycles the
//!   memory);
//! - `reuse`: one thread, a [`RecordReader`] that gets each record back once it is counted
//!   (what a data loader that processes records one at a time does);
//! - `threads`: `read_records` over THREADS threads (default: all cores), annotations read on
//!   as many threads, every record kept;
//! - `threads-reuse`: `map_records` over THREADS threads, each record counted (and its
//!   annotations read) on its thread, then its memory reused.

use sinus_io::datasets::{find_mitdb, MITDB_RECORDS};
use sinus_io::wfdb::annotation::{read_annotations, AnnotationSet};
use sinus_io::wfdb::record::{
    map_records, read_record, read_records, ReadOptions, RecordReader, WfdbRecord,
};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Counts of one pass: samples and annotations read.
#[derive(Default, Clone, Copy, PartialEq)]
struct Counts {
    samples: u64,
    annotations: usize,
}

fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("error: {e}");
    std::process::exit(1)
}

fn samples_of(r: &WfdbRecord) -> u64 {
    r.recording
        .signals
        .iter()
        .map(|s| s.samples.len() as u64)
        .sum()
}

fn annotations(db: &Path, rec: &str, fs: f64) -> AnnotationSet {
    read_annotations(db.join(format!("{rec}.atr")), Some(fs)).unwrap_or_else(|e| fail(e))
}

fn pass_fresh(db: &Path) -> Counts {
    let mut kept = Vec::with_capacity(MITDB_RECORDS.len());
    let mut c = Counts::default();
    for rec in MITDB_RECORDS {
        let r = read_record(db.join(rec)).unwrap_or_else(|e| fail(e));
        let a = annotations(db, rec, r.recording.frame_frequency);
        c.samples += samples_of(&r);
        c.annotations += a.annotations.len();
        kept.push((r, a));
    }
    c
}

fn pass_fresh_drop(db: &Path) -> Counts {
    let mut c = Counts::default();
    for rec in MITDB_RECORDS {
        let r = read_record(db.join(rec)).unwrap_or_else(|e| fail(e));
        let a = annotations(db, rec, r.recording.frame_frequency);
        c.samples += samples_of(&r);
        c.annotations += a.annotations.len();
    }
    c
}

fn pass_reuse(db: &Path, reader: &mut RecordReader) -> Counts {
    let mut c = Counts::default();
    for rec in MITDB_RECORDS {
        let r = reader.read(db.join(rec)).unwrap_or_else(|e| fail(e));
        let a = annotations(db, rec, r.recording.frame_frequency);
        c.samples += samples_of(&r);
        c.annotations += a.annotations.len();
        reader.recycle(r);
    }
    c
}

fn pass_threads(db: &Path, threads: usize) -> Counts {
    let paths: Vec<PathBuf> = MITDB_RECORDS.iter().map(|r| db.join(r)).collect();
    let records = read_records(&paths, &ReadOptions::default(), threads);
    let records: Vec<WfdbRecord> = records
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| fail(e)))
        .collect();
    // Annotation files are small: split them in equal shares.
    let per = MITDB_RECORDS.len().div_ceil(threads.max(1));
    let sets: Vec<AnnotationSet> = std::thread::scope(|s| {
        let handles: Vec<_> = MITDB_RECORDS
            .chunks(per)
            .zip(records.chunks(per))
            .map(|(names, recs)| {
                s.spawn(move || {
                    names
                        .iter()
                        .zip(recs)
                        .map(|(n, r)| annotations(db, n, r.recording.frame_frequency))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| fail("annotation thread failed"))
            })
            .collect()
    });
    Counts {
        samples: records.iter().map(samples_of).sum(),
        annotations: sets.iter().map(|a| a.annotations.len()).sum(),
    }
}

fn pass_threads_reuse(db: &Path, threads: usize) -> Counts {
    let paths: Vec<PathBuf> = MITDB_RECORDS.iter().map(|r| db.join(r)).collect();
    let counts = map_records(&paths, &ReadOptions::default(), threads, |i, r| {
        let r = r.as_ref().unwrap_or_else(|e| fail(e));
        let a = annotations(db, MITDB_RECORDS[i], r.recording.frame_frequency);
        Counts {
            samples: samples_of(r),
            annotations: a.annotations.len(),
        }
    });
    Counts {
        samples: counts.iter().map(|c| c.samples).sum(),
        annotations: counts.iter().map(|c| c.annotations).sum(),
    }
}

/// CPU time (user + system) of this process so far, threads included, in seconds; 0 where
/// `/proc` is missing.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |k: usize| {
        fields
            .get(k)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Linux reports these in USER_HZ, 100 per second on every architecture.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let mut args = std::env::args().skip(1);
    let db = args
        .next()
        .map(PathBuf::from)
        .or_else(|| find_mitdb(&std::env::current_dir().unwrap_or_default()))
        .unwrap_or_else(|| fail("MIT-BIH not found; pass its directory or set SINUS_MITDB"));
    let repeats: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5).max(1);
    let threads: usize = args
        .next()
        .and_then(|t| t.parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let wanted_modes = args
        .next()
        .unwrap_or_else(|| "fresh,fresh-drop,reuse,threads,threads-reuse".to_string());
    let mut bytes = 0u64;
    for rec in MITDB_RECORDS {
        for ext in ["hea", "dat", "atr"] {
            bytes += std::fs::metadata(db.join(format!("{rec}.{ext}")))
                .map(|m| m.len())
                .unwrap_or(0);
        }
    }
    let mut reader = RecordReader::new();
    type Pass<'a> = Box<dyn FnMut() -> Counts + 'a>;
    let modes: Vec<(&str, usize, Pass)> = vec![
        ("fresh", 1, Box::new(|| pass_fresh(&db))),
        ("fresh-drop", 1, Box::new(|| pass_fresh_drop(&db))),
        ("reuse", 1, Box::new(|| pass_reuse(&db, &mut reader))),
        ("threads", threads, Box::new(|| pass_threads(&db, threads))),
        (
            "threads-reuse",
            threads,
            Box::new(|| pass_threads_reuse(&db, threads)),
        ),
    ];
    for (mode, n_threads, mut pass) in modes {
        if !wanted_modes.split(',').any(|m| m == mode) {
            continue;
        }
        // One pass first, reported apart: it brings the files into the page cache and grows a
        // reader's buffers.
        let start = Instant::now();
        let counts = pass();
        let first = start.elapsed().as_secs_f64();
        let mut times = Vec::with_capacity(repeats);
        let cpu_start = cpu_seconds();
        for _ in 0..repeats {
            let start = Instant::now();
            let c = pass();
            times.push(start.elapsed().as_secs_f64());
            if c != counts {
                fail("passes read different amounts");
            }
        }
        let cpu = (cpu_seconds() - cpu_start) / repeats as f64;
        times.sort_by(f64::total_cmp);
        println!(
            "{{\"tool\":\"sinus\",\"mode\":\"{mode}\",\"threads\":{n_threads},\"best_s\":{},\"median_s\":{},\"cpu_s\":{cpu},\"first_s\":{first},\"bytes\":{bytes},\"samples\":{},\"annotations\":{},\"repeats\":{repeats}}}",
            times[0],
            times[times.len() / 2],
            counts.samples,
            counts.annotations,
        );
    }
}
