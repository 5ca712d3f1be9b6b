"""DEPTH_TO_SPACE: the inverse of SPACE_TO_DEPTH; each pixel's channels spread over a
``block_size`` x ``block_size`` patch: ``out[n, h * b + by, w * b + bx, c] = in[n, h, w,
(by * b + bx) * C + c]``.

A transpose of a six-dimensional view of the input (:func:`view`), as TFLM's reference kernel
computes it; TFLM runs float32 and int8 (output quantization equal to the input's).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.space_to_depth import block

#: The view's axes in output order: (n, h, by, w, bx, c) read from (n, h, w, by, bx, c).
PERM = (0, 1, 3, 2, 4, 5)


def view(ctx: OpContext) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The input seen as (n, h, w, b, b, c/(b*b)) and the output's shape."""
    x = ctx.req_input(0)
    if len(x.shape) != 4:
        raise OpError(f"DEPTH_TO_SPACE needs a rank-4 NHWC input, got shape {list(x.shape)}")
    b = block(ctx)
    n, h, w, c = x.shape
    if c % (b * b):
        raise OpError(f"DEPTH_TO_SPACE: depth {c} must be a multiple of block_size squared ({b * b})")
    return (n, h, w, b, b, c // (b * b)), (n, h * b, w * b, c // (b * b))


def depth_to_space_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """(n, h*b, w*b, c/(b*b))."""
    return [view(ctx)[1]]


def depth_to_space(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Any dtype: the bytes move, the values do not change."""
    shape6, out = view(ctx)
    return [np.ascontiguousarray(args[0].reshape(shape6).transpose(PERM)).reshape(out)]


OP = OpDef(
    name="DEPTH_TO_SPACE",
    shape=depth_to_space_shape,
    kernels=dict.fromkeys(("float32", "int8"), depth_to_space),
    code={"portable": ("ec_data_ops.c",)},
    state_bytes=8,
    options=Options("DepthToSpaceOptions", (("block_size", "BlockSize", "int"),)),
)
