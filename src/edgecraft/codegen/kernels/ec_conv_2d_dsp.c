/* CONV_2D int8 for cores with the DSP extension (Cortex-M4/M7/M33/M55). Same arithmetic and
 * results as the portable kernel. For each output pixel the receptive field of one group is
 * gathered into a patch (taps outside the image hold the input zero point, so they add nothing,
 * as TFLM's skipped taps), turned once into offset halfword pairs, and every filter is one dot
 * product with it, four output channels at a time with SMLAD. Filters arrive interleaved in
 * blocks of four output channels (ec_dsp.h). The operands and patches live in a scratch buffer
 * the memory plan places in the arena (4 * (n + 6) + 2 * n bytes for patch length n, as
 * ops/conv_2d.py declares); without one (NULL), or for patches longer than EC_PATCH_MAX, a
 * plain loop computes the same sums.
 * input (n, h, w, in_c), filter (out_c, kh, kw, in_c / groups), output (n, oh, ow, out_c). */
#include "ec_dsp.h"
#include "ec_kernels.h"

/* The (kh, kw, group_c) window at output pixel (b, y0, x0), channels from c0, into patch. */
static void gather(const ec_conv_params *p, const int8_t *input, int32_t b, int32_t y0, int32_t x0,
                   int32_t c0, int8_t *patch) {
  const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c, group_c = p->filter.c;
  const int8_t zero_point = (int8_t)(-p->input_offset);
  for (int32_t ky = 0; ky < p->filter.h; ++ky) {
    const int32_t y = y0 + p->dilation_h * ky;
    for (int32_t kx = 0; kx < p->filter.w; ++kx, patch += group_c) {
      const int32_t x = x0 + p->dilation_w * kx;
      if (y < 0 || y >= in_h || x < 0 || x >= in_w) {
        memset(patch, zero_point, (size_t)group_c);
      } else if (group_c <= 8) { /* a call costs more than a few bytes */
        const int8_t *src = input + ((b * in_h + y) * in_w + x) * in_c + c0;
        for (int32_t c = 0; c < group_c; ++c) patch[c] = src[c];
      } else {
        memcpy(patch, input + ((b * in_h + y) * in_w + x) * in_c + c0, (size_t)group_c);
      }
    }
  }
}

/* The two windows at (ya, xa) and (yb, xb) straight into SMLAD operands (the layout of
 * ec_to_q15_pairs2), for group_c a multiple of 4 so every tap is whole groups of four values;
 * taps outside the image are zeros (the zero point plus the input offset). */
static void gather_pairs2(const ec_conv_params *p, const int8_t *input, int32_t b, int32_t ya, int32_t xa,
                          int32_t yb, int32_t xb, int32_t c0, int32_t *out) {
  const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c, group_c = p->filter.c;
  const int32_t off2 = ec_pack16(p->input_offset, p->input_offset);
  for (int32_t ky = 0; ky < p->filter.h; ++ky) {
    const int32_t y1 = ya + p->dilation_h * ky, y2 = yb + p->dilation_h * ky;
    for (int32_t kx = 0; kx < p->filter.w; ++kx) {
      const int32_t x1 = xa + p->dilation_w * kx, x2 = xb + p->dilation_w * kx;
      const int in1 = y1 >= 0 && y1 < in_h && x1 >= 0 && x1 < in_w;
      const int in2 = y2 >= 0 && y2 < in_h && x2 >= 0 && x2 < in_w;
      const int8_t *s1 = input + ((b * in_h + y1) * in_w + x1) * in_c + c0;
      const int8_t *s2 = input + ((b * in_h + y2) * in_w + x2) * in_c + c0;
      for (int32_t c = 0; c < group_c; c += 4, out += 4) {
        const uint32_t w1 = in1 ? ec_load4(s1 + c) : 0, w2 = in2 ? ec_load4(s2 + c) : 0;
        out[0] = in1 ? ec_sxtab16(off2, w1) : 0;
        out[1] = in1 ? ec_sxtab16_ror8(off2, w1) : 0;
        out[2] = in2 ? ec_sxtab16(off2, w2) : 0;
        out[3] = in2 ? ec_sxtab16_ror8(off2, w2) : 0;
      }
    }
  }
}

