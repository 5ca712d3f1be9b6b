/* Data movement and table ops, portable C99: strided N-d copies (TRANSPOSE, STRIDED_SLICE,
 * CONCATENATION), 256-entry lookup tables for unary int8 ops (RELU, RELU6, LEAKY_RELU,
 * LOGISTIC, TANH, HARD_SWISH, DEQUANTIZE; the tables are the Python reference kernels evaluated
 * on every int8 value at build time, so they are exact by construction). */
#include <stddef.h>
#include <string.h>

#include "ec_kernels.h"

void ec_copy_nd(const ec_copy_params *p, const void *input, void *output) {
  const uint8_t *src = (const uint8_t *)input;
  uint8_t *dst = (uint8_t *)output;
  int32_t index[EC_MAX_DIMS] = {0};
  int32_t total = 1, s = 0, d = 0;
  for (int k = 0; k < EC_MAX_DIMS; ++k) total *= p->dims[k];
  for (int32_t i = 0; i < total; ++i) {
    if (p->elem_size == 1) {
      dst[d] = src[s];
    } else {
      memcpy(dst + (ptrdiff_t)d * p->elem_size, src + (ptrdiff_t)s * p->elem_size, (size_t)p->elem_size);
    }
    for (int k = EC_MAX_DIMS - 1; k >= 0; --k) { /* advance like an odometer */
      s += p->src_strides[k];
      d += p->dst_strides[k];
      if (++index[k] < p->dims[k]) break;
      s -= p->src_strides[k] * p->dims[k];
      d -= p->dst_strides[k] * p->dims[k];
      index[k] = 0;
    }
  }
}

void ec_lut_s8(int32_t size, const int8_t *table, const int8_t *input, int8_t *output) {
  for (int32_t i = 0; i < size; ++i) output[i] = table[input[i] + 128];
}

void ec_lut_s8_f32(int32_t size, const float *table, const int8_t *input, float *output) {
  for (int32_t i = 0; i < size; ++i) output[i] = table[input[i] + 128];
}
