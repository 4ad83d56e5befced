//! IIR filters: biquad sections and cascades, designed at start-up for any sampling rate in
//! [`MIN_FS`]..=[`MAX_FS`] Hz.
//!
//! Design is done in `f64` (with `libm`) by the bilinear transform with frequency pre-warping,
//! so the -3 dB points of a Butterworth design land exactly on the requested frequencies at any
//! sampling rate. Filters then *run* in `f32` (transposed direct form II), which is what a
//! small device affords.
//!
//! Numerical note (measured, see `f32_state_error_at_low_cutoff_is_small`): a 0.5 Hz
//! high-pass at 1000 Hz has poles at radius ≈ 0.998; running it in `f32` gives an output within
//! ≈ 2 µV RMS of an `f64` run on a 1 mV ECG-like signal with a 5 mV offset. Keeping the `f32`
//! coefficients but an `f64` state gave the same error (2.2 µV), so the error comes from rounding
//! the coefficients, not from the state: `f64` accumulation buys nothing here, and the rounded
//! poles stay inside the unit circle for every valid design (property test).
//!
//! Every design function returns a [`DesignError`] for an impossible specification instead of
//! producing an unstable or meaningless filter.

use core::f64::consts::PI;

/// Lowest sampling rate the designs accept (Hz).
pub const MIN_FS: f64 = 125.0;
/// Highest sampling rate the designs accept (Hz).
pub const MAX_FS: f64 = 1000.0;
/// Highest Butterworth order the design functions accept.
pub const MAX_ORDER: usize = 8;

/// Why a filter specification cannot be realised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DesignError {
    /// The sampling rate is not a finite number in [`MIN_FS`]..=[`MAX_FS`].
    SamplingRateOutOfRange,
    /// A cut-off (or notch) frequency is not finite, not above 0 Hz or not below Nyquist.
    CutoffOutOfRange,
    /// The band edges of a band-pass are not strictly increasing.
    BandEdgesNotIncreasing,
    /// The order is 0 or above [`MAX_ORDER`].
    OrderOutOfRange,
    /// The quality factor of a notch is not a finite number above 0.
    QualityOutOfRange,
    /// The cascade's const capacity `N` has fewer sections than the design needs.
    TooFewSections,
}

impl core::fmt::Display for DesignError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = match self {
            DesignError::SamplingRateOutOfRange => "sampling rate outside 125..=1000 Hz",
            DesignError::CutoffOutOfRange => "cut-off frequency not in (0, Nyquist)",
            DesignError::BandEdgesNotIncreasing => "band-pass edges not increasing",
            DesignError::OrderOutOfRange => "filter order not in 1..=8",
            DesignError::QualityOutOfRange => "notch quality factor not positive",
            DesignError::TooFewSections => "cascade has too few sections for this design",
        };
        f.write_str(s)
    }
}

/// Coefficients of one second-order section, `a0` normalised to 1:
/// `H(z) = (b0 + b1 z⁻¹ + b2 z⁻²) / (1 + a1 z⁻¹ + a2 z⁻²)`.
///
/// The layout matches one row of scipy's `sos` array without its `a0` column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SectionCoefficients {
    /// Numerator, `z⁰` term.
    pub b0: f64,
    /// Numerator, `z⁻¹` term.
    pub b1: f64,
    /// Numerator, `z⁻²` term.
    pub b2: f64,
    /// Denominator, `z⁻¹` term.
    pub a1: f64,
    /// Denominator, `z⁻²` term.
    pub a2: f64,
}

impl SectionCoefficients {
    /// The section that passes its input unchanged.
    pub const IDENTITY: SectionCoefficients = SectionCoefficients {
        b0: 1.0,
        b1: 0.0,
        b2: 0.0,
        a1: 0.0,
        a2: 0.0,
    };

    /// Complex response at normalised angular frequency `w` (rad/sample), as (re, im).
    fn response(&self, w: f64) -> (f64, f64) {
        let (c1, s1) = (libm::cos(w), -libm::sin(w));
        let (c2, s2) = (libm::cos(2.0 * w), -libm::sin(2.0 * w));
        let num = (
            self.b0 + self.b1 * c1 + self.b2 * c2,
            self.b1 * s1 + self.b2 * s2,
        );
        let den = (
            1.0 + self.a1 * c1 + self.a2 * c2,
            self.a1 * s1 + self.a2 * s2,
        );
        cdiv(num, den)
    }

