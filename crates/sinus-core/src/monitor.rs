//! The whole on-device pipeline in one object: ADC codes in, events out.
//!
//! ```text
//! code ─┬─ QrsDetector (band-pass, adaptive thresholds) ──── R peaks ─┐
//!       ├─ WaveMedianBaseline (0.4 s lag) ── history ring ─── windows ┼─ BeatFeaturizer ─ int8 CNN ─ class
//!       └─ QualityJudge (1 s / 5 s windows) ── bad stretches ──────────┘          │
//!                      beats held until their quality is known ── RhythmAnalyzer ─ episodes
//!                      beats as classified ── alarms, RR / HRV epochs
//! ```
//!
//! Every buffer is a field (the `Monitor` is one fixed-size value, ≈ 49 KB with the shipped
//! one-lead model: a device keeps [`Monitor::unconfigured`] in a `static` and
//! [`configure`](Monitor::configure)s it in place), nothing allocates, and no input can make it
//! panic: codes are any `i32`, a missing sample is `None` (leads off, or a gap).
//!
//! **Work per sample** is bounded: every sample runs the detector's filters, two running
//! medians (≤ 301 values moved at 500 Hz) and the quality sums; a sample that completes a beat
//! also runs one window cut, one template update (≤ 32 values moved per point) and one network
//! evaluation (the model's MACs, 62.6 k for `beatnet-1lead`). At most one beat completes per
//! sample, so the worst case is one of each; the README's budget table gives it in measured
//! instructions.
//!
//! **Latency**: a beat's class needs its RR features, and the following RR interval is one of
//! them, so a beat is classified when the next beat's window is complete: next R peak + 0.4 s
//! (baseline lag) + the window after the fiducial point + the detector's confirmation delay.
//! Rhythm episodes additionally wait for the quality verdict of their beats (5 s blocks, plus
//! 2 s in which a bad stretch may still grow), as the offline analysis, which decides quality
//! first, does. Alarms do not wait: they follow the classified beats and the absence of beats.

use crate::baseline::{self, WaveMedianBaseline};
use crate::beat::{
    fiducial_reach, BeatFeaturizer, LeadSlice, WindowShape, FIDUCIAL_SEARCH_S, TEMPLATE_BEATS,
};
use crate::nn::{argmax, softmax, NnError, QuantModel, MAX_CLASSES};
use crate::qrs::{QrsConfig, QrsDetector};
use crate::quality::{Judged, QualityJudge, Verdict};
use crate::rhythm::{
    Beat, BeatClass, Episode, RhythmAnalyzer, RhythmConfig, RhythmEvent, RhythmKind, SignalQuality,
};

/// Most points per lead of the classifier's window.
pub const MAX_WINDOW: usize = 128;
/// Samples of baseline-removed signal kept (a power of two): enough for the detector's
/// latency bound, the baseline lag and a window at up to ≈ 400 Hz (2.5 s + 0.4 s + 0.9 s
/// at 250 Hz is 950 samples; 360 Hz needs 1,340).
pub const HISTORY: usize = 2048;
/// Scratch bytes for the network.
pub const SCRATCH: usize = 3072;
/// Longest contiguous stretch a beat's window and fiducial search read.
const SPAN: usize = 512;
/// Beats detected and waiting for the signal after them.
const DETECTIONS: usize = 8;
/// Classified beats waiting for their quality verdict.
const HELD: usize = 64;
/// Flush an open bad stretch early when this many beats wait behind it.
const HELD_PRESSURE: usize = 48;
/// HRV epoch (s): the Task Force's short-term recording.
pub const HRV_EPOCH_S: u32 = 300;
/// Heart rate below this over [`RATE_BEATS`] beats is an extreme-bradycardia alarm (bpm): 40,
/// a common bedside default.
pub const EXTREME_BRADY_BPM: f32 = 40.0;
/// Above this, extreme tachycardia (bpm): 150.
pub const EXTREME_TACHY_BPM: f32 = 150.0;
/// Hysteresis of the rate alarms (bpm).
pub const RATE_HYSTERESIS_BPM: f32 = 5.0;
/// Beats averaged for the rate alarms.
pub const RATE_BEATS: usize = 8;
/// Detections whose R amplitude (baseline-removed) is below this (mV) are not beats: the
/// detector's thresholds adapt to any signal level, so on a line of noise alone (asystole,
/// electrodes that just came back) it finds "beats" in the noise, and an asystole would go
/// unreported. Bedside monitors use an absolute QRS floor for the same reason.
pub const MIN_QRS_MV: f32 = 0.1;

/// How the device's samples come.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonitorConfig {
    /// Sampling rate (Hz).
    pub fs: f32,
    /// ADC codes per millivolt at the electrodes (front-end gain × ADC resolution).
    pub counts_per_mv: f32,
    /// Code of 0 mV (mid-scale of a single-supply front end).
    pub zero_code: i32,
    /// The classifier's window (from the model's metadata).
    pub window: WindowShape,
}

/// Why a [`Monitor`] cannot be made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MonitorError {
    /// The model cannot be used (named reason).
    Model(NnError),
    /// The model's input is not one lead (with its template channel) of ≤ [`MAX_WINDOW`]
    /// points, or its window does not match the configuration.
    ModelShape,
    /// The sampling rate is outside what the filters and buffers allow.
    SamplingRate,
    /// The gain is not a positive number.
    Gain,
}

