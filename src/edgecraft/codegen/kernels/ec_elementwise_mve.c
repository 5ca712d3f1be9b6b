/* ADD, SUB and MUL int8 with Helium (MVE), for Cortex-M55/M85, on inputs of the output's shape
 * (the generator keeps broadcasting on the other kernels): the same results as
 * ec_elementwise.c (TFLM reference_integer_ops add/mul), four elements a vector, widened to
 * int32 by the loads (VLDRB.S32), the last ones predicated.
 *
 * ADD/SUB: each input plus its offset, shifted left by left_shift, rescaled by its multiplier
 * (TFLM's MultiplyByQuantizedMultiplier, lane by lane: ec_rescale), the two added (SUB:
 * the second subtracted), the sum rescaled by the output multiplier, the output offset
 * added, clamped. MUL: the product of the offset inputs (|x y| <= 255 * 255) rescaled by the
 * output multiplier. */
#include "ec_kernels.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include "ec_mve.h"

/* TFLM's MultiplyByQuantizedMultiplier of four lanes by one multiplier and shift, without
 * branches: the left part of the shift (wrapping as TFLM's x * (1 << shift)) is taken by the
 * caller, VQRDMULH is SaturatingRoundingDoublingHighMul, and RoundingDivideByPOT by `right`
 * (<= 0, minus the exponent) is VRSHL after x - 1 for x < 0 where `nudge` is all ones (right
 * < 0; 0 when right is 0), as in ec_requant_mve. */
typedef struct {
  int32_t left, multiplier, right;
  int32x4_t nudge;
} ec_rescale_mve;

static inline ec_rescale_mve ec_rescale_of(int32_t shift, int32_t extra_left, int32_t multiplier) {
  ec_rescale_mve r = {(shift > 0 ? shift : 0) + extra_left, multiplier, shift < 0 ? shift : 0,
                      vdupq_n_s32(shift < 0 ? -1 : 0)};
  return r;
}

static inline int32x4_t ec_rescale(int32x4_t x, const ec_rescale_mve *r) {
  x = vqrdmulhq_n_s32(vshlq_r_s32(x, r->left), r->multiplier);
  return vrshlq_n_s32(vqaddq_s32(x, vandq_s32(vshrq_n_s32(x, 31), r->nudge)), r->right);
}

static int32_t ec_count(const ec_binary_params *p) {
  int32_t total = 1;
  for (int d = 0; d < EC_MAX_DIMS; ++d) total *= p->dims[d];
  return total;
}

/* The parameters in locals: the stores through int8_t pointers would make GCC read them again
 * every iteration. */
static void ec_add_sub_mve(const ec_binary_params *p, int subtract, const int8_t *input1, const int8_t *input2,
                           int8_t *output) {
  const int32_t total = ec_count(p), off1 = p->input1_offset, off2 = p->input2_offset, oo = p->output_offset;
  const ec_rescale_mve r1 = ec_rescale_of(p->input1_shift, p->left_shift, p->input1_multiplier);
  const ec_rescale_mve r2 = ec_rescale_of(p->input2_shift, p->left_shift, p->input2_multiplier);
  const ec_rescale_mve ro = ec_rescale_of(p->output_shift, 0, p->output_multiplier);
  const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
  for (int32_t i = 0; i < total; i += 4) {
    const mve_pred16_t pr = vctp32q((uint32_t)(total - i));
    const int32x4_t x = ec_rescale(vaddq_n_s32(vldrbq_z_s32(input1 + i, pr), off1), &r1);
    const int32x4_t y = ec_rescale(vaddq_n_s32(vldrbq_z_s32(input2 + i, pr), off2), &r2);
    const int32x4_t raw = vaddq_n_s32(ec_rescale(subtract ? vsubq_s32(x, y) : vaddq_s32(x, y), &ro), oo);
    vstrbq_p_s32(output + i, vmaxq_s32(vminq_s32(raw, hi), lo), pr);
  }
}

void ec_add_mve_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
  ec_add_sub_mve(p, 0, input1, input2, output);
}

void ec_sub_mve_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
  ec_add_sub_mve(p, 1, input1, input2, output);
}

void ec_mul_mve_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
  const int32_t total = ec_count(p), off1 = p->input1_offset, off2 = p->input2_offset, oo = p->output_offset;
  const ec_rescale_mve ro = ec_rescale_of(p->output_shift, 0, p->output_multiplier);
  const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
  for (int32_t i = 0; i < total; i += 4) {
    const mve_pred16_t pr = vctp32q((uint32_t)(total - i));
    const int32x4_t x = vaddq_n_s32(vldrbq_z_s32(input1 + i, pr), off1);
    const int32x4_t y = vaddq_n_s32(vldrbq_z_s32(input2 + i, pr), off2);
    const int32x4_t raw = vaddq_n_s32(ec_rescale(vmulq_s32(x, y), &ro), oo);
    vstrbq_p_s32(output + i, vmaxq_s32(vminq_s32(raw, hi), lo), pr);
  }
}
#endif
