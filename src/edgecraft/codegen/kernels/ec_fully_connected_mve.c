/* FULLY_CONNECTED int8 with Helium (Armv8.1-M MVE) intrinsics, for Cortex-M55/M85: the same
 * results as ec_fully_connected.c (TFLM FullyConnected / FullyConnectedPerChannel).
 *
 * The sum (f + filter_offset) * (x + input_offset) over a row expands to
 *   dot(f, x) + input_offset * sum(f) + filter_offset * sum(x) + depth * filter_offset * input_offset.
 * The generator folds everything that depends only on the filter into `folded_bias`
 * (bias + input_offset * sum(f) + depth * filter_offset * input_offset, wrapped to int32 as
 * TFLM's int32 accumulator wraps), so the inner loop is one VMLADAVA per 16 bytes of each of
 * four filter rows sharing one input load; the last partial vector is tail-predicated
 * (VCTP8 and zeroing loads), so odd depths need no scalar loop. filter_offset is 0 for
 * per-channel filters; otherwise the row sum of x is taken once per input row.
 * Four units are requantized at once (ec_requant4_mve in ec_mve.h: TFLM's
 * MultiplyByQuantizedMultiplier lane by lane), the leftover units with the scalar ec_mbqm; both bit-exact. */
#include "ec_kernels.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include "ec_mve.h"

static int32_t ec_row_sum_mve(const int8_t *x, int32_t depth) {
  int32_t sum = 0;
  for (int32_t d = 0; d < depth; d += 16) {
    const mve_pred16_t pr = vctp8q((uint32_t)(depth - d));
    sum = vaddvaq_s8(sum, vldrbq_z_s8(x + d, pr));
  }
  return sum;
}

static inline int8_t ec_fc_out(const ec_fc_params *p, int32_t acc, int32_t u) {
  acc = ec_mbqm(acc, p->multiplier[u], p->shift[u]) + p->output_offset;
  return (int8_t)ec_clamp(acc, p->act_min, p->act_max);
}

void ec_fully_connected_mve_s8(const ec_fc_params *p, const int8_t *input, const int8_t *filter,
                               const int32_t *folded_bias, int8_t *output) {
  const int32_t depth = p->depth, units = p->units;
  for (int32_t r = 0; r < p->rows; ++r) {
    const int8_t *in = input + r * depth;
    int8_t *out = output + r * units;
    const int32_t row_term = p->filter_offset ? p->filter_offset * ec_row_sum_mve(in, depth) : 0;
    int32_t u = 0;
    for (; u + 4 <= units; u += 4) {
      const int8_t *f0 = filter + u * depth;
      const int8_t *f1 = f0 + depth, *f2 = f1 + depth, *f3 = f2 + depth;
      int32_t a0 = folded_bias[u] + row_term, a1 = folded_bias[u + 1] + row_term;
      int32_t a2 = folded_bias[u + 2] + row_term, a3 = folded_bias[u + 3] + row_term;
      for (int32_t d = 0; d < depth; d += 16) {
        const mve_pred16_t pr = vctp8q((uint32_t)(depth - d));
        const int8x16_t xv = vldrbq_z_s8(in + d, pr);
        a0 = vmladavaq_s8(a0, vldrbq_z_s8(f0 + d, pr), xv);
        a1 = vmladavaq_s8(a1, vldrbq_z_s8(f1 + d, pr), xv);
        a2 = vmladavaq_s8(a2, vldrbq_z_s8(f2 + d, pr), xv);
        a3 = vmladavaq_s8(a3, vldrbq_z_s8(f3 + d, pr), xv);
      }
      int32x4_t acc = vdupq_n_s32(a0);
      acc = vsetq_lane_s32(a1, acc, 1);
      acc = vsetq_lane_s32(a2, acc, 2);
      acc = vsetq_lane_s32(a3, acc, 3);
      vstrbq_s32(out + u, ec_requant4_mve(acc, p->multiplier + u, p->shift + u, p->output_offset,
                                                  p->act_min, p->act_max, 0xFFFF));
    }
    for (; u < units; ++u) {
      const int8_t *f = filter + u * depth;
      int32_t acc = folded_bias[u] + row_term;
      for (int32_t d = 0; d < depth; d += 16) {
        const mve_pred16_t pr = vctp8q((uint32_t)(depth - d));
        acc = vmladavaq_s8(acc, vldrbq_z_s8(f + d, pr), vldrbq_z_s8(in + d, pr));
      }
      out[u] = ec_fc_out(p, acc, u);
    }
  }
}
#endif
