//! The analog front end and sampling: an AD8232 into the RP2040's 12-bit ADC at 250 Hz.

use sinus_core::monitor::MonitorConfig;

/// Samples per second.
pub const FS_HZ: u32 = 250;

/// Microseconds between samples. The RP2040's timer counts microseconds (from the 12 MHz
/// crystal through the watchdog tick), and 10⁶ / 250 = 4000 exactly, so deadlines advanced by
/// this period from the previous deadline never drift from 250 Hz.
pub const PERIOD_US: u64 = 1_000_000 / FS_HZ as u64;
const _: () = assert!(
    PERIOD_US * FS_HZ as u64 == 1_000_000,
    "the period must be exact"
);

/// Bits of the RP2040's ADC.
pub const ADC_BITS: u32 = 12;

/// Largest ADC code.
pub const ADC_MAX: u16 = (1 << ADC_BITS) - 1;

/// ADC codes per millivolt at the electrodes: an AD8232 with a total gain of 300 V/V (0.3 V
/// per mV) into the 12-bit ADC with its 3.3 V reference, 0.3 · 4096 / 3.3 ≈ 372.36 codes per
/// mV (±5.5 mV full scale).
///
/// This is the host simulator's front end (`sinus_analyze::device::FrontEnd::AD8232`),
/// computed the same way (in `f64`, then narrowed as `sinus analyze --engine device-ad8232`
/// narrows it), so the device and the host feed `Monitor` bit-identical configurations. A
/// board whose AD8232 is wired for another gain (the gain is set by its resistors) must
/// change this constant, and the simulator with it.
pub const COUNTS_PER_MV: f32 = (0.3_f64 * 4096.0 / 3.3) as f32;

/// ADC code of 0 mV: the AD8232's reference output sits at mid-supply, mid-scale of the ADC
/// on the same 3.3 V supply (the simulator's zero code too).
pub const ZERO_CODE: i32 = 2048;

/// The monitor's configuration for this front end and the shipped model.
pub fn monitor_config() -> MonitorConfig {
    sinus_model::config(FS_HZ as f32, COUNTS_PER_MV, ZERO_CODE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_end_matches_the_simulator() {
        // The figures the simulator documents: 372 codes per mV, zero at 2048, 12 bits.
        assert_eq!(COUNTS_PER_MV, 372.363_64_f32);
        assert_eq!((ZERO_CODE, ADC_BITS, ADC_MAX), (2048, 12, 4095));
        assert_eq!(PERIOD_US, 4000);
    }

    #[test]
    fn the_shipped_model_accepts_the_configuration() {
        let m = sinus_core::monitor::Monitor::new(sinus_model::MODEL, monitor_config());
        assert!(m.is_ok());
    }
}
