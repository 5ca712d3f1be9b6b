"""Integer arithmetic shared by the int8 kernels, as TensorFlow Lite Micro does it.

These mirror ``quantization_util.cc``, ``common.h`` and gemmlowp's ``fixedpoint.h`` (the
double-rounding path that TFLM builds by default), vectorized over numpy int64 arrays. Every
function keeps C's int32 semantics: results are wrapped or saturated to int32 exactly where
the C code would be.
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6")


def wrap_int32(x: np.ndarray) -> np.ndarray:
    """Two's-complement wrap to int32 range, returned as int64."""
    x = np.asarray(x, dtype=np.int64)
    if x.size and x.min() >= INT32_MIN and x.max() <= INT32_MAX:  # the usual case: nothing wraps
        return x
    return ((x + 2**31) & 0xFFFFFFFF) - 2**31


def tflite_round(x: float) -> int:
    """``std::round``: halves away from zero."""
    return math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """``QuantizeMultiplier``: ``real ~= multiplier * 2**(shift - 31)``, multiplier in int32."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = tflite_round(q * (1 << 31))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    if shift > 30:
        shift, q_fixed = 30, (1 << 31) - 1
    return q_fixed, shift


def quantize_multiplier_smaller_than_one_exp(real: float) -> tuple[int, int]:
    """``QuantizeMultiplierSmallerThanOneExp``: as above, for 0 < real < 1 (shift <= 0)."""
    if not 0.0 < real < 1.0:
        raise ValueError(f"multiplier {real} is not in (0, 1)")
    return quantize_multiplier(real)


def saturating_rounding_doubling_high_mul(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """gemmlowp ``SaturatingRoundingDoublingHighMul`` on int32 values held in int64.

    ``(a * b + nudge) / 2**31`` with C's truncating division, where the nudge is ``2**30`` for a
    non-negative product and ``1 - 2**30`` otherwise; the one overflow (both operands INT32_MIN)
    saturates to INT32_MAX. Branch-free: ``v >> 63`` is -1 for negative ``v`` and 0 otherwise.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    v = a * b
    neg = v >> 63
    v += (1 << 30) + (neg & (1 - (1 << 31)))  # the nudge
    v += (v >> 63) & ((1 << 31) - 1)  # bias negatives so the shift truncates toward zero
    v >>= 31
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    if overflow.any():
        v = np.where(overflow, INT32_MAX, v)
    return v


def rounding_divide_by_pot(x: np.ndarray, exponent: np.ndarray | int) -> np.ndarray:
    """gemmlowp ``RoundingDivideByPOT``: divide by ``2**exponent``, rounding half away from 0."""
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    threshold = (mask >> 1) - (x >> 63)  # x >> 63 is -1 for negative x
    return (x >> exponent) + ((x & mask) > threshold)


def multiply_by_quantized_multiplier(
    x: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int
) -> np.ndarray:
    """TFLM's ``MultiplyByQuantizedMultiplier(int32 x, int32 multiplier, int shift)``.

    ``multiplier`` and ``shift`` may be arrays that broadcast against ``x`` (per channel).
    """
    x = np.asarray(x, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    if (shift > 0).any():
        x = wrap_int32(x << np.maximum(shift, 0))
    right = np.maximum(-shift, 0)
    high = saturating_rounding_doubling_high_mul(x, multiplier)
    if not right.any():
        return high
    return rounding_divide_by_pot(high, right)


def multiply_by_quantized_multiplier_smaller_than_one(
    x: np.ndarray, multiplier: int, shift: int
) -> np.ndarray:
    """``MultiplyByQuantizedMultiplierSmallerThanOneExp`` (shift <= 0)."""
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), -shift)


def multiply_by_quantized_multiplier_greater_than_one(
    x: np.ndarray, multiplier: int, left_shift: int
) -> np.ndarray:
    """``MultiplyByQuantizedMultiplierGreaterThanOne`` (left shift >= 0)."""
    x = wrap_int32(np.asarray(x, dtype=np.int64) * (1 << left_shift))
    return saturating_rounding_doubling_high_mul(x, multiplier)


def dtype_range(dtype: str) -> tuple[int, int]:
    info = np.iinfo(np.dtype(dtype))
    return int(info.min), int(info.max)


def quantized_activation_range(
    activation: str, scale: float, zero_point: int, dtype: str = "int8"
) -> tuple[int, int]:
    """``CalculateActivationRangeQuantized``: the clamp for a fused activation on a
    quantized output."""
    qmin, qmax = dtype_range(dtype)

    def q(v: float) -> int:  # TFLM divides in float32, then rounds
        return zero_point + tflite_round(float(np.float32(v) / np.float32(scale)))

    if activation == "NONE":
        return qmin, qmax
    if activation == "RELU":
        return max(qmin, q(0.0)), qmax
    if activation == "RELU6":
        return max(qmin, q(0.0)), min(qmax, q(6.0))
    if activation == "RELU_N1_TO_1":
        return max(qmin, q(-1.0)), min(qmax, q(1.0))
    raise ValueError(f"unsupported fused activation {activation!r}; supported: {', '.join(ACTIVATIONS)}")


def float_activation(x: np.ndarray, activation: str) -> np.ndarray:
    """Apply a fused activation to a float32 result."""
    if activation == "NONE":
        return x
    if activation == "RELU":
        return np.maximum(x, np.float32(0))
    if activation == "RELU6":
        return np.clip(x, np.float32(0), np.float32(6))
    if activation == "RELU_N1_TO_1":
        return np.clip(x, np.float32(-1), np.float32(1))
    raise ValueError(f"unsupported fused activation {activation!r}; supported: {', '.join(ACTIVATIONS)}")
