//! Write MIT-BIH as Kaggle-layout CSVs of 187-value beats built as Kachuee et al. (2018) did
//! (see `sinus_ml::kachuee`):
//!
//! - `mitbih_ds1.csv`, `mitbih_ds2.csv`: de Chazal's inter-patient split (paced records out);
//! - `mitbih_train.csv`, `mitbih_test.csv`: all 48 records, random 80/20 beat split — LEAKY
//!   (the same patients on both sides), the setup of Kaggle's files, for comparison only.
//!
//! Beside each CSV, `*_index.csv` gives each line's record and R-peak sample.
//!
//! ```text
//! cargo run --release -p sinus-ml --example dump_beat_csv -- --db DIR --out DIR [--seed 1]
//! ```

use sinus_ml::beat_csv::{build_records, label_counts, write_csv, BeatCsvRow};
use sinus_ml::leaky::random_beat_split;
use sinus_ml::split::{DS1, DS2};
use std::io::Write;
use std::path::{Path, PathBuf};

fn write_both(
    out: &Path,
    stem: &str,
    rows: &[BeatCsvRow],
) -> Result<(), Box<dyn std::error::Error>> {
    write_csv(out.join(format!("{stem}.csv")), rows)?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(
        out.join(format!("{stem}_index.csv")),
    )?);
    writeln!(f, "record,sample")?;
    for r in rows {
        writeln!(f, "{},{}", r.record, r.sample)?;
    }
    f.flush()?;
    eprintln!(
        "{stem}: {} rows, N S V F Q = {:?}",
        rows.len(),
        label_counts(rows)
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut db = None;
    let mut out = None;
    let mut seed = 1u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--db" => db = args.next().map(PathBuf::from),
            "--out" => out = args.next().map(PathBuf::from),
            "--seed" => seed = args.next().ok_or("--seed needs a value")?.parse()?,
            _ => return Err(format!("unknown argument {a:?}").into()),
        }
    }
    let db = db
        .or_else(|| sinus_io::datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR")))
        .ok_or("--db DIR is needed (MIT-BIH not found)")?;
    let out = out.ok_or("--out DIR is needed")?;
    std::fs::create_dir_all(&out)?;
    let all = build_records(&db, &sinus_io::datasets::MITDB_RECORDS)?;
    let of = |records: &[&str]| -> Vec<BeatCsvRow> {
        all.iter()
            .filter(|r| records.contains(&r.record.as_str()))
            .cloned()
            .collect()
    };
    write_both(&out, "mitbih_ds1", &of(&DS1))?;
    write_both(&out, "mitbih_ds2", &of(&DS2))?;
    let (train, test) = random_beat_split(all.len(), 0.8, seed);
    let pick = |idx: &[usize]| -> Vec<BeatCsvRow> { idx.iter().map(|&i| all[i].clone()).collect() };
    write_both(&out, "mitbih_train", &pick(&train))?;
    write_both(&out, "mitbih_test", &pick(&test))?;
    Ok(())
}
