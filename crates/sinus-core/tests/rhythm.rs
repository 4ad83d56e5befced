//! Floors of the rhythm analyzer on the reference databases (reference beats, labels used):
//! all 48 MIT-BIH records (AF duration Se/+P, VT episode Se) and the first 16 LTAFDB records
//! (beat-by-beat AF Se/Sp). Skipped with a note when the data is absent. The bounds sit a
//! little below the measured values so that a regression fails; `examples/rhythm_eval.rs`
//! gives the full figures.

use sinus_core::rhythm::{Beat, BeatClass, RhythmAnalyzer, RhythmConfig, RhythmEvent, RhythmKind};
use sinus_io::wfdb::annotation::read_annotations;
use std::path::{Path, PathBuf};

fn find(name: &str) -> Option<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/data").join(name))
        .find(|p| p.join("RECORDS").is_file())
}

/// Beats, reference intervals of the rhythms `truth` accepts, first annotated sample, fs.
fn load(
    db: &Path,
    rec: &str,
    truth: &dyn Fn(&str) -> bool,
) -> (Vec<Beat>, Vec<(u64, u64)>, u64, f32) {
    let hea = std::fs::read_to_string(db.join(format!("{rec}.hea"))).unwrap();
    let fs: f32 = hea.split_whitespace().nth(2).unwrap().parse().unwrap();
    let set = read_annotations(db.join(format!("{rec}.atr")), Some(f64::from(fs))).unwrap();
    let (mut beats, mut iv, mut open, mut first) = (Vec::new(), Vec::new(), None, None);
    for a in &set.annotations {
        let s = a.sample.max(0) as u64;
        if a.is_beat() {
            let c = a.symbol().chars().next().unwrap_or('Q');
            beats.push(Beat::labelled(s, BeatClass::from_symbol(c)));
        } else if let Some(aux) = a.aux_text().filter(|x| x.starts_with('(')) {
            first.get_or_insert(s);
            if let Some(o) = open.take() {
                iv.push((o, s));
            }
            if truth(&aux) {
                open = Some(s);
            }
        }
    }
    if let Some(o) = open {
        iv.push((o, u64::MAX));
    }
    (beats, iv, first.unwrap_or(0), fs)
}

fn episodes(beats: &[Beat], fs: f32, kind: RhythmKind) -> Vec<(u64, u64)> {
    let mut an = RhythmAnalyzer::new(RhythmConfig::new(fs)).unwrap();
    let mut out = Vec::new();
    let mut emit = |e: RhythmEvent| {
        if let RhythmEvent::Episode(ep) = e {
            if ep.kind == kind {
                out.push((ep.start, ep.end));
            }
        }
    };
    for b in beats {
        an.push_beat(*b, &mut emit);
    }
    an.finish(beats.last().map_or(0, |b| b.sample), &mut emit);
    out
}

fn inside(x: u64, iv: &[(u64, u64)]) -> bool {
    iv.iter().any(|&(a, b)| a <= x && x <= b)
}

fn overlap(a: &[(u64, u64)], b: &[(u64, u64)]) -> u64 {
    let mut t = 0;
    for &(s, e) in a {
        for &(s2, e2) in b {
            t += e.min(e2).saturating_sub(s.max(s2));
        }
    }
    t
}

#[test]
fn mitdb_af_duration_and_vt_episodes() {
    let Some(db) = find("mitdb") else {
        eprintln!("note: MIT-BIH not found; skipping");
        return;
    };
    let (mut truth_d, mut pred_d, mut ovl, mut vt_n, mut vt_hit) = (0u64, 0u64, 0u64, 0, 0);
    for rec in std::fs::read_to_string(db.join("RECORDS"))
        .unwrap()
        .split_whitespace()
    {
        let af = |a: &str| a.starts_with("(AFIB") || a.starts_with("(AFL");
        let (beats, t, _, fs) = load(&db, rec, &af);
        let end = 650_000;
        let t: Vec<(u64, u64)> = t.iter().map(|&(a, b)| (a, b.min(end))).collect();
        let p = episodes(&beats, fs, RhythmKind::AtrialFibrillation);
        truth_d += t.iter().map(|&(a, b)| b - a).sum::<u64>();
        pred_d += p.iter().map(|&(a, b)| b - a).sum::<u64>();
        ovl += overlap(&t, &p);
        let (_, vt, _, _) = load(&db, rec, &|a: &str| a.starts_with("(VT"));
        let pv = episodes(&beats, fs, RhythmKind::VentricularTachycardia);
        vt_n += vt.len();
        vt_hit += vt
            .iter()
            .filter(|&&(a, b)| pv.iter().any(|&(c, d)| c <= b && d >= a))
            .count();
    }
    let se = 100.0 * ovl as f64 / truth_d as f64;
    let ppv = 100.0 * ovl as f64 / pred_d as f64;
    let vt = 100.0 * vt_hit as f64 / vt_n as f64;
    eprintln!("MIT-BIH AF duration Se {se:.2} +P {ppv:.2}; VT episodes {vt_hit}/{vt_n}");
    assert!(se >= 93.0, "AF duration Se {se:.2}");
    assert!(ppv >= 85.0, "AF duration +P {ppv:.2}");
    assert!(vt >= 85.0, "VT episode Se {vt:.1}");
}

#[test]
fn ltafdb_af_beats_first_16_records() {
    let Some(db) = find("ltafdb") else {
        eprintln!("note: LTAFDB not found; skipping");
        return;
    };
    let (mut tp, mut fp, mut tn, mut fn_) = (0u64, 0u64, 0u64, 0u64);
    let recs = std::fs::read_to_string(db.join("RECORDS")).unwrap();
    for rec in recs.split_whitespace().take(16) {
        let (beats, t, from, fs) = load(&db, rec, &|a: &str| a.starts_with("(AFIB"));
        let p = episodes(&beats, fs, RhythmKind::AtrialFibrillation);
        // Beats before the first rhythm annotation have no reference rhythm.
        for b in beats.iter().filter(|b| b.sample >= from) {
            match (inside(b.sample, &t), inside(b.sample, &p)) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fn_ += 1,
                (false, false) => tn += 1,
            }
        }
    }
    let se = 100.0 * tp as f64 / (tp + fn_) as f64;
    let sp = 100.0 * tn as f64 / (tn + fp) as f64;
    eprintln!("LTAFDB (16 records) AF beats Se {se:.2} Sp {sp:.2}");
    assert!(se >= 96.0 && sp >= 96.0, "Se {se:.2} Sp {sp:.2}");
}
