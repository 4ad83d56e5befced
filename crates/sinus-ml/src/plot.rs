//! Figures for training and explanations, written as PNG or SVG (chosen by the file's
//! extension) with `plotters`.
//!
//! - [`training_curves`]: loss and metric curves per epoch, two panels with legends.
//! - [`confusion_matrix`]: a heat-map of row-normalised counts with the counts in the cells.
//! - [`beat_relevance`]: a beat coloured by per-sample relevance (Grad-CAM, integrated
//!   gradients), one panel per relevance, R-peak marked.
//!
//! Text is drawn with DejaVu Sans, embedded in the library (`assets/DejaVuSans.ttf`, Bitstream
//! Vera licence) and rendered by `ab_glyph`: no system font, fontconfig or font-kit is needed,
//! so the figures look the same on every machine. SVG files name the family `sans-serif` and
//! leave the glyphs to the viewer.
//!
//! ```no_run
//! # fn main() -> sinus_io::Result<()> {
//! use sinus_ml::plot::{confusion_matrix, training_curves, Curve, Panel};
//!
//! let curves = vec![
//!     Curve::new("train loss", Panel::Loss, vec![(1.0, 0.9), (2.0, 0.5), (3.0, 0.4)]),
//!     Curve::new("valid macro-F1", Panel::Metric, vec![(1.0, 0.4), (2.0, 0.6), (3.0, 0.7)]),
//! ];
//! training_curves("curves.png", "beatnet, DS1", &curves)?;
//! let counts = vec![vec![90, 5, 5], vec![10, 80, 10], vec![0, 3, 97]];
//! confusion_matrix("confusion.svg", &["N", "S", "V"], &counts, "DS2")?;
//! # Ok(())
//! # }
//! ```

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{Error, Result};

/// DejaVu Sans 2.37 (from Debian's `fonts-dejavu-core`); licence in `assets/`.
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// The family every text style here asks for.
const FAMILY: &str = "sans-serif";
/// Most classes [`confusion_matrix`] draws (beyond this the cells are unreadable anyway).
pub const MAX_CLASSES: usize = 64;
/// Most points per series any figure accepts (a bound on the work per figure).
pub const MAX_POINTS: usize = 1 << 20;

/// Registers the embedded font with plotters once per process.
fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok()
            && plotters::style::register_font(FAMILY, FontStyle::Bold, FONT).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid("the embedded font could not be loaded"))
    }
}

/// A figure drawn on any plotters backend.
trait Figure {
    /// Width and height in pixels (PNG) or user units (SVG).
    fn size(&self) -> (u32, u32);
    /// Draws on the whole area.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Draws `figure` to `path`, as PNG or SVG according to its extension.
fn render(path: &Path, figure: &impl Figure) -> Result<()> {
    ensure_font()?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let failed = |e: String| Error::io(path, std::io::Error::other(e));
    match ext.as_deref() {
        Some("png") => {
            let root = BitMapBackend::new(path, figure.size()).into_drawing_area();
            figure.draw(&root).map_err(|e| failed(e.to_string()))?;
            root.present().map_err(|e| failed(e.to_string()))
        }
        Some("svg") => {
            let root = SVGBackend::new(path, figure.size()).into_drawing_area();
            figure.draw(&root).map_err(|e| failed(e.to_string()))?;
            root.present().map_err(|e| failed(e.to_string()))
        }
        _ => Err(Error::unsupported(format!(
            "plot format of {}: use a .png or .svg file name",
            path.display()
        ))),
    }
}

fn font(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}

/// Series colours: distinguishable, and readable on white.
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// Which panel of [`training_curves`] a curve goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    /// Left: losses (train, validation).
    Loss,
    /// Right: metrics (validation accuracy, macro-F1, …).
    Metric,
}

/// One named series of `(epoch, value)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Legend text, e.g. "valid loss".
    pub name: String,
    /// Panel it is drawn in.
    pub panel: Panel,
    /// `(epoch, value)`; points with a non-finite coordinate (a diverged loss) are left out.
    pub points: Vec<(f64, f64)>,
}

