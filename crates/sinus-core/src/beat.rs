//! What the beat classifier sees of each beat, computed causally and in fixed memory: the one
//! implementation that training-data preparation, `sinus classify`/`sinus analyze` and the
//! device all run.
//!
//! For every beat, in time order:
//! 1. [`fiducial`]: the beat is re-aligned on a point computed from the signal itself — the
//!    peak of the QRS's slope energy — so a window cut at an annotator's mark and one cut at a
//!    detector's mark (which differ by a few ms, differently for each beat class) become the
//!    same window. Look-ahead: [`FIDUCIAL_SEARCH_S`] + a few ms.
//! 2. [`cut_window`] + [`z_normalise`]: a fixed-length window around the fiducial point,
//!    linearly interpolated at any sampling rate, per-lead zero mean and unit variance.
//! 3. [`RunningTemplate`]: the point-wise median of the previous non-premature beats' windows,
//!    subtracted from this beat: how it differs from the patient's usual beat, from the past
//!    only.
//! 4. [`RrContext`]: RR intervals and their running means, from the fiducial times; the
//!    following RR interval is one of the features, so a beat's RR features are ready when
//!    the next beat is found (latency: one beat).
//!
//! Storage is the caller's (a `Vec` on a PC, a static array on the device), as in
//! [`crate::nn`].

/// Seconds either side of a candidate beat time searched for the fiducial point.
pub const FIDUCIAL_SEARCH_S: f32 = 0.1;
/// Half-width (s) of the central difference whose square is the slope energy.
const SLOPE_HALF_S: f32 = 0.008;
/// Half-width (s) of the moving sum that smooths the slope energy into one hump per QRS.
const SMOOTH_HALF_S: f32 = 0.02;
/// Step (s) of the time grid the slope energy is evaluated on, whatever the sampling rate.
const GRID_S: f32 = 0.002;
/// Grid points either side of the candidate searched, in the smoothing sum, and in the
/// difference.
const SEARCH_STEPS: usize = 50; // FIDUCIAL_SEARCH_S / GRID_S
const SMOOTH_STEPS: usize = 10; // SMOOTH_HALF_S / GRID_S
const SLOPE_STEPS: usize = 4; // SLOPE_HALF_S / GRID_S

/// Samples either side of a candidate that [`fiducial`] reads at sampling rate `fs`: the
/// search span plus the smoothing and difference half-widths, and one for interpolation.
pub fn fiducial_reach(fs: f32) -> usize {
    libm::ceilf((FIDUCIAL_SEARCH_S + SMOOTH_HALF_S + SLOPE_HALF_S) * fs) as usize + 1
}

/// The fiducial point of the beat near sample `candidate` of `x` (one lead at `fs` Hz): the
/// time, in samples of `x` with sub-sample precision, of the largest smoothed slope energy
/// `Σ (x(t+8 ms) − x(t−8 ms))²` over t ± [`SMOOTH_HALF_S`], within ±[`FIDUCIAL_SEARCH_S`] of
/// the candidate.
///
/// Why: annotators mark the R peak, detectors mark where their own filters peak, and the two
/// differ by a few ms — differently for wide, small or notched beats. A classifier trained on
/// one and run on the other sees shifted windows. Both paths align to this point instead, so
/// they cut the same window whenever their marks fall within the same QRS. The energy is
/// smoothed over 40 ms so that a notched or biphasic QRS has a single maximum, and the slope
/// (not the amplitude) ignores baseline and T-wave height. Everything is evaluated on a 2 ms
/// time grid (the signal linearly interpolated), not on the sample grid, so the same beat gives
/// the same point at 128, 250 or 360 Hz: widths rounded to whole samples would make the point
/// depend on the rate.
///
/// `None` when the span reaches past either end of `x`, or holds a value that is not finite:
/// the caller then keeps the candidate.
pub fn fiducial(x: &[f32], fs: f32, candidate: usize) -> Option<f64> {
    if !(fs.is_finite() && fs > 0.0) {
        return None;
    }
    let reach = fiducial_reach(fs);
    if candidate < reach || candidate + reach >= x.len() {
        return None;
    }
    // Samples per grid step; grid point g is at candidate + g·step.
    let step = GRID_S * fs;
    // Positions relative to the candidate keep full precision deep into a long recording.
    let at = |g: isize| -> f32 {
        let rel = g as f32 * step;
        let whole = libm::floorf(rel);
        let frac = rel - whole;
        let i0 = (candidate as isize + whole as isize) as usize;
        x[i0] + (x[i0 + 1] - x[i0]) * frac
    };
    let slope = |g: isize| {
        let d = at(g + SLOPE_STEPS as isize) - at(g - SLOPE_STEPS as isize);
        d * d
    };
    let (w, m) = (SEARCH_STEPS as isize, SMOOTH_STEPS as isize);
    // Slope energy on the grid from −w−m to w+m, then its moving sum over ±m.
    const SPAN: usize = 2 * (SEARCH_STEPS + SMOOTH_STEPS) + 1;
    let mut e = [0.0f32; SPAN];
    for (k, v) in e.iter_mut().enumerate() {
        *v = slope(k as isize - w - m);
        if !v.is_finite() {
            return None;
        }
    }
    let mut sum: f32 = e[..(2 * m + 1) as usize].iter().sum();
    let mut smooth = [0.0f32; 2 * SEARCH_STEPS + 1];
    smooth[0] = sum;
    for k in 1..smooth.len() {
        sum += e[k + 2 * m as usize] - e[k - 1];
        smooth[k] = sum;
    }
    let best = crate::nn::argmax(&smooth);
    // Parabola through the maximum and its neighbours.
    let mut g = best as f32;
    if best > 0 && best + 1 < smooth.len() {
        let (a, b, c) = (smooth[best - 1], smooth[best], smooth[best + 1]);
        let den = a - 2.0 * b + c;
        if den < 0.0 {
            g += (0.5 * (a - c) / den).clamp(-0.5, 0.5);
        }
    }
    Some(candidate as f64 + ((g - w as f32) * step) as f64)
}

