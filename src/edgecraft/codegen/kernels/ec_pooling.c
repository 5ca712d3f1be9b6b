/* AVERAGE_POOL_2D and MAX_POOL_2D int8, portable C99 (TFLM reference_integer_ops pooling).
 * input (n, h, w, c), output (n, oh, ow, c); windows are clipped to the image.
 * With EC_POOL_PAIRS (the default on cores with the DSP extension) the average adds four
 * channels per input word into two words of halfword sums (SXTAB16), moved into 32-bit sums
 * before they could overflow (255 pixels: 255 x 128 < 2^15). A window over the whole image
 * (the classifier heads) has its own small entry, ec_global_average_pool_s8. */
#include "ec_kernels.h"

#if !defined(EC_POOL_PAIRS) && defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define EC_POOL_PAIRS 1
#endif
/* Halfword sums of at most 255 pixels before their 32-bit sums take them. */
#define EC_POOL_RUN 255
#if defined(EC_POOL_PAIRS) && EC_POOL_PAIRS
#include <string.h>

/* h + the sign-extended bytes 0 and 2 (odd: 1 and 3) of x, as two halfwords (SXTAB16). */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
static inline int32_t add_even(int32_t h, uint32_t x) {
  int32_t r;
  __asm__("sxtab16 %0, %1, %2" : "=r"(r) : "r"(h), "r"(x));
  return r;
}
static inline int32_t add_odd(int32_t h, uint32_t x) {
  int32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(h), "r"(x));
  return r;
}
#else
static inline int32_t add_even(int32_t h, uint32_t x) {
  const uint32_t lo = (uint16_t)((int16_t)h + (int8_t)(x & 0xFF));
  const uint32_t hi = (uint16_t)((int16_t)(h >> 16) + (int8_t)((x >> 16) & 0xFF));
  return (int32_t)((hi << 16) | lo);
}
static inline int32_t add_odd(int32_t h, uint32_t x) { return add_even(h, (x >> 8) | (x << 24)); }
#endif


/* s[0..3] += the four channels at row[0..3] over rows x width pixels (steps row_step, ch). */
static void sum4(const int8_t *row, int32_t rows, int32_t width, int32_t row_step, int32_t ch, int32_t s[4]) {
  int32_t h02 = 0, h13 = 0, room = EC_POOL_RUN;
  if (width * ch == row_step) { /* whole rows of the image: one run of pixels */
    width *= rows;
    rows = 1;
  }
  for (; rows > 0; --rows, row += row_step) {
    const int8_t *px = row;
    for (int32_t left = width; left > 0;) {
      if (room == 0) { /* long windows: empty the halfword sums */
        s[0] += (int16_t)h02;
        s[2] += h02 >> 16;
        s[1] += (int16_t)h13;
        s[3] += h13 >> 16;
        h02 = h13 = 0;
        room = EC_POOL_RUN;
      }
      const int32_t n = left < room ? left : room;
      left -= n;
      room -= n;
      int32_t k = n;
      for (; k > 1; k -= 2, px += 2 * ch) {
        uint32_t x, y;
        memcpy(&x, px, 4); /* one unaligned LDR on Cortex-M3 and up */
        memcpy(&y, px + ch, 4);
        h02 = add_even(add_even(h02, x), y);
        h13 = add_odd(add_odd(h13, x), y);
      }
      if (k) {
        uint32_t x;
        memcpy(&x, px, 4);
        h02 = add_even(h02, x);
        h13 = add_odd(h13, x);
        px += ch;
      }
    }
  }
  s[0] += (int16_t)h02;
  s[2] += h02 >> 16;
  s[1] += (int16_t)h13;
  s[3] += h13 >> 16;
}
#else
/* s[0..3] += the four channels at row[0..3] over rows x width pixels (steps row_step, ch). */
static void sum4(const int8_t *row, int32_t rows, int32_t width, int32_t row_step, int32_t ch, int32_t s[4]) {
  int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (; rows > 0; --rows, row += row_step) {
    const int8_t *px = row;
    for (int32_t kx = 0; kx < width; ++kx, px += ch) {
      s0 += px[0];
      s1 += px[1];
      s2 += px[2];
      s3 += px[3];
    }
  }
  s[0] = s0;
  s[1] = s1;
  s[2] = s2;
  s[3] = s3;
}
#endif

