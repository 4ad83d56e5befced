//! Fits the AF logistic model ([`sinus_core::rhythm::af::AF_WEIGHTS`]) on LTAFDB reference
//! beats and reports its record-wise 4-fold cross-validation.
//!
//! Usage: `cargo run --release -p sinus-core --example rhythm_train_af -- [--db DIR] [--stride N]`
//!
//! For every record the [`RhythmAnalyzer`] runs with the default configuration; every
//! `stride`-th (default 4) update of the AF features gives one training row whose target is
//! whether the beat `af_backdate_beats` before the current one (the middle of the window) lies
//! inside an `(AFIB` episode. Features are standardised, the model is fitted by Newton's
//! method (IRLS) with a small L2 penalty, and the weights are mapped back to raw features.
//! Folds: records in `RECORDS` order, record k in fold k mod 4, so no record is ever both in a
//! fold's training and validation sets. Each fold's weights then run the full analyzer
//! (hysteresis, back-dating) on its validation records; the summed beat-by-beat figures are
//! the honest CV result. Finally the weights fitted on all records are printed as the `const`.

#[path = "rhythm_common/mod.rs"]
mod common;

use common::*;
use sinus_core::rhythm::af::AF_FEATURES;
use sinus_core::rhythm::{RhythmAnalyzer, RhythmConfig, RhythmKind};

const K: usize = AF_FEATURES + 1;

fn rows_of(rec: &Rec, stride: u64) -> Vec<([f64; K], f64)> {
    let cfg = RhythmConfig::new(rec.fs);
    let back = cfg.af_backdate_beats as usize;
    let truth_iv = truth(rec, |a| is_af(a, false));
    let mut an = RhythmAnalyzer::new(cfg).unwrap();
    let mut last_push = 0;
    let mut out = Vec::new();
    let mut sink = |_| {};
    for (i, b) in rec.beats.iter().enumerate() {
        an.push_beat(*b, &mut sink);
        let p = an.af_evidence().pushes();
        if p != last_push {
            last_push = p;
            if p.is_multiple_of(stride)
                && i >= back
                && rec.beats[i - back].sample >= rec.scored_from()
            {
                if let Some(f) = an.af_features() {
                    let s = rec.beats[i - back].sample;
                    let t = truth_iv.iter().any(|&(a, e)| a <= s && s <= e);
                    let mut x = [1.0; K];
                    for j in 0..AF_FEATURES {
                        x[j + 1] = f[j] as f64;
                    }
                    out.push((x, if t { 1.0 } else { 0.0 }));
                }
            }
        }
    }
    out
}

/// Solve a K×K system by Gaussian elimination with partial pivoting.
#[allow(clippy::needless_range_loop)]
fn solve(mut a: [[f64; K]; K], mut b: [f64; K]) -> [f64; K] {
    for c in 0..K {
        let p = (c..K)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap();
        a.swap(c, p);
        b.swap(c, p);
        for r in c + 1..K {
            let f = a[r][c] / a[c][c];
            for k in c..K {
                a[r][k] -= f * a[c][k];
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = [0.0; K];
    for r in (0..K).rev() {
        let mut s = b[r];
        for k in r + 1..K {
            s -= a[r][k] * x[k];
        }
        x[r] = s / a[r][r];
    }
    x
}

/// Logistic regression by IRLS on standardised features; returns raw-feature weights.
fn fit(rows: &[&([f64; K], f64)]) -> [f64; K] {
    let n = rows.len() as f64;
    let mut mu = [0.0; K];
    let mut sd = [1.0; K];
    for j in 1..K {
        mu[j] = rows.iter().map(|r| r.0[j]).sum::<f64>() / n;
        sd[j] = (rows.iter().map(|r| (r.0[j] - mu[j]).powi(2)).sum::<f64>() / n)
            .sqrt()
            .max(1e-9);
    }
    let z = |x: &[f64; K]| {
        let mut o = [1.0; K];
        for j in 1..K {
            o[j] = (x[j] - mu[j]) / sd[j];
        }
        o
    };
    let lambda = 1e-3 * n;
    let mut w = [0.0; K];
    for _ in 0..25 {
        let mut h = [[0.0; K]; K];
        let mut g = [0.0; K];
        for r in rows {
            let x = z(&r.0);
            let eta: f64 = (0..K).map(|j| w[j] * x[j]).sum();
            let p = 1.0 / (1.0 + (-eta).exp());
            let wt = (p * (1.0 - p)).max(1e-9);
            for i in 0..K {
                g[i] += (r.1 - p) * x[i];
                for j in 0..K {
                    h[i][j] += wt * x[i] * x[j];
                }
            }
        }
        for i in 1..K {
            g[i] -= lambda * w[i];
            h[i][i] += lambda;
        }
        let d = solve(h, g);
        let mut step: f64 = 0.0;
        for i in 0..K {
            w[i] += d[i];
            step = step.max(d[i].abs());
        }
        if step < 1e-8 {
            break;
        }
    }
    // Back to raw features.
    let mut raw = [0.0; K];
    raw[0] = w[0];
    for j in 1..K {
        raw[j] = w[j] / sd[j];
        raw[0] -= w[j] * mu[j] / sd[j];
    }
    raw
}

fn to_f32(w: &[f64; K]) -> [f32; K] {
    let mut o = [0.0f32; K];
    for i in 0..K {
        o[i] = w[i] as f32;
    }
    o
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |k: &str| {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1))
            .map(|s| s.as_str())
    };
    let stride: u64 = get("--stride").and_then(|s| s.parse().ok()).unwrap_or(4);
    let Some(db) = find_db("ltafdb", get("--db")) else {
        eprintln!("LTAFDB not found (--db DIR)");
        return;
    };
    let names = records(&db);
    let t0 = std::time::Instant::now();
    let recs: Vec<Rec> = names.iter().map(|n| load(&db, n, false)).collect();
    let rows: Vec<Vec<([f64; K], f64)>> = recs.iter().map(|r| rows_of(r, stride)).collect();
    eprintln!(
        "{} records, {} rows, {:.1} s",
        recs.len(),
        rows.iter().map(|r| r.len()).sum::<usize>(),
        t0.elapsed().as_secs_f64()
    );
    let folds = 4;
    let mut cv = Score::default();
    for f in 0..folds {
        let train: Vec<&([f64; K], f64)> = rows
            .iter()
            .enumerate()
            .filter(|(i, _)| i % folds != f)
            .flat_map(|(_, r)| r.iter())
            .collect();
        let w = to_f32(&fit(&train));
        let mut fold = Score::default();
        for (i, rec) in recs.iter().enumerate() {
            if i % folds != f {
                continue;
            }
            let mut cfg = RhythmConfig::new(rec.fs);
            cfg.af_weights = w;
            let eps = run(&rec.beats, cfg);
            let t = truth(rec, |a| is_af(a, false));
            fold += score(
                &rec.beats,
                rec.fs,
                &t,
                &eps,
                RhythmKind::AtrialFibrillation,
                rec.scored_from(),
            );
        }
        println!("fold {f} weights {w:?}\n  {}", fold.line());
        cv += fold;
    }
    println!("CV (4-fold, record-wise): {}", cv.line());
    let all: Vec<&([f64; K], f64)> = rows.iter().flat_map(|r| r.iter()).collect();
    let w = to_f32(&fit(&all));
    println!("pub const AF_WEIGHTS: [f32; AF_FEATURES + 1] = {w:?};");
}
