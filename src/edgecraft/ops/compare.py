"""What the comparison ops (EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL) and the
binary logical ops share: a bool output over the broadcast shape of two inputs.

As in TFLM's ``comparisons.cc``: float32, int32 and int64 (and bool for EQUAL/NOT_EQUAL) compare
the stored values; int8 compares both inputs rescaled to a common fixed point (each value minus
its zero point, shifted left by 8, times its scale as a multiplier below one), so two int8
tensors with different quantization compare by real value. Broadcasting is TFLM's 4-D slow
broadcast: shapes that differ may have rank 4 at most. TFLM's GREATER also has an int16 case,
but it rescales with parameters its Prepare sets for int8 only (unset memory: the installed TFLM
gave all-false in one process and all-true in another), so edgecraft has no int16 comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from edgecraft.ops.arith import (
    multiply_by_quantized_multiplier_smaller_than_one,
    quantize_multiplier_smaller_than_one_exp,
)
from edgecraft.ops.base import Kernel, OpContext, OpDef, OpError, Options
from edgecraft.ops.broadcast import broadcast_shape

#: The comparisons, in the order of ``EC_CMP_*`` in ``codegen/kernels/ec_kernels.h`` (the C
#: kernel ``ec_compare_s8`` takes the index).
COMPARISONS = ("EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL")

#: TFLM's kLeftShift in ComparisonsPrepare.
LEFT_SHIFT = 8

Compare = Callable[[np.ndarray, np.ndarray], np.ndarray]


def pair_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """Two inputs of one dtype broadcast together (rank 4 at most when their shapes differ)."""
    a, b = ctx.req_input(0), ctx.req_input(1)
    if a.dtype != b.dtype:
        raise OpError(f"{ctx.op.type} inputs must have the same dtype, got {a.dtype} and {b.dtype}")
    if tuple(a.shape) == tuple(b.shape):
        return [tuple(a.shape)]
    return [broadcast_shape(a.shape, b.shape, 4)]


def scaling(ctx: OpContext, i: int) -> tuple[int, int, int]:
    """(zero point, multiplier, shift) of int8 input ``i``: its scale as a multiplier below one."""
    t = ctx.req_input(i)
    if t.quant is None:
        raise OpError(f"int8 {ctx.op.type} input {t.name!r} has no quantization parameters")
    try:
        m, s = quantize_multiplier_smaller_than_one_exp(float(t.scale))
    except ValueError:
        raise OpError(f"int8 {ctx.op.type} needs input scales below 1 (TFLM aborts), "
                      f"got {t.scale} on {t.name!r}") from None
    return t.zero_point, m, s


def rescaled(ctx: OpContext, x: np.ndarray, i: int) -> np.ndarray:
    """int8 input ``i`` in TFLM's comparison fixed point."""
    zp, m, s = ctx.memo(f"scaling{i}", lambda: scaling(ctx, i))
    return multiply_by_quantized_multiplier_smaller_than_one((x.astype(np.int64) - zp) << LEFT_SHIFT, m, s)


def compare_kernel(fn: Compare, scaled: bool) -> Kernel:
    """The kernel comparing two inputs with ``fn`` (int8: after rescaling)."""

    def kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
        a, b = args
        if scaled:
            a, b = rescaled(ctx, a, 0), rescaled(ctx, b, 1)
        shape = ctx.output(0).shape
        return [np.broadcast_to(fn(a, b), shape).astype(np.bool_)]

    return kernel


def comparison(name: str, fn: Compare, dtypes: tuple[str, ...], table: str) -> OpDef:
    """The record of a comparison op taking ``dtypes`` (int8 rescaled, the others compared as
    stored)."""
    return OpDef(
        name=name,
        shape=pair_shape,
        kernels={d: compare_kernel(fn, d == "int8") for d in dtypes},
        code={"portable": ("ec_compare.c",)},
            options=Options(table),
    )
