"""SignalRfft (TFLM signal library), int16: the real FFT of each run of the input's last
dimension, zero-padded to ``fft_length``, in TFLM's Q15 KISS FFT arithmetic
(:mod:`edgecraft.ops.kissfft16`); out, per run, ``fft_length/2 + 1`` (real, imaginary) int16
pairs. TFLM's int32 and float32 variants are not supported yet."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops import kissfft16
from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.signal_common import attr, dtypes, flex_options, need

#: TFLite TensorType INT16, the ``T`` option of the int16 variant.
INT16 = 7


def _shape(ctx: OpContext) -> list[tuple[int, ...]]:
    dtypes(ctx, ("int16",), ("int16",))
    t = attr(ctx, "T")
    need(ctx, t == INT16, f"only the int16 variant (T={INT16}) is supported, got T={t}")
    n = attr(ctx, "fft_length")
    need(ctx, n >= 4 and n & (n - 1) == 0, f"fft_length must be a power of two >= 4, got {n}")
    x = ctx.req_input(0)
    need(ctx, len(x.shape) >= 1 and x.shape[-1] <= n,
         f"the input's last dimension must be at most fft_length {n}, got shape {list(x.shape)}")
    return [(*x.shape[:-1], n + 2)]


def _kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0], np.int64)
    re, im = kissfft16.rfft(x, attr(ctx, "fft_length"))
    return [np.stack([re, im], axis=-1).reshape(*re.shape[:-1], -1).astype(np.int16)]


OP = OpDef(name="SignalRfft", shape=_shape, kernels={"int16": _kernel},
           options=flex_options(("T", "int"), ("fft_length", "int")))
