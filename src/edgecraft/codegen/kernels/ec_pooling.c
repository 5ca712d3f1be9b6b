/* AVERAGE_POOL_2D and MAX_POOL_2D int8, portable C99 (TFLM reference_integer_ops pooling).
 * input (n, h, w, c), output (n, oh, ow, c); windows are clipped to the image. */
#include "ec_kernels.h"

/* Rounded mean of a window sum, as TFLM: half away from zero. */
static inline int8_t average_of(int32_t acc, int32_t count, int32_t lo, int32_t hi) {
  acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
  return (int8_t)ec_clamp(acc, lo, hi);
}

int ec_average_pool_s8(const ec_pool_params *p, const int8_t *input, int8_t *output) {
  const int32_t in_h = p->input.h, in_w = p->input.w, ch = p->input.c;
  const int32_t lo = p->act_min, hi = p->act_max;
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
        if (ky1 <= ky0 || kx1 <= kx0) return -1;
        /* the window's first pixel, the step to the next row of the window */
        const int8_t *first = input + ((b * in_h + y0 + ky0) * in_w + x0 + kx0) * ch;
        const int32_t width = kx1 - kx0, row_step = in_w * ch;
        int8_t *out = output + ((b * p->output.h + oy) * p->output.w + ox) * ch;
        int32_t c = 0;
        for (; c + 4 <= ch; c += 4) { /* four channels at a time, sums in registers */
          int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          const int8_t *row = first + c;
          for (int32_t ky = ky0; ky < ky1; ++ky, row += row_step) {
            const int8_t *px = row;
            for (int32_t kx = 0; kx < width; ++kx, px += ch) {
              s0 += px[0];
              s1 += px[1];
              s2 += px[2];
              s3 += px[3];
            }
          }
          out[c] = average_of(s0, count, lo, hi);
          out[c + 1] = average_of(s1, count, lo, hi);
          out[c + 2] = average_of(s2, count, lo, hi);
          out[c + 3] = average_of(s3, count, lo, hi);
        }
        for (; c < ch; ++c) {
          int32_t acc = 0;
          const int8_t *row = first + c;
          for (int32_t ky = ky0; ky < ky1; ++ky, row += row_step) {
            for (int32_t kx = 0; kx < width; ++kx) acc += row[kx * ch];
          }
          out[c] = average_of(acc, count, lo, hi);
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
