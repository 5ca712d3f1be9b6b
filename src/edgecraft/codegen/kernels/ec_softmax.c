/* SOFTMAX int8 -> int8 or int16, portable C99 (TFLM reference_ops::Softmax with gemmlowp fixed
 * point). input and output (rows, depth); output scale 1/256, zero point -128 (int8) or scale
 * 1/65536, zero point -32768 (int16).
 * Fixed-point values: raw int32 with k integer bits ("Qk"), real = raw / 2^(31 - k). */
/* Cold code in a classifier's last layer: GCC builds this file for size (-Os). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("Os")
#endif
#include "ec_kernels.h"

/* SaturatingRoundingMultiplyByPOT for a positive exponent: saturating left shift. */
static int32_t sat_shl(int32_t x, int exponent) {
  const int32_t threshold = (int32_t)((((int64_t)1) << (31 - exponent)) - 1);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return ec_shl(x, exponent);
}

/* exp(a) for a in [-1/4, 0): Q0 in and out, Taylor expansion around -1/8. */
static int32_t exp_quarter(int32_t a) {
  const int32_t exp_minus_one_eighth = 1895147668, one_third = 715827883;
  const int32_t x = a + (1 << 28);
  const int32_t x2 = ec_srdhm(x, x);
  const int32_t x3 = ec_srdhm(x2, x);
  const int32_t x4 = ec_srdhm(x2, x2);
  const int32_t x4_over_4 = ec_rdbpot(x4, 2);
  const int32_t poly = ec_rdbpot(ec_srdhm(x4_over_4 + x3, one_third) + x2, 1);
  return exp_minus_one_eighth + ec_srdhm(exp_minus_one_eighth, x + poly);
}

/* exp(a) for a <= 0 in Q5; returns Q0. */
static int32_t exp_on_negative_values(int32_t a) {
  static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535,
                                    720401, 242};
  const int32_t quarter = 1 << 24; /* 1/4 in Q5 */
  const int32_t a_mod_quarter_minus_quarter = (a & (quarter - 1)) - quarter;
  int32_t result = exp_quarter(sat_shl(a_mod_quarter_minus_quarter, 5));
  const int32_t remainder = a_mod_quarter_minus_quarter - a;
  /* bit 24 + k of the remainder (2^(k - 2) in Q5) multiplies by exp(-2^(k - 2)) */
  for (int k = 0; k < 7; ++k) {
    if (remainder & (1 << (24 + k))) result = ec_srdhm(result, barrel[k]);
  }
  return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1): Q0 in and out (Newton-Raphson in Q2). */
static int32_t one_over_one_plus_x(int32_t a) {
  const int64_t sum = (int64_t)a + INT32_MAX;
  const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
  int32_t x = 1515870810 + ec_srdhm(half_denominator, -1010580540);
  for (int i = 0; i < 3; ++i) {
    const int32_t one_minus = (1 << 29) - ec_srdhm(half_denominator, x);
    x = x + sat_shl(ec_srdhm(x, one_minus), 2);
  }
  return sat_shl(x, 1);
}

static int count_leading_zeros(uint32_t x) {
  int n = 0;
  if (x == 0) return 32;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    ++n;
  }
  return n;
}

static int32_t scaled_diff(const ec_softmax_params *p, int32_t diff) {
  return ec_srdhm(ec_shl(diff, p->input_left_shift), p->input_multiplier);
}

/* Every row into `output`, int8 or int16 (`out_bits`): the same sums, the last shift leaving
 * 8 or 16 bits. Inlined into each entry, so that a model linking one keeps one specialized copy. */
static inline __attribute__((always_inline)) void softmax_rows(const ec_softmax_params *p, const int8_t *input,
                                                               void *output, const int out_bits) {
  const int32_t lo = -(1 << (out_bits - 1)), hi = (1 << (out_bits - 1)) - 1;
  for (int32_t r = 0; r < p->rows; ++r) {
    const int8_t *in = input + r * p->depth;
    int32_t max = -128;
    for (int32_t c = 0; c < p->depth; ++c) max = in[c] > max ? in[c] : max;
    int32_t sum_of_exps = 0; /* Q12 */
    for (int32_t c = 0; c < p->depth; ++c) {
      const int32_t diff = in[c] - max;
      if (diff >= p->diff_min) sum_of_exps += ec_rdbpot(exp_on_negative_values(scaled_diff(p, diff)), 12);
    }
    /* 1 / sum = reciprocal / 2^(31 + bits_over_unit), reciprocal in Q0 */
    const int headroom_plus_one = count_leading_zeros((uint32_t)sum_of_exps);
    const int bits_over_unit = 12 - headroom_plus_one;
    const int32_t shifted_minus_one =
        (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - ((uint32_t)1 << 31));
    const int32_t reciprocal = one_over_one_plus_x(shifted_minus_one);
    for (int32_t c = 0; c < p->depth; ++c) {
      const int32_t diff = in[c] - max;
      int32_t y = lo;
      if (diff >= p->diff_min) {
        const int32_t e = exp_on_negative_values(scaled_diff(p, diff));
        y = ec_clamp(ec_rdbpot(ec_srdhm(reciprocal, e), bits_over_unit + 31 - out_bits) + lo, lo, hi);
      }
      if (out_bits == 8) ((int8_t *)output)[r * p->depth + c] = (int8_t)y;
      else ((int16_t *)output)[r * p->depth + c] = (int16_t)y;
    }
  }
}

void ec_softmax_s8(const ec_softmax_params *p, const int8_t *input, int8_t *output) {
  softmax_rows(p, input, output, 8);
}

void ec_softmax_s8_s16(const ec_softmax_params *p, const int8_t *input, int16_t *output) {
  softmax_rows(p, input, output, 16);
}
