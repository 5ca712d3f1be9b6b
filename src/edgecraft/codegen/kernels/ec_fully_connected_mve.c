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
 * The sums of up to 64 units go to the stack (with the bias, or without it, added then) and are
 * requantized four at a time (ec_requant_run_mve in ec_mve.h: TFLM's MultiplyByQuantizedMultiplier lane by
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

/* acc[4b .. 4b + 3] = the dot products of x with filter rows 4b .. 4b + 3 from f, for the
 * `blocks` blocks of four rows: per block, one input load shared by four VMLADAVA per 16
 * bytes in a tail-predicated low-overhead loop (DLSTP.8/LETP: the lanes past `depth` of the
 * last vector are left out), the four sums stored, the pointers moved to the next rows. GCC
 * 12 does not form such loops from the intrinsics, so the loop is written out; VMLADAVA needs
 * even registers for its accumulators (constraint "Te"). */
static inline void ec_fc_blocks(const int8_t *x, const int8_t *f, int32_t depth, int32_t blocks, int32_t *acc) {
  const int32_t spent = 16 * ((depth + 15) / 16);         /* bytes each pointer advances per block */
  const int32_t back = depth - spent;                      /* f3's end + back: the next f0 */
  int32_t a0, a1, a2, a3;
  const int8_t *f1, *f2, *f3;
  __asm__ volatile(
      "3:\n"
      "movs %[a0], #0\n"
      "movs %[a1], #0\n"
      "movs %[a2], #0\n"
      "movs %[a3], #0\n"
      "add %[f1], %[f0], %[d]\n"
      "add %[f2], %[f1], %[d]\n"
      "add %[f3], %[f2], %[d]\n"
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
      "strd %[a0], %[a1], [%[acc]], #8\n"
      "strd %[a2], %[a3], [%[acc]], #8\n"
      "add %[f0], %[f3], %[back]\n"
      "add %[x], %[x], %[back]\n"
      "sub %[x], %[x], %[d]\n"
      "subs %[n], %[n], #1\n"
      "bne 3b\n"
      : [a0] "=&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [a3] "=&Te"(a3), [f1] "=&r"(f1), [f2] "=&r"(f2),
        [f3] "=&r"(f3), [x] "+r"(x), [f0] "+r"(f), [acc] "+r"(acc), [n] "+r"(blocks)
      : [d] "r"(depth), [back] "r"(back)
      : "q0", "q1", "lr", "memory", "cc");
}

/* ec_fc_blocks for depth = 16 N (N = 1 to 4): the input row stays in Q4..Q3+N for every block
 * and the filter rows are one run of bytes, so a block is 4 N filter loads and VMLADAVA with
 * no pointer set-up and no loop inside. */
#define EC_FC_CHUNK(a, q) "vldrb.8 q0, [%[f]], #16\n\tvmladava.s8 %[" a "], q0, " q "\n\t"
#define EC_FC_ROW1(a) EC_FC_CHUNK(a, "q4")
#define EC_FC_ROW2(a) EC_FC_ROW1(a) EC_FC_CHUNK(a, "q5")
#define EC_FC_ROW3(a) EC_FC_ROW2(a) EC_FC_CHUNK(a, "q6")
#define EC_FC_ROW4(a) EC_FC_ROW3(a) EC_FC_CHUNK(a, "q7")
#define EC_FC_LOAD1 "vldrb.8 q4, [%[x]]\n\t"
#define EC_FC_LOAD2 EC_FC_LOAD1 "vldrb.8 q5, [%[x], #16]\n\t"
#define EC_FC_LOAD3 EC_FC_LOAD2 "vldrb.8 q6, [%[x], #32]\n\t"
#define EC_FC_LOAD4 EC_FC_LOAD3 "vldrb.8 q7, [%[x], #48]\n\t"
#define EC_FC_HELD(N)                                                                                        \
  static void ec_fc_held##N(const int8_t *x, const int8_t *f, const int32_t *bias, int32_t blocks,            \
                            int32_t *acc) {                                                                  \
    int32_t a0, a1, a2, a3;                                                                                  \
    __asm__ volatile(EC_FC_LOAD##N "1:\n\t"                                                                  \
                     "ldrd %[a0], %[a1], [%[b]], #8\n\t"                                                    \
                     "ldrd %[a2], %[a3], [%[b]], #8\n\t" EC_FC_ROW##N("a0") EC_FC_ROW##N("a1") EC_FC_ROW##N("a2")           \
                         EC_FC_ROW##N("a3") "strd %[a0], %[a1], [%[acc]], #8\n\t"                            \
                                            "strd %[a2], %[a3], [%[acc]], #8\n\t"                            \
                                            "subs %[n], %[n], #1\n\t"                                        \
                                            "bne 1b\n\t"                                                     \
                     : [a0] "=&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [a3] "=&Te"(a3), [f] "+r"(f),     \
                       [acc] "+r"(acc), [n] "+r"(blocks), [b] "+r"(bias)                                     \
                     : [x] "r"(x)                                                                            \
                     : "q0", "q4", "q5", "q6", "q7", "memory", "cc");                                        \
  }
EC_FC_HELD(1)
EC_FC_HELD(2)
EC_FC_HELD(3)
EC_FC_HELD(4)

/* The row's blocks of four units: the held-input form where the depth allows it, which starts
 * its sums from the bias (returns 1), else ec_fc_blocks, whose sums leave it out (returns 0). */
static inline int ec_fc_all_blocks(const int8_t *x, const int8_t *f, const int32_t *bias, int32_t depth,
                                   int32_t blocks, int32_t *acc) {
  switch ((depth & 15) == 0 ? depth >> 4 : 0) {
    case 1: ec_fc_held1(x, f, bias, blocks, acc); return 1;
    case 2: ec_fc_held2(x, f, bias, blocks, acc); return 1;
    case 3: ec_fc_held3(x, f, bias, blocks, acc); return 1;
    case 4: ec_fc_held4(x, f, bias, blocks, acc); return 1;
    default: ec_fc_blocks(x, f, depth, blocks, acc); return 0;
  }
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
      int32_t u = n & ~3;
      const int biased = u ? ec_fc_all_blocks(in, f, folded_bias + u0, depth, u >> 2, acc) : 0;
      for (f += u * depth; u < n; ++u, f += depth) {
        int32_t a = biased ? folded_bias[u0 + u] : 0;
        for (int32_t d = 0; d < depth; d += 16) {
          const mve_pred16_t pr = vctp8q((uint32_t)(depth - d));
          a = vmladavaq_s8(a, vldrbq_z_s8(f + d, pr), vldrbq_z_s8(in + d, pr));
        }
        acc[u] = a;
      }
      if (row_term) {
        for (u = 0; u < n; ++u) acc[u] += row_term;
      }
      ec_requant_run_mve(acc, biased ? (const int32_t *)0 : folded_bias + u0, n, p->multiplier + u0, p->shift + u0,
                         p->output_offset, p->act_min, p->act_max, right_only, out + u0);
    }
  }
}
#endif
