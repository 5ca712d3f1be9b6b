/* TFLite Micro's signal-library ops, portable C99, the integer arithmetic of edgecraft's runtime
 * (ops/signal_*.py, ops/signal_math.py): window, FFT auto scale, energy, filter bank, its square
 * root, spectral subtraction, PCAN gain control and the fixed-point log. Every product that could
 * leave int32 is done in a wider or unsigned type; narrowing conversions wrap as C's do on the
 * two's complement targets edgecraft builds for. */
#include "ec_kernels.h"

/* Bit length of x (0 for 0). */
static int32_t ec_bit_length(uint64_t x) {
  int32_t n = 0;
  while (x) {
    ++n;
    x >>= 1;
  }
  return n;
}

void ec_signal_window_s16(int32_t size, int32_t length, int32_t shift, const int16_t *input,
                          const int16_t *window, int16_t *output) {
  for (int32_t i = 0; i < size; ++i) {
    const int32_t v = ((int32_t)input[i] * window[i % length]) >> shift;
    output[i] = (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
  }
}

void ec_signal_fft_auto_scale_s16(int32_t size, const int16_t *input, int16_t *output, int32_t *bits) {
  /* the peak in an int16, as TFLM keeps it: -(-32768) stores as -32768 */
  int16_t peak = 0;
  for (int32_t i = 0; i < size; ++i) {
    const int32_t v = input[i];
    if (v > peak) {
      peak = (int16_t)v;
    } else if (-v > peak) {
      peak = (int16_t)(uint16_t)(uint32_t)(-v);
    }
  }
  const int32_t msb = peak <= 0 ? 32 : ec_bit_length((uint64_t)peak);
  const int32_t shift = msb < 15 ? 15 - msb : 0;
  for (int32_t i = 0; i < size; ++i) output[i] = (int16_t)(uint16_t)((uint32_t)(int32_t)input[i] << shift);
  *bits = shift;
}

void ec_signal_energy_s16(int32_t size, int32_t start, int32_t end, const int16_t *input, uint32_t *output) {
  for (int32_t i = 0; i < size; ++i) {
    if (i < start || i >= end) {
      output[i] = 0;  /* TFLM leaves these unwritten */
      continue;
    }
    const int32_t re = input[2 * i], im = input[2 * i + 1];
    output[i] = (uint32_t)(re * re) + (uint32_t)(im * im);
  }
}

void ec_signal_filter_bank_u32(const ec_filter_bank_params *p, const uint32_t *input, uint64_t *output) {
  uint64_t carry = 0;
  for (int32_t c = 0; c <= p->channels; ++c) {
    uint64_t total = carry, next = 0;
    const int32_t f = p->freq_starts[c], w = p->weight_starts[c];
    for (int32_t j = 0; j < p->widths[c]; ++j) {
      const uint64_t x = input[f + j];
      total += (uint64_t)(int64_t)p->weights[w + j] * x;
      next += (uint64_t)(int64_t)p->unweights[w + j] * x;
    }
    if (c >= 1 && c <= p->outputs) output[c - 1] = total;
    carry = next;
  }
}

/* The floor square root of n, digit by digit; *rest gets n - root^2. */
static uint64_t ec_isqrt64(uint64_t n, uint64_t *rest) {
  uint64_t root = 0, bit = (uint64_t)1 << 62;
  while (bit > n) bit >>= 2;
  for (; bit; bit >>= 2) {
    if (n >= root + bit) {
      n -= root + bit;
      root = (root >> 1) + bit;
    } else {
      root >>= 1;
    }
  }
  *rest = n;
  return root;
}

void ec_signal_filter_bank_sqrt_u64(int32_t size, const uint64_t *input, const int32_t *shift,
                                    uint32_t *output) {
  const int32_t s = *shift;
  for (int32_t i = 0; i < size; ++i) {
    uint64_t rest;
    uint64_t root = ec_isqrt64(input[i], &rest);
    const uint64_t cap = input[i] >> 32 ? 0xFFFFFFFFu : 0xFFFFu;
    if (rest > root && root != cap) ++root;  /* rounded, but never past the cap */
    output[i] = s >= 64 ? 0 : (uint32_t)(root >> (s > 0 ? s : 0));
  }
}

void ec_signal_spectral_subtraction_u32(const ec_spectral_subtraction_params *p, const uint32_t *input,
                                        uint32_t *noise, uint32_t *output, uint32_t *noise_output) {
  const int32_t sb = p->smoothing_bits, qb = p->subtraction_bits;
  for (int32_t i = 0; i < p->channels; ++i) {
    const int odd = i & 1;
    const uint64_t smooth = odd ? p->alternate_smoothing : p->smoothing;
    const uint64_t keep = odd ? p->alternate_one_minus_smoothing : p->one_minus_smoothing;
    const uint32_t up = input[i] << sb;
    noise[i] = (uint32_t)((up * smooth + noise[i] * keep) >> qb);
    uint32_t estimate = noise[i];
    if (estimate > up) {
      estimate = up;
      if (p->clamping) noise[i] = up;
    }
    const uint32_t floor = (uint32_t)(((uint64_t)input[i] * p->min_signal_remaining) >> qb);
    const uint32_t left = (up - estimate) >> sb;
    output[i] = left > floor ? left : floor;
  }
  for (int32_t i = p->channels; i < p->outputs; ++i) output[i] = 0;
  for (int32_t i = 0; i < p->noise_outputs; ++i) noise_output[i] = i < p->channels ? noise[i] : 0;
}

/* PCAN's gain for a noise estimate: a piecewise quadratic read from the int16 table. */
static int16_t ec_wide_dynamic(uint32_t x, const int16_t *lut) {
  if (x <= 2) return lut[x];
  const int32_t interval = ec_bit_length(x);
  const int16_t *seg = lut + 4 * interval - 6;
  const int32_t frac = (int32_t)((interval < 11 ? x << (11 - interval) : x >> (interval - 11)) & 0x3FF);
  int32_t r = ((int32_t)seg[2] * frac) >> 5;
  r = (int32_t)((uint32_t)r + ((uint32_t)(int32_t)seg[1] << 5));
  r = (int32_t)(uint32_t)((int64_t)r * frac);
  r = (int32_t)((uint32_t)r + (1u << 14)) >> 15;
  return (int16_t)(uint16_t)(uint32_t)(r + seg[0]);
}

void ec_signal_pcan_u32(int32_t size, int32_t snr_shift, const uint32_t *input, const uint32_t *noise,
                        const int16_t *gain_lut, uint32_t *output) {
  for (int32_t i = 0; i < size; ++i) {
    const uint32_t gain = (uint32_t)(int32_t)ec_wide_dynamic(noise[i], gain_lut);
    const uint32_t snr = (uint32_t)(((uint64_t)input[i] * gain) >> snr_shift);
    output[i] = snr < (2u << 12) ? (snr * snr) >> 20 : (snr >> 6) - 64u;
  }
}

/* output_scale * ln(x) in 16.16 fixed point, x > 1; lut: log2's correction per 1/128 segment of
 * the mantissa, round(2^16 (log2(1 + k/128) - k/128)) for k = 0..128, then a 0. */
static uint32_t ec_log32(uint32_t x, uint32_t out_scale, const uint16_t *lut) {
  const int32_t integer = ec_bit_length(x) - 1;
  int32_t frac = (int32_t)(x - (1u << integer));
  frac = integer < 16 ? frac << (16 - integer) : frac >> (integer - 16);
  const int32_t seg = frac >> 9;
  const int32_t c0 = lut[seg], c1 = lut[seg + 1];
  const int32_t rel = ((c1 - c0) * (frac - 512 * seg)) >> 16;
  const uint32_t log2 = ((uint32_t)integer << 16) + (uint32_t)(frac + c0 + rel);
  const uint32_t loge = (uint32_t)((45426u * (uint64_t)log2 + 32768u) >> 16);
  return (out_scale * loge + 32768u) >> 16;
}

void ec_signal_filter_bank_log_u32(int32_t size, int32_t correction_bits, uint32_t output_scale,
                                   const uint16_t *log_lut, const uint32_t *input, int16_t *output) {
  for (int32_t i = 0; i < size; ++i) {
    const uint32_t scaled = input[i] << correction_bits;
    if (scaled <= 1) {
      output[i] = 0;
      continue;
    }
    const uint32_t v = ec_log32(scaled, output_scale, log_lut);
    output[i] = (int16_t)(v < 32767u ? v : 32767u);
  }
}
