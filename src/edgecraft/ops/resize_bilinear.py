"""RESIZE_BILINEAR: resize an NHWC image to the constant size (input 1: new height and width,
int32), each output pixel a weighted mean of the four input pixels around its source point.

As TFLM's reference kernels: float32 in float32 arithmetic (``ResizeBilinear``: source point
``y * scale``, or ``(y + 0.5) * scale - 0.5`` with ``half_pixel_centers``; ``scale = in / out``,
``(in - 1) / (out - 1)`` with ``align_corners``); int8 in fixed point with 10 fractional bits
(``ResizeBilinearInteger``: the four products summed in int64, then divided by 2**20 rounding
halves away from zero). Output quantization equals the input's: the values are interpolated as
they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, Options
from edgecraft.ops.resize_nearest_neighbor import resize_shape, size


def _flags(ctx: OpContext) -> tuple[bool, bool]:
    return bool(ctx.attrs.get("align_corners", False)), bool(ctx.attrs.get("half_pixel_centers", False))


def float_points(in_size: int, out_size: int, align: bool, half: bool
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source point, lower index, upper index) per output index, in float32 as TFLM."""
    if align and out_size > 1:
        scale = np.float32(in_size - 1) / np.float32(out_size - 1)
    else:
        scale = np.float32(in_size) / np.float32(out_size)
    i = np.arange(out_size, dtype=np.float32)
    point = ((i + np.float32(0.5)) * scale - np.float32(0.5)) if half else i * scale
    point = point.astype(np.float32)
    lower = np.maximum(np.floor(point).astype(np.int64), 0)
    upper = np.minimum(np.ceil(point).astype(np.int64), in_size - 1)
    return point, lower, upper


def _c_div(a: np.ndarray, b: int) -> np.ndarray:
    """C's integer division (truncates toward zero)."""
    q = np.abs(a) // b
    return np.where(a < 0, -q, q)


def integer_points(in_size: int, out_size: int, align: bool, half: bool
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source point * 1024, lower index, upper index) per output index, as TFLM's
    ``ComputeInterpolationValuesInteger``."""
    if align and out_size > 1:
        scale = ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    else:
        scale = ((1 << 10) * in_size + out_size // 2) // out_size
    i = np.arange(out_size, dtype=np.int64)
    point = i * scale + scale // 2 - (1 << 9) if half else i * scale
    lower = np.maximum(_c_div(point, 1 << 10), 0)
    upper = np.minimum(_c_div(point + (1 << 10) - 1, 1 << 10), in_size - 1)
    return point, lower, upper


def resize_bilinear_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """float32: the four corners weighted in float32, summed left to right as TFLM."""
    x = args[0]
    h, w = size(ctx)
    align, half = _flags(ctx)
    py, y0, y1 = float_points(x.shape[1], h, align, half)
    px, x0, x1 = float_points(x.shape[2], w, align, half)
    dy = (py - y0.astype(np.float32)).astype(np.float32)[None, :, None, None]
    dx = (px - x0.astype(np.float32)).astype(np.float32)[None, None, :, None]
    one = np.float32(1)

    def at(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return x[:, rows][:, :, cols]

    out = at(y0, x0) * (one - dy) * (one - dx)
    out = out + at(y1, x0) * dy * (one - dx)
    out = out + at(y0, x1) * (one - dy) * dx
    out = out + at(y1, x1) * dy * dx
    return [out.astype(np.float32)]


def resize_bilinear_int(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """int8: TFLM's ``ResizeBilinearInteger``."""
    x = args[0]
    h, w = size(ctx)
    align, half = _flags(ctx)
    py, y0, y1 = integer_points(x.shape[1], h, align, half)
    px, x0, x1 = integer_points(x.shape[2], w, align, half)
    fy = (py - (1 << 10) * y0)[None, :, None, None]
    fx = (px - (1 << 10) * x0)[None, None, :, None]
    one = 1 << 10
    xi = x.astype(np.int64)

    def at(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return xi[:, rows][:, :, cols]

    total = (at(y0, x0) * (one - fy) * (one - fx) + at(y1, x0) * fy * (one - fx)
             + at(y0, x1) * (one - fy) * fx + at(y1, x1) * fy * fx)
    rounded = _c_div(total + np.where(total > 0, 1 << 19, -(1 << 19)), 1 << 20)
    return [rounded.astype(x.dtype)]


OP = OpDef(
    name="RESIZE_BILINEAR",
    shape=resize_shape,
    kernels={"float32": resize_bilinear_float, "int8": resize_bilinear_int},
    code={"portable": ("ec_resize.c",)},
    state_bytes=8,
    options=Options("ResizeBilinearOptions", (("align_corners", "AlignCorners", "bool"),
                                              ("half_pixel_centers", "HalfPixelCenters", "bool"))),
)
