//! The device's engine on the host: a recording turned into ADC codes as a front end would
//! give them, run through [`sinus_core::monitor::Monitor`] — the code the firmware runs — one
//! sample at a time. `sinus analyze --engine device` and `sinus edge simulate` use it, so any
//! difference between the device and the full-precision analysis shows on real recordings.

use crate::quality::{Quality, QualitySegment};
use crate::rhythm::RhythmResult;
use sinus_core::monitor::{Event, Monitor, MonitorConfig, MAX_EVENT_BYTES};
use sinus_core::rhythm::{RhythmEvent, RhythmKind, SignalQuality};
use sinus_io::{Error, Recording, Result, MISSING};
use sinus_ml::metadata::ModelMetadata;
use sinus_signal::baseline::BaselineMethod;
use sinus_signal::resample::{map_index, resample_leads, same_rate};

/// Rate the device samples at, and that recordings outside the monitor's range are
/// resampled to (Hz).
pub const DEVICE_FS: f64 = 250.0;

/// How samples reach the monitor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FrontEnd {
    /// The recording's own digital samples, gain and rate (resampled to [`DEVICE_FS`] and
    /// re-quantised with its own gain only when the rate is outside the monitor's range):
    /// what differs from the full-precision analysis is then the engine alone.
    Recorded,
    /// An AD8232-like front end (gain 300 V/V: 0.3 V per mV, single supply, mid-rail
    /// reference) into a 12-bit ADC on 3.3 V at 250 Hz: 372 codes per mV, zero at code 2048,
    /// clipped at 0 and 4095 (±5.5 mV).
    Ad8232,
}

impl FrontEnd {
    /// Codes per mV, zero code and ADC bits of the AD8232 front end.
    pub const AD8232: (f64, i32, u32) = (0.3 * 4096.0 / 3.3, 2048, 12);
}

/// One lead as the device samples it.
#[derive(Debug, Clone)]
pub struct DeviceSignal {
    /// Codes; `None` = missing (leads off).
    pub codes: Vec<Option<i32>>,
    /// Sampling rate (Hz).
    pub fs: f64,
    /// Codes per mV.
    pub counts_per_mv: f64,
    /// Code of 0 mV.
    pub zero_code: i32,
    /// The rate the recording was resampled to, if it was.
    pub resampled_to: Option<f64>,
}

/// Whether the monitor accepts recordings at `fs` as they are.
fn monitor_accepts(fs: f64) -> bool {
    (125.0..=400.0).contains(&fs)
}

/// Lead `lead` of `rec` as `front_end` gives it to the monitor.
pub fn device_signal(rec: &Recording, lead: usize, front_end: FrontEnd) -> Result<DeviceSignal> {
    let sig = rec.signals.get(lead).ok_or_else(|| {
        Error::invalid(format!(
            "the device reads lead {lead} but the recording has {} signal(s)",
            rec.signals.len()
        ))
    })?;
    if sig.samples_per_frame != 1 {
        return Err(Error::unsupported(format!(
            "signal {lead} has {} samples per frame; the device engine needs one",
            sig.samples_per_frame
        )));
    }
    let fs = rec.frame_frequency;
    if !(fs.is_finite() && fs > 0.0) {
        return Err(Error::invalid(format!(
            "sampling frequency {fs} Hz is not positive"
        )));
    }
    let quantise = |x: &[f64], cpm: f64, zero: i32, bits: Option<u32>| -> Vec<Option<i32>> {
        let hi = bits.map_or(i32::MAX as f64, |b| ((1i64 << b) - 1) as f64);
        let lo = if bits.is_some() { 0.0 } else { i32::MIN as f64 };
        x.iter()
            .map(|&v| {
                v.is_finite()
                    .then(|| (v * cpm + zero as f64).round().clamp(lo, hi) as i32)
            })
            .collect()
    };
    match front_end {
        FrontEnd::Recorded if monitor_accepts(fs) => Ok(DeviceSignal {
            codes: sig
                .samples
                .iter()
                .map(|&c| (c != MISSING).then_some(c))
                .collect(),
            fs,
            counts_per_mv: sig.effective_gain(),
            zero_code: sig.baseline,
            resampled_to: None,
        }),
        FrontEnd::Recorded => {
            let x = resample_leads(rec, &[sig.physical_samples()], DEVICE_FS)?;
            let y = x.signals[0].physical_samples();
            Ok(DeviceSignal {
                codes: quantise(&y, sig.effective_gain(), 0, None),
                fs: DEVICE_FS,
                counts_per_mv: sig.effective_gain(),
                zero_code: 0,
                resampled_to: Some(DEVICE_FS),
            })
        }
        FrontEnd::Ad8232 => {
            let (cpm, zero, bits) = FrontEnd::AD8232;
            let phys = sig.physical_samples();
            let (y, resampled_to) = if same_rate(fs, DEVICE_FS) {
                (phys, None)
            } else {
                let x = resample_leads(rec, &[phys], DEVICE_FS)?;
                (x.signals[0].physical_samples(), Some(DEVICE_FS))
            };
            Ok(DeviceSignal {
                codes: quantise(&y, cpm, zero, Some(bits)),
                fs: DEVICE_FS,
                counts_per_mv: cpm,
                zero_code: zero,
                resampled_to,
            })
        }
    }
}

