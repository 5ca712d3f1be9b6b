"""HARD_SWISH: y = x * relu6(x + 3) / 6, elementwise.

int8 follows TFLM's ``hard_swish_common.cc`` (Prepare, in float32 as there) and
``reference_ops::HardSwish`` (int16 fixed point): the input is moved to a "high resolution"
scale ``input_scale / 128``; one 16-bit multiplier takes it to the output scale, another to
the "reluish" scale where 3.0 is 32768, giving relu6(x + 3) / 6 as a Q0.15 factor in [0, 1];
the product of the two is shifted to the output scale. Any output quantization is allowed as
long as ``input_scale / 128 / output_scale`` is below 1 (TFLM's check).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.arith import (
    downscale_int32_to_int16_multiplier,
    quantize_multiplier,
    rounding_divide_by_pot_int16,
    saturating_doubling_high_mul_int16,
    saturating_left_shift_int16,
    saturating_rounding_doubling_high_mul_int16,
    wrap_int16,
)
from edgecraft.ops.base import Cost, OpContext, OpDef, OpError, Options


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    return [tuple(ctx.req_input(0).shape)]


def int16_multiplier(real: np.float32) -> tuple[int, int]:
    """``QuantizeMultiplier`` then ``DownScaleInt32ToInt16Multiplier``: (Q0.15 value, exponent)."""
    m32, exponent = quantize_multiplier(float(real))
    return downscale_int32_to_int16_multiplier(m32), exponent


def params(input_scale: float, output_scale: float) -> tuple[int, int, int, int]:
    """``(output_multiplier, output_exponent, reluish_multiplier, reluish_exponent)``."""
    hires_input_scale = np.float32(1 / 128) * np.float32(input_scale)
    reluish_scale = np.float32(3) / np.float32(32768)
    out_m, out_e = int16_multiplier(hires_input_scale / np.float32(output_scale))
    if out_e > 0:
        raise OpError(f"HARD_SWISH needs input_scale / 128 < output_scale (TFLM's check), got "
                      f"input scale {input_scale} and output scale {output_scale}")
    relu_m, relu_e = int16_multiplier(hires_input_scale / reluish_scale)
    return out_m, out_e, relu_m, relu_e


def hard_swish_int8(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x, out = ctx.req_input(0), ctx.output(0)
    if out.dtype != "int8":
        raise OpError(f"HARD_SWISH with int8 input needs an int8 output, got {out.dtype}")
    out_m, out_e, relu_m, relu_e = params(x.scale, out.scale)
    hires = wrap_int16((args[0].astype(np.int64) - x.zero_point) * 128)
    preshift_output = saturating_rounding_doubling_high_mul_int16(hires, out_m)
    # relu6(x + 3) / 6: rescale x so that 3.0 is 32768 (saturating), then map [-1, 1] to [0, 1].
    reluish = hires
    if relu_e > 0:  # shift all but the last bit before the multiply, the last bit after it
        reluish = saturating_left_shift_int16(reluish, relu_e - 1)
    reluish = saturating_rounding_doubling_high_mul_int16(reluish, relu_m)
    if relu_e > 0:
        reluish = saturating_left_shift_int16(reluish, 1)
    if relu_e < 0:
        reluish = rounding_divide_by_pot_int16(reluish, -relu_e)
    reluish = (reluish + (1 << 15)) >> 1
    product = saturating_doubling_high_mul_int16(reluish, preshift_output)
    y = wrap_int16(rounding_divide_by_pot_int16(product, -out_e) + out.zero_point)
    return [np.clip(y, -128, 127).astype(np.int8)]


def hard_swish_float32(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    x = np.asarray(args[0], dtype=np.float32)
    relu6 = np.minimum(np.float32(6), np.maximum(np.float32(0), x + np.float32(3)))
    return [(x * relu6 / np.float32(6)).astype(np.float32)]


def cost(ctx: OpContext) -> Cost:
    """One multiply of x by its relu6 factor per element, counted as one MAC."""
    x, y = ctx.req_input(0), ctx.output(0)
    return Cost(x.size, x.nbytes, y.nbytes)


OP = OpDef(
    name="HARD_SWISH",
    shape=shape,
    kernels={"int8": hard_swish_int8, "float32": hard_swish_float32},
    cost=cost,
    lookup=True,
    inplace=True,
    code={"portable": ("ec_data_ops.c",)},  # a 256-entry table
    state_bytes=32,
    options=Options("HardSwishOptions"),
)
