"""REDUCE_MIN: the smallest element over the axes given by a constant int32 input;
``keep_dims`` keeps them as 1. As TFLM's ``reduce_common.cc``: float32 and int8, and int8 needs
the output quantized exactly as the input (stored values are compared and copied)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.mean import axes, shape


def reduce_min(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """float32, int8: ``min`` over the axes."""
    x, y = ctx.req_input(0), ctx.output(0)
    same = x.quant is not None and y.quant is not None and (
        (np.float32(x.scale), x.zero_point) == (np.float32(y.scale), y.zero_point))
    if x.dtype == "int8" and not same:
        raise OpError("int8 REDUCE_MIN needs the output quantized as the input (TFLM checks it)")
    values = np.asarray(args[0])
    reduced = axes(ctx)
    top = np.finfo(np.float32).max if x.dtype == "float32" else 127  # TFLM's initial value
    out = values.min(axis=reduced, initial=top)
    return [np.asarray(out).astype(y.np_dtype).reshape(y.shape)]


OP = OpDef(
    name="REDUCE_MIN",
    shape=shape,
    kernels={"int8": reduce_min, "float32": reduce_min},
    options=Options("ReducerOptions", (("keep_dims", "KeepDims", "bool"),)),
)
