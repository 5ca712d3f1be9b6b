/* Dot products on packed int8 with the Armv7E-M DSP instructions (ACLE intrinsics SMLAD,
 * SXTB16, SXTAB16). Four int8 values are loaded as one word; SXTB16 sign-extends bytes 0 and 2
 * into two halfwords (and, on the word rotated by 8, bytes 1 and 3), SXTAB16 does the same while
 * adding a halfword offset, and SMLAD multiplies both halfword pairs and adds them to an
 * accumulator. Pairing bytes (0, 2) with (0, 2) and (1, 3) with (1, 3) keeps the dot product.
 * Without __ARM_FEATURE_DSP (the host build) the same operations are written in plain C, so
 * the host tests check this code path too. */
#ifndef EC_DSP_H
#define EC_DSP_H

#include <stdint.h>
#include <string.h>

#include "ec_kernels.h"

/* Per-channel requantization (bias, MultiplyByQuantizedMultiplier, output offset, clamp) with
 * the tables and limits held in a local copy: the kernels store int8 outputs, which may alias
 * anything, so values read through the parameter block would be reloaded after every store.
 * `fast`: no channel shifts left (every shift <= 0) and the clamp is the whole int8 range (no
 * activation, or ReLU with zero point -128), so one signed saturation (SSAT) clamps. Kernels
 * pass it to ec_requant_at as a constant in two copies of their loops (EC_ALWAYS_INLINE), so
 * neither case tests it per output. Build it with ec_requant_of. */
typedef struct {
  const int32_t *multiplier, *shift, *bias;
  int32_t output_offset, act_min, act_max, fast;
} ec_requant;

#if defined(__GNUC__)
#define EC_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define EC_ALWAYS_INLINE inline
#endif

static inline ec_requant ec_requant_of(const int32_t *multiplier, const int32_t *shift, const int32_t *bias,
                                       int32_t output_offset, int32_t act_min, int32_t act_max,
                                       int32_t channels) {
  int32_t no_left = 1;
  for (int32_t c = 0; c < channels; ++c) no_left &= shift[c] <= 0;
  const ec_requant r = {multiplier, shift, bias, output_offset, act_min, act_max,
                        no_left && act_min == -128 && act_max == 127};
  return r;
}

#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
#include <arm_acle.h>
#endif

static inline int8_t ec_sat8(int32_t x) {
#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
  return (int8_t)__ssat(x, 8);
#else
  return (int8_t)ec_clamp(x, -128, 127);
#endif
}

/* fast: r.fast, as a constant (see ec_requant). The fast case is ec_mbqm_q without its left
 * shift, and the int8 clamp as a saturation. */
static EC_ALWAYS_INLINE int8_t ec_requant_at(ec_requant r, int32_t acc, int32_t c, const int fast) {
  acc += r.bias ? r.bias[c] : 0;
  if (!fast) {
    acc = ec_mbqm_q(acc, r.multiplier[c], r.shift[c]) + r.output_offset;
    return (int8_t)ec_clamp(acc, r.act_min, r.act_max);
  }
  const int32_t shift = r.shift[c];
  int32_t y = (int32_t)(((int64_t)acc * r.multiplier[c] + ((int64_t)1 << 30)) >> 31);
  if (shift < 0) {
    const int32_t z = y - (int32_t)((uint32_t)y >> 31);
    y = ((z >> ~shift) + 1) >> 1;
  }
  return ec_sat8(y + r.output_offset);
}

/* SaturatingRoundingDoublingHighMul(x, m) for a multiplier m in [2^30, 2^31), given as
 * m2 = 2 m - 2^32 (m shifted left by one, as an int32): floor((x m + 2^30) / 2^31) for any
 * int32 x (see ec_requant_quick); one SMMLAR on the DSP core. */
static inline int32_t ec_srdhm_m2(int32_t x, int32_t m2) {
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
  int32_t y;
  __asm__("smmlar %0, %1, %2, %1" : "=r"(y) : "r"(x), "r"(m2));
  return y;
#else
  return (int32_t)(((int64_t)x * ((int64_t)m2 + ((int64_t)1 << 32)) + ((int64_t)1 << 31)) >> 32);
#endif
}

