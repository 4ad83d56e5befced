//! The burn network built from an [`ArchConfig`], and its export to a [`ModelSpec`].

use super::arch::{ArchConfig, Head};
use crate::spec::{Activation, LayerSpec, ModelSpec};
use crate::{Error, Result};
use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, LinearLayout,
    PaddingConfig1d,
};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// A convolution block in burn: optional depthwise convolution, (pointwise) convolution,
/// optional batch normalisation; ReLU is applied in the forward pass.
#[derive(Module, Debug)]
pub(crate) struct BlockNet {
    depthwise: Option<Conv1d>,
    conv: Conv1d,
    norm: Option<BatchNorm>,
}

/// The whole network in burn.
#[derive(Module, Debug)]
pub(crate) struct Net {
    blocks: Vec<BlockNet>,
    hidden: Vec<Linear>,
    output: Linear,
    dropout: Dropout,
    flatten: bool,
    concat: bool,
}

impl Net {
    /// A freshly initialised network (burn's default initialisers, drawn from the device's
    /// generator: seed the device first for reproducible weights).
    pub(crate) fn new(arch: &ArchConfig, device: &Device) -> Result<Net> {
        arch.validate()?;
        let mut blocks = Vec::with_capacity(arch.blocks.len());
        let mut ch = arch.input_channels;
        if arch.has_waveform() {
            for b in &arch.blocks {
                let (l, r) = b.padding();
                let depthwise = b.separable.then(|| {
                    Conv1dConfig::new(ch, ch, b.kernel)
                        .with_stride(b.stride)
                        .with_groups(ch)
                        .with_padding(PaddingConfig1d::Explicit(l, r))
                        .with_bias(false)
                        .init(device)
                });
                let conv = if b.separable {
                    Conv1dConfig::new(ch, b.out_channels, 1)
                } else {
                    Conv1dConfig::new(ch, b.out_channels, b.kernel)
                        .with_stride(b.stride)
                        .with_padding(PaddingConfig1d::Explicit(l, r))
                }
                // Batch normalisation's shift makes a convolution bias redundant.
                .with_bias(!b.batch_norm)
                .init(device);
                let norm = b
                    .batch_norm
                    .then(|| BatchNormConfig::new(b.out_channels).init(device));
                blocks.push(BlockNet {
                    depthwise,
                    conv,
                    norm,
                });
                ch = b.out_channels;
            }
        }
        let mut hidden = Vec::with_capacity(arch.hidden.len());
        let mut width = arch.dense_input();
        for &h in &arch.hidden {
            hidden.push(
                LinearConfig::new(width, h)
                    .with_layout(LinearLayout::Row)
                    .init(device),
            );
            width = h;
        }
        let output = LinearConfig::new(width, arch.classes.len())
            .with_layout(LinearLayout::Row)
            .init(device);
        Ok(Net {
            blocks,
            hidden,
            output,
            dropout: DropoutConfig::new(arch.dropout).init(),
            flatten: arch.head == Head::Flatten,
            concat: arch.concat_features && arch.n_features > 0,
        })
    }

    /// Logits `[batch, classes]` from the waveform `[batch, channels, len]` (absent for a
    /// features-only model) and the normalised features `[batch, n_features]` (absent when the
    /// model has none).
    pub(crate) fn forward(&self, wave: Option<Tensor<3>>, feats: Option<Tensor<2>>) -> Tensor<2> {
        let mut v = wave.map(|mut x| {
            for b in &self.blocks {
                if let Some(dw) = &b.depthwise {
                    x = dw.forward(x);
                }
                x = b.conv.forward(x);
                if let Some(n) = &b.norm {
                    x = n.forward(x);
                }
                x = relu(x);
            }
            if self.flatten {
                x.flatten::<2>(1, 2)
            } else {
                x.mean_dim(2).squeeze_dim::<2>(2)
            }
        });
        if let Some(f) = feats {
            v = Some(match v {
                Some(v) if self.concat => Tensor::cat(vec![v, f], 1),
                Some(v) => v,
                None => f,
            });
        }
        let mut h = v.expect("validated: the model has a waveform or features");
        for l in &self.hidden {
            h = self.dropout.forward(relu(l.forward(h)));
        }
        self.output.forward(h)
    }

