"""MUL: elementwise product with broadcasting and a fused activation.

int8/int16 follow TFLM's ``mul_common.cc`` and ``reference/integer_ops/mul.h``: the product of
the offset inputs is rescaled once by ``s1 * s2 / s_out`` (multiplier computed in double),
offset by the output zero point and clamped. int16 needs zero points of 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.add import float_kernel, int32_kernel
from edgecraft.ops.arith import multiply_by_quantized_multiplier, quantize_multiplier
from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.broadcast import activation, binary_shape, per_element_cost
from edgecraft.ops.options import ACTIVATION
from edgecraft.ops.quant import quantized_activation_range


def mul_quantized(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """int8/int16: ``out = zp_out + MBQM((x1 - zp1) * (x2 - zp2), s1 * s2 / s_out)``, clamped."""
    t1, t2, out = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if out.dtype == "int16" and (t1.zero_point, t2.zero_point, out.zero_point) != (0, 0, 0):
        raise OpError("int16 MUL needs zero points of 0 on both inputs and the output")
    multiplier, shift = quantize_multiplier(t1.scale * t2.scale / out.scale)
    product = (args[0].astype(np.int64) - t1.zero_point) * (args[1].astype(np.int64) - t2.zero_point)
    result = multiply_by_quantized_multiplier(product, multiplier, shift) + out.zero_point
    lo, hi = quantized_activation_range(activation(ctx), out.scale, out.zero_point, out.dtype)
    return [np.clip(result, lo, hi).astype(out.np_dtype)]


OP = OpDef(
    name="MUL",
    shape=binary_shape(6),
    kernels={
        "int8": mul_quantized,
        "int16": mul_quantized,
        "float32": float_kernel(np.multiply),
        "int32": int32_kernel(np.multiply),
    },
    cost=per_element_cost,
    inplace=True,
    code={"portable": ("ec_elementwise.c",), "mve": ("ec_elementwise_mve.c",)},  # broadcasting: portable
    state_bytes=32,
    options=Options("MulOptions", (ACTIVATION,)),
)
