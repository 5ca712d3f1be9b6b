"""READ_VARIABLE: the value of a resource variable (input 0, a resource handle), as TFLM's
``read_variable.cc``: the variable's bytes copied into the output, which must have as many. A
variable an ASSIGN_VARIABLE has allocated but not yet written reads as its default (TFLM fills
it with the value tensor's int8 zero point, byte by byte, or zeros)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.subgraph import check_resource, declared_shapes, model_runtime, resource_id


def read_variable_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """One resource input, one output of the variable's shape (declared by the model)."""
    if ctx.num_inputs != 1 or len(ctx.op.outputs) != 1:
        raise OpError("READ_VARIABLE takes one input and gives one output")
    check_resource(ctx.req_input(0), "READ_VARIABLE's input")
    return declared_shapes(ctx)


def read_variable(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    value = model_runtime(ctx).read(resource_id(args[0]))
    out = ctx.output(0)
    if value.nbytes != out.nbytes:
        raise OpError(f"READ_VARIABLE reads a variable of {value.nbytes} bytes into {out.dtype} "
                      f"{list(out.shape)} ({out.nbytes} bytes)")
    return [np.frombuffer(value.tobytes(), out.np_dtype).reshape(out.shape)]


#: The types TFLM's resource variables hold (tested); the kernel copies bytes.
VALUE_DTYPES = ("float32", "int8", "int16", "int32")

OP = OpDef(
    side_effects=True,
    name="READ_VARIABLE",
    shape=read_variable_shape,
    # Input 0 is the handle: the kernel is the same for every value type.
    kernels=dict.fromkeys(("resource", *VALUE_DTYPES), read_variable),
    options=Options("ReadVariableOptions"),
)
