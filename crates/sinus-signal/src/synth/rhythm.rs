//! Beat times and kinds from the rhythm script, and the ground-truth annotations.

use super::{rhythm_annotation, Conduction, Episode, Event, Rhythm, Segment, SynthSpec};
use crate::noise::NoiseKind;
use crate::rng::SplitMix64;
use sinus_io::wfdb::annotation::{codes, Annotation};
use std::f64::consts::TAU;

/// QRS-T shape of a beat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// Supraventricular conduction: narrow QRS.
    Narrow,
    /// Ventricular, left-ventricular origin (RBBB-like in V1): PVCs and VT.
    Wide1,
    /// Ventricular, right-ventricular origin (LBBB-like): an occasional second PVC focus.
    Wide2,
}

/// Kind of P wave before a beat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PWave {
    /// From the sinus node: upright in II.
    Sinus,
    /// From an ectopic atrial focus: inverted in II.
    Ectopic,
}

/// One beat of the timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Beat {
    /// R-peak sample.
    pub sample: i64,
    /// WFDB annotation code.
    pub code: u8,
    /// QRS-T shape.
    pub shape: Shape,
    /// P wave and the sample of its centre.
    pub p: Option<(PWave, i64)>,
    /// RR interval before this beat, s (sets the T wave's delay and width).
    pub rr: f64,
    /// Scale of the whole beat.
    pub scale: f64,
    /// Extra scale of the T wave.
    pub t_scale: f64,
    /// Rhythm label of the run it belongs to.
    pub aux: &'static str,
}

/// Continuous atrial activity over a span of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Atrial {
    /// Fibrillatory waves.
    Fibrillation {
        /// First sample.
        start: usize,
        /// One past the last sample.
        end: usize,
    },
    /// Flutter waves with the given period (s); phase 0 at `start`.
    Flutter {
        /// First sample.
        start: usize,
        /// One past the last sample.
        end: usize,
        /// F-wave period, s.
        period_s: f64,
    },
}

/// A span of samples where some leads are off or noisy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Quality {
    /// First sample.
    pub start: usize,
    /// One past the last sample.
    pub end: usize,
    /// Bit k: lead k affected.
    pub leads: u8,
    /// Leads off (unreadable) rather than noisy.
    pub off: bool,
    /// A leads-off span stuck at the rail rather than flat at 0.
    pub rail: bool,
    /// The noise of a burst and its level (mV).
    pub burst: Option<(NoiseKind, f64)>,
}

/// Everything [`super::render`] and [`annotations`] need.
#[derive(Debug, Clone, Default)]
pub(super) struct Timeline {
    /// Beats in time order.
    pub beats: Vec<Beat>,
    /// Atrial activity spans.
    pub atrial: Vec<Atrial>,
    /// Leads-off and noise spans.
    pub quality: Vec<Quality>,
    /// Ground-truth episodes.
    pub episodes: Vec<Episode>,
}

/// Coefficient of variation of AF RR intervals (log-normal σ); AF RR series have CVs around
/// 0.2–0.25 at rest.
const AF_SIGMA: f64 = 0.22;
/// Atrioventricular delay from an F wave's onset to the conducted R peak, s.
const FLUTTER_AV_S: f64 = 0.24;
/// Time constant of the slow activity-driven rate changes, s.
const ACTIVITY_TAU_S: f64 = 300.0;
/// Rhythm annotations are placed this long before the first beat of a run, s.
const RHYTHM_LEAD_S: f64 = 0.04;
/// Sinus beats between two random ectopic events, at least.
const MIN_SINUS_BETWEEN_ECTOPY: usize = 3;

/// The script as contiguous regions covering the record: the segments clipped to the record,
/// the later start cutting the earlier segment short, gaps filled with normal sinus rhythm.
fn regions(spec: &SynthSpec) -> Vec<Segment> {
    let mut segs: Vec<Segment> = spec
        .segments
        .iter()
        .filter(|s| s.duration_s > 0.0 && s.start_s < spec.seconds && s.end_s() > 0.0)
        .copied()
        .collect();
    segs.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    let mut out = Vec::new();
    let mut t = 0.0;
    for (i, s) in segs.iter().enumerate() {
        let start = s.start_s.max(t);
        let end = s
            .end_s()
            .min(spec.seconds)
            .min(segs.get(i + 1).map_or(f64::INFINITY, |n| n.start_s));
        if end <= start {
            continue;
        }
        if start > t {
            out.push(Segment::new(t, start - t, Rhythm::Sinus { bpm: None }));
        }
        out.push(Segment {
            start_s: start,
            duration_s: end - start,
            ..*s
        });
        t = end;
    }
    if t < spec.seconds {
        out.push(Segment::new(
            t,
            spec.seconds - t,
            Rhythm::Sinus { bpm: None },
        ));
    }
    out
}

