"""Which int8 CONV_2D and DEPTHWISE_CONV_2D layers a DSP build runs on the quick kernels
(``codegen/ops_c_quick.py``, ``kernels/*_quick_dsp.c``): the int8 clamp, right shifts only,
multipliers in [2^30, 2^31) (the kernels take 2 m - 2^32 as an int32), one group (depth
multiplier 1), a patch the scratch takes (convolution) or a group of taps the stack buffer takes
(depthwise), accumulators provably within int32 (TFLM's and the kernels' partial sums alike),
and a geometry the parameter block holds (:func:`quick_geometry_fits`). The C generator decides
with these checks (plus its own: a planned scratch, a depthwise output that may overlap its
input); ``profile`` counts the kernel file each layer will link."""

from __future__ import annotations

import numpy as np

from edgecraft.ir.graph import Graph
from edgecraft.ops.arith import conv_multipliers
from edgecraft.ops.base import OpContext
from edgecraft.ops.conv_2d import DSP_PATCH_MAX
from edgecraft.ops.conv_common import activation_range

#: The largest accumulator magnitude the quick kernels take (an int32, never wrapping).
ACC_LIMIT = 2**31 - 1


#: The largest dilation ``ec_quick_params`` holds (``int8_t dilation_h, dilation_w``); its sizes,
#: strides, pads and offsets are halfwords.
QUICK_DILATION_MAX = 127


def quick_geometry_fits(values: list[int], dilations: tuple[int, int]) -> bool:
    """Whether the quick kernels' parameter block holds a layer: ``values`` (sizes, strides,
    pads, offsets) each in an int16, ``dilations`` at most :data:`QUICK_DILATION_MAX`."""
    return max(dilations) <= QUICK_DILATION_MAX and all(-(2**15) <= v < 2**15 for v in values)


#: The quick depthwise kernel's stack buffer of a group of channels' filter taps as halfword
#: pairs, in words (``EC_DW_WORDS`` in ``ec_depthwise_conv_2d_quick_dsp.c``): 576 B.
DW_GROUP_WORDS = 144


def depthwise_group_fits(filter_shape: tuple[int, ...]) -> bool:
    """Whether one group of 4 channels' taps (2 words each) fits the depthwise kernel's buffer."""
    return 2 * int(filter_shape[1]) * int(filter_shape[2]) <= DW_GROUP_WORDS


