"""ELU: ``x < 0 ? exp(x) - 1 : x``, as TFLM's ``elu.cc``.

float32: ``expm1`` (TFLM's reference ``Elu``). int8: TFLM's 256-entry table built in float32 at
Prepare: dequantize (``s_in * (v - zp_in)``), ``expf(x) - 1`` for negatives, times ``1 / s_out``,
rounded half away from zero, plus ``zp_out``, clamped. The exponentials are taken in double and
rounded once to float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError
from edgecraft.ops.unary import float_kernel, same_dtype_shape


def _elu_float(x: np.ndarray) -> np.ndarray:
    return np.where(x < 0, np.expm1(np.minimum(x, 0)), x)


def elu_int8(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """int8: TFLM's table arithmetic, value by value."""
    x, y = ctx.req_input(0), ctx.output(0)
    if x.quant is None or y.quant is None:
        raise OpError("int8 ELU needs quantized input and output")
    s_in, s_out = np.float32(x.scale), np.float32(y.scale)
    inverse = np.float32(1) / s_out
    v = np.asarray(args[0]).astype(np.int32)
    deq = (s_in * (v - x.zero_point).astype(np.float32)).astype(np.float32)
    exp = np.exp(np.minimum(deq, 0).astype(np.float64)).astype(np.float32)
    neg = (exp - np.float32(1)).astype(np.float32)
    transformed = np.where(deq < 0, neg, deq).astype(np.float32)
    scaled = (transformed * inverse).astype(np.float32)
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + np.float32(0.5))  # std::round
    q = (rounded + np.float32(y.zero_point)).astype(np.float32).astype(np.int64)
    return [np.clip(q, -128, 127).astype(np.int8)]


OP = OpDef(
    name="ELU",
    shape=same_dtype_shape,
    kernels={"float32": float_kernel(_elu_float, True), "int8": elu_int8},
    lookup=True,
    inplace=True,
    code={"portable": ("ec_data_ops.c",)},  # int8: a 256-entry table
)
