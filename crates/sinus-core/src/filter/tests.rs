extern crate std;
use super::*;
use proptest::prelude::*;

/// scipy sos rows: [b0, b1, b2, a0, a1, a2].
type Sos = [f64; 6];

/// Complex response of an sos array at `f` Hz.
fn sos_response(sos: &[Sos], f: f64, fs: f64) -> (f64, f64) {
    let w = 2.0 * PI * f / fs;
    let mut acc = (1.0, 0.0);
    for r in sos {
        let s = SectionCoefficients {
            b0: r[0] / r[3],
            b1: r[1] / r[3],
            b2: r[2] / r[3],
            a1: r[4] / r[3],
            a2: r[5] / r[3],
        };
        acc = cmul(acc, s.response(w));
    }
    acc
}

fn design_response(d: &Design, f: f64, fs: f64) -> (f64, f64) {
    let w = 2.0 * PI * f / fs;
    d.sections[..d.len]
        .iter()
        .fold((1.0, 0.0), |acc, s| cmul(acc, s.response(w)))
}

/// Our design equals scipy's: same denominators (as a set: scipy orders sections by pole
/// radius and pairs zeros its own way) and the same complex response at many frequencies.
fn assert_matches_scipy(d: &Design, sos: &[Sos], fs: f64) {
    assert_eq!(d.len, sos.len(), "section count");
    let mut used = [false; MAX_ORDER];
    for r in sos {
        let found = d.sections[..d.len].iter().enumerate().position(|(i, s)| {
            !used[i] && (s.a1 - r[4]).abs() < 1e-9 && (s.a2 - r[5]).abs() < 1e-9
        });
        let i = found.unwrap_or_else(|| panic!("no section with a1={} a2={}", r[4], r[5]));
        used[i] = true;
    }
    for k in 1..200 {
        let f = fs / 2.0 * k as f64 / 200.0;
        let ours = design_response(d, f, fs);
        let theirs = sos_response(sos, f, fs);
        let scale = libm::hypot(theirs.0, theirs.1).max(1e-6);
        let err = libm::hypot(ours.0 - theirs.0, ours.1 - theirs.1) / scale;
        assert!(err < 1e-8, "f={f}: ours {ours:?} scipy {theirs:?}");
    }
}

// Reference coefficients computed with scipy 1.17.1, `scipy.signal.butter(..., output='sos')`
// and `scipy.signal.iirnotch` (the call is written above each constant).

/// butter(2, [0.5, 40], 'bandpass', fs=360, output='sos')
const BP_05_40_360: [Sos; 2] = [
    [
        0.0787623532949336,
        0.1575247065898672,
        0.0787623532949336,
        1.0,
        -1.0670924286357562,
        0.3842342474414504,
    ],
    [1.0, -2.0, 1.0, 1.0, -1.9876642211058113, 0.9877417210094565],
];
/// butter(2, [5, 15], 'bandpass', fs=250, output='sos')
const BP_5_15_250: [Sos; 2] = [
    [
        0.013359200027856493,
        0.026718400055712986,
        0.013359200027856493,
        1.0,
        -1.6813538569552235,
        0.779892143960428,
    ],
    [1.0, -2.0, 1.0, 1.0, -1.8795935958755112, 0.8987098877918257],
];
/// butter(3, [0.5, 40], 'bandpass', fs=1000, output='sos')
const BP_05_40_1000_O3: [Sos; 3] = [
    [
        0.0015131667536303958,
        0.0030263335072607915,
        0.0015131667536303958,
        1.0,
        -1.728275039728066,
        0.7836512398054386,
    ],
    [1.0, 0.0, -1.0, 1.0, -1.7774929094729197, 0.7781984933611464],
    [1.0, -2.0, 1.0, 1.0, -1.996893734436133, 0.996903708162787],
];
/// butter(4, 40, 'lowpass', fs=125, output='sos')
const LP_40_125_O4: [Sos; 2] = [
    [
        0.20561452486753623,
        0.41122904973507246,
        0.20561452486753623,
        1.0,
        0.4638241941309157,
        0.08935357665234994,
    ],
    [1.0, 2.0, 1.0, 1.0, 0.6325354049721967, 0.4855945732990751],
];
/// butter(3, 0.5, 'highpass', fs=1000, output='sos')
const HP_05_1000_O3: [Sos; 2] = [
    [
        0.996863335697075,
        -0.996863335697075,
        0.0,
        1.0,
        -0.996863331833438,
        0.0,
    ],
    [1.0, -2.0, 1.0, 1.0, -1.9968534854432145, 0.996863339560712],
];
/// butter(1, 0.5, 'highpass', fs=250, output='sos')
const HP_05_250_O1: [Sos; 1] = [[
    0.9937559649536571,
    -0.9937559649536571,
    0.0,
    1.0,
    -0.9875119299073144,
    0.0,
]];
/// iirnotch(50, 30, fs=250) → b, a
const NOTCH_50_30_250: Sos = [
    0.9794827609814495,
    -0.6053536376811252,
    0.9794827609814495,
    1.0,
    -0.6053536376811252,
    0.958965521962899,
];
/// iirnotch(60, 20, fs=360) → b, a
const NOTCH_60_20_360: Sos = [
    0.9744822833574399,
    -0.9744822833574401,
    0.9744822833574399,
    1.0,
    -0.9744822833574401,
    0.9489645667148798,
];

