/* DEPTHWISE_CONV_2D int8 with Helium (MVE), for Cortex-M55/M85: the same results as
 * ec_depthwise_conv_2d.c (TFLM DepthwiseConvPerChannel), depth multiplier 1 (the generator
 * keeps other multipliers on the DSP kernel).
 *
 * Sixteen channels a block, eight per vector: each tap loads eight input and eight filter bytes
 * widened to int16 (VLDRB.S16) and multiplies them into exact int32 products, VMULLB.S16 for channels
 * 0, 2, 4, 6 of the block and VMULLT.S16 for 1, 3, 5, 7, added to two int32x4 accumulators,
 * stored back in channel order by one interleaving store (VST2); a last block of fewer than
 * eight channels is predicated. Up to 64 channels of a pixel are then requantized together
 * (ec_requant_run_mve, ec_mve.h: the bias added, four channels a vector).
 *
 * `folded_bias` is bias + input_offset * (sum of the channel's filter over every tap), so each
 * tap adds x * f alone. Pixels whose window lies inside the input walk the input in place;
 * the others first copy their window into `scratch` (k_h * k_w * channels bytes) with taps
 * outside the input filled with the input's zero point, which adds (zero point + input_offset)
 * * f = 0 as TFLM's skipped taps do. */
#include "ec_kernels.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include "ec_mve.h"

/* The taps of eight channels (the lanes of `pr` only: the others load and add 0) into two
 * accumulators (channels 0, 2, 4, 6 and 1, 3, 5, 7), a low-overhead loop per row. */
static inline void ec_dw_half(int32_t k_h, int32_t k_w, const int8_t *in, const int8_t *f, int32_t step_x,
                              int32_t step_y, int32_t ch, mve_pred16_t pr, int32_t *acc) {
  int32x4_t acc0 = vdupq_n_s32(0), acc1 = acc0;
  int32_t rows = k_h, saved;
  __asm__ volatile( /* P0 is saved and restored: GCC cannot be told the asm changes it */
      "vmrs %[saved], p0\n"
      "vmsr p0, %[pr]\n"
      "2:\n"
      "dls lr, %[k_w]\n"
      "1:\n"
      "vpstt\n"
      "vldrbt.s16 q0, [%[in]]\n"
      "vldrbt.s16 q1, [%[f]]\n"
      "add %[in], %[in], %[step_x]\n"
      "add %[f], %[f], %[ch]\n"
      "vmullb.s16 q2, q0, q1\n"
      "vadd.i32 %q[a0], %q[a0], q2\n"
      "vmullt.s16 q2, q0, q1\n"
      "vadd.i32 %q[a1], %q[a1], q2\n"
      "le lr, 1b\n"
      "add %[in], %[in], %[step_y]\n"
      "subs %[rows], %[rows], #1\n"
      "bne 2b\n"
      "vmsr p0, %[saved]\n"
      : [a0] "+w"(acc0), [a1] "+w"(acc1), [in] "+l"(in), [f] "+l"(f), [rows] "+r"(rows), [saved] "=&r"(saved)
      : [k_w] "r"(k_w), [step_x] "r"(step_x), [step_y] "r"(step_y), [ch] "r"(ch), [pr] "r"((uint32_t)pr)
      : "q0", "q1", "q2", "lr", "memory", "cc");
  const int32x4x2_t both = {{acc0, acc1}};
  vst2q_s32(acc, both);
}

/* The accumulators of one block of sixteen channels (fewer: `left`, in predicated halves) of
 * one output pixel, without the bias, stored in channel order at acc (VST20/VST21 interleave
 * the even and odd lanes of each half): `in` the block's first tap (taps `step_x` apart along
 * a row, rows `step_y` further after a row's last tap), `f` the block's first filter tap (taps
 * `ch` apart). */
