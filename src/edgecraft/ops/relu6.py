"""RELU6: ``min(max(x, 0), 6)``.

Unlike RELU, TFLM's int8/int16 RELU6 does not rescale: it clamps the stored integers between
the input's zero point and the input's quantized 6 (``round(6 / s_in) + zp_in``, saturated),
so the output must share the input's quantization (the converter ensures it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.arith import round_half_away
from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.quant import dtype_range
from edgecraft.ops.relu import same_shape


def relu6_quantized(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """``clamp(x, zp_in, q(6))`` on the stored integers."""
    t = ctx.req_input(0)
    qmin, qmax = dtype_range(t.dtype)
    # FloatToQuantizedType: the division in float32, then round half away from zero.
    six = min(max(round_half_away(float(np.float32(6.0) / np.float32(t.scale))) + t.zero_point, qmin), qmax)
    return [np.clip(args[0], t.zero_point, six).astype(ctx.output(0).np_dtype)]


def relu6_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """float32: ``x > 6 ? 6 : x < 0 ? 0 : x``."""
    return [np.clip(args[0].astype(np.float32), np.float32(0), np.float32(6))]


OP = OpDef(
    name="RELU6",
    shape=same_shape,
    kernels={"int8": relu6_quantized, "int16": relu6_quantized, "float32": relu6_float},
    lookup=True,
    inplace=True,
    code={"portable": ("ec_data_ops.c",)},  # a 256-entry table
    state_bytes=16,
)
