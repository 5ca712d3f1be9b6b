/* edgecraft int8 kernels: declarations and the fixed-point helpers they share.
 *
 * The arithmetic is TensorFlow Lite Micro's reference arithmetic (gemmlowp's double-rounding
 * MultiplyByQuantizedMultiplier), so every kernel is bit-exact with TFLM. Tensors are plain
 * arrays in NHWC order; each kernel takes a const parameter block filled in at build time.
 */
#ifndef EC_KERNELS_H
#define EC_KERNELS_H

/* The DSP and Helium kernels' inline assembly needs the registers an optimizing build frees: at
 * -O0 GCC keeps r7 as the frame pointer and spills nothing for asm operands ("impossible
 * constraints"), so a Cortex-M build without optimization (an IDE's Debug configuration)
 * compiles the kernels at -O2, and a build with frame pointers (-fno-omit-frame-pointer, for a
 * profiler's unwinder) leaves them out of the kernels (tests/codegen/test_debug_build.py). */
#if defined(__GNUC__) && !defined(__clang__) && \
    ((defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP) || (defined(__ARM_FEATURE_MVE) && __ARM_FEATURE_MVE))
#ifndef __OPTIMIZE__
#pragma GCC optimize("O2")
#endif
#pragma GCC optimize("omit-frame-pointer")
#endif

#include <math.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- fixed point ------------------------------------------------------------------------ */

/* gemmlowp SaturatingRoundingDoublingHighMul: (a * b * 2) >> 32, rounded, saturated.
 * gemmlowp adds a nudge of 2^30 (or 1 - 2^30 when a * b < 0) and divides by 2^31 truncating
 * toward zero; for a negative product that is (a * b + 1 - 2^30 + 2^31 - 1) >> 31, so both
 * cases are the one arithmetic shift below (an SMLAL on Arm). */
/* float32 LOGISTIC as TFLM's reference computes it: exactly 1 above 16.619..., exp(x) below -9
 * (the LOGISTIC op and the float LSTM's gates). */
static inline float ec_logistic_f32(float x) {
  if (x > 16.619047164916992f) return 1.0f;
  if (x < -9.0f) return expf(x);
  return 1.0f / (1.0f + expf(-x));
}

static inline int32_t ec_srdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* gemmlowp RoundingDivideByPOT: x / 2^exponent (0 <= exponent <= 31), rounding half away
 * from zero. */
