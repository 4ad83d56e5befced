//! Atrial-fibrillation evidence from RR intervals: features of the last [`AF_WINDOW`] clean
//! intervals fed to a small logistic model.
//!
//! "Clean" intervals are those between two non-ectopic beats (the caller decides; see
//! [`super::RhythmAnalyzer`]): PACs and PVCs produce large, *alternating* RR changes that look
//! like AF to every irregularity measure, so they are taken out before the measures are made.
//! Successive differences (dRR) are only formed between intervals that follow each other
//! directly, so an excluded beat never creates a dRR spanning it.
//!
//! Features (all dimensionless, so they carry across sampling rates and heart rates):
//! 1. `ln(median |dRR| / median RR)`: the size of beat-to-beat changes relative to the cycle;
//!    medians make it robust to the few ectopic beats the classifier missed.
//! 2. The turning-point ratio of the RR series: AF conduction is close to a random series of
//!    intervals (≈ 2/3 of points are turning points) whereas respiratory sinus arrhythmia is a
//!    slow oscillation (few turning points) even when its dRR are large.
//! 3. The Shannon entropy of dRR / median RR in [`HIST_BINS`] bins: AF spreads the dRR over
//!    many bins; sinus rhythm with rare missed ectopy keeps them in the central bins.
//! 4. `ln(median RR / 1 s)`: AF is usually faster than sinus rhythm at rest; it is the weakest
//!    feature and kept small by the fit.
//!
//! The weights in [`AF_WEIGHTS`] are a logistic regression fitted on LTAFDB (see its doc).

/// Clean RR intervals (and their differences) the features are computed from. 64 beats is
/// about 40–60 s of AF: long enough for medians and an entropy to be stable, short enough that
/// AF episodes of a minute are caught (MIT-BIH has several).
pub const AF_WINDOW: usize = 64;
/// The features are only trusted once this many dRR values are in the window.
pub const AF_MIN_DRR: usize = 32;
/// Histogram bins of dRR / median RR for the entropy, covering ±[`HIST_RANGE`].
pub const HIST_BINS: usize = 16;
/// dRR / median RR is clamped to ±this (beyond it every interval change is "very large").
pub const HIST_RANGE: f32 = 0.5;
/// Number of features.
pub const AF_FEATURES: usize = 6;

/// Logistic-regression weights: `score = sigmoid(w0 + Σ w[i+1]·feature[i])`, features in the
/// order of the module documentation.
///
/// Fitted by Newton's method (IRLS, standardised features, L2 = 1e-3·n) on every 4th update
/// of the features over all 84 LTAFDB records (reference beats, labels used, default
/// [`super::RhythmConfig`]); target = the beat 32 beats back (the window's middle, where the
/// analyzer back-dates its decisions) lies inside an `(AFIB` episode; beats before a record's
/// first rhythm annotation are left out. The record-wise 4-fold cross-validation of the same
/// procedure, run through the whole analyzer: beat Se 98.9 % / Sp 97.9 %.
/// Reproduce with `cargo run --release -p sinus-core --example rhythm_train_af` (prints this
/// array last).
pub const AF_WEIGHTS: [f32; AF_FEATURES + 1] = [
    -4.0475245, 0.9559683, -1.5205505, 4.165744, -3.6566546, -24.210903, -7.8511887,
];

/// A fixed-size ring of the most recent `N` values (`N` a power of two).
#[derive(Debug, Clone, Copy)]
struct Ring<const N: usize> {
    buf: [f32; N],
    head: usize,
    len: usize,
}

impl<const N: usize> Ring<N> {
    const fn new() -> Self {
        Ring {
            buf: [0.0; N],
            head: 0,
            len: 0,
        }
    }

    fn push(&mut self, v: f32) {
        self.buf[self.head % N] = v;
        self.head = (self.head + 1) % N;
        if self.len < N {
            self.len += 1;
        }
    }

    /// The stored values (in no particular order).
    fn values(&self) -> &[f32] {
        &self.buf[..self.len.min(N)]
    }
}

