"""Prepared int8 FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D: TFLM's Prepare step done once.

Everything that depends only on the operator is computed when the interpreter is built: the
filter as an exact float matrix, the per-channel requantization (:class:`.requant.Epilogue`,
with the bias folded into its constants), the clamp, and for FULLY_CONNECTED the input zero
point's share of the sums (``sum (x - x_zp) w = sum x w - x_zp sum w``, so the int8 rows go into
the matmul as they are). :meth:`bind` then ties the operator to its arena views and buffers
once: each run is a handful of numpy calls that write the output view directly, where the
reference path takes about forty per layer and a copy. Inputs are read in full before the
output is written, so in-place plans keep their meaning.

Exactness: the float matmul is exact while every partial sum is an integer below 2**24
(float32) or 2**53 (float64), bounded per output channel by ``|x| * sum |w|`` over its row;
the epilogue is exact by construction (see :mod:`.requant`) and the bounds decide whether
TFLM's int32 accumulator can wrap. A layer none of this covers is not prepared (``None``):
the interpreter runs the unprepared fast path or the reference kernel there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from edgecraft.ops import fully_connected
from edgecraft.ops.arith import conv_multipliers
from edgecraft.ops.base import OpContext, OpError
from edgecraft.ops.conv_common import activation_range, output_quant, quant_of
from edgecraft.runtime.fast.requant import Epilogue
from edgecraft.runtime.fast.windowed import bind_conv, bind_depthwise

#: What a layer the prepared form does not take raises while it is prepared (corrupt files too:
#: zero points, scales or filters no int8 model has); the reference kernel then runs it.
_NOT_PREPARED = (OpError, ValueError, OverflowError, FloatingPointError, ZeroDivisionError)

#: The sums of a prepared layer are exact below these (float32, float64).
F32_EXACT, F64_EXACT = 2**24, 2**53


def _bias(ctx: OpContext, channels: int) -> np.ndarray | None:
    """The constant bias as int64, zeros when absent; None when it is not a constant."""
    b = ctx.input(2)
    if b is None:
        return np.zeros(channels, np.int64)
    if b.data is None:
        return None
    return np.asarray(b.data).reshape(-1).astype(np.int64)


def _int8_io(ctx: OpContext) -> bool:
    x, w = ctx.input(0), ctx.input(1)
    return (x is not None and x.dtype == "int8" and ctx.output(0).dtype == "int8"
            and w is not None and w.dtype == "int8" and w.data is not None)


def _input_offset_range(zero_point: int) -> int:
    """The largest ``|x - zero_point|`` of an int8 ``x``; ValueError for a zero point outside
    int8 (a corrupt file: the reference kernel runs it, or refuses it)."""
    if not -128 <= zero_point <= 127:
        raise ValueError(f"int8 zero point {zero_point}")
    return max(127 - zero_point, zero_point + 128)


class PreparedFullyConnected:
    """int8 FULLY_CONNECTED (``reference_integer_ops::FullyConnected`` and its per-channel
    form) prepared; build with :meth:`build`, which gives None where it does not apply."""

    def __init__(self, ctx: OpContext, bias: np.ndarray) -> None:
        w = np.asarray(ctx.req_input(1).data)
        w_scales, w_zp = quant_of(ctx, 1)
        _, in_zp = quant_of(ctx, 0)
        x_zp = int(in_zp[0])
        offset_range = _input_offset_range(x_zp)
        filt = w.astype(np.int64) - (int(w_zp[0]) if len(w_scales) == 1 else 0)  # (units, depth)
        self.units, self.depth = filt.shape
        row_abs = np.abs(filt).sum(axis=1)
        raw_bound = 128 * row_abs  # |sum x w| for int8 x
        if raw_bound.max(initial=0) >= F64_EXACT:
            raise ValueError("sums beyond float64's exact integers")
        self.dtype = np.float32 if raw_bound.max(initial=0) < F32_EXACT else np.float64
        self.filt = np.ascontiguousarray(filt.T.astype(self.dtype))  # (depth, units)
        mult, shift = fully_connected.multipliers(ctx)
        _, out_zp = output_quant(ctx)
        lo, hi = activation_range(ctx)
        offset = bias - x_zp * filt.sum(axis=1)
        bound = offset_range * row_abs + np.abs(bias)
        self.epilogue = Epilogue(mult, shift, offset, out_zp, lo, hi, raw_bound, bound, self.units)

    @classmethod
    def build(cls, ctx: OpContext) -> PreparedFullyConnected | None:
        """The prepared operator, or None: not int8, filter or bias not constant, or sums or
        constants outside what it computes exactly."""
        if ctx.op.type != "FULLY_CONNECTED" or not _int8_io(ctx) or len(ctx.req_input(1).shape) != 2:
            return None
        bias = _bias(ctx, ctx.req_input(1).shape[0])
        if bias is None:
            return None
        try:
            return cls(ctx, bias)
        except _NOT_PREPARED:  # the reference kernel reports (or computes) these cases
            return None

    def __call__(self, ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
        """The kernel interface (new arrays), for callers that do not bind."""
        rows = np.asarray(args[0]).reshape(-1, self.depth)
        acc = (rows @ self.filt).astype(np.int64)
        out = np.empty(acc.shape, np.int8)
        self.epilogue.apply(acc, out)
        return [out]

    def bind(self, args: list[Any], outs: list[np.ndarray]) -> Callable[[], None]:
        """One run over fixed views: ``args[0]`` (the input) and ``outs[0]`` (the output)."""
        rows, out = _reshaped(args[0], (-1, self.depth)), _reshaped(outs[0], (-1, self.units))
        acc_f = np.empty(out.shape, self.dtype)
        acc = np.empty(out.shape, np.int64)
        mask = np.empty(out.shape, bool)
        filt, epilogue = self.filt, self.epilogue

        def run() -> None:
            np.matmul(rows, filt, out=acc_f)
            np.copyto(acc, acc_f, casting="unsafe")
            epilogue.apply(acc, out, mask)

        return run


#: ``accumulate(ctx, x, zero_point, w)``: the exact int64 sums of a window op (runtime/fast/blas).
Accumulate = Callable[[OpContext, np.ndarray, int, np.ndarray], np.ndarray]


class PreparedWindowOp:
    """int8 CONV_2D or DEPTHWISE_CONV_2D (``ConvPerChannel``, ``DepthwiseConvPerChannel``): the
    sums from ``accumulate`` (an exact BLAS form), then the prepared epilogue into the output."""

    def __init__(self, ctx: OpContext, bias: np.ndarray, accumulate: Accumulate) -> None:
        w = np.asarray(ctx.req_input(1).data)
        depthwise = ctx.op.type == "DEPTHWISE_CONV_2D"
        # |w| summed over each output channel's taps: OHWI conv, 1HWC depthwise.
        w_abs = np.abs(w.astype(np.int64))
        row_abs = w_abs.sum(axis=(0, 1, 2)) if depthwise else w_abs.reshape(w.shape[0], -1).sum(axis=1)
        self.channels = len(row_abs)
        in_scale, in_zp = quant_of(ctx, 0)
        w_scales, _ = quant_of(ctx, 1)
        out_scale, out_zp = output_quant(ctx)
        self.zero_point = int(in_zp[0])
        mult, shift = conv_multipliers(float(in_scale[0]), w_scales, out_scale, self.channels)
        lo, hi = activation_range(ctx)
        raw_bound = _input_offset_range(self.zero_point) * row_abs
        self.epilogue = Epilogue(mult, shift, bias, out_zp, lo, hi, raw_bound,
                                 raw_bound + np.abs(bias), self.channels)
        self.ctx, self.w, self.accumulate = ctx, w, accumulate

    @classmethod
    def build(cls, ctx: OpContext, accumulate: Accumulate) -> PreparedWindowOp | None:
        """The prepared operator, or None where it does not apply (see the module docstring)."""
        if ctx.op.type not in ("CONV_2D", "DEPTHWISE_CONV_2D") or not _int8_io(ctx):
            return None
        w = ctx.req_input(1)
        channels = w.shape[3] if ctx.op.type == "DEPTHWISE_CONV_2D" else w.shape[0]
        bias = _bias(ctx, channels)
        if bias is None or len(bias) != channels:
            return None
        try:
            return cls(ctx, bias, accumulate)
        except _NOT_PREPARED:
            return None

    def __call__(self, ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
        """The kernel interface (new arrays), for callers that do not bind."""
        acc = self.accumulate(ctx, np.asarray(args[0]), self.zero_point, self.w)
        out = np.empty(acc.shape, np.int8)
        self.epilogue.apply(acc, out)
        return [out]

    def bind(self, args: list[Any], outs: list[np.ndarray]) -> Callable[[], None]:
        """One run over fixed views: ``args[0]`` (the input) and ``outs[0]`` (the output), with
        the padded input and im2col matrix made once (:mod:`.windowed`) where the op allows."""
        x, out = args[0], outs[0]
        ctx, w, zp, epilogue = self.ctx, self.w, self.zero_point, self.epilogue
        bound = (bind_depthwise(ctx, x, zp, w, epilogue, out) if ctx.op.type == "DEPTHWISE_CONV_2D"
                 else bind_conv(ctx, x, zp, w, epilogue, out))
        if bound is not None:
            return bound
        accumulate = self.accumulate

        def run() -> None:
            epilogue.apply(accumulate(ctx, x, zp, w), out)  # accumulate returns a new array

        return run


def _reshaped(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A view of ``a`` in ``shape``; raises rather than copy (the view must stay on the arena)."""
    return np.reshape(a, shape, copy=False)
