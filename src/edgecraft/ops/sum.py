"""SUM: add over the axes given by a constant int32 input; ``keep_dims`` keeps them as 1.

int8 and int16 follow TFLM's ``QuantizedMeanOrSum`` with ``compute_sum``: the int32 sum of
each group minus ``count * input_zp`` is scaled by ``input_scale / output_scale`` (one
QuantizeMultiplier of the double ratio, no ``1/count`` as MEAN has), plus the output zero
point, clamped to the type. float32 sums in float (TFLM's ``ReduceGeneric``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.arith import multiply_by_quantized_multiplier, quantize_multiplier, wrap_int32
from edgecraft.ops.base import OpContext, OpDef, Options
from edgecraft.ops.conv_common import output_quant, quant_of
from edgecraft.ops.mean import axes, shape
from edgecraft.ops.quant import dtype_range


def sum_multiplier(input_scale: float, output_scale: float) -> tuple[int, int]:
    """TFLM's (multiplier, shift) for ``input_scale / output_scale`` (computed in double)."""
    return quantize_multiplier(float(input_scale) / float(output_scale))


def sum_quantized(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """int8/int16: ``clamp(MBQM(sum - count * zp_in, s_in / s_out) + zp_out)``."""
    x = np.asarray(args[0])
    reduced = axes(ctx)
    in_scale, in_zp = quant_of(ctx, 0)
    out_scale, out_zp = output_quant(ctx)
    count = int(np.prod([x.shape[a] for a in reduced], dtype=np.int64))
    total = wrap_int32(x.astype(np.int64).sum(axis=reduced))
    mult, shift = sum_multiplier(float(in_scale[0]), out_scale)
    scaled = multiply_by_quantized_multiplier(wrap_int32(total - count * int(in_zp[0])), mult, shift)
    lo, hi = dtype_range(ctx.output(0).dtype)
    out = np.clip(scaled + out_zp, lo, hi).astype(ctx.output(0).np_dtype)
    return [out.reshape(ctx.output(0).shape)]


def sum_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0])
    return [x.astype(np.float64).sum(axis=axes(ctx)).astype(np.float32).reshape(ctx.output(0).shape)]


OP = OpDef(
    name="SUM",
    shape=shape,
    kernels={"int8": sum_quantized, "int16": sum_quantized, "float32": sum_float},
    code={"portable": ("ec_reshape_ops.c",)},
    state_bytes=24,
    options=Options("ReducerOptions", (("keep_dims", "KeepDims", "bool"),)),
)
