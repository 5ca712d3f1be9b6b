/* micro_speech front end in integer arithmetic: the C twin of edgecraft.dsp.micro_speech
 * (TFLite Micro's micro_speech audio preprocessor, bit for bit). No floating point at all;
 * every table (window, twiddles, filter bank, gain and log tables) comes from the generated
 * config. Values are stored as C stores them: int16 results wrap, shifts of negative values are
 * arithmetic (as GCC and Clang do on every target edgecraft builds for). */
#include "ec_features.h"

static int16_t wrap16(int32_t x)
{
    return (int16_t)(uint16_t)(uint32_t)x;
}

static int16_t q15_round(int32_t x)
{
    return wrap16((x + (1 << 14)) >> 15);
}

static uint32_t bit_length(uint32_t x)
{
    return x ? 32u - (uint32_t)__builtin_clz(x) : 32u; /* 32 for 0, as TFLM's GCC build */
}

/* ---- Q15 FFT: radix 4 while 4 divides, then 2; each butterfly divides by its radix ---------- */
typedef struct {
    int16_t r;
    int16_t i;
} ec_c16;

static ec_c16 c_div(ec_c16 a, int radix)
{
    int32_t k = 32767 / radix;
    ec_c16 o;
    o.r = q15_round(a.r * k);
    o.i = q15_round(a.i * k);
    return o;
}

static ec_c16 c_mul(ec_c16 a, const int16_t *w)
{
    ec_c16 o;
    o.r = q15_round((int32_t)a.r * w[0] - (int32_t)a.i * w[1]);
    o.i = q15_round((int32_t)a.r * w[1] + (int32_t)a.i * w[0]);
    return o;
}

static ec_c16 c_add(ec_c16 a, ec_c16 b)
{
    ec_c16 o;
    o.r = wrap16(a.r + b.r);
    o.i = wrap16(a.i + b.i);
    return o;
}

static ec_c16 c_sub(ec_c16 a, ec_c16 b)
{
    ec_c16 o;
    o.r = wrap16(a.r - b.r);
    o.i = wrap16(a.i - b.i);
    return o;
}

/* out[0..len) = DFT of in[0], in[stride], ... (len points); tw: the top-level table, step fstride */
static void fft_rec(const int16_t *tw, ec_c16 *out, const ec_c16 *in, int len, int stride)
{
    int p = (len % 4 == 0) ? 4 : 2;
    int m = len / p;
    int k;
    if (m == 1) {
        for (k = 0; k < p; k++) {
            out[k] = in[k * stride];
        }
    } else {
        for (k = 0; k < p; k++) {
            fft_rec(tw, out + k * m, in + k * stride, m, stride * p);
        }
    }
    for (k = 0; k < m; k++) {
        if (p == 2) {
            ec_c16 a = c_div(out[k], 2);
            ec_c16 t = c_mul(c_div(out[k + m], 2), tw + 2 * (k * stride));
            out[k + m] = c_sub(a, t);
            out[k] = c_add(a, t);
        } else {
            ec_c16 a0 = c_div(out[k], 4);
            ec_c16 s0 = c_mul(c_div(out[k + m], 4), tw + 2 * (k * stride));
            ec_c16 s1 = c_mul(c_div(out[k + 2 * m], 4), tw + 2 * (2 * k * stride));
            ec_c16 s2 = c_mul(c_div(out[k + 3 * m], 4), tw + 2 * (3 * k * stride));
            ec_c16 s5 = c_sub(a0, s1);
            ec_c16 s3, s4;
            a0 = c_add(a0, s1);
            s3 = c_add(s0, s2);
            s4 = c_sub(s0, s2);
            out[k + 2 * m] = c_sub(a0, s3);
            out[k] = c_add(a0, s3);
            out[k + m].r = wrap16(s5.r + s4.i);
            out[k + m].i = wrap16(s5.i - s4.r);
            out[k + 3 * m].r = wrap16(s5.r - s4.i);
            out[k + 3 * m].i = wrap16(s5.i + s4.r);
        }
    }
}

