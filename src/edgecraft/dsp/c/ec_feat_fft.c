/* Radix-2 FFT and int8 quantization shared by the edgecraft front ends. */
#include <math.h>

#include "ec_features.h"

void ec_fft(float *re, float *im, int n, const float *cos_t, const float *sin_t)
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
    /* butterflies: twiddle exp(-2 pi i k / len) = cos_t[k * n / len] - i sin_t[k * n / len] */
    for (len = 2; len <= n; len <<= 1) {
        int half = len >> 1;
        int step = n / len;
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

void ec_quantize_i8(const float *x, int n, float scale, int zero_point, int8_t *q)
{
    int i;
    for (i = 0; i < n; i++) {
        /* rintf rounds half to even in the default rounding mode, like numpy.round */
        float v = rintf(x[i] / scale) + (float)zero_point;
        if (v < -128.0f) {
            v = -128.0f;
        }
        if (v > 127.0f) {
            v = 127.0f;
        }
        q[i] = (int8_t)v;
    }
}