/// Why a window could not be cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowError {
    /// The window reaches past the start or the end of the signal.
    Edge,
    /// The window holds a value that is not finite (a missing sample).
    Missing,
}

/// Fill `out` with `x` linearly interpolated at `out.len()` evenly spaced positions from
/// `start` to `end` (sample units of `x`, both included).
///
/// Linear rather than band-limited: the window is short and its point spacing (≈ 5 ms for
/// 128 points over 0.65 s) is close to the sample spacing, so aliasing is negligible.
pub fn cut_window(x: &[f32], start: f64, end: f64, out: &mut [f32]) -> Result<(), WindowError> {
    let len = out.len();
    if len == 0 {
        return Ok(());
    }
    if !(start.is_finite() && end.is_finite()) || start < 0.0 || end > (x.len() as f64 - 1.0) {
        return Err(WindowError::Edge);
    }
    let step = if len > 1 {
        (end - start) / (len - 1) as f64
    } else {
        0.0
    };
    for (j, o) in out.iter_mut().enumerate() {
        let pos = start + step * j as f64;
        let i0 = libm::floor(pos) as usize;
        let frac = (pos - i0 as f64) as f32;
        let a = x[i0];
        let v = if frac > 0.0 {
            let b = x.get(i0 + 1).copied().unwrap_or(a);
            a + (b - a) * frac
        } else {
            a
        };
        if !v.is_finite() {
            return Err(WindowError::Missing);
        }
        *o = v;
    }
    Ok(())
}

/// Zero mean and unit standard deviation, in place: removes the amplitude scale (gain, lead
/// placement, the patient's build), which differs between patients and recorders far more
/// than the beat's shape. A flat window (sd ≈ 0) is only centred: dividing would blow up
/// noise.
pub fn z_normalise(v: &mut [f32]) {
    if v.is_empty() {
        return;
    }
    let n = v.len() as f64;
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = v
        .iter()
        .map(|&x| (x as f64 - mean) * (x as f64 - mean))
        .sum::<f64>()
        / n;
    let sd = libm::sqrt(var);
    let scale = if sd > 1e-9 { 1.0 / sd } else { 1.0 };
    for x in v {
        *x = ((*x as f64 - mean) * scale) as f32;
    }
}

/// Beats whose windows make the [`RunningTemplate`] (its memory: this × the window size
/// values).
pub const TEMPLATE_BEATS: usize = 32;

