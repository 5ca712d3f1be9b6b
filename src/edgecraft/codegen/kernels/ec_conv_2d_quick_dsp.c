/* CONV_2D int8 on the DSP extension, the quick case the C generator picks when it holds: one
 * group, the int8 clamp, right shifts only and accumulators it proved within int32 (see
 * ec_requant_quick). A matrix product in blocks of two output pixels x two output channels:
 * the two pixels' patches (1x1 without padding: the input pixels themselves; otherwise gathered,
 * taps outside the image holding the input zero point) become halfword operands once, and every
 * pair of filters is one pass over them, each filter word unpacked once for both pixels (eight
 * SMLAD per four taps). The input offset is not added per tap: the generator folds it into the
 * bias (bias + offset x filter sum; the zero-point taps outside the image then add nothing, as
 * TFLM's skipped taps). Filters come in pairs of output channels, per four taps 4 bytes of one
 * then 4 of the other, then each one's n % 4 leftover bytes, padded to a whole word; an odd last
 * filter stays as is after them. The filter is the weights part of the layer's tables, after
 * its channels' biases, multipliers and right shifts (word aligned: ec_quick_params).
 * scratch (4-byte aligned, as for ec_conv_2d_dsp_s8): n + 6 operand words, two n-byte patches.
 * input (n, h, w, c), filter (out_c, kh, kw, c), output (n, oh, ow, out_c). */
#include "ec_dsp.h"
#include "ec_kernels.h"

/* Paths a model may not take; the C generator defines each to 0 in a model's copy of this file
 * when none of its layers needs it (ops_c_quick.py), and the compiler drops the code:
 * QUADS1, QUADS2: patch depths n with (n / 4) & 1, & 2; ODD: an odd number of filters; WINDOWS:
 * anything but 1x1 without padding; DILATED: windows with dilation_w > 1. (The n % 4 leftover
 * path stays: GCC allocates the registers of the loop over filter pairs better beside it, on
 * qemu-m4 and m7 alike.) */
#ifndef EC_QUICK_CONV_QUADS1
#define EC_QUICK_CONV_QUADS1 1
#endif
#ifndef EC_QUICK_CONV_QUADS2
#define EC_QUICK_CONV_QUADS2 1
#endif
#ifndef EC_QUICK_CONV_ODD
#define EC_QUICK_CONV_ODD 1
#endif
#ifndef EC_QUICK_CONV_WINDOWS
#define EC_QUICK_CONV_WINDOWS 1
#endif
#ifndef EC_QUICK_CONV_DILATED
#define EC_QUICK_CONV_DILATED 1
#endif
/* BYTE_SHIFTS: the right shifts a byte per channel (a model with a shift past 16 bits in some
 * layer, ops/quick.py byte_shifts); otherwise two channels a byte (see ec_quick_params). */
#ifndef EC_QUICK_BYTE_SHIFTS
#define EC_QUICK_BYTE_SHIFTS 1
#endif
#if EC_QUICK_BYTE_SHIFTS
#define EC_SHIFT_EVEN(s) ((s)[0])
#define EC_SHIFT_ODD(s) ((s)[1])
#define EC_SHIFT_PAIR 2
#else
#define EC_SHIFT_EVEN(s) ((s)[0] & 15)
#define EC_SHIFT_ODD(s) ((s)[0] >> 4)
#define EC_SHIFT_PAIR 1
#endif

/* n bytes from src to dst (a few words, no call). */
static void copy_bytes(int8_t *dst, const int8_t *src, int32_t n) {
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t v = ec_load4(src + i);
    memcpy(dst + i, &v, 4);
  }
  for (; i < n; ++i) dst[i] = src[i];
}

