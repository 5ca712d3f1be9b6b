/* EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL on int8: each input's rescaling to
 * the common fixed point (value minus zero point, shifted left by 8, times its scale as a
 * multiplier below one) depends on its int8 value alone, so the C generator tabulates it for
 * all 256 values with the reference arithmetic; per element this leaves two lookups and one
 * comparison. The output is bool, one byte (0 or 1) per element. Shapes and strides as
 * ec_binary_params (only dims, stride1 and stride2 are read). */
#include "ec_kernels.h"

static uint8_t ec_compare_one(int32_t op, int32_t a, int32_t b) {
  switch (op) {
    case EC_CMP_EQUAL: return (uint8_t)(a == b);
    case EC_CMP_NOT_EQUAL: return (uint8_t)(a != b);
    case EC_CMP_LESS: return (uint8_t)(a < b);
    case EC_CMP_LESS_EQUAL: return (uint8_t)(a <= b);
    case EC_CMP_GREATER: return (uint8_t)(a > b);
    default: return (uint8_t)(a >= b);
  }
}

void ec_compare_s8(const ec_binary_params *p, int32_t op, const int32_t *table1, const int32_t *table2,
                   const int8_t *input1, const int8_t *input2, uint8_t *output) {
  int32_t index[EC_MAX_DIMS] = {0};
  int32_t total = 1, off1 = 0, off2 = 0;
  for (int d = 0; d < EC_MAX_DIMS; ++d) total *= p->dims[d];
  for (int32_t i = 0; i < total; ++i) {
    output[i] = ec_compare_one(op, table1[input1[off1] + 128], table2[input2[off2] + 128]);
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

/* LOGICAL_AND (op 0) and LOGICAL_OR (op 1) on bool bytes, broadcasting as above. */
void ec_logical_u8(const ec_binary_params *p, int32_t op, const uint8_t *input1, const uint8_t *input2,
                   uint8_t *output) {
  int32_t index[EC_MAX_DIMS] = {0};
  int32_t total = 1, off1 = 0, off2 = 0;
  for (int d = 0; d < EC_MAX_DIMS; ++d) total *= p->dims[d];
  for (int32_t i = 0; i < total; ++i) {
    const int a = input1[off1] != 0, b = input2[off2] != 0;
    output[i] = (uint8_t)(op == 0 ? (a && b) : (a || b));
    for (int d = EC_MAX_DIMS - 1; d >= 0; --d) {
      off1 += p->stride1[d];
      off2 += p->stride2[d];
      if (++index[d] < p->dims[d]) break;
      off1 -= p->stride1[d] * p->dims[d];
      off2 -= p->stride2[d] * p->dims[d];
      index[d] = 0;
    }
  }
}
