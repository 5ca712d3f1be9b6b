/* Unquantized integer elementwise ops with broadcasting, portable C99, as TFLM's reference
 * kernels: int32 ADD, SUB, MUL, SQUARED_DIFFERENCE (wrapping as two's complement), DIV
 * (truncating toward zero; INT32_MIN / -1 wraps), MAXIMUM and MINIMUM of int32 and int64, and
 * the comparisons of int32, int64 and bool (a bool byte out); REDUCE_MAX/MIN of int8 and
 * REDUCE_ALL of bool. */
#include "ec_kernels.h"

static int32_t count(const ec_binary_params *p) {
  int32_t n = 1;
  for (int d = 0; d < EC_MAX_DIMS; ++d) n *= p->dims[d];
  return n;
}

static void step(const ec_binary_params *p, int32_t *index, int32_t *off1, int32_t *off2) {
  for (int d = EC_MAX_DIMS - 1; d >= 0; --d) {
    *off1 += p->stride1[d];
    *off2 += p->stride2[d];
    if (++index[d] < p->dims[d]) return;
    *off1 -= p->stride1[d] * p->dims[d];
    *off2 -= p->stride2[d] * p->dims[d];
    index[d] = 0;
  }
}

static int64_t load(const void *data, int32_t bytes, int32_t i) {
  if (bytes == 1) return ((const uint8_t *)data)[i];
  if (bytes == 4) return ((const int32_t *)data)[i];
  return ((const int64_t *)data)[i];
}

int ec_binary_i32(const ec_binary_params *p, int32_t kind, const int32_t *input1, const int32_t *input2,
                  int32_t *output) {
  int32_t index[EC_MAX_DIMS] = {0}, off1 = 0, off2 = 0;
  const int32_t n = count(p);
  for (int32_t i = 0; i < n; ++i, step(p, index, &off1, &off2)) {
    const int32_t a = input1[off1], b = input2[off2];
    uint32_t r;
    switch (kind) {
      case EC_ADD: r = (uint32_t)a + (uint32_t)b; break;
      case EC_SUB: r = (uint32_t)a - (uint32_t)b; break;
      case EC_MUL: r = (uint32_t)a * (uint32_t)b; break;
      case EC_MAX: r = (uint32_t)(a > b ? a : b); break;
      case EC_MIN: r = (uint32_t)(a < b ? a : b); break;
      case EC_SQDIFF: {
        const uint32_t d = (uint32_t)a - (uint32_t)b;
        r = d * d;
        break;
      }
      default: /* EC_F_DIV */
        if (b == 0) return -1;
        r = (a == INT32_MIN && b == -1) ? (uint32_t)a : (uint32_t)(a / b);
        break;
    }
    output[i] = (int32_t)r; /* two's complement on every target gcc supports */
  }
  return 0;
}

void ec_minmax_i64(const ec_binary_params *p, int32_t kind, const int64_t *input1, const int64_t *input2,
                   int64_t *output) {
  int32_t index[EC_MAX_DIMS] = {0}, off1 = 0, off2 = 0;
  const int32_t n = count(p);
  for (int32_t i = 0; i < n; ++i, step(p, index, &off1, &off2)) {
    const int64_t a = input1[off1], b = input2[off2];
    output[i] = kind == EC_MAX ? (a > b ? a : b) : (a < b ? a : b);
  }
}

void ec_compare_int(const ec_binary_params *p, int32_t kind, int32_t bytes, const void *input1,
                    const void *input2, uint8_t *output) {
  int32_t index[EC_MAX_DIMS] = {0}, off1 = 0, off2 = 0;
  const int32_t n = count(p);
  for (int32_t i = 0; i < n; ++i, step(p, index, &off1, &off2)) {
    const int64_t a = load(input1, bytes, off1), b = load(input2, bytes, off2);
    int r;
    switch (kind) {
      case 0: r = a == b; break;
      case 1: r = a != b; break;
      case 2: r = a < b; break;
      case 3: r = a <= b; break;
      case 4: r = a > b; break;
      default: r = a >= b; break;
    }
    output[i] = (uint8_t)r;
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

void ec_reduce_int(const ec_mean_params *p, int32_t kind, const void *input, void *output) {
  const int8_t *q = (const int8_t *)input;
  const uint8_t *b = (const uint8_t *)input;
  for (int32_t o = 0; o < p->out_count; ++o) {
    const int32_t base = box_offset(o, p->kept_dims, p->kept_strides, p->n_kept);
    int32_t acc = kind == EC_REDUCE_MAX ? -128 : (kind == EC_REDUCE_MIN ? 127 : 1);
    for (int32_t r = 0; r < p->count; ++r) {
      const int32_t k = base + box_offset(r, p->red_dims, p->red_strides, p->n_red);
      if (kind == EC_REDUCE_MAX) acc = q[k] > acc ? q[k] : acc;
      else if (kind == EC_REDUCE_MIN) acc = q[k] < acc ? q[k] : acc;
      else acc = acc && b[k];
    }
    if (kind == EC_REDUCE_ALL) ((uint8_t *)output)[o] = (uint8_t)acc;
    else ((int8_t *)output)[o] = (int8_t)acc;
  }
}
