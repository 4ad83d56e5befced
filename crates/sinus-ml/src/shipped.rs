//! The model shipped with Sinus, built into the binary: see `models/MODEL_CARD.md` for the
//! data, split, training command and DS2 figures.

use crate::infer::Classifier;
use crate::Result;

/// The shipped beat classifier (float32 `.snnm`).
pub const BEATNET: &[u8] = include_bytes!("../models/beatnet.snnm");

/// The same model quantised to int8 (for the device kernels).
pub const BEATNET_INT8: &[u8] = include_bytes!("../models/beatnet.int8.snnm");

/// The shipped beat classifier, loaded.
pub fn classifier() -> Result<Classifier> {
    Classifier::from_bytes(BEATNET)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_models_load() {
        let f = classifier().unwrap();
        assert!(!f.is_int8());
        assert_eq!(f.classes, vec!['N', 'S', 'V', 'F', 'Q']);
        let q = Classifier::from_bytes(BEATNET_INT8).unwrap();
        assert!(q.is_int8());
        assert_eq!(f.size(), q.size());
        // The writer reproduces the shipped bytes exactly.
        let spec = crate::spec::ModelSpec::from_bytes(BEATNET).unwrap();
        assert_eq!(spec.to_bytes().unwrap(), BEATNET);
    }
}
