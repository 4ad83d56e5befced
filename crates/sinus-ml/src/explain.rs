//! Why did the network call this beat V? Per-sample relevance for one input of a
//! [`ModelSpec`], computed in plain Rust from the reference forward pass.
//!
//! - [`input_gradient`]: the gradient of one class logit with respect to the waveform and the
//!   raw (un-normalised) features, by a backward pass through every [`LayerSpec`].
//! - [`grad_cam`]: 1-D Grad-CAM at a series layer (by default the last one, i.e. the deepest
//!   convolution after its ReLU), brought back to the input's time axis and scaled to [0, 1].
//! - [`integrated_gradients`]: integrated gradients of the waveform along the straight path
//!   from a baseline, the features kept at their value; the attributions add up to
//!   `logit(x) − logit(baseline)` (completeness), up to the quadrature error.
//!
//! The networks here are piecewise linear (convolutions, ReLU, max pooling, averages, dense
//! layers), so the gradient is exact inside each linear piece. At a kink (a pre-activation of
//! exactly 0, a tie in a pooling window) the gradient taken is that of ReLU'(0) = 0 and of the
//! first maximum of the window.
//!
//! ```no_run
//! # fn main() -> sinus_io::Result<()> {
//! use sinus_ml::explain::{grad_cam, integrated_gradients, Baseline};
//! use sinus_ml::spec::ModelSpec;
//!
//! let spec = ModelSpec::from_bytes(&std::fs::read("beatnet.snnm")?)?;
//! let (waveform, rr) = (vec![0.0f32; 128], [0.8f32; 8]);
//! let class = 2; // V
//! let cam = grad_cam(&spec, &waveform, &rr, class, None)?;
//! let ig = integrated_gradients(&spec, &waveform, &rr, class, Baseline::Zero, 64)?;
//! assert_eq!((cam.len(), ig.len()), (128, 128));
//! # Ok(())
//! # }
//! ```

use crate::spec::{Activation, LayerSpec, ModelSpec, Shape};
use crate::{Error, Result};

/// Most integration steps [`integrated_gradients`] accepts (each is a forward and a backward
/// pass; more than this gains nothing measurable and only costs time).
pub const MAX_IG_STEPS: usize = 100_000;

/// Gradients of one logit, as returned by the backward pass.
struct Gradients {
    /// d logit / d waveform, `[channels][len]`.
    waveform: Vec<f32>,
    /// d logit / d raw feature.
    features: Vec<f32>,
    /// d logit / d (output of the layer asked for), if one was asked for.
    at_layer: Option<Vec<f32>>,
}

/// Checks the class index and runs the forward pass, returning the shapes and the trace.
fn trace_for(
    spec: &ModelSpec,
    waveform: &[f32],
    features: &[f32],
    class: usize,
) -> Result<(Vec<Shape>, Vec<Vec<f32>>)> {
    let shapes = spec.shapes()?;
    if class >= spec.classes.len() {
        return Err(Error::invalid(format!(
            "class index {class} out of range: the model has {} classes",
            spec.classes.len()
        )));
    }
    let trace = spec.forward_trace(waveform, features)?;
    Ok((shapes, trace))
}

