/* DEPTHWISE_CONV_2D int8 on the DSP extension, the quick case the C generator picks when it
 * holds: depth multiplier 1, the int8 clamp, right shifts only and accumulators it proved
 * within int32 (see ec_requant_quick). Four channels at a time, one output pixel, the accumulators in
 * registers: per filter tap one word of four input channels split into offset halfword pairs
 * (channels 0, 2 and 1, 3) with SXTAB16, and four single multiply-accumulates (SMLABB, SMLATT)
 * against filter values the generator stored already as those halfword pairs; a row of up to
 * three taps is written out (no loop), a whole 3x3 window too. Only taps inside the image are
 * visited (as TFLM skips the others).
 * filter_pairs: for each group of four channels, for each tap (ky, kx), the words (f0, f2) and
 * (f1, f3); then for the c % 4 leftover channels, for each tap, one word per channel; bias never
 * NULL (zeros when the layer has none).
 * input (n, h, w, c), output (n, oh, ow, c). */
#include "ec_dsp.h"
#include "ec_kernels.h"

/* Paths a model may not take; the C generator defines each to 0 in a model's copy of this file
 * when none of its layers needs it (ops_c_quick.py), and the compiler drops the code: REM:
 * channels % 4 != 0; TAPS: a window clipped to other than 2 or 3 taps across. */
#ifndef EC_QUICK_DW_REM
#define EC_QUICK_DW_REM 1
#endif
#ifndef EC_QUICK_DW_TAPS
#define EC_QUICK_DW_TAPS 1
#endif

/* [first, last) filter taps along one axis that land inside the image: origin + dil * k in [0, size). */
static void tap_range(int32_t origin, int32_t dil, int32_t size, int32_t taps, int32_t *first, int32_t *last) {
  const int32_t lo = origin < 0 ? (-origin + dil - 1) / dil : 0;
  const int32_t hi = (size - origin + dil - 1) / dil;
  *first = lo;
  *last = hi < taps ? hi : taps;
}

/* One tap: four input channels at in (+ offset o), their filter pairs at f[0], f[1]; TAP_NEXT
 * takes them at f and advances f by one tap. On the DSP core each is one assembly block, so the
 * compiler keeps the four accumulators in registers and does not spread a window's loads. */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define EC_DW_BODY                                     \
  "sxtab16 %[x02], %[off2], %[xs]\n\t"                 \
  "sxtab16 %[xs], %[off2], %[xs], ror #8\n\t"          \
  "ldrd %[f02], %[f13], [%[f]], #8\n\t"                \
  "smlabb %[a0], %[f02], %[x02], %[a0]\n\t"            \
  "smlatt %[a2], %[f02], %[x02], %[a2]\n\t"            \
  "smlabb %[a1], %[f13], %[xs], %[a1]\n\t"             \
  "smlatt %[a3], %[f13], %[xs], %[a3]\n\t"
