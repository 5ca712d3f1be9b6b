"""MEAN: average over the axes given by a constant int32 input; ``keep_dims`` keeps them as 1.

int8 follows TFLM's ``QuantizedMeanOrSum``: the int32 sum of each group minus ``count *
input_zp`` is scaled by ``input_scale / output_scale`` with ``1/count`` folded into the
multiplier (shifted left by ``floor(log2(count))``, at most 32 and at most ``31 + shift``, then
divided by ``count`` with integer division), plus the output zero point, clamped to int8.
int16 (``QuantizedMeanOrSum<int16_t>``) is the same, clamped to int16.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.arith import multiply_by_quantized_multiplier, quantize_multiplier, wrap_int32
from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.conv_common import output_quant, quant_of


def axes(ctx: OpContext) -> tuple[int, ...]:
    """The reduced axes: negatives resolved, duplicates dropped, in the order given."""
    rank = len(ctx.req_input(0).shape)
    out: list[int] = []
    for a in np.asarray(ctx.const(1)).reshape(-1).tolist():
        if not -rank <= a < rank:
            raise OpError(f"MEAN axis {a} is out of range for a rank-{rank} input")
        if a % rank not in out:
            out.append(a % rank)
    return tuple(out)


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    dims, reduced = ctx.req_input(0).shape, axes(ctx)
    if ctx.attrs.get("keep_dims", False):
        return [tuple(1 if i in reduced else d for i, d in enumerate(dims))]
    return [tuple(d for i, d in enumerate(dims) if i not in reduced)]


def mean_multiplier(input_scale: float, output_scale: float, count: int) -> tuple[int, int]:
    """TFLM's (multiplier, shift) for ``input_scale / output_scale / count``."""
    mult, shift = quantize_multiplier(float(input_scale) / float(output_scale))
    up = min(count.bit_length() - 1, 32, 31 + shift)
    return int((mult << up) // count), shift - up


def mean_int8(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0])
    reduced = axes(ctx)
    in_scale, in_zp = quant_of(ctx, 0)
    out_scale, out_zp = output_quant(ctx)
    count = int(np.prod([x.shape[a] for a in reduced], dtype=np.int64))
    total = wrap_int32(x.astype(np.int64).sum(axis=reduced))
    mult, shift = mean_multiplier(float(in_scale[0]), out_scale, count)
    scaled = multiply_by_quantized_multiplier(wrap_int32(total - count * int(in_zp[0])), mult, shift)
    dtype = ctx.output(0).np_dtype
    info = np.iinfo(dtype)
    return [np.clip(scaled + out_zp, info.min, info.max).astype(dtype)]


def mean_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0])
    return [x.astype(np.float64).mean(axis=axes(ctx)).astype(np.float32)]


OP = OpDef(
    name="MEAN",
    shape=shape,
    kernels={"int8": mean_int8, "int16": mean_int8, "float32": mean_float},
    code={"portable": ("ec_reshape_ops.c",)},
    state_bytes=24,
    options=Options("ReducerOptions", (("keep_dims", "KeepDims", "bool"),)),
)
