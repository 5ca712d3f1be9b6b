"""SignalPCAN (TFLM signal library): per-channel energy normalization. The gain of each channel's
noise estimate comes from the piecewise-quadratic int16 table (TFLM's WideDynamicFunction), the
signal times the gain is shifted right by ``snr_shift`` and compressed (``x^2/4`` below 2, ``x - 1``
above, 6 fractional bits out). Inputs: signal, noise estimate (uint32), gain table (int16)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.signal_common import attr, dtypes, flex_options, need, rank, u32
from edgecraft.ops.signal_math import wide_dynamic


def _shape(ctx: OpContext) -> list[tuple[int, ...]]:
    dtypes(ctx, ("uint32", "uint32", "int16"), ("uint32",))
    x = ctx.req_input(0)
    for i in range(3):
        rank(ctx, ctx.req_input(i), 1, f"input {i}")
    need(ctx, ctx.req_input(1).shape[0] >= x.shape[0], "the noise estimate needs one entry per channel")
    need(ctx, ctx.req_input(2).shape[0] >= 4 * 32 - 3, "the gain table needs 125 entries")
    attr(ctx, "snr_shift")
    return [tuple(x.shape)]


def pcan(x: np.ndarray, noise: np.ndarray, lut: np.ndarray, snr_shift: int) -> np.ndarray:
    """TFLM's ApplyPcanAutoGainControlFixed on uint32 values held in int64."""
    gain = u32(wide_dynamic(noise, np.asarray(lut, np.int16)))  # int16 widened to uint32
    snr = u32((np.asarray(x, np.uint64) * gain.astype(np.uint64) >> np.uint64(snr_shift)).astype(np.int64))
    return u32(np.where(snr < (2 << 12), u32(snr * snr) >> 20, (snr >> 6) - 64))


def _kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0], np.int64)
    noise = np.asarray(args[1], np.int64)[: len(x)]
    with np.errstate(over="ignore"):
        return [pcan(x, noise, args[2], attr(ctx, "snr_shift")).astype(np.uint32)]


OP = OpDef(name="SignalPCAN", shape=_shape, code={"portable": ("ec_signal.c",)},
           kernels={"uint32": _kernel},
           options=flex_options(("snr_shift", "int")))
