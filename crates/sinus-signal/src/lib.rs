//! `sinus-signal`: offline ECG processing (whole records in memory, `std`).
//!
//! - [`filter`]: Butterworth design and zero-phase (forward–backward) filtering, matching
//!   `scipy.signal.butter` + `sosfiltfilt`.
//! - [`resample`]: rational-ratio resampling with exact timing; index mapping between rates.
//! - [`baseline`]: baseline-wander removal (median of beat-length windows, or 0.5 Hz high-pass).
//! - [`hrv`]: heart-rate variability (Task Force 1996) from beat times and AAMI classes.
//! - [`gaps`]: missing samples (NaN) found and bridged.
//! - [`offline_qrs`]: an offline QRS detector that sees the whole record and both leads.
//! - [`detect`]: every QRS detector by name (streaming, streaming-250, offline).
//! - [`rng`]: SplitMix64, the project's deterministic pseudo-random generator.
//! - [`synthetic`]: a sum-of-Gaussians ECG for tests and examples.
//! - [`synth`]: a physiological synthetic ECG generator with rhythm scripts, presets and exact
//!   ground truth (beats, rhythms, signal quality) for testing rhythm analysis.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod baseline;
pub mod detect;
pub mod filter;
pub mod gaps;
pub mod hrv;
pub mod noise;
pub mod offline_qrs;
pub mod resample;
pub mod rng;
pub mod synth;
pub mod synthetic;

pub use sinus_io::{Error, Result};
