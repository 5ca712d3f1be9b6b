"""SOFTMAX: y = exp(beta * (x - max)) / sum(exp(beta * (x - max))) over the last axis.

int8 follows TFLM's ``softmax_common.cc`` (Prepare) and ``reference_ops::Softmax``:

- ``PreprocessSoftmaxScaling``: ``beta * input_scale * 2**26`` (double, capped at 2**31 - 1)
  becomes ``input_multiplier`` and ``input_left_shift``, so a difference ``x - max`` maps to
  Q5.26; ``diff_min = -CalculateInputRadius(5, input_left_shift)``, and differences below it
  count as exp = 0.
- per row: exp of each scaled difference (gemmlowp ``exp_on_negative_values``), summed in
  Q12.19; the sum's reciprocal (``GetReciprocal``) times each exp, shifted to the output type.

Outputs: int8 with scale exactly 1/256 and zero point -128, or int16 with scale 1/65536 and
zero point -32768 (TFLM's checks). int16 input follows ``reference_ops::SoftmaxInt16`` with
TFLM's interpolated exp and reciprocal tables (:mod:`edgecraft.ops.lut16`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from edgecraft.ops import fixedpoint as fp
from edgecraft.ops.arith import (
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_greater_than_one,
    quantize_multiplier,
    quantize_multiplier_greater_than_one,
    rounding_divide_by_pot,
    wrap_int32,
)
from edgecraft.ops.base import Cost, OpContext, OpDef, OpError, Options
from edgecraft.ops.lut16 import lut_lookup_int16, softmax_luts

SCALED_DIFF_INTEGER_BITS = 5  # exp() input is Q5.26
ACCUM_INTEGER_BITS = 12  # the sum of exps is Q12.19


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    x = ctx.req_input(0)
    if len(x.shape) < 1:
        raise OpError("SOFTMAX needs an input of rank 1 or more")
    return [tuple(x.shape)]


def input_params(beta: float, scale: float) -> tuple[int, int, int]:
    """``(input_multiplier, input_left_shift, diff_min)`` as TFLM's Prepare computes them."""
    real = min(beta * scale * (1 << (31 - SCALED_DIFF_INTEGER_BITS)), (1 << 31) - 1.0)
    if not real > 1.0:
        raise OpError(f"SOFTMAX beta * input scale ({beta} * {scale}) is too small for TFLM "
                      "(needs beta * scale > 2**-26)")
    multiplier, left_shift = quantize_multiplier_greater_than_one(real)
    radius = ((1 << SCALED_DIFF_INTEGER_BITS) - 1) * (1 << (31 - SCALED_DIFF_INTEGER_BITS)) / 2.0**left_shift
    return multiplier, left_shift, -math.floor(radius)


#: ``exp(ctx, diff)``: ``exp(beta * input_scale * diff)`` in Q0.31 for int differences
#: ``diff <= 0``. :func:`exp_of_differences` is the reference; ``runtime/fast`` tabulates it.
Exp = Callable[[OpContext, np.ndarray], np.ndarray]


def beta_of(ctx: OpContext) -> float:
    """The op's beta as TFLM reads it (the model stores it as float32)."""
    return float(np.float32(ctx.attrs.get("beta", 1.0)))


def exp_of_differences(ctx: OpContext, diff: np.ndarray) -> np.ndarray:
    """exp of each difference the way TFLM evaluates it: rescaled by the input multiplier into
    Q5.26 (``MultiplyByQuantizedMultiplierGreaterThanOne``), then gemmlowp's exp."""
    multiplier, left_shift, _ = input_params(beta_of(ctx), ctx.req_input(0).scale)
    scaled = multiply_by_quantized_multiplier_greater_than_one(diff, multiplier, left_shift)
    return fp.exp_on_negative_values(scaled, SCALED_DIFF_INTEGER_BITS)


def check_output(out_dtype: str, out_scale: float, out_zero_point: int) -> None:
    """Raise :class:`OpError` unless the output quantization is the one TFLM accepts."""
    if out_dtype == "int8":
        if out_zero_point != -128 or np.float32(out_scale) != np.float32(1 / 256):
            raise OpError(f"SOFTMAX int8 output must have scale 1/256 and zero point -128, got "
                          f"scale {out_scale} and zero point {out_zero_point}")
    elif out_dtype == "int16":
        if out_zero_point != -32768 or abs(out_scale - 1 / 65536) > 0.001 / 65536:
            raise OpError(f"SOFTMAX int16 output (int8 input) must have scale 1/65536 and zero "
                          f"point -32768, got scale {out_scale} and zero point {out_zero_point}")
    else:
        raise OpError(f"SOFTMAX with int8 input needs an int8 or int16 output, got {out_dtype}")