    /// Magnitude response at `f` Hz for sampling rate `fs`.
    pub fn magnitude(&self, f: f64, fs: f64) -> f64 {
        let (re, im) = self.response(2.0 * PI * f / fs);
        libm::hypot(re, im)
    }

    /// Largest pole radius of the section (< 1 means stable).
    pub fn pole_radius(&self) -> f64 {
        let disc = self.a1 * self.a1 - 4.0 * self.a2;
        if disc >= 0.0 {
            let r = libm::sqrt(disc);
            let p1 = (-self.a1 + r) / 2.0;
            let p2 = (-self.a1 - r) / 2.0;
            libm::fabs(p1).max(libm::fabs(p2))
        } else {
            // Complex pair: |p|² = a2.
            libm::sqrt(self.a2)
        }
    }

    fn scaled(self, g: f64) -> SectionCoefficients {
        SectionCoefficients {
            b0: self.b0 * g,
            b1: self.b1 * g,
            b2: self.b2 * g,
            ..self
        }
    }
}

/// A second-order IIR section running in `f32`, transposed direct form II.
///
/// Per sample: `y = b0·x + s1; s1 = b1·x − a1·y + s2; s2 = b2·x − a2·y`. Two state
/// variables, five multiplies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Biquad {
    b0: f32,
    b1: f32,
    b2: f32,
    a1: f32,
    a2: f32,
    s1: f32,
    s2: f32,
}

impl Default for Biquad {
    fn default() -> Self {
        Biquad::new(SectionCoefficients::IDENTITY)
    }
}

impl Biquad {
    /// The identity section (passes its input through), zero state: a constant.
    pub const IDENTITY: Biquad = Biquad {
        b0: 1.0,
        b1: 0.0,
        b2: 0.0,
        a1: 0.0,
        a2: 0.0,
        s1: 0.0,
        s2: 0.0,
    };

    /// A section with the given coefficients (rounded to `f32`) and zero state.
    pub fn new(c: SectionCoefficients) -> Self {
        Biquad {
            b0: c.b0 as f32,
            b1: c.b1 as f32,
            b2: c.b2 as f32,
            a1: c.a1 as f32,
            a2: c.a2 as f32,
            s1: 0.0,
            s2: 0.0,
        }
    }

    /// The coefficients actually used (the `f32` values, widened).
    pub fn coefficients(&self) -> SectionCoefficients {
        SectionCoefficients {
            b0: self.b0 as f64,
            b1: self.b1 as f64,
            b2: self.b2 as f64,
            a1: self.a1 as f64,
            a2: self.a2 as f64,
        }
    }

    /// Filter one sample.
    #[inline(always)]
    pub fn process(&mut self, x: f32) -> f32 {
        let y = self.b0 * x + self.s1;
        self.s1 = self.b1 * x - self.a1 * y + self.s2;
        self.s2 = self.b2 * x - self.a2 * y;
        y
    }

    /// Clear the state (as if the input had always been 0).
    pub fn reset(&mut self) {
        self.s1 = 0.0;
        self.s2 = 0.0;
    }

    /// Set the state to the steady state for a constant input `x` (avoids the start-up
    /// transient when a record starts with a DC offset).
    pub fn reset_to(&mut self, x: f32) {
        // Steady state: y = H(1)·x; s2 = b2·x − a2·y; s1 = y − b0·x.
        let den = 1.0 + self.a1 + self.a2;
        let g = if den.abs() > 1e-12 {
            (self.b0 + self.b1 + self.b2) / den
        } else {
            0.0
        };
        let y = g * x;
        self.s2 = self.b2 * x - self.a2 * y;
        self.s1 = y - self.b0 * x;
        if !(self.s1.is_finite() && self.s2.is_finite()) {
            self.reset();
        }
    }

    /// True when the state holds only finite numbers.
    pub fn is_finite(&self) -> bool {
        self.s1.is_finite() && self.s2.is_finite()
    }
}

