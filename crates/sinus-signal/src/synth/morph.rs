//! Wave shapes and their pre-rendered templates.
//!
//! Each wave is a Gaussian with its own width on each side of its centre (asymmetric T waves),
//! with one amplitude per lead `[MLII, V1, V5]`: the leads are projections of the same beat.
//! Amplitudes are typical adult values (mV); the wide shapes follow the usual PVC patterns
//! (left-ventricular origin: RBBB-like, tall in V1; right-ventricular origin: LBBB-like, deep in
//! V1), with T waves discordant to the QRS.

use super::rhythm::{PWave, Shape};
use std::collections::HashMap;

/// One wave: amplitude per lead (mV), centre relative to the anchor (s), widths (Gaussian σ, s)
/// before and after the centre.
#[derive(Debug, Clone, Copy)]
struct Wave {
    a: [f64; 3],
    c: f64,
    left: f64,
    right: f64,
}

const fn w(a: [f64; 3], c: f64, s: f64) -> Wave {
    Wave {
        a,
        c,
        left: s,
        right: s,
    }
}

/// Sinus P wave, anchored at its centre; biphasic in V1 (right then left atrium).
const P_SINUS: [Wave; 2] = [
    w([0.15, 0.07, 0.10], 0.0, 0.022),
    w([0.0, -0.05, 0.0], 0.03, 0.015),
];
/// Ectopic (low atrial) P wave: inverted in the inferior lead.
const P_ECTOPIC: [Wave; 1] = [w([-0.12, 0.09, -0.07], 0.0, 0.018)];
/// Narrow QRS anchored at the R peak: qRs in MLII and V5, rS in V1. About 80 ms.
const QRS_NARROW: [Wave; 4] = [
    w([-0.10, 0.0, -0.12], -0.022, 0.007),
    w([1.10, 0.25, 1.40], 0.0, 0.009),
    w([-0.22, 0.0, -0.30], 0.024, 0.008),
    w([0.0, -0.85, 0.0], 0.02, 0.011),
];
/// Wide QRS of left-ventricular origin (about 150 ms), anchored at the dominant deflection.
const QRS_WIDE1: [Wave; 3] = [
    w([0.25, 0.35, -0.25], -0.045, 0.022),
    w([1.30, 1.15, -1.10], 0.0, 0.028),
    w([-0.45, 0.25, -0.35], 0.055, 0.025),
];
/// Wide QRS of right-ventricular origin (about 150 ms), negative in MLII and V1.
const QRS_WIDE2: [Wave; 3] = [
    w([0.15, -0.20, 0.30], -0.04, 0.02),
    w([-1.20, -1.30, 1.45], 0.0, 0.03),
    w([0.30, -0.30, 0.25], 0.05, 0.025),
];

/// The T wave after a beat of `shape` whose preceding RR interval is `rr` (s): delay and width
/// scale with the cube root of RR (QT shortens at fast rates, as Fridericia's correction).
fn t_wave(shape: Shape, rr: f64) -> Wave {
    let k = rr.clamp(0.25, 2.0).cbrt();
    match shape {
        Shape::Narrow => Wave {
            a: [0.30, 0.10, 0.40],
            c: 0.27 * k,
            left: 0.045 * k,
            right: 0.032 * k,
        },
        Shape::Wide1 => Wave {
            a: [-0.45, -0.35, 0.45],
            c: 0.33 * k,
            left: 0.06 * k,
            right: 0.045 * k,
        },
        Shape::Wide2 => Wave {
            a: [0.40, 0.45, -0.40],
            c: 0.33 * k,
            left: 0.06 * k,
            right: 0.045 * k,
        },
    }
}

/// Width of a T-wave RR bin, s.
const RR_BIN_S: f64 = 0.01;

/// A wave group rendered for one lead at one sampling rate.
#[derive(Debug, Clone, Default)]
pub(super) struct Template {
    /// Sample offset of `data[0]` relative to the anchor.
    pub start: i64,
    /// Samples, mV.
    pub data: Vec<f32>,
}

impl Template {
    fn render(waves: &[Wave], lead: usize, fs: f64) -> Template {
        let lo = waves
            .iter()
            .map(|w| w.c - 4.5 * w.left)
            .fold(f64::INFINITY, f64::min);
        let hi = waves
            .iter()
            .map(|w| w.c + 4.5 * w.right)
            .fold(f64::NEG_INFINITY, f64::max);
        let start = (lo * fs).floor() as i64;
        let end = (hi * fs).ceil() as i64;
        let data = (start..=end)
            .map(|i| {
                let t = i as f64 / fs;
                waves
                    .iter()
                    .map(|w| {
                        let s = if t < w.c { w.left } else { w.right };
                        let d = (t - w.c) / s;
                        w.a[lead] * (-0.5 * d * d).exp()
                    })
                    .sum::<f64>() as f32
            })
            .collect();
        Template { start, data }
    }

