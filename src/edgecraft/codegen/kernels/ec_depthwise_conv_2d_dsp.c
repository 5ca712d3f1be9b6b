/* DEPTHWISE_CONV_2D int8 for Cortex-M4/M7/M33/M55; same results as the portable kernel.
 * With depth multiplier 1, four channels are computed together: per filter tap one word of
 * four input channels and one of four filter values, split into halfword pairs (channels 0, 2
 * and 1, 3) with SXTAB16/SXTB16, and four single multiply-accumulates (SMLABB, SMLATT) keep the
 * four accumulators in registers. Two neighbouring output pixels of a row whose windows cover
 * the same filter taps are computed together: each filter word is loaded and unpacked once for
 * both, and eight accumulators stay in registers (outputs are still written in row-major order,
 * at most one pixel ahead, as the overlapping memory plan requires). Other channel counts and multipliers take the plain loop.
 * input (n, h, w, c), filter (1, kh, kw, c * m), output (n, oh, ow, c * m). */
#include "ec_dsp.h"
#include "ec_kernels.h"

/* [first, last) filter taps along one axis that land inside the image: origin + dil * k in [0, size). */
static void tap_range(int32_t origin, int32_t dil, int32_t size, int32_t taps, int32_t *first, int32_t *last) {
  const int32_t lo = origin < 0 ? (-origin + dil - 1) / dil : 0;
  const int32_t hi = (size - origin + dil - 1) / dil;
  *first = lo;
  *last = hi < taps ? hi : taps;
}

/* Leftover channels (or depth multiplier > 1) of the pixel at (y0, x0): the plain loop. */
static void plain_channels(const ec_conv_params *p, ec_requant rq, const int8_t *input, const int8_t *filter,
                           int32_t b, int32_t y0, int32_t x0, int32_t c, int8_t *out, const int fast) {
  const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
  const int32_t k_h = p->filter.h, k_w = p->filter.w, out_c = p->filter.c, m = p->depth_multiplier;
  for (; c < out_c; ++c) {
    int32_t acc = 0;
    for (int32_t ky = 0; ky < k_h; ++ky) {
      const int32_t y = y0 + p->dilation_h * ky;
      if (y < 0 || y >= in_h) continue;
      for (int32_t kx = 0; kx < k_w; ++kx) {
        const int32_t x = x0 + p->dilation_w * kx;
        if (x < 0 || x >= in_w) continue;
        acc += filter[(ky * k_w + kx) * out_c + c] * (input[((b * in_h + y) * in_w + x) * in_c + c / m] + p->input_offset);
      }
    }
    out[c] = ec_requant_at(rq, acc, c, fast);
  }
}

