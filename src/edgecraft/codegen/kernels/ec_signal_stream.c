/* TFLite Micro's signal-library ops that keep samples between invocations, portable C99, as
 * edgecraft's runtime runs them (ops/signal_delay.py, signal_framer.py, signal_stacker.py,
 * signal_overlap_add.py). Their state arrays belong to the generated model (static, zeroed by its
 * reset); where TFLM leaves an output unwritten (a frame or stack not complete yet) the kernel
 * keeps the previous one in state, as the runtime does, and copies it out. */
#include <string.h>

#include "ec_kernels.h"

void ec_signal_delay_s16(int32_t rows, int32_t length, int32_t delay, const int16_t *input, int16_t *held,
                         int16_t *output) {
  for (int32_t r = 0; r < rows; ++r) {
    const int16_t *x = input + r * length;
    int16_t *h = held + r * delay, *y = output + r * length;
    for (int32_t i = 0; i < length; ++i) y[i] = i < delay ? h[i] : x[i - delay];
    /* the line after this invocation: its last `delay` samples (read ahead of the writes) */
    for (int32_t j = 0; j < delay && length > 0; ++j) h[j] = length + j < delay ? h[length + j] : x[length + j - delay];
  }
}

void ec_signal_framer_s16(const ec_framer_params *p, const int16_t *input, int16_t *held, int32_t *held_len,
                          int16_t *frames, int16_t *output, uint8_t *valid) {
  const int32_t room = p->size + p->step;
  uint8_t ok = 1;
  for (int32_t r = 0; r < p->rows; ++r) {
    int16_t *buf = held + r * room;
    int32_t len = held_len[r];
    for (int32_t k = 0; k < p->frames; ++k) {
      memcpy(buf + len, input + r * p->length + k * p->step, (size_t)p->step * sizeof(int16_t));
      len += p->step;
      if (len >= p->size) {
        memcpy(frames + (r * p->frames + k) * p->size, buf, (size_t)p->size * sizeof(int16_t));
        len -= p->step;
        memmove(buf, buf + p->step, (size_t)len * sizeof(int16_t));
      } else {
        ok = 0;
      }
    }
    held_len[r] = len;
  }
  memcpy(output, frames, (size_t)(p->rows * p->frames * p->size) * sizeof(int16_t));
  *valid = ok;
}

void ec_signal_stacker_s16(const ec_stacker_params *p, const int16_t *input, int16_t *held, int32_t *counts,
                           int16_t *stack, int16_t *output, uint8_t *valid) {
  /* counts[0]: samples held; counts[1]: 1 once the first frame came (it fills the left context) */
  int32_t len = counts[0];
  const int32_t copies = counts[1] ? 1 : p->left + 1;
  for (int32_t c = 0; c < copies; ++c, len += p->channels)
    memcpy(held + len, input, (size_t)p->channels * sizeof(int16_t));
  counts[1] = 1;
  *valid = len >= p->size;
  if (*valid) {
    memcpy(stack, held, (size_t)p->size * sizeof(int16_t));
    len -= p->step;
    memmove(held, held + p->step, (size_t)len * sizeof(int16_t));
  }
  counts[0] = len;
  memcpy(output, stack, (size_t)p->outputs * sizeof(int16_t));
}

#define EC_OVERLAP_ADD(NAME, T, ADD)                                                                      \
  void NAME(int32_t rows, int32_t frames, int32_t size, int32_t step, const T *input, T *state, T *output) { \
    for (int32_t r = 0; r < rows; ++r) {                                                                  \
      T *s = state + r * size;                                                                            \
      for (int32_t k = 0; k < frames; ++k) {                                                              \
        const T *x = input + (r * frames + k) * size;                                                     \
        for (int32_t i = 0; i < size; ++i) s[i] = ADD(s[i], x[i]);                                        \
        memcpy(output + (r * frames + k) * step, s, (size_t)step * sizeof(T));                           \
        memmove(s, s + step, (size_t)(size - step) * sizeof(T));                                          \
        memset(s + size - step, 0, (size_t)step * sizeof(T));                                            \
      }                                                                                                   \
    }                                                                                                     \
  }

static int16_t ec_add_sat16(int16_t a, int16_t b) {
  const int32_t v = (int32_t)a + b;
  return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
}
#define EC_ADD_F32(a, b) ((a) + (b))

EC_OVERLAP_ADD(ec_signal_overlap_add_s16, int16_t, ec_add_sat16)
EC_OVERLAP_ADD(ec_signal_overlap_add_f32, float, EC_ADD_F32)