#[test]
fn bandpass_matches_scipy() {
    assert_matches_scipy(
        &butter_bp(2, 0.5, 40.0, 360.0).unwrap(),
        &BP_05_40_360,
        360.0,
    );
    assert_matches_scipy(
        &butter_bp(2, 5.0, 15.0, 250.0).unwrap(),
        &BP_5_15_250,
        250.0,
    );
    assert_matches_scipy(
        &butter_bp(3, 0.5, 40.0, 1000.0).unwrap(),
        &BP_05_40_1000_O3,
        1000.0,
    );
}

#[test]
fn even_order_bandpass_sections_equal_scipy_rows() {
    // For even orders our zero pairing equals scipy's 'nearest' pairing, so each section's
    // normalised numerator is the same too (gains differ: scipy puts all gain in section 0).
    let d = butter_bp(2, 5.0, 15.0, 250.0).unwrap();
    for r in &BP_5_15_250 {
        let s = d.sections[..2]
            .iter()
            .find(|s| (s.a1 - r[4]).abs() < 1e-9)
            .unwrap();
        assert!((s.b1 / s.b0 - r[1] / r[0]).abs() < 1e-9);
        assert!((s.b2 / s.b0 - r[2] / r[0]).abs() < 1e-9);
    }
}

#[test]
fn lowpass_highpass_match_scipy() {
    assert_matches_scipy(
        &butter_lh(4, 40.0, 125.0, false).unwrap(),
        &LP_40_125_O4,
        125.0,
    );
    // scipy rounds the real pole slightly differently (a1 differs by 4e-9): compare that one
    // looser, by response only.
    let d = butter_lh(3, 0.5, 1000.0, true).unwrap();
    assert!((d.sections[1].a1 - HP_05_1000_O3[0][4]).abs() < 1e-8);
    assert!((d.sections[0].a2 - HP_05_1000_O3[1][5]).abs() < 1e-9);
    for f in [0.1, 0.5, 1.0, 5.0, 100.0, 400.0] {
        let a = design_response(&d, f, 1000.0);
        let b = sos_response(&HP_05_1000_O3, f, 1000.0);
        assert!(
            (libm::hypot(a.0, a.1) - libm::hypot(b.0, b.1)).abs() < 1e-7,
            "f={f}"
        );
    }
    assert_matches_scipy(
        &butter_lh(1, 0.5, 250.0, true).unwrap(),
        &HP_05_250_O1,
        250.0,
    );
}

#[test]
fn notch_and_dc_blocker_match_scipy() {
    for (f0, q, fs, r) in [
        (50.0, 30.0, 250.0, NOTCH_50_30_250),
        (60.0, 20.0, 360.0, NOTCH_60_20_360),
    ] {
        let s = notch_section(f0, q, fs).unwrap();
        let ours = [s.b0, s.b1, s.b2, 1.0, s.a1, s.a2];
        for (a, b) in ours.iter().zip(r.iter()) {
            assert!((a - b).abs() < 1e-12, "{ours:?} vs {r:?}");
        }
        let c = notch(f0, q, fs).unwrap();
        assert!(c.magnitude(f0, fs) < 1e-5);
        // -3 dB bandwidth is f0/q.
        let edge_lo = c.magnitude(f0 - f0 / q / 2.0, fs);
        assert!(
            (edge_lo - core::f64::consts::FRAC_1_SQRT_2).abs() < 0.02,
            "{edge_lo}"
        );
        assert!((c.magnitude(1.0, fs) - 1.0).abs() < 1e-3);
        assert!((c.magnitude(20.0, fs) - 1.0).abs() < 0.01);
    }
    let d = dc_blocker(0.5, 250.0).unwrap();
    let s = d.sections()[0].coefficients();
    let r = HP_05_250_O1[0];
    assert!((s.b0 - r[0]).abs() < 1e-7 && (s.b1 - r[1]).abs() < 1e-7);
    assert!((s.a1 - r[4]).abs() < 1e-7 && s.a2 == 0.0 && s.b2 == 0.0);
}

