/* ADD, SUB, MUL, MAXIMUM, MINIMUM and SQUARED_DIFFERENCE int16 with broadcasting, portable C99:
 * the int8 kernels' arithmetic (ec_binary_combine) with TFLM's int16 shifts in the parameter
 * block. Shapes are padded to 6 dimensions; a stride of 0 repeats an input. */
#include "ec_kernels.h"

void ec_binary_s16(const ec_binary_params *p, int32_t kind, const int16_t *input1, const int16_t *input2,
                   int16_t *output) {
  int32_t index[EC_MAX_DIMS] = {0};
  int32_t total = 1, off1 = 0, off2 = 0;
  for (int d = 0; d < EC_MAX_DIMS; ++d) total *= p->dims[d];
  for (int32_t i = 0; i < total; ++i) {
    output[i] = (int16_t)ec_binary_combine(p, kind, input1[off1], input2[off2]);
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
