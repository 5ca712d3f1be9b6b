/* FULLY_CONNECTED int8 with Helium (Armv8.1-M MVE) intrinsics, for Cortex-M55/M85: the same
 * results as ec_fully_connected.c (TFLM FullyConnected / FullyConnectedPerChannel).
 *
 * The sum (f + filter_offset) * (x + input_offset) over a row expands to
 *   dot(f, x) + input_offset * sum(f) + filter_offset * sum(x) + depth * filter_offset * input_offset.
 * The generator folds everything that depends only on the filter into `folded_bias`
 * (bias + input_offset * sum(f) + depth * filter_offset * input_offset, wrapped to int32 as
 * TFLM's int32 accumulator wraps), so the inner loop is one VMLADAVA per 16 bytes of each of
 * four filter rows sharing one input load; the last partial vector is tail-predicated
 * (VCTP8 and zeroing loads), so odd depths need no scalar loop. filter_offset is 0 for
 * per-channel filters; otherwise the row sum of x is taken once per input row.
 * The raw sums of up to 64 units go to the stack and are requantized four at a time with the
 * bias added (ec_requant_run_mve in ec_mve.h: TFLM's MultiplyByQuantizedMultiplier lane by
 * lane, bit-exact). */
#include "ec_kernels.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include "ec_mve.h"

static int32_t ec_row_sum_mve(const int8_t *x, int32_t depth) {
  int32_t sum = 0;
  for (int32_t d = 0; d < depth; d += 16) {
    const mve_pred16_t pr = vctp8q((uint32_t)(depth - d));
    sum = vaddvaq_s8(sum, vldrbq_z_s8(x + d, pr));
  }
  return sum;
}

/* acc[0..3] = init + the dot products of x with four consecutive filter rows from f0: one
 * input load shared by four VMLADAVA per 16 bytes, in a tail-predicated low-overhead loop
 * (DLSTP.8/LETP: the last partial vector's lanes past `depth` are left out). GCC 12 does not
 * form such loops from the intrinsics, so the loop is written out; VMLADAVA needs even
 * registers for its accumulators (constraint "Te"). */
static inline void ec_fc_four(const int8_t *x, const int8_t *f0, int32_t depth, int32_t init, int32_t *acc) {
  const int8_t *f1 = f0 + depth, *f2 = f1 + depth, *f3 = f2 + depth;
  int32_t a0 = init, a1 = init, a2 = init, a3 = init;
  __asm__ volatile(
      "dlstp.8 lr, %[d]\n"
      "1:\n"
      "vldrb.8 q0, [%[x]], #16\n"
      "vldrb.8 q1, [%[f0]], #16\n"
      "vmladava.s8 %[a0], q1, q0\n"
      "vldrb.8 q1, [%[f1]], #16\n"
      "vmladava.s8 %[a1], q1, q0\n"
      "vldrb.8 q1, [%[f2]], #16\n"
      "vmladava.s8 %[a2], q1, q0\n"
      "vldrb.8 q1, [%[f3]], #16\n"
      "vmladava.s8 %[a3], q1, q0\n"
      "letp lr, 1b\n"
      : [a0] "+Te"(a0), [a1] "+Te"(a1), [a2] "+Te"(a2), [a3] "+Te"(a3), [x] "+r"(x), [f0] "+r"(f0),
        [f1] "+r"(f1), [f2] "+r"(f2), [f3] "+r"(f3)
      : [d] "r"(depth)
      : "q0", "q1", "lr", "memory");
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

/* Units per requantization run (the accumulators on the stack). */
#define EC_FC_RUN 64

void ec_fully_connected_mve_s8(const ec_fc_params *p, const int8_t *input, const int8_t *filter,
                               const int32_t *folded_bias, int8_t *output) {
  ec_fc_rows_mve(p, input, filter, folded_bias, output, ec_right_shifts_only_mve(p->shift, p->units));
}

void ec_fc_rows_mve(const ec_fc_params *p, const int8_t *input, const int8_t *filter, const int32_t *folded_bias,
                    int8_t *output, int right_only) {
  const int32_t depth = p->depth, units = p->units;
  int32_t acc[EC_FC_RUN + 4] __attribute__((aligned(16)));
  for (int32_t r = 0; r < p->rows; ++r) {
    const int8_t *in = input + r * depth;
    int8_t *out = output + r * units;
    const int32_t row_term = p->filter_offset ? p->filter_offset * ec_row_sum_mve(in, depth) : 0;
    for (int32_t u0 = 0; u0 < units; u0 += EC_FC_RUN) {
      const int32_t n = units - u0 < EC_FC_RUN ? units - u0 : EC_FC_RUN;
      const int8_t *f = filter + u0 * depth;
      int32_t u = 0;
      for (; u + 4 <= n; u += 4, f += 4 * depth) ec_fc_four(in, f, depth, row_term, acc + u);
      for (; u < n; ++u, f += depth) {
        int32_t a = row_term;
        for (int32_t d = 0; d < depth; d += 16) {
          const mve_pred16_t pr = vctp8q((uint32_t)(depth - d));
          a = vmladavaq_s8(a, vldrbq_z_s8(f + d, pr), vldrbq_z_s8(in + d, pr));
        }
        acc[u] = a;
      }
      ec_requant_run_mve(acc, folded_bias + u0, n, p->multiplier + u0, p->shift + u0, p->output_offset,
                         p->act_min, p->act_max, right_only, out + u0);
    }
  }
}
#endif
