"""FILL: a tensor of the shape given by input 0 (constant int32 or int64 dims, as TFLM
requires) filled with the scalar input 1 (TFLM: float32, int8, int16, int32, int64).

The kernels are keyed by input 0's dtype (the dims); the one kernel fills any value type, so
the record lists it under each value type TFLM supports too."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options

VALUE_TYPES = ("float32", "int8", "int16", "int32", "int64")


def fill_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """The constant dims; the value is a scalar of the output's dtype."""
    dims_t, value = ctx.req_input(0), ctx.req_input(1)
    if dims_t.dtype not in ("int32", "int64") or len(dims_t.shape) != 1:
        raise OpError(f"FILL dims must be a 1-D int32 or int64 tensor, got {dims_t.dtype} "
                      f"{list(dims_t.shape)}")
    if len(value.shape) != 0:
        raise OpError(f"FILL value must be a scalar, got shape {list(value.shape)}")
    if value.dtype != ctx.output(0).dtype or value.dtype not in VALUE_TYPES:
        raise OpError(f"FILL value dtype {value.dtype} must be the output's and one of "
                      f"{', '.join(VALUE_TYPES)}")
    dims = ctx.const(0)
    if np.any(dims < 0):
        raise OpError(f"FILL dims must not be negative, got {dims.tolist()}")
    return [tuple(int(d) for d in dims)]


def fill(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Any value dtype: the value repeated."""
    out = ctx.output(0)
    return [np.full(out.shape, np.asarray(args[1]).reshape(()), out.np_dtype)]


OP = OpDef(
    name="FILL",
    shape=fill_shape,
    code={"portable": ("ec_data_ops.c",)},  # a strided copy
    kernels=dict.fromkeys(VALUE_TYPES, fill),
    options=Options("FillOptions"),
)
