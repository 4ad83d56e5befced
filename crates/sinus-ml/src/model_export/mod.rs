//! The int8 beat classifier exported where firmware authors expect it (`sinus export-model`):
//!
//! - [`c`]: a C header with the `.snnm` bytes as an array and test vectors, for the C99
//!   runtime in `crates/sinus-ml/c/` (a C implementation of `sinus_core::nn`'s int8
//!   inference, checked bit for bit against the vectors);
//! - [`tflite`]: a TensorFlow Lite flatbuffer with int8 builtin operators, for LiteRT and
//!   TensorFlow Lite Micro;
//! - [`emulate`]: the same int8 network in plain loops with our rounding or TensorFlow Lite's
//!   reference rounding, to say exactly where the two part.
//!
//! Both carry the same network as the `.snnm` file; [`TestVectors`] are beats (DS2 of MIT-BIH,
//! cut exactly as `sinus eval beats` cuts them, or synthetic inputs) with the int8 logits and
//! class our kernels give, which an exported copy must reproduce.

pub mod c;
pub mod emulate;
pub mod tflite;

use crate::dataset::{AamiClass, Dataset};
use crate::export::write_npy;
use crate::metadata::ModelMetadata;
use crate::{Error, Result};
use sinus_core::nn::QuantModel;
use sinus_io::ResultExt;
use sinus_signal::rng::SplitMix64;
use std::path::Path;

/// Load an int8 `.snnm` model; errors name `path` and what is wrong (not a model, damaged,
/// a float32 model, ...).
pub fn load_int8(path: impl AsRef<Path>) -> Result<QuantModel<Vec<u8>>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_int8(bytes).in_file(path)
}

/// Check int8 `.snnm` bytes.
pub fn parse_int8(bytes: Vec<u8>) -> Result<QuantModel<Vec<u8>>> {
    if bytes.len() > 6 && bytes.starts_with(b"SNNM") && bytes[6] == 0 {
        return Err(Error::unsupported(
            "a float32 model: only int8 models (`.int8.snnm`, kind 1) are exported",
        ));
    }
    QuantModel::parse(bytes).map_err(|e| Error::malformed(e.to_string()))
}

/// Inputs of a few beats and the int8 logits our kernels give for them.
#[derive(Debug, Clone, PartialEq)]
pub struct TestVectors {
    /// Waveform values per beat (channels × length, channel-major).
    pub waveform_len: usize,
    /// Features per beat (the raw RR features; the model normalises them).
    pub n_features: usize,
    /// Classes (logits per beat).
    pub n_classes: usize,
    /// Waveform channels (the model's input channels).
    pub channels: usize,
    /// Beat waveforms, `n × waveform_len`.
    pub waveforms: Vec<f32>,
    /// Raw RR features, `n × n_features`.
    pub features: Vec<f32>,
    /// int8 logits from `sinus_core::nn::QuantModel`, `n × n_classes`.
    pub logits: Vec<i8>,
    /// The int8 logits TensorFlow Lite's reference kernels give for the exported model: ours
    /// with their rounding ([`emulate::Rounding::TfliteReference`]), `n × n_classes`.
    pub logits_tflite_ref: Vec<i8>,
    /// Index of the largest logit (the first on ties).
    pub classes: Vec<u8>,
    /// Reference AAMI class index (0..5 = N S V F Q) of each beat; 255 for synthetic inputs.
    pub labels: Vec<u8>,
    /// Where each beat comes from: `record:sample`, or `synthetic:i`.
    pub origin: Vec<String>,
}

impl TestVectors {
    /// Number of beats.
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    /// Whether there are no beats.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// Empty vectors shaped for `model`.
    fn for_model(model: &QuantModel<Vec<u8>>) -> TestVectors {
        let info = model.info();
        TestVectors {
            waveform_len: info.input_channels * info.input_len,
            n_features: info.n_features,
            n_classes: info.n_classes,
            channels: info.input_channels,
            waveforms: Vec::new(),
            features: Vec::new(),
            logits: Vec::new(),
            logits_tflite_ref: Vec::new(),
            classes: Vec::new(),
            labels: Vec::new(),
            origin: Vec::new(),
        }
    }