def depthwise_passes(filter_shape: tuple[int, ...], channels: int) -> int:
    """How many times the quick depthwise kernel goes over the pixels: once per group of
    DW_GROUP_WORDS / (2 kh kw) quads of channels (at least once)."""
    group = DW_GROUP_WORDS // (2 * int(filter_shape[1]) * int(filter_shape[2]))
    return max(1, -(-(channels // 4) // max(group, 1)))


def accumulators_fit(ctx: OpContext, taps_by_channel: np.ndarray) -> bool:
    """|bias| + (128 + |input offset|) * sum |filter| at most ACC_LIMIT for every channel: then
    TFLM's accumulator, and every partial sum of the kernels' (which may add the offset x
    filter sums up front), stays within int32."""
    off = -ctx.req_input(0).zero_point
    x_max = 128 + abs(off)
    bias = np.abs(ctx.const(2).astype(np.int64)) if ctx.input(2) is not None else 0
    bound = bias + x_max * np.abs(taps_by_channel.astype(np.int64)).sum(axis=1)
    return bool(np.all(bound <= ACC_LIMIT))


def quick_requant(ctx: OpContext, mult: np.ndarray, shift: np.ndarray) -> bool:
    """The int8 clamp, right shifts only (every shift <= -1) and every multiplier in
    [2^30, 2^31) (so 2 m - 2^32 is an int32: see ``quick_multipliers``)."""
    m = np.asarray(mult, dtype=np.int64)
    return (activation_range(ctx) == (-128, 127) and not np.any(np.asarray(shift) > -1)
            and bool(np.all((m >= 2**30) & (m < 2**31))))


def _shifts(ctx: OpContext) -> np.ndarray | None:
    """The layer's per-channel shifts (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED), or None."""
    x, w, y = ctx.input(0), ctx.input(1), ctx.output(0)
    if x is None or w is None or x.quant is None or w.quant is None or y.quant is None:
        return None
    return conv_multipliers(x.scale, w.quant.scale, y.scale, y.shape[-1])[1]


def byte_shifts(graph: Graph) -> bool:
    """Whether a DSP build's quick kernels keep each channel's right shift (-shift - 1) in a
    byte: some layer that may run on them shifts by more than 16 bits. Otherwise (KWS, ResNet-8)
    two channels share a byte, a nibble each (``EC_QUICK_BYTE_SHIFTS`` 0); one format a model,
    its copy of the kernels compiled for it."""
    for op in graph.operators:
        if op.type not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        ctx = OpContext(op, graph)
        shift = _shifts(ctx)
        if shift is not None and np.any(np.asarray(shift) < -16) and quick_layer(ctx):
            return True
    return False


def quick_multipliers(mult: np.ndarray) -> np.ndarray:
    """The quick kernels' multiplier table: 2 m - 2^32 per channel (int32, negative), so that
    SMMLAR(acc, 2 m - 2^32, acc) is TFLM's SaturatingRoundingDoublingHighMul(acc, m)."""
    return (2 * np.asarray(mult, dtype=np.int64) - 2**32).astype(np.int32)


def quick_layer(ctx: OpContext) -> bool:
    """Whether a DSP build may run this int8 layer on its quick kernel (see the module; a
    FULLY_CONNECTED: :func:`quick_fully_connected`)."""
    if ctx.op.type == "FULLY_CONNECTED":
        return quick_fully_connected(ctx)
    x, w, y = ctx.input(0), ctx.input(1), ctx.output(0)
    if x is None or w is None or w.data is None or {x.dtype, w.dtype, y.dtype} != {"int8"}:
        return False
    if x.quant is None or w.quant is None or y.quant is None or w.shape[3] != x.shape[3]:
        return False
    a = ctx.attrs
    geometry = [*x.shape, *w.shape, *y.shape, a.get("stride_h", 1), a.get("stride_w", 1), -x.zero_point,
                y.zero_point]
    if not quick_geometry_fits(geometry, (a.get("dilation_h_factor", 1), a.get("dilation_w_factor", 1))):
        return False
    depthwise = ctx.op.type == "DEPTHWISE_CONV_2D"
    mult, shift = conv_multipliers(x.scale, w.quant.scale, y.scale, y.shape[3])
    if not quick_requant(ctx, mult, shift):
        return False
    wv = ctx.const(1)
    if depthwise:
        return depthwise_group_fits(w.shape) and accumulators_fit(ctx, wv.reshape(-1, wv.shape[-1]).T)
    return int(np.prod(w.shape[1:])) <= DSP_PATCH_MAX and accumulators_fit(ctx, wv.reshape(w.shape[0], -1))


def quick_fully_connected(ctx: OpContext) -> bool:
    """Whether a DSP build runs this int8 FULLY_CONNECTED as the quick convolution kernel's 1x1
    convolution over a (1, 1, rows, depth) input: the layer meets the quick conditions (a filter
    without zero point, the int8 clamp, right shifts only, accumulators that fit, a depth the
    scratch takes) and a CONV_2D of the same model runs on that kernel, which is then linked
    anyway (the fully connected kernel would be flash of its own; models without such a
    convolution keep it, tuned for fully connected layers)."""
    x, w, y = ctx.input(0), ctx.input(1), ctx.output(0)
    if x is None or w is None or w.data is None or {x.dtype, w.dtype, y.dtype} != {"int8"}:
        return False
    if x.quant is None or w.quant is None or y.quant is None or len(w.shape) != 2:
        return False
    if w.shape[1] > DSP_PATCH_MAX or (not w.quant.per_channel and w.zero_point != 0):
        return False
    mult, shift = conv_multipliers(x.scale, w.quant.scale, y.scale, w.shape[0])
    if not quick_requant(ctx, mult, shift) or not accumulators_fit(ctx, ctx.const(1)):
        return False
    return any(op.type == "CONV_2D" and quick_layer(OpContext(op, ctx.graph)) for op in ctx.graph.operators)
