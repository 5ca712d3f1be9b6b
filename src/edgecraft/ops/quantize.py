"""QUANTIZE: float32 to integers, or integers requantized to another scale, zero point or type.

As TFLM's ``quantize_common.cc``: from float32, ``round(x / scale) + zero_point`` with the
division in float32 and halves rounded away from zero; from an integer type, the offset input
is rescaled by ``s_in / s_out`` (multiplier computed in double) and offset by the output zero
point. Both saturate to the output type. Only per-tensor output quantization is supported.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ir.graph import Tensor
from edgecraft.ops.arith import multiply_by_quantized_multiplier, quantize_multiplier, round_half_away_array
from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.quant import dtype_range

_OUTPUT_DTYPES = ("int8", "uint8", "int16", "int32")


def _output(ctx: OpContext) -> Tensor:
    out = ctx.output(0)
    if out.quant is None or out.quant.per_channel:
        raise OpError(f"QUANTIZE output {out.name!r} needs one scale and zero point (per-tensor)")
    if out.dtype not in _OUTPUT_DTYPES:
        raise OpError(f"QUANTIZE cannot produce {out.dtype}; supported: {', '.join(_OUTPUT_DTYPES)}")
    return out


def quantize_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """float32 -> integer: ``clamp(round_half_away(x / scale) + zero_point)``."""
    out = _output(ctx)
    rounded = round_half_away_array(args[0].astype(np.float32) / np.float32(out.scale))
    lo, hi = dtype_range(out.dtype)
    # Clip before the integer conversion: C's float-to-int cast is undefined out of range.
    result = np.clip(rounded, -(2.0**31), 2.0**31 - 1).astype(np.int64) + out.zero_point
    return [np.clip(result, lo, hi).astype(out.np_dtype)]


def requantize(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """integer -> integer: ``clamp(MBQM(x - zp_in, s_in / s_out) + zp_out)``."""
    t, out = ctx.req_input(0), _output(ctx)
    multiplier, shift = quantize_multiplier(t.scale / out.scale)
    result = multiply_by_quantized_multiplier(args[0].astype(np.int64) - t.zero_point, multiplier, shift)
    lo, hi = dtype_range(out.dtype)
    return [np.clip(result + out.zero_point, lo, hi).astype(out.np_dtype)]


def quantize_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """The input's shape; checks the output's type and quantization up front."""
    _output(ctx)
    return [tuple(ctx.req_input(0).shape)]


OP = OpDef(
    name="QUANTIZE",
    shape=quantize_shape,
    kernels={"float32": quantize_float, **{d: requantize for d in ("int8", "uint8", "int16", "int32")}},
    lookup=True,
    inplace=True,
    code={"portable": ("ec_reshape_ops.c",)},
    state_bytes=16,
    options=Options("QuantizeOptions"),
)