    /// Export to a [`ModelSpec`] using the running batch-normalisation statistics (eval mode),
    /// folded into the preceding convolution.
    pub(crate) fn export(
        &self,
        arch: &ArchConfig,
        feature_mean: Vec<f32>,
        feature_scale: Vec<f32>,
        metadata: String,
    ) -> Result<ModelSpec> {
        let mut layers = Vec::new();
        if arch.has_waveform() {
            let mut ch = arch.input_channels;
            for (b, net) in arch.blocks.iter().zip(&self.blocks) {
                let (pad_left, pad_right) = b.padding();
                if let Some(dw) = &net.depthwise {
                    layers.push(LayerSpec::Conv1d {
                        in_channels: ch,
                        out_channels: ch,
                        kernel: b.kernel,
                        stride: b.stride,
                        pad_left,
                        pad_right,
                        groups: ch,
                        activation: Activation::None,
                        weight: values(dw.weight.val())?,
                        bias: bias_of(dw, ch)?,
                    });
                }
                let mut weight = values(net.conv.weight.val())?;
                let mut bias = bias_of(&net.conv, b.out_channels)?;
                if let Some(n) = &net.norm {
                    fold_batch_norm(n, &mut weight, &mut bias)?;
                }
                let (kernel, stride, pad_left, pad_right) = if b.separable {
                    (1, 1, 0, 0)
                } else {
                    (b.kernel, b.stride, pad_left, pad_right)
                };
                layers.push(LayerSpec::Conv1d {
                    in_channels: ch,
                    out_channels: b.out_channels,
                    kernel,
                    stride,
                    pad_left,
                    pad_right,
                    groups: 1,
                    activation: Activation::Relu,
                    weight,
                    bias,
                });
                ch = b.out_channels;
            }
            layers.push(match arch.head {
                Head::GlobalAvgPool => LayerSpec::GlobalAvgPool,
                Head::Flatten => LayerSpec::Flatten,
            });
        }
        if arch.n_features > 0 && (arch.concat_features || !arch.has_waveform()) {
            layers.push(LayerSpec::ConcatFeatures);
        }
        let dense = |l: &Linear, activation| -> Result<LayerSpec> {
            let [inputs, outputs] = l.weight.val().dims();
            // burn stores `[in][out]` (x·W); the spec wants `[out][in]`.
            let w = values(l.weight.val())?;
            let mut weight = vec![0.0f32; inputs * outputs];
            for i in 0..inputs {
                for o in 0..outputs {
                    weight[o * inputs + i] = w[i * outputs + o];
                }
            }
            let bias = match &l.bias {
                Some(b) => values(b.val())?,
                None => vec![0.0; outputs],
            };
            Ok(LayerSpec::Dense {
                inputs,
                outputs,
                activation,
                weight,
                bias,
            })
        };
        for l in &self.hidden {
            layers.push(dense(l, Activation::Relu)?);
        }
        layers.push(dense(&self.output, Activation::None)?);
        let spec = ModelSpec {
            input_channels: if arch.has_waveform() {
                arch.input_channels
            } else {
                0
            },
            input_len: if arch.has_waveform() {
                arch.input_len
            } else {
                0
            },
            classes: arch.classes.clone(),
            feature_mean,
            feature_scale,
            metadata,
            layers,
        };
        spec.shapes()?;
        Ok(spec)
    }
}

/// A tensor's values in row-major order.
fn values<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| Error::invalid(format!("reading a tensor from burn: {e:?}")))
}

fn bias_of(c: &Conv1d, out: usize) -> Result<Vec<f32>> {
    match &c.bias {
        Some(b) => values(b.val()),
        None => Ok(vec![0.0; out]),
    }
}

