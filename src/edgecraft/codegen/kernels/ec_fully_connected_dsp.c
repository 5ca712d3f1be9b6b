/* FULLY_CONNECTED int8 for cores with the DSP extension; the filter arrives interleaved in
 * blocks of four units (ec_dsp.h). Same results as the portable kernel. Two entry points, the C
 * generator calls the one the layer needs (the linker keeps only what is called):
 * ec_fully_connected_dsp_s8: each input row is turned once into offset halfword pairs in a
 * scratch buffer the memory plan places in the arena (4 * (depth / 2 + 3) bytes, as
 * ops/fully_connected.py declares), then four units at a time are dot products with SMLAD; for
 * rows up to EC_FC_DEPTH_MAX and a filter without zero point.
 * ec_fully_connected_dsp_direct_s8: the others, without scratch: the input words are split as
 * they are read (long rows), or for a filter with a nonzero zero point a plain loop.
 * input (rows, depth), filter (units, depth), output (rows, units). */
#include "ec_dsp.h"
#include "ec_kernels.h"

#ifndef EC_FC_DEPTH_MAX
#define EC_FC_DEPTH_MAX 1024
#endif

/* The requantization of a call: the tables and limits held in a local copy (ec_requant; its
 * `fast` unused, 0: fully connected layers take the general arithmetic) and whether the tables
 * hold one entry per unit or one for all (ec_fc_params.per_channel). */
typedef struct {
  ec_requant rq;
  int32_t per_channel;
} fc_requant;

static inline fc_requant fc_requant_of(const ec_fc_params *p, const int32_t *bias) {
  const fc_requant r = {{p->multiplier, p->shift, bias, p->output_offset, p->act_min, p->act_max, 0},
                        p->per_channel};
  return r;
}

/* out[u + k] for the count sums acc[k], requantized as TFLM does (ec_mbqm_q), the fields held
 * in locals (through the parameter block they would be reloaded after every int8 store, which
 * may alias them). Units sharing one multiplier and shift (ec_fc_params.per_channel 0) take a
 * loop of their own with the pair decoded once and SRDHM as ec_srdhm_m2's one instruction;
 * per-channel tables (and a zero multiplier) the general one. */
static void requant_units(const fc_requant *r, const int32_t *acc, int32_t u, int32_t count, int8_t *out) {
  const int32_t *bias = r->rq.bias ? r->rq.bias + u : 0;
  const int32_t offset = r->rq.output_offset, lo = r->rq.act_min, hi = r->rq.act_max;
  out += u;
  if (!r->per_channel && r->rq.multiplier[0] != 0) {
    const int32_t shift = r->rq.shift[0], left = shift > 0 ? shift : 0, right = ~shift;
    const int32_t m2 = (int32_t)((uint32_t)r->rq.multiplier[0] << 1);
    for (int32_t k = 0; k < count; ++k) {
      int32_t y = ec_srdhm_m2(ec_shl(acc[k] + (bias ? bias[k] : 0), left), m2);
      if (shift < 0) {
        y -= (int32_t)((uint32_t)y >> 31);
        y = ((y >> right) + 1) >> 1;
      }
      out[k] = (int8_t)ec_clamp(y + offset, lo, hi);
    }
    return;
  }
  const int32_t step = r->per_channel ? 1 : 0;
  const int32_t *m = r->rq.multiplier + u * step, *s = r->rq.shift + u * step;
  for (int32_t k = 0; k < count; ++k, m += step, s += step) {
    const int32_t a = acc[k] + (bias ? bias[k] : 0);
    out[k] = (int8_t)ec_clamp(ec_mbqm_q(a, *m, *s) + offset, lo, hi);
  }
}

void ec_fully_connected_dsp_s8(const ec_fc_params *p, const int8_t *input, const int8_t *filter,
                               const int32_t *bias, int8_t *output, int8_t *scratch) {
  const fc_requant r = fc_requant_of(p, bias);
  const int32_t depth = p->depth, units = p->units, blocks = units & ~3;
  int32_t *pairs = (int32_t *)(void *)scratch; /* 4-byte aligned: depth / 2 + 3 SMLAD operand words */
  for (int32_t row = 0; row < p->rows; ++row, input += depth, output += units) {
    ec_to_q15_pairs(input, depth, p->input_offset, pairs);
    int32_t u = 0;
    for (; u < blocks; u += 4) {
      int32_t acc[4] = {0, 0, 0, 0};
      ec_dot4_q15(pairs, filter + u * depth, depth, acc);
      requant_units(&r, acc, u, 4, output);
    }
    for (; u < units; ++u) {
      const int32_t acc = ec_dot1_q15(pairs, filter + u * depth, depth, 0);
      requant_units(&r, &acc, u, 1, output);
    }
  }
}

/* Units u.. u + rows - 1 of one input row without the scratch operands (long rows): each input
 * word split into offset halfword pairs as it is read; rows 1: a leftover unit stored as is. */
