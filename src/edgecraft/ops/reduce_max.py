"""REDUCE_MAX: the largest element over the axes given by a constant int32 input; ``keep_dims``
keeps them as 1. As TFLM's ``reduce_common.cc`` (the min/max helper REDUCE_MIN shares): float32
and int8, the int8 output quantized exactly as the input (stored values compared and copied),
the initial value the type's lowest."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.mean import axes, shape


def reduce_max(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """float32, int8: ``max`` over the axes."""
    x, y = ctx.req_input(0), ctx.output(0)
    same = x.quant is not None and y.quant is not None and (
        (np.float32(x.scale), x.zero_point) == (np.float32(y.scale), y.zero_point))
    if x.dtype == "int8" and not same:
        raise OpError("int8 REDUCE_MAX needs the output quantized as the input (TFLM checks it)")
    lowest = np.finfo(np.float32).min if x.dtype == "float32" else -128  # TFLM's initial value
    out = np.asarray(args[0]).max(axis=axes(ctx), initial=lowest)
    return [np.asarray(out).astype(y.np_dtype).reshape(y.shape)]


OP = OpDef(
    name="REDUCE_MAX",
    shape=shape,
    kernels={"int8": reduce_max, "float32": reduce_max},
    options=Options("ReducerOptions", (("keep_dims", "KeepDims", "bool"),)),
)
