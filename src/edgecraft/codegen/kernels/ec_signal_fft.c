/* SignalRfft int16, portable C99: the arithmetic of KISS FFT's 16-bit build as edgecraft's
 * runtime reproduces it (ops/kissfft16.py). The nfft/2-point complex FFT of the packed samples
 * (even ones real, odd ones imaginary) runs in place in the output row: the input in digit-
 * reversed order, then mixed radix stages (4 while it divides, then 2), innermost first; every
 * butterfly divides its inputs by the radix and every product rounds to Q15. A last pass splits
 * it into the nfft/2 + 1 bins of the real FFT. Sums wrap to int16 as C's conversions do. */
#include "ec_kernels.h"

static int16_t ec_q15_round(int32_t v) { return (int16_t)(uint16_t)(uint32_t)((v + (1 << 14)) >> 15); }

static int16_t ec_q15_div(int16_t v, int32_t radix) { return ec_q15_round(v * (32767 / radix)); }

static int16_t ec_w16(int32_t v) { return (int16_t)(uint16_t)(uint32_t)v; }

typedef struct {
  int16_t r, i;
} ec_c16;

static ec_c16 ec_c16_div(const int16_t *z, int32_t radix) {
  ec_c16 c = {ec_q15_div(z[0], radix), ec_q15_div(z[1], radix)};
  return c;
}

static ec_c16 ec_c16_mul(ec_c16 a, const int16_t *w) {
  ec_c16 c = {ec_q15_round(a.r * w[0] - a.i * w[1]), ec_q15_round(a.r * w[1] + a.i * w[0])};
  return c;
}

static void ec_radix2(int16_t *z, int32_t m, int32_t stride, const int16_t *tw) {
  for (int32_t k = 0; k < m; ++k) {
    int16_t *x0 = z + 2 * k, *x1 = z + 2 * (k + m);
    const ec_c16 a = ec_c16_div(x0, 2), t = ec_c16_mul(ec_c16_div(x1, 2), tw + 2 * k * stride);
    x0[0] = ec_w16(a.r + t.r);
    x0[1] = ec_w16(a.i + t.i);
    x1[0] = ec_w16(a.r - t.r);
    x1[1] = ec_w16(a.i - t.i);
  }
}

static void ec_radix4(int16_t *z, int32_t m, int32_t stride, const int16_t *tw, int32_t turn) {
  for (int32_t k = 0; k < m; ++k) {
    int16_t *x[4];
    ec_c16 a[4];
    for (int32_t q = 0; q < 4; ++q) {
      x[q] = z + 2 * (k + q * m);
      a[q] = ec_c16_div(x[q], 4);
    }
    const ec_c16 s0 = ec_c16_mul(a[1], tw + 2 * k * stride), s1 = ec_c16_mul(a[2], tw + 4 * k * stride);
    const ec_c16 s2 = ec_c16_mul(a[3], tw + 6 * k * stride);
    const ec_c16 s5 = {ec_w16(a[0].r - s1.r), ec_w16(a[0].i - s1.i)};
    const ec_c16 b0 = {ec_w16(a[0].r + s1.r), ec_w16(a[0].i + s1.i)};
    const ec_c16 s3 = {ec_w16(s0.r + s2.r), ec_w16(s0.i + s2.i)};
    const ec_c16 s4 = {ec_w16(s0.r - s2.r), ec_w16(s0.i - s2.i)};
    x[0][0] = ec_w16(b0.r + s3.r);
    x[0][1] = ec_w16(b0.i + s3.i);
    x[2][0] = ec_w16(b0.r - s3.r);
    x[2][1] = ec_w16(b0.i - s3.i);
    x[1][0] = ec_w16(s5.r + turn * s4.i);  /* turn 1: forward (-i), -1: inverse (+i) */
    x[1][1] = ec_w16(s5.i - turn * s4.r);
    x[3][0] = ec_w16(s5.r - turn * s4.i);
    x[3][1] = ec_w16(s5.i + turn * s4.r);
  }
}

/* The n-point complex FFT of z (n (re, im) pairs, already in digit-reversed order), in place. */
static void ec_cfft16(const ec_rfft_params *p, int16_t *z, int32_t n, int32_t turn) {
  int32_t span = 1;
  for (int32_t level = p->stages - 1; level >= 0; --level) {
    const int32_t radix = p->radix[level], stride = n / (radix * span);
    for (int32_t b = 0; b < stride; ++b) {
      int16_t *block = z + 2 * b * radix * span;
      if (radix == 2) {
        ec_radix2(block, span, stride, p->twiddles);
      } else {
        ec_radix4(block, span, stride, p->twiddles, turn);
      }
    }
    span *= radix;
  }
}

void ec_signal_rfft_s16(const ec_rfft_params *p, const int16_t *input, int16_t *output) {
  const int32_t n = p->nfft / 2;
  for (int32_t row = 0; row < p->rows; ++row) {
    const int16_t *x = input + row * p->in_len;
    int16_t *z = output + row * (p->nfft + 2);
    for (int32_t i = 0; i < n; ++i) {
      const int32_t j = 2 * p->order[i];
      z[2 * i] = j < p->in_len ? x[j] : 0;
      z[2 * i + 1] = j + 1 < p->in_len ? x[j + 1] : 0;
    }
    ec_cfft16(p, z, n, 1);
    const ec_c16 dc = ec_c16_div(z, 2);
    z[0] = ec_w16(dc.r + dc.i);
    z[1] = 0;
    z[2 * n] = ec_w16(dc.r - dc.i);
    z[2 * n + 1] = 0;
    for (int32_t k = 1; k <= n / 2; ++k) {
      const ec_c16 a = ec_c16_div(z + 2 * k, 2);
      const ec_c16 b = {ec_q15_div(z[2 * (n - k)], 2), ec_q15_div(ec_w16(-z[2 * (n - k) + 1]), 2)};
      const ec_c16 f1 = {ec_w16(a.r + b.r), ec_w16(a.i + b.i)};
      const ec_c16 f2 = {ec_w16(a.r - b.r), ec_w16(a.i - b.i)};
      const ec_c16 t = ec_c16_mul(f2, p->super_twiddles + 2 * (k - 1));
      z[2 * k] = ec_w16((f1.r + t.r) >> 1);
      z[2 * k + 1] = ec_w16((f1.i + t.i) >> 1);
      z[2 * (n - k)] = ec_w16((f1.r - t.r) >> 1);  /* k = n/2 writes its bin twice; this one stays */
      z[2 * (n - k) + 1] = ec_w16((t.i - f1.i) >> 1);
    }
  }
}
