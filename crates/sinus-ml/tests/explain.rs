//! Explanations: backward pass against finite differences, integrated-gradients
//! completeness, Grad-CAM localisation on hand-made networks.

use sinus_ml::explain::{
    default_cam_layer, grad_cam, input_gradient, integrated_gradients, Baseline,
};
use sinus_ml::rng::SplitMix64;
use sinus_ml::spec::{Activation, LayerSpec, ModelSpec};

#[allow(clippy::too_many_arguments)]
fn conv(
    rng: &mut SplitMix64,
    cin: usize,
    cout: usize,
    kernel: usize,
    stride: usize,
    pad: (usize, usize),
    groups: usize,
    activation: Activation,
) -> LayerSpec {
    let n = cout * (cin / groups) * kernel;
    let fan_in = ((cin / groups) * kernel) as f64;
    LayerSpec::Conv1d {
        in_channels: cin,
        out_channels: cout,
        kernel,
        stride,
        pad_left: pad.0,
        pad_right: pad.1,
        groups,
        activation,
        weight: (0..n)
            .map(|_| (rng.normal() * (2.0 / fan_in).sqrt()) as f32)
            .collect(),
        bias: (0..cout).map(|_| rng.range(-0.1, 0.1) as f32).collect(),
    }
}

fn dense(rng: &mut SplitMix64, inputs: usize, outputs: usize, activation: Activation) -> LayerSpec {
    LayerSpec::Dense {
        inputs,
        outputs,
        activation,
        weight: (0..inputs * outputs)
            .map(|_| (rng.normal() * (2.0 / inputs as f64).sqrt()) as f32)
            .collect(),
        bias: (0..outputs).map(|_| rng.range(-0.1, 0.1) as f32).collect(),
    }
}

fn model(
    channels: usize,
    len: usize,
    n_features: usize,
    classes: usize,
    layers: Vec<LayerSpec>,
) -> ModelSpec {
    let spec = ModelSpec {
        input_channels: channels,
        input_len: len,
        classes: "NSVFQ".chars().take(classes).collect(),
        feature_mean: (0..n_features).map(|i| 0.5 + 0.1 * i as f32).collect(),
        feature_scale: (0..n_features).map(|i| 1.5 - 0.2 * i as f32).collect(),
        metadata: String::new(),
        layers,
    };
    spec.shapes().expect("test model is consistent");
    spec
}

/// Small networks covering every layer kind: strides, asymmetric padding, depthwise and
/// grouped convolutions, overlapping and plain max pooling, average pooling and flattening,
/// and a features-only network.
fn random_specs(seed: u64) -> Vec<ModelSpec> {
    use Activation::{None as Lin, Relu};
    let r = &mut SplitMix64::new(seed);
    vec![
        // beatnet in miniature: 1×32 → 4×16 → dw 4×8 → pw 6×8 → pool 6×4 → GAP 6 ++ 3 → 5 → 3.
        model(
            1,
            32,
            3,
            3,
            vec![
                conv(r, 1, 4, 7, 2, (3, 3), 1, Relu),
                conv(r, 4, 4, 5, 2, (2, 2), 4, Lin),
                conv(r, 4, 6, 1, 1, (0, 0), 1, Relu),
                LayerSpec::MaxPool1d {
                    kernel: 2,
                    stride: 2,
                },
                LayerSpec::GlobalAvgPool,
                LayerSpec::ConcatFeatures,
                dense(r, 9, 5, Relu),
                dense(r, 5, 3, Lin),
            ],
        ),
        // 2 leads, asymmetric padding, grouped (2 groups, 2 outputs each), overlapping pooling,
        // flatten.
        model(
            2,
            20,
            2,
            4,
            vec![
                conv(r, 2, 4, 4, 1, (1, 2), 2, Relu),
                LayerSpec::MaxPool1d {
                    kernel: 3,
                    stride: 1,
                },
                conv(r, 4, 3, 3, 3, (0, 1), 1, Relu),
                LayerSpec::Flatten,
                LayerSpec::ConcatFeatures,
                dense(r, 3 * 6 + 2, 4, Lin),
            ],
        ),
        // No features, stride 2 without padding, pooling with a stride wider than the window.
        model(
            1,
            25,
            0,
            2,
            vec![
                conv(r, 1, 3, 3, 2, (0, 0), 1, Relu),
                LayerSpec::MaxPool1d {
                    kernel: 2,
                    stride: 3,
                },
                LayerSpec::Flatten,
                dense(r, 12, 6, Relu),
                dense(r, 6, 2, Lin),
            ],
        ),
        // Features only (an RR classifier).
        model(
            0,
            0,
            4,
            2,
            vec![
                LayerSpec::ConcatFeatures,
                dense(r, 4, 8, Relu),
                dense(r, 8, 2, Lin),
            ],
        ),
    ]
}

