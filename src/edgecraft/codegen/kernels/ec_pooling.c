/* AVERAGE_POOL_2D and MAX_POOL_2D int8, portable C99 (TFLM reference_integer_ops pooling).
 * input (n, h, w, c), output (n, oh, ow, c); windows are clipped to the image. */
#include "ec_kernels.h"

int ec_average_pool_s8(const ec_pool_params *p, const int8_t *input, int8_t *output) {
  const int32_t in_h = p->input.h, in_w = p->input.w, ch = p->input.c;
  for (int32_t b = 0; b < p->output.n; ++b) {
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      const int32_t ky0 = y0 < 0 ? -y0 : 0;
      const int32_t ky1 = p->filter_h < in_h - y0 ? p->filter_h : in_h - y0;
      for (int32_t ox = 0; ox < p->output.w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        const int32_t kx0 = x0 < 0 ? -x0 : 0;
        const int32_t kx1 = p->filter_w < in_w - x0 ? p->filter_w : in_w - x0;
        for (int32_t c = 0; c < ch; ++c) {
          int32_t acc = 0, count = 0;
          for (int32_t ky = ky0; ky < ky1; ++ky) {
            for (int32_t kx = kx0; kx < kx1; ++kx) {
              acc += input[((b * in_h + y0 + ky) * in_w + x0 + kx) * ch + c];
              ++count;
            }
          }
          if (count == 0) return -1;
          acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
          output[((b * p->output.h + oy) * p->output.w + ox) * ch + c] =
              (int8_t)ec_clamp(acc, p->act_min, p->act_max);
        }
      }
    }
  }
  return 0;
}

void ec_max_pool_s8(const ec_pool_params *p, const int8_t *input, int8_t *output) {
  const int32_t in_h = p->input.h, in_w = p->input.w, ch = p->input.c;
  for (int32_t b = 0; b < p->output.n; ++b) {
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      const int32_t ky0 = y0 < 0 ? -y0 : 0;
      const int32_t ky1 = p->filter_h < in_h - y0 ? p->filter_h : in_h - y0;
      for (int32_t ox = 0; ox < p->output.w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        const int32_t kx0 = x0 < 0 ? -x0 : 0;
        const int32_t kx1 = p->filter_w < in_w - x0 ? p->filter_w : in_w - x0;
        for (int32_t c = 0; c < ch; ++c) {
          int32_t best = -128;
          for (int32_t ky = ky0; ky < ky1; ++ky) {
            for (int32_t kx = kx0; kx < kx1; ++kx) {
              const int32_t v = input[((b * in_h + y0 + ky) * in_w + x0 + kx) * ch + c];
              if (v > best) best = v;
            }
          }
          output[((b * p->output.h + oy) * p->output.w + ox) * ch + c] =
              (int8_t)ec_clamp(best, p->act_min, p->act_max);
        }
      }
    }
  }
}
