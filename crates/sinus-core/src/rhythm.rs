//! Streaming rhythm analysis: classified beats in, rhythm episodes out.
//!
//! [`RhythmAnalyzer`] is a state machine fed one beat at a time ([`RhythmAnalyzer::push_beat`]),
//! signal-quality segments from the DSP side ([`RhythmAnalyzer::push_quality`]) and the passing
//! of time ([`RhythmAnalyzer::advance`]). It reports [`RhythmEvent`]s through a callback: an
//! [`RhythmEvent::Onset`] when an episode is recognised and an [`RhythmEvent::Episode`] with
//! its bounds and rates when it is over. Every episode gets exactly one `Onset` followed later
//! by exactly one `Episode`. Episodes of different kinds may overlap (a pause inside AF).
//!
//! Episode kinds and their rules (thresholds are [`RhythmConfig`] fields):
//! - AF/flutter: RR irregularity evidence of [`af::AfEvidence`] with hysteresis (see
//!   [`RhythmConfig::af_on`]); intervals next to ectopic beats are left out.
//! - VT / SVT: a run of at least 3 consecutive ventricular / supraventricular beats whose
//!   mean rate exceeds 100 bpm. Runs and couplets are also counted in [`EctopyCounts`].
//! - Ventricular bigeminy / trigeminy: V beats each separated from the previous one by exactly
//!   one / two non-V beats, at least [`RhythmConfig::pattern_min_cycles`] times in a row.
//! - Sinus bradycardia / tachycardia: the mean rate of the last [`SINUS_WINDOW`] intervals
//!   between normal beats below 60 / above 100 bpm, outside AF.
//! - Pause: an RR interval longer than 2 s; asystole: no beat for longer than 4 s (an asystole
//!   is also a pause). Both are reported live by [`RhythmAnalyzer::advance`].
//! - Noise: every Noisy / LeadsOff segment given to [`RhythmAnalyzer::push_quality`]. Beats
//!   inside such segments are ignored, and gaps overlapping them are not pauses.
//!
//! Fixed memory: every buffer is sized at compile time; no input can make it panic.

pub mod af;
#[cfg(test)]
mod tests;

use af::{AfEvidence, AF_FEATURES, AF_WEIGHTS, AF_WINDOW};

/// Lowest sampling rate accepted (Hz).
pub const MIN_FS: f32 = 100.0;
/// Highest sampling rate accepted (Hz).
pub const MAX_FS: f32 = 1000.0;
/// Intervals between normal beats averaged for sinus bradycardia / tachycardia: 8 beats, the
/// "run of at least 8 beats" that ambulatory-ECG practice (and e.g. the Holter rules of
/// ANSI/AAMI EC38) uses to call a rate sustained rather than a transient acceleration.
pub const SINUS_WINDOW: usize = 8;
/// Beats remembered (samples) so that AF onsets and offsets can be back-dated.
const BEAT_RING: usize = 128;
/// Bad-signal segments remembered.
const BAD_RING: usize = 8;

/// AAMI beat classes (EC57): N, S, V, F, Q.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BeatClass {
    /// Normal and bundle-branch-block beats, escape beats (N).
    Normal,
    /// Supraventricular ectopic beats (S).
    Supraventricular,
    /// Ventricular ectopic beats (V).
    Ventricular,
    /// Fusion of ventricular and normal beats (F).
    Fusion,
    /// Paced, unclassifiable or unknown (Q).
    Unknown,
}

impl BeatClass {
    /// Class of an AAMI letter (`N S V F Q`) or of a WFDB beat symbol: `N L R e j` → Normal,
    /// `A a J S` → Supraventricular, `V E` → Ventricular, `F` → Fusion, anything else (`/ f Q`,
    /// non-beat symbols) → Unknown.
    pub fn from_symbol(c: char) -> BeatClass {
        match c {
            'N' | 'L' | 'R' | 'e' | 'j' => BeatClass::Normal,
            'A' | 'a' | 'J' | 'S' => BeatClass::Supraventricular,
            'V' | 'E' => BeatClass::Ventricular,
            'F' => BeatClass::Fusion,
            _ => BeatClass::Unknown,
        }
    }

    /// The AAMI letter.
    pub fn symbol(self) -> char {
        match self {
            BeatClass::Normal => 'N',
            BeatClass::Supraventricular => 'S',
            BeatClass::Ventricular => 'V',
            BeatClass::Fusion => 'F',
            BeatClass::Unknown => 'Q',
        }
    }

    /// Ectopic for rhythm purposes: S, V and F change the RR intervals around them.
    pub fn is_ectopic(self) -> bool {
        matches!(
            self,
            BeatClass::Supraventricular | BeatClass::Ventricular | BeatClass::Fusion
        )
    }
}

/// One beat as the analyzer sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Beat {
    /// R-peak sample number (must increase from beat to beat; others are ignored).
    pub sample: u64,
    /// Beat class (ignored when `labelled` is false).
    pub class: BeatClass,
    /// Classifier confidence 0..1 (1.0 for reference labels).
    pub probability: f32,
    /// False when the beats come from a detector without classes: `class` is then not used
    /// and no beat counts as ectopic.
    pub labelled: bool,
}

impl Beat {
    /// A beat with a reference label (probability 1).
    pub fn labelled(sample: u64, class: BeatClass) -> Beat {
        Beat {
            sample,
            class,
            probability: 1.0,
            labelled: true,
        }
    }

    /// A detected beat without a class.
    pub fn unlabelled(sample: u64) -> Beat {
        Beat {
            sample,
            class: BeatClass::Unknown,
            probability: 0.0,
            labelled: false,
        }
    }

    /// The class that counts: `Unknown` for unlabelled beats.
    fn effective_class(&self) -> BeatClass {
        if self.labelled {
            self.class
        } else {
            BeatClass::Unknown
        }
    }
}

/// Quality of a stretch of signal, from the DSP side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignalQuality {
    /// Usable.
    Good,
    /// Too noisy to trust beats or their absence.
    Noisy,
    /// Electrodes off: no ECG.
    LeadsOff,
}

