//! Driving the device's rhythm state machine ([`sinus_core::rhythm`]) over a whole recording's
//! beats — the same code the device runs, fed in time order — and over an annotator's beats
//! alone, without any signal (how AF detectors are benchmarked, and the only way to use
//! databases shipped without signals).

use crate::quality::{Quality, QualitySegment};
use sinus_core::rhythm::{
    Beat, BeatClass, EctopyCounts, Episode, RhythmAnalyzer, RhythmConfig, RhythmEvent,
    SignalQuality,
};
use sinus_io::wfdb::annotation::Annotation;
use sinus_io::{Error, Result};

/// What the rhythm analysis found.
#[derive(Debug, Clone, Default)]
pub struct RhythmResult {
    /// Closed episodes, sorted by start.
    pub episodes: Vec<Episode>,
    /// Ectopic pattern counts.
    pub counts: EctopyCounts,
}

/// Run the rhythm state machine over `beats` (sorted by sample; unsorted or duplicate beats are
/// dropped by the state machine), with the bad-signal stretches `quality`, for a recording of
/// `frames` samples at `fs` Hz.
pub fn analyze_rhythm(
    beats: &[Beat],
    quality: &[QualitySegment],
    fs: f64,
    frames: u64,
) -> Result<RhythmResult> {
    let mut analyzer = RhythmAnalyzer::new(RhythmConfig::new(fs as f32))
        .map_err(|e| Error::invalid(format!("rhythm analysis at {fs} Hz: {e:?}")))?;
    let mut episodes = Vec::new();
    let mut emit = |ev: RhythmEvent| {
        if let RhythmEvent::Episode(e) = ev {
            episodes.push(e);
        }
    };
    let mut q = quality.iter().peekable();
    for &b in beats {
        while let Some(seg) = q.next_if(|s| s.start <= b.sample) {
            analyzer.push_quality(seg.start, seg.end, signal_quality(seg.quality), &mut emit);
        }
        analyzer.push_beat(b, &mut emit);
    }
    for seg in q {
        analyzer.push_quality(seg.start, seg.end, signal_quality(seg.quality), &mut emit);
    }
    let end = frames.max(beats.last().map(|b| b.sample + 1).unwrap_or(0));
    analyzer.finish(end, &mut emit);
    let counts = analyzer.counts();
    episodes.sort_by_key(|e| (e.start, e.end));
    Ok(RhythmResult { episodes, counts })
}

fn signal_quality(q: Quality) -> SignalQuality {
    match q {
        Quality::Good => SignalQuality::Good,
        Quality::Noisy => SignalQuality::Noisy,
        Quality::LeadsOff => SignalQuality::LeadsOff,
    }
}

/// The AAMI class of a WFDB beat symbol as the rhythm analysis sees it.
pub fn beat_class_of_symbol(symbol: &str) -> BeatClass {
    let mut chars = symbol.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => BeatClass::from_symbol(c),
        _ => BeatClass::Unknown,
    }
}

/// Beats from an annotator's annotations. `labelled`: whether the annotator's labels mean
/// anything (a reference annotator) or every beat is a bare detection (e.g. `qrs` files, whose
/// beats are all "N" by convention): then every beat is unlabelled and nothing counts as
/// ectopic.
pub fn beats_from_annotations(annotations: &[Annotation], labelled: bool) -> Vec<Beat> {
    annotations
        .iter()
        .filter(|a| a.is_beat() && a.sample >= 0)
        .map(|a| Beat {
            sample: a.sample as u64,
            class: if labelled {
                beat_class_of_symbol(a.symbol())
            } else {
                BeatClass::Unknown
            },
            probability: 1.0,
            labelled,
        })
        .collect()
}

/// Signal-quality stretches an annotator marked: WFDB `~` (NOISE) annotations with subtype
/// -1 mark an unreadable stretch in every lead until the next `~`, as MIT-BIH does
/// (subtype bits: lead k noisy; -1: all unreadable). Only the unreadable ones are returned: a
/// noisy but readable lead still has beats the annotator labelled.
pub fn quality_from_annotations(annotations: &[Annotation], frames: u64) -> Vec<QualitySegment> {
    use sinus_io::wfdb::annotation::codes;
    let mut out = Vec::new();
    let mut open: Option<u64> = None;
    for a in annotations.iter().filter(|a| a.code == codes::NOISE) {
        let s = a.sample.max(0) as u64;
        match (open, a.subtype) {
            (None, -1) => open = Some(s),
            (Some(start), st) if st != -1 => {
                out.push(QualitySegment {
                    start,
                    end: s,
                    quality: Quality::Noisy,
                });
                open = None;
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        out.push(QualitySegment {
            start,
            end: frames.max(start),
            quality: Quality::Noisy,
        });
    }
    out
}
