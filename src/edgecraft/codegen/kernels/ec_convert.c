/* QUANTIZE and DEQUANTIZE between float32, int8, int16 and int32, portable C99 (TFLM's
 * AffineQuantize, Requantize and Dequantize). Integer tensors are read and written through
 * their element size in bytes (1, 2 or 4). */
#include "ec_kernels.h"

static int32_t ec_load_int(const void *data, int32_t bytes, int32_t i) {
  if (bytes == 1) return ((const int8_t *)data)[i];
  if (bytes == 2) return ((const int16_t *)data)[i];
  return ((const int32_t *)data)[i];
}

static void ec_store_int(void *data, int32_t bytes, int32_t i, int32_t v) {
  if (bytes == 1) {
    ((int8_t *)data)[i] = (int8_t)v;
  } else if (bytes == 2) {
    ((int16_t *)data)[i] = (int16_t)v;
  } else {
    ((int32_t *)data)[i] = v;
  }
}

/* integer -> integer: clamp(MultiplyByQuantizedMultiplier(x - zp_in) + zp_out). */
void ec_requantize(const ec_convert_params *p, const void *input, void *output) {
  for (int32_t i = 0; i < p->size; ++i) {
    const int32_t x = ec_load_int(input, p->in_bytes, i) + p->input_offset;
    const int32_t v = ec_mbqm(x, p->multiplier, p->shift) + p->output_offset;
    ec_store_int(output, p->out_bytes, i, ec_clamp(v, p->out_min, p->out_max));
  }
}

/* float32 -> integer: round(x / scale) (float32 division, halves away from zero, as
 * std::round) + zp_out, clamped; the rounded value is clamped to the int32 range first (the C
 * cast of a float out of range is undefined). No libm: the rounding is written out. */
void ec_quantize_f32(const ec_convert_params *p, const float *input, void *output) {
  for (int32_t i = 0; i < p->size; ++i) {
    const float q = input[i] / p->scale;
    int64_t r;
    if (!(q > -2147483648.0f)) { /* NaN too */
      r = INT32_MIN;
    } else if (q >= 2147483648.0f) {
      r = INT32_MAX;
    } else {
      const float a = q < 0 ? -q : q;
      int64_t t = (int64_t)a;
      if (a - (float)t >= 0.5f) ++t; /* exact: a and its integer part are close floats */
      r = q < 0 ? -t : t;
    }
    r += p->output_offset;
    ec_store_int(output, p->out_bytes, i, (int32_t)(r < p->out_min ? p->out_min : (r > p->out_max ? p->out_max : r)));
  }
}

/* integer -> float32: float(double(scale) * (x - zp)). */
void ec_dequantize(const ec_convert_params *p, const void *input, float *output) {
  for (int32_t i = 0; i < p->size; ++i) {
    output[i] = (float)(p->real_scale * (double)(ec_load_int(input, p->in_bytes, i) + p->input_offset));
  }
}
