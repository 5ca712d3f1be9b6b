/* PAD, MEAN and QUANTIZE (int8 -> int8) int8 kernels, portable C99. */
#include <string.h>

#include "ec_kernels.h"

/* Row by row: the trailing dimensions without padding are one contiguous block, so each output
 * row (the innermost padded dimension times that block) is a fill, a copy of the input row and a
 * fill, at memset/memcpy speed; rows wholly in the padding are one fill. Rows are written in
 * order and copied with memmove, so an output placed at or before its input reads each input row
 * before it is overwritten, as an element-by-element loop would. */
void ec_pad_s8(const ec_pad_params *p, const int8_t *input, int8_t *output) {
  int k = EC_MAX_DIMS - 1;
  int32_t inner = 1;
  while (k > 0 && p->before[k] == 0 && p->in_dims[k] == p->out_dims[k]) inner *= p->in_dims[k--];
  const int32_t out_row = p->out_dims[k] * inner, in_row = p->in_dims[k] * inner, before = p->before[k] * inner;
  const int32_t after = out_row - in_row - before;
  int32_t index[EC_MAX_DIMS] = {0}, rows = 1;
  for (int d = 0; d < k; ++d) rows *= p->out_dims[d];
  for (int32_t r = 0; r < rows; ++r, output += out_row) {
    int32_t src = 0, inside = 1;
    for (int d = 0; d < k; ++d) {
      const int32_t j = index[d] - p->before[d];
      if (j < 0 || j >= p->in_dims[d]) inside = 0;
      src = src * p->in_dims[d] + j;
    }
    if (!inside) {
      memset(output, p->pad_value, (size_t)out_row);
    } else {
      memset(output, p->pad_value, (size_t)before);
      memmove(output + before, input + src * in_row, (size_t)in_row);
      memset(output + before + in_row, p->pad_value, (size_t)after);
    }
    for (int d = k - 1; d >= 0; --d) {
      if (++index[d] < p->out_dims[d]) break;
      index[d] = 0;
    }
  }
}

/* Offset of the idx-th element of a box with the given dims and strides. */
static int32_t box_offset(int32_t idx, const int32_t *dims, const int32_t *strides, int32_t n) {
  int32_t off = 0;
  for (int32_t d = n - 1; d >= 0; --d) {
    off += (idx % dims[d]) * strides[d];
    idx /= dims[d];
  }
  return off;
}

void ec_mean_s8(const ec_mean_params *p, const int8_t *input, int8_t *output) {
  for (int32_t o = 0; o < p->out_count; ++o) {
    const int8_t *base = input + box_offset(o, p->kept_dims, p->kept_strides, p->n_kept);
    int32_t sum = 0;
    for (int32_t r = 0; r < p->count; ++r) sum += base[box_offset(r, p->red_dims, p->red_strides, p->n_red)];
    const int32_t v = ec_mbqm(sum - p->input_zp_times_count, p->multiplier, p->shift) + p->output_offset;
    output[o] = (int8_t)ec_clamp(v, -128, 127);
  }
}

void ec_requantize_s8(const ec_requant_params *p, const int8_t *input, int8_t *output) {
  for (int32_t i = 0; i < p->size; ++i) {
    const int32_t v = ec_mbqm(input[i] + p->input_offset, p->multiplier, p->shift) + p->output_offset;
    output[i] = (int8_t)ec_clamp(v, -128, 127);
  }
}
