/* DEPTHWISE_CONV_2D int8 on the DSP extension, the quick case the C generator picks when it
 * holds: depth multiplier 1, the int8 clamp, right shifts only and accumulators it proved within
 * int32 (see ec_requant_quick). Four channels at a time, one output pixel, the accumulators in
 * registers: per filter tap one word of four input channels split into offset halfword pairs
 * (channels 0, 2 and 1, 3) with SXTAB16, and four single multiply-accumulates (SMLABB, SMLATT)
 * against the filter values as those halfword pairs. On the DSP core a 3x3 filter's windows of
 * 2 or 3 taps across go to window3, written in assembly (every quad of the group, a run of
 * pixels); other windows to window(), which has a copy of its loops for rows of 3 taps and one
 * for 2 (each row one assembly block). Only taps inside the image are visited (as TFLM skips the
 * others); the pixels of a row whose windows are whole across are one call. The filter is stored
 * as int8 (weights): for each group of four channels, for each tap (ky, kx), the four channels'
 * values (one word); then for each tap the c % 4 leftover channels' values. The kernel goes over
 * the pixels once per group of EC_DW_WORDS / (2 kh kw) quads of channels, having expanded that
 * group's words into halfword pairs (f0, f2), (f1, f3) in a stack buffer (SXTB16, four
 * instructions a word). The filter, biases (zeros when the layer has none), multipliers and
 * right shifts: the layer's tables (ec_quick_params). input (n, h, w, c), output (n, oh, ow, c). */
#include "ec_dsp.h"
#include "ec_kernels.h"

/* Paths a model may not take; the C generator defines each to 0 in a model's copy of this file
 * when none of its layers needs it (ops_c_quick.py), and the compiler drops the code: REM:
 * channels % 4 != 0; TAPS: a window window3 does not take (a filter other than 3x3, a window
 * clipped to other than 2 or 3 taps across or to no rows), which window() takes. */
#ifndef EC_QUICK_DW_REM
#define EC_QUICK_DW_REM 1
#endif
#ifndef EC_QUICK_DW_TAPS
#define EC_QUICK_DW_TAPS 1
#endif
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define EC_DW_DSP 1
#else
#define EC_DW_DSP 0
#endif
#define EC_DW_C (!EC_DW_DSP || EC_QUICK_DW_TAPS) /* window() is in */
/* BYTE_SHIFTS: the right shifts a byte per channel (a model with a shift past 16 bits in some
 * layer, ops/quick.py byte_shifts); otherwise two channels a byte, a quad's four one halfword. */
#ifndef EC_QUICK_BYTE_SHIFTS
#define EC_QUICK_BYTE_SHIFTS 1
#endif
#define EC_SHIFT_QUAD (EC_QUICK_BYTE_SHIFTS ? 4 : 2) /* bytes of a quad's right shifts */

/* The stack buffer of a group of channels' filter taps as halfword pairs, in words: a group is
 * EC_DW_WORDS / (2 kh kw) quads of channels (ops/quick.py DW_GROUP_WORDS: the generator takes
 * only filters with 2 kh kw <= EC_DW_WORDS). */
#ifndef EC_DW_WORDS
#define EC_DW_WORDS 144
#endif

/* [first, last) filter taps along one axis that land inside the image: origin + dil * k in [0, size). */
static void tap_range(int32_t origin, int32_t dil, int32_t size, int32_t taps, int32_t *first, int32_t *last) {
  const int32_t lo = origin < 0 ? (-origin + dil - 1) / dil : 0;
  const int32_t hi = (size - origin + dil - 1) / dil;
  *first = lo;
  *last = hi < taps ? hi : taps;
}

