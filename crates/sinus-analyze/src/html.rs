//! The self-contained HTML report: one file, no script, no external font or CDN — inline CSS and
//! SVG drawn here — so it opens anywhere, prints, and can be mailed as it is.
//!
//! Sections: summary, heart-rate trend, rhythm timeline (ours, and the reference's when the
//! record has one), beat classes, HRV with its spectrum and a Poincaré plot, and ECG strips of
//! the most important events with our labels above the trace and the reference labels below.

use crate::model::Analysis;
use crate::output::format_duration;
use crate::pipeline::{clock, Details};
use sinus_io::wfdb::annotation::Annotation;
use std::fmt::Write as _;

/// Colours of the rhythm kinds and beat classes (colour-blind-safe Okabe–Ito palette).
fn kind_colour(kind: &str) -> &'static str {
    match kind {
        "AF" => "#E69F00",
        "VT" => "#D55E00",
        "bigeminy" => "#CC79A7",
        "trigeminy" => "#AA4499",
        "SVT" => "#0072B2",
        "brady" => "#56B4E9",
        "tachy" => "#009E73",
        "pause" => "#882255",
        "asystole" => "#000000",
        "noise" => "#999999",
        _ => "#777777",
    }
}

fn class_colour(c: char) -> &'static str {
    match c {
        'N' => "#444444",
        'S' => "#0072B2",
        'V' => "#D55E00",
        'F' => "#CC79A7",
        _ => "#999999",
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Tick positions for an axis from `lo` to `hi`: about `n` round steps.
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + 1e-9 && out.len() < 50 {
        out.push(t);
        t += step;
    }
    out
}

/// Time-axis ticks (seconds) in round clock units.
fn time_ticks(duration: f64) -> Vec<f64> {
    let steps = [
        1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 10800.0,
        21600.0, 43200.0, 86400.0,
    ];
    let step = steps
        .iter()
        .copied()
        .find(|s| duration / s <= 10.0)
        .unwrap_or(86400.0);
    (0..)
        .map(|i| i as f64 * step)
        .take_while(|t| *t <= duration + 1e-9)
        .take(40)
        .collect()
}

fn time_label(t: f64, duration: f64) -> String {
    if duration < 120.0 {
        format!("{t:.0} s")
    } else if duration < 3600.0 {
        let s = t.round() as u64;
        format!("{}:{:02}", s / 60, s % 60)
    } else {
        let s = t.round() as u64;
        format!("{}:{:02}", s / 3600, (s / 60) % 60)
    }
}

/// Plot area in an SVG: x from `x0` to `x0 + w`, y from `y0` to `y0 + h`.
struct Frame {
    x0: f64,
    y0: f64,
    w: f64,
    h: f64,
    xmin: f64,
    xmax: f64,
    ymin: f64,
    ymax: f64,
}

impl Frame {
    fn x(&self, v: f64) -> f64 {
        self.x0 + (v - self.xmin) / (self.xmax - self.xmin).max(1e-12) * self.w
    }
    fn y(&self, v: f64) -> f64 {
        self.y0 + self.h - (v - self.ymin) / (self.ymax - self.ymin).max(1e-12) * self.h
    }
    fn axes(&self, s: &mut String, xt: &[(f64, String)], yt: &[(f64, String)], ylabel: &str) {
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="#bbb"/>"##,
            self.x0, self.y0, self.w, self.h
        );
        for (v, l) in xt {
            let x = self.x(*v);
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#eee"/><text x="{x:.1}" y="{:.1}" class="tick" text-anchor="middle">{}</text>"##,
                self.y0,
                self.y0 + self.h,
                self.y0 + self.h + 14.0,
                esc(l)
            );
        }
        for (v, l) in yt {
            let y = self.y(*v);
            let _ = write!(
                s,
                r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{}</text>"##,
                self.x0,
                self.x0 + self.w,
                self.x0 - 4.0,
                y + 4.0,
                esc(l)
            );
        }
        if !ylabel.is_empty() {
            let _ = write!(
                s,
                r##"<text x="12" y="{:.1}" class="tick" transform="rotate(-90 12 {:.1})" text-anchor="middle">{}</text>"##,
                self.y0 + self.h / 2.0,
                self.y0 + self.h / 2.0,
                esc(ylabel)
            );
        }
    }
}