/// Backward pass of the logit `class` through every layer, from the activations of
/// [`ModelSpec::forward_trace`]. `keep` asks for the gradient at one layer's output too.
fn backward(
    spec: &ModelSpec,
    shapes: &[Shape],
    waveform: &[f32],
    trace: &[Vec<f32>],
    class: usize,
    keep: Option<usize>,
) -> Gradients {
    let n_features = spec.n_features();
    let mut feature_grad = vec![0.0f32; n_features];
    let mut at_layer = None;
    let logits = trace.last().map_or(0, Vec::len);
    let mut g = vec![0.0f32; logits];
    if let Some(x) = g.get_mut(class) {
        *x = 1.0;
    }
    for (i, layer) in spec.layers.iter().enumerate().rev() {
        let x_in: &[f32] = if i == 0 { waveform } else { &trace[i - 1] };
        let y = &trace[i];
        if keep == Some(i) {
            at_layer = Some(g.clone());
        }
        g = match layer {
            LayerSpec::Conv1d {
                in_channels,
                out_channels,
                kernel,
                stride,
                pad_left,
                groups,
                activation,
                weight,
                ..
            } => {
                relu_mask(*activation, y, &mut g);
                let (Shape::Series { len: lin, .. }, Shape::Series { len: lout, .. }) =
                    (shapes[i], shapes[i + 1])
                else {
                    unreachable!("checked by ModelSpec::shapes")
                };
                let cin_g = in_channels / groups;
                let cout_g = out_channels / groups;
                let mut gx = vec![0.0f32; x_in.len()];
                for o in 0..*out_channels {
                    let grp = o / cout_g;
                    for t in 0..lout {
                        let go = g[o * lout + t];
                        if go == 0.0 {
                            continue;
                        }
                        for ci in 0..cin_g {
                            let c = grp * cin_g + ci;
                            let w =
                                &weight[(o * cin_g + ci) * kernel..(o * cin_g + ci + 1) * kernel];
                            for (k, wk) in w.iter().enumerate() {
                                // Same index arithmetic as the forward pass: taps that fall in
                                // the zero padding have no input to pass a gradient to.
                                let pos = (t * stride + k) as isize - *pad_left as isize;
                                if pos >= 0 && (pos as usize) < lin {
                                    gx[c * lin + pos as usize] += wk * go;
                                }
                            }
                        }
                    }
                }
                gx
            }
            LayerSpec::MaxPool1d { kernel, stride } => {
                let Shape::Series { channels, len } = shapes[i] else {
                    unreachable!("checked by ModelSpec::shapes")
                };
                let lout = (len - kernel) / stride + 1;
                let mut gx = vec![0.0f32; x_in.len()];
                for c in 0..channels {
                    for t in 0..lout {
                        let start = c * len + t * stride;
                        let window = &x_in[start..start + kernel];
                        // The gradient goes to the first maximum of the window only.
                        let mut best = 0;
                        for (j, v) in window.iter().enumerate() {
                            if *v > window[best] {
                                best = j;
                            }
                        }
                        gx[start + best] += g[c * lout + t];
                    }
                }
                gx
            }
            LayerSpec::GlobalAvgPool => {
                let Shape::Series { channels, len } = shapes[i] else {
                    unreachable!("checked by ModelSpec::shapes")
                };
                let mut gx = vec![0.0f32; channels * len];
                for c in 0..channels {
                    let share = g[c] / len as f32;
                    gx[c * len..(c + 1) * len].fill(share);
                }
                gx
            }
            LayerSpec::Flatten => g,
            LayerSpec::ConcatFeatures => {
                let n = g.len() - n_features;
                for (f, v) in feature_grad.iter_mut().zip(&g[n..]) {
                    *f += v;
                }
                g.truncate(n);
                g
            }
            LayerSpec::Dense {
                inputs,
                outputs,
                activation,
                weight,
                ..
            } => {
                relu_mask(*activation, y, &mut g);
                let mut gx = vec![0.0f32; *inputs];
                for o in 0..*outputs {
                    let go = g[o];
                    if go == 0.0 {
                        continue;
                    }
                    let row = &weight[o * inputs..(o + 1) * inputs];
                    for (gi, w) in gx.iter_mut().zip(row) {
                        *gi += w * go;
                    }
                }
                gx
            }
        };
    }
    // The features enter as (f − mean) × scale.
    for (f, s) in feature_grad.iter_mut().zip(&spec.feature_scale) {
        *f *= s;
    }
    Gradients {
        waveform: g,
        features: feature_grad,
        at_layer,
    }
}

/// Zeroes the gradient where a ReLU output is 0 (ReLU'(0) taken as 0).
fn relu_mask(activation: Activation, y: &[f32], g: &mut [f32]) {
    if activation == Activation::Relu {
        for (gi, yi) in g.iter_mut().zip(y) {
            if *yi <= 0.0 {
                *gi = 0.0;
            }
        }
    }
}

