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
 * requantized four at a time (ec_requant_units_mve in ec_mve.h: TFLM's MultiplyByQuantizedMultiplier lane by
 * lane, bit-exact; a per-tensor layer's one multiplier and shift in every lane). */
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

/* The held-input form with the requantization in the same loop (right shifts only, per-unit
 * tables, a whole number of blocks of four units, no filter offset): per block the four sums start from the
 * bias, go into one vector (two VMOVs) and are requantized there (TFLM's arithmetic as in
 * ec_requant_run_mve's right-shift path, the tables read four at a time), four bytes stored;
 * no accumulators on the stack and no per-row set-up beyond the input's loads. With four input
 * vectors held the lower clamp is duplicated each block (the Q registers run out). */
#define EC_FC_F1(a) "vldrb.8 q0, [%[f]], #16\n\tvmladava.s8 %[" a "], q0, %q[x0]\n\t"
#define EC_FC_F2(a) EC_FC_F1(a) "vldrb.8 q0, [%[f]], #16\n\tvmladava.s8 %[" a "], q0, %q[x1]\n\t"
#define EC_FC_F3(a) EC_FC_F2(a) "vldrb.8 q0, [%[f]], #16\n\tvmladava.s8 %[" a "], q0, %q[x2]\n\t"
#define EC_FC_F4(a) EC_FC_F3(a) "vldrb.8 q0, [%[f]], #16\n\tvmladava.s8 %[" a "], q0, %q[x3]\n\t"
#define EC_FC_FUSED_BODY(N, LOWER)                                                                           \
  "dls lr, %[a0]\n"                                                                                           \
  "1:\n\t"                                                                                                   \
  "ldrd %[a0], %[a1], [%[b]], #8\n\t"                                                                        \
  "ldrd %[a2], %[a3], [%[b]], #8\n\t" EC_FC_F##N("a0") EC_FC_F##N("a1") EC_FC_F##N("a2") EC_FC_F##N("a3")    \
  "vmov q1[2], q1[0], %[a0], %[a2]\n\t"                                                                      \
  "vmov q1[3], q1[1], %[a1], %[a3]\n\t"                                                                      \
  "vldrw.32 q2, [%[m]], #16\n\t"                                                                             \
  "vqrdmulh.s32 q1, q1, q2\n\t"                                                                              \
  "vshr.s32 q2, q1, #31\n\t"                                                                                 \
  "vqadd.s32 q1, q1, q2\n\t"                                                                                 \
  "vldrw.32 q2, [%[s]], #16\n\t"                                                                             \
  "vrshl.s32 q1, q1, q2\n\t"                                                                                 \
  "vadd.i32 q1, q1, %[ooff]\n\t"                                                                             \
  "vmin.s32 q1, q1, %q[hi]\n\t" LOWER                                                                        \
  "vstrb.32 q1, [%[out]], #4\n\t"                                                                            \
  "le lr, 1b\n"
#define EC_FC_HELD_LO "vmax.s32 q1, q1, %q[lo]\n\t"
#define EC_FC_DUP_LO "vdup.32 q2, %[lo]\n\tvmax.s32 q1, q1, q2\n\t"
#define EC_FC_FUSED_OUTS                                                                                     \
  [a0] "+&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [a3] "=&Te"(a3), [f] "+r"(f), [b] "+r"(bias),         \
      [m] "+r"(mult), [s] "+r"(shift), [out] "+l"(out) /* VSTRB.32 takes r0-r7 */
#define EC_FC_FUSED_ARGS                                                                                     \
  const int8_t *x, const int8_t *f, const int32_t *bias, const int32_t *mult, const int32_t *shift,          \
      int8_t *out, int32_t blocks, int32_t out_offset, int32_t act_min, int32_t act_max

static void ec_fc_fused1(EC_FC_FUSED_ARGS) {
  int32_t a0 = blocks, a1, a2, a3; /* a0: the loop count, then a sum */
  const int8x16_t x0 = vldrbq_s8(x);
  const int32x4_t lo = vdupq_n_s32(act_min), hi = vdupq_n_s32(act_max);
  __asm__ volatile(EC_FC_FUSED_BODY(1, EC_FC_HELD_LO)
                   : EC_FC_FUSED_OUTS
                   : [ooff] "r"(out_offset), [lo] "w"(lo), [hi] "w"(hi), [x0] "w"(x0)
                   : "q0", "q1", "q2", "lr", "memory");
}

static void ec_fc_fused2(EC_FC_FUSED_ARGS) {
  int32_t a0 = blocks, a1, a2, a3; /* a0: the loop count, then a sum */
  const int8x16_t x0 = vldrbq_s8(x), x1 = vldrbq_s8(x + 16);
  const int32x4_t lo = vdupq_n_s32(act_min), hi = vdupq_n_s32(act_max);
  __asm__ volatile(EC_FC_FUSED_BODY(2, EC_FC_HELD_LO)
                   : EC_FC_FUSED_OUTS
                   : [ooff] "r"(out_offset), [lo] "w"(lo), [hi] "w"(hi), [x0] "w"(x0),
                     [x1] "w"(x1)
                   : "q0", "q1", "q2", "lr", "memory");
}

static void ec_fc_fused3(EC_FC_FUSED_ARGS) {
  int32_t a0 = blocks, a1, a2, a3; /* a0: the loop count, then a sum */
  const int8x16_t x0 = vldrbq_s8(x), x1 = vldrbq_s8(x + 16), x2 = vldrbq_s8(x + 32);
  const int32x4_t lo = vdupq_n_s32(act_min), hi = vdupq_n_s32(act_max);
  __asm__ volatile(EC_FC_FUSED_BODY(3, EC_FC_HELD_LO)
                   : EC_FC_FUSED_OUTS
                   : [ooff] "r"(out_offset), [lo] "w"(lo), [hi] "w"(hi), [x0] "w"(x0),
                     [x1] "w"(x1), [x2] "w"(x2)
                   : "q0", "q1", "q2", "lr", "memory");
}

static void ec_fc_fused4(EC_FC_FUSED_ARGS) {
  int32_t a0 = blocks, a1, a2, a3; /* a0: the loop count, then a sum */
  const int8x16_t x0 = vldrbq_s8(x), x1 = vldrbq_s8(x + 16), x2 = vldrbq_s8(x + 32), x3 = vldrbq_s8(x + 48);
  const int32x4_t hi = vdupq_n_s32(act_max);
  __asm__ volatile(EC_FC_FUSED_BODY(4, EC_FC_DUP_LO)
                   : EC_FC_FUSED_OUTS
                   : [ooff] "r"(out_offset), [lo] "r"(act_min), [hi] "w"(hi), [x0] "w"(x0),
                     [x1] "w"(x1), [x2] "w"(x2), [x3] "w"(x3)
                   : "q0", "q1", "q2", "lr", "memory");
}

/* Every row through ec_fc_fusedN where the layer allows it (returns 1), else 0. */
static int ec_fc_rows_fused(const ec_fc_params *p, const int8_t *input, const int8_t *filter,
                            const int32_t *folded_bias, int8_t *output, int right_only) {
  const int32_t depth = p->depth, units = p->units;
  if (!right_only || !p->per_channel || (units & 3) || p->filter_offset || (depth & 15) || depth > 64) return 0;
  const int32_t blocks = units >> 2;
  for (int32_t r = 0; r < p->rows; ++r, input += depth, output += units) {
    switch (depth >> 4) {
      case 1: ec_fc_fused1(input, filter, folded_bias, p->multiplier, p->shift, output, blocks, p->output_offset,
                           p->act_min, p->act_max); break;
      case 2: ec_fc_fused2(input, filter, folded_bias, p->multiplier, p->shift, output, blocks, p->output_offset,
                           p->act_min, p->act_max); break;
      case 3: ec_fc_fused3(input, filter, folded_bias, p->multiplier, p->shift, output, blocks, p->output_offset,
                           p->act_min, p->act_max); break;
      default: ec_fc_fused4(input, filter, folded_bias, p->multiplier, p->shift, output, blocks, p->output_offset,
                            p->act_min, p->act_max); break;
    }
  }
  return 1;
}

/* Units per requantization run (the accumulators on the stack). */
#define EC_FC_RUN 64

void ec_fully_connected_mve_s8(const ec_fc_params *p, const int8_t *input, const int8_t *filter,
                               const int32_t *folded_bias, int8_t *output) {
  ec_fc_rows_mve(p, input, filter, folded_bias, output,
                 ec_right_shifts_only_mve(p->shift, p->per_channel ? p->units : 1));
}

void ec_fc_rows_mve(const ec_fc_params *p, const int8_t *input, const int8_t *filter, const int32_t *folded_bias,
                    int8_t *output, int right_only) {
  const int32_t depth = p->depth, units = p->units;
  int32_t acc[EC_FC_RUN + 4] __attribute__((aligned(16)));
  if (ec_fc_rows_fused(p, input, filter, folded_bias, output, right_only)) return;
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
      const int32_t t0 = p->per_channel ? u0 : 0;
      ec_requant_units_mve(acc, biased ? (const int32_t *)0 : folded_bias + u0, n, p->multiplier + t0,
                           p->shift + t0, p->output_offset, p->act_min, p->act_max, right_only, p->per_channel,
                           out + u0);
    }
  }
}
#endif
