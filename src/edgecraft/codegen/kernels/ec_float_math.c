/* float32 elementwise ops, portable C99 with the C library's math functions, as TFLM's float
 * kernels: unary ops (ABS .. TANH, one switch on the kind), two-input arithmetic with
 * broadcasting and the fused activation's clamp, and the comparisons (a bool byte out). */
#include <math.h>

#include "ec_kernels.h"

static float unary(int32_t kind, float alpha, float x) {
  switch (kind) {
    case EC_F_ABS: return fabsf(x);
    case EC_F_NEG: return -x;
    case EC_F_SQUARE: return x * x;
    case EC_F_SQRT: return sqrtf(x);
    case EC_F_RSQRT: return 1.0f / sqrtf(x);
    case EC_F_EXP: return expf(x);
    case EC_F_LOG: return logf(x);
    case EC_F_SIN: return sinf(x);
    case EC_F_COS: return cosf(x);
    case EC_F_CEIL: return ceilf(x);
    case EC_F_FLOOR: return floorf(x);
    case EC_F_RELU: return x < 0.0f ? 0.0f : x;
    case EC_F_RELU6: return x > 6.0f ? 6.0f : (x < 0.0f ? 0.0f : x);
    case EC_F_TANH: return tanhf(x);
    case EC_F_ELU: return x < 0.0f ? expm1f(x) : x;
    case EC_F_HARD_SWISH: {
      const float r = x + 3.0f;
      return x * (r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r)) / 6.0f;
    }
    case EC_F_LEAKY_RELU: return x > 0.0f ? x : x * alpha;
    case EC_F_ROUND: return rintf(x); /* ties to even in the default rounding mode */
    default: return ec_logistic_f32(x); /* EC_F_LOGISTIC */
  }
}

void ec_unary_f32(int32_t size, int32_t kind, float alpha, const float *input, float *output) {
  for (int32_t i = 0; i < size; ++i) output[i] = unary(kind, alpha, input[i]);
}

static float combine(int32_t kind, float a, float b) {
  switch (kind) {
    case EC_ADD: return a + b;
    case EC_SUB: return a - b;
    case EC_MUL: return a * b;
    case EC_MAX: return a > b ? a : b;
    case EC_MIN: return a < b ? a : b;
    case EC_SQDIFF: return (a - b) * (a - b);
    case EC_F_DIV: return a / b;
    case EC_F_FLOOR_DIV: return (float)floor((double)a / (double)b);
    case EC_F_PRELU: return a >= 0.0f ? a : a * b;
    default: { /* EC_F_FLOOR_MOD */
      const float m = fmodf(a, b);
      return (m != 0.0f && ((b < 0.0f) != (m < 0.0f))) ? m + b : m;
    }
  }
}

/* The element count of the (padded) output shape. */
static int32_t total(const ec_binary_params *p) {
  int32_t n = 1;
  for (int d = 0; d < EC_MAX_DIMS; ++d) n *= p->dims[d];
  return n;
}

/* Advances the output index like an odometer, the inputs' offsets by their broadcast strides. */
static void advance(const ec_binary_params *p, int32_t *index, int32_t *off1, int32_t *off2) {
  for (int d = EC_MAX_DIMS - 1; d >= 0; --d) {
    *off1 += p->stride1[d];
    *off2 += p->stride2[d];
    if (++index[d] < p->dims[d]) return;
    *off1 -= p->stride1[d] * p->dims[d];
    *off2 -= p->stride2[d] * p->dims[d];
    index[d] = 0;
  }
}

void ec_binary_f32(const ec_binary_params *p, int32_t kind, float act_min, float act_max, const float *input1,
                   const float *input2, float *output) {
  int32_t index[EC_MAX_DIMS] = {0}, off1 = 0, off2 = 0;
  const int32_t n = total(p);
  for (int32_t i = 0; i < n; ++i, advance(p, index, &off1, &off2)) {
    const float v = combine(kind, input1[off1], input2[off2]);
    output[i] = v < act_min ? act_min : (v > act_max ? act_max : v);
  }
}

/* kind: the index in (EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL). */
void ec_compare_f32(const ec_binary_params *p, int32_t kind, const float *input1, const float *input2,
                    uint8_t *output) {
  int32_t index[EC_MAX_DIMS] = {0}, off1 = 0, off2 = 0;
  const int32_t n = total(p);
  for (int32_t i = 0; i < n; ++i, advance(p, index, &off1, &off2)) {
    const float a = input1[off1], b = input2[off2];
    int r;
    switch (kind) {
      case 0: r = a == b; break;
      case 1: r = a != b; break;
      case 2: r = a < b; break;
      case 3: r = a <= b; break;
      case 4: r = a > b; break;
      default: r = a >= b; break;
    }
    output[i] = (uint8_t)r;
  }
}
