/* CONV_2D int8 with Helium (MVE), for Cortex-M55/M85: the same results as ec_conv_2d.c (TFLM
 * ConvPerChannel), one filter group only (the generator keeps grouped convolutions on the
 * DSP kernel).
 *
 * Each output pixel's patch (kh x kw x in_c bytes, in the filter's OHWI order) is gathered
 * into `scratch` with vector copies, taps outside the input filled with the input's zero point
 * (so they add input_offset + zero point = 0, as TFLM skips them); EC_CONV_MVE_PATCHES(depth)
 * consecutive pixels' patches are then the rows of one ec_fully_connected_mve_s8 product
 * against the filter rows, with `folded_bias` holding the filter-only terms (see
 * ec_fully_connected_mve.c). A 1x1 convolution with unit strides has its patches already in
 * place: it is a single fully connected call over every pixel, no scratch. scratch:
 * EC_CONV_MVE_PATCHES(stride) * stride + 16 bytes, stride = kh * kw * in_c rounded up to a multiple
 * of 16 when under 64, else kh * kw * in_c (NULL for the 1x1 case); `filter` has rows of
 * `stride` bytes, zero past kh * kw * in_c. */
#include "ec_kernels.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include "ec_mve.h"

void ec_conv_2d_mve_s8(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                       const int32_t *folded_bias, int8_t *output, int8_t *scratch) {
  const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
  const int32_t out_c = p->filter.n, k_h = p->filter.h, k_w = p->filter.w;
  const int32_t depth = k_h * k_w * in_c;
  ec_fc_params fc = {1, depth, out_c, p->input_offset, 0, p->output_offset, p->act_min, p->act_max,
                     p->multiplier, p->shift, 1};
  if (k_h == 1 && k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_h == 0 && p->pad_w == 0 &&
      p->output.h == in_h && p->output.w == in_w) {
    fc.rows = p->output.n * in_h * in_w;
    ec_fully_connected_mve_s8(&fc, input, filter, folded_bias, output);
    return;
  }
  /* patches padded to a multiple of 16 bytes under 64 (the generator pads the filter rows with
   * zeros to match, so the pad bytes add nothing whatever they hold) */
  const int32_t stride = (depth & 15) && depth < 64 ? (depth + 15) & ~15 : depth;
  fc.depth = stride;
  const int right_only = ec_right_shifts_only_mve(p->shift, out_c);
  const int32_t row_bytes = k_w * in_c;
  const int8_t zero_point = (int8_t)(-p->input_offset);
  const int32_t batch = EC_CONV_MVE_PATCHES(stride);
  int32_t pending = 0;
  int8_t *patch = scratch, *out = output;
  const int short_rows = p->dilation_w == 1 && row_bytes <= 16;
  const int32_t image_row = p->dilation_h * in_w * in_c, last_row = (k_h - 1) * image_row;
  int k_done = 0;
  for (int32_t b = 0; b < p->output.n; ++b) {
    const int8_t *image = input + b * in_h * in_w * in_c, *image_end = image + in_h * in_w * in_c;
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      const int inside_y = y0 >= 0 && y0 + (k_h - 1) * p->dilation_h < in_h;
      for (int32_t ox = 0; ox < p->output.w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        if (short_rows && inside_y && x0 >= 0 && x0 + k_w <= in_w) {
          /* rows of at most 16 bytes, inside the input: one 16-byte copy each where the last
           * one's 16 bytes are still in the image, in order, each overwriting the previous
           * one's excess (the last one's goes past the patch: into the pad bytes, whose filter
           * bytes are 0, the next patch, gathered later, or the scratch's 16 spare bytes) */
          const int8_t *src = image + (y0 * in_w + x0) * in_c;
          if (src + last_row + 16 <= image_end) {
            for (int32_t ky = 0; ky < k_h; ++ky, src += image_row, patch += row_bytes)
              vstrbq_s8(patch, vldrbq_s8(src));
            k_done = 1;
          }
        }
        for (int32_t ky = 0; ky < k_h && !k_done; ++ky) {
          const int32_t y = y0 + p->dilation_h * ky;
          if (y < 0 || y >= in_h) {
            ec_fill_mve(patch, zero_point, row_bytes);
            patch += row_bytes;
            continue;
          }
          const int8_t *row = image + y * in_w * in_c;
          if (p->dilation_w == 1 && x0 >= 0 && x0 + k_w <= in_w) { /* the row's taps are contiguous */
            ec_copy_mve(patch, row + x0 * in_c, row_bytes);
            patch += row_bytes;
            continue;
          }
          for (int32_t kx = 0; kx < k_w; ++kx, patch += in_c) {
            const int32_t x = x0 + p->dilation_w * kx;
            if (x < 0 || x >= in_w) ec_fill_mve(patch, zero_point, in_c);
            else ec_copy_mve(patch, row + x * in_c, in_c);
          }
        }
        k_done = 0;
        patch += stride - depth;
        if (++pending == batch) {
          fc.rows = pending;
          ec_fc_rows_mve(&fc, scratch, filter, folded_bias, out, right_only);
          out += pending * out_c;
          pending = 0;
          patch = scratch;
        }
      }
    }
  }
  if (pending) {
    fc.rows = pending;
    ec_fc_rows_mve(&fc, scratch, filter, folded_bias, out, right_only);
  }
}
#endif
