"""GATHER_ND: slices of ``params`` (input 0) picked by index tuples (input 1, int32, shape
``(..., k)``): ``out[i...] = params[indices[i..., 0], ..., indices[i..., k-1], ...]``, shape
``indices.shape[:-1] + params.shape[k:]``.

An index outside ``params`` is an error, as in TFLM (which fails the invocation). TFLM's sources
list float32, int8 and int32 params (the installed TFLM build refuses int32, checked against
LiteRT instead); values are copied.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options


def depth(ctx: OpContext) -> int:
    """``k``, the length of each index tuple, checked against the params' rank."""
    params, indices = ctx.req_input(0), ctx.req_input(1)
    if not indices.shape:
        raise OpError("GATHER_ND indices must have at least one dimension")
    k = indices.shape[-1]
    if not 1 <= k <= len(params.shape):
        raise OpError(f"GATHER_ND index tuples of length {k} do not fit params of rank {len(params.shape)}")
    return k


def gather_nd_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """``indices.shape[:-1] + params.shape[k:]``."""
    k = depth(ctx)
    return [tuple(ctx.req_input(1).shape[:-1]) + tuple(ctx.req_input(0).shape[k:])]


def gather_nd(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Any dtype of params; int32 indices, each within its dimension."""
    params, indices = args[0], np.asarray(args[1], dtype=np.int64)
    k = depth(ctx)
    flat = indices.reshape(-1, k)
    limits = np.array(params.shape[:k])
    bad = np.flatnonzero(((flat < 0) | (flat >= limits)).any(axis=1))
    if bad.size:
        raise OpError(f"GATHER_ND index {flat[bad[0]].tolist()} is outside params of shape "
                      f"{list(params.shape)}")
    picked = params[tuple(flat.T)]
    return [np.ascontiguousarray(picked).reshape(gather_nd_shape(ctx)[0])]


OP = OpDef(
    name="GATHER_ND",
    shape=gather_nd_shape,
    kernels=dict.fromkeys(("float32", "int8", "int32"), gather_nd),
    code={"portable": ("ec_data_ops.c",)},
    state_bytes=8,
    options=Options("GatherNdOptions"),
)
