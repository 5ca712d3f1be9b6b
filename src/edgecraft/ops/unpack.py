"""UNPACK: the ``num`` slices of input 0 along ``axis``, that axis removed (TFLM's
``unpack.cc``: float32, int32, int16, int8)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options

TYPES = ("float32", "int32", "int16", "int8")


def axis_of(ctx: OpContext) -> int:
    x = ctx.req_input(0)
    rank = len(x.shape)
    axis = int(ctx.attrs.get("axis", 0))
    if not -rank <= axis < rank:
        raise OpError(f"UNPACK axis {axis} is out of range for a rank-{rank} input")
    axis %= rank
    num = int(ctx.attrs.get("num", x.shape[axis]))
    if num != x.shape[axis] or num != len(ctx.op.outputs):
        raise OpError(f"UNPACK num {num}, dimension {x.shape[axis]} and {len(ctx.op.outputs)} "
                      "outputs disagree")
    return axis


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    axis = axis_of(ctx)
    dims = tuple(d for i, d in enumerate(ctx.req_input(0).shape) if i != axis)
    return [dims] * len(ctx.op.outputs)


def unpack(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0])
    axis = axis_of(ctx)
    return [np.ascontiguousarray(np.take(x, i, axis=axis)) for i in range(x.shape[axis])]


OP = OpDef(
    name="UNPACK",
    shape=shape,
    kernels=dict.fromkeys(TYPES, unpack),
    code={"portable": ("ec_data_ops.c",)},
    state_bytes=8,
    options=Options("UnpackOptions", (("num", "Num", "int"), ("axis", "Axis", "int"))),
)