/* real FFT of fft_size int16 samples -> bins 0..fft_size/2 in spec[] */
static void rfft_q15(const ec_micro_config *cfg, const int16_t *x, ec_c16 *tmp, ec_c16 *spec)
{
    int n = cfg->fft_size / 2;
    int k;
    ec_c16 dc;
    fft_rec(cfg->twiddles, tmp, (const ec_c16 *)(const void *)x, n, 1);
    dc = c_div(tmp[0], 2);
    spec[0].r = wrap16(dc.r + dc.i);
    spec[0].i = 0;
    spec[n].r = wrap16(dc.r - dc.i);
    spec[n].i = 0;
    for (k = 1; k <= n / 2; k++) {
        ec_c16 a = c_div(tmp[k], 2);
        ec_c16 b, f1, f2, t;
        b.r = tmp[n - k].r;
        b.i = wrap16(-tmp[n - k].i);
        b = c_div(b, 2);
        f1 = c_add(a, b);
        f2 = c_sub(a, b);
        t = c_mul(f2, cfg->super_twiddles + 2 * (k - 1));
        spec[k].r = wrap16((f1.r + t.r) >> 1);
        spec[k].i = wrap16((f1.i + t.i) >> 1);
        spec[n - k].r = wrap16((f1.r - t.r) >> 1);
        spec[n - k].i = wrap16((t.i - f1.i) >> 1);
    }
}

/* ---- integer helpers ------------------------------------------------------------------------ */