/* One tap: four input channels at in + by (+ offset), their filter pairs at fp (advanced by one
 * tap), into a0..a3. On the DSP core one assembly block (for taps in a loop: rows of two or three
 * taps are written out as one block, EC_DW_TAP_ASM below). */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define EC_DW_TAP_AT(in_, by_)                                                                     \
  do {                                                                                             \
    int32_t xs, x02, f02, f13;                                                                     \
    __asm__("ldr %[xs], [%[p], %[o]]\n\t"                                                           \
            "sxtab16 %[x02], %[off2], %[xs]\n\t"                                                   \
            "sxtab16 %[xs], %[off2], %[xs], ror #8\n\t"                                            \
            "ldrd %[f02], %[f13], [%[f]], #8\n\t"                                                  \
            "smlabb %[a0], %[f02], %[x02], %[a0]\n\t"                                              \
            "smlatt %[a2], %[f02], %[x02], %[a2]\n\t"                                              \
            "smlabb %[a1], %[f13], %[xs], %[a1]\n\t"                                               \
            "smlatt %[a3], %[f13], %[xs], %[a3]\n\t"                                               \
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [f] "+r"(fp), [xs] "=&r"(xs), \
              [x02] "=&r"(x02), [f02] "=&r"(f02), [f13] "=&r"(f13)                                   \
            : [p] "r"(in_), [o] "r"(by_), [off2] "r"(off2), "m"(*(const int8_t(*)[])(in_)),          \
              "m"(*(const int32_t(*)[])fp));                                                       \
  } while (0)
#else
#define EC_DW_TAP_AT(in_, by_)                                                     \
  do {                                                                             \
    const uint32_t xs = ec_load4((in_) + (by_));                                   \
    const int32_t x02 = ec_sxtab16(off2, xs), x13 = ec_sxtab16_ror8(off2, xs);     \
    const int32_t f02 = fp[0], f13 = fp[1];                                        \
    fp += 2;                                                                       \
    a0 = ec_smlabb(f02, x02, a0);                                                  \
    a2 = ec_smlatt(f02, x02, a2);                                                  \
    a1 = ec_smlabb(f13, x13, a1);                                                  \
    a3 = ec_smlatt(f13, x13, a3);                                                  \
  } while (0)
#endif

/* Channel ch's right shift. */
static inline int32_t shift_of(const uint8_t *shift, int32_t ch) {
  return EC_QUICK_BYTE_SHIFTS ? shift[ch] : (shift[ch >> 1] >> ((ch & 1) << 2)) & 15;
}

#if defined(__GNUC__)
#define EC_DW_NOINLINE __attribute__((noinline))
#else
#define EC_DW_NOINLINE
#endif

#if EC_DW_C
/* What a pass of one group of channels over the pixels needs besides the pixel: input steps
 * (next tap, next row), filter steps (next row of taps, next quad of channels), the group's
 * quads, the offsets, the steps to the next output pixel across (input, output), the group's
 * channel tables. */
typedef struct {
  int32_t step, in_row, f_row, f_quad, quads, off2, k, in_px, out_px;
  const int32_t *chan;   /* per pair of channels bias, bias, multiplier, multiplier: 8 words a quad */
  const uint8_t *shift; /* EC_SHIFT_QUAD bytes a quad */
} dw_window;

/* A quad's four right shifts (bytes at s, or the nibbles of the halfword there) and
 * multipliers (ch: the quad's 8 words) requantize a0..a3 into out[0..3]. */
#if EC_QUICK_BYTE_SHIFTS
#define EC_DW_REQUANT(out, s, ch, k)                                                    \
  do {                                                                                  \
    (out)[0] = ec_requant_quick(a0, (ch)[2], (s)[0], (k));                              \
    (out)[1] = ec_requant_quick(a1, (ch)[3], (s)[1], (k));                              \
    (out)[2] = ec_requant_quick(a2, (ch)[6], (s)[2], (k));                              \
    (out)[3] = ec_requant_quick(a3, (ch)[7], (s)[3], (k));                              \
  } while (0)
#else
#define EC_DW_REQUANT(out, s, ch, k)                                                    \
  do {                                                                                  \
    uint16_t sh;                                                                        \
    memcpy(&sh, (s), 2);                                                                \
    (out)[0] = ec_requant_quick(a0, (ch)[2], sh & 15, (k));                             \
    (out)[1] = ec_requant_quick(a1, (ch)[3], (sh >> 4) & 15, (k));                      \
    (out)[2] = ec_requant_quick(a2, (ch)[6], (sh >> 8) & 15, (k));                      \
    (out)[3] = ec_requant_quick(a3, (ch)[7], sh >> 12, (k));                            \
  } while (0)
