"""L2_POOL_2D (float32): ``sqrt(mean of squares)`` over each window of an NHWC input, counting
only taps inside the image, then the fused activation (TFLM's ``reference_ops::L2Pool``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.average_pool_2d import window_sums
from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.conv_common import pool_cost, pool_shape, pool_window
from edgecraft.ops.options import POOL
from edgecraft.ops.quant import float_activation


def l2_pool(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0], np.float64)
    squares, n = window_sums(x * x, ctx, np.float64)
    act = ctx.attrs.get("fused_activation_function", "NONE")
    return [float_activation(np.sqrt(squares / n).astype(np.float32), act)]


OP = OpDef(
    name="L2_POOL_2D",
    shape=pool_shape,
    kernels={"float32": l2_pool},
    cost=pool_cost,
    window=pool_window,
    state_bytes=16,
    options=POOL,
)