/// The monitor configuration for an int8 one-lead model (its window from the metadata).
pub fn monitor_config(model: &[u8], signal: &DeviceSignal) -> Result<MonitorConfig> {
    let info = sinus_core::nn::QuantModel::parse(model)
        .map_err(|e| Error::malformed(format!("device model: {e}")))?
        .info()
        .to_owned();
    let (a, z) = info.metadata;
    let meta = ModelMetadata::parse(&String::from_utf8_lossy(&model[a..z]))?;
    let window = meta.window_config()?;
    if window.leads.len() != 1 {
        return Err(Error::unsupported(format!(
            "the device runs one-lead models; this one reads {} leads",
            window.leads.len()
        )));
    }
    if window.baseline != Some(BaselineMethod::DE_CHAZAL) {
        return Err(Error::unsupported(
            "the device removes the baseline with the de Chazal medians; this model was \
             trained with another filter",
        ));
    }
    Ok(MonitorConfig {
        fs: signal.fs as f32,
        counts_per_mv: signal.counts_per_mv as f32,
        zero_code: signal.zero_code,
        window: window.shape(),
    })
}

/// What the monitor said about a recording.
#[derive(Debug, Clone, Default)]
pub struct DeviceRun {
    /// Every event in the order given, with the sample count at which it was given
    /// (samples pushed before the event; the recording's length for those of `finish`).
    pub events: Vec<(u64, Event)>,
    /// Ectopy counts at the end.
    pub counts: sinus_core::rhythm::EctopyCounts,
}

impl DeviceRun {
    /// The events as the device encodes them, one hex line each (what the qemu firmware
    /// prints).
    pub fn hex_lines(&self) -> String {
        let mut out = String::new();
        let mut buf = [0u8; MAX_EVENT_BYTES];
        for (_, e) in &self.events {
            let n = e.encode(&mut buf);
            for b in &buf[..n] {
                out.push_str(&format!("{b:02x}"));
            }
            out.push('\n');
        }
        out
    }
}

/// Run `model` (int8, one lead) over `signal` as the device would.
pub fn run_monitor(model: &[u8], signal: &DeviceSignal) -> Result<DeviceRun> {
    let cfg = monitor_config(model, signal)?;
    let mut monitor = Box::new(
        Monitor::new(model, cfg).map_err(|e| Error::unsupported(format!("device monitor: {e}")))?,
    );
    let mut events = Vec::new();
    for (i, &c) in signal.codes.iter().enumerate() {
        let at = i as u64 + 1;
        monitor.push(c, &mut |e| events.push((at, e)));
    }
    let end = signal.codes.len() as u64;
    monitor.finish(&mut |e| events.push((end, e)));
    Ok(DeviceRun {
        events,
        counts: monitor.ectopy(),
    })
}

