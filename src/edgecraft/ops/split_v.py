"""SPLIT_V: cut input 0 along the constant ``axis`` (input 2) into parts of the sizes given by
the constant ``size_splits`` (input 1; one entry may be -1: the rest), as TFLM's
``split_v.cc`` (float32, int8, int16, int32)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.split import TYPES, check_type, cut, part_shapes, resolve_axis


def sizes(ctx: OpContext) -> tuple[int, list[int]]:
    """(axis, size of each part), the -1 entry resolved."""
    check_type(ctx, 0)
    x = ctx.req_input(0)
    axis = resolve_axis(ctx, ctx.const(2), len(x.shape))
    parts = [int(v) for v in np.asarray(ctx.const(1)).reshape(-1)]
    dim = x.shape[axis]
    if parts.count(-1) == 1:
        parts[parts.index(-1)] = dim - sum(p for p in parts if p != -1)
    if len(parts) != len(ctx.op.outputs) or any(p < 0 for p in parts) or sum(parts) != dim:
        raise OpError(f"SPLIT_V sizes {np.asarray(ctx.const(1)).reshape(-1).tolist()} do not cut "
                      f"dimension {dim} into {len(ctx.op.outputs)} outputs")
    return axis, parts


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    axis, parts = sizes(ctx)
    return part_shapes(ctx.req_input(0).shape, axis, parts)


def split_v(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    axis, parts = sizes(ctx)
    return cut(np.asarray(args[0]), axis, parts)


OP = OpDef(
    name="SPLIT_V",
    shape=shape,
    kernels=dict.fromkeys(TYPES, split_v),
    code={"portable": ("ec_data_ops.c",)},
    state_bytes=8,
    options=Options("SplitVOptions", (("num_splits", "NumSplits", "int"),)),
)
