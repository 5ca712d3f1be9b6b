"""SELECT_V2: ``condition ? x : y`` element by element, the three broadcast together (TFLM's
``select.cc``: rank 5 at most; x and y float32, int8 or int16 of one dtype, stored values
copied, so x, y and the output share their quantization).

The kernels are keyed by input 0's dtype (the bool condition); the one kernel selects any value
type, so the record lists it under each value type TFLM supports too."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.broadcast import broadcast_shape

VALUE_TYPES = ("float32", "int8", "int16")


def select_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """The broadcast of condition, x and y."""
    c, x, y = ctx.req_input(0), ctx.req_input(1), ctx.req_input(2)
    if c.dtype != "bool":
        raise OpError(f"SELECT_V2 condition must be bool, got {c.dtype}")
    if x.dtype != y.dtype or x.dtype not in VALUE_TYPES:
        raise OpError(f"SELECT_V2 x and y must share one of {', '.join(VALUE_TYPES)}, "
                      f"got {x.dtype} and {y.dtype}")
    return [broadcast_shape(broadcast_shape(c.shape, x.shape, 5), y.shape, 5)]


def select_v2(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """``np.where`` over the broadcast shape."""
    out = ctx.output(0)
    return [np.broadcast_to(np.where(args[0], args[1], args[2]), out.shape).astype(out.np_dtype)]


OP = OpDef(
    name="SELECT_V2",
    shape=select_shape,
    kernels=dict.fromkeys(("bool", *VALUE_TYPES), select_v2),
    code={"portable": ("ec_select_cast.c",)},
    options=Options("SelectV2Options"),
)
