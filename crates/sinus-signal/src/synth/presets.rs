//! Ready-made rhythm scripts.

use super::{Circadian, Conduction, Ectopy, Event, NoiseSpec, Rhythm, Segment, SynthSpec};
use crate::noise::NoiseKind;

/// Every preset: name and a one-line description.
pub const PRESETS: [(&str, &str); 8] = [
    (
        "demo",
        "10 min, 2 leads, 360 Hz: every rhythm once (brady, AF, flutter, VT runs, bigeminy, \
         trigeminy, SVTA, tachy), a pause, leads-off, a noise burst, scattered PACs/PVCs",
    ),
    (
        "holter-24h",
        "24 h, 2 leads, 250 Hz from 09:00: day/night rate drift, three AF episodes, ectopy, \
         bigeminy, a VT run, a pause, noise bursts, a leads-off",
    ),
    (
        "af",
        "30 min, 2 leads, 360 Hz: paroxysmal AF (two episodes) with a flutter episode of \
         variable conduction between sinus rhythm",
    ),
    (
        "vt",
        "10 min, 2 leads, 360 Hz: PVCs, couplets, VT runs of 5, 8 and 12 beats and 30 s of \
         sustained VT",
    ),
    (
        "brady",
        "10 min, 2 leads, 360 Hz: sinus bradycardia at about 48-52/min with two sinus pauses",
    ),
    (
        "tachy",
        "10 min, 2 leads, 360 Hz: sinus tachycardia at about 115/min and runs of SVTA",
    ),
    (
        "normal",
        "10 min, 2 leads, 360 Hz: normal sinus rhythm at 72/min, no ectopy",
    ),
    (
        "stress-tachy",
        "7 min, 1 lead, 250 Hz: sinus tachycardia ramping 100->220/min with tall T waves, QRS \
         amplitude steps x0.2 and x5, abrupt 60->180->60, leads-off just before a tachycardia, \
         baseline wander",
    ),
];

fn seg(start_s: f64, duration_s: f64, rhythm: Rhythm) -> Segment {
    Segment::new(start_s, duration_s, rhythm)
}

fn sinus(bpm: f64) -> Rhythm {
    Rhythm::Sinus { bpm: Some(bpm) }
}

fn base(name: &str, fs: f64, seconds: f64) -> SynthSpec {
    SynthSpec {
        name: name.to_string(),
        fs,
        seconds,
        leads: 2,
        seed: 0x5153_594e,
        ..SynthSpec::default()
    }
}

/// The preset called `name` (see [`PRESETS`]), or `None`.
pub fn preset(name: &str) -> Option<SynthSpec> {
    Some(match name {
        "demo" => demo(),
        "holter-24h" => holter(),
        "af" => af(),
        "vt" => vt(),
        "brady" => brady(),
        "tachy" => tachy(),
        "normal" => SynthSpec {
            heart_rate_bpm: 72.0,
            ..base("normal", 360.0, 600.0)
        },
        "stress-tachy" => stress_tachy(),
        _ => return None,
    })
}

fn demo() -> SynthSpec {
    // VT run lengths in seconds: the number of beats times the VT cycle.
    let vt7 = 7.0 * 60.0 / 170.0 - 0.1;
    let vt9 = 9.0 * 60.0 / 150.0 - 0.1;
    SynthSpec {
        heart_rate_bpm: 75.0,
        ectopy: Ectopy {
            pac: 0.015,
            pvc: 0.015,
            couplet: 0.004,
        },
        segments: vec![
            seg(40.0, 62.0, sinus(50.0)),
            seg(130.0, 62.0, Rhythm::Afib { mean_bpm: 100.0 }),
            seg(
                210.0,
                35.0,
                Rhythm::Aflutter {
                    atrial_bpm: 300.0,
                    conduction: Conduction::Fixed(2),
                },
            ),
            seg(265.0, vt7, Rhythm::Vt { bpm: 170.0 }),
            seg(290.0, 35.0, Rhythm::Bigeminy),
            seg(340.0, 35.0, Rhythm::Trigeminy),
            seg(390.0, 6.0, Rhythm::Svta { bpm: 180.0 }),
            seg(420.0, vt9, Rhythm::Vt { bpm: 150.0 }),
            seg(430.0, 62.0, sinus(115.0)),
        ],
        events: vec![
            Event::Pause {
                at_s: 25.0,
                duration_s: 2.8,
            },
            Event::LeadsOff {
                at_s: 505.0,
                duration_s: 10.0,
                lead: None,
                rail: false,
            },
            Event::NoiseBurst {
                at_s: 540.0,
                duration_s: 10.0,
                kind: NoiseKind::MuscleArtifact,
                level_mv: 0.15,
            },
        ],
        ..base("demo", 360.0, 600.0)
    }
}