static inline int32_t ec_rdbpot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)((1u << exponent) - 1u);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* Wrapping int32 left shift (C's signed shift would be undefined on overflow). */
static inline int32_t ec_shl(int32_t x, int shift) {
  return (int32_t)((uint32_t)x << shift);
}

/* TFLM MultiplyByQuantizedMultiplier: x * multiplier * 2^(shift - 31), double rounding. */
static inline int32_t ec_mbqm(int32_t x, int32_t multiplier, int shift) {
  int left = shift > 0 ? shift : 0;
  int right = shift > 0 ? 0 : -shift;
  return ec_rdbpot(ec_srdhm(ec_shl(x, left), multiplier), right);
}

/* ec_mbqm for a multiplier from QuantizeMultiplier (0 or in [2^30, 2^31)): it is never
 * INT32_MIN, so SaturatingRoundingDoublingHighMul cannot saturate and its check is left out.
 * The same result in fewer instructions: the high product y = floor((x m + 2^30) / 2^31) is
 * SRDHM exactly (for x m < 0 too); for a right shift e >= 1, RoundingDivideByPOT(y, e) =
 * floor((y + 2^(e-1) - [y < 0]) / 2^e) = ((z >> (e - 1)) + 1) >> 1 with z = y - [y < 0]
 * (floor of a floor), and e - 1 = ~shift. |y| < 2^31 - 1 for such m, so nothing overflows. */
static inline int32_t ec_mbqm_q(int32_t x, int32_t multiplier, int shift) {
  const int32_t y = (int32_t)(((int64_t)ec_shl(x, shift > 0 ? shift : 0) * multiplier + ((int64_t)1 << 30)) >> 31);
  if (shift >= 0) return y;
  const int32_t z = y - (int32_t)((uint32_t)y >> 31);
  return ((z >> ~shift) + 1) >> 1;
}

/* TFLM MultiplyByQuantizedMultiplier(int64_t x, ...), the 16x8 kernels' requantization: the
 * multiplier rounded to 16 bits (0x7FFF from 0x7FFF0000 up), then one rounding shift by
 * 15 - shift (halves up). TFLM requires shift <= 7 and |x| < 2^47. */
static inline int32_t ec_mbqm64(int64_t x, int32_t multiplier, int shift) {
  const int64_t reduced = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
  const int total = 15 - shift;
  return (int32_t)((x * reduced + ((int64_t)1 << (total - 1))) >> total);
}

/* A C cast of an int64 to int32 on a two's-complement machine (wraps). */
static inline int32_t ec_wrap32(int64_t x) {
  return (int32_t)(uint32_t)(uint64_t)x;
}

static inline int32_t ec_clamp(int32_t x, int32_t lo, int32_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/* --- parameter blocks ------------------------------------------------------------------- */

typedef struct { int32_t n, h, w, c; } ec_dims;

/* CONV_2D and DEPTHWISE_CONV_2D. filter: conv OHWI (o, kh, kw, in_c / groups);
 * depthwise (1, kh, kw, out_c). multiplier/shift: one per output channel. */
typedef struct {
  ec_dims input, filter, output;
  int32_t stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w;
  int32_t depth_multiplier;
  int32_t input_offset, output_offset, act_min, act_max;
  const int32_t *multiplier;
  const int32_t *shift;
} ec_conv_params;

/* FULLY_CONNECTED: rows x depth input, units x depth filter. per_channel 1: multiplier and
 * shift hold one entry per unit; 0 (every unit requantized alike, e.g. a per-tensor filter):
 * one entry each, entry 0 for every unit (ec_unit_mask). */
typedef struct {
  int32_t rows, depth, units;
  int32_t input_offset, filter_offset, output_offset, act_min, act_max;
  const int32_t *multiplier;
  const int32_t *shift;
  int32_t per_channel;
} ec_fc_params;

/* The mask that turns a unit's index into its entry of the requantization tables: u & mask
 * is u per channel, 0 per tensor (read once per call). */
static inline int32_t ec_unit_mask(int32_t per_channel) {
  return per_channel ? -1 : 0;
}

/* AVERAGE_POOL_2D and MAX_POOL_2D. */
typedef struct {
  ec_dims input, output;
  int32_t filter_h, filter_w, stride_h, stride_w, pad_h, pad_w;
  int32_t act_min, act_max;
} ec_pool_params;

/* SOFTMAX int8 -> int8 (output scale 1/256, zero point -128). */
typedef struct {
  int32_t rows, depth;
  int32_t input_multiplier, input_left_shift, diff_min;
} ec_softmax_params;

/* SOFTMAX int16 -> int16 (output scale 1/32768): TFLM's two 513-entry tables. */
typedef struct {
  int32_t rows, depth, input_multiplier, input_shift;
  const int16_t *exp_lut, *recip_lut;
} ec_softmax16_params;

/* Broadcasting elementwise ops over up to 6 dimensions: stride 0 repeats an input. */
#define EC_MAX_DIMS 6
typedef struct {
  int32_t dims[EC_MAX_DIMS];
  int32_t stride1[EC_MAX_DIMS], stride2[EC_MAX_DIMS];
  int32_t input1_offset, input2_offset, output_offset, left_shift;
  int32_t input1_multiplier, input1_shift, input2_multiplier, input2_shift;
  int32_t output_multiplier, output_shift;
  int32_t act_min, act_max;
} ec_binary_params;

/* The elementwise op ec_binary_combine computes (ec_elementwise.c, ec_elementwise_s16.c). */
enum { EC_ADD, EC_SUB, EC_MUL, EC_MAX, EC_MIN, EC_SQDIFF };
/* The same by the ops' builtin names (the generator writes EC_<op>). */
enum { EC_MAXIMUM = EC_MAX, EC_MINIMUM = EC_MIN, EC_SQUARED_DIFFERENCE = EC_SQDIFF };

/* One output element of ADD, SUB, MUL, MAXIMUM, MINIMUM or SQUARED_DIFFERENCE from raw inputs a
 * and b (int8 or int16: TFLM's arithmetic is the same with the parameter block's shifts). */
static inline int32_t ec_binary_combine(const ec_binary_params *p, int kind, int32_t a, int32_t b) {
  if (kind == EC_MAX) return a > b ? a : b; /* raw values: both inputs share the quantization */
  if (kind == EC_MIN) return a < b ? a : b;
  const int32_t x = a + p->input1_offset, y = b + p->input2_offset;
  int32_t raw;
  if (kind == EC_MUL) {
    raw = ec_mbqm(x * y, p->output_multiplier, p->output_shift);
  } else {
    const int32_t sx = ec_mbqm(ec_shl(x, p->left_shift), p->input1_multiplier, p->input1_shift);
    const int32_t sy = ec_mbqm(ec_shl(y, p->left_shift), p->input2_multiplier, p->input2_shift);
    const int32_t d = kind == EC_ADD ? sx + sy : sx - sy;
    raw = ec_mbqm(kind == EC_SQDIFF ? d * d : d, p->output_multiplier, p->output_shift);
  }
  return ec_clamp(raw + p->output_offset, p->act_min, p->act_max);
}

/* The comparison ec_compare_s8 makes. */
enum { EC_CMP_EQUAL, EC_CMP_NOT_EQUAL, EC_CMP_LESS, EC_CMP_LESS_EQUAL, EC_CMP_GREATER, EC_CMP_GREATER_EQUAL };

/* PAD: up to 6 dimensions, the value written into the border. */
typedef struct {
  int32_t in_dims[EC_MAX_DIMS], out_dims[EC_MAX_DIMS], before[EC_MAX_DIMS];
  int8_t pad_value;
} ec_pad_params;

/* MEAN over a set of axes: the input viewed as (outer, reduced, inner) after transposition
 * is described by a list of reduced and kept strides. */
typedef struct {
  int32_t out_count, count;
  int32_t kept_dims[EC_MAX_DIMS], kept_strides[EC_MAX_DIMS], n_kept;
  int32_t red_dims[EC_MAX_DIMS], red_strides[EC_MAX_DIMS], n_red;
  int32_t input_zp_times_count, output_offset, multiplier, shift;
} ec_mean_params;

/* RELU, RELU6, LEAKY_RELU, ABS int16: x = input + input_offset (|x| when absolute); x >= 0:
 * MBQM(x, multiplier, shift), or x itself when multiplier is 0; x < 0: negative_sign *
 * MBQM(x, negative_multiplier, negative_shift), x itself when that multiplier is 0 and the sign
 * is not, 0 when both are 0; then + output_offset, clamped to [act_min, act_max]. */
typedef struct {
  int32_t size, input_offset, output_offset, absolute;
  int32_t multiplier, shift, negative_multiplier, negative_shift, negative_sign;
  int32_t act_min, act_max;
} ec_unary16_params;

/* SELECT_V2: condition, x and y broadcast to dims (stride 0 repeats), elements of elem_size. */
typedef struct {
  int32_t dims[EC_MAX_DIMS], stride_c[EC_MAX_DIMS], stride_x[EC_MAX_DIMS], stride_y[EC_MAX_DIMS];
  int32_t elem_size;
} ec_select_params;

/* Element types of ec_cast. */
enum { EC_INT8, EC_INT16, EC_INT32, EC_FLOAT32, EC_BOOL, EC_UINT32 };

/* QUANTIZE int8 -> int8 (requantize). */
typedef struct {
  int32_t size, input_offset, output_offset, multiplier, shift;
} ec_requant_params;

/* QUANTIZE / DEQUANTIZE between float32 and integers of in_bytes / out_bytes (1, 2, 4). */
typedef struct {
  int32_t size, in_bytes, out_bytes, input_offset, output_offset, multiplier, shift, out_min, out_max;
  float scale;       /* float32 -> integer: the output scale */
  double real_scale; /* integer -> float32: the input scale, widened */
} ec_convert_params;

/* Strided N-d copy: element i of the (dims) box is read at src offset sum(index * src_strides)
 * and written at dst offset sum(index * dst_strides), offsets in elements of elem_size bytes. */
typedef struct {
  int32_t dims[EC_MAX_DIMS], src_strides[EC_MAX_DIMS], dst_strides[EC_MAX_DIMS];
  int32_t elem_size;
} ec_copy_params;

/* DYNAMIC_UPDATE_SLICE: the operand's dims and element strides, the update's dims, the update
 * box's copy (its strides within the operand), the start indices' width (4 or 8 bytes). */
typedef struct {
  int32_t rank, operand_bytes, update_empty, index_bytes;
  int32_t operand_dims[EC_MAX_DIMS], operand_strides[EC_MAX_DIMS], update_dims[EC_MAX_DIMS];
  ec_copy_params copy;
} ec_dus_params;

/* RESIZE_BILINEAR: per output row and column, the lower and upper source index and the weight
 * of the upper one (int8: fixed point with 10 fractional bits; float32: a float). */
typedef struct {
  int32_t batches, in_h, in_w, depth, out_h, out_w;
  const int32_t *y0, *y1, *x0, *x1;
  const int32_t *fy, *fx; /* int8 */
  const float *dy, *dx;   /* float32 */
} ec_resize_params;

/* UNIDIRECTIONAL_SEQUENCE_LSTM int8 and int16 (16x8): sizes, minus the zero points of input,
 * hidden state and weights, per gate (input, forget, cell, output) the input and recurrent
 * products' multipliers, the three elementwise products' multipliers, the hidden state's
 * zero point and range, the quantized cell clip (0: none), the cell tanh's input scaling, the
 * weights (int8), biases (int32 or int64) and TFLM's 256-entry sigmoid table. float32 uses the
 * sizes, the float cell clip (0: none), float weights and biases; the rest stays zero. */
typedef struct {
  int32_t batch, time, inputs, state, time_major;
  int32_t x_offset, h_offset, w_offset;
  int32_t x_multiplier[4], x_shift[4], h_multiplier[4], h_shift[4];
  int32_t forget_multiplier, forget_shift, input_multiplier, input_shift;
  int32_t hidden_multiplier, hidden_shift, hidden_zero_point, hidden_min, hidden_max;
  int32_t cell_clip, tanh_multiplier, tanh_shift;
  float cell_clip_f;
  const void *input_weights[4], *recurrent_weights[4], *bias[4];
  const uint16_t *sigmoid_table;
} ec_lstm_params;

/* TRANSPOSE_CONV: NHWC input and output, filter (out_c, filter_h, filter_w, in_c); per output
 * channel multipliers (int8, int16), the activation clamp as integers or floats. */
typedef struct {
  int32_t batches, in_h, in_w, in_c, out_h, out_w, out_c, filter_h, filter_w;
  int32_t stride_h, stride_w, pad_top, pad_left;
  int32_t input_offset, output_offset, act_min, act_max;
  const int32_t *multiplier, *shift;
  float act_min_f, act_max_f;
} ec_transpose_conv_params;

/* SVDF: sizes, zero points, the feature -> state and units -> output multipliers, the state
 * type's range (int8), the fused activation's float clamp (float32). */
typedef struct {
  int32_t batch, inputs, filters, units, rank, memory;
  int32_t input_zero_point, state_zero_point, output_zero_point;
  int32_t feature_multiplier, feature_shift, output_multiplier, output_shift, state_min, state_max;
  float act_min_f, act_max_f;
} ec_svdf_params;

/* CUMSUM (the input seen as (inner, depth, outer), summed along depth) and ADD_N (depth = the
 * element count): TFLM's int8 rescaling into a sum shifted left by 20. */
typedef struct {
  int32_t inner, depth, outer, exclusive, reverse;
  int32_t input_offset, input_multiplier, input_shift, output_multiplier, output_shift, output_zero_point;
} ec_sum_params;

/* EMBEDDING_LOOKUP: ids in [0, rows); rows of row_elems elements of elem_size bytes, or
 * (dequantize) int8 rows scaled into float32. */
typedef struct {
  int32_t count, rows, row_elems, elem_size, dequantize;
  float scale;
} ec_lookup_params;

/* --- kernels ---------------------------------------------------------------------------- */

void ec_conv_2d_s8(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                   const int32_t *bias, int8_t *output);
void ec_depthwise_conv_2d_s8(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                             const int32_t *bias, int8_t *output);
void ec_fully_connected_s8(const ec_fc_params *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, int8_t *output);
/* The DSP variants (ec_<kernel>_dsp.c, for cores with the DSP extension): the same results.
 * scratch: the buffer the memory plan gave the operator (see the kernel file), or NULL. */
void ec_conv_2d_dsp_s8(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                       const int32_t *bias, int8_t *output, int8_t *scratch);
void ec_depthwise_conv_2d_dsp_s8(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                                 const int32_t *bias, int8_t *output);
void ec_fully_connected_dsp_s8(const ec_fc_params *p, const int8_t *input, const int8_t *filter,
                               const int32_t *bias, int8_t *output, int8_t *scratch);
void ec_fully_connected_dsp_direct_s8(const ec_fc_params *p, const int8_t *input, const int8_t *filter,
                                      const int32_t *bias, int8_t *output);
/* The DSP quick cases (ec_<kernel>_quick_dsp.c), which the C generator picks for layers with
 * the int8 clamp, right shifts only and accumulators within int32. Their parameter block is
 * compact (halfword geometry and byte dilations, what the generator checks fit; batch: the
 * input's and output's n; out channels: output.c; the filter's channels: input.c) and points to the layer's tables, one word-aligned constant of
 * C = output.c channels the kernel finds its parts in (EC_QUICK_TABLES):
 *   int32 chan[4 ceil(C / 2)]: per pair of channels bias, bias, multiplier, multiplier (an odd
 *     last channel: bias, 0, multiplier, 0); bias: convolution bias + input offset x filter
 *     sums, depthwise the bias (zeros without one); multiplier 2 m - 2^32 (ec_requant_quick);
 *   uint8 rshift[EC_QUICK_SHIFT_BYTES(C)]: per channel -shift - 1, a byte each where the kernel
 *     is built with EC_QUICK_BYTE_SHIFTS, else two channels a byte (channel 2j in the low
 *     nibble, 2j + 1 in the high), padded to a word;
 *   int8 weights[]: convolution the filter in pairs of output channels, depthwise per four
 *     channels per tap (see the kernel files). */
typedef struct { int16_t h, w, c; } ec_dims16;
typedef struct {
  ec_dims16 input;
  struct { int16_t h, w; } filter;
  ec_dims16 output;
  int16_t batch, stride_h, stride_w, pad_h, pad_w;
  int16_t input_offset, output_offset;
  int8_t dilation_h, dilation_w;
  const int32_t *tables;
} ec_quick_params;
#define EC_QUICK_SHIFT_BYTES(c) ((((EC_QUICK_BYTE_SHIFTS) ? (c) : ((c) + 1) >> 1) + 3) & ~3)
/* The parts of a quick layer's tables of c channels (the kernel file defines EC_QUICK_BYTE_SHIFTS). */
#define EC_QUICK_TABLES(p, c, chan, rshift, weights)                                           \
  const int32_t *chan = (p)->tables;                                                          \
  const uint8_t *rshift = (const uint8_t *)(chan + 4 * (((c) + 1) >> 1));                      \
  const int8_t *weights = (const int8_t *)(rshift + EC_QUICK_SHIFT_BYTES(c))
void ec_conv_2d_quick_dsp_s8(const ec_quick_params *p, const int8_t *input, int8_t *output, int8_t *scratch);
void ec_depthwise_conv_2d_quick_dsp_s8(const ec_quick_params *p, const int8_t *input, int8_t *output);
/* The Helium variants (ec_<kernel>_mve.c, for Armv8.1-M cores with MVE: Cortex-M55, M85): the
 * same results. folded_bias: see ec_fully_connected_mve.c (never NULL). */
void ec_fully_connected_mve_s8(const ec_fc_params *p, const int8_t *input, const int8_t *filter,
                               const int32_t *folded_bias, int8_t *output);
void ec_conv_2d_mve_s8(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                       const int32_t *folded_bias, int8_t *output, int8_t *scratch);
void ec_add_mve_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);
void ec_sub_mve_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);
void ec_mul_mve_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);
int ec_average_pool_mve_s8(const ec_pool_params *p, const int8_t *input, int8_t *output);
void ec_max_pool_mve_s8(const ec_pool_params *p, const int8_t *input, int8_t *output);
void ec_depthwise_conv_2d_mve_s8(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                                 const int32_t *folded_bias, int8_t *output, int8_t *scratch);
/* windows up to 4 x 4, no dilation, horizontal stride 1 or 2, right shifts only: see
 * ec_depthwise_conv_2d_mve.c (filter: 16 bytes per channel; scratch: ch * 4 * columns bytes) */