/// Analytic Butterworth magnitude after the bilinear transform.
fn butter_magnitude(order: usize, kind: u8, f1: f64, f2: f64, f: f64, fs: f64) -> f64 {
    let w = prewarp(f, fs);
    let omega = match kind {
        0 => w / prewarp(f1, fs),
        1 => prewarp(f1, fs) / w,
        _ => {
            let (w1, w2) = (prewarp(f1, fs), prewarp(f2, fs));
            libm::fabs((w * w - w1 * w2) / (w * (w2 - w1)))
        }
    };
    1.0 / libm::sqrt(1.0 + libm::pow(omega, 2.0 * order as f64))
}

#[test]
fn magnitude_response_passband_and_stopband() {
    // 0.5–40 Hz band-pass, order 2, at the device and MIT-BIH rates.
    for fs in [250.0, 360.0] {
        let c: BiquadCascade<4> = butterworth_bandpass(2, 0.5, 40.0, fs).unwrap();
        for f in [5.0, 10.0, 15.0] {
            assert!((c.magnitude(f, fs) - 1.0).abs() < 0.01, "fs={fs} f={f}");
        }
        for f in [0.5, 40.0] {
            let m = c.magnitude(f, fs);
            assert!(
                (m - core::f64::consts::FRAC_1_SQRT_2).abs() < 1e-3,
                "edge {f}: {m}"
            );
        }
        // Stop band: 4 Butterworth poles per side → ≥ 24 dB below at 0.1 Hz and at 120 Hz.
        assert!(c.magnitude(0.1, fs) < 0.05);
        assert!(c.magnitude(120.0, fs) < 0.1, "{}", c.magnitude(120.0, fs));
    }
    // 5–15 Hz band-pass (the QRS band): 50 Hz mains ≥ 26 dB down, 1 Hz baseline ≥ 30 dB down.
    for fs in [125.0, 250.0, 360.0, 1000.0] {
        let c: BiquadCascade<2> = butterworth_bandpass(2, 5.0, 15.0, fs).unwrap();
        assert!(
            (c.magnitude(libm::sqrt(75.0), fs) - 1.0).abs() < 0.02,
            "fs={fs}"
        );
        assert!(c.magnitude(1.0, fs) < 0.03);
        if fs > 100.0 {
            assert!(
                c.magnitude(50.0, fs) < 0.05,
                "fs={fs}: {}",
                c.magnitude(50.0, fs)
            );
        }
    }
}

#[test]
fn group_delay_of_known_filters() {
    // A pure delay-free first-order low-pass y = (x + x[n-1])/2 has a group delay of 0.5
    // samples at every frequency.
    let avg = SectionCoefficients {
        b0: 0.5,
        b1: 0.5,
        b2: 0.0,
        a1: 0.0,
        a2: 0.0,
    };
    let c: BiquadCascade<1> = BiquadCascade::from_sections(&[avg]).unwrap();
    assert!((c.group_delay(10.0, 250.0) - 0.5).abs() < 1e-6);
    // A Gaussian tone burst at the centre of the 5–15 Hz band-pass comes out delayed by the
    // group delay: compare the energy centroids of input and output.
    let fs = 360.0;
    let mut bp: BiquadCascade<2> = butterworth_bandpass(2, 5.0, 15.0, fs).unwrap();
    let f0 = libm::sqrt(75.0);
    let gd = bp.group_delay(f0, fs);
    let (mut cx, mut ex, mut cy, mut ey) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..1440 {
        let t = i as f64 / fs;
        let x = libm::exp(-libm::pow((t - 2.0) / 0.3, 2.0)) * libm::sin(2.0 * PI * f0 * t);
        let y = bp.process(x as f32) as f64;
        cx += i as f64 * x * x;
        ex += x * x;
        cy += i as f64 * y * y;
        ey += y * y;
    }
    let shift = cy / ey - cx / ex;
    assert!(
        (shift - gd).abs() < 0.5,
        "group delay {gd} samples, burst shift {shift}"
    );
    assert!(gd > 5.0 && gd < 30.0);
}

