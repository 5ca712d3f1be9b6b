"""DEQUANTIZE: integers to float32, ``float32(double(scale) * (q - zero_point))``.

As TFLM's ``dequantize.h``: the product is formed in double and rounded once to float32.
Per-channel inputs (constant weights) use the scale and zero point of their channel.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options


def dequantize(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """int8/int16/uint8 -> float32."""
    t = ctx.req_input(0)
    q = t.quant
    assert q is not None  # checked by the shape rule
    # Per-tensor parameters broadcast as scalars; per-channel ones along the quantized axis.
    where = [1] * len(t.shape)
    if q.per_channel:
        # A rank-1 tensor's only axis is 0, whatever its (odd, validated) quantized dimension.
        where[q.axis if q.axis < len(where) else 0] = len(q.scale)
    scale = q.scale.astype(np.float64).reshape(where if q.per_channel else ())
    zero_point = q.zero_point.reshape(where if q.per_channel else ())
    return [(scale * (args[0].astype(np.int64) - zero_point)).astype(np.float32)]


def dequantize_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """The input's shape; the input must carry quantization parameters."""
    t = ctx.req_input(0)
    if t.quant is None:
        raise OpError(f"DEQUANTIZE input {t.name!r} has no quantization parameters")
    return [tuple(t.shape)]


OP = OpDef(
    name="DEQUANTIZE",
    shape=dequantize_shape,
    kernels={d: dequantize for d in ("int8", "int16", "uint8")},
    lookup=True,
    code={"portable": ("ec_data_ops.c",)},  # a 256-entry table
    state_bytes=16,
    options=Options("DequantizeOptions"),
)
