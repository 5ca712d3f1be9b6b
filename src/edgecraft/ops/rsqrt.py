"""RSQRT: ``1 / sqrt(x)``, float32 and int8 as TFLM's ``elementwise.cc``.

int8: ``v = x - zp_in``; v == 0 gives 127 (TFLM: "any value close to 0 represents the max");
otherwise ``1/sqrt(v)`` from :func:`~edgecraft.ops.fixedpoint.inv_sqrt_quantized_multiplier_exp`
is applied to 1 with 20 extra bits (``MBQM(1, m, s + 20)``), then scaled by
``1 / (sqrtf(s_in) * s_out)`` (the product in float, as TFLM's C computes it) with the shift
``- 20``, plus the output zero point, clamped. A negative ``v`` is an error in TFLM ("Rsqrt is
only defined for positive values"), and here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.arith import multiply_by_quantized_multiplier, quantize_multiplier
from edgecraft.ops.base import OpContext, OpDef, OpError
from edgecraft.ops.conv_common import output_quant, quant_of
from edgecraft.ops.fixedpoint import inv_sqrt_quantized_multiplier_exp
from edgecraft.ops.relu import same_shape

_EXTRA = 20  # TFLM's kShift


def output_multiplier(input_scale: float, output_scale: float) -> tuple[int, int]:
    """``QuantizeMultiplier(1. / (double)(std::sqrt(input_scale) * output_scale))`` with the
    square root and the product in float32."""
    product = np.float32(np.sqrt(np.float32(input_scale))) * np.float32(output_scale)
    return quantize_multiplier(1.0 / float(product))


def rsqrt_table(ctx: OpContext) -> np.ndarray:
    """The int8 result for every input -128 .. 127 (negatives, which TFLM refuses, clamp as
    the formula gives); what the C kernel looks up."""
    in_scale, in_zp = quant_of(ctx, 0)
    out_scale, out_zp = output_quant(ctx)
    mult, shift = output_multiplier(float(in_scale[0]), out_scale)
    table = np.empty(256, np.int8)
    for q in range(-128, 128):
        v = q - int(in_zp[0])
        if v == 0:
            table[q + 128] = 127
            continue
        m, s = inv_sqrt_quantized_multiplier_exp(max(v, 0))
        data = int(multiply_by_quantized_multiplier(1, m, s + _EXTRA))
        out = int(multiply_by_quantized_multiplier(data, mult, shift - _EXTRA)) + out_zp
        table[q + 128] = min(max(out, -128), 127)
    return table


def rsqrt_int8(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0])
    _, in_zp = quant_of(ctx, 0)
    if x.size and int(x.min()) < int(in_zp[0]):
        raise OpError("RSQRT is only defined for positive values (TFLM refuses an input below "
                      f"the zero point {int(in_zp[0])})")
    table = ctx.memo("rsqrt_table", lambda: rsqrt_table(ctx))
    return [table[x.astype(np.int64) + 128]]


def rsqrt_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """``1.f / std::sqrt(f)`` in float32."""
    x = np.asarray(args[0]).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        return [(np.float32(1) / np.sqrt(x)).astype(np.float32)]


OP = OpDef(
    name="RSQRT",
    shape=same_shape,
    kernels={"int8": rsqrt_int8, "float32": rsqrt_float},
    inplace=True,
    code={"portable": ("ec_data_ops.c",)},  # a 256-entry table
    state_bytes=16,
)
