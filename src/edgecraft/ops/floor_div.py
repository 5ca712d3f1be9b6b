"""FLOOR_DIV: ``floor(x1 / x2)`` with the quotient taken in double, as TFLM's reference
``FloorDiv`` (float32 only in TFLM's kernel, broadcasting up to rank 4). TFLM refuses a zero
anywhere in the divisor ("Division by 0"); so does edgecraft."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.compare import pair_shape


def floor_div(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """float32: ``floor(double(x1) / double(x2))``."""
    x1, x2 = (np.asarray(a, np.float64) for a in args)
    if np.any(x2 == 0):
        raise OpError("FLOOR_DIV: division by 0 (TFLM refuses a zero divisor)")
    return [np.broadcast_to(np.floor(x1 / x2), ctx.output(0).shape).astype(np.float32)]


OP = OpDef(
    name="FLOOR_DIV",
    shape=pair_shape,
    kernels={"float32": floor_div},
    options=Options("FloorDivOptions"),
)