/* The quick requantization (the "quick" kernels, chosen by the C generator): right shifts only
 * (shift <= -1) and the int8 clamp, for TFLM's accumulator acc itself. The generator stores each
 * multiplier m (in [2^30, 2^31)) as m2 = 2 m - 2^32 (negative, an int32), so SMMLAR(acc, m2,
 * acc) = (acc 2^32 + acc m2 + 2^31) >> 32 = floor((acc m + 2^30) / 2^31), which is SRDHM exactly
 * (no overflow: |2 acc m| < 2^63), in one instruction. Then, as in ec_requant_at, z = y - [y < 0]
 * and ((z >> (e - 1)) + 1) >> 1 with e - 1 = rshift (-shift - 1, from a table the generator
 * writes), the output offset added before the final halving as 2 * offset (k = 1 + 2 * output
 * offset), and SSAT's own right shift by one doing the halving and the int8 clamp. */
static inline int8_t ec_requant_quick(int32_t acc, int32_t m2, int32_t rshift, int32_t k) {
  int32_t y = ec_srdhm_m2(acc, m2);
  y -= (int32_t)((uint32_t)y >> 31);
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
  int32_t r;
  __asm__("ssat %0, #8, %1, asr #1" : "=r"(r) : "r"((y >> rshift) + k));
  return (int8_t)r;
#else
  return (int8_t)ec_clamp(((y >> rshift) + k) >> 1, -128, 127);
#endif
}

/* A word holding halfwords (lo, hi). */
static inline int32_t ec_pack16(int32_t lo, int32_t hi) {
  return (int32_t)(((uint32_t)(uint16_t)hi << 16) | (uint16_t)lo);
}

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#define ec_sxtb16(x) __sxtb16((int32_t)(x))
#define ec_sxtab16(a, x) __sxtab16((a), (int32_t)(x))
#define ec_smlad(a, b, acc) __smlad((a), (b), (acc))
#define ec_smlabb(a, b, acc) __smlabb((a), (b), (acc))
#define ec_smlatt(a, b, acc) __smlatt((a), (b), (acc))
/* The rotate folds into the instruction (ACLE has no form for it). */
static inline int32_t ec_sxtb16_ror8(uint32_t x) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}
static inline int32_t ec_sxtab16_ror8(int32_t a, uint32_t x) {
  int32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
  return r;
}
#else
static inline int32_t ec_sxtab16(int32_t a, uint32_t x) {
  return ec_pack16((int16_t)a + (int8_t)(x & 0xFF), (int16_t)(a >> 16) + (int8_t)((x >> 16) & 0xFF));
}
static inline int32_t ec_sxtb16(uint32_t x) { return ec_sxtab16(0, x); }
static inline int32_t ec_smlabb(int32_t a, int32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)((int16_t)a * (int16_t)b));
}
static inline int32_t ec_smlatt(int32_t a, int32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)((int16_t)(a >> 16) * (int16_t)(b >> 16)));
}
static inline int32_t ec_sxtb16_ror8(uint32_t x) { return ec_sxtb16((x >> 8) | (x << 24)); }
static inline int32_t ec_sxtab16_ror8(int32_t a, uint32_t x) { return ec_sxtab16(a, (x >> 8) | (x << 24)); }
static inline int32_t ec_smlad(int32_t a, int32_t b, int32_t acc) {
  const int32_t sum = (int16_t)a * (int16_t)b + (int16_t)(a >> 16) * (int16_t)(b >> 16);
  return (int32_t)((uint32_t)acc + (uint32_t)sum);
}
#endif

static inline uint32_t ec_load4(const int8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4); /* one unaligned LDR on Cortex-M3 and up */
  return v;
}

/* Longest dot product (patch) the q15 path takes; longer ones use the plain loop. */
#ifndef EC_PATCH_MAX
#define EC_PATCH_MAX 576
#endif

/* Filters for the DSP kernels are stored interleaved (the C generator does it at build time):
 * in a block of 4 rows of length n, for each group of 4 columns come 4 bytes of row 0, then of
 * rows 1, 2, 3; then the n % 4 leftover bytes of row 0, 1, 2, 3. Rows not in a full block of 4
 * stay as they are. Byte i of row k of such a block: */
