"""MAXIMUM: elementwise larger of two tensors, with broadcasting.

As in TFLM's ``maximum_minimum.cc``, quantized values are compared as stored integers with no
rescaling (the converter gives both inputs and the output the same quantization).
``x1 > x2 ? x1 : x2``: with a float NaN the second input wins, as in the C code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, Options
from edgecraft.ops.broadcast import binary_shape


def maximum(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Any dtype: ``where(x1 > x2, x1, x2)`` over the broadcast shape."""
    x1, x2 = args
    return [np.where(x1 > x2, x1, x2).astype(ctx.output(0).np_dtype)]


OP = OpDef(
    name="MAXIMUM",
    shape=binary_shape(5),
    kernels={dtype: maximum for dtype in ("int8", "int16", "int32", "int64", "float32")},
    inplace=True,
    code={"portable": ("ec_elementwise.c",)},
    options=Options("MaximumMinimumOptions"),
)