void ec_depthwise_conv_2d_mve_rows_s8(const ec_conv_params *p, const int8_t *input, const int8_t *filter,
                                      const int32_t *folded_bias, int8_t *output, int8_t *scratch,
                                      int32_t columns);
/* 16x8 (ec_conv_s16.c): int16 activations, int8 filters. bias: int32_t when acc32 (int32
 * accumulators), else int64_t; NULL: none. */
void ec_conv_2d_s16(const ec_conv_params *p, const int16_t *input, const int8_t *filter,
                    const void *bias, int32_t acc32, int16_t *output);
void ec_depthwise_conv_2d_s16(const ec_conv_params *p, const int16_t *input, const int8_t *filter,
                              const int64_t *bias, int16_t *output);
void ec_fully_connected_s16(const ec_fc_params *p, const int16_t *input, const int8_t *filter,
                            const void *bias, int32_t acc32, int16_t *output);
void ec_batch_matmul_s16(const ec_fc_params *p, const int16_t *input, const int16_t *rhs,
                         const int64_t *bias, int16_t *output);
void ec_requantize(const ec_convert_params *p, const void *input, void *output);
void ec_quantize_f32(const ec_convert_params *p, const float *input, void *output);
void ec_dequantize(const ec_convert_params *p, const void *input, float *output);
/* int16 (ec_elementwise_s16.c, ec_pooling_s16.c, ec_activation_s16.c). kind: EC_ADD ..
 * EC_SQDIFF; pooling kind 0 average (returns -1 for an empty window), 1 maximum. */