/// Kinds of rhythm episodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RhythmKind {
    /// Atrial fibrillation or flutter.
    AtrialFibrillation,
    /// Ventricular tachycardia: ≥ 3 consecutive V beats faster than 100 bpm.
    VentricularTachycardia,
    /// Ventricular bigeminy: N V N V ...
    VentricularBigeminy,
    /// Ventricular trigeminy: N N V N N V ...
    VentricularTrigeminy,
    /// Supraventricular tachyarrhythmia: ≥ 3 consecutive S beats faster than 100 bpm.
    SupraventricularTachycardia,
    /// Sinus bradycardia: sustained rate < 60 bpm.
    SinusBradycardia,
    /// Sinus tachycardia: sustained rate > 100 bpm.
    SinusTachycardia,
    /// An RR interval longer than 2 s.
    Pause,
    /// No beat for longer than 4 s.
    Asystole,
    /// Noisy or leads-off signal.
    Noise,
}

impl RhythmKind {
    /// Every kind, in declaration order.
    pub const ALL: [RhythmKind; 10] = [
        RhythmKind::AtrialFibrillation,
        RhythmKind::VentricularTachycardia,
        RhythmKind::VentricularBigeminy,
        RhythmKind::VentricularTrigeminy,
        RhythmKind::SupraventricularTachycardia,
        RhythmKind::SinusBradycardia,
        RhythmKind::SinusTachycardia,
        RhythmKind::Pause,
        RhythmKind::Asystole,
        RhythmKind::Noise,
    ];

    /// Short name: "AF", "VT", "bigeminy", "trigeminy", "SVT", "brady", "tachy", "pause",
    /// "asystole", "noise".
    pub fn name(self) -> &'static str {
        match self {
            RhythmKind::AtrialFibrillation => "AF",
            RhythmKind::VentricularTachycardia => "VT",
            RhythmKind::VentricularBigeminy => "bigeminy",
            RhythmKind::VentricularTrigeminy => "trigeminy",
            RhythmKind::SupraventricularTachycardia => "SVT",
            RhythmKind::SinusBradycardia => "brady",
            RhythmKind::SinusTachycardia => "tachy",
            RhythmKind::Pause => "pause",
            RhythmKind::Asystole => "asystole",
            RhythmKind::Noise => "noise",
        }
    }

    /// Aux text of a WFDB rhythm annotation (`+`) for this kind. The MIT-BIH labels are used
    /// where MIT-BIH has one: `(AFIB` (flutter is not told apart), `(VT`, `(B`, `(T`, `(SVTA`,
    /// `(SBR`. MIT-BIH has none for the others, so these are ours: `(TACH` (sinus
    /// tachycardia), `(PAUSE`, `(ASYS`, `(NOISE` — MIT-BIH marks noise with `~` annotations,
    /// not rhythm labels.
    pub fn wfdb_aux(self) -> &'static str {
        match self {
            RhythmKind::AtrialFibrillation => "(AFIB",
            RhythmKind::VentricularTachycardia => "(VT",
            RhythmKind::VentricularBigeminy => "(B",
            RhythmKind::VentricularTrigeminy => "(T",
            RhythmKind::SupraventricularTachycardia => "(SVTA",
            RhythmKind::SinusBradycardia => "(SBR",
            RhythmKind::SinusTachycardia => "(TACH",
            RhythmKind::Pause => "(PAUSE",
            RhythmKind::Asystole => "(ASYS",
            RhythmKind::Noise => "(NOISE",
        }
    }
}

/// A closed episode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Episode {
    /// What it was.
    pub kind: RhythmKind,
    /// First sample (a beat's sample, or a segment start for noise).
    pub start: u64,
    /// Last sample (≥ `start`).
    pub end: u64,
    /// Beats from `start` to `end` inclusive (0 for noise).
    pub beats: u32,
    /// Slowest instantaneous rate (60 / RR) between consecutive beats of the episode (bpm);
    /// 0 when the episode has fewer than two beats.
    pub min_rate_bpm: f32,
    /// Fastest instantaneous rate (bpm); 0 when fewer than two beats.
    pub max_rate_bpm: f32,
    /// Mean rate: (beats − 1) intervals over the episode's duration (bpm); 0 when fewer than
    /// two beats.
    pub mean_rate_bpm: f32,
}

/// What the analyzer reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RhythmEvent {
    /// An episode has been recognised; `sample` is the start it will be reported with (for AF
    /// and sinus rhythms that is back-dated, see [`RhythmAnalyzer::latency_beats`]).
    Onset {
        /// Kind of the episode.
        kind: RhythmKind,
        /// Its start.
        sample: u64,
    },
    /// An episode is over.
    Episode(Episode),
}

/// Counts of ectopic beats and their groupings since the analyzer started. A run is counted
/// when it ends (the next beat of another class, or [`RhythmAnalyzer::finish`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EctopyCounts {
    /// Ventricular beats (V).
    pub v_beats: u32,
    /// Isolated V beats (runs of one).
    pub v_isolated: u32,
    /// V couplets (runs of exactly two).
    pub v_couplets: u32,
    /// V runs of three or more (at any rate; the fast ones are also VT episodes).
    pub v_runs: u32,
    /// Supraventricular ectopic beats (S).
    pub s_beats: u32,
    /// Isolated S beats.
    pub s_isolated: u32,
    /// S couplets.
    pub s_couplets: u32,
    /// S runs of three or more.
    pub s_runs: u32,
    /// Fusion beats (F).
    pub f_beats: u32,
    /// Pauses (RR > pause threshold), asystoles included.
    pub pauses: u32,
    /// Asystoles (no beat for longer than the asystole threshold).
    pub asystoles: u32,
    /// Beats ignored because their sample did not increase.
    pub rejected_beats: u32,
}

/// Why a [`RhythmConfig`] cannot be used.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RhythmConfigError {
    /// The sampling rate is not in [`MIN_FS`]..=[`MAX_FS`].
    SamplingRate,
    /// A parameter is out of its range (named).
    Parameter(&'static str),
}

