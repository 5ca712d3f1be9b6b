"""ADD: elementwise sum with broadcasting and a fused activation.

int8/int16 follow TFLM's ``add_common.cc`` and ``reference/integer_ops/add.h``: both inputs are
offset, shifted left (20 bits for int8, 15 for int16) and rescaled to twice the larger input
scale, summed, then rescaled to the output scale and clamped. SUB reuses this arithmetic.
The multipliers are computed in double from the float32 scales, for SUB too: some TFLM sources
compute SUB's in float32, but the TFLM build we test against uses double (tests/ops/
test_elementwise.py pins scales and inputs where the two give different outputs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgecraft.ops.arith import (
    multiply_by_quantized_multiplier_smaller_than_one,
    quantize_multiplier_smaller_than_one_exp,
)
from edgecraft.ops.base import Kernel, OpContext, OpDef, OpError, Options
from edgecraft.ops.broadcast import activation, binary_shape, per_element_cost
from edgecraft.ops.options import ADD_SUB_FIELDS
from edgecraft.ops.quant import float_activation, quantized_activation_range

Combine = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class RescaleParams:
    """Fixed-point parameters of a quantized ADD or SUB (TFLM's ``OpDataAdd``)."""

    left_shift: int
    input1: tuple[int, int]  # (multiplier, shift) of input 1 into the common scale
    input2: tuple[int, int]
    output: tuple[int, int]  # from the common scale to the output scale


def rescale_params(s1: float, s2: float, s_out: float, dtype: str) -> RescaleParams:
    """Multipliers for inputs with scales ``s1``, ``s2`` and an output with scale ``s_out``."""
    left_shift = 15 if dtype == "int16" else 20
    twice_max = 2 * max(s1, s2)
    reals = (s1 / twice_max, s2 / twice_max, twice_max / ((1 << left_shift) * s_out))
    try:
        m1, m2, mo = (quantize_multiplier_smaller_than_one_exp(r) for r in reals)
    except ValueError:
        raise OpError(
            f"scales {s1:g}, {s2:g} -> {s_out:g} are out of range for a quantized add/sub: "
            "the output scale is too small for the input scales"
        ) from None
    return RescaleParams(left_shift, m1, m2, mo)


def _rescale(x: np.ndarray, zero_point: int, left_shift: int, mult: tuple[int, int]) -> np.ndarray:
    shifted = (x.astype(np.int64) - zero_point) * (1 << left_shift)
    return multiply_by_quantized_multiplier_smaller_than_one(shifted, *mult)


def quantized_kernel(combine: Combine) -> Kernel:
    """int8/int16 ADD or SUB: ``combine`` is ``np.add`` or ``np.subtract`` on the rescaled inputs."""

    def kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
        t1, t2, out = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
        if out.dtype != t1.dtype:
            raise OpError(f"{ctx.op.type} with {t1.dtype} inputs needs a {t1.dtype} output, got {out.dtype}")
        p = rescale_params(t1.scale, t2.scale, out.scale, out.dtype)
        a = _rescale(args[0], t1.zero_point, p.left_shift, p.input1)
        b = _rescale(args[1], t2.zero_point, p.left_shift, p.input2)
        raw = combine(a, b)  # the rescaled terms are at most 2**29 in magnitude: no int32 overflow
        result = multiply_by_quantized_multiplier_smaller_than_one(raw, *p.output) + out.zero_point
        lo, hi = quantized_activation_range(activation(ctx), out.scale, out.zero_point, out.dtype)
        return [np.clip(result, lo, hi).astype(out.np_dtype)]

    return kernel


def float_kernel(combine: Combine) -> Kernel:
    """float32: combine in float32, then the fused activation."""

    def kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
        result = combine(args[0].astype(np.float32), args[1].astype(np.float32))
        return [float_activation(result, activation(ctx))]

    return kernel


def int32_kernel(combine: Combine) -> Kernel:
    """Unquantized int32 (index arithmetic): wraps like C; the shape rule refuses activations."""

    def kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
        return [combine(args[0].astype(np.int32), args[1].astype(np.int32))]

    return kernel


OP = OpDef(
    name="ADD",
    shape=binary_shape(6),
    kernels={
        "int8": quantized_kernel(np.add),
        "int16": quantized_kernel(np.add),
        "float32": float_kernel(np.add),
        "int32": int32_kernel(np.add),
    },
    cost=per_element_cost,
    inplace=True,
    code={"portable": ("ec_elementwise.c",), "dsp": ("ec_add_table.c",),
          "mve": ("ec_elementwise_mve.c",)},  # broadcasting: the dsp file
    state_bytes=56,
    options=Options("AddOptions", ADD_SUB_FIELDS),
)
