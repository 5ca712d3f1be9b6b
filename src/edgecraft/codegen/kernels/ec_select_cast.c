/* SELECT_V2 (any element size, the three inputs broadcast) and CAST (int8, int16, int32,
 * float32 and bool to int8, int16, int32 and float32, C's conversions as TFLM's static_cast),
 * portable C99. */
#include <stddef.h>
#include <string.h>

#include "ec_kernels.h"

void ec_select(const ec_select_params *p, const uint8_t *condition, const void *x, const void *y, void *output) {
  const uint8_t *a = (const uint8_t *)x, *b = (const uint8_t *)y;
  uint8_t *out = (uint8_t *)output;
  int32_t index[EC_MAX_DIMS] = {0};
  int32_t total = 1, oc = 0, ox = 0, oy = 0;
  for (int d = 0; d < EC_MAX_DIMS; ++d) total *= p->dims[d];
  for (int32_t i = 0; i < total; ++i) {
    const uint8_t *src = condition[oc] ? a + (ptrdiff_t)ox * p->elem_size : b + (ptrdiff_t)oy * p->elem_size;
    memcpy(out + (ptrdiff_t)i * p->elem_size, src, (size_t)p->elem_size);
    for (int d = EC_MAX_DIMS - 1; d >= 0; --d) { /* advance like an odometer */
      oc += p->stride_c[d];
      ox += p->stride_x[d];
      oy += p->stride_y[d];
      if (++index[d] < p->dims[d]) break;
      oc -= p->stride_c[d] * p->dims[d];
      ox -= p->stride_x[d] * p->dims[d];
      oy -= p->stride_y[d] * p->dims[d];
      index[d] = 0;
    }
  }
}

void ec_cast(int32_t size, int32_t in_type, int32_t out_type, const void *input, void *output) {
  for (int32_t i = 0; i < size; ++i) {
    int64_t v = 0;
    float f = 0.0f;
    const int floating = in_type == EC_FLOAT32;
    switch (in_type) {
      case EC_INT8: v = ((const int8_t *)input)[i]; break;
      case EC_INT16: v = ((const int16_t *)input)[i]; break;
      case EC_INT32: v = ((const int32_t *)input)[i]; break;
      case EC_BOOL: v = ((const uint8_t *)input)[i] != 0; break;
      case EC_UINT32: v = ((const uint32_t *)input)[i]; break;
      default: f = ((const float *)input)[i]; break;
    }
    if (out_type == EC_FLOAT32) {
      ((float *)output)[i] = floating ? f : (float)v;
      continue;
    }
    if (floating) v = (int64_t)f; /* truncation toward zero */
    const uint32_t bits = (uint32_t)(uint64_t)v;  /* the low bits: C's narrowing wraps */
    switch (out_type) {
      case EC_INT8: ((int8_t *)output)[i] = (int8_t)(bits & 0xFF); break;
      case EC_INT16: ((int16_t *)output)[i] = (int16_t)(bits & 0xFFFF); break;
      case EC_UINT32: ((uint32_t *)output)[i] = bits; break;
      default: ((int32_t *)output)[i] = (int32_t)bits; break;
    }
  }
}