/* Filter value i of output channel oc (relative to its group's first channel g0). */
static int32_t filter_at(const int8_t *filter, int32_t n, int32_t per_group, int32_t g0, int32_t oc, int32_t i) {
  const int32_t r = oc - g0, blocks = per_group & ~3;
  if (r < blocks) return ec_block_at(filter + (g0 + (r & ~3)) * n, n, r & 3, i);
  return filter[oc * n + i];
}

/* The plain loop: no scratch buffer, or patches longer than EC_PATCH_MAX. */
static int32_t plain_sum(const ec_conv_params *p, const int8_t *input, const int8_t *filter, int32_t b,
                         int32_t y0, int32_t x0, int32_t g0, int32_t c0, int32_t oc) {
  const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c, group_c = p->filter.c;
  const int32_t n = p->filter.h * p->filter.w * group_c, per_group = p->filter.n / (in_c / group_c);
  int32_t acc = 0, i = 0;
  for (int32_t ky = 0; ky < p->filter.h; ++ky) {
    const int32_t y = y0 + p->dilation_h * ky;
    for (int32_t kx = 0; kx < p->filter.w; ++kx, i += group_c) {
      const int32_t x = x0 + p->dilation_w * kx;
      if (y < 0 || y >= in_h || x < 0 || x >= in_w) continue;
      const int8_t *in = input + ((b * in_h + y) * in_w + x) * in_c + c0;
      for (int32_t c = 0; c < group_c; ++c) {
        acc += filter_at(filter, n, per_group, g0, oc, i + c) * (in[c] + p->input_offset);
      }
    }
  }
  return acc;
}


/* One group at output pixel (y0, x0) alone: four channels at a time against its patch. */
static void one_pixel(const ec_conv_params *p, const int8_t *filter, ec_requant rq,
                                       const int8_t *patch, int32_t g0, int32_t end, int32_t n, int32_t *pairs,
                                       int8_t *out, const int fast) {
  ec_to_q15_pairs(patch, n, p->input_offset, pairs);
  int32_t oc = g0;
  for (; oc + 4 <= end; oc += 4) {
    int32_t acc[4] = {0, 0, 0, 0};
    ec_dot4_q15(pairs, filter + oc * n, n, acc);
    for (int k = 0; k < 4; ++k) out[oc + k] = ec_requant_at(rq, acc[k], oc + k, fast);
  }
  for (; oc < end; ++oc) out[oc] = ec_requant_at(rq, ec_dot1_q15(pairs, filter + oc * n, n, 0), oc, fast);
}

/* One group at two neighbouring output pixels: every filter word serves both patches. */
static void two_pixels(const ec_conv_params *p, const int8_t *filter, ec_requant rq,
                                        const int8_t *patch_a, const int8_t *patch_b, int32_t g0, int32_t end,
                                        int32_t n, int32_t *pairs, int8_t *out_a, int8_t *out_b, const int fast) {
  int32_t oc = g0;
  for (; oc + 4 <= end; oc += 4) {
    for (int32_t k = 0; k < 4; k += 2) {
      int32_t acc[4] = {0, 0, 0, 0};
      ec_dot2x2_q15(pairs, filter + oc * n, n, k, acc);
      out_a[oc + k] = ec_requant_at(rq, acc[0], oc + k, fast);
      out_a[oc + k + 1] = ec_requant_at(rq, acc[1], oc + k + 1, fast);
      out_b[oc + k] = ec_requant_at(rq, acc[2], oc + k, fast);
      out_b[oc + k + 1] = ec_requant_at(rq, acc[3], oc + k + 1, fast);
    }
  }
  if (oc < end) { /* leftover channels: the single-pixel path over each patch */
    ec_to_q15_pairs(patch_a, n, p->input_offset, pairs);
    for (int32_t c = oc; c < end; ++c) out_a[c] = ec_requant_at(rq, ec_dot1_q15(pairs, filter + c * n, n, 0), c, fast);
    ec_to_q15_pairs(patch_b, n, p->input_offset, pairs);
    for (int32_t c = oc; c < end; ++c) out_b[c] = ec_requant_at(rq, ec_dot1_q15(pairs, filter + c * n, n, 0), c, fast);
  }
}