#[test]
fn impossible_specs_are_errors() {
    type B = BiquadCascade<8>;
    assert_eq!(
        butterworth_lowpass::<8>(2, 10.0, 100.0),
        Err::<B, _>(DesignError::SamplingRateOutOfRange)
    );
    assert_eq!(
        butterworth_lowpass::<8>(2, 10.0, 2000.0),
        Err::<B, _>(DesignError::SamplingRateOutOfRange)
    );
    assert_eq!(
        butterworth_lowpass::<8>(2, 10.0, f64::NAN),
        Err::<B, _>(DesignError::SamplingRateOutOfRange)
    );
    assert_eq!(
        butterworth_lowpass::<8>(2, 125.0, 250.0),
        Err::<B, _>(DesignError::CutoffOutOfRange)
    );
    assert_eq!(
        butterworth_highpass::<8>(2, 0.0, 250.0),
        Err::<B, _>(DesignError::CutoffOutOfRange)
    );
    assert_eq!(
        butterworth_highpass::<8>(2, -1.0, 250.0),
        Err::<B, _>(DesignError::CutoffOutOfRange)
    );
    assert_eq!(
        butterworth_highpass::<8>(2, f64::INFINITY, 250.0),
        Err::<B, _>(DesignError::CutoffOutOfRange)
    );
    assert_eq!(
        butterworth_bandpass::<8>(2, 15.0, 5.0, 250.0),
        Err::<B, _>(DesignError::BandEdgesNotIncreasing)
    );
    assert_eq!(
        butterworth_bandpass::<8>(2, 5.0, 200.0, 360.0),
        Err::<B, _>(DesignError::CutoffOutOfRange)
    );
    assert_eq!(
        butterworth_bandpass::<8>(0, 5.0, 15.0, 360.0),
        Err::<B, _>(DesignError::OrderOutOfRange)
    );
    assert_eq!(
        butterworth_bandpass::<8>(9, 5.0, 15.0, 360.0),
        Err::<B, _>(DesignError::OrderOutOfRange)
    );
    assert_eq!(
        butterworth_bandpass::<1>(2, 5.0, 15.0, 360.0),
        Err(DesignError::TooFewSections)
    );
    assert_eq!(
        butterworth_lowpass::<1>(3, 5.0, 360.0),
        Err(DesignError::TooFewSections)
    );
    assert_eq!(notch(50.0, 0.0, 250.0), Err(DesignError::QualityOutOfRange));
    assert_eq!(
        notch(50.0, f64::NAN, 250.0),
        Err(DesignError::QualityOutOfRange)
    );
    assert_eq!(
        notch(200.0, 30.0, 250.0),
        Err(DesignError::CutoffOutOfRange)
    );
    assert_eq!(
        dc_blocker(0.5, 50.0),
        Err(DesignError::SamplingRateOutOfRange)
    );
}

#[test]
fn non_finite_input_is_contained_by_reset() {
    let mut c: BiquadCascade<2> = butterworth_bandpass(2, 5.0, 15.0, 250.0).unwrap();
    assert!(c.process(f32::NAN).is_nan());
    assert!(!c.is_finite());
    c.reset();
    assert!(c.is_finite());
    assert_eq!(c.process(0.0), 0.0);
    // reset_to: a constant input produces the steady-state output at once (0 for a band-pass).
    let mut h: BiquadCascade<1> = dc_blocker(0.5, 360.0).unwrap();
    h.reset_to(1000.0);
    for _ in 0..10 {
        assert!(h.process(1000.0).abs() < 1e-2);
    }
    let mut l: BiquadCascade<2> = butterworth_lowpass(4, 40.0, 360.0).unwrap();
    l.reset_to(3.0);
    assert!((l.process(3.0) - 3.0).abs() < 1e-4);
}

/// Reference TDF-II in f64 with f64 coefficients.
fn run_f64(d: &Design, xs: &[f64]) -> [f64; 4096] {
    let mut st = [[0.0f64; 2]; MAX_ORDER];
    let mut out = [0.0; 4096];
    for (o, &x) in out.iter_mut().zip(xs) {
        let mut v = x;
        for (s, c) in st.iter_mut().zip(&d.sections[..d.len]) {
            let y = c.b0 * v + s[0];
            s[0] = c.b1 * v - c.a1 * y + s[1];
            s[1] = c.b2 * v - c.a2 * y;
            v = y;
        }
        *o = v;
    }
    out
}

