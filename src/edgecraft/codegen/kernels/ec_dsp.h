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

/* A word holding halfwords (lo, hi). */
static inline int32_t ec_pack16(int32_t lo, int32_t hi) {
  return (int32_t)(((uint32_t)(uint16_t)hi << 16) | (uint16_t)lo);
}

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#define ec_sxtb16(x) __sxtb16((int32_t)(x))
#define ec_sxtab16(a, x) __sxtab16((a), (int32_t)(x))
#define ec_smlad(a, b, acc) __smlad((a), (b), (acc))
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

/* acc[k] += sum over i < n of f[k * f_stride + i] * (in[i] + in_offset), for k = 0 .. 3:
 * four output channels share every input load. */
static inline void ec_dot4(const int8_t *in, const int8_t *f, int32_t f_stride, int32_t n,
                           int32_t in_offset, int32_t acc[4]) {
  const int32_t off2 = ec_pack16(in_offset, in_offset);
  const int8_t *f0 = f, *f1 = f + f_stride, *f2 = f1 + f_stride, *f3 = f2 + f_stride;
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t x = ec_load4(in + i);
    const int32_t x02 = ec_sxtab16(off2, x), x13 = ec_sxtab16_ror8(off2, x);
    uint32_t w = ec_load4(f0 + i);
    a0 = ec_smlad(ec_sxtb16_ror8(w), x13, ec_smlad(ec_sxtb16(w), x02, a0));
    w = ec_load4(f1 + i);
    a1 = ec_smlad(ec_sxtb16_ror8(w), x13, ec_smlad(ec_sxtb16(w), x02, a1));
    w = ec_load4(f2 + i);
    a2 = ec_smlad(ec_sxtb16_ror8(w), x13, ec_smlad(ec_sxtb16(w), x02, a2));
    w = ec_load4(f3 + i);
    a3 = ec_smlad(ec_sxtb16_ror8(w), x13, ec_smlad(ec_sxtb16(w), x02, a3));
  }
  for (; i < n; ++i) {
    const int32_t x = in[i] + in_offset;
    a0 += f0[i] * x;
    a1 += f1[i] * x;
    a2 += f2[i] * x;
    a3 += f3[i] * x;
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

/* sum over i < n of f[i] * (in[i] + in_offset), added to acc. */
static inline int32_t ec_dot1(const int8_t *in, const int8_t *f, int32_t n, int32_t in_offset, int32_t acc) {
  const int32_t off2 = ec_pack16(in_offset, in_offset);
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t x = ec_load4(in + i), w = ec_load4(f + i);
    acc = ec_smlad(ec_sxtb16(w), ec_sxtab16(off2, x), acc);
    acc = ec_smlad(ec_sxtb16_ror8(w), ec_sxtab16_ror8(off2, x), acc);
  }
  for (; i < n; ++i) acc += f[i] * (in[i] + in_offset);
  return acc;
}

#endif /* EC_DSP_H */