/// A cascade of up to `N` biquad sections. Sections a design does not need are identity
/// sections, so the per-sample loop has a fixed trip count the compiler can unroll.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BiquadCascade<const N: usize> {
    sections: [Biquad; N],
    used: usize,
}

impl<const N: usize> Default for BiquadCascade<N> {
    fn default() -> Self {
        BiquadCascade {
            sections: [Biquad::default(); N],
            used: 0,
        }
    }
}

impl<const N: usize> BiquadCascade<N> {
    /// A cascade of identity sections: a constant.
    pub const IDENTITY: BiquadCascade<N> = BiquadCascade {
        sections: [Biquad::IDENTITY; N],
        used: 0,
    };

    /// A cascade of the given sections (at most `N`; the rest are identity sections).
    pub fn from_sections(sections: &[SectionCoefficients]) -> Result<Self, DesignError> {
        if sections.len() > N {
            return Err(DesignError::TooFewSections);
        }
        let mut c = BiquadCascade::default();
        for (dst, src) in c.sections.iter_mut().zip(sections) {
            *dst = Biquad::new(*src);
        }
        c.used = sections.len();
        Ok(c)
    }

    /// Round a design to `f32`, re-normalising each numerator so that the section has unit
    /// gain at the design's reference frequency *with its rounded poles*: at very low
    /// normalised cut-offs (e.g. 0.05 Hz at 1000 Hz) rounding `a1`, `a2` alone shifts the
    /// pass-band gain by a few percent.
    fn from_design(d: &Design) -> Result<Self, DesignError> {
        let mut rounded = [SectionCoefficients::IDENTITY; MAX_ORDER];
        for (dst, src) in rounded.iter_mut().zip(d.sections.iter().take(d.len)) {
            let r = SectionCoefficients {
                a1: src.a1 as f32 as f64,
                a2: src.a2 as f32 as f64,
                ..*src
            };
            *dst = unit_gain_at(r, d.w_ref);
        }
        Self::from_sections(rounded.get(..d.len).unwrap_or(&[]))
    }

    /// Number of sections the design uses (≤ `N`).
    pub fn len(&self) -> usize {
        self.used
    }

    /// True when no section is used (the cascade passes its input unchanged).
    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    /// The sections the design uses.
    pub fn sections(&self) -> &[Biquad] {
        self.sections.get(..self.used).unwrap_or(&[])
    }

    /// Filter one sample.
    #[inline(always)]
    pub fn process(&mut self, x: f32) -> f32 {
        let mut y = x;
        for s in self.sections.iter_mut() {
            y = s.process(y);
        }
        y
    }

    /// Filter a block in place.
    pub fn process_block(&mut self, xs: &mut [f32]) {
        for x in xs.iter_mut() {
            *x = self.process(*x);
        }
    }

    /// Clear the state of every section.
    pub fn reset(&mut self) {
        for s in self.sections.iter_mut() {
            s.reset();
        }
    }

    /// Set every section to its steady state for a constant input `x`.
    pub fn reset_to(&mut self, x: f32) {
        let mut v = x;
        for s in self.sections.iter_mut() {
            s.reset_to(v);
            // Steady-state output of this section is the next one's constant input.
            let c = s.coefficients();
            let den = 1.0 + c.a1 + c.a2;
            let g = if libm::fabs(den) > 1e-12 {
                (c.b0 + c.b1 + c.b2) / den
            } else {
                0.0
            };
            v = (g * v as f64) as f32;
        }
    }

    /// True when every section's state is finite.
    pub fn is_finite(&self) -> bool {
        self.sections.iter().all(Biquad::is_finite)
    }

    /// Magnitude response of the cascade (with its `f32` coefficients) at `f` Hz.
    pub fn magnitude(&self, f: f64, fs: f64) -> f64 {
        self.sections()
            .iter()
            .map(|s| s.coefficients().magnitude(f, fs))
            .product()
    }

