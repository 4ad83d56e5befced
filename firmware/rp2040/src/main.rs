//! Sinus on the product board: an RP2040 with an AD8232 ECG front end. The timer samples the
//! ADC at 250 Hz, `sinus_core::monitor::Monitor` runs on core 0, and the events go out of
//! UART0 as hex lines. See README.md for the pins and how to build and flash it.
//!
//! This is firmware: for the host, the binary is a stub that says so (the hardware-free
//! parts are the library, whose tests run on the host).
#![cfg_attr(target_os = "none", no_std, no_main)]
#![deny(unsafe_code)]

#[cfg(target_os = "none")]
mod device;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "sinus-rp2040 is firmware for the RP2040: build it with \
         `cargo build --release --target thumbv6m-none-eabi -p sinus-rp2040` (see README.md)"
    );
    std::process::exit(2);
}