fn random_input(spec: &ModelSpec, rng: &mut SplitMix64) -> (Vec<f32>, Vec<f32>) {
    let n = spec.input_channels * spec.input_len;
    let w = (0..n).map(|_| rng.normal() as f32).collect();
    let f = (0..spec.n_features())
        .map(|_| rng.range(-1.0, 2.0) as f32)
        .collect();
    (w, f)
}

/// Central difference of one logit along one input value, and whether the logit is linear
/// there (two step sizes agree). The networks are piecewise linear, so where both agree no
/// ReLU or pooling switch was crossed and the difference is the exact derivative up to
/// rounding; where they disagree the coordinate sits near a kink and is not comparable.
fn central_difference(
    logit: &dyn Fn(&[f32], &[f32]) -> f32,
    w: &[f32],
    f: &[f32],
    index: usize,
    in_features: bool,
) -> Option<f32> {
    let diff = |eps: f32| {
        let (mut wp, mut fp) = (w.to_vec(), f.to_vec());
        let (mut wm, mut fm) = (w.to_vec(), f.to_vec());
        if in_features {
            fp[index] += eps;
            fm[index] -= eps;
        } else {
            wp[index] += eps;
            wm[index] -= eps;
        }
        (logit(&wp, &fp) - logit(&wm, &fm)) / (2.0 * eps)
    };
    let (d1, d2) = (diff(1e-2), diff(5e-3));
    ((d1 - d2).abs() <= 1e-3 * (1.0 + d1.abs())).then_some(d1)
}

#[test]
fn gradients_match_finite_differences() {
    let mut rng = SplitMix64::new(7);
    for (m, spec) in random_specs(42).iter().enumerate() {
        let (mut checked, mut skipped, mut largest) = (0usize, 0usize, 0.0f32);
        for _ in 0..4 {
            let (w, f) = random_input(spec, &mut rng);
            for class in 0..spec.classes.len() {
                let (gw, gf) = input_gradient(spec, &w, &f, class).unwrap();
                assert_eq!(gw.len(), w.len());
                assert_eq!(gf.len(), f.len());
                let logit = |w: &[f32], f: &[f32]| spec.forward(w, f).unwrap()[class];
                let coords = (0..w.len())
                    .map(|i| (i, false, gw[i]))
                    .chain((0..f.len()).map(|i| (i, true, gf[i])));
                for (i, in_f, g) in coords {
                    largest = largest.max(g.abs());
                    match central_difference(&logit, &w, &f, i, in_f) {
                        Some(fd) => {
                            checked += 1;
                            assert!(
                                (fd - g).abs() <= 2e-3 * (1.0 + g.abs()),
                                "model {m} class {class} {} {i}: analytic {g}, numeric {fd}",
                                if in_f { "feature" } else { "sample" }
                            );
                        }
                        None => skipped += 1,
                    }
                }
            }
        }
        assert!(largest > 0.1, "model {m}: all gradients vanish");
        assert!(
            skipped * 10 <= checked,
            "model {m}: {skipped} coordinates near kinks, only {checked} checked"
        );
    }
}

fn logit_of(spec: &ModelSpec, w: &[f32], f: &[f32], class: usize) -> f32 {
    spec.forward(w, f).unwrap()[class]
}