    /// Run `model` on one beat and append it.
    fn push(
        &mut self,
        model: &QuantModel<Vec<u8>>,
        scratch: &mut Vec<i8>,
        waveform: &[f32],
        features: &[f32],
        label: u8,
        origin: String,
    ) -> Result<()> {
        scratch.resize(model.scratch_len(), 0);
        let mut logits = vec![0i8; self.n_classes];
        model
            .logits_int8(waveform, features, scratch, &mut logits)
            .map_err(|e| Error::invalid(format!("{origin}: {e}")))?;
        let mut best = 0;
        for (i, &l) in logits.iter().enumerate() {
            if l > logits[best] {
                best = i;
            }
        }
        self.waveforms.extend_from_slice(waveform);
        self.features.extend_from_slice(features);
        let reference = emulate::logits(
            model,
            waveform,
            features,
            emulate::Rounding::TfliteReference,
        )
        .ok_or_else(|| Error::invalid(format!("{origin}: input sizes differ from the model's")))?;
        self.logits.extend_from_slice(&logits);
        self.logits_tflite_ref.extend_from_slice(&reference);
        self.classes.push(best as u8);
        self.labels.push(label);
        self.origin.push(origin);
        Ok(())
    }

    /// `n` synthetic inputs from `seed`: waveforms of Gaussian noise with occasional large
    /// values (they reach both ends of the int8 input range, where saturation is tested) and
    /// RR features spread around plausible intervals. Deterministic.
    pub fn synthetic(model: &QuantModel<Vec<u8>>, n: usize, seed: u64) -> Result<TestVectors> {
        let mut v = TestVectors::for_model(model);
        let mut scratch = Vec::new();
        for i in 0..n {
            let mut rng = SplitMix64::for_item(seed, i as u64);
            // Spread grows with i: the first inputs are tame, the last ones saturate.
            let spread = 0.5 + 4.0 * i as f64 / n.max(1) as f64;
            let waveform: Vec<f32> = (0..v.waveform_len)
                .map(|_| {
                    let x = rng.normal() * spread;
                    (if rng.chance(0.02) { x * 20.0 } else { x }) as f32
                })
                .collect();
            let features: Vec<f32> = (0..v.n_features)
                .map(|_| rng.range(0.2, 2.0) as f32)
                .collect();
            v.push(
                model,
                &mut scratch,
                &waveform,
                &features,
                255,
                format!("synthetic:{i}"),
            )?;
        }
        Ok(v)
    }

