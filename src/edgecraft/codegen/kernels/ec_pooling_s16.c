/* AVERAGE_POOL_2D and MAX_POOL_2D int16, portable C99 (TFLM reference_integer_ops pooling on
 * int16: the int8 arithmetic). input (n, h, w, c), output (n, oh, ow, c); windows are clipped
 * to the image. */
#include "ec_kernels.h"

/* kind 0: average (returns -1 when a window holds no input), 1: maximum. */
int ec_pool_s16(const ec_pool_params *p, int32_t kind, const int16_t *input, int16_t *output) {
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
        const int32_t count = (ky1 - ky0) * (kx1 - kx0);
        if (kind == 0 && (ky1 <= ky0 || kx1 <= kx0)) return -1;
        int16_t *out = output + ((b * p->output.h + oy) * p->output.w + ox) * ch;
        for (int32_t c = 0; c < ch; ++c) {
          int32_t acc = kind == 0 ? 0 : -32768;
          for (int32_t ky = ky0; ky < ky1; ++ky) {
            for (int32_t kx = kx0; kx < kx1; ++kx) {
              const int32_t v = input[((b * in_h + y0 + ky) * in_w + x0 + kx) * ch + c];
              if (kind == 0) {
                acc += v;
              } else if (v > acc) {
                acc = v;
              }
            }
          }
          if (kind == 0) acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
          out[c] = (int16_t)ec_clamp(acc, p->act_min, p->act_max);
        }
      }
    }
  }
  return 0;
}