static inline void ec_dw_block(int32_t k_h, int32_t k_w, const int8_t *in, const int8_t *f, int32_t step_x,
                               int32_t step_y, int32_t ch, int32_t left, int32_t *acc) {
  if (left >= 16) {
    int32x4_t acc0 = vdupq_n_s32(0), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    /* the taps of a full block as a low-overhead loop per row (GCC 12 spills one accumulator
     * and adds a move per tap when this is left to it) */
    int32_t rows = k_h;
    __asm__ volatile(
        "2:\n"
        "dls lr, %[k_w]\n"
        "1:\n"
        "vldrb.s16 q0, [%[in]]\n"
        "vldrb.s16 q1, [%[f]]\n"
        "vmullb.s16 q2, q0, q1\n"
        "vadd.i32 %q[a0], %q[a0], q2\n"
        "vmullt.s16 q2, q0, q1\n"
        "vadd.i32 %q[a1], %q[a1], q2\n"
        "vldrb.s16 q0, [%[in], #8]\n"
        "vldrb.s16 q1, [%[f], #8]\n"
        "add %[in], %[in], %[step_x]\n"
        "add %[f], %[f], %[ch]\n"
        "vmullb.s16 q2, q0, q1\n"
        "vadd.i32 %q[a2], %q[a2], q2\n"
        "vmullt.s16 q2, q0, q1\n"
        "vadd.i32 %q[a3], %q[a3], q2\n"
        "le lr, 1b\n"
        "add %[in], %[in], %[step_y]\n"
        "subs %[rows], %[rows], #1\n"
        "bne 2b\n"
        : [a0] "+w"(acc0), [a1] "+w"(acc1), [a2] "+w"(acc2), [a3] "+w"(acc3), [in] "+l"(in), [f] "+l"(f),
          [rows] "+r"(rows)
        : [k_w] "r"(k_w), [step_x] "r"(step_x), [step_y] "r"(step_y), [ch] "r"(ch)
        : "q0", "q1", "q2", "lr", "memory", "cc");
    const int32x4x2_t low = {{acc0, acc1}}, high = {{acc2, acc3}};
    vst2q_s32(acc, low);
    vst2q_s32(acc + 8, high);
    return;
  }
  ec_dw_half(k_h, k_w, in, f, step_x, step_y, ch, vctp16q((uint32_t)(left < 8 ? left : 8)), acc);
  if (left > 8) ec_dw_half(k_h, k_w, in + 8, f + 8, step_x, step_y, ch, vctp16q((uint32_t)(left - 8)), acc + 8);
}

/* Channels per requantization run (the accumulators on the stack). */
#define EC_DW_RUN 64

void ec_depthwise_conv_2d_mve_s8(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                                 const int32_t *folded_bias, int8_t *output, int8_t *scratch) {
  const int32_t in_h = p->input.h, in_w = p->input.w, ch = p->input.c;
  const int32_t k_h = p->filter.h, k_w = p->filter.w;
  const int32_t dil_h = p->dilation_h, dil_w = p->dilation_w;
  const int8_t zero_point = (int8_t)(-p->input_offset);
  const int32_t inner_x = dil_w * ch, inner_y = dil_h * in_w * ch - k_w * inner_x;
  const int right_only = ec_right_shifts_only_mve(p->shift, ch);
  int32_t acc[EC_DW_RUN + 16] __attribute__((aligned(16)));
  int8_t *out = output;
  for (int32_t b = 0; b < p->output.n; ++b) {
    const int8_t *image = input + b * in_h * in_w * ch;
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      const int inside_y = y0 >= 0 && y0 + (k_h - 1) * dil_h < in_h;
      for (int32_t ox = 0; ox < p->output.w; ++ox, out += ch) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        const int8_t *window = image + (y0 * in_w + x0) * ch;
        int32_t step_x = inner_x, step_y = inner_y;
        if (!(inside_y && x0 >= 0 && x0 + (k_w - 1) * dil_w < in_w)) {
          int8_t *patch = scratch;
          for (int32_t ky = 0; ky < k_h; ++ky) {
            const int32_t y = y0 + dil_h * ky;
            for (int32_t kx = 0; kx < k_w; ++kx, patch += ch) {
              const int32_t x = x0 + dil_w * kx;
              if (y < 0 || y >= in_h || x < 0 || x >= in_w) ec_fill_mve(patch, zero_point, ch);
              else ec_copy_mve(patch, image + (y * in_w + x) * ch, ch);
            }
          }
          window = scratch;
          step_x = ch;
          step_y = 0;
        }
        for (int32_t c0 = 0; c0 < ch; c0 += EC_DW_RUN) {
          const int32_t n = ch - c0 < EC_DW_RUN ? ch - c0 : EC_DW_RUN;
          for (int32_t c = 0; c < n; c += 16) {
            ec_dw_block(k_h, k_w, window + c0 + c, filter + c0 + c, step_x, step_y, ch, n - c, acc + c);
          }
          ec_requant_run_mve(acc, folded_bias + c0, n, p->multiplier + c0, p->shift + c0, p->output_offset,
                             p->act_min, p->act_max, right_only, out + c0);
        }
      }
    }
  }
}
/* ---- Small windows, a channel's row of outputs at a time (ec_depthwise_conv_2d_mve_rows_s8) ----
 *
 * For windows of at most 4 x 4 taps without dilation, horizontal stride 1 or 2 and right shifts
 * only (the generator checks), each output row first lays out the k_h input rows it reads in
 * `scratch` channel by channel: channel c's row is `columns` words, word x holding the input's
 * bytes at column x - pad_w of the k_h rows (byte ky of the word from row y0 + ky), padding
 * columns and rows outside the input the zero point (adding (zero point + input_offset) * f = 0
 * as TFLM's skipped taps do, the input offset being in the folded bias). An output's window is
 * then 16 consecutive bytes of its channel's row, and one VMLADAV of them with the channel's
 * filter vector (`filter`: 16 bytes per channel, byte 4 kx + ky the tap (ky, kx), the others 0)
 * is its sum. With stride 1 and windows up to 3 wide one load serves two outputs (the second's
 * filter is the first's moved up one word, VSHLC). Four outputs' sums are requantized together
 * in one vector (the channel's multiplier, shift, bias and the output offset as scalar
 * operands) and stored by one scatter, `ch` bytes apart. scratch: ch * 4 * columns bytes. */

