//! Shared by the `rhythm_*` examples: loading LTAFDB / MIT-BIH beats and rhythm truth, running
//! the [`RhythmAnalyzer`] and scoring AF and VT.
#![allow(dead_code)]

use sinus_core::rhythm::{Beat, BeatClass, RhythmAnalyzer, RhythmConfig, RhythmEvent, RhythmKind};
use sinus_io::wfdb::annotation::read_annotations;
use std::path::{Path, PathBuf};

/// One record ready for the analyzer.
pub struct Rec {
    pub name: String,
    pub fs: f32,
    /// Length of the record (samples).
    pub len: u64,
    pub beats: Vec<Beat>,
    /// Reference rhythm intervals (start, end, aux) covering the annotated part.
    pub rhythm: Vec<(u64, u64, String)>,
}

/// Find a database folder: `--db` if given, else `shared/data/<name>` beside an ancestor.
pub fn find_db(name: &str, given: Option<&str>) -> Option<PathBuf> {
    if let Some(g) = given {
        return Some(PathBuf::from(g));
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .map(|a| a.join("shared/data").join(name))
        .find(|p| p.join("RECORDS").is_file())
}

pub fn records(db: &Path) -> Vec<String> {
    std::fs::read_to_string(db.join("RECORDS"))
        .unwrap()
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// (fs, number of samples) from the header's record line.
fn header(db: &Path, name: &str) -> (f32, u64) {
    let text = std::fs::read_to_string(db.join(format!("{name}.hea"))).unwrap();
    let line = text
        .lines()
        .find(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .unwrap();
    let f: Vec<&str> = line.split_whitespace().collect();
    let fs: f32 = f[2].split('/').next().unwrap().parse().unwrap();
    let n: u64 = f.get(3).and_then(|x| x.parse().ok()).unwrap_or(0);
    (fs, n)
}

/// Load a record. `qrs`: beats from the unlabelled `.qrs` file instead of `.atr`.
pub fn load(db: &Path, name: &str, qrs: bool) -> Rec {
    let (fs, n) = header(db, name);
    let atr = read_annotations(db.join(format!("{name}.atr")), Some(fs as f64)).unwrap();
    let mut len = n;
    let mut rhythm: Vec<(u64, u64, String)> = Vec::new();
    let mut beats = Vec::new();
    for a in &atr.annotations {
        if a.sample < 0 {
            continue;
        }
        let s = a.sample as u64;
        len = len.max(s + 1);
        if a.symbol() == "+" {
            if let Some(aux) = a.aux_text() {
                let aux = aux.trim().to_string();
                if aux.starts_with('(') {
                    if let Some(last) = rhythm.last_mut() {
                        last.1 = s;
                    }
                    rhythm.push((s, u64::MAX, aux));
                }
            }
        } else if a.is_beat() && !qrs {
            let c = a.symbol().chars().next().unwrap_or('Q');
            beats.push(Beat::labelled(s, BeatClass::from_symbol(c)));
        }
    }
    if let Some(last) = rhythm.last_mut() {
        last.1 = len;
    }
    if qrs {
        let q = read_annotations(db.join(format!("{name}.qrs")), Some(fs as f64)).unwrap();
        for a in &q.annotations {
            if a.is_beat() && a.sample >= 0 {
                beats.push(Beat::unlabelled(a.sample as u64));
            }
        }
    }
    beats.sort_by_key(|b| b.sample);
    beats.dedup_by_key(|b| b.sample);
    Rec {
        name: name.to_string(),
        fs,
        len,
        beats,
        rhythm,
    }
}

/// Beats from a classifier CSV (`sample,time_s,class,probability,...`, header line).
pub fn load_cls(path: &Path, fs: f32) -> Option<Vec<Beat>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next()?.split(',').map(|s| s.trim()).collect();
    let col = |n: &str| head.iter().position(|h| *h == n);
    let (cs, cc, cp) = (col("sample"), col("class")?, col("probability"));
    let ct = col("time_s");
    let mut beats = Vec::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        let sample = match (cs, ct) {
            (Some(i), _) => f.get(i)?.trim().parse::<u64>().ok()?,
            (None, Some(i)) => (f.get(i)?.trim().parse::<f64>().ok()? * fs as f64).round() as u64,
            _ => return None,
        };
        let class = BeatClass::from_symbol(f.get(cc)?.trim().chars().next().unwrap_or('Q'));
        let probability = cp
            .and_then(|i| f.get(i))
            .and_then(|x| x.trim().parse().ok())
            .unwrap_or(1.0);
        beats.push(Beat {
            sample,
            class,
            probability,
            labelled: true,
        });
    }
    beats.sort_by_key(|b| b.sample);
    beats.dedup_by_key(|b| b.sample);
    Some(beats)
}

pub fn is_af(aux: &str, flutter: bool) -> bool {
    aux.starts_with("(AFIB") || (flutter && aux.starts_with("(AFL"))
}

/// Truth intervals of one kind, merged when adjacent.
pub fn truth(rec: &Rec, pred: impl Fn(&str) -> bool) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (s, e, aux) in &rec.rhythm {
        if pred(aux) {
            match out.last_mut() {
                Some(l) if l.1 >= *s => l.1 = *e,
                _ => out.push((*s, *e)),
            }
        }
    }
    out
}

