//! Reads the shipped one-lead int8 model and writes its window shape as Rust constants: the
//! device has no JSON parser, so the metadata is turned into code at build time.

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let model = root.join("../../crates/sinus-ml/models/beatnet-1lead.int8.snnm");
    println!("cargo:rerun-if-changed={}", model.display());
    let bytes = std::fs::read(&model).expect("the shipped model");
    let parsed = sinus_core::nn::QuantModel::parse(&bytes[..]).expect("a valid int8 model");
    let (a, z) = parsed.info().metadata;
    let meta: serde_json::Value = serde_json::from_slice(&bytes[a..z]).expect("JSON metadata");
    let w = &meta["window"];
    let num = |k: &str| w[k].as_f64().unwrap_or_else(|| panic!("window.{k}"));
    let flag = |k: &str| w[k].as_bool().unwrap_or_else(|| panic!("window.{k}"));
    assert_eq!(
        w["baseline"], "de_chazal",
        "the device filters with the de Chazal medians"
    );
    assert_eq!(
        w["leads"].as_array().map(|l| l.len()),
        Some(1),
        "a one-lead model"
    );
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("window.rs");
    std::fs::write(
        out,
        format!(
            "/// The model's window, from its metadata.\n\
             pub const WINDOW: sinus_core::beat::WindowShape = sinus_core::beat::WindowShape {{\n\
             before_s: {:?}, after_s: {:?}, length: {}, z_normalise: {}, template: {}, align: {} }};\n\
             /// Path of the model embedded.\n\
             pub const MODEL_PATH: &str = {:?};\n",
            num("before_s"),
            num("after_s"),
            num("length") as usize,
            flag("z_normalise"),
            flag("template"),
            flag("align"),
            model.display().to_string(),
        ),
    )
    .unwrap();
}
