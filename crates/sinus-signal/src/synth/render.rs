//! Samples from the timeline: beats from templates, atrial activity, noise, leads-off, and
//! digitisation. Everything is O(samples): templates are added, not evaluated, and the noise of
//! [`crate::noise`] is generated in chunks (muscle, electrode motion) or at a low rate and
//! interpolated (baseline wander, which has nothing above 1 Hz).

use super::morph::{flutter_table, Templates, FLUTTER_LEAD_MV, F_WAVE_LEAD, NOISE_LEAD};
use super::rhythm::{Atrial, Timeline};
use super::{SynthSpec, ADC_MAX, GAIN, LEAD_NAMES};
use crate::noise::{generate_noise, NoiseKind};
use crate::rng::SplitMix64;
use sinus_io::{Result, Signal};
use std::f64::consts::TAU;

/// Rate at which baseline wander is generated before interpolation, Hz (its band ends at 1 Hz;
/// the noise generator's lowest accepted rate).
const WANDER_FS: f64 = 50.0;
/// Length of one chunk of continuous muscle or electrode noise, s.
const CHUNK_S: f64 = 300.0;
/// Crossfade between chunks, s.
const CROSSFADE_S: f64 = 1.0;
/// Fade in and out of a noise burst, s.
const BURST_FADE_S: f64 = 0.2;
/// Entries of the flutter wave table.
const FLUTTER_POINTS: usize = 1024;

/// A fast approximately Gaussian deviate (Irwin–Hall sum of four 16-bit uniforms): plenty for
/// white amplifier noise and slow random modulations, and several times cheaper than
/// Box–Muller per sample.
fn quick_gauss(rng: &mut SplitMix64) -> f64 {
    let u = rng.next_u64();
    let sum = (u & 0xffff) + ((u >> 16) & 0xffff) + ((u >> 32) & 0xffff) + (u >> 48);
    // Mean 2·65535, variance 4·(65536² − 1)/12.
    (sum as f64 - 131_070.0) / 37_837.2
}

/// Render every lead of `spec` (`n` samples) from `timeline`.
pub(super) fn render(spec: &SynthSpec, n: usize, timeline: &Timeline) -> Result<Vec<Signal>> {
    (0..spec.leads)
        .map(|lead| render_lead(spec, n, timeline, lead))
        .collect()
}

fn render_lead(spec: &SynthSpec, n: usize, timeline: &Timeline, lead: usize) -> Result<Signal> {
    let fs = spec.fs;
    let mut x = vec![0f32; n];
    let mut templates = Templates::new(fs, lead);
    for beat in &timeline.beats {
        let scale = beat.scale as f32;
        if let Some((kind, at)) = beat.p {
            templates.p(kind).add_to(&mut x, at, scale);
        }
        templates.qrs(beat.shape).add_to(&mut x, beat.sample, scale);
        let t_scale = scale * beat.t_scale as f32;
        templates
            .t(beat.shape, beat.rr)
            .add_to(&mut x, beat.sample, t_scale);
    }
    for (i, a) in timeline.atrial.iter().enumerate() {
        // The same atrial source in every lead: the seed does not depend on the lead.
        let rng = SplitMix64::for_item(spec.seed ^ 0xa7e1, i as u64);
        match *a {
            Atrial::Fibrillation { start, end } => {
                let amplitude = spec.f_wave_mv * F_WAVE_LEAD[lead] * spec.amplitude;
                add_fibrillation(&mut x[start..end], fs, amplitude, rng);
            }
            Atrial::Flutter {
                start,
                end,
                period_s,
            } => {
                let amplitude = FLUTTER_LEAD_MV[lead] * spec.amplitude;
                add_flutter(&mut x[start..end], fs, period_s, amplitude);
            }
        }
    }
    add_noise(&mut x, spec, timeline, lead)?;

    let mut samples: Vec<i32> = x
        .iter()
        .map(|&v| ((f64::from(v) * GAIN).round() as i32).clamp(-ADC_MAX, ADC_MAX))
        .collect();
    drop(x);
    for q in timeline.quality.iter().filter(|q| q.off) {
        if q.leads & (1 << lead) != 0 {
            let value = if q.rail { ADC_MAX } else { 0 };
            samples[q.start..q.end].fill(value);
        }
    }
    Ok(Signal {
        description: LEAD_NAMES[lead].to_string(),
        units: "mV".to_string(),
        gain: GAIN,
        baseline: 0,
        adc_resolution: 12,
        adc_zero: 0,
        samples_per_frame: 1,
        samples,
    })
}

/// Fibrillatory waves: a wave near 4–9 Hz whose frequency and amplitude wander (slow
/// Ornstein–Uhlenbeck processes), with a weaker second harmonic.
fn add_fibrillation(x: &mut [f32], fs: f64, amplitude: f64, mut rng: SplitMix64) {
    let base = rng.range(5.0, 7.0);
    let harmonic_phase = TAU * rng.uniform();
    let mut phase = TAU * rng.uniform();
    let (mut df, mut da) = (0.0f64, 0.0f64);
    // Time constants: 0.5 s for the frequency, 1 s for the amplitude.
    let (kf, ka) = (1.0 / (0.5 * fs), 1.0 / fs);
    let (sf, sa) = ((2.0 * kf).sqrt(), (2.0 * ka).sqrt());
    for v in x.iter_mut() {
        df += -kf * df + sf * quick_gauss(&mut rng);
        da += -ka * da + sa * quick_gauss(&mut rng);
        let f = (base + 1.0 * df).clamp(4.0, 9.0);
        phase = (phase + TAU * f / fs) % TAU;
        let a = amplitude * (1.0 + 0.3 * da).clamp(0.3, 1.7);
        *v += (a * (phase.sin() + 0.25 * (2.0 * phase + harmonic_phase).sin())) as f32;
    }
}