/// Gradient of the logit of `class` with respect to the waveform (`[channels][len]`,
/// channel-major, as [`ModelSpec::forward`] takes it) and to the raw, un-normalised features.
/// A model without waveform input gives an empty waveform gradient.
pub fn input_gradient(
    spec: &ModelSpec,
    waveform: &[f32],
    features: &[f32],
    class: usize,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let (shapes, trace) = trace_for(spec, waveform, features, class)?;
    let g = backward(spec, &shapes, waveform, &trace, class, None);
    Ok((g.waveform, g.features))
}

/// The layer [`grad_cam`] uses when none is given: the last layer whose output is a
/// `[channels][len]` series (for a CNN, the deepest convolution after its ReLU, or the pooling
/// after it). `None` if the model has no such layer.
pub fn default_cam_layer(spec: &ModelSpec) -> Result<Option<usize>> {
    let shapes = spec.shapes()?;
    Ok((0..spec.layers.len())
        .rev()
        .find(|&i| matches!(shapes[i + 1], Shape::Series { .. })))
}

/// Where the centre of each output point of layers `0..=layer` lies on the input's time axis:
/// `input position = scale · output index + offset`, from the strides, paddings and kernel
/// widths (a kernel's centre tap is `(kernel − 1) / 2`).
fn receptive_centre(spec: &ModelSpec, layer: usize) -> (f64, f64) {
    let (mut scale, mut offset) = (1.0f64, 0.0f64);
    for l in &spec.layers[..=layer] {
        let (stride, shift) = match l {
            LayerSpec::Conv1d {
                kernel,
                stride,
                pad_left,
                ..
            } => (*stride, (*kernel as f64 - 1.0) / 2.0 - *pad_left as f64),
            LayerSpec::MaxPool1d { kernel, stride } => (*stride, (*kernel as f64 - 1.0) / 2.0),
            _ => (1, 0.0),
        };
        // Output t of this layer is centred at stride·t + shift of its input.
        offset += scale * shift;
        scale *= stride as f64;
    }
    (scale, offset)
}

/// 1-D Grad-CAM for the logit of `class`, one value per input time point (`input_len`), in
/// [0, 1].
///
/// At the output `A[c][t]` of layer `layer` (default: [`default_cam_layer`]), each channel is
/// weighted by the time-mean of the logit's gradient there, `w_c = mean_t ∂logit/∂A[c][t]`;
/// the map is `max(0, Σ_c w_c A[c][t])`. It is brought to the input's time axis by linear
/// interpolation between the receptive-field centres of the layer's outputs (so strides and
/// paddings do not shift it), then divided by its maximum. A map that is zero everywhere (no
/// evidence for the class at that layer) stays zero. The layer's channels mix all leads, so
/// there is one map for all of them.
pub fn grad_cam(
    spec: &ModelSpec,
    waveform: &[f32],
    features: &[f32],
    class: usize,
    layer: Option<usize>,
) -> Result<Vec<f32>> {
    let (shapes, trace) = trace_for(spec, waveform, features, class)?;
    let layer = match layer {
        Some(l) => l,
        None => default_cam_layer(spec)?
            .ok_or_else(|| Error::invalid("Grad-CAM needs a layer with a time axis"))?,
    };
    let Some(Shape::Series { channels, len }) = shapes.get(layer + 1).copied() else {
        return Err(Error::invalid(format!(
            "Grad-CAM layer {layer}: not a layer whose output has a time axis"
        )));
    };
    let g = backward(spec, &shapes, waveform, &trace, class, Some(layer));
    let grad = g.at_layer.unwrap_or_default();
    let act = &trace[layer];
    let weights: Vec<f32> = (0..channels)
        .map(|c| grad[c * len..(c + 1) * len].iter().sum::<f32>() / len as f32)
        .collect();
    let cam: Vec<f32> = (0..len)
        .map(|t| {
            let s: f32 = (0..channels).map(|c| weights[c] * act[c * len + t]).sum();
            s.max(0.0)
        })
        .collect();
    let (scale, offset) = receptive_centre(spec, layer);
    let mut out: Vec<f32> = (0..spec.input_len)
        .map(|s| {
            let u = ((s as f64 - offset) / scale).clamp(0.0, (len - 1) as f64);
            let i0 = u.floor() as usize;
            let i1 = (i0 + 1).min(len - 1);
            let frac = (u - i0 as f64) as f32;
            cam[i0] * (1.0 - frac) + cam[i1] * frac
        })
        .collect();
    let max = out.iter().copied().fold(0.0f32, f32::max);
    if max > 0.0 {
        for v in &mut out {
            *v /= max;
        }
    }
    Ok(out)
}