impl core::fmt::Display for MonitorError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MonitorError::Model(e) => write!(f, "model: {e}"),
            MonitorError::ModelShape => write!(
                f,
                "the model's input is not one lead (and its template difference) of at most \
                 {MAX_WINDOW} points matching the window"
            ),
            MonitorError::SamplingRate => write!(
                f,
                "the sampling rate is outside what the monitor's filters and buffers allow"
            ),
            MonitorError::Gain => write!(f, "counts per millivolt must be a positive number"),
        }
    }
}

/// Alarms: raised fast from the beats as they are classified (and from their absence), not
/// waiting for the quality verdict the rhythm episodes wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmKind {
    /// No beat for longer than the asystole threshold (4 s) with the leads on.
    Asystole,
    /// Three or more consecutive ventricular beats faster than 100 bpm.
    VentricularTachycardia,
    /// Mean rate over 8 beats below 40 bpm.
    ExtremeBradycardia,
    /// Mean rate over 8 beats above 150 bpm.
    ExtremeTachycardia,
}

impl AlarmKind {
    /// Short name.
    pub fn name(self) -> &'static str {
        match self {
            AlarmKind::Asystole => "asystole",
            AlarmKind::VentricularTachycardia => "VT",
            AlarmKind::ExtremeBradycardia => "extreme brady",
            AlarmKind::ExtremeTachycardia => "extreme tachy",
        }
    }
}

/// Heart-rate variability of one [`HRV_EPOCH_S`] epoch, from normal-to-normal intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HrvEpoch {
    /// First sample of the epoch.
    pub start: u64,
    /// NN intervals in it.
    pub nn: u32,
    /// Mean NN (ms).
    pub mean_nn_ms: f32,
    /// SDNN (ms).
    pub sdnn_ms: f32,
    /// RMSSD (ms).
    pub rmssd_ms: f32,
    /// pNN50 (%).
    pub pnn50: f32,
}

/// What the monitor reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event {
    /// A classified beat (`class` Unknown and `confidence` 0 when its window could not be cut).
    Beat {
        /// R-peak sample.
        sample: u64,
        /// Class.
        class: BeatClass,
        /// The class's softmax probability.
        confidence: f32,
        /// Samples since the previous beat (0 for the first, or after leads off).
        rr: u32,
    },
    /// From the rhythm state machine.
    Rhythm(RhythmEvent),
    /// The verdict on the signal changed, from `sample` on.
    Quality {
        /// First sample with the new verdict.
        sample: u64,
        /// The new verdict.
        quality: SignalQuality,
    },
    /// Electrodes came off (`off`) or back on, at `sample`.
    LeadsOff {
        /// Sample.
        sample: u64,
        /// Off or back on.
        off: bool,
    },
    /// An alarm went on (`active`) or off.
    Alarm {
        /// Which.
        kind: AlarmKind,
        /// Sample of the change.
        sample: u64,
        /// On or off.
        active: bool,
    },
    /// An HRV epoch closed.
    Hrv(HrvEpoch),
}

/// Largest [`Event::encode`]d size.
pub const MAX_EVENT_BYTES: usize = 40;

fn class_code(c: BeatClass) -> u8 {
    match c {
        BeatClass::Normal => 0,
        BeatClass::Supraventricular => 1,
        BeatClass::Ventricular => 2,
        BeatClass::Fusion => 3,
        BeatClass::Unknown => 4,
    }
}

fn kind_code(k: RhythmKind) -> u8 {
    RhythmKind::ALL.iter().position(|&x| x == k).unwrap_or(0) as u8
}

fn quality_code(q: SignalQuality) -> u8 {
    match q {
        SignalQuality::Good => 0,
        SignalQuality::Noisy => 1,
        SignalQuality::LeadsOff => 2,
    }
}

fn alarm_code(a: AlarmKind) -> u8 {
    match a {
        AlarmKind::Asystole => 0,
        AlarmKind::VentricularTachycardia => 1,
        AlarmKind::ExtremeBradycardia => 2,
        AlarmKind::ExtremeTachycardia => 3,
    }
}

struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, b: &[u8]) {
        // `encode` gives a buffer of MAX_EVENT_BYTES; the largest event fits.
        if let Some(dst) = self.out.get_mut(self.at..self.at + b.len()) {
            dst.copy_from_slice(b);
        }
        self.at += b.len();
    }
}

