//! Print TP, FN and FP per record for a test annotator, for comparison with WFDB's `bxb`.
//!
//! `cargo run -p sinus-eval --example bxb_counts -- DB_DIR TEST_DIR TEST_EXT START_S REC...`
//! reads `DB_DIR/REC.hea`, `DB_DIR/REC.atr` and `TEST_DIR/REC.TEST_EXT` and prints
//! `REC TP FN FP` and the 49 cells of the beat matrix (rows N S V F Q O X by
//! reference label, columns by test label) per record; with `BXB_COUNTS_CLASSES` set, the VEB and
//! SVEB counts and the VEB false positive rate instead. `BXB_COUNTS_WINDOW_S` and `BXB_COUNTS_END_S`
//! set the window and the end in seconds (`bxb -w`, `-t`). (`bxb -r REC -a atr TEST_EXT -f START_S` gives the same counts as
//! its QRS sensitivity and positive predictivity lines), then the report table.
use std::path::Path;

use sinus_eval::bxb::{BxbOptions, Reference};
use sinus_eval::stats::{QrsReport, RecordResult};
use sinus_io::wfdb::annotation::read_annotations;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [db, test_dir, ext, start_s, records @ ..] = args.as_slice() else {
        return Err("usage: bxb_counts DB_DIR TEST_DIR TEST_EXT START_S REC...".into());
    };
    // Non-default window and end (bxb -w, -t) from the environment, in seconds.
    let env_f64 = |name: &str| -> Result<Option<f64>, std::num::ParseFloatError> {
        std::env::var(name).ok().map(|v| v.parse()).transpose()
    };
    let options = BxbOptions {
        start_s: start_s.parse()?,
        window_s: env_f64("BXB_COUNTS_WINDOW_S")?.unwrap_or(0.15),
        end_s: env_f64("BXB_COUNTS_END_S")?,
        ..BxbOptions::EC57
    };
    let mut results = Vec::new();
    for rec in records {
        let reference = Reference::load(Path::new(db).join(rec), "atr")?;
        let test = read_annotations(
            Path::new(test_dir).join(format!("{rec}.{ext}")),
            Some(reference.fs),
        )?;
        let cmp = reference.compare(&test.annotations, &options)?;
        let c = cmp.qrs_counts();
        let cells: Vec<String> = cmp
            .matrix
            .counts
            .iter()
            .flatten()
            .map(|n| n.to_string())
            .collect();
        let (v, s) = (cmp.matrix.veb_counts(), cmp.matrix.sveb_counts());
        let fpr = cmp.matrix.veb_false_positive_rate();
        if std::env::var_os("BXB_COUNTS_CLASSES").is_some() {
            println!(
                "{rec} veb {} {} {} sveb {} {} {} fpr {}",
                v.tp,
                v.fn_,
                v.fp,
                s.tp,
                s.fn_,
                s.fp,
                fpr.map_or("-".into(), |x| format!("{x:.3}"))
            );
        } else {
            println!("{rec} {} {} {} {}", c.tp, c.fn_, c.fp, cells.join(" "));
        }
        results.push(RecordResult::new(rec.as_str(), c));
    }
    eprint!("{}", QrsReport::new(results));
    Ok(())
}