impl Curve {
    /// A curve from its parts.
    pub fn new(name: impl Into<String>, panel: Panel, points: Vec<(f64, f64)>) -> Curve {
        Curve {
            name: name.into(),
            panel,
            points,
        }
    }
}

/// An axis number without a spurious ".0" on whole values (epochs).
fn number_label(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Range of a set of values with a margin; a fallback for empty or constant sets.
fn padded_range(values: impl Iterator<Item = f64>, floor_at_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return (0.0, 1.0);
    }
    if floor_at_zero && lo >= 0.0 {
        lo = 0.0;
    }
    let span = hi - lo;
    if span <= f64::EPSILON * hi.abs().max(1.0) {
        return (lo - 0.5, hi + 0.5);
    }
    (lo - 0.02 * span, hi + 0.05 * span)
}

/// A curve ready to draw: its colour index, the curve, its finite points.
type KeptCurve<'a> = (usize, &'a Curve, Vec<(f64, f64)>);

struct CurvesFigure<'a> {
    title: &'a str,
    curves: Vec<KeptCurve<'a>>,
}

impl Figure for CurvesFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 520)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let root = root.titled(self.title, font(26.0))?;
        let (left, right) = root.split_horizontally(600);
        let x_range = padded_range(
            self.curves
                .iter()
                .flat_map(|(_, _, p)| p.iter().map(|q| q.0)),
            false,
        );
        for (area, panel, caption, y_desc) in [
            (&left, Panel::Loss, "Loss", "loss"),
            (&right, Panel::Metric, "Metrics", "value"),
        ] {
            let mine: Vec<_> = self.curves.iter().filter(|c| c.1.panel == panel).collect();
            let values = mine.iter().flat_map(|(_, _, p)| p.iter().map(|q| q.1));
            let mut y_range = padded_range(values.clone(), true);
            // Metrics in [0, 1] keep that scale so runs compare at a glance.
            if panel == Panel::Metric && values.clone().all(|v| (0.0..=1.0).contains(&v)) {
                y_range = (0.0, 1.0);
            }
            let mut chart = ChartBuilder::on(area)
                .caption(caption, font(20.0))
                .margin(12)
                .x_label_area_size(45)
                .y_label_area_size(60)
                .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?;
            chart
                .configure_mesh()
                .x_label_formatter(&|v| number_label(*v))
                .x_desc("epoch")
                .y_desc(y_desc)
                .label_style(font(14.0))
                .axis_desc_style(font(16.0))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()?;
            for (colour_index, curve, points) in &mine {
                let colour = PALETTE[colour_index % PALETTE.len()];
                chart
                    .draw_series(LineSeries::new(
                        points.iter().copied(),
                        colour.stroke_width(2),
                    ))?
                    .label(curve.name.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                    });
                // Markers only where epochs are few enough to tell apart.
                if points.len() <= 60 {
                    chart
                        .draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
                }
            }
            if !mine.is_empty() {
                chart
                    .configure_series_labels()
                    .position(if panel == Panel::Loss {
                        SeriesLabelPosition::UpperRight
                    } else {
                        SeriesLabelPosition::LowerRight
                    })
                    .label_font(font(15.0))
                    .background_style(WHITE.mix(0.85))
                    .border_style(RGBColor(160, 160, 160))
                    .draw()?;
            }
        }
        Ok(())
    }
}

/// Loss curves (left panel) and metric curves (right panel) per epoch, each panel with a
/// legend, written as PNG or SVG according to `path`'s extension. Metric panels whose values
/// all lie in [0, 1] keep that scale.
pub fn training_curves(path: impl AsRef<Path>, title: &str, curves: &[Curve]) -> Result<()> {
    let mut kept = Vec::with_capacity(curves.len());
    for (i, c) in curves.iter().enumerate() {
        if c.points.len() > MAX_POINTS {
            return Err(Error::too_large(format!(
                "curve {:?}: {} points (at most {MAX_POINTS})",
                c.name,
                c.points.len()
            )));
        }
        let finite: Vec<(f64, f64)> = c
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        kept.push((i, c, finite));
    }
    render(
        path.as_ref(),
        &CurvesFigure {
            title,
            curves: kept,
        },
    )
}

