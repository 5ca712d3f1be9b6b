/* DEPTHWISE_CONV_2D int8 with Helium (MVE), for Cortex-M55/M85: the same results as
 * ec_depthwise_conv_2d.c (TFLM DepthwiseConvPerChannel), depth multiplier 1 (the generator
 * keeps other multipliers on the DSP kernel).
 *
 * Four channels per vector: each tap loads four input and four filter bytes widened to int32
 * (VLDRB.S32), multiplies and adds them (VMUL, VADD). `folded_bias` is bias + input_offset *
 * (sum of the channel's filter over every tap), so a tap inside the input adds x * f alone,
 * and a tap outside it (TFLM skips it) takes its share back: -input_offset * f. The last
 * channels are tail-predicated (VCTP32); requantization is ec_requant4_mve (ec_mve.h). */
#include "ec_kernels.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include "ec_mve.h"

void ec_depthwise_conv_2d_mve_s8(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                                 const int32_t *folded_bias, int8_t *output) {
  const int32_t in_h = p->input.h, in_w = p->input.w, ch = p->input.c;
  const int32_t k_h = p->filter.h, k_w = p->filter.w;
  const int32_t back = -p->input_offset;
  int8_t *out = output;
  for (int32_t b = 0; b < p->output.n; ++b) {
    const int8_t *image = input + b * in_h * in_w * ch;
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      for (int32_t ox = 0; ox < p->output.w; ++ox, out += ch) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        if (y0 >= 0 && y0 + (k_h - 1) * p->dilation_h < in_h && x0 >= 0 && x0 + (k_w - 1) * p->dilation_w < in_w) {
          /* every tap inside: pointer steps only */
          const int32_t step_x = p->dilation_w * ch, step_y = p->dilation_h * in_w * ch - k_w * step_x;
          const int8_t *corner = image + (y0 * in_w + x0) * ch;
          for (int32_t c = 0; c < ch; c += 4) {
            const mve_pred16_t pr = vctp32q((uint32_t)(ch - c));
            int32x4_t acc = vldrwq_z_s32(folded_bias + c, pr);
            const int8_t *f = filter + c, *in = corner + c;
            for (int32_t ky = 0; ky < k_h; ++ky, in += step_y) {
              for (int32_t kx = 0; kx < k_w; ++kx, f += ch, in += step_x) {
                acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(in, pr), vldrbq_z_s32(f, pr)));
              }
            }
            vstrbq_p_s32(out + c, ec_requant4_mve(acc, p->multiplier + c, p->shift + c, p->output_offset,
                                                  p->act_min, p->act_max, pr), pr);
          }
          continue;
        }
        for (int32_t c = 0; c < ch; c += 4) {
          const mve_pred16_t pr = vctp32q((uint32_t)(ch - c));
          int32x4_t acc = vldrwq_z_s32(folded_bias + c, pr);
          const int8_t *f = filter + c;
          for (int32_t ky = 0; ky < k_h; ++ky) {
            const int32_t y = y0 + p->dilation_h * ky;
            const int inside_y = y >= 0 && y < in_h;
            for (int32_t kx = 0; kx < k_w; ++kx, f += ch) {
              const int32_t x = x0 + p->dilation_w * kx;
              const int32x4_t fv = vldrbq_z_s32(f, pr);
              if (inside_y && x >= 0 && x < in_w) {
                acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(image + (y * in_w + x) * ch + c, pr), fv));
              } else {
                acc = vmlaq_n_s32(acc, fv, back);
              }
            }
          }
          vstrbq_p_s32(out + c, ec_requant4_mve(acc, p->multiplier + c, p->shift + c, p->output_offset,
                                                p->act_min, p->act_max, pr), pr);
        }
      }
    }
  }
}
#endif
