//! Write the stress suite's recordings as WFDB records (signal + `atr` ground truth), to look at
//! them: `cargo run --release -p sinus-eval --example stress_dump -- DIR [FS]`.

use sinus_eval::stress::scenarios;
use sinus_io::wfdb::format::SignalFormat;
use sinus_signal::synth::{generate, write_wfdb};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "stress".into());
    let fs: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(250.0);
    std::fs::create_dir_all(&dir).expect("create the output directory");
    for s in scenarios(fs) {
        let synth = generate(&s.spec).expect("scenario");
        write_wfdb(&synth, &dir, s.name, SignalFormat::Fmt16).expect("write");
        println!("{dir}/{}", s.name);
    }
}