/// State of the sinus node and the heart-rate variability.
struct Sinus<'a> {
    spec: &'a SynthSpec,
    rng: SplitMix64,
    lf_phase: f64,
    hf_phase: f64,
    lf_amp: f64,
    hf_amp: f64,
    activity_bpm: f64,
    activity_t: f64,
}

impl<'a> Sinus<'a> {
    fn new(spec: &'a SynthSpec, mut rng: SplitMix64) -> Self {
        let h = &spec.hrv;
        // Sinusoid power a²/2: total 2·(a_lf² + a_hf²)/2 = modulation², a_lf² = ratio·a_hf².
        let hf_amp = h.modulation * (2.0 / (1.0 + h.lf_hf_ratio)).sqrt();
        let lf_amp = hf_amp * h.lf_hf_ratio.sqrt();
        Sinus {
            spec,
            lf_phase: TAU * rng.uniform(),
            hf_phase: TAU * rng.uniform(),
            rng,
            lf_amp,
            hf_amp,
            activity_bpm: 0.0,
            activity_t: 0.0,
        }
    }

    /// The record's own sinus rate at time `t` (circadian drift and activity included).
    fn base_rate(&mut self, t: f64) -> f64 {
        let Some(c) = self.spec.circadian else {
            return self.spec.heart_rate_bpm;
        };
        let hour = c.start_hour + t / 3600.0;
        let day = 0.5 * c.swing_bpm * (TAU * (hour - 15.0) / 24.0).cos();
        // Ornstein–Uhlenbeck process, advanced to time t.
        let dt = (t - self.activity_t).max(0.0);
        let decay = (-dt / ACTIVITY_TAU_S).exp();
        self.activity_bpm = self.activity_bpm * decay
            + c.activity_bpm * (1.0 - decay * decay).sqrt() * self.rng.normal();
        self.activity_t = t;
        self.spec.heart_rate_bpm + day + self.activity_bpm
    }

    /// The sinus RR interval starting at time `t` for a rate of `bpm`, with HRV.
    fn rr(&mut self, t: f64, bpm: f64) -> f64 {
        let h = self.spec.hrv;
        // Phase diffusion widens the spectral peaks as in real RR series.
        self.lf_phase += 0.08 * self.rng.normal();
        self.hf_phase += 0.08 * self.rng.normal();
        let m = self.lf_amp * (TAU * h.lf_hz * t + self.lf_phase).sin()
            + self.hf_amp * self.respiration(t)
            + h.jitter * self.rng.normal();
        (60.0 / bpm.clamp(20.0, 300.0) * (1.0 + m)).max(0.2)
    }

    /// Respiratory phase signal in -1..1 (also modulates the beat amplitude).
    fn respiration(&self, t: f64) -> f64 {
        (TAU * self.spec.hrv.hf_hz * t + self.hf_phase).sin()
    }
}

/// PR interval (P-wave centre to R peak), s: shortens at fast rates.
fn pr_interval(rr: f64) -> f64 {
    0.10 + 0.06 * rr.clamp(0.25, 1.0)
}

struct Builder<'a> {
    spec: &'a SynthSpec,
    fs: f64,
    n: usize,
    beats: Vec<Beat>,
    rng: SplitMix64,
    /// Time of the last beat, s (negative before the first).
    last: f64,
    seg: Segment,
}

impl Builder<'_> {
    fn sample(&self, t: f64) -> i64 {
        (t * self.fs).round() as i64
    }

    /// Whether a beat at `t` is inside the current region and the record.
    fn fits(&self, t: f64) -> bool {
        t < self.seg.end_s() && self.sample(t) < self.n as i64
    }

    fn push(&mut self, t: f64, code: u8, shape: Shape, p: Option<(PWave, f64)>, resp: f64) {
        let rr = if self.last >= 0.0 { t - self.last } else { 0.8 };
        let scale = self.spec.amplitude
            * self.seg.amplitude
            * (1.0 + self.spec.hrv.respiratory_amplitude * resp + 0.01 * self.rng.normal());
        self.beats.push(Beat {
            sample: self.sample(t),
            code,
            shape,
            p: p.map(|(k, pt)| (k, self.sample(pt))),
            rr,
            scale,
            t_scale: self.seg.t_wave,
            aux: self.seg.rhythm.aux(),
        });
        self.last = t;
    }

    fn pvc_shape(&mut self) -> Shape {
        // One dominant focus; a fifth of PVCs from a second one (multiform ectopy).
        if self.rng.chance(0.2) {
            Shape::Wide2
        } else {
            Shape::Wide1
        }
    }
}

