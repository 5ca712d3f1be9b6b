"""SignalFilterBankSpectralSubtraction (TFLM signal library): noise reduction. A per-channel noise
estimate (kept between invocations, zero at the start and after a reset) is smoothed towards
the input scaled up by ``smoothing_bits`` (``smoothing`` / ``one_minus_smoothing`` on even
channels, the ``alternate_`` pair on odd ones, in Q ``spectral_subtraction_bits``), subtracted,
and at least ``min_signal_remaining`` of the signal is kept. Outputs: the result and a copy of
the estimate, both uint32."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.signal_common import attr, dtypes, flex_options, need, op_state, rank, u32

_FIELDS = ("alternate_one_minus_smoothing", "alternate_smoothing", "min_signal_remaining",
           "num_channels", "one_minus_smoothing", "smoothing", "smoothing_bits",
           "spectral_subtraction_bits")


def _shape(ctx: OpContext) -> list[tuple[int, ...]]:
    dtypes(ctx, ("uint32",), ("uint32", "uint32"))
    x = ctx.req_input(0)
    rank(ctx, x, 1, "the input")
    for name in _FIELDS:
        attr(ctx, name)
    n = attr(ctx, "num_channels")
    need(ctx, x.shape[0] >= n, f"the input needs num_channels = {n} entries")
    return [tuple(ctx.output(0).shape), tuple(ctx.output(1).shape)]


def _kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    n = attr(ctx, "num_channels")
    x = np.asarray(args[0], np.int64)[:n]
    noise = op_state(ctx, lambda: np.zeros(n, np.int64))
    even = np.arange(n) % 2 == 0
    smooth = np.where(even, attr(ctx, "smoothing"), attr(ctx, "alternate_smoothing")).astype(np.uint64)
    keep = np.where(even, attr(ctx, "one_minus_smoothing"),
                    attr(ctx, "alternate_one_minus_smoothing")).astype(np.uint64)
    sb, qb = attr(ctx, "smoothing_bits"), attr(ctx, "spectral_subtraction_bits")
    up = u32(x << sb)
    with np.errstate(over="ignore"):  # uint64 products wrap as in C
        mixed = up.astype(np.uint64) * smooth + noise.astype(np.uint64) * keep
    noise[:] = u32((mixed >> np.uint64(qb)).astype(np.int64)) if qb < 64 else 0
    est = np.minimum(noise, up)
    if bool(ctx.attrs.get("clamping", False)):
        noise[:] = est
    floor = x.astype(np.uint64) * np.uint64(attr(ctx, "min_signal_remaining")) >> np.uint64(qb)
    floor = u32(floor.astype(np.int64))
    out = np.maximum((up - est) >> sb, floor)
    y = np.zeros(ctx.output(0).shape, np.int64)
    y[:n] = out
    z = np.zeros(ctx.output(1).shape, np.int64)
    z[:n] = noise
    return [y.astype(np.uint32), z.astype(np.uint32)]


OP = OpDef(name="SignalFilterBankSpectralSubtraction", shape=_shape, code={"portable": ("ec_signal.c",)},
           kernels={"uint32": _kernel},
           options=flex_options(("alternate_one_minus_smoothing", "int"), ("alternate_smoothing", "int"),
                                ("clamping", "bool"), ("min_signal_remaining", "int"),
                                ("num_channels", "int"), ("one_minus_smoothing", "int"),
                                ("smoothing", "int"), ("smoothing_bits", "int"),
                                ("spectral_subtraction_bits", "int")))
