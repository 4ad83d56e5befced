/*
 * snnm: int8 inference of Sinus `.snnm` models in C99 (see snnm.h for the arithmetic).
 *
 * The parser mirrors crates/sinus-core/src/nn/format.rs check for check, so that a model one
 * accepts the other accepts too; the kernels are the plain loops (the Rust kernels are tiled
 * for speed, but wrapping int32 sums are order-independent, so the bits are the same).
 */
#include "snnm.h"

#include <string.h>

#define MAX_ACTIVATION ((size_t)1 << 20)

struct reader {
    const uint8_t *b;
    size_t len, pos;
    int err;
};

static const uint8_t *take(struct reader *r, size_t n) {
    const uint8_t *p;
    if (r->err || n > r->len - r->pos) {
        r->err = SNNM_ERR_TRUNCATED;
        return NULL;
    }
    p = r->b + r->pos;
    r->pos += n;
    return p;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static size_t rd_u8(struct reader *r) {
    const uint8_t *p = take(r, 1);
    return p ? p[0] : 0;
}

static size_t rd_u16(struct reader *r) {
    const uint8_t *p = take(r, 2);
    return p ? (size_t)(p[0] | p[1] << 8) : 0;
}

static int32_t rd_i16(struct reader *r) {
    const uint8_t *p = take(r, 2);
    return p ? (int32_t)(int16_t)(uint16_t)(p[0] | p[1] << 8) : 0;
}

static uint32_t rd_u32(struct reader *r) {
    const uint8_t *p = take(r, 4);
    return p ? le32(p) : 0;
}

static float f32_from(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static float rd_f32(struct reader *r) {
    return f32_from(rd_u32(r));
}

static const uint8_t *skip(struct reader *r, size_t n, size_t size) {
    if (size != 0 && n > (size_t)-1 / size) {
        r->err = SNNM_ERR_TRUNCATED;
        return NULL;
    }
    return take(r, n * size);
}

static uint32_t crc32(const uint8_t *data, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        crc ^= data[i];
        for (k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

static int quant_ok(float scale, int32_t zp) {
    /* scale - scale == 0 rejects infinities and NaN without <math.h>. */
    return scale > 0.0f && scale - scale == 0.0f && zp >= -128 && zp <= 127;
}

int snnm_parse(struct snnm_model *m, const uint8_t *bytes, size_t len) {
    struct reader r;
    size_t ch, ln, i;
    int series, waveform;
    size_t meta_len;
    memset(m, 0, sizeof *m);
    if (len < 8 || memcmp(bytes, "SNNM", 4) != 0) {
        return SNNM_ERR_SIGNATURE;
    }
    if (crc32(bytes, len - 4) != le32(bytes + len - 4)) {
        return SNNM_ERR_CHECKSUM;
    }
    r.b = bytes;
    r.len = len - 4;
    r.pos = 4;
    r.err = 0;
    m->bytes = bytes;
    if (rd_u16(&r) != 1) {
        return r.err ? r.err : SNNM_ERR_UNSUPPORTED;
    }
    if (rd_u8(&r) != 1) { /* kind: only int8 here */
        return r.err ? r.err : SNNM_ERR_UNSUPPORTED;
    }
    rd_u8(&r);
    m->input_channels = rd_u16(&r);
    m->input_len = rd_u16(&r);
    m->n_features = rd_u16(&r);
    m->n_classes = rd_u16(&r);
    if (r.err) {
        return r.err;
    }
    if (m->n_features > SNNM_MAX_FEATURES || m->n_classes == 0 ||
        m->n_classes > SNNM_MAX_CLASSES) {
        return SNNM_ERR_UNSUPPORTED;
    }
    {
        const uint8_t *c = take(&r, m->n_classes);
        if (c) {
            memcpy(m->classes, c, m->n_classes);
        }
    }
    m->feature_mean = skip(&r, m->n_features, 4);
    m->feature_scale = skip(&r, m->n_features, 4);
    meta_len = rd_u32(&r);
    skip(&r, meta_len, 1);
    m->input_scale = rd_f32(&r);
    m->input_zp = rd_i16(&r);
    m->feature_scale_q = rd_f32(&r);
    m->feature_zp = rd_i16(&r);
    m->n_layers = rd_u16(&r);
    if (r.err) {
        return r.err;
    }
    if (!quant_ok(m->input_scale, m->input_zp) ||
        (m->n_features > 0 && !quant_ok(m->feature_scale_q, m->feature_zp))) {
        return SNNM_ERR_MALFORMED;
    }
    if (m->n_layers == 0 || m->n_layers > SNNM_MAX_LAYERS) {
        return SNNM_ERR_UNSUPPORTED;
    }
    waveform = m->input_channels > 0 && m->input_len > 0;
    if (waveform) {
        ch = m->input_channels;
        ln = m->input_len;
        series = 1;
    } else {
        ch = 0;
        ln = 1;
        series = 0;
        m->input_channels = 0;
        m->input_len = 0;
    }
    if (ch * ln > MAX_ACTIVATION) { /* both below 2^16: no overflow */
        return SNNM_ERR_SHAPE;
    }
    m->max_activation = ch * ln;
    for (i = 0; i < m->n_layers; i++) {
        struct snnm_layer *d = &m->layers[i];
        size_t tag = rd_u8(&r);
        d->in_ch = ch;
        d->in_len = ln;
        d->in_size = ch * ln;
        switch (tag) {
        case 1: {
            size_t cin = rd_u16(&r), cout = rd_u16(&r), k = rd_u16(&r), s = rd_u16(&r);
            size_t pl = rd_u16(&r), pr = rd_u16(&r), g = rd_u16(&r), act = rd_u8(&r);
            if (r.err) {
                return r.err;
            }
            if (act > 1) {
                return SNNM_ERR_MALFORMED;
            }
            if (!series || cin != ch || g == 0 || cin % g != 0 || cout % g != 0 || k == 0 ||
                s == 0 || ln + pl + pr < k) {
                return SNNM_ERR_SHAPE;
            }
            d->kind = SNNM_CONV1D;
            d->relu = (int)act;
            d->out_ch = cout;
            d->kernel = k;
            d->stride = s;
            d->pad_left = pl;
            d->groups = g;
            d->out_len = (ln + pl + pr - k) / s + 1;
            ch = cout;
            ln = d->out_len;
            break;
        }
        case 2: {
            size_t k = rd_u16(&r), s = rd_u16(&r);
            if (r.err) {
                return r.err;
            }
            if (!series || k == 0 || s == 0 || ln < k) {
                return SNNM_ERR_SHAPE;
            }
            d->kind = SNNM_MAXPOOL1D;
            d->kernel = k;
            d->stride = s;
            d->out_ch = ch;
            d->out_len = (ln - k) / s + 1;
            ln = d->out_len;
            break;
        }
        case 3:
        case 4:
            if (!series) {
                return SNNM_ERR_SHAPE;
            }
            d->kind = (int)tag;
            d->out_ch = tag == 3 ? ch : ch * ln;
            d->out_len = 1;
            ch = d->out_ch;
            ln = 1;
            series = 0;
            break;
        case 5:
            if (series) {
                return SNNM_ERR_SHAPE;
            }
            d->kind = SNNM_CONCAT;
            d->out_ch = ch + m->n_features;
            d->out_len = 1;
            ch = d->out_ch;
            break;
        case 6: {
            size_t in = rd_u16(&r), out = rd_u16(&r), act = rd_u8(&r);
            if (r.err) {
                return r.err;
            }
            if (act > 1) {
                return SNNM_ERR_MALFORMED;
            }
            if (series || in != ch || out == 0) {
                return SNNM_ERR_SHAPE;
            }
            d->kind = SNNM_DENSE;
            d->relu = (int)act;
            d->out_ch = out;
            d->out_len = 1;
            ch = out;
            break;
        }
        default:
            return r.err ? r.err : SNNM_ERR_MALFORMED;
        }
        /* ch < 2^17 and ln < 2^17 here: the product fits 64 bits, and is checked. */
        if ((unsigned long long)ch * ln > MAX_ACTIVATION) {
            return SNNM_ERR_SHAPE;
        }
        d->out_size = ch * ln;
        if (d->out_size > m->max_activation) {
            m->max_activation = d->out_size;
        }
        if (d->kind == SNNM_CONV1D || d->kind == SNNM_DENSE || d->kind == SNNM_CONCAT) {
            float scale = rd_f32(&r);
            d->out_zp = rd_i16(&r);
            if (r.err) {
                return r.err;
            }
            if (!quant_ok(scale, d->out_zp)) {
                return SNNM_ERR_MALFORMED;
            }
        }
        if (d->kind == SNNM_CONV1D || d->kind == SNNM_DENSE) {
            size_t n = d->kind == SNNM_CONV1D ? d->out_ch * (d->in_ch / d->groups) * d->kernel
                                              : d->out_ch * d->in_ch;
            size_t o;
            d->weights = skip(&r, n, 1);
            d->channels = skip(&r, d->out_ch, 9);
            if (r.err) {
                return r.err;
            }
            for (o = 0; o < d->out_ch; o++) {
                int8_t shift = (int8_t)d->channels[9 * o + 8];
                if (shift < -30 || shift > 30) {
                    return SNNM_ERR_MALFORMED;
                }
            }
        }
        if (d->kind == SNNM_CONCAT) {
            int j;
            for (j = 0; j < 2; j++) {
                d->concat_mult[j] = (int32_t)rd_u32(&r);
                d->concat_shift[j] = (int8_t)rd_u8(&r);
                if (d->concat_shift[j] < -30 || d->concat_shift[j] > 30) {
                    return r.err ? r.err : SNNM_ERR_MALFORMED;
                }
            }
        }
        if (r.err) {
            return r.err;
        }
    }
    if (series || ch != m->n_classes) {
        return SNNM_ERR_SHAPE;
    }
    if (r.pos != r.len) {
        return SNNM_ERR_MALFORMED;
    }
    return SNNM_OK;
}

size_t snnm_scratch_len(const struct snnm_model *m) {
    return 2 * m->max_activation + m->n_features;
}

size_t snnm_argmax(const int8_t *logits, size_t n) {
    size_t i, best = 0;
    for (i = 1; i < n; i++) {
        if (logits[i] > logits[best]) {
            best = i;
        }
    }
    return best;
}

const char *snnm_status_text(int status) {
    switch (status) {
    case SNNM_OK:
        return "ok";
    case SNNM_ERR_SIGNATURE:
        return "no SNNM signature";
    case SNNM_ERR_CHECKSUM:
        return "CRC-32 mismatch (file damaged)";
    case SNNM_ERR_TRUNCATED:
        return "model ends inside a field";
    case SNNM_ERR_UNSUPPORTED:
        return "unsupported model (version, not int8, or limits)";
    case SNNM_ERR_SHAPE:
        return "inconsistent model shapes";
    case SNNM_ERR_MALFORMED:
        return "malformed model";
    case SNNM_ERR_SCRATCH:
        return "scratch buffer too small";
    default:
        return "unknown status";
    }
}

/* round(x / scale) + zp, halves away from zero, saturated; as sinus_core's `quantise`. */
static int8_t quantise(float x, float scale, int32_t zp) {
    float v = x / scale, frac;
    int32_t t, q;
    if (v != v) {
        return (int8_t)(zp < -128 ? -128 : zp > 127 ? 127 : zp);
    }
    if (v < -1.0e6f) {
        v = -1.0e6f;
    }
    if (v > 1.0e6f) {
        v = 1.0e6f;
    }
    t = (int32_t)v;
    frac = v - (float)t;
    q = t + (frac >= 0.5f) - (frac <= -0.5f) + zp;
    return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
}

/* Requantise an accumulator: (acc * mult + 2^(t-1)) >> t, t = 31 + shift, clamped to int32.
 * The shift of a negative int64 is arithmetic on every compiler this targets; it is written
 * as a floor division to stay defined in C99 anyway. */
static int32_t requant(int32_t acc, int32_t mult, int32_t shift) {
    int t = 31 + shift;
    int64_t v, d, q;
    if (t < 1) {
        t = 1;
    }
    if (t > 62) {
        t = 62;
    }
    v = (int64_t)acc * mult + ((int64_t)1 << (t - 1));
    d = (int64_t)1 << t;
    q = v / d;
    if (v % d != 0 && v < 0) {
        q -= 1; /* floor, as >> */
    }
    if (q > INT32_MAX) {
        return INT32_MAX;
    }
    if (q < INT32_MIN) {
        return INT32_MIN;
    }
    return (int32_t)q;
}

static int8_t sat8(int64_t v, int64_t lo) {
    return (int8_t)(v < lo ? lo : v > 127 ? 127 : v);
}

/* Wrapping int32 addition (signed overflow is undefined in C: add as unsigned). */
static int32_t wadd(int32_t a, int32_t b) {
    uint32_t s = (uint32_t)a + (uint32_t)b;
    return s <= INT32_MAX ? (int32_t)s : (int32_t)(s - 0x80000000u) + INT32_MIN;
}

static int32_t channel_i32(const uint8_t *c, size_t o, size_t at) {
    return (int32_t)le32(c + 9 * o + at);
}

static int8_t output(const struct snnm_layer *d, size_t o, int32_t acc) {
    int32_t mult = channel_i32(d->channels, o, 4);
    int32_t shift = (int8_t)d->channels[9 * o + 8];
    int64_t lo = d->relu ? d->out_zp : -128;
    return sat8((int64_t)requant(acc, mult, shift) + d->out_zp, lo);
}

static void conv1d(const struct snnm_layer *d, int32_t in_zp, const int8_t *x, int8_t *y) {
    size_t cin_g = d->in_ch / d->groups, cout_g = d->out_ch / d->groups;
    size_t o, t, ci, tap;
    for (o = 0; o < d->out_ch; o++) {
        const int8_t *xg = x + (o / cout_g) * cin_g * d->in_len;
        const int8_t *w = (const int8_t *)d->weights + o * cin_g * d->kernel;
        int32_t bias = channel_i32(d->channels, o, 0);
        for (t = 0; t < d->out_len; t++) {
            int32_t acc = bias;
            for (ci = 0; ci < cin_g; ci++) {
                for (tap = 0; tap < d->kernel; tap++) {
                    size_t p = t * d->stride + tap;
                    if (p < d->pad_left || p - d->pad_left >= d->in_len) {
                        continue; /* padding: the zero point, adds nothing */
                    }
                    acc = wadd(acc, (int32_t)w[ci * d->kernel + tap] *
                                        ((int32_t)xg[ci * d->in_len + p - d->pad_left] - in_zp));
                }
            }
            y[o * d->out_len + t] = output(d, o, acc);
        }
    }
}

static void dense(const struct snnm_layer *d, int32_t in_zp, const int8_t *x, int8_t *y) {
    size_t o, i;
    for (o = 0; o < d->out_ch; o++) {
        const int8_t *w = (const int8_t *)d->weights + o * d->in_ch;
        int32_t acc = channel_i32(d->channels, o, 0);
        for (i = 0; i < d->in_ch; i++) {
            acc = wadd(acc, (int32_t)w[i] * ((int32_t)x[i] - in_zp));
        }
        y[o] = output(d, o, acc);
    }
}

int snnm_run(const struct snnm_model *m, const float *waveform, const float *features,
             int8_t *scratch, size_t scratch_len, int8_t *logits) {
    size_t n = m->max_activation, i, l;
    int8_t *src, *dst, *feats, *tmp;
    int32_t zp = m->input_zp;
    if (scratch_len < snnm_scratch_len(m)) {
        return SNNM_ERR_SCRATCH;
    }
    src = scratch;
    dst = scratch + n;
    feats = scratch + 2 * n;
    for (i = 0; i < m->n_features; i++) {
        float mean = f32_from(le32(m->feature_mean + 4 * i));
        float scale = f32_from(le32(m->feature_scale + 4 * i));
        /* (x - mean) * scale in float32 with two roundings, as in Rust: the volatile store
         * keeps a compiler from fusing them into one multiply-add (GCC does so by default
         * outside ISO mode on targets with FMA). */
        volatile float centred = features[i] - mean;
        float norm = centred * scale;
        feats[i] = quantise(norm, m->feature_scale_q, m->feature_zp);
    }
    for (i = 0; i < m->input_channels * m->input_len; i++) {
        src[i] = quantise(waveform[i], m->input_scale, m->input_zp);
    }
    for (l = 0; l < m->n_layers; l++) {
        const struct snnm_layer *d = &m->layers[l];
        size_t c, t;
        switch (d->kind) {
        case SNNM_CONV1D:
            conv1d(d, zp, src, dst);
            break;
        case SNNM_DENSE:
            dense(d, zp, src, dst);
            break;
        case SNNM_MAXPOOL1D:
            for (c = 0; c < d->out_ch; c++) {
                for (t = 0; t < d->out_len; t++) {
                    const int8_t *w = src + c * d->in_len + t * d->stride;
                    int8_t best = w[0];
                    size_t k;
                    for (k = 1; k < d->kernel; k++) {
                        if (w[k] > best) {
                            best = w[k];
                        }
                    }
                    dst[c * d->out_len + t] = best;
                }
            }
            break;
        case SNNM_GLOBALAVGPOOL:
            for (c = 0; c < d->out_ch; c++) {
                int32_t s = 0, len = (int32_t)d->in_len, q;
                for (t = 0; t < d->in_len; t++) {
                    s += src[c * d->in_len + t]; /* |s| <= 128 * 2^16: no overflow */
                }
                /* Rounded division, half away from zero (C99 divides toward zero). */
                q = s >= 0 ? (s + len / 2) / len : (s - len / 2) / len;
                dst[c] = sat8(q, -128);
            }
            break;
        case SNNM_FLATTEN:
            memcpy(dst, src, d->out_size);
            break;
        case SNNM_CONCAT:
            for (i = 0; i < d->in_size; i++) {
                int32_t v = requant((int32_t)src[i] - zp, d->concat_mult[0], d->concat_shift[0]);
                dst[i] = sat8((int64_t)v + d->out_zp, -128);
            }
            for (i = 0; i < m->n_features; i++) {
                int32_t v = requant((int32_t)feats[i] - m->feature_zp, d->concat_mult[1],
                                    d->concat_shift[1]);
                dst[d->in_size + i] = sat8((int64_t)v + d->out_zp, -128);
            }
            break;
        default:
            return SNNM_ERR_MALFORMED;
        }
        if (d->kind == SNNM_CONV1D || d->kind == SNNM_DENSE || d->kind == SNNM_CONCAT) {
            zp = d->out_zp;
        }
        tmp = src;
        src = dst;
        dst = tmp;
    }
    memcpy(logits, src, m->n_classes);
    return SNNM_OK;
}
