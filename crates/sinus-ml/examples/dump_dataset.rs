//! Dump labelled beats (default window: lead 0, −250/+400 ms, 128 points, 8 RR features) as
//! NumPy `.npy` files for the Python training peers (see `sinus_ml::export`).
//!
//! ```text
//! cargo run --release -p sinus-ml --example dump_dataset -- --db DIR --set ds1 --out DIR
//! ```
//! `--set` is `ds1`, `ds2`, `all` (the 48 records) or a comma-separated record list.

use sinus_ml::dataset::{BeatWindowConfig, Dataset};
use sinus_ml::export::write_dataset;
use sinus_ml::split::{DS1, DS2};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut db = None;
    let mut out = None;
    let mut set = "ds1".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--db" => db = args.next().map(PathBuf::from),
            "--out" => out = args.next().map(PathBuf::from),
            "--set" => set = args.next().ok_or("--set needs a value")?,
            _ => return Err(format!("unknown argument {a:?}").into()),
        }
    }
    let db = db
        .or_else(|| sinus_io::datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR")))
        .ok_or("--db DIR is needed (MIT-BIH not found)")?;
    let out = out.ok_or("--out DIR is needed")?;
    let records: Vec<String> = match set.as_str() {
        "ds1" => DS1.iter().map(|s| s.to_string()).collect(),
        "ds2" => DS2.iter().map(|s| s.to_string()).collect(),
        "all" => sinus_io::datasets::MITDB_RECORDS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        list => list.split(',').map(|s| s.trim().to_string()).collect(),
    };
    let ds = Dataset::build(&db, &records, &BeatWindowConfig::default())?;
    write_dataset(&out, &ds)?;
    eprintln!(
        "{} beats (N S V F Q = {:?}) of {} records written to {}",
        ds.beats.len(),
        ds.class_counts(),
        records.len(),
        out.display()
    );
    Ok(())
}
