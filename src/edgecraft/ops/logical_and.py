"""LOGICAL_AND: bool inputs, a bool output true where both inputs are true (TFLM's ``logical.cc``:
broadcasting up to rank 4)."""

from __future__ import annotations

import numpy as np

from edgecraft.ops.compare import comparison

OP = comparison("LOGICAL_AND", np.logical_and, ("bool",), "LogicalAndOptions")
