"""RESHAPE: the same elements in row-major order under a new shape.

The new shape comes from the constant shape input (input 1) when there is one, else from the
``new_shape`` attribute; one dimension may be -1 and is inferred from the element count. When
the shape input is computed at run time, the output tensor's declared shape is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ir.graph import DTYPES
from edgecraft.ops.base import OpContext, OpDef, OpError, Options


def _requested(ctx: OpContext) -> list[int]:
    shape_input = ctx.input(1)
    if shape_input is not None and shape_input.data is not None:
        return [int(d) for d in shape_input.data.reshape(-1)]
    new_shape = ctx.attrs.get("new_shape") or []
    if new_shape:
        return [int(d) for d in new_shape]
    return list(ctx.output(0).shape)


def reshape_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """Output shape with TFLite's rules: at most one -1, element count preserved."""
    size = ctx.req_input(0).size
    shape = _requested(ctx)
    if shape.count(-1) > 1 or any(d < -1 for d in shape):
        raise OpError(f"RESHAPE target {shape} may hold one -1 and otherwise sizes >= 0")
    if -1 in shape:
        known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
        if known == 0 or size % known:
            raise OpError(f"RESHAPE cannot infer the -1 in {shape} for {size} elements")
        shape[shape.index(-1)] = size // known
    if int(np.prod(shape, dtype=np.int64)) != size:
        raise OpError(f"RESHAPE to {shape} needs {int(np.prod(shape))} elements, the input has {size}")
    return [tuple(shape)]


def reshape(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Any dtype: the elements unchanged, in row-major order."""
    return [np.reshape(args[0], ctx.output(0).shape)]


OP = OpDef(
    name="RESHAPE",
    shares_quant=True,
    shape=reshape_shape,
    kernels=dict.fromkeys(DTYPES, reshape),
    view=True,
    options=Options("ReshapeOptions", (("new_shape", "NewShape", "ints"),)),
)