/// Flutter waves: the sawtooth of [`flutter_table`], phase 0 at the span's start.
fn add_flutter(x: &mut [f32], fs: f64, period_s: f64, amplitude: f64) {
    let table = flutter_table(fs, period_s, FLUTTER_POINTS);
    let step = FLUTTER_POINTS as f64 / (period_s * fs);
    for (i, v) in x.iter_mut().enumerate() {
        let pos = (i as f64 * step) % FLUTTER_POINTS as f64;
        let k = pos as usize % FLUTTER_POINTS;
        let frac = (pos - pos.floor()) as f32;
        let next = table[(k + 1) % FLUTTER_POINTS];
        *v += amplitude as f32 * (table[k] + frac * (next - table[k]));
    }
}

fn add_noise(x: &mut [f32], spec: &SynthSpec, timeline: &Timeline, lead: usize) -> Result<()> {
    let fs = spec.fs;
    let noise = spec.noise;
    let seed = |salt: u64| {
        SplitMix64::for_item(spec.seed ^ salt.wrapping_mul(0x9e37_79b9), lead as u64).next_u64()
    };
    if noise.baseline_mv > 0.0 {
        add_wander(x, fs, noise.baseline_mv, seed(1))?;
    }
    if noise.muscle_mv > 0.0 {
        add_chunked(x, fs, NoiseKind::MuscleArtifact, noise.muscle_mv, seed(2))?;
    }
    if noise.electrode_mv > 0.0 {
        add_chunked(
            x,
            fs,
            NoiseKind::ElectrodeMotion,
            noise.electrode_mv,
            seed(3),
        )?;
    }
    if noise.white_mv > 0.0 {
        let mut rng = SplitMix64::new(seed(4));
        let s = noise.white_mv * NOISE_LEAD[lead];
        for v in x.iter_mut() {
            *v += (s * quick_gauss(&mut rng)) as f32;
        }
    }
    if noise.mains_mv > 0.0 && noise.mains_hz < 0.5 * fs {
        // A rotating phasor: one complex multiplication per sample instead of a sine.
        let w = TAU * noise.mains_hz / fs;
        let (sw, cw) = w.sin_cos();
        let phase = TAU * SplitMix64::new(seed(5)).uniform();
        let (mut s, mut c) = phase.sin_cos();
        let a = noise.mains_mv * NOISE_LEAD[lead];
        for (i, v) in x.iter_mut().enumerate() {
            *v += (a * s) as f32;
            (s, c) = (s * cw + c * sw, c * cw - s * sw);
            if i % 4096 == 0 {
                // Keep the phasor on the unit circle despite rounding.
                let r = (s * s + c * c).sqrt();
                (s, c) = (s / r, c / r);
            }
        }
    }
    for (k, q) in timeline.quality.iter().enumerate().filter(|(_, q)| !q.off) {
        let Some((kind, level)) = q.burst else {
            continue;
        };
        let len = q.end - q.start;
        if len < 2 {
            continue;
        }
        let burst = generate_noise(kind, len, fs, seed(100 + k as u64))?;
        let fade = ((BURST_FADE_S * fs) as usize).clamp(1, len / 2 + 1);
        for (i, (v, e)) in x[q.start..q.end].iter_mut().zip(&burst).enumerate() {
            let edge = i.min(len - 1 - i) as f64 / fade as f64;
            let w = if edge < 1.0 {
                0.5 - 0.5 * (std::f64::consts::PI * edge).cos()
            } else {
                1.0
            };
            *v += (level * w * e) as f32;
        }
    }
    Ok(())
}

/// Baseline wander generated at [`WANDER_FS`] and linearly interpolated to `fs`.
fn add_wander(x: &mut [f32], fs: f64, level: f64, seed: u64) -> Result<()> {
    let n = x.len();
    let m = (n as f64 / fs * WANDER_FS).ceil() as usize + 2;
    let slow = generate_noise(NoiseKind::BaselineWander, m, WANDER_FS, seed)?;
    let ratio = WANDER_FS / fs;
    for (i, v) in x.iter_mut().enumerate() {
        let pos = i as f64 * ratio;
        let k = (pos as usize).min(m - 2);
        let frac = pos - k as f64;
        *v += (level * (slow[k] + frac * (slow[k + 1] - slow[k]))) as f32;
    }
    Ok(())
}

/// Continuous noise of `kind` in chunks of [`CHUNK_S`] joined by equal-power crossfades, so
/// memory stays bounded on day-long records.
fn add_chunked(x: &mut [f32], fs: f64, kind: NoiseKind, level: f64, seed: u64) -> Result<()> {
    let n = x.len();
    let chunk = (CHUNK_S * fs) as usize;
    let fade = (CROSSFADE_S * fs) as usize;
    let mut start = 0;
    let mut k = 0u64;
    while start < n {
        // The last chunk takes the remainder rather than leaving a short tail.
        let last = n - start <= chunk + chunk / 2;
        let len = if last { n - start } else { chunk + fade };
        let noise = generate_noise(kind, len, fs, SplitMix64::for_item(seed, k).next_u64())?;
        for (i, (v, e)) in x[start..start + len].iter_mut().zip(&noise).enumerate() {
            let mut w = 1.0;
            if start > 0 && i < fade {
                w = (0.5 * std::f64::consts::PI * i as f64 / fade as f64).sin();
            }
            if !last && i >= chunk {
                w = (0.5 * std::f64::consts::PI * (i - chunk) as f64 / fade as f64).cos();
            }
            *v += (level * w * e) as f32;
        }
        if last {
            break;
        }
        start += chunk;
        k += 1;
    }
    Ok(())
}