/* Four outputs of one channel: `z` the channel's scratch row at the first one's window, `out`
 * its output byte; EC_DW_LOADS the loads and sums for the four, then the requantization, the
 * scatter store and the moves to the next four, in a low-overhead loop of `groups` rounds. */
#define EC_DW_PAIR                                                                                           \
  "vldrb.8 q0, [%[z]], #8\n\t"                                                                              \
  "vmladav.s8 %[a0], q0, %q[fa]\n\t"                                                                         \
  "vmladav.s8 %[a1], q0, %q[fb]\n\t"                                                                         \
  "vldrb.8 q0, [%[z]], #8\n\t"                                                                              \
  "vmladav.s8 %[a2], q0, %q[fa]\n\t"                                                                         \
  "vmladav.s8 %[a3], q0, %q[fb]\n\t"
#define EC_DW_SINGLE(INC)                                                                                    \
  "vldrb.8 q0, [%[z]], #" #INC "\n\t"                                                                       \
  "vmladav.s8 %[a0], q0, %q[fa]\n\t"                                                                         \
  "vldrb.8 q0, [%[z]], #" #INC "\n\t"                                                                       \
  "vmladav.s8 %[a1], q0, %q[fa]\n\t"                                                                         \
  "vldrb.8 q0, [%[z]], #" #INC "\n\t"                                                                       \
  "vmladav.s8 %[a2], q0, %q[fa]\n\t"                                                                         \
  "vldrb.8 q0, [%[z]], #" #INC "\n\t"                                                                       \
  "vmladav.s8 %[a3], q0, %q[fa]\n\t"
