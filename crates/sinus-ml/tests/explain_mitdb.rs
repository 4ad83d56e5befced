//! Explanations on real MIT-BIH beats (record 119, many ventricular beats) through a network
//! of the default "beatnet" shape with seeded random weights: completeness of integrated
//! gradients and a drawn figure on real data, not only on hand-made signals.

use sinus_ml::dataset::{extract_beats, AamiClass, BeatWindowConfig};
use sinus_ml::explain::{grad_cam, input_gradient, integrated_gradients, Baseline};
use sinus_ml::plot::{beat_relevance, Relevance};
use sinus_ml::rng::SplitMix64;
use sinus_ml::spec::{Activation, LayerSpec, ModelSpec};

fn conv(
    rng: &mut SplitMix64,
    cin: usize,
    cout: usize,
    kernel: usize,
    stride: usize,
    groups: usize,
    activation: Activation,
) -> LayerSpec {
    let fan_in = ((cin / groups) * kernel) as f64;
    LayerSpec::Conv1d {
        in_channels: cin,
        out_channels: cout,
        kernel,
        stride,
        pad_left: kernel / 2,
        pad_right: kernel / 2,
        groups,
        activation,
        weight: (0..cout * (cin / groups) * kernel)
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

/// The default architecture of the notes (batch normalisation folded away), random weights.
fn beatnet(seed: u64) -> ModelSpec {
    use Activation::{None as Lin, Relu};
    let r = &mut SplitMix64::new(seed);
    let spec = ModelSpec {
        input_channels: 1,
        input_len: 128,
        classes: vec!['N', 'S', 'V', 'F', 'Q'],
        feature_mean: vec![0.8, 0.8, 0.8, 0.8, 1.0, 1.0, 1.0, 1.0],
        feature_scale: vec![4.0, 4.0, 4.0, 4.0, 5.0, 5.0, 5.0, 5.0],
        metadata: String::new(),
        layers: vec![
            conv(r, 1, 16, 7, 2, 1, Relu),
            conv(r, 16, 16, 5, 2, 16, Lin),
            conv(r, 16, 32, 1, 1, 1, Relu),
            conv(r, 32, 32, 5, 2, 32, Lin),
            conv(r, 32, 32, 1, 1, 1, Relu),
            conv(r, 32, 32, 3, 2, 32, Lin),
            conv(r, 32, 32, 1, 1, 1, Relu),
            LayerSpec::GlobalAvgPool,
            LayerSpec::ConcatFeatures,
            dense(r, 40, 32, Relu),
            dense(r, 32, 5, Lin),
        ],
    };
    assert_eq!(
        spec.shapes().unwrap()[7],
        sinus_ml::spec::Shape::Series {
            channels: 32,
            len: 8
        }
    );
    spec
}

#[test]
fn explanations_of_real_beats() {
    let Some(db) = sinus_io::datasets::mitdb_for_tests(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let config = BeatWindowConfig::default();
    let beats = extract_beats(db.join("119"), &config).unwrap().beats;
    let spec = beatnet(2024);
    let r_peak = config.before_s / (config.before_s + config.after_s) * (config.length - 1) as f64;
    let (_keep, dir) = match std::env::var_os("SINUS_PLOT_DIR") {
        Some(d) => (None, std::path::PathBuf::from(d)),
        None => {
            let t = tempfile::tempdir().unwrap();
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    for class in [AamiClass::N, AamiClass::V] {
        let beat = beats.iter().find(|b| b.class == class).unwrap();
        let (w, f) = (&beat.waveform, &beat.rr[..]);
        let c = class.index();
        let logits = spec.forward(w, f).unwrap();
        let cam = grad_cam(&spec, w, f, c, None).unwrap();
        assert_eq!(cam.len(), 128);
        assert!(cam.iter().all(|v| (0.0..=1.0).contains(v)));
        let (gw, gf) = input_gradient(&spec, w, f, c).unwrap();
        assert!(gw.iter().chain(&gf).all(|v| v.is_finite()));
        assert!(
            gw.iter().any(|&v| v != 0.0),
            "no gradient reaches the waveform"
        );
        let ig = integrated_gradients(&spec, w, f, c, Baseline::Zero, 64).unwrap();
        let zero_logit = spec.forward(&vec![0.0; 128], f).unwrap()[c];
        let delta = logits[c] - zero_logit;
        let total: f32 = ig.iter().sum();
        assert!(
            (total - delta).abs() <= 0.03 * delta.abs() + 1e-3,
            "{class:?}: attributions sum to {total}, logit change {delta}"
        );
        let png = dir.join(format!("beat119_{}.png", class.name()));
        let cam_name = format!("Grad-CAM, class {} (random weights)", class.name());
        let ig_name = format!("Integrated gradients, class {}", class.name());
        beat_relevance(
            &png,
            &format!("119, sample {}: {}", beat.sample, beat.symbol),
            w,
            r_peak,
            &[
                Relevance {
                    name: &cam_name,
                    values: &cam,
                },
                Relevance {
                    name: &ig_name,
                    values: &ig,
                },
            ],
        )
        .unwrap();
        assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    }
}
