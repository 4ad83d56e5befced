//! Architecture descriptions: a configurable 1-D CNN on the waveform, optionally fused with a
//! feature vector, followed by dense layers.

use serde::{Deserialize, Serialize};

/// One convolution block: a convolution (or a depthwise-separable pair), optional batch
/// normalisation, then ReLU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvBlock {
    /// Output channels.
    pub out_channels: usize,
    /// Kernel width in samples (odd widths keep the output centred).
    pub kernel: usize,
    /// Step between outputs.
    pub stride: usize,
    /// Depthwise-separable: a depthwise convolution (`kernel`, `stride`, one filter per input
    /// channel, no activation) followed by a pointwise 1×1 convolution to `out_channels`.
    /// Costs `in·k + in·out` weights instead of `in·out·k`.
    pub separable: bool,
    /// Batch normalisation after the (pointwise) convolution; folded into it at export.
    pub batch_norm: bool,
}

impl ConvBlock {
    /// A block with batch normalisation.
    pub fn new(out_channels: usize, kernel: usize, stride: usize, separable: bool) -> Self {
        ConvBlock {
            out_channels,
            kernel,
            stride,
            separable,
            batch_norm: true,
        }
    }

    /// Zeros added before and after the input: `(kernel − 1) / 2` before, the rest after, so
    /// that a stride-1 block keeps the length and a stride-s block gives `ceil(len / s)`.
    pub fn padding(&self) -> (usize, usize) {
        let total = self.kernel.saturating_sub(1);
        (total / 2, total - total / 2)
    }

    /// Output length for an input of `len` points (0 if the kernel does not fit).
    pub fn output_len(&self, len: usize) -> usize {
        let (l, r) = self.padding();
        let padded = len + l + r;
        if self.stride == 0 || padded < self.kernel {
            0
        } else {
            (padded - self.kernel) / self.stride + 1
        }
    }
}

/// How the convolution output `[C][L]` becomes a vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Head {
    /// Mean over time of each channel: `C` values, independent of the input length.
    GlobalAvgPool,
    /// All `C·L` values, channel-major (keeps where in the beat a feature was seen).
    Flatten,
}

/// A network architecture: input description, convolution blocks, head, dense layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchConfig {
    /// Name written into the model's metadata, e.g. "beatnet".
    pub name: String,
    /// Waveform channels (leads); 0 for a features-only model.
    pub input_channels: usize,
    /// Waveform points per channel; 0 for a features-only model.
    pub input_len: usize,
    /// Number of input features (e.g. 8 RR features); 0 for none.
    pub n_features: usize,
    /// Class labels, one per output (any number of classes).
    pub classes: Vec<char>,
    /// Convolution blocks, in order.
    pub blocks: Vec<ConvBlock>,
    /// How the convolution output becomes a vector.
    pub head: Head,
    /// Append the normalised features to the head's vector (ignored when `n_features` is 0).
    pub concat_features: bool,
    /// Widths of the hidden dense layers (each followed by ReLU and dropout).
    pub hidden: Vec<usize>,
    /// Dropout probability after each hidden dense layer, in training only.
    pub dropout: f64,
}

impl ArchConfig {
    /// "beatnet": 1 lead × 128 points + 8 RR features → 5 AAMI classes (N S V F Q).
    ///
    /// Conv(1→16, k7, s2) + BN + ReLU → 16×64; three depthwise-separable blocks (k5 s2 → 32×32,
    /// k5 s2 → 32×16, k3 s2 → 32×8), each + BN + ReLU; global average pool → 32; ++ 8 RR → 40;
    /// Dense 32 + ReLU + dropout 0.2; Dense 5. About 4.6 k parameters.
    pub fn beat_default() -> Self {
        ArchConfig {
            name: "beatnet".into(),
            input_channels: 1,
            input_len: 128,
            n_features: 8,
            classes: vec!['N', 'S', 'V', 'F', 'Q'],
            blocks: vec![
                ConvBlock::new(16, 7, 2, false),
                ConvBlock::new(32, 5, 2, true),
                ConvBlock::new(32, 5, 2, true),
                ConvBlock::new(32, 3, 2, true),
            ],
            head: Head::GlobalAvgPool,
            concat_features: true,
            hidden: vec![32],
            dropout: 0.2,
        }
    }

    /// A dense-only classifier of a feature vector (no waveform), e.g. 10 RR intervals →
    /// 16 → 2 classes (normal vs ventricular ectopy), as seed 000's RR-window classifier.
    pub fn rr_dense(n_features: usize, hidden: &[usize], classes: &[char]) -> Self {
        ArchConfig {
            name: "rr-dense".into(),
            input_channels: 0,
            input_len: 0,
            n_features,
            classes: classes.to_vec(),
            blocks: Vec::new(),
            head: Head::GlobalAvgPool,
            concat_features: true,
            hidden: hidden.to_vec(),
            dropout: 0.0,
        }
    }

