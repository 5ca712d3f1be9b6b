"""SignalIrfft (TFLM signal library), int16 and int32: the inverse real FFT of each run of
``fft_length/2 + 1`` (real, imaginary) int16 pairs, ``fft_length`` int16 samples out, in TFLM's
Q15 KISS FFT arithmetic (:func:`edgecraft.ops.kissfft16.irfft`). float32: the exact inverse DFT
(divided by ``fft_length`` as TFLM does) rounded once. int32: the same in Q31 (KISS's 32-bit
build)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops import kissfft16
from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.signal_common import attr, dtypes, flex_options, need

#: TFLite TensorType codes of the variants (the ``T`` option).
_TYPES = {"int16": 7, "int32": 2, "float32": 0}


def _shape(ctx: OpContext) -> list[tuple[int, ...]]:
    x = ctx.req_input(0)
    dtype = x.dtype if x.dtype in _TYPES else "int16"
    dtypes(ctx, (dtype,), (dtype,))
    t = attr(ctx, "T")
    need(ctx, t == _TYPES[dtype], f"the {dtype} variant needs T={_TYPES[dtype]}, got T={t}")
    n = attr(ctx, "fft_length")
    need(ctx, n >= 4 and n & (n - 1) == 0, f"fft_length must be a power of two >= 4, got {n}")
    need(ctx, len(x.shape) >= 1 and x.shape[-1] == n + 2,
         f"the input's last dimension must be fft_length + 2 = {n + 2}, got shape {list(x.shape)}")
    return [(*x.shape[:-1], n)]


def _kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0])
    width = 8 * x.dtype.itemsize
    wide = x.astype(np.int64)
    out = kissfft16.irfft(wide[..., 0::2], wide[..., 1::2], attr(ctx, "fft_length"), width)
    return [out.astype(x.dtype)]


def _float_kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0], np.float64)
    return [np.fft.irfft(x[..., 0::2] + 1j * x[..., 1::2], attr(ctx, "fft_length")).astype(np.float32)]


OP = OpDef(name="SignalIrfft", shape=_shape,
           code={"portable": ("ec_signal_fft.c",)},
           kernels={"int16": _kernel, "int32": _kernel, "float32": _float_kernel},
           options=flex_options(("T", "int"), ("fft_length", "int")))
