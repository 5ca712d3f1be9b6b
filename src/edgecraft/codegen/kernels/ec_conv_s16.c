/* CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED in the 16x8 scheme, portable C99: int16
 * activations, int8 filters, an int64 bias summed in int64 and scaled by TFLM's int64
 * MultiplyByQuantizedMultiplier, or an int32 bias summed in (wrapping) int32 and scaled by the
 * int32 one (TFLM's ConvPerChannel<AccumScalar>, DepthwiseConvPerChannel, FullyConnected*).
 * The offsets come from the parameter block: the convolutions' are 0 (TFLM's int16 kernels
 * use no zero points), fully connected's are the zero points. */
#include "ec_kernels.h"

/* bias + sum, scaled for output channel c, offset and clamped. acc32: int32 accumulators and
 * an int32 bias; else int64 ones and an int64 bias (NULL: none). */
static int16_t ec_finish_s16(int64_t acc, const void *bias, int32_t acc32, int32_t c, int32_t multiplier,
                             int32_t shift, int32_t offset, int32_t lo, int32_t hi) {
  int32_t out;
  if (acc32) {
    if (bias) acc += ((const int32_t *)bias)[c];
    out = ec_mbqm(ec_wrap32(acc), multiplier, shift);
  } else {
    if (bias) acc += ((const int64_t *)bias)[c];
    out = ec_mbqm64(acc, multiplier, shift);
  }
  return (int16_t)ec_clamp(out + offset, lo, hi);
}

void ec_conv_2d_s16(const ec_conv_params *p, const int16_t *input, const int8_t *filter,
                    const void *bias, int32_t acc32, int16_t *output) {
  const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
  const int32_t out_c = p->filter.n, k_h = p->filter.h, k_w = p->filter.w, group_c = p->filter.c;
  const int32_t per_group = out_c / (in_c / group_c);
  for (int32_t b = 0; b < p->output.n; ++b) {
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      for (int32_t ox = 0; ox < p->output.w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        for (int32_t oc = 0; oc < out_c; ++oc) {
          const int32_t c0 = (oc / per_group) * group_c;
          int64_t acc = 0;
          for (int32_t ky = 0; ky < k_h; ++ky) {
            const int32_t y = y0 + p->dilation_h * ky;
            if (y < 0 || y >= in_h) continue;
            for (int32_t kx = 0; kx < k_w; ++kx) {
              const int32_t x = x0 + p->dilation_w * kx;
              if (x < 0 || x >= in_w) continue;
              const int16_t *in = input + ((b * in_h + y) * in_w + x) * in_c + c0;
              const int8_t *f = filter + ((oc * k_h + ky) * k_w + kx) * group_c;
              for (int32_t ic = 0; ic < group_c; ++ic) acc += f[ic] * (in[ic] + p->input_offset);
            }
          }
          output[((b * p->output.h + oy) * p->output.w + ox) * out_c + oc] = ec_finish_s16(
              acc, bias, acc32, oc, p->multiplier[oc], p->shift[oc], p->output_offset, p->act_min, p->act_max);
        }
      }
    }
  }
}

void ec_depthwise_conv_2d_s16(const ec_conv_params *p, const int16_t *input, const int8_t *filter,
                              const int64_t *bias, int16_t *output) {
  const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
  const int32_t k_h = p->filter.h, k_w = p->filter.w, out_c = p->filter.c;
  const int32_t m = p->depth_multiplier;
  for (int32_t b = 0; b < p->output.n; ++b) {
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      for (int32_t ox = 0; ox < p->output.w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        int16_t *out = output + ((b * p->output.h + oy) * p->output.w + ox) * out_c;
        for (int32_t ic = 0; ic < in_c; ++ic) {
          for (int32_t j = 0; j < m; ++j) {
            const int32_t oc = ic * m + j;
            int64_t acc = 0;
            for (int32_t ky = 0; ky < k_h; ++ky) {
              const int32_t y = y0 + p->dilation_h * ky;
              if (y < 0 || y >= in_h) continue;
              for (int32_t kx = 0; kx < k_w; ++kx) {
                const int32_t x = x0 + p->dilation_w * kx;
                if (x < 0 || x >= in_w) continue;
                const int32_t v = input[((b * in_h + y) * in_w + x) * in_c + ic];
                acc += filter[(ky * k_w + kx) * out_c + oc] * (v + p->input_offset);
              }
            }
            out[oc] = ec_finish_s16(acc, bias, 0, oc, p->multiplier[oc], p->shift[oc], p->output_offset,
                                    p->act_min, p->act_max);
          }
        }
      }
    }
  }
}

void ec_fully_connected_s16(const ec_fc_params *p, const int16_t *input, const int8_t *filter,
                            const void *bias, int32_t acc32, int16_t *output) {
  const int32_t mask = ec_unit_mask(p->per_channel);
  for (int32_t r = 0; r < p->rows; ++r) {
    const int16_t *in = input + r * p->depth;
    for (int32_t u = 0; u < p->units; ++u) {
      const int8_t *f = filter + u * p->depth;
      int64_t acc = 0;
      for (int32_t d = 0; d < p->depth; ++d) {
        acc += (int32_t)(f[d] + p->filter_offset) * (in[d] + p->input_offset);
      }
      output[r * p->units + u] = ec_finish_s16(acc, bias, acc32, u, p->multiplier[u & mask], p->shift[u & mask],
                                               p->output_offset, p->act_min, p->act_max);
    }
  }
}

/* BATCH_MATMUL int16 x int16 for one batch (TFLM's BatchMatMul<int16_t, int64_t>): input
 * (rows, depth), rhs transposed (units, depth), int64 sums through the int64 multiply. */
void ec_batch_matmul_s16(const ec_fc_params *p, const int16_t *input, const int16_t *rhs,
                         const int64_t *bias, int16_t *output) {
  const int32_t mask = ec_unit_mask(p->per_channel);
  for (int32_t r = 0; r < p->rows; ++r) {
    const int16_t *in = input + r * p->depth;
    for (int32_t u = 0; u < p->units; ++u) {
      const int16_t *f = rhs + u * p->depth;
      int64_t acc = 0;
      for (int32_t d = 0; d < p->depth; ++d) {
        acc += (int32_t)(f[d] + p->filter_offset) * (int32_t)(in[d] + p->input_offset);
      }
      output[r * p->units + u] = ec_finish_s16(acc, bias, 0, u, p->multiplier[u & mask], p->shift[u & mask],
                                               p->output_offset, p->act_min, p->act_max);
    }
  }
}
