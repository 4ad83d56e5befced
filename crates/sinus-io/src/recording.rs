//! The format-independent in-memory recording that every reader produces and every writer takes.
//!
//! Samples are kept as *digital* integers (ADC units) with the gain and baseline that turn them into
//! physical units, exactly as WFDB stores them; EDF's digital/physical min-max and CSV's decimal text
//! map onto the same model without loss. Missing samples (WFDB invalid-sample sentinels, null
//! segments, gaps in EDF+D) are [`MISSING`], never a number.

use serde::Serialize;

/// Digital value of a missing sample. Never produced by a decoder for a real sample: every format
/// read here stores at most 32-bit values and WFDB's own 32-bit sentinel is this same value.
pub const MISSING: i32 = i32::MIN;

/// Start date and time of a recording, as written in the header (no time zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BaseDateTime {
    /// Time of day, if given.
    pub time: Option<TimeOfDay>,
    /// Calendar date, if given.
    pub date: Option<Date>,
}

/// Time of day with sub-second precision in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeOfDay {
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
    /// 0–59 (60 tolerated for leap seconds).
    pub second: u8,
    /// 0–999_999.
    pub micros: u32,
}

/// Calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Date {
    /// Full year, e.g. 1975.
    pub year: i32,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
}

/// One signal (lead) of a recording.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    /// Description, e.g. "MLII", "V5", "ECG I".
    pub description: String,
    /// Physical units, e.g. "mV".
    pub units: String,
    /// ADC units per physical unit. WFDB's "0" (uncalibrated) is stored as 0.0; then
    /// [`Signal::physical`] uses WFDB's default of 200.
    pub gain: f64,
    /// Digital value that corresponds to 0 physical units.
    pub baseline: i32,
    /// ADC resolution in bits (0 if unknown).
    pub adc_resolution: u32,
    /// ADC value at the centre of the input range.
    pub adc_zero: i32,
    /// Samples of this signal per frame (WFDB multi-frequency records); 1 for most records.
    pub samples_per_frame: u32,
    /// Digital samples, `samples_per_frame` per frame; [`MISSING`] marks a missing sample.
    pub samples: Vec<i32>,
}

impl Signal {
    /// The gain used for conversion: WFDB treats a gain of 0 as the default of 200 ADC units/unit.
    pub fn effective_gain(&self) -> f64 {
        if self.gain == 0.0 {
            200.0
        } else {
            self.gain
        }
    }

    /// Physical value of sample `i` (NaN when missing).
    pub fn physical(&self, i: usize) -> f64 {
        self.to_physical(self.samples[i])
    }

    /// Convert one digital value to physical units (NaN for [`MISSING`]).
    pub fn to_physical(&self, d: i32) -> f64 {
        if d == MISSING {
            f64::NAN
        } else {
            (d as f64 - self.baseline as f64) / self.effective_gain()
        }
    }

    /// All samples in physical units (NaN where missing).
    pub fn physical_samples(&self) -> Vec<f64> {
        self.samples.iter().map(|&d| self.to_physical(d)).collect()
    }
}

/// A recording: a set of signals sampled on a common frame clock, whatever file it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recording {
    /// Record name (WFDB record name, or file stem for EDF/CSV).
    pub name: String,
    /// Frame frequency in Hz (for single-frequency records, the sampling frequency).
    pub frame_frequency: f64,
    /// Number of frames.
    pub frames: u64,
    /// Start date/time, when the header gives one.
    pub base_datetime: Option<BaseDateTime>,
    /// Signals; each holds `frames * samples_per_frame` samples.
    pub signals: Vec<Signal>,
    /// Free-text info lines (WFDB `#` comments, EDF patient/recording fields).
    pub info: Vec<String>,
}

impl Recording {
    /// Sampling frequency of signal `s` in Hz.
    pub fn sampling_frequency(&self, s: usize) -> f64 {
        self.frame_frequency * self.signals[s].samples_per_frame as f64
    }

    /// Duration in seconds.
    pub fn duration_seconds(&self) -> f64 {
        if self.frame_frequency > 0.0 {
            self.frames as f64 / self.frame_frequency
        } else {
            0.0
        }
    }
}
