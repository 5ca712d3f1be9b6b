"""SignalIrfft (TFLM signal library), int16: the inverse real FFT of each run of
``fft_length/2 + 1`` (real, imaginary) int16 pairs, ``fft_length`` int16 samples out, in TFLM's
Q15 KISS FFT arithmetic (:func:`edgecraft.ops.kissfft16.irfft`). TFLM's int32 and float32
variants are not supported yet."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops import kissfft16
from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.signal_common import attr, dtypes, flex_options, need

_INT16 = 7  # TFLite TensorType INT16, the ``T`` option


def _shape(ctx: OpContext) -> list[tuple[int, ...]]:
    dtypes(ctx, ("int16",), ("int16",))
    t = attr(ctx, "T")
    need(ctx, t == _INT16, f"only the int16 variant (T={_INT16}) is supported, got T={t}")
    n = attr(ctx, "fft_length")
    need(ctx, n >= 4 and n & (n - 1) == 0, f"fft_length must be a power of two >= 4, got {n}")
    x = ctx.req_input(0)
    need(ctx, len(x.shape) >= 1 and x.shape[-1] == n + 2,
         f"the input's last dimension must be fft_length + 2 = {n + 2}, got shape {list(x.shape)}")
    return [(*x.shape[:-1], n)]


def _kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0], np.int64)
    out = kissfft16.irfft(x[..., 0::2], x[..., 1::2], attr(ctx, "fft_length"))
    return [out.astype(np.int16)]


OP = OpDef(name="SignalIrfft", shape=_shape, kernels={"int16": _kernel},
           options=flex_options(("T", "int"), ("fft_length", "int")))