/// A beat whose previous RR interval is shorter than this fraction of the local mean RR is
/// premature and is kept out of the [`BeatFeaturizer`]'s template: the template stands for
/// the patient's normal beat, and in a stretch with more premature (ectopic) beats than
/// normal ones a median of every beat would become the ectopic beat itself. (The issue's
/// "template of recent normal beats", with the rhythm rather than the classifier's own
/// output deciding, so that training data and inference need no classifier in the loop.)
pub const TEMPLATE_PREMATURE: f32 = 0.9;

/// The point-wise median of the last `beats` windows, updated one beat at a time in fixed
/// memory: the patient's usual beat, from the past only.
///
/// A median rather than a mean so that ectopic beats (fewer than half of the recent ones in
/// all but bigeminy) do not enter it; over the last beats rather than the record so that it
/// follows slow changes of axis and morphology through a long recording.
///
/// Storage (`beats × size` values): the last windows in a ring. Each point's median is
/// selected when a beat is subtracted (sorting ≤ [`MAX_TEMPLATE_BEATS`] integer keys per
/// point): half the memory of keeping every point's values sorted, which on the device is
/// 16 KB, for a few thousand integer comparisons per beat.
#[derive(Debug, Clone)]
pub struct RunningTemplate<S> {
    storage: S,
    size: usize,
    beats: usize,
    /// Windows held (≤ beats).
    count: usize,
    /// Ring slot of the next window.
    head: usize,
}

/// Most beats a [`RunningTemplate`] can hold.
pub const MAX_TEMPLATE_BEATS: usize = 64;

/// The storage a [`RunningTemplate`] needs is too small: this many values are needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateStorageTooSmall(pub usize);

/// An integer that orders finite `f32`s as their values (IEEE total order), so that medians
/// are selected with integer comparisons — cheap on a core without an FPU.
#[inline]
fn order_key(x: f32) -> i32 {
    let b = x.to_bits() as i32;
    b ^ ((((b >> 31) as u32) >> 1) as i32)
}

impl<S: AsRef<[f32]> + AsMut<[f32]>> RunningTemplate<S> {
    /// Values of storage for windows of `size` values and a template of `beats` beats.
    pub const fn storage_len(size: usize, beats: usize) -> usize {
        size * beats
    }

    /// A template over the last `beats` (1..=[`MAX_TEMPLATE_BEATS`], clamped) windows of
    /// `size` values each.
    pub fn new(
        storage: S,
        size: usize,
        beats: usize,
    ) -> Result<RunningTemplate<S>, TemplateStorageTooSmall> {
        let mut t = RunningTemplate::unconfigured(storage);
        t.configure(size, beats)?;
        Ok(t)
    }

    /// A template of windows of no values, until [`configure`](Self::configure)d: a value
    /// that can be built at compile time (a device keeps it in static memory and configures
    /// it in place).
    pub const fn unconfigured(storage: S) -> RunningTemplate<S> {
        RunningTemplate {
            storage,
            size: 0,
            beats: 1,
            count: 0,
            head: 0,
        }
    }

    /// Start again over the last `beats` (clamped to 1..=[`MAX_TEMPLATE_BEATS`]) windows of
    /// `size` values each.
    pub fn configure(&mut self, size: usize, beats: usize) -> Result<(), TemplateStorageTooSmall> {
        let beats = beats.clamp(1, MAX_TEMPLATE_BEATS);
        let need = Self::storage_len(size, beats);
        if self.storage.as_ref().len() < need {
            return Err(TemplateStorageTooSmall(need));
        }
        self.size = size;
        self.beats = beats;
        self.clear();
        Ok(())
    }

    /// Forget every window (a new recording, or after leads-off).
    pub fn clear(&mut self) {
        self.count = 0;
        self.head = 0;
    }

    /// Windows the template holds now.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no window has been added yet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Write `window − template` into `difference` (zeros while the template is empty), then
    /// add `window` to the template. `window` and `difference` hold `size` values; values
    /// must be finite (as [`cut_window`] guarantees).
    pub fn subtract_then_add(&mut self, window: &[f32], difference: &mut [f32]) {
        self.subtract(window, difference);
        self.add(window);
    }

