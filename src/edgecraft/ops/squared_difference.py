"""SQUARED_DIFFERENCE: ``(x - y)**2`` with broadcasting (up to 4-D for the quantized types), as
TFLM's ``squared_difference.cc``: float32, int32 (wrapping), int8 and int16.

int8/int16: each input, offset by its zero point and shifted left by ``left_shift`` (7 for
int8, 0 for int16, whose zero points must be 0), is scaled by ``s_i / (2 * max(s1, s2))``
(QuantizeMultiplierSmallerThanOneExp); the int32 difference is squared and scaled by
``(2 * max(s1, s2))**2 / (2**(2 * left_shift) * s_out)`` (QuantizeMultiplier), plus the output
zero point, clamped to the type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edgecraft.ops.arith import (
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_smaller_than_one,
    quantize_multiplier,
    quantize_multiplier_smaller_than_one_exp,
    wrap_int32,
)
from edgecraft.ops.base import OpContext, OpDef, OpError
from edgecraft.ops.broadcast import binary_shape, per_element_cost
from edgecraft.ops.quant import dtype_range


@dataclass(frozen=True)
class Params:
    """What TFLM's PrepareQuantized computes."""

    left_shift: int
    input1: tuple[int, int]
    input2: tuple[int, int]
    output: tuple[int, int]


def params(s1: float, s2: float, s_out: float, dtype: str) -> Params:
    left_shift = 7 if dtype == "int8" else 0
    twice_max = 2.0 * float(max(np.float32(s1), np.float32(s2)))
    # ``(1 << 2 * left_shift) * output_scale`` is a float32 product in TFLM's C.
    real_out = twice_max * twice_max / float(np.float32(1 << (left_shift * 2)) * np.float32(s_out))
    return Params(left_shift, quantize_multiplier_smaller_than_one_exp(float(s1) / twice_max),
                  quantize_multiplier_smaller_than_one_exp(float(s2) / twice_max),
                  quantize_multiplier(real_out))


def _broadcast(ctx: OpContext, args: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    shape = ctx.output(0).shape
    return (np.broadcast_to(np.asarray(args[0]), shape), np.broadcast_to(np.asarray(args[1]), shape))


def squared_difference_quantized(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    a, b, out = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if a.quant is None or b.quant is None or out.quant is None:
        raise OpError(f"{a.dtype} SQUARED_DIFFERENCE needs quantized inputs and output")
    if a.dtype == "int16" and (a.zero_point, b.zero_point, out.zero_point) != (0, 0, 0):
        raise OpError("int16 SQUARED_DIFFERENCE needs zero points of 0 (TFLM)")
    p = ctx.memo("params", lambda: params(a.scale, b.scale, out.scale, a.dtype))
    x, y = _broadcast(ctx, args)
    sx = multiply_by_quantized_multiplier_smaller_than_one(
        (x.astype(np.int64) - a.zero_point) << p.left_shift, *p.input1)
    sy = multiply_by_quantized_multiplier_smaller_than_one(
        (y.astype(np.int64) - b.zero_point) << p.left_shift, *p.input2)
    diff = wrap_int32(sx - sy)
    raw = multiply_by_quantized_multiplier(wrap_int32(diff * diff), *p.output) + out.zero_point
    lo, hi = dtype_range(out.dtype)
    return [np.clip(raw, lo, hi).astype(out.np_dtype)]


def squared_difference_int32(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x, y = _broadcast(ctx, args)
    diff = wrap_int32(x.astype(np.int64) - y.astype(np.int64))
    return [wrap_int32(diff * diff).astype(np.int32)]


def squared_difference_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x, y = _broadcast(ctx, args)
    diff = x.astype(np.float32) - y.astype(np.float32)
    return [(diff * diff).astype(np.float32)]


OP = OpDef(
    name="SQUARED_DIFFERENCE",
    shape=binary_shape(4),
    kernels={"int8": squared_difference_quantized, "int16": squared_difference_quantized,
             "int32": squared_difference_int32, "float32": squared_difference_float},
    cost=per_element_cost,
    inplace=True,
    code={"portable": ("ec_elementwise.c",)},
    state_bytes=40,
)
