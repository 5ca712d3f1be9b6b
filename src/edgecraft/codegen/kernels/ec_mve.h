/* Helium (MVE) helpers shared by the ec_*_mve.c kernels (Armv8.1-M with MVE: Cortex-M55,
 * M85). Included only where __ARM_FEATURE_MVE is defined. */
#ifndef EC_MVE_H
#define EC_MVE_H

#include <arm_mve.h>

#include "ec_kernels.h"

/* TFLM's requantization of four accumulators (multiplier and shift: their four channels' entries),
 * then the output offset and the activation clamp; the tables are read in the lanes of `pr`
 * only (a tail of fewer than four channels):
 *  - the left shift (shift > 0) wraps as TFLM's x * (1 << shift) does (VSHL);
 *  - SaturatingRoundingDoublingHighMul is VQRDMULH: both are (a * b + 2^30) >> 31 rounded
 *    half up, INT32_MIN * INT32_MIN saturating to INT32_MAX;
 *  - RoundingDivideByPOT rounds half away from zero, VRSHL (shift by -right) half up: they
 *    agree on x >= 0, and for x < 0 with right > 0 subtracting 1 first makes a tie round down
 *    and leaves every other value where it was (saturating, so INT32_MIN stays itself). */
static inline int32x4_t ec_requant4_mve(int32x4_t acc, const int32_t *multiplier, const int32_t *shift_,
                                        int32_t output_offset, int32_t act_min, int32_t act_max,
                                        mve_pred16_t pr) {
  const int32x4_t shift = vldrwq_z_s32(shift_, pr);
  const int32x4_t zero = vdupq_n_s32(0);
  const int32x4_t right = vminq_s32(shift, zero); /* -right_shift, <= 0 */
  int32x4_t x = vqrdmulhq_s32(vshlq_s32(acc, vmaxq_s32(shift, zero)), vldrwq_z_s32(multiplier, pr));
  x = vqaddq_m_s32(x, x, vshrq_n_s32(x, 31), vcmpltq_s32(right, zero)); /* x - 1 where x < 0, right > 0 */
  x = vrshlq_s32(x, right);
  x = vaddq_s32(x, vdupq_n_s32(output_offset));
  return vmaxq_s32(vminq_s32(x, vdupq_n_s32(act_max)), vdupq_n_s32(act_min));
}

#endif