    /// Write `window − template` into `difference` (zeros while the template is empty).
    pub fn subtract(&self, window: &[f32], difference: &mut [f32]) {
        let (size, count) = (self.size, self.count);
        let ring = self.storage.as_ref();
        let mut keys = [(0i32, 0.0f32); MAX_TEMPLATE_BEATS];
        for (j, d) in difference.iter_mut().enumerate().take(size) {
            if count == 0 {
                *d = 0.0;
                continue;
            }
            // Insertion sort of the point's values by key: ≤ 64 values, mostly few moves.
            for k in 0..count {
                let v = ring[k * size + j];
                let key = order_key(v);
                let mut i = k;
                while i > 0 && keys[i - 1].0 > key {
                    keys[i] = keys[i - 1];
                    i -= 1;
                }
                keys[i] = (key, v);
            }
            *d = window[j] - keys[count / 2].1;
        }
    }

    /// Add `window` (`size` finite values) to the template, replacing the oldest once full.
    pub fn add(&mut self, window: &[f32]) {
        let (size, beats, count) = (self.size, self.beats, self.count);
        let slot = self.head;
        self.storage.as_mut()[slot * size..(slot + 1) * size].copy_from_slice(&window[..size]);
        self.head = (slot + 1) % beats;
        self.count = (count + 1).min(beats);
    }
}

/// Names of the RR features, in the order [`RrContext`] gives them. Intervals in seconds.
pub const RR_FEATURES: [&str; 8] = [
    "prev_rr",
    "next_rr",
    "local_rr",
    "long_rr",
    "prev_over_local",
    "next_over_local",
    "prev_over_long",
    "local_over_long",
];

/// RR intervals in the local mean.
pub const LOCAL_RR_COUNT: usize = 10;
/// Beats over which the long-term mean RR settles (the weight of a new interval is
/// 1/min(intervals seen, this)): a few minutes of rhythm, the patient's own rate.
pub const LONG_RR_BEATS: u32 = 128;
/// Intervals enter the running means clamped to this range (s): a detection gap or a missed
/// beat must not drag the patient's mean rate far for minutes.
const RR_CLAMP_S: (f32, f32) = (0.2, 2.5);

/// Running RR statistics of a beat sequence, in fixed memory; yields each beat's RR features
/// ([`RR_FEATURES`]) once the next beat is known.
///
/// - previous / next RR: the intervals to the neighbouring beats (at the first beat the
///   previous one is taken equal to the next; at the last, [`RrContext::finish`], the next
///   equal to the previous);
/// - local RR: mean of up to [`LOCAL_RR_COUNT`] intervals ending at this beat;
/// - long RR: running mean over about [`LONG_RR_BEATS`] intervals ending at this beat;
/// - the ratios: a premature beat has prev/local < 1 whatever the patient's rate, which is
///   what separates SVEB across patients.
#[derive(Debug, Clone)]
pub struct RrContext {
    recent: [f32; LOCAL_RR_COUNT],
    /// Intervals in `recent` (≤ LOCAL_RR_COUNT) and the slot of the next one.
    n_recent: usize,
    head: usize,
    long: f32,
    n_long: u32,
    /// Time (s) of the last beat, and the interval before it.
    last: Option<(f64, Option<f32>)>,
}

impl Default for RrContext {
    fn default() -> Self {
        RrContext::new()
    }
}

impl RrContext {
    /// No beat seen.
    pub const fn new() -> RrContext {
        RrContext {
            recent: [0.0; LOCAL_RR_COUNT],
            n_recent: 0,
            head: 0,
            long: 0.0,
            n_long: 0,
            last: None,
        }
    }

    /// Forget every beat.
    pub fn clear(&mut self) {
        *self = RrContext::new();
    }

    /// A beat at `time` seconds (non-decreasing): returns the RR features of the previous
    /// beat, whose following interval is now known (`None` at the first beat).
    pub fn push(&mut self, time: f64) -> Option<[f32; 8]> {
        let Some((t0, prev)) = self.last else {
            self.last = Some((time, None));
            return None;
        };
        let next = (time - t0).max(0.0) as f32;
        let out = self.features(prev.unwrap_or(next), next, prev.is_some());
        self.add_interval(next);
        self.last = Some((time, Some(next)));
        Some(out)
    }

    /// The RR features of the last beat pushed, its next interval taken equal to its previous
    /// one (end of the recording). `None` if no beat was pushed; a lone beat gets 1 s
    /// intervals.
    pub fn finish(&self) -> Option<[f32; 8]> {
        let (_, prev) = self.last?;
        Some(match prev {
            Some(p) => self.features(p, p, true),
            None => self.features(1.0, 1.0, false),
        })
    }