void ec_binary_s16(const ec_binary_params *p, int32_t kind, const int16_t *input1, const int16_t *input2,
                   int16_t *output);
int ec_pool_s16(const ec_pool_params *p, int32_t kind, const int16_t *input, int16_t *output);
void ec_prelu(const ec_binary_params *p, int32_t in_bytes, const void *input, const int8_t *alpha,
              void *output);
void ec_select(const ec_select_params *p, const uint8_t *condition, const void *x, const void *y, void *output);
void ec_cast(int32_t size, int32_t in_type, int32_t out_type, const void *input, void *output);
void ec_mean_s16(const ec_mean_params *p, const int16_t *input, int16_t *output);
void ec_unary_s16(const ec_unary16_params *p, const int16_t *input, int16_t *output);
void ec_softmax_s16(const ec_softmax16_params *p, const int16_t *input, int16_t *output);
void ec_logistic_s16(int32_t size, int32_t multiplier, int32_t left_shift, const uint16_t *table,
                     const int16_t *input, int16_t *output);
void ec_tanh_s16(int32_t size, int32_t multiplier, int32_t left_shift, const uint16_t *table,
                 const int16_t *input, int16_t *output);
/* Returns 0, or -1 when a window holds no input (an empty average). */
int ec_average_pool_s8(const ec_pool_params *p, const int8_t *input, int8_t *output);
/* window = the whole image, VALID, one batch: input (pixels, ch), ch % 4 == 0, pixels <= 255 */
void ec_global_average_pool_s8(const int8_t *input, int8_t *output, int32_t pixels, int32_t ch, int32_t lo,
                               int32_t hi);
