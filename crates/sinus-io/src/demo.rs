//! A built-in demonstration recording: a synthetic two-lead ECG with known beats.
//!
//! Used as the embedded default of the `sinus` CLI (so a fresh machine can run the main job with no
//! data) and by tests that need a record with exact ground truth. Each beat is a sum of Gaussian
//! waves (P, Q, R, S, T) in the manner of McSharry et al. 2003 (ECGSYN), laid in time rather than
//! phase; premature ventricular beats are wide with no P wave and a compensatory pause, premature
//! atrial beats come early with an abnormal P wave. Baseline wander, mains hum and white noise are
//! added. Everything is deterministic for a given seed.

use crate::recording::{Recording, Signal};

/// Kind of a synthetic beat, with the WFDB annotation symbol it is labelled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoBeatKind {
    /// Normal sinus beat ("N").
    Normal,
    /// Premature atrial contraction ("A").
    AtrialPremature,
    /// Premature ventricular contraction ("V").
    VentricularPremature,
}

impl DemoBeatKind {
    /// The WFDB annotation mnemonic for this beat kind.
    pub fn symbol(self) -> &'static str {
        match self {
            DemoBeatKind::Normal => "N",
            DemoBeatKind::AtrialPremature => "A",
            DemoBeatKind::VentricularPremature => "V",
        }
    }
}

/// One labelled beat of the demo record: the R-peak sample and its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoBeat {
    /// Sample index of the R peak (of the dominant QRS deflection for ventricular beats).
    pub sample: i64,
    /// Beat kind.
    pub kind: DemoBeatKind,
}

/// Parameters of the synthetic recording.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoParams {
    /// Sampling frequency in Hz.
    pub fs: f64,
    /// Duration in seconds.
    pub seconds: f64,
    /// Mean heart rate in beats per minute.
    pub heart_rate_bpm: f64,
    /// Probability that a beat is a premature ventricular contraction.
    pub pvc_rate: f64,
    /// Probability that a beat is a premature atrial contraction.
    pub pac_rate: f64,
    /// Standard deviation of white noise in mV.
    pub noise_mv: f64,
    /// Seed of the pseudo-random generator.
    pub seed: u64,
}

impl Default for DemoParams {
    fn default() -> Self {
        DemoParams {
            fs: 360.0,
            seconds: 300.0,
            heart_rate_bpm: 72.0,
            pvc_rate: 0.04,
            pac_rate: 0.03,
            noise_mv: 0.015,
            seed: 0x5157_5553,
        }
    }
}

/// Small deterministic PRNG (SplitMix64) so the demo needs no dependency and never changes.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// One Gaussian wave of a beat: centre offset from the R peak (s), width (s), amplitude per lead (mV).
struct Wave {
    offset: f64,
    width: f64,
    amplitude: [f64; 2],
}

fn beat_waves(kind: DemoBeatKind) -> &'static [Wave] {
    const NORMAL: [Wave; 5] = [
        Wave {
            offset: -0.20,
            width: 0.025,
            amplitude: [0.15, 0.10],
        },
        Wave {
            offset: -0.025,
            width: 0.008,
            amplitude: [-0.12, -0.05],
        },
        Wave {
            offset: 0.0,
            width: 0.010,
            amplitude: [1.20, 0.60],
        },
        Wave {
            offset: 0.025,
            width: 0.010,
            amplitude: [-0.25, -0.30],
        },
        Wave {
            offset: 0.28,
            width: 0.045,
            amplitude: [0.30, 0.20],
        },
    ];
    const ATRIAL: [Wave; 5] = [
        Wave {
            offset: -0.16,
            width: 0.020,
            amplitude: [-0.08, 0.06],
        },
        Wave {
            offset: -0.025,
            width: 0.008,
            amplitude: [-0.12, -0.05],
        },
        Wave {
            offset: 0.0,
            width: 0.010,
            amplitude: [1.15, 0.55],
        },
        Wave {
            offset: 0.025,
            width: 0.010,
            amplitude: [-0.25, -0.30],
        },
        Wave {
            offset: 0.26,
            width: 0.045,
            amplitude: [0.28, 0.18],
        },
    ];
    const VENTRICULAR: [Wave; 3] = [
        Wave {
            offset: 0.0,
            width: 0.030,
            amplitude: [1.60, -0.90],
        },
        Wave {
            offset: 0.06,
            width: 0.035,
            amplitude: [-0.60, 0.50],
        },
        Wave {
            offset: 0.30,
            width: 0.060,
            amplitude: [-0.45, 0.35],
        },
    ];
    match kind {
        DemoBeatKind::Normal => &NORMAL,
        DemoBeatKind::AtrialPremature => &ATRIAL,
        DemoBeatKind::VentricularPremature => &VENTRICULAR,
    }
}

