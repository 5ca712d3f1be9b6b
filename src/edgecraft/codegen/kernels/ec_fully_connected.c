/* FULLY_CONNECTED int8, portable C99 (TFLM FullyConnected / FullyConnectedPerChannel).
 * input (rows, depth), filter (units, depth), output (rows, units). */
#include "ec_kernels.h"

void ec_fully_connected_s8(const ec_fc_params *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, int8_t *output) {
  const int32_t mask = ec_unit_mask(p->per_channel);
  for (int32_t r = 0; r < p->rows; ++r) {
    const int8_t *in = input + r * p->depth;
    for (int32_t u = 0; u < p->units; ++u) {
      const int8_t *f = filter + u * p->depth;
      int32_t acc = 0;
      for (int32_t d = 0; d < p->depth; ++d) {
        acc += (f[d] + p->filter_offset) * (in[d] + p->input_offset);
      }
      if (bias) acc += bias[u];
      acc = ec_mbqm(acc, p->multiplier[u & mask], p->shift[u & mask]) + p->output_offset;
      output[r * p->units + u] = (int8_t)ec_clamp(acc, p->act_min, p->act_max);
    }
  }
}
