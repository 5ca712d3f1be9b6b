"""SHAPE: the input's dimensions as a 1-D int32 tensor (TFLM writes int32 only; the input may
be of any type)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options


def shape_rule(ctx: OpContext) -> list[tuple[int, ...]]:
    """One int32 element per input dimension."""
    if ctx.output(0).dtype != "int32":
        raise OpError(f"SHAPE writes int32 only (as TFLM), got output dtype {ctx.output(0).dtype}")
    return [(len(ctx.req_input(0).shape),)]


def shape(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Any input dtype: its shape."""
    return [np.array(ctx.req_input(0).shape, np.int32)]


OP = OpDef(
    name="SHAPE",
    shape=shape_rule,
    kernels=dict.fromkeys(("float32", "int8", "int16", "int32", "int64", "bool"), shape),
    options=Options("ShapeOptions"),
)