/// A device run in the recording's own clock (`fs_record`): beats (sample, class letter,
/// probability), the rhythm result and the bad-signal stretches — what the analysis
/// report is made of.
pub fn run_results(
    run: &DeviceRun,
    signal: &DeviceSignal,
    fs_record: f64,
    frames: u64,
) -> (Vec<(u64, char, f32)>, RhythmResult, Vec<QualitySegment>) {
    let map = |s: u64| -> u64 {
        match signal.resampled_to {
            Some(fs) => map_index(s as i64, fs, fs_record).clamp(0, frames as i64) as u64,
            None => s,
        }
    };
    let mut beats = Vec::new();
    let mut episodes = Vec::new();
    let mut off: Vec<(u64, u64)> = Vec::new();
    let mut off_since = None;
    for (_, e) in &run.events {
        match *e {
            Event::Beat {
                sample,
                class,
                confidence,
                ..
            } => beats.push((map(sample), class.symbol(), confidence)),
            Event::Rhythm(RhythmEvent::Episode(mut ep)) => {
                ep.start = map(ep.start);
                ep.end = map(ep.end);
                episodes.push(ep);
            }
            Event::Quality { sample, quality } => match (quality, off_since) {
                (SignalQuality::LeadsOff, None) => off_since = Some(sample),
                (SignalQuality::LeadsOff, Some(_)) => {}
                (_, Some(s)) => {
                    off.push((s, sample));
                    off_since = None;
                }
                (_, None) => {}
            },
            _ => {}
        }
    }
    if let Some(s) = off_since {
        off.push((s, u64::MAX));
    }
    beats.sort_by_key(|b| b.0);
    beats.dedup_by_key(|b| b.0);
    episodes.sort_by_key(|e| (e.start, e.end));
    let bad = episodes
        .iter()
        .filter(|e| e.kind == RhythmKind::Noise)
        .map(|e| {
            // Device samples, before mapping: compare with the verdict timeline.
            let leads_off = off
                .iter()
                .any(|&(a, b)| map(a) <= e.end && (b == u64::MAX || map(b) >= e.start));
            QualitySegment {
                start: e.start,
                end: e.end,
                quality: if leads_off {
                    Quality::LeadsOff
                } else {
                    Quality::Noisy
                },
            }
        })
        .collect();
    let rhythm = RhythmResult {
        episodes,
        counts: run.counts,
    };
    (beats, rhythm, bad)
}

/// How a device run scored against a record's reference annotations.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Simulation {
    /// Record name.
    pub record: String,
    /// Seconds simulated.
    pub seconds: f64,
    /// The device's sampling rate (Hz).
    pub device_fs: f64,
    /// bxb's beat-label matrix (EC57 rules over the whole record: ±150 ms, VF excluded).
    pub matrix: sinus_eval::bxb::BeatMatrix,
    /// R peak to class event, per classified beat (ms).
    pub latency_ms: Vec<f64>,
    /// Reference AF duration, device AF duration and their overlap (s).
    pub af_s: [f64; 3],
    /// The same for VT.
    pub vt_s: [f64; 3],
    /// Events the monitor gave, by kind: beats, rhythm onsets and episodes, quality changes,
    /// leads on/off, alarm changes, HRV epochs.
    pub events: [usize; 7],
    /// Host seconds the monitor took.
    pub run_s: f64,
}

/// The kind index of an event in [`Simulation::events`].
fn event_kind(e: &Event) -> usize {
    match e {
        Event::Beat { .. } => 0,
        Event::Rhythm(RhythmEvent::Onset { .. }) => 1,
        Event::Rhythm(RhythmEvent::Episode(_)) => 2,
        Event::Quality { .. } => 3,
        Event::LeadsOff { .. } => 4,
        Event::Alarm { .. } => 5,
        Event::Hrv(_) => 6,
    }
}

/// Total length of the union of `a` ∩ `b` (both sorted, non-overlapping).
fn overlap(a: &[(i64, i64)], b: &[(i64, i64)]) -> i64 {
    let mut total = 0;
    for &(s, e) in a {
        for &(t, u) in b {
            total += (e.min(u) - s.max(t)).max(0);
        }
    }
    total
}

