/* SOFTMAX, LOGISTIC and TANH int16, portable C99 (TFLM reference_ops::SoftmaxInt16 with its
 * interpolated exp and 1 / (1 + x) tables, reference_integer_ops::Logistic / Tanh on int16 with
 * the 256-entry sigmoid table). The tables are constant arrays the generator writes from the
 * Python reference (ops/lut16.py, ops/arith.py). */
#include "ec_kernels.h"

/* TFLM LUTLookup: 513-entry table, top 9 bits index, low 7 bits interpolate. */
static int16_t ec_lut_lookup_s16(int32_t value, const int16_t *lut) {
  const int32_t index = 256 + (value >> 7);
  const int32_t offset = value & 0x7f;
  const int32_t base = lut[index];
  const int32_t slope = (int16_t)(lut[index + 1] - lut[index]);
  return (int16_t)(base + ((slope * offset + 64) >> 7));
}

static int32_t ec_sat16(int32_t x) {
  return ec_clamp(x, -32768, 32767);
}

static int32_t ec_leading_zeros(uint32_t x) {
  int32_t n = 0;
  for (uint32_t bit = 0x80000000u; bit != 0 && !(x & bit); bit >>= 1) ++n;
  return n;
}

void ec_softmax_s16(const ec_softmax16_params *p, const int16_t *input, int16_t *output) {
  for (int32_t r = 0; r < p->rows; ++r) {
    const int16_t *in = input + r * p->depth;
    int16_t *out = output + r * p->depth; /* holds the exps until the last pass, as in TFLM */
    int32_t max = -32768;
    for (int32_t c = 0; c < p->depth; ++c) max = in[c] > max ? in[c] : max;
    int32_t sum = 0;
    for (int32_t c = 0; c < p->depth; ++c) {
      const int32_t scaled = ec_mbqm(in[c] - max, p->input_multiplier, p->input_shift);
      out[c] = ec_lut_lookup_s16(ec_sat16(scaled + 32767), p->exp_lut);
      sum += out[c];
    }
    const int32_t headroom = ec_leading_zeros((uint32_t)sum);
    const int32_t shifted = (int32_t)((((int64_t)sum << (headroom - 1)) + (1 << 13)) >> 14);
    const int32_t reciprocal = ec_lut_lookup_s16(ec_sat16(shifted - ((1 << 15) + (1 << 16))), p->recip_lut);
    const int32_t right = 31 - headroom;
    for (int32_t c = 0; c < p->depth; ++c) {
      const int32_t v = (int32_t)(((int64_t)out[c] * reciprocal + ((int64_t)1 << (right - 1))) >> right);
      out[c] = (int16_t)ec_clamp(v, 0, 32767);
    }
  }
}

/* The LUT kernels' input scaling: (x * multiplier + round) >> left_shift (the generator turns
 * TFLM's power-of-two case, multiplier 0, into multiplier 3 << shift and shift 0). */
static int32_t ec_lut_input(int32_t x, int32_t multiplier, int32_t left_shift) {
  const int32_t round = left_shift > 0 ? 1 << (left_shift - 1) : 0;
  return (x * multiplier + round) >> left_shift;
}

void ec_logistic_s16(int32_t size, int32_t multiplier, int32_t left_shift, const uint16_t *table,
                     const int16_t *input, int16_t *output) {
  for (int32_t i = 0; i < size; ++i) {
    const int32_t v = ec_lut_input(input[i], multiplier, left_shift);
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 9;
    uint32_t result;
    if (uh >= 255) {
      result = 0x7FFFu << 10;
    } else {
      const uint32_t ua = table[uh], ub = table[uh + 1];
      result = (ua << 9) + (a & 0x1FF) * (ub - ua);
    }
    result = v >= 0 ? result + (1u << 9) : (1u << 25) - result + (1u << 9) - 1;
    output[i] = (int16_t)(result >> 10);
  }
}

void ec_tanh_s16(int32_t size, int32_t multiplier, int32_t left_shift, const uint16_t *table,
                 const int16_t *input, int16_t *output) {
  for (int32_t i = 0; i < size; ++i) {
    const int32_t v = ec_lut_input(input[i], multiplier, left_shift);
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 8;
    int32_t result;
    if (uh >= 255) {
      result = 0xFFFF << 8;
    } else {
      const uint32_t ua = table[uh], ub = table[uh + 1];
      result = (int32_t)((ua << 8) + (a & 0xFF) * (ub - ua));
    }
    result = v >= 0 ? result - (1 << 23) + (1 << 7) : -result + (1 << 23) + (1 << 7) - 1;
    output[i] = (int16_t)(result >> 8);
  }
}