#[test]
fn integrated_gradients_are_complete() {
    let specs = random_specs(5);
    let mut rng = SplitMix64::new(11);
    for (m, spec) in specs.iter().take(3).enumerate() {
        for trial in 0..3 {
            let (w, f) = random_input(spec, &mut rng);
            let custom: Vec<f32> = (0..w.len()).map(|i| 0.3 * (i as f32 * 0.4).sin()).collect();
            for baseline in [Baseline::Zero, Baseline::Flat, Baseline::Custom(&custom)] {
                let base = match baseline {
                    Baseline::Zero => vec![0.0; w.len()],
                    Baseline::Flat => {
                        let len = spec.input_len;
                        w.chunks(len)
                            .flat_map(|c| {
                                let mean = c.iter().sum::<f32>() / len as f32;
                                std::iter::repeat_n(mean, len)
                            })
                            .collect()
                    }
                    Baseline::Custom(b) => b.to_vec(),
                };
                // The class whose logit moves most along the path: completeness is
                // meaningful there.
                let class = (0..spec.classes.len())
                    .max_by(|&a, &b| {
                        let d =
                            |c| (logit_of(spec, &w, &f, c) - logit_of(spec, &base, &f, c)).abs();
                        d(a).total_cmp(&d(b))
                    })
                    .unwrap();
                let delta = logit_of(spec, &w, &f, class) - logit_of(spec, &base, &f, class);
                let ig = integrated_gradients(spec, &w, &f, class, baseline, 128).unwrap();
                assert_eq!(ig.len(), w.len());
                let total: f32 = ig.iter().sum();
                assert!(
                    (total - delta).abs() <= 0.03 * delta.abs() + 1e-3,
                    "model {m} trial {trial} {baseline:?}: sum {total}, logit change {delta}"
                );
                // Where the input equals the baseline there is nothing to attribute.
                for (i, (x, b)) in w.iter().zip(&base).enumerate() {
                    if x == b {
                        assert_eq!(ig[i], 0.0);
                    }
                }
            }
        }
    }
}

#[test]
fn integrated_gradients_reject_bad_arguments() {
    let spec = &random_specs(1)[0];
    let (w, f) = random_input(spec, &mut SplitMix64::new(3));
    assert!(integrated_gradients(spec, &w, &f, 0, Baseline::Zero, 0).is_err());
    assert!(integrated_gradients(spec, &w, &f, 0, Baseline::Custom(&[0.0; 3]), 8).is_err());
    assert!(integrated_gradients(spec, &w, &f, 3, Baseline::Zero, 8).is_err());
    assert!(integrated_gradients(spec, &w[1..], &f, 0, Baseline::Zero, 8).is_err());
    assert!(input_gradient(spec, &w, &f[1..], 0).is_err());
}

/// 1×64 → conv k5 s2 (ch0 sums, ch1 sums negated) → depthwise k3 s2 smoothing → GAP →
/// class 0 = mean of ch0 ("upward deflection"), class 1 = mean of ch1 ("downward").
/// The first convolution's padding is `pad_left` before and `4 − pad_left` after, so output t
/// of the last convolution is centred on input sample `4t + 2 − pad_left`.
fn bump_detector(pad_left: usize) -> ModelSpec {
    ModelSpec {
        input_channels: 1,
        input_len: 64,
        classes: vec!['U', 'D'],
        feature_mean: vec![],
        feature_scale: vec![],
        metadata: String::new(),
        layers: vec![
            LayerSpec::Conv1d {
                in_channels: 1,
                out_channels: 2,
                kernel: 5,
                stride: 2,
                pad_left,
                pad_right: 4 - pad_left,
                groups: 1,
                activation: Activation::Relu,
                weight: vec![0.2, 0.2, 0.2, 0.2, 0.2, -0.2, -0.2, -0.2, -0.2, -0.2],
                bias: vec![-0.05, -0.05],
            },
            LayerSpec::Conv1d {
                in_channels: 2,
                out_channels: 2,
                kernel: 3,
                stride: 2,
                pad_left: 1,
                pad_right: 1,
                groups: 2,
                activation: Activation::Relu,
                weight: vec![0.25, 0.5, 0.25, 0.25, 0.5, 0.25],
                bias: vec![0.0, 0.0],
            },
            LayerSpec::GlobalAvgPool,
            LayerSpec::Dense {
                inputs: 2,
                outputs: 2,
                activation: Activation::None,
                weight: vec![1.0, 0.0, 0.0, 1.0],
                bias: vec![0.0, 0.0],
            },
        ],
    }
}

