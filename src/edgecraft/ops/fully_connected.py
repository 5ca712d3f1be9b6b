"""FULLY_CONNECTED: ``y = x @ W.T + b`` with W of shape (outputs, depth).

The input is read as rows of ``depth`` values (all leading dimensions are batch). The output is
(rows, outputs), or the input's shape with its last dimension replaced when ``keep_num_dims``.

int8 follows TFLM's ``reference_integer_ops::FullyConnected``: ``acc = sum (w - w_zp) * (x -
x_zp) + bias``, scaled by one multiplier, plus the output zero point, clamped. The multiplier
is ``double(input_scale) * double(filter_scale) / double(output_scale)``: the TFLM build we
check against (tflite-micro 2026-10) rounds as if the product were taken in double, not in
float32 as ``GetQuantizedConvolutionMultipler``'s source reads; a test pins this down. With
per-channel filter scales it uses ``FullyConnectedPerChannel``: one multiplier per output
channel and no filter zero point. float32 with int8 weights follows LiteRT's hybrid kernel
(see :func:`fc_hybrid`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from edgecraft.ops.arith import conv_multipliers
from edgecraft.ops.base import Cost, OpContext, OpDef, OpError, Options
from edgecraft.ops.conv_common import (
    activation_range,
    asymmetric_quantize_floats,
    bias_or_zero,
    check_16x8,
    check_bias,
    int32_accumulators,
    output_quant,
    quant_of,
    requantize,
    requantize_16x8,
    symmetric_quantize_floats,
)
from edgecraft.ops.options import ACTIVATION, QUANTIZED_BIAS_TYPE
from edgecraft.ops.quant import float_activation
from edgecraft.ops.quick import quick_fully_connected


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    x, w = ctx.req_input(0), ctx.req_input(1)
    if len(w.shape) != 2:
        raise OpError(f"FULLY_CONNECTED needs a 2-D (outputs, depth) filter, got {list(w.shape)}")
    units, depth = w.shape
    check_bias(ctx, units)
    if depth < 1 or x.size % depth:
        raise OpError(
            f"FULLY_CONNECTED input {list(x.shape)} has {x.size} values, not a multiple of the "
            f"filter depth {depth}"
        )
    if ctx.attrs.get("keep_num_dims", False):
        if not x.shape or x.shape[-1] != depth:
            raise OpError(f"FULLY_CONNECTED keep_num_dims needs the input's last dimension to be {depth}")
        return [(*x.shape[:-1], units)]
    return [(x.size // depth, units)]


def multipliers(ctx: OpContext) -> tuple[np.ndarray, np.ndarray]:
    """Per-output (multiplier, shift): ``input_scale * filter_scale / output_scale`` with the
    product in double, per channel or one filter scale broadcast (also used by code generation)."""
    in_scale, _ = quant_of(ctx, 0)
    w_scales, _ = quant_of(ctx, 1)
    out_scale, _ = output_quant(ctx)
    return conv_multipliers(float(in_scale[0]), w_scales, out_scale, ctx.req_input(1).shape[0])


#: ``accumulate(ctx, rows, x_zp, w, w_zp)``: the exact int64 sums ``(rows - x_zp) @ (w - w_zp).T``
#: from int8 ``rows`` (R, depth) and ``w`` (units, depth). :func:`dot_products` is the
#: reference; ``runtime/fast`` passes an exact BLAS form.
Accumulate = Callable[[OpContext, np.ndarray, int, np.ndarray, int], np.ndarray]


def dot_products(ctx: OpContext, rows: np.ndarray, x_zp: int, w: np.ndarray, w_zp: int) -> np.ndarray:
    """``acc[r, u] = sum over d of (w[u, d] - w_zp) * (rows[r, d] - x_zp)``, in int64."""
    return (rows.astype(np.int64) - x_zp) @ (w.astype(np.int64) - w_zp).T


def fc_int8(ctx: OpContext, args: list[Any], accumulate: Accumulate = dot_products) -> list[np.ndarray]:
    """``FullyConnected`` / ``FullyConnectedPerChannel``: dot products, bias, requantize, clamp."""
    x, w = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    _, in_zp = quant_of(ctx, 0)
    w_scales, w_zp = quant_of(ctx, 1)
    _, out_zp = output_quant(ctx)
    units, depth = w.shape
    # Per channel the filter is symmetric (zero point ignored); per tensor its zero point counts.
    filter_zp = int(w_zp[0]) if len(w_scales) == 1 else 0
    acc = accumulate(ctx, x.reshape(-1, depth), int(in_zp[0]), w, filter_zp) + bias_or_zero(bias, units)
    mult, shift = ctx.memo("multipliers", lambda: multipliers(ctx))
    lo, hi = activation_range(ctx)
    return [requantize(acc, mult, shift, out_zp, lo, hi)]


def fc_int16(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """The 16x8 ``FullyConnected`` / ``FullyConnectedPerChannel`` (int16 input and output, int8
    filter): as int8, with the sums and bias in int64 (int64 bias) or wrapping int32 (int32
    bias), the int64 sums scaled by the int64 multiply; zero points count as in int8."""
    check_16x8(ctx)
    x, w = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    _, in_zp = quant_of(ctx, 0)
    w_scales, w_zp = quant_of(ctx, 1)
    _, out_zp = output_quant(ctx)
    depth = w.shape[1]
    filter_zp = int(w_zp[0]) if len(w_scales) == 1 else 0
    acc = dot_products(ctx, x.reshape(-1, depth), int(in_zp[0]), w, filter_zp)
    mult = ctx.memo("multipliers", lambda: multipliers(ctx))
    return [requantize_16x8(ctx, acc, bias, out_zp, not int32_accumulators(ctx), mult)]


def fc_float(ctx: OpContext, args: list[Any], accumulate: Accumulate = dot_products) -> list[np.ndarray]:
    """float32: ``x @ W.T + b`` in float64, then the activation; int8 weights: hybrid."""
    x, w = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    units, depth = w.shape
    act = ctx.attrs.get("fused_activation_function", "NONE")
    if w.dtype == np.int8:
        return [float_activation(fc_hybrid(ctx, x.reshape(-1, depth), w, bias, accumulate), act)]
    acc = x.reshape(-1, depth).astype(np.float64) @ w.astype(np.float64).T
    acc = acc + bias_or_zero(bias, units, np.float64)
    return [float_activation(acc.astype(np.float32), act)]


def fc_hybrid(ctx: OpContext, rows: np.ndarray, w: np.ndarray, bias: np.ndarray | None,
              accumulate: Accumulate = dot_products) -> np.ndarray:
    """LiteRT's hybrid FULLY_CONNECTED (float input, int8 weights), before the activation.

    Each input row is quantized to int8 on the fly (symmetric, or asymmetric with a zero point
    when ``asymmetric_quantize_inputs``), multiplied in integers, and each sum (less
    ``zero_point * sum(weights row)``) is scaled in float32 by ``input_scale * filter_scale``
    (per output channel when the filter has several scales) and added to the float bias.
    """
    w_scales, _ = quant_of(ctx, 1)
    units = w.shape[0]
    if len(w_scales) not in (1, units):
        raise OpError(f"FULLY_CONNECTED filter has {len(w_scales)} scales for {units} outputs")
    asymmetric = bool(ctx.attrs.get("asymmetric_quantize_inputs", False))
    out = np.empty((rows.shape[0], units), np.float32)
    for r, row in enumerate(rows):
        if asymmetric:
            q, x_scale, zp = asymmetric_quantize_floats(row)
        else:
            (q, x_scale), zp = symmetric_quantize_floats(row), 0
        dot = accumulate(ctx, q[None, :], zp, w, 0)[0]  # exact: |sums| < 2**24
        scale = (x_scale * w_scales).astype(np.float32)  # float32 product per channel
        out[r] = bias_or_zero(bias, units, np.float32) + dot.astype(np.float32) * scale
    return out


def cost(ctx: OpContext) -> Cost:
    x, w, bias = ctx.req_input(0), ctx.req_input(1), ctx.input(2)
    out = ctx.output(0)
    read = x.nbytes + w.nbytes + (bias.nbytes if bias is not None else 0)
    return Cost(out.size * w.shape[1], read, out.nbytes)


def filter_channels(ctx: OpContext) -> int:
    """Multipliers kept at run time: one per filter scale (per channel or one per tensor)."""
    w = ctx.input(1)
    if w is None:
        return 0
    return len(w.quant.scale) if w.quant is not None else 1


#: Longest row the DSP kernel takes its SMLAD path for (``EC_FC_DEPTH_MAX`` in
#: ``codegen/kernels/ec_fully_connected_dsp.c``).
DSP_DEPTH_MAX = 1024


def dsp_scratch(ctx: OpContext) -> int:
    """The DSP kernel's scratch: ``depth / 2 + 3`` int32 SMLAD operands of one input row
    (``ec_fully_connected_dsp.c``); none when it takes the plain loop (long rows, or a
    per-tensor filter with a nonzero zero point). A layer run as the quick convolution kernel's
    1x1 convolution (``ops/quick.py``) takes that kernel's operands of two pixels: a word per
    two values of each, a word per leftover value (``ec_conv_2d_quick_dsp.c``)."""
    w = ctx.req_input(1)
    depth = w.shape[1]
    if quick_fully_connected(ctx):
        return 4 * (depth + depth % 4)
    offset = w.quant is not None and not w.quant.per_channel and w.zero_point != 0
    return 4 * (depth // 2 + 3) if depth <= DSP_DEPTH_MAX and not offset else 0


def dsp_scratch_shift(ctx: OpContext) -> int | None:
    """How far below a single input row the DSP kernel's scratch may start: ``ec_to_q15_pairs``
    reads four input bytes, then writes their eight operand bytes (the last ``depth % 4`` bytes
    one int32 each), so operands ending ``depth + 2 * (depth % 4)`` bytes above the scratch's
    start never pass an input byte not yet read. One row only (later rows are read after); the
    quick convolution kernel's operands (``quick_fully_connected``) not at all."""
    if quick_fully_connected(ctx):
        return None
    w = ctx.req_input(1)
    depth = w.shape[1]
    rows = ctx.req_input(0).size // depth if depth else 0
    return depth + 2 * (depth % 4) if rows == 1 else None


OP = OpDef(
    name="FULLY_CONNECTED",
    shape=shape,
    kernels={"int8": fc_int8, "int16": fc_int16, "float32": fc_float},
    cost=cost,
    scratch={"dsp": dsp_scratch},
    scratch_below_input={"dsp": dsp_scratch_shift},
    scratch_optional=frozenset({"dsp"}),  # ec_fully_connected_dsp_direct_s8
    work_class="fc",
    bias_input=2,
    requant_channels=filter_channels,
    # dsp: the quick convolution kernel's file where the layer runs on it (ops/quick.py)
    code={"portable": ("ec_fully_connected.c",), "mve": ("ec_fully_connected_mve.c",),
          "dsp": ("ec_fully_connected_dsp.c", "ec_conv_2d_quick_dsp.c")},
    state_bytes=32,
    options=Options("FullyConnectedOptions", (
        ACTIVATION,
        ("weights_format", "WeightsFormat", "int"),
        ("keep_num_dims", "KeepNumDims", "bool"),
        ("asymmetric_quantize_inputs", "AsymmetricQuantizeInputs", "bool"),
        QUANTIZED_BIAS_TYPE,
    )),
)
