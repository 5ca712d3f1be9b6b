"""SignalWindow (TFLM signal library): ``(x * w) >> shift`` saturated to int16, the window ``w``
applied to each run of ``len(w)`` samples of the int16 input."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.signal_common import attr, dtypes, flex_options, need, rank


def _shape(ctx: OpContext) -> list[tuple[int, ...]]:
    dtypes(ctx, ("int16", "int16"), ("int16",))
    x, w = ctx.req_input(0), ctx.req_input(1)
    rank(ctx, w, 1, "the window")
    need(ctx, len(x.shape) >= 1 and w.shape[0] > 0 and x.shape[-1] % w.shape[0] == 0,
         f"the input's last dimension must be a multiple of the window's {w.shape[0]}")
    attr(ctx, "shift")
    return [tuple(x.shape)]


def _kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x, w = np.asarray(args[0], np.int64), np.asarray(args[1], np.int64)
    n = len(w)
    y = (x.reshape(-1, n) * w) >> attr(ctx, "shift")
    return [np.clip(y, -32768, 32767).astype(np.int16).reshape(x.shape)]


OP = OpDef(name="SignalWindow", shape=_shape, code={"portable": ("ec_signal.c",)},
           kernels={"int16": _kernel},
           options=flex_options(("shift", "int")))
