/* What the edgecraft front ends share: a radix-2 FFT, int8 quantization, and the three bits of
 * float math they need (square root, natural log, round half to even) written out so the twins
 * need no libm and give the same bits on every IEEE-754 single-precision target. */
#include "ec_features.h"

float ec_sqrtf(float x)
{
    union { float f; uint32_t u; } v;
    float y;
    int i;
    if (!(x > 0.0f)) {
        return 0.0f;
    }
    v.f = x;
    v.u = 0x5f375a86u - (v.u >> 1); /* 1/sqrt(x) within about 3.5 % */
    y = v.f;
    for (i = 0; i < 3; i++) { /* Newton steps for 1/sqrt, multiplications only */
        y = y * (1.5f - 0.5f * x * y * y);
    }
    return x * y;
}

float ec_logf(float x)
{
    union { float f; uint32_t u; } v;
    float m, s, s2, poly, e;
    int exponent;
    if (!(x > 0.0f)) {
        return -3.0e38f; /* log(0): "minus infinity" without <math.h> */
    }
    v.f = x;
    exponent = (int)((v.u >> 23) & 0xffu) - 127;
    if (exponent == -127) { /* subnormal input: not reached by the front ends' offsets */
        return -87.3365f;
    }
    v.u = (v.u & 0x007fffffu) | 0x3f800000u; /* mantissa in [1, 2) */
    m = v.f;
    if (m > 1.41421356f) { /* keep m in [sqrt(1/2), sqrt(2)) so |s| <= 0.172 */
        m *= 0.5f;
        exponent += 1;
    }
    /* log(m) = 2 atanh(s), s = (m - 1) / (m + 1) */
    s = (m - 1.0f) / (m + 1.0f);
    s2 = s * s;
    poly = 1.0f + s2 * (1.0f / 3.0f + s2 * (1.0f / 5.0f + s2 * (1.0f / 7.0f + s2 * (1.0f / 9.0f))));
    e = (float)exponent;
    /* ln 2 split in two so e * ln 2 keeps its precision */
    return e * 0.693359375f + (2.0f * s * poly + e * -2.12194440e-4f);
}

float ec_roundf_even(float x)
{
    const float big = 8388608.0f; /* 2^23: adding it leaves no fraction bits */
    if (x >= big || x <= -big) {
        return x;
    }
    return x >= 0.0f ? (x + big) - big : (x - big) + big;
}

/* complex FFT of n points whose twiddles are every stride-th entry of the tables */
static void ec_fft_strided(float *re, float *im, int n, const float *cos_t, const float *sin_t, int stride)
{
    int i, j, k, len;
    /* bit-reversal permutation */
    for (i = 1, j = 0; i < n; i++) {
        int bit = n >> 1;
        for (; j & bit; bit >>= 1) {
            j ^= bit;
        }
        j ^= bit;
        if (i < j) {
            float t = re[i];
            re[i] = re[j];
            re[j] = t;
            t = im[i];
            im[i] = im[j];
            im[j] = t;
        }
    }
    /* butterflies: twiddle exp(-2 pi i k / len) = cos_t[k * step] - i sin_t[k * step] */
    for (len = 2; len <= n; len <<= 1) {
        int half = len >> 1;
        int step = (n / len) * stride;
        for (i = 0; i < n; i += len) {
            for (k = 0; k < half; k++) {
                float wr = cos_t[k * step];
                float wi = -sin_t[k * step];
                int a = i + k;
                int b = a + half;
                float tr = re[b] * wr - im[b] * wi;
                float ti = re[b] * wi + im[b] * wr;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
            }
        }
    }
}

void ec_fft(float *re, float *im, int n, const float *cos_t, const float *sin_t)
{
    ec_fft_strided(re, im, n, cos_t, sin_t, 1);
}

void ec_rfft(float *re, float *im, int n, const float *cos_t, const float *sin_t)
{
    int h = n / 2, j, k;
    /* pack: z[j] = x[2j] + i x[2j+1] (in place: position 2j is read before anything writes it) */
    for (j = 0; j < h; j++) {
        im[j] = re[2 * j + 1];
        re[j] = re[2 * j];
    }
    ec_fft_strided(re, im, h, cos_t, sin_t, 2);
    /* split: X[k] = E[k] + W^k O[k], E = (Z[k] + conj Z[h-k]) / 2, O = (Z[k] - conj Z[h-k]) / 2i,
     * W = exp(-2 pi i / n); k and h - k are done together (E[h-k] = conj E[k], O[h-k] = conj O[k]) */
    {
        float r0 = re[0], i0 = im[0];
        re[0] = r0 + i0;
        im[0] = 0.0f;
        re[h] = r0 - i0;
        im[h] = 0.0f;
    }
    for (k = 1; k <= h / 2; k++) {
        int m = h - k;
        float ar = re[k], ai = im[k], br = re[m], bi = im[m];
        float er = 0.5f * (ar + br), ei = 0.5f * (ai - bi);   /* E[k] */
        float or_ = 0.5f * (ai + bi), oi = 0.5f * (br - ar);  /* O[k] */
        float wr = cos_t[k], wi = -sin_t[k];                  /* W^k */
        float tr = wr * or_ - wi * oi, ti = wr * oi + wi * or_;
        re[k] = er + tr;
        im[k] = ei + ti;
        if (m != k) {
            /* X[h-k] = conj E[k] + W^(h-k) conj O[k], W^(h-k) = -conj W^k */
            float ur = -wr, ui = wi;
            float sr = ur * or_ + ui * oi, si = ui * or_ - ur * oi;
            re[m] = er + sr;
            im[m] = -ei + si;
        }
    }
}

void ec_quantize_i8(const float *x, int n, float scale, int zero_point, int8_t *q)
{
    int i;
    for (i = 0; i < n; i++) {
        /* half to even, like numpy.round */
        float v = ec_roundf_even(x[i] / scale) + (float)zero_point;
        if (v < -128.0f) {
            v = -128.0f;
        }
        if (v > 127.0f) {
            v = 127.0f;
        }
        q[i] = (int8_t)v;
    }
}
