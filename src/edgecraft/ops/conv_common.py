"""Helpers shared by the windowed ops (conv, depthwise conv, pooling) and the int8 requantizers.

Output size and padding follow TFLite's ``padding.h``: SAME gives ``ceil(in / stride)`` outputs
and VALID ``floor((in - effective_filter) / stride) + 1``; the padding before the image is half
the total (rounded down), the rest goes after. Windows are numpy views of a padded input
(``sliding_window_view``), so a kernel reads as "gather every window, then reduce it".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgecraft.ops.arith import (
    conv_multipliers,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_int64,
    round_half_away,
    round_half_away_array,
    wrap_int32,
)
from edgecraft.ops.base import Cost, OpContext, OpError, Window
from edgecraft.ops.quant import quantized_activation_range


def out_size_and_padding(
    in_size: int, filter_size: int, stride: int, dilation: int, padding: str
) -> tuple[int, int]:
    """(output size, padding before the image) along one spatial axis, as TFLite computes them."""
    if stride < 1 or dilation < 1:
        raise OpError(f"stride ({stride}) and dilation ({dilation}) must be at least 1")
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        out = (in_size + stride - 1) // stride
    elif padding == "VALID":
        out = (in_size + stride - effective) // stride
    else:
        raise OpError(f"padding must be SAME or VALID, got {padding!r}")
    if out < 1:
        raise OpError(
            f"a window of {effective} (filter {filter_size}, dilation {dilation}) does not fit "
            f"an input of size {in_size} with {padding} padding; use SAME padding or a smaller filter"
        )
    total = max((out - 1) * stride + effective - in_size, 0)
    return out, total // 2


def window_geometry(ctx: OpContext, in_h: int, in_w: int, filter_h: int, filter_w: int,
                    dilated: bool = True) -> tuple[int, int, int, int]:
    """(out_h, out_w, pad_top, pad_left) from the op's padding, stride and dilation attributes."""
    a = ctx.attrs
    dil_h = int(a.get("dilation_h_factor", 1)) if dilated else 1
    dil_w = int(a.get("dilation_w_factor", 1)) if dilated else 1
    padding = a.get("padding", "SAME")
    out_h, pad_top = out_size_and_padding(in_h, filter_h, int(a.get("stride_h", 1)), dil_h, padding)
    out_w, pad_left = out_size_and_padding(in_w, filter_w, int(a.get("stride_w", 1)), dil_w, padding)
    return out_h, out_w, pad_top, pad_left


def windows(x: np.ndarray, ctx: OpContext, filter_h: int, filter_w: int, pad_value: float,
            dilated: bool = True) -> np.ndarray:
    """Every filter window of NHWC ``x``: a view of shape (N, OH, OW, KH, KW, C).

    The input is padded with ``pad_value`` first: 0 for convolutions, whose int8 kernels subtract
    the input zero point beforehand, so padded taps add nothing, as TFLM's "skip points outside
    the image" does.
    """
    a = ctx.attrs
    sh, sw = int(a.get("stride_h", 1)), int(a.get("stride_w", 1))
    dh = int(a.get("dilation_h_factor", 1)) if dilated else 1
    dw = int(a.get("dilation_w_factor", 1)) if dilated else 1
    _, in_h, in_w, _ = x.shape
    out_h, out_w, top, left = window_geometry(ctx, in_h, in_w, filter_h, filter_w, dilated)
    need_h = (out_h - 1) * sh + (filter_h - 1) * dh + 1
    need_w = (out_w - 1) * sw + (filter_w - 1) * dw + 1
    bottom, right = max(need_h - in_h - top, 0), max(need_w - in_w - left, 0)
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=pad_value)
    # Window extent (KH-1)*dh+1 per axis, then keep every dh-th tap and every sh-th origin.
    view = np.lib.stride_tricks.sliding_window_view(
        xp, ((filter_h - 1) * dh + 1, (filter_w - 1) * dw + 1), axis=(1, 2)
    )  # (N, H', W', C, EKH, EKW)
    view = view[:, : (out_h - 1) * sh + 1 : sh, : (out_w - 1) * sw + 1 : sw, :, ::dh, ::dw]
    return view.transpose(0, 1, 2, 4, 5, 3)


#: ``accumulate(ctx, x, zero_point, w)``: the exact int64 sums of ``w * (x - zero_point)`` that a
#: CONV_2D or DEPTHWISE_CONV_2D output needs, from int8 ``x`` (taps outside the image add
#: nothing). Each op's ``sum_over_taps`` is the reference; ``runtime/fast`` passes exact
#: BLAS forms instead.
Accumulate = Callable[[OpContext, np.ndarray, int, np.ndarray], np.ndarray]