static inline int32_t ec_block_at(const int8_t *block, int32_t n, int32_t k, int32_t i) {
  const int32_t n4 = n & ~3;
  return i < n4 ? block[(i >> 2) * 16 + k * 4 + (i & 3)] : block[4 * n4 + k * (n - n4) + (i - n4)];
}

/* n int8 values plus offset as SMLAD operands: for each group of 4 values (x0..x3) the word
 * (x0, x2) then the word (x1, x3), matching SXTB16 of a filter word and of it rotated by 8;
 * then the n % 4 leftover values, one per word. out holds n / 2 + 3 words. The memory plan may
 * start out n + 2 * (n % 4) bytes below in, over it (ops/fully_connected.py dsp_scratch_shift):
 * keep reading each group of values before writing its words. */
static inline void ec_to_q15_pairs(const int8_t *in, int32_t n, int32_t offset, int32_t *out) {
  const int32_t off2 = ec_pack16(offset, offset);
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t x = ec_load4(in + i);
    *out++ = ec_sxtab16(off2, x);
    *out++ = ec_sxtab16_ror8(off2, x);
  }
  for (; i < n; ++i) *out++ = in[i] + offset;
}

/* acc[k] += row k . x for the 4 rows of an interleaved block; x from ec_to_q15_pairs. On the
 * DSP core the loop over whole groups of four is written out (21 instructions per 16
 * multiply-accumulates, two groups per pass; the compiler's own spills accumulators). */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define EC_DOT4_ROW(a)                        \
  "ldr %[w], [%[f]], #4\n\t"                  \
  "sxtb16 %[s], %[w]\n\t"                     \
  "smlad %[" a "], %[s], %[x02], %[" a "]\n\t" \
  "sxtb16 %[s], %[w], ror #8\n\t"             \
  "smlad %[" a "], %[s], %[x13], %[" a "]\n\t"
#define EC_DOT4_GROUP \
  "ldrd %[x02], %[x13], [%[x]], #8\n\t" EC_DOT4_ROW("a0") EC_DOT4_ROW("a1") EC_DOT4_ROW("a2") EC_DOT4_ROW("a3")
/* q passes (none when q <= 0) of group, written out twice: a group reads its inputs through
 * %[x] (xvar, advanced) and its four filter words through %[f] (f, advanced) into the sums
 * a0..a3; the remaining arguments are the statement's inputs (memory read, other operands). */
#define EC_DOT4_PASSES(group, xvar, ...)                                                            \
  do {                                                                                             \
    int32_t x02, x13, w, s;                                                                        \
    if (q > 0)                                                                                     \
      __asm__("1:\n\t" group group "subs %[q], %[q], #1\n\tbne 1b"                                 \
              : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(xvar), [f] "+r"(f), \
                [q] "+r"(q), [x02] "=&r"(x02), [x13] "=&r"(x13), [w] "=&r"(w), [s] "=&r"(s)        \
              : __VA_ARGS__                                                                        \
              : "cc");                                                                             \
  } while (0)
