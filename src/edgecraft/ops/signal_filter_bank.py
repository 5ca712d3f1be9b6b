"""SignalFilterBank (TFLM signal library): triangular channels over uint32 energies. Channel
``i`` (0..num_channels) sums ``weights[ws[i] + j] * x[fs[i] + j]`` for ``j < widths[i]`` into its
own total and ``unweights[...] * x[...]`` into the next channel's, in uint64 (wrapping, the int16
weights widened as C does); the uint64 output is channels 1..num_channels."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.signal_common import attr, dtypes, flex_options, need, rank


def _shape(ctx: OpContext) -> list[tuple[int, ...]]:
    dtypes(ctx, ("uint32", "int16", "int16", "int16", "int16", "int16"), ("uint64",))
    for i in range(6):
        rank(ctx, ctx.req_input(i), 1, f"input {i}")
    n = attr(ctx, "num_channels")
    for i in (3, 4, 5):
        need(ctx, ctx.req_input(i).shape[0] >= n + 1, f"input {i} needs num_channels + 1 = {n + 1} entries")
    y = ctx.output(0)
    rank(ctx, y, 1, "the output")
    need(ctx, y.shape[0] <= n, f"the output has at most num_channels = {n} entries, got {y.shape[0]}")
    return [tuple(y.shape)]


def _kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0], np.uint64)
    weights, unweights = (np.asarray(a, np.int64).astype(np.uint64) for a in args[1:3])
    starts, wstarts, widths = (np.asarray(a, np.int64) for a in args[3:6])
    n = attr(ctx, "num_channels")
    totals = np.zeros(n + 1, np.uint64)
    carry = np.uint64(0)
    with np.errstate(over="ignore"):
        for i in range(n + 1):
            f, w, width = int(starts[i]), int(wstarts[i]), int(widths[i])
            need(ctx, width <= 0 or (f >= 0 and f + width <= len(x) and w >= 0 and w + width <= len(weights)
                                     and w + width <= len(unweights)),
                 f"channel {i} reads past its input or weights")
            span = x[f:f + width] if width > 0 else x[:0]
            totals[i] = carry + np.sum(weights[w:w + width] * span, dtype=np.uint64)
            carry = np.sum(unweights[w:w + width] * span, dtype=np.uint64)
    return [totals[1:1 + ctx.output(0).shape[0]]]


OP = OpDef(name="SignalFilterBank", shape=_shape, code={"portable": ("ec_signal.c",)},
           kernels={"uint32": _kernel},
           options=flex_options(("num_channels", "int")))
