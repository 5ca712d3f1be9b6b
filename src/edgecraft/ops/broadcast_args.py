"""BROADCAST_ARGS: the shape two shapes broadcast to (inputs: 1-D int32 or int64 shapes, read at
run time; output: the same type, as long as the longer one). Incompatible shapes are an error
at run time, as in TFLM."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError


def broadcast_args_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    a, b, out = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if a.dtype not in ("int32", "int64") or b.dtype != a.dtype or out.dtype != a.dtype:
        raise OpError(f"BROADCAST_ARGS needs int32 or int64 shapes and output of one type, got "
                      f"{a.dtype}, {b.dtype} -> {out.dtype}")
    if len(a.shape) != 1 or len(b.shape) != 1:
        raise OpError("BROADCAST_ARGS inputs must be 1-D shapes")
    return [(max(a.shape[0], b.shape[0]),)]


def broadcast_args(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    a, b = (np.asarray(v).reshape(-1) for v in args[:2])
    n = max(len(a), len(b))
    a = np.concatenate([np.ones(n - len(a), a.dtype), a])
    b = np.concatenate([np.ones(n - len(b), b.dtype), b])
    if np.any((a != b) & (a != 1) & (b != 1)):
        raise OpError(f"BROADCAST_ARGS: shapes {a.tolist()} and {b.tolist()} do not broadcast")
    return [np.where(a == 1, b, a).astype(a.dtype)]


OP = OpDef(
    name="BROADCAST_ARGS",
    shape=broadcast_args_shape,
    kernels=dict.fromkeys(("int32", "int64"), broadcast_args),
)