impl Event {
    /// The event as bytes (little-endian; tag byte first: 1 beat, 2 onset, 3 episode,
    /// 4 quality, 5 leads off, 6 alarm, 7 HRV) — what the host and the device compare, and
    /// the payload of the device link. Returns the length.
    pub fn encode(&self, out: &mut [u8; MAX_EVENT_BYTES]) -> usize {
        let mut w = Writer { out, at: 0 };
        match *self {
            Event::Beat {
                sample,
                class,
                confidence,
                rr,
            } => {
                w.put(&[1, class_code(class)]);
                w.put(&sample.to_le_bytes());
                w.put(&confidence.to_le_bytes());
                w.put(&rr.to_le_bytes());
            }
            Event::Rhythm(RhythmEvent::Onset { kind, sample }) => {
                w.put(&[2, kind_code(kind)]);
                w.put(&sample.to_le_bytes());
            }
            Event::Rhythm(RhythmEvent::Episode(e)) => {
                w.put(&[3, kind_code(e.kind)]);
                w.put(&e.start.to_le_bytes());
                w.put(&e.end.to_le_bytes());
                w.put(&e.beats.to_le_bytes());
                w.put(&e.min_rate_bpm.to_le_bytes());
                w.put(&e.max_rate_bpm.to_le_bytes());
                w.put(&e.mean_rate_bpm.to_le_bytes());
            }
            Event::Quality { sample, quality } => {
                w.put(&[4, quality_code(quality)]);
                w.put(&sample.to_le_bytes());
            }
            Event::LeadsOff { sample, off } => {
                w.put(&[5, off as u8]);
                w.put(&sample.to_le_bytes());
            }
            Event::Alarm {
                kind,
                sample,
                active,
            } => {
                w.put(&[6, alarm_code(kind), active as u8]);
                w.put(&sample.to_le_bytes());
            }
            Event::Hrv(h) => {
                w.put(&[7]);
                w.put(&h.start.to_le_bytes());
                w.put(&h.nn.to_le_bytes());
                w.put(&h.mean_nn_ms.to_le_bytes());
                w.put(&h.sdnn_ms.to_le_bytes());
                w.put(&h.rmssd_ms.to_le_bytes());
                w.put(&h.pnn50.to_le_bytes());
            }
        }
        w.at
    }
}

/// A beat whose RR features wait for the next beat.
#[derive(Debug, Clone, Copy)]
struct Pending {
    sample: u64,
    window_ok: bool,
    /// Which of the two waveform buffers holds its window.
    slot: usize,
}

/// Running sums of one HRV epoch, in whole milliseconds (exact on any machine).
#[derive(Debug, Clone, Copy)]
struct HrvSums {
    epoch: u64,
    nn: u32,
    sum: u64,
    sum_sq: u64,
    diffs: u32,
    diff_sq: u64,
    over_50: u32,
    last_nn: Option<u32>,
}

/// The on-device pipeline (see the module docs).
///
/// Two ways to make one: [`Monitor::new`] (on a PC), or [`Monitor::unconfigured`] — a
/// constant, so a device keeps the ≈ 49 KB monitor in static memory with no copy on the stack
/// — then [`Monitor::configure`] in place.
pub struct Monitor<'m> {
    cfg: MonitorConfig,
    model: Option<QuantModel<&'m [u8]>>,
    classes: [BeatClass; MAX_CLASSES],
    n_classes: usize,
    waveform_len: usize,
    /// Samples pushed.
    n: u64,
    leads_off: bool,
    baseline: WaveMedianBaseline,
    lag: u64,
    detector: QrsDetector,
    /// Sample at which the detector was (re)started: its sample numbers count from there.
    detector_origin: u64,
    judge: Option<QualityJudge>,
    /// Baseline-removed signal (mV; NaN = missing), sample `i` at `i % HISTORY`.
    history: [f32; HISTORY],
    /// Samples of `history` written: 0..filtered.
    filtered: u64,
    detections: [u64; DETECTIONS],
    det_head: usize,
    det_len: usize,
    before_reach: u64,
    after_reach: u64,
    span: [f32; SPAN],
    featurizer: BeatFeaturizer<[f32; MAX_WINDOW * TEMPLATE_BEATS]>,
    waveforms: [[f32; 2 * MAX_WINDOW]; 2],
    pending: Option<Pending>,
    scratch: [i8; SCRATCH],
    last_beat: Option<u64>,
    last_detected: Option<u64>,
    // Rhythm, fed beats once their quality is known.
    rhythm: Option<RhythmAnalyzer>,
    held: [Beat; HELD],
    held_head: usize,
    held_len: usize,
    /// Quality is known for samples before this.
    judged_to: u64,
    /// A bad stretch that may still grow.
    open_bad: Option<(u64, u64, Verdict)>,
    merge_gap: u64,
    last_verdict: Verdict,
    // Alarms.
    asystole: bool,
    asystole_samples: u64,
    run_min_beats: u32,
    vt_bpm: f32,
    vt: bool,
    v_run: u32,
    v_run_start: u64,
    brady: bool,
    tachy: bool,
    rates: [u32; RATE_BEATS],
    rates_len: usize,
    rates_head: usize,
    hrv: HrvSums,
    hrv_epoch_samples: u64,
    last_class: BeatClass,
}

const NO_BEAT: Beat = Beat {
    sample: 0,
    class: BeatClass::Unknown,
    probability: 0.0,
    labelled: false,
};

const NO_HRV: HrvSums = HrvSums {
    epoch: 0,
    nn: 0,
    sum: 0,
    sum_sq: 0,
    diffs: 0,
    diff_sq: 0,
    over_50: 0,
    last_nn: None,
};