    /// The RR-window default: 10 RR intervals → Dense 16 + ReLU → 2 classes `N`, `V`.
    pub fn rr_default() -> Self {
        Self::rr_dense(10, &[16], &['N', 'V'])
    }

    /// For the 187-point Kaggle (Kachuee et al. 2018) format: 1 × 187 at 125 Hz, no
    /// features, 5 classes N S V F Q. The beatnet blocks (187 → 94 → 47 → 24 → 12) with
    /// global average pooling, Dense 32, dropout 0.2.
    pub fn beat_csv_187() -> Self {
        ArchConfig {
            name: "beat-csv-187".into(),
            input_len: 187,
            n_features: 0,
            concat_features: false,
            ..Self::beat_default()
        }
    }

    /// The same architecture with another head.
    pub fn with_head(mut self, head: Head) -> Self {
        self.head = head;
        self
    }

    /// The same architecture with other class labels (the output layer follows).
    pub fn with_classes(mut self, classes: &[char]) -> Self {
        self.classes = classes.to_vec();
        self
    }

    /// Whether the model reads a waveform.
    pub fn has_waveform(&self) -> bool {
        self.input_channels > 0 && self.input_len > 0
    }

    /// Length of the vector entering the dense layers (0 if the architecture is unusable,
    /// e.g. a kernel longer than its input).
    pub fn dense_input(&self) -> usize {
        let mut v = 0;
        if self.has_waveform() {
            let mut ch = self.input_channels;
            let mut len = self.input_len;
            for b in &self.blocks {
                len = b.output_len(len);
                ch = b.out_channels;
                if len == 0 {
                    return 0;
                }
            }
            v = match self.head {
                Head::GlobalAvgPool => ch,
                Head::Flatten => ch * len,
            };
        }
        if self.concat_features || !self.has_waveform() {
            v += self.n_features;
        }
        v
    }

    /// Check that the architecture describes a usable network.
    pub fn validate(&self) -> crate::Result<()> {
        use crate::Error;
        if self.classes.is_empty() || !self.classes.iter().all(char::is_ascii) {
            return Err(Error::invalid(
                "architecture needs at least one class, labelled by an ASCII character",
            ));
        }
        if !(self.dropout.is_finite() && (0.0..1.0).contains(&self.dropout)) {
            return Err(Error::invalid(format!(
                "dropout {} must be in [0, 1)",
                self.dropout
            )));
        }
        if (self.input_channels == 0) != (self.input_len == 0) {
            return Err(Error::invalid(
                "input channels and length must both be 0 (features only) or both positive",
            ));
        }
        if self.has_waveform() && !self.concat_features && self.n_features > 0 {
            return Err(Error::invalid(
                "features declared but not concatenated: set concat_features or n_features = 0",
            ));
        }
        for (i, b) in self.blocks.iter().enumerate() {
            if b.out_channels == 0 || b.kernel == 0 || b.stride == 0 {
                return Err(Error::invalid(format!(
                    "block {i}: channels, kernel and stride must be positive"
                )));
            }
        }
        if self.hidden.contains(&0) {
            return Err(Error::invalid("hidden layer of width 0"));
        }
        if self.dense_input() == 0 {
            return Err(Error::invalid(
                "architecture leaves nothing for the dense layers (no input, or a kernel longer than its input)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beatnet_shapes() {
        let a = ArchConfig::beat_default();
        a.validate().unwrap();
        assert_eq!(a.blocks[0].padding(), (3, 3));
        assert_eq!(a.blocks[0].output_len(128), 64);
        assert_eq!(a.dense_input(), 40);
        assert_eq!(a.clone().with_head(Head::Flatten).dense_input(), 32 * 8 + 8);
        assert_eq!(ArchConfig::beat_csv_187().dense_input(), 32);
        assert_eq!(ArchConfig::rr_default().dense_input(), 10);
    }

    #[test]
    fn bad_architectures_are_rejected() {
        let mut a = ArchConfig::beat_default();
        a.blocks[1].stride = 0;
        assert!(a.validate().is_err());
        let mut a = ArchConfig::beat_default();
        a.input_len = 0;
        assert!(a.validate().is_err(), "channels without length");
        let mut a = ArchConfig::beat_default();
        a.classes.clear();
        assert!(a.validate().is_err());
        let mut a = ArchConfig::beat_default();
        a.dropout = 1.0;
        assert!(a.validate().is_err());
        let mut a = ArchConfig::rr_default();
        a.n_features = 0;
        assert!(a.validate().is_err());
    }
}
