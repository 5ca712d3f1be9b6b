"""L2_NORMALIZATION: each row along the last axis divided by its L2 norm (rank 4 at most, no
fused activation), as TFLM's ``l2norm.cc``.

float32: the squares summed in float in order, ``sqrt``, at least ``1e-6``, then each value
divided by it. int8: the int32 sum of ``(x - zp)^2`` per row gives an inverse square root as a
quantized multiplier (TFLM's ``GetInvSqrtQuantizedMultiplierExp``: Newton-Raphson in gemmlowp
fixed point), applied to each ``x - zp`` with 7 more bits of left shift (the output is in 1/128
steps), clamped to int8. The output's quantization is not read: the converter gives it
(1/128, 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.arith import (
    multiply_by_quantized_multiplier,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
    saturating_rounding_multiply_by_pot,
    wrap_int32,
)
from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.unary import same_dtype_shape

INT32_MAX = (1 << 31) - 1


def inv_sqrt_multiplier_exp(value: int, reverse_shift: int = -1) -> tuple[int, int]:
    """TFLM's ``GetInvSqrtQuantizedMultiplierExp(value, reverse_shift)``: (multiplier, shift)
    with ``1 / sqrt(value)`` ~ ``multiplier * 2**(shift - 31)`` for ``reverse_shift = -1``."""
    if value <= 1:
        return INT32_MAX, 0
    shift = 11
    while value >= 1 << 29:
        value //= 4
        shift += 1
    left_pairs = (32 - value.bit_length() - 1) // 2 - 1
    shift -= left_pairs
    value <<= 2 * left_pairs
    srdhm = saturating_rounding_doubling_high_mul
    half_input = int(rounding_divide_by_pot(value >> 1, 1))  # F3, times 1/2
    half_three = (1 << 28) + (1 << 27)  # 1.5 in F3
    x = 1 << 28  # 1.0 in F3
    for _ in range(5):
        x3 = int(saturating_rounding_multiply_by_pot(srdhm(srdhm(x, x), x), 6))  # F9 -> F3
        x = int(saturating_rounding_multiply_by_pot(
            wrap_int32(int(srdhm(half_three, x)) - int(srdhm(half_input, x3))), 3))  # F6 -> F3
    x = int(srdhm(x, 1518500250))  # times sqrt(2) / 2 (F0)
    if shift < 0:
        x = int(wrap_int32(x << -shift))
        shift = 0
    return x, shift * reverse_shift


def l2_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """The input's shape (rank 4 at most); no fused activation."""
    if len(ctx.req_input(0).shape) > 4:
        raise OpError(f"L2_NORMALIZATION takes rank 4 at most, got {list(ctx.req_input(0).shape)}")
    if ctx.attrs.get("fused_activation_function", "NONE") != "NONE":
        raise OpError("L2_NORMALIZATION supports no fused activation (TFLM checks it)")
    return same_dtype_shape(ctx)


def l2_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """float32: ``x / max(sqrt(sum(x * x)), 1e-6)`` per row, summed in float in order."""
    x = np.asarray(args[0], np.float32)
    rows = x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1)
    acc = np.zeros(rows.shape[0], np.float32)
    for c in range(rows.shape[1]):
        acc = (acc + rows[:, c] * rows[:, c]).astype(np.float32)
    norm = np.maximum(np.sqrt(acc), np.float32(1e-6)).astype(np.float32)
    return [(rows / norm[:, None]).astype(np.float32).reshape(x.shape)]


def l2_int8(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """int8: TFLM's reference_integer_ops::L2Normalization."""
    t = ctx.req_input(0)
    if t.quant is None:
        raise OpError(f"int8 L2_NORMALIZATION input {t.name!r} has no quantization parameters")
    x = np.asarray(args[0]).astype(np.int64) - t.zero_point
    rows = x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1)
    out = np.empty(rows.shape, np.int8)
    for r, row in enumerate(rows):
        mult, shift = inv_sqrt_multiplier_exp(int((row * row).sum()))
        out[r] = np.clip(multiply_by_quantized_multiplier(row, mult, shift + 7), -128, 127)
    return [out.reshape(np.shape(args[0]))]


OP = OpDef(
    name="L2_NORMALIZATION",
    shape=l2_shape,
    kernels={"float32": l2_float, "int8": l2_int8},
    fixed_output=(1 / 128, 0),
    options=Options("L2NormOptions",
                    (("fused_activation_function", "FusedActivationFunction", "activation"),)),
)