/* Rounded mean of a window sum, as TFLM: half away from zero. */
static inline int8_t average_of(int32_t acc, int32_t count, int32_t lo, int32_t hi) {
  acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
  return (int8_t)ec_clamp(acc, lo, hi);
}

int ec_average_pool_s8(const ec_pool_params *p, const int8_t *input, int8_t *output) {
  const int32_t in_h = p->input.h, in_w = p->input.w, ch = p->input.c;
  const int32_t lo = p->act_min, hi = p->act_max;
  int8_t *out = output;
  for (int32_t b = 0; b < p->output.n; ++b) {
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      const int32_t ky0 = y0 < 0 ? -y0 : 0;
      const int32_t ky1 = p->filter_h < in_h - y0 ? p->filter_h : in_h - y0;
      for (int32_t ox = 0; ox < p->output.w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        const int32_t kx0 = x0 < 0 ? -x0 : 0;
        const int32_t kx1 = p->filter_w < in_w - x0 ? p->filter_w : in_w - x0;
        const int32_t rows = ky1 - ky0, width = kx1 - kx0, row_step = in_w * ch;
        if (rows <= 0 || width <= 0) return -1;
        /* the window's first pixel */
        const int8_t *first = input + ((b * in_h + y0 + ky0) * in_w + x0 + kx0) * ch;
        for (int32_t c = 0; c < ch;) { /* four channels at a time, then one */
          const int32_t n = ch - c >= 4 ? 4 : 1;
          int32_t s[4] = {0, 0, 0, 0};
          const int8_t *row = first + c;
          if (n == 4) {
            sum4(row, rows, width, row_step, ch, s);
          } else {
            for (int32_t ky = 0; ky < rows; ++ky, row += row_step) {
              for (int32_t kx = 0; kx < width; ++kx) {
                for (int32_t k = 0; k < n; ++k) s[k] += row[kx * ch + k];
              }
            }
          }
          for (int32_t k = 0; k < n; ++k) *out++ = average_of(s[k], rows * width, lo, hi);
          c += n;
        }
      }
    }
  }
  return 0;
}

/* AVERAGE_POOL_2D whose window is the whole image (filter = input size, VALID; the classifier
 * head of KWS, MobileNet and ResNet), built for flash: input (pixels, ch), output (ch), one
 * batch; ch a multiple of 4 and at most EC_POOL_RUN pixels, as the generator checks (with
 * EC_POOL_PAIRS the halfword sums then cannot overflow). */
void ec_global_average_pool_s8(const int8_t *input, int8_t *output, int32_t pixels, int32_t ch, int32_t lo,
                               int32_t hi) {
  for (int32_t c = 0; c < ch; c += 4, input += 4) {
    const int8_t *px = input;
#if defined(EC_POOL_PAIRS) && EC_POOL_PAIRS
    int32_t h02 = 0, h13 = 0;
    /* two pixels a turn: 4.5 instructions each, not 6 */
    for (const int8_t *end = px + (pixels & ~1) * ch; px != end; px += 2 * ch) {
      uint32_t x, y;
      memcpy(&x, px, 4);
      memcpy(&y, px + ch, 4);
      h02 = add_even(add_even(h02, x), y);
      h13 = add_odd(add_odd(h13, x), y);
    }
    if (pixels & 1) {
      uint32_t x;
      memcpy(&x, px, 4);
      h02 = add_even(h02, x);
      h13 = add_odd(h13, x);
    }
    const int32_t s[4] = {(int16_t)h02, (int16_t)h13, h02 >> 16, h13 >> 16};
#else
    int32_t s[4] = {0, 0, 0, 0};
    for (int32_t k = pixels; k > 0; --k, px += ch) {
      for (int32_t j = 0; j < 4; ++j) s[j] += px[j];
    }
#endif
    for (int32_t j = 0; j < 4; ++j) *output++ = average_of(s[j], pixels, lo, hi);
  }
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
