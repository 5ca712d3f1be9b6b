"""LOGICAL_NOT: a bool tensor negated element by element (TFLM's ``elementwise.cc``, bool only)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, Options
from edgecraft.ops.relu import same_shape


def logical_not(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """bool: ``!x``."""
    return [np.logical_not(args[0]).astype(np.bool_)]


OP = OpDef(
    name="LOGICAL_NOT",
    shape=same_shape,
    kernels={"bool": logical_not},
    inplace=True,
    options=Options("LogicalNotOptions"),
)