fn holter() -> SynthSpec {
    const H: f64 = 3600.0;
    // Clock 09:00 at t = 0: t = (clock − 9) h.
    let at = |clock: f64| (clock - 9.0).rem_euclid(24.0) * H;
    SynthSpec {
        heart_rate_bpm: 74.0,
        circadian: Some(Circadian {
            start_hour: 9.0,
            swing_bpm: 20.0,
            activity_bpm: 5.0,
        }),
        noise: NoiseSpec {
            baseline_mv: 0.15,
            muscle_mv: 0.0,
            electrode_mv: 0.0,
            white_mv: 0.01,
            mains_mv: 0.0,
            mains_hz: 50.0,
        },
        ectopy: Ectopy {
            pac: 0.002,
            pvc: 0.003,
            couplet: 0.0002,
        },
        segments: vec![
            seg(at(14.0), 10.0 * 60.0, Rhythm::Afib { mean_bpm: 110.0 }),
            seg(at(17.5), 5.0 * 60.0, Rhythm::Bigeminy),
            seg(at(20.0), 3.0 * 60.0, Rhythm::Afib { mean_bpm: 120.0 }),
            seg(at(2.5), 40.0 * 60.0, Rhythm::Afib { mean_bpm: 85.0 }),
            seg(
                at(11.2),
                6.0 * 60.0 / 160.0 - 0.1,
                Rhythm::Vt { bpm: 160.0 },
            ),
        ],
        events: vec![
            Event::Pause {
                at_s: at(4.0),
                duration_s: 2.6,
            },
            Event::NoiseBurst {
                at_s: at(10.5),
                duration_s: 20.0,
                kind: NoiseKind::ElectrodeMotion,
                level_mv: 0.3,
            },
            Event::NoiseBurst {
                at_s: at(13.0),
                duration_s: 30.0,
                kind: NoiseKind::MuscleArtifact,
                level_mv: 0.15,
            },
            Event::NoiseBurst {
                at_s: at(18.3),
                duration_s: 15.0,
                kind: NoiseKind::Mixture,
                level_mv: 0.2,
            },
            Event::NoiseBurst {
                at_s: at(7.2),
                duration_s: 10.0,
                kind: NoiseKind::ElectrodeMotion,
                level_mv: 0.4,
            },
            Event::LeadsOff {
                at_s: at(23.1),
                duration_s: 60.0,
                lead: Some(1),
                rail: false,
            },
        ],
        ..base("holter-24h", 250.0, 24.0 * H)
    }
}

fn af() -> SynthSpec {
    SynthSpec {
        heart_rate_bpm: 68.0,
        ectopy: Ectopy {
            pac: 0.02,
            pvc: 0.005,
            couplet: 0.0,
        },
        segments: vec![
            seg(300.0, 600.0, Rhythm::Afib { mean_bpm: 105.0 }),
            seg(
                1200.0,
                150.0,
                Rhythm::Aflutter {
                    atrial_bpm: 290.0,
                    conduction: Conduction::Variable,
                },
            ),
            seg(1500.0, 240.0, Rhythm::Afib { mean_bpm: 90.0 }),
        ],
        ..base("af", 360.0, 1800.0)
    }
}

fn vt() -> SynthSpec {
    let run = |beats: f64, bpm: f64| beats * 60.0 / bpm - 0.1;
    SynthSpec {
        heart_rate_bpm: 78.0,
        ectopy: Ectopy {
            pac: 0.0,
            pvc: 0.03,
            couplet: 0.01,
        },
        segments: vec![
            seg(60.0, run(5.0, 160.0), Rhythm::Vt { bpm: 160.0 }),
            seg(180.0, run(8.0, 175.0), Rhythm::Vt { bpm: 175.0 }),
            seg(300.0, run(12.0, 150.0), Rhythm::Vt { bpm: 150.0 }),
            seg(420.0, 30.0, Rhythm::Vt { bpm: 180.0 }),
        ],
        ..base("vt", 360.0, 600.0)
    }
}

fn brady() -> SynthSpec {
    SynthSpec {
        segments: vec![seg(0.0, 300.0, sinus(52.0)), seg(300.0, 300.0, sinus(48.0))],
        events: vec![
            Event::Pause {
                at_s: 150.0,
                duration_s: 3.2,
            },
            Event::Pause {
                at_s: 420.0,
                duration_s: 2.5,
            },
        ],
        ..base("brady", 360.0, 600.0)
    }
}

fn tachy() -> SynthSpec {
    SynthSpec {
        ectopy: Ectopy {
            pac: 0.01,
            pvc: 0.0,
            couplet: 0.0,
        },
        segments: vec![
            seg(0.0, 600.0, sinus(115.0)),
            seg(120.0, 8.0, Rhythm::Svta { bpm: 160.0 }),
            seg(128.0, 172.0, sinus(115.0)),
            seg(300.0, 15.0, Rhythm::Svta { bpm: 190.0 }),
            seg(315.0, 285.0, sinus(115.0)),
        ],
        ..base("tachy", 360.0, 600.0)
    }
}

fn stress_tachy() -> SynthSpec {
    let tall = |s: Segment| Segment { t_wave: 2.2, ..s };
    let scaled = |s: Segment, a: f64| Segment { amplitude: a, ..s };
    SynthSpec {
        leads: 1,
        heart_rate_bpm: 70.0,
        hrv: super::Hrv {
            modulation: 0.02,
            ..super::Hrv::default()
        },
        noise: NoiseSpec {
            baseline_mv: 0.4,
            ..NoiseSpec::default()
        },
        segments: vec![
            tall(seg(
                30.0,
                120.0,
                Rhythm::SinusRamp {
                    from_bpm: 100.0,
                    to_bpm: 220.0,
                },
            )),
            scaled(seg(180.0, 20.0, sinus(70.0)), 0.2),
            scaled(seg(200.0, 20.0, sinus(70.0)), 5.0),
            seg(240.0, 30.0, sinus(60.0)),
            seg(270.0, 30.0, sinus(180.0)),
            seg(300.0, 30.0, sinus(60.0)),
            tall(seg(345.0, 60.0, sinus(160.0))),
        ],
        events: vec![Event::LeadsOff {
            at_s: 335.0,
            duration_s: 10.0,
            lead: None,
            rail: false,
        }],
        ..base("stress-tachy", 250.0, 420.0)
    }
}
