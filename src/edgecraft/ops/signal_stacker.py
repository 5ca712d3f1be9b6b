"""SignalStacker (TFLM signal library): stacks ``stacker_left_context + 1 +
stacker_right_context`` consecutive int16 frames of ``num_channels`` into one output and moves
on by ``stacker_step`` frames; the first frame is repeated as its own left context. The frames
are kept between invocations; the bool scalar output says whether a full stack was ready (if
not, the output keeps its previous value: TFLM leaves it unwritten)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.signal_common import attr, dtypes, flex_options, need, op_state, rank


def _sizes(ctx: OpContext) -> tuple[int, int, int]:
    ch = attr(ctx, "num_channels")
    left, right = attr(ctx, "stacker_left_context"), attr(ctx, "stacker_right_context")
    return ch, ch * (left + right + 1), ch * attr(ctx, "stacker_step")


def _shape(ctx: OpContext) -> list[tuple[int, ...]]:
    dtypes(ctx, ("int16",), ("int16", "bool"))
    x, y = ctx.req_input(0), ctx.output(0)
    rank(ctx, x, 1, "the input")
    rank(ctx, y, 1, "the output")
    rank(ctx, ctx.output(1), 0, "the valid flag")
    ch, size, step = _sizes(ctx)
    need(ctx, x.shape[0] >= ch and 0 < step <= size and y.shape[0] >= size,
         "needs num_channels input samples, a step of 1..context frames and room for the stack")
    return [tuple(y.shape), ()]


def _kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    ch, size, step = _sizes(ctx)
    frame = np.asarray(args[0], np.int16)[:ch]
    state = op_state(ctx, lambda: {"held": None, "out": np.zeros(ctx.output(0).shape, np.int16)})
    if state["held"] is None:  # the first frame also fills the left context
        state["held"] = np.tile(frame, attr(ctx, "stacker_left_context") + 1)
    else:
        state["held"] = np.concatenate([state["held"], frame])
    valid = len(state["held"]) >= size
    if valid:
        state["out"][:size] = state["held"][:size]
        state["held"] = state["held"][step:]
    return [state["out"].copy(), np.array(valid)]


OP = OpDef(name="SignalStacker", shape=_shape, code={"portable": ("ec_signal_stream.c",)},
           kernels={"int16": _kernel},
           options=flex_options(("num_channels", "int"), ("stacker_left_context", "int"),
                                ("stacker_right_context", "int"), ("stacker_step", "int")))
