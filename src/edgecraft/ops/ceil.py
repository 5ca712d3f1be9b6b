"""CEIL: rounded up; float32 only in TFLM."""

from __future__ import annotations

import numpy as np

from edgecraft.ops.unary import float_unary

OP = float_unary("CEIL", np.ceil, in_double=False)
