"""The values the ONNX reader passes between op translations, and the translation registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgecraft.formats.tflite_reader import ModelFormatError
from edgecraft.ir.graph import Quantization

#: Permutations between ONNX's NCHW and the IR's NHWC.
TO_NHWC, TO_NCHW = (0, 2, 3, 1), (0, 3, 1, 2)


class UnsupportedOnnxOp(ModelFormatError):
    """An ONNX node edgecraft cannot translate; the message names it and what to do."""


@dataclass
class Const:
    """A value known while reading: an initializer, a Constant node, folded shape arithmetic."""

    data: np.ndarray


@dataclass
class QConst:
    """A DequantizeLinear of a constant: integers and their quantization."""

    data: np.ndarray
    quant: Quantization

    def real(self) -> np.ndarray:
        q = self.quant
        shape = [1] * self.data.ndim
        if q.per_channel:
            shape[q.axis] = -1
        s = q.scale.reshape(shape) if self.data.ndim else q.scale[0]
        z = q.zero_point.reshape(shape) if self.data.ndim else q.zero_point[0]
        return ((self.data.astype(np.float64) - z) * s).astype(np.float32)


@dataclass
class Act:
    """An IR tensor; ``nhwc`` marks a rank-4 value stored NHWC for an NCHW ONNX value."""

    index: int
    nhwc: bool = False


Value = Const | QConst | Act


def given(ins: list[Value], i: int) -> Const | QConst | Act | None:
    """Input ``i``, or None when it is absent (an empty name, or past the end)."""
    if i >= len(ins):
        return None
    v = ins[i]
    return None if isinstance(v, Const) and v.data.size == 0 and v.data.dtype == np.float32 else v


def const_data(ins: list[Value], i: int) -> np.ndarray | None:
    """The data of constant input ``i``; None when absent or computed."""
    v = given(ins, i)
    return np.asarray(v.data) if isinstance(v, Const | QConst) else None


#: A translation: (reader, node, input values, attributes) -> output values. The reader is an
#: :class:`edgecraft.formats.onnx_read.Reader` (typed loosely: it imports the translations).
Translation = Callable[[Any, Any, list[Value], dict[str, Any]], list[Value]]
TRANSLATIONS: dict[str, Translation] = {}


def translation(*names: str) -> Callable[[Translation], Translation]:
    """Register the decorated function as the translation of the ONNX ops ``names``."""
    def register(fn: Translation) -> Translation:
        for name in names:
            TRANSLATIONS[name] = fn
        return fn
    return register
