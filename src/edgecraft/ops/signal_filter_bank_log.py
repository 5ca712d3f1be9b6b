"""SignalFilterBankLog (TFLM signal library): ``output_scale * ln(x << input_correction_bits)`` in
TFLM's fixed point (Log32), saturated to int16; 0 where the shifted value is 0 or 1."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.signal_common import attr, dtypes, flex_options, rank, u32
from edgecraft.ops.signal_math import log32


def _shape(ctx: OpContext) -> list[tuple[int, ...]]:
    dtypes(ctx, ("uint32",), ("int16",))
    x = ctx.req_input(0)
    rank(ctx, x, 1, "the input")
    rank(ctx, ctx.output(0), 1, "the output")
    attr(ctx, "input_correction_bits")
    attr(ctx, "output_scale")
    return [tuple(x.shape)]


def filter_bank_log(x: np.ndarray, correction_bits: int, output_scale: int) -> np.ndarray:
    """TFLM's FilterbankLog on uint32 values held in int64 (int16 values out, as int64)."""
    scaled = u32(np.asarray(x, np.int64) << correction_bits)
    logv = log32(np.maximum(scaled, 2), output_scale)
    return np.where(scaled > 1, np.minimum(logv, 32767), 0)


def _kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    out = filter_bank_log(args[0], attr(ctx, "input_correction_bits"), attr(ctx, "output_scale"))
    return [out.astype(np.int16)]


OP = OpDef(name="SignalFilterBankLog", shape=_shape, code={"portable": ("ec_signal.c",)},
           kernels={"uint32": _kernel},
           options=flex_options(("input_correction_bits", "int"), ("output_scale", "int")))
