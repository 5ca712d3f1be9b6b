"""DEPTHWISE_CONV_2D: each input channel convolved with its own ``depth_multiplier`` filters.

Filter layout (1, KH, KW, C*M); output channel ``c * M + m`` reads input channel ``c``.
int8 follows TFLM's ``reference_integer_ops::DepthwiseConvPerChannel``: ``acc = sum w * (x -
x_zp)`` over taps inside the image, plus the int32 bias, scaled per output channel (the filter
is quantized along axis 3), plus the output zero point, clamped to the fused activation's range.
float32 with int8 weights follows LiteRT's hybrid kernel (see :func:`depthwise_hybrid`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.arith import conv_multipliers
from edgecraft.ops.base import Cost, OpContext, OpDef, OpError, Options
from edgecraft.ops.conv_common import (
    Accumulate,
    asymmetric_quantize_floats,
    bias_or_zero,
    check_16x8,
    check_bias,
    filter_window,
    output_channels,
    output_quant,
    quant_of,
    requantize_16x8,
    requantize_per_channel,
    window_geometry,
    windows,
)
from edgecraft.ops.options import ACTIVATION, DILATION, PADDING, STRIDES
from edgecraft.ops.quant import float_activation


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    x, w = ctx.req_input(0), ctx.req_input(1)
    if len(x.shape) != 4 or len(w.shape) != 4 or w.shape[0] != 1:
        raise OpError(
            f"DEPTHWISE_CONV_2D needs a 4-D input and a (1, KH, KW, C*M) filter, "
            f"got {list(x.shape)} and {list(w.shape)}"
        )
    n, h, wd, in_ch = x.shape
    _, kh, kw, out_ch = w.shape
    if out_ch % in_ch:
        raise OpError(
            f"DEPTHWISE_CONV_2D filter has {out_ch} output channels, not a multiple of the "
            f"input's {in_ch}; the filter's last dimension must be channels * depth_multiplier"
        )
    check_bias(ctx, out_ch)
    out_h, out_w, _, _ = window_geometry(ctx, h, wd, kh, kw)
    return [(n, out_h, out_w, out_ch)]


def depthwise(x: np.ndarray, w: np.ndarray, ctx: OpContext, acc_dtype: type) -> np.ndarray:
    """``out[n, y, x, c*M + m] = sum over taps (ky, kx) of w[0, ky, kx, c*M + m] *
    in[n, y*sh + ky*dh - pad_top, x*sw + kx*dw - pad_left, c]`` in ``acc_dtype``:
    x (N,H,W,C), w (1,KH,KW,C*M) -> (N,OH,OW,C*M). Taps outside the image read 0.
    """
    _, kh, kw, out_ch = w.shape
    ch = x.shape[3]
    mult = out_ch // ch
    win = windows(x.astype(acc_dtype, copy=False), ctx, kh, kw, 0)  # (N, OH, OW, KH, KW, C)
    f: np.ndarray = w.astype(acc_dtype).reshape(kh, kw, ch, mult)
    acc = np.zeros((*win.shape[:3], ch, mult), acc_dtype)
    for i in range(kh):
        for j in range(kw):
            acc += win[:, :, :, i, j, :, None] * f[i, j]
    return acc.reshape(*win.shape[:3], out_ch)


def sum_over_taps(ctx: OpContext, x: np.ndarray, zero_point: int, w: np.ndarray) -> np.ndarray:
    """The reference accumulation: ``sum w * (x - zero_point)`` in int64 (int8 ``x``); the zero
    point goes first, so padded taps (0) add nothing, as TFLM skips them."""
    return depthwise(x.astype(np.int64) - zero_point, w, ctx, np.int64)


def depthwise_int8(ctx: OpContext, args: list[Any],
                   accumulate: Accumulate = sum_over_taps) -> list[np.ndarray]:
    """``DepthwiseConvPerChannel``: accumulate, add the bias, requantize per channel, clamp."""
    x, w = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    _, in_zp = quant_of(ctx, 0)
    acc = accumulate(ctx, x, int(in_zp[0]), w)
    return [requantize_per_channel(ctx, acc, bias)]


def depthwise_int16(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """The 16x8 ``DepthwiseConvPerChannel`` (int16 input and output, int8 filter, int64 bias):
    ``sum w * x`` in int64 with no input or output offset (TFLM's int16 kernel uses neither zero
    point), plus the bias, scaled per channel by the int64 multiply, clamped."""
    check_16x8(ctx, int64_bias_only=True)
    x, w = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    acc = sum_over_taps(ctx, x, 0, w)
    return [requantize_16x8(ctx, acc, bias, 0, wide=True)]


def depthwise_float(ctx: OpContext, args: list[Any],
                    accumulate: Accumulate = sum_over_taps) -> list[np.ndarray]:
    """float32: sums in float64 plus the bias, then the activation; int8 weights: hybrid."""
    x, w = args[0], args[1]
    bias = args[2] if len(args) > 2 else None
    act = ctx.attrs.get("fused_activation_function", "NONE")
    if w.dtype == np.int8:
        return [float_activation(depthwise_hybrid(ctx, x, w, bias, accumulate), act)]
    acc = depthwise(x, w, ctx, np.float64) + bias_or_zero(bias, w.shape[3], np.float64)
    return [float_activation(acc.astype(np.float32), act)]


def depthwise_hybrid(ctx: OpContext, x: np.ndarray, w: np.ndarray, bias: np.ndarray | None,
                     accumulate: Accumulate = sum_over_taps) -> np.ndarray:
    """LiteRT's hybrid DEPTHWISE_CONV_2D (float input, int8 per-channel weights), before the
    activation:
    each batch is quantized asymmetrically to int8, the sums ``w * (q - zero_point)`` over taps
    inside the image are exact integers, scaled by ``channel_scale * input_scale`` in float32,
    plus the float bias."""
    w_scales, _ = quant_of(ctx, 1)
    out_ch = w.shape[3]
    if len(w_scales) != out_ch:  # LiteRT refuses per-tensor hybrid depthwise too
        raise OpError(
            f"DEPTHWISE_CONV_2D with float input and int8 weights needs one filter scale per "
            f"output channel ({out_ch}), got {len(w_scales)}; quantize the weights per channel"
        )
    out = np.empty((*shape(ctx)[0][:3], out_ch), np.float32)
    for b in range(x.shape[0]):
        xq, x_scale, zp = asymmetric_quantize_floats(x[b : b + 1])
        acc = accumulate(ctx, xq, zp, w).astype(np.float32)
        out[b : b + 1] = acc * (w_scales * x_scale)
    return out + bias_or_zero(bias, out_ch, np.float32)


def mve_scratch(ctx: OpContext) -> int:
    """The Helium kernel's scratch (``ec_depthwise_conv_2d_mve.c``, depth multiplier 1): for the
    row kernel (:func:`mve_rows`) ``4 * columns`` bytes per channel, else one window of ``kh *
    kw * channels`` bytes, where a window reaching outside the input is copied with the zero
    point in its padding taps; none for other multipliers (the DSP kernel)."""
    x, w = ctx.req_input(0), ctx.req_input(1)
    _, kh, kw, out_c = w.shape
    columns = mve_rows(ctx)
    if columns:
        return 4 * columns * out_c
    return kh * kw * out_c if out_c == x.shape[3] and x.dtype == "int8" else 0


def mve_rows(ctx: OpContext) -> int:
    """Words per channel row of ``ec_depthwise_conv_2d_mve_rows_s8``'s scratch, or 0 where that
    kernel does not apply: int8, depth multiplier 1, windows up to 4 x 4 without dilation,
    horizontal stride 1 or 2, rows of 8 outputs or more, every shift a right shift (TFLM's
    shift < 0). The row covers the left padding and the input, and every word its groups of
    four outputs read."""
    x, w, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    _, kh, kw, out_c = w.shape
    a = ctx.attrs
    stride_w = int(a.get("stride_w", 1))
    if (x.dtype != "int8" or out_c != x.shape[3] or kh > 4 or kw > 4 or stride_w not in (1, 2)
            or int(a.get("dilation_h_factor", 1)) != 1 or int(a.get("dilation_w_factor", 1)) != 1
            or x.quant is None or w.quant is None or y.quant is None):
        return 0
    in_scale, _ = quant_of(ctx, 0)
    w_scales, _ = quant_of(ctx, 1)
    out_scale, _ = output_quant(ctx)
    _, shift = ctx.memo("multipliers", lambda: conv_multipliers(float(in_scale[0]), w_scales, out_scale,
                                                                 out_c))
    if (np.asarray(shift) >= 0).any():
        return 0
    _, out_w, _, pad_w = window_geometry(ctx, x.shape[1], x.shape[2], kh, kw)
    if out_w < 8:  # narrower rows: the per-row set-up outweighs the gain (the sixteen-channel kernel)
        return 0
    groups = -(-out_w // 4)
    columns = max(x.shape[2] + pad_w, stride_w * (4 * groups - 1) + 4)
    return columns if 7 * 4 * columns < 1 << 16 else 0  # the layout's scatter takes 16-bit offsets


def cost(ctx: OpContext) -> Cost:
    out = ctx.output(0)
    w = ctx.req_input(1)
    bias = ctx.input(2)
    read = ctx.req_input(0).nbytes + w.nbytes + (bias.nbytes if bias is not None else 0)
    return Cost(out.size * w.shape[1] * w.shape[2], read, out.nbytes)


OP = OpDef(
    name="DEPTHWISE_CONV_2D",
    shape=shape,
    kernels={"int8": depthwise_int8, "int16": depthwise_int16, "float32": depthwise_float},
    cost=cost,
    scratch={"mve": mve_scratch},
    work_class="depthwise",
    bias_input=2,
    window=filter_window,
    requant_channels=output_channels,
    code={"portable": ("ec_depthwise_conv_2d.c",),
          "dsp": ("ec_depthwise_conv_2d_dsp.c", "ec_depthwise_conv_2d_quick_dsp.c"),
          "mve": ("ec_depthwise_conv_2d_mve.c",)},  # depth multiplier > 1: the dsp file
    state_bytes=40,
    options=Options("DepthwiseConv2DOptions", (
        PADDING, *STRIDES, ("depth_multiplier", "DepthMultiplier", "int"), ACTIVATION, *DILATION,
    )),
)
