/* MEAN and SUM int16 and the int16 activations RELU, RELU6, LEAKY_RELU and ABS, portable C99
 * (TFLM's QuantizedMeanOrSum<int16_t>, ReluQuantized, Relu6, QuantizeLeakyRelu and the
 * quantized ABS on int16). */
#include "ec_kernels.h"

/* Offset of the idx-th element of a box with the given dims and strides. */
static int32_t ec_box_offset(int32_t idx, const int32_t *dims, const int32_t *strides, int32_t n) {
  int32_t off = 0;
  for (int32_t d = n - 1; d >= 0; --d) {
    off += (idx % dims[d]) * strides[d];
    idx /= dims[d];
  }
  return off;
}

void ec_mean_s16(const ec_mean_params *p, const int16_t *input, int16_t *output) {
  for (int32_t o = 0; o < p->out_count; ++o) {
    const int16_t *base = input + ec_box_offset(o, p->kept_dims, p->kept_strides, p->n_kept);
    int32_t sum = 0;
    for (int32_t r = 0; r < p->count; ++r) sum += base[ec_box_offset(r, p->red_dims, p->red_strides, p->n_red)];
    const int32_t v = ec_mbqm(sum - p->input_zp_times_count, p->multiplier, p->shift) + p->output_offset;
    output[o] = (int16_t)ec_clamp(v, -32768, 32767);
  }
}

void ec_unary_s16(const ec_unary16_params *p, const int16_t *input, int16_t *output) {
  for (int32_t i = 0; i < p->size; ++i) {
    int32_t x = input[i] + p->input_offset;
    if (p->absolute && x < 0) x = -x;
    int32_t v = x;
    if (x >= 0 && p->multiplier) {
      v = ec_mbqm(x, p->multiplier, p->shift);
    } else if (x < 0 && p->negative_multiplier) {
      v = p->negative_sign * ec_mbqm(x, p->negative_multiplier, p->negative_shift);
    } else if (x < 0 && p->negative_sign == 0) {
      v = 0;
    }
    output[i] = (int16_t)ec_clamp(v + p->output_offset, p->act_min, p->act_max);
  }
}
