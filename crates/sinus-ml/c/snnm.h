/*
 * snnm: int8 inference of Sinus `.snnm` beat-classifier models in C99.
 *
 * A C implementation of `sinus_core::nn::QuantModel` (crates/sinus-core/src/nn/quant.rs),
 * written for firmware that is not in Rust: it parses the same bytes (layout documented in
 * crates/sinus-core/src/nn/format.rs), checks every size and the CRC-32 before use, and gives
 * the same int8 logits to the bit. No allocation, no globals: the model is read in place (it
 * can sit in flash) and the caller provides a scratch buffer.
 *
 * Arithmetic (the definition the Rust kernels follow):
 * - input:  q = round_half_away(x / scale) + zero_point, saturated to int8 (NaN -> zero point),
 *           in float32; features are first normalised as (x - mean) * scale, in float32;
 * - linear: acc = bias + sum w * (x - in_zp) in wrapping int32 arithmetic, over the taps inside
 *           the input (padding holds the zero point, so it adds nothing);
 * - requant: (acc * multiplier + 2^(t-1)) >> t with t = 31 + shift, in int64 (one rounding,
 *           half up), then + out_zp and clamped to [lo, 127], lo = out_zp after ReLU, else -128;
 * - average: sum over time, divided by the length rounding half away from zero;
 * - concat:  each part requantised as above from its own zero point to the output's.
 */
#ifndef SINUS_SNNM_H
#define SINUS_SNNM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SNNM_MAX_LAYERS 32
#define SNNM_MAX_CLASSES 16
#define SNNM_MAX_FEATURES 64

/* Layer kinds, as the tags of the format. */
enum snnm_kind {
    SNNM_CONV1D = 1,
    SNNM_MAXPOOL1D = 2,
    SNNM_GLOBALAVGPOOL = 3,
    SNNM_FLATTEN = 4,
    SNNM_CONCAT = 5,
    SNNM_DENSE = 6
};

/* Error codes (0 is success). */
enum snnm_status {
    SNNM_OK = 0,
    SNNM_ERR_SIGNATURE = 1, /* not an SNNM file */
    SNNM_ERR_CHECKSUM = 2,  /* CRC-32 mismatch */
    SNNM_ERR_TRUNCATED = 3, /* ends inside a field */
    SNNM_ERR_UNSUPPORTED = 4, /* version, kind (not int8) or limits */
    SNNM_ERR_SHAPE = 5,     /* layers that do not fit together */
    SNNM_ERR_MALFORMED = 6, /* bad codes, bytes after the last layer, bad quantisation */
    SNNM_ERR_SCRATCH = 7    /* scratch buffer too small */
};

struct snnm_layer {
    int kind;
    size_t in_ch, out_ch, in_len, out_len, kernel, stride, pad_left, groups;
    int relu;
    size_t in_size, out_size;
    const uint8_t *weights;  /* int8, out x (in/groups) x kernel (dense: out x in) */
    const uint8_t *channels; /* per output: i32 bias, i32 multiplier, i8 shift (LE) */
    int32_t out_zp;
    int32_t concat_mult[2];
    int32_t concat_shift[2];
};

struct snnm_model {
    const uint8_t *bytes;
    size_t input_channels, input_len, n_features, n_classes;
    char classes[SNNM_MAX_CLASSES];
    const uint8_t *feature_mean, *feature_scale; /* f32 LE x n_features */
    float input_scale, feature_scale_q;
    int32_t input_zp, feature_zp;
    size_t n_layers;
    size_t max_activation;
    struct snnm_layer layers[SNNM_MAX_LAYERS];
};

/* Parse and check an int8 model of `len` bytes (the CRC included). `bytes` must stay valid. */
int snnm_parse(struct snnm_model *m, const uint8_t *bytes, size_t len);

/* Bytes of scratch space snnm_run needs. */
size_t snnm_scratch_len(const struct snnm_model *m);

/* Run one beat: `waveform` input_channels x input_len floats (channel-major), `features`
 * n_features raw features, `logits` n_classes int8 outputs. */
int snnm_run(const struct snnm_model *m, const float *waveform, const float *features,
             int8_t *scratch, size_t scratch_len, int8_t *logits);

/* Index of the largest logit (the first on ties). */
size_t snnm_argmax(const int8_t *logits, size_t n);

/* A short English description of a status code. */
const char *snnm_status_text(int status);

#ifdef __cplusplus
}
#endif

#endif
