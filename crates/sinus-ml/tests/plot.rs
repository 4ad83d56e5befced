//! Plots: every figure is written as PNG and SVG; the PNG decodes to the figure's size, the
//! SVG carries the title. The font is embedded, so this runs on a machine without fonts.

use std::path::{Path, PathBuf};

use sinus_ml::plot::{beat_relevance, confusion_matrix, training_curves, Curve, Panel, Relevance};

/// Where the figures go: a temporary directory, or `SINUS_PLOT_DIR` to keep them for a look.
fn out_dir() -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("SINUS_PLOT_DIR") {
        Some(d) => {
            std::fs::create_dir_all(&d).unwrap();
            (None, PathBuf::from(d))
        }
        None => {
            let t = tempfile::tempdir().unwrap();
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    }
}

/// Decodes a PNG, returning its size and whether it has more than a handful of colours
/// (i.e. something was drawn).
fn png_info(path: &Path) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let channels = info.color_type.samples();
    let mut colours: Vec<&[u8]> = bytes.chunks(channels).collect();
    colours.sort_unstable();
    colours.dedup();
    (info.width, info.height, colours.len())
}

fn check_svg(path: &Path, texts: &[&str]) {
    let svg = std::fs::read_to_string(path).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
    for t in texts {
        assert!(svg.contains(t), "{} lacks {t:?}", path.display());
    }
}

fn curves() -> Vec<Curve> {
    let epochs = 1..=30;
    let f = |e: i32, a: f64, b: f64| a * (-(e as f64) / b).exp();
    vec![
        Curve::new(
            "train loss",
            Panel::Loss,
            epochs
                .clone()
                .map(|e| (e as f64, 0.1 + f(e, 1.2, 6.0)))
                .collect(),
        ),
        Curve::new(
            "valid loss",
            Panel::Loss,
            epochs
                .clone()
                .map(|e| (e as f64, 0.25 + f(e, 1.0, 5.0) + 0.004 * e as f64))
                .collect(),
        ),
        Curve::new(
            "valid accuracy",
            Panel::Metric,
            epochs
                .clone()
                .map(|e| (e as f64, 0.95 - f(e, 0.4, 4.0)))
                .collect(),
        ),
        Curve::new(
            "valid macro-F1",
            Panel::Metric,
            // A diverged epoch (NaN) is left out, not drawn and not an error.
            epochs
                .map(|e| {
                    (
                        e as f64,
                        if e == 7 {
                            f64::NAN
                        } else {
                            0.8 - f(e, 0.6, 5.0)
                        },
                    )
                })
                .collect(),
        ),
    ]
}

#[test]
fn training_curves_png_and_svg() {
    let (_keep, dir) = out_dir();
    let png_path = dir.join("curves.png");
    let svg_path = dir.join("curves.svg");
    training_curves(&png_path, "beatnet on DS1 (seed 1)", &curves()).unwrap();
    training_curves(&svg_path, "beatnet on DS1 (seed 1)", &curves()).unwrap();
    let (w, h, colours) = png_info(&png_path);
    assert_eq!((w, h), (1200, 520));
    assert!(colours > 20, "only {colours} colours: nothing drawn?");
    check_svg(
        &svg_path,
        &[
            "beatnet on DS1 (seed 1)",
            "valid macro-F1",
            "train loss",
            "epoch",
        ],
    );
    // No curves at all still gives a figure (empty panels).
    training_curves(dir.join("empty.svg"), "nothing yet", &[]).unwrap();
    // Unknown extension: a clear error, no file.
    let err = training_curves(dir.join("curves.pdf"), "x", &curves()).unwrap_err();
    assert!(err.to_string().contains(".png or .svg"), "{err}");
    assert!(!dir.join("curves.pdf").exists());
}

