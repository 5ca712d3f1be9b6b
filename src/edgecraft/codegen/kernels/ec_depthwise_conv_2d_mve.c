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
#endif
