//! Heart-rate variability of an analysis's beats (`sinus_signal::hrv`, Task Force 1996), kept in
//! the JSON as that module's structure, and its spectrum for the report.
//!
//! Beats in noise or leads-off are not excluded here by position: the QRS detector finds few
//! beats there, and an NN interval must join two beats both classified normal, 0.3–2 s apart
//! (see `sinus_signal::hrv`), which already drops the intervals that bridge a gap.

use crate::model::BeatOut;
use sinus_signal::hrv::{hrv_from_samples, HrvOptions};

/// A power spectrum: frequencies (Hz) and power density (ms²/Hz).
pub type Spectrum = (Vec<f64>, Vec<f64>);

/// HRV as JSON (None with a note in `limitations` when there are too few normal beats) and the
/// spectrum (frequencies, ms²/Hz) when the frequency domain could be computed.
///
/// Beats inside atrial fibrillation (`af`: episode bounds in samples, sorted) are left out like
/// ectopic beats: HRV measures the autonomic modulation of the sinus node, and during AF the
/// intervals come from chaotic atrioventricular conduction instead (Task Force 1996).
pub fn hrv_of(
    beats: &[BeatOut],
    fs: f64,
    af: &[(u64, u64)],
    limitations: &mut Vec<String>,
) -> (Option<serde_json::Value>, Option<Spectrum>) {
    let samples: Vec<i64> = beats.iter().map(|b| b.sample as i64).collect();
    let in_af = |s: u64| {
        let i = af.partition_point(|e| e.1 < s);
        af.get(i).is_some_and(|e| e.0 <= s)
    };
    let mut af_beats = 0usize;
    let classes: Vec<char> = beats
        .iter()
        .map(|b| {
            if in_af(b.sample) {
                af_beats += 1;
                'Q'
            } else {
                b.class
            }
        })
        .collect();
    if af_beats > 0 {
        limitations.push(format!(
            "HRV leaves out the {af_beats} beat(s) in atrial fibrillation (not sinus rhythm)"
        ));
    }
    let hrv = hrv_from_samples(&samples, fs, &classes, &HrvOptions::default());
    if hrv.counts.nn < 2 {
        limitations.push(format!(
            "HRV not computed: {} normal-to-normal interval(s) (needs at least 2)",
            hrv.counts.nn
        ));
        return (None, None);
    }
    if hrv.frequency.is_none() {
        limitations.push(
            "HRV frequency domain not computed: the normal-to-normal series is too short".into(),
        );
    }
    let spectrum = hrv.frequency.as_ref().map(|f| {
        (
            f.spectrum.frequency_hz.clone(),
            f.spectrum.psd_ms2_per_hz.clone(),
        )
    });
    let mut value = serde_json::to_value(&hrv).ok();
    // The spectrum goes to the HTML report, not into every JSON file (thousands of numbers).
    if let Some(f) = value
        .as_mut()
        .and_then(|v| v.get_mut("frequency"))
        .and_then(|f| f.as_object_mut())
    {
        f.remove("spectrum");
    }
    (value, spectrum)
}
