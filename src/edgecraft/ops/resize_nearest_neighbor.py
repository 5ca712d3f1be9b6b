"""RESIZE_NEAREST_NEIGHBOR: resize an NHWC image to the constant size (input 1: new height and
width, int32), each output pixel a copy of its nearest input pixel.

The source row of output row ``y`` is TFLM's ``GetNearestNeighbor``, computed in float32 as
TFLM does: ``scale = in / out`` (``(in - 1) / (out - 1)`` with ``align_corners`` and ``out > 1``),
``offset = 0.5`` with ``half_pixel_centers``, then ``floor((y + offset) * scale)`` (``round``,
halves away from zero, with ``align_corners``), at most ``in - 1`` and, with
``half_pixel_centers``, at least 0. TFLM runs float32, int8 and int16; values are copied.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from edgecraft.ops.arith import round_half_away
from edgecraft.ops.base import OpContext, OpDef, OpError, Options


def size(ctx: OpContext) -> tuple[int, int]:
    """The output's height and width."""
    x = ctx.req_input(0)
    if len(x.shape) != 4:
        raise OpError(f"{ctx.op.type} needs a rank-4 NHWC input, got shape {list(x.shape)}")
    hw = [int(v) for v in ctx.const(1).reshape(-1)]
    if len(hw) != 2 or min(hw) < 1:
        raise OpError(f"{ctx.op.type} size must be two positive numbers (height, width), got {hw}")
    return hw[0], hw[1]


def source_indices(in_size: int, out_size: int, align_corners: bool, half_pixel: bool) -> list[int]:
    """The input index each output index copies (TFLM's ``GetNearestNeighbor`` in float32)."""
    if align_corners and out_size > 1:
        scale = np.float32(in_size - 1) / np.float32(out_size - 1)
    else:
        scale = np.float32(in_size) / np.float32(out_size)
    offset = np.float32(0.5 if half_pixel else 0.0)
    out = []
    for i in range(out_size):
        v = float((np.float32(i) + offset) * scale)
        j = min(round_half_away(v) if align_corners else math.floor(v), in_size - 1)
        out.append(max(0, j) if half_pixel else j)
    return out


def rows_cols(ctx: OpContext) -> tuple[list[int], list[int]]:
    """Source rows and source columns of the output."""
    x = ctx.req_input(0)
    h, w = size(ctx)
    align = bool(ctx.attrs.get("align_corners", False))
    half = bool(ctx.attrs.get("half_pixel_centers", False))
    return (source_indices(x.shape[1], h, align, half), source_indices(x.shape[2], w, align, half))


def resize_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """(n, new height, new width, c)."""
    x = ctx.req_input(0)
    h, w = size(ctx)
    return [(x.shape[0], h, w, x.shape[3])]


def column_pass_bytes(ctx: OpContext) -> int:
    """Scratch of the C kernel: the input with its columns resized, (n, h, new width, c)."""
    x = ctx.req_input(0)
    return x.shape[0] * x.shape[1] * size(ctx)[1] * x.shape[3] * x.np_dtype.itemsize


def resize_nearest_neighbor(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Any dtype: a gather of rows, then of columns."""
    rows, cols = rows_cols(ctx)
    return [np.ascontiguousarray(args[0][:, rows][:, :, cols])]


OP = OpDef(
    name="RESIZE_NEAREST_NEIGHBOR",
    shape=resize_shape,
    kernels=dict.fromkeys(("float32", "int8", "int16"), resize_nearest_neighbor),
    scratch={"portable": column_pass_bytes, "dsp": column_pass_bytes},
    code={"portable": ("ec_data_ops.c",)},
    state_bytes=8,
    options=Options("ResizeNearestNeighborOptions", (("align_corners", "AlignCorners", "bool"),
                                                     ("half_pixel_centers", "HalfPixelCenters", "bool"))),
)