    /// Add `scale ×` this template to `x` with its anchor at sample `at` (clipped to `x`).
    pub fn add_to(&self, x: &mut [f32], at: i64, scale: f32) {
        let first = at + self.start;
        let lo = first.max(0);
        let hi = (first + self.data.len() as i64).min(x.len() as i64);
        if lo >= hi {
            return;
        }
        let src = &self.data[(lo - first) as usize..(hi - first) as usize];
        for (v, &t) in x[lo as usize..hi as usize].iter_mut().zip(src) {
            *v += scale * t;
        }
    }
}

/// Every template of one lead at one sampling rate; T waves rendered per RR bin on demand.
pub(super) struct Templates {
    fs: f64,
    lead: usize,
    p: [Template; 2],
    qrs: [Template; 3],
    t: HashMap<(usize, u32), Template>,
}

fn shape_index(shape: Shape) -> usize {
    match shape {
        Shape::Narrow => 0,
        Shape::Wide1 => 1,
        Shape::Wide2 => 2,
    }
}

impl Templates {
    /// The templates of lead `lead` (0 = MLII, 1 = V1, 2 = V5) at `fs` Hz.
    pub fn new(fs: f64, lead: usize) -> Self {
        Templates {
            fs,
            lead,
            p: [
                Template::render(&P_SINUS, lead, fs),
                Template::render(&P_ECTOPIC, lead, fs),
            ],
            qrs: [
                Template::render(&QRS_NARROW, lead, fs),
                Template::render(&QRS_WIDE1, lead, fs),
                Template::render(&QRS_WIDE2, lead, fs),
            ],
            t: HashMap::new(),
        }
    }

    /// The P wave of `kind`, anchored at its centre.
    pub fn p(&self, kind: PWave) -> &Template {
        match kind {
            PWave::Sinus => &self.p[0],
            PWave::Ectopic => &self.p[1],
        }
    }

    /// The QRS of `shape`, anchored at the R peak.
    pub fn qrs(&self, shape: Shape) -> &Template {
        &self.qrs[shape_index(shape)]
    }

    /// The T wave of `shape` after an RR interval of `rr` s, anchored at the R peak.
    pub fn t(&mut self, shape: Shape, rr: f64) -> &Template {
        let bin = (rr.clamp(0.2, 2.5) / RR_BIN_S).round() as u32;
        let (fs, lead) = (self.fs, self.lead);
        self.t
            .entry((shape_index(shape), bin))
            .or_insert_with(|| Template::render(&[t_wave(shape, bin as f64 * RR_BIN_S)], lead, fs))
    }
}

/// Amplitude of the AF fibrillatory wave per lead, relative to V1 (largest in V1).
pub(super) const F_WAVE_LEAD: [f64; 3] = [0.6, 1.0, 0.4];
/// Amplitude of the flutter sawtooth per lead, mV (negative sawtooth in the inferior lead).
pub(super) const FLUTTER_LEAD_MV: [f64; 3] = [0.20, 0.10, 0.06];
/// Relative amplitude of white noise and mains hum per lead (different electrode pairs).
pub(super) const NOISE_LEAD: [f64; 3] = [1.0, 0.8, 0.9];

/// One period of a flutter sawtooth at `fs` for period `period_s`: a band-limited (harmonics
/// below 0.4 fs, Lanczos-smoothed against ringing) ramp falling slowly from +1 to -1 then rising
/// sharply, sampled at `points` phases.
pub(super) fn flutter_table(fs: f64, period_s: f64, points: usize) -> Vec<f32> {
    let harmonics = ((0.4 * fs * period_s) as usize).clamp(1, 12);
    let norm = 2.0 / std::f64::consts::PI;
    (0..points)
        .map(|i| {
            let theta = std::f64::consts::TAU * i as f64 / points as f64;
            (1..=harmonics)
                .map(|k| {
                    let x = std::f64::consts::PI * k as f64 / (harmonics + 1) as f64;
                    let sigma = x.sin() / x;
                    sigma * (k as f64 * theta).sin() / k as f64
                })
                .sum::<f64>() as f32
                * norm as f32
        })
        .collect()
}