impl<'m> Monitor<'m> {
    /// A monitor running the int8 model `model` (bytes of a `.snnm` int8 model, e.g. in flash)
    /// on samples as `cfg` describes. (≈ 49 KB by value: on a device use
    /// [`Monitor::unconfigured`] in a `static` and [`Monitor::configure`].)
    pub fn new(model: &'m [u8], cfg: MonitorConfig) -> Result<Monitor<'m>, MonitorError> {
        let mut m = Monitor::unconfigured();
        m.configure(model, cfg)?;
        Ok(m)
    }

    /// A monitor that ignores its input until [`configure`](Self::configure)d; a constant.
    pub const fn unconfigured() -> Monitor<'m> {
        Monitor {
            cfg: MonitorConfig {
                fs: 250.0,
                counts_per_mv: 1.0,
                zero_code: 0,
                window: WindowShape {
                    before_s: 0.0,
                    after_s: 0.0,
                    length: 2,
                    z_normalise: false,
                    template: false,
                    align: false,
                },
            },
            model: None,
            classes: [BeatClass::Unknown; MAX_CLASSES],
            n_classes: 0,
            waveform_len: 0,
            n: 0,
            leads_off: false,
            baseline: WaveMedianBaseline::unconfigured(),
            lag: 0,
            detector: QrsDetector::unconfigured(),
            detector_origin: 0,
            judge: None,
            history: [0.0; HISTORY],
            filtered: 0,
            detections: [0; DETECTIONS],
            det_head: 0,
            det_len: 0,
            before_reach: 0,
            after_reach: 0,
            span: [0.0; SPAN],
            featurizer: BeatFeaturizer::unconfigured([0.0; MAX_WINDOW * TEMPLATE_BEATS]),
            waveforms: [[0.0; 2 * MAX_WINDOW]; 2],
            pending: None,
            scratch: [0; SCRATCH],
            last_beat: None,
            last_detected: None,
            rhythm: None,
            held: [NO_BEAT; HELD],
            held_head: 0,
            held_len: 0,
            judged_to: 0,
            open_bad: None,
            merge_gap: 0,
            last_verdict: Verdict::Good,
            asystole: false,
            asystole_samples: 0,
            run_min_beats: 3,
            vt_bpm: 100.0,
            vt: false,
            v_run: 0,
            v_run_start: 0,
            brady: false,
            tachy: false,
            rates: [0; RATE_BEATS],
            rates_len: 0,
            rates_head: 0,
            hrv: NO_HRV,
            hrv_epoch_samples: 1,
            last_class: BeatClass::Unknown,
        }
    }

    /// (Re)start the monitor in place: the int8 model `model` on samples as `cfg` describes.
    /// Everything before is forgotten. On an error the monitor is left unconfigured (it
    /// ignores its input).
    // `setup` is not inlined: its temporaries then live in its own stack frame only while it
    // runs, not in the caller's frame for ever.
    pub fn configure(&mut self, model: &'m [u8], cfg: MonitorConfig) -> Result<(), MonitorError> {
        let r = self.setup(model, cfg);
        if r.is_err() {
            // Half set up: ignore input until configured again.
            self.model = None;
        }
        r
    }

