/* SignalRfft and SignalIrfft, int16 (Q15), int32 (Q31) and float32, portable C99: the arithmetic
 * of KISS FFT's 16- and 32-bit builds as edgecraft's runtime reproduces it (ops/kissfft16.py), and
 * the same steps in float32 for KISS's float build (no division by the radix, twiddles
 * float32(cos, sin) of the double phases).
 *
 * The real FFT packs even samples as real parts and odd ones as imaginary parts and runs an
 * nfft/2-point complex FFT in place in the output row: the input in digit-reversed order, then
 * mixed radix stages (4 while it divides, then 2), innermost first; every butterfly divides its
 * inputs by the radix and every product rounds to the fixed point. A last pass splits it into
 * the nfft/2 + 1 bins. The inverse merges the bins first (writing each where the digit-reversed
 * order puts it) and then runs the complex FFT turning the other way. Sums wrap to the sample
 * type as C's conversions do; products are formed in a type twice as wide (the int32 build's
 * sum of two Q62 products wraps in uint64, as KISS's int64 arithmetic does). The plan (radices,
 * orders, twiddles) is computed at build time. */
#include "ec_kernels.h"

/* The per-type arithmetic: wrap a wide value to the sample type, divide by the radix (rounded to
 * the fixed point; the float build does not divide), multiply by a twiddle (rounded), halve. */
typedef struct {
  int16_t r, i;
} ec_cplx_s16;
typedef struct {
  int32_t r, i;
} ec_cplx_s32;
typedef struct {
  float r, i;
} ec_cplx_f32;

/* SUF: name suffix; T, UT: the sample type and its unsigned twin; A, UA: the product type and
 * its unsigned twin; W: bits of T; HALF_WRAP: 1 where a sum wraps to T before it is halved. */
#define EC_KISS_FIXED(SUF, T, UT, A, UA, W, HALF_WRAP)                                                 \
  static T ec_wrap_##SUF(A v) { return (T)(UT)(UA)v; }                                               \
  static T ec_round_##SUF(A v) {                                                                     \
    return ec_wrap_##SUF((A)((UA)v + ((UA)1 << (W - 2))) >> (W - 1));                                \
  }                                                                                                  \
  static T ec_div_##SUF(T v, int32_t radix) {                                                        \
    return ec_round_##SUF((A)v * (A)((((A)1 << (W - 1)) - 1) / radix));                              \
  }                                                                                                  \
  static ec_cplx_##SUF ec_cmul_##SUF(ec_cplx_##SUF a, const T *w) {                                  \
    ec_cplx_##SUF c = {ec_round_##SUF((A)((UA)((A)a.r * w[0]) - (UA)((A)a.i * w[1]))),               \
                       ec_round_##SUF((A)((UA)((A)a.r * w[1]) + (UA)((A)a.i * w[0])))};              \
    return c;                                                                                        \
  }                                                                                                  \
  static T ec_half_##SUF(A v) { return ec_wrap_##SUF((HALF_WRAP ? (A)ec_wrap_##SUF(v) : v) >> 1); }

EC_KISS_FIXED(s16, int16_t, uint16_t, int32_t, uint32_t, 16, 0)
EC_KISS_FIXED(s32, int32_t, uint32_t, int64_t, uint64_t, 32, 1)

static float ec_wrap_f32(float v) { return v; }
static float ec_div_f32(float v, int32_t radix) {
  (void)radix;
  return v;
}
static ec_cplx_f32 ec_cmul_f32(ec_cplx_f32 a, const float *w) {
  ec_cplx_f32 c = {a.r * w[0] - a.i * w[1], a.r * w[1] + a.i * w[0]};
  return c;
}
static float ec_half_f32(float v) { return v * 0.5f; }

/* The float inverse is divided by fft_length, as TFLM does after KISS; the fixed-point ones are
 * already scaled down by every stage. */
static void ec_irfft_scale_s16(int16_t *z, int32_t nfft) {
  (void)z;
  (void)nfft;
}
static void ec_irfft_scale_s32(int32_t *z, int32_t nfft) {
  (void)z;
  (void)nfft;
}
static void ec_irfft_scale_f32(float *z, int32_t nfft) {
  for (int32_t i = 0; i < nfft; ++i) z[i] /= (float)nfft;
}

