"""GATHER: entries of input 0 along ``axis`` at the int32 positions of input 1, with
``batch_dims`` leading dimensions shared (TFLM's ``gather.cc``: float32 and int8 data, int32
positions; a position outside the axis is an error, as in TFLM)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options

TYPES = ("float32", "int8")


def geometry(ctx: OpContext) -> tuple[int, int]:
    """(axis, batch_dims), resolved and checked as TFLM's Prepare does."""
    x, pos = ctx.req_input(0), ctx.req_input(1)
    if pos.dtype != "int32":
        raise OpError(f"GATHER positions must be int32 (TFLM), got {pos.dtype}")
    axis, batch = int(ctx.attrs.get("axis", 0)), int(ctx.attrs.get("batch_dims", 0))
    axis += len(x.shape) if axis < 0 else 0
    batch += len(pos.shape) if batch < 0 else 0
    if not (0 <= axis < len(x.shape) and 0 <= batch <= axis and batch < len(x.shape)
            and batch <= len(pos.shape) and x.shape[:batch] == pos.shape[:batch]):
        raise OpError(f"GATHER axis {axis} and batch_dims {batch} do not fit input {list(x.shape)} "
                      f"and positions {list(pos.shape)}")
    return axis, batch


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    axis, batch = geometry(ctx)
    x, pos = ctx.req_input(0).shape, ctx.req_input(1).shape
    return [tuple(x[:axis]) + tuple(pos[batch:]) + tuple(x[axis + 1:])]


def gather(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Per batch index, ``take`` along the axis."""
    axis, batch = geometry(ctx)
    x, pos = np.asarray(args[0]), np.asarray(args[1]).astype(np.int64)
    if pos.size and (pos.min() < 0 or pos.max() >= x.shape[axis]):
        raise OpError(f"GATHER position outside 0..{x.shape[axis] - 1}: {pos.min()}..{pos.max()}")
    lead = int(np.prod(x.shape[:batch], dtype=np.int64))
    xb = x.reshape((lead, *x.shape[batch:]))
    pb = pos.reshape((lead, *pos.shape[batch:]))
    out = [np.take(xb[b], pb[b], axis=axis - batch) for b in range(lead)]
    return [np.stack(out).reshape(ctx.output(0).shape)]


OP = OpDef(
    name="GATHER",
    shape=shape,
    kernels=dict.fromkeys(TYPES, gather),
    code={"portable": ("ec_data_ops.c",)},
    state_bytes=8,
    options=Options("GatherOptions", (("axis", "Axis", "int"), ("batch_dims", "BatchDims", "int"))),
)
