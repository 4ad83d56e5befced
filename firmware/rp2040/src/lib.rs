//! The parts of the RP2040 firmware that do not touch hardware: the AD8232 front-end
//! constants, the lock-free sample ring between the timer interrupt and the main loop, the
//! interrupt's timing and gap bookkeeping, and the bounded UART transmit queue with the
//! event lines. They are kept apart from `main.rs` so that they run as ordinary unit tests on
//! the host (`cargo test --lib --target x86_64-unknown-linux-gnu`).
#![no_std]
#![forbid(unsafe_code)]

// The unit tests collect with `Vec`.
#[cfg(test)]
extern crate std;

pub mod frontend;
pub mod ring;
pub mod sampler;
pub mod tx;