/// Linear interpolation through colour stops at even spacing; `t` in [0, 1].
fn interpolate(stops: &[(u8, u8, u8)], t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (stops.len() - 1) as f64;
    let i = (x.floor() as usize).min(stops.len() - 2);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// White to dark blue, for proportions.
fn blues(t: f64) -> RGBColor {
    interpolate(
        &[
            (247, 251, 255),
            (198, 219, 239),
            (107, 174, 214),
            (33, 113, 181),
            (8, 48, 107),
        ],
        t,
    )
}

/// White → yellow → orange → red → dark red, for relevance in [0, 1]: irrelevant samples
/// stay on a white background.
fn sequential(t: f64) -> RGBColor {
    interpolate(
        &[
            (255, 255, 255),
            (254, 217, 118),
            (253, 141, 60),
            (227, 26, 28),
            (128, 0, 38),
        ],
        t,
    )
}

/// Blue (−1) → white (0) → red (+1), for signed relevance.
fn diverging(t: f64) -> RGBColor {
    interpolate(
        &[
            (5, 48, 97),
            (67, 147, 195),
            (247, 247, 247),
            (214, 96, 77),
            (103, 0, 31),
        ],
        (t + 1.0) / 2.0,
    )
}

struct ConfusionFigure<'a> {
    title: &'a str,
    labels: &'a [&'a str],
    counts: &'a [Vec<u64>],
}

impl Figure for ConfusionFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.labels.len() as u32;
        let side = (140 + 90 * n).clamp(480, 1600);
        (side + 40, side)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let n = self.labels.len();
        let root = root.titled(self.title, font(24.0))?;
        // Integer coordinates, ten units per cell, so that the ticks can sit exactly on the
        // cell centres (key points) and the texts a little above and below them. Row r
        // (reference) is drawn from the top: y from n − r − 1 to n − r cells.
        let n = n as i32;
        let centres: Vec<i32> = (0..n).map(|i| 10 * i + 5).collect();
        let mut chart = ChartBuilder::on(&root)
            .margin(15)
            .margin_right(40)
            .x_label_area_size(60)
            .y_label_area_size(70)
            .build_cartesian_2d(
                (0..10 * n).with_key_points(centres.clone()),
                (0..10 * n).with_key_points(centres),
            )?;
        let labels = self.labels;
        let label_at = move |v: i32, top_down: bool| {
            let i = v.div_euclid(10);
            if !(0..n).contains(&i) {
                return String::new();
            }
            labels[if top_down { n - 1 - i } else { i } as usize].to_string()
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(n as usize)
            .y_labels(n as usize)
            .x_label_formatter(&|v| label_at(*v, false))
            .y_label_formatter(&|v| label_at(*v, true))
            .x_desc("predicted")
            .y_desc("reference")
            .label_style(font(16.0))
            .axis_desc_style(font(17.0))
            .draw()?;
        let cell_font = (60.0 / n as f64 + 10.0).clamp(11.0, 22.0);
        let centred = Pos::new(HPos::Center, VPos::Center);
        for (r, row) in (0..n).zip(self.counts) {
            let total: u64 = row.iter().sum();
            for (c, &count) in (0..n).zip(row) {
                let share = if total > 0 {
                    count as f64 / total as f64
                } else {
                    0.0
                };
                let (x0, y0) = (10 * c, 10 * (n - 1 - r));
                let cell = [(x0, y0), (x0 + 10, y0 + 10)];
                chart.draw_series([
                    Rectangle::new(cell, blues(share).filled()),
                    Rectangle::new(cell, WHITE.stroke_width(1)),
                ])?;
                // White ink on the dark cells.
                let ink = if share > 0.5 { WHITE } else { BLACK };
                chart.draw_series([
                    Text::new(
                        count.to_string(),
                        (x0 + 5, y0 + 6),
                        font(cell_font).color(&ink).pos(centred),
                    ),
                    Text::new(
                        format!("{:.1}%", 100.0 * share),
                        (x0 + 5, y0 + 3),
                        font(cell_font * 0.75).color(&ink).pos(centred),
                    ),
                ])?;
            }
        }
        Ok(())
    }
}

