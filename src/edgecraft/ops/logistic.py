"""LOGISTIC: y = 1 / (1 + exp(-x)), elementwise.

int8 follows TFLM's ``logistic_common.cc`` (Prepare) and ``reference_integer_ops::Logistic``:
the input, less its zero point, is rescaled to Q4.27 (``input_multiplier``,
``input_left_shift`` from ``frexp`` of ``scale * 2**27`` in double), inputs beyond
``input_range_radius`` saturate, the rest go through gemmlowp's fixed-point logistic; the
Q0.31 result is rounded to 1/256 steps and offset by -128. TFLM requires the output zero point
to be -128 and assumes (does not check) the scale 1/256.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from edgecraft.ops import fixedpoint as fp
from edgecraft.ops.arith import multiply_by_quantized_multiplier, round_half_away, rounding_divide_by_pot
from edgecraft.ops.base import Cost, OpContext, OpDef, OpError

INPUT_INTEGER_BITS = 4  # the fixed-point input is Q4.27: |x| < 16


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    return [tuple(ctx.req_input(0).shape)]


def input_params(scale: float, integer_bits: int = INPUT_INTEGER_BITS) -> tuple[int, int, int]:
    """``(input_multiplier, input_left_shift, input_range_radius)`` as TFLM's Prepare computes
    them for LOGISTIC and TANH: Q``integer_bits`` input, radius ``CalculateInputRadius``."""
    # TFLM's Prepare rounds frexp's mantissa itself (not QuantizeMultiplier: no renormalizing).
    q, left_shift = math.frexp(scale * (1 << (31 - integer_bits)))
    multiplier = round_half_away(q * (1 << 31))
    # C divides by (1LL << left_shift). Scales below 2**-27 make that shift negative, which
    # x86-64 (where the reference runs) masks to 6 bits, in signed int64; replicate that.
    divisor = 1 << (left_shift & 63)
    divisor -= (divisor >> 63) << 64
    radius = ((1 << integer_bits) - 1) * (1 << (31 - integer_bits)) / float(divisor)
    return multiplier, left_shift, math.floor(radius)


def rescale_input(x: np.ndarray, zero_point: int, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input less zero point in Q4.27, and masks of the inputs that saturate low and high."""
    multiplier, left_shift, radius = input_params(scale)
    diff = x.astype(np.int64) - zero_point
    low, high = diff <= -radius, diff >= radius
    inside = np.where(low | high, 0, diff)  # saturated lanes never reach the multiply
    return multiply_by_quantized_multiplier(inside, multiplier, left_shift), low, high


def logistic_int8(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x, out = ctx.req_input(0), ctx.output(0)
    if out.dtype != "int8":
        raise OpError(f"LOGISTIC with int8 input needs an int8 output, got {out.dtype}")
    if out.zero_point != -128:
        raise OpError(f"LOGISTIC int8 output must have zero point -128 (scale 1/256), got {out.zero_point}")
    q4, low, high = rescale_input(args[0], x.zero_point, x.scale)
    q0 = fp.logistic(q4, INPUT_INTEGER_BITS)
    y = np.clip(rounding_divide_by_pot(q0, 31 - 8) - 128, -128, 127)
    y = np.where(low, -128, np.where(high, 127, y))
    return [y.astype(np.int8)]


def logistic_float32(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    # TFLM's reference: exact 1 above 16.619..., exp(x) below -9, else 1 / (1 + exp(-x)).
    x = np.asarray(args[0], dtype=np.float32)
    with np.errstate(over="ignore"):  # both branches are computed for every element
        mid = np.float32(1) / (np.float32(1) + np.exp(-x))
        low = np.exp(x)
    y = np.where(x > np.float32(16.619047164916992), np.float32(1), np.where(x < np.float32(-9), low, mid))
    return [y.astype(np.float32)]


def cost(ctx: OpContext) -> Cost:
    """One evaluation of the function per element, counted as one MAC."""
    x, y = ctx.req_input(0), ctx.output(0)
    return Cost(x.size, x.nbytes, y.nbytes)


OP = OpDef(
    name="LOGISTIC",
    shape=shape,
    kernels={"int8": logistic_int8, "float32": logistic_float32},
    cost=cost,
    lookup=True,
    inplace=True,
    code={"portable": ("ec_data_ops.c",)},  # a 256-entry table
    state_bytes=24,
    fixed_output=(1.0 / 256.0, -128),
)