/* The kernel, for one value of rq.fast (a constant in each of the two copies). */
static EC_ALWAYS_INLINE void depthwise(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                                       ec_requant rq, int8_t *output, const int fast) {
  const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
  const int32_t k_h = p->filter.h, k_w = p->filter.w, out_c = p->filter.c;
  const int32_t out_h = p->output.h, out_w = p->output.w;
  const int32_t m = p->depth_multiplier, off = p->input_offset;
  const int32_t off2 = ec_pack16(off, off);
  const int32_t quads = m == 1 ? out_c & ~3 : 0;
  const int32_t dil_h = p->dilation_h, dil_w = p->dilation_w, in_step = dil_w * in_c;
  const int32_t in_row = dil_h * in_w * in_c, f_row = k_w * out_c;
  const int32_t next_px = p->stride_w * in_c; /* input distance between two output pixels */
  for (int32_t b = 0; b < p->output.n; ++b) {
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      int32_t ky0, ky1;
      tap_range(y0, dil_h, in_h, k_h, &ky0, &ky1);
      for (int32_t ox = 0; ox < out_w;) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        int32_t kx0, kx1, kx0b = -1, kx1b = -1;
        tap_range(x0, dil_w, in_w, k_w, &kx0, &kx1);
        if (ox + 1 < out_w) tap_range(x0 + p->stride_w, dil_w, in_w, k_w, &kx0b, &kx1b);
        /* pixels ox and ox + 1 together when their windows cover the same filter columns */
        const int pair = kx0b == kx0 && kx1b == kx1;
        int8_t *out = output + ((b * out_h + oy) * out_w + ox) * out_c;
        int8_t *out_b = out + out_c;
        /* the first tap inside the image */
        const int8_t *in_first = input + ((b * in_h + y0 + dil_h * ky0) * in_w + x0 + dil_w * kx0) * in_c;
        const int8_t *f_first = filter + (ky0 * k_w + kx0) * out_c;
        const int32_t taps = kx1 - kx0;
        int32_t c = 0;
        for (; pair && c < quads; c += 4) {
          int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
          const int8_t *in_r = in_first + c, *f_r = f_first + c;
          for (int32_t ky = ky0; ky < ky1; ++ky, in_r += in_row, f_r += f_row) {
            const int8_t *in = in_r, *f = f_r;
            for (int32_t t = 0; t < taps; ++t, in += in_step, f += out_c) {
              const uint32_t fs = ec_load4(f);
              const int32_t f02 = ec_sxtb16(fs), f13 = ec_sxtb16_ror8(fs);
              uint32_t xs = ec_load4(in);
              int32_t x02 = ec_sxtab16(off2, xs), x13 = ec_sxtab16_ror8(off2, xs);
              a0 = ec_smlabb(f02, x02, a0);
              a2 = ec_smlatt(f02, x02, a2);
              a1 = ec_smlabb(f13, x13, a1);
              a3 = ec_smlatt(f13, x13, a3);
              xs = ec_load4(in + next_px);
              x02 = ec_sxtab16(off2, xs);
              x13 = ec_sxtab16_ror8(off2, xs);
              b0 = ec_smlabb(f02, x02, b0);
              b2 = ec_smlatt(f02, x02, b2);
              b1 = ec_smlabb(f13, x13, b1);
              b3 = ec_smlatt(f13, x13, b3);
            }
          }
          out[c] = ec_requant_at(rq, a0, c, fast);
          out[c + 1] = ec_requant_at(rq, a1, c + 1, fast);
          out[c + 2] = ec_requant_at(rq, a2, c + 2, fast);
          out[c + 3] = ec_requant_at(rq, a3, c + 3, fast);
          out_b[c] = ec_requant_at(rq, b0, c, fast);
          out_b[c + 1] = ec_requant_at(rq, b1, c + 1, fast);
          out_b[c + 2] = ec_requant_at(rq, b2, c + 2, fast);
          out_b[c + 3] = ec_requant_at(rq, b3, c + 3, fast);
        }
        if (pair) {
          plain_channels(p, rq, input, filter, b, y0, x0, c, out, fast);
          plain_channels(p, rq, input, filter, b, y0, x0 + p->stride_w, c, out_b, fast);
          ox += 2;
          continue;
        }
        for (; c < quads; c += 4) {
          int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
          const int8_t *in_r = in_first + c, *f_r = f_first + c;
          for (int32_t ky = ky0; ky < ky1; ++ky, in_r += in_row, f_r += f_row) {
            const int8_t *in = in_r, *f = f_r;
            for (int32_t t = 0; t < taps; ++t, in += in_step, f += out_c) {
              const uint32_t xs = ec_load4(in), fs = ec_load4(f);
              const int32_t x02 = ec_sxtab16(off2, xs), x13 = ec_sxtab16_ror8(off2, xs);
              const int32_t f02 = ec_sxtb16(fs), f13 = ec_sxtb16_ror8(fs);
              a0 = ec_smlabb(f02, x02, a0);
              a2 = ec_smlatt(f02, x02, a2);
              a1 = ec_smlabb(f13, x13, a1);
              a3 = ec_smlatt(f13, x13, a3);
            }
          }
          out[c] = ec_requant_at(rq, a0, c, fast);
          out[c + 1] = ec_requant_at(rq, a1, c + 1, fast);
          out[c + 2] = ec_requant_at(rq, a2, c + 2, fast);
          out[c + 3] = ec_requant_at(rq, a3, c + 3, fast);
        }
        plain_channels(p, rq, input, filter, b, y0, x0, c, out, fast);
        ++ox;
      }
    }
  }
}

void ec_depthwise_conv_2d_dsp_s8(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                                 const int32_t *bias, int8_t *output) {
  const ec_requant rq = ec_requant_of(p->multiplier, p->shift, bias, p->output_offset, p->act_min, p->act_max,
                                      p->filter.c);
  if (rq.fast) {
    depthwise(p, input, filter, rq, output, 1);
  } else {
    depthwise(p, input, filter, rq, output, 0);
  }
}