/// A confusion matrix: `counts[r][c]` beats of reference class `labels[r]` predicted as
/// `labels[c]`. Cells are coloured by the row-normalised share (white 0 → dark blue 1: each
/// row shows where one reference class went, i.e. sensitivity on the diagonal) and carry the
/// count and the share in per cent. PNG or SVG by `path`'s extension.
pub fn confusion_matrix(
    path: impl AsRef<Path>,
    labels: &[&str],
    counts: &[Vec<u64>],
    title: &str,
) -> Result<()> {
    let n = labels.len();
    if n == 0 || n > MAX_CLASSES {
        return Err(Error::invalid(format!(
            "confusion matrix with {n} classes (1 to {MAX_CLASSES} drawn)"
        )));
    }
    if counts.len() != n || counts.iter().any(|row| row.len() != n) {
        return Err(Error::invalid(format!(
            "confusion matrix counts are not {n} × {n} like the labels"
        )));
    }
    render(
        path.as_ref(),
        &ConfusionFigure {
            title,
            labels,
            counts,
        },
    )
}

/// One relevance map of a beat, for [`beat_relevance`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Relevance<'a> {
    /// Panel caption, e.g. "Grad-CAM (V)" or "Integrated gradients (V)".
    pub name: &'a str,
    /// One value per waveform sample. All ≥ 0 (Grad-CAM): scaled by the maximum and drawn
    /// white (0) through yellow and orange to dark red (max). Any < 0 (integrated
    /// gradients): scaled by the largest magnitude and drawn blue (against the class) – white
    /// – red (for it).
    pub values: &'a [f32],
}

struct BeatFigure<'a> {
    title: &'a str,
    waveform: &'a [f32],
    r_peak: f64,
    panels: &'a [Relevance<'a>],
}

const BEAT_PANEL_HEIGHT: u32 = 300;

impl Figure for BeatFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (1000, 60 + BEAT_PANEL_HEIGHT * self.panels.len() as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let root = root.titled(self.title, font(24.0))?;
        let len = self.waveform.len();
        let x_range = (-0.5, len as f64 - 0.5);
        let (lo, hi) = padded_range(self.waveform.iter().map(|&v| v as f64), false);
        let y_range = (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo));
        for (panel, area) in self
            .panels
            .iter()
            .zip(root.split_evenly((self.panels.len(), 1)))
        {
            let signed = panel.values.iter().any(|&v| v < 0.0);
            let scale = panel
                .values
                .iter()
                .filter(|v| v.is_finite())
                .fold(0.0f64, |m, &v| m.max((v as f64).abs()));
            let norm = |v: f32| {
                if scale > 0.0 && v.is_finite() {
                    v as f64 / scale
                } else {
                    0.0
                }
            };
            let colour = |v: f32| {
                if signed {
                    diverging(norm(v))
                } else {
                    sequential(norm(v))
                }
            };
            let (plot_area, bar_area) = area.split_horizontally(900);
            let mut chart = ChartBuilder::on(&plot_area)
                .caption(panel.name, font(18.0))
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(55)
                .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_label_formatter(&|v| number_label(*v))
                .x_desc("sample")
                .y_desc("amplitude")
                .label_style(font(13.0))
                .axis_desc_style(font(14.0))
                .draw()?;
            // Background bands, one per sample, lightened so the trace stays readable.
            chart.draw_series(panel.values.iter().enumerate().map(|(i, &v)| {
                let c = colour(v).mix(0.45);
                Rectangle::new(
                    [(i as f64 - 0.5, y_range.0), (i as f64 + 0.5, y_range.1)],
                    c.filled(),
                )
            }))?;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(self.r_peak, y_range.0), (self.r_peak, y_range.1)],
                RGBColor(200, 0, 0).stroke_width(1),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                "R",
                (
                    self.r_peak + 1.0,
                    y_range.1 - 0.04 * (y_range.1 - y_range.0),
                ),
                font(15.0).color(&RGBColor(200, 0, 0)),
            )))?;
            chart.draw_series(LineSeries::new(
                self.waveform
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| (i as f64, v as f64)),
                BLACK.stroke_width(2),
            ))?;
            chart.draw_series(self.waveform.iter().zip(panel.values).enumerate().flat_map(
                |(i, (&w, &v))| {
                    let at = (i as f64, w as f64);
                    // A dark rim keeps the pale (irrelevant) points visible.
                    [
                        Circle::new(at, 3, colour(v).filled()),
                        Circle::new(at, 3, RGBColor(60, 60, 60).stroke_width(1)),
                    ]
                },
            ))?;
            self.colour_bar(&bar_area, signed, scale, &colour)?;
        }
        Ok(())
    }
}

