"""LOGISTIC: y = 1 / (1 + exp(-x)), elementwise.

int8 follows TFLM's ``logistic_common.cc`` (Prepare) and ``reference_integer_ops::Logistic``:
the input, less its zero point, is rescaled to Q4.27 (``input_multiplier``,
``input_left_shift`` from ``frexp`` of ``scale * 2**27`` in double), inputs beyond
``input_range_radius`` saturate, the rest go through gemmlowp's fixed-point logistic; the
Q0.31 result is rounded to 1/256 steps and offset by -128. TFLM requires the output zero point
to be -128 and assumes (does not check) the scale 1/256. int16 follows the int16 Prepare and
``reference_integer_ops::Logistic``: zero points 0, output scale 2**-15, the input scaled to
1/(3 * 4096) and looked up in TFLM's 256-entry sigmoid table with interpolation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from edgecraft.ops import fixedpoint as fp
from edgecraft.ops.arith import (
    logistic_int16,
    multiply_by_quantized_multiplier,
    round_half_away,
    rounding_divide_by_pot,
)
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


def checked_log2(x: float) -> tuple[bool, int]:
    """TFLM's ``CheckedLog2``: (whether ``x`` is a power of two, within 1e-3 of an integer
    log2 in float32, and that rounded log2)."""
    log2 = np.float32(np.log(np.float32(x))) * np.float32(1.0 / np.float32(np.log(np.float32(2.0))))
    rounded = round_half_away(float(log2))
    return abs(float(np.float32(log2 - np.float32(rounded)))) < 1e-3, rounded


def int16_lut_params(ctx: OpContext, pot_shifts: tuple[int, ...]) -> tuple[int, int]:
    """``(input_multiplier, input_left_shift)`` of the int16 LOGISTIC (``pot_shifts`` (0,)) and
    TANH ((0, 1)) Prepare: zero points 0 and an output scale of 2**-15 required; an input scale
    of 2**-12 (TANH also 2**-11) gives multiplier 0 (the kernel's power-of-two case), any other
    ``scale * 3 * 4096`` doubled until above 32767 / 2, counting the doublings as the shift."""
    x, out = ctx.req_input(0), ctx.output(0)
    if out.dtype != "int16":
        raise OpError(f"{ctx.op.type} with int16 input needs an int16 output, got {out.dtype}")
    if x.zero_point != 0 or out.zero_point != 0:
        raise OpError(f"{ctx.op.type} int16 needs zero points of 0 on input and output")
    pot_out, out_log2 = checked_log2(out.scale)
    if not pot_out or out_log2 != -15:
        raise OpError(f"{ctx.op.type} int16 output needs scale 2**-15, got {out.scale:g}")
    pot, log2 = checked_log2(x.scale)
    left_shift = 12 + log2
    if pot and left_shift in pot_shifts:
        return 0, left_shift
    multiplier = float(np.float32(x.scale)) * 4096.0 * 3.0
    left_shift = 0
    while multiplier <= 32767.0 / 2.0 and left_shift <= 30:
        left_shift += 1
        multiplier *= 2.0
    if multiplier > 32767:
        raise OpError(f"{ctx.op.type} int16 input scale {x.scale:g} is too large (TFLM needs its multiplier "
                      "to fit 15 bits)")
    return int(multiplier), left_shift


def logistic_16(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """int16: ``reference_integer_ops::Logistic`` (the sigmoid table, interpolated) after the
    Prepare's input scaling."""
    multiplier, left_shift = ctx.memo("lut_params", lambda: int16_lut_params(ctx, (0,)))
    return [logistic_int16(args[0], multiplier, left_shift).astype(np.int16)]


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
    kernels={"int8": logistic_int8, "int16": logistic_16, "float32": logistic_float32},
    cost=cost,
    lookup=True,
    inplace=True,
    code={"portable": ("ec_data_ops.c",)},  # a 256-entry table
    state_bytes=24,
    fixed_output=(1.0 / 256.0, -128),
)
