"""SQRT: ``std::sqrt`` of a float32 (correctly rounded); float32 only in TFLM."""

from __future__ import annotations

import numpy as np

from edgecraft.ops.unary import float_unary

OP = float_unary("SQRT", np.sqrt)
