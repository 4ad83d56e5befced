//! The `--engine` argument shared by `sinus analyze` and `sinus eval rhythm`, and the
//! `--front-end` argument of `sinus edge simulate` and `sinus device simulate`.

use crate::CliResult;
use clap::ValueEnum;
use sinus_analyze::device::FrontEnd;
use sinus_analyze::Engine;
use std::path::Path;

/// Engines selectable on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// Full precision on the whole recording (the default).
    Host,
    /// The device's monitor, sample by sample: lead 0, the recording's own ADC codes, the
    /// int8 one-lead model (`--model` if it is one, else the shipped `beatnet-1lead`).
    Device,
    /// The device's monitor behind an AD8232-like front end: resampled to 250 Hz, 12-bit
    /// codes (as `sinus edge simulate`).
    #[value(name = "device-ad8232")]
    DeviceAd8232,
}

impl EngineArg {
    /// The library's engine; `model` is read for the device engines.
    pub fn engine(self, model: Option<&Path>) -> CliResult<Engine> {
        let front_end = match self {
            EngineArg::Host => return Ok(Engine::Host),
            EngineArg::Device => FrontEnd::Recorded,
            EngineArg::DeviceAd8232 => FrontEnd::Ad8232,
        };
        let model = match model {
            Some(p) => Some(std::fs::read(p).map_err(|e| sinus_io::Error::io(p, e))?),
            None => None,
        };
        Ok(Engine::Device { front_end, model })
    }
}

/// Front ends of a simulated device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FrontEndArg {
    /// AD8232-like: 250 Hz, 12-bit codes, 372 codes per mV, clipped at ±5.5 mV.
    Ad8232,
    /// The recording's own codes and rate.
    Recorded,
}

impl FrontEndArg {
    /// The library's front end.
    pub fn front_end(self) -> FrontEnd {
        match self {
            FrontEndArg::Ad8232 => FrontEnd::Ad8232,
            FrontEndArg::Recorded => FrontEnd::Recorded,
        }
    }
}
