extern crate std;

use super::*;
use proptest::prelude::*;
use std::vec::Vec;

/// Deterministic xorshift uniform numbers in [0, 1).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Beats from (RR before the beat in seconds, class) pairs, starting at 1 s.
fn beats(fs: f32, seq: &[(f32, BeatClass)]) -> Vec<Beat> {
    let mut t = 1.0f64;
    seq.iter()
        .map(|&(rr, c)| {
            t += f64::from(rr);
            Beat::labelled((t * f64::from(fs)).round() as u64, c)
        })
        .collect()
}

fn n(count: usize, rr: f32) -> Vec<(f32, BeatClass)> {
    std::vec![(rr, BeatClass::Normal); count]
}

/// Run an analyzer over `beats` and finish at the last beat; all events in order.
fn run(cfg: RhythmConfig, beats: &[Beat]) -> (Vec<RhythmEvent>, RhythmAnalyzer) {
    let mut an = RhythmAnalyzer::new(cfg).unwrap();
    let mut ev = Vec::new();
    for b in beats {
        an.push_beat(*b, &mut |e| ev.push(e));
    }
    let end = beats.last().map(|b| b.sample).unwrap_or(0);
    an.finish(end, &mut |e| ev.push(e));
    check_well_formed(&ev, end).unwrap();
    (ev, an)
}

fn episodes(ev: &[RhythmEvent], kind: RhythmKind) -> Vec<Episode> {
    ev.iter()
        .filter_map(|e| match e {
            RhythmEvent::Episode(ep) if ep.kind == kind => Some(*ep),
            _ => None,
        })
        .collect()
}

/// Every episode is preceded by exactly one onset of its kind and start, starts no later than
/// it ends, and lies within the time fed; no onset is left unclosed.
fn check_well_formed(ev: &[RhythmEvent], fed_until: u64) -> Result<(), TestCaseError> {
    let mut open: Vec<(RhythmKind, u64)> = Vec::new();
    for e in ev {
        match *e {
            RhythmEvent::Onset { kind, sample } => {
                prop_assert!(sample <= fed_until, "onset after the time fed: {e:?}");
                open.push((kind, sample));
            }
            RhythmEvent::Episode(ep) => {
                prop_assert!(ep.start <= ep.end, "{ep:?}");
                prop_assert!(ep.end <= fed_until, "{ep:?} ends after {fed_until}");
                let k = open
                    .iter()
                    .position(|&(kind, s)| kind == ep.kind && s == ep.start);
                prop_assert!(k.is_some(), "episode without its onset: {ep:?}");
                open.remove(k.unwrap());
                prop_assert!(ep.min_rate_bpm <= ep.max_rate_bpm + 1e-3, "{ep:?}");
                prop_assert!(ep.mean_rate_bpm.is_finite() && ep.mean_rate_bpm >= 0.0);
            }
        }
    }
    prop_assert!(open.is_empty(), "onsets never closed: {open:?}");
    Ok(())
}

#[test]
fn vt_run_of_five_at_150_bpm_is_one_vt_episode() {
    for fs in [100.0, 360.0, 1000.0] {
        let mut seq = n(20, 0.8);
        seq.extend(std::vec![(0.4, BeatClass::Ventricular); 5]);
        seq.extend(n(20, 0.8));
        let b = beats(fs, &seq);
        let (ev, an) = run(RhythmConfig::new(fs), &b);
        let vt = episodes(&ev, RhythmKind::VentricularTachycardia);
        assert_eq!(vt.len(), 1, "fs {fs}: {ev:?}");
        assert_eq!(vt[0].start, b[20].sample);
        assert_eq!(vt[0].end, b[24].sample);
        assert_eq!(vt[0].beats, 5);
        assert!((vt[0].mean_rate_bpm - 150.0).abs() < 2.0, "{:?}", vt[0]);
        let c = an.counts();
        assert_eq!(
            (c.v_beats, c.v_runs, c.v_couplets, c.v_isolated),
            (5, 1, 0, 0)
        );
        assert!(episodes(&ev, RhythmKind::AtrialFibrillation).is_empty());
    }
}