void ec_max_pool_s8(const ec_pool_params *p, const int8_t *input, int8_t *output);
void ec_softmax_s8(const ec_softmax_params *p, const int8_t *input, int8_t *output);
void ec_softmax_s8_s16(const ec_softmax_params *p, const int8_t *input, int16_t *output);
void ec_add_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);
void ec_sub_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);
void ec_add_table_s8(const ec_binary_params *p, const int32_t *table1, const int32_t *table2,
                     const int8_t *input1, const int8_t *input2, int8_t *output);
void ec_compare_s8(const ec_binary_params *p, int32_t op, const int32_t *table1, const int32_t *table2,
                   const int8_t *input1, const int8_t *input2, uint8_t *output);
void ec_logical_u8(const ec_binary_params *p, int32_t op, const uint8_t *input1, const uint8_t *input2,
                   uint8_t *output);
void ec_mul_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);
void ec_pad_s8(const ec_pad_params *p, const int8_t *input, int8_t *output);
void ec_mean_s8(const ec_mean_params *p, const int8_t *input, int8_t *output);
void ec_requantize_s8(const ec_requant_params *p, const int8_t *input, int8_t *output);
void ec_maximum_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);
void ec_minimum_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);
void ec_squared_difference_s8(const ec_binary_params *p, const int8_t *input1, const int8_t *input2,
                              int8_t *output);