/* The (kh, kw, c) window at output pixel (b, y0, x0) into patch; taps outside the image hold
 * the input zero point. A row of taps inside the image is one contiguous copy. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("Os")))
#endif
static void gather(const ec_quick_params *p, const int8_t *input, int32_t b, int32_t y0, int32_t x0,
                   int8_t *patch) {
  const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c, k_w = p->filter.w;
  const int32_t dil_w = p->dilation_w, row = k_w * in_c;
  const int8_t zero_point = (int8_t)(-p->input_offset);
  const int whole = dil_w == 1 && x0 >= 0 && x0 + k_w <= in_w;
  for (int32_t ky = 0; ky < p->filter.h; ++ky, patch += row) {
    const int32_t y = y0 + p->dilation_h * ky;
    if (y < 0 || y >= in_h) {
      memset(patch, zero_point, (size_t)row);
      continue;
    }
    const int8_t *src = input + ((b * in_h + y) * in_w + x0) * in_c;
    if (whole) {
      copy_bytes(patch, src, row);
      continue;
    }
    if (dil_w == 1 || !EC_QUICK_CONV_DILATED) { /* zero points, the taps inside, zero points */
      const int32_t lo = x0 < 0 ? (-x0 < k_w ? -x0 : k_w) : 0, hi = in_w - x0 < k_w ? in_w - x0 : k_w;
      const int32_t inside = hi > lo ? hi - lo : 0;
      memset(patch, zero_point, (size_t)(lo * in_c));
      copy_bytes(patch + lo * in_c, src + lo * in_c, inside * in_c);
      memset(patch + (lo + inside) * in_c, zero_point, (size_t)((k_w - lo - inside) * in_c));
      continue;
    }
    for (int32_t kx = 0; kx < k_w; ++kx) {
      const int32_t x = x0 + dil_w * kx;
      if (x < 0 || x >= in_w) {
        memset(patch + kx * in_c, zero_point, (size_t)in_c);
      } else {
        copy_bytes(patch + kx * in_c, src + dil_w * kx * in_c, in_c);
      }
    }
  }
}

/* Whether the window at (y0, x0) lies inside the image (rows of taps contiguous: dilation_w 1). */
static int inside(const ec_quick_params *p, int32_t y0, int32_t x0) {
  return y0 >= 0 && y0 + p->dilation_h * (p->filter.h - 1) < p->input.h && x0 >= 0 && x0 + p->filter.w <= p->input.w;
}

/* The operands of patches a and b (n bytes each, no offset): per four values the words (a0, a2),
 * (b0, b2), (a1, a3), (b1, b3); then a's n % 4 leftover values, then b's. */
static void operands(const int8_t *a, const int8_t *b, int32_t n, int32_t *x) {
  int32_t i = 0;
  for (; i + 4 <= n; i += 4, x += 4) {
    const uint32_t wa = ec_load4(a + i), wb = ec_load4(b + i);
    x[0] = ec_sxtb16(wa);
    x[1] = ec_sxtb16(wb);
    x[2] = ec_sxtb16_ror8(wa);
    x[3] = ec_sxtb16_ror8(wb);
  }
  for (int32_t t = i; t < n; ++t) *x++ = a[t];
  for (int32_t t = i; t < n; ++t) *x++ = b[t];
}

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
/* Four taps of two filters against both pixels' operands (x: (a0, a2), (b0, b2), (a1, a3),
 * (b1, b3)), filter words w0, w1 loaded together, both pointers advanced: 15 instructions for
 * 16 multiply-accumulates (written out: the compiler spills accumulators here). */
#define EC_QUICK_STEP                          \
  "ldrd %[w0], %[w1], [%[f]], #8\n\t"          \
  "ldrd %[xa], %[xb], [%[x]], #8\n\t"          \
  "sxtb16 %[s], %[w0]\n\t"                     \
  "smlad %[a0], %[s], %[xa], %[a0]\n\t"        \
  "smlad %[b0], %[s], %[xb], %[b0]\n\t"        \
  "sxtb16 %[s], %[w1]\n\t"                     \
  "smlad %[a1], %[s], %[xa], %[a1]\n\t"        \
  "smlad %[b1], %[s], %[xb], %[b1]\n\t"        \
  "ldrd %[xa], %[xb], [%[x]], #8\n\t"          \
  "sxtb16 %[s], %[w0], ror #8\n\t"             \
  "smlad %[a0], %[s], %[xa], %[a0]\n\t"        \
  "smlad %[b0], %[s], %[xb], %[b0]\n\t"        \
  "sxtb16 %[s], %[w1], ror #8\n\t"             \
  "smlad %[a1], %[s], %[xa], %[a1]\n\t"        \
  "smlad %[b1], %[s], %[xb], %[b1]\n\t"
