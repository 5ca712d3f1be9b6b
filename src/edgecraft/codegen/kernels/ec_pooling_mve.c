/* AVERAGE_POOL_2D and MAX_POOL_2D int8 with Helium (MVE), for Cortex-M55/M85: the same results
 * as ec_pooling.c (TFLM reference_integer_ops pooling; windows clipped to the image).
 *
 * Maximum: sixteen channels a vector, VMAX.S8 over the window's taps, then the clamp.
 * Average: eight channels a vector, the taps added in int16 lanes (VLDRB.S16; a window of at
 * most 256 taps sums to [-32768, 32512], so the lanes never wrap; larger windows take int32
 * lanes, four channels a vector). TFLM's rounded mean, (sum +- count / 2) / count truncated
 * toward zero, is n = |sum| + count / 2 divided by VMULH.U32 with m = ceil(2^32 / count):
 * exact while n * count < 2^32, which holds for every window of up to 4096 taps (n is at most
 * 128.5 * count); the sign is put back after, and count 1 is the sum itself. Larger windows
 * divide lane by lane. The last channels are predicated. */
#include "ec_kernels.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include "ec_mve.h"

/* The rounded means of four window sums, clamped. */
static inline int32x4_t ec_mean4_mve(int32x4_t sum, int32_t count, uint32_t m, int32_t lo, int32_t hi) {
  int32x4_t q = sum;
  if (count > 1) {
    const uint32x4_t n = vaddq_n_u32(vreinterpretq_u32_s32(vabsq_s32(sum)), (uint32_t)(count / 2));
    const int32x4_t r = vreinterpretq_s32_u32(vmulhq_u32(n, vdupq_n_u32(m)));
    q = vpselq_s32(vnegq_s32(r), r, vcmpltq_n_s32(sum, 0));
  }
  return vmaxq_s32(vminq_s32(q, vdupq_n_s32(hi)), vdupq_n_s32(lo));
}

int ec_average_pool_mve_s8(const ec_pool_params *p, const int8_t *input, int8_t *output) {
  const int32_t in_h = p->input.h, in_w = p->input.w, ch = p->input.c;
  const int32_t lo = p->act_min, hi = p->act_max;
  for (int32_t b = 0; b < p->output.n; ++b) {
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      const int32_t ky0 = y0 < 0 ? -y0 : 0;
      const int32_t ky1 = p->filter_h < in_h - y0 ? p->filter_h : in_h - y0;
      for (int32_t ox = 0; ox < p->output.w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        const int32_t kx0 = x0 < 0 ? -x0 : 0;
        const int32_t kx1 = p->filter_w < in_w - x0 ? p->filter_w : in_w - x0;
        if (ky1 <= ky0 || kx1 <= kx0) return -1;
        const int32_t rows = ky1 - ky0, width = kx1 - kx0, count = rows * width;
        const uint32_t m = count > 1 ? (uint32_t)((0x100000000ull + (uint64_t)count - 1) / (uint64_t)count) : 0;
        const int8_t *first = input + ((b * in_h + y0 + ky0) * in_w + x0 + kx0) * ch;
        const int32_t row_step = (in_w - width) * ch;
        int8_t *out = output + ((b * p->output.h + oy) * p->output.w + ox) * ch;
        if (count <= 256) {
          for (int32_t c = 0; c < ch; c += 8) {
            const mve_pred16_t pr = vctp16q((uint32_t)(ch - c));
            int16x8_t sum = vdupq_n_s16(0);
            const int8_t *px = first + c;
            for (int32_t ky = 0; ky < rows; ++ky, px += row_step) {
              for (int32_t kx = 0; kx < width; ++kx, px += ch) sum = vaddq_s16(sum, vldrbq_z_s16(px, pr));
            }
            const int32x4_t even = ec_mean4_mve(vmovlbq_s16(sum), count, m, lo, hi);
            const int32x4_t odd = ec_mean4_mve(vmovltq_s16(sum), count, m, lo, hi);
            vstrbq_p_s16(out + c, vmovntq_s32(vmovnbq_s32(vdupq_n_s16(0), even), odd), pr);
          }
        } else if (count <= 4096) {
          for (int32_t c = 0; c < ch; c += 4) {
            const mve_pred16_t pr = vctp32q((uint32_t)(ch - c));
            int32x4_t sum = vdupq_n_s32(0);
            const int8_t *px = first + c;
            for (int32_t ky = 0; ky < rows; ++ky, px += row_step) {
              for (int32_t kx = 0; kx < width; ++kx, px += ch) sum = vaddq_s32(sum, vldrbq_z_s32(px, pr));
            }
            vstrbq_p_s32(out + c, ec_mean4_mve(sum, count, m, lo, hi), pr);
          }
        } else {
          for (int32_t c = 0; c < ch; ++c) {
            int32_t acc = 0;
            const int8_t *px = first + c;
            for (int32_t ky = 0; ky < rows; ++ky, px += row_step) {
              for (int32_t kx = 0; kx < width; ++kx, px += ch) acc += *px;
            }
            acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
            out[c] = (int8_t)ec_clamp(acc, lo, hi);
          }
        }
      }
    }
  }
  return 0;
}

void ec_max_pool_mve_s8(const ec_pool_params *p, const int8_t *input, int8_t *output) {
  const int32_t in_h = p->input.h, in_w = p->input.w, ch = p->input.c;
  const int8x16_t lo = vdupq_n_s8((int8_t)p->act_min), hi = vdupq_n_s8((int8_t)p->act_max);
  for (int32_t b = 0; b < p->output.n; ++b) {
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      const int32_t ky0 = y0 < 0 ? -y0 : 0;
      const int32_t ky1 = p->filter_h < in_h - y0 ? p->filter_h : in_h - y0;
      for (int32_t ox = 0; ox < p->output.w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        const int32_t kx0 = x0 < 0 ? -x0 : 0;
        const int32_t kx1 = p->filter_w < in_w - x0 ? p->filter_w : in_w - x0;
        const int32_t rows = ky1 - ky0, width = kx1 - kx0;
        const int8_t *first = input + ((b * in_h + y0 + ky0) * in_w + x0 + kx0) * ch;
        const int32_t row_step = (in_w - width) * ch;
        int8_t *out = output + ((b * p->output.h + oy) * p->output.w + ox) * ch;
        for (int32_t c = 0; c < ch; c += 16) {
          const mve_pred16_t pr = vctp8q((uint32_t)(ch - c));
          int8x16_t best = vdupq_n_s8(-128);
          const int8_t *px = first + c;
          for (int32_t ky = 0; ky < rows; ++ky, px += row_step) {
            for (int32_t kx = 0; kx < width; ++kx, px += ch) best = vmaxq_s8(best, vldrbq_z_s8(px, pr));
          }
          vstrbq_p_s8(out + c, vmaxq_s8(vminq_s8(best, hi), lo), pr);
        }
      }
    }
  }
}
#endif
