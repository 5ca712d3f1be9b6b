/* UNIDIRECTIONAL_SEQUENCE_LSTM, portable C99: int8 activations (int32 biases) and int16
 * activations (16x8, int64 biases), both with an int16 cell state, and float32 throughout, as
 * TFLM's lstm_eval computes them. Per step each gate is act(FC(x) + FC(h)), the two products requantized to int16 at
 * 2^-12 and added saturating; sigmoid and tanh are the int16 table kernels; then
 * c = f * c + i * g (clipped), h = o * tanh(c). Every element of a step reads only the old
 * hidden state, so the new one is gathered in scratch and copied at the end of the step. */
#include <math.h>
#include <string.h>

#include "ec_kernels.h"

static int32_t sat16(int32_t v) { return ec_clamp(v, -32768, 32767); }

/* reference_integer_ops::Logistic on int16 with the power-of-two input scaling (x * 3). */
static int16_t sigmoid16(const uint16_t *table, int32_t x) {
  const int32_t v = x * 3;
  const uint32_t a = (uint32_t)(v < 0 ? -v : v);
  const uint32_t k = a >> 9;
  uint32_t r;
  if (k >= 255) {
    r = 0x7FFFu << 10;
  } else {
    const uint32_t lo = table[k], hi = table[k + 1];
    r = (lo << 9) + (a & 0x1FFu) * (hi - lo);
  }
  r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
  return (int16_t)(r >> 10);
}

/* reference_integer_ops::Tanh on int16: input scaled by (x * multiplier + round) >> shift. */
static int16_t tanh16(const uint16_t *table, int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
  const int32_t v = (x * multiplier + round) >> shift;
  const uint32_t a = (uint32_t)(v < 0 ? -v : v);
  const uint32_t k = a >> 8;
  int32_t r;
  if (k >= 255) {
    r = 0xFFFF << 8;
  } else {
    const uint32_t lo = table[k], hi = table[k + 1];
    r = (int32_t)((lo << 8) + (a & 0xFFu) * (hi - lo));
  }
  r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
  return (int16_t)(r >> 8);
}

/* Gate g's pre-activation for row r, unit u: int16 sums of the two products. */
static int32_t gate_s8(const ec_lstm_params *p, int g, const int8_t *x, const int8_t *h, int32_t u) {
  const int8_t *wx = (const int8_t *)p->input_weights[g] + u * p->inputs;
  const int8_t *wh = (const int8_t *)p->recurrent_weights[g] + u * p->state;
  int32_t ax = 0, ah = 0;
  for (int32_t d = 0; d < p->inputs; ++d) ax += (wx[d] + p->w_offset) * (x[d] + p->x_offset);
  ax += ((const int32_t *)p->bias[g])[u];
  for (int32_t d = 0; d < p->state; ++d) ah += (wh[d] + p->w_offset) * (h[d] + p->h_offset);
  ax = sat16(ec_mbqm(ax, p->x_multiplier[g], p->x_shift[g]));
  ah = sat16(ec_mbqm(ah, p->h_multiplier[g], p->h_shift[g]));
  return sat16(ax + ah);
}

static int32_t gate_s16(const ec_lstm_params *p, int g, const int16_t *x, const int16_t *h, int32_t u) {
  const int8_t *wx = (const int8_t *)p->input_weights[g] + u * p->inputs;
  const int8_t *wh = (const int8_t *)p->recurrent_weights[g] + u * p->state;
  int64_t ax = 0, ah = 0;
  for (int32_t d = 0; d < p->inputs; ++d) ax += (wx[d] + p->w_offset) * (x[d] + p->x_offset);
  ax += ((const int64_t *)p->bias[g])[u];
  for (int32_t d = 0; d < p->state; ++d) ah += (wh[d] + p->w_offset) * (h[d] + p->h_offset);
  return sat16(sat16(ec_mbqm64(ax, p->x_multiplier[g], p->x_shift[g]))
               + sat16(ec_mbqm64(ah, p->h_multiplier[g], p->h_shift[g])));
}

/* The cell update and the new hidden value from the four gate pre-activations. */
static int32_t cell_and_hidden(const ec_lstm_params *p, const int32_t pre[4], int16_t *c) {
  const uint16_t *t = p->sigmoid_table;
  const int32_t i = sigmoid16(t, pre[0]), f = sigmoid16(t, pre[1]), o = sigmoid16(t, pre[3]);
  const int32_t g = tanh16(t, pre[2], 3, 0);
  int32_t cell = sat16(ec_mbqm(f * *c, p->forget_multiplier, p->forget_shift));
  cell = sat16(cell + sat16(ec_mbqm(i * g, p->input_multiplier, p->input_shift)));
  if (p->cell_clip > 0) cell = ec_clamp(cell, -p->cell_clip, p->cell_clip);
  *c = (int16_t)cell;
  const int32_t th = tanh16(t, cell, p->tanh_multiplier, p->tanh_shift);
  return ec_clamp(p->hidden_zero_point + ec_mbqm(th * o, p->hidden_multiplier, p->hidden_shift),
                  p->hidden_min, p->hidden_max);
}

