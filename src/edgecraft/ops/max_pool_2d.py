"""MAX_POOL_2D: maximum of each window of an NHWC input, over taps inside the image.

int8 follows TFLM's ``reference_integer_ops::MaxPool``: the maximum raw int8 value (input and
output share scale and zero point), clamped to the fused activation's range. Padding with the
type's lowest value is the same as skipping taps outside the image.
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


def window_max(x: np.ndarray, ctx: OpContext, lowest: float) -> np.ndarray:
    """Maximum of each window: (N,H,W,C) -> (N,OH,OW,C)."""
    fh, fw = pool_filter(ctx)
    return windows(x, ctx, fh, fw, lowest, dilated=False).max(axis=(3, 4))


def max_pool_int8(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    lo, hi = activation_range(ctx)
    dtype = ctx.output(0).np_dtype
    return [np.clip(window_max(args[0], ctx, int(np.iinfo(dtype).min)), lo, hi).astype(dtype)]


def max_pool_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    act = ctx.attrs.get("fused_activation_function", "NONE")
    return [float_activation(window_max(args[0], ctx, -np.inf), act)]


OP = OpDef(
    name="MAX_POOL_2D",
    shares_quant=True,
    shape=pool_shape,
    kernels={"int8": max_pool_int8, "int16": max_pool_int8, "float32": max_pool_float},
    cost=pool_cost,
    window=pool_window,
    code={"portable": ("ec_pooling.c",), "mve": ("ec_pooling_mve.c",)},
    state_bytes=16,
    options=POOL,
)
