"""BROADCAST_TO: input 0 repeated to the constant shape input 1 (int32 or int64), numpy's
broadcasting; TFLM allows rank 5 at most and needs the input's rank not above the shape's."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError
from edgecraft.ops.broadcast import broadcast_shape


def broadcast_to_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """The constant shape, which the input must broadcast to."""
    x, shape_t = ctx.req_input(0), ctx.req_input(1)
    if shape_t.dtype not in ("int32", "int64") or len(shape_t.shape) != 1:
        raise OpError(f"BROADCAST_TO shape must be a 1-D int32 or int64 tensor, got {shape_t.dtype}")
    target = tuple(int(d) for d in ctx.const(1))
    if len(target) > 5 or len(x.shape) > len(target):
        raise OpError(f"BROADCAST_TO from {list(x.shape)} to {list(target)}: TFLM allows rank 5 at most "
                      "and no more input dimensions than output ones")
    if broadcast_shape(x.shape, target, 5) != target:
        raise OpError(f"BROADCAST_TO cannot broadcast {list(x.shape)} to {list(target)}")
    return [target]


def broadcast_to(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Any dtype: ``np.broadcast_to``."""
    out = ctx.output(0)
    return [np.broadcast_to(args[0], out.shape).astype(out.np_dtype)]


OP = OpDef(
    name="BROADCAST_TO",
    shape=broadcast_to_shape,
    code={"portable": ("ec_data_ops.c",)},  # a strided copy
    kernels=dict.fromkeys(("float32", "int8", "int16", "int32", "int64", "bool"), broadcast_to),
)
