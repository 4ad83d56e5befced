//! The plain outputs of an analysis: the terminal summary, CSV tables, WFDB annotations, JSON.

use crate::model::{Analysis, EpisodeOut};
use crate::pipeline::clock;
use sinus_io::wfdb::annotation::{codes, Annotation};
use std::fmt::Write as _;

/// The terminal summary: heart-rate range, counts by class, episodes with durations, HRV.
pub fn summary_text(a: &Analysis) -> String {
    let mut s = String::new();
    let r = &a.record;
    let m = &a.summary;
    let _ = writeln!(
        s,
        "{}  ({}, {} lead(s), {} Hz, {})",
        r.name,
        r.format,
        r.leads.len(),
        r.fs,
        clock(r.duration_s)
    );
    let _ = writeln!(
        s,
        "  analysed {}   noise {}   leads off {}",
        clock(m.analysed_s),
        clock(m.noisy_s),
        clock(m.leads_off_s)
    );
    match (m.heart_rate_mean_bpm, m.heart_rate_min, m.heart_rate_max) {
        (Some(mean), Some(lo), Some(hi)) => {
            let _ = writeln!(
                s,
                "  heart rate  mean {mean:.0} bpm, min {:.0} at {}, max {:.0} at {} (8-beat averages)",
                lo.bpm,
                clock(lo.time_s),
                hi.bpm,
                clock(hi.time_s)
            );
        }
        (Some(mean), _, _) => {
            let _ = writeln!(s, "  heart rate  mean {mean:.0} bpm");
        }
        _ => {
            let _ = writeln!(s, "  heart rate  -");
        }
    }
    let c = &m.classes;
    let pct = |n: u64| {
        if m.beats > 0 {
            100.0 * n as f64 / m.beats as f64
        } else {
            0.0
        }
    };
    let _ = writeln!(
        s,
        "  beats {}   N {} ({:.1} %)  S {} ({:.1} %)  V {} ({:.1} %)  F {}  Q {}",
        m.beats,
        c.N,
        pct(c.N),
        c.S,
        pct(c.S),
        c.V,
        pct(c.V),
        c.F,
        c.Q
    );
    let e = &m.ectopy;
    let _ = writeln!(
        s,
        "  ectopy  V: {} isolated, {} couplets, {} runs   S: {} isolated, {} couplets, {} runs",
        e.isolated_v, e.v_couplets, e.v_runs, e.isolated_s, e.s_couplets, e.s_runs
    );
    let _ = writeln!(s, "  AF burden {:.1} %", m.af_burden_percent);
    if m.episode_totals.is_empty() {
        let _ = writeln!(s, "  rhythm episodes: none");
    } else {
        let _ = writeln!(s, "  rhythm episodes          count      total    longest");
        for t in &m.episode_totals {
            let _ = writeln!(
                s,
                "    {:<22} {:>6} {:>10} {:>10}",
                t.kind,
                t.count,
                clock(t.total_s),
                format_duration(t.longest_s)
            );
        }
    }
    if let Some(h) = &a.hrv {
        let g = |k: &str| h.pointer(k).and_then(|v| v.as_f64());
        let f = |v: Option<f64>, d: usize| v.map_or("-".to_string(), |v| format!("{v:.d$}"));
        let _ = writeln!(
            s,
            "  HRV (N-N)  SDNN {} ms  RMSSD {} ms  pNN50 {} %  LF {} ms²  HF {} ms²  LF/HF {}",
            f(g("/time/sdnn_ms"), 1),
            f(g("/time/rmssd_ms"), 1),
            f(g("/time/pnn50_pct"), 1),
            f(g("/frequency/lf_ms2"), 0),
            f(g("/frequency/hf_ms2"), 0),
            f(g("/frequency/lf_hf"), 2),
        );
    }
    for l in &a.limitations {
        let _ = writeln!(s, "  note: {l}");
    }
    s
}

/// A duration as seconds below a minute, else h:mm:ss.
pub fn format_duration(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        clock(seconds)
    }
}

/// Beats as CSV: sample, time, class, probability, RR.
pub fn beats_csv(a: &Analysis) -> String {
    let mut s = String::from("sample,time_s,class,probability,rr_s\n");
    for b in &a.beats {
        let _ = writeln!(
            s,
            "{},{:.4},{},{},{}",
            b.sample,
            b.time_s,
            b.class,
            b.probability.map_or(String::new(), |p| format!("{p:.4}")),
            b.rr_s.map_or(String::new(), |r| format!("{r:.4}"))
        );
    }
    s
}