/// Run the analyzer over the beats; closed episodes by kind.
pub fn run(rec_beats: &[Beat], cfg: RhythmConfig) -> Vec<sinus_core::rhythm::Episode> {
    let mut an = RhythmAnalyzer::new(cfg).unwrap();
    let mut eps = Vec::new();
    let mut emit = |e: RhythmEvent| {
        if let RhythmEvent::Episode(ep) = e {
            eps.push(ep);
        }
    };
    for b in rec_beats {
        an.push_beat(*b, &mut emit);
    }
    let end = rec_beats.last().map(|b| b.sample).unwrap_or(0);
    an.finish(end, &mut emit);
    eps
}

fn inside(x: u64, iv: &[(u64, u64)]) -> bool {
    // Intervals are sorted and disjoint.
    let k = iv.partition_point(|&(_, e)| e < x);
    k < iv.len() && iv[k].0 <= x && x <= iv[k].1
}

fn overlap(a: &[(u64, u64)], b: &[(u64, u64)]) -> u64 {
    let mut t = 0;
    for &(s, e) in a {
        for &(s2, e2) in b {
            let lo = s.max(s2);
            let hi = e.min(e2);
            if hi > lo {
                t += hi - lo;
            }
        }
    }
    t
}

fn merge(mut v: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    v.sort();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (s, e) in v {
        match out.last_mut() {
            Some(l) if s <= l.1 => l.1 = l.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Scores of one record (summable).
#[derive(Default, Clone, Copy, Debug)]
pub struct Score {
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    pub fn_: u64,
    /// Duration: truth, predicted, overlap (samples / fs → seconds).
    pub dur_truth: f64,
    pub dur_pred: f64,
    pub dur_ovl: f64,
    pub ep_truth: u64,
    /// Truth episodes with ≥ 50 % of their duration covered.
    pub ep_hit50: u64,
    /// Truth episodes with any overlap.
    pub ep_hit_any: u64,
    pub ep_pred: u64,
    /// Predicted episodes overlapping some truth episode.
    pub ep_pred_hit: u64,
}

impl std::ops::AddAssign for Score {
    fn add_assign(&mut self, o: Score) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.tn += o.tn;
        self.fn_ += o.fn_;
        self.dur_truth += o.dur_truth;
        self.dur_pred += o.dur_pred;
        self.dur_ovl += o.dur_ovl;
        self.ep_truth += o.ep_truth;
        self.ep_hit50 += o.ep_hit50;
        self.ep_hit_any += o.ep_hit_any;
        self.ep_pred += o.ep_pred;
        self.ep_pred_hit += o.ep_pred_hit;
    }
}

pub fn pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        100.0 * a as f64 / b as f64
    }
}