    /// Group delay of the cascade at `f` Hz, in samples (−dφ/dω by a central difference).
    pub fn group_delay(&self, f: f64, fs: f64) -> f64 {
        let w = 2.0 * PI * f / fs;
        let dw = 1e-4;
        let mut ratio: C = (1.0, 0.0);
        for s in self.sections() {
            let c = s.coefficients();
            let hi = c.response(w + dw);
            let lo = c.response(w - dw);
            ratio = cmul(ratio, cmul(hi, conj(lo)));
        }
        -libm::atan2(ratio.1, ratio.0) / (2.0 * dw)
    }

    /// Largest pole radius over the used sections (< 1 means stable).
    pub fn pole_radius(&self) -> f64 {
        self.sections()
            .iter()
            .map(|s| s.coefficients().pole_radius())
            .fold(0.0, f64::max)
    }
}

/// Sections of a design, before they are rounded to `f32`.
#[derive(Debug, Clone, Copy)]
struct Design {
    sections: [SectionCoefficients; MAX_ORDER],
    len: usize,
    /// Frequency (rad/sample) where every section has unit gain.
    w_ref: f64,
}

impl Design {
    fn new(w_ref: f64) -> Self {
        Design {
            sections: [SectionCoefficients::IDENTITY; MAX_ORDER],
            len: 0,
            w_ref,
        }
    }

    fn push(&mut self, s: SectionCoefficients) {
        if let Some(slot) = self.sections.get_mut(self.len) {
            *slot = s;
            self.len += 1;
        }
    }
}

// --- small complex arithmetic (f64) -------------------------------------------------------

type C = (f64, f64);

fn cmul(a: C, b: C) -> C {
    (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0)
}

fn cdiv(a: C, b: C) -> C {
    let d = b.0 * b.0 + b.1 * b.1;
    ((a.0 * b.0 + a.1 * b.1) / d, (a.1 * b.0 - a.0 * b.1) / d)
}

fn csqrt(a: C) -> C {
    let r = libm::hypot(a.0, a.1);
    let re = libm::sqrt((r + a.0) / 2.0);
    let im = libm::sqrt(((r - a.0) / 2.0).max(0.0));
    (re, if a.1 < 0.0 { -im } else { im })
}

/// Bilinear transform of an analog pole: z = (2fs + s) / (2fs − s).
fn bilinear(s: C, fs: f64) -> C {
    let k = 2.0 * fs;
    cdiv((k + s.0, s.1), (k - s.0, -s.1))
}

/// Pre-warped analog angular frequency for digital frequency `f`.
fn prewarp(f: f64, fs: f64) -> f64 {
    2.0 * fs * libm::tan(PI * f / fs)
}

/// Zeros paired with a section's poles.
#[derive(Clone, Copy)]
enum Zeros {
    /// Both zeros at z = −1 (low-pass like): 1 + 2z⁻¹ + z⁻².
    Nyquist,
    /// Both zeros at z = 1 (high-pass like): 1 − 2z⁻¹ + z⁻².
    Dc,
    /// One zero at each end (band-pass like): 1 − z⁻².
    Both,
}

/// Second-order section with digital poles `z1`, `z2` (a conjugate pair or two real poles)
/// and the given zeros, numerator not yet scaled.
fn section(z1: C, z2: C, zeros: Zeros) -> SectionCoefficients {
    let (b1, b2) = match zeros {
        Zeros::Nyquist => (2.0, 1.0),
        Zeros::Dc => (-2.0, 1.0),
        Zeros::Both => (0.0, -1.0),
    };
    let prod = cmul(z1, z2);
    SectionCoefficients {
        b0: 1.0,
        b1,
        b2,
        a1: -(z1.0 + z2.0),
        a2: prod.0,
    }
}

/// First-order section with real digital pole `z`; zero at DC (high-pass) or Nyquist.
fn first_order_section(z: f64, high: bool) -> SectionCoefficients {
    SectionCoefficients {
        b0: 1.0,
        b1: if high { -1.0 } else { 1.0 },
        b2: 0.0,
        a1: -z,
        a2: 0.0,
    }
}

/// Scale a section's numerator to unit magnitude at `w` rad/sample.
fn unit_gain_at(sec: SectionCoefficients, w: f64) -> SectionCoefficients {
    let (re, im) = sec.response(w);
    sec.scaled(1.0 / libm::hypot(re, im))
}

