//! Where our QRS detectors put a beat relative to the MIT-BIH reference annotation, by AAMI
//! class: the mean and sd of (detection − reference) in ms over matched beats (±150 ms). A
//! classifier trained on windows centred on the reference needs its detector to agree.
//! `cargo run --release -p sinus-ml --example r_peak_offsets -- [RECORDS...]`

use sinus_io::datasets::mitdb_for_tests;
use sinus_io::wfdb::annotation::read_annotations;
use sinus_io::wfdb::record::read_record;
use sinus_ml::dataset::AamiClass;
use sinus_signal::detect::{detect_qrs, QrsDetectorKind};

fn main() -> sinus_io::Result<()> {
    let db = std::env::var("SINUS_MITDB")
        .map(std::path::PathBuf::from)
        .ok()
        .or_else(|| mitdb_for_tests(env!("CARGO_MANIFEST_DIR")))
        .expect("MIT-BIH not found (set SINUS_MITDB)");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let records: Vec<String> = if args.is_empty() {
        sinus_ml::split::DS2.iter().map(|s| s.to_string()).collect()
    } else {
        args
    };
    for kind in [QrsDetectorKind::Offline, QrsDetectorKind::Streaming] {
        let mut by_class = vec![Vec::new(); 5];
        for r in &records {
            let path = db.join(r);
            let rec = read_record(&path)?.recording;
            let fs = rec.frame_frequency;
            let det = detect_qrs(&rec, 0, kind)?;
            let set = read_annotations(db.join(format!("{r}.atr")), Some(fs))?;
            for a in set.annotations.iter().filter(|a| a.is_beat()) {
                let Some(c) = AamiClass::from_symbol(set.symbol_of(a.code)) else {
                    continue;
                };
                let i = det.partition_point(|&d| d < a.sample);
                let best = [i.wrapping_sub(1), i]
                    .iter()
                    .filter_map(|&j| det.get(j))
                    .min_by_key(|&&d| (d - a.sample).abs());
                if let Some(&d) = best {
                    if ((d - a.sample) as f64 / fs).abs() <= 0.15 {
                        by_class[c.index()].push(1000.0 * (d - a.sample) as f64 / fs);
                    }
                }
            }
        }
        println!("{} detector:", kind.name());
        for (c, v) in by_class.iter().enumerate() {
            if v.is_empty() {
                continue;
            }
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
            println!(
                "  {}: {:>6} beats, offset {mean:+.1} ms ± {sd:.1}",
                AamiClass::from_index(c).unwrap().name(),
                v.len()
            );
        }
    }
    Ok(())
}
