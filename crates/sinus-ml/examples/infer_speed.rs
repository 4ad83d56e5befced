//! Beats per second of the beat classifier through `sinus_core::nn` (float32 and int8) on
//! one core, for `bench/train_peers.sh`:
//!
//! ```text
//! cargo run --release -p sinus-ml --example infer_speed -- [--model M.snnm] [--channels 1]
//!     [--beats 4096] [--seconds 1] [--repeats 5] [--save DIR]
//! ```
//!
//! Without `--model` the network is the default "beatnet" with random weights (speed does not
//! depend on the values) and `--channels` input channels of 128 samples (default 1, the
//! historical benchmark shape; the shipped model takes 2 leads, the next one 4 channels: two
//! leads and a template of each); its int8 version is quantised on 256 of the random beats. With
//! `--model` a float32 file is run as float32 and quantised the same way, an int8 file (e.g.
//! `crates/sinus-ml/models/beatnet.int8.snnm`) is run as int8 only; the random beats take
//! the model's input sizes. Each
//! repeat runs batches of `--beats` beats for about `--seconds`; the median and best repeat
//! are printed (on a shared machine the best is the least disturbed), closing with lines
//! `RESULT sinus-infer variant=float32 beats=N beats_per_s_median=X beats_per_s_best=Y`.
//! `--save DIR` also writes the two models and the beats (`beatnet.snnm`,
//! `beatnet.int8.snnm`, `waveforms.f32`, `features.f32`, little-endian) for kernel
//! experiments outside the workspace.

use sinus_ml::infer::Classifier;
use sinus_ml::quant::quantize;
use std::time::Instant;

#[path = "../benches/common/beatnet.rs"]
mod beatnet;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut model, mut n, mut seconds, mut repeats) = (None, 4096usize, 1.0f64, 5usize);
    let mut channels = 1usize;
    let mut save: Option<std::path::PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--model" => model = Some(value()?),
            "--channels" => channels = value()?.parse()?,
            "--beats" => n = value()?.parse()?,
            "--seconds" => seconds = value()?.parse()?,
            "--repeats" => repeats = value()?.parse()?,
            "--save" => save = Some(value()?.into()),
            _ => return Err(format!("unknown option {a}").into()),
        }
    }
    let bytes = match &model {
        Some(p) => std::fs::read(p)?,
        None => beatnet::beatnet(1, channels).to_bytes()?,
    };
    let loaded = Classifier::from_bytes(&bytes)?;
    let (wn, nf) = loaded.input_sizes();
    let (w, f) = beatnet::beats(2, n.max(256), wn, nf);
    let calib: Vec<(&[f32], &[f32])> = (0..256)
        .map(|i| (&w[i * wn..(i + 1) * wn], &f[i * nf..(i + 1) * nf]))
        .collect();
    let (w, f) = (&w[..n * wn], &f[..n * nf]);
    // A float model is also run quantised (on 256 of the beats); an int8 file runs alone.
    let mut variants = Vec::new();
    match &loaded.spec {
        Some(spec) => {
            let int8_bytes = quantize(spec, &calib)?;
            if let Some(dir) = &save {
                std::fs::create_dir_all(dir)?;
                let le = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
                std::fs::write(dir.join("beatnet.snnm"), &bytes)?;
                std::fs::write(dir.join("beatnet.int8.snnm"), &int8_bytes)?;
                std::fs::write(dir.join("waveforms.f32"), le(w))?;
                std::fs::write(dir.join("features.f32"), le(f))?;
            }
            variants.push(("float32", loaded));
            variants.push(("int8", Classifier::from_bytes(&int8_bytes)?));
        }
        None => variants.push(("int8", loaded)),
    }
    let (parameters, macs) = variants[0].1.size();
    println!(
        "{}: {parameters} parameters, {macs} MACs per beat; batches of {n} beats, 1 thread",
        match &model {
            Some(p) => p.clone(),
            None => format!("beatnet (random weights, {channels} input channels)"),
        },
    );
    // probabilities_batch spreads over rayon's pool: give it one thread.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    for (name, c) in &variants {
        pool.install(|| c.probabilities_batch(w, f))?; // warm-up
        let mut rates = Vec::with_capacity(repeats);
        for _ in 0..repeats.max(1) {
            let (started, mut beats) = (Instant::now(), 0usize);
            while started.elapsed().as_secs_f64() < seconds || beats == 0 {
                std::hint::black_box(pool.install(|| c.probabilities_batch(w, f))?);
                beats += n;
            }
            rates.push(beats as f64 / started.elapsed().as_secs_f64());
        }
        rates.sort_by(f64::total_cmp);
        let (median, best) = (rates[rates.len() / 2], rates[rates.len() - 1]);
        println!(
            "{name:>8}: {:.0} k beats/s median, {:.0} k best ({:.2} µs/beat, {:.2} G MAC/s)",
            median / 1e3,
            best / 1e3,
            1e6 / best,
            best * macs as f64 / 1e9
        );
        println!(
            "RESULT sinus-infer variant={name} beats={n} beats_per_s_median={median:.0} beats_per_s_best={best:.0}"
        );
    }
    Ok(())
}
