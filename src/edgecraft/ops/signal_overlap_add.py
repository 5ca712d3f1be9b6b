"""SignalOverlapAdd (TFLM signal library): frames ``[..., n, frame_size]`` are added into a
running buffer one after another, ``frame_step`` samples come out per frame
(``[..., n * frame_step]``); the buffer is kept between invocations. int16 saturates each sum,
float32 adds in float32."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import Kernel, OpContext, OpDef
from edgecraft.ops.signal_common import attr, flex_options, need, op_state

_TYPES = {"int16": 7, "float32": 0}  # TFLite TensorType codes, the ``T`` option


def _shape(ctx: OpContext) -> list[tuple[int, ...]]:
    x = ctx.req_input(0)
    need(ctx, x.dtype in _TYPES and ctx.output(0).dtype == x.dtype and attr(ctx, "T") == _TYPES[x.dtype],
         "needs int16 or float32 input and output of the type its T option names")
    step = attr(ctx, "frame_step")
    need(ctx, len(x.shape) >= 2 and 1 <= step <= x.shape[-1],
         "needs [..., frames, frame_size] and frame_step <= frame_size")
    return [(*x.shape[:-2], x.shape[-2] * step)]


def _kernel_for(dtype: str) -> Kernel:
    def kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
        x = np.asarray(args[0])
        step, size = attr(ctx, "frame_step"), x.shape[-1]
        frames = x.reshape(-1, x.shape[-2], size)
        state = op_state(ctx, lambda: np.zeros((len(frames), size), dtype))
        out = np.zeros((len(frames), x.shape[-2] * step), dtype)
        for r in range(len(frames)):
            for k in range(x.shape[-2]):
                if dtype == "int16":
                    state[r] = np.clip(state[r].astype(np.int32) + frames[r, k], -32768, 32767)
                else:
                    state[r] = state[r] + frames[r, k]
                out[r, k * step:(k + 1) * step] = state[r, :step]
                state[r, : size - step] = state[r, step:].copy()
                state[r, size - step:] = 0
        return [out.reshape(*x.shape[:-2], -1)]

    return kernel


OP = OpDef(name="SignalOverlapAdd", shape=_shape,
           code={"portable": ("ec_signal_stream.c",)},
           kernels={"int16": _kernel_for("int16"), "float32": _kernel_for("float32")},
           options=flex_options(("T", "int"), ("frame_step", "int")))