impl BeatFigure<'_> {
    /// A vertical colour scale with its end values.
    fn colour_bar<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        signed: bool,
        scale: f64,
        colour: &dyn Fn(f32) -> RGBColor,
    ) -> DrawResult<DB> {
        let (_, h) = area.dim_in_pixel();
        let (top, bottom) = (50i32, h as i32 - 50);
        let (x0, x1) = (10i32, 30i32);
        let steps = 64;
        let lo = if signed { -1.0 } else { 0.0 };
        for k in 0..steps {
            let f0 = k as f64 / steps as f64;
            let f1 = (k + 1) as f64 / steps as f64;
            let v = lo + (1.0 - lo) * (1.0 - (f0 + f1) / 2.0);
            let y0 = top + ((bottom - top) as f64 * f0) as i32;
            let y1 = top + ((bottom - top) as f64 * f1).ceil() as i32;
            area.draw(&Rectangle::new(
                [(x0, y0), (x1, y1)],
                colour((v * scale) as f32).filled(),
            ))?;
        }
        area.draw(&Rectangle::new(
            [(x0, top), (x1, bottom)],
            BLACK.stroke_width(1),
        ))?;
        let text = |v: f64| {
            if scale > 0.0 {
                format!("{:.2}", v * if signed { scale } else { 1.0 })
            } else {
                "0".to_string()
            }
        };
        let style = font(12.0).pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(text(1.0), (x1 + 4, top), style.clone()))?;
        area.draw(&Text::new(text(lo), (x1 + 4, bottom), style.clone()))?;
        Ok(())
    }
}

/// A beat with its relevance: one panel per entry of `panels` (e.g. Grad-CAM and integrated
/// gradients, so `sinus explain REC --beat N --out beat.png` shows both), each drawing the
/// waveform (one lead, one value per sample) as a black line whose points and background
/// bands are coloured by that relevance, with a colour scale beside it and the R-peak
/// (fractional sample index) marked by a red line. PNG or SVG by `path`'s extension.
pub fn beat_relevance(
    path: impl AsRef<Path>,
    title: &str,
    waveform: &[f32],
    r_peak_index: f64,
    panels: &[Relevance<'_>],
) -> Result<()> {
    if waveform.len() < 2 || waveform.len() > MAX_POINTS {
        return Err(Error::invalid(format!(
            "beat of {} samples (2 to {MAX_POINTS} drawn)",
            waveform.len()
        )));
    }
    if panels.is_empty() || panels.len() > 8 {
        return Err(Error::invalid(format!(
            "{} relevance panels (1 to 8 drawn)",
            panels.len()
        )));
    }
    for p in panels {
        if p.values.len() != waveform.len() {
            return Err(Error::invalid(format!(
                "relevance {:?} has {} values for a beat of {} samples",
                p.name,
                p.values.len(),
                waveform.len()
            )));
        }
    }
    if !r_peak_index.is_finite() {
        return Err(Error::invalid("R-peak position is not a number"));
    }
    render(
        path.as_ref(),
        &BeatFigure {
            title,
            waveform,
            r_peak: r_peak_index,
            panels,
        },
    )
}
