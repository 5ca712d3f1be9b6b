"""LOG_SOFTMAX: ``x - max - log(sum(exp(x - max)))`` along the last axis, as TFLM's reference
``LogSoftmax`` for float32: the row maximum, the exponentials summed in float in order, one
``log``. Each ``exp`` and the ``log`` are taken in double and rounded once to float32 (within an
ulp of the C library's).

int8 is TFLM's ``LogSoftmaxQuantized``: differences from the row maximum scaled to Q5.26 (the
softmax input multiplier, beta 1), their exponentials summed in Q12.19, the log of the sum in
Q5.26 (``log_x_for_x_greater_than_or_equal_to_1``: gemmlowp fixed point), and each output
``(diff - log_sum) / 2**22 + 127``; differences at or below the adjusted minimum give -128.
The output is fixed at scale 16/256, zero point 127 (TFLM checks it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops import fixedpoint as fp
from edgecraft.ops.arith import (
    INT32_MAX,
    multiply_by_quantized_multiplier,
    quantize_multiplier_smaller_than_one_exp,
    rounding_divide_by_pot,
    rounding_half_sum,
    saturating_rounding_multiply_by_pot,
    wrap_int32,
)
from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.softmax import input_params
from edgecraft.ops.unary import same_dtype_shape

OUTPUT = (16 / 256, 127)
INT32_MIN = -(1 << 31)


def _clz(x: int) -> int:
    return 32 - (x & 0xFFFFFFFF).bit_length()


def _sat(x: int) -> int:
    return max(INT32_MIN, min(INT32_MAX, x))


def log_x_ge_1(raw: int, input_bits: int, output_bits: int) -> int:
    """``log_x_for_x_greater_than_or_equal_to_1_impl<output_bits, input_bits>`` on a raw int32:
    the natural log, raw in Q``output_bits``."""
    acc_bits = output_bits + 1
    m = fp.mul
    log_2, sqrt_sqrt_half, sqrt_half, one_quarter = 1488522236, 1805811301, 1518500250, 536870912
    alpha_n, alpha_d, alpha_i, alpha_f = 117049297, 127690142, 1057819769, 638450708
    shifted_quarter = int(saturating_rounding_multiply_by_pot(one_quarter, -acc_bits))  # Rescale
    z_a = raw
    z_a_headroom_plus_1 = _clz(z_a)
    r_a_tmp = int(saturating_rounding_multiply_by_pot(z_a, z_a_headroom_plus_1 - 1))
    r_a = int(saturating_rounding_multiply_by_pot(m(r_a_tmp, sqrt_half), 1))
    z_a_pow_2_adj = _sat(int(saturating_rounding_multiply_by_pot(input_bits - z_a_headroom_plus_1,
                                                                 31 - acc_bits)) + shifted_quarter)
    z_b = int(m(z_a, sqrt_half))
    z_b_headroom = _clz(z_b) - 1
    r_b = int(saturating_rounding_multiply_by_pot(z_a, z_b_headroom))
    z_b_pow_2_adj = _sat(int(saturating_rounding_multiply_by_pot(input_bits - z_b_headroom,
                                                                 31 - acc_bits)) - shifted_quarter)
    r = min(r_a, r_b)
    z_pow_2_adj = max(z_a_pow_2_adj, z_b_pow_2_adj)
    p = int(rounding_half_sum(r, sqrt_sqrt_half))
    q = int(fp.sub(r, sqrt_sqrt_half))
    q = int(fp.add(q, q))
    common_sq = int(m(q, q))
    num = int(fp.add(m(q, r), m(m(q, common_sq), alpha_n)))
    denom_minus_one = int(fp.add(m(p, fp.add(fp.add(alpha_i, q), m(alpha_d, common_sq))), m(alpha_f, q)))
    recip_denom = int(fp.one_over_one_plus_x_for_x_in_0_1(np.asarray(denom_minus_one, np.int64)))
    num_scaled = int(saturating_rounding_multiply_by_pot(num, -acc_bits))
    total = int(fp.add(m(z_pow_2_adj, log_2), m(num_scaled, recip_denom)))
    return int(saturating_rounding_multiply_by_pot(total, acc_bits - output_bits))


def _int8_params(ctx: OpContext) -> tuple[int, int, int, int, int]:
    x, y = ctx.req_input(0), ctx.output(0)
    if x.quant is None or y.quant is None or (np.float32(y.scale), y.zero_point) != (
            np.float32(OUTPUT[0]), OUTPUT[1]):
        raise OpError("int8 LOG_SOFTMAX needs a quantized input and the output at scale 16/256, "
                      "zero point 127 (TFLM checks it)")
    multiplier, left_shift, diff_min = input_params(1.0, float(np.float32(x.scale)))
    divisor, reverse_shift = quantize_multiplier_smaller_than_one_exp(
        (1 << (31 - left_shift)) / float(multiplier))
    return multiplier, left_shift, diff_min, divisor, reverse_shift


def log_softmax_int8(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """int8: TFLM's LogSoftmaxQuantized, row by row along the last axis."""
    multiplier, left_shift, diff_min, divisor, reverse_shift = ctx.memo("log_softmax",
                                                                        lambda: _int8_params(ctx))
    x = np.asarray(args[0]).astype(np.int64)
    rows = x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1)
    out = np.empty(rows.shape, np.int8)
    for i, row in enumerate(rows):
        diff = row - row.max()
        scaled = multiply_by_quantized_multiplier(diff, multiplier, left_shift)
        exps = fp.rescale(fp.exp_on_negative_values(scaled, 5), 0, 12)
        total = 0
        for keep, e in zip(diff >= diff_min, exps.tolist(), strict=True):
            if keep:
                total = int(wrap_int32(total + e))
        log_sum = log_x_ge_1(total, 12, 5)
        adjusted = max(diff_min - 1, int(multiply_by_quantized_multiplier(
            int(wrap_int32(log_sum + INT32_MIN)), divisor, reverse_shift)))
        value = rounding_divide_by_pot(wrap_int32(scaled - log_sum), 31 - 5 - 4) + 127
        out[i] = np.where(diff > adjusted, np.clip(value, -128, 127), -128)
    return [out.reshape(np.shape(args[0]))]


def log_softmax_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """float32, row by row along the last axis."""
    x = np.asarray(args[0], np.float32)
    rows = x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1)
    top = rows.max(axis=1)
    diffs = (rows - top[:, None]).astype(np.float32)
    exps = np.exp(diffs.astype(np.float64)).astype(np.float32)
    total = np.zeros(rows.shape[0], np.float32)
    for c in range(rows.shape[1]):
        total = (total + exps[:, c]).astype(np.float32)
    log_sum = np.log(total.astype(np.float64)).astype(np.float32)
    out = ((rows - top[:, None]).astype(np.float32) - log_sum[:, None]).astype(np.float32)
    return [out.reshape(x.shape)]


OP = OpDef(
    name="LOG_SOFTMAX",
    shape=same_dtype_shape,
    kernels={"float32": log_softmax_float, "int8": log_softmax_int8},
    fixed_output=OUTPUT,
    options=Options("LogSoftmaxOptions"),
)
