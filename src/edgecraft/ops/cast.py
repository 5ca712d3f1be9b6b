"""CAST: each element converted to the output's type with a C ``static_cast``, as TFLM's
``cast.cc`` (from int8, int16, int32, uint32, float32 and bool to int8, int16, int32, uint32,
float32 and bool). Integers narrow or change sign by wrapping, floats become integers by
truncation toward zero (values outside the target type are undefined in C and are not tested),
bool gives 0 or 1, and a cast to bool is ``value != 0`` (so -0.5 is true, as ``static_cast``).
Quantization parameters are ignored, as TFLM does."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options

INPUTS = ("int8", "int16", "int32", "uint32", "float32", "bool")
OUTPUTS = ("int8", "int16", "int32", "uint32", "float32", "bool")


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    out = ctx.output(0)
    if out.dtype not in OUTPUTS:
        raise OpError(f"CAST to {out.dtype} is not supported (TFLM casts to {', '.join(OUTPUTS)})")
    return [tuple(ctx.req_input(0).shape)]


def cast(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0])
    out = ctx.output(0)
    if out.dtype == "bool":
        return [x != 0]
    if x.dtype.kind == "f" and out.dtype != "float32":
        return [np.trunc(x).astype(np.int64).astype(out.np_dtype)]
    return [x.astype(out.np_dtype)]


OP = OpDef(
    name="CAST",
    shape=shape,
    kernels=dict.fromkeys(INPUTS, cast),
    inplace=False,
    code={"portable": ("ec_select_cast.c",)},
    options=Options("CastOptions"),
)
