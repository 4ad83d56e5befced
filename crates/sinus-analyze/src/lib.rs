//! `sinus-analyze`: the whole-recording analysis behind `sinus analyze` — the main job.
//!
//! Any recording `sinus-io` reads goes through signal quality ([`quality`]), beat detection and
//! classification (`sinus-signal`, `sinus-ml` on `sinus-core`'s kernels), the device's rhythm
//! state machine ([`rhythm`], driving `sinus_core::rhythm`), heart-rate variability ([`hrv`]),
//! and comes out as an [`model::Analysis`]: a terminal summary, JSON with a versioned schema,
//! CSV, WFDB annotations ([`output`]) and a self-contained HTML report ([`html`]).
//!
//! Why a crate of its own: it is the only place that needs every other crate at once (formats,
//! DSP, classifier, rhythm, evaluation's reference parsing); keeping it out of `sinus-cli` lets
//! the future server and Python bindings call the same analysis.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod batch;
pub mod device;
pub mod hrv;
pub mod html;
pub mod long;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod quality;
pub mod rhythm;

pub use model::Analysis;
pub use pipeline::{analyze, AnalyzeOptions, Details, Engine, Input};