void ec_copy_nd(const ec_copy_params *p, const void *input, void *output);
void ec_lut_s8(int32_t size, const int8_t *table, const int8_t *input, int8_t *output);
void ec_lut_s8_f32(int32_t size, const float *table, const int8_t *input, float *output);
void ec_resize_bilinear_s8(const ec_resize_params *p, const int8_t *input, int8_t *output);
void ec_resize_bilinear_f32(const ec_resize_params *p, const float *input, float *output);
/* The states are updated in place; scratch holds batch x state int16 values. */
void ec_lstm_s8(const ec_lstm_params *p, const int8_t *input, int8_t *hidden, int16_t *cell,
                int8_t *output, int16_t *scratch);
void ec_lstm_s16(const ec_lstm_params *p, const int16_t *input, int16_t *hidden, int16_t *cell,
                 int16_t *output, int16_t *scratch);
/* scratch: batch x state floats. */
void ec_lstm_f32(const ec_lstm_params *p, const float *input, float *hidden, float *cell, float *output,
                 float *scratch);
/* scratch: one int32 (s8) or int64 (s16) per output value; float32 sums in the output. */
void ec_transpose_conv_s8(const ec_transpose_conv_params *p, const int8_t *input, const int8_t *filter,
                          const int32_t *bias, int8_t *output, int32_t *scratch);
void ec_transpose_conv_s16(const ec_transpose_conv_params *p, const int16_t *input, const int8_t *filter,
                           const int64_t *bias, int16_t *output, int64_t *scratch);
void ec_transpose_conv_f32(const ec_transpose_conv_params *p, const float *input, const float *filter,
                           const float *bias, float *output);
/* The state is updated in place (kept between invokes). */
void ec_svdf_s8_s16(const ec_svdf_params *p, const int8_t *input, const int8_t *feature, const int16_t *time,
                    const int32_t *bias, int16_t *state, int8_t *output);
void ec_svdf_s8_s8(const ec_svdf_params *p, const int8_t *input, const int8_t *feature, const int8_t *time,
                   const int32_t *bias, int8_t *state, int8_t *output);
