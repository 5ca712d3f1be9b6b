"""PRELU: ``x >= 0 ? x : x * alpha``, alpha broadcast against x (rank 4 at most), as TFLM's
``prelu.cc``.

float32: as written. int8 (alpha int8) and int16 (alpha int8): ``x - zp_in`` rescaled by
``s_in / s_out`` when non-negative, else ``(x - zp_in) * (alpha - zp_alpha)`` rescaled by
``s_in * s_alpha / s_out`` (multipliers from double), plus ``zp_out``, clamped to the type.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.arith import multiply_by_quantized_multiplier, quantize_multiplier
from edgecraft.ops.base import OpContext, OpDef, OpError
from edgecraft.ops.broadcast import broadcast_shape
from edgecraft.ops.quant import dtype_range


def prelu_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """The broadcast of input and alpha; alpha int8 for the integer types."""
    x, alpha = ctx.req_input(0), ctx.req_input(1)
    want = "float32" if x.dtype == "float32" else "int8"
    if alpha.dtype != want:
        raise OpError(f"{x.dtype} PRELU needs a {want} alpha, got {alpha.dtype}")
    return [broadcast_shape(x.shape, alpha.shape, 4)]


def prelu_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """float32: ``x >= 0 ? x : x * alpha``."""
    x, a = np.asarray(args[0], np.float32), np.asarray(args[1], np.float32)
    out = np.where(x >= 0, x, (x * a).astype(np.float32))
    return [np.broadcast_to(out, ctx.output(0).shape).astype(np.float32)]


def _params(ctx: OpContext) -> tuple[tuple[int, int], tuple[int, int]]:
    x, a, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if x.quant is None or a.quant is None or y.quant is None:
        raise OpError(f"{x.dtype} PRELU needs quantized input, alpha and output")
    s_in, s_a, s_out = float(np.float32(x.scale)), float(np.float32(a.scale)), float(np.float32(y.scale))
    return quantize_multiplier(s_in / s_out), quantize_multiplier(s_in * s_a / s_out)


def prelu_quantized(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """int8/int16: TFLM's BroadcastPrelu4DSlow."""
    x, a, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    (m1, s1), (m2, s2) = ctx.memo("prelu", lambda: _params(ctx))
    xv = np.asarray(args[0]).astype(np.int64) - x.zero_point
    av = np.asarray(args[1]).astype(np.int64) - a.zero_point
    xv, av = np.broadcast_arrays(xv, av)
    out = np.where(xv >= 0, multiply_by_quantized_multiplier(xv, m1, s1),
                   multiply_by_quantized_multiplier(xv * av, m2, s2)) + y.zero_point
    lo, hi = dtype_range(y.dtype)
    return [np.clip(out, lo, hi).astype(y.np_dtype).reshape(y.shape)]


OP = OpDef(
    name="PRELU",
    shape=prelu_shape,
    kernels={"float32": prelu_float, "int8": prelu_quantized, "int16": prelu_quantized},
    code={"portable": ("ec_prelu.c",)},
)