#endif


#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
/* One tap in assembly: the input word at address `at`, the filter pairs at fp (advanced); a row
 * of two or three taps is one block (the compiler keeps the accumulators, the row pointer, the
 * step and the offsets in registers through it). */
#define EC_DW_TAP_ASM(at)                            \
  "ldr %[xs], " at "\n\t"                           \
  "sxtab16 %[x02], %[off2], %[xs]\n\t"              \
  "sxtab16 %[xs], %[off2], %[xs], ror #8\n\t"       \
  "ldrd %[f02], %[f13], [%[fp]], #8\n\t"            \
  "smlabb %[a0], %[f02], %[x02], %[a0]\n\t"         \
  "smlatt %[a2], %[f02], %[x02], %[a2]\n\t"         \
  "smlabb %[a1], %[f13], %[xs], %[a1]\n\t"          \
  "smlatt %[a3], %[f13], %[xs], %[a3]\n\t"
#define EC_DW_ROW2 EC_DW_TAP_ASM("[%[r]]") EC_DW_TAP_ASM("[%[r], %[step]]")
#define EC_DW_ROW_OUT                                                                                \
  [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [fp] "+r"(fp), [xs] "=&r"(xs),          \
      [x02] "=&r"(x02), [f02] "=&r"(f02), [f13] "=&r"(f13)
#define EC_DW_ROW_IN [r] "r"(r), [step] "r"(step), [off2] "r"(off2)
#endif

/* A window clipped to the image (rows x taps from in and f), every quad of the group; `taps` a
 * constant where window() inlines it (2 or 3: each row one block), a loop over taps otherwise. */
static EC_ALWAYS_INLINE void window_taps(const dw_window *g, const int8_t *in, const int32_t *f, int32_t rows,
                                         int32_t taps, int8_t *out) {
  const int32_t step = g->step, in_row = g->in_row, f_row = g->f_row, off2 = g->off2, k = g->k;
  const int32_t *ch = g->chan;
  const uint8_t *shift = g->shift;
  for (int32_t q = g->quads; q > 0; --q, in += 4, f += g->f_quad, ch += 8, shift += EC_SHIFT_QUAD, out += 4) {
    int32_t a0 = ch[0], a1 = ch[1], a2 = ch[4], a3 = ch[5];
    const int8_t *r = in;
    const int32_t *fr = f;
    for (int32_t y = rows; y > 0; --y, r += in_row, fr += f_row) {
      const int32_t *fp = fr;
      if (taps == 2 || taps == 3) {
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
        int32_t xs, x02, f02, f13;
        if (taps == 3) {
          __asm__(EC_DW_ROW2 EC_DW_TAP_ASM("[%[r], %[step], lsl #1]") : EC_DW_ROW_OUT : EC_DW_ROW_IN : "memory");
        } else {
          __asm__(EC_DW_ROW2 : EC_DW_ROW_OUT : EC_DW_ROW_IN : "memory");
        }
#else
        EC_DW_TAP_AT(r, 0);
        EC_DW_TAP_AT(r, step);
        if (taps == 3) EC_DW_TAP_AT(r, 2 * step);
#endif
      } else {
        for (int32_t t = 0; t < taps; ++t) EC_DW_TAP_AT(r, t * step);
      }
    }
    EC_DW_REQUANT(out, shift, ch, k);
  }
}

/* Any window clipped to the image (rows x taps from in and f; a whole one too), every quad of
 * the group, for `pixels` output pixels across of the same window: one copy of the loops for
 * rows of 3 taps, one for 2, one for any other count. */
static EC_DW_NOINLINE void window(const dw_window *g, const int8_t *in, const int32_t *f, int32_t rows, int32_t taps,
                                  int8_t *out, int32_t pixels) {
  for (; pixels > 0; --pixels, in += g->in_px, out += g->out_px) {
    if (taps == 2) {
      window_taps(g, in, f, rows, 2, out);
    } else if (taps == 3) {
      window_taps(g, in, f, rows, 3, out);
    } else {
      window_taps(g, in, f, rows, taps, out);
    }
  }
}
#endif

#if EC_DW_DSP
/* window3's arguments, in the order it takes them: the first 11 words to its stack, the last 3
 * to registers. It goes over the group's quads by the address of their channel words (chan, 8
 * words a quad) and finds a quad's input, output and shifts from it: it keeps in and out less
 * chan >> 3, and shift is the group's shifts less chan >> 4 (>> 3 with byte shifts). */
typedef struct {
  uint32_t shape;          /* 3 (taps == 2) + 3 - rows: which of its entries */
  uint32_t in, shift;      /* the first pixel's first tap (the group's channel 0), the shifts */
  int32_t k;
  uint32_t out, chan_end;  /* the first pixel's output; the group's end in chan */
  int32_t pixels, in_px, out_px;
  uint32_t f, chan;        /* the first quad's filter pairs less 72 - 24 rows bytes, chan */
  int32_t step, off2, in_row;
} dw_call;

/* One tap (a 3x3 filter), the input at `at`: r4 (the word), r7 and r4 (its halfword pairs), r8,
 * r9 (the filter pairs at r10, which moves on by `next` bytes) into r0..r3. */
#define EC_DW_T(at, next)                  \
  "ldr r4, " at "\n\t"                    \
  "sxtab16 r7, r11, r4\n\t"               \
  "sxtab16 r4, r11, r4, ror #8\n\t"       \
  "ldrd r8, r9, [r10], #" next "\n\t"     \
  "smlabb r0, r8, r7, r0\n\t"             \
  "smlatt r2, r8, r7, r2\n\t"             \
  "smlabb r1, r9, r4, r1\n\t"             \
  "smlatt r3, r9, r4, r3\n\t"
#define EC_DW_T3 EC_DW_T("[r5]", "8") EC_DW_T("[r5, r6]", "8") EC_DW_T("[r5, r6, lsl #1]", "8")
#define EC_DW_T2 EC_DW_T("[r5]", "8") EC_DW_T("[r5, r6]", "16") /* and past the row's third tap */
#if EC_QUICK_BYTE_SHIFTS
#define EC_DW_SHIFTS                       \
  "add r4, r4, lr, lsr #3\n\t"            \
  "ldr r4, [r4]\n\t"                      \
  "asrs r0, r0, r4\n\t"                   \
  "lsrs r4, r4, #8\n\t"                   \
  "asrs r1, r1, r4\n\t"                   \
  "lsrs r4, r4, #8\n\t"                   \
  "asrs r2, r2, r4\n\t"                   \
  "lsrs r4, r4, #8\n\t"                   \
  "asrs r3, r3, r4\n\t"
#else
#define EC_DW_SHIFTS                       \
  "add r4, r4, lr, lsr #4\n\t"            \
  "ldrh r4, [r4]\n\t"                     \
  "and r7, r4, #15\n\t"                   \
  "asrs r0, r0, r7\n\t"                   \
  "ubfx r7, r4, #4, #4\n\t"               \
  "asrs r1, r1, r7\n\t"                   \
  "ubfx r7, r4, #8, #4\n\t"               \
  "asrs r2, r2, r7\n\t"                   \
  "lsrs r4, r4, #12\n\t"                  \
  "asrs r3, r3, r4\n\t"
#endif

/* A 3x3 filter's window clipped to rows (1 to 3) x taps (2 or 3) across, every quad of the
 * group, for a->pixels output pixels across of the same window. Registers: r0..r3 the
 * accumulators, r5 the row's input, r6 the step to the next tap, r10 the filter pairs (a quad's
 * rows of taps follow one another, a skipped tap or row is stepped over), r11 the offsets, r12
 * the step to the next row, lr the quad's channel words; the stack: the taps code to take
 * (entries: one per shape, those of fewer rows step r10 over the missing ones first), then the
 * rest of dw_call. Per quad of a whole window: 72 instructions of taps, 35 of requantization,
 * 10 of loop. */
static void __attribute__((naked, noipa)) window3(const dw_call *a __attribute__((unused))) {
  __asm__(
      "push {r4-r11, lr}\n\t"
      "ldm r0!, {r1-r11}\n\t"
      "sub r2, r2, r11, lsr #3\n\t"
      "sub r5, r5, r11, lsr #3\n\t"
      "push {r1-r11}\n\t"
      "ldm r0, {r6, r11, r12}\n\t"
      "ldrd r10, lr, [sp, #36]\n\t"
      "adr r4, .Ldw_entries\n\t"
      "ldrsh r7, [r4, r1, lsl #1]\n\t"
      "adds r4, r4, r7\n\t"
      "str r4, [sp]\n\t"
      "b .Ldw_quad\n"
      ".Ldw_t3r3:\n\t" EC_DW_T3 "add r5, r12\n"
      ".Ldw_t3r2:\n\t" EC_DW_T3 "add r5, r12\n"
      ".Ldw_t3r1:\n\t" EC_DW_T3
      ".Ldw_requant:\n\t"
      "ldrd r7, r8, [lr, #8]\n\t"
      "smmlar r0, r0, r7, r0\n\t"
      "smmlar r1, r1, r8, r1\n\t"
      "ldrd r7, r8, [lr, #24]\n\t"
      "smmlar r2, r2, r7, r2\n\t"
      "smmlar r3, r3, r8, r3\n\t"
      "sub r0, r0, r0, lsr #31\n\t"
      "sub r1, r1, r1, lsr #31\n\t"
      "sub r2, r2, r2, lsr #31\n\t"
      "sub r3, r3, r3, lsr #31\n\t"
      "ldrd r4, r9, [sp, #8]\n\t" EC_DW_SHIFTS
      "add r0, r0, r9\n\t"
      "add r1, r1, r9\n\t"
      "add r2, r2, r9\n\t"
      "add r3, r3, r9\n\t"
      "ssat r0, #8, r0, asr #1\n\t"
      "ssat r1, #8, r1, asr #1\n\t"
      "ssat r2, #8, r2, asr #1\n\t"
      "ssat r3, #8, r3, asr #1\n\t"
      "ldrd r4, r7, [sp, #16]\n\t"
      "add r4, r4, lr, lsr #3\n\t"
      "strb r0, [r4]\n\t"
      "strb r1, [r4, #1]\n\t"
      "strb r2, [r4, #2]\n\t"
      "strb r3, [r4, #3]\n\t"
      "add lr, lr, #32\n\t"
      "cmp lr, r7\n\t"
      "beq .Ldw_pixel\n"
      ".Ldw_quad:\n\t"
      "ldr r5, [sp, #4]\n\t"
      "add r5, r5, lr, lsr #3\n\t"
      "ldrd r0, r1, [lr]\n\t"
      "ldrd r2, r3, [lr, #16]\n\t"
      "ldr pc, [sp]\n"
      ".Ldw_pixel:\n\t"
      "ldr r4, [sp, #24]\n\t"
      "subs r4, r4, #1\n\t"
      "beq .Ldw_done\n\t"
      "str r4, [sp, #24]\n\t"
      "ldrd r4, r7, [sp, #28]\n\t"
      "ldr r0, [sp, #4]\n\t"
      "adds r0, r0, r4\n\t"
      "str r0, [sp, #4]\n\t"
      "ldr r0, [sp, #16]\n\t"
      "adds r0, r0, r7\n\t"
      "str r0, [sp, #16]\n\t"
      "ldrd r10, lr, [sp, #36]\n\t"
      "b .Ldw_quad\n"
      ".Ldw_done:\n\t"
      "add sp, sp, #44\n\t"
      "pop {r4-r11, pc}\n"
      ".Ldw_t2r3:\n\t" EC_DW_T2 "add r5, r12\n"
      ".Ldw_t2r2:\n\t" EC_DW_T2 "add r5, r12\n"
      ".Ldw_t2r1:\n\t" EC_DW_T2
      "b .Ldw_requant\n"
      ".Ldw_s3r2:\n\t"
      "add r10, r10, #24\n\t"
      "b .Ldw_t3r2\n"
      ".Ldw_s3r1:\n\t"
      "add r10, r10, #48\n\t"
      "b .Ldw_t3r1\n"
      ".Ldw_s2r2:\n\t"
      "add r10, r10, #24\n\t"
      "b .Ldw_t2r2\n"
      ".Ldw_s2r1:\n\t"
      "add r10, r10, #48\n\t"
      "b .Ldw_t2r1\n\t"
      ".align 2\n"
      ".Ldw_entries:\n\t"
      ".hword .Ldw_t3r3 - .Ldw_entries + 1, .Ldw_s3r2 - .Ldw_entries + 1, .Ldw_s3r1 - .Ldw_entries + 1\n\t"
      ".hword .Ldw_t2r3 - .Ldw_entries + 1, .Ldw_s2r2 - .Ldw_entries + 1, .Ldw_s2r1 - .Ldw_entries + 1\n\t");
}
#endif

/* n words of the int8 filter (four channels of one tap each) as the halfword pairs the taps
 * take: (f0, f1, f2, f3) -> (f0, f2), (f1, f3). */
static EC_DW_NOINLINE void expand(const int8_t *src, int32_t *dst, int32_t n) {
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
  int32_t q = n >> 2;
  if (q > 0) { /* four words a pass: 12 instructions (each word widened in place and beside it) */
    __asm__ volatile(
        "1:\n\t"
        "ldm %[src]!, {r4, r6, r8, r10}\n\t"
        "sxtb16 r5, r4, ror #8\n\t"
        "sxtb16 r4, r4\n\t"
        "sxtb16 r7, r6, ror #8\n\t"
        "sxtb16 r6, r6\n\t"
        "sxtb16 r9, r8, ror #8\n\t"
        "sxtb16 r8, r8\n\t"
        "sxtb16 r11, r10, ror #8\n\t"
        "sxtb16 r10, r10\n\t"
        "stm %[dst]!, {r4-r11}\n\t"
        "subs %[q], %[q], #1\n\t"
        "bne 1b"
        : [src] "+r"(src), [dst] "+r"(dst), [q] "+r"(q)
        :
        : "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "cc", "memory");
  }
  n &= 3;
#endif
  for (; n > 0; --n, src += 4, dst += 2) {
    const uint32_t w = ec_load4(src);
    dst[0] = ec_sxtb16(w);
    dst[1] = ec_sxtb16_ror8(w);
  }
}

void ec_depthwise_conv_2d_quick_dsp_s8(const ec_quick_params *p, const int8_t *input, int8_t *output) {
  const int32_t in_h = p->input.h, in_w = p->input.w, c = p->input.c;
  EC_QUICK_TABLES(p, c, chan, rshift, filter);
  const int32_t k_h = p->filter.h, k_w = p->filter.w, out_h = p->output.h, out_w = p->output.w;
  const int32_t stride_w = p->stride_w, pad_w = p->pad_w;
  const int32_t dil_h = p->dilation_h, dil_w = p->dilation_w, step = dil_w * c, in_row = dil_h * in_w * c;
  const int32_t off2 = ec_pack16(p->input_offset, p->input_offset), k = 1 + 2 * p->output_offset;
  const int32_t quads = c >> 2, taps_all = k_h * k_w, rem = c & 3;
  const int32_t group = EC_DW_WORDS / (2 * taps_all); /* quads per group: at least one (the generator) */
  const int8_t *left = filter + 4 * taps_all * quads; /* leftover channels' taps */
  /* output columns [ox_lo, ox_hi): windows whole across, one call for the row's run of them */
  const int32_t last_x = in_w - 1 + pad_w - dil_w * (k_w - 1);
  int32_t ox_lo = (pad_w + stride_w - 1) / stride_w, ox_hi = last_x < 0 ? 0 : last_x / stride_w + 1;
  if (ox_hi > out_w) ox_hi = out_w;
  if (ox_hi <= ox_lo || (EC_QUICK_DW_REM && rem)) ox_lo = -1; /* none; pixel by pixel with leftover channels (the
                                                                   output may overlap the input, see plan/overlap.py) */
  int32_t pairs[EC_DW_WORDS]; /* the group's filter as halfword pairs */
  for (int32_t q0 = 0;; q0 += group) {
    const int32_t n = quads - q0 < group ? quads - q0 : group, last = q0 + group >= quads;
#if EC_DW_C
    const dw_window g = {step, in_row, 2 * k_w, 2 * taps_all, n, off2, k, stride_w * c, c,
                         chan + 8 * q0, rshift + EC_SHIFT_QUAD * q0};
#endif
#if EC_DW_DSP
    const uint32_t chan0 = (uint32_t)(uintptr_t)(chan + 8 * q0);
    dw_call a; /* the pass's part; each call sets shape, in, out, pixels, f */
    a.shift = (uint32_t)(uintptr_t)(rshift + EC_SHIFT_QUAD * q0) - (chan0 >> (EC_QUICK_BYTE_SHIFTS ? 3 : 4));
    a.k = k;
    a.chan_end = chan0 + 32 * (uint32_t)n;
    a.in_px = stride_w * c;
    a.out_px = c;
    a.chan = chan0;
    a.step = step;
    a.off2 = off2;
    a.in_row = in_row;
#endif
    expand(filter + 4 * taps_all * q0, pairs, n * taps_all);
    for (int32_t b = 0; b < p->batch; ++b) {
      for (int32_t oy = 0; oy < out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_h;
        int32_t ky0, ky1;
        tap_range(y0, dil_h, in_h, k_h, &ky0, &ky1);
        const int32_t rows = ky1 - ky0;
        /* the first row of taps at x = 0, the group's first channel; the row's outputs */
        const int8_t *in_y = input + (b * in_h + y0 + dil_h * ky0) * in_w * c + 4 * q0;
        int8_t *out_y = output + (b * out_h + oy) * out_w * c + 4 * q0;
        const int32_t *f_y = pairs + 2 * ky0 * k_w;
        for (int32_t ox = 0; ox < out_w;) {
          const int32_t run = ox == ox_lo ? ox_hi - ox_lo : 1; /* pixels of this window */
          const int32_t x0 = ox * stride_w - pad_w;
          int32_t kx0, kx1;
          tap_range(x0, dil_w, in_w, k_w, &kx0, &kx1);
          const int32_t taps = kx1 - kx0;
          const int8_t *in_first = in_y + (x0 + dil_w * kx0) * c;
          int8_t *out_x = out_y + ox * c;
          if (n == 0) { /* no whole quads */
          } else if (EC_DW_DSP && (!EC_QUICK_DW_TAPS || (k_h == 3 && k_w == 3 && rows > 0 && (taps == 2 || taps == 3)))) {
#if EC_DW_DSP
            a.shape = (uint32_t)(12 - 3 * taps - rows);
            a.in = (uint32_t)(uintptr_t)in_first;
            a.out = (uint32_t)(uintptr_t)out_x;
            a.pixels = run;
            a.f = (uint32_t)(uintptr_t)(f_y + 2 * kx0) - (uint32_t)(24 * (3 - rows));
            window3(&a);
#endif
          } else {
#if EC_DW_C
            window(&g, in_first, f_y + 2 * kx0, rows, taps, out_x, run);
#endif
          }
          for (int32_t px = 0; EC_QUICK_DW_REM && last && rem && px < run; ++px) { /* leftover channels */
            const int8_t *in_px = in_first + px * stride_w * c;
            for (int32_t j = 0; j < rem; ++j) { /* one at a time */
              const int32_t ch = 4 * quads + j, first_tap = ky0 * k_w + kx0;
              const int32_t *pair = chan + 4 * (ch >> 1) + (ch & 1); /* its bias; its multiplier 2 on */
              int32_t acc = pair[0];
              for (int32_t r = 0; r < rows; ++r) {
                for (int32_t t = 0; t < taps; ++t) {
                  const int32_t x = in_px[r * in_row + t * step + ch - 4 * q0] + p->input_offset;
                  acc += left[(first_tap + r * k_w + t) * rem + j] * x;
                }
              }
              out_x[px * c + ch - 4 * q0] = ec_requant_quick(acc, pair[2], shift_of(rshift, ch), k);
            }
          }
          ox += run;
        }
      }
    }
    if (last) break;
  }
}
