"""LEAKY_RELU: ``x >= 0 ? x : alpha * x``.

int8/int16 follow TFLM's ``leaky_relu_common.cc`` and ``reference/leaky_relu.h``: two
multipliers, identity ``s_in / s_out`` and alpha ``s_in * alpha / s_out``, computed in double
(some TFLM sources use float32; the build we test against uses double, and tests/ops/
test_activations.py pins cases where the two differ). A negative alpha is applied as the
negated product of ``|multiplier|``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.arith import multiply_by_quantized_multiplier, quantize_multiplier
from edgecraft.ops.base import OpContext, OpDef, Options
from edgecraft.ops.quant import dtype_range
from edgecraft.ops.relu import same_shape


def _alpha(ctx: OpContext) -> np.float32:
    return np.float32(ctx.attrs.get("alpha", 0.2))


def leaky_relu_quantized(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """``zp_out + (x - zp_in >= 0 ? MBQM(., identity) : sign * MBQM(., |alpha|))``, clamped."""
    t, out = ctx.req_input(0), ctx.output(0)
    identity = quantize_multiplier(t.scale / out.scale)
    alpha_mult, alpha_shift = quantize_multiplier(t.scale * float(_alpha(ctx)) / out.scale)
    x = args[0].astype(np.int64) - t.zero_point
    positive = multiply_by_quantized_multiplier(x, *identity)
    negative = np.sign(alpha_mult) * multiply_by_quantized_multiplier(x, abs(alpha_mult), alpha_shift)
    result = out.zero_point + np.where(x >= 0, positive, negative)
    return [np.clip(result, *dtype_range(out.dtype)).astype(out.np_dtype)]


def leaky_relu_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """float32: ``x > 0 ? x : x * alpha``."""
    x = args[0].astype(np.float32)
    return [np.where(x > 0, x, x * _alpha(ctx))]


OP = OpDef(
    name="LEAKY_RELU",
    shape=same_shape,
    kernels={"int8": leaky_relu_quantized, "int16": leaky_relu_quantized, "float32": leaky_relu_float},
    lookup=True,
    inplace=True,
    code={"portable": ("ec_data_ops.c",)},  # a 256-entry table
    state_bytes=24,
    options=Options("LeakyReluOptions", (("alpha", "Alpha", "float"),)),
)