/// The reference input of [`integrated_gradients`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Baseline<'a> {
    /// All zeros (for z-normalised beats: the mean level, no deflection).
    Zero,
    /// Each channel held at its own mean over the window: a flat line, no shape.
    Flat,
    /// A given waveform of the model's input size (`[channels][len]`).
    Custom(&'a [f32]),
}

impl Baseline<'_> {
    fn waveform(&self, spec: &ModelSpec, waveform: &[f32]) -> Result<Vec<f32>> {
        match self {
            Baseline::Zero => Ok(vec![0.0; waveform.len()]),
            Baseline::Flat => {
                let len = spec.input_len.max(1);
                let mut out = Vec::with_capacity(waveform.len());
                for ch in waveform.chunks(len) {
                    let mean = ch.iter().map(|&v| v as f64).sum::<f64>() / ch.len() as f64;
                    out.extend(std::iter::repeat_n(mean as f32, ch.len()));
                }
                Ok(out)
            }
            Baseline::Custom(b) => {
                if b.len() != waveform.len() {
                    return Err(Error::invalid(format!(
                        "baseline has {} values, the waveform {}",
                        b.len(),
                        waveform.len()
                    )));
                }
                Ok(b.to_vec())
            }
        }
    }
}

/// Integrated gradients of the logit of `class` with respect to the waveform: for every
/// value, `(x − x′) · mean over the path of ∂logit/∂x`, where the path runs straight from the
/// baseline `x′` to `x` with the features held at their value. The path integral is taken by
/// the midpoint rule with `steps` points (one forward and one backward pass each; 32–128 is
/// plenty for a small CNN). The attributions add up to `logit(x) − logit(x′)` up to the
/// quadrature error. The result has the waveform's layout, `[channels][len]`; positive values
/// push towards the class, negative ones away from it.
pub fn integrated_gradients(
    spec: &ModelSpec,
    waveform: &[f32],
    features: &[f32],
    class: usize,
    baseline: Baseline<'_>,
    steps: usize,
) -> Result<Vec<f32>> {
    if steps == 0 || steps > MAX_IG_STEPS {
        return Err(Error::invalid(format!(
            "integrated gradients: {steps} steps (1 to {MAX_IG_STEPS} allowed)"
        )));
    }
    // Checks the sizes and the class before any work.
    trace_for(spec, waveform, features, class)?;
    let base = baseline.waveform(spec, waveform)?;
    let mut sum = vec![0.0f64; waveform.len()];
    let mut point = vec![0.0f32; waveform.len()];
    for k in 0..steps {
        let alpha = ((k as f64 + 0.5) / steps as f64) as f32;
        for ((p, x), b) in point.iter_mut().zip(waveform).zip(&base) {
            *p = b + alpha * (x - b);
        }
        let (shapes, trace) = trace_for(spec, &point, features, class)?;
        let g = backward(spec, &shapes, &point, &trace, class, None);
        for (s, v) in sum.iter_mut().zip(&g.waveform) {
            *s += *v as f64;
        }
    }
    Ok(sum
        .iter()
        .zip(waveform.iter().zip(&base))
        .map(|(s, (x, b))| ((x - b) as f64 * s / steps as f64) as f32)
        .collect())
}
