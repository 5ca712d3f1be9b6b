/* edgecraft device loop in C; see ec_stream.h. */
#include "ec_stream.h"

#include <math.h> /* INFINITY only: no libm */
#include <string.h>

void ec_detector_init(ec_detector *d, const ec_post_config *cfg, float *history)
{
    d->cfg = cfg;
    d->history = history;
    d->last_time = -INFINITY;
    d->run_label = -1;
    d->run_count = 0;
    ec_detector_reset(d);
}

void ec_detector_reset(ec_detector *d)
{
    d->filled = 0;
    d->next = 0;
}

int ec_detector_update(ec_detector *d, double time_s, const float *scores, double *score)
{
    const ec_post_config *c = d->cfg;
    int labels = c->labels, len = c->smooth_len, best = -1, j, k;
    double best_avg = 0.0;
    memcpy(d->history + d->next * labels, scores, (uint32_t)labels * sizeof(float));
    d->next = (d->next + 1) % len;
    if (d->filled < len) d->filled++;
    int oldest = d->filled < len ? 0 : d->next;
    for (j = 0; j < labels; ++j) {
        if (!c->candidate[j]) continue;
        double sum = 0.0; /* oldest first, in float64, as PosteriorSmoother.update */
        for (k = 0; k < d->filled; ++k) sum += (double)d->history[((oldest + k) % len) * labels + j];
        double avg = sum / (double)d->filled;
        if (best < 0 || avg > best_avg) {
            best = j;
            best_avg = avg;
        }
    }
    *score = best_avg;
    if (best_avg < c->threshold) {
        d->run_label = -1;
        d->run_count = 0;
        return -1;
    }
    d->run_count = best == d->run_label ? d->run_count + 1 : 1;
    d->run_label = best;
    if (d->run_count < c->min_count) return -1;
    if (time_s - d->last_time < c->suppression_s) return -1;
    d->last_time = time_s;
    return best;
}

/* NumPy's pairwise summation: sequential below 8 values, eight partial sums combined pairwise
 * up to 128, halves (a multiple of 8 first) above. */
static float pairwise_sum(const float *x, int n)
{
    float res;
    int i;
    if (n < 8) {
        res = -0.0f;
        for (i = 0; i < n; ++i) res += x[i];
        return res;
    }
    if (n <= 128) {
        float r[8];
        for (i = 0; i < 8; ++i) r[i] = x[i];
        for (i = 8; i < n - (n % 8); i += 8) {
            for (int j = 0; j < 8; ++j) r[j] += x[i + j];
        }
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i) res += x[i];
        return res;
    }
    int half = n / 2;
    half -= half % 8;
    return pairwise_sum(x, half) + pairwise_sum(x + half, n - half);
}

float ec_numpy_sum(const float *x, int n)
{
    return 0.0f + pairwise_sum(x, n); /* the reduction starts from add's identity */
}

/* e**x for x <= 0 (softmax arguments) without libm: x = k ln2 + r, |r| <= ln2/2, a degree-7
 * Taylor polynomial for e**r and a power-of-two scale; within 2 ulp of expf. */
static float ec_exp_neg(float x)
{
    if (x < -87.0f) return 0.0f;
    int k = (int)(x * 1.44269504f - 0.5f);
    float r = x - (float)k * 0.693147181f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720 + r * (1.0f / 5040)))))));
    while (k < 0) { p *= 0.5f; ++k; }
    return p;
}

int8_t ec_quantize_int8(float x, float scale, int zero_point)
{
    float v = x / scale;
    if (v > 1e6f) v = 1e6f;
    if (v < -1e6f) v = -1e6f;
    int32_t i = (int32_t)v; /* toward zero; then round half to even as np.round */
    float frac = v - (float)i;
    if (frac > 0.5f || (frac == 0.5f && (i & 1))) ++i;
    else if (frac < -0.5f || (frac == -0.5f && (i & 1))) --i;
    i += zero_point;
    return (int8_t)(i < -128 ? -128 : i > 127 ? 127 : i);
}

void ec_scores_as_probabilities(float *scores, int n)
{
    float lo = scores[0], hi = scores[0];
    for (int i = 1; i < n; ++i) {
        if (scores[i] < lo) lo = scores[i];
        if (scores[i] > hi) hi = scores[i];
    }
    double off = (double)ec_numpy_sum(scores, n) - 1.0;
    if (!((double)lo < -1e-6 || off > 0.05 || off < -0.05)) return;
    for (int i = 0; i < n; ++i) scores[i] = ec_exp_neg(scores[i] - hi);
    float total = ec_numpy_sum(scores, n);
    for (int i = 0; i < n; ++i) scores[i] = scores[i] / total;
}

int ec_argmax(const float *scores, int n)
{
    int best = 0;
    for (int i = 1; i < n; ++i) {
        if (scores[i] > scores[best]) best = i;
    }
    return best;
}

void ec_windower_init(ec_windower *w, int window, int stride, int sample_bytes, uint8_t *buf)
{
    w->window = window;
    w->stride = stride;
    w->sample_bytes = sample_bytes;
    w->buf = buf;
    w->filled = 0;
    w->skip = 0;
    w->total = 0;
}

void ec_windower_push(ec_windower *w, const void *samples, int n, ec_window_fn fn, void *ctx)
{
    const uint8_t *src = (const uint8_t *)samples;
    int size = w->sample_bytes;
    while (n > 0) {
        if (w->skip > 0) { /* stride longer than the window: these samples are in no window */
            int drop = n < w->skip ? n : w->skip;
            w->skip -= drop;
            w->total += (uint32_t)drop;
            src += drop * size;
            n -= drop;
            continue;
        }
        int take = w->window - w->filled;
        if (take > n) take = n;
        memcpy(w->buf + w->filled * size, src, (uint32_t)(take * size));
        w->filled += take;
        w->total += (uint32_t)take;
        src += take * size;
        n -= take;
        if (w->filled == w->window) {
            fn(ctx, w->total, w->buf);
            if (w->stride < w->window) {
                int keep = w->window - w->stride;
                memmove(w->buf, w->buf + w->stride * size, (uint32_t)(keep * size));
                w->filled = keep;
            } else {
                w->filled = 0;
                w->skip = w->stride - w->window;
            }
        }
    }
}
