/* SVDF, portable C99, as TFLM's svdf_common.cc: the state's flat buffer moves one element to the
 * left, each filter's feature dot product becomes the newest entry of its memory row, and each
 * unit sums its rank filters' time dot products over their rows, plus the bias. int8 input with
 * int8 or int16 time weights and state; float32. */
#include <string.h>

#include "ec_kernels.h"

#define EC_SVDF_INTEGER(NAME, T)                                                                  \
  void NAME(const ec_svdf_params *p, const int8_t *input, const int8_t *feature, const T *time,   \
            const int32_t *bias, T *state, int8_t *output) {                                      \
    const int32_t rows = p->batch * p->filters;                                                   \
    memmove(state, state + 1, (size_t)(rows * p->memory - 1) * sizeof(T));                       \
    for (int32_t b = 0; b < p->batch; ++b) {                                                      \
      for (int32_t f = 0; f < p->filters; ++f) {                                                  \
        int32_t dot = 0;                                                                          \
        for (int32_t i = 0; i < p->inputs; ++i)                                                   \
          dot += feature[f * p->inputs + i] * (input[b * p->inputs + i] - p->input_zero_point);   \
        dot = ec_clamp(ec_mbqm(dot, p->feature_multiplier, p->feature_shift), p->state_min,       \
                       p->state_max);                                                             \
        state[(b * p->filters + f) * p->memory + p->memory - 1] = (T)(p->state_zero_point + dot); \
      }                                                                                           \
      for (int32_t u = 0; u < p->units; ++u) {                                                    \
        int32_t acc = bias[u];                                                                    \
        for (int32_t f = u * p->rank; f < (u + 1) * p->rank; ++f) {                               \
          const T *row = state + (b * p->filters + f) * p->memory;                                \
          for (int32_t m = 0; m < p->memory; ++m)                                                 \
            acc += time[f * p->memory + m] * (row[m] - p->state_zero_point);                      \
        }                                                                                         \
        acc = ec_mbqm(acc, p->output_multiplier, p->output_shift) + p->output_zero_point;         \
        output[b * p->units + u] = (int8_t)ec_clamp(acc, -128, 127);                              \
      }                                                                                           \
    }                                                                                             \
  }

EC_SVDF_INTEGER(ec_svdf_s8_s16, int16_t)
EC_SVDF_INTEGER(ec_svdf_s8_s8, int8_t)

void ec_svdf_f32(const ec_svdf_params *p, const float *input, const float *feature, const float *time,
                 const float *bias, float *state, float *output) {
  const int32_t rows = p->batch * p->filters;
  memmove(state, state + 1, (size_t)(rows * p->memory - 1) * sizeof(float));
  for (int32_t b = 0; b < p->batch; ++b) {
    for (int32_t f = 0; f < p->filters; ++f) {
      float dot = 0.0f;
      for (int32_t i = 0; i < p->inputs; ++i) dot += feature[f * p->inputs + i] * input[b * p->inputs + i];
      state[(b * p->filters + f) * p->memory + p->memory - 1] = dot;
    }
    for (int32_t u = 0; u < p->units; ++u) {
      float acc = bias ? bias[u] : 0.0f;
      for (int32_t f = u * p->rank; f < (u + 1) * p->rank; ++f) {
        const float *row = state + (b * p->filters + f) * p->memory;
        float sum = 0.0f;
        for (int32_t m = 0; m < p->memory; ++m) sum += time[f * p->memory + m] * row[m];
        acc += sum;
      }
      acc = acc < p->act_min_f ? p->act_min_f : acc;
      output[b * p->units + u] = acc > p->act_max_f ? p->act_max_f : acc;
    }
  }
}