#endif
static inline void ec_dot4_q15(const int32_t *x, const int8_t *f, int32_t n, int32_t acc[4]) {
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  const int32_t *end = x + 2 * (n >> 2);
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
  int32_t q = n >> 3;
  EC_DOT4_PASSES(EC_DOT4_GROUP, x, "m"(*(const int32_t(*)[])x), "m"(*(const int8_t(*)[])f));
#endif
  while (x < end) {
    const int32_t x02 = x[0], x13 = x[1];
    uint32_t w = ec_load4(f);
    a0 = ec_smlad(ec_sxtb16_ror8(w), x13, ec_smlad(ec_sxtb16(w), x02, a0));
    w = ec_load4(f + 4);
    a1 = ec_smlad(ec_sxtb16_ror8(w), x13, ec_smlad(ec_sxtb16(w), x02, a1));
    w = ec_load4(f + 8);
    a2 = ec_smlad(ec_sxtb16_ror8(w), x13, ec_smlad(ec_sxtb16(w), x02, a2));
    w = ec_load4(f + 12);
    a3 = ec_smlad(ec_sxtb16_ror8(w), x13, ec_smlad(ec_sxtb16(w), x02, a3));
    x += 2;
    f += 16;
  }
  const int32_t rem = n & 3;
  for (int32_t t = 0; t < rem; ++t) {
    a0 += f[t] * x[t];
    a1 += f[rem + t] * x[t];
    a2 += f[2 * rem + t] * x[t];
    a3 += f[3 * rem + t] * x[t];
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

/* Two patches a and b (n values each, plus offset) as SMLAD operands interleaved per group of
 * four values: (a0, a2), (a1, a3), (b0, b2), (b1, b3); then the n % 4 leftover values of a,
 * then those of b, one per word. out holds n + 6 words. */
static inline void ec_to_q15_pairs2(const int8_t *a, const int8_t *b, int32_t n, int32_t offset, int32_t *out) {
  const int32_t off2 = ec_pack16(offset, offset);
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t xa = ec_load4(a + i), xb = ec_load4(b + i);
    out[0] = ec_sxtab16(off2, xa);
    out[1] = ec_sxtab16_ror8(off2, xa);
    out[2] = ec_sxtab16(off2, xb);
    out[3] = ec_sxtab16_ror8(off2, xb);
    out += 4;
  }
  for (int32_t t = i; t < n; ++t) *out++ = a[t] + offset;
  for (int32_t t = i; t < n; ++t) *out++ = b[t] + offset;
}

/* Two patches times rows k and k + 1 of an interleaved filter block (k = 0 or 2):
 * acc = {a . row k, a . row k+1, b . row k, b . row k+1} added in; x from ec_to_q15_pairs2.
 * Each filter word is unpacked once for both patches. */
static inline void ec_dot2x2_q15(const int32_t *x, const int8_t *f, int32_t n, int32_t k, int32_t acc[4]) {
  int32_t a0 = acc[0], a1 = acc[1], b0 = acc[2], b1 = acc[3];
  const int32_t *end = x + 4 * (n >> 2);
  const int8_t *w = f + 4 * k;
  while (x < end) {
    const uint32_t w0 = ec_load4(w), w1 = ec_load4(w + 4);
    int32_t s = ec_sxtb16(w0);
    a0 = ec_smlad(s, x[0], a0);
    b0 = ec_smlad(s, x[2], b0);
    s = ec_sxtb16_ror8(w0);
    a0 = ec_smlad(s, x[1], a0);
    b0 = ec_smlad(s, x[3], b0);
    s = ec_sxtb16(w1);
    a1 = ec_smlad(s, x[0], a1);
    b1 = ec_smlad(s, x[2], b1);
    s = ec_sxtb16_ror8(w1);
    a1 = ec_smlad(s, x[1], a1);
    b1 = ec_smlad(s, x[3], b1);
    x += 4;
    w += 16;
  }
  const int32_t rem = n & 3;
  const int8_t *tail = f + 4 * (n & ~3);
  for (int32_t t = 0; t < rem; ++t) {
    a0 += tail[k * rem + t] * x[t];
    a1 += tail[(k + 1) * rem + t] * x[t];
    b0 += tail[k * rem + t] * x[rem + t];
    b1 += tail[(k + 1) * rem + t] * x[rem + t];
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = b0;
  acc[3] = b1;
}

/* acc + row . x for one plain (not interleaved) row; x from ec_to_q15_pairs. */
static inline int32_t ec_dot1_q15(const int32_t *x, const int8_t *f, int32_t n, int32_t acc) {
  const int32_t *end = x + 2 * (n >> 2);
  while (x < end) {
    const uint32_t w = ec_load4(f);
    acc = ec_smlad(ec_sxtb16_ror8(w), x[1], ec_smlad(ec_sxtb16(w), x[0], acc));
    x += 2;
    f += 4;
  }
  for (int32_t t = 0; t < (n & 3); ++t) acc += f[t] * x[t];
  return acc;
}

#endif /* EC_DSP_H */
