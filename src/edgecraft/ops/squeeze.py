"""SQUEEZE: drop dimensions of size 1 (those in ``squeeze_dims``, or all when it is empty)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ir.graph import DTYPES
from edgecraft.ops.base import OpContext, OpDef, OpError, Options


def squeeze_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """``squeeze_dims`` may be negative (counted from the end); each must name a size-1 dim."""
    shape = ctx.req_input(0).shape
    rank = len(shape)
    dims = [int(d) for d in ctx.attrs.get("squeeze_dims") or []]
    if not dims:
        return [tuple(d for d in shape if d != 1)]
    drop = set()
    for d in dims:
        if not -rank <= d < rank:
            raise OpError(f"SQUEEZE dimension {d} is out of range for a rank-{rank} input")
        if shape[d % rank] != 1:
            raise OpError(f"SQUEEZE dimension {d} of shape {list(shape)} has size {shape[d % rank]}, not 1")
        drop.add(d % rank)
    return [tuple(s for i, s in enumerate(shape) if i not in drop)]


def squeeze(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Any dtype: the elements unchanged."""
    return [np.reshape(args[0], ctx.output(0).shape)]


OP = OpDef(
    name="SQUEEZE",
    shares_quant=True,
    shape=squeeze_shape,
    kernels=dict.fromkeys(DTYPES, squeeze),
    view=True,
    options=Options("SqueezeOptions", (("squeeze_dims", "SqueezeDims", "ints"),)),
)
