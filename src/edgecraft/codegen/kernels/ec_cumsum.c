/* CUMSUM and ADD_N, portable C99, as TFLM's reference kernels: int8 values offset, shifted left
 * by 20 and scaled by 1/2 into an int32 sum that starts at the scaled input offset, then scaled
 * to the output; float32 sums in order. The int32 sums wrap as two's complement. */
#include "ec_kernels.h"

static int32_t scaled(const ec_sum_params *p, int32_t q) {
  return ec_mbqm((q + p->input_offset) * (1 << 20), p->input_multiplier, p->input_shift);
}

static int8_t to_output(const ec_sum_params *p, int32_t acc) {
  return (int8_t)ec_clamp(ec_mbqm(acc, p->output_multiplier, p->output_shift) + p->output_zero_point, -128, 127);
}

static int32_t wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

/* The element (outer o, inner i, depth d) of the (inner, depth, outer) view, reversed if asked. */
static int32_t at(const ec_sum_params *p, int32_t i, int32_t d, int32_t o) {
  if (p->reverse) {
    i = p->inner - 1 - i;
    d = p->depth - 1 - d;
    o = p->outer - 1 - o;
  }
  return (i * p->depth + d) * p->outer + o;
}

void ec_cumsum_s8(const ec_sum_params *p, const int8_t *input, int8_t *output) {
  for (int32_t o = 0; o < p->outer; ++o) {
    for (int32_t i = 0; i < p->inner; ++i) {
      int32_t acc = scaled(p, 0);
      for (int32_t d = 0; d < p->depth; ++d) {
        const int32_t k = at(p, i, d, o);
        const int32_t v = scaled(p, input[k]);
        if (p->exclusive) {
          output[k] = to_output(p, acc);
          acc = wrap_add(acc, v);
        } else {
          acc = wrap_add(acc, v);
          output[k] = to_output(p, acc);
        }
      }
    }
  }
}

void ec_cumsum_f32(const ec_sum_params *p, const float *input, float *output) {
  for (int32_t o = 0; o < p->outer; ++o) {
    for (int32_t i = 0; i < p->inner; ++i) {
      float acc = 0.0f;
      for (int32_t d = 0; d < p->depth; ++d) {
        const int32_t k = at(p, i, d, o);
        if (p->exclusive) {
          output[k] = acc;
          acc += input[k];
        } else {
          acc += input[k];
          output[k] = acc;
        }
      }
    }
  }
}

void ec_add_n_s8(const ec_sum_params *p, int32_t n, const int8_t *const *inputs, int8_t *output) {
  for (int32_t k = 0; k < p->depth; ++k) {
    int32_t acc = scaled(p, 0);
    for (int32_t j = 0; j < n; ++j) acc = wrap_add(acc, scaled(p, inputs[j][k]));
    output[k] = to_output(p, acc);
  }
}

void ec_add_n_f32(const ec_sum_params *p, int32_t n, const float *const *inputs, float *output) {
  for (int32_t k = 0; k < p->depth; ++k) {
    float acc = 0.0f;
    for (int32_t j = 0; j < n; ++j) acc += inputs[j][k];
    output[k] = acc;
  }
}