/* The transforms, for each sample type T with its wider type A. */
#define EC_KISS(SUF, T, A)                                                                             \
  static ec_cplx_##SUF ec_cdiv_##SUF(const T *z, int32_t radix) {                                    \
    ec_cplx_##SUF c = {ec_div_##SUF(z[0], radix), ec_div_##SUF(z[1], radix)};                        \
    return c;                                                                                        \
  }                                                                                                  \
  static void ec_radix2_##SUF(T *z, int32_t m, int32_t stride, const T *tw) {                        \
    for (int32_t k = 0; k < m; ++k) {                                                                \
      T *x0 = z + 2 * k, *x1 = z + 2 * (k + m);                                                      \
      const ec_cplx_##SUF a = ec_cdiv_##SUF(x0, 2);                                                  \
      const ec_cplx_##SUF t = ec_cmul_##SUF(ec_cdiv_##SUF(x1, 2), tw + 2 * k * stride);              \
      x0[0] = ec_wrap_##SUF((A)a.r + t.r);                                                           \
      x0[1] = ec_wrap_##SUF((A)a.i + t.i);                                                           \
      x1[0] = ec_wrap_##SUF((A)a.r - t.r);                                                           \
      x1[1] = ec_wrap_##SUF((A)a.i - t.i);                                                           \
    }                                                                                                \
  }                                                                                                  \
  static void ec_radix4_##SUF(T *z, int32_t m, int32_t stride, const T *tw, int32_t turn) {          \
    for (int32_t k = 0; k < m; ++k) {                                                                \
      T *x[4];                                                                                       \
      ec_cplx_##SUF a[4];                                                                            \
      for (int32_t q = 0; q < 4; ++q) {                                                              \
        x[q] = z + 2 * (k + q * m);                                                                  \
        a[q] = ec_cdiv_##SUF(x[q], 4);                                                               \
      }                                                                                              \
      const ec_cplx_##SUF s0 = ec_cmul_##SUF(a[1], tw + 2 * k * stride);                             \
      const ec_cplx_##SUF s1 = ec_cmul_##SUF(a[2], tw + 4 * k * stride);                             \
      const ec_cplx_##SUF s2 = ec_cmul_##SUF(a[3], tw + 6 * k * stride);                             \
      const ec_cplx_##SUF s5 = {ec_wrap_##SUF((A)a[0].r - s1.r), ec_wrap_##SUF((A)a[0].i - s1.i)};   \
      const ec_cplx_##SUF b0 = {ec_wrap_##SUF((A)a[0].r + s1.r), ec_wrap_##SUF((A)a[0].i + s1.i)};   \
      const ec_cplx_##SUF s3 = {ec_wrap_##SUF((A)s0.r + s2.r), ec_wrap_##SUF((A)s0.i + s2.i)};       \
      const ec_cplx_##SUF s4 = {ec_wrap_##SUF((A)s0.r - s2.r), ec_wrap_##SUF((A)s0.i - s2.i)};       \
      x[0][0] = ec_wrap_##SUF((A)b0.r + s3.r);                                                       \
      x[0][1] = ec_wrap_##SUF((A)b0.i + s3.i);                                                       \
      x[2][0] = ec_wrap_##SUF((A)b0.r - s3.r);                                                       \
      x[2][1] = ec_wrap_##SUF((A)b0.i - s3.i);                                                       \
      /* turn 1: the forward transform (-i); -1: the inverse (+i) */                                 \
      x[1][0] = ec_wrap_##SUF((A)s5.r + (A)turn * s4.i);                                             \
      x[1][1] = ec_wrap_##SUF((A)s5.i - (A)turn * s4.r);                                             \
      x[3][0] = ec_wrap_##SUF((A)s5.r - (A)turn * s4.i);                                             \
      x[3][1] = ec_wrap_##SUF((A)s5.i + (A)turn * s4.r);                                             \
    }                                                                                                \
  }                                                                                                  \
  static void ec_cfft_##SUF(const ec_rfft_params *p, T *z, int32_t n, int32_t turn) {                \
    const T *tw = (const T *)p->twiddles;                                                            \
    int32_t span = 1;                                                                                \
    for (int32_t level = p->stages - 1; level >= 0; --level) {                                       \
      const int32_t radix = p->radix[level], stride = n / (radix * span);                            \
      for (int32_t b = 0; b < stride; ++b) {                                                         \
        if (radix == 2) {                                                                            \
          ec_radix2_##SUF(z + 2 * b * radix * span, span, stride, tw);                               \
        } else {                                                                                     \
          ec_radix4_##SUF(z + 2 * b * radix * span, span, stride, tw, turn);                         \
        }                                                                                            \
      }                                                                                              \
      span *= radix;                                                                                 \
    }                                                                                                \
  }                                                                                                  \
  void ec_signal_rfft_##SUF(const ec_rfft_params *p, const T *input, T *output) {                    \
    const int32_t n = p->nfft / 2;                                                                   \
    const T *sup = (const T *)p->super_twiddles;                                                     \
    for (int32_t row = 0; row < p->rows; ++row) {                                                    \
      const T *x = input + row * p->in_len;                                                          \
      T *z = output + row * (p->nfft + 2);                                                           \
      for (int32_t i = 0; i < n; ++i) {                                                              \
        const int32_t j = 2 * p->order[i];                                                           \
        z[2 * i] = j < p->in_len ? x[j] : 0;                                                         \
        z[2 * i + 1] = j + 1 < p->in_len ? x[j + 1] : 0;                                             \
      }                                                                                              \
      ec_cfft_##SUF(p, z, n, 1);                                                                     \
      const ec_cplx_##SUF dc = ec_cdiv_##SUF(z, 2);                                                  \
      z[0] = ec_wrap_##SUF((A)dc.r + dc.i);                                                          \
      z[1] = 0;                                                                                      \
      z[2 * n] = ec_wrap_##SUF((A)dc.r - dc.i);                                                      \
      z[2 * n + 1] = 0;                                                                              \
      for (int32_t k = 1; k <= n / 2; ++k) {                                                         \
        const ec_cplx_##SUF a = ec_cdiv_##SUF(z + 2 * k, 2);                                         \
        const ec_cplx_##SUF b = {ec_div_##SUF(z[2 * (n - k)], 2),                                    \
                                 ec_div_##SUF(ec_wrap_##SUF(-(A)z[2 * (n - k) + 1]), 2)};            \
        const ec_cplx_##SUF f1 = {ec_wrap_##SUF((A)a.r + b.r), ec_wrap_##SUF((A)a.i + b.i)};         \
        const ec_cplx_##SUF f2 = {ec_wrap_##SUF((A)a.r - b.r), ec_wrap_##SUF((A)a.i - b.i)};         \
        const ec_cplx_##SUF t = ec_cmul_##SUF(f2, sup + 2 * (k - 1));                                \
        z[2 * k] = ec_half_##SUF((A)f1.r + t.r);                                                     \
        z[2 * k + 1] = ec_half_##SUF((A)f1.i + t.i);                                                 \
        z[2 * (n - k)] = ec_half_##SUF((A)f1.r - t.r); /* k = n/2: written twice, this one stays */  \
        z[2 * (n - k) + 1] = ec_half_##SUF((A)t.i - f1.i);                                           \
      }                                                                                              \
    }                                                                                                \
  }                                                                                                  \
  void ec_signal_irfft_##SUF(const ec_rfft_params *p, const T *input, T *output) {                   \
    const int32_t n = p->nfft / 2;                                                                   \
    const T *sup = (const T *)p->super_twiddles;                                                     \
    for (int32_t row = 0; row < p->rows; ++row) {                                                    \
      const T *x = input + row * (p->nfft + 2);                                                      \
      T *z = output + row * p->nfft;                                                                 \
      /* p->order: where the digit-reversed order puts each merged value */                          \
      T *z0 = z + 2 * p->order[0];                                                                   \
      z0[0] = ec_div_##SUF(ec_wrap_##SUF((A)x[0] + x[2 * n]), 2);                                    \
      z0[1] = ec_div_##SUF(ec_wrap_##SUF((A)x[0] - x[2 * n]), 2);                                    \
      for (int32_t k = 1; k <= n / 2; ++k) {                                                         \
        const ec_cplx_##SUF f = ec_cdiv_##SUF(x + 2 * k, 2);                                         \
        const ec_cplx_##SUF c = {ec_div_##SUF(x[2 * (n - k)], 2),                                    \
                                 ec_div_##SUF(ec_wrap_##SUF(-(A)x[2 * (n - k) + 1]), 2)};            \
        const ec_cplx_##SUF e = {ec_wrap_##SUF((A)f.r + c.r), ec_wrap_##SUF((A)f.i + c.i)};          \
        const ec_cplx_##SUF d = {ec_wrap_##SUF((A)f.r - c.r), ec_wrap_##SUF((A)f.i - c.i)};          \
        const ec_cplx_##SUF o = ec_cmul_##SUF(d, sup + 2 * (k - 1));                                 \
        T *zk = z + 2 * p->order[k], *zn = z + 2 * p->order[n - k];                                  \
        zk[0] = ec_wrap_##SUF((A)e.r + o.r);                                                         \
        zk[1] = ec_wrap_##SUF((A)e.i + o.i);                                                         \
        zn[0] = ec_wrap_##SUF((A)e.r - o.r); /* k = n/2: written twice, this one stays */            \
        zn[1] = ec_wrap_##SUF(-(A)ec_wrap_##SUF((A)e.i - o.i));                                      \
      }                                                                                              \
      ec_cfft_##SUF(p, z, n, -1);                                                                    \
      ec_irfft_scale_##SUF(z, p->nfft);                                                              \
    }                                                                                                \
  }

EC_KISS(s16, int16_t, int32_t)
EC_KISS(s32, int32_t, int64_t)
EC_KISS(f32, float, float)