#define EC_QUICK_OPERANDS                                                                      \
  [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1), [f] "+r"(f), [x] "+r"(xp),        \
      [w0] "=&r"(w0), [w1] "=&r"(w1), [xa] "=&r"(xa), [xb] "=&r"(xb), [s] "=&r"(s)
#endif

/* All output channels of pixels a and b (out_b == out_a for a lone last pixel); chan: per pair
 * of channels bias, bias, multiplier, multiplier (ec_quick_params). */
static void channels(const ec_quick_params *p, const uint8_t *shift, const int8_t *filter, const int32_t *chan,
                     const int32_t *x, int32_t n, int8_t *out_a, int8_t *out_b) {
  const int32_t quads = n >> 2, rem = n & 3, k = 1 + 2 * p->output_offset;
  const int32_t pad = ((2 * rem + 3) & ~3) - 2 * rem; /* a pair of filters ends on a word */
  const int32_t *x_tail = x + 4 * quads;
  const int8_t *f = filter;
  int32_t pairs = p->output.c >> 1;
  for (; pairs > 0; --pairs, chan += 4, shift += EC_SHIFT_PAIR, out_a += 2, out_b += 2) {
    int32_t a0 = chan[0], a1 = chan[1], b0 = a0, b1 = a1;
    const int32_t *xp = x;
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
    int32_t w0, w1, xa, xb, s;
    int32_t q = quads >> 2;
    if (q > 0) {
      __asm__("1:\n\t" EC_QUICK_STEP EC_QUICK_STEP EC_QUICK_STEP EC_QUICK_STEP "subs %[q], %[q], #1\n\t"
              "bne 1b"
              : EC_QUICK_OPERANDS, [q] "+r"(q)
              : "m"(*(const int32_t(*)[])xp), "m"(*(const int8_t(*)[])f)
              : "cc");
    }
    if (EC_QUICK_CONV_QUADS2 && (quads & 2)) {
      __asm__(EC_QUICK_STEP EC_QUICK_STEP
              : EC_QUICK_OPERANDS
              : "m"(*(const int32_t(*)[])xp), "m"(*(const int8_t(*)[])f));
    }
    if (EC_QUICK_CONV_QUADS1 && (quads & 1)) {
      __asm__(EC_QUICK_STEP : EC_QUICK_OPERANDS : "m"(*(const int32_t(*)[])xp), "m"(*(const int8_t(*)[])f));
    }
#else
    for (int32_t q = 0; q < quads; ++q, xp += 4, f += 8) {
      const uint32_t w0 = ec_load4(f), w1 = ec_load4(f + 4);
      a0 = ec_smlad(ec_sxtb16(w0), xp[0], a0);
      b0 = ec_smlad(ec_sxtb16(w0), xp[1], b0);
      a1 = ec_smlad(ec_sxtb16(w1), xp[0], a1);
      b1 = ec_smlad(ec_sxtb16(w1), xp[1], b1);
      a0 = ec_smlad(ec_sxtb16_ror8(w0), xp[2], a0);
      b0 = ec_smlad(ec_sxtb16_ror8(w0), xp[3], b0);
      a1 = ec_smlad(ec_sxtb16_ror8(w1), xp[2], a1);
      b1 = ec_smlad(ec_sxtb16_ror8(w1), xp[3], b1);
    }
#endif
    if (rem) {
      for (int32_t t = 0; t < rem; ++t) {
        a0 += f[t] * x_tail[t];
        b0 += f[t] * x_tail[rem + t];
        a1 += f[rem + t] * x_tail[t];
        b1 += f[rem + t] * x_tail[rem + t];
      }
      f += 2 * rem + pad;
    }
    const int32_t m0 = chan[2], m1 = chan[3], s0 = EC_SHIFT_EVEN(shift), s1 = EC_SHIFT_ODD(shift);
    out_b[0] = ec_requant_quick(b0, m0, s0, k);
    out_b[1] = ec_requant_quick(b1, m1, s1, k);
    out_a[0] = ec_requant_quick(a0, m0, s0, k);
    out_a[1] = ec_requant_quick(a1, m1, s1, k);
  }
  if (EC_QUICK_CONV_ODD && (p->output.c & 1)) { /* an odd last filter, stored as is after the pairs */
    int32_t a0 = chan[0], b0 = a0;
    const int32_t *xp = x;
    for (int32_t q = 0; q < quads; ++q, xp += 4, f += 4) {
      const uint32_t w = ec_load4(f);
      const int32_t lo = ec_sxtb16(w), hi = ec_sxtb16_ror8(w);
      a0 = ec_smlad(hi, xp[2], ec_smlad(lo, xp[0], a0));
      b0 = ec_smlad(hi, xp[3], ec_smlad(lo, xp[1], b0));
    }
    for (int32_t t = 0; t < rem; ++t) {
      a0 += f[t] * x_tail[t];
      b0 += f[t] * x_tail[rem + t];
    }
    const int32_t s0 = EC_SHIFT_EVEN(shift);
    out_b[0] = ec_requant_quick(b0, chan[2], s0, k);
    out_a[0] = ec_requant_quick(a0, chan[2], s0, k);
  }
}

