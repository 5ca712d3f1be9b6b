"""SPLIT: cut the data input (input 1) into ``num_splits`` equal parts along the constant
``axis`` (input 0), as TFLM's ``split.cc`` (float32, int8, int16, int32)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options

TYPES = ("float32", "int8", "int16", "int32")


def resolve_axis(ctx: OpContext, value: Any, rank: int) -> int:
    """A scalar axis in ``[-rank, rank)`` as a non-negative index."""
    axis = int(np.asarray(value).reshape(-1)[0])
    if not -rank <= axis < rank:
        raise OpError(f"{ctx.op.type} axis {axis} is out of range for a rank-{rank} input")
    return axis % rank


def check_type(ctx: OpContext, k: int) -> None:
    t = ctx.req_input(k)
    if t.dtype not in TYPES:
        raise OpError(f"{ctx.op.type} has no {t.dtype} kernel (supported: {', '.join(TYPES)})")


def sizes(ctx: OpContext) -> tuple[int, list[int]]:
    """(axis, size of each part)."""
    check_type(ctx, 1)
    x = ctx.req_input(1)
    axis = resolve_axis(ctx, ctx.const(0), len(x.shape))
    n = len(ctx.op.outputs)  # TFLM splits into as many parts as there are outputs
    if n < 1 or x.shape[axis] % n:
        raise OpError(f"SPLIT of dimension {x.shape[axis]} into {n} equal parts is not possible")
    return axis, [x.shape[axis] // n] * n


def part_shapes(shape: tuple[int, ...], axis: int, parts: list[int]) -> list[tuple[int, ...]]:
    return [tuple(p if i == axis else d for i, d in enumerate(shape)) for p in parts]


def split_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    axis, parts = sizes(ctx)
    return part_shapes(ctx.req_input(1).shape, axis, parts)


def cut(x: np.ndarray, axis: int, parts: list[int]) -> list[np.ndarray]:
    """``x`` cut along ``axis`` into consecutive parts of the given sizes."""
    return [np.ascontiguousarray(p) for p in np.split(x, np.cumsum(parts)[:-1].tolist(), axis=axis)]


def split(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    axis, parts = sizes(ctx)
    return cut(np.asarray(args[1]), axis, parts)


OP = OpDef(
    name="SPLIT",
    shape=split_shape,
    # Input 0 is the int32 axis, which picks the kernel; keyed by the data types it serves.
    kernels=dict.fromkeys(TYPES, split),
    code={"portable": ("ec_data_ops.c",)},
    state_bytes=8,
    options=Options("SplitOptions", (("num_splits", "NumSplits", "int"),)),
)