def softmax_int8(ctx: OpContext, args: list[Any], exp: Exp = exp_of_differences) -> list[np.ndarray]:
    """``reference_ops::Softmax`` (int8 input): per row, the exps of the differences to the
    row's maximum, their sum's reciprocal, each exp times it, shifted to the output type."""
    x, out = ctx.req_input(0), ctx.output(0)
    check_output(out.dtype, out.scale, out.zero_point)
    _, _, diff_min = input_params(beta_of(ctx), x.scale)
    data = np.asarray(args[0]).astype(np.int64)
    rows = data.reshape(-1, data.shape[-1])  # (outer, depth)
    diff = rows - rows.max(axis=1, keepdims=True)  # in [-255, 0] for int8 input
    used = diff >= diff_min
    exps = exp(ctx, np.where(used, diff, 0))  # Q0.31
    terms = fp.rescale(exps, 0, ACCUM_INTEGER_BITS)
    sum_of_exps = wrap_int32(np.where(used, terms, 0).sum(axis=1, keepdims=True))
    reciprocal, bits_over_unit = fp.get_reciprocal(sum_of_exps, ACCUM_INTEGER_BITS)
    out_bits = 8 if out.dtype == "int8" else 16
    exponent = bits_over_unit + 31 - out_bits
    if exponent.max() > 31:  # TFLM's TFLITE_CHECK aborts the process here
        raise OpError("SOFTMAX row has too many values near its maximum for an int8 output "
                      "(sum of exps reaches 512); TFLM aborts on this input")
    unsat = rounding_divide_by_pot(fp.mul(reciprocal, exps), exponent)
    lo, hi = -(1 << (out_bits - 1)), (1 << (out_bits - 1)) - 1
    y = np.where(used, np.clip(unsat + lo, lo, hi), lo)
    return [y.reshape(data.shape).astype(out.np_dtype)]


def int16_params(ctx: OpContext) -> tuple[int, int]:
    """int16 input: zero points 0, output scale 1/32768 (within 0.1%), and ``(input_multiplier,
    input_left_shift)`` = ``QuantizeMultiplier(input_scale * beta / (10 / 65535))``, which maps
    a difference to the maximum onto the exp table's [-65535, 0] for [-10, 0]."""
    x, out = ctx.req_input(0), ctx.output(0)
    if out.dtype != "int16":
        raise OpError(f"SOFTMAX with int16 input needs an int16 output, got {out.dtype}")
    if x.zero_point != 0 or out.zero_point != 0 or abs(out.scale - 1 / 32768) > 0.001 / 32768:
        raise OpError(f"SOFTMAX int16 needs zero points of 0 and output scale 1/32768, got input zero "
                      f"point {x.zero_point}, output scale {out.scale} and zero point {out.zero_point}")
    return quantize_multiplier(float(np.float32(x.scale)) * beta_of(ctx) / (10.0 / 65535.0))


def softmax_int16(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """``reference_ops::SoftmaxInt16``: per row, each difference to the maximum scaled onto the
    exp table and looked up (Q0.15), their int32 sum normalized by its leading zeros and looked
    up in the 1 / (1 + x) table, each exp times that reciprocal, shifted back, clamped to
    [0, 32767]."""
    multiplier, shift = ctx.memo("int16_params", lambda: int16_params(ctx))
    exp_lut, recip_lut = softmax_luts()
    data = np.asarray(args[0]).astype(np.int64)
    rows = data.reshape(-1, data.shape[-1])
    scaled = multiply_by_quantized_multiplier(rows - rows.max(axis=1, keepdims=True), multiplier, shift)
    exps = lut_lookup_int16(np.clip(scaled + 32767, -32768, 32767), exp_lut)
    total = exps.sum(axis=1, keepdims=True)  # int32 in C: at most 32767 per element
    headroom = 32 - sum(((total >> k) > 0).astype(np.int64) for k in range(32))  # leading zeros
    shifted = ((total << (headroom - 1)) + (1 << 13)) >> 14
    recip = lut_lookup_int16(np.clip(shifted - (1 << 15) - (1 << 16), -32768, 32767), recip_lut)
    right = 31 - headroom
    y = (exps * recip + (np.int64(1) << (right - 1))) >> right
    return [np.clip(y, 0, 32767).reshape(data.shape).astype(np.int16)]


def softmax_float32(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0], dtype=np.float32)
    beta = np.float32(ctx.attrs.get("beta", 1.0))
    e = np.exp((x - x.max(axis=-1, keepdims=True)) * beta)
    return [(e / e.sum(axis=-1, keepdims=True, dtype=np.float32)).astype(np.float32)]


def cost(ctx: OpContext) -> Cost:
    """Two exp evaluations per element (the reference computes it in both passes) plus one
    multiply for the normalization: counted as 2 MACs per element."""
    x, y = ctx.req_input(0), ctx.output(0)
    return Cost(2 * x.size, x.nbytes, y.nbytes)


OP = OpDef(
    name="SOFTMAX",
    shape=shape,
    kernels={"int8": softmax_int8, "int16": softmax_int16, "float32": softmax_float32},
    cost=cost,
    code={"portable": ("ec_softmax.c",)},
    state_bytes=24,
    fixed_output=(1.0 / 256.0, -128),
    fixed_output_int16=(1.0 / 32768.0, 0),
    options=Options("SoftmaxOptions", (("beta", "Beta", "float"),)),
)
