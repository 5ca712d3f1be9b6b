"""GREATER: a bool tensor, true where x1 > x2 (broadcasting; int8 compared by real value).

The arithmetic is TFLM's ``comparisons.cc``: see :mod:`edgecraft.ops.compare`.
"""

from __future__ import annotations

import numpy as np

from edgecraft.ops.compare import comparison

OP = comparison("GREATER", np.greater, ("int8", "int32", "int64", "float32"), "GreaterOptions")
