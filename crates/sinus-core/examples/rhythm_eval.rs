//! Development figures of the [`RhythmAnalyzer`] on LTAFDB and MIT-BIH.
//!
//! Usage: `cargo run --release -p sinus-core --example rhythm_eval -- [--ltafdb DIR]
//! [--mitdb DIR] [--only ltafdb|mitdb] [--qrs] [--cls DIR] [--quiet]`
//!
//! - LTAFDB: reference beats (labels used) or, with `--qrs`, the unlabelled sqrs detections;
//!   AF truth = `(AFIB` episodes.
//! - MIT-BIH: reference beats or, with `--cls DIR`, classified beats from `DIR/NNN.csv`
//!   (`sample,time_s,class,probability,...`); AF truth = `(AFIB` and `(AFL` episodes.
//!   Also VT episode sensitivity (a `(VT` episode is detected when a VT episode overlaps it).
//!
//! Beat-by-beat Se/Sp/+P/accuracy are counted over the beats fed; duration Se/+P from the
//! overlap of reference and detected AF intervals; episode Se "50" counts a reference episode
//! as detected when detections cover at least half of it, "any" when they overlap it at all.
//! Configuration overrides for experiments: `AF_ON`, `AF_OFF`, `AF_BACKDATE`, `AF_SMOOTH`,
//! `MIN_PROB`, `VT_BPM`, `AF_W` (comma-separated weights).

#[path = "rhythm_common/mod.rs"]
mod common;

use common::*;
use sinus_core::rhythm::{RhythmConfig, RhythmKind};

fn cfg_for(fs: f32) -> RhythmConfig {
    let mut c = RhythmConfig::new(fs);
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<f32>().ok());
    if let Some(v) = env("AF_ON") {
        c.af_on = v;
    }
    if let Some(v) = env("AF_OFF") {
        c.af_off = v;
    }
    if let Some(v) = env("AF_BACKDATE") {
        c.af_backdate_beats = v as u32;
    }
    if let Some(v) = env("AF_SMOOTH") {
        c.af_smooth_beats = v;
    }
    if let Some(v) = env("VT_BPM") {
        c.vt_bpm = v;
    }
    if let Some(v) = env("MIN_PROB") {
        c.min_probability = v;
    }
    if let Ok(w) = std::env::var("AF_W") {
        let v: Vec<f32> = w.split(',').filter_map(|x| x.trim().parse().ok()).collect();
        if v.len() == c.af_weights.len() {
            c.af_weights.copy_from_slice(&v);
        }
    }
    c
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |k: &str| {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1))
            .map(|s| s.as_str())
    };
    let has = |k: &str| args.iter().any(|a| a == k);
    let quiet = has("--quiet");
    let qrs = has("--qrs");
    let only = get("--only");
    if only != Some("mitdb") {
        if let Some(db) = find_db("ltafdb", get("--ltafdb")) {
            let mut gross = Score::default();
            for name in records(&db) {
                let rec = load(&db, &name, qrs);
                let eps = run(&rec.beats, cfg_for(rec.fs));
                let t = truth(&rec, |a| is_af(a, false));
                let s = score(
                    &rec.beats,
                    rec.fs,
                    &t,
                    &eps,
                    RhythmKind::AtrialFibrillation,
                    rec.scored_from(),
                );
                if !quiet {
                    println!("ltafdb {name:>4}: {}", s.line());
                }
                gross += s;
            }
            let src = if qrs {
                ".qrs beats (unlabelled)"
            } else {
                "reference beats"
            };
            println!("LTAFDB AF, {src}, gross: {}", gross.line());
        } else {
            eprintln!("LTAFDB not found; skipped");
        }
    }
    if only != Some("ltafdb") {
        let Some(db) = find_db("mitdb", get("--mitdb")) else {
            eprintln!("MIT-BIH not found; skipped");
            return;
        };
        let cls = get("--cls");
        let mut gross = Score::default();
        let mut vt = Score::default();
        let mut n = 0;
        for name in records(&db) {
            let mut rec = load(&db, &name, false);
            if let Some(dir) = cls {
                let p = std::path::Path::new(dir).join(format!("{name}.csv"));
                match load_cls(&p, rec.fs) {
                    Some(b) => rec.beats = b,
                    None => {
                        eprintln!("{}: missing or unreadable; skipped", p.display());
                        continue;
                    }
                }
            }
            n += 1;
            let eps = run(&rec.beats, cfg_for(rec.fs));
            let t = truth(&rec, |a| is_af(a, true));
            let s = score(
                &rec.beats,
                rec.fs,
                &t,
                &eps,
                RhythmKind::AtrialFibrillation,
                rec.scored_from(),
            );
            let tv = truth(&rec, |a| a.starts_with("(VT"));
            let v = score(
                &rec.beats,
                rec.fs,
                &tv,
                &eps,
                RhythmKind::VentricularTachycardia,
                rec.scored_from(),
            );
            if !quiet && (s.tp + s.fp + s.fn_ > 0 || v.ep_truth > 0 || v.ep_pred > 0) {
                println!("mitdb {name}: AF {}", s.line());
                if v.ep_truth > 0 || v.ep_pred > 0 {
                    println!(
                        "            VT episodes {}/{} detected, {} VT episodes reported",
                        v.ep_hit_any, v.ep_truth, v.ep_pred
                    );
                }
            }
            gross += s;
            vt += v;
        }
        let src = if cls.is_some() {
            "classified beats"
        } else {
            "reference beats"
        };
        println!("MIT-BIH ({n} records) AF, {src}, gross: {}", gross.line());
        println!(
            "MIT-BIH VT episodes: Se {}/{} = {:.1} % (any overlap); reported {} of which {} overlap a (VT",
            vt.ep_hit_any,
            vt.ep_truth,
            pct(vt.ep_hit_any, vt.ep_truth),
            vt.ep_pred,
            vt.ep_pred_hit
        );
    }
}
