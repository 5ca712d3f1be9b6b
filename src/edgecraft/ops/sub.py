"""SUB: elementwise ``input1 - input2`` with broadcasting and a fused activation.

The int8/int16 arithmetic is ADD's (see :mod:`edgecraft.ops.add`) with the rescaled inputs
subtracted, multipliers included (computed in double, as the TFLM build we test against does).
"""

from __future__ import annotations

import numpy as np

from edgecraft.ops.add import float_kernel, int32_kernel, quantized_kernel
from edgecraft.ops.base import OpDef, Options
from edgecraft.ops.broadcast import binary_shape, per_element_cost
from edgecraft.ops.options import ADD_SUB_FIELDS

OP = OpDef(
    name="SUB",
    shape=binary_shape(6),
    kernels={
        "int8": quantized_kernel(np.subtract),
        "int16": quantized_kernel(np.subtract),
        "float32": float_kernel(np.subtract),
        "int32": int32_kernel(np.subtract),
    },
    cost=per_element_cost,
    inplace=True,
    code={"portable": ("ec_elementwise.c",), "dsp": ("ec_add_table.c",),
          "mve": ("ec_elementwise_mve.c",)},  # broadcasting: the dsp file
    state_bytes=56,
    options=Options("SubOptions", ADD_SUB_FIELDS),
)