    /// The previous interval of a beat at `time` over the local mean RR so far, before the
    /// beat is pushed: below 1 for a premature beat. `None` before two beats were seen.
    pub fn prematurity(&self, time: f64) -> Option<f32> {
        let (t0, _) = self.last?;
        let local = self.local_mean()?;
        let prev = (time - t0).max(0.0) as f32;
        (local > 0.0).then(|| prev / local)
    }

    /// Mean of the intervals in the local window; `None` before the first interval.
    fn local_mean(&self) -> Option<f32> {
        let recent = &self.recent[..self.n_recent];
        (!recent.is_empty()).then(|| recent.iter().sum::<f32>() / recent.len() as f32)
    }

    fn add_interval(&mut self, rr: f32) {
        let rr = rr.clamp(RR_CLAMP_S.0, RR_CLAMP_S.1);
        self.recent[self.head] = rr;
        self.head = (self.head + 1) % LOCAL_RR_COUNT;
        self.n_recent = (self.n_recent + 1).min(LOCAL_RR_COUNT);
        self.n_long = self.n_long.saturating_add(1);
        self.long += (rr - self.long) / self.n_long.min(LONG_RR_BEATS) as f32;
    }

    /// Features of a beat with intervals `prev` and `next`; `have_prev`: whether `prev` is a
    /// real interval already in the running means.
    fn features(&self, prev: f32, next: f32, have_prev: bool) -> [f32; 8] {
        let fallback = prev.clamp(RR_CLAMP_S.0, RR_CLAMP_S.1);
        let (local, long) = match self.local_mean() {
            Some(local) if have_prev => (local, self.long),
            _ => (fallback, fallback),
        };
        let ratio = |a: f32, b: f32| if b > 0.0 { a / b } else { 1.0 };
        [
            prev,
            next,
            local,
            long,
            ratio(prev, local),
            ratio(next, local),
            ratio(prev, long),
            ratio(local, long),
        ]
    }
}

/// How a beat's window is cut (the model's input layout).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowShape {
    /// Seconds of signal before the beat's centre.
    pub before_s: f64,
    /// Seconds after it.
    pub after_s: f64,
    /// Points per lead (at least 2).
    pub length: usize,
    /// Per-lead z-normalisation ([`z_normalise`]).
    pub z_normalise: bool,
    /// Add, per lead, the window minus the [`RunningTemplate`].
    pub template: bool,
    /// Centre the window on the [`fiducial`] point of the first lead rather than on the
    /// candidate time.
    pub align: bool,
}

impl WindowShape {
    /// Waveform values per beat: leads × length, twice that with the template.
    pub fn waveform_len(&self, leads: usize) -> usize {
        leads * self.length * if self.template { 2 } else { 1 }
    }
}

/// One lead as the [`BeatFeaturizer`] reads it: its samples and how many it has per frame
/// (1 unless the recording mixes rates).
#[derive(Debug, Clone, Copy)]
pub struct LeadSlice<'a> {
    /// Samples, physical units; non-finite values are missing samples.
    pub samples: &'a [f32],
    /// Samples per frame.
    pub per_frame: usize,
}

/// What [`BeatFeaturizer::beat`] found for one beat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeatWindow {
    /// The beat's centre, in frames of the slices given (the fiducial point when aligning
    /// and it could be found, else the candidate).
    pub centre: f64,
    /// Whether the waveform was written, or why not.
    pub window: Result<(), WindowError>,
    /// The RR features of the previous beat given, now that its next interval is known.
    pub previous_rr: Option<[f32; 8]>,
}

/// Every input of the beat classifier, beat after beat: fiducial point, windows of every
/// lead, running template differences and RR features (see the module documentation). The
/// one path that training data, `sinus classify`, `sinus analyze` and the device share.
#[derive(Debug, Clone)]
pub struct BeatFeaturizer<S> {
    shape: WindowShape,
    leads: usize,
    /// Used when `shape.template`.
    template: RunningTemplate<S>,
    rr: RrContext,
}

/// The shape of an [`BeatFeaturizer::unconfigured`] featurizer.
const NO_SHAPE: WindowShape = WindowShape {
    before_s: 0.0,
    after_s: 0.0,
    length: 2,
    z_normalise: false,
    template: false,
    align: false,
};

