"""NOT_EQUAL: a bool tensor, true where elements differ (broadcasting; int8 compared by real value).

The arithmetic is TFLM's ``comparisons.cc``: see :mod:`edgecraft.ops.compare`.
"""

from __future__ import annotations

import numpy as np

from edgecraft.ops.compare import comparison

OP = comparison("NOT_EQUAL", np.not_equal, ("int8", "int32", "int64", "float32", "bool"), "NotEqualOptions")
