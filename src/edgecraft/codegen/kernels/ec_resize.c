/* RESIZE_BILINEAR, portable C99. The source indices and weights per output row and column are
 * computed at build time by the Python op (TFLM's ComputeInterpolationValues[Integer]); here
 * each output element is the four corners weighted as TFLM's reference kernels weigh them:
 * int8 summed in int64 and divided by 2^20 with halves away from zero, float32 in float. */
#include "ec_kernels.h"

void ec_resize_bilinear_s8(const ec_resize_params *p, const int8_t *input, int8_t *output) {
  const int32_t row = p->in_w * p->depth, image = p->in_h * row;
  for (int32_t b = 0; b < p->batches; ++b) {
    const int8_t *in = input + b * image;
    for (int32_t y = 0; y < p->out_h; ++y) {
      const int64_t wy1 = p->fy[y], wy0 = 1024 - wy1;
      const int8_t *r0 = in + p->y0[y] * row, *r1 = in + p->y1[y] * row;
      for (int32_t x = 0; x < p->out_w; ++x) {
        const int64_t wx1 = p->fx[x], wx0 = 1024 - wx1;
        const int32_t c0 = p->x0[x] * p->depth, c1 = p->x1[x] * p->depth;
        for (int32_t c = 0; c < p->depth; ++c) {
          const int64_t total = r0[c0 + c] * wy0 * wx0 + r1[c0 + c] * wy1 * wx0 +
                                r0[c1 + c] * wy0 * wx1 + r1[c1 + c] * wy1 * wx1;
          const int64_t half = total > 0 ? ((int64_t)1 << 19) : -((int64_t)1 << 19);
          *output++ = (int8_t)((total + half) / ((int64_t)1 << 20));
        }
      }
    }
  }
}

void ec_resize_bilinear_f32(const ec_resize_params *p, const float *input, float *output) {
  const int32_t row = p->in_w * p->depth, image = p->in_h * row;
  for (int32_t b = 0; b < p->batches; ++b) {
    const float *in = input + b * image;
    for (int32_t y = 0; y < p->out_h; ++y) {
      const float dy = p->dy[y];
      const float *r0 = in + p->y0[y] * row, *r1 = in + p->y1[y] * row;
      for (int32_t x = 0; x < p->out_w; ++x) {
        const float dx = p->dx[x];
        const int32_t c0 = p->x0[x] * p->depth, c1 = p->x1[x] * p->depth;
        for (int32_t c = 0; c < p->depth; ++c) {
          *output++ = r0[c0 + c] * (1.0f - dy) * (1.0f - dx) + r1[c0 + c] * dy * (1.0f - dx) +
                      r0[c1 + c] * (1.0f - dy) * dx + r1[c1 + c] * dy * dx;
        }
      }
    }
  }
}
