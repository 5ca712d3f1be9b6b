"""EXP: ``std::exp`` of a float32; float32 only in TFLM (``exp.cc``). numpy's float32 exp may
differ from the C library's in the last place; float ops are compared within 1e-5."""

from __future__ import annotations

import numpy as np

from edgecraft.ops.unary import float_unary

OP = float_unary("EXP", np.exp, in_double=True, table="ExpOptions")
