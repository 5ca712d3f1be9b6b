"""PADV2: PAD with the pad value given as a third input (a one-element tensor of the input's
type), as TFLM's ``pad.cc`` computes it for float32, int8, int16 and int32.

For int8 the value is the raw int8 of ``constant_values`` (TFLM uses it as is, no
requantization: the converter gives it the input's quantization). The shape rule and the
kernel are PAD's (:mod:`edgecraft.ops.pad`).
"""

from __future__ import annotations

from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.pad import pad
from edgecraft.ops.pad import shape as pad_shape

#: The types TFLM's PAD/PADV2 kernel handles.
TYPES = ("float32", "int8", "int16", "int32")


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """PAD's shape; the pad value must be one element of the input's type."""
    value = ctx.input(2)
    if value is not None and (value.size != 1 or value.dtype != ctx.req_input(0).dtype):
        raise OpError(f"PADV2 constant_values must be one {ctx.req_input(0).dtype} element, "
                      f"got {value.dtype} of shape {list(value.shape)}")
    return pad_shape(ctx)


OP = OpDef(
    name="PADV2",
    shares_quant=True,
    shape=shape,
    kernels=dict.fromkeys(TYPES, pad),
    code={"portable": ("ec_reshape_ops.c",)},
    state_bytes=8,
    options=Options("PadV2Options"),
)