/* floor square root, plus one when the remainder exceeds it (not past 0xFFFF below 2^32) */
static uint32_t sqrt_round(uint64_t v)
{
    uint64_t rem = v, root = 0, bit;
    uint64_t cap = (v >> 32) ? 0xFFFFFFFFu : 0xFFFFu;
    int top = 62;
    if (v == 0) {
        return 0;
    }
    while (top > 0 && (v >> top) == 0) {
        top -= 2;
    }
    for (bit = (uint64_t)1 << top; bit; bit >>= 2) {
        if (rem >= root + bit) {
            rem -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
    }
    if (rem > root && root != cap) {
        root++;
    }
    return (uint32_t)root;
}

static int16_t pcan_gain(uint32_t x, const int16_t *lut)
{
    uint32_t interval;
    const int16_t *seg;
    int32_t frac, r;
    if (x <= 2) {
        return lut[x];
    }
    interval = bit_length(x);
    seg = lut + 4 * interval - 6;
    frac = (int32_t)(((interval < 11) ? (x << (11 - interval)) : (x >> (interval - 11))) & 0x3FF);
    r = ((int32_t)seg[2] * frac) >> 5;
    r = (int32_t)((uint32_t)r + ((uint32_t)(int32_t)seg[1] << 5));
    r = (int32_t)((uint32_t)r * (uint32_t)frac);
    r = (int32_t)((uint32_t)r + (1u << 14)) >> 15;
    return wrap16(r + seg[0]);
}

static uint32_t log_scaled(const ec_micro_config *cfg, uint32_t x, uint32_t out_scale)
{
    uint32_t integer = bit_length(x) - 1;
    int32_t frac = (int32_t)(x - (1u << integer));
    int32_t seg, c0, c1, rel;
    uint32_t log2v, loge;
    frac = integer < 16 ? frac << (16 - integer) : frac >> (integer - 16);
    seg = frac >> 9;
    c0 = cfg->log_lut[seg];
    c1 = cfg->log_lut[seg + 1];
    rel = ((c1 - c0) * (frac - 512 * seg)) >> 16;
    log2v = (integer << 16) + (uint32_t)(frac + c0 + rel);
    loge = (uint32_t)(((uint64_t)45426 * log2v + 32768u) >> 16);
    return (out_scale * loge + 32768u) >> 16;
}

/* ---- one frame ------------------------------------------------------------------------------ */

void ec_micro_reset(const ec_micro_config *cfg, uint32_t *noise)
{
    int i;
    for (i = 0; i < cfg->num_channels; i++) {
        noise[i] = 0;
    }
}

void ec_micro_frame(const ec_micro_config *cfg, const int16_t *frame, int32_t *scratch, uint32_t *noise,
                    int8_t *out)
{
    int16_t *x = (int16_t *)(void *)scratch;                                /* [fft_size] */
    ec_c16 *tmp = (ec_c16 *)(void *)(scratch + cfg->fft_size / 2);          /* [fft_size/2] */
    ec_c16 *spec = (ec_c16 *)(void *)(scratch + cfg->fft_size);             /* [fft_size/2 + 1] */
    uint32_t *energy = (uint32_t *)(scratch + 3 * cfg->fft_size / 2 + 1);   /* [energy_len] */
    int i, ch, j, shift;
    int16_t top = 0;
    uint64_t acc_w = 0, acc_u = 0;

    for (i = 0; i < cfg->window_samples; i++) {
        int32_t v = ((int32_t)frame[i] * cfg->window[i]) >> cfg->window_bits;
        x[i] = (int16_t)(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
    }
    for (i = 0; i < cfg->window_samples; i++) { /* TFLM's MaxAbs16, int16 running value */
        if (x[i] > top) {
            top = x[i];
        } else if (-x[i] > top) {
            top = wrap16(-x[i]);
        }
    }
    shift = 15 - (int)bit_length((uint32_t)(int32_t)top);
    if (shift < 0) {
        shift = 0;
    }
    for (i = 0; i < cfg->fft_size; i++) {
        x[i] = i < cfg->window_samples ? wrap16(x[i] * (1 << shift)) : 0;
    }
    rfft_q15(cfg, x, tmp, spec);
    for (i = 0; i < cfg->energy_len; i++) {
        energy[i] = 0;
        if (i >= cfg->start && i < cfg->end) {
            energy[i] = (uint32_t)((int32_t)spec[i].r * spec[i].r) + (uint32_t)((int32_t)spec[i].i * spec[i].i);
        }
    }
    for (ch = 0; ch <= cfg->num_channels; ch++) {
        const int16_t *w = cfg->weights + cfg->weight_starts[ch];
        const int16_t *u = cfg->unweights + cfg->weight_starts[ch];
        const uint32_t *e = energy + cfg->freq_starts[ch];
        for (j = 0; j < cfg->widths[ch]; j++) {
            acc_w += (uint64_t)(uint16_t)w[j] * e[j];
            acc_u += (uint64_t)(uint16_t)u[j] * e[j];
        }
        if (ch > 0) {
            int c = ch - 1;
            uint32_t sig = sqrt_round(acc_w) >> shift;
            uint32_t smooth = (c & 1) ? cfg->odd_smoothing : cfg->even_smoothing;
            uint32_t keep = (1u << cfg->subtraction_bits) - smooth;
            uint32_t up = sig << cfg->smoothing_bits;
            uint32_t est, floor_v, sub, gain, snr, scaled, v;
            int32_t q;
            noise[c] = (uint32_t)(((uint64_t)up * smooth + (uint64_t)noise[c] * keep) >> cfg->subtraction_bits);
            est = noise[c] > up ? up : noise[c];
            if (cfg->clamping) {
                noise[c] = est;
            }
            floor_v = (uint32_t)(((uint64_t)sig * cfg->min_signal) >> cfg->subtraction_bits);
            sub = (up - est) >> cfg->smoothing_bits;
            if (sub < floor_v) {
                sub = floor_v;
            }
            gain = (uint32_t)(int32_t)pcan_gain(noise[c], cfg->gain_lut);
            snr = (uint32_t)(((uint64_t)sub * gain) >> 6);
            v = snr < (2u << 12) ? (snr * snr) >> 20 : (snr >> 6) - 64u;
            scaled = v << cfg->correction_bits;
            v = scaled > 1 ? log_scaled(cfg, scaled, 1u << cfg->log_scale_bits) : 0;
            if (v > 32767u) {
                v = 32767u;
            }
            q = ((int32_t)v * 256 + cfg->output_div / 2) / cfg->output_div - 128;
            out[c] = (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
        }
        acc_w = acc_u;
        acc_u = 0;
    }
}

int ec_micro_num_frames(const ec_micro_config *cfg, int n)
{
    int len = cfg->clip_samples > 0 ? cfg->clip_samples : n;
    return len < cfg->window_samples ? 0 : 1 + (len - cfg->window_samples) / cfg->hop_samples;
}

int ec_micro_features(const ec_micro_config *cfg, const int16_t *pcm, int n, int32_t *scratch, int8_t *out)
{
    int frames = ec_micro_num_frames(cfg, n);
    uint32_t *noise = (uint32_t *)(scratch + EC_MICRO_SCRATCH(cfg) - cfg->num_channels);
    int16_t *frame = (int16_t *)(void *)(noise - (cfg->window_samples + 1) / 2);
    int avail = (cfg->clip_samples > 0 && cfg->clip_samples < n) ? cfg->clip_samples : n;
    int f, i;
    ec_micro_reset(cfg, noise);
    for (f = 0; f < frames; f++) {
        int start = f * cfg->hop_samples;
        for (i = 0; i < cfg->window_samples; i++) {
            frame[i] = start + i < avail ? pcm[start + i] : 0;
        }
        ec_micro_frame(cfg, frame, scratch, noise, out + f * cfg->num_channels);
    }
    return frames;
}
