"""TFLM's interpolated int16 lookup tables (``common.h``: ``LUTPopulate<int16_t>`` and
``LUTLookup``), as int16 SOFTMAX builds and reads them.

A table holds 513 int16 samples of a function over the int16 input range: 512 steps of the
top 9 bits, the 513th only for the last slope. Each sample is lowered by half the error that
linear interpolation makes at the middle of its step. TFLM computes the tables in float32
(``std::exp`` is float ``expf``); here every operation is a numpy float32 operation in the same
order, the transcendental evaluated in double and rounded once to float32.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from edgecraft.ops.arith import round_half_away_array

F = np.float32
INT16_RANGE = 65535  # numeric_limits<int16_t>::max() - min()


def _round(v: np.ndarray) -> np.ndarray:
    return round_half_away_array(v).astype(np.float32)


def lut_populate_int16(input_scale: np.float32, input_zero_point: int, output_scale: np.float32,
                       output_zero_point: int, transform: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``LUTPopulateInt16<float>``: the 513 int16 samples (int64 array)."""
    input_min = F(input_scale * F(-32768 - input_zero_point))
    input_max = F(input_scale * F(32767 - input_zero_point))
    output_min = F(output_scale * F(-32768 - output_zero_point))
    output_max = F(output_scale * F(32767 - output_zero_point))
    steps = 512
    step = F(F(input_max - input_min) / F(steps))
    half_step = F(step / F(2))
    scaling_inv = F(F(65536) / F(output_max - output_min))
    i = np.arange(steps, dtype=np.float32)
    at = (input_min + i * step).astype(np.float32)
    val = transform(at)
    mid = transform((at + half_step).astype(np.float32))
    nxt = transform((input_min + (i + F(1)) * step).astype(np.float32))
    sample = _round(val * scaling_inv)
    interp = _round(((nxt * scaling_inv) + sample) / F(2))
    err = interp - _round(mid * scaling_inv)
    bias = _round(err / F(2))
    table = np.clip(sample - bias, -32768, 32767)
    last = np.clip(_round(transform(np.array([input_max], np.float32)) * scaling_inv), -32768, 32767)
    return np.concatenate([table, last]).astype(np.int64)


def lut_lookup_int16(value: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """``LUTLookup``: the sample at the top 9 bits of ``value`` plus the slope to the next one
    times the low 7 bits, rounded (``(slope * offset + 64) >> 7``); int16 result."""
    v = np.asarray(value, dtype=np.int64)
    index = 256 + (v >> 7)
    offset = v & 0x7F
    base = lut[index]
    slope = ((lut[index + 1] - base + 2**15) & 0xFFFF) - 2**15  # stored as int16_t
    return ((base + ((slope * offset + 64) >> 7) + 2**15) & 0xFFFF) - 2**15


def _exp(x: np.ndarray) -> np.ndarray:
    return np.exp(x.astype(np.float64)).astype(np.float32)


def _one_over_one_plus(x: np.ndarray) -> np.ndarray:
    return (F(1) / (F(1) + x)).astype(np.float32)


@cache
def softmax_luts() -> tuple[np.ndarray, np.ndarray]:
    """int16 SOFTMAX's two tables (``InitializeLutForInt16``): exp on [-10, 0] into [-1, 1)
    and 1 / (1 + x) on [0, 1]."""
    exp_lut = lut_populate_int16(F(F(10) / F(INT16_RANGE)), 32767, F(F(2) / F(INT16_RANGE)), 0, _exp)
    recip_lut = lut_populate_int16(F(F(1) / F(INT16_RANGE)), -32768, F(F(2) / F(INT16_RANGE)), 0,
                                   _one_over_one_plus)
    exp_lut.setflags(write=False)
    recip_lut.setflags(write=False)
    return exp_lut, recip_lut
