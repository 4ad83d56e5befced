//! `sinus-ml`: data for beat classifiers.
//!
//! - [`split`]: the de Chazal inter-patient split (DS1 train / DS2 test, paced records
//!   excluded) and a patient-wise validation split inside DS1.
//! - [`dataset`]: AAMI-labelled beat windows around each reference R-peak with RR features,
//!   built in parallel over records, class counts and capped class weights.
//! - [`cache`]: a little-endian binary on-disk cache of a [`dataset::Dataset`], keyed by the
//!   configuration, the record list and the input files' sizes and modification times.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cache;
pub mod dataset;
pub mod split;

pub use sinus_io::{Error, Result};
