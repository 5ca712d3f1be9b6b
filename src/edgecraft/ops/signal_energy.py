"""SignalEnergy (TFLM signal library): ``re^2 + im^2`` (uint32) of the complex int16 bins
``start_index .. end_index - 1``; TFLM leaves the other outputs unwritten, edgecraft writes 0."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.signal_common import attr, dtypes, flex_options, need, rank, u32


def _shape(ctx: OpContext) -> list[tuple[int, ...]]:
    dtypes(ctx, ("int16",), ("uint32",))
    x, y = ctx.req_input(0), ctx.output(0)
    rank(ctx, x, 1, "the input")
    rank(ctx, y, 1, "the output")
    start, end = attr(ctx, "start_index"), attr(ctx, "end_index")
    need(ctx, 0 <= start <= end <= min(y.shape[0], x.shape[0] // 2),
         f"needs 0 <= start_index {start} <= end_index {end} <= the number of bins")
    return [tuple(y.shape)]


def _kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0], np.int64)
    start, end = attr(ctx, "start_index"), attr(ctx, "end_index")
    out = np.zeros(ctx.output(0).shape, np.int64)
    re, im = x[0::2][start:end], x[1::2][start:end]
    out[start:end] = u32(re * re + im * im)
    return [out.astype(np.uint32)]


OP = OpDef(name="SignalEnergy", shape=_shape, code={"portable": ("ec_signal.c",)},
           kernels={"int16": _kernel},
           options=flex_options(("end_index", "int"), ("start_index", "int")))
