"""DIV: ``x / y`` with broadcasting (up to 5-D) and a fused activation, as TFLM's ``div.cc``:
float32, int32 (C division, truncating toward zero) and int8.

int8 (``reference_ops::Div``/``BroadcastDivSlowQuantized``): with ``a = x - zp1`` and
``b = y - zp2`` (both negated when ``b < 0``), ``1/b`` is GetReciprocal(b, 31) (a Q0.31 scale
and a shift), ``a`` is shifted up by its headroom (CountLeadingSignBits) and multiplied by it
(MultiplyByQuantizedMultiplierGreaterThanOne), then scaled by ``s1 / (s2 * s_out)`` (float32
arithmetic in TFLM's Prepare, QuantizeMultiplier of it) with the shift
``output_shift - recip_shift - headroom`` (MultiplyByQuantizedMultiplierSmallerThanOneExp),
plus the output zero point, clamped to the activation range. A small numerator has a large
headroom, which pushes that shift past 31 bits: undefined in C; edgecraft reproduces what the
installed TFLM build does there (x86-64 semantics, pinned by the randomized test). A divisor
equal to its zero point is a division by zero (a debug check in TFLM, undefined in its release
build): an error here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.arith import (
    quantize_multiplier,
    rounding_divide_by_pot_past_31,
    saturating_rounding_doubling_high_mul,
    wrap_int32,
)
from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.broadcast import activation, binary_shape, per_element_cost
from edgecraft.ops.fixedpoint import count_leading_zeros_u32, get_reciprocal
from edgecraft.ops.options import ACTIVATION
from edgecraft.ops.quant import float_activation, quantized_activation_range


def count_leading_sign_bits(x: np.ndarray) -> np.ndarray:
    """``CountLeadingSignBits`` of int32 values: redundant sign bits (31 for 0 and -1)."""
    x = np.asarray(x, np.int64)
    return count_leading_zeros_u32(np.where(x >= 0, x, ~x)) - 1


def _broadcast(ctx: OpContext, args: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    shape = ctx.output(0).shape
    return np.broadcast_to(np.asarray(args[0]), shape), np.broadcast_to(np.asarray(args[1]), shape)


def output_multiplier(s1: float, s2: float, s_out: float) -> tuple[int, int]:
    """``QuantizeMultiplier((double)(s1 / (s2 * s_out)))`` with float32 arithmetic inside."""
    real = np.float32(s1) / (np.float32(s2) * np.float32(s_out))
    return quantize_multiplier(float(real))


def div_int8(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    t1, t2, out = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if t1.quant is None or t2.quant is None or out.quant is None:
        raise OpError("int8 DIV needs quantized inputs and output")
    x, y = _broadcast(ctx, args)
    a = x.astype(np.int64) - t1.zero_point
    b = y.astype(np.int64) - t2.zero_point
    if (b == 0).any():
        raise OpError("DIV by zero: a divisor equals input 2's zero point")
    a, b = np.where(b < 0, -a, a), np.abs(b)
    recip, recip_shift = get_reciprocal(b, 31)
    headroom = count_leading_sign_bits(a)
    unscaled = saturating_rounding_doubling_high_mul(wrap_int32(a << headroom), recip)
    mult, shift = ctx.memo("multiplier", lambda: output_multiplier(t1.scale, t2.scale, out.scale))
    total_shift = shift - recip_shift - headroom
    scaled = saturating_rounding_doubling_high_mul(unscaled, mult)
    result = rounding_divide_by_pot_past_31(scaled, -total_shift)
    lo, hi = quantized_activation_range(activation(ctx), out.scale, out.zero_point)
    return [np.clip(result + out.zero_point, lo, hi).astype(np.int8)]


def div_int32(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x, y = (v.astype(np.int64) for v in _broadcast(ctx, args))
    if (y == 0).any():
        raise OpError("DIV by zero in int32 division")
    q = np.abs(x) // np.abs(y) * np.sign(x) * np.sign(y)  # C truncates toward zero
    return [wrap_int32(q).astype(np.int32)]


def div_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x, y = _broadcast(ctx, args)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = x.astype(np.float32) / y.astype(np.float32)
    return [float_activation(q, activation(ctx)).astype(np.float32)]


OP = OpDef(
    name="DIV",
    shape=binary_shape(5),
    kernels={"int8": div_int8, "int32": div_int32, "float32": div_float},
    cost=per_element_cost,
    inplace=True,
    state_bytes=32,
    options=Options("DivOptions", (ACTIVATION,)),
)
