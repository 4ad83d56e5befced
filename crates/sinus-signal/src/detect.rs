//! One entry point for every QRS detector Sinus has, by name: what `sinus detect` and
//! `sinus eval qrs` call.
//!
//! - `streaming`: the device's streaming detector ([`sinus_core::qrs`]) at the record's rate.
//! - `streaming-250`: the same detector on the record resampled to 250 Hz (the device's rate),
//!   detections mapped back to the record's sample clock.
//! - `offline`: the whole-record, two-lead detector ([`crate::offline_qrs`]).

use crate::offline_qrs::{detect_qrs_slices, offline_leads, OfflineQrsOptions};
use crate::resample::{map_index, resample_with_gaps, same_rate};
use sinus_core::qrs::{QrsConfig, QrsDetector};
use sinus_io::{Error, Recording, Result};
use std::ops::Range;

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
    DetectorInput::new(rec, channel, kind, None)?.detect_all()
}

/// A record's leads as one detector reads them, at the rate the detector runs at.
///
/// Built once per record — any resampling is done here, on the whole record, as a device that
/// resamples its input stream would — then detected in whole ([`DetectorInput::detect_all`]) or
/// in independent pieces ([`DetectorInput::detect`]), the detections mapped back to the
/// record's frame clock. [`detect_qrs`] is `new(rec, channel, kind, None)` then `detect_all`.
#[derive(Debug, Clone)]
pub struct DetectorInput {
    /// `Streaming` or `Offline`: `Streaming250` is `Streaming` at [`DEVICE_FS`].
    kind: QrsDetectorKind,
    /// The leads read, physical units, NaN = missing, at `fs`.
    leads: Vec<Vec<f64>>,
    /// Rate of `leads`, Hz.
    fs: f64,
    /// Rate of the leads in the record (frame rate × samples per frame), Hz.
    lead_fs: f64,
    /// Samples per frame of the leads in the record.
    spf: i64,
    /// Frames of the record covered by the leads.
    frames: i64,
}

impl DetectorInput {
    /// The leads `kind` reads from `rec` (`channel` for the streaming detectors, the first two
    /// for the offline one), resampled to `fs` Hz when it is given and differs from their rate
    /// (gaps up to 0.5 s are bridged, longer ones stay missing). `fs: None` is the detector's
    /// own rate: the record's, or [`DEVICE_FS`] for `streaming-250`. On a record already at the
    /// wanted rate nothing is resampled.
    ///
    /// Errors on a missing channel, a streaming lead with several samples per frame, a rate
    /// that is not a positive number (or not a usable ratio to the record's), and
    /// `streaming-250` asked to run at another rate than 250 Hz.
    pub fn new(
        rec: &Recording,
        channel: usize,
        kind: QrsDetectorKind,
        fs: Option<f64>,
    ) -> Result<Self> {
        let (kind, fs) = match (kind, fs) {
            (QrsDetectorKind::Streaming250, Some(f)) if !same_rate(f, DEVICE_FS) => {
                return Err(Error::invalid(format!(
                    "streaming-250 runs at {DEVICE_FS} Hz, not {f} Hz (run the streaming \
                     detector at {f} Hz instead)"
                )))
            }
            (QrsDetectorKind::Streaming250, _) => (QrsDetectorKind::Streaming, Some(DEVICE_FS)),
            other => other,
        };
        let (leads, spf) = match kind {
            QrsDetectorKind::Offline => offline_leads(rec, &OfflineQrsOptions::default())?,
            _ => {
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
                (vec![signal.physical_samples()], 1)
            }
        };
        let spf = i64::from(spf.max(1));
        let lead_fs = rec.frame_frequency * spf as f64;
        if !(lead_fs.is_finite() && lead_fs > 0.0) {
            return Err(Error::invalid(format!(
                "sampling frequency {lead_fs} Hz is not a positive number"
            )));
        }
        let n = leads.iter().map(Vec::len).min().unwrap_or(0);
        let frames = i64::try_from(n).unwrap_or(i64::MAX) / spf;
        let (leads, fs) = match fs {
            Some(f) if !same_rate(f, lead_fs) => (
                leads
                    .iter()
                    .map(|x| resample_with_gaps(&x[..n], lead_fs, f, MAX_BRIDGED_GAP_S))
                    .collect::<Result<Vec<_>>>()?,
                f,
            ),
            _ => (leads, lead_fs),
        };
        Ok(DetectorInput {
            kind,
            leads,
            fs,
            lead_fs,
            spf,
            frames,
        })
    }

