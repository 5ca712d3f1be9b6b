/* PRELU int8 and int16 (alpha int8), portable C99 (TFLM's BroadcastPrelu4DSlow): x - zp_in
 * rescaled by input1_multiplier when non-negative, else (x - zp_in) * (alpha - zp_alpha)
 * rescaled by output_multiplier; plus zp_out, clamped. Broadcast by strides (0 repeats). */
#include "ec_kernels.h"

void ec_prelu(const ec_binary_params *p, int32_t in_bytes, const void *input, const int8_t *alpha,
              void *output) {
  int32_t index[EC_MAX_DIMS] = {0};
  int32_t total = 1, ox = 0, oa = 0;
  for (int d = 0; d < EC_MAX_DIMS; ++d) total *= p->dims[d];
  for (int32_t i = 0; i < total; ++i) {
    const int32_t raw = in_bytes == 1 ? ((const int8_t *)input)[ox] : ((const int16_t *)input)[ox];
    const int32_t x = raw + p->input1_offset;
    const int32_t v = x >= 0 ? ec_mbqm(x, p->input1_multiplier, p->input1_shift)
                             : ec_mbqm(x * (alpha[oa] + p->input2_offset), p->output_multiplier, p->output_shift);
    const int32_t out = ec_clamp(v + p->output_offset, p->act_min, p->act_max);
    if (in_bytes == 1) {
      ((int8_t *)output)[i] = (int8_t)out;
    } else {
      ((int16_t *)output)[i] = (int16_t)out;
    }
    for (int d = EC_MAX_DIMS - 1; d >= 0; --d) { /* advance like an odometer */
      ox += p->stride1[d];
      oa += p->stride2[d];
      if (++index[d] < p->dims[d]) break;
      ox -= p->stride1[d] * p->dims[d];
      oa -= p->stride2[d] * p->dims[d];
      index[d] = 0;
    }
  }
}
