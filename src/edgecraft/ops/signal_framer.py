"""SignalFramer (TFLM signal library): cuts each row of int16 samples, ``frame_step`` at a time,
into frames of ``frame_size`` (``[..., n, frame_step * k]`` in, ``[..., k, frame_size]`` out), the
samples of an unfinished frame kept between invocations (with ``prefill``, the first frame
starts after ``frame_size - frame_step`` zeros). The bool scalar output is false when some frame
could not be completed; that frame keeps its previous value (TFLM leaves it unwritten)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.signal_common import attr, dtypes, flex_options, need, op_state, rank


def _shape(ctx: OpContext) -> list[tuple[int, ...]]:
    dtypes(ctx, ("int16",), ("int16", "bool"))
    x = ctx.req_input(0)
    size, step = attr(ctx, "frame_size"), attr(ctx, "frame_step")
    need(ctx, size >= 1 and step >= 1 and len(x.shape) >= 1, "needs frame_size and frame_step >= 1")
    rank(ctx, ctx.output(1), 0, "the valid flag")
    return [(*x.shape[:-1], x.shape[-1] // step, size), ()]


def _kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0], np.int16)
    size, step = attr(ctx, "frame_size"), attr(ctx, "frame_step")
    rows = x.reshape(-1, x.shape[-1])
    n = x.shape[-1] // step
    out_shape = (*x.shape[:-1], n, size)
    fill = size - step if bool(ctx.attrs.get("prefill", False)) else 0

    def fresh() -> dict[str, Any]:
        return {"held": [np.zeros(max(0, fill), np.int16) for _ in range(len(rows))],
                "out": np.zeros((len(rows), n, size), np.int16)}

    state = op_state(ctx, fresh)
    valid = True
    for r in range(len(rows)):
        for k in range(n):
            held = np.concatenate([state["held"][r], rows[r, k * step:(k + 1) * step]])
            if len(held) >= size:
                state["out"][r, k] = held[:size]
                held = held[step:]
            else:
                valid = False
            state["held"][r] = held
    return [state["out"].reshape(out_shape).copy(), np.array(valid)]


OP = OpDef(name="SignalFramer", shape=_shape, code={"portable": ("ec_signal_stream.c",)},
           kernels={"int16": _kernel},
           options=flex_options(("frame_size", "int"), ("frame_step", "int"), ("prefill", "bool")))
