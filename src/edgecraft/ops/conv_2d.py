"""CONV_2D: 2-D convolution over NHWC input with an OHWI filter (grouped when the filter holds
fewer input channels than the input).

int8 follows TFLM's ``reference_integer_ops::ConvPerChannel``: ``acc = sum w * (x - x_zp)`` over
taps inside the image, plus the int32 bias, scaled by the per-channel multiplier, plus the
output zero point, clamped to the fused activation's range. The filter zero point is not used
(int8 filters are symmetric). A per-tensor filter scale is broadcast to every channel.
float32 with int8 weights follows LiteRT's hybrid kernels (see :func:`conv_hybrid`).

The sums are written as the math reads: one filter tap at a time (:func:`correlate`). The
runtime's fast path (``runtime/fast``) gets the same integers from im2col and BLAS.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import Cost, OpContext, OpDef, OpError, Options
from edgecraft.ops.conv_common import (
    Accumulate,
    asymmetric_quantize_floats,
    bias_or_zero,
    check_16x8,
    check_bias,
    filter_window,
    int32_accumulators,
    output_channels,
    quant_of,
    requantize_16x8,
    requantize_per_channel,
    symmetric_quantize_floats,
    window_geometry,
    windows,
)
from edgecraft.ops.options import ACTIVATION, DILATION, PADDING, QUANTIZED_BIAS_TYPE, STRIDES
from edgecraft.ops.quant import float_activation


def _groups(ctx: OpContext) -> int:
    in_ch = ctx.req_input(0).shape[3]
    out_ch, _, _, filter_ch = ctx.req_input(1).shape
    if filter_ch < 1 or in_ch % filter_ch or out_ch % (in_ch // filter_ch):
        raise OpError(
            f"CONV_2D input has {in_ch} channels but the filter expects {filter_ch} per group "
            f"with {out_ch} outputs; the input channels must be a multiple of the filter's"
        )
    return in_ch // filter_ch


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    x, w = ctx.req_input(0), ctx.req_input(1)
    if len(x.shape) != 4 or len(w.shape) != 4:
        raise OpError(f"CONV_2D needs a 4-D input and filter, got {list(x.shape)} and {list(w.shape)}")
    _groups(ctx)
    n, h, wd, _ = x.shape
    out_ch, kh, kw, _ = w.shape
    check_bias(ctx, out_ch)
    out_h, out_w, _, _ = window_geometry(ctx, h, wd, kh, kw)
    return [(n, out_h, out_w, out_ch)]


def correlate(ctx: OpContext, x: np.ndarray, w: np.ndarray, dtype: type) -> np.ndarray:
    """``out[n, y, x, o] = sum over taps (ky, kx) and the group's channels c of
    w[o, ky, kx, c] * in[n, y*sh + ky*dh - pad_top, x*sw + kx*dw - pad_left, g*Cg + c]``, in
    ``dtype``: x (N,H,W,C), w (O,KH,KW,C/G) -> (N,OH,OW,O). Taps outside the image read 0."""
    out_ch, kh, kw, group_ch = w.shape
    groups = x.shape[3] // group_ch
    win = windows(x.astype(dtype, copy=False), ctx, kh, kw, 0)  # (N, OH, OW, KH, KW, C)
    n, oh, ow = win.shape[:3]
    win = win.reshape(n, oh, ow, kh, kw, groups, group_ch)
    f: np.ndarray = w.astype(dtype).reshape(groups, out_ch // groups, kh, kw, group_ch)
    acc = np.zeros((n, oh, ow, groups, out_ch // groups), dtype)
    for i in range(kh):
        for j in range(kw):  # one filter tap: every output adds its window's pixel times the weights
            acc += np.einsum("nhwgc,goc->nhwgo", win[:, :, :, i, j], f[:, :, i, j])
    return acc.reshape(n, oh, ow, out_ch)


def sum_over_taps(ctx: OpContext, x: np.ndarray, zero_point: int, w: np.ndarray) -> np.ndarray:
    """The reference accumulation: ``sum w * (x - zero_point)`` in int64 (int8 ``x``). The zero
    point goes first, so padded taps (0) add nothing, as TFLM skips taps outside the image."""
    return correlate(ctx, x.astype(np.int64) - zero_point, w, np.int64)


def conv_int8(ctx: OpContext, args: list[Any], accumulate: Accumulate = sum_over_taps) -> list[np.ndarray]:
    """``ConvPerChannel``: accumulate, add the bias, requantize per channel, clamp."""
    x, w = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    _, in_zp = quant_of(ctx, 0)
    acc = accumulate(ctx, x, int(in_zp[0]), w)
    return [requantize_per_channel(ctx, acc, bias)]


def conv_int16(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """The 16x8 ``ConvPerChannel`` (int16 input and output, int8 filter): ``sum w * x`` with no
    input or output offset (TFLM's int16 kernel uses neither zero point), plus the bias, in
    int64 (int64 bias) or wrapping int32 (int32 bias), scaled per channel, clamped."""
    check_16x8(ctx)
    x, w = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    acc = sum_over_taps(ctx, x, 0, w)
    return [requantize_16x8(ctx, acc, bias, 0, wide=not int32_accumulators(ctx))]


def conv_float(ctx: OpContext, args: list[Any], accumulate: Accumulate = sum_over_taps) -> list[np.ndarray]:
    """float32: sums in float64 plus the bias, then the activation; int8 weights: hybrid."""
    x, w = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    act = ctx.attrs.get("fused_activation_function", "NONE")
    if w.dtype == np.int8:
        return [float_activation(conv_hybrid(ctx, x, w, bias, accumulate), act)]
    acc = correlate(ctx, x, w, np.float64) + bias_or_zero(bias, w.shape[0], np.float64)
    return [float_activation(acc.astype(np.float32), act)]


def conv_hybrid(ctx: OpContext, x: np.ndarray, w: np.ndarray, bias: np.ndarray | None,
                accumulate: Accumulate = sum_over_taps) -> np.ndarray:
    """LiteRT's hybrid CONV_2D (float input, int8 weights), before the activation.

    Each batch of the input is quantized to int8 on the fly, the convolution runs in integers,
    each sum is scaled back in float32 and the float bias is added. With one filter scale the
    input is quantized symmetrically (``max|x| / 127``) and the scale is ``input_scale *
    filter_scale``; with differing per-channel scales, or groups, it is quantized asymmetrically
    and the sums (less the zero point's share) are scaled per channel, in LiteRT's float order.
    This differs from a float convolution with dequantized weights by the input's quantization
    error, so it is computed the same way.
    """
    w_scales, _ = quant_of(ctx, 1)
    if len(w_scales) not in (1, w.shape[0]):
        raise OpError(f"CONV_2D filter has {len(w_scales)} scales for {w.shape[0]} output channels")
    grouped = x.shape[3] != w.shape[3]
    per_channel = grouped or bool((w_scales != w_scales[0]).any())
    out = np.empty((*shape(ctx)[0][:3], w.shape[0]), np.float32)
    for b in range(x.shape[0]):
        if per_channel:
            xq, x_scale, zp = asymmetric_quantize_floats(x[b : b + 1])
        else:
            (xq, x_scale), zp = symmetric_quantize_floats(x[b : b + 1]), 0
        # Taps outside the image add nothing; |sums| < 2**24, so float32 holds them exactly.
        acc = accumulate(ctx, xq, zp, w).astype(np.float32)
        if not per_channel:
            out[b : b + 1] = acc * np.float32(x_scale * w_scales[0])
        elif grouped:  # LiteRT's reference kernel: (sum * channel scale) * input scale
            out[b : b + 1] = acc * w_scales * x_scale
        else:  # its optimized kernel: sum * (channel scale * input scale)
            out[b : b + 1] = acc * (w_scales * x_scale)
    return out + bias_or_zero(bias, w.shape[0], np.float32)


def cost(ctx: OpContext) -> Cost:
    out = ctx.output(0)
    w = ctx.req_input(1)
    _, kh, kw, group_ch = w.shape
    bias = ctx.input(2)
    read = ctx.req_input(0).nbytes + w.nbytes + (bias.nbytes if bias is not None else 0)
    return Cost(out.size * kh * kw * group_ch, read, out.nbytes)


#: Longest patch (taps x channels per group) the DSP kernel takes its SMLAD path for
#: (``EC_PATCH_MAX`` in ``codegen/kernels/ec_dsp.h``); longer ones run a plain loop, no scratch.
DSP_PATCH_MAX = 576


def dsp_scratch(ctx: OpContext) -> int:
    """The DSP kernel's scratch: ``n + 6`` int32 SMLAD operands and two ``n``-byte patches for
    patch length ``n`` (``ec_conv_2d_dsp.c``); none when it takes the plain loop."""
    _, kh, kw, group_ch = ctx.req_input(1).shape
    n = kh * kw * group_ch
    return 4 * (n + 6) + 2 * n if n <= DSP_PATCH_MAX else 0


def pointwise_in_place(ctx: OpContext) -> bool:
    """A 1x1 convolution with unit strides and no padding: its patches are the input's pixels
    (the MVE kernel runs it as one fully connected product, no scratch)."""
    x, y = ctx.req_input(0), ctx.output(0)
    _, kh, kw, _ = ctx.req_input(1).shape
    a = ctx.attrs
    unit = (kh, kw, a.get("stride_h", 1), a.get("stride_w", 1)) == (1, 1, 1, 1)
    return unit and x.shape[1:3] == y.shape[1:3]


def mve_scratch(ctx: OpContext) -> int:
    """The Helium kernel's scratch (``ec_conv_2d_mve.c``): ``mve_patches`` patches of
    ``kh * kw * in_c`` bytes and 16 spare ones, none for an in-place 1x1; a grouped convolution runs the DSP
    kernel and takes its."""
    group_ch = ctx.req_input(1).shape[3]
    if group_ch != ctx.req_input(0).shape[3]:
        return dsp_scratch(ctx)
    if pointwise_in_place(ctx):
        return 0
    depth = mve_patch_depth(ctx)
    return mve_patches(depth) * depth + 16  # 16 spare bytes: rows copied 16 bytes at a time


def mve_patch_depth(ctx: OpContext) -> int:
    """Bytes per gathered patch in the Helium kernel: ``kh * kw * in_c`` rounded up to a
    multiple of 16 when that stays under 64 (the fully connected product then holds a patch in
    vector registers; the generator pads the filter rows with zeros to match), else itself
    (``ec_conv_2d_mve.c`` applies the same rule)."""
    _, kh, kw, group_ch = ctx.req_input(1).shape
    depth = kh * kw * group_ch
    return -(-depth // 16) * 16 if depth % 16 and depth < 64 else depth


def mve_patches(depth: int) -> int:
    """Patches of ``depth`` bytes the Helium kernel gathers before one matrix product: as many
    as fit 512 bytes, 1 to 16 (``EC_CONV_MVE_PATCHES`` in ``ec_mve.h``)."""
    return 1 if depth >= 256 else min(16, 512 // depth)


OP = OpDef(
    name="CONV_2D",
    shape=shape,
    kernels={"int8": conv_int8, "int16": conv_int16, "float32": conv_float},
    cost=cost,
    scratch={"dsp": dsp_scratch, "mve": mve_scratch},
    work_class="conv",
    bias_input=2,
    window=filter_window,
    requant_channels=output_channels,
    code={"portable": ("ec_conv_2d.c",), "dsp": ("ec_conv_2d_dsp.c", "ec_conv_2d_quick_dsp.c"),
          "mve": ("ec_conv_2d_mve.c", "ec_fully_connected_mve.c")},  # grouped: the dsp file
    state_bytes=40,
    options=Options("Conv2DOptions", (PADDING, *STRIDES, ACTIVATION, *DILATION, QUANTIZED_BIAS_TYPE)),
)