impl Score {
    pub fn se(&self) -> f64 {
        pct(self.tp, self.tp + self.fn_)
    }
    pub fn sp(&self) -> f64 {
        pct(self.tn, self.tn + self.fp)
    }
    pub fn ppv(&self) -> f64 {
        pct(self.tp, self.tp + self.fp)
    }
    pub fn acc(&self) -> f64 {
        pct(self.tp + self.tn, self.tp + self.tn + self.fp + self.fn_)
    }
    pub fn dur_se(&self) -> f64 {
        100.0 * self.dur_ovl / self.dur_truth
    }
    pub fn dur_ppv(&self) -> f64 {
        100.0 * self.dur_ovl / self.dur_pred
    }
    pub fn line(&self) -> String {
        format!(
            "beats Se {:6.2} Sp {:6.2} +P {:6.2} acc {:6.2} (FN {} FP {}) | dur Se {:6.2} +P {:6.2} (truth {:8.0} s pred {:8.0} s) | ep Se50 {}/{} any {}/{} pred {} (+P {:.1})",
            self.se(),
            self.sp(),
            self.ppv(),
            self.acc(),
            self.fn_,
            self.fp,
            self.dur_se(),
            self.dur_ppv(),
            self.dur_truth,
            self.dur_pred,
            self.ep_hit50,
            self.ep_truth,
            self.ep_hit_any,
            self.ep_truth,
            self.ep_pred,
            pct(self.ep_pred_hit, self.ep_pred),
        )
    }
}

/// Score predicted episodes of `kind` against truth intervals, beat by beat over `beats`.
pub fn score(
    beats: &[Beat],
    fs: f32,
    truth_iv: &[(u64, u64)],
    eps: &[sinus_core::rhythm::Episode],
    kind: RhythmKind,
    scored_from: u64,
) -> Score {
    let from = if std::env::var_os("SCORE_ALL").is_some() {
        0
    } else {
        scored_from
    };
    let pred = merge(
        eps.iter()
            .filter(|e| e.kind == kind && e.end >= from)
            .map(|e| (e.start.max(from), e.end))
            .collect(),
    );
    let mut s = Score::default();
    // Beats before the first rhythm annotation have no reference rhythm (LTAFDB 64 starts
    // 19 h into the record): not scored unless SCORE_ALL is set.
    for b in beats.iter().filter(|b| b.sample >= from) {
        let t = inside(b.sample, truth_iv);
        let p = inside(b.sample, &pred);
        match (t, p) {
            (true, true) => s.tp += 1,
            (false, true) => s.fp += 1,
            (true, false) => s.fn_ += 1,
            (false, false) => s.tn += 1,
        }
    }
    let f = fs as f64;
    s.dur_truth = truth_iv.iter().map(|&(a, b)| (b - a) as f64).sum::<f64>() / f;
    s.dur_pred = pred.iter().map(|&(a, b)| (b - a) as f64).sum::<f64>() / f;
    s.dur_ovl = overlap(truth_iv, &pred) as f64 / f;
    s.ep_truth = truth_iv.len() as u64;
    for &t in truth_iv {
        let o = overlap(&[t], &pred);
        let d = (t.1 - t.0).max(1);
        if 2 * o >= d {
            s.ep_hit50 += 1;
        }
        // Any overlap; a zero-length truth episode counts if a prediction contains it.
        if o > 0 || pred.iter().any(|&(a, b)| a <= t.0 && t.1 <= b) {
            s.ep_hit_any += 1;
        }
    }
    s.ep_pred = pred.len() as u64;
    s.ep_pred_hit = pred
        .iter()
        .filter(|&&p| overlap(&[p], truth_iv) > 0)
        .count() as u64;
    s
}

impl Rec {
    /// First sample with a reference rhythm.
    pub fn scored_from(&self) -> u64 {
        self.rhythm.first().map(|r| r.0).unwrap_or(0)
    }
}
