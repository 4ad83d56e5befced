//! `sinus-ml`: the beat classifier — data, training, export, evaluation, explanations.
//!
//! Training uses burn (CPU `flex` backend) only; a trained network is exported to a
//! [`spec::ModelSpec`] / `.snnm` bytes and from then on runs through `sinus_core::nn`'s float32
//! or int8 kernels ([`infer::Classifier`]), the same inference code as the device.
//!
//! - [`train`]: configurable 1-D CNN + RR features, weighted cross-entropy or focal loss, Adam,
//!   early stopping on patient-wise validation, deterministic seeds; [`recipe`]: the DS1 recipe
//!   behind `sinus train`; [`ensemble`]: several networks folded into one; [`quant`]: int8 post-training quantisation; [`shipped`]: the model
//!   built into the binary.
//! - [`evaluate`]: EC57-style evaluation on reference R-peaks or end to end; [`explain`]:
//!   Grad-CAM and integrated gradients; [`plot`]: training curves, confusion matrices, beat
//!   relevance (PNG/SVG, embedded font).
//! - [`baseline`] (`sinus baseline`): the RR-window screen ([`rr_window`]) and the beat-per-row
//!   CSV CNN ([`beat_csv`], Kachuee et al. 2018), scored inter-patient; [`export`]: `.npy`
//!   for Python peers; [`model_export`]: the int8 model as a C header with test vectors and as
//!   a TensorFlow Lite flatbuffer (`sinus export-model`); [`leaky`]: the (leaky) random beat split; [`metadata`]: what a model file
//!   says about its input.
//! - [`split`]: the de Chazal inter-patient split (DS1 train / DS2 test, paced records
//!   excluded) and a patient-wise validation split inside DS1.
//! - [`dataset`]: AAMI-labelled beat windows around each reference beat with RR features, cut
//!   by the causal `sinus_core::beat` path that also classifies detected beats, built in
//!   parallel over records; class counts and capped class weights.
//! - [`augment`]: random amplitude scale, baseline shift, noise and time warp about the
//!   R-peak, and augmented copies to oversample minority classes.
//! - [`smote`]: SMOTE synthetic beats on waveform ++ RR features.
//! - [`rng`]: the deterministic SplitMix64 generator both use (from `sinus-signal`).
//! - [`cache`]: a little-endian binary on-disk cache of a [`dataset::Dataset`], keyed by the
//!   configuration, the record list and the input files' sizes and modification times.
//!
//! On MIT-BIH with the default window (−250/+400 ms) the class counts are DS1 N 45849,
//! S 944, V 3788, F 414, Q 8 (18 beats too close to a record end skipped) and DS2 N 44240,
//! S 1837, V 3220, F 388, Q 7 (20 skipped): de Chazal's table less the skipped beats.
//!
//! ```no_run
//! # fn main() -> sinus_io::Result<()> {
//! use sinus_ml::cache::build_cached;
//! use sinus_ml::dataset::{class_weights, BeatWindowConfig, WeightScheme};
//! use sinus_ml::split::{training_records, validation_records};
//!
//! let config = BeatWindowConfig::default();
//! let train = build_cached("cache", "mitdb", &training_records(1, 4), &config)?;
//! let valid = build_cached("cache", "mitdb", &validation_records(1, 4), &config)?;
//! let weights = class_weights(&train.class_counts(), WeightScheme::default());
//! println!("{} / {} beats, weights {weights:?}", train.beats.len(), valid.beats.len());
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod augment;
pub mod beat_csv;
pub mod cache;
pub mod dataset;
pub mod ensemble;
pub mod evaluate;
pub mod explain;
pub mod export;
pub mod infer;
pub mod leaky;
pub mod metadata;
pub mod model_export;
pub mod plot;
pub use sinus_signal::rng;
pub mod baseline;
pub mod quant;
pub mod recipe;
pub mod rr_window;
pub mod shipped;
pub mod smote;
pub mod spec;
pub mod split;
pub mod train;

pub use sinus_io::{Error, Result};
