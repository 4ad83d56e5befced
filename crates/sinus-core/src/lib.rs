//! `sinus-core`: the ECG processing that runs on the device — `#![no_std]`, no allocator, every
//! buffer sized at compile time, no panic on any input.
//!
//! - [`filter`]: IIR biquad cascades designed at start-up for any sampling rate 125–1000 Hz.
//! - [`qrs`]: a streaming QRS detector fed one sample at a time.
//! - [`beat`]: what the beat classifier sees of each beat (fiducial point, window, running
//!   template, running RR statistics), causal and in fixed memory.
//! - [`nn`]: float32 and int8 inference of small 1-D CNNs (the beat classifier).
//! - [`rhythm`]: streaming rhythm analysis (AF, VT, bigeminy, pauses...) from classified beats.
//! - [`baseline`], [`quality`]: baseline-wander removal and signal quality, streaming, on ADC codes.
//! - [`compress`]: lossless, allocation-free compression of ECG sample blocks (the Holter store).
//! - [`monitor`]: the whole device pipeline — ADC codes in, beats, rhythms, alarms out.
//! - [`wire`]: the device link's packets (zero-copy views, COBS framing, CRC, sequence numbers).
//! - [`holter`]: the tiered Holter store on NOR flash, safe against power loss.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod baseline;
pub mod beat;
pub mod compress;
pub mod crc;
pub mod filter;
pub mod holter;
pub mod monitor;
pub mod nn;
pub mod qrs;
pub mod quality;
pub mod rhythm;
pub mod wire;
