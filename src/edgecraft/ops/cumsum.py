"""CUMSUM: running sums along one axis (input 1, a constant or run-time int32), optionally
``exclusive`` (each output the sum before its element) and ``reverse`` (from the end).

float32: float sums in order. int8 as TFLM's ``reference_ops::CumSum`` (shared with ADD_N):
each value is offset by the input zero point, shifted left by 20 and scaled by 1/2 (multipliers
from ``twice the input scale``), summed in int32, scaled back to the output, offset, clamped.
TFLM's int8 accumulator starts at the scaled input offset (as if a zero-valued element were
already in the sum) rather than at zero; edgecraft reproduces that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edgecraft.ops.arith import (
    multiply_by_quantized_multiplier_smaller_than_one,
    quantize_multiplier_smaller_than_one_exp,
    wrap_int32,
)
from edgecraft.ops.base import OpContext, OpDef, OpError, Options

#: ``kCumSumIntegerShift`` / ``kAddNIntegerShift``.
LEFT_SHIFT = 20


@dataclass(frozen=True)
class SumRescale:
    """The int8 sums' parameters: input offset, input and output (multiplier, shift), output
    zero point (TFLM's CUMSUM and ADD_N Prepare)."""

    input_offset: int
    input_mult: tuple[int, int]
    output_mult: tuple[int, int]
    output_zp: int

    def scaled(self, q: np.ndarray | int) -> np.ndarray:
        """An int8 value (or the bare offset for 0 - offset) in the sum's fixed point."""
        shifted = wrap_int32((np.asarray(q, np.int64) + self.input_offset) * (1 << LEFT_SHIFT))
        return multiply_by_quantized_multiplier_smaller_than_one(shifted, *self.input_mult)

    def output(self, acc: np.ndarray) -> np.ndarray:
        """A sum back to int8: scaled, offset, clamped to the int8 range (no activation)."""
        out = multiply_by_quantized_multiplier_smaller_than_one(wrap_int32(acc), *self.output_mult)
        return np.clip(out + self.output_zp, -128, 127).astype(np.int8)


def sum_rescale(ctx: OpContext) -> SumRescale:
    """The parameters from input 0's and the output's quantization."""
    x, out = ctx.req_input(0), ctx.output(0)
    if x.quant is None or out.quant is None:
        raise OpError(f"{ctx.op.type} int8 needs quantized input and output")
    twice = 2 * float(np.float32(x.scale))
    return SumRescale(
        input_offset=-x.zero_point,
        input_mult=quantize_multiplier_smaller_than_one_exp(float(np.float32(x.scale)) / twice),
        output_mult=quantize_multiplier_smaller_than_one_exp(
            twice / ((1 << LEFT_SHIFT) * float(np.float32(out.scale)))),
        output_zp=out.zero_point,
    )


def cumsum_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    x, axis = ctx.req_input(0), ctx.req_input(1)
    if axis.dtype != "int32" or axis.size != 1:
        raise OpError(f"CUMSUM axis must be one int32, got {axis.dtype} {list(axis.shape)}")
    if len(x.shape) < 1:
        raise OpError("CUMSUM needs an input of rank 1 or more")
    if axis.data is not None:
        _axis(ctx, int(axis.data.reshape(-1)[0]))
    return [tuple(x.shape)]


def _axis(ctx: OpContext, axis: int) -> int:
    rank = len(ctx.req_input(0).shape)
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < rank:
        raise OpError(f"CUMSUM axis {axis} is out of range for rank {rank}")
    return a


def _running(x: np.ndarray, axis: int, exclusive: bool, reverse: bool, start: Any) -> np.ndarray:
    """Running sums along ``axis`` starting from ``start``; ``x`` holds the summands."""
    v = np.flip(x, axis) if reverse else x
    acc = np.cumsum(v, axis=axis) + start
    if exclusive:
        acc = acc - v
    return np.flip(acc, axis) if reverse else acc


def cumsum(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """float32 and int8 (see the module docstring)."""
    x = np.asarray(args[0])
    axis = _axis(ctx, int(np.asarray(args[1]).reshape(-1)[0]))
    exclusive, reverse = bool(ctx.attrs.get("exclusive", False)), bool(ctx.attrs.get("reverse", False))
    if x.dtype == np.float32:
        return [_running(x.astype(np.float64), axis, exclusive, reverse, 0.0).astype(np.float32)]
    r: SumRescale = ctx.memo("rescale", lambda: sum_rescale(ctx))
    acc = _running(r.scaled(x), axis, exclusive, reverse, r.scaled(0))
    return [r.output(acc)]


OP = OpDef(
    name="CUMSUM",
    shape=cumsum_shape,
    code={"portable": ("ec_cumsum.c",)},
    kernels=dict.fromkeys(("float32", "int8"), cumsum),
    state_bytes=36,
    options=Options("CumsumOptions", (("exclusive", "Exclusive", "bool"), ("reverse", "Reverse", "bool"))),
)