impl core::fmt::Display for RhythmConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RhythmConfigError::SamplingRate => f.write_str("sampling rate outside 100..=1000 Hz"),
            RhythmConfigError::Parameter(p) => write!(f, "parameter out of range: {p}"),
        }
    }
}

/// Parameters of the analyzer. [`RhythmConfig::new`] gives the defaults; each field says why
/// it has its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RhythmConfig {
    /// Sampling rate of the beat sample numbers (Hz), 100..=1000.
    pub fs: f32,
    /// RR interval (s) above which a pause is reported: 2 s, the usual Holter criterion
    /// (slower than 30 bpm is not a rhythm any escape focus would produce).
    pub pause_s: f32,
    /// No beat for longer than this (s) is asystole: 4 s, the default asystole alarm delay of
    /// bedside monitors; 3.5–4 s is the range in use, and the longer value keeps ordinary
    /// sinus pauses (≤ 3 s) out.
    pub asystole_s: f32,
    /// Bradycardia below this rate (bpm): 60, the textbook limit.
    pub brady_bpm: f32,
    /// Tachycardia above this rate (bpm): 100, the textbook limit (sinus, VT and SVT alike).
    pub tachy_bpm: f32,
    /// A sinus brady/tachy episode ends once the mean rate is back this far inside the normal
    /// range (bpm): 2, so that a rate hovering at the limit gives one episode, not dozens.
    pub sinus_hysteresis_bpm: f32,
    /// Sinus brady/tachycardia is only called while the 8-interval window is regular: mean
    /// |successive difference| at most this fraction of the mean interval: 0.15. Sinus rhythm
    /// changes rate smoothly (respiratory sinus arrhythmia stays below ~10 % beat to beat),
    /// whereas the same averaged rate over an irregular window is AF or ectopy, not sinus.
    pub sinus_max_irregularity: f32,
    /// A run of V (S) beats is VT (SVT) above this rate (bpm): 100, the usual definition.
    /// Slower V runs are accelerated idioventricular rhythm, counted in [`EctopyCounts`] only.
    /// (MIT-BIH also labels some 90–100 bpm runs `(VT`; see the crate's figures.)
    pub vt_bpm: f32,
    /// Consecutive V (S) beats for a VT (SVT) episode: 3, the standard definition of a run.
    pub run_min_beats: u32,
    /// Bigeminy / trigeminy need this many consecutive cycles (V to V with exactly one / two
    /// non-V beats between): 3, i.e. 4 V beats — two or three coupled PVCs in a row happen by
    /// chance in frequent ectopy and are not a "rhythm".
    pub pattern_min_cycles: u32,
    /// AF starts when the (smoothed) AF evidence reaches this (0..1): 0.8. Starting an AF
    /// episode is the costly mistake (an anticoagulation question), so onset asks for clear
    /// evidence; on MIT-BIH 0.7 → 0.8 trades 1 % of AF duration sensitivity for 7 % of
    /// positive predictivity, on LTAFDB it costs < 0.3 % of either.
    pub af_on: f32,
    /// AF ends when the evidence falls below this: 0.3. The band 0.3–0.8 is hysteresis: within
    /// an episode the evidence dips briefly (runs of regular conduction, a few ectopic beats
    /// the labels missed), and each dip would otherwise split the episode.
    pub af_off: f32,
    /// AF onsets and offsets are back-dated by this many beats: 32. The evidence of a window
    /// of [`AF_WINDOW`] = 64 intervals crosses the threshold when about half of the window has
    /// changed rhythm.
    pub af_backdate_beats: u32,
    /// Exponential smoothing of the AF evidence over about this many clean beats (1 = none):
    /// 8. The window's evidence moves by single beats; smoothing over ~8 beats (5–10 s) keeps
    /// one odd interval from flipping the state, with a delay small against the window's.
    pub af_smooth_beats: f32,
    /// Weights of the AF logistic model ([`AF_WEIGHTS`] by default; see [`af`]).
    pub af_weights: [f32; AF_FEATURES + 1],
    /// Labelled beats whose classifier probability is below this are treated as unknown for
    /// the AF interval filter (not ectopic, not normal-by-certainty): 0 = trust every label.
    pub min_probability: f32,
}

impl RhythmConfig {
    /// Defaults for sampling rate `fs` (Hz).
    pub fn new(fs: f32) -> Self {
        RhythmConfig {
            fs,
            pause_s: 2.0,
            asystole_s: 4.0,
            brady_bpm: 60.0,
            tachy_bpm: 100.0,
            sinus_hysteresis_bpm: 2.0,
            sinus_max_irregularity: 0.15,
            vt_bpm: 100.0,
            run_min_beats: 3,
            pattern_min_cycles: 3,
            af_on: 0.8,
            af_off: 0.3,
            af_backdate_beats: 32,
            af_smooth_beats: 8.0,
            af_weights: AF_WEIGHTS,
            min_probability: 0.0,
        }
    }