#define EC_DW_OUT                                                                                  \
  [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [f] "+r"(fp), [xs] "=&r"(xs),          \
      [x02] "=&r"(x02), [f02] "=&r"(f02), [f13] "=&r"(f13)
#define EC_DW_TAP_AT(in_, by_)                                                                     \
  do {                                                                                             \
    int32_t xs, x02, f02, f13;                                                                     \
    __asm__("ldr %[xs], [%[p], %[o]]\n\t" EC_DW_BODY                                               \
            : EC_DW_OUT                                                                            \
            : [p] "r"(in_), [o] "r"(by_), [off2] "r"(off2), "m"(*(const int8_t(*)[])(in_)),          \
              "m"(*(const int32_t(*)[])fp));                                                       \
  } while (0)
#define EC_DW_TAP_NEXT(in_)                                                                        \
  do {                                                                                             \
    int32_t xs, x02, f02, f13;                                                                     \
    __asm__("ldr %[xs], [%[p]]\n\t" EC_DW_BODY                                                     \
            : EC_DW_OUT                                                                            \
            : [p] "r"(in_), [off2] "r"(off2), "m"(*(const int8_t(*)[])(in_)),                      \
              "m"(*(const int32_t(*)[])fp));                                                       \
  } while (0)
#else
#define EC_DW_TAP_AT(in_, by_) EC_DW_TAP_NEXT((in_) + (by_))
#define EC_DW_TAP_NEXT(in)                                                         \
  do {                                                                             \
    const uint32_t xs = ec_load4(in);                                              \
    const int32_t x02 = ec_sxtab16(off2, xs), x13 = ec_sxtab16_ror8(off2, xs);     \
    const int32_t f02 = fp[0], f13 = fp[1];                                        \
    fp += 2;                                                                       \
    a0 = ec_smlabb(f02, x02, a0);                                                  \
    a2 = ec_smlatt(f02, x02, a2);                                                  \
    a1 = ec_smlabb(f13, x13, a1);                                                  \
    a3 = ec_smlatt(f13, x13, a3);                                                  \
  } while (0)
#endif

/* A whole 3x3 window (a pixel whose window lies inside the image), every quad of channels: the
 * nine taps written out, filter words at constant offsets. */
static void window3x3(const int8_t *in, int32_t step, int32_t in_row, const int32_t *f, const int32_t *bias,
                      const int32_t *mult, const int8_t *shift, int32_t quads, int32_t off2, int32_t k,
                      int8_t *out) {
  const int32_t step2 = 2 * step;
  for (; quads > 0; --quads, in += 4, f += 18, bias += 4, mult += 4, shift += 4, out += 4) {
    int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
    const int8_t *r = in;
    const int32_t *fp = f;
    EC_DW_TAP_NEXT(r);
    EC_DW_TAP_AT(r, step);
    EC_DW_TAP_AT(r, step2);
    r += in_row;
    EC_DW_TAP_NEXT(r);
    EC_DW_TAP_AT(r, step);
    EC_DW_TAP_AT(r, step2);
    r += in_row;
    EC_DW_TAP_NEXT(r);
    EC_DW_TAP_AT(r, step);
    EC_DW_TAP_AT(r, step2);
    out[0] = ec_requant_quick(a0, mult[0], shift[0], k);
    out[1] = ec_requant_quick(a1, mult[1], shift[1], k);
    out[2] = ec_requant_quick(a2, mult[2], shift[2], k);
    out[3] = ec_requant_quick(a3, mult[3], shift[3], k);
  }
}

/* What window() needs besides the pixel: input steps (next tap, next row), filter steps (next
 * row of taps, next quad of channels), the quads, the offsets, the channel tables. */
typedef struct {
  int32_t step, in_row, f_row, f_quad, quads, off2, k;
  const int32_t *bias, *mult;
  const int8_t *shift;
} dw_window;

/* Any window clipped to the image (rows x taps from in and f), every quad of channels. */
static void window(const dw_window *g, const int8_t *in, const int32_t *f, int32_t rows, int32_t taps, int8_t *out) {
  const int32_t step = g->step, in_row = g->in_row, f_row = g->f_row, off2 = g->off2, k = g->k;
  const int32_t *bias = g->bias, *mult = g->mult;
  const int8_t *shift = g->shift;
  for (int32_t q = g->quads; q > 0; --q, in += 4, f += g->f_quad, bias += 4, mult += 4, shift += 4, out += 4) {
    int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
    const int8_t *r = in;
    const int32_t *fr = f;
    for (int32_t y = rows; y > 0; --y, r += in_row, fr += f_row) {
      const int32_t *fp = fr;
      if (taps == 3) {
        EC_DW_TAP_NEXT(r);
        EC_DW_TAP_AT(r, step);
        EC_DW_TAP_AT(r, 2 * step);
      } else if (taps == 2) {
        EC_DW_TAP_NEXT(r);
        EC_DW_TAP_AT(r, step);
      } else if (EC_QUICK_DW_TAPS) {
        for (int32_t t = 0; t < taps; ++t) EC_DW_TAP_AT(r, t * step);
      }
    }
    out[0] = ec_requant_quick(a0, mult[0], shift[0], k);
    out[1] = ec_requant_quick(a1, mult[1], shift[1], k);
    out[2] = ec_requant_quick(a2, mult[2], shift[2], k);
    out[3] = ec_requant_quick(a3, mult[3], shift[3], k);
  }
}

void ec_depthwise_conv_2d_quick_dsp_s8(const ec_quick_params *p, const int8_t *input, int8_t *output) {
  const int32_t *bias = p->bias, *filter_pairs = (const int32_t *)p->weights;
  const int8_t *rshift = p->rshift;
  const int32_t in_h = p->input.h, in_w = p->input.w, c = p->input.c;
  const int32_t k_h = p->filter.h, k_w = p->filter.w, out_h = p->output.h, out_w = p->output.w;
  const int32_t dil_h = p->dilation_h, dil_w = p->dilation_w, step = dil_w * c, in_row = dil_h * in_w * c;
  const int32_t off2 = ec_pack16(p->input_offset, p->input_offset), k = 1 + 2 * p->output_offset;
  const int32_t quads = c >> 2, taps_all = k_h * k_w;
  const int32_t *mult = p->multiplier;
  const int8_t *shift = rshift;
  const int32_t *left = filter_pairs + 2 * taps_all * quads; /* leftover channels' filter values */
  const int32_t rem = c & 3;
  const dw_window g = {step, in_row, 2 * k_w, 2 * taps_all, quads, off2, k, bias, mult, shift};
  for (int32_t b = 0; b < p->output.n; ++b) {
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      int32_t ky0, ky1;
      tap_range(y0, dil_h, in_h, k_h, &ky0, &ky1);
      for (int32_t ox = 0; ox < out_w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        int32_t kx0, kx1;
        tap_range(x0, dil_w, in_w, k_w, &kx0, &kx1);
        const int32_t taps = kx1 - kx0, rows = ky1 - ky0;
        const int8_t *in_first = input + ((b * in_h + y0 + dil_h * ky0) * in_w + x0 + dil_w * kx0) * c;
        const int32_t first_tap = ky0 * k_w + kx0;
        int8_t *out = output + ((b * out_h + oy) * out_w + ox) * c;
        const int whole = k_h == 3 && k_w == 3 && rows == 3 && taps == 3;
        if (whole) window3x3(in_first, step, in_row, filter_pairs, bias, mult, shift, quads, off2, k, out);
        if (!whole) window(&g, in_first, filter_pairs + 2 * first_tap, rows, taps, out);
        for (int32_t j = 0; EC_QUICK_DW_REM && j < rem; ++j) { /* leftover channels, one at a time */
          const int32_t ch = 4 * quads + j;
          int32_t acc = bias[ch];
          for (int32_t r = 0; r < rows; ++r) {
            for (int32_t t = 0; t < taps; ++t) {
              const int32_t x = in_first[r * in_row + t * step + ch] + p->input_offset;
              acc += left[(first_tap + r * k_w + t) * rem + j] * x;
            }
          }
          out[ch] = ec_requant_quick(acc, mult[ch], shift[ch], k);
        }
      }
    }
  }
}
