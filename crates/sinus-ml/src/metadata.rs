//! What a model file says about its input: how beats must be cut and which features it takes,
//! so that `sinus classify` and `sinus eval beats` prepare beats exactly as in training.
//! Stored as JSON in the `.snnm` metadata field.

use crate::dataset::BeatWindowConfig;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use sinus_signal::baseline::BaselineMethod;

/// The inputs a model takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// A window around each R-peak ([`WindowMeta`]) and the 8 RR features of
    /// [`crate::dataset::RR_FEATURES`].
    BeatWindowRr,
    /// RR intervals only (see `rr_window`).
    RrWindow,
    /// The 187-point beat-per-row segment of Kachuee et al. 2018 (see `beat_csv`); written as
    /// `beat_csv187`, read also under its former name `kaggle187`.
    #[serde(alias = "kaggle187")]
    BeatCsv187,
}

/// How beat windows are cut (a serialisable [`BeatWindowConfig`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowMeta {
    /// Seconds before the R-peak.
    pub before_s: f64,
    /// Seconds after the R-peak.
    pub after_s: f64,
    /// Points per lead.
    pub length: usize,
    /// Signal indices of the leads.
    pub leads: Vec<usize>,
    /// "de_chazal", "high_pass_0.5" or "none".
    pub baseline: String,
    /// Per-window z-normalisation.
    pub z_normalise: bool,
    /// Template-difference channels.
    #[serde(default)]
    pub template: bool,
    /// Windows centred on the fiducial point.
    #[serde(default)]
    pub align: bool,
    /// Which feature code cut the training beats: [`FEATURES_VERSION`] for the causal
    /// `sinus_core::beat` path; absent (0) in models trained before it, whose record-wide RR
    /// mean and two-sided template cannot be computed any more.
    #[serde(default)]
    pub features: u32,
}

/// The [`WindowMeta::features`] this build computes.
pub const FEATURES_VERSION: u32 = 2;

impl WindowMeta {
    /// Describe a window configuration.
    pub fn from_config(c: &BeatWindowConfig) -> WindowMeta {
        let baseline = match c.baseline {
            None => "none".to_string(),
            Some(m) if m == BaselineMethod::DE_CHAZAL => "de_chazal".to_string(),
            Some(m) if m == BaselineMethod::HIGH_PASS_0_5_HZ => "high_pass_0.5".to_string(),
            Some(m) => format!("{m:?}"),
        };
        WindowMeta {
            before_s: c.before_s,
            after_s: c.after_s,
            length: c.length,
            leads: c.leads.clone(),
            baseline,
            z_normalise: c.z_normalise,
            template: c.template,
            align: c.align,
            features: FEATURES_VERSION,
        }
    }

    /// The window configuration described.
    pub fn to_config(&self) -> Result<BeatWindowConfig> {
        if self.features != FEATURES_VERSION {
            return Err(Error::unsupported(format!(
                "the model was trained on beat features of version {} (record-wide RR mean and \
                 two-sided template); this build computes version {FEATURES_VERSION} (causal): \
                 retrain it with `sinus train`",
                self.features
            )));
        }
        let baseline = match self.baseline.as_str() {
            "none" => None,
            "de_chazal" => Some(BaselineMethod::DE_CHAZAL),
            "high_pass_0.5" => Some(BaselineMethod::HIGH_PASS_0_5_HZ),
            other => {
                return Err(Error::unsupported(format!(
                    "baseline method {other:?} in model metadata"
                )))
            }
        };
        let c = BeatWindowConfig {
            before_s: self.before_s,
            after_s: self.after_s,
            length: self.length,
            leads: self.leads.clone(),
            baseline,
            z_normalise: self.z_normalise,
            template: self.template,
            align: self.align,
        };
        c.validate()?;
        Ok(c)
    }
}

/// The metadata of a model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    /// Architecture name, e.g. "beatnet".
    pub name: String,
    /// What the model takes.
    pub input: InputKind,
    /// How beats are cut ([`InputKind::BeatWindowRr`]).
    #[serde(default)]
    pub window: Option<WindowMeta>,
    /// Training provenance (data, split, configuration, seed, metrics): free-form.
    #[serde(default)]
    pub training: serde_json::Value,
}

impl ModelMetadata {
    /// Parse a model's metadata JSON.
    pub fn parse(json: &str) -> Result<ModelMetadata> {
        serde_json::from_str(json).map_err(|e| Error::malformed(format!("model metadata: {e}")))
    }

    /// As JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The beat window configuration, for models that take beat windows.
    pub fn window_config(&self) -> Result<BeatWindowConfig> {
        match (&self.input, &self.window) {
            (InputKind::BeatWindowRr, Some(w)) => w.to_config(),
            _ => Err(Error::unsupported(format!(
                "model {:?} does not take beat windows with RR features",
                self.name
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let m = ModelMetadata {
            name: "beatnet".into(),
            input: InputKind::BeatWindowRr,
            window: Some(WindowMeta::from_config(&BeatWindowConfig::default())),
            training: serde_json::json!({"seed": 1}),
        };
        let back = ModelMetadata::parse(&m.to_json()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.window_config().unwrap(), BeatWindowConfig::default());
        assert!(ModelMetadata::parse("{").is_err());
        // A model from before the causal features is refused with the reason.
        let mut old = m.clone();
        old.window.as_mut().unwrap().features = 0;
        let e = old.window_config().unwrap_err().to_string();
        assert!(e.contains("retrain"), "{e}");
    }
}
