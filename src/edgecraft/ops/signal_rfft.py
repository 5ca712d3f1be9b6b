"""SignalRfft (TFLM signal library), int16 and int32: the real FFT of each run of the input's last
dimension, zero-padded to ``fft_length``, in TFLM's Q15 KISS FFT arithmetic
(:mod:`edgecraft.ops.kissfft16`); out, per run, ``fft_length/2 + 1`` (real, imaginary) int16
pairs. float32: the exact DFT rounded once to float32 (TFLM's float KISS FFT rounds at every
stage: within 1e-5 of the largest bin). int32: the same in Q31 (KISS's 32-bit build)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops import kissfft16
from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.signal_common import attr, dtypes, flex_options, need

#: TFLite TensorType codes of the variants edgecraft runs (the ``T`` option).
TYPES = {"int16": 7, "int32": 2, "float32": 0}


def _shape(ctx: OpContext) -> list[tuple[int, ...]]:
    x = ctx.req_input(0)
    dtype = x.dtype if x.dtype in TYPES else "int16"
    dtypes(ctx, (dtype,), (dtype,))
    t = attr(ctx, "T")
    need(ctx, t == TYPES[dtype], f"the {dtype} variant needs T={TYPES[dtype]}, got T={t}")
    n = attr(ctx, "fft_length")
    need(ctx, n >= 4 and n & (n - 1) == 0, f"fft_length must be a power of two >= 4, got {n}")
    need(ctx, len(x.shape) >= 1 and x.shape[-1] <= n,
         f"the input's last dimension must be at most fft_length {n}, got shape {list(x.shape)}")
    return [(*x.shape[:-1], n + 2)]


def _kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0])
    re, im = kissfft16.rfft(x.astype(np.int64), attr(ctx, "fft_length"), 8 * x.dtype.itemsize)
    return [np.stack([re, im], axis=-1).reshape(*re.shape[:-1], -1).astype(x.dtype)]


def _float_kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    spectrum = np.fft.rfft(np.asarray(args[0], np.float64), attr(ctx, "fft_length"))
    pairs = np.stack([spectrum.real, spectrum.imag], axis=-1)
    return [pairs.reshape(*spectrum.shape[:-1], -1).astype(np.float32)]


OP = OpDef(name="SignalRfft", shape=_shape,
           code={"portable": ("ec_signal_fft.c",)},
           kernels={"int16": _kernel, "int32": _kernel, "float32": _float_kernel},
           options=flex_options(("T", "int"), ("fft_length", "int")))