/// Fold `y = γ (x − μ) / √(σ² + ε) + β` into the convolution that produced `x`.
fn fold_batch_norm(n: &BatchNorm, weight: &mut [f32], bias: &mut [f32]) -> Result<()> {
    let gamma = values(n.gamma.val())?;
    let beta = values(n.beta.val())?;
    let mean = values(n.running_mean.value())?;
    let var = values(n.running_var.value())?;
    let out = bias.len();
    if gamma.len() != out || beta.len() != out || mean.len() != out || var.len() != out {
        return Err(Error::invalid(
            "batch norm size differs from its convolution",
        ));
    }
    let per_out = weight.len() / out.max(1);
    for o in 0..out {
        let s = gamma[o] as f64 / (var[o] as f64 + n.epsilon).sqrt();
        for w in &mut weight[o * per_out..(o + 1) * per_out] {
            *w = (*w as f64 * s) as f32;
        }
        bias[o] = ((bias[o] as f64 - mean[o] as f64) * s + beta[o] as f64) as f32;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;
    use crate::train::arch::ConvBlock;
    use burn::optim::{AdamConfig, GradientsParams};
    use burn::tensor::TensorData;

    fn normals(rng: &mut SplitMix64, n: usize, mean: f64, sd: f64) -> Vec<f32> {
        (0..n).map(|_| (mean + sd * rng.normal()) as f32).collect()
    }

    /// burn's eval-mode forward and the exported spec's reference forward agree, after a few
    /// training steps have moved every parameter and the batch-norm running statistics.
    fn check_parity(arch: &ArchConfig) {
        let device = Device::flex();
        let ad = device.clone().autodiff();
        ad.seed(11);
        let mut model = Net::new(arch, &ad).unwrap();
        let mut optim = AdamConfig::new().init();
        let mut rng = SplitMix64::new(5);
        let (c, l, f, k) = (
            arch.input_channels,
            arch.input_len,
            arch.n_features,
            arch.classes.len(),
        );
        let wave_of = |rng: &mut SplitMix64, b: usize, dev: &Device| {
            arch.has_waveform().then(|| {
                Tensor::<3>::from_data(
                    TensorData::new(normals(rng, b * c * l, 0.5, 2.0), [b, c, l]),
                    dev,
                )
            })
        };
        for _ in 0..4 {
            let b = 16;
            let w = wave_of(&mut rng, b, &ad);
            let x = (f > 0).then(|| {
                Tensor::<2>::from_data(
                    TensorData::new(normals(&mut rng, b * f, 0.0, 1.0), [b, f]),
                    &ad,
                )
            });
            let r = Tensor::<2>::from_data(
                TensorData::new(normals(&mut rng, b * k, 0.0, 1.0), [b, k]),
                &ad,
            );
            let loss = (model.forward(w, x) * r).sum();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(0.05, model, grads);
        }
        let eval = model.valid();
        if let Some(n) = eval.blocks.first().and_then(|b| b.norm.as_ref()) {
            let mean = values(n.running_mean.value()).unwrap();
            let gamma = values(n.gamma.val()).unwrap();
            assert!(mean.iter().any(|m| m.abs() > 1e-3), "running mean moved");
            assert!(gamma.iter().any(|g| (g - 1.0).abs() > 1e-3), "gamma moved");
        }
        let feature_mean: Vec<f32> = (0..f).map(|i| 0.1 * i as f32).collect();
        let feature_scale: Vec<f32> = (0..f).map(|i| 1.0 + 0.5 * i as f32).collect();
        let spec = eval
            .export(
                arch,
                feature_mean.clone(),
                feature_scale.clone(),
                "{}".into(),
            )
            .unwrap();
        ModelSpec::from_bytes(&spec.to_bytes().unwrap()).unwrap();
        let b = 6;
        let waves = normals(&mut rng, b * c * l, 0.3, 1.5);
        let raw = normals(&mut rng, b * f, 0.2, 1.0);
        let norm: Vec<f32> = raw
            .chunks_exact(f.max(1))
            .flat_map(|row| {
                row.iter()
                    .zip(feature_mean.iter().zip(&feature_scale))
                    .map(|(v, (m, s))| (v - m) * s)
            })
            .collect();
        let w = arch
            .has_waveform()
            .then(|| Tensor::<3>::from_data(TensorData::new(waves.clone(), [b, c, l]), &device));
        let x = (f > 0).then(|| Tensor::<2>::from_data(TensorData::new(norm, [b, f]), &device));
        let burn_logits = values(eval.forward(w, x)).unwrap();
        let mut worst = 0.0f32;
        for i in 0..b {
            let logits = spec
                .forward(&waves[i * c * l..(i + 1) * c * l], &raw[i * f..(i + 1) * f])
                .unwrap();
            for (a, e) in logits.iter().zip(&burn_logits[i * k..(i + 1) * k]) {
                worst = worst.max((a - e).abs() / (1.0 + e.abs()));
            }
        }
        assert!(
            worst < 1e-4,
            "{}: spec and burn differ by {worst}",
            arch.name
        );
    }

    #[test]
    fn export_matches_burn_for_every_constructor() {
        check_parity(&ArchConfig::beat_default());
        check_parity(&ArchConfig::beat_default().with_head(Head::Flatten));
        check_parity(&ArchConfig::rr_default());
        check_parity(&ArchConfig::beat_csv_187().with_classes(&['a', 'b', 'c']));
        // Plain blocks without batch norm (bias kept), two leads, three hidden layers.
        let mut a = ArchConfig::beat_default();
        a.name = "plain".into();
        a.input_channels = 2;
        a.input_len = 40;
        a.blocks = vec![
            ConvBlock {
                batch_norm: false,
                ..ConvBlock::new(4, 4, 3, false)
            },
            ConvBlock::new(6, 3, 1, false),
            ConvBlock {
                batch_norm: false,
                ..ConvBlock::new(5, 3, 2, true)
            },
        ];
        a.hidden = vec![7, 5, 3];
        a.head = Head::Flatten;
        check_parity(&a);
    }
}
