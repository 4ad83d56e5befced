//! Development aid: rhythm intervals and beat-class counts of one record.
//! Usage: `rhythm_dump DBDIR RECORD`
#[path = "rhythm_common/mod.rs"]
mod common;
use common::*;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let db = std::path::Path::new(&a[1]);
    let rec = load(db, &a[2], false);
    if a.len() > 3 {
        episodes(&rec);
        return;
    }
    for (s, e, aux) in &rec.rhythm {
        let n = rec
            .beats
            .iter()
            .filter(|b| b.sample >= *s && b.sample < *e)
            .count();
        let ect = rec
            .beats
            .iter()
            .filter(|b| b.sample >= *s && b.sample < *e && b.class.is_ectopic())
            .count();
        println!(
            "{:>10.1} s {:>8.1} s {aux:8} beats {n:6} ectopic {ect:5} rate {:5.1}",
            *s as f64 / rec.fs as f64,
            (*e - *s) as f64 / rec.fs as f64,
            n as f64 * 60.0 * rec.fs as f64 / (*e - *s).max(1) as f64
        );
    }
}

/// Detected AF episodes of the record with the reference rhythms they overlap.
#[allow(dead_code)]
pub fn episodes(rec: &Rec) {
    let eps = run(&rec.beats, sinus_core::rhythm::RhythmConfig::new(rec.fs));
    for e in eps
        .iter()
        .filter(|e| e.kind == sinus_core::rhythm::RhythmKind::AtrialFibrillation)
    {
        let mut labs = std::collections::BTreeMap::new();
        for (s, t, aux) in &rec.rhythm {
            let lo = (*s).max(e.start);
            let hi = (*t).min(e.end);
            if hi > lo {
                *labs.entry(aux.clone()).or_insert(0.0) += (hi - lo) as f64 / rec.fs as f64;
            }
        }
        let ect = rec
            .beats
            .iter()
            .filter(|b| b.sample >= e.start && b.sample <= e.end && b.class.is_ectopic())
            .count();
        println!(
            "AF ep {:>9.1} s dur {:>8.1} s beats {:6} ectopic {ect:5} rate {:5.1} {:?}",
            e.start as f64 / rec.fs as f64,
            (e.end - e.start) as f64 / rec.fs as f64,
            e.beats,
            e.mean_rate_bpm,
            labs
        );
    }
}