/* The kernel, for one value of rq.fast (a constant in each of the two copies). */
static EC_ALWAYS_INLINE void conv(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                                  ec_requant rq, int8_t *output, int8_t *scratch, const int fast) {
  const int32_t out_c = p->filter.n, group_c = p->filter.c, out_w = p->output.w;
  const int32_t groups = p->input.c / group_c, per_group = out_c / groups;
  const int32_t n = p->filter.h * p->filter.w * group_c; /* patch and filter length */
  const int patches = scratch != NULL && n <= EC_PATCH_MAX;
  /* scratch (4-byte aligned): n + 6 SMLAD operand words, then the two n-byte patches */
  int32_t *pairs = patches ? (int32_t *)(void *)scratch : NULL;
  int8_t *patch_a = patches ? scratch + 4 * (n + 6) : NULL;
  int8_t *patch_b = patches ? patch_a + n : NULL;
  const int32_t pixels = p->output.h * out_w;
  for (int32_t b = 0; b < p->output.n; ++b) {
    /* Pixels in row-major order, two at a time (a pair may span two rows). */
    for (int32_t px = 0; px < pixels; px += 2) {
      const int pair = px + 1 < pixels;
      const int32_t ya = (px / out_w) * p->stride_h - p->pad_h, xa = (px % out_w) * p->stride_w - p->pad_w;
      const int32_t yb = ((px + 1) / out_w) * p->stride_h - p->pad_h;
      const int32_t xb = ((px + 1) % out_w) * p->stride_w - p->pad_w;
      int8_t *out_a = output + (b * pixels + px) * out_c;
      int8_t *out_b = out_a + out_c;
      for (int32_t g = 0; g < groups; ++g) {
        const int32_t g0 = g * per_group, end = g0 + per_group;
        if (!patches) {
          for (int32_t oc = g0; oc < end; ++oc) {
            out_a[oc] = ec_requant_at(rq, plain_sum(p, input, filter, b, ya, xa, g0, g * group_c, oc), oc, fast);
            if (pair) {
              out_b[oc] = ec_requant_at(rq, plain_sum(p, input, filter, b, yb, xb, g0, g * group_c, oc), oc, fast);
            }
          }
          continue;
        }
        const int direct = pair && group_c % 4 == 0 && per_group % 4 == 0;
        if (direct) { /* no byte patches needed: the operands come straight from the input */
          gather_pairs2(p, input, b, ya, xa, yb, xb, g * group_c, pairs);
          two_pixels(p, filter, rq, patch_a, patch_b, g0, end, n, pairs, out_a, out_b, fast);
          continue;
        }
        gather(p, input, b, ya, xa, g * group_c, patch_a);
        if (pair) {
          gather(p, input, b, yb, xb, g * group_c, patch_b);
          ec_to_q15_pairs2(patch_a, patch_b, n, p->input_offset, pairs);
          two_pixels(p, filter, rq, patch_a, patch_b, g0, end, n, pairs, out_a, out_b, fast);
        } else {
          one_pixel(p, filter, rq, patch_a, g0, end, n, pairs, out_a, fast);
        }
      }
    }
  }
}

void ec_conv_2d_dsp_s8(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                       const int32_t *bias, int8_t *output, int8_t *scratch) {
  const ec_requant rq = ec_requant_of(p->multiplier, p->shift, bias, p->output_offset, p->act_min, p->act_max,
                                      p->filter.n);
  if (rq.fast) {
    conv(p, input, filter, rq, output, scratch, 1);
  } else {
    conv(p, input, filter, rq, output, scratch, 0);
  }
}