#[test]
fn confusion_matrix_png_and_svg() {
    let (_keep, dir) = out_dir();
    let labels = ["N", "S", "V", "F", "Q"];
    let counts = vec![
        vec![40321, 2113, 1210, 590, 6],
        vec![301, 1480, 50, 6, 0],
        vec![45, 12, 3101, 60, 2],
        vec![80, 1, 40, 267, 0],
        vec![3, 0, 2, 0, 2],
    ];
    let png_path = dir.join("confusion.png");
    let svg_path = dir.join("confusion.svg");
    confusion_matrix(&png_path, &labels, &counts, "DS2, reference R-peaks").unwrap();
    confusion_matrix(&svg_path, &labels, &counts, "DS2, reference R-peaks").unwrap();
    let (w, h, colours) = png_info(&png_path);
    assert_eq!((w, h), (630, 590));
    assert!(colours > 20, "only {colours} colours: nothing drawn?");
    check_svg(
        &svg_path,
        &[
            "DS2, reference R-peaks",
            "40321",
            "predicted",
            "reference",
            "91.1%",
            "96.3%",
        ],
    );
    // A row without beats is drawn as zeros, not a division by zero.
    let empty_row = vec![vec![5, 1], vec![0, 0]];
    confusion_matrix(dir.join("c2.svg"), &["A", "B"], &empty_row, "two").unwrap();
    // Shapes that do not match the labels are refused.
    assert!(confusion_matrix(dir.join("bad.png"), &["A", "B"], &[vec![1, 2]], "t").is_err());
    assert!(confusion_matrix(dir.join("bad.png"), &["A", "B"], &[vec![1], vec![2]], "t").is_err());
    assert!(confusion_matrix(dir.join("bad.png"), &[], &[], "t").is_err());
}

/// A synthetic beat (Q, R, S, T waves) of 128 samples with its R-peak at 49.
fn beat() -> Vec<f32> {
    let g = |i: usize, at: f32, h: f32, w: f32| {
        let d = (i as f32 - at) / w;
        h * (-0.5 * d * d).exp()
    };
    (0..128)
        .map(|i| {
            g(i, 20.0, 0.25, 4.0)
                + g(i, 45.0, -0.3, 1.5)
                + g(i, 49.0, 2.5, 1.8)
                + g(i, 53.0, -0.6, 1.5)
                + g(i, 95.0, 0.5, 8.0)
        })
        .collect()
}

#[test]
fn beat_relevance_png_and_svg() {
    let (_keep, dir) = out_dir();
    let w = beat();
    let cam: Vec<f32> = (0..128)
        .map(|i| (-0.5 * ((i as f32 - 50.0) / 6.0).powi(2)).exp())
        .collect();
    let ig: Vec<f32> = (0..128)
        .map(|i| {
            0.05 * ((i as f32 - 49.0) / 3.0).sin() * (-((i as f32 - 49.0) / 10.0).powi(2)).exp()
        })
        .collect();
    let panels = [
        Relevance {
            name: "Grad-CAM (class V, p = 0.97)",
            values: &cam,
        },
        Relevance {
            name: "Integrated gradients (class V)",
            values: &ig,
        },
    ];
    let png_path = dir.join("beat.png");
    let svg_path = dir.join("beat.svg");
    beat_relevance(&png_path, "100, beat 1234: V", &w, 49.0, &panels).unwrap();
    beat_relevance(&svg_path, "100, beat 1234: V", &w, 49.0, &panels).unwrap();
    let (pw, ph, colours) = png_info(&png_path);
    assert_eq!((pw, ph), (1000, 660));
    assert!(colours > 50, "only {colours} colours: no colour map?");
    check_svg(
        &svg_path,
        &[
            "100, beat 1234: V",
            "Grad-CAM (class V, p = 0.97)",
            "Integrated gradients",
        ],
    );
    // One panel is fine; a relevance of the wrong length, no panel, or a NaN R-peak are not.
    beat_relevance(dir.join("one.png"), "one", &w, 49.5, &panels[..1]).unwrap();
    assert_eq!(png_info(&dir.join("one.png")).1, 360);
    let short = Relevance {
        name: "short",
        values: &cam[1..],
    };
    assert!(beat_relevance(dir.join("bad.png"), "t", &w, 49.0, &[short]).is_err());
    assert!(beat_relevance(dir.join("bad.png"), "t", &w, 49.0, &[]).is_err());
    assert!(beat_relevance(dir.join("bad.png"), "t", &w, f64::NAN, &panels).is_err());
}