#[test]
fn slow_v_run_and_couplet_are_counted_but_not_vt() {
    let mut seq = n(10, 1.0);
    seq.extend(std::vec![(1.1, BeatClass::Ventricular); 3]); // idioventricular, 55 bpm
    seq.extend(n(10, 1.0));
    seq.extend(std::vec![(0.5, BeatClass::Ventricular); 2]);
    seq.extend(n(10, 1.0));
    seq.push((0.6, BeatClass::Ventricular));
    seq.extend(n(5, 1.0));
    let (ev, an) = run(RhythmConfig::new(250.0), &beats(250.0, &seq));
    assert!(episodes(&ev, RhythmKind::VentricularTachycardia).is_empty());
    let c = an.counts();
    assert_eq!((c.v_runs, c.v_couplets, c.v_isolated), (1, 1, 1));
}

#[test]
fn svt_run() {
    let mut seq = n(20, 0.8);
    seq.extend(std::vec![(0.35, BeatClass::Supraventricular); 6]);
    seq.extend(n(20, 0.8));
    let b = beats(360.0, &seq);
    let (ev, an) = run(RhythmConfig::new(360.0), &b);
    let svt = episodes(&ev, RhythmKind::SupraventricularTachycardia);
    assert_eq!(svt.len(), 1);
    assert_eq!((svt[0].start, svt[0].end), (b[20].sample, b[25].sample));
    assert_eq!(an.counts().s_runs, 1);
}

#[test]
fn bigeminy_and_trigeminy() {
    let mut seq = n(20, 0.8);
    for _ in 0..10 {
        seq.push((0.8, BeatClass::Normal));
        seq.push((0.5, BeatClass::Ventricular));
    }
    seq.extend(n(20, 0.8));
    for _ in 0..10 {
        seq.push((0.8, BeatClass::Normal));
        seq.push((0.8, BeatClass::Normal));
        seq.push((0.5, BeatClass::Ventricular));
    }
    seq.extend(n(20, 0.8));
    let b = beats(360.0, &seq);
    let (ev, an) = run(RhythmConfig::new(360.0), &b);
    let big = episodes(&ev, RhythmKind::VentricularBigeminy);
    assert_eq!(big.len(), 1, "{ev:?}");
    assert_eq!((big[0].start, big[0].end), (b[21].sample, b[39].sample));
    let tri = episodes(&ev, RhythmKind::VentricularTrigeminy);
    assert_eq!(tri.len(), 1, "{ev:?}");
    assert_eq!((tri[0].start, tri[0].end), (b[62].sample, b[89].sample));
    assert_eq!(an.counts().v_isolated, 20);
    assert!(episodes(&ev, RhythmKind::AtrialFibrillation).is_empty());
    assert!(episodes(&ev, RhythmKind::VentricularTachycardia).is_empty());
}

#[test]
fn pause_of_2_5_s_is_reported_live_and_closed() {
    let fs = 200.0;
    let mut seq = n(10, 0.8);
    seq.push((2.5, BeatClass::Normal));
    seq.extend(n(10, 0.8));
    let b = beats(fs, &seq);
    let mut an = RhythmAnalyzer::new(RhythmConfig::new(fs)).unwrap();
    let mut ev = Vec::new();
    for (i, x) in b.iter().enumerate() {
        if i == 10 {
            // Time passes: 1.9 s after the last beat nothing, 2.1 s after it a pause onset.
            an.advance(b[9].sample + 380, &mut |e| ev.push(e));
            assert!(ev.is_empty());
            an.advance(b[9].sample + 420, &mut |e| ev.push(e));
            assert_eq!(
                ev,
                [RhythmEvent::Onset {
                    kind: RhythmKind::Pause,
                    sample: b[9].sample
                }]
            );
        }
        an.push_beat(*x, &mut |e| ev.push(e));
    }
    an.finish(b[20].sample, &mut |e| ev.push(e));
    check_well_formed(&ev, b[20].sample).unwrap();
    let p = episodes(&ev, RhythmKind::Pause);
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].start, p[0].end), (b[9].sample, b[10].sample));
    assert!(episodes(&ev, RhythmKind::Asystole).is_empty());
    assert_eq!((an.counts().pauses, an.counts().asystoles), (1, 0));
}

