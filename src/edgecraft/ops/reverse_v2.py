"""REVERSE_V2: reverse the order of elements along the axes named by the constant input 1
(negative axes count from the end), which must be neighbours (``[1, 2]``, ``[2, 1]``; not
``[0, 2]``), as TFLM requires. TFLM runs float32, int8, int16, int32, int64, uint8 and bool;
values are moved, never changed (int8 output quantization equal to the input's).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options


def axes(ctx: OpContext) -> list[int]:
    """The reversed axes, each in ``0 .. rank-1``, without repeats."""
    rank = len(ctx.req_input(0).shape)
    given = [int(a) for a in ctx.const(1).reshape(-1)]
    out = []
    for a in given:
        if not -rank <= a < rank:
            raise OpError(f"REVERSE_V2 axis {a} is out of range for a rank-{rank} input")
        if a % rank in out:
            raise OpError(f"REVERSE_V2 axis {a} is given twice")
        out.append(a % rank)
    if out and sorted(out) != list(range(min(out), max(out) + 1)):
        # TFLM's kernel reverses one run of neighbouring axes and refuses anything else.
        raise OpError(f"REVERSE_V2 axes {given} are not neighbouring axes, which TFLM requires")
    return out


def reverse_v2_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """The input's shape."""
    axes(ctx)
    return [tuple(ctx.req_input(0).shape)]


def reverse_v2(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Any dtype."""
    return [np.ascontiguousarray(np.flip(args[0], axis=tuple(axes(ctx))))]


OP = OpDef(
    name="REVERSE_V2",
    shape=reverse_v2_shape,
    kernels=dict.fromkeys(("float32", "int8", "int16", "int32", "int64", "uint8", "bool"), reverse_v2),
    code={"portable": ("ec_data_ops.c",)},
    state_bytes=8,
    options=Options("ReverseV2Options"),
)
