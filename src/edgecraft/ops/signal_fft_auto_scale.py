"""SignalFftAutoScale (TFLM signal library): shift int16 samples left by
``15 - bitlength(max |x|)`` (at least 0) to fill the int16 range before an FFT; the second
output is the shift (an int32 scalar). The peak follows TFLM's MaxAbs16, quirks included."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.signal_common import dtypes, rank
from edgecraft.ops.signal_math import bitlength, max_abs16


def _shape(ctx: OpContext) -> list[tuple[int, ...]]:
    dtypes(ctx, ("int16",), ("int16", "int32"))
    x = ctx.req_input(0)
    rank(ctx, x, 1, "the input")
    rank(ctx, ctx.output(1), 0, "the scale output")
    return [tuple(x.shape), ()]


def auto_scale_bits(x: np.ndarray) -> int:
    """The left shift TFLM's FftAutoScale applies to the int16 samples ``x``."""
    peak = max_abs16(np.asarray(x, np.int64))
    # TFLM counts 0 as 32 bits, as it does a negative int16 (a huge uint32): no shift
    msb = 32 if peak <= 0 else int(bitlength(np.array([peak]))[0])
    return max(0, 15 - msb)


def _kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0], np.int64)
    bits = auto_scale_bits(x)
    return [(x << bits).astype(np.int16), np.array(bits, np.int32)]


OP = OpDef(name="SignalFftAutoScale", shape=_shape, code={"portable": ("ec_signal.c",)},
           kernels={"int16": _kernel})