/// Build the beat timeline of `spec` for a record of `n` samples.
pub(super) fn timeline(spec: &SynthSpec, n: usize) -> Timeline {
    let fs = spec.fs;
    let mut sinus = Sinus::new(spec, SplitMix64::for_item(spec.seed, 1));
    let mut b = Builder {
        spec,
        fs,
        n,
        beats: Vec::new(),
        rng: SplitMix64::for_item(spec.seed, 2),
        last: -1.0,
        seg: Segment::new(0.0, spec.seconds, Rhythm::Sinus { bpm: None }),
    };
    let mut atrial = Vec::new();
    let mut episodes = Vec::new();
    let mut pauses: Vec<(f64, f64)> = spec
        .events
        .iter()
        .filter_map(|e| match *e {
            Event::Pause { at_s, duration_s } => Some((at_s, duration_s)),
            _ => None,
        })
        .collect();
    pauses.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut next_pause = 0;

    // The first beat comes 0.3–0.7 s into the record, so its P wave fits.
    let mut sinus_next = 0.3 + 0.4 * b.rng.uniform();
    let mut since_ectopic = MIN_SINUS_BETWEEN_ECTOPY;
    let mut previous_was_sinus = true;
    for seg in regions(spec) {
        b.seg = seg;
        let start_sample = (seg.start_s * fs).round() as usize;
        let end_sample = ((seg.end_s() * fs).round() as usize).min(n);
        let first = |b: &mut Builder, rr: f64| {
            if b.last < 0.0 {
                0.3 + 0.4 * b.rng.uniform()
            } else {
                b.last + rr
            }
        };
        match seg.rhythm {
            Rhythm::Sinus { .. }
            | Rhythm::SinusRamp { .. }
            | Rhythm::Bigeminy
            | Rhythm::Trigeminy => {
                let rate = |sinus: &mut Sinus, t: f64| match seg.rhythm {
                    Rhythm::Sinus { bpm: Some(bpm) } => bpm,
                    Rhythm::SinusRamp { from_bpm, to_bpm } => {
                        let f = ((t - seg.start_s) / seg.duration_s).clamp(0.0, 1.0);
                        from_bpm + (to_bpm - from_bpm) * f
                    }
                    _ => sinus.base_rate(t),
                };
                if !previous_was_sinus && b.last >= 0.0 {
                    // After a tachyarrhythmia the sinus node takes a little longer to fire.
                    let bpm = rate(&mut sinus, b.last);
                    sinus_next = b.last + 1.2 * sinus.rr(b.last, bpm);
                }
                let mut pattern = 0usize;
                loop {
                    let mut s = sinus_next;
                    while next_pause < pauses.len() && pauses[next_pause].0 <= s {
                        let (at, length) = pauses[next_pause];
                        next_pause += 1;
                        if at > b.last && b.last >= 0.0 && at >= seg.start_s {
                            let from = b.last;
                            s = from + length;
                            episodes.push(Episode {
                                label: "PAUSE".to_string(),
                                start: b.sample(from),
                                end: b.sample(s),
                            });
                        }
                    }
                    if !b.fits(s) {
                        sinus_next = s;
                        break;
                    }
                    let bpm = rate(&mut sinus, s);
                    let rr = sinus.rr(s, bpm);
                    let resp = sinus.respiration(s);
                    b.push(
                        s,
                        codes::NORMAL,
                        Shape::Narrow,
                        Some((PWave::Sinus, s - pr_interval(rr))),
                        resp,
                    );
                    sinus_next = s + rr;
                    since_ectopic += 1;
                    pattern += 1;
                    // What follows this sinus beat.
                    let event = match seg.rhythm {
                        Rhythm::Bigeminy => Ectopic::Pvc,
                        Rhythm::Trigeminy if pattern.is_multiple_of(2) => Ectopic::Pvc,
                        Rhythm::Trigeminy => Ectopic::None,
                        _ if since_ectopic < MIN_SINUS_BETWEEN_ECTOPY => Ectopic::None,
                        _ => {
                            let e = spec.ectopy;
                            let u = b.rng.uniform();
                            if u < e.pvc {
                                Ectopic::Pvc
                            } else if u < e.pvc + e.couplet {
                                Ectopic::Couplet
                            } else if u < e.pvc + e.couplet + e.pac {
                                Ectopic::Pac
                            } else {
                                Ectopic::None
                            }
                        }
                    };
                    match event {
                        Ectopic::None => {}
                        Ectopic::Pvc => {
                            let v = s + rr * b.rng.range(0.5, 0.62);
                            if b.fits(v) {
                                let shape =
                                    if matches!(seg.rhythm, Rhythm::Bigeminy | Rhythm::Trigeminy) {
                                        Shape::Wide1
                                    } else {
                                        b.pvc_shape()
                                    };
                                b.push(v, codes::PVC, shape, None, sinus.respiration(v));
                                // The next sinus impulse finds the ventricles refractory: a full
                                // compensatory pause.
                                sinus_next = s + 2.0 * rr;
                                since_ectopic = 0;
                            }
                        }
                        Ectopic::Couplet => {
                            let v1 = s + rr * b.rng.range(0.5, 0.6);
                            let v2 = v1 + rr * b.rng.range(0.45, 0.55);
                            if b.fits(v2) {
                                let shape = b.pvc_shape();
                                b.push(v1, codes::PVC, shape, None, sinus.respiration(v1));
                                b.push(v2, codes::PVC, shape, None, sinus.respiration(v2));
                                sinus_next = if v2 + 0.5 * rr <= s + 2.0 * rr {
                                    s + 2.0 * rr
                                } else {
                                    s + 3.0 * rr
                                };
                                since_ectopic = 0;
                            }
                        }
                        Ectopic::Pac => {
                            let a = s + rr * b.rng.range(0.6, 0.72);
                            if b.fits(a) {
                                let p = a - pr_interval(rr) + 0.01;
                                b.push(
                                    a,
                                    codes::APC,
                                    Shape::Narrow,
                                    Some((PWave::Ectopic, p)),
                                    sinus.respiration(a),
                                );
                                // The PAC resets the sinus node.
                                sinus_next = a + 1.05 * rr;
                                since_ectopic = 0;
                            }
                        }
                    }
                }
                previous_was_sinus = true;
            }
            Rhythm::Vt { bpm } | Rhythm::Svta { bpm } => {
                let rr0 = 60.0 / bpm;
                let vt = matches!(seg.rhythm, Rhythm::Vt { .. });
                let mut t = first(&mut b, rr0);
                while b.fits(t) {
                    if vt {
                        b.push(t, codes::PVC, Shape::Wide1, None, 0.0);
                    } else {
                        let p = t - 0.09;
                        b.push(t, codes::APC, Shape::Narrow, Some((PWave::Ectopic, p)), 0.0);
                    }
                    t += rr0 * (1.0 + 0.02 * b.rng.normal());
                }
                previous_was_sinus = false;
            }
            Rhythm::Afib { mean_bpm } => {
                let mean = 60.0 / mean_bpm;
                let draw = |rng: &mut SplitMix64| {
                    (mean * (AF_SIGMA * rng.normal() - 0.5 * AF_SIGMA * AF_SIGMA).exp())
                        .clamp(0.28, 2.5)
                };
                let rr = draw(&mut b.rng);
                let mut t = first(&mut b, rr);
                while b.fits(t) {
                    b.push(t, codes::NORMAL, Shape::Narrow, None, 0.0);
                    t += draw(&mut b.rng);
                }
                atrial.push(Atrial::Fibrillation {
                    start: start_sample,
                    end: end_sample,
                });
                previous_was_sinus = false;
            }
            Rhythm::Aflutter {
                atrial_bpm,
                conduction,
            } => {
                let period = 60.0 / atrial_bpm;
                let earliest = if b.last < 0.0 { 0.3 } else { b.last + 0.3 };
                let mut k = ((earliest - FLUTTER_AV_S - seg.start_s) / period)
                    .ceil()
                    .max(0.0) as u64;
                loop {
                    let t = seg.start_s + k as f64 * period + FLUTTER_AV_S;
                    if !b.fits(t) {
                        break;
                    }
                    b.push(t, codes::NORMAL, Shape::Narrow, None, 0.0);
                    k += match conduction {
                        Conduction::Fixed(m) => u64::from(m.max(1)),
                        Conduction::Variable => {
                            let u = b.rng.uniform();
                            if u < 0.5 {
                                2
                            } else if u < 0.7 {
                                3
                            } else {
                                4
                            }
                        }
                    };
                }
                atrial.push(Atrial::Flutter {
                    start: start_sample,
                    end: end_sample,
                    period_s: period,
                });
                previous_was_sinus = false;
            }
        }
    }

    let mut quality = Vec::new();
    let all = (1u8 << spec.leads) - 1;
    let span = |at: f64, d: f64| {
        let s = ((at.max(0.0) * fs).round() as usize).min(n);
        let e = (((at + d).max(0.0) * fs).round() as usize).min(n);
        (s, e)
    };
    for ev in &spec.events {
        match *ev {
            Event::LeadsOff {
                at_s,
                duration_s,
                lead,
                rail,
            } => {
                let (start, end) = span(at_s, duration_s);
                if end > start {
                    quality.push(Quality {
                        start,
                        end,
                        leads: lead.map_or(all, |l| 1 << l),
                        off: true,
                        rail,
                        burst: None,
                    });
                    episodes.push(Episode {
                        label: "LEADS-OFF".to_string(),
                        start: start as i64,
                        end: end as i64,
                    });
                }
            }
            Event::NoiseBurst {
                at_s,
                duration_s,
                kind,
                level_mv,
            } => {
                let (start, end) = span(at_s, duration_s);
                if end > start {
                    quality.push(Quality {
                        start,
                        end,
                        leads: all,
                        off: false,
                        rail: false,
                        burst: Some((kind, level_mv)),
                    });
                    episodes.push(Episode {
                        label: "NOISE".to_string(),
                        start: start as i64,
                        end: end as i64,
                    });
                }
            }
            Event::Pause { .. } => {}
        }
    }
    Timeline {
        beats: b.beats,
        atrial,
        quality,
        episodes,
    }
}

