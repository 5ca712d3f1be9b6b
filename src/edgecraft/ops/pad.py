"""PAD: surround a tensor with constant values; paddings is a constant (rank, 2) int tensor of
(before, after) counts per dimension.

The pad value is the output zero point (real 0.0) for int8 and 0 for float32, int16 and int32
(whatever the int16 quantization), as TFLM does; an optional third input (PADV2-style) gives the
value explicitly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options


def paddings(ctx: OpContext) -> np.ndarray:
    """The (rank, 2) paddings as int64; :class:`OpError` when they do not fit the input."""
    rank = len(ctx.req_input(0).shape)
    p = np.asarray(ctx.const(1)).astype(np.int64)
    if p.shape != (rank, 2):
        raise OpError(
            f"PAD paddings must have shape [{rank}, 2] for a rank-{rank} input, got {list(p.shape)}"
        )
    if (p < 0).any():
        raise OpError(f"PAD paddings must be non-negative, got {p.tolist()}")
    return p


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    p = paddings(ctx)
    return [tuple(int(d + b + a) for d, (b, a) in zip(ctx.req_input(0).shape, p, strict=True))]


def pad_value(ctx: OpContext, args: list[Any]) -> float:
    if len(args) > 2 and args[2] is not None:
        return float(np.asarray(args[2]).reshape(-1)[0])
    out = ctx.output(0)
    # TFLM pads int8 with the output zero point, int16 and int32 with 0 whatever their quantization.
    return float(out.zero_point) if out.dtype == "int8" else 0.0


def pad(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0])
    return [np.pad(x, paddings(ctx), constant_values=pad_value(ctx, args)).astype(x.dtype)]


OP = OpDef(
    name="PAD",
    shares_quant=True,
    shape=shape,
    kernels={"int8": pad, "int16": pad, "int32": pad, "float32": pad},
    code={"portable": ("ec_reshape_ops.c",)},
    state_bytes=8,
    options=Options("PadOptions"),
)
