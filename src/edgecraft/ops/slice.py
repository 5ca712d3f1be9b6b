"""SLICE: ``input[begin : begin + size]`` per dimension; ``begin`` and ``size`` are constant
int32 or int64 inputs and a size of -1 means "to the end" (TFLM's ``slice.cc``: rank at most
5; float32, int32, int8, int16 and bool)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError

TYPES = ("float32", "int32", "int8", "int16", "bool")


def bounds(ctx: OpContext) -> list[tuple[int, int]]:
    """(start, stop) per dimension; :class:`OpError` when they leave the input."""
    shape = ctx.req_input(0).shape
    if len(shape) > 5:
        raise OpError(f"SLICE supports inputs of rank at most 5, got {len(shape)}")
    begin = np.asarray(ctx.const(1)).reshape(-1).astype(np.int64).tolist()
    size = np.asarray(ctx.const(2)).reshape(-1).astype(np.int64).tolist()
    if not len(begin) == len(size) == len(shape):
        raise OpError(f"SLICE begin {begin} and size {size} must each have {len(shape)} entries")
    out = []
    for d, b, s in zip(shape, begin, size, strict=True):
        stop = d if s == -1 else b + s
        if not (0 <= b <= d and b <= stop <= d):
            raise OpError(f"SLICE begin {begin} with size {size} leaves the input shape {list(shape)}")
        out.append((int(b), int(stop)))
    return out


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    return [tuple(stop - start for start, stop in bounds(ctx))]


def slice_kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Every type: the elements unchanged."""
    cut = tuple(slice(start, stop) for start, stop in bounds(ctx))
    return [np.ascontiguousarray(np.asarray(args[0])[cut])]


OP = OpDef(
    name="SLICE",
    shape=shape,
    kernels=dict.fromkeys(TYPES, slice_kernel),
    code={"portable": ("ec_data_ops.c",)},
    state_bytes=40,
)
