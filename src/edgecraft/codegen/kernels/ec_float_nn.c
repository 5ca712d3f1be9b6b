/* float32 CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE/MAX_POOL_2D, SOFTMAX and the
 * reductions (MEAN, SUM, REDUCE_MAX, REDUCE_MIN), portable C99 as TFLM's float reference kernels:
 * sums in float in the order of the loops, the bias added last, then the fused activation's clamp.
 * The geometry blocks are the int8 kernels' (their integer fields unused). */
#include <float.h>
#include <math.h>

#include "ec_kernels.h"

static float clampf(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }

void ec_conv_2d_f32(const ec_conv_params *p, float act_min, float act_max, const float *input,
                    const float *filter, const float *bias, float *output) {
  const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
  const int32_t out_c = p->filter.n, k_h = p->filter.h, k_w = p->filter.w, group_c = p->filter.c;
  const int32_t per_group = out_c / (in_c / group_c);
  for (int32_t b = 0; b < p->output.n; ++b) {
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      for (int32_t ox = 0; ox < p->output.w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        for (int32_t oc = 0; oc < out_c; ++oc) {
          const int32_t c0 = (oc / per_group) * group_c;
          float acc = 0.0f;
          for (int32_t ky = 0; ky < k_h; ++ky) {
            const int32_t y = y0 + p->dilation_h * ky;
            if (y < 0 || y >= in_h) continue;
            for (int32_t kx = 0; kx < k_w; ++kx) {
              const int32_t x = x0 + p->dilation_w * kx;
              if (x < 0 || x >= in_w) continue;
              const float *in = input + ((b * in_h + y) * in_w + x) * in_c + c0;
              const float *f = filter + ((oc * k_h + ky) * k_w + kx) * group_c;
              for (int32_t ic = 0; ic < group_c; ++ic) acc += f[ic] * in[ic];
            }
          }
          if (bias) acc += bias[oc];
          output[((b * p->output.h + oy) * p->output.w + ox) * out_c + oc] = clampf(acc, act_min, act_max);
        }
      }
    }
  }
}

void ec_depthwise_conv_2d_f32(const ec_conv_params *p, float act_min, float act_max, const float *input,
                              const float *filter, const float *bias, float *output) {
  const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
  const int32_t out_c = p->output.c, k_h = p->filter.h, k_w = p->filter.w;
  for (int32_t b = 0; b < p->output.n; ++b) {
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      for (int32_t ox = 0; ox < p->output.w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        for (int32_t oc = 0; oc < out_c; ++oc) {
          const int32_t ic = oc / p->depth_multiplier;
          float acc = 0.0f;
          for (int32_t ky = 0; ky < k_h; ++ky) {
            const int32_t y = y0 + p->dilation_h * ky;
            if (y < 0 || y >= in_h) continue;
            for (int32_t kx = 0; kx < k_w; ++kx) {
              const int32_t x = x0 + p->dilation_w * kx;
              if (x < 0 || x >= in_w) continue;
              acc += input[((b * in_h + y) * in_w + x) * in_c + ic] * filter[(ky * k_w + kx) * out_c + oc];
            }
          }
          if (bias) acc += bias[oc];
          output[((b * p->output.h + oy) * p->output.w + ox) * out_c + oc] = clampf(acc, act_min, act_max);
        }
      }
    }
  }
}

void ec_fully_connected_f32(const ec_fc_params *p, float act_min, float act_max, const float *input,
                            const float *filter, const float *bias, float *output) {
  for (int32_t r = 0; r < p->rows; ++r) {
    const float *in = input + r * p->depth;
    for (int32_t u = 0; u < p->units; ++u) {
      const float *f = filter + u * p->depth;
      float acc = 0.0f;
      for (int32_t d = 0; d < p->depth; ++d) acc += in[d] * f[d];
      if (bias) acc += bias[u];
      output[r * p->units + u] = clampf(acc, act_min, act_max);
    }
  }
}

/* kind 0: average over the window's taps inside the image; 1: their maximum; 2: the square
 * root of their squares' average (L2_POOL_2D). */
void ec_pool_f32(const ec_pool_params *p, int32_t kind, float act_min, float act_max, const float *input,
                 float *output) {
  const int32_t in_h = p->input.h, in_w = p->input.w, c = p->input.c;
  for (int32_t b = 0; b < p->output.n; ++b) {
    for (int32_t oy = 0; oy < p->output.h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      for (int32_t ox = 0; ox < p->output.w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        for (int32_t ch = 0; ch < c; ++ch) {
          float acc = kind == 1 ? -INFINITY : 0.0f;
          int32_t n = 0;
          for (int32_t ky = 0; ky < p->filter_h; ++ky) {
            const int32_t y = y0 + ky;
            if (y < 0 || y >= in_h) continue;
            for (int32_t kx = 0; kx < p->filter_w; ++kx) {
              const int32_t x = x0 + kx;
              if (x < 0 || x >= in_w) continue;
              const float v = input[((b * in_h + y) * in_w + x) * c + ch];
              acc = kind == 0 ? acc + v : (kind == 2 ? acc + v * v : (v > acc ? v : acc));
              ++n;
            }
          }
          if (kind != 1) acc = n ? acc / (float)n : 0.0f;
          if (kind == 2) acc = sqrtf(acc);
          output[((b * p->output.h + oy) * p->output.w + ox) * c + ch] = clampf(acc, act_min, act_max);
        }
      }
    }
  }
}

