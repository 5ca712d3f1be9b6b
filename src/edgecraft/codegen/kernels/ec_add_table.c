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
  for (int32_t i = 0; i < total; ++i) {
    const int32_t raw = contiguous ? table1[input1[i] + 128] + table2[input2[i] + 128]
                                   : table1[input1[off1] + 128] + table2[input2[off2] + 128];
    const int32_t v = ec_mbqm_q(raw, p->output_multiplier, p->output_shift) + p->output_offset;
    output[i] = (int8_t)ec_clamp(v, p->act_min, p->act_max);
    if (contiguous) continue;
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
