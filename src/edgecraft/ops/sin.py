"""SIN: the sine; float32 only in TFLM."""

from __future__ import annotations

import numpy as np

from edgecraft.ops.unary import float_unary

OP = float_unary("SIN", np.sin, in_double=True)
