"""TRANSPOSE_CONV: the gradient of a convolution, as TFLM's reference kernels scatter it.

Inputs (TFLM's order): 0 the output shape (int32 [4]), 1 the filter (out_channels, height, width,
in_channels), 2 the input (NHWC), 3 an optional bias. TFLM never reads the output shape's values:
the output tensor's declared shape rules. So where input 0 is computed at run time (or fed as a
model input, as in TFLM's SEANet integration models), the declared shape is used; a constant one
must agree with it. Every input pixel adds
``x * w[:, fy, fx, :]`` to the output pixel ``(y * stride - pad + fy, x * stride - pad + fx)``;
sums that land outside the output are dropped. The padding is what a convolution with the same
padding, stride and filter would pad an input of the *output's* size by.

int8 (``reference_integer_ops::TransposeConv``): int32 sums of ``(x - input_zp) * w`` (the
filter's zero point is not applied), the int32 bias, one multiplier per output channel
(``input_scale * filter_scale / output_scale`` in double), the output zero point, the fused
activation's clamp. int16 (16x8): int64 sums of ``x * w`` with no zero points at all, an int64
(or int16) bias, the int64 multiply, no output offset. float32: float sums, bias, activation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.arith import (
    conv_multipliers,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_int64,
    wrap_int32,
)
from edgecraft.ops.base import Cost, OpContext, OpDef, OpError, Options
from edgecraft.ops.conv_common import activation_range, out_size_and_padding, output_quant, quant_of
from edgecraft.ops.options import ACTIVATION, PADDING, QUANTIZED_BIAS_TYPE, STRIDES
from edgecraft.ops.quant import float_activation

OUTPUT_SHAPE, FILTER, INPUT, BIAS = 0, 1, 2, 3


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """The output shape (the constant input 0, else the output's declared shape), checked
    against the input and filter."""
    if ctx.num_inputs not in (3, 4):
        raise OpError(f"TRANSPOSE_CONV takes 3 or 4 inputs, got {ctx.num_inputs}")
    dims_t = ctx.req_input(OUTPUT_SHAPE)
    if dims_t.dtype != "int32" or tuple(dims_t.shape) != (4,):
        raise OpError(f"TRANSPOSE_CONV output shape must be an int32 [4], got {dims_t.dtype} "
                      f"{list(dims_t.shape)}")
    declared = tuple(ctx.output(0).shape)
    if dims_t.data is not None:
        dims = tuple(int(d) for d in dims_t.data)
    elif len(declared) == 4:
        dims = declared
    else:
        raise OpError(f"TRANSPOSE_CONV output shape {dims_t.name!r} is computed at run time and the "
                      f"output declares {list(declared)}, not 4 dimensions; give it its static shape")
    x, w = ctx.req_input(INPUT), ctx.req_input(FILTER)
    if len(x.shape) != 4 or len(w.shape) != 4:
        raise OpError(f"TRANSPOSE_CONV needs a 4-D input and filter, got {list(x.shape)} and {list(w.shape)}")
    if dims[0] != x.shape[0] or dims[3] != w.shape[0] or x.shape[3] != w.shape[3] or min(dims) < 1:
        raise OpError(f"TRANSPOSE_CONV output shape {list(dims)} does not match input {list(x.shape)} "
                      f"and filter {list(w.shape)} (batch, out channels = filter dim 0, in channels)")
    bias = ctx.input(BIAS)
    if bias is not None and bias.size != w.shape[0]:
        raise OpError(f"TRANSPOSE_CONV bias has {bias.size} values for {w.shape[0]} output channels")
    geometry(ctx, dims)
    return [dims]


def geometry(ctx: OpContext, dims: tuple[int, ...] | None = None) -> tuple[int, int, int, int]:
    """(stride_h, stride_w, pad_top, pad_left): the padding a convolution would put around an
    input of the output's size (TFLM's ``ComputePaddingHeightWidth`` with the output's dims)."""
    out = dims if dims is not None else ctx.output(0).shape
    w = ctx.req_input(FILTER)
    a = ctx.attrs
    sh, sw = int(a.get("stride_h", 1)), int(a.get("stride_w", 1))
    padding = a.get("padding", "SAME")
    _, top = out_size_and_padding(out[1], w.shape[1], sh, 1, padding)
    _, left = out_size_and_padding(out[2], w.shape[2], sw, 1, padding)
    return sh, sw, top, left


def scatter(ctx: OpContext, x: np.ndarray, w: np.ndarray, dtype: type) -> np.ndarray:
    """The output-shaped sums: per filter tap, every input pixel's channel products added at
    its output pixel (in ``dtype``: int64 exact sums or float64)."""
    n, out_h, out_w, out_c = ctx.output(0).shape
    sh, sw, top, left = geometry(ctx)
    _, in_h, in_w, _ = x.shape
    acc: np.ndarray = np.zeros((n, out_h, out_w, out_c), dtype)
    xs: np.ndarray = x.astype(dtype)
    ws: np.ndarray = w.astype(dtype)
    for fy in range(w.shape[1]):
        ys = np.arange(in_h) * sh - top + fy
        keep_y = (ys >= 0) & (ys < out_h)
        for fx in range(w.shape[2]):
            xs_ = np.arange(in_w) * sw - left + fx
            keep_x = (xs_ >= 0) & (xs_ < out_w)
            if not keep_y.any() or not keep_x.any():
                continue
            part = xs[:, keep_y][:, :, keep_x] @ ws[:, fy, fx, :].T  # (n, ky, kx, out_c)
            acc[:, ys[keep_y][:, None], xs_[keep_x][None, :]] += part
    return acc


def multipliers(ctx: OpContext) -> tuple[np.ndarray, np.ndarray]:
    """Per output channel (multiplier, shift) (also used by code generation)."""
    in_scale, _ = quant_of(ctx, INPUT)
    w_scales, _ = quant_of(ctx, FILTER)
    out_scale, _ = output_quant(ctx)
    channels = ctx.req_input(FILTER).shape[0]
    if len(w_scales) not in (1, channels):
        raise OpError(f"TRANSPOSE_CONV filter has {len(w_scales)} scales for {channels} output channels")
    return conv_multipliers(float(in_scale[0]), w_scales, out_scale, channels)


def check_integer(ctx: OpContext) -> None:
    """What TFLM requires of the quantized kernels' filter, bias and output types."""
    x, w, bias, out = ctx.req_input(INPUT), ctx.req_input(FILTER), ctx.input(BIAS), ctx.output(0)
    if w.dtype != "int8" or out.dtype != x.dtype:
        raise OpError(f"TRANSPOSE_CONV {x.dtype} needs an int8 filter and a {x.dtype} output, got "
                      f"{w.dtype} and {out.dtype}")
    allowed = ("int32",) if x.dtype == "int8" else ("int64", "int16")
    if bias is not None and bias.dtype not in allowed:
        raise OpError(f"TRANSPOSE_CONV {x.dtype} needs a {' or '.join(allowed)} bias, got {bias.dtype}")


def transpose_conv_int(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """int8 and int16 (16x8)."""
    check_integer(ctx)
    x, w, bias = args[INPUT], args[FILTER], args[BIAS] if ctx.num_inputs > BIAS else None
    out = ctx.output(0)
    mult, shift = ctx.memo("multipliers", lambda: multipliers(ctx))
    lo, hi = activation_range(ctx)
    if x.dtype == np.int8:
        _, in_zp = quant_of(ctx, INPUT)
        acc = scatter(ctx, x.astype(np.int64) - int(in_zp[0]), w, np.int64)
        if bias is not None:
            acc = acc + bias.astype(np.int64)
        scaled = multiply_by_quantized_multiplier(wrap_int32(acc), mult, shift) + out.zero_point
        return [np.clip(scaled, lo, hi).astype(np.int8)]
    acc = scatter(ctx, x, w, np.int64)
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    return [np.clip(multiply_by_quantized_multiplier_int64(acc, mult, shift), lo, hi).astype(np.int16)]


def transpose_conv_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """float32: the sums in float64, the bias, the fused activation."""
    x, w, bias = args[INPUT], args[FILTER], args[BIAS] if ctx.num_inputs > BIAS else None
    if w.dtype != np.float32:
        raise OpError("TRANSPOSE_CONV float32 needs a float32 filter (TFLM runs no hybrid models)")
    acc = scatter(ctx, x, w, np.float64)
    if bias is not None:
        acc = acc + bias.astype(np.float64)
    act = ctx.attrs.get("fused_activation_function", "NONE")
    return [float_activation(acc.astype(np.float32), act)]


def cost(ctx: OpContext) -> Cost:
    x, w = ctx.req_input(INPUT), ctx.req_input(FILTER)
    read = x.nbytes + w.nbytes + (b.nbytes if (b := ctx.input(BIAS)) is not None else 0)
    return Cost(x.size * w.shape[0] * w.shape[1] * w.shape[2], read, ctx.output(0).nbytes)


def scratch(ctx: OpContext) -> int:
    """TFLM's accumulator buffer: one int32 (int8) or int64 (int16) per output value."""
    x = ctx.req_input(INPUT)
    per = {"int8": 4, "int16": 8}.get(x.dtype, 0)
    return per * ctx.output(0).size


def filter_channels(ctx: OpContext) -> int:
    return ctx.req_input(FILTER).shape[0]


OP = OpDef(
    name="TRANSPOSE_CONV",
    shape=shape,
    kernels={"int8": transpose_conv_int, "int16": transpose_conv_int, "float32": transpose_conv_float},
    dtype_input=INPUT,
    cost=cost,
    scratch={"portable": scratch, "dsp": scratch},
    code={"portable": ("ec_transpose_conv.c",)},
    work_class="conv",
    bias_input=BIAS,
    requant_channels=filter_channels,
    state_bytes=48,
    options=Options("TransposeConvOptions", (PADDING, *STRIDES, ACTIVATION, QUANTIZED_BIAS_TYPE)),
)