#[test]
fn five_seconds_without_a_beat_is_asystole_and_a_pause() {
    let mut seq = n(10, 0.8);
    seq.push((5.0, BeatClass::Normal));
    seq.extend(n(10, 0.8));
    let b = beats(500.0, &seq);
    let (ev, an) = run(RhythmConfig::new(500.0), &b);
    assert_eq!(episodes(&ev, RhythmKind::Asystole).len(), 1);
    assert_eq!(episodes(&ev, RhythmKind::Pause).len(), 1);
    assert_eq!((an.counts().pauses, an.counts().asystoles), (1, 1));
}

#[test]
fn leads_off_gap_is_noise_not_asystole() {
    let fs = 250.0;
    let mut seq = n(10, 0.8);
    seq.push((6.0, BeatClass::Normal));
    seq.extend(n(10, 0.8));
    let b = beats(fs, &seq);
    let mut an = RhythmAnalyzer::new(RhythmConfig::new(fs)).unwrap();
    let mut ev = Vec::new();
    for (i, x) in b.iter().enumerate() {
        if i == 10 {
            let (s, e) = (b[9].sample + 100, b[10].sample - 100);
            an.push_quality(s, e, SignalQuality::LeadsOff, &mut |e| ev.push(e));
            an.advance(b[10].sample - 1, &mut |e| ev.push(e));
        }
        an.push_beat(*x, &mut |e| ev.push(e));
    }
    an.finish(b[20].sample, &mut |e| ev.push(e));
    check_well_formed(&ev, b[20].sample).unwrap();
    assert_eq!(episodes(&ev, RhythmKind::Noise).len(), 1);
    assert!(episodes(&ev, RhythmKind::Pause).is_empty());
    assert!(episodes(&ev, RhythmKind::Asystole).is_empty());
}

#[test]
fn beats_inside_noise_make_no_vt() {
    let fs = 250.0;
    let mut seq = n(10, 0.8);
    seq.extend(std::vec![(0.3, BeatClass::Ventricular); 6]);
    seq.extend(n(10, 0.8));
    let b = beats(fs, &seq);
    let mut an = RhythmAnalyzer::new(RhythmConfig::new(fs)).unwrap();
    let mut ev = Vec::new();
    an.push_quality(
        b[9].sample + 1,
        b[16].sample,
        SignalQuality::Noisy,
        &mut |e| ev.push(e),
    );
    for x in &b {
        an.push_beat(*x, &mut |e| ev.push(e));
    }
    an.finish(b[25].sample, &mut |e| ev.push(e));
    check_well_formed(&ev, b[25].sample).unwrap();
    assert!(episodes(&ev, RhythmKind::VentricularTachycardia).is_empty());
}

#[test]
fn sinus_brady_at_50_and_tachy_at_120() {
    let mut seq = n(20, 0.8);
    seq.extend(n(30, 1.2));
    seq.extend(n(30, 0.8));
    seq.extend(n(40, 0.5));
    seq.extend(n(30, 0.8));
    let b = beats(128.0, &seq);
    let (ev, _) = run(RhythmConfig::new(128.0), &b);
    let br = episodes(&ev, RhythmKind::SinusBradycardia);
    assert_eq!(br.len(), 1, "{ev:?}");
    // The episode covers the slow beats (back-dated to the first window that was slow).
    assert!(
        br[0].start >= b[19].sample && br[0].start <= b[28].sample,
        "{:?}",
        br[0]
    );
    assert!(
        br[0].end >= b[49].sample && br[0].end <= b[56].sample,
        "{:?}",
        br[0]
    );
    assert!((br[0].min_rate_bpm - 50.0).abs() < 2.0, "{:?}", br[0]);
    let ta = episodes(&ev, RhythmKind::SinusTachycardia);
    assert_eq!(ta.len(), 1, "{ev:?}");
    assert!((ta[0].max_rate_bpm - 120.0).abs() < 3.0, "{:?}", ta[0]);
    assert!(episodes(&ev, RhythmKind::AtrialFibrillation).is_empty());
}

/// Random RR intervals (uniform 0.35–1.1 s) as a stand-in for AF.
fn af_like(rng: &mut Rng, count: usize) -> Vec<(f32, BeatClass)> {
    (0..count)
        .map(|_| (0.35 + 0.75 * rng.next(), BeatClass::Normal))
        .collect()
}

