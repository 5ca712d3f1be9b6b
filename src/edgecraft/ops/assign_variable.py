"""ASSIGN_VARIABLE: store input 1 in the resource variable input 0 names, as TFLM's
``assign_variable.cc``. The variable takes its size from the first ASSIGN_VARIABLE the runtime
prepares for it (and starts at the value tensor's zero point, as TFLM); a later assignment of
another size is refused. No outputs."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.read_variable import VALUE_DTYPES
from edgecraft.ops.subgraph import check_resource, model_runtime, resource_id


def assign_variable_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """A resource handle and a value; no outputs."""
    if ctx.num_inputs != 2 or ctx.op.outputs:
        raise OpError(f"ASSIGN_VARIABLE takes 2 inputs and gives no output, got {ctx.num_inputs} "
                      f"and {len(ctx.op.outputs)}")
    check_resource(ctx.req_input(0), "ASSIGN_VARIABLE's input 0")
    value = ctx.req_input(1)
    if value.dtype not in VALUE_DTYPES:
        raise OpError(f"ASSIGN_VARIABLE has no {value.dtype} kernel (supported: {', '.join(VALUE_DTYPES)})")
    return []


def assign_variable(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    model_runtime(ctx).assign(resource_id(args[0]), np.asarray(args[1]))
    return []


OP = OpDef(
    side_effects=True,
    name="ASSIGN_VARIABLE",
    shape=assign_variable_shape,
    kernels=dict.fromkeys(VALUE_DTYPES, assign_variable),
    options=Options("AssignVariableOptions"),
    dtype_input=1,
)
