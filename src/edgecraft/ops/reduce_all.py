"""REDUCE_ALL (bool): logical AND over the axes of input 1 (constant int32), ``keep_dims`` as the
other reductions. Shape rule shared with REDUCE_MAX and MEAN."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, Options
from edgecraft.ops.mean import axes, shape


def reduce_all(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    y = ctx.output(0)
    return [np.all(np.asarray(args[0], bool), axis=axes(ctx)).reshape(y.shape)]


OP = OpDef(
    name="REDUCE_ALL",
    shape=shape,
    kernels={"bool": reduce_all},
    state_bytes=8,
    options=Options("ReducerOptions", (("keep_dims", "KeepDims", "bool"),)),
)
