"""ARG_MIN: the index of the smallest value along an axis; see :mod:`edgecraft.ops.arg_max`
(the same scan with the comparison reversed; float32 and int8 in, int32 out)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.arg_max import TYPES, arg_extreme, reduced_axis, shape
from edgecraft.ops.base import OpContext, OpDef, Options


def arg_min(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    return [arg_extreme(args[0], reduced_axis(ctx), largest=False)]


OP = OpDef(
    name="ARG_MIN",
    shape=shape,
    kernels=dict.fromkeys(TYPES, arg_min),
    options=Options("ArgMinOptions", (("output_type", "OutputType", "int"),)),
)
