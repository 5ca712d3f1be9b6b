/* DEPTHWISE_CONV_2D int8, portable C99 (TFLM DepthwiseConvPerChannel arithmetic).
 * input (n, h, w, c), filter (1, kh, kw, c * m), output (n, oh, ow, c * m). */
#include "ec_kernels.h"

void ec_depthwise_conv_2d_s8(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                             const int32_t *bias, int8_t *output) {
  const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
  const int32_t k_h = p->filter.h, k_w = p->filter.w, out_c = p->filter.c;
  const int32_t m = p->depth_multiplier;
  for (int32_t b = 0; b < p->output.n; ++b) {
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      for (int32_t ox = 0; ox < p->output.w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        int8_t *out = output + ((b * p->output.h + oy) * p->output.w + ox) * out_c;
        for (int32_t ic = 0; ic < in_c; ++ic) {
          for (int32_t j = 0; j < m; ++j) {
            const int32_t oc = ic * m + j;
            int32_t acc = 0;
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
            if (bias) acc += bias[oc];
            acc = ec_mbqm(acc, p->multiplier[oc], p->shift[oc]) + p->output_offset;
            out[oc] = (int8_t)ec_clamp(acc, p->act_min, p->act_max);
          }
        }
      }
    }
  }
}
