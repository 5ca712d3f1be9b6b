"""The integer arithmetic of TFLite Micro's signal library, shared by the signal ops and the
``micro-speech`` front end in :mod:`edgecraft.dsp.micro_speech`: bit lengths, the rounded 64-bit
square root, PCAN's wide dynamic gain function, the fixed-point log and the int16 peak, all on
int64 numpy arrays holding the C types' values.
"""

from __future__ import annotations

import math

import numpy as np


def bitlength(x: np.ndarray) -> np.ndarray:
    """Bit length of non-negative integers (0 for 0), exact up to 2^53."""
    x = np.asarray(x, np.int64)
    out = np.zeros(x.shape, np.int64)
    nz = x > 0
    _, e = np.frexp(x[nz].astype(np.float64))
    out[nz] = e
    return out


def sqrt64_round(n: np.ndarray) -> np.ndarray:
    """TFLM's Sqrt64: floor square root, plus one when the remainder exceeds the root (never past
    0xFFFF for inputs below 2^32, 0xFFFFFFFF above)."""
    n = np.asarray(n, np.int64)
    r = np.floor(np.sqrt(n.astype(np.float64))).astype(np.int64)
    r -= (r * r > n).astype(np.int64)
    r += ((r + 1) * (r + 1) <= n).astype(np.int64)
    cap = np.where(n < (1 << 32), 0xFFFF, 0xFFFFFFFF)
    return r + ((n - r * r > r) & (r != cap)).astype(np.int64)


def wide_dynamic(x: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """TFLM's WideDynamicFunction: the gain for noise estimates ``x`` (uint32 values in int64)."""
    x = np.asarray(x, np.int64)
    lut32 = lut.astype(np.int64)
    interval = bitlength(x)
    base = np.clip(4 * interval - 6, 0, len(lut) - 3)
    frac = np.where(interval < 11, x << np.clip(11 - interval, 0, None), x >> np.clip(interval - 11, 0, None))
    frac = frac & 0x3FF
    res = (lut32[base + 2] * frac) >> 5
    res = (res + lut32[base + 1] * 32).astype(np.int32).astype(np.int64)
    res = (res * frac).astype(np.int32).astype(np.int64)
    res = (res + (1 << 14)).astype(np.int32).astype(np.int64) >> 15
    res = (res + lut32[base]).astype(np.int16).astype(np.int64)
    small = x <= 2
    return np.where(small, lut32[np.minimum(x, 2)], res)


#: TFLM's log2 correction table: ``round(2^16 (log2(1 + k/128) - k/128))``, k = 0..128, plus a 0.
LOG_LUT = np.array([round(65536 * (math.log2(1 + k / 128) - k / 128)) for k in range(129)] + [0], np.int64)


def log32(x: np.ndarray, out_scale: int) -> np.ndarray:
    """TFLM's Log32: fixed-point natural log of uint32 ``x`` (> 1), times ``out_scale``."""
    x = np.asarray(x, np.int64)
    integer = bitlength(x) - 1
    frac = x - (np.int64(1) << integer)
    up, down = np.clip(16 - integer, 0, None), np.clip(integer - 16, 0, None)
    frac = np.where(integer < 16, frac << up, frac >> down)
    seg = frac >> 9
    c0, c1 = LOG_LUT[seg], LOG_LUT[seg + 1]
    rel = ((c1 - c0) * (frac - 512 * seg)) >> 16
    log2 = (integer << 16) + frac + c0 + rel
    loge = (45426 * log2 + 32768) >> 16
    return ((out_scale * loge + 32768) & 0xFFFFFFFF) >> 16


def max_abs16(row: np.ndarray) -> int:
    """TFLM's MaxAbs16 with its int16 state: ``-(-32768)`` stores as -32768, after which the
    running "maximum" follows the next larger value (only reached by full-scale negative peaks)."""
    if not (row == -32768).any():
        return int(np.abs(row).max()) if len(row) else 0
    m = 0
    for v in row.tolist():
        if v > m:
            m = v
        elif -v > m:
            m = ((-v + 32768) & 0xFFFF) - 32768
    return m