/// Measures the cost of running in f32: the 0.5 Hz high-pass at 1000 Hz (poles at radius
/// 0.998) on a 1 mV ECG-like pulse train riding on a 5 mV offset plus 0.3 Hz wander. The f32
/// output stays within 5 µV RMS of an f64 run — well below ECG noise — so f32 state is kept.
#[test]
fn f32_state_error_at_low_cutoff_is_small() {
    let fs = 1000.0;
    for (order, bp) in [(2, false), (2, true)] {
        let d = if bp {
            butter_bp(order, 0.5, 40.0, fs).unwrap()
        } else {
            butter_lh(order, 0.5, fs, true).unwrap()
        };
        let mut c: BiquadCascade<4> = BiquadCascade::from_design(&d).unwrap();
        let mut xs = [0.0f64; 4096];
        for (i, x) in xs.iter_mut().enumerate() {
            let t = i as f64 / fs;
            let beat = libm::exp(-libm::pow((t % 0.8 - 0.4) / 0.01, 2.0));
            *x = 5.0 + 0.5 * libm::sin(2.0 * PI * 0.3 * t) + beat;
        }
        let want = run_f64(&d, &xs);
        let mut se = 0.0;
        for (x, w) in xs.iter().zip(want.iter()) {
            let y = c.process(*x as f32) as f64;
            se += (y - w) * (y - w);
        }
        let rms = libm::sqrt(se / xs.len() as f64);
        std::println!("order {order} band-pass {bp}: f32 rms error {rms:e} mV");
        assert!(rms < 0.005, "order {order} bp {bp}: rms {rms}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any valid design is stable after rounding to f32 and has unity pass-band gain; its
    /// magnitude equals the analytic Butterworth magnitude.
    #[test]
    fn designs_are_stable_with_unity_passband(
        fs in 125.0f64..=1000.0,
        order in 1usize..=4,
        lo_frac in 0.0005f64..0.2,
        width in 1.5f64..20.0,
        kind in 0u8..3,
    ) {
        let nyq = fs / 2.0;
        let f1 = lo_frac * nyq;
        let f2 = (f1 * width).min(0.9 * nyq);
        prop_assume!(f2 > f1 * 1.2);
        let c: BiquadCascade<4> = match kind {
            0 => butterworth_lowpass(order, f1, fs).unwrap(),
            1 => butterworth_highpass(order, f1, fs).unwrap(),
            _ => butterworth_bandpass(order, f1, f2, fs).unwrap(),
        };
        prop_assert!(c.pole_radius() < 1.0, "unstable: radius {}", c.pole_radius());
        let pass = match kind {
            0 => 0.0,
            1 => nyq,
            _ => fs / PI * libm::atan(libm::sqrt(prewarp(f1, fs) * prewarp(f2, fs)) / (2.0 * fs)),
        };
        let g = c.magnitude(pass, fs);
        prop_assert!((g - 1.0).abs() < 1e-3, "pass-band gain {}", g);
        for k in 1..20 {
            let f = nyq * k as f64 / 20.0;
            let want = butter_magnitude(order, kind, f1, f2, f, fs);
            let got = c.magnitude(f, fs);
            prop_assert!((got - want).abs() < 2e-3, "f={} got {} want {}", f, got, want);
        }
    }

    /// Time domain: a sine in the pass band comes out with its amplitude; the state never
    /// becomes non-finite on finite input.
    #[test]
    fn sine_in_passband_keeps_amplitude(fs in 125.0f64..=1000.0, amp in 0.01f32..100.0) {
        let mut c: BiquadCascade<2> = butterworth_bandpass(2, 5.0, 15.0, fs).unwrap();
        let f0 = fs / PI * libm::atan(libm::sqrt(prewarp(5.0, fs) * prewarp(15.0, fs)) / (2.0 * fs));
        let n = (fs * 3.0) as usize;
        let mut peak = 0.0f32;
        for i in 0..n {
            let x = amp * libm::sinf((2.0 * PI * f0 * i as f64 / fs) as f32);
            let y = c.process(x);
            if i > n / 2 {
                peak = peak.max(y.abs());
            }
        }
        prop_assert!(c.is_finite());
        prop_assert!((peak / amp - 1.0).abs() < 0.01, "gain {}", peak / amp);
    }
}
