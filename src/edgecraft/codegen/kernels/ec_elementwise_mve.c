/* ADD, SUB and MUL int8 with Helium (MVE), for Cortex-M55/M85, on inputs of the output's shape
 * (the generator keeps broadcasting on the other kernels): the same results as
 * ec_elementwise.c (TFLM reference_integer_ops add/mul), four elements a vector, widened to
 * int32 by the loads (VLDRB.S32), the last ones predicated.
 *
 * ADD/SUB: each input plus its offset, shifted left by left_shift, rescaled by its multiplier
 * (TFLM's MultiplyByQuantizedMultiplier, lane by lane: ec_mbqm_n_mve), the two added (SUB:
 * the second subtracted), the sum rescaled by the output multiplier, the output offset
 * added, clamped. MUL: the product of the offset inputs (|x y| <= 255 * 255) rescaled by the
 * output multiplier. */
#include "ec_kernels.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include "ec_mve.h"

/* TFLM's MultiplyByQuantizedMultiplier of four lanes by one multiplier and shift (the left
 * shift wrapping as TFLM's x * (1 << shift), VQRDMULH for SaturatingRoundingDoublingHighMul,
 * RoundingDivideByPOT as in ec_requant_mve). */
static inline int32x4_t ec_mbqm_n_mve(int32x4_t x, int32_t multiplier, int32_t shift) {
  if (shift > 0) x = vshlq_r_s32(x, shift);
  x = vqrdmulhq_n_s32(x, multiplier);
  if (shift < 0) x = vrshlq_n_s32(vqaddq_s32(x, vshrq_n_s32(x, 31)), shift);
  return x;
}

static inline int32x4_t ec_clamp_mve(int32x4_t x, const ec_binary_params *p) {
  x = vaddq_n_s32(x, p->output_offset);
  return vmaxq_s32(vminq_s32(x, vdupq_n_s32(p->act_max)), vdupq_n_s32(p->act_min));
}

static int32_t ec_count(const ec_binary_params *p) {
  int32_t total = 1;
  for (int d = 0; d < EC_MAX_DIMS; ++d) total *= p->dims[d];
  return total;
}

static void ec_add_sub_mve(const ec_binary_params *p, int subtract, const int8_t *input1, const int8_t *input2,
                           int8_t *output) {
  const int32_t total = ec_count(p);
  for (int32_t i = 0; i < total; i += 4) {
    const mve_pred16_t pr = vctp32q((uint32_t)(total - i));
    int32x4_t x = vaddq_n_s32(vldrbq_z_s32(input1 + i, pr), p->input1_offset);
    int32x4_t y = vaddq_n_s32(vldrbq_z_s32(input2 + i, pr), p->input2_offset);
    x = ec_mbqm_n_mve(vshlq_r_s32(x, p->left_shift), p->input1_multiplier, p->input1_shift);
    y = ec_mbqm_n_mve(vshlq_r_s32(y, p->left_shift), p->input2_multiplier, p->input2_shift);
    const int32x4_t sum = subtract ? vsubq_s32(x, y) : vaddq_s32(x, y);
    vstrbq_p_s32(output + i, ec_clamp_mve(ec_mbqm_n_mve(sum, p->output_multiplier, p->output_shift), p), pr);
  }
}

void ec_add_mve_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
  ec_add_sub_mve(p, 0, input1, input2, output);
}

void ec_sub_mve_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
  ec_add_sub_mve(p, 1, input1, input2, output);
}

void ec_mul_mve_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
  const int32_t total = ec_count(p);
  for (int32_t i = 0; i < total; i += 4) {
    const mve_pred16_t pr = vctp32q((uint32_t)(total - i));
    const int32x4_t x = vaddq_n_s32(vldrbq_z_s32(input1 + i, pr), p->input1_offset);
    const int32x4_t y = vaddq_n_s32(vldrbq_z_s32(input2 + i, pr), p->input2_offset);
    const int32x4_t raw = ec_mbqm_n_mve(vmulq_s32(x, y), p->output_multiplier, p->output_shift);
    vstrbq_p_s32(output + i, ec_clamp_mve(raw, p), pr);
  }
}
#endif
