//! One entry point for every QRS detector Sinus has, by name: what `sinus detect` and
//! `sinus eval qrs` call.
//!
//! - `streaming`: the device's streaming detector ([`sinus_core::qrs`]) at the record's rate.
//! - `streaming-250`: the same detector on the record resampled to 250 Hz (the device's rate),
//!   detections mapped back to the record's sample clock.
//! - `offline`: the whole-record, two-lead detector ([`crate::offline_qrs`]).

use crate::offline_qrs::{detect_qrs_offline, OfflineQrsOptions};
use crate::resample::{map_indices, resample_with_gaps};
use sinus_core::qrs::{QrsConfig, QrsDetector};
use sinus_io::{Error, Recording, Result};

/// The device's sampling rate, at which `streaming-250` runs.
pub const DEVICE_FS: f64 = 250.0;

/// Longest gap (s) bridged by interpolation before resampling; longer gaps stay missing (NaN),
/// which the streaming detector treats as leads-off.
const MAX_BRIDGED_GAP_S: f64 = 0.5;

/// The QRS detectors available by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrsDetectorKind {
    /// Streaming detector at the record's own sampling rate, one lead.
    Streaming,
    /// Streaming detector on the lead resampled to 250 Hz.
    Streaming250,
    /// Offline two-lead detector.
    Offline,
}

impl QrsDetectorKind {
    /// All detectors, best first.
    pub const ALL: [QrsDetectorKind; 3] = [
        QrsDetectorKind::Offline,
        QrsDetectorKind::Streaming,
        QrsDetectorKind::Streaming250,
    ];

    /// The detector's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            QrsDetectorKind::Streaming => "streaming",
            QrsDetectorKind::Streaming250 => "streaming-250",
            QrsDetectorKind::Offline => "offline",
        }
    }

    /// The detector called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Detect QRS complexes in `rec`; `channel` is the lead used by the streaming detectors (the
/// offline detector fuses the first two leads). Returns R-peak sample indices in the record's
/// frame clock, sorted.
pub fn detect_qrs(rec: &Recording, channel: usize, kind: QrsDetectorKind) -> Result<Vec<i64>> {
    match kind {
        QrsDetectorKind::Offline => detect_qrs_offline(rec, &OfflineQrsOptions::default()),
        QrsDetectorKind::Streaming | QrsDetectorKind::Streaming250 => {
            let signal = rec.signals.get(channel).ok_or_else(|| {
                Error::invalid(format!(
                    "channel {channel} does not exist: the record has {} signals",
                    rec.signals.len()
                ))
            })?;
            if signal.samples_per_frame != 1 {
                return Err(Error::unsupported(format!(
                    "signal {channel} has {} samples per frame; the streaming detector needs one",
                    signal.samples_per_frame
                )));
            }
            let fs = rec.frame_frequency;
            let physical = signal.physical_samples();
            if kind == QrsDetectorKind::Streaming {
                streaming(&physical, fs)
            } else {
                let resampled = resample_with_gaps(&physical, fs, DEVICE_FS, MAX_BRIDGED_GAP_S)?;
                let beats = streaming(&resampled, DEVICE_FS)?;
                let mut mapped = map_indices(&beats, DEVICE_FS, fs);
                let last = physical.len() as i64 - 1;
                mapped.retain(|&i| (0..=last).contains(&i));
                Ok(mapped)
            }
        }
    }
}

/// Run the streaming detector over `x` (NaN = missing) sampled at `fs`.
pub fn streaming(x: &[f64], fs: f64) -> Result<Vec<i64>> {
    let mut detector = QrsDetector::new(QrsConfig::new(fs as f32))
        .map_err(|e| Error::invalid(format!("streaming detector at {fs} Hz: {e:?}")))?;
    let mut beats = Vec::with_capacity(x.len() / (fs as usize).max(1) * 3);
    for &v in x {
        if let Some(d) = detector.push(v as f32) {
            beats.push(d.sample as i64);
        }
    }
    while let Some(d) = detector.flush() {
        beats.push(d.sample as i64);
    }
    beats.sort_unstable();
    beats.dedup();
    Ok(beats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sinus_io::demo::{synthetic_ecg, DemoParams};

    #[test]
    fn every_detector_finds_the_demo_beats() {
        let (rec, beats) = synthetic_ecg(&DemoParams {
            seconds: 60.0,
            ..DemoParams::default()
        });
        for kind in QrsDetectorKind::ALL {
            let found = detect_qrs(&rec, 0, kind).unwrap();
            let tol = (0.05 * rec.frame_frequency) as i64;
            let matched = beats
                .iter()
                .filter(|b| found.iter().any(|&f| (f - b.sample).abs() <= tol))
                .count();
            assert!(
                matched + 1 >= beats.len(),
                "{}: {matched}/{}",
                kind.name(),
                beats.len()
            );
            assert!(
                found.len() <= beats.len() + 1,
                "{}: {} found",
                kind.name(),
                found.len()
            );
        }
    }

    #[test]
    fn names_round_trip_and_bad_channel_is_an_error() {
        for kind in QrsDetectorKind::ALL {
            assert_eq!(QrsDetectorKind::from_name(kind.name()), Some(kind));
        }
        let (rec, _) = synthetic_ecg(&DemoParams {
            seconds: 5.0,
            ..DemoParams::default()
        });
        assert!(detect_qrs(&rec, 7, QrsDetectorKind::Streaming).is_err());
    }
}
