"""Output ranges and fused activations shared by the kernels, as TensorFlow Lite Micro
computes them (``kernel_util.cc``: ``CalculateActivationRangeQuantized``).

The integer arithmetic itself (multipliers, rounding, fixed point) lives in
:mod:`edgecraft.ops.arith`.
"""

from __future__ import annotations

import numpy as np

from edgecraft.ops.arith import round_half_away
from edgecraft.ops.base import OpError

ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6")


def dtype_range(dtype: str) -> tuple[int, int]:
    """(lowest, highest) value of an integer dtype; OpError for another (a quantized op whose
    output a damaged file declares float)."""
    if np.dtype(dtype).kind not in "iu":
        raise OpError(f"a quantized op's output must be an integer type like its inputs, got {dtype}")
    info = np.iinfo(np.dtype(dtype))
    return int(info.min), int(info.max)


def quantized_activation_range(
    activation: str, scale: float, zero_point: int, dtype: str = "int8"
) -> tuple[int, int]:
    """``CalculateActivationRangeQuantized``: the clamp for a fused activation on a
    quantized output."""
    qmin, qmax = dtype_range(dtype)

    def q(v: float) -> int:  # TFLM divides in float32, then rounds
        return zero_point + round_half_away(float(np.float32(v) / np.float32(scale)))

    if activation == "NONE":
        return qmin, qmax
    if activation == "RELU":
        return max(qmin, q(0.0)), qmax
    if activation == "RELU6":
        return max(qmin, q(0.0)), min(qmax, q(6.0))
    if activation == "RELU_N1_TO_1":
        return max(qmin, q(-1.0)), min(qmax, q(1.0))
    raise ValueError(f"unsupported fused activation {activation!r}; supported: {', '.join(ACTIVATIONS)}")


def float_activation_range(activation: str) -> tuple[float, float]:
    """``CalculateActivationRange`` for a float output: the clamp of a fused activation (NONE:
    the whole float32 range), for C kernels that clamp with two floats."""
    big = float(np.finfo(np.float32).max)
    ranges = {"NONE": (-big, big), "RELU": (0.0, big), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}
    if activation not in ranges:
        raise OpError(f"unsupported fused activation {activation!r}; supported: {', '.join(ACTIVATIONS)}")
    return ranges[activation]


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
    raise OpError(f"unsupported fused activation {activation!r}; supported: {', '.join(ACTIVATIONS)}")
