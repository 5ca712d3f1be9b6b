"""ROUND: to the nearest integer, ties to even (TFLM's RoundToNearest); float32 only in TFLM."""

from __future__ import annotations

import numpy as np

from edgecraft.ops.unary import float_unary

OP = float_unary("ROUND", np.round, in_double=False)
