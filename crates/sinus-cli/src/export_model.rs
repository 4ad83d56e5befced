//! `sinus export-model MODEL --format c|tflite [--out PATH] [--vectors N] [--db DIR]`: the int8
//! beat classifier as a C header with test vectors, or as a TensorFlow Lite flatbuffer
//! (`sinus_ml::model_export`).

use crate::progress::Progress;
use crate::CliResult;
use clap::{Args, ValueEnum};
use sinus_ml::model_export::{c, load_int8, tflite, TestVectors};
use sinus_ml::Error;
use std::path::{Path, PathBuf};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelFormat {
    /// A C header: the model bytes as an array and test vectors, for crates/sinus-ml/c/snnm.c.
    C,
    /// A TensorFlow Lite flatbuffer with int8 builtin operators (LiteRT, TFLite Micro).
    Tflite,
}

/// Arguments of `sinus export-model`.
#[derive(Debug, Args)]
pub struct ExportModelArgs {
    /// The int8 model (`.int8.snnm`).
    pub model: PathBuf,
    /// Output format.
    #[arg(long, short, value_enum)]
    pub format: ModelFormat,
    /// Output file; default: the model's name with `.h` or `.tflite`, in the current directory.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Test vectors (beats with the int8 logits our kernels give): embedded in the C header,
    /// or written as `.npy` files for TFLite (see --vectors-dir). Default: 16 for c, 0 for
    /// tflite.
    #[arg(long, value_name = "N")]
    pub vectors: Option<usize>,
    /// MIT-BIH directory: the vectors are DS2 beats cut as `sinus eval beats` cuts them
    /// (half evenly spaced, half among the non-N beats); without it they are synthetic.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Directory of the TFLite vectors' `.npy` files; default: OUT without its extension,
    /// plus `-vectors`.
    #[arg(long, value_name = "DIR")]
    pub vectors_dir: Option<PathBuf>,
    /// c: also write the C runtime (snnm.h, snnm.c, snnm_check.c) beside the header.
    #[arg(long)]
    pub with_runtime: bool,
}

/// Run `sinus export-model`.
pub fn run(args: ExportModelArgs, progress: &Progress) -> CliResult {
    let model = load_int8(&args.model)?;
    let stem = args
        .model
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.trim_end_matches(".snnm").trim_end_matches(".int8"))
        .filter(|s| !s.is_empty())
        .unwrap_or("model")
        .to_string();
    let ext = match args.format {
        ModelFormat::C => "h",
        ModelFormat::Tflite => "tflite",
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{stem}.{ext}")));
    let n = args.vectors.unwrap_or(match args.format {
        ModelFormat::C => 16,
        ModelFormat::Tflite => 0,
    });
    let vectors = if n == 0 {
        TestVectors::synthetic(&model, 0, 0)?
    } else if let Some(db) = &args.db {
        let s = progress.spinner("cutting DS2 beats for the test vectors");
        let v = TestVectors::ds2(&model, db, n)?;
        s.finish_and_clear();
        v
    } else {
        TestVectors::synthetic(&model, n, 2026)?
    };
    match args.format {
        ModelFormat::C => {
            let text = c::header(&model, &vectors, &args.model.display().to_string());
            write(&out, text.as_bytes())?;
            println!(
                "wrote {} ({} model bytes, {} test vectors)",
                out.display(),
                model.bytes().len(),
                vectors.len()
            );
            if args.with_runtime {
                let dir = out
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                for (name, text) in c::RUNTIME {
                    write(&dir.join(name), text.as_bytes())?;
                }
                println!("wrote snnm.h, snnm.c, snnm_check.c in {}", dir.display());
            }
        }
        ModelFormat::Tflite => {
            let e = tflite::export(&model)?;
            write(&out, &e.bytes)?;
            println!(
                "wrote {} ({} bytes, {} operators{})",
                out.display(),
                e.bytes.len(),
                e.operators,
                if e.inexact > 0 {
                    format!(
                        "; {} requantisation multipliers not reproducible in TFLite",
                        e.inexact
                    )
                } else {
                    String::new()
                }
            );
            if !vectors.is_empty() {
                let dir = args.vectors_dir.clone().unwrap_or_else(|| {
                    let mut d = out.with_extension("").into_os_string();
                    d.push("-vectors");
                    d.into()
                });
                vectors.write_npy(&dir)?;
                println!("wrote {} test vectors in {}", vectors.len(), dir.display());
            }
        }
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> CliResult {
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))?;
    Ok(())
}
