"""ZEROS_LIKE: zeros of the input's shape and dtype (TFLM: float32, int8, int32, int64). The
stored value 0, whatever the quantization, as TFLM's kernel writes."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, Options
from edgecraft.ops.unary import same_dtype_shape


def zeros_like(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Any dtype: stored zeros."""
    return [np.zeros(ctx.output(0).shape, ctx.output(0).np_dtype)]


OP = OpDef(
    name="ZEROS_LIKE",
    shape=same_dtype_shape,
    kernels=dict.fromkeys(("float32", "int8", "int32", "int64"), zeros_like),
    options=Options("ZerosLikeOptions"),
)