/// Median of `v`, sorting it in place (insertion sort: `v` holds at most [`AF_WINDOW`]
/// values, and sorting needs no allocation). `v` must be free of NaN.
fn median_in_place(v: &mut [f32]) -> f32 {
    for i in 1..v.len() {
        let x = v[i];
        let mut j = i;
        while j > 0 && v[j - 1] > x {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
    }
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Streaming AF evidence from clean RR intervals.
#[derive(Debug, Clone)]
pub struct AfEvidence {
    rr: Ring<AF_WINDOW>,
    /// Signed successive differences (s) of directly adjacent clean intervals.
    drr: Ring<AF_WINDOW>,
    /// 1.0 where consecutive dRR change sign (a turning point of the RR series), else 0.0.
    tp: Ring<AF_WINDOW>,
    prev_rr: Option<f32>,
    prev_drr: Option<f32>,
    features: Option<[f32; AF_FEATURES]>,
    score: Option<f32>,
    weights: [f32; AF_FEATURES + 1],
    pushes: u64,
}

impl Default for AfEvidence {
    fn default() -> Self {
        Self::new(AF_WEIGHTS)
    }
}

impl AfEvidence {
    /// Empty evidence (no score until [`AF_MIN_DRR`] differences have been seen), scored with
    /// logistic `weights` (normally [`AF_WEIGHTS`]).
    pub const fn new(weights: [f32; AF_FEATURES + 1]) -> Self {
        AfEvidence {
            rr: Ring::new(),
            drr: Ring::new(),
            tp: Ring::new(),
            prev_rr: None,
            prev_drr: None,
            features: None,
            score: None,
            weights,
            pushes: 0,
        }
    }

    /// Forget everything (e.g. after a long gap in the signal).
    pub fn reset(&mut self) {
        *self = Self::new(self.weights);
    }

    /// The series of clean intervals is interrupted (an ectopic beat, noise): the next interval
    /// is not differenced with the previous one.
    pub fn interrupt(&mut self) {
        self.prev_rr = None;
        self.prev_drr = None;
    }

    /// Add one clean RR interval (seconds, finite and positive) and the current fractions of S
    /// and V beats among recent beats (0..1, features 5 and 6); returns the new score when the
    /// window is full enough.
    pub fn push(&mut self, rr_s: f32, s_fraction: f32, v_fraction: f32) -> Option<f32> {
        if !(rr_s.is_finite() && rr_s > 0.0) {
            self.interrupt();
            return self.score;
        }
        self.rr.push(rr_s);
        self.pushes += 1;
        if let Some(prev) = self.prev_rr {
            let d = rr_s - prev;
            self.drr.push(d);
            if let Some(pd) = self.prev_drr {
                self.tp.push(if d * pd < 0.0 { 1.0 } else { 0.0 });
            }
            self.prev_drr = Some(d);
        }
        self.prev_rr = Some(rr_s);
        if self.drr.len >= AF_MIN_DRR {
            let mut f = self.compute_features();
            let unit = |x: f32| {
                if x.is_finite() {
                    x.clamp(0.0, 1.0)
                } else {
                    0.0
                }
            };
            f[4] = unit(s_fraction);
            f[5] = unit(v_fraction);
            self.features = Some(f);
            self.score = Some(score_of(&self.weights, &f));
        }
        self.score
    }

    /// Latest score in 0..1 (probability-like AF evidence), if any.
    pub fn score(&self) -> Option<f32> {
        self.score
    }

    /// Clean intervals pushed so far (tells a caller whether the last beat updated the score).
    pub fn pushes(&self) -> u64 {
        self.pushes
    }

    /// Latest features, if any (for training and plots).
    pub fn features(&self) -> Option<[f32; AF_FEATURES]> {
        self.features
    }

    fn compute_features(&self) -> [f32; AF_FEATURES] {
        let mut scratch = [0.0f32; AF_WINDOW];
        let rr = self.rr.values();
        let n = rr.len().min(AF_WINDOW);
        scratch[..n].copy_from_slice(&rr[..n]);
        let med_rr = median_in_place(&mut scratch[..n]).max(1e-3);

        let drr = self.drr.values();
        let m = drr.len().min(AF_WINDOW);
        for (s, d) in scratch[..m].iter_mut().zip(drr) {
            *s = libm::fabsf(*d);
        }
        let med_drr = median_in_place(&mut scratch[..m]);
        // A floor of 1 ms (below any sampling resolution) keeps the logarithm finite for
        // perfectly regular (e.g. paced) rhythms.
        let f1 = libm::logf(med_drr.max(1e-3) / med_rr);

        let tp = self.tp.values();
        let f2 = if tp.is_empty() {
            0.0
        } else {
            tp.iter().sum::<f32>() / tp.len() as f32
        };

        let mut hist = [0u16; HIST_BINS];
        for d in drr {
            let x = (d / med_rr).clamp(-HIST_RANGE, HIST_RANGE);
            let pos = (x + HIST_RANGE) / (2.0 * HIST_RANGE) * HIST_BINS as f32;
            let bin = (pos as usize).min(HIST_BINS - 1);
            hist[bin] = hist[bin].saturating_add(1);
        }
        let total = m.max(1) as f32;
        let mut f3 = 0.0;
        for &h in &hist {
            if h > 0 {
                let p = f32::from(h) / total;
                f3 -= p * libm::logf(p);
            }
        }
        let f4 = libm::logf(med_rr);
        [f1, f2, f3, f4, 0.0, 0.0]
    }
}

/// The logistic model with `weights` on a feature vector.
pub fn score_of(weights: &[f32; AF_FEATURES + 1], f: &[f32; AF_FEATURES]) -> f32 {
    let mut z = weights[0];
    for (w, x) in weights[1..].iter().zip(f) {
        z += w * x;
    }
    1.0 / (1.0 + libm::expf(-z.clamp(-30.0, 30.0)))
}
