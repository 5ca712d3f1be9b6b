/* CONV_2D int8 for cores with the DSP extension (Cortex-M4/M7/M33/M55). Same arithmetic and
 * results as the portable kernel. For each output pixel the receptive field of one group is
 * gathered into a small patch on the stack (taps outside the image hold the input zero point,
 * so they add nothing, as TFLM's skipped taps), then each filter is one contiguous dot product
 * with the patch, four output channels at a time with SMLAD (ec_dsp.h). Patches larger than
 * EC_PATCH_BYTES fall back to the plain loop.
 * input (n, h, w, in_c), filter (out_c, kh, kw, in_c / groups), output (n, oh, ow, out_c). */
#include "ec_dsp.h"
#include "ec_kernels.h"

#ifndef EC_PATCH_BYTES
#define EC_PATCH_BYTES 1024
#endif

/* The (kh, kw, group_c) window of group g at output pixel (b, y0, x0) into patch. */
static void gather(const ec_conv_params *p, const int8_t *input, int32_t b, int32_t y0, int32_t x0,
                   int32_t c0, int8_t *patch) {
  const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
  const int32_t group_c = p->filter.c;
  const int8_t zero_point = (int8_t)(-p->input_offset);
  for (int32_t ky = 0; ky < p->filter.h; ++ky) {
    const int32_t y = y0 + p->dilation_h * ky;
    for (int32_t kx = 0; kx < p->filter.w; ++kx, patch += group_c) {
      const int32_t x = x0 + p->dilation_w * kx;
      if (y < 0 || y >= in_h || x < 0 || x >= in_w) {
        memset(patch, zero_point, (size_t)group_c);
      } else {
        memcpy(patch, input + ((b * in_h + y) * in_w + x) * in_c + c0, (size_t)group_c);
      }
    }
  }
}

static int32_t plain_tap_sum(const ec_conv_params *p, const int8_t *input, const int8_t *f, int32_t b,
                             int32_t y0, int32_t x0, int32_t c0) {
  const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c, group_c = p->filter.c;
  int32_t acc = 0;
  for (int32_t ky = 0; ky < p->filter.h; ++ky) {
    const int32_t y = y0 + p->dilation_h * ky;
    for (int32_t kx = 0; kx < p->filter.w; ++kx, f += group_c) {
      const int32_t x = x0 + p->dilation_w * kx;
      if (y < 0 || y >= in_h || x < 0 || x >= in_w) continue;
      acc = ec_dot1(input + ((b * in_h + y) * in_w + x) * in_c + c0, f, group_c, p->input_offset, acc);
    }
  }
  return acc;
}

static int8_t requantize(const ec_conv_params *p, int32_t acc, const int32_t *bias, int32_t oc) {
  acc += bias ? bias[oc] : 0;
  acc = ec_mbqm(acc, p->multiplier[oc], p->shift[oc]) + p->output_offset;
  return (int8_t)ec_clamp(acc, p->act_min, p->act_max);
}

void ec_conv_2d_s8(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                   const int32_t *bias, int8_t *output) {
  const int32_t out_c = p->filter.n, group_c = p->filter.c;
  const int32_t groups = p->input.c / group_c, per_group = out_c / groups;
  const int32_t n = p->filter.h * p->filter.w * group_c; /* patch and filter length */
  int8_t patch[EC_PATCH_BYTES];
  for (int32_t b = 0; b < p->output.n; ++b) {
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      for (int32_t ox = 0; ox < p->output.w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        int8_t *out = output + ((b * p->output.h + oy) * p->output.w + ox) * out_c;
        for (int32_t g = 0; g < groups; ++g) {
          int32_t oc = g * per_group;
          const int32_t end = oc + per_group;
          if (n > EC_PATCH_BYTES) {
            for (; oc < end; ++oc) {
              out[oc] = requantize(p, plain_tap_sum(p, input, filter + oc * n, b, y0, x0, g * group_c), bias, oc);
            }
            continue;
          }
          gather(p, input, b, y0, x0, g * group_c, patch);
          for (; oc + 4 <= end; oc += 4) {
            int32_t acc[4] = {0, 0, 0, 0};
            ec_dot4(patch, filter + oc * n, n, n, p->input_offset, acc);
            for (int k = 0; k < 4; ++k) out[oc + k] = requantize(p, acc[k], bias, oc + k);
          }
          for (; oc < end; ++oc) {
            out[oc] = requantize(p, ec_dot1(patch, filter + oc * n, n, p->input_offset, 0), bias, oc);
          }
        }
      }
    }
  }
}