void ec_svdf_f32(const ec_svdf_params *p, const float *input, const float *feature, const float *time,
                 const float *bias, float *state, float *output);
void ec_cumsum_s8(const ec_sum_params *p, const int8_t *input, int8_t *output);
void ec_cumsum_f32(const ec_sum_params *p, const float *input, float *output);
void ec_add_n_s8(const ec_sum_params *p, int32_t n, const int8_t *const *inputs, int8_t *output);
void ec_add_n_f32(const ec_sum_params *p, int32_t n, const float *const *inputs, float *output);
/* Returns 0, or -1 for an id outside the table (TFLM's error). */
int ec_embedding_lookup(const ec_lookup_params *p, const int32_t *ids, const void *table, void *output);
void ec_dynamic_update_slice(const ec_dus_params *p, const void *operand, const void *update,
                             const void *starts, void *output);

/* float32 (ec_float_nn.c, ec_float_math.c): the int8 geometry blocks, the fused activation as a
 * float clamp. Pooling kind 0 average, 1 maximum. */
enum { EC_REDUCE_MEAN, EC_REDUCE_SUM, EC_REDUCE_MAX, EC_REDUCE_MIN, EC_REDUCE_ALL };
enum { EC_F_ABS, EC_F_NEG, EC_F_SQUARE, EC_F_SQRT, EC_F_RSQRT, EC_F_EXP, EC_F_LOG, EC_F_SIN, EC_F_COS,
       EC_F_CEIL, EC_F_FLOOR, EC_F_RELU, EC_F_RELU6, EC_F_TANH, EC_F_LOGISTIC, EC_F_ELU, EC_F_HARD_SWISH,
       EC_F_LEAKY_RELU, EC_F_ROUND };
/* Two-input kinds beyond EC_ADD .. EC_SQDIFF. */
enum { EC_F_DIV = 16, EC_F_FLOOR_DIV, EC_F_FLOOR_MOD, EC_F_PRELU };
void ec_conv_2d_f32(const ec_conv_params *p, float act_min, float act_max, const float *input,
                    const float *filter, const float *bias, float *output);
void ec_depthwise_conv_2d_f32(const ec_conv_params *p, float act_min, float act_max, const float *input,
                              const float *filter, const float *bias, float *output);
void ec_fully_connected_f32(const ec_fc_params *p, float act_min, float act_max, const float *input,
                            const float *filter, const float *bias, float *output);
void ec_pool_f32(const ec_pool_params *p, int32_t kind, float act_min, float act_max, const float *input,
                 float *output);
void ec_softmax_f32(int32_t rows, int32_t depth, float beta, const float *input, float *output);
void ec_reduce_f32(const ec_mean_params *p, int32_t kind, const float *input, float *output);
void ec_unary_f32(int32_t size, int32_t kind, float alpha, const float *input, float *output);
/* Along the last axis (rows x depth): LOG_SOFTMAX (kind 0), L2_NORMALIZATION (kind 1). */
void ec_matmul_f32(int32_t rows, int32_t depth, int32_t cols, int32_t adj_x, int32_t adj_y, const float *lhs,
                   const float *rhs, float *output);
void ec_rows_f32(int32_t rows, int32_t depth, int32_t kind, const float *input, float *output);
/* ARG_MAX (is_max 1) / ARG_MIN over the middle of (outer, axis, inner); int8 (is_int8) or float. */
void ec_arg_minmax(int32_t outer, int32_t axis, int32_t inner, int32_t is_max, int32_t is_int8,
                   const void *input, int32_t *output);
void ec_binary_f32(const ec_binary_params *p, int32_t kind, float act_min, float act_max, const float *input1,
                   const float *input2, float *output);
void ec_compare_f32(const ec_binary_params *p, int32_t kind, const float *input1, const float *input2,
                    uint8_t *output);

/* Unquantized integers (ec_int_math.c). kind: EC_ADD .. EC_SQDIFF or EC_F_DIV (returns -1 on a
 * zero divisor); comparisons: kind as ec_compare_f32, elements of 1 (bool), 4 or 8 bytes. */
int ec_binary_i32(const ec_binary_params *p, int32_t kind, const int32_t *input1, const int32_t *input2,
                  int32_t *output);
void ec_minmax_i64(const ec_binary_params *p, int32_t kind, const int64_t *input1, const int64_t *input2,
                   int64_t *output);
void ec_compare_int(const ec_binary_params *p, int32_t kind, int32_t bytes, const void *input1,
                    const void *input2, uint8_t *output);
