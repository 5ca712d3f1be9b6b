/* Helium (MVE) helpers shared by the ec_*_mve.c kernels (Armv8.1-M with MVE: Cortex-M55,
 * M85). Included only where __ARM_FEATURE_MVE is defined. */
#ifndef EC_MVE_H
#define EC_MVE_H

#include <arm_mve.h>

#include "ec_kernels.h"

/* Patches ec_conv_2d_mve_s8 gathers before one fully connected product: as many as fit 512
 * bytes, 1 to 16 (ops/conv_2d.py sizes the scratch with the same rule). */
#define EC_CONV_MVE_PATCHES(depth) ((depth) >= 256 ? 1 : 512 / (depth) > 16 ? 16 : 512 / (depth))

/* ec_fully_connected_mve_s8 with `right_only` (ec_right_shifts_only_mve of its shifts) given,
 * for callers that run it many times on one table (ec_conv_2d_mve.c). */
void ec_fc_rows_mve(const ec_fc_params *p, const int8_t *input, const int8_t *filter, const int32_t *folded_bias,
                    int8_t *output, int right_only);

/* TFLM's requantization of four accumulators with their channels' multipliers and shifts,
 * then the output offset and the activation clamp:
 *  - the left shift (shift > 0) wraps as TFLM's x * (1 << shift) does (VSHL);
 *  - SaturatingRoundingDoublingHighMul is VQRDMULH: both are (a * b + 2^30) >> 31 rounded
 *    half up, INT32_MIN * INT32_MIN saturating to INT32_MAX;
 *  - RoundingDivideByPOT rounds half away from zero, VRSHL (shift by -right) half up: they
 *    agree on x >= 0, and for x < 0 with right > 0 subtracting 1 first makes a tie round down
 *    and leaves every other value where it was (saturating, so INT32_MIN stays itself). */
static inline int32x4_t ec_requant_mve(int32x4_t acc, int32x4_t multiplier, int32x4_t shift,
                                       int32_t output_offset, int32_t act_min, int32_t act_max) {
  const int32x4_t zero = vdupq_n_s32(0);
  const int32x4_t right = vminq_s32(shift, zero); /* -right_shift, <= 0 */
  int32x4_t x = vqrdmulhq_s32(vshlq_s32(acc, vmaxq_s32(shift, zero)), multiplier);
  x = vqaddq_m_s32(x, x, vshrq_n_s32(x, 31), vcmpltq_s32(right, zero)); /* x - 1 where x < 0, right > 0 */
  x = vrshlq_s32(x, right);
  x = vaddq_s32(x, vdupq_n_s32(output_offset));
  return vmaxq_s32(vminq_s32(x, vdupq_n_s32(act_max)), vdupq_n_s32(act_min));
}

/* ec_requant_mve with the tables of four consecutive channels, read in the lanes of `pr` only
 * (a tail of fewer than four channels). */
static inline int32x4_t ec_requant4_mve(int32x4_t acc, const int32_t *multiplier, const int32_t *shift,
                                        int32_t output_offset, int32_t act_min, int32_t act_max,
                                        mve_pred16_t pr) {
  return ec_requant_mve(acc, vldrwq_z_s32(multiplier, pr), vldrwq_z_s32(shift, pr), output_offset, act_min,
                        act_max);
}

/* 1 when every shift is negative (right shifts only, TFLM's usual case), so ec_requant_run_mve
 * can leave out the left shift and the per-lane test for the rounding nudge. */
static inline int ec_right_shifts_only_mve(const int32_t *shift, int32_t n) {
  int32_t most = INT32_MIN;
  for (int32_t i = 0; i < n; i += 4) {
    const mve_pred16_t pr = vctp32q((uint32_t)(n - i));
    most = vmaxvq_p_s32(most, vldrwq_z_s32(shift + i, pr), pr);
  }
  return most < 0;
}

/* TFLM's requantization of n accumulators (acc[i] + bias[i]; bias NULL: acc[i]) with
 * their channels' multipliers and shifts, then the output offset and the clamp, into out[i];
 * `right_only`: ec_right_shifts_only_mve of the shifts (then x - 1 for x < 0 always applies
 * and no left shift is taken: the same results for such tables); `per_channel` 0: the tables
 * hold one entry for every channel (a per-tensor fully connected layer). Four at a time, the
 * last ones predicated. */