fn conj(a: C) -> C {
    (a.0, -a.1)
}

/// Normalised analog Butterworth prototype pole `k` of order `n`: `exp(jπ(2k + n + 1) / 2n)`.
/// For `k` in `0..⌈n/2⌉` these are the poles in the upper half plane, then (odd `n`) the real
/// pole −1 last.
fn prototype_pole(k: usize, n: usize) -> C {
    let theta = PI * (2 * k + n + 1) as f64 / (2 * n) as f64;
    (libm::cos(theta), libm::sin(theta))
}

fn check_fs(fs: f64) -> Result<(), DesignError> {
    if fs.is_finite() && (MIN_FS..=MAX_FS).contains(&fs) {
        Ok(())
    } else {
        Err(DesignError::SamplingRateOutOfRange)
    }
}

fn check_cutoff(f: f64, fs: f64) -> Result<(), DesignError> {
    if f.is_finite() && f > 0.0 && f < fs / 2.0 {
        Ok(())
    } else {
        Err(DesignError::CutoffOutOfRange)
    }
}

fn check_order(order: usize) -> Result<(), DesignError> {
    if (1..=MAX_ORDER).contains(&order) {
        Ok(())
    } else {
        Err(DesignError::OrderOutOfRange)
    }
}

/// Sections needed by a Butterworth low- or high-pass of `order`.
pub const fn lowpass_sections(order: usize) -> usize {
    order.div_ceil(2)
}

/// Sections needed by a Butterworth band-pass whose prototype has `order` (2·order poles).
pub const fn bandpass_sections(order: usize) -> usize {
    order
}

fn butter_lh(order: usize, fc: f64, fs: f64, high: bool) -> Result<Design, DesignError> {
    check_fs(fs)?;
    check_order(order)?;
    check_cutoff(fc, fs)?;
    let w = prewarp(fc, fs);
    let zeros = if high { Zeros::Dc } else { Zeros::Nyquist };
    // Reference point where each section gets unit gain: DC (low-pass) or Nyquist (high-pass).
    let w_ref = if high { PI } else { 0.0 };
    let mut d = Design::new(w_ref);
    for k in 0..order.div_ceil(2) {
        let p = prototype_pole(k, order);
        let real_pole = p.1.abs() < 1e-12;
        let s = if high {
            cdiv((w, 0.0), p)
        } else {
            (w * p.0, w * p.1)
        };
        let z = bilinear(s, fs);
        let sec = if real_pole {
            first_order_section(z.0, high)
        } else {
            section(z, conj(z), zeros)
        };
        d.push(unit_gain_at(sec, w_ref));
    }
    Ok(d)
}

/// Butterworth low-pass of `order` (1..=8) with its -3 dB point at `fc` Hz, as
/// ⌈order/2⌉ sections (a first-order section last for odd orders).
pub fn butterworth_lowpass<const N: usize>(
    order: usize,
    fc: f64,
    fs: f64,
) -> Result<BiquadCascade<N>, DesignError> {
    BiquadCascade::from_design(&butter_lh(order, fc, fs, false)?)
}

/// Butterworth high-pass of `order` (1..=8) with its -3 dB point at `fc` Hz.
pub fn butterworth_highpass<const N: usize>(
    order: usize,
    fc: f64,
    fs: f64,
) -> Result<BiquadCascade<N>, DesignError> {
    BiquadCascade::from_design(&butter_lh(order, fc, fs, true)?)
}

/// Butterworth band-pass from a prototype of `order` (1..=8; the filter has 2·order poles,
/// `order` sections) with -3 dB points at `f_low` and `f_high` Hz — the same filter as
/// `scipy.signal.butter(order, [f_low, f_high], 'bandpass', fs=fs)`.
///
/// Each section has unit gain at the pass-band centre `√(ω₁ω₂)` (pre-warped), which keeps the
/// intermediate signals at the input's scale in `f32`.
pub fn butterworth_bandpass<const N: usize>(
    order: usize,
    f_low: f64,
    f_high: f64,
    fs: f64,
) -> Result<BiquadCascade<N>, DesignError> {
    BiquadCascade::from_design(&butter_bp(order, f_low, f_high, fs)?)
}

