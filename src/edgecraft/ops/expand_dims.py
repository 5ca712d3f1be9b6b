"""EXPAND_DIMS: insert a dimension of size 1 at the axis given by a one-element int32 input
(negative: counted from the end of the output), as TFLM's ``expand_dims.cc`` (float32, int16,
int8). The bytes do not change: a view for the planner, no copy in C."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options

TYPES = ("float32", "int16", "int8")


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    dims = list(ctx.req_input(0).shape)
    axis_t = ctx.req_input(1)
    if axis_t.dtype != "int32" or axis_t.size != 1:
        raise OpError(f"EXPAND_DIMS axis must be one int32 value, got {axis_t.dtype} {list(axis_t.shape)}")
    axis = int(np.asarray(ctx.const(1)).reshape(-1)[0])
    if axis < 0:
        axis += len(dims) + 1
    if not 0 <= axis <= len(dims):
        raise OpError(f"EXPAND_DIMS axis {axis} is out of range for a rank-{len(dims)} input")
    return [tuple([*dims[:axis], 1, *dims[axis:]])]


def expand_dims(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Every type: the elements unchanged."""
    return [np.reshape(args[0], shape(ctx)[0])]


OP = OpDef(
    name="EXPAND_DIMS",
    shares_quant=True,
    shape=shape,
    kernels=dict.fromkeys(TYPES, expand_dims),
    view=True,
    options=Options("ExpandDimsOptions"),
)
