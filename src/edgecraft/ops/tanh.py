"""TANH: y = tanh(x), elementwise.

int8 follows TFLM's ``tanh.cc`` and ``reference_integer_ops::Tanh``: the same input rescaling
to Q4.27 and saturation radius as LOGISTIC (see :func:`edgecraft.ops.logistic.input_params`),
gemmlowp's fixed-point tanh, and the Q0.31 result rounded to 1/128 steps with no offset. TFLM
checks nothing about the output quantization; the result means scale 1/128, zero point 0.
int16: see :func:`edgecraft.ops.logistic.int16_lut_params` and ``tanh_int16`` in ops/arith.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops import fixedpoint as fp
from edgecraft.ops.arith import rounding_divide_by_pot, tanh_int16
from edgecraft.ops.base import Cost, OpContext, OpDef, OpError
from edgecraft.ops.logistic import INPUT_INTEGER_BITS, int16_lut_params, rescale_input


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    return [tuple(ctx.req_input(0).shape)]


def tanh_int8(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x, out = ctx.req_input(0), ctx.output(0)
    if out.dtype != "int8":
        raise OpError(f"TANH with int8 input needs an int8 output, got {out.dtype}")
    q4, low, high = rescale_input(args[0], x.zero_point, x.scale)
    q0 = fp.tanh(q4, INPUT_INTEGER_BITS)
    y = np.clip(rounding_divide_by_pot(q0, 31 - 7), -128, 127)
    y = np.where(low, -128, np.where(high, 127, y))
    return [y.astype(np.int8)]


def tanh_16(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """int16: ``reference_integer_ops::Tanh`` (``2 sigmoid(2x) - 1`` from the sigmoid table)
    after the Prepare's input scaling (LOGISTIC's, with 2**-11 also a power-of-two case)."""
    multiplier, left_shift = ctx.memo("lut_params", lambda: int16_lut_params(ctx, (0, 1)))
    return [tanh_int16(args[0], multiplier, left_shift).astype(np.int16)]


def tanh_float32(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    return [np.tanh(np.asarray(args[0], dtype=np.float32))]


def cost(ctx: OpContext) -> Cost:
    """One evaluation of the function per element, counted as one MAC."""
    x, y = ctx.req_input(0), ctx.output(0)
    return Cost(x.size, x.nbytes, y.nbytes)


OP = OpDef(
    name="TANH",
    shape=shape,
    kernels={"int8": tanh_int8, "int16": tanh_16, "float32": tanh_float32},
    cost=cost,
    lookup=True,
    inplace=True,
    code={"portable": ("ec_data_ops.c",)},  # a 256-entry table
    state_bytes=24,
    fixed_output=(1.0 / 128.0, 0),
)