    /// Samples per lead at the detector's rate.
    pub fn len(&self) -> usize {
        self.leads.iter().map(Vec::len).min().unwrap_or(0)
    }

    /// Whether there is no sample at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rate the detector runs at, Hz.
    pub fn fs(&self) -> f64 {
        self.fs
    }

    /// Whether the leads were resampled (the detector runs at another rate than the record's).
    pub fn resampled(&self) -> bool {
        !same_rate(self.fs, self.lead_fs)
    }

    /// Sample `i` at the detector's rate as a frame of the record: the nearest sample of the
    /// lead's own rate ([`map_index`]), then its frame. Not clamped to the record.
    pub fn to_frame(&self, i: i64) -> i64 {
        let s = if self.resampled() {
            map_index(i, self.fs, self.lead_fs)
        } else {
            i
        };
        s.div_euclid(self.spf)
    }

    /// Run the whole record through the detector.
    pub fn detect_all(&self) -> Result<Vec<i64>> {
        self.detect(0..self.len())
    }

    /// Run a fresh detector on the samples `range` (at the detector's rate) alone, as if the
    /// recording were that piece and nothing else. Returns the R peaks as frames of the record
    /// (inside it), increasing. Errors when `range` is not inside the leads.
    pub fn detect(&self, range: Range<usize>) -> Result<Vec<i64>> {
        if range.start > range.end || range.end > self.len() {
            return Err(Error::invalid(format!(
                "samples {}..{} are not inside the {} samples of the leads",
                range.start,
                range.end,
                self.len()
            )));
        }
        let found: Vec<i64> = match self.kind {
            QrsDetectorKind::Offline => {
                let pieces: Vec<&[f64]> = self.leads.iter().map(|x| &x[range.clone()]).collect();
                detect_qrs_slices(&pieces, self.fs, &OfflineQrsOptions::default())?
                    .into_iter()
                    .map(|b| b as i64)
                    .collect()
            }
            _ => streaming(&self.leads[0][range.clone()], self.fs)?,
        };
        let offset = range.start as i64;
        let mut frames: Vec<i64> = found
            .into_iter()
            .map(|b| self.to_frame(offset + b))
            .filter(|f| (0..self.frames).contains(f))
            .collect();
        // Mapping to a lower rate can bring two detections onto one frame.
        frames.dedup();
        Ok(frames)
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
    fn streaming_250_is_streaming_at_250_hz_and_pieces_are_independent() {
        let (rec, _) = synthetic_ecg(&DemoParams {
            seconds: 40.0,
            ..DemoParams::default()
        });
        let s250 = detect_qrs(&rec, 0, QrsDetectorKind::Streaming250).unwrap();
        let input =
            DetectorInput::new(&rec, 0, QrsDetectorKind::Streaming, Some(DEVICE_FS)).unwrap();
        assert!(input.resampled());
        assert_eq!(input.len(), 10_000);
        assert_eq!(input.detect_all().unwrap(), s250);
        // A piece is detected alone: its beats lie inside it, in the record's frame clock.
        let piece = input.detect(2500..5000).unwrap();
        assert!(!piece.is_empty());
        assert!(
            piece.iter().all(|&f| (3600..7200).contains(&f)),
            "{piece:?}"
        );
        assert_eq!(input.to_frame(2500), 3600);
        assert!(input.detect(5000..10_001).is_err());
        // At the record's own rate nothing is resampled.
        let native = DetectorInput::new(&rec, 0, QrsDetectorKind::Offline, Some(360.0)).unwrap();
        assert!(!native.resampled());
        assert_eq!(
            native.detect_all().unwrap(),
            detect_qrs(&rec, 0, QrsDetectorKind::Offline).unwrap()
        );
        // streaming-250 has its own rate; bad rates are errors.
        assert!(DetectorInput::new(&rec, 0, QrsDetectorKind::Streaming250, Some(128.0)).is_err());
        for fs in [0.0, -250.0, f64::NAN] {
            assert!(DetectorInput::new(&rec, 0, QrsDetectorKind::Offline, Some(fs)).is_err());
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