/* EC_REDUCE_MAX / EC_REDUCE_MIN of int8 (raw values), EC_REDUCE_ALL of bool bytes. */
void ec_reduce_int(const ec_mean_params *p, int32_t kind, const void *input, void *output);

/* TFLite Micro's signal-library ops (ec_signal.c, ec_signal_fft.c), integer arithmetic as
 * edgecraft's runtime (ops/signal_*.py). A state array (the spectral subtraction's noise
 * estimate) is the generated model's, kept between invocations and zeroed by its reset. */
void ec_signal_window_s16(int32_t size, int32_t length, int32_t shift, const int16_t *input,
                          const int16_t *window, int16_t *output);
void ec_signal_fft_auto_scale_s16(int32_t size, const int16_t *input, int16_t *output, int32_t *bits);
void ec_signal_energy_s16(int32_t size, int32_t start, int32_t end, const int16_t *input, uint32_t *output);
typedef struct {
  int32_t channels, outputs;
  const int16_t *weights, *unweights, *freq_starts, *weight_starts, *widths;
} ec_filter_bank_params;
void ec_signal_filter_bank_u32(const ec_filter_bank_params *p, const uint32_t *input, uint64_t *output);
void ec_signal_filter_bank_sqrt_u64(int32_t size, const uint64_t *input, const int32_t *shift,
                                    uint32_t *output);
typedef struct {
  int32_t channels, outputs, noise_outputs, clamping, smoothing_bits, subtraction_bits;
  uint32_t smoothing, one_minus_smoothing, alternate_smoothing, alternate_one_minus_smoothing;
  uint32_t min_signal_remaining;
} ec_spectral_subtraction_params;
void ec_signal_spectral_subtraction_u32(const ec_spectral_subtraction_params *p, const uint32_t *input,
                                        uint32_t *noise, uint32_t *output, uint32_t *noise_output);
void ec_signal_pcan_u32(int32_t size, int32_t snr_shift, const uint32_t *input, const uint32_t *noise,
                        const int16_t *gain_lut, uint32_t *output);
void ec_signal_filter_bank_log_u32(int32_t size, int32_t correction_bits, uint32_t output_scale,
                                   const uint16_t *log_lut, const uint32_t *input, int16_t *output);
/* Real FFT and its inverse (KISS FFT's Q15 / Q31 / float32 arithmetic): rows of in_len samples,
 * zero-padded to nfft, each to nfft/2 + 1 (re, im) pairs, and back (nfft + 2 values in, nfft
 * out); the complex FFT of nfft/2 points runs in the output row. The plan (radices outermost
 * first; the digit-reversed input order, for the inverse where it puts each value; twiddles and
 * the real split's super twiddles as (re, im) pairs of the sample type) is computed at build time. */
typedef struct {
  int32_t rows, in_len, nfft, stages;
  int8_t radix[16];
  const uint16_t *order;
  const void *twiddles, *super_twiddles;
} ec_rfft_params;
void ec_signal_rfft_s16(const ec_rfft_params *p, const int16_t *input, int16_t *output);
void ec_signal_rfft_s32(const ec_rfft_params *p, const int32_t *input, int32_t *output);
void ec_signal_irfft_s16(const ec_rfft_params *p, const int16_t *input, int16_t *output);
void ec_signal_irfft_s32(const ec_rfft_params *p, const int32_t *input, int32_t *output);
void ec_signal_rfft_f32(const ec_rfft_params *p, const float *input, float *output);
void ec_signal_irfft_f32(const ec_rfft_params *p, const float *input, float *output);
/* The streaming ops (ec_signal_stream.c): held samples, counts and the last complete output are
 * state arrays of the model. */
void ec_signal_delay_s16(int32_t rows, int32_t length, int32_t delay, const int16_t *input, int16_t *held,
                         int16_t *output);
typedef struct {
  int32_t rows, length, frames, size, step;
} ec_framer_params;
void ec_signal_framer_s16(const ec_framer_params *p, const int16_t *input, int16_t *held, int32_t *held_len,
                          int16_t *frames, int16_t *output, uint8_t *valid);
typedef struct {
  int32_t channels, left, size, step, outputs;
} ec_stacker_params;
void ec_signal_stacker_s16(const ec_stacker_params *p, const int16_t *input, int16_t *held, int32_t *counts,
                           int16_t *stack, int16_t *output, uint8_t *valid);
void ec_signal_overlap_add_s16(int32_t rows, int32_t frames, int32_t size, int32_t step, const int16_t *input,
                               int16_t *state, int16_t *output);
void ec_signal_overlap_add_f32(int32_t rows, int32_t frames, int32_t size, int32_t step, const float *input,
                               float *state, float *output);

#ifdef __cplusplus
}
#endif

#endif /* EC_KERNELS_H */
