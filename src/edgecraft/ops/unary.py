"""What the one-input float32 math ops (NEG, SQUARE, LOG, SIN, COS, FLOOR, CEIL, ROUND, and ABS's
float case) share: the output has the input's shape and dtype, computed element by element.

TFLM evaluates them with ``std::`` functions on float; edgecraft computes the transcendental
ones in double and rounds once to float32 (the correctly rounded value, which is within an ulp
of the C library's), the others (negation, square, floor, ceil, round half to even) exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from edgecraft.ops.base import Kernel, OpContext, OpDef, OpError, Options
from edgecraft.ops.relu import same_shape


def same_dtype_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """The output has the input's shape; its dtype must be the input's."""
    x, y = ctx.req_input(0), ctx.output(0)
    if x.dtype != y.dtype:
        raise OpError(f"{ctx.op.type} output must have the input's dtype {x.dtype}, got {y.dtype}")
    return same_shape(ctx)


def float_kernel(fn: Callable[[np.ndarray], np.ndarray], in_double: bool) -> Kernel:
    """float32 kernel applying ``fn`` (in float64 then rounded once, when ``in_double``)."""

    def kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
        x = np.asarray(args[0], np.float32)
        with np.errstate(all="ignore"):  # log(0) = -inf, log(-1) = nan, as in C
            y = fn(x.astype(np.float64)) if in_double else fn(x)
        return [np.asarray(y).astype(np.float32)]

    return kernel


def float_unary(name: str, fn: Callable[[np.ndarray], np.ndarray], in_double: bool = False,
                table: str | None = None) -> OpDef:
    """The record of a float32-only elementwise op."""
    return OpDef(
        name=name,
        shape=same_dtype_shape,
        kernels={"float32": float_kernel(fn, in_double)},
        inplace=True,
        options=Options(table),
    )