impl<S: AsRef<[f32]> + AsMut<[f32]>> BeatFeaturizer<S> {
    /// Storage values for `leads` leads cut as `shape`.
    pub const fn storage_len(shape: &WindowShape, leads: usize) -> usize {
        if shape.template {
            RunningTemplate::<S>::storage_len(leads * shape.length, TEMPLATE_BEATS)
        } else {
            0
        }
    }

    /// A featurizer for `leads` (≥ 1) leads; `storage` holds at least
    /// [`BeatFeaturizer::storage_len`] values.
    pub fn new(
        shape: WindowShape,
        leads: usize,
        storage: S,
    ) -> Result<BeatFeaturizer<S>, TemplateStorageTooSmall> {
        let mut f = BeatFeaturizer::unconfigured(storage);
        f.configure(shape, leads)?;
        Ok(f)
    }

    /// A featurizer that cuts nothing useful until [`configure`](Self::configure)d: a value
    /// that can be built at compile time, so that a device can keep it (and its template
    /// storage) in static memory and configure it in place, with no copy on the stack.
    pub const fn unconfigured(storage: S) -> BeatFeaturizer<S> {
        BeatFeaturizer {
            shape: NO_SHAPE,
            leads: 1,
            template: RunningTemplate::unconfigured(storage),
            rr: RrContext::new(),
        }
    }

    /// Start again, cutting `leads` (≥ 1) leads as `shape`; the storage must hold
    /// [`BeatFeaturizer::storage_len`] values.
    pub fn configure(
        &mut self,
        shape: WindowShape,
        leads: usize,
    ) -> Result<(), TemplateStorageTooSmall> {
        if shape.template {
            self.template
                .configure(leads * shape.length, TEMPLATE_BEATS)?;
        } else {
            self.template.configure(0, 1)?;
        }
        self.shape = shape;
        self.leads = leads;
        self.rr = RrContext::new();
        Ok(())
    }

    /// The window layout.
    pub fn shape(&self) -> &WindowShape {
        &self.shape
    }

