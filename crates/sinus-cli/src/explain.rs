//! `sinus explain [REC] --beat N --out beat.png`: why the model gave beat N its class — the
//! beat drawn with its Grad-CAM and integrated-gradients relevance.

use crate::detect::DetectorArg;
use crate::model_arg::load_model;
use crate::progress::Progress;
use crate::record_arg::RecordArgs;
use crate::CliResult;
use clap::Args;
use sinus_ml::dataset::{windows_at, Window};
use sinus_ml::explain::{grad_cam, integrated_gradients, Baseline};
use sinus_ml::metadata::ModelMetadata;
use sinus_ml::plot::{beat_relevance, Relevance};
use sinus_signal::detect::detect_qrs;
use std::path::PathBuf;

/// Arguments of `sinus explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub record: RecordArgs,
    /// Which beat: its index (from 0) among the detected beats, as `sinus classify` lists them.
    #[arg(long)]
    pub beat: usize,
    /// Explain this class (N, S, V, F, Q) instead of the predicted one.
    #[arg(long)]
    pub class: Option<char>,
    /// Output image (.png or .svg).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Model file (`.snnm`, float32); default: the shipped model.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// QRS detector.
    #[arg(long, short, value_enum, default_value = "offline")]
    pub detector: DetectorArg,
    /// Integration steps of integrated gradients.
    #[arg(long, default_value_t = 64)]
    pub steps: usize,
}

/// Run `sinus explain`.
pub fn run(args: ExplainArgs, progress: &Progress) -> CliResult {
    let loaded = load_model(args.model.as_deref())?;
    let opened = args.record.open(progress)?;
    let rec = &opened.recording;
    let model = loaded.for_signals(rec.signals.len());
    let spec = model
        .spec
        .as_ref()
        .ok_or("explanations need a float32 model (this one is int8)")?;
    let config = ModelMetadata::parse(&model.metadata)?.window_config()?;
    let channel = config.leads.first().copied().unwrap_or(0);
    let peaks = detect_qrs(rec, channel, args.detector.kind())?;
    let windows = windows_at(rec, &peaks, &config)?;
    let (window, rr) = windows.get(args.beat).ok_or_else(|| {
        format!(
            "{}: --beat {}: the record has {} detected beats (0..{})",
            rec.name,
            args.beat,
            peaks.len(),
            peaks.len().saturating_sub(1)
        )
    })?;
    let Window::Ok(waveform) = window else {
        return Err(format!(
            "{}: beat {} is too close to the record's start or end (or has missing samples) to be cut",
            rec.name, args.beat
        )
        .into());
    };
    let probs = model.probabilities(waveform, rr)?;
    let predicted = sinus_core::nn::argmax(&probs);
    let class = match args.class {
        Some(c) => model
            .classes
            .iter()
            .position(|&k| k == c.to_ascii_uppercase())
            .ok_or_else(|| format!("--class {c}: the model's classes are {:?}", model.classes))?,
        None => predicted,
    };
    let cam = grad_cam(spec, waveform, rr, class, None)?;
    let ig = integrated_gradients(spec, waveform, rr, class, Baseline::Zero, args.steps)?;
    let len = config.length;
    let r_index = config.before_s / (config.before_s + config.after_s) * (len - 1) as f64;
    let sample = peaks[args.beat];
    let title = format!(
        "{} beat {} at {:.2} s: {} (p = {:.3}){}",
        rec.name,
        args.beat,
        sample as f64 / rec.frame_frequency,
        model.classes[predicted],
        probs[predicted],
        if class != predicted {
            format!(", explaining {}", model.classes[class])
        } else {
            String::new()
        }
    );
    beat_relevance(
        &args.out,
        &title,
        &waveform[..len],
        r_index,
        &[
            Relevance {
                name: "Grad-CAM",
                values: &cam,
            },
            Relevance {
                name: "integrated gradients",
                values: &ig[..len],
            },
        ],
    )?;
    println!("{title} -> {}", args.out.display());
    Ok(())
}