#[test]
fn random_rr_is_af_and_not_sinus_tachy() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut seq = n(100, 0.8);
    seq.extend(af_like(&mut rng, 400));
    seq.extend(n(150, 0.8));
    let b = beats(360.0, &seq);
    let (ev, an) = run(RhythmConfig::new(360.0), &b);
    let af = episodes(&ev, RhythmKind::AtrialFibrillation);
    assert_eq!(af.len(), 1, "{ev:?}");
    // Back-dating puts the bounds within a window's worth of beats of the truth.
    assert!(
        af[0].start >= b[70].sample && af[0].start <= b[140].sample,
        "{:?}",
        af[0]
    );
    assert!(
        af[0].end >= b[470].sample && af[0].end <= b[560].sample,
        "{:?}",
        af[0]
    );
    for t in episodes(&ev, RhythmKind::SinusTachycardia) {
        assert!(
            t.end < af[0].start || t.start > af[0].end,
            "{t:?} overlaps {af:?}"
        );
    }
    assert!(an.af_score().is_some());
    assert!(an.latency_beats() >= 32);
}

#[test]
fn sinus_with_frequent_isolated_pvcs_and_pacs_is_not_af() {
    let mut rng = Rng(7);
    let mut seq = Vec::new();
    for i in 0..600 {
        let base = 0.8 + 0.03 * rng.next();
        match i % 5 {
            3 if i % 10 == 3 => seq.push((0.5, BeatClass::Ventricular)),
            3 => seq.push((0.55, BeatClass::Supraventricular)),
            4 => seq.push((1.05, BeatClass::Normal)),
            _ => seq.push((base, BeatClass::Normal)),
        }
    }
    let (ev, an) = run(RhythmConfig::new(360.0), &beats(360.0, &seq));
    assert!(
        episodes(&ev, RhythmKind::AtrialFibrillation).is_empty(),
        "{ev:?}"
    );
    assert_eq!(an.counts().v_isolated, 60);
    assert_eq!(an.counts().s_isolated, 60);
}

#[test]
fn unlabelled_beats_never_count_as_ectopic() {
    let mut rng = Rng(99);
    let mut seq = n(80, 0.8);
    seq.extend(af_like(&mut rng, 300));
    seq.extend(n(10, 0.8));
    let b: Vec<Beat> = beats(128.0, &seq)
        .into_iter()
        .map(|mut x| {
            x.labelled = false;
            x.class = BeatClass::Ventricular; // must be ignored
            x
        })
        .collect();
    let (ev, an) = run(RhythmConfig::new(128.0), &b);
    assert_eq!(an.counts().v_beats, 0);
    assert!(episodes(&ev, RhythmKind::VentricularTachycardia).is_empty());
    assert_eq!(
        episodes(&ev, RhythmKind::AtrialFibrillation).len(),
        1,
        "{ev:?}"
    );
}

#[test]
fn non_increasing_samples_are_ignored() {
    let b = beats(360.0, &n(50, 0.8));
    let mut shuffled = b.clone();
    shuffled.insert(20, b[5]);
    shuffled.insert(30, b[29]);
    shuffled.insert(40, Beat::labelled(0, BeatClass::Ventricular));
    let (ev, an) = run(RhythmConfig::new(360.0), &shuffled);
    assert_eq!(an.counts().rejected_beats, 3);
    assert_eq!(an.counts().v_beats, 0);
    assert!(ev.is_empty(), "{ev:?}");
}

