"""ARG_MAX: the index of the largest value along the axis given by a one-element int32 input
(that axis removed), as TFLM's ``arg_min_max.cc``: float32 and int8 input, int32 output; the
first index wins a tie. NaN: the installed TFLM compares with plain ``>``/``<`` (every
comparison with a NaN is false: a NaN never replaces the best so far, and a NaN at index 0 is
never replaced), which is what edgecraft does; TFLM's current sources describe a NaN-aware
comparison instead (pinned in ``tests/ops/test_expand_cast_argmax.py``). ARG_MIN
(:mod:`edgecraft.ops.arg_min`) is the same with the comparison reversed."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options

TYPES = ("float32", "int8")


def reduced_axis(ctx: OpContext) -> int:
    rank = len(ctx.req_input(0).shape)
    axis_t = ctx.req_input(1)
    if axis_t.dtype != "int32":
        raise OpError(f"{ctx.op.type} axis must be int32 (TFLM), got {axis_t.dtype}")
    axis = int(np.asarray(ctx.const(1)).reshape(-1)[0])
    if not -rank <= axis < rank:
        raise OpError(f"{ctx.op.type} axis {axis} is out of range for a rank-{rank} input")
    return axis % rank


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    if ctx.output(0).dtype != "int32":
        raise OpError(f"{ctx.op.type} output must be int32 (TFLM), got {ctx.output(0).dtype}")
    axis = reduced_axis(ctx)
    return [tuple(d for i, d in enumerate(ctx.req_input(0).shape) if i != axis)]


def arg_extreme(x: np.ndarray, axis: int, largest: bool) -> np.ndarray:
    """TFLM's scan: start at index 0, move to a later index only when its value compares
    strictly better (``>`` or ``<``; false whenever a NaN is involved)."""
    x = np.moveaxis(np.asarray(x), axis, -1)
    best_value = x[..., 0].copy()
    best = np.zeros(best_value.shape, np.int32)
    for i in range(1, x.shape[-1]):
        v = x[..., i]
        with np.errstate(invalid="ignore"):
            better = v > best_value if largest else v < best_value
        best = np.where(better, np.int32(i), best)
        best_value = np.where(better, v, best_value)
    return best


def arg_max(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    return [arg_extreme(args[0], reduced_axis(ctx), largest=True)]


OP = OpDef(
    name="ARG_MAX",
    shape=shape,
    kernels=dict.fromkeys(TYPES, arg_max),
    options=Options("ArgMaxOptions", (("output_type", "OutputType", "int"),)),
)