fn butter_bp(order: usize, f_low: f64, f_high: f64, fs: f64) -> Result<Design, DesignError> {
    check_fs(fs)?;
    check_order(order)?;
    check_cutoff(f_low, fs)?;
    check_cutoff(f_high, fs)?;
    if f_low >= f_high {
        return Err(DesignError::BandEdgesNotIncreasing);
    }
    let w1 = prewarp(f_low, fs);
    let w2 = prewarp(f_high, fs);
    let bw = w2 - w1;
    let w0sq = w1 * w2;
    // Digital centre frequency (rad/sample) matching the analog centre √(ω₁ω₂).
    let w_ref = 2.0 * libm::atan(libm::sqrt(w0sq) / (2.0 * fs));
    let mut d = Design::new(w_ref);
    for k in 0..order.div_ceil(2) {
        let p = prototype_pole(k, order);
        let real_pole = p.1.abs() < 1e-12;
        // Low-pass → band-pass: s² − (p·bw) s + ω₀² = 0.
        let half = (p.0 * bw / 2.0, p.1 * bw / 2.0);
        let root = csqrt((
            half.0 * half.0 - half.1 * half.1 - w0sq,
            2.0 * half.0 * half.1,
        ));
        let s1 = (half.0 + root.0, half.1 + root.1);
        let s2 = (half.0 - root.0, half.1 - root.1);
        let z1 = bilinear(s1, fs);
        let z2 = bilinear(s2, fs);
        if real_pole {
            // A real prototype pole gives a conjugate pair (or, for a wide band, two real
            // poles): one band-pass section with a zero at each end.
            d.push(unit_gain_at(section(z1, z2, Zeros::Both), w_ref));
        } else {
            // A complex prototype pole gives two poles that are separate sections (their
            // conjugates come from the conjugate prototype pole). Pair each with zeros at the
            // nearer end of the spectrum, as scipy's 'nearest' pairing does.
            for z in [z1, z2] {
                let z = (z.0, libm::fabs(z.1));
                let zeros = if libm::atan2(z.1, z.0) < w_ref {
                    Zeros::Dc
                } else {
                    Zeros::Nyquist
                };
                d.push(unit_gain_at(section(z, conj(z), zeros), w_ref));
            }
        }
    }
    Ok(d)
}

/// Notch (band-stop) at `f0` Hz whose -3 dB bandwidth is `f0 / q` Hz — the same filter as
/// `scipy.signal.iirnotch(f0, q, fs)`. Mains interference: `f0` = 50 or 60 Hz, `q` ≈ 30.
pub fn notch(f0: f64, q: f64, fs: f64) -> Result<BiquadCascade<1>, DesignError> {
    BiquadCascade::from_sections(&[notch_section(f0, q, fs)?])
}

/// The notch of [`notch`] as one section.
pub fn notch_section(f0: f64, q: f64, fs: f64) -> Result<SectionCoefficients, DesignError> {
    check_fs(fs)?;
    check_cutoff(f0, fs)?;
    if !(q.is_finite() && q > 0.0) {
        return Err(DesignError::QualityOutOfRange);
    }
    let w0 = 2.0 * PI * f0 / fs;
    let bw = w0 / q;
    // Bilinear design with the bandwidth pre-warped: β = tan(bw/2).
    let beta = libm::tan(bw / 2.0);
    let g = 1.0 / (1.0 + beta);
    let c = libm::cos(w0);
    Ok(SectionCoefficients {
        b0: g,
        b1: -2.0 * g * c,
        b2: g,
        a1: -2.0 * g * c,
        a2: 2.0 * g - 1.0,
    })
}

/// DC blocker: first-order high-pass with its -3 dB point at `fc` Hz (e.g. 0.5 Hz), i.e.
/// `y[n] = g·(x[n] − x[n−1]) + r·y[n−1]` — the same filter as
/// `scipy.signal.butter(1, fc, 'highpass', fs=fs)`.
pub fn dc_blocker(fc: f64, fs: f64) -> Result<BiquadCascade<1>, DesignError> {
    butterworth_highpass(1, fc, fs)
}

#[cfg(test)]
mod tests;
