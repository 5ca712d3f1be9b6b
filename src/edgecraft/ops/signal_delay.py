"""SignalDelay (TFLM signal library): each row of the int16 input comes out ``delay_length``
samples later; the samples still in flight are kept between invocations (zeros at the start
and after a reset)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.signal_common import attr, dtypes, flex_options, need, op_state


def _shape(ctx: OpContext) -> list[tuple[int, ...]]:
    dtypes(ctx, ("int16",), ("int16",))
    x = ctx.req_input(0)
    need(ctx, len(x.shape) >= 1 and attr(ctx, "delay_length") >= 0, "needs a non-negative delay_length")
    return [tuple(x.shape)]


def _kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0], np.int16)
    rows = x.reshape(-1, x.shape[-1]) if x.size else x.reshape(0, x.shape[-1])
    delay = attr(ctx, "delay_length")
    state = op_state(ctx, lambda: {"held": np.zeros((len(rows), delay), np.int16)})
    line = np.concatenate([state["held"], rows], axis=1)
    state["held"] = line[:, rows.shape[1]:].copy()
    return [line[:, : rows.shape[1]].reshape(x.shape)]


OP = OpDef(name="SignalDelay", shape=_shape, code={"portable": ("ec_signal_stream.c",)},
           kernels={"int16": _kernel},
           options=flex_options(("delay_length", "int")))
