/* DEPTHWISE_CONV_2D int8 for Cortex-M4/M7/M33/M55: the portable kernel's arithmetic with the
 * loops turned around so the innermost one walks channels contiguously in memory (input,
 * filter and accumulators), EC_DW_CHUNK channels at a time; same results.
 * input (n, h, w, c), filter (1, kh, kw, c * m), output (n, oh, ow, c * m). */
#include "ec_kernels.h"

#define EC_DW_CHUNK 32

void ec_depthwise_conv_2d_s8(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                             const int32_t *bias, int8_t *output) {
  const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
  const int32_t k_h = p->filter.h, k_w = p->filter.w, out_c = p->filter.c;
  const int32_t m = p->depth_multiplier, off = p->input_offset;
  int32_t acc[EC_DW_CHUNK];
  for (int32_t b = 0; b < p->output.n; ++b) {
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      for (int32_t ox = 0; ox < p->output.w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        int8_t *out = output + ((b * p->output.h + oy) * p->output.w + ox) * out_c;
        for (int32_t c0 = 0; c0 < out_c; c0 += EC_DW_CHUNK) {
          const int32_t count = out_c - c0 < EC_DW_CHUNK ? out_c - c0 : EC_DW_CHUNK;
          for (int32_t k = 0; k < count; ++k) acc[k] = bias ? bias[c0 + k] : 0;
          for (int32_t ky = 0; ky < k_h; ++ky) {
            const int32_t y = y0 + p->dilation_h * ky;
            if (y < 0 || y >= in_h) continue;
            for (int32_t kx = 0; kx < k_w; ++kx) {
              const int32_t x = x0 + p->dilation_w * kx;
              if (x < 0 || x >= in_w) continue;
              const int8_t *in = input + ((b * in_h + y) * in_w + x) * in_c;
              const int8_t *f = filter + (ky * k_w + kx) * out_c + c0;
              if (m == 1) {
                in += c0;
                for (int32_t k = 0; k < count; ++k) acc[k] += f[k] * (in[k] + off);
              } else {
                for (int32_t k = 0; k < count; ++k) acc[k] += f[k] * (in[(c0 + k) / m] + off);
              }
            }
          }
          for (int32_t k = 0; k < count; ++k) {
            const int32_t oc = c0 + k;
            const int32_t v = ec_mbqm(acc[k], p->multiplier[oc], p->shift[oc]) + p->output_offset;
            out[oc] = (int8_t)ec_clamp(v, p->act_min, p->act_max);
          }
        }
      }
    }
  }
}