/* One step over `rows` rows: x (rows, inputs), h and c (rows, state), out (rows, state). */
static void step_s8(const ec_lstm_params *p, int32_t rows, const int8_t *x, int8_t *h, int16_t *c,
                    int8_t *out, int16_t *scratch) {
  for (int32_t r = 0; r < rows; ++r) {
    for (int32_t u = 0; u < p->state; ++u) {
      int32_t pre[4];
      for (int g = 0; g < 4; ++g) pre[g] = gate_s8(p, g, x + r * p->inputs, h + r * p->state, u);
      scratch[r * p->state + u] = (int16_t)cell_and_hidden(p, pre, c + r * p->state + u);
    }
  }
  for (int32_t k = 0; k < rows * p->state; ++k) out[k] = h[k] = (int8_t)scratch[k];
}

static void step_s16(const ec_lstm_params *p, int32_t rows, const int16_t *x, int16_t *h, int16_t *c,
                     int16_t *out, int16_t *scratch) {
  for (int32_t r = 0; r < rows; ++r) {
    for (int32_t u = 0; u < p->state; ++u) {
      int32_t pre[4];
      for (int g = 0; g < 4; ++g) pre[g] = gate_s16(p, g, x + r * p->inputs, h + r * p->state, u);
      scratch[r * p->state + u] = (int16_t)cell_and_hidden(p, pre, c + r * p->state + u);
    }
  }
  memcpy(h, scratch, (size_t)(rows * p->state) * sizeof(int16_t));
  memcpy(out, scratch, (size_t)(rows * p->state) * sizeof(int16_t));
}

/* Time major: every batch row per step. Batch major: each batch through every step, with its
 * own rows of the states. */
void ec_lstm_s8(const ec_lstm_params *p, const int8_t *input, int8_t *hidden, int16_t *cell,
                int8_t *output, int16_t *scratch) {
  if (p->time_major) {
    for (int32_t t = 0; t < p->time; ++t) {
      step_s8(p, p->batch, input + t * p->batch * p->inputs, hidden, cell,
              output + t * p->batch * p->state, scratch);
    }
    return;
  }
  for (int32_t b = 0; b < p->batch; ++b) {
    for (int32_t t = 0; t < p->time; ++t) {
      step_s8(p, 1, input + (b * p->time + t) * p->inputs, hidden + b * p->state, cell + b * p->state,
              output + (b * p->time + t) * p->state, scratch);
    }
  }
}

void ec_lstm_s16(const ec_lstm_params *p, const int16_t *input, int16_t *hidden, int16_t *cell,
                 int16_t *output, int16_t *scratch) {
  if (p->time_major) {
    for (int32_t t = 0; t < p->time; ++t) {
      step_s16(p, p->batch, input + t * p->batch * p->inputs, hidden, cell,
               output + t * p->batch * p->state, scratch);
    }
    return;
  }
  for (int32_t b = 0; b < p->batch; ++b) {
    for (int32_t t = 0; t < p->time; ++t) {
      step_s16(p, 1, input + (b * p->time + t) * p->inputs, hidden + b * p->state, cell + b * p->state,
               output + (b * p->time + t) * p->state, scratch);
    }
  }
}

/* Gate g's pre-activation for one row and unit u: the input product plus bias (summed in input
 * order, as the reference FullyConnected), plus the recurrent product. */
static float gate_f32(const ec_lstm_params *p, int g, const float *x, const float *h, int32_t u) {
  const float *wx = (const float *)p->input_weights[g] + u * p->inputs;
  const float *wh = (const float *)p->recurrent_weights[g] + u * p->state;
  float ax = 0.0f, ah = 0.0f;
  for (int32_t d = 0; d < p->inputs; ++d) ax += x[d] * wx[d];
  for (int32_t d = 0; d < p->state; ++d) ah += h[d] * wh[d];
  return (ax + ((const float *)p->bias[g])[u]) + ah;
}

static void step_f32(const ec_lstm_params *p, int32_t rows, const float *x, float *h, float *c, float *out,
                     float *scratch) {
  const float clip = p->cell_clip_f;
  for (int32_t r = 0; r < rows; ++r) {
    const float *xr = x + r * p->inputs, *hr = h + r * p->state;
    for (int32_t u = 0; u < p->state; ++u) {
      const float i = ec_logistic_f32(gate_f32(p, 0, xr, hr, u));
      const float f = ec_logistic_f32(gate_f32(p, 1, xr, hr, u));
      const float g = tanhf(gate_f32(p, 2, xr, hr, u));
      const float o = ec_logistic_f32(gate_f32(p, 3, xr, hr, u));
      float *cell = c + r * p->state + u;
      float v = f * *cell;
      v = v + i * g;
      if (clip > 0.0f) {
        v = v < clip ? v : clip;
        v = v < -clip ? -clip : v;
      }
      *cell = v;
      scratch[r * p->state + u] = tanhf(v) * o;
    }
  }
  memcpy(h, scratch, (size_t)(rows * p->state) * sizeof(float));
  memcpy(out, scratch, (size_t)(rows * p->state) * sizeof(float));
}

void ec_lstm_f32(const ec_lstm_params *p, const float *input, float *hidden, float *cell, float *output,
                 float *scratch) {
  if (p->time_major) {
    for (int32_t t = 0; t < p->time; ++t) {
      step_f32(p, p->batch, input + t * p->batch * p->inputs, hidden, cell,
               output + t * p->batch * p->state, scratch);
    }
    return;
  }
  for (int32_t b = 0; b < p->batch; ++b) {
    for (int32_t t = 0; t < p->time; ++t) {
      step_f32(p, 1, input + (b * p->time + t) * p->inputs, hidden + b * p->state, cell + b * p->state,
               output + (b * p->time + t) * p->state, scratch);
    }
  }
}