    #[inline(never)]
    fn setup(&mut self, model: &'m [u8], cfg: MonitorConfig) -> Result<(), MonitorError> {
        // Fields are set one by one so that no copy of the whole monitor is ever made.
        self.model = None;
        let fs = cfg.fs;
        if !(crate::qrs::MIN_FS..=baseline::MAX_FS).contains(&fs) {
            return Err(MonitorError::SamplingRate);
        }
        if !(cfg.counts_per_mv.is_finite() && cfg.counts_per_mv > 0.0) {
            return Err(MonitorError::Gain);
        }
        // Parsed in a frame of its own (the layer table is kilobytes): see `set`.
        let mut error = NnError::Truncated;
        set(&mut self.model, || {
            QuantModel::parse(model).map_err(|e| error = e).ok()
        })
        .map_err(|_| MonitorError::Model(error))?;
        let Some(info) = self.model.as_ref().map(|m| *m.info()) else {
            return Err(MonitorError::Model(error));
        };
        let shape = cfg.window;
        let channels = if shape.template { 2 } else { 1 };
        if info.input_channels != channels
            || info.input_len != shape.length
            || shape.length > MAX_WINDOW
            || shape.length < 2
            || info.n_features != 8
            || info.n_classes == 0
            || info.scratch_len() > SCRATCH
            || !(shape.before_s.is_finite() && shape.after_s.is_finite())
            || !(0.0..=0.5).contains(&shape.before_s)
            || !(0.0..=0.5).contains(&shape.after_s)
        {
            return Err(MonitorError::ModelShape);
        }
        self.classes = [BeatClass::Unknown; MAX_CLASSES];
        for (c, &l) in self.classes.iter_mut().zip(info.class_labels()) {
            *c = BeatClass::from_symbol(l as char);
        }
        self.n_classes = info.n_classes;
        let rhythm_cfg = RhythmConfig::new(fs);
        let reach = fiducial_reach(fs) as u64 + 2;
        let fs64 = fs as f64;
        self.before_reach =
            libm::ceil((FIDUCIAL_SEARCH_S as f64 + shape.before_s) * fs64) as u64 + reach;
        self.after_reach =
            libm::ceil((FIDUCIAL_SEARCH_S as f64 + shape.after_s) * fs64) as u64 + reach;
        self.baseline
            .configure(fs)
            .map_err(|_| MonitorError::SamplingRate)?;
        self.lag = self.baseline.lag() as u64;
        self.detector
            .configure(QrsConfig::new(fs))
            .map_err(|_| MonitorError::SamplingRate)?;
        let latency = self.detector.latency_samples();
        // The oldest sample a beat needs must still be in the history when the beat is cut:
        // a beat comes out of the detector up to its latency after its R peak, and its window
        // needs the baseline-removed signal up to `after_reach` past it.
        let oldest_needed = latency + self.before_reach + self.after_reach + self.lag;
        if self.before_reach + self.after_reach + 1 > SPAN as u64 || oldest_needed >= HISTORY as u64
        {
            return Err(MonitorError::SamplingRate);
        }
        set(&mut self.rhythm, || RhythmAnalyzer::new(rhythm_cfg).ok())?;
        self.featurizer
            .configure(shape, 1)
            .map_err(|_| MonitorError::ModelShape)?;
        self.judge = Some(QualityJudge::new(fs, cfg.counts_per_mv));
        self.cfg = cfg;
        self.waveform_len = shape.waveform_len(1);
        self.n = 0;
        self.leads_off = false;
        self.detector_origin = 0;
        self.history.fill(f32::NAN);
        self.filtered = 0;
        self.det_head = 0;
        self.det_len = 0;
        self.pending = None;
        self.last_beat = None;
        // No beat yet counts from the start: a device switched on in asystole alarms too.
        self.last_detected = Some(0);
        self.held_head = 0;
        self.held_len = 0;
        self.judged_to = 0;
        self.open_bad = None;
        self.merge_gap = (2.0 * fs) as u64;
        self.last_verdict = Verdict::Good;
        self.asystole = false;
        self.asystole_samples = libm::ceilf(rhythm_cfg.asystole_s * fs) as u64;
        self.run_min_beats = rhythm_cfg.run_min_beats;
        self.vt_bpm = rhythm_cfg.vt_bpm;
        self.vt = false;
        self.v_run = 0;
        self.brady = false;
        self.tachy = false;
        self.rates_len = 0;
        self.rates_head = 0;
        self.hrv = NO_HRV;
        self.hrv_epoch_samples = ((HRV_EPOCH_S as f64 * fs64) as u64).max(1);
        self.last_class = BeatClass::Unknown;
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &MonitorConfig {
        &self.cfg
    }

    /// Samples pushed so far.
    pub fn samples(&self) -> u64 {
        self.n
    }

    /// Ectopic beats and their groupings, as the rhythm analyzer has counted them so far.
    pub fn ectopy(&self) -> crate::rhythm::EctopyCounts {
        self.rhythm.as_ref().map(|r| r.counts()).unwrap_or_default()
    }

    /// Feed one sample: an ADC code, or `None` when the electrodes are off (or the sample is
    /// missing). Events go to `emit` as they happen.
    pub fn push(&mut self, code: Option<i32>, emit: &mut impl FnMut(Event)) {
        if self.model.is_none() {
            return;
        }
        let n = self.n;
        self.n += 1;
        match code {
            None => {
                if !self.leads_off {
                    self.leads_off = true;
                    emit(Event::LeadsOff {
                        sample: n,
                        off: true,
                    });
                    self.lost_signal(n, emit);
                }
                self.write_history(n, None);
            }
            Some(c) => {
                if self.leads_off {
                    self.leads_off = false;
                    emit(Event::LeadsOff {
                        sample: n,
                        off: false,
                    });
                    // The filters start again as on a new recording.
                    self.baseline.reset();
                    self.detector.reset();
                    self.detector_origin = n;
                    // The asystole clock restarts with the signal.
                    self.last_detected = Some(n);
                }
                let filtered = self.baseline.push(c);
                self.write_history(n, filtered);
                let mv = (c as i64 - self.cfg.zero_code as i64) as f32 / self.cfg.counts_per_mv;
                if let Some(d) = self.detector.push(mv) {
                    if d.amplitude.abs() >= MIN_QRS_MV {
                        self.detected(self.detector_origin + d.sample, emit);
                    }
                }
            }
        }
        let mut judged = [None; crate::quality::NOISE_WINDOWS];
        let mut k = 0;
        let Some(judge) = self.judge.as_mut() else {
            return;
        };
        judge.push(code, &mut |j| {
            if let Some(slot) = judged.get_mut(k) {
                *slot = Some(j);
            }
            k += 1;
        });
        for j in judged.into_iter().flatten() {
            self.judged(j, emit);
        }
        self.drain_detections(false, emit);
        self.check_asystole(n, emit);
    }

    /// The recording has ended at the last sample pushed: every beat still in the pipeline is
    /// classified and every open episode closed.
    pub fn finish(&mut self, emit: &mut impl FnMut(Event)) {
        if self.model.is_none() {
            return;
        }
        if !self.leads_off {
            while let Some(d) = self.detector.flush() {
                if d.amplitude.abs() >= MIN_QRS_MV {
                    self.detected(self.detector_origin + d.sample, emit);
                }
            }
        }
        // Cut what can be cut with the signal there is (windows reaching into the last
        // 0.4 s, which the baseline filter has not given out, are at the edge).
        self.drain_detections(true, emit);
        if let Some(p) = self.pending.take() {
            if let Some(rr) = self.featurizer.finish() {
                self.classify(p, &rr, emit);
            }
        }
        let mut judged = [None; crate::quality::NOISE_WINDOWS];
        let mut k = 0;
        let Some(judge) = self.judge.as_mut() else {
            return;
        };
        judge.finish(&mut |j| {
            if let Some(slot) = judged.get_mut(k) {
                *slot = Some(j);
            }
            k += 1;
        });
        for j in judged.into_iter().flatten() {
            self.judged(j, emit);
        }
        self.judged_to = u64::MAX;
        if let Some((s, e, v)) = self.open_bad.take() {
            self.push_bad(s, e, v, emit);
        }
        self.release_held(emit);
        let end = self.n.max(self.last_beat.map_or(0, |b| b + 1));
        if let Some(r) = self.rhythm.as_mut() {
            r.finish(end, &mut |r| emit(Event::Rhythm(r)));
        }
        if let Some(h) = self.hrv_epoch() {
            emit(Event::Hrv(h));
        }
    }

    fn write_history(&mut self, n: u64, filtered: Option<i32>) {
        if n < self.lag {
            return;
        }
        let i = n - self.lag;
        let v = match (self.leads_off, filtered) {
            (false, Some(c)) => c as f32 / self.cfg.counts_per_mv,
            _ => f32::NAN,
        };
        self.history[(i % HISTORY as u64) as usize] = v;
        self.filtered = i + 1;
    }

    fn lost_signal(&mut self, n: u64, emit: &mut impl FnMut(Event)) {
        // Beats detected before the leads came off are cut with what signal there is.
        self.drain_detections(true, emit);
        self.v_run = 0;
        self.rates_len = 0;
        self.last_beat = None;
        self.last_detected = None;
        for (kind, on) in [
            (AlarmKind::Asystole, &mut self.asystole),
            (AlarmKind::VentricularTachycardia, &mut self.vt),
            (AlarmKind::ExtremeBradycardia, &mut self.brady),
            (AlarmKind::ExtremeTachycardia, &mut self.tachy),
        ] {
            if *on {
                *on = false;
                emit(Event::Alarm {
                    kind,
                    sample: n,
                    active: false,
                });
            }
        }
    }

    fn detected(&mut self, sample: u64, emit: &mut impl FnMut(Event)) {
        self.last_detected = Some(sample);
        if self.asystole {
            self.asystole = false;
            emit(Event::Alarm {
                kind: AlarmKind::Asystole,
                sample,
                active: false,
            });
        }
        if self.det_len == DETECTIONS {
            // Cannot happen at physiological rates (the detector's refractory period spaces
            // beats by 200 ms, and a beat waits < 1 s); drop the oldest rather than block.
            self.det_head = (self.det_head + 1) % DETECTIONS;
            self.det_len -= 1;
        }
        self.detections[(self.det_head + self.det_len) % DETECTIONS] = sample;
        self.det_len += 1;
    }

    fn drain_detections(&mut self, all: bool, emit: &mut impl FnMut(Event)) {
        while self.det_len > 0 {
            let s = self.detections[self.det_head];
            if !all && s + self.after_reach >= self.filtered {
                return;
            }
            self.det_head = (self.det_head + 1) % DETECTIONS;
            self.det_len -= 1;
            self.beat(s, emit);
        }
    }

    /// Cut, featurize and (one beat later) classify the beat with R peak `s`.
    fn beat(&mut self, s: u64, emit: &mut impl FnMut(Event)) {
        let oldest = self.filtered.saturating_sub(HISTORY as u64);
        let start = s.saturating_sub(self.before_reach).max(oldest);
        let end = (s + self.after_reach + 1).min(self.filtered);
        let len = end.saturating_sub(start).min(SPAN as u64) as usize;
        for (k, v) in self.span[..len].iter_mut().enumerate() {
            *v = self.history[((start + k as u64) % HISTORY as u64) as usize];
        }
        let slot = match self.pending {
            Some(p) => 1 - p.slot,
            None => 0,
        };
        let fs = self.cfg.fs as f64;
        let got = self.featurizer.beat(
            &[LeadSlice {
                samples: &self.span[..len],
                per_frame: 1,
            }],
            fs,
            start as f64 / fs,
            s.saturating_sub(start) as f64,
            &mut self.waveforms[slot][..self.waveform_len],
        );
        let this = Pending {
            sample: s,
            window_ok: got.window.is_ok(),
            slot,
        };
        if let (Some(p), Some(rr)) = (self.pending.replace(this), got.previous_rr) {
            self.classify(p, &rr, emit);
        }
    }

    fn classify(&mut self, p: Pending, rr: &[f32; 8], emit: &mut impl FnMut(Event)) {
        let (mut class, mut confidence) = (BeatClass::Unknown, 0.0f32);
        if p.window_ok {
            let nc = self.n_classes;
            let mut logits = [0.0f32; MAX_CLASSES];
            let mut probs = [0.0f32; MAX_CLASSES];
            let Some(model) = self.model.as_ref() else {
                return;
            };
            let ok = model.logits(
                &self.waveforms[p.slot][..self.waveform_len],
                rr,
                &mut self.scratch,
                &mut logits[..nc],
            );
            if ok.is_ok() {
                softmax(&logits[..nc], &mut probs[..nc]);
                let i = argmax(&probs[..nc]);
                class = self.classes[i];
                confidence = probs[i];
            }
        }
        let rr_samples = match self.last_beat {
            Some(l) if p.sample > l => (p.sample - l).min(u32::MAX as u64) as u32,
            _ => 0,
        };
        emit(Event::Beat {
            sample: p.sample,
            class,
            confidence,
            rr: rr_samples,
        });
        self.alarms_on_beat(p.sample, class, rr_samples, emit);
        self.hrv_beat(p.sample, class, rr_samples, emit);
        self.last_beat = Some(p.sample);
        self.last_class = class;
        self.hold(
            Beat {
                sample: p.sample,
                class,
                probability: confidence,
                labelled: true,
            },
            emit,
        );
    }

    fn alarms_on_beat(&mut self, s: u64, class: BeatClass, rr: u32, emit: &mut impl FnMut(Event)) {
        let fs = self.cfg.fs;
        // VT: a run of ≥ 3 V beats, faster than the rhythm analyzer's VT rate.
        if class == BeatClass::Ventricular {
            if self.v_run == 0 {
                self.v_run_start = s;
            }
            self.v_run = self.v_run.saturating_add(1);
            if !self.vt && self.v_run >= self.run_min_beats && s > self.v_run_start {
                let rate = 60.0 * fs * (self.v_run - 1) as f32 / (s - self.v_run_start) as f32;
                if rate > self.vt_bpm {
                    self.vt = true;
                    emit(Event::Alarm {
                        kind: AlarmKind::VentricularTachycardia,
                        sample: self.v_run_start,
                        active: true,
                    });
                }
            }
        } else {
            self.v_run = 0;
            if self.vt {
                self.vt = false;
                emit(Event::Alarm {
                    kind: AlarmKind::VentricularTachycardia,
                    sample: s,
                    active: false,
                });
            }
        }
        // Extreme rates over the last RATE_BEATS intervals.
        if rr == 0 {
            return;
        }
        self.rates[self.rates_head] = rr;
        self.rates_head = (self.rates_head + 1) % RATE_BEATS;
        self.rates_len = (self.rates_len + 1).min(RATE_BEATS);
        if self.rates_len < RATE_BEATS {
            return;
        }
        let total: u64 = self.rates.iter().map(|&r| r as u64).sum();
        let bpm = 60.0 * fs * RATE_BEATS as f32 / total as f32;
        for (kind, on, start, stop) in [
            (
                AlarmKind::ExtremeBradycardia,
                &mut self.brady,
                bpm < EXTREME_BRADY_BPM,
                bpm >= EXTREME_BRADY_BPM + RATE_HYSTERESIS_BPM,
            ),
            (
                AlarmKind::ExtremeTachycardia,
                &mut self.tachy,
                bpm > EXTREME_TACHY_BPM,
                bpm <= EXTREME_TACHY_BPM - RATE_HYSTERESIS_BPM,
            ),
        ] {
            if (!*on && start) || (*on && stop) {
                *on = !*on;
                emit(Event::Alarm {
                    kind,
                    sample: s,
                    active: *on,
                });
            }
        }
    }

    fn check_asystole(&mut self, n: u64, emit: &mut impl FnMut(Event)) {
        if self.asystole || self.leads_off {
            return;
        }
        // Time since the last beat detected, less the detector's usual confirmation delay
        // (the next beat may still be on its way out of the detector for a few hundred ms).
        let Some(since) = self.last_detected else {
            return;
        };
        let slack = (0.5 * self.cfg.fs) as u64;
        if n > since + self.asystole_samples + slack {
            self.asystole = true;
            emit(Event::Alarm {
                kind: AlarmKind::Asystole,
                sample: since,
                active: true,
            });
        }
    }

    fn hrv_beat(&mut self, s: u64, class: BeatClass, rr: u32, emit: &mut impl FnMut(Event)) {
        let epoch = s / self.hrv_epoch_samples.max(1);
        if epoch != self.hrv.epoch {
            if let Some(h) = self.hrv_epoch() {
                emit(Event::Hrv(h));
            }
            self.hrv = HrvSums { epoch, ..NO_HRV };
        }
        let nn = rr > 0 && class == BeatClass::Normal && self.last_class == BeatClass::Normal;
        if !nn {
            self.hrv.last_nn = None;
            return;
        }
        let ms = libm::round(rr as f64 * 1000.0 / self.cfg.fs as f64) as u32;
        let h = &mut self.hrv;
        h.nn += 1;
        h.sum += ms as u64;
        h.sum_sq += ms as u64 * ms as u64;
        if let Some(last) = h.last_nn {
            let d = (ms as i64 - last as i64).unsigned_abs();
            h.diffs += 1;
            h.diff_sq += d * d;
            h.over_50 += (d > 50) as u32;
        }
        h.last_nn = Some(ms);
    }

    fn hrv_epoch(&self) -> Option<HrvEpoch> {
        let h = &self.hrv;
        if h.nn < 2 || h.diffs == 0 {
            return None;
        }
        let n = h.nn as f64;
        let mean = h.sum as f64 / n;
        let var = ((h.sum_sq as f64 - n * mean * mean) / (n - 1.0)).max(0.0);
        Some(HrvEpoch {
            start: h.epoch * self.hrv_epoch_samples,
            nn: h.nn,
            mean_nn_ms: mean as f32,
            sdnn_ms: libm::sqrt(var) as f32,
            rmssd_ms: libm::sqrt(h.diff_sq as f64 / h.diffs as f64) as f32,
            pnn50: (100.0 * h.over_50 as f64 / h.diffs as f64) as f32,
        })
    }

    // ---- Quality gating of the rhythm analyzer -------------------------------------------

    fn judged(&mut self, j: Judged, emit: &mut impl FnMut(Event)) {
        if j.verdict != self.last_verdict {
            self.last_verdict = j.verdict;
            emit(Event::Quality {
                sample: j.start,
                quality: signal_quality(j.verdict),
            });
        }
        match (j.verdict, self.open_bad) {
            (Verdict::Good, Some((s, e, v))) if j.end > e + self.merge_gap => {
                self.open_bad = None;
                self.judged_to = j.end;
                self.push_bad(s, e, v, emit);
            }
            (Verdict::Good, _) => self.judged_to = j.end,
            (v, Some((s, e, ov))) if v == ov && j.start <= e + self.merge_gap => {
                self.open_bad = Some((s, j.end, v));
                self.judged_to = j.end;
            }
            (v, open) => {
                self.judged_to = j.end;
                if let Some((s, e, ov)) = open {
                    self.open_bad = None;
                    self.push_bad(s, e, ov, emit);
                }
                self.open_bad = Some((j.start, j.end, v));
            }
        }
        self.release_held(emit);
    }

    fn push_bad(&mut self, s: u64, e: u64, v: Verdict, emit: &mut impl FnMut(Event)) {
        // Beats before the stretch go first, as the offline analysis orders them.
        self.release_before(s, emit);
        if let Some(r) = self.rhythm.as_mut() {
            r.push_quality(s, e, signal_quality(v), &mut |r| emit(Event::Rhythm(r)));
        }
    }

    fn hold(&mut self, b: Beat, emit: &mut impl FnMut(Event)) {
        if self.held_len >= HELD_PRESSURE {
            // A long bad stretch holds beats behind it: close it where it stands.
            if let Some((s, e, v)) = self.open_bad.take() {
                self.push_bad(s, e, v, emit);
            }
            self.release_held(emit);
        }
        if self.held_len == HELD {
            // Still full (quality verdicts are late): let the oldest through ungated.
            let old = self.held[self.held_head];
            self.held_head = (self.held_head + 1) % HELD;
            self.held_len -= 1;
            self.rhythm_beat(old, emit);
        }
        self.held[(self.held_head + self.held_len) % HELD] = b;
        self.held_len += 1;
        self.release_held(emit);
    }

    fn release_held(&mut self, emit: &mut impl FnMut(Event)) {
        let limit = match self.open_bad {
            Some((s, _, _)) => s.min(self.judged_to),
            None => self.judged_to,
        };
        self.release_before(limit, emit);
    }

    fn release_before(&mut self, limit: u64, emit: &mut impl FnMut(Event)) {
        while self.held_len > 0 && self.held[self.held_head].sample < limit {
            let b = self.held[self.held_head];
            self.held_head = (self.held_head + 1) % HELD;
            self.held_len -= 1;
            self.rhythm_beat(b, emit);
        }
    }

    fn rhythm_beat(&mut self, b: Beat, emit: &mut impl FnMut(Event)) {
        if let Some(r) = self.rhythm.as_mut() {
            r.push_beat(b, &mut |r| emit(Event::Rhythm(r)));
        }
    }
}

/// `*slot = make()`, in a frame of its own: the (kilobytes large) value is built and moved in
/// while only this frame is on the stack, so `configure`'s frame does not hold one temporary
/// per component.
#[inline(never)]
fn set<T>(slot: &mut Option<T>, make: impl FnOnce() -> Option<T>) -> Result<(), MonitorError> {
    *slot = make();
    match slot {
        Some(_) => Ok(()),
        None => Err(MonitorError::SamplingRate),
    }
}

fn signal_quality(v: Verdict) -> SignalQuality {
    match v {
        Verdict::Good => SignalQuality::Good,
        Verdict::Noisy => SignalQuality::Noisy,
        Verdict::LeadsOff => SignalQuality::LeadsOff,
    }
}

impl core::fmt::Display for Event {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Event::Beat {
                sample,
                class,
                confidence,
                rr,
            } => write!(
                f,
                "beat {sample} {} p={confidence:.3} rr={rr}",
                class.symbol()
            ),
            Event::Rhythm(RhythmEvent::Onset { kind, sample }) => {
                write!(f, "onset {} {sample}", kind.name())
            }
            Event::Rhythm(RhythmEvent::Episode(Episode {
                kind,
                start,
                end,
                beats,
                mean_rate_bpm,
                ..
            })) => write!(
                f,
                "episode {} {start}..{end} beats={beats} mean={mean_rate_bpm:.1}bpm",
                kind.name()
            ),
            Event::Quality { sample, quality } => write!(f, "quality {sample} {quality:?}"),
            Event::LeadsOff { sample, off } => {
                write!(f, "leads {} {sample}", if *off { "off" } else { "on" })
            }
            Event::Alarm {
                kind,
                sample,
                active,
            } => write!(
                f,
                "alarm {} {} {sample}",
                kind.name(),
                if *active { "on" } else { "off" }
            ),
            Event::Hrv(h) => write!(
                f,
                "hrv {} nn={} mean={:.1}ms sdnn={:.1}ms rmssd={:.1}ms pnn50={:.1}%",
                h.start, h.nn, h.mean_nn_ms, h.sdnn_ms, h.rmssd_ms, h.pnn50
            ),
        }
    }
}

#[cfg(test)]
mod tests;
