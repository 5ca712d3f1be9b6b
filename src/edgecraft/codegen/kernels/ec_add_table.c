/* ADD and SUB int8 for the fast kernel set: each input's rescaling (offset, shift left by 20,
 * multiply into the common scale) depends on its int8 value alone, so the C generator
 * tabulates it for all 256 values at build time with the reference arithmetic (SUB stores the
 * second table negated); per element this leaves two lookups, one add and the output rescale.
 * Same results as ec_elementwise.c. Shapes and strides as ec_binary_params. */
#include "ec_kernels.h"

void ec_add_table_s8(const ec_binary_params *p, const int32_t *table1, const int32_t *table2,
                     const int8_t *input1, const int8_t *input2, int8_t *output) {
  int32_t index[EC_MAX_DIMS] = {0};
  int32_t total = 1, off1 = 0, off2 = 0, contiguous = 1, step = 1;
  for (int d = EC_MAX_DIMS - 1; d >= 0; --d) {
    total *= p->dims[d];
    if (p->dims[d] > 1 && (p->stride1[d] != step || p->stride2[d] != step)) contiguous = 0;
    step *= p->dims[d];
  }
  const int32_t mult = p->output_multiplier, shift = p->output_shift, offset = p->output_offset;
  const int32_t lo = p->act_min, hi = p->act_max;
  if (contiguous) { /* the common case: same shapes, one flat loop */
    for (int32_t i = 0; i < total; ++i) {
      const int32_t raw = table1[input1[i] + 128] + table2[input2[i] + 128];
      output[i] = (int8_t)ec_clamp(ec_mbqm_q(raw, mult, shift) + offset, lo, hi);
    }
    return;
  }
  for (int32_t i = 0; i < total; ++i) {
    const int32_t raw = table1[input1[off1] + 128] + table2[input2[off2] + 128];
    output[i] = (int8_t)ec_clamp(ec_mbqm_q(raw, mult, shift) + offset, lo, hi);
    for (int d = EC_MAX_DIMS - 1; d >= 0; --d) { /* advance the output index like an odometer */
      off1 += p->stride1[d];
      off2 += p->stride2[d];
      if (++index[d] < p->dims[d]) break;
      off1 -= p->stride1[d] * p->dims[d];
      off2 -= p->stride2[d] * p->dims[d];
      index[d] = 0;
    }
  }
}
