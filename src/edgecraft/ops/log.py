"""LOG: the natural logarithm (log(0) = -inf, of a negative NaN); float32 only in TFLM."""

from __future__ import annotations

import numpy as np

from edgecraft.ops.unary import float_unary

OP = float_unary("LOG", np.log, in_double=True)