#define EC_DW_ROW(NAME, LOADS)                                                                               \
  static void NAME(const int8_t *z, int8_t *out, int32_t groups, int8x16_t fa, int8x16_t fb, int32_t bias,   \
                   int32_t mult, int32_t shift, int32_t out_offset, int32_t step, int32x4_t lo, int32x4_t hi, \
                   uint32x4_t offs) {                                                                        \
    int32_t a0 = groups, a1, a2, a3; /* a0: the loop count, then a sum */                                   \
    __asm__ volatile("dls lr, %[a0]\n"                                                                        \
                     "1:\n\t" LOADS "vmov q1[2], q1[0], %[a0], %[a2]\n\t"                                   \
                     "vmov q1[3], q1[1], %[a1], %[a3]\n\t"                                                   \
                     "vadd.i32 q1, q1, %[bias]\n\t"                                                          \
                     "vqrdmulh.s32 q1, q1, %[mult]\n\t"                                                      \
                     "vshr.s32 q2, q1, #31\n\t"                                                              \
                     "vqadd.s32 q1, q1, q2\n\t"                                                              \
                     "vrshl.s32 q1, %[shift]\n\t"                                                            \
                     "vadd.i32 q1, q1, %[ooff]\n\t"                                                          \
                     "vmin.s32 q1, q1, %q[hi]\n\t"                                                           \
                     "vmax.s32 q1, q1, %q[lo]\n\t"                                                           \
                     "vstrb.32 q1, [%[out], %q[offs]]\n\t"                                                   \
                     "add %[out], %[out], %[step]\n\t"                                                       \
                     "le lr, 1b\n"                                                                           \
                     : [a0] "+&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [a3] "=&Te"(a3), [z] "+r"(z),     \
                       [out] "+r"(out)                                                                       \
                     : [fa] "w"(fa), [fb] "w"(fb), [bias] "r"(bias), [mult] "r"(mult),     \
                       [shift] "r"(shift), [ooff] "r"(out_offset), [step] "r"(step), [lo] "w"(lo),          \
                       [hi] "w"(hi), [offs] "w"(offs)                                                        \
                     : "q0", "q1", "q2", "lr", "memory");                                                    \
  }
EC_DW_ROW(ec_dw_row_pair, EC_DW_PAIR)
EC_DW_ROW(ec_dw_row_single4, EC_DW_SINGLE(4))
EC_DW_ROW(ec_dw_row_single8, EC_DW_SINGLE(8))

/* Input row `row` (w pixels of ch channels) into byte `dst` of word 0 of every channel's
 * scratch row (rows `zc` bytes apart), word x from pixel x: eight channels a scatter. */
static void ec_dw_lay_row(int8_t *dst, const int8_t *row, int32_t w, int32_t ch, int32_t zc) {
  const uint16x8_t offs = vmulq_n_u16(vidupq_n_u16(0, 1), (uint16_t)zc);
  int32_t c0 = 0;
  for (; c0 + 8 <= ch; c0 += 8) {
    const int8_t *s = row + c0;
    int8_t *d = dst + c0 * zc;
    for (int32_t x = 0; x < w; ++x, s += ch, d += 4) vstrbq_scatter_offset_s16(d, offs, vldrbq_s16(s));
  }
  if (c0 < ch) {
    const mve_pred16_t pr = vctp16q((uint32_t)(ch - c0));
    const int8_t *s = row + c0;
    int8_t *d = dst + c0 * zc;
    for (int32_t x = 0; x < w; ++x, s += ch, d += 4)
      vstrbq_scatter_offset_p_s16(d, offs, vldrbq_z_s16(s, pr), pr);
  }
}

/* The zero point into byte `dst` of words 0 .. w - 1 of every channel's scratch row. */
static void ec_dw_pad_row(int8_t *dst, int8_t zero_point, int32_t w, int32_t ch, int32_t zc) {
  for (int32_t c = 0; c < ch; ++c, dst += zc) {
    for (int32_t x = 0; x < w; ++x) dst[4 * x] = zero_point;
  }
}

void ec_depthwise_conv_2d_mve_rows_s8(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                                      const int32_t *folded_bias, int8_t *output, int8_t *scratch,
                                      int32_t columns) {
  const int32_t in_h = p->input.h, in_w = p->input.w, ch = p->input.c, k_h = p->filter.h, k_w = p->filter.w;
  const int32_t out_h = p->output.h, out_w = p->output.w, zc = 4 * columns;
  const int8_t zero_point = (int8_t)(-p->input_offset);
  const int pair = p->stride_w == 1 && k_w <= 3;
  const int32_t full = out_w / 4, left = out_w % 4, step = 4 * ch;
  const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
  const uint32x4_t offs = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)ch);
  for (int32_t b = 0; b < p->output.n; ++b) {
    const int8_t *image = input + b * in_h * in_w * ch;
    int8_t *out_row = output + b * out_h * out_w * ch;
    ec_fill_mve(scratch, zero_point, ch * zc);
    for (int32_t oy = 0; oy < out_h; ++oy, out_row += out_w * ch) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      for (int32_t ky = 0; ky < k_h; ++ky) {
        const int32_t y = y0 + ky;
        int8_t *dst = scratch + 4 * p->pad_w + ky;
        if (y >= 0 && y < in_h) ec_dw_lay_row(dst, image + y * in_w * ch, in_w, ch, zc);
        else ec_dw_pad_row(dst, zero_point, in_w, ch, zc);
      }
      for (int32_t c = 0; c < ch; ++c) {
        const int8_t *z = scratch + c * zc;
        const int8x16_t fa = vldrbq_s8(filter + 16 * c);
        uint32_t carry = 0;
        const int8x16_t fb = vshlcq_s8(fa, &carry, 32); /* one word up: the next output's taps */
        const int32_t bias = folded_bias[c], mult = p->multiplier[c], shift = p->shift[c];
        if (full) {
          if (pair) ec_dw_row_pair(z, out_row + c, full, fa, fb, bias, mult, shift, p->output_offset, step, lo, hi,
                                   offs);
          else if (p->stride_w == 1) ec_dw_row_single4(z, out_row + c, full, fa, fa, bias, mult, shift,
                                                       p->output_offset, step, lo, hi, offs);
          else ec_dw_row_single8(z, out_row + c, full, fa, fa, bias, mult, shift, p->output_offset, step, lo,
                                 hi, offs);
        }
        if (left) { /* the last outputs of the row, fewer than four */
          const int8_t *t = z + 16 * full * p->stride_w;
          int32_t sums[4] __attribute__((aligned(16))) = {0, 0, 0, 0};
          for (int32_t i = 0; i < left; ++i) sums[i] = vmladavq_s8(vldrbq_s8(t + 4 * p->stride_w * i), fa);
          int32x4_t x = vaddq_n_s32(vldrwq_s32(sums), bias);
          x = vqrdmulhq_n_s32(x, mult);
          x = vrshlq_n_s32(vqaddq_s32(x, vshrq_n_s32(x, 31)), shift);
          x = vmaxq_s32(vminq_s32(vaddq_n_s32(x, p->output_offset), hi), lo);
          vstrbq_scatter_offset_p_s32(out_row + c + full * step, offs, x, vctp32q((uint32_t)left));
        }
      }
    }
  }
}
#endif
