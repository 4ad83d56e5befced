//! The shipped one-lead int8 beat classifier (`beatnet-1lead`) and its window shape, for the
//! firmware: the bytes live in flash and are run in place by `sinus_core::nn::QuantModel`.
#![no_std]
#![forbid(unsafe_code)]

include!(concat!(env!("OUT_DIR"), "/window.rs"));

/// The model bytes (`crates/sinus-ml/models/beatnet-1lead.int8.snnm`).
pub static MODEL: &[u8] = include_bytes!("../../../crates/sinus-ml/models/beatnet-1lead.int8.snnm");

/// The monitor configuration for a front end giving `counts_per_mv` codes per mV, 0 mV at
/// `zero_code`, at `fs` Hz.
pub fn config(fs: f32, counts_per_mv: f32, zero_code: i32) -> sinus_core::monitor::MonitorConfig {
    sinus_core::monitor::MonitorConfig {
        fs,
        counts_per_mv,
        zero_code,
        window: WINDOW,
    }
}