#[test]
fn same_episodes_at_100_and_1000_hz() {
    let mut rng = Rng(3);
    let mut seq = n(100, 0.8);
    seq.extend(af_like(&mut rng, 300));
    seq.extend(n(20, 0.8));
    seq.extend(std::vec![(0.4, BeatClass::Ventricular); 4]);
    seq.extend(n(20, 0.8));
    seq.push((3.0, BeatClass::Normal));
    seq.extend(n(20, 0.8));
    let summary = |fs: f32| {
        let (ev, _) = run(RhythmConfig::new(fs), &beats(fs, &seq));
        ev.iter()
            .filter_map(|e| match e {
                RhythmEvent::Episode(ep) => {
                    Some((ep.kind, (ep.start as f32 / fs * 10.0).round() as i64))
                }
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let a = summary(100.0);
    let b = summary(1000.0);
    // Same kinds in the same order, starts within 0.1 s (sample rounding).
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    for (x, y) in a.iter().zip(&b) {
        assert!(x.0 == y.0 && (x.1 - y.1).abs() <= 1, "{a:?} vs {b:?}");
    }
    let kinds: Vec<RhythmKind> = a.iter().map(|x| x.0).collect();
    assert!(kinds.contains(&RhythmKind::AtrialFibrillation));
    assert!(kinds.contains(&RhythmKind::VentricularTachycardia));
    assert!(kinds.contains(&RhythmKind::Pause));
}

#[test]
fn symbols_and_names() {
    assert_eq!(BeatClass::from_symbol('L'), BeatClass::Normal);
    assert_eq!(BeatClass::from_symbol('a'), BeatClass::Supraventricular);
    assert_eq!(BeatClass::from_symbol('E'), BeatClass::Ventricular);
    assert_eq!(BeatClass::from_symbol('F'), BeatClass::Fusion);
    assert_eq!(BeatClass::from_symbol('/'), BeatClass::Unknown);
    assert_eq!(BeatClass::from_symbol('f'), BeatClass::Unknown);
    for k in RhythmKind::ALL {
        assert!(k.wfdb_aux().starts_with('('));
        assert!(!k.name().is_empty());
    }
    assert_eq!(RhythmKind::AtrialFibrillation.wfdb_aux(), "(AFIB");
}

#[test]
fn bad_configs_are_rejected() {
    for fs in [0.0, 99.0, 1001.0, f32::NAN] {
        assert_eq!(
            RhythmAnalyzer::new(RhythmConfig::new(fs)).err(),
            Some(RhythmConfigError::SamplingRate)
        );
    }
    let mut c = RhythmConfig::new(250.0);
    c.af_off = 0.9;
    assert!(RhythmAnalyzer::new(c).is_err());
    let mut c = RhythmConfig::new(250.0);
    c.asystole_s = 1.0;
    assert!(RhythmAnalyzer::new(c).is_err());
    let mut c = RhythmConfig::new(250.0);
    c.af_weights[2] = f32::INFINITY;
    assert!(RhythmAnalyzer::new(c).is_err());
}

fn class_of(k: u8) -> BeatClass {
    match k % 6 {
        0 | 1 => BeatClass::Normal,
        2 => BeatClass::Supraventricular,
        3 => BeatClass::Ventricular,
        4 => BeatClass::Fusion,
        _ => BeatClass::Unknown,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Arbitrary input (unsorted samples, any classes, quality segments, time advances) never
    /// panics, and the events stay well-formed and within the time fed.
    #[test]
    fn random_input_is_safe_and_well_formed(
        fs in 100.0f32..=1000.0,
        ops in proptest::collection::vec((0u8..8, 0u64..3000, any::<u8>(), any::<bool>(), 0.0f32..=1.0), 0..600),
    ) {
        let mut an = RhythmAnalyzer::new(RhythmConfig::new(fs)).unwrap();
        let mut ev = Vec::new();
        let mut t = 0u64;
        let mut fed = 0u64;
        for (op, dt, c, lab, p) in ops {
            match op {
                0 => {
                    // A step back in time: a bug upstream.
                    let s = t.saturating_sub(dt);
                    an.push_beat(Beat { sample: s, class: class_of(c), probability: p, labelled: lab }, &mut |e| ev.push(e));
                }
                1 => {
                    let len = u64::from(c) * 10;
                    let q = if lab { SignalQuality::Noisy } else { SignalQuality::LeadsOff };
                    an.push_quality(t, t + len, q, &mut |e| ev.push(e));
                    fed = fed.max(t + len);
                }
                2 => {
                    t += dt * 4;
                    an.advance(t, &mut |e| ev.push(e));
                }
                _ => {
                    t += dt;
                    an.push_beat(Beat { sample: t, class: class_of(c), probability: p, labelled: lab }, &mut |e| ev.push(e));
                }
            }
            fed = fed.max(t);
            let _ = (an.af_score(), an.latency_samples(), an.counts());
        }
        an.finish(t, &mut |e| ev.push(e));
        check_well_formed(&ev, fed)?;
    }
}
