"""FLOOR: rounded down; float32 only in TFLM."""

from __future__ import annotations

import numpy as np

from edgecraft.ops.unary import float_unary

OP = float_unary("FLOOR", np.floor, in_double=False)
