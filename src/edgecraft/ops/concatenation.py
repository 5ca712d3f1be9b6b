"""CONCATENATION: join the inputs along ``axis`` (negative counts from the end).

As in TFLM, quantized values are copied as stored, without rescaling, so every quantized input
must share the output's scale and zero point (TFLM refuses the model otherwise; the converter
ensures it). Fused activations are not supported (TFLM refuses them too). TFLM takes at most
10 inputs of rank at most 4; the kernel here has no such limits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ir.graph import DTYPES
from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.options import ACTIVATION


def _axis(ctx: OpContext, rank: int) -> int:
    axis = int(ctx.attrs.get("axis", 0))
    if not -rank <= axis < rank:
        raise OpError(f"CONCATENATION axis {axis} is out of range for rank-{rank} inputs")
    return axis % rank


def concatenation_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """Inputs agree on every dimension but ``axis``; the output sums the ``axis`` sizes."""
    inputs = [ctx.req_input(i) for i in range(ctx.num_inputs)]
    if ctx.attrs.get("fused_activation_function", "NONE") != "NONE":
        raise OpError("CONCATENATION with a fused activation is not supported; use a separate op")
    first, out = inputs[0].shape, ctx.output(0)
    axis = _axis(ctx, len(first))
    for t in inputs:
        if t.dtype != inputs[0].dtype:
            raise OpError(f"CONCATENATION inputs must share a dtype, got {inputs[0].dtype} and {t.dtype}")
        same = len(t.shape) == len(first) and all(
            a == b for i, (a, b) in enumerate(zip(t.shape, first, strict=True)) if i != axis
        )
        if not same:
            raise OpError(
                f"CONCATENATION input shapes {list(first)} and {list(t.shape)} differ off axis {axis}"
            )
        if t.quant is not None and (t.scale, t.zero_point) != (out.scale, out.zero_point):
            raise OpError(
                f"CONCATENATION input {t.name!r} is quantized ({t.scale:g}, {t.zero_point}) unlike the "
                f"output ({out.scale:g}, {out.zero_point}); requantize it first with a QUANTIZE op"
            )
    size = sum(t.shape[axis] for t in inputs)
    return [(*first[:axis], size, *first[axis + 1 :])]


def concatenation(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Any dtype: the inputs side by side along ``axis``."""
    return [np.concatenate(args, axis=_axis(ctx, args[0].ndim))]


OP = OpDef(
    name="CONCATENATION",
    shares_quant=True,
    shape=concatenation_shape,
    kernels=dict.fromkeys(DTYPES, concatenation),
    code={"portable": ("ec_data_ops.c",)},
    state_bytes=16,
    options=Options("ConcatenationOptions", (("axis", "Axis", "int"), ACTIVATION)),
)
