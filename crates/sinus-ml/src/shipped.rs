//! The model shipped with Sinus, built into the binary: see `models/MODEL_CARD.md` for the
//! data, split, training command and DS2 figures.

use crate::infer::Classifier;
use crate::Result;

/// The shipped beat classifier (float32 `.snnm`): two leads.
pub const BEATNET: &[u8] = include_bytes!("../models/beatnet.snnm");

/// The same model quantised to int8 (for the device kernels).
pub const BEATNET_INT8: &[u8] = include_bytes!("../models/beatnet.int8.snnm");

/// The shipped one-lead classifier (float32), for recordings with a single signal.
pub const BEATNET_ONE_LEAD: &[u8] = include_bytes!("../models/beatnet-1lead.snnm");

/// The one-lead model quantised to int8 (what a one-lead device runs).
pub const BEATNET_ONE_LEAD_INT8: &[u8] = include_bytes!("../models/beatnet-1lead.int8.snnm");

/// The shipped beat classifier, loaded: the two-lead model, with the one-lead model as its
/// fallback for one-lead recordings ([`Classifier::for_signals`]).
pub fn classifier() -> Result<Classifier> {
    Ok(Classifier::from_bytes(BEATNET)?.with_fallback(Classifier::from_bytes(BEATNET_ONE_LEAD)?))
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
        // Two leads, with the one-lead model for one-lead recordings.
        let leads = |c: &Classifier| {
            crate::metadata::ModelMetadata::parse(&c.metadata)
                .unwrap()
                .window_config()
                .unwrap()
                .leads
        };
        assert_eq!(leads(f.for_signals(2)), vec![0, 1]);
        assert_eq!(leads(f.for_signals(12)), vec![0, 1]);
        assert_eq!(leads(f.for_signals(1)), vec![0]);
        let one = Classifier::from_bytes(BEATNET_ONE_LEAD_INT8).unwrap();
        assert!(one.is_int8());
        assert_eq!(leads(&one), vec![0]);
    }
}