static EC_ALWAYS_INLINE void direct_units(const ec_fc_params *p, const int8_t *in, const int8_t *f,
                                          const fc_requant *rq, int8_t *out, int32_t u, const int32_t rows) {
  const int32_t depth = p->depth, d4 = depth & ~3;
  const int32_t off2 = ec_pack16(p->input_offset, p->input_offset);
  int32_t acc[4] = {0, 0, 0, 0};
  for (int32_t d = 0; d < d4; d += 4, f += 4 * rows) {
    const uint32_t xs = ec_load4(in + d);
    const int32_t x02 = ec_sxtab16(off2, xs), x13 = ec_sxtab16_ror8(off2, xs);
    for (int32_t k = 0; k < rows; ++k) {
      const uint32_t w = ec_load4(f + 4 * k);
      acc[k] = ec_smlad(ec_sxtb16_ror8(w), x13, ec_smlad(ec_sxtb16(w), x02, acc[k]));
    }
  }
  for (int32_t k = 0; k < rows; ++k) {
    for (int32_t d = d4; d < depth; ++d) acc[k] += f[k * (depth - d4) + d - d4] * (in[d] + p->input_offset);
  }
  requant_units(rq, acc, u, rows, out);
}

/* The interleaved block of units u..u + 3 as direct_units(.., 4) computes it, with the four sums
 * in registers (the compiler keeps an array of them in memory: 2.7 instructions per MAC). On
 * the DSP core two groups of four inputs a pass are written out: 23 instructions per 16
 * multiply-accumulates and 2 a pass (the compiler's loop: 27 per group). */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define EC_DIRECT4_GROUP                       \
  "ldr %[x13], [%[x]], #4\n\t"                 \
  "sxtab16 %[x02], %[off2], %[x13]\n\t"         \
  "sxtab16 %[x13], %[off2], %[x13], ror #8\n\t" \
  EC_DOT4_ROW("a0") EC_DOT4_ROW("a1") EC_DOT4_ROW("a2") EC_DOT4_ROW("a3")
#endif
static EC_ALWAYS_INLINE void direct_block4(const ec_fc_params *p, const int8_t *in, const int8_t *f,
                                           const fc_requant *rq, int8_t *out, int32_t u) {
  const int32_t depth = p->depth, d4 = depth & ~3;
  const int32_t off2 = ec_pack16(p->input_offset, p->input_offset);
  const int8_t *const row = in;
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
  int32_t q = depth >> 3;
  EC_DOT4_PASSES(EC_DIRECT4_GROUP, in, [off2] "r"(off2), "m"(*(const int8_t(*)[])in), "m"(*(const int8_t(*)[])f));
#endif
  for (; in < row + d4; in += 4, f += 16) {
    const uint32_t xs = ec_load4(in);
    const int32_t x02 = ec_sxtab16(off2, xs), x13 = ec_sxtab16_ror8(off2, xs);
    const uint32_t w0 = ec_load4(f), w1 = ec_load4(f + 4), w2 = ec_load4(f + 8), w3 = ec_load4(f + 12);
    a0 = ec_smlad(ec_sxtb16_ror8(w0), x13, ec_smlad(ec_sxtb16(w0), x02, a0));
    a1 = ec_smlad(ec_sxtb16_ror8(w1), x13, ec_smlad(ec_sxtb16(w1), x02, a1));
    a2 = ec_smlad(ec_sxtb16_ror8(w2), x13, ec_smlad(ec_sxtb16(w2), x02, a2));
    a3 = ec_smlad(ec_sxtb16_ror8(w3), x13, ec_smlad(ec_sxtb16(w3), x02, a3));
  }
  int32_t acc[4] = {a0, a1, a2, a3};
  for (int32_t k = 0; k < 4; ++k) {
    for (int32_t d = d4; d < depth; ++d) acc[k] += f[k * (depth - d4) + d - d4] * (row[d] + p->input_offset);
  }
  requant_units(rq, acc, u, 4, out);
}

void ec_fully_connected_dsp_direct_s8(const ec_fc_params *p, const int8_t *input, const int8_t *filter,
                                      const int32_t *bias, int8_t *output) {
  const fc_requant rq = fc_requant_of(p, bias);
  const int32_t depth = p->depth, units = p->units, blocks = units & ~3;
  for (int32_t r = 0; r < p->rows; ++r, input += depth, output += units) {
    if (p->filter_offset == 0) {
      int32_t u = 0;
      for (; u < blocks; u += 4) direct_block4(p, input, filter + u * depth, &rq, output, u);
      for (; u < units; ++u) direct_units(p, input, filter + u * depth, &rq, output, u, 1);
      continue;
    }
    for (int32_t u = 0; u < units; ++u) {
      int32_t acc = 0;
      for (int32_t d = 0; d < depth; ++d) {
        const int32_t w = u < blocks ? ec_block_at(filter + (u & ~3) * depth, depth, u & 3, d)
                                     : filter[u * depth + d];
        acc += (w + p->filter_offset) * (input[d] + p->input_offset);
      }
      requant_units(&rq, &acc, u, 1, output);
    }
  }
}
