"""Quantizing features to a model's input: ``q = clamp(round(x / scale) + zero_point)``."""

from __future__ import annotations

import numpy as np

_RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}


def quantize(x: np.ndarray, scale: float, zero_point: int, dtype: str = "int8") -> np.ndarray:
    """Affine quantization with round-half-to-even (NumPy's and TensorFlow's ``round``), clamped
    to the range of ``dtype`` (int8, uint8 or int16). Float dtypes pass ``x`` through."""
    if dtype in ("float32", "float16"):
        return np.asarray(x, np.float32).astype(dtype)
    if dtype not in _RANGES:
        raise ValueError(f"cannot quantize to {dtype}; use int8, uint8, int16 or float32")
    lo, hi = _RANGES[dtype]
    q = np.round(np.asarray(x, np.float32) / np.float32(scale)) + int(zero_point)
    return np.clip(q, lo, hi).astype(dtype)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """``(q - zero_point) * scale`` as float32."""
    return ((np.asarray(q, np.int32) - int(zero_point)) * np.float32(scale)).astype(np.float32)