/// Generate the demo recording and its beat labels.
///
/// Signals are stored like MIT-BIH: 11-bit ADC, gain 200 ADC units/mV, baseline and ADC zero 1024,
/// leads named "MLII" and "V5". Beats are placed only where their whole waveform fits in the record.
pub fn synthetic_ecg(params: &DemoParams) -> (Recording, Vec<DemoBeat>) {
    let fs = params.fs.clamp(50.0, 10_000.0);
    let n = (params.seconds.clamp(1.0, 86_400.0) * fs).round() as usize;
    let mut rng = SplitMix64(params.seed);
    let mean_rr = 60.0 / params.heart_rate_bpm.clamp(20.0, 250.0);

    // Beat times: a sinus rhythm with respiratory sinus arrhythmia. Each beat's kind is drawn
    // first; an ectopic beat arrives early (65 % of the sinus interval), a PVC is followed by a full
    // compensatory pause (the two intervals sum to two sinus intervals), a PAC resets the sinus node
    // (a slightly longer, non-compensatory pause). Two ectopic beats never follow each other.
    let mut labelled: Vec<DemoBeat> = Vec::new();
    let mut t = 0.6;
    let mut previous = DemoBeatKind::Normal;
    let mut previous_shortfall = 0.0;
    while t < params.seconds - 0.6 {
        let rsa = 0.05 * (2.0 * std::f64::consts::PI * 0.25 * t).sin();
        let sinus_rr = mean_rr * (1.0 + rsa + 0.02 * rng.normal());
        let u = rng.uniform();
        let kind = if previous != DemoBeatKind::Normal {
            DemoBeatKind::Normal
        } else if u < params.pvc_rate {
            DemoBeatKind::VentricularPremature
        } else if u < params.pvc_rate + params.pac_rate {
            DemoBeatKind::AtrialPremature
        } else {
            DemoBeatKind::Normal
        };
        let rr = match (previous, kind) {
            (_, DemoBeatKind::VentricularPremature | DemoBeatKind::AtrialPremature) => {
                sinus_rr * 0.65
            }
            (DemoBeatKind::VentricularPremature, _) => sinus_rr + previous_shortfall,
            (DemoBeatKind::AtrialPremature, _) => sinus_rr * 1.05,
            _ => sinus_rr,
        };
        previous_shortfall = sinus_rr - rr;
        t += if labelled.is_empty() { 0.0 } else { rr };
        if t >= params.seconds - 0.6 {
            break;
        }
        labelled.push(DemoBeat {
            sample: (t * fs).round() as i64,
            kind,
        });
        previous = kind;
    }

    let mut mv = [vec![0.0f64; n], vec![0.0f64; n]];
    for b in &labelled {
        for w in beat_waves(b.kind) {
            let centre = b.sample as f64 + w.offset * fs;
            let sigma = w.width * fs;
            let lo = (centre - 5.0 * sigma).floor().max(0.0) as usize;
            let hi = ((centre + 5.0 * sigma).ceil() as usize).min(n);
            let [lead0, lead1] = &mut mv;
            for (i, (a, b)) in (lo..hi).zip(lead0[lo..hi].iter_mut().zip(&mut lead1[lo..hi])) {
                let x = (i as f64 - centre) / sigma;
                let g = (-0.5 * x * x).exp();
                *a += w.amplitude[0] * g;
                *b += w.amplitude[1] * g;
            }
        }
    }
    let phase = rng.uniform() * std::f64::consts::TAU;
    for (lead, samples) in mv.iter_mut().enumerate() {
        for (i, v) in samples.iter_mut().enumerate() {
            let ts = i as f64 / fs;
            let wander = 0.08 * (2.0 * std::f64::consts::PI * 0.3 * ts + phase + lead as f64).sin();
            let hum = 0.01 * (2.0 * std::f64::consts::PI * 60.0 * ts).sin();
            *v += wander + hum + params.noise_mv * rng.normal();
        }
    }

    let signals = ["MLII", "V5"]
        .iter()
        .zip(mv.iter())
        .map(|(name, samples)| Signal {
            description: (*name).to_string(),
            units: "mV".to_string(),
            gain: 200.0,
            baseline: 1024,
            adc_resolution: 11,
            adc_zero: 1024,
            samples_per_frame: 1,
            samples: samples
                .iter()
                .map(|v| ((v * 200.0).round() as i32 + 1024).clamp(0, 2047))
                .collect(),
        })
        .collect();
    let recording = Recording {
        name: "demo".to_string(),
        frame_frequency: fs,
        frames: n as u64,
        base_datetime: None,
        signals,
        info: vec![
            "Sinus built-in demo: synthetic ECG, not a patient recording".to_string(),
            format!(
                "fs={fs} Hz, {} s, HR {} bpm, PVC rate {}, PAC rate {}, seed {}",
                params.seconds,
                params.heart_rate_bpm,
                params.pvc_rate,
                params.pac_rate,
                params.seed
            ),
        ],
    };
    (recording, labelled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_is_deterministic_and_plausible() {
        let p = DemoParams::default();
        let (a, beats) = synthetic_ecg(&p);
        let (b, beats2) = synthetic_ecg(&p);
        assert_eq!(a, b);
        assert_eq!(beats, beats2);
        assert_eq!(a.frames, 108_000);
        assert_eq!(a.signals.len(), 2);
        // 72 bpm for 5 minutes, give or take the ectopic rhythm.
        assert!((330..=390).contains(&beats.len()), "{} beats", beats.len());
        let pvcs = beats
            .iter()
            .filter(|b| b.kind == DemoBeatKind::VentricularPremature)
            .count();
        let pacs = beats
            .iter()
            .filter(|b| b.kind == DemoBeatKind::AtrialPremature)
            .count();
        assert!(pvcs > 3 && pacs > 3, "{pvcs} PVCs, {pacs} PACs");
        // Ectopic beats are premature: shorter RR before than after.
        for w in beats.windows(3) {
            if w[1].kind != DemoBeatKind::Normal {
                assert!(w[1].sample - w[0].sample < w[2].sample - w[1].sample);
            }
        }
        // The R peak is the largest deflection in lead MLII near each normal beat.
        let s = &a.signals[0].samples;
        for b in beats.iter().filter(|b| b.kind == DemoBeatKind::Normal) {
            let i = b.sample as usize;
            let local = &s[i - 20..i + 20];
            let max = *local.iter().max().unwrap();
            assert!((s[i] - max).abs() <= 12, "beat at {i}");
        }
    }

    #[test]
    fn demo_respects_other_rates() {
        let p = DemoParams {
            fs: 250.0,
            seconds: 10.0,
            ..DemoParams::default()
        };
        let (rec, beats) = synthetic_ecg(&p);
        assert_eq!(rec.frames, 2500);
        assert!(beats.iter().all(|b| (0..2500).contains(&b.sample)));
    }
}
