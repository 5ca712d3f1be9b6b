"""FLOOR_MOD: the remainder with the divisor's sign, as TFLM's reference ``FloorMod``: ``fmod``
in float, plus the divisor when that is non-zero and its sign differs from the divisor's
(float32 only in TFLM's kernel, broadcasting up to rank 4)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, Options
from edgecraft.ops.compare import pair_shape


def floor_mod(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """float32: ``m = fmodf(x1, x2); m != 0 && (x2 < 0) != (m < 0) ? m + x2 : m``."""
    x1, x2 = (np.asarray(a, np.float32) for a in args)
    with np.errstate(invalid="ignore"):  # fmod(x, 0) is NaN, as in C
        m = np.fmod(x1, x2)
        out = np.where((m != 0) & ((x2 < 0) != (m < 0)), m + x2, m).astype(np.float32)
    return [np.broadcast_to(out, ctx.output(0).shape).astype(np.float32)]


OP = OpDef(
    name="FLOOR_MOD",
    shape=pair_shape,
    kernels={"float32": floor_mod},
    options=Options("FloorModOptions"),
)
