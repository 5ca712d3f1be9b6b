"""Which int8 CONV_2D and DEPTHWISE_CONV_2D layers a DSP build runs on the quick kernels
(``codegen/ops_c_quick.py``, ``kernels/*_quick_dsp.c``): the int8 clamp, right shifts only,
one group (depth multiplier 1), a patch the scratch takes, and accumulators provably below 2^30
(the quick requantization doubles them in 32 bits). The C generator decides with these checks
(plus its own: halfword geometry, a planned scratch); ``profile`` counts the kernel file each
layer will link."""

from __future__ import annotations

import numpy as np

from edgecraft.ops.arith import conv_multipliers
from edgecraft.ops.base import OpContext
from edgecraft.ops.conv_2d import DSP_PATCH_MAX
from edgecraft.ops.conv_common import activation_range

#: The largest accumulator magnitude the quick requantization takes (it doubles it in 32 bits).
ACC_LIMIT = 2**30 - 1


def accumulators_fit(ctx: OpContext, taps_by_channel: np.ndarray) -> bool:
    """|bias| + max |input + offset| * sum |filter| below ACC_LIMIT for every channel: then
    TFLM's accumulator (which the kernels reproduce exactly) is too."""
    off = -ctx.req_input(0).zero_point
    x_max = max(abs(-128 + off), abs(127 + off))
    bias = np.abs(ctx.const(2).astype(np.int64)) if ctx.input(2) is not None else 0
    bound = bias + x_max * np.abs(taps_by_channel.astype(np.int64)).sum(axis=1)
    return bool(np.all(bound <= ACC_LIMIT))


def quick_requant(ctx: OpContext, shift: np.ndarray) -> bool:
    """The int8 clamp and right shifts only (every shift <= -1)."""
    return activation_range(ctx) == (-128, 127) and not np.any(np.asarray(shift) > -1)


def quick_layer(ctx: OpContext) -> bool:
    """Whether a DSP build may run this int8 layer on its quick kernel (see the module)."""
    x, w, y = ctx.input(0), ctx.input(1), ctx.output(0)
    if x is None or w is None or w.data is None or {x.dtype, w.dtype, y.dtype} != {"int8"}:
        return False
    if x.quant is None or w.quant is None or y.quant is None or w.shape[3] != x.shape[3]:
        return False
    depthwise = ctx.op.type == "DEPTHWISE_CONV_2D"
    _, shift = conv_multipliers(x.scale, w.quant.scale, y.scale, y.shape[3])
    if not quick_requant(ctx, shift):
        return False
    wv = ctx.const(1)
    if depthwise:
        return accumulators_fit(ctx, wv.reshape(-1, wv.shape[-1]).T)
    return int(np.prod(w.shape[1:])) <= DSP_PATCH_MAX and accumulators_fit(ctx, wv.reshape(w.shape[0], -1))
