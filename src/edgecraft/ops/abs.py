"""ABS: ``|x|``, as TFLM's ``elementwise.cc``.

float32: ``std::abs``. int8 (and quantized int16, zero points 0): ``|x - zp_in|``, rescaled by
``s_in / s_out`` (the ratio taken in float, then the multiplier from double) when the scales
differ, plus ``zp_out``, clamped to the type. int16 without quantization: ``std::abs`` cast back
to int16 (so -32768 stays -32768).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.arith import multiply_by_quantized_multiplier, quantize_multiplier
from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.quant import dtype_range
from edgecraft.ops.unary import float_kernel, same_dtype_shape


def abs_quantized(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """int8/int16: TFLM's AbsEvalQuantized (or plain abs for unquantized int16)."""
    x, y = ctx.req_input(0), ctx.output(0)
    v = args[0].astype(np.int64)
    if x.quant is None:
        if x.dtype != "int16":
            raise OpError(f"int8 {ctx.op.type} input {x.name!r} has no quantization parameters")
        return [np.abs(v).astype(np.int16)]  # wraps like the C cast
    if y.quant is None:
        raise OpError(f"{ctx.op.type} output {y.name!r} has no quantization parameters")
    if x.dtype == "int16" and (x.zero_point != 0 or y.zero_point != 0):
        raise OpError("int16 ABS needs zero points 0 (TFLM checks it)")
    value = np.abs(v - x.zero_point)
    in_scale, out_scale = np.float32(x.scale), np.float32(y.scale)
    if in_scale != out_scale:
        m, s = ctx.memo("abs", lambda: quantize_multiplier(float(np.float32(in_scale / out_scale))))
        value = multiply_by_quantized_multiplier(value, m, s)
    lo, hi = dtype_range(y.dtype)
    return [np.clip(value + y.zero_point, lo, hi).astype(y.np_dtype)]


OP = OpDef(
    name="ABS",
    shape=same_dtype_shape,
    kernels={"float32": float_kernel(np.abs, False), "int8": abs_quantized, "int16": abs_quantized},
    lookup=True,
    inplace=True,
    code={"portable": ("ec_data_ops.c",)},  # int8: a 256-entry table
    options=Options("AbsOptions"),
)