void ec_conv_2d_quick_dsp_s8(const ec_quick_params *p, const int8_t *input, int8_t *output, int8_t *scratch) {
  const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c, out_c = p->output.c;
  EC_QUICK_TABLES(p, out_c, chan, rshift, filter);
  const int32_t out_w = p->output.w, pixels = p->output.h * out_w;
  const int32_t n = p->filter.h * p->filter.w * in_c;
  const int pointwise = p->filter.h == 1 && p->filter.w == 1 && p->pad_h == 0 && p->pad_w == 0;
  const int rows_direct = p->dilation_w == 1 && (p->filter.w * in_c) % 4 == 0;
  int32_t *x = (int32_t *)(void *)scratch;
  int8_t *patch_a = scratch + 4 * (n + 6), *patch_b = patch_a + n;
  for (int32_t b = 0; b < p->batch; ++b) {
    for (int32_t px = 0; px < pixels; px += 2) {
      const int32_t pb = px + 1 < pixels ? px + 1 : px;
      const int32_t ya = (px / out_w) * p->stride_h - p->pad_h, xa = (px % out_w) * p->stride_w - p->pad_w;
      const int32_t yb = (pb / out_w) * p->stride_h - p->pad_h, xb = (pb % out_w) * p->stride_w - p->pad_w;
      if (pointwise || !EC_QUICK_CONV_WINDOWS) {
        operands(input + ((b * in_h + ya) * in_w + xa) * in_c, input + ((b * in_h + yb) * in_w + xb) * in_c, n, x);
      } else if (rows_direct && inside(p, ya, xa) && inside(p, yb, xb)) {
        /* both windows inside the image, rows of whole words: operands straight from the input */
        const int32_t row = p->filter.w * in_c, in_row = p->dilation_h * in_w * in_c;
        const int8_t *ra = input + ((b * in_h + ya) * in_w + xa) * in_c;
        const int8_t *rb = input + ((b * in_h + yb) * in_w + xb) * in_c;
        for (int32_t ky = 0; ky < p->filter.h; ++ky, ra += in_row, rb += in_row) operands(ra, rb, row, x + ky * row);
      } else {
        gather(p, input, b, ya, xa, patch_a);
        gather(p, input, b, yb, xb, patch_b);
        operands(patch_a, patch_b, n, x);
      }
      int8_t *out = output + (b * pixels + px) * out_c;
      channels(p, rshift, filter, chan, x, n, out, output + (b * pixels + pb) * out_c);
    }
  }
}
