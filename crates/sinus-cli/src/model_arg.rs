//! The `--model` argument shared by the classifier subcommands.

use crate::CliResult;
use sinus_ml::infer::Classifier;
use std::path::Path;

/// Load the model file, or the shipped default model when none is given.
pub fn load_model(path: Option<&Path>) -> CliResult<Classifier> {
    match path {
        Some(p) => Ok(Classifier::load(p)?),
        None => Ok(sinus_ml::shipped::classifier()?),
    }
}

/// One line describing a model: name, kernels, size.
pub fn describe(model: &Classifier) -> String {
    let name = sinus_ml::metadata::ModelMetadata::parse(&model.metadata)
        .map(|m| m.name)
        .unwrap_or_else(|_| "?".into());
    let (params, macs) = model.size();
    format!(
        "{name} ({}, {params} parameters, {:.1} k MACs per beat)",
        if model.is_int8() { "int8" } else { "float32" },
        macs as f64 / 1000.0
    )
}
