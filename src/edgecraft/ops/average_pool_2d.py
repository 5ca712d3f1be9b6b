"""AVERAGE_POOL_2D: mean of each window of an NHWC input, counting only taps inside the image.

int8 follows TFLM's ``reference_integer_ops::AveragePool``: the raw int8 values of the window
are summed (input and output share scale and zero point), divided by the number of taps inside
the image rounding half away from zero (C's truncating division of ``sum +- count/2``), then
clamped to the fused activation's range. int16 is the same arithmetic on int16 values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.conv_common import (
    activation_range,
    pool_cost,
    pool_filter,
    pool_shape,
    pool_window,
    windows,
)
from edgecraft.ops.options import POOL
from edgecraft.ops.quant import float_activation


def window_sums(x: np.ndarray, ctx: OpContext, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """(sum of each window, number of its taps inside the image), shapes (N,OH,OW,C), (1,OH,OW,1)."""
    fh, fw = pool_filter(ctx)
    sums = windows(x.astype(dtype), ctx, fh, fw, 0, dilated=False).sum(axis=(3, 4))
    inside = np.ones((1, x.shape[1], x.shape[2], 1), np.int64)
    counts = windows(inside, ctx, fh, fw, 0, dilated=False).sum(axis=(3, 4))
    return sums, counts


def average_pool_int8(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    acc, n = window_sums(args[0], ctx, np.int64)
    half = n // 2
    avg = np.where(acc > 0, (acc + half) // n, -((half - acc) // n))  # C division truncates to 0
    lo, hi = activation_range(ctx)
    return [np.clip(avg, lo, hi).astype(ctx.output(0).np_dtype)]


def average_pool_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    acc, n = window_sums(args[0], ctx, np.float64)
    act = ctx.attrs.get("fused_activation_function", "NONE")
    return [float_activation((acc / n).astype(np.float32), act)]


OP = OpDef(
    name="AVERAGE_POOL_2D",
    shares_quant=True,
    shape=pool_shape,
    kernels={"int8": average_pool_int8, "int16": average_pool_int8, "float32": average_pool_float},
    cost=pool_cost,
    window=pool_window,
    code={"portable": ("ec_pooling.c",), "mve": ("ec_pooling_mve.c",)},
    state_bytes=16,
    options=POOL,
)