fn union(mut v: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    v.sort();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Run a recording through the monitor as the device would see it and score the result
/// against `reference` (annotations in the recording's clock): beats by bxb, the latency of
/// every class, AF and VT durations. `leads_off`: stretches (s) in which the electrodes are
/// off (their samples are given as missing).
pub fn simulate(
    rec: &Recording,
    reference: &[sinus_io::wfdb::annotation::Annotation],
    model: &[u8],
    front_end: FrontEnd,
    leads_off: &[(f64, f64)],
) -> Result<(Simulation, DeviceSignal, DeviceRun)> {
    use sinus_eval::rhythm::{episodes, rhythm_intervals, Rhythm};
    use sinus_io::wfdb::annotation::{codes, Annotation};
    let mut signal = device_signal(rec, 0, front_end)?;
    for &(a, b) in leads_off {
        let n = signal.codes.len();
        let (i, j) = (
            ((a * signal.fs) as usize).min(n),
            ((b * signal.fs) as usize).min(n),
        );
        signal.codes[i..j].fill(None);
    }
    let start = std::time::Instant::now();
    let run = run_monitor(model, &signal)?;
    let run_s = start.elapsed().as_secs_f64();
    let fs = rec.frame_frequency;
    let (beats, rhythm, _) = run_results(&run, &signal, fs, rec.frames);
    let test: Vec<Annotation> = beats
        .iter()
        .map(|&(s, c, _)| {
            let code = match c {
                'N' => codes::NORMAL,
                'S' => codes::APC,
                'V' => codes::PVC,
                'F' => codes::FUSION,
                _ => codes::UNKNOWN,
            };
            Annotation::new(s as i64, code)
        })
        .collect();
    let cmp = sinus_eval::bxb::compare(
        reference,
        &test,
        fs,
        Some(rec.frames),
        &sinus_eval::bxb::BxbOptions::whole_record(),
    )?;
    let mut sim = Simulation {
        record: rec.name.clone(),
        seconds: rec.frames as f64 / fs,
        device_fs: signal.fs,
        matrix: cmp.matrix,
        run_s,
        ..Simulation::default()
    };
    for (at, e) in &run.events {
        sim.events[event_kind(e)] += 1;
        if let Event::Beat {
            sample, confidence, ..
        } = e
        {
            if *confidence > 0.0 {
                sim.latency_ms
                    .push(at.saturating_sub(*sample) as f64 * 1000.0 / signal.fs);
            }
        }
    }
    let intervals = rhythm_intervals(reference, rec.frames as i64);
    for (category, kind, out) in [
        (Rhythm::Af, RhythmKind::AtrialFibrillation, &mut sim.af_s),
        (
            Rhythm::Vt,
            RhythmKind::VentricularTachycardia,
            &mut sim.vt_s,
        ),
    ] {
        let r: Vec<(i64, i64)> = episodes(&intervals, &category)
            .iter()
            .map(|i| (i.start, i.end))
            .collect();
        let t = union(
            rhythm
                .episodes
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| (e.start as i64, e.end as i64))
                .collect(),
        );
        let len = |v: &[(i64, i64)]| v.iter().map(|&(s, e)| e - s).sum::<i64>() as f64 / fs;
        *out = [len(&r), len(&t), overlap(&r, &t) as f64 / fs];
    }
    Ok((sim, signal, run))
}

/// The codes of `signal` as the qemu firmware reads them (`input.bin`): a 20-byte header
/// (`SINUSADC`, then little-endian: the sampling rate and the codes per mV as `f32` bits,
/// the zero code as `i32`) and one `i16` per sample (`i16::MIN` = leads off). Errors when a code does not fit an `i16`.
pub fn firmware_input(signal: &DeviceSignal) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(20 + 2 * signal.codes.len());
    out.extend_from_slice(b"SINUSADC");
    // The f32 values the monitor is configured with, bit for bit.
    out.extend_from_slice(&(signal.fs as f32).to_bits().to_le_bytes());
    out.extend_from_slice(&(signal.counts_per_mv as f32).to_bits().to_le_bytes());
    out.extend_from_slice(&signal.zero_code.to_le_bytes());
    for (i, c) in signal.codes.iter().enumerate() {
        let v = match *c {
            None => i16::MIN,
            Some(c) if c > i16::MIN as i32 && c <= i16::MAX as i32 => c as i16,
            Some(c) => {
                return Err(Error::unsupported(format!(
                    "sample {i}: code {c} does not fit the firmware's 16-bit input"
                )))
            }
        };
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

/// The first `seconds` of a recording (an excerpt for a quick emulator run).
pub fn excerpt(rec: &Recording, seconds: f64) -> Recording {
    let n = ((seconds * rec.frame_frequency).round().max(0.0) as u64).min(rec.frames);
    let mut out = rec.clone();
    out.frames = n;
    for s in &mut out.signals {
        s.samples
            .truncate(n as usize * s.samples_per_frame.max(1) as usize);
    }
    out
}