    /// The beat near frame `candidate` of `leads` (frame 0 of the slices is at `origin_s`
    /// seconds of the recording; `fs` is the frame rate). Writes the beat's waveform
    /// (leads first, then their template differences; [`WindowShape::waveform_len`] values)
    /// into `waveform` when its window lies inside the slices, and returns the previous beat's
    /// RR features. Beats must come in time order; a beat whose window cannot be cut still
    /// counts in the RR statistics but not in the template.
    pub fn beat(
        &mut self,
        leads: &[LeadSlice<'_>],
        fs: f64,
        origin_s: f64,
        candidate: f64,
        waveform: &mut [f32],
    ) -> BeatWindow {
        let mut centre = candidate;
        if self.shape.align {
            if let Some(l0) = leads.first() {
                let spf = l0.per_frame.max(1) as f64;
                let at = libm::round(candidate * spf);
                if at >= 0.0 {
                    if let Some(f) = fiducial(l0.samples, (fs * spf) as f32, at as usize) {
                        centre = f / spf;
                    }
                }
            }
        }
        let time = origin_s + centre / fs;
        // A premature beat does not enter the template (see `TEMPLATE_PREMATURE`).
        let premature = self
            .rr
            .prematurity(time)
            .is_some_and(|p| p < TEMPLATE_PREMATURE);
        let previous_rr = self.rr.push(time);
        let window = self.cut(leads, fs, centre, !premature, waveform);
        BeatWindow {
            centre,
            window,
            previous_rr,
        }
    }

    /// The RR features of the last beat given (end of the recording; see [`RrContext::finish`]).
    pub fn finish(&self) -> Option<[f32; 8]> {
        self.rr.finish()
    }

    fn cut(
        &mut self,
        leads: &[LeadSlice<'_>],
        fs: f64,
        centre: f64,
        add_to_template: bool,
        waveform: &mut [f32],
    ) -> Result<(), WindowError> {
        let len = self.shape.length;
        let n = self.leads * len;
        if leads.len() < self.leads || waveform.len() < self.shape.waveform_len(self.leads) {
            return Err(WindowError::Edge);
        }
        for (l, lead) in leads[..self.leads].iter().enumerate() {
            let spf = lead.per_frame.max(1) as f64;
            let c = centre * spf;
            let out = &mut waveform[l * len..(l + 1) * len];
            cut_window(
                lead.samples,
                c - self.shape.before_s * fs * spf,
                c + self.shape.after_s * fs * spf,
                out,
            )?;
            if self.shape.z_normalise {
                z_normalise(out);
            }
        }
        if self.shape.template {
            let t = &mut self.template;
            let (raw, diff) = waveform.split_at_mut(n);
            t.subtract(raw, &mut diff[..n]);
            if add_to_template {
                t.add(raw);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic QRS: a narrow Gaussian at `at` (s) on a slow sine, at `fs`.
    fn beat_signal(fs: f32, at: f32, width: f32) -> [f32; 1000] {
        let mut x = [0.0f32; 1000];
        for (i, v) in x.iter_mut().enumerate() {
            let t = i as f32 / fs;
            let z = (t - at) / width;
            *v = libm::expf(-0.5 * z * z) + 0.3 * libm::sinf(t);
        }
        x
    }

    #[test]
    fn fiducial_is_the_same_from_either_mark_and_at_any_rate() {
        for fs in [128.0f32, 250.0, 360.0, 500.0] {
            let x = beat_signal(fs, 1.0, 0.012);
            let truth = fs * 1.0;
            let mut found = [0.0f64; 2];
            // Marks 40 ms apart on either side of the peak give the same point.
            for (k, off) in [-0.02f32, 0.02].into_iter().enumerate() {
                let c = libm::roundf(truth + off * fs) as usize;
                found[k] = fiducial(&x, fs, c).unwrap();
            }
            // (Within 0.1 ms: the 2 ms grid is anchored on each mark.)
            let fs64 = f64::from(fs);
            assert!((found[0] - found[1]).abs() / fs64 < 1e-4, "{fs}: {found:?}");
            // The slope energy of a symmetric peak is centred on it.
            assert!((found[0] / fs64 - 1.0).abs() < 0.002, "{fs}: {found:?}");
        }
        let x = beat_signal(360.0, 1.0, 0.012);
        assert_eq!(fiducial(&x, 360.0, 10), None);
        assert_eq!(fiducial(&x, 360.0, 995), None);
        assert_eq!(fiducial(&x, f32::NAN, 360), None);
        let mut y = x;
        y[360] = f32::NAN;
        assert_eq!(fiducial(&y, 360.0, 360), None);
        assert!(fiducial_reach(360.0) < 360);
    }

    #[test]
    fn windows_interpolate_and_report_edges_and_gaps() {
        let x: [f32; 10] = core::array::from_fn(|i| i as f32);
        let mut out = [0.0f32; 5];
        cut_window(&x, 1.0, 3.0, &mut out).unwrap();
        assert_eq!(out, [1.0, 1.5, 2.0, 2.5, 3.0]);
        assert_eq!(cut_window(&x, -0.5, 3.0, &mut out), Err(WindowError::Edge));
        assert_eq!(cut_window(&x, 5.0, 9.5, &mut out), Err(WindowError::Edge));
        assert_eq!(
            cut_window(&x, f64::NAN, 3.0, &mut out),
            Err(WindowError::Edge)
        );
        let mut y = x;
        y[2] = f32::NAN;
        assert_eq!(
            cut_window(&y, 1.0, 3.0, &mut out),
            Err(WindowError::Missing)
        );
        let mut v = [1.0f32, 2.0, 3.0];
        z_normalise(&mut v);
        assert!(v.iter().sum::<f32>().abs() < 1e-6);
        assert!((v[2] - 1.224_745).abs() < 1e-5);
        let mut flat = [2.0f32; 4];
        z_normalise(&mut flat);
        assert_eq!(flat, [0.0; 4]);
    }

    #[test]
    fn template_is_the_median_of_the_previous_beats() {
        let (size, beats) = (3usize, 5usize);
        let mut storage = [0.0f32; 15];
        let mut t = RunningTemplate::new(&mut storage[..], size, beats).unwrap();
        assert!(RunningTemplate::new(&mut [0.0f32; 14][..], size, beats).is_err());
        let mut state = 0x9E37_79B9u32;
        let mut history: [[f32; 3]; 40] = [[0.0; 3]; 40];
        let mut diff = [0.0f32; 3];
        for k in 0..40 {
            for v in history[k].iter_mut() {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                *v = (state % 9) as f32 - 4.0; // ties
            }
            let w = history[k];
            t.subtract_then_add(&w, &mut diff);
            let lo = k.saturating_sub(beats);
            for j in 0..size {
                if k == 0 {
                    assert_eq!(diff[j], 0.0);
                    continue;
                }
                let mut col = [0.0f32; 5];
                let m = k - lo;
                for (c, h) in col.iter_mut().zip(&history[lo..k]) {
                    *c = h[j];
                }
                col[..m].sort_by(f32::total_cmp);
                assert_eq!(diff[j], w[j] - col[m / 2], "beat {k} point {j}");
            }
        }
        assert_eq!(t.len(), beats);
        t.clear();
        assert!(t.is_empty());
    }

    #[test]
    fn premature_beats_stay_out_of_the_template_even_when_they_are_most_beats() {
        // Each cycle: a normal beat (narrow), then two premature wide beats 0.6 s apart, the
        // next normal beat 1 s later — two thirds of the beats are ectopic.
        const FS: f64 = 250.0;
        const N: usize = 250 * 70;
        let mut times = [0.0f64; 96];
        let mut wide = [false; 96];
        let mut t = 1.0;
        for k in 0..96 {
            times[k] = t;
            wide[k] = k % 3 != 0;
            t += if k % 3 == 2 { 1.0 } else { 0.6 };
        }
        let mut x = [0.0f32; N];
        for (i, v) in x.iter_mut().enumerate() {
            let s = i as f64 / FS;
            for (&bt, &w) in times.iter().zip(&wide) {
                let width = if w { 0.04 } else { 0.01 };
                let z = (s - bt) / width;
                if z.abs() < 8.0 {
                    *v += libm::exp(-0.5 * z * z) as f32 * if w { -1.0 } else { 1.0 };
                }
            }
        }
        let shape = WindowShape {
            before_s: 0.2,
            after_s: 0.3,
            length: 64,
            z_normalise: true,
            template: true,
            align: true,
        };
        let mut storage = [0.0f32; 2 * 64 * TEMPLATE_BEATS];
        let mut f = BeatFeaturizer::new(shape, 1, &mut storage[..]).unwrap();
        let lead = [LeadSlice {
            samples: &x,
            per_frame: 1,
        }];
        let mut w = [0.0f32; 128];
        for (k, &bt) in times.iter().enumerate() {
            let got = f.beat(&lead, FS, 0.0, bt * FS, &mut w);
            if got.window.is_err() || k < 9 {
                continue;
            }
            let diff = w[64..].iter().fold(0.0f32, |m, v| m.max(v.abs()));
            if wide[k] {
                assert!(diff > 1.0, "ectopic beat {k}: {diff}");
            } else {
                assert!(diff < 0.05, "normal beat {k}: {diff}");
            }
        }
    }

    #[test]
    fn rr_features_of_a_premature_beat() {
        // Regular 1 s rhythm, beat 5 comes 0.3 s early, then a compensatory pause.
        let times = [0.0, 1.0, 2.0, 3.0, 4.0, 4.7, 6.0, 7.0];
        let mut c = RrContext::new();
        let mut f = [[0.0f32; 8]; 8];
        let mut k = 0;
        for &t in &times {
            if let Some(v) = c.push(t) {
                f[k] = v;
                k += 1;
            }
        }
        f[k] = c.finish().unwrap();
        let p = f[5];
        assert!(
            (p[0] - 0.7).abs() < 1e-5 && (p[1] - 1.3).abs() < 1e-5,
            "{p:?}"
        );
        assert!((p[2] - 0.94).abs() < 1e-5, "local {}", p[2]); // (1+1+1+1+0.7)/5
        assert!((p[3] - 0.94).abs() < 1e-5, "long {}", p[3]); // the same 5 intervals so far
        assert!(p[4] < 1.0 && p[6] < 1.0 && p[5] > 1.0);
        // First beat: previous = next; last: next = previous.
        assert_eq!(f[0][0], f[0][1]);
        assert_eq!(f[7][0], f[7][1]);
        assert_eq!(f[0][4], 1.0);
        assert_eq!(RrContext::new().finish(), None);
        let mut one = RrContext::new();
        assert_eq!(one.push(3.0), None);
        assert_eq!(one.finish().unwrap()[0], 1.0);
        // A 30 s gap does not drag the running means beyond the clamp.
        let mut g = RrContext::new();
        for t in [0.0, 1.0, 31.0, 32.0] {
            g.push(t);
        }
        let last = g.finish().unwrap();
        assert!(last[3] < 2.0, "{last:?}");
    }
}
