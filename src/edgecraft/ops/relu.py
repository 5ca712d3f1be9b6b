"""RELU: ``max(x, 0)``.

int8/int16 follow TFLM's ``activations_common.cc``: the input is rescaled to the output's
quantization with its own multiplier (``s_in / s_out``, computed in double) and clamped below
at the output zero point, so input and output may be quantized differently.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.arith import multiply_by_quantized_multiplier, quantize_multiplier
from edgecraft.ops.base import OpContext, OpDef, OpError
from edgecraft.ops.quant import dtype_range


def relu_quantized(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """``clamp(zp_out + MBQM(x - zp_in, s_in / s_out), max(qmin, zp_out), qmax)``."""
    t, out = ctx.req_input(0), ctx.output(0)
    if t.dtype == "int16" and (t.zero_point != 0 or out.zero_point != 0):
        raise OpError("int16 RELU needs zero points of 0 on input and output (TFLM checks it)")
    multiplier, shift = quantize_multiplier(t.scale / out.scale)
    result = out.zero_point + multiply_by_quantized_multiplier(
        args[0].astype(np.int64) - t.zero_point, multiplier, shift
    )
    qmin, qmax = dtype_range(out.dtype)
    return [np.clip(result, max(qmin, out.zero_point), qmax).astype(out.np_dtype)]


def relu_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """float32: ``x < 0 ? 0 : x``."""
    x = args[0].astype(np.float32)
    return [np.where(x < 0, np.float32(0), x)]


def same_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """Shape rule of the one-input activations: the output has the input's shape."""
    return [tuple(ctx.req_input(0).shape)]


OP = OpDef(
    name="RELU",
    shape=same_shape,
    kernels={"int8": relu_quantized, "int16": relu_quantized, "float32": relu_float},
    lookup=True,
    inplace=True,
    code={"portable": ("ec_data_ops.c",)},  # a 256-entry table
    state_bytes=16,
)
