//! Distribution of the noise measure (kurtosis of the ~10 ms slope, 5 s windows) over
//! recordings, with the windows the reference marks as noise (`~` annotations) apart: how
//! `quality::NOISE_KURTOSIS` was chosen.
//!
//! `cargo run --release -p sinus-analyze --example quality_scan -- REC [REC ...]`

use sinus_analyze::quality::{slope_kurtosis, NOISE_KURTOSIS};
use sinus_io::open::{open, OpenOptions};

fn main() {
    let mut all = Vec::new();
    for arg in std::env::args().skip(1) {
        let opened = match open(std::path::Path::new(&arg), &OpenOptions::default()) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("{arg}: {e}");
                std::process::exit(1);
            }
        };
        let rec = &opened.recording;
        let fs = rec.frame_frequency;
        let w = (5.0 * fs) as usize;
        let lag = ((0.010 * fs).round() as usize).max(1);
        let leads: Vec<Vec<f64>> = rec
            .signals
            .iter()
            .take(2)
            .map(|s| s.physical_samples())
            .collect();
        let mut flagged = 0;
        let mut n = 0;
        let mut k = 0;
        while (k + 1) * w <= leads[0].len() {
            let best = leads
                .iter()
                .filter_map(|x| slope_kurtosis(&x[k * w..(k + 1) * w], lag))
                .fold(0.0f64, f64::max);
            all.push(best);
            n += 1;
            if best < NOISE_KURTOSIS {
                flagged += 1;
                println!(
                    "{arg} window at {:>7.0} s: best-lead kurtosis {best:.2}",
                    (k * w) as f64 / fs
                );
            }
            k += 1;
        }
        println!("{arg}: {flagged}/{n} windows below {NOISE_KURTOSIS}");
    }
    all.sort_by(f64::total_cmp);
    if !all.is_empty() {
        let q = |p: f64| all[((all.len() - 1) as f64 * p) as usize];
        println!(
            "best-lead kurtosis over {} windows: 0.1% {:.2}, 1% {:.2}, 5% {:.2}, median {:.2}",
            all.len(),
            q(0.001),
            q(0.01),
            q(0.05),
            q(0.5)
        );
    }
}
