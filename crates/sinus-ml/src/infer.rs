//! Running a trained model on many beats, through `sinus_core::nn`'s kernels — the same
//! inference code the device runs.

use crate::spec::ModelSpec;
use crate::{Error, Result};
use rayon::prelude::*;
use sinus_core::nn::{softmax, FloatModel, NnError, QuantModel};
use std::path::Path;

/// Which kernels run the model.
#[allow(clippy::large_enum_variant)] // One per classifier; boxing buys nothing.
enum Engine {
    Float(FloatModel<Vec<f32>>),
    Int8(QuantModel<Vec<u8>>),
}

/// A loaded model: float32 or int8 `.snnm` bytes, ready to classify beats.
pub struct Classifier {
    engine: Engine,
    /// The model's classes, e.g. `['N', 'S', 'V', 'F', 'Q']`.
    pub classes: Vec<char>,
    /// The model's JSON metadata (preprocessing, provenance).
    pub metadata: String,
    /// The float network as data (`None` for an int8 model), for explanations.
    pub spec: Option<ModelSpec>,
    /// Signals a recording needs for this model's windows (highest lead index + 1; 0 when
    /// the metadata names no leads).
    leads_needed: usize,
    /// The model used instead on recordings with fewer signals ([`Classifier::with_fallback`]).
    fallback: Option<Box<Classifier>>,
}

fn nn_err(e: NnError) -> Error {
    Error::malformed(e.to_string())
}

impl Classifier {
    /// Load float32 (kind 0) or int8 (kind 1) model bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Classifier> {
        let kind = bytes.get(6).copied().unwrap_or(0);
        let (engine, info) = if kind == 1 {
            let m = QuantModel::parse(bytes.to_vec()).map_err(nn_err)?;
            let info = *m.info();
            (Engine::Int8(m), info)
        } else {
            let n = FloatModel::<Vec<f32>>::storage_len(bytes).map_err(nn_err)?;
            let m = FloatModel::parse(bytes, vec![0.0f32; n]).map_err(nn_err)?;
            let info = *m.info();
            (Engine::Float(m), info)
        };
        let spec = if kind == 1 {
            None
        } else {
            Some(ModelSpec::from_bytes(bytes)?)
        };
        let (a, z) = info.metadata;
        let metadata = String::from_utf8_lossy(&bytes[a..z]).into_owned();
        let leads_needed = crate::metadata::ModelMetadata::parse(&metadata)
            .ok()
            .and_then(|m| m.window)
            .and_then(|w| w.leads.iter().max().map(|&l| l + 1))
            .unwrap_or(0);
        Ok(Classifier {
            engine,
            classes: info.class_labels().iter().map(|&c| c as char).collect(),
            metadata,
            spec,
            leads_needed,
            fallback: None,
        })
    }

    /// This model, with `fallback` to be used on recordings that lack a lead this one reads
    /// (e.g. a one-lead model beside a two-lead one: [`crate::shipped::classifier`]).
    pub fn with_fallback(mut self, fallback: Classifier) -> Classifier {
        self.fallback = Some(Box::new(fallback));
        self
    }

    /// The model to run on a recording with `signals` signals: this one when the recording has
    /// every lead it reads, else its fallback when that fits, else this one (whose beat cutting
    /// then names the missing lead).
    pub fn for_signals(&self, signals: usize) -> &Classifier {
        match &self.fallback {
            Some(f) if signals < self.leads_needed && signals >= f.leads_needed => {
                f.for_signals(signals)
            }
            _ => self,
        }
    }

    /// Load a model file.
    pub fn load(path: impl AsRef<Path>) -> Result<Classifier> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Classifier::from_bytes(&bytes).map_err(|e| e.in_file(path))
    }

    /// Whether the int8 kernels run this model.
    pub fn is_int8(&self) -> bool {
        matches!(self.engine, Engine::Int8(_))
    }

    /// Waveform values per beat (channels × length) and features per beat.
    pub fn input_sizes(&self) -> (usize, usize) {
        let info = match &self.engine {
            Engine::Float(m) => m.info(),
            Engine::Int8(m) => m.info(),
        };
        (info.input_channels * info.input_len, info.n_features)
    }

    /// Parameters and multiply–accumulates per beat.
    pub fn size(&self) -> (usize, usize) {
        let info = match &self.engine {
            Engine::Float(m) => m.info(),
            Engine::Int8(m) => m.info(),
        };
        (info.parameters, info.macs)
    }

    /// Class probabilities of one beat.
    pub fn probabilities(&self, waveform: &[f32], features: &[f32]) -> Result<Vec<f32>> {
        let mut out = vec![0.0; self.classes.len()];
        let mut scratch = Scratch::default();
        self.run(waveform, features, &mut scratch, &mut out)?;
        Ok(out)
    }

    /// Class probabilities of many beats (`waveforms`: n × waveform size, `features`:
    /// n × feature count), `classes.len()` values per beat, in parallel over beats.
    pub fn probabilities_batch(&self, waveforms: &[f32], features: &[f32]) -> Result<Vec<f32>> {
        let (wn, fnn) = self.input_sizes();
        let n = waveforms
            .len()
            .checked_div(wn)
            .unwrap_or(features.len() / fnn.max(1));
        if waveforms.len() != n * wn || features.len() != n * fnn {
            return Err(Error::invalid(format!(
                "{} waveform values and {} features do not make whole beats of {wn} + {fnn}",
                waveforms.len(),
                features.len()
            )));
        }
        let k = self.classes.len();
        let mut out = vec![0.0f32; n * k];
        out.par_chunks_mut(k * 256).enumerate().try_for_each_init(
            Scratch::default,
            |scratch, (chunk, probs)| {
                for (j, p) in probs.chunks_mut(k).enumerate() {
                    let i = chunk * 256 + j;
                    self.run(
                        &waveforms[i * wn..(i + 1) * wn],
                        &features[i * fnn..(i + 1) * fnn],
                        scratch,
                        p,
                    )?;
                }
                Ok::<(), Error>(())
            },
        )?;
        Ok(out)
    }

    fn run(
        &self,
        waveform: &[f32],
        features: &[f32],
        scratch: &mut Scratch,
        probs: &mut [f32],
    ) -> Result<()> {
        let mut logits = [0.0f32; sinus_core::nn::MAX_CLASSES];
        let logits = &mut logits[..probs.len()];
        match &self.engine {
            Engine::Float(m) => {
                scratch.f.resize(m.scratch_len(), 0.0);
                m.logits(waveform, features, &mut scratch.f, logits)
            }
            Engine::Int8(m) => {
                scratch.q.resize(m.scratch_len(), 0);
                m.logits(waveform, features, &mut scratch.q, logits)
            }
        }
        .map_err(|e| Error::invalid(e.to_string()))?;
        softmax(logits, probs);
        Ok(())
    }
}

#[derive(Default)]
struct Scratch {
    f: Vec<f32>,
    q: Vec<i8>,
}