fn trend_svg(a: &Analysis) -> String {
    let pts = &a.heart_rate_trend;
    if pts.is_empty() {
        return "<p class=\"muted\">No heart rate: no usable beat intervals.</p>".into();
    }
    let duration = a.record.duration_s.max(60.0);
    let ymax = pts
        .iter()
        .map(|p| p.max_bpm)
        .fold(60.0, f64::max)
        .min(300.0)
        * 1.05;
    let ymin = pts.iter().map(|p| p.min_bpm).fold(200.0, f64::min).max(0.0) * 0.9;
    let f = Frame {
        x0: 50.0,
        y0: 10.0,
        w: 900.0,
        h: 200.0,
        xmin: 0.0,
        xmax: duration,
        ymin,
        ymax,
    };
    let mut s = String::from(r#"<svg viewBox="0 0 960 240" class="chart">"#);
    let xt: Vec<_> = time_ticks(duration)
        .into_iter()
        .map(|t| (t, time_label(t, duration)))
        .collect();
    let yt: Vec<_> = ticks(ymin, ymax, 5)
        .into_iter()
        .map(|v| (v, format!("{v:.0}")))
        .collect();
    f.axes(&mut s, &xt, &yt, "bpm");
    // Episodes shaded behind the trend.
    for e in &a.episodes {
        if matches!(e.kind.as_str(), "AF" | "VT" | "SVT" | "noise" | "asystole") {
            let x1 = f.x(e.start_s);
            let x2 = f.x(e.end_s).max(x1 + 1.0);
            let _ = write!(
                s,
                r#"<rect x="{x1:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}" opacity="0.18"/>"#,
                f.y0,
                x2 - x1,
                f.h,
                kind_colour(&e.kind)
            );
        }
    }
    // Min–max band, then the mean line.
    let mut band = String::new();
    for p in pts {
        let _ = write!(
            band,
            "{:.1},{:.1} ",
            f.x(p.time_s + p.bin_s / 2.0),
            f.y(p.max_bpm.min(ymax))
        );
    }
    for p in pts.iter().rev() {
        let _ = write!(
            band,
            "{:.1},{:.1} ",
            f.x(p.time_s + p.bin_s / 2.0),
            f.y(p.min_bpm.max(ymin))
        );
    }
    let _ = write!(
        s,
        r##"<polygon points="{band}" fill="#c6dbef" opacity="0.8"/>"##
    );
    let mut line = String::new();
    let mut last_t = f64::NEG_INFINITY;
    for p in pts {
        // A gap of more than one minute breaks the line.
        let sep = if p.time_s - last_t > 1.5 * p.bin_s {
            "M"
        } else {
            "L"
        };
        let _ = write!(
            line,
            "{sep}{:.1},{:.1} ",
            f.x(p.time_s + p.bin_s / 2.0),
            f.y(p.mean_bpm)
        );
        last_t = p.time_s;
    }
    let _ = write!(
        s,
        r##"<path d="{line}" fill="none" stroke="#08519c" stroke-width="1.6"/></svg>"##
    );
    s
}

/// Lanes of a timeline: a name and its (start s, end s, label) bars.
type Lanes = Vec<(String, Vec<(f64, f64, String)>)>;

fn timeline_svg(a: &Analysis) -> String {
    let duration = a.record.duration_s.max(1.0);
    let mut lanes: Lanes = Vec::new();
    let order = [
        "AF",
        "VT",
        "SVT",
        "bigeminy",
        "trigeminy",
        "tachy",
        "brady",
        "pause",
        "asystole",
        "noise",
    ];
    for k in order {
        let eps: Vec<_> = a
            .episodes
            .iter()
            .filter(|e| e.kind == k)
            .map(|e| (e.start_s, e.end_s, e.kind.clone()))
            .collect();
        if !eps.is_empty() {
            lanes.push((k.to_string(), eps));
        }
    }
    let mut ref_lanes: Lanes = Vec::new();
    if let Some(r) = &a.reference {
        for (label, s0, s1) in &r.rhythms {
            if label == "(N" {
                continue;
            }
            let name = format!("ref {label}");
            match ref_lanes.iter_mut().find(|l| l.0 == name) {
                Some(l) => l.1.push((*s0, *s1, label.clone())),
                None => ref_lanes.push((name, vec![(*s0, *s1, label.clone())])),
            }
        }
    }
    if lanes.is_empty() && ref_lanes.is_empty() {
        return "<p class=\"muted\">No rhythm episodes: sinus rhythm throughout the usable signal.</p>"
            .into();
    }
    let n = lanes.len() + ref_lanes.len();
    let lane_h = 18.0;
    let height = 30.0 + n as f64 * (lane_h + 4.0);
    let f = Frame {
        x0: 110.0,
        y0: 4.0,
        w: 840.0,
        h: n as f64 * (lane_h + 4.0),
        xmin: 0.0,
        xmax: duration,
        ymin: 0.0,
        ymax: 1.0,
    };
    let mut s = format!(r#"<svg viewBox="0 0 960 {height:.0}" class="chart">"#);
    let xt: Vec<_> = time_ticks(duration)
        .into_iter()
        .map(|t| (t, time_label(t, duration)))
        .collect();
    f.axes(&mut s, &xt, &[], "");
    for (i, (name, eps)) in lanes.iter().chain(ref_lanes.iter()).enumerate() {
        let y = f.y0 + 2.0 + i as f64 * (lane_h + 4.0);
        let is_ref = i >= lanes.len();
        let _ = write!(
            s,
            r#"<text x="104" y="{:.1}" class="tick" text-anchor="end">{}</text>"#,
            y + 13.0,
            esc(name)
        );
        for (s0, s1, k) in eps {
            let x1 = f.x(*s0);
            let x2 = f.x(*s1).max(x1 + 1.5);
            let colour = if is_ref {
                match k.as_str() {
                    "(AFIB" | "(AFL" => kind_colour("AF"),
                    "(VT" => kind_colour("VT"),
                    "(SVTA" => kind_colour("SVT"),
                    "(B" => kind_colour("bigeminy"),
                    "(T" => kind_colour("trigeminy"),
                    "(SBR" => kind_colour("brady"),
                    _ => "#777777",
                }
            } else {
                kind_colour(k)
            };
            let _ = write!(
                s,
                r#"<rect x="{x1:.1}" y="{y:.1}" width="{:.1}" height="{lane_h}" fill="{colour}" opacity="{}"><title>{} {}–{}</title></rect>"#,
                x2 - x1,
                if is_ref { "0.55" } else { "0.9" },
                esc(k),
                clock(*s0),
                clock(*s1)
            );
        }
    }
    s.push_str("</svg>");
    s
}

fn classes_svg(a: &Analysis) -> String {
    let c = &a.summary.classes;
    let bars = [('N', c.N), ('S', c.S), ('V', c.V), ('F', c.F), ('Q', c.Q)];
    let total = c.total().max(1) as f64;
    let mut s = String::from(r#"<svg viewBox="0 0 460 150" class="chart small">"#);
    for (i, (k, n)) in bars.iter().enumerate() {
        let y = 8.0 + i as f64 * 27.0;
        // Log-like scale so that a few V beats are visible beside thousands of N.
        let frac = if *n == 0 {
            0.0
        } else {
            (1.0 + *n as f64).ln() / (1.0 + total).ln()
        };
        let _ = write!(
            s,
            r#"<text x="14" y="{:.1}" class="lbl">{k}</text><rect x="30" y="{y:.1}" width="{:.1}" height="20" fill="{}"/><text x="{:.1}" y="{:.1}" class="tick">{n} ({:.1} %)</text>"#,
            y + 15.0,
            300.0 * frac,
            class_colour(*k),
            36.0 + 300.0 * frac,
            y + 15.0,
            100.0 * *n as f64 / total
        );
    }
    s.push_str("</svg>");
    s
}

fn spectrum_svg(spectrum: &(Vec<f64>, Vec<f64>)) -> String {
    let (fr, p) = spectrum;
    let pts: Vec<(f64, f64)> = fr
        .iter()
        .zip(p)
        .filter(|(f, v)| **f <= 0.5 && v.is_finite())
        .map(|(f, v)| (*f, *v))
        .collect();
    if pts.len() < 2 {
        return String::new();
    }
    let ymax = pts.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-9) * 1.05;
    let f = Frame {
        x0: 60.0,
        y0: 10.0,
        w: 380.0,
        h: 170.0,
        xmin: 0.0,
        xmax: 0.5,
        ymin: 0.0,
        ymax,
    };
    let mut s = String::from(r#"<svg viewBox="0 0 460 210" class="chart small">"#);
    for (lo, hi, name, col) in [
        (0.0033, 0.04, "VLF", "#f0f0f0"),
        (0.04, 0.15, "LF", "#fde0c5"),
        (0.15, 0.4, "HF", "#d4e8f5"),
    ] {
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{col}"/><text x="{:.1}" y="24" class="tick" text-anchor="middle">{name}</text>"#,
            f.x(lo),
            f.y0,
            f.x(hi) - f.x(lo),
            f.h,
            (f.x(lo) + f.x(hi)) / 2.0
        );
    }
    let xt: Vec<_> = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
        .iter()
        .map(|v| (*v, format!("{v:.1} Hz")))
        .collect();
    let yt: Vec<_> = ticks(0.0, ymax, 4)
        .into_iter()
        .map(|v| (v, format!("{v:.0}")))
        .collect();
    f.axes(&mut s, &xt, &yt, "ms²/Hz");
    let mut d = String::new();
    for (i, (x, y)) in pts.iter().enumerate() {
        let _ = write!(
            d,
            "{}{:.1},{:.1} ",
            if i == 0 { "M" } else { "L" },
            f.x(*x),
            f.y(*y)
        );
    }
    let _ = write!(
        s,
        r##"<path d="{d}" fill="none" stroke="#333" stroke-width="1.2"/></svg>"##
    );
    s
}

fn poincare_svg(a: &Analysis) -> String {
    let rr: Vec<f64> = a
        .beats
        .windows(2)
        .filter(|w| w[0].class == 'N' && w[1].class == 'N')
        .filter_map(|w| w[1].rr_s)
        .filter(|r| (0.2..=3.0).contains(r))
        .map(|r| r * 1000.0)
        .collect();
    if rr.len() < 3 {
        return String::new();
    }
    let lo = rr.iter().copied().fold(f64::INFINITY, f64::min).min(400.0);
    let hi = rr.iter().copied().fold(0.0, f64::max).max(1200.0);
    let f = Frame {
        x0: 60.0,
        y0: 10.0,
        w: 180.0,
        h: 180.0,
        xmin: lo,
        xmax: hi,
        ymin: lo,
        ymax: hi,
    };
    let mut s = String::from(r#"<svg viewBox="0 0 260 230" class="chart tiny">"#);
    let t: Vec<_> = ticks(lo, hi, 3)
        .into_iter()
        .map(|v| (v, format!("{v:.0}")))
        .collect();
    f.axes(&mut s, &t, &t, "RRₙ₊₁ (ms)");
    // At most 4000 points: every k-th pair.
    let step = (rr.len() / 4000).max(1);
    for i in (0..rr.len() - 1).step_by(step) {
        let _ = write!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="1.2" fill="#08519c" opacity="0.35"/>"##,
            f.x(rr[i]),
            f.y(rr[i + 1])
        );
    }
    s.push_str("</svg>");
    s
}

/// An ECG strip from `t0` to `t1` s on ECG paper (5 mm squares of 0.2 s × 0.5 mV), one row per
/// lead, with our beat labels above and the reference labels below.
fn strip_svg(
    a: &Analysis,
    d: &Details,
    reference: Option<&[Annotation]>,
    t0: f64,
    t1: f64,
) -> String {
    let fs = a.record.fs;
    let px_per_s = 90.0; // 10 s → 900 px
    let px_per_mv = 36.0;
    let row_h = 110.0;
    let i0 = (t0 * fs).floor().max(0.0) as usize;
    // Whole leads, or the strip a chunked analysis kept (see `crate::long`).
    let leads: Vec<&[f64]> = d.window(i0, (t1 * fs).ceil().max(0.0) as usize);
    let width = 40.0 + (t1 - t0) * px_per_s;
    let height = 22.0 + row_h * leads.len() as f64 + 16.0;
    let mut s = format!(r#"<svg viewBox="0 0 {width:.0} {height:.0}" class="strip">"#);
    // Paper grid.
    let gx0 = 30.0;
    let gy0 = 18.0;
    let gh = row_h * leads.len() as f64;
    let mut minor = String::new();
    let mut major = String::new();
    let mut k = 0;
    let mut x = 0.0;
    while x <= (t1 - t0) * px_per_s + 0.1 {
        let target = if k % 5 == 0 { &mut major } else { &mut minor };
        let _ = write!(target, "M{:.1},{gy0}V{:.1}", gx0 + x, gy0 + gh);
        x += 0.04 * px_per_s;
        k += 1;
    }
    let (mut y, mut k) = (0.0, 0);
    while y <= gh + 0.1 {
        let target = if k % 5 == 0 { &mut major } else { &mut minor };
        let _ = write!(
            target,
            "M{gx0},{:.1}H{:.1}",
            gy0 + y,
            gx0 + (t1 - t0) * px_per_s
        );
        y += 0.1 * px_per_mv;
        k += 1;
    }
    let _ = write!(
        s,
        r##"<path d="{minor}" stroke="#fbd5d5" stroke-width="0.5"/><path d="{major}" stroke="#f4a3a3" stroke-width="0.8"/>"##
    );
    for (row, &seg) in leads.iter().enumerate() {
        if seg.is_empty() {
            continue;
        }
        let finite: Vec<f64> = seg.iter().copied().filter(|v| v.is_finite()).collect();
        let centre = if finite.is_empty() {
            0.0
        } else {
            let mut v = finite.clone();
            v.sort_by(|a, b| a.total_cmp(b));
            v[v.len() / 2]
        };
        let mid = gy0 + row_h * (row as f64 + 0.55);
        let name = a.record.leads.get(row).cloned().unwrap_or_default();
        let _ = write!(
            s,
            r#"<text x="2" y="{:.1}" class="tick">{}</text>"#,
            gy0 + row_h * row as f64 + 12.0,
            esc(&name)
        );
        // Min/max per pixel column keeps every peak at any sampling rate.
        let mut path = String::new();
        let cols = ((t1 - t0) * px_per_s) as usize;
        let per_col = (seg.len() as f64 / cols.max(1) as f64).max(1.0);
        let mut pen_up = true;
        let mut c = 0usize;
        while (c as f64) * per_col < seg.len() as f64 {
            let a0 = (c as f64 * per_col) as usize;
            let a1 = (((c + 1) as f64 * per_col) as usize)
                .min(seg.len())
                .max(a0 + 1);
            let chunk = &seg[a0..a1];
            let xx = gx0 + (a0 as f64 / fs) * px_per_s;
            let vals: Vec<f64> = chunk.iter().copied().filter(|v| v.is_finite()).collect();
            if vals.is_empty() {
                pen_up = true;
                c += 1;
                continue;
            }
            let (lo, hi) = vals
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                    (l.min(v), h.max(v))
                });
            let clampy = |v: f64| {
                (mid - (v - centre) * px_per_mv)
                    .clamp(gy0 + row_h * row as f64, gy0 + row_h * (row as f64 + 1.0))
            };
            let _ = write!(
                path,
                "{}{xx:.1},{:.1}",
                if pen_up { "M" } else { "L" },
                clampy(vals[0])
            );
            if vals.len() > 1 {
                let _ = write!(path, "L{xx:.1},{:.1}L{xx:.1},{:.1}", clampy(hi), clampy(lo));
                let _ = write!(path, "L{xx:.1},{:.1}", clampy(*vals.last().unwrap_or(&lo)));
            }
            pen_up = false;
            c += 1;
        }
        let _ = write!(
            s,
            r##"<path d="{path}" fill="none" stroke="#111" stroke-width="1.1"/>"##
        );
    }
    // Our labels above, reference labels below.
    let lo = a.beats.partition_point(|b| b.time_s < t0);
    for b in a.beats[lo..].iter().take_while(|b| b.time_s <= t1) {
        let x = gx0 + (b.time_s - t0) * px_per_s;
        let _ = write!(
            s,
            r#"<text x="{x:.1}" y="13" class="beat" fill="{}" text-anchor="middle">{}</text>"#,
            class_colour(b.class),
            b.class
        );
    }
    if let Some(r) = reference {
        for ann in r.iter().filter(|x| x.is_beat()) {
            let t = ann.sample as f64 / fs;
            if t < t0 || t > t1 {
                continue;
            }
            let x = gx0 + (t - t0) * px_per_s;
            let _ = write!(
                s,
                r#"<text x="{x:.1}" y="{:.1}" class="ref" text-anchor="middle">{}</text>"#,
                gy0 + gh + 12.0,
                esc(ann.symbol())
            );
        }
    }
    s.push_str("</svg>");
    s
}

const CSS: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d232a}
header{background:#12263a;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px} header p{margin:4px 0 0;color:#c9d6e3;font-size:13px}
main{max-width:1000px;margin:0 auto;padding:18px}
section{background:#fff;border:1px solid #e1e4e8;border-radius:8px;padding:14px 18px;margin:14px 0}
h2{font-size:16px;margin:0 0 10px}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:10px}
.card{background:#f6f8fa;border-radius:6px;padding:10px}
.card b{display:block;font-size:22px} .card span{font-size:12px;color:#57606a}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{border-bottom:1px solid #eaecef;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
.chart{width:100%;height:auto} .small{max-width:460px} .tiny{max-width:300px}
.row{display:flex;gap:16px;flex-wrap:wrap;align-items:flex-start}
.tick{font-size:10px;fill:#57606a} .lbl{font-size:13px;font-weight:600}
.strip{width:100%;height:auto;background:#fff} .beat{font-size:11px;font-weight:700} .ref{font-size:10px;fill:#57606a}
.muted{color:#6a737d} .warn{color:#9a6700}
.legend span{display:inline-block;margin-right:12px;font-size:12px} .legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
footer{font-size:12px;color:#6a737d;text-align:center;padding:16px}
"#;

/// The whole report as one HTML document.
pub fn report(a: &Analysis, d: &Details, reference: Option<&[Annotation]>) -> String {
    let m = &a.summary;
    let r = &a.record;
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Sinus report — {}</title><style>{CSS}</style></head><body>"#,
        esc(&r.name)
    );
    let _ = write!(
        h,
        r#"<header><h1>ECG analysis — {}</h1><p>{} · {} lead(s) ({}) · {} Hz · {}{} · Sinus {} · <b>Not a medical device: research and teaching use only.</b></p></header><main>"#,
        esc(&r.name),
        esc(&r.format),
        r.leads.len(),
        esc(&r.leads.join(", ")),
        r.fs,
        clock(r.duration_s),
        r.start
            .as_ref()
            .map(|s| format!(" · started {}", esc(s)))
            .unwrap_or_default(),
        a.sinus_version
    );
    // Summary cards.
    let rate = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.0}"));
    let _ = write!(
        h,
        r#"<section><h2>Summary</h2><div class="cards"><div class="card"><b>{}</b><span>mean heart rate (bpm)</span></div><div class="card"><b>{} – {}</b><span>min – max (bpm, 8-beat averages)</span></div><div class="card"><b>{}</b><span>beats</span></div><div class="card"><b>{:.1} %</b><span>AF burden</span></div></div>"#,
        rate(m.heart_rate_mean_bpm),
        rate(m.heart_rate_min.map(|x| x.bpm)),
        rate(m.heart_rate_max.map(|x| x.bpm)),
        m.beats,
        m.af_burden_percent
    );
    let e = &m.ectopy;
    let _ = write!(
        h,
        r#"<p>Analysed {} of {} ({} noise, {} leads off). Ventricular ectopy: {} isolated, {} couplets, {} runs. Supraventricular ectopy: {} isolated, {} couplets, {} runs.</p>"#,
        clock(m.analysed_s),
        clock(r.duration_s),
        clock(m.noisy_s),
        clock(m.leads_off_s),
        e.isolated_v,
        e.v_couplets,
        e.v_runs,
        e.isolated_s,
        e.s_couplets,
        e.s_runs
    );
    if !m.episode_totals.is_empty() {
        h.push_str(
            "<table><tr><th>rhythm</th><th>episodes</th><th>total</th><th>longest</th></tr>",
        );
        for t in &m.episode_totals {
            let _ = write!(
                h,
                r#"<tr><td><i style="display:inline-block;width:10px;height:10px;background:{};margin-right:6px"></i>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                kind_colour(&t.kind),
                esc(&t.kind),
                t.count,
                format_duration(t.total_s),
                format_duration(t.longest_s)
            );
        }
        h.push_str("</table>");
    }
    for l in &a.limitations {
        let _ = write!(h, r#"<p class="warn">⚠ {}</p>"#, esc(l));
    }
    h.push_str("</section>");
    let _ = write!(
        h,
        "<section><h2>Heart rate</h2>{}<p class=\"muted\">Mean rate per {} (line) and beat-to-beat range (band); AF, VT, SVT, asystole and noise shaded.</p></section>",
        trend_svg(a),
        if a.record.duration_s <= 3600.0 { "10 s" } else { "minute" }
    );
    let _ = write!(
        h,
        "<section><h2>Rhythm timeline</h2>{}</section>",
        timeline_svg(a)
    );
    // Classes and HRV.
    let _ = write!(
        h,
        "<section><h2>Beat classes and HRV</h2><div class=\"row\"><div>{}</div>",
        classes_svg(a)
    );
    match &a.hrv {
        Some(v) => {
            let g = |k: &str| v.pointer(k).and_then(|x| x.as_f64());
            let cell =
                |x: Option<f64>, dp: usize| x.map_or("–".to_string(), |x| format!("{x:.dp$}"));
            let _ = write!(
                h,
                r#"<div><table><tr><th>time domain</th><th></th></tr><tr><td>mean NN</td><td>{} ms</td></tr><tr><td>SDNN</td><td>{} ms</td></tr><tr><td>RMSSD</td><td>{} ms</td></tr><tr><td>pNN50</td><td>{} %</td></tr><tr><td>SDANN</td><td>{} ms</td></tr><tr><td>SDNN index</td><td>{} ms</td></tr><tr><th>frequency domain</th><th></th></tr><tr><td>VLF</td><td>{} ms²</td></tr><tr><td>LF</td><td>{} ms²</td></tr><tr><td>HF</td><td>{} ms²</td></tr><tr><td>LF/HF</td><td>{}</td></tr><tr><td>N–N intervals used / excluded</td><td>{} / {}</td></tr></table></div>"#,
                cell(g("/time/mean_nn_ms"), 0),
                cell(g("/time/sdnn_ms"), 1),
                cell(g("/time/rmssd_ms"), 1),
                cell(g("/time/pnn50_pct"), 1),
                cell(g("/time/sdann_ms"), 1),
                cell(g("/time/sdnn_index_ms"), 1),
                cell(g("/frequency/vlf_ms2"), 0),
                cell(g("/frequency/lf_ms2"), 0),
                cell(g("/frequency/hf_ms2"), 0),
                cell(g("/frequency/lf_hf"), 2),
                cell(g("/counts/nn"), 0),
                cell(g("/counts/excluded"), 0),
            );
        }
        None => h.push_str(
            "<div class=\"muted\">HRV could not be computed (see the notes above).</div>",
        ),
    }
    h.push_str("</div><div class=\"row\">");
    if let Some(sp) = &d.spectrum {
        h.push_str(&spectrum_svg(sp));
    }
    h.push_str(&poincare_svg(a));
    h.push_str("</div></section>");
    // Strips.
    if !a.events.is_empty() {
        h.push_str("<section><h2>ECG strips</h2><p class=\"legend\">");
        for (c, n) in [
            ('N', "normal"),
            ('S', "supraventricular"),
            ('V', "ventricular"),
            ('F', "fusion"),
            ('Q', "unclassified"),
        ] {
            let _ = write!(
                h,
                r#"<span><i style="background:{}"></i>{c} {n}</span>"#,
                class_colour(c)
            );
        }
        h.push_str("<span>our labels above the trace; the record's reference labels, when present, below · 25 mm/s, 10 mm/mV</span></p>");
        for ev in &a.events {
            let _ = write!(
                h,
                "<h3 style=\"font-size:14px;margin:12px 0 4px\">{}</h3>{}",
                esc(&ev.title),
                strip_svg(a, d, reference, ev.strip_start_s, ev.strip_end_s)
            );
        }
        h.push_str("</section>");
    }
    let _ = writeln!(
        h,
        "</main><footer>Generated by Sinus {} (detector: {}, classifier: {}). Not a medical device.</footer></body></html>",
        a.sinus_version,
        esc(&a.settings.detector),
        esc(&a.settings.model)
    );
    h
}