enum Ectopic {
    None,
    Pvc,
    Couplet,
    Pac,
}

/// Signal-quality subtype (MIT-BIH `~` convention) of every change point, in sample order.
fn quality_changes(quality: &[Quality], leads: usize, n: usize) -> Vec<(usize, i8)> {
    let all = (1u8 << leads) - 1;
    let mut points: Vec<usize> = quality.iter().flat_map(|q| [q.start, q.end]).collect();
    points.sort_unstable();
    points.dedup();
    let mut out = Vec::new();
    let mut current = 0i8;
    for p in points.into_iter().filter(|&p| p < n) {
        let (mut noisy, mut off) = (0u8, 0u8);
        for q in quality.iter().filter(|q| q.start <= p && p < q.end) {
            if q.off {
                off |= q.leads;
            } else {
                noisy |= q.leads;
            }
        }
        let subtype = if off == all {
            -1
        } else {
            ((off << 4) | (noisy & !off)) as i8
        };
        if subtype != current {
            out.push((p, subtype));
            current = subtype;
        }
    }
    out
}

/// The ground-truth annotations of `timeline`, in time order: visible beats, a `+` before the
/// first beat of every rhythm run, `~` at every signal-quality change. Also appends the rhythm
/// episodes to `timeline.episodes`.
pub(super) fn annotations(spec: &SynthSpec, n: usize, timeline: &mut Timeline) -> Vec<Annotation> {
    let all = (1u8 << spec.leads) - 1;
    let hidden = |s: i64| {
        let mut off = 0u8;
        for q in timeline.quality.iter().filter(|q| q.off) {
            if (q.start as i64..q.end as i64).contains(&s) {
                off |= q.leads;
            }
        }
        off == all
    };
    let lead = (RHYTHM_LEAD_S * spec.fs).round() as i64;
    let mut out = Vec::with_capacity(timeline.beats.len() + 64);
    let mut label: Option<&str> = None;
    let mut previous = -1i64;
    let mut runs: Vec<(i64, &'static str)> = Vec::new();
    for beat in timeline.beats.iter().filter(|b| !hidden(b.sample)) {
        if label != Some(beat.aux) {
            let at = (beat.sample - lead).max(previous + 1).max(0);
            out.push(rhythm_annotation(at, beat.aux));
            runs.push((at, beat.aux));
            label = Some(beat.aux);
        }
        out.push(Annotation::new(beat.sample, beat.code));
        previous = beat.sample;
    }
    for (i, &(start, aux)) in runs.iter().enumerate() {
        let end = runs.get(i + 1).map_or(n as i64, |r| r.0);
        timeline.episodes.push(Episode {
            label: aux.to_string(),
            start,
            end,
        });
    }
    for (sample, subtype) in quality_changes(&timeline.quality, spec.leads, n) {
        out.push(Annotation {
            subtype,
            ..Annotation::new(sample as i64, codes::NOISE)
        });
    }
    // Stable: at equal times, rhythm before beat as pushed; noise changes go first.
    out.sort_by_key(|a| (a.sample, a.code != codes::NOISE));
    timeline.episodes.sort_by_key(|e| (e.start, e.end));
    out
}