static inline void ec_requant_units_mve(const int32_t *acc, const int32_t *bias, int32_t n,
                                        const int32_t *multiplier, const int32_t *shift, int32_t output_offset,
                                        int32_t act_min, int32_t act_max, int right_only, int per_channel,
                                        int8_t *out) {
  const int32x4_t m1 = vdupq_n_s32(multiplier[0]), s1 = vdupq_n_s32(shift[0]);
#define EC_MULT(i) (per_channel ? vldrwq_s32(multiplier + (i)) : m1)
#define EC_SHIFT(i) (per_channel ? vldrwq_s32(shift + (i)) : s1)
  int32_t i = 0;
  if (right_only && bias) {
    for (; i + 4 <= n; i += 4) {
      int32x4_t x = vaddq_s32(vldrwq_s32(acc + i), vldrwq_s32(bias + i));
      x = vqrdmulhq_s32(x, EC_MULT(i));
      x = vrshlq_s32(vqaddq_s32(x, vshrq_n_s32(x, 31)), EC_SHIFT(i));
      x = vaddq_n_s32(x, output_offset);
      vstrbq_s32(out + i, vmaxq_s32(vminq_s32(x, vdupq_n_s32(act_max)), vdupq_n_s32(act_min)));
    }
  } else if (right_only) {
    for (; i + 4 <= n; i += 4) {
      int32x4_t x = vqrdmulhq_s32(vldrwq_s32(acc + i), EC_MULT(i));
      x = vrshlq_s32(vqaddq_s32(x, vshrq_n_s32(x, 31)), EC_SHIFT(i));
      x = vaddq_n_s32(x, output_offset);
      vstrbq_s32(out + i, vmaxq_s32(vminq_s32(x, vdupq_n_s32(act_max)), vdupq_n_s32(act_min)));
    }
  } else {
    for (; i + 4 <= n; i += 4) {
      int32x4_t x = vldrwq_s32(acc + i);
      if (bias) x = vaddq_s32(x, vldrwq_s32(bias + i));
      vstrbq_s32(out + i, ec_requant_mve(x, EC_MULT(i), EC_SHIFT(i), output_offset, act_min, act_max));
    }
  }
#undef EC_MULT
#undef EC_SHIFT
  if (i < n) {
    const mve_pred16_t pr = vctp32q((uint32_t)(n - i));
    int32x4_t x = vldrwq_z_s32(acc + i, pr);
    if (bias) x = vaddq_s32(x, vldrwq_z_s32(bias + i, pr));
    const int32x4_t y = per_channel ? ec_requant4_mve(x, multiplier + i, shift + i, output_offset, act_min, act_max, pr)
                                    : ec_requant_mve(x, m1, s1, output_offset, act_min, act_max);
    vstrbq_p_s32(out + i, y, pr);
  }
}

/* ec_requant_units_mve with one table entry per channel. */
static inline void ec_requant_run_mve(const int32_t *acc, const int32_t *bias, int32_t n,
                                      const int32_t *multiplier, const int32_t *shift, int32_t output_offset,
                                      int32_t act_min, int32_t act_max, int right_only, int8_t *out) {
  ec_requant_units_mve(acc, bias, n, multiplier, shift, output_offset, act_min, act_max, right_only, 1, out);
}

/* n bytes from src to dst, and n bytes of one value, 16 at a time (the last ones predicated). */
static inline void ec_copy_mve(int8_t *dst, const int8_t *src, int32_t n) {
  for (; n >= 16; n -= 16, src += 16, dst += 16) vstrbq_s8(dst, vldrbq_s8(src));
  if (n > 0) {
    const mve_pred16_t pr = vctp8q((uint32_t)n);
    vstrbq_p_s8(dst, vldrbq_z_s8(src, pr), pr);
  }
}

static inline void ec_fill_mve(int8_t *dst, int8_t value, int32_t n) {
  const int8x16_t v = vdupq_n_s8(value);
  for (; n >= 16; n -= 16, dst += 16) vstrbq_s8(dst, v);
  if (n > 0) vstrbq_p_s8(dst, v, vctp8q((uint32_t)n));
}

#endif
