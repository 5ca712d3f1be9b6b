"""SPACE_TO_DEPTH: move each ``block_size`` x ``block_size`` patch of an NHWC tensor into its
channels: ``out[n, h, w, (by * b + bx) * C + c] = in[n, h * b + by, w * b + bx, c]``.

A transpose of a six-dimensional view of the input (:func:`view`), as TFLM's reference kernel
computes it; TFLM runs float32 and int8 (output quantization equal to the input's).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options

#: The view's axes in output order: (n, h, w, by, bx, c) read from (n, h, by, w, bx, c).
PERM = (0, 1, 3, 2, 4, 5)


def block(ctx: OpContext) -> int:
    """The ``block_size`` attribute, at least 1."""
    b = int(ctx.attrs.get("block_size", 0))
    if b < 1:
        raise OpError(f"{ctx.op.type} block_size must be at least 1, got {b}")
    return b


def view(ctx: OpContext) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The input seen as (n, h/b, b, w/b, b, c) and the output's shape."""
    x = ctx.req_input(0)
    if len(x.shape) != 4:
        raise OpError(f"SPACE_TO_DEPTH needs a rank-4 NHWC input, got shape {list(x.shape)}")
    b = block(ctx)
    n, h, w, c = x.shape
    if h % b or w % b:
        raise OpError(f"SPACE_TO_DEPTH: height {h} and width {w} must be multiples of block_size {b}")
    return (n, h // b, b, w // b, b, c), (n, h // b, w // b, b * b * c)


def space_to_depth_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """(n, h/b, w/b, b*b*c)."""
    return [view(ctx)[1]]


def space_to_depth(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Any dtype: the bytes move, the values do not change."""
    shape6, out = view(ctx)
    return [np.ascontiguousarray(args[0].reshape(shape6).transpose(PERM)).reshape(out)]


OP = OpDef(
    name="SPACE_TO_DEPTH",
    shape=space_to_depth_shape,
    kernels=dict.fromkeys(("float32", "int8"), space_to_depth),
    code={"portable": ("ec_data_ops.c",)},
    state_bytes=8,
    options=Options("SpaceToDepthOptions", (("block_size", "BlockSize", "int"),)),
)
