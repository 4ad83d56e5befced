//! Dump the RR-window dataset (seed "000": 10 RR intervals → ≥ 2 VEB or not, see
//! `sinus_ml::rr_window`) of DS1 and DS2 as NumPy files into `OUT/ds1` and `OUT/ds2`.
//!
//! ```text
//! cargo run --release -p sinus-ml --example dump_rr_windows -- --db DIR --out DIR \
//!     [--n-rr 10] [--min-veb 2] [--non-overlapping]
//! ```

use sinus_ml::rr_window::{build_records, write_npy_dir};
use sinus_ml::split::{DS1, DS2};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut db = None;
    let mut out = None;
    let (mut n_rr, mut min_veb, mut non_overlapping) = (10usize, 2usize, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--db" => db = args.next().map(PathBuf::from),
            "--out" => out = args.next().map(PathBuf::from),
            "--n-rr" => n_rr = args.next().ok_or("--n-rr needs a value")?.parse()?,
            "--min-veb" => min_veb = args.next().ok_or("--min-veb needs a value")?.parse()?,
            "--non-overlapping" => non_overlapping = true,
            _ => return Err(format!("unknown argument {a:?}").into()),
        }
    }
    let db = db
        .or_else(|| sinus_io::datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR")))
        .ok_or("--db DIR is needed (MIT-BIH not found)")?;
    let out = out.ok_or("--out DIR is needed")?;
    for (name, records) in [("ds1", &DS1), ("ds2", &DS2)] {
        let recs = build_records(&db, records, n_rr, min_veb)?;
        write_npy_dir(out.join(name), &recs, non_overlapping)?;
        let (n, pos) = recs.iter().fold((0, 0), |(n, p), r| {
            let w = if non_overlapping {
                r.non_overlapping()
            } else {
                r.windows.clone()
            };
            (n + w.len(), p + w.iter().filter(|w| w.label == 1).count())
        });
        eprintln!("{name}: {n} windows, {pos} with ≥ {min_veb} VEB");
    }
    Ok(())
}