    fn validate(&self) -> Result<(), RhythmConfigError> {
        if !(self.fs >= MIN_FS && self.fs <= MAX_FS) {
            return Err(RhythmConfigError::SamplingRate);
        }
        let pos = |x: f32| x.is_finite() && x > 0.0;
        if !pos(self.pause_s) || self.pause_s > 60.0 {
            return Err(RhythmConfigError::Parameter("pause_s"));
        }
        if !pos(self.asystole_s) || self.asystole_s < self.pause_s || self.asystole_s > 600.0 {
            return Err(RhythmConfigError::Parameter("asystole_s"));
        }
        if !pos(self.brady_bpm) || !pos(self.tachy_bpm) || self.brady_bpm >= self.tachy_bpm {
            return Err(RhythmConfigError::Parameter("brady_bpm/tachy_bpm"));
        }
        if !(self.sinus_hysteresis_bpm.is_finite() && self.sinus_hysteresis_bpm >= 0.0) {
            return Err(RhythmConfigError::Parameter("sinus_hysteresis_bpm"));
        }
        if !pos(self.vt_bpm) {
            return Err(RhythmConfigError::Parameter("vt_bpm"));
        }
        if !pos(self.sinus_max_irregularity) {
            return Err(RhythmConfigError::Parameter("sinus_max_irregularity"));
        }
        if !(2..=1000).contains(&self.run_min_beats) {
            return Err(RhythmConfigError::Parameter("run_min_beats"));
        }
        if !(1..=1000).contains(&self.pattern_min_cycles) {
            return Err(RhythmConfigError::Parameter("pattern_min_cycles"));
        }
        let unit = |x: f32| (0.0..=1.0).contains(&x);
        if !unit(self.af_on) || !unit(self.af_off) || self.af_off > self.af_on {
            return Err(RhythmConfigError::Parameter("af_on/af_off"));
        }
        if self.af_backdate_beats as usize >= BEAT_RING - 1 {
            return Err(RhythmConfigError::Parameter("af_backdate_beats"));
        }
        if !(self.af_smooth_beats.is_finite() && self.af_smooth_beats >= 1.0) {
            return Err(RhythmConfigError::Parameter("af_smooth_beats"));
        }
        if self.af_weights.iter().any(|w| !w.is_finite()) {
            return Err(RhythmConfigError::Parameter("af_weights"));
        }
        if !unit(self.min_probability) {
            return Err(RhythmConfigError::Parameter("min_probability"));
        }
        Ok(())
    }
}

/// Running statistics of an episode's beats.
#[derive(Debug, Clone, Copy)]
struct Acc {
    kind: RhythmKind,
    start: u64,
    last: u64,
    beats: u32,
    min_rr: u64,
    max_rr: u64,
}

impl Acc {
    fn new(kind: RhythmKind, start: u64) -> Acc {
        Acc {
            kind,
            start,
            last: start,
            beats: 1,
            min_rr: u64::MAX,
            max_rr: 0,
        }
    }

    /// Add the next beat of the episode (later than the last one).
    fn add(&mut self, sample: u64) {
        if sample <= self.last {
            return;
        }
        let rr = sample - self.last;
        self.min_rr = self.min_rr.min(rr);
        self.max_rr = self.max_rr.max(rr);
        self.last = sample;
        self.beats = self.beats.saturating_add(1);
    }

    fn episode(&self, fs: f32) -> Episode {
        let bpm = |rr: u64| 60.0 * fs / rr.max(1) as f32;
        let (min, max, mean) = if self.beats >= 2 && self.last > self.start {
            (
                bpm(self.max_rr),
                bpm(self.min_rr),
                60.0 * fs * (self.beats - 1) as f32 / (self.last - self.start) as f32,
            )
        } else {
            (0.0, 0.0, 0.0)
        };
        Episode {
            kind: self.kind,
            start: self.start,
            end: self.last,
            beats: self.beats,
            min_rate_bpm: min,
            max_rate_bpm: max,
            mean_rate_bpm: mean,
        }
    }
}

/// A run of consecutive beats of one ectopic class (V or S).
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    len: u32,
    first: u64,
    last: u64,
    /// The beat before the run's first beat.
    before: u64,
    /// Open tachycardia episode (onset emitted).
    episode: Option<Acc>,
}

/// Bigeminy / trigeminy tracking.
#[derive(Debug, Clone, Copy, Default)]
struct Pattern {
    /// Sample of the last V beat.
    last_v: Option<u64>,
    /// Non-V beats since the last V beat.
    since_v: u32,
    /// Non-V beats between the V beats of the current pattern (1 or 2; 0 = none).
    gap: u32,
    /// Consecutive cycles with that gap.
    cycles: u32,
    /// Sample of the first V beat of the pattern.
    first_v: u64,
    /// Beats in the pattern so far (V beats and those between).
    beats: u32,
    min_rr: u64,
    max_rr: u64,
    /// Onset emitted.
    open: bool,
}

/// Streaming rhythm analysis; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct RhythmAnalyzer {
    cfg: RhythmConfig,
    pause: u64,
    asystole: u64,
    // Beats.
    last: Option<u64>,
    /// The beat before the one being processed.
    prev_beat: Option<u64>,
    last_class: BeatClass,
    last_bad: bool,
    beat_ring: [u64; BEAT_RING],
    n_beats: u64,
    // Gap state (live pause / asystole onsets).
    pause_onset: bool,
    asystole_onset: bool,
    // Bad-signal segments (start, end).
    bad: [(u64, u64); BAD_RING],
    bad_len: usize,
    bad_head: usize,
    // Ectopy.
    v_run: Run,
    s_run: Run,
    pattern: Pattern,
    counts: EctopyCounts,
    // Sinus rate: the last SINUS_WINDOW normal-to-normal intervals (samples) and the sample of
    // the beat each one starts at.
    nn: [(u64, u64); SINUS_WINDOW],
    nn_len: usize,
    nn_head: usize,
    sinus: Option<Acc>,
    // AF.
    /// One bit per recent beat (bit 0 = latest): set when the beat was labelled S.
    s_mask: u64,
    /// Whether the previous beat was labelled.
    prev_labelled: bool,
    /// Beats since the last clean interval.
    af_unclean: u32,
    /// Same for V beats.
    v_mask: u64,
    af: AfEvidence,
    af_smooth: Option<f32>,
    af_open: Option<Acc>,
    /// Beat index of the AF episode's start, and how far the lagged statistics have got.
    af_start_idx: u64,
    /// End of the last AF episode: a new one is never back-dated before it.
    af_last_end: u64,
}

