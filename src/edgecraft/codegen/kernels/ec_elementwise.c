/* ADD, SUB, MUL, MAXIMUM, MINIMUM and SQUARED_DIFFERENCE int8 with broadcasting, portable C99 (TFLM
 * reference_integer_ops add/mul and squared_difference.cc; SUB is ADD with the rescaled second input
 * subtracted, SQUARED_DIFFERENCE squares that difference before the output rescale). Shapes are padded to 6 dimensions;
 * a stride of 0 repeats an input along that dimension. */
#include "ec_kernels.h"

static void binary(const ec_binary_params *p, int kind, const int8_t *input1, const int8_t *input2,
                   int8_t *output) {
  int32_t index[EC_MAX_DIMS] = {0};
  int32_t total = 1, off1 = 0, off2 = 0;
  for (int d = 0; d < EC_MAX_DIMS; ++d) total *= p->dims[d];
  for (int32_t i = 0; i < total; ++i) {
    output[i] = (int8_t)ec_binary_combine(p, kind, input1[off1], input2[off2]);
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

void ec_add_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
  binary(p, EC_ADD, input1, input2, output);
}

void ec_sub_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
  binary(p, EC_SUB, input1, input2, output);
}

void ec_mul_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
  binary(p, EC_MUL, input1, input2, output);
}

void ec_maximum_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
  binary(p, EC_MAX, input1, input2, output);
}

void ec_minimum_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
  binary(p, EC_MIN, input1, input2, output);
}

void ec_squared_difference_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2,
                              int8_t *output) {
  binary(p, EC_SQDIFF, input1, input2, output);
}
