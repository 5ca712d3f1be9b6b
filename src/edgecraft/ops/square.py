"""SQUARE: ``x * x`` in float32; float32 only in TFLM."""

from __future__ import annotations

import numpy as np

from edgecraft.ops.unary import float_unary

OP = float_unary("SQUARE", np.square, in_double=False, table="SquareOptions")