impl RhythmAnalyzer {
    /// An analyzer for `cfg`, or why `cfg` cannot be used.
    pub fn new(cfg: RhythmConfig) -> Result<Self, RhythmConfigError> {
        cfg.validate()?;
        Ok(RhythmAnalyzer {
            cfg,
            pause: (cfg.pause_s * cfg.fs) as u64,
            asystole: (cfg.asystole_s * cfg.fs) as u64,
            last: None,
            prev_beat: None,
            last_class: BeatClass::Unknown,
            last_bad: true,
            beat_ring: [0; BEAT_RING],
            n_beats: 0,
            pause_onset: false,
            asystole_onset: false,
            bad: [(0, 0); BAD_RING],
            bad_len: 0,
            bad_head: 0,
            v_run: Run::default(),
            s_run: Run::default(),
            pattern: Pattern::default(),
            counts: EctopyCounts::default(),
            nn: [(0, 0); SINUS_WINDOW],
            nn_len: 0,
            nn_head: 0,
            sinus: None,
            s_mask: 0,
            prev_labelled: false,
            af_unclean: 0,
            v_mask: 0,
            af: AfEvidence::new(cfg.af_weights),
            af_smooth: None,
            af_open: None,
            af_start_idx: 0,
            af_last_end: 0,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &RhythmConfig {
        &self.cfg
    }

    /// Ectopy counts so far (runs still going on are not counted yet).
    pub fn counts(&self) -> EctopyCounts {
        self.counts
    }

    /// Latest AF evidence (0..1, after smoothing), once enough clean intervals have been seen.
    pub fn af_score(&self) -> Option<f32> {
        self.af_smooth
    }

    /// Latest AF features (see [`af`]), for explanation and plots.
    pub fn af_features(&self) -> Option<[f32; AF_FEATURES]> {
        self.af.features()
    }

    /// The AF evidence itself (features, number of clean intervals seen).
    pub fn af_evidence(&self) -> &AfEvidence {
        &self.af
    }

    /// Whether an AF episode is open.
    pub fn in_af(&self) -> bool {
        self.af_open.is_some()
    }

    /// How far back (in beats) an event may be dated relative to the beat whose
    /// [`push_beat`](Self::push_beat) emits it: AF onsets/offsets are back-dated by
    /// [`RhythmConfig::af_backdate_beats`], sinus episodes start [`SINUS_WINDOW`] beats back,
    /// every other episode ends at the latest beat (pauses: the beat that ends them; live
    /// onsets through [`advance`](Self::advance)).
    ///
    /// This bounds the *reporting* delay of the state machine. How many beats of a new rhythm
    /// it takes to convince the AF evidence is data-dependent (typically about half the
    /// [`AF_WINDOW`]-interval window, which is why onsets are back-dated by that much).
    pub fn latency_beats(&self) -> u32 {
        self.cfg.af_backdate_beats.max(SINUS_WINDOW as u32)
    }

    /// [`latency_beats`](Self::latency_beats) in samples at the current beat: the distance
    /// from the latest beat back to the oldest beat an event emitted now may be dated to (0
    /// before the first beat).
    pub fn latency_samples(&self) -> u64 {
        let Some(last) = self.last else { return 0 };
        let back = u64::from(self.latency_beats()).min(self.n_beats.saturating_sub(1));
        last.saturating_sub(self.beat_back(back).unwrap_or(last))
    }

    /// Sample of the beat `k` beats before the latest (0 = latest), if still remembered.
    fn beat_back(&self, k: u64) -> Option<u64> {
        if k >= self.n_beats || k >= BEAT_RING as u64 {
            return None;
        }
        let idx = (self.n_beats - 1 - k) as usize % BEAT_RING;
        Some(self.beat_ring[idx])
    }

    fn is_bad_at(&self, sample: u64) -> bool {
        self.bad[..self.bad_len]
            .iter()
            .any(|&(s, e)| sample >= s && sample <= e)
    }

    fn overlaps_bad(&self, a: u64, b: u64) -> bool {
        self.bad[..self.bad_len]
            .iter()
            .any(|&(s, e)| s <= b && e >= a)
    }

    /// A stretch of signal quality from the DSP side. Noisy and LeadsOff segments are
    /// reported as [`RhythmKind::Noise`] episodes (an onset and the episode at once) and
    /// remembered (the last 8), so that beats inside them are ignored and gaps overlapping
    /// them are not pauses. Push a segment before the beats it covers for full effect.
    pub fn push_quality(
        &mut self,
        start: u64,
        end: u64,
        quality: SignalQuality,
        emit: &mut impl FnMut(RhythmEvent),
    ) {
        if quality == SignalQuality::Good || end < start {
            return;
        }
        self.bad[self.bad_head % BAD_RING] = (start, end);
        self.bad_head = (self.bad_head + 1) % BAD_RING;
        self.bad_len = (self.bad_len + 1).min(BAD_RING);
        let kind = RhythmKind::Noise;
        emit(RhythmEvent::Onset {
            kind,
            sample: start,
        });
        emit(RhythmEvent::Episode(Episode {
            kind,
            start,
            end,
            beats: 0,
            min_rate_bpm: 0.0,
            max_rate_bpm: 0.0,
            mean_rate_bpm: 0.0,
        }));
    }

    /// Time has passed up to sample `now` without a beat: emits pause and asystole onsets live.
    pub fn advance(&mut self, now: u64, emit: &mut impl FnMut(RhythmEvent)) {
        let Some(last) = self.last else { return };
        if now <= last || self.overlaps_bad(last, now) {
            return;
        }
        let gap = now - last;
        if gap > self.pause && !self.pause_onset {
            self.pause_onset = true;
            emit(RhythmEvent::Onset {
                kind: RhythmKind::Pause,
                sample: last,
            });
        }
        if gap > self.asystole && !self.asystole_onset {
            self.asystole_onset = true;
            emit(RhythmEvent::Onset {
                kind: RhythmKind::Asystole,
                sample: last,
            });
        }
    }

    /// Close a gap from the last beat to `to` (a beat, or the end of the recording).
    fn close_gap(&mut self, to: u64, emit: &mut impl FnMut(RhythmEvent)) {
        let Some(last) = self.last else { return };
        if to > last && !self.overlaps_bad(last, to) {
            let gap = to - last;
            let report = |kind, onset: bool, emit: &mut dyn FnMut(RhythmEvent)| {
                if !onset {
                    emit(RhythmEvent::Onset { kind, sample: last });
                }
                let mut acc = Acc::new(kind, last);
                acc.add(to);
                emit(RhythmEvent::Episode(acc.episode(self.cfg.fs)));
            };
            // An onset emitted by `advance` is always closed, even if the beat that ends the
            // gap turns out to be earlier than the time `advance` was told.
            if gap > self.pause || self.pause_onset {
                self.counts.pauses = self.counts.pauses.saturating_add(1);
                report(RhythmKind::Pause, self.pause_onset, emit);
            }
            if gap > self.asystole || self.asystole_onset {
                self.counts.asystoles = self.counts.asystoles.saturating_add(1);
                report(RhythmKind::Asystole, self.asystole_onset, emit);
            }
        } else if self.pause_onset || self.asystole_onset {
            // Onsets were emitted but a bad segment arrived since: close them as they stand.
            for (kind, on) in [
                (RhythmKind::Pause, self.pause_onset),
                (RhythmKind::Asystole, self.asystole_onset),
            ] {
                if on {
                    let mut acc = Acc::new(kind, last);
                    acc.add(to.max(last));
                    emit(RhythmEvent::Episode(acc.episode(self.cfg.fs)));
                }
            }
        }
        self.pause_onset = false;
        self.asystole_onset = false;
    }

    /// Feed the next beat. Beats whose sample does not increase are ignored (counted in
    /// [`EctopyCounts::rejected_beats`]).
    pub fn push_beat(&mut self, beat: Beat, emit: &mut impl FnMut(RhythmEvent)) {
        if let Some(last) = self.last {
            if beat.sample <= last {
                self.counts.rejected_beats = self.counts.rejected_beats.saturating_add(1);
                return;
            }
        }
        let s = beat.sample;
        let class = beat.effective_class();
        let bad = self.is_bad_at(s);
        self.close_gap(s, emit);

        // Remember the beat (for AF back-dating).
        self.beat_ring[(self.n_beats % BEAT_RING as u64) as usize] = s;
        self.n_beats += 1;

        let prev = self.last;
        self.prev_beat = prev;
        let prev_class = self.last_class;
        let prev_bad = self.last_bad;
        self.last = Some(s);
        self.last_class = class;
        self.last_bad = bad;

        // An interval is usable when both its beats are in good signal and it is no pause
        // (a pause is a block, an arrest or a missed beat, not the rhythm's variability).
        let rr = match prev {
            Some(p) if !bad && !prev_bad && !self.overlaps_bad(p, s) && s - p <= self.pause => {
                Some(s - p)
            }
            _ => None,
        };

        if bad {
            // Beats in noise make no rhythm: end the runs and patterns as they stand.
            self.end_run(BeatClass::Ventricular, emit);
            self.end_run(BeatClass::Supraventricular, emit);
            self.end_pattern(emit);
            self.pattern.last_v = None;
            self.af.interrupt();
            return;
        }

        self.ectopy(s, class, emit);
        self.sinus_beat(s, class, prev_class, rr, emit);
        self.af_beat(s, &beat, prev_class, rr, emit);
    }

    /// Ectopic runs (VT, SVT, counts) and bigeminy / trigeminy.
    fn ectopy(&mut self, s: u64, class: BeatClass, emit: &mut impl FnMut(RhythmEvent)) {
        match class {
            BeatClass::Ventricular => self.counts.v_beats = self.counts.v_beats.saturating_add(1),
            BeatClass::Supraventricular => {
                self.counts.s_beats = self.counts.s_beats.saturating_add(1)
            }
            BeatClass::Fusion => self.counts.f_beats = self.counts.f_beats.saturating_add(1),
            _ => {}
        }
        for c in [BeatClass::Ventricular, BeatClass::Supraventricular] {
            if class == c {
                self.extend_run(c, s, emit);
            } else {
                self.end_run(c, emit);
            }
        }

        // Bigeminy / trigeminy.
        if class == BeatClass::Ventricular {
            let p = &mut self.pattern;
            let gap = if p.last_v.is_some() { p.since_v } else { 0 };
            let rr = p.last_v.map(|v| s.saturating_sub(v)).unwrap_or(0);
            if (gap == 1 || gap == 2) && gap == p.gap {
                p.cycles += 1;
                p.beats = p.beats.saturating_add(gap + 1);
                p.min_rr = p.min_rr.min(rr);
                p.max_rr = p.max_rr.max(rr);
            } else {
                self.end_pattern(emit);
                let p = &mut self.pattern;
                if gap == 1 || gap == 2 {
                    p.gap = gap;
                    p.cycles = 1;
                    p.first_v = p.last_v.unwrap_or(s);
                    p.beats = gap + 2;
                    p.min_rr = rr;
                    p.max_rr = rr;
                }
            }
            let p = &mut self.pattern;
            p.last_v = Some(s);
            p.since_v = 0;
            if p.gap != 0 && !p.open && p.cycles >= self.cfg.pattern_min_cycles {
                p.open = true;
                let kind = pattern_kind(p.gap);
                let sample = p.first_v;
                emit(RhythmEvent::Onset { kind, sample });
            }
        } else {
            self.pattern.since_v = self.pattern.since_v.saturating_add(1);
            if self.pattern.gap != 0 && self.pattern.since_v > self.pattern.gap {
                self.end_pattern(emit);
            }
        }
    }

    fn end_pattern(&mut self, emit: &mut impl FnMut(RhythmEvent)) {
        let p = &mut self.pattern;
        if p.open {
            let end = p.last_v.unwrap_or(p.first_v).max(p.first_v);
            // Rates: the pattern's "cycle" rate would mislead; report the beat rate of the
            // pattern from the V-to-V cycle lengths (gap + 1 beats per cycle).
            let per = u64::from(p.gap + 1);
            let bpm = |rr: u64| 60.0 * self.cfg.fs * per as f32 / rr.max(1) as f32;
            let mean = if end > p.first_v {
                60.0 * self.cfg.fs * (p.cycles as u64 * per) as f32 / (end - p.first_v) as f32
            } else {
                0.0
            };
            emit(RhythmEvent::Episode(Episode {
                kind: pattern_kind(p.gap),
                start: p.first_v,
                end,
                beats: p.beats,
                min_rate_bpm: bpm(p.max_rr),
                max_rate_bpm: bpm(p.min_rr),
                mean_rate_bpm: mean,
            }));
        }
        p.open = false;
        p.gap = 0;
        p.cycles = 0;
    }

    fn run_mut(&mut self, c: BeatClass) -> &mut Run {
        if c == BeatClass::Ventricular {
            &mut self.v_run
        } else {
            &mut self.s_run
        }
    }

    fn extend_run(&mut self, c: BeatClass, s: u64, emit: &mut impl FnMut(RhythmEvent)) {
        let min_beats = self.cfg.run_min_beats;
        let tachy = self.cfg.vt_bpm;
        let fs = self.cfg.fs;
        let kind = if c == BeatClass::Ventricular {
            RhythmKind::VentricularTachycardia
        } else {
            RhythmKind::SupraventricularTachycardia
        };
        let before = self.prev_beat;
        let r = self.run_mut(c);
        if r.len == 0 {
            r.first = s;
            r.before = before.unwrap_or(s);
        }
        r.len = r.len.saturating_add(1);
        r.last = s;
        if let Some(acc) = r.episode.as_mut() {
            acc.add(s);
        } else if r.len >= min_beats && s > r.before {
            // Each beat's rate is that of the interval before it (the usual Holter
            // convention), so the run's rate includes its first beat's coupling interval.
            let rate = 60.0 * fs * r.len as f32 / (s - r.before) as f32;
            if rate > tachy {
                // Statistics from the run's first beat: rebuild them from its bounds (the
                // intermediate beats' intervals are lost, so min/max start from the mean).
                let mean_rr = (s - r.first) / u64::from(r.len - 1);
                let mut acc = Acc::new(kind, r.first);
                acc.last = s;
                acc.beats = r.len;
                acc.min_rr = mean_rr;
                acc.max_rr = mean_rr;
                r.episode = Some(acc);
                emit(RhythmEvent::Onset {
                    kind,
                    sample: r.first,
                });
            }
        }
    }

    fn end_run(&mut self, c: BeatClass, emit: &mut impl FnMut(RhythmEvent)) {
        let fs = self.cfg.fs;
        let r = self.run_mut(c);
        let len = r.len;
        if len == 0 {
            return;
        }
        let ep = r.episode.take();
        *r = Run::default();
        if let Some(acc) = ep {
            emit(RhythmEvent::Episode(acc.episode(fs)));
        }
        let k = &mut self.counts;
        let (iso, cpl, run) = if c == BeatClass::Ventricular {
            (&mut k.v_isolated, &mut k.v_couplets, &mut k.v_runs)
        } else {
            (&mut k.s_isolated, &mut k.s_couplets, &mut k.s_runs)
        };
        let slot = match len {
            1 => iso,
            2 => cpl,
            _ => run,
        };
        *slot = slot.saturating_add(1);
    }

    /// Sinus bradycardia / tachycardia from normal-to-normal intervals.
    fn sinus_beat(
        &mut self,
        s: u64,
        class: BeatClass,
        prev_class: BeatClass,
        rr: Option<u64>,
        emit: &mut impl FnMut(RhythmEvent),
    ) {
        let normal = |c: BeatClass| matches!(c, BeatClass::Normal | BeatClass::Unknown);
        // An ectopic beat neither adds an interval nor ends the episode: an isolated PVC in a
        // sinus tachycardia does not end it. A pause does end the window (it is not sinus).
        let Some(rr) = rr else {
            self.nn_len = 0;
            self.close_sinus(emit);
            return;
        };
        if !(normal(class) && normal(prev_class)) {
            return;
        }
        if let Some(acc) = self.sinus.as_mut() {
            acc.add(s);
        }
        self.nn[self.nn_head] = (rr, s - rr);
        self.nn_head = (self.nn_head + 1) % SINUS_WINDOW;
        self.nn_len = (self.nn_len + 1).min(SINUS_WINDOW);
        if self.nn_len < SINUS_WINDOW {
            return;
        }
        let total: u64 = self.nn.iter().map(|&(r, _)| r).sum();
        let bpm = 60.0 * self.cfg.fs * SINUS_WINDOW as f32 / total.max(1) as f32;
        let h = self.cfg.sinus_hysteresis_bpm;
        // Mean |difference| of successive intervals (in window order) over the mean interval.
        let oldest = self.nn_head % SINUS_WINDOW;
        let mut dsum = 0u64;
        for k in 1..SINUS_WINDOW {
            let a = self.nn[(oldest + k - 1) % SINUS_WINDOW].0;
            let b = self.nn[(oldest + k) % SINUS_WINDOW].0;
            dsum += a.abs_diff(b);
        }
        let irregularity =
            (dsum as f32 / (SINUS_WINDOW - 1) as f32) / (total.max(1) as f32 / SINUS_WINDOW as f32);
        let af = self.af_open.is_some() || irregularity > self.cfg.sinus_max_irregularity;
        let want = if af {
            None
        } else {
            match self.sinus.map(|a| a.kind) {
                Some(RhythmKind::SinusBradycardia) if bpm < self.cfg.brady_bpm + h => {
                    Some(RhythmKind::SinusBradycardia)
                }
                Some(RhythmKind::SinusTachycardia) if bpm > self.cfg.tachy_bpm - h => {
                    Some(RhythmKind::SinusTachycardia)
                }
                _ if bpm < self.cfg.brady_bpm => Some(RhythmKind::SinusBradycardia),
                _ if bpm > self.cfg.tachy_bpm => Some(RhythmKind::SinusTachycardia),
                _ => None,
            }
        };
        if want != self.sinus.map(|a| a.kind) {
            self.close_sinus(emit);
            if let Some(kind) = want {
                // Back-date to the first interval of the window that is itself beyond the
                // limit (the window's older intervals may be normal ones that it averaged in).
                let fs = self.cfg.fs;
                let beyond = |rr: u64| {
                    let r = 60.0 * fs / rr.max(1) as f32;
                    if kind == RhythmKind::SinusBradycardia {
                        r < self.cfg.brady_bpm
                    } else {
                        r > self.cfg.tachy_bpm
                    }
                };
                let first = (0..SINUS_WINDOW)
                    .find(|&k| beyond(self.nn[(oldest + k) % SINUS_WINDOW].0))
                    .unwrap_or(0);
                let start = self.nn[(oldest + first) % SINUS_WINDOW].1;
                let mut acc = Acc::new(kind, start);
                for k in first..SINUS_WINDOW {
                    let (r, b) = self.nn[(oldest + k) % SINUS_WINDOW];
                    acc.add(b + r);
                }
                emit(RhythmEvent::Onset {
                    kind,
                    sample: start,
                });
                self.sinus = Some(acc);
            }
        }
    }

    fn close_sinus(&mut self, emit: &mut impl FnMut(RhythmEvent)) {
        if let Some(acc) = self.sinus.take() {
            emit(RhythmEvent::Episode(acc.episode(self.cfg.fs)));
        }
    }

    /// AF evidence and the AF episode.
    fn af_beat(
        &mut self,
        s: u64,
        beat: &Beat,
        prev_class: BeatClass,
        rr: Option<u64>,
        emit: &mut impl FnMut(RhythmEvent),
    ) {
        let class = beat.effective_class();
        let doubtful = beat.labelled && beat.probability < self.cfg.min_probability;
        // Labelled beats of unknown class (paced, unclassifiable, flutter waves) tell nothing
        // about the atrial rhythm either: their intervals are left out like ectopic ones.
        let excluded =
            |c: BeatClass, labelled: bool| labelled && (c.is_ectopic() || c == BeatClass::Unknown);
        let ectopic = (excluded(class, beat.labelled) && !doubtful)
            || excluded(prev_class, self.prev_labelled);
        self.prev_labelled = beat.labelled;
        self.s_mask = (self.s_mask << 1) | u64::from(class == BeatClass::Supraventricular);
        let s_fraction = self.s_mask.count_ones() as f32 / 64.0;
        self.v_mask = (self.v_mask << 1) | u64::from(class == BeatClass::Ventricular);
        let v_fraction = self.v_mask.count_ones() as f32 / 64.0;
        match rr {
            Some(rr) if !ectopic => {
                self.af_unclean = 0;
                if let Some(x) = self
                    .af
                    .push(rr as f32 / self.cfg.fs, s_fraction, v_fraction)
                {
                    let a = 1.0 / self.cfg.af_smooth_beats;
                    let v = match self.af_smooth {
                        Some(old) => old + a * (x - old),
                        None => x,
                    };
                    self.af_smooth = Some(v);
                }
            }
            _ => {
                self.af.interrupt();
                // Evidence older than a whole window of beats without one clean interval
                // (a paced stretch, sustained bigeminy, a long run of unclassifiable beats)
                // no longer describes the rhythm: forget it, and end an AF episode.
                self.af_unclean = self.af_unclean.saturating_add(1);
                if self.af_unclean >= AF_WINDOW as u32 {
                    self.af_unclean = 0;
                    self.af.reset();
                    self.af_smooth = None;
                    self.close_af(emit);
                    return;
                }
            }
        }

        let back = u64::from(self.cfg.af_backdate_beats);
        // The lagged statistics follow the beat `back` beats behind.
        if let Some(acc) = self.af_open.as_mut() {
            if self.n_beats > back {
                let k = self.n_beats - 1 - back;
                if k > self.af_start_idx {
                    let idx = (k % BEAT_RING as u64) as usize;
                    acc.add(self.beat_ring[idx]);
                }
            }
        }

        let Some(score) = self.af_smooth else { return };
        if self.af_open.is_none() && score >= self.cfg.af_on && score > 0.0 {
            let k = back.min(self.n_beats - 1);
            let mut start = self.beat_back(k).unwrap_or(s);
            let mut idx = self.n_beats - 1 - k;
            // Never back-date before the end of the previous AF episode.
            while start <= self.af_last_end && idx + 1 < self.n_beats {
                idx += 1;
                start = self.beat_back(self.n_beats - 1 - idx).unwrap_or(s);
            }
            // AF is not sinus tachycardia: close a sinus episode that is open.
            self.close_sinus(emit);
            self.af_open = Some(Acc::new(RhythmKind::AtrialFibrillation, start));
            self.af_start_idx = idx;
            emit(RhythmEvent::Onset {
                kind: RhythmKind::AtrialFibrillation,
                sample: start,
            });
        } else if self.af_open.is_some() && score < self.cfg.af_off {
            self.close_af(emit);
        }
    }

    fn close_af(&mut self, emit: &mut impl FnMut(RhythmEvent)) {
        if let Some(acc) = self.af_open.take() {
            self.af_last_end = acc.last;
            emit(RhythmEvent::Episode(acc.episode(self.cfg.fs)));
        }
    }

    /// End of the recording at sample `end`: closes every open episode (an AF episode ends
    /// at the last beat, not back-dated; a final gap longer than the pause / asystole
    /// thresholds is reported).
    pub fn finish(&mut self, end: u64, emit: &mut impl FnMut(RhythmEvent)) {
        self.end_run(BeatClass::Ventricular, emit);
        self.end_run(BeatClass::Supraventricular, emit);
        self.end_pattern(emit);
        self.close_sinus(emit);
        if let Some(acc) = self.af_open.as_mut() {
            // Bring the lagged statistics up to the last beat.
            let first = self.af_start_idx + 1;
            let from = first.max(
                self.n_beats
                    .saturating_sub(u64::from(self.cfg.af_backdate_beats)),
            );
            for k in from..self.n_beats {
                acc.add(self.beat_ring[(k % BEAT_RING as u64) as usize]);
            }
        }
        self.close_af(emit);
        self.close_gap(end, emit);
    }
}

fn pattern_kind(gap: u32) -> RhythmKind {
    if gap == 1 {
        RhythmKind::VentricularBigeminy
    } else {
        RhythmKind::VentricularTrigeminy
    }
}

#[allow(dead_code)]
const _: () = assert!(AF_WINDOW < BEAT_RING);
