"""ADD_N: the elementwise sum of two or more inputs of one shape and type.

float32: float sums. int8 as TFLM's ``reference_ops::AddN``: every input must share the first
one's scale and zero point; each value is rescaled as CUMSUM's (offset, shifted left by 20,
scaled by 1/2), the sum starts at the rescaled input offset (TFLM's ``x = input1_offset``, as if
one more zero-valued input were summed), then scaled to the output, offset and clamped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.cumsum import SumRescale, sum_rescale


def add_n_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    if ctx.num_inputs < 2:
        raise OpError(f"ADD_N takes two or more inputs, got {ctx.num_inputs}")
    first = ctx.req_input(0)
    for i in range(1, ctx.num_inputs):
        t = ctx.req_input(i)
        if tuple(t.shape) != tuple(first.shape) or t.dtype != first.dtype:
            raise OpError(f"ADD_N input {i} is {t.dtype} {list(t.shape)}, not {first.dtype} "
                          f"{list(first.shape)}")
        if first.dtype == "int8" and (t.scale != first.scale or t.zero_point != first.zero_point):
            raise OpError(f"ADD_N int8 input {i} must share input 0's scale and zero point (TFLM)")
    return [tuple(first.shape)]


def add_n(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """float32 and int8 (see the module docstring)."""
    xs = [np.asarray(a) for a in args]
    if xs[0].dtype == np.float32:
        return [np.sum([x.astype(np.float64) for x in xs], axis=0).astype(np.float32)]
    r: SumRescale = ctx.memo("rescale", lambda: sum_rescale(ctx))
    acc = r.scaled(0) + sum(r.scaled(x) for x in xs)
    return [r.output(np.asarray(acc))]


OP = OpDef(
    name="ADD_N",
    shape=add_n_shape,
    code={"portable": ("ec_cumsum.c",)},
    kernels=dict.fromkeys(("float32", "int8"), add_n),
    state_bytes=40,
    options=Options("AddNOptions"),
)