    /// `n` beats of the DS2 records (de Chazal's test set) of the MIT-BIH database in `db`,
    /// cut as the model's metadata says (as `sinus eval beats` does): half of them evenly
    /// spaced over the beats whose reference class is not N (so that every class is
    /// represented), the others evenly spaced over the remaining beats; all of them when DS2
    /// has fewer than `n`. Deterministic.
    pub fn ds2(model: &QuantModel<Vec<u8>>, db: &Path, n: usize) -> Result<TestVectors> {
        let (a, z) = model.info().metadata;
        let meta = std::str::from_utf8(model.bytes().get(a..z).unwrap_or(&[]))
            .map_err(|_| Error::malformed("model metadata is not UTF-8"))?;
        let config = ModelMetadata::parse(meta)?.window_config()?;
        crate::evaluate::check_records(db, &crate::split::DS2)?;
        let ds = Dataset::build(db, &crate::split::DS2, &config)?;
        let all: Vec<usize> = (0..ds.beats.len()).collect();
        let ectopic: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&i| ds.beats[i].class != AamiClass::N)
            .collect();
        let mut chosen = evenly(&ectopic, n / 2);
        let rest: Vec<usize> = all
            .iter()
            .copied()
            .filter(|i| chosen.binary_search(i).is_err())
            .collect();
        chosen.extend(evenly(&rest, n - chosen.len()));
        chosen.sort_unstable();
        let mut v = TestVectors::for_model(model);
        let mut scratch = Vec::new();
        for i in chosen {
            let b = &ds.beats[i];
            v.push(
                model,
                &mut scratch,
                &b.waveform,
                &b.rr,
                b.class.index() as u8,
                format!("{}:{}", b.record, b.sample),
            )?;
        }
        Ok(v)
    }

    /// Write the vectors into the directory `dir` (created if missing) as `.npy` files:
    /// `waveforms.npy` (`<f4`, n × channels × length), `rr.npy` (`<f4`, n × features, raw),
    /// `logits.npy` (`|i1`, n × classes: our int8 logits), `logits_tflite_ref.npy` (`|i1`:
    /// the same network with TensorFlow Lite's reference rounding), `classes.npy` (`|u1`: the
    /// argmax of ours), `labels.npy` (`|u1`: reference class, 255 = none) and `origin.txt`
    /// (`record:sample` a line).
    pub fn write_npy(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let n = self.len();
        let len = self.waveform_len.checked_div(self.channels).unwrap_or(0);
        write_npy(
            dir.join("waveforms.npy"),
            &[n, self.channels, len],
            &self.waveforms,
        )?;
        write_npy(dir.join("rr.npy"), &[n, self.n_features], &self.features)?;
        write_npy(dir.join("logits.npy"), &[n, self.n_classes], &self.logits)?;
        write_npy(
            dir.join("logits_tflite_ref.npy"),
            &[n, self.n_classes],
            &self.logits_tflite_ref,
        )?;
        write_npy(dir.join("classes.npy"), &[n], &self.classes)?;
        write_npy(dir.join("labels.npy"), &[n], &self.labels)?;
        let origin = dir.join("origin.txt");
        let mut text = self.origin.join("\n");
        text.push('\n');
        std::fs::write(&origin, text).map_err(|e| Error::io(&origin, e))?;
        Ok(())
    }
}

/// `n` items of `from`, evenly spaced (all of them when there are fewer).
fn evenly(from: &[usize], n: usize) -> Vec<usize> {
    if n >= from.len() {
        return from.to_vec();
    }
    (0..n).map(|k| from[k * from.len() / n]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &[u8] = include_bytes!("../../models/beatnet.int8.snnm");

    #[test]
    fn evenly_spaced() {
        let v: Vec<usize> = (0..10).collect();
        assert_eq!(evenly(&v, 5), vec![0, 2, 4, 6, 8]);
        assert_eq!(evenly(&v, 20), v);
        assert!(evenly(&v, 0).is_empty());
    }

    #[test]
    fn synthetic_vectors_are_deterministic_and_saturate() {
        let model = parse_int8(SHIPPED.to_vec()).unwrap();
        let a = TestVectors::synthetic(&model, 8, 3).unwrap();
        let b = TestVectors::synthetic(&model, 8, 3).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 8);
        assert_eq!(a.waveforms.len(), 8 * 4 * 128);
        assert_eq!(a.logits.len(), 8 * 5);
        let (scale, zp) = model.input_quant();
        let big = a.waveforms.iter().any(|&x| x / scale + zp as f32 > 127.0);
        assert!(big, "some input values must saturate");
    }

    #[test]
    fn float_models_and_damaged_bytes_are_refused() {
        let float = include_bytes!("../../models/beatnet.snnm").to_vec();
        let e = parse_int8(float).unwrap_err().to_string();
        assert!(e.contains("float32"), "{e}");
        let mut bad = SHIPPED.to_vec();
        bad[100] ^= 1;
        let e = parse_int8(bad).unwrap_err().to_string();
        assert!(e.contains("CRC"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.snnm");
        std::fs::write(&path, b"not a model").unwrap();
        let e = load_int8(&path).unwrap_err().to_string();
        assert!(e.contains("junk.snnm") && e.contains("SNNM"), "{e}");
    }
}
