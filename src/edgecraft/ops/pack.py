"""PACK: stack ``values_count`` tensors of one shape along a new ``axis`` (TFLM's ``pack.cc``:
float32, int8, int16, int32, int64)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options

TYPES = ("float32", "int8", "int16", "int32", "int64")


def axis_of(ctx: OpContext) -> int:
    first = ctx.req_input(0)
    rank = len(first.shape) + 1
    axis = int(ctx.attrs.get("axis", 0))
    if not -rank <= axis < rank:
        raise OpError(f"PACK axis {axis} is out of range for rank-{rank} output")
    for i in range(ctx.num_inputs):
        t = ctx.req_input(i)
        if t.shape != first.shape or t.dtype != first.dtype:
            raise OpError(f"PACK inputs differ: {list(first.shape)} {first.dtype} and "
                          f"{list(t.shape)} {t.dtype}")
    count = int(ctx.attrs.get("values_count", ctx.num_inputs))
    if count != ctx.num_inputs:
        raise OpError(f"PACK values_count {count} but {ctx.num_inputs} inputs")
    return axis % rank


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    axis = axis_of(ctx)
    dims = list(ctx.req_input(0).shape)
    return [tuple([*dims[:axis], ctx.num_inputs, *dims[axis:]])]


def pack(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    return [np.stack([np.asarray(a) for a in args], axis=axis_of(ctx))]


OP = OpDef(
    name="PACK",
    shape=shape,
    kernels=dict.fromkeys(TYPES, pack),
    code={"portable": ("ec_data_ops.c",)},
    state_bytes=8,
    options=Options("PackOptions", (("values_count", "ValuesCount", "int"), ("axis", "Axis", "int"))),
)