/// Episodes as CSV.
pub fn episodes_csv(a: &Analysis) -> String {
    let mut s = String::from(
        "kind,start_sample,end_sample,start_s,end_s,duration_s,beats,min_rate_bpm,mean_rate_bpm,max_rate_bpm\n",
    );
    for e in &a.episodes {
        let _ = writeln!(
            s,
            "{},{},{},{:.3},{:.3},{:.3},{},{:.1},{:.1},{:.1}",
            e.kind,
            e.start_sample,
            e.end_sample,
            e.start_s,
            e.end_s,
            e.duration_s,
            e.beats,
            e.min_rate_bpm,
            e.mean_rate_bpm,
            e.max_rate_bpm
        );
    }
    s
}

/// The WFDB rhythm label written for an episode kind (MIT-BIH's where one exists).
pub fn wfdb_rhythm_label(kind: &str) -> &'static str {
    match kind {
        "AF" => "(AFIB",
        "VT" => "(VT",
        "bigeminy" => "(B",
        "trigeminy" => "(T",
        "SVT" => "(SVTA",
        "brady" => "(SBR",
        "tachy" => "(TACH",
        "pause" => "(PAUSE",
        "asystole" => "(ASYS",
        _ => "(N",
    }
}

/// Priority of a kind when episodes overlap in the single rhythm line a WFDB file can hold:
/// the more dangerous rhythm is the one written.
fn priority(kind: &str) -> u8 {
    match kind {
        "asystole" => 9,
        "VT" => 8,
        "pause" => 7,
        "AF" => 6,
        "SVT" => 5,
        "bigeminy" => 4,
        "trigeminy" => 3,
        "tachy" => 2,
        "brady" => 1,
        _ => 0,
    }
}

/// Beats and rhythm as WFDB annotations: each beat with its class (N, A for S, V, F, Q); the
/// rhythm as `+` annotations whose aux is an MIT-BIH-style label (`(AFIB`, `(VT`, ..., `(N`
/// between episodes; where episodes overlap the more dangerous one is written); noise as `~`
/// with subtype -1 (unreadable) at its start and 0 at its end, as MIT-BIH marks it.
pub fn annotations(a: &Analysis) -> Vec<Annotation> {
    let mut out: Vec<Annotation> = a
        .beats
        .iter()
        .map(|b| {
            Annotation::new(
                b.sample as i64,
                match b.class {
                    'N' => codes::NORMAL,
                    'S' => codes::APC,
                    'V' => codes::PVC,
                    'F' => codes::FUSION,
                    _ => codes::UNKNOWN,
                },
            )
        })
        .collect();
    // The rhythm line: at every episode boundary, the highest-priority open episode.
    let rhythm: Vec<&EpisodeOut> = a.episodes.iter().filter(|e| e.kind != "noise").collect();
    let mut bounds: Vec<u64> = rhythm
        .iter()
        .flat_map(|e| [e.start_sample, e.end_sample])
        .collect();
    bounds.push(0);
    bounds.sort_unstable();
    bounds.dedup();
    let mut current = "";
    for &t in &bounds {
        let label = rhythm
            .iter()
            .filter(|e| e.start_sample <= t && t < e.end_sample)
            .max_by_key(|e| priority(&e.kind))
            .map(|e| wfdb_rhythm_label(&e.kind))
            .unwrap_or("(N");
        if label != current {
            let mut ann = Annotation::new(t as i64, codes::RHYTHM);
            let mut aux = label.as_bytes().to_vec();
            aux.push(0);
            ann.aux = Some(aux);
            out.push(ann);
            current = label;
        }
    }
    for q in &a.signal_quality {
        let mut on = Annotation::new(q.segment.start as i64, codes::NOISE);
        on.subtype = -1;
        out.push(on);
        out.push(Annotation::new(q.segment.end as i64, codes::NOISE));
    }
    // Stable: at equal times a beat stays before the rhythm change written with it.
    out.sort_by_key(|a| a.sample);
    out
}

/// The analysis as pretty JSON.
pub fn to_json(a: &Analysis) -> String {
    serde_json::to_string_pretty(a).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")) + "\n"
}