void ec_softmax_f32(int32_t rows, int32_t depth, float beta, const float *input, float *output) {
  for (int32_t r = 0; r < rows; ++r) {
    const float *in = input + r * depth;
    float *out = output + r * depth;
    float top = in[0], sum = 0.0f;
    for (int32_t d = 1; d < depth; ++d) top = in[d] > top ? in[d] : top;
    for (int32_t d = 0; d < depth; ++d) {
      out[d] = expf((in[d] - top) * beta);
      sum += out[d];
    }
    for (int32_t d = 0; d < depth; ++d) out[d] /= sum;
  }
}

static int32_t box_offset(int32_t i, const int32_t *dims, const int32_t *strides, int32_t n) {
  int32_t off = 0;
  for (int32_t d = n - 1; d >= 0; --d) {
    off += (i % dims[d]) * strides[d];
    i /= dims[d];
  }
  return off;
}

void ec_reduce_f32(const ec_mean_params *p, int32_t kind, const float *input, float *output) {
  for (int32_t o = 0; o < p->out_count; ++o) {
    const float *base = input + box_offset(o, p->kept_dims, p->kept_strides, p->n_kept);
    float acc = kind == EC_REDUCE_MAX ? -FLT_MAX : (kind == EC_REDUCE_MIN ? FLT_MAX : 0.0f);
    for (int32_t r = 0; r < p->count; ++r) {
      const float v = base[box_offset(r, p->red_dims, p->red_strides, p->n_red)];
      if (kind == EC_REDUCE_MAX) acc = v > acc ? v : acc;
      else if (kind == EC_REDUCE_MIN) acc = v < acc ? v : acc;
      else acc += v;
    }
    output[o] = kind == EC_REDUCE_MEAN ? acc / (float)p->count : acc;
  }
}

void ec_rows_f32(int32_t rows, int32_t depth, int32_t kind, const float *input, float *output) {
  for (int32_t r = 0; r < rows; ++r) {
    const float *in = input + r * depth;
    float *out = output + r * depth;
    float acc = 0.0f;
    if (kind == 0) { /* x - max - log(sum(exp(x - max))) */
      float top = in[0];
      for (int32_t d = 1; d < depth; ++d) top = in[d] > top ? in[d] : top;
      for (int32_t d = 0; d < depth; ++d) acc += expf(in[d] - top);
      const float log_sum = logf(acc);
      for (int32_t d = 0; d < depth; ++d) out[d] = (in[d] - top) - log_sum;
    } else { /* x / max(sqrt(sum(x * x)), 1e-6) */
      for (int32_t d = 0; d < depth; ++d) acc += in[d] * in[d];
      float norm = sqrtf(acc);
      if (norm < 1e-6f) norm = 1e-6f;
      for (int32_t d = 0; d < depth; ++d) out[d] = in[d] / norm;
    }
  }
}

void ec_arg_minmax(int32_t outer, int32_t axis, int32_t inner, int32_t is_max, int32_t is_int8,
                   const void *input, int32_t *output) {
  const int8_t *q = (const int8_t *)input;
  const float *f = (const float *)input;
  for (int32_t o = 0; o < outer; ++o) {
    for (int32_t i = 0; i < inner; ++i) {
      const int32_t base = o * axis * inner + i;
      float best = is_int8 ? (float)q[base] : f[base];
      int32_t at = 0;
      for (int32_t a = 1; a < axis; ++a) { /* the first index wins a tie; NaN never replaces */
        const float v = is_int8 ? (float)q[base + a * inner] : f[base + a * inner];
        if (is_max ? v > best : v < best) {
          best = v;
          at = a;
        }
      }
      output[o * inner + i] = at;
    }
  }
}

/* One BATCH_MATMUL batch: out (rows x cols) = lhs (rows x depth, stored transposed when adj_x)
 * times rhs (depth x cols, stored transposed when adj_y), summed in float in depth order. */
void ec_matmul_f32(int32_t rows, int32_t depth, int32_t cols, int32_t adj_x, int32_t adj_y, const float *lhs,
                   const float *rhs, float *output) {
  for (int32_t r = 0; r < rows; ++r) {
    for (int32_t c = 0; c < cols; ++c) {
      float acc = 0.0f;
      for (int32_t d = 0; d < depth; ++d) {
        const float a = adj_x ? lhs[d * rows + r] : lhs[r * depth + d];
        const float b = adj_y ? rhs[c * depth + d] : rhs[d * cols + c];
        acc += a * b;
      }
      output[r * cols + c] = acc;
    }
  }
}
