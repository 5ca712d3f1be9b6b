"""SignalFilterBankSquareRoot (TFLM signal library): TFLM's rounded square root (Sqrt64, with its
16-bit shortcut below 2^32) of each uint64 channel, shifted right by the int32 scalar input."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.signal_common import dtypes, rank


def _shape(ctx: OpContext) -> list[tuple[int, ...]]:
    dtypes(ctx, ("uint64", "int32"), ("uint32",))
    x = ctx.req_input(0)
    rank(ctx, x, 1, "the input")
    rank(ctx, ctx.req_input(1), 0, "the scale bits")
    return [tuple(x.shape)]


def sqrt64(n: int) -> int:
    """TFLM's Sqrt64 of one uint64: the floor root, plus one when the remainder exceeds it
    (not past 0xFFFF below 2^32, not past 0xFFFFFFFF above)."""
    r = math.isqrt(n)
    cap = 0xFFFF if n < 1 << 32 else 0xFFFFFFFF
    return r + 1 if n - r * r > r and r != cap else r


def _kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    shift = int(np.asarray(args[1]).reshape(-1)[0])
    roots = [sqrt64(int(v)) >> shift for v in np.asarray(args[0], np.uint64).tolist()]
    return [np.array(roots, np.uint64).astype(np.uint32)]


OP = OpDef(name="SignalFilterBankSquareRoot", shape=_shape, code={"portable": ("ec_signal.c",)},
           kernels={"uint64": _kernel})
