/* FULLY_CONNECTED int8 for cores with the DSP extension: four units at a time with SMLAD
 * (ec_dsp.h); same results as the portable kernel. A filter with a nonzero zero point (rare:
 * int8 filters are symmetric) takes the plain loop.
 * input (rows, depth), filter (units, depth), output (rows, units). */
#include "ec_dsp.h"
#include "ec_kernels.h"

void ec_fully_connected_s8(const ec_fc_params *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, int8_t *output) {
  const int32_t depth = p->depth;
  for (int32_t r = 0; r < p->rows; ++r) {
    const int8_t *in = input + r * depth;
    int32_t u = 0;
    while (u < p->units) {
      const int count = p->filter_offset == 0 && p->units - u >= 4 ? 4 : 1;
      int32_t acc[4] = {0, 0, 0, 0};
      const int8_t *f = filter + u * depth;
      if (count == 4) {
        ec_dot4(in, f, depth, depth, p->input_offset, acc);
      } else if (p->filter_offset == 0) {
        acc[0] = ec_dot1(in, f, depth, p->input_offset, 0);
      } else {
        for (int32_t d = 0; d < depth; ++d) acc[0] += (f[d] + p->filter_offset) * (in[d] + p->input_offset);
      }
      for (int k = 0; k < count; ++k, ++u) {
        int32_t v = acc[k] + (bias ? bias[u] : 0);
        v = ec_mbqm(v, p->multiplier[u], p->shift[u]) + p->output_offset;
        output[r * p->units + u] = (int8_t)ec_clamp(v, p->act_min, p->act_max);
      }
    }
  }
}
