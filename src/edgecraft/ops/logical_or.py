"""LOGICAL_OR: bool inputs, a bool output true where either input is true (TFLM's ``logical.cc``:
broadcasting up to rank 4)."""

from __future__ import annotations

import numpy as np

from edgecraft.ops.compare import comparison

OP = comparison("LOGICAL_OR", np.logical_or, ("bool",), "LogicalOrOptions")
