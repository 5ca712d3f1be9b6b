/* TRANSPOSE_CONV, portable C99, as TFLM's reference kernels compute it: every input pixel's
 * products scattered onto the output pixels its filter taps reach (sums outside the output
 * dropped), then per output value the bias, the per-channel requantization and the clamp.
 * int8: int32 sums of (x + input_offset) * w in scratch; int16 (16x8): int64 sums of x * w,
 * no zero points; float32: float sums in the output itself. */
#include <string.h>

#include "ec_kernels.h"

/* The output range a tap covers along one axis: input positions i with 0 <= i * stride - pad
 * + f < size. */
#define EC_TCONV_SCATTER(ACC, X, W, WIDEN)                                                      \
  for (int32_t b = 0; b < p->batches; ++b)                                                      \
    for (int32_t iy = 0; iy < p->in_h; ++iy)                                                    \
      for (int32_t ix = 0; ix < p->in_w; ++ix) {                                                \
        const int32_t oy0 = iy * p->stride_h - p->pad_top, ox0 = ix * p->stride_w - p->pad_left; \
        for (int32_t fy = 0; fy < p->filter_h; ++fy) {                                          \
          const int32_t oy = oy0 + fy;                                                          \
          if (oy < 0 || oy >= p->out_h) continue;                                               \
          for (int32_t fx = 0; fx < p->filter_w; ++fx) {                                        \
            const int32_t ox = ox0 + fx;                                                        \
            if (ox < 0 || ox >= p->out_w) continue;                                             \
            const int32_t in_base = ((b * p->in_h + iy) * p->in_w + ix) * p->in_c;              \
            const int32_t out_base = ((b * p->out_h + oy) * p->out_w + ox) * p->out_c;          \
            for (int32_t oc = 0; oc < p->out_c; ++oc) {                                         \
              const int32_t w_base = ((oc * p->filter_h + fy) * p->filter_w + fx) * p->in_c;    \
              for (int32_t ic = 0; ic < p->in_c; ++ic)                                          \
                ACC[out_base + oc] += WIDEN(X[in_base + ic]) * W[w_base + ic];                  \
            }                                                                                   \
          }                                                                                     \
        }                                                                                       \
      }

static int32_t out_size(const ec_transpose_conv_params *p) {
  return p->batches * p->out_h * p->out_w * p->out_c;
}

#define EC_WIDEN_S8(v) ((int32_t)(v) + p->input_offset)
#define EC_WIDEN_S16(v) ((int64_t)(v))
#define EC_WIDEN_F32(v) (v)

void ec_transpose_conv_s8(const ec_transpose_conv_params *p, const int8_t *input, const int8_t *filter,
                          const int32_t *bias, int8_t *output, int32_t *scratch) {
  const int32_t n = out_size(p);
  memset(scratch, 0, (size_t)n * sizeof(int32_t));
  EC_TCONV_SCATTER(scratch, input, filter, EC_WIDEN_S8)
  for (int32_t k = 0; k < n; ++k) {
    const int32_t oc = k % p->out_c;
    int32_t acc = scratch[k] + (bias ? bias[oc] : 0);
    acc = ec_mbqm(acc, p->multiplier[oc], p->shift[oc]) + p->output_offset;
    output[k] = (int8_t)ec_clamp(acc, p->act_min, p->act_max);
  }
}

void ec_transpose_conv_s16(const ec_transpose_conv_params *p, const int16_t *input, const int8_t *filter,
                           const int64_t *bias, int16_t *output, int64_t *scratch) {
  const int32_t n = out_size(p);
  memset(scratch, 0, (size_t)n * sizeof(int64_t));
  EC_TCONV_SCATTER(scratch, input, filter, EC_WIDEN_S16)
  for (int32_t k = 0; k < n; ++k) {
    const int32_t oc = k % p->out_c;
    const int64_t acc = scratch[k] + (bias ? bias[oc] : 0);
    output[k] = (int16_t)ec_clamp(ec_mbqm64(acc, p->multiplier[oc], p->shift[oc]), p->act_min, p->act_max);
  }
}

void ec_transpose_conv_f32(const ec_transpose_conv_params *p, const float *input, const float *filter,
                           const float *bias, float *output) {
  const int32_t n = out_size(p);
  for (int32_t k = 0; k < n; ++k) output[k] = 0.0f;
  EC_TCONV_SCATTER(output, input, filter, EC_WIDEN_F32)
  for (int32_t k = 0; k < n; ++k) {
    float acc = output[k] + (bias ? bias[k % p->out_c] : 0.0f);
    acc = acc < p->act_min_f ? p->act_min_f : acc;
    output[k] = acc > p->act_max_f ? p->act_max_f : acc;
  }
}