def requantize_per_channel(ctx: OpContext, acc: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """The int8 epilogue of CONV_2D and DEPTHWISE_CONV_2D: add the bias, scale each output
    channel by its multiplier (computed once per op), add the output zero point, clamp."""
    out_ch = acc.shape[-1]
    in_scale, _ = quant_of(ctx, 0)
    w_scales, _ = quant_of(ctx, 1)
    out_scale, out_zp = output_quant(ctx)
    mult, shift = ctx.memo("multipliers", lambda: conv_multipliers(
        float(in_scale[0]), w_scales, out_scale, out_ch))
    lo, hi = activation_range(ctx)
    return requantize(acc + bias_or_zero(bias, out_ch), mult, shift, out_zp, lo, hi)


#: TensorType INT32 in a ``quantized_bias_type`` option (CONV_2D, FULLY_CONNECTED).
TENSOR_TYPE_INT32 = 2


def int32_accumulators(ctx: OpContext) -> bool:
    """Whether TFLM's 16x8 CONV_2D or FULLY_CONNECTED sums in int32 (an int32 bias, or no bias
    and ``quantized_bias_type`` INT32) rather than int64 (an int64 bias, or none)."""
    bias = ctx.input(2)
    if bias is not None:
        return bias.dtype == "int32"
    return int(ctx.attrs.get("quantized_bias_type", 0)) == TENSOR_TYPE_INT32


def check_16x8(ctx: OpContext, int64_bias_only: bool = False) -> None:
    """Refuse what TFLM's 16x8 kernels refuse: a filter that is not int8, an output that is not
    int16, a bias that is neither int32 nor int64 (DEPTHWISE_CONV_2D: int64 only)."""
    w, out, bias = ctx.req_input(1), ctx.output(0), ctx.input(2)
    if w.dtype != "int8" or out.dtype != "int16":
        raise OpError(f"{ctx.op.type} with int16 input needs an int8 filter and an int16 output (the 16x8 "
                      f"scheme), got a {w.dtype} filter and a {out.dtype} output")
    allowed = ("int64",) if int64_bias_only else ("int32", "int64")
    if bias is not None and bias.dtype not in allowed:
        raise OpError(f"{ctx.op.type} with int16 input needs an {' or '.join(allowed)} bias, "
                      f"got {bias.dtype}")


def requantize_16x8(ctx: OpContext, acc: np.ndarray, bias: np.ndarray | None, output_offset: int,
                    wide: bool, multipliers: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """The 16x8 epilogue: add the bias to the exact sums, scale each output channel (int64
    accumulators: :func:`multiply_by_quantized_multiplier_int64`; int32 ones wrap as C's int32
    sums do and take the int32 multiply), add ``output_offset``, clamp, int16.
    ``multipliers`` defaults to the per-channel ones of CONV_2D and DEPTHWISE_CONV_2D."""
    out_ch = acc.shape[-1]
    if multipliers is None:
        in_scale, _ = quant_of(ctx, 0)
        w_scales, _ = quant_of(ctx, 1)
        out_scale, _ = output_quant(ctx)
        multipliers = ctx.memo("multipliers", lambda: conv_multipliers(
            float(in_scale[0]), w_scales, out_scale, out_ch))
    mult, shift = multipliers
    total = acc + bias_or_zero(bias, out_ch)
    if wide:
        scaled = multiply_by_quantized_multiplier_int64(total, mult, shift)
    else:
        scaled = multiply_by_quantized_multiplier(wrap_int32(total), mult, shift)
    lo, hi = activation_range(ctx)
    return np.clip(scaled + output_offset, lo, hi).astype(np.int16)


def output_quant(ctx: OpContext) -> tuple[float, int]:
    """(scale, zero point) of output 0; :class:`OpError` when it is not quantized."""
    out = ctx.output(0)
    if out.quant is None or not out.scale > 0:
        raise OpError(
            f"{ctx.op.type} int8 output {out.name!r} needs a positive scale and a zero point; "
            "give the tensor quantization parameters"
        )
    return out.scale, out.zero_point


def activation_range(ctx: OpContext) -> tuple[int, int]:
    """The int8 clamp of the op's fused activation on its output, as TFLM computes it."""
    def compute() -> tuple[int, int]:
        act = ctx.attrs.get("fused_activation_function", "NONE")
        scale, zero_point = output_quant(ctx)
        try:
            return quantized_activation_range(act, scale, zero_point, ctx.output(0).dtype)
        except ValueError as e:
            raise OpError(str(e)) from None

    result: tuple[int, int] = ctx.memo("activation_range", compute)
    return result


def requantize(acc: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int,
               output_zero_point: int, act_min: int, act_max: int) -> np.ndarray:
    """int32 accumulators -> int8: scale, add the output zero point, clamp (TFLM's epilogue).

    ``multiplier`` and ``shift`` broadcast against the last axis of ``acc`` (per channel).
    """
    scaled = multiply_by_quantized_multiplier(wrap_int32(acc), multiplier, shift)
    return np.clip(scaled + output_zero_point, act_min, act_max).astype(np.int8)


def quant_of(ctx: OpContext, i: int) -> tuple[np.ndarray, np.ndarray]:
    """(scales, zero points) of input ``i``; :class:`OpError` when it is not quantized."""
    t = ctx.req_input(i)
    if t.quant is None:
        raise OpError(f"{ctx.op.type} int8 input {i} ({t.name!r}) has no quantization parameters")
    return t.quant.scale, t.quant.zero_point


def check_bias(ctx: OpContext, channels: int) -> None:
    """Refuse an optional bias (input 2) that does not hold one value per output channel."""
    bias = ctx.input(2)
    if bias is not None and bias.size != channels:
        raise OpError(f"{ctx.op.type} bias {bias.name!r} has {bias.size} values for {channels} output "
                      "channels")


def bias_or_zero(bias: np.ndarray | None, channels: int, dtype: type = np.int64) -> np.ndarray:
    """The bias vector, or zeros when the optional bias input is absent."""
    if bias is None:
        return np.zeros(channels, dtype)
    return np.asarray(bias).reshape(-1).astype(dtype)


def pool_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """Output shape of AVERAGE_POOL_2D / MAX_POOL_2D: (N, OH, OW, C)."""
    x = ctx.req_input(0)
    if len(x.shape) != 4:
        raise OpError(f"{ctx.op.type} needs a 4-D NHWC input, got {list(x.shape)}")
    fh, fw = pool_filter(ctx)
    out_h, out_w, _, _ = window_geometry(ctx, x.shape[1], x.shape[2], fh, fw, dilated=False)
    return [(x.shape[0], out_h, out_w, x.shape[3])]


def pool_filter(ctx: OpContext) -> tuple[int, int]:
    """(filter_height, filter_width) of a pooling op."""
    fh, fw = int(ctx.attrs.get("filter_height", 1)), int(ctx.attrs.get("filter_width", 1))
    if fh < 1 or fw < 1:
        raise OpError(f"{ctx.op.type} filter must be at least 1x1, got {fh}x{fw}")
    return fh, fw


def pool_window(ctx: OpContext) -> Window:
    """A pool's window for the memory planner: its filter, not dilated."""
    fh, fw = pool_filter(ctx)
    return Window(fh, fw, dilated=False)


def filter_window(ctx: OpContext) -> Window:
    """A convolution's window for the memory planner: the (1 or O, kh, kw, I) filter, dilated."""
    _, kh, kw, _ = ctx.req_input(1).shape
    return Window(kh, kw, dilated=True)


def output_channels(ctx: OpContext) -> int:
    """One requantization multiplier per output channel (convolutions)."""
    return int(ctx.output(0).shape[-1])


def pool_cost(ctx: OpContext) -> Cost:
    """One accumulate (or compare) per window element and output; reads input, writes output."""
    fh, fw = pool_filter(ctx)
    out = ctx.output(0)
    return Cost(out.size * fh * fw, ctx.req_input(0).nbytes, out.nbytes)


def symmetric_quantize_floats(x: np.ndarray) -> tuple[np.ndarray, np.float32]:
    """LiteRT's ``SymmetricQuantizeFloats`` (hybrid kernels quantize their float input with it):
    ``scale = max|x| / 127``, ``q = round(x * (127 / max|x|))`` in float32, clamped to +-127.
    Returns (int8 values, float32 scale); an all-zero input gives scale 1."""
    x = np.asarray(x, dtype=np.float32)
    top = np.float32(max(abs(x.min()), abs(x.max()))) if x.size else np.float32(0)
    if top == 0:
        return np.zeros(x.shape, np.int8), np.float32(1)
    inv = np.float32(np.float32(127) / top)
    q = np.clip(round_half_away_array(x * inv), -127, 127).astype(np.int8)
    return q, np.float32(top / np.float32(127))


def asymmetric_quantize_floats(x: np.ndarray) -> tuple[np.ndarray, np.float32, int]:
    """LiteRT's ``AsymmetricQuantizeFloats``: int8 over [min(x, 0), max(x, 0)] with a nudged
    zero point; returns (int8 values, float32 scale, zero point). A constant zero input gives
    zeros, scale 1 and zero point 0. As in LiteRT, ``rmax - rmin`` is a float32 difference
    divided by 255 in double; the zero point is chosen and rounded in double."""
    x = np.asarray(x, dtype=np.float32)
    rmin, rmax = min(x.min(), np.float32(0)), max(x.max(), np.float32(0))
    if rmin == rmax:
        return np.zeros(x.shape, np.int8), np.float32(1), 0
    scale = float(np.float32(rmax - rmin)) / 255.0
    lo, hi = float(rmin) / scale, float(rmax) / scale
    zp_real = -128.0 - lo if 128.0 + abs(lo) < 127.0 + abs(hi) else 127.0 - hi
    zp = -128 if zp_real <= -128 else 127 if zp_real >= 127 else round_half_away(zp_real)
    inv = np.float32(1.0 / float(np.float32(scale)))
    q = np.clip(round_half_away_array(np.float32(zp) + x * inv), -128, 127).astype(np.int8)
    return q, np.float32(scale), zp