/// A Gaussian deflection centred on sample `at`.
fn bump(at: f32, height: f32, width: f32) -> impl Fn(usize) -> f32 {
    move |i| {
        let d = (i as f32 - at) / width;
        height * (-0.5 * d * d).exp()
    }
}

fn argmax(v: &[f32]) -> usize {
    (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap()
}

#[test]
fn grad_cam_points_at_the_region_that_drives_the_class() {
    // Centred ("same") padding, then padding only after the input, which shifts every output
    // of the network by 2 samples.
    for (pad_left, shift) in [(2usize, 0usize), (0, 2)] {
        let spec = bump_detector(pad_left);
        assert_eq!(default_cam_layer(&spec).unwrap(), Some(1));
        // An upward bump and a downward one, each on a knot of the last layer's grid.
        let (at_up, at_down) = (40 + shift, 16 + shift);
        let up = bump(at_up as f32, 2.0, 2.5);
        let down = bump(at_down as f32, -2.0, 2.5);
        let w: Vec<f32> = (0..64).map(|i| up(i) + down(i)).collect();
        let cam_up = grad_cam(&spec, &w, &[], 0, None).unwrap();
        let cam_down = grad_cam(&spec, &w, &[], 1, None).unwrap();
        assert_eq!(cam_up.len(), 64);
        assert!(cam_up
            .iter()
            .chain(&cam_down)
            .all(|v| (0.0..=1.0).contains(v)));
        // The peaks land on the bumps exactly: the strides' and paddings' offsets are undone.
        assert_eq!(argmax(&cam_up), at_up, "pad {pad_left}: {cam_up:?}");
        assert_eq!(argmax(&cam_down), at_down, "pad {pad_left}: {cam_down:?}");
        assert_eq!(cam_up[at_up], 1.0);
        // Each class sees only its own bump.
        for i in 0..64usize {
            if i.abs_diff(at_up) > 10 {
                assert!(cam_up[i] < 0.05, "up-class relevance {} at {i}", cam_up[i]);
            }
            if i.abs_diff(at_down) > 10 {
                assert!(
                    cam_down[i] < 0.05,
                    "down-class relevance {} at {i}",
                    cam_down[i]
                );
            }
        }
        // At the first convolution (centres at 2t + 2 − pad_left) the peak is in the same place.
        let cam0 = grad_cam(&spec, &w, &[], 0, Some(0)).unwrap();
        assert_eq!(argmax(&cam0), at_up);
    }
    let spec = bump_detector(2);
    let w: Vec<f32> = (0..64).map(bump(40.0, 2.0, 2.5)).collect();
    // No evidence for the class: a zero map, not a division by zero.
    let flat = vec![0.0f32; 64];
    assert!(grad_cam(&spec, &flat, &[], 0, None)
        .unwrap()
        .iter()
        .all(|&v| v == 0.0));
    // A layer without a time axis, a layer that does not exist, a class that does not exist.
    assert!(grad_cam(&spec, &w, &[], 0, Some(2)).is_err());
    assert!(grad_cam(&spec, &w, &[], 0, Some(9)).is_err());
    assert!(grad_cam(&spec, &w, &[], 2, None).is_err());
}

#[test]
fn integrated_gradients_localise_too() {
    let spec = bump_detector(2);
    let up = bump(40.0, 2.0, 2.5);
    let down = bump(16.0, -2.0, 2.5);
    let w: Vec<f32> = (0..64).map(|i| up(i) + down(i)).collect();
    let ig = integrated_gradients(&spec, &w, &[], 0, Baseline::Zero, 64).unwrap();
    let away: f32 = ig[..28].iter().map(|v| v.abs()).sum();
    let near: f32 = ig[34..47].iter().sum();
    assert!(near > 0.0 && away < 0.05 * near, "near {near}, away {away}");
}

#[test]
fn features_only_model_has_no_cam_but_has_gradients() {
    let spec = &random_specs(9)[3];
    assert_eq!(default_cam_layer(spec).unwrap(), None);
    let f = [0.3, 1.2, -0.4, 0.9];
    assert!(grad_cam(spec, &[], &f, 0, None).is_err());
    let (gw, gf) = input_gradient(spec, &[], &f, 0).unwrap();
    assert!(gw.is_empty());
    assert_eq!(gf.len(), 4);
}
