"""DYNAMIC_UPDATE_SLICE: the operand (input 0) with the update (input 1) written at the start
indices of input 2 (int32 or int64, one per dimension, read at run time), each clamped to
``[0, operand_dim - update_dim]`` as TFLM's ``CalculateClampedStartIndices`` does."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError

TYPES = ("float32", "int8", "int16", "int32", "int64", "bool")


def dus_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    x, u, idx = ctx.req_input(0), ctx.req_input(1), ctx.req_input(2)
    if u.dtype != x.dtype or len(u.shape) != len(x.shape):
        raise OpError(f"DYNAMIC_UPDATE_SLICE update {u.dtype} {list(u.shape)} must match the operand's "
                      f"type and rank ({x.dtype} {list(x.shape)})")
    if any(a > b for a, b in zip(u.shape, x.shape, strict=True)):
        raise OpError(f"DYNAMIC_UPDATE_SLICE update {list(u.shape)} is larger than the operand "
                      f"{list(x.shape)}")
    if idx.dtype not in ("int32", "int64") or tuple(idx.shape) != (len(x.shape),):
        raise OpError(f"DYNAMIC_UPDATE_SLICE start indices must be int32 or int64 [{len(x.shape)}], got "
                      f"{idx.dtype} {list(idx.shape)}")
    return [tuple(x.shape)]


def dynamic_update_slice(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x, u = np.asarray(args[0]), np.asarray(args[1])
    starts = np.asarray(args[2], np.int64).reshape(-1)
    out = x.copy()
    if u.size:
        begin = [int(min(max(0, s), d - k)) for s, d, k in zip(starts, x.shape, u.shape, strict=True)]
        out[tuple(slice(b, b + k) for b, k in zip(begin, u.shape, strict=True))] = u
    return [out]


OP = OpDef(
    name="DYNAMIC_UPDATE_SLICE",
    shape=dus_shape,
    kernels=dict.fromkeys(TYPES, dynamic_update_slice),
    code={"portable": ("ec_lookup.c", "ec_data_ops.c")},
)
